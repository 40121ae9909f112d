//! One connection to the chain: the provider (with the signer, if any), the verified chain id,
//! sending with revert decoding, paged log queries, and anvil-only time travel.

use std::time::Duration;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{Filter, Log, TransactionReceipt, TransactionRequest},
    transports::TransportError,
};
use anyhow::{Context, bail};

use crate::{artifacts::ErrorDecoder, config::Settings, signer::Key};

/// Anvil's default chain id: the only chain on which `--advance-time` is allowed.
pub(crate) const ANVIL_CHAIN_ID: u64 = 31337;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// Blocks per eth_getLogs request before halving on a range error.
const LOG_PAGE: u64 = 50_000;

/// A transaction sent but not yet confirmed.
#[derive(Debug)]
pub(crate) struct Submitted {
    pub(crate) hash: B256,
    tx: TransactionRequest,
    what: String,
}

/// A verified connection.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub(crate) provider: DynProvider,
    pub(crate) chain_id: u64,
    /// The sending account, when a signer is attached.
    pub(crate) from: Option<Address>,
    pub(crate) errors: ErrorDecoder,
    url: String,
}

impl Chain {
    /// Connects, checks the chain id against `settings.chain_id` (if set).
    pub(crate) async fn connect(
        settings: &Settings,
        signer: Option<Key>,
        errors: ErrorDecoder,
    ) -> anyhow::Result<Self> {
        let url = settings.rpc_url.clone();
        let from = signer.as_ref().map(|s| s.address);
        let provider = match signer {
            Some(s) => ProviderBuilder::new()
                .wallet(s.wallet)
                .connect_http(url.clone())
                .erased(),
            None => ProviderBuilder::new().connect_http(url.clone()).erased(),
        };
        let chain_id = tokio::time::timeout(CONNECT_TIMEOUT, provider.get_chain_id())
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "the RPC at {url} did not answer within {CONNECT_TIMEOUT:?}; check --rpc-url"
                )
            })?
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot reach the RPC at {url}: {e}; check --rpc-url / SANKOFA_RPC_URL"
                )
            })?;
        if let Some(expected) = settings.chain_id
            && expected != chain_id
        {
            bail!(
                "the RPC at {url} serves chain id {chain_id}, but chain id {expected} was configured; \
                 wrong --rpc-url or --chain-id"
            );
        }
        let chain = Self {
            provider,
            chain_id,
            from,
            errors,
            url: url.to_string(),
        };
        chain.settle_pending().await?;
        Ok(chain)
    }

    /// Waits until the signer has no transaction in the pool. A killed run (or another process
    /// with the same key) may have left some: read the state before they are mined, and
    /// work they already do is sent again and reverts ("duplicate site", "already voted").
    pub(crate) async fn settle_pending(&self) -> anyhow::Result<()> {
        let Some(from) = self.from else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let mut told = false;
        loop {
            let mined = self.provider.get_transaction_count(from).latest().await?;
            let sent = self.provider.get_transaction_count(from).pending().await?;
            if sent <= mined {
                return Ok(());
            }
            let waiting = sent - mined;
            if started.elapsed() > RECEIPT_TIMEOUT {
                bail!(
                    "{waiting} transaction(s) from {from} are still pending after {RECEIPT_TIMEOUT:?} \
                     (sent by an earlier run or another process with this key); wait for them to be \
                     mined, or replace them, before running this again"
                );
            }
            if !told {
                eprintln!(
                    "waiting for {waiting} pending transaction(s) from {from} (an earlier run's?) to be mined"
                );
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Another connection to the same endpoint that signs as `signer`.
    pub(crate) fn with_signer(&self, signer: Key) -> anyhow::Result<Self> {
        let from = signer.address;
        let url = self.url.parse().context("RPC URL")?;
        let provider = ProviderBuilder::new()
            .wallet(signer.wallet)
            .connect_http(url)
            .erased();
        Ok(Self {
            provider,
            from: Some(from),
            ..self.clone()
        })
    }

    /// The sending account or a clear error.
    pub(crate) fn sender(&self) -> anyhow::Result<Address> {
        self.from.context(
            "this command needs a signer (--keystore/--password-file or --private-key-file)",
        )
    }

    /// Sends `tx`, waits for the receipt, and turns a revert into `what: ErrorName(args)`.
    pub(crate) async fn send(
        &self,
        tx: TransactionRequest,
        what: &str,
    ) -> anyhow::Result<TransactionReceipt> {
        let submitted = self.submit(tx, what).await?;
        self.confirm(submitted).await
    }

    /// Sends `tx` without waiting for it to be mined (gas estimation already simulated it, so
    /// a revert against the current state is reported here).
    pub(crate) async fn submit(
        &self,
        tx: TransactionRequest,
        what: &str,
    ) -> anyhow::Result<Submitted> {
        let tx = match self.from {
            Some(from) => tx.with_from(from),
            None => bail!(
                "{what}: no signer configured (--keystore/--password-file or --private-key-file)"
            ),
        };
        let pending = match self.provider.send_transaction(tx.clone()).await {
            Ok(p) => p,
            Err(e) => return Err(self.explain(what, &e)),
        };
        Ok(Submitted {
            hash: *pending.tx_hash(),
            tx,
            what: what.to_string(),
        })
    }

    /// Waits for a submitted transaction's receipt; a revert is decoded.
    pub(crate) async fn confirm(&self, s: Submitted) -> anyhow::Result<TransactionReceipt> {
        let Submitted { hash, tx, what } = s;
        let receipt =
            alloy::providers::PendingTransactionBuilder::new(self.provider.root().clone(), hash)
                .with_timeout(Some(RECEIPT_TIMEOUT))
                .get_receipt()
                .await
                .with_context(|| {
                    format!("{what}: no receipt for {hash} within {RECEIPT_TIMEOUT:?}")
                })?;
        if !receipt.status() {
            let reason = self.why_reverted(tx, &receipt).await;
            bail!("{what}: transaction {hash} reverted: {reason}");
        }
        Ok(receipt)
    }

    /// Recovers why a mined transaction reverted (receipts carry no revert data).
    ///
    /// Replaying at the parent block finds most reasons. When that replay passes, the
    /// transaction was valid when it was sent and something changed before it was mined: the
    /// gas ran out, or the state or the clock moved on (a vote landing after the deadline, a
    /// competing transaction first). Replaying in the block itself then names the reason.
    async fn why_reverted(&self, tx: TransactionRequest, receipt: &TransactionReceipt) -> String {
        let mined = receipt.block_number.unwrap_or_default();
        let parent = mined.saturating_sub(1);
        let replay = match self.provider.call(tx.clone()).block(parent.into()).await {
            Err(e) => return self.revert_reason(&e).unwrap_or_else(|| e.to_string()),
            Ok(_) => self.provider.call(tx.clone()).block(mined.into()).await,
        };
        let limit = match self
            .provider
            .get_transaction_by_hash(receipt.transaction_hash)
            .await
        {
            Ok(Some(t)) => Some(alloy::consensus::Transaction::gas_limit(&t)),
            _ => tx.gas,
        };
        if let Some(limit) = limit
            && receipt.gas_used >= limit
        {
            return format!("out of gas (it used all of its gas limit {limit}); retry it");
        }
        match replay {
            Err(e) => format!(
                "{} (it would have passed in block {parent}, but the state or the clock changed \
                 before it was mined in block {mined}; check the current state before retrying)",
                self.revert_reason(&e).unwrap_or_else(|| e.to_string())
            ),
            Ok(_) => format!(
                "it passes when replayed before and after block {mined}, so a transaction earlier \
                 in that block changed the state it depended on; check the current state and retry"
            ),
        }
    }

    /// A revert (or other RPC error) as one clear message.
    pub(crate) fn explain(&self, what: &str, e: &TransportError) -> anyhow::Error {
        match self.revert_reason(e) {
            Some(reason) => anyhow::anyhow!("{what}: reverted: {reason}"),
            None => anyhow::anyhow!("{what}: {e}"),
        }
    }

    /// Decodes a contract-call error (from a `sol!` call builder).
    pub(crate) fn explain_call(&self, what: &str, e: alloy::contract::Error) -> anyhow::Error {
        match e {
            alloy::contract::Error::TransportError(t) => self.explain(what, &t),
            other => anyhow::anyhow!("{what}: {other}"),
        }
    }

    fn revert_reason(&self, e: &TransportError) -> Option<String> {
        let payload = e.as_error_resp()?;
        let data = payload.as_revert_data()?;
        Some(self.errors.decode(&data))
    }

    /// Logs matching `filter` between `from` and `to`, paged, halving the page on range errors.
    pub(crate) async fn logs(
        &self,
        filter: Filter,
        from: u64,
        to: u64,
    ) -> anyhow::Result<Vec<Log>> {
        let mut out = Vec::new();
        let mut start = from;
        let mut page = LOG_PAGE;
        while start <= to {
            let end = to.min(start.saturating_add(page - 1));
            match self
                .provider
                .get_logs(&filter.clone().from_block(start).to_block(end))
                .await
            {
                Ok(logs) => {
                    out.extend(logs);
                    start = end + 1;
                }
                Err(e) if page > 1 => {
                    tracing::debug!(target: "deployer::rpc", %e, page, "getLogs failed; halving the range");
                    page /= 2;
                }
                Err(e) => return Err(anyhow::anyhow!("eth_getLogs {start}..{end}: {e}")),
            }
        }
        Ok(out)
    }

    /// Moves an anvil chain's clock forward and mines a block; refused on any other chain.
    pub(crate) async fn advance_time(&self, seconds: u64) -> anyhow::Result<()> {
        if self.chain_id != ANVIL_CHAIN_ID {
            bail!(
                "--advance-time only works on anvil (chain id {ANVIL_CHAIN_ID}); this chain is {}",
                self.chain_id
            );
        }
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_increaseTime".into(), (seconds,))
            .await
            .context("evm_increaseTime")?;
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .context("evm_mine")?;
        Ok(())
    }

    /// The latest block's timestamp.
    pub(crate) async fn now(&self) -> anyhow::Result<u64> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await?
            .context("no latest block")?;
        Ok(block.header.timestamp)
    }

    /// The keccak256 of the code at `address` (zero hash when there is none).
    pub(crate) async fn code_hash(&self, address: Address) -> anyhow::Result<Option<B256>> {
        let code = self.provider.get_code_at(address).await?;
        Ok((!code.is_empty()).then(|| alloy::primitives::keccak256(&code)))
    }
}
