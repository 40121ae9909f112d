//! A contract deployment that was sent but not yet recorded in the deployment file.
//!
//! `sankofa deploy` records each contract after its receipt. A run killed between sending and
//! recording would leave a contract on chain that the file does not know, and the re-run would
//! deploy a second one. So the address the transaction will create (sender + nonce) is written
//! to `<deployment>.in-flight.json` before sending; the re-run adopts the contract found there.

use std::path::{Path, PathBuf};

use alloy::{
    consensus::Transaction as _,
    primitives::{Address, B256},
    providers::Provider,
};
use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::rpc::Chain;

/// One contract creation in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct InFlight {
    /// The contract's name in the deployment file.
    pub(crate) name: String,
    /// The deploying account and the nonce its creation transaction uses.
    pub(crate) deployer: Address,
    pub(crate) nonce: u64,
    /// `deployer.create(nonce)`: where the contract appears once mined.
    pub(crate) address: Address,
    /// The artifact file it is created from (a contract from other artifacts is not adopted).
    pub(crate) artifact_hash: B256,
}

/// Where a contract found by [`adopt`] was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) code_hash: B256,
    pub(crate) block: u64,
    pub(crate) tx: Option<B256>,
}

fn file(deployment: &Path) -> PathBuf {
    deployment.with_extension("in-flight.json")
}

impl InFlight {
    pub(crate) fn new(name: &str, deployer: Address, nonce: u64, artifact_hash: B256) -> Self {
        Self {
            name: name.to_string(),
            deployer,
            nonce,
            address: deployer.create(nonce),
            artifact_hash,
        }
    }

    /// Written (atomically) before the transaction is sent.
    pub(crate) fn save(&self, deployment: &Path) -> anyhow::Result<()> {
        let path = file(deployment);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }

    /// The record left by an interrupted run, if any.
    pub(crate) fn load(deployment: &Path) -> anyhow::Result<Option<Self>> {
        let path = file(deployment);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!(
                    "{} is damaged; delete it if no deploy is running (a contract it named would then be deployed again)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Removed once the contract is in the deployment file (or known never to have been mined).
    pub(crate) fn clear(deployment: &Path) -> anyhow::Result<()> {
        match std::fs::remove_file(file(deployment)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", file(deployment).display()))
            }
            _ => Ok(()),
        }
    }

    /// The contract this record announced, if its transaction was mined: its code, the block
    /// that created it (binary search from `from_block`) and the creating transaction.
    ///
    /// Only a contract that this record's creation made is adopted: the transaction from the
    /// deployer with the recorded nonce, carrying `creation_code`. Anything else at the address
    /// (the nonce was used by another deploy with the same key) is not ours, and `None` lets
    /// the caller deploy anew at a fresh nonce.
    pub(crate) async fn adopt(
        &self,
        chain: &Chain,
        from_block: u64,
        creation_code: &[u8],
    ) -> anyhow::Result<Option<Found>> {
        // The sender's pending transactions were settled when the chain was opened, so "no
        // code" means the creation never made it (or reverted): deploying again is safe.
        let Some(code_hash) = chain.code_hash(self.address).await? else {
            return Ok(None);
        };
        let (mut lo, mut hi) = (from_block, chain.provider.get_block_number().await?);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let code = chain.provider.get_code_at(self.address).number(mid).await?;
            if code.is_empty() {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let creation = chain
            .provider
            .get_block_by_number(lo.into())
            .full()
            .await?
            .and_then(|b| {
                b.transactions
                    .into_transactions()
                    .find(|t| t.inner.signer() == self.deployer && t.inner.nonce() == self.nonce)
            });
        let Some(creation) = creation else {
            tracing::warn!(target: "deployer::deploy", name = %self.name, address = %self.address, "a contract is at the announced address, but not from the announced transaction; deploying anew");
            return Ok(None);
        };
        if !creation.inner.input().starts_with(creation_code) {
            tracing::warn!(target: "deployer::deploy", name = %self.name, address = %self.address, nonce = self.nonce, "the announced nonce created another contract (another deploy with this key); deploying anew");
            return Ok(None);
        }
        Ok(Some(Found {
            code_hash,
            block: lo,
            tx: Some(*creation.inner.tx_hash()),
        }))
    }
}
