//! `deployments/<network>.json`: where the contracts are, how they were deployed, and from which
//! artifacts. Written by `sankofa deploy` after every step, read by every other command.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use alloy::primitives::{Address, B256};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::rpc::Chain;

/// Deploy parameters as written in `sankofa.toml [deploy]` (flags override them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeployParams {
    pub(crate) min_delay: Option<u64>,
    pub(crate) voting_delay: Option<u64>,
    pub(crate) voting_period: Option<u64>,
    pub(crate) quorum_percent: Option<u64>,
    pub(crate) guardian: Option<Address>,
    pub(crate) registrar: Option<Address>,
    #[serde(default)]
    pub(crate) council: Vec<Address>,
    /// `address=core-site` pairs.
    #[serde(default)]
    pub(crate) validators: Vec<String>,
    /// A ValidatorSet preloaded in genesis (`sankofa genesis besu`) to adopt instead of deploying.
    pub(crate) validator_set: Option<Address>,
    /// Phase criteria `[minCore, minRegional, minEdge, minValidators]` for phases 1..3 (default:
    /// the plan's Success Criteria). Smaller values suit a reduced rollout (tests, staging).
    pub(crate) criteria: Option<[[u16; 4]; 3]>,
}

/// The parameters a deployment was made with (recorded so a re-run can verify them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeployParams {
    pub(crate) min_delay: u64,
    pub(crate) voting_delay: u64,
    pub(crate) voting_period: u64,
    pub(crate) quorum_percent: u64,
    pub(crate) guardian: Address,
    pub(crate) registrar: Address,
    pub(crate) council: Vec<Address>,
    pub(crate) validators: Vec<(Address, String)>,
    pub(crate) validator_set: Option<Address>,
    /// Phase criteria [minCore, minRegional, minEdge, minValidators] for phases 1..3.
    pub(crate) criteria: [[u16; 4]; 3],
}

/// The documented default phase criteria (docs/contracts.md, "Phase criteria").
pub(crate) const DEFAULT_CRITERIA: [[u16; 4]; 3] =
    [[3, 10, 100, 3], [6, 30, 150, 6], [10, 50, 250, 10]];

/// One deployed contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Deployed {
    pub(crate) address: Address,
    pub(crate) block: u64,
    /// None for a contract adopted from genesis.
    pub(crate) tx: Option<B256>,
    /// keccak256 of the artifact file it was deployed from.
    pub(crate) artifact_hash: B256,
    /// keccak256 of the runtime code found at the address right after deployment.
    pub(crate) code_hash: B256,
}

/// The deployment file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Deployment {
    pub(crate) network: String,
    pub(crate) chain_id: u64,
    pub(crate) deployer: Address,
    /// The first block of the deployment: where log scans start.
    pub(crate) deployment_block: u64,
    /// False until every contract is deployed and wired and the deployer renounced its roles.
    pub(crate) complete: bool,
    pub(crate) params: DeployParams,
    pub(crate) contracts: BTreeMap<String, Deployed>,
}

impl Deployment {
    /// Reads the file, with an error that says how to get one.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "deployment file {} does not exist; run `sankofa deploy` for this network, or pass --deployment FILE",
                path.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        // `save` writes atomically, so a damaged file was edited or copied by hand: say where
        // it breaks and how to recover, rather than deploying over it.
        serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a sankofa deployment file ({e}); pass the right --deployment, or restore \
                 the file from a copy (the contracts stay on chain; `sankofa deploy` re-verifies them)",
                path.display()
            )
        })
    }

    /// Writes atomically (temp file + rename), so a crash never leaves half a file.
    pub(crate) fn save(&self, path: &Path) -> anyhow::Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp: PathBuf = dir.join(format!(
            ".{}.tmp",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// A contract's address, or an error naming the missing entry.
    pub(crate) fn address(&self, name: &str) -> anyhow::Result<Address> {
        self.contracts
            .get(name)
            .map(|d| d.address)
            .with_context(|| {
                format!(
                    "the deployment of network {} has no {name}; re-run `sankofa deploy`",
                    self.network
                )
            })
    }

    /// Refuses to use a deployment on another chain, or an unfinished one.
    pub(crate) fn check(&self, chain: &Chain, path: &Path) -> anyhow::Result<()> {
        if self.chain_id != chain.chain_id {
            bail!(
                "{} is for chain id {}, but the RPC serves chain id {}; wrong --rpc-url or --deployment",
                path.display(),
                self.chain_id,
                chain.chain_id
            );
        }
        if !self.complete {
            bail!(
                "{} records an unfinished deployment; re-run `sankofa deploy` to finish it",
                path.display()
            );
        }
        Ok(())
    }

    /// Every recorded contract still has the code recorded for it. The chain id alone cannot
    /// tell two chains apart (every anvil is 31337, a restarted devnet keeps its id), and
    /// reading contracts that are not there gives empty lists or opaque reverts, not errors.
    pub(crate) async fn check_code(&self, chain: &Chain, path: &Path) -> anyhow::Result<()> {
        let hashes = futures::future::try_join_all(
            self.contracts.values().map(|d| chain.code_hash(d.address)),
        )
        .await?;
        let problems: Vec<String> = self
            .contracts
            .iter()
            .zip(hashes)
            .filter_map(|((name, d), found)| match found {
                None => Some(format!("{name}: no code at {}", d.address)),
                Some(h) if h != d.code_hash => Some(format!(
                    "{name}: the code at {} is not the contract deployed there",
                    d.address
                )),
                Some(_) => None,
            })
            .collect();
        if !problems.is_empty() {
            bail!(
                "{} does not describe the contracts on this chain (chain id {}): {}. \
                 The chain was reset or the file belongs to another network with the same chain id; \
                 pass the right --deployment / --rpc-url, or run `sankofa deploy` to deploy afresh",
                path.display(),
                chain.chain_id,
                problems.join("; ")
            );
        }
        Ok(())
    }
}

/// The usual way a command gets going: settings, artifacts, a connection, the deployment.
pub(crate) struct Ctx {
    pub(crate) chain: Chain,
    pub(crate) deployment: Deployment,
}

impl Ctx {
    pub(crate) async fn open(
        args: &crate::config::ChainArgs,
        signer: Option<&crate::config::SignerArgs>,
    ) -> anyhow::Result<Self> {
        let settings = args.resolve(signer)?;
        // Load the deployment before connecting: a missing file is the more useful error.
        let deployment = Deployment::load(&settings.deployment)?;
        let errors = crate::artifacts::Artifacts::locate(settings.artifacts.as_deref())
            .map(|a| a.errors())
            .unwrap_or_default();
        let key = match signer {
            Some(_) => Some(crate::signer::open_one(&settings).await?),
            None => None,
        };
        let chain = Chain::connect(&settings, key, errors).await?;
        deployment.check(&chain, &settings.deployment)?;
        deployment.check_code(&chain, &settings.deployment).await?;
        Ok(Self { chain, deployment })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regress_corrupt_deployment_file_names_the_file_the_position_and_the_fix() {
        let dir = tempfile::tempdir().expect("tmp");
        for (name, text) in [
            (
                "truncated.json",
                "{\n  \"network\": \"devnet\",\n  \"chainId\": 313",
            ),
            ("empty.json", ""),
            ("other.json", "{\"foo\": 1}"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            let msg = format!("{:#}", Deployment::load(&path).expect_err(name));
            assert!(
                msg.contains(name) && msg.contains("line") && msg.contains("--deployment"),
                "{msg}"
            );
        }
        let missing = dir.path().join("missing.json");
        let msg = format!("{:#}", Deployment::load(&missing).expect_err("missing"));
        assert!(
            msg.contains("does not exist") && msg.contains("sankofa deploy"),
            "{msg}"
        );
    }
}
