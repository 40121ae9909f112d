//! Test fixtures shared by the crates' integration tests and the benchmarks.
//!
//! [`anvil`] starts the pinned anvil from `node_modules` (scripts/setup installs it). [`System`]
//! deploys SiteRegistry, ValidatorSet and Rollout with a plain anvil account standing in for the
//! TimelockController, so a test can approve phases and waves with one transaction instead of a
//! whole proposal. [`GovernedSystem`] wires the production path instead (Timelock + Council +
//! Governor, every change by proposal) for tests that look at approvals' provenance.

pub mod agent;
pub mod governed;

pub use agent::{AgentConfig, EventMode};
pub use governed::{GovernanceTiming, Governed, GovernedSystem};

use std::path::PathBuf;

use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use anyhow::Context;
use sankofa_abi::{
    Rollout, SiteRegistry, ValidatorSet,
    ids::{Tier, site_id},
};

/// The repository root (where `node_modules` and `plans/` live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The pinned anvil binary.
pub fn anvil_path() -> PathBuf {
    repo_root().join("node_modules/.bin/anvil")
}

/// Starts anvil (automine unless `block_time` is given) on a free port.
pub fn anvil(block_time: Option<u64>) -> anyhow::Result<AnvilInstance> {
    let path = anvil_path();
    anyhow::ensure!(
        path.exists(),
        "{} missing: run scripts/setup",
        path.display()
    );
    // Not `--silent`: node-bindings learns the port and keys from anvil's banner and would wait
    // for it forever. The pipe is closed after start-up, so later output never blocks anvil.
    let mut anvil = Anvil::at(path).arg("--host").arg("127.0.0.1");
    if let Some(seconds) = block_time {
        anvil = anvil.block_time(seconds);
    }
    anvil.try_spawn().context("starting anvil")
}

/// An HTTP provider that signs with `key`.
pub fn provider(anvil: &AnvilInstance, key: &PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(key.clone()))
        .connect_http(anvil.endpoint_url())
        .erased()
}

/// The i-th funded anvil account's key.
pub fn anvil_key(anvil: &AnvilInstance, i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_signing_key(anvil.keys()[i].clone().into())
}

/// One site for [`System::register`].
#[derive(Debug, Clone)]
pub struct SiteSpec {
    /// The site name (`core-fra`).
    pub name: String,
    /// Its tier.
    pub tier: Tier,
    /// Its rollout phase (1..3).
    pub phase: u8,
    /// Its parent's name (`None` for core).
    pub parent: Option<String>,
}

impl SiteSpec {
    /// A site spec from its parts.
    pub fn new(name: &str, tier: Tier, phase: u8, parent: Option<&str>) -> Self {
        Self {
            name: name.to_string(),
            tier,
            phase,
            parent: parent.map(str::to_string),
        }
    }
}

/// The rollout contracts, deployed with an EOA (`governance`) holding every governed role.
#[derive(Debug, Clone)]
pub struct System {
    /// Signs as governance, registrar and guardian.
    pub provider: DynProvider,
    /// The EOA standing in for the timelock.
    pub governance: Address,
    /// SiteRegistry.
    pub registry: Address,
    /// ValidatorSet.
    pub validators: Address,
    /// Rollout (with the deployment ledger).
    pub rollout: Address,
    /// The block the first contract was deployed in.
    pub deploy_block: u64,
}

/// Phase criteria: (minCore, minRegional, minEdge, minValidators) per phase.
pub type Criteria = [(u16, u16, u16, u16); 3];

impl System {
    /// Deploys the contracts with `governance` (the provider's signer) holding the governed roles;
    /// the validator set starts with one validator tied to `core-val`
    /// (a core site the registry does not need to know about until a test adds validators).
    pub async fn deploy(
        provider: DynProvider,
        governance: Address,
        criteria: Criteria,
    ) -> anyhow::Result<Self> {
        let deploy_block = provider.get_block_number().await?;
        let registry = SiteRegistry::deploy(&provider, governance, governance).await?;
        let validators = ValidatorSet::deploy(
            &provider,
            governance,
            Address::ZERO,
            vec![governance],
            vec![site_id("core-val")?],
        )
        .await?;
        let criteria = criteria.map(|(c, r, e, v)| sankofa_abi::IRollout::Criteria {
            minCore: c,
            minRegional: r,
            minEdge: e,
            minValidators: v,
        });
        let rollout = Rollout::deploy(
            &provider,
            governance,
            governance,
            *registry.address(),
            *validators.address(),
            criteria,
        )
        .await?;
        registry
            .initRollout(*rollout.address())
            .send()
            .await?
            .get_receipt()
            .await?;
        Ok(Self {
            governance,
            registry: *registry.address(),
            validators: *validators.address(),
            rollout: *rollout.address(),
            deploy_block,
            provider,
        })
    }

    /// The registry binding.
    pub fn registry(&self) -> SiteRegistry::SiteRegistryInstance<DynProvider> {
        SiteRegistry::new(self.registry, self.provider.clone())
    }

    /// The rollout binding.
    pub fn rollout(&self) -> Rollout::RolloutInstance<DynProvider> {
        Rollout::new(self.rollout, self.provider.clone())
    }

    /// Registers `sites` (in order, batches of 100); recordHash = keccak256 of the name.
    pub async fn register(&self, sites: &[SiteSpec]) -> anyhow::Result<()> {
        register_sites(&self.registry(), sites).await
    }

    /// Binds `key` as the agent key of `site`.
    pub async fn bind(&self, site: &str, key: Address) -> anyhow::Result<()> {
        self.registry()
            .bindAgentKey(site_id(site)?, key)
            .send()
            .await?
            .get_receipt()
            .await?;
        Ok(())
    }

    /// Approves `phase`.
    pub async fn approve_phase(&self, phase: u8) -> anyhow::Result<()> {
        self.rollout()
            .approvePhase(phase)
            .send()
            .await?
            .get_receipt()
            .await?;
        Ok(())
    }

    /// Approves a wave and returns its id; `plan` is the plan file's bytes (its keccak256 is the
    /// plan hash), `plan_uri` where agents fetch it.
    pub async fn approve_wave(&self, wave: WaveSpec<'_>) -> anyhow::Result<u32> {
        let sites = wave
            .sites
            .iter()
            .map(|s| site_id(s))
            .collect::<Result<Vec<_>, _>>()?;
        let rollout = self.rollout();
        let call = rollout.approveWave(
            wave.phase,
            keccak256(wave.plan),
            wave.plan_uri.to_string(),
            sites,
            wave.not_before,
            wave.expiry,
            wave.max_concurrent,
            wave.step_count,
        );
        let id = call.call().await?;
        call.send().await?.get_receipt().await?;
        Ok(id)
    }

    /// Funds `to` with `ether` ETH from the governance account (agents pay for their reports).
    pub async fn fund(&self, to: Address, ether: u64) -> anyhow::Result<()> {
        let tx = alloy::rpc::types::TransactionRequest::default()
            .to(to)
            .value(U256::from(ether) * U256::from(10).pow(U256::from(18)));
        self.provider
            .send_transaction(tx)
            .await?
            .get_receipt()
            .await?;
        Ok(())
    }
}

/// Registers `sites` through `registry` (whose provider signs as the registrar), in order, in
/// batches of 100; recordHash = keccak256 of the name.
pub(crate) async fn register_sites(
    registry: &SiteRegistry::SiteRegistryInstance<DynProvider>,
    sites: &[SiteSpec],
) -> anyhow::Result<()> {
    for batch in sites.chunks(100) {
        let inputs = batch
            .iter()
            .map(|s| {
                Ok(sankofa_abi::ISiteRegistry::SiteInput {
                    id: site_id(&s.name)?,
                    tier: s.tier.into(),
                    phase: s.phase,
                    parent: match &s.parent {
                        Some(p) => site_id(p)?,
                        None => B256::ZERO,
                    },
                    recordHash: keccak256(s.name.as_bytes()),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        registry
            .registerSites(inputs)
            .send()
            .await?
            .get_receipt()
            .await?;
    }
    Ok(())
}

/// A wave for [`System::approve_wave`].
#[derive(Debug, Clone)]
pub struct WaveSpec<'a> {
    /// The approved phase it belongs to.
    pub phase: u8,
    /// The plan file's bytes.
    pub plan: &'a [u8],
    /// Where agents fetch the plan.
    pub plan_uri: &'a str,
    /// Site names.
    pub sites: &'a [&'a str],
    /// Unix seconds before which no step may run.
    pub not_before: u64,
    /// Unix seconds from which the approval is dead.
    pub expiry: u64,
    /// How many sites may deploy at once.
    pub max_concurrent: u16,
    /// The plan's number of steps.
    pub step_count: u16,
}
