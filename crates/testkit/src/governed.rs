//! [`GovernedSystem`]: the contracts wired as in production (docs/contracts.md, "Deploy wiring"):
//! a TimelockController holds every governed role, a SankofaGovernor over a Council proposes to it,
//! and the deployer has renounced its admin role. Every governed change goes through
//! [`GovernedSystem::govern`]: propose, every member votes for, time advances (anvil's
//! `evm_increaseTime` + `evm_mine`), queue, time advances, execute. Tests that only need a rollout
//! to happen should use the faster [`crate::System`]; this one exists for tests that look at the
//! approval's provenance (proposal, votes, queue, execute).

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionReceipt,
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use anyhow::Context;
use sankofa_abi::{
    Council, Rollout, SankofaGovernor, SiteRegistry, TimelockController, ValidatorSet, ids::site_id,
};

use crate::{Criteria, SiteSpec, WaveSpec, register_sites};

/// Timing of the governed path, in seconds (the Governor's clock is the block timestamp).
#[derive(Debug, Clone, Copy)]
pub struct GovernanceTiming {
    /// The timelock's minimum delay between queue and execute.
    pub min_delay: u64,
    /// The Governor's voting delay (proposal -> voting opens).
    pub voting_delay: u64,
    /// The Governor's voting period.
    pub voting_period: u64,
}

impl Default for GovernanceTiming {
    fn default() -> Self {
        Self {
            min_delay: 60,
            voting_delay: 1,
            voting_period: 300,
        }
    }
}

/// One executed proposal: what an auditor should find on chain.
#[derive(Debug, Clone)]
pub struct Governed {
    /// The Governor's proposal id.
    pub proposal_id: U256,
    /// The `propose` transaction.
    pub propose_tx: B256,
    /// The `castVote` transactions, one per member, in member order.
    pub vote_txs: Vec<B256>,
    /// The `queue` transaction.
    pub queue_tx: B256,
    /// The `execute` transaction (the one carrying the governed contract's events).
    pub execute_tx: B256,
}

/// The contracts deployed and wired as `sankofa deploy` does, with council members as keys.
#[derive(Debug, Clone)]
pub struct GovernedSystem {
    /// Signs as the deployer, registrar and guardian (no governed role after deployment).
    pub provider: DynProvider,
    /// The deployer/registrar/guardian account.
    pub operator: Address,
    /// Council members, each with a provider signing as that member.
    pub members: Vec<(PrivateKeySigner, DynProvider)>,
    /// TimelockController (holds DEFAULT_ADMIN_ROLE + GOVERNANCE_ROLE everywhere).
    pub timelock: Address,
    /// Council.
    pub council: Address,
    /// SankofaGovernor.
    pub governor: Address,
    /// SiteRegistry.
    pub registry: Address,
    /// ValidatorSet.
    pub validators: Address,
    /// Rollout.
    pub rollout: Address,
    /// The block before the first contract was deployed (where log scans start).
    pub deploy_block: u64,
    /// The timing the Governor and timelock were deployed with.
    pub timing: GovernanceTiming,
}

impl GovernedSystem {
    /// Deploys and wires everything; `operator` (the provider's signer) deploys and is registrar
    /// and guardian; `members` form the council (quorum 50%); the validator set starts with
    /// `operator` tied to `core-val`.
    pub async fn deploy(
        provider: DynProvider,
        operator: Address,
        members: &[PrivateKeySigner],
        endpoint: &str,
        timing: GovernanceTiming,
        criteria: Criteria,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(!members.is_empty(), "a council needs at least one member");
        // The instances below borrow their provider; `provider` itself moves into Self.
        let p = provider.clone();
        let deploy_block = provider.get_block_number().await?;
        let timelock = TimelockController::deploy(
            &p,
            U256::from(timing.min_delay),
            vec![],
            vec![Address::ZERO],
            operator,
        )
        .await
        .context("deploying TimelockController")?;
        let t = *timelock.address();
        let addresses: Vec<Address> = members.iter().map(PrivateKeySigner::address).collect();
        let council = Council::deploy(&p, t, addresses)
            .await
            .context("deploying Council")?;
        let governor = SankofaGovernor::deploy(
            &p,
            *council.address(),
            t,
            alloy::primitives::aliases::U48::from(timing.voting_delay),
            u32::try_from(timing.voting_period).context("voting period fits u32")?,
            U256::from(50),
        )
        .await
        .context("deploying SankofaGovernor")?;
        let registry = SiteRegistry::deploy(&p, t, operator)
            .await
            .context("deploying SiteRegistry")?;
        let validators = ValidatorSet::deploy(
            &p,
            t,
            *registry.address(),
            vec![operator],
            vec![site_id("core-val")?],
        )
        .await
        .context("deploying ValidatorSet")?;
        let criteria = criteria.map(|(c, r, e, v)| sankofa_abi::IRollout::Criteria {
            minCore: c,
            minRegional: r,
            minEdge: e,
            minValidators: v,
        });
        let rollout = Rollout::deploy(
            &p,
            t,
            operator,
            *registry.address(),
            *validators.address(),
            criteria,
        )
        .await
        .context("deploying Rollout")?;
        registry
            .initRollout(*rollout.address())
            .send()
            .await?
            .get_receipt()
            .await?;
        let proposer = timelock.PROPOSER_ROLE().call().await?;
        let canceller = timelock.CANCELLER_ROLE().call().await?;
        let admin = timelock.DEFAULT_ADMIN_ROLE().call().await?;
        for (role, who) in [
            (proposer, *governor.address()),
            (canceller, *governor.address()),
            (canceller, operator),
        ] {
            timelock
                .grantRole(role, who)
                .send()
                .await?
                .get_receipt()
                .await?;
        }
        timelock
            .renounceRole(admin, operator)
            .send()
            .await?
            .get_receipt()
            .await?;
        let url: alloy::transports::http::reqwest::Url =
            endpoint.parse().context("anvil endpoint URL")?;
        let members = members
            .iter()
            .map(|k| {
                let p = ProviderBuilder::new()
                    .wallet(EthereumWallet::from(k.clone()))
                    .connect_http(url.clone())
                    .erased();
                (k.clone(), p)
            })
            .collect();
        Ok(Self {
            provider,
            operator,
            members,
            timelock: t,
            council: *council.address(),
            governor: *governor.address(),
            registry: *registry.address(),
            validators: *validators.address(),
            rollout: *rollout.address(),
            deploy_block,
            timing,
        })
    }

    /// Moves anvil's clock forward by `seconds` and mines a block.
    pub async fn advance(&self, seconds: u64) -> anyhow::Result<()> {
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_increaseTime".into(), (seconds,))
            .await?;
        let _: serde_json::Value = self.provider.raw_request("evm_mine".into(), ()).await?;
        Ok(())
    }

    /// Takes one decision through the whole governed path and returns its transactions.
    pub async fn govern(
        &self,
        targets: Vec<Address>,
        values: Vec<U256>,
        calldatas: Vec<Bytes>,
        description: &str,
    ) -> anyhow::Result<Governed> {
        let desc_hash = keccak256(description.as_bytes());
        // The proposal threshold is checked against votes at `clock() - 1`; membership created
        // in the current second would not count yet.
        self.advance(1).await?;
        let (_, first) = &self.members[0];
        let gov = SankofaGovernor::new(self.governor, first.clone());
        let propose = gov.propose(
            targets.clone(),
            values.clone(),
            calldatas.clone(),
            description.to_string(),
        );
        let proposal_id = propose.call().await.context("propose (dry run)")?;
        let propose_tx = receipt_ok(propose.send().await?.get_receipt().await?, "propose")?;
        self.advance(self.timing.voting_delay + 1).await?;
        let mut vote_txs = Vec::new();
        for (_, p) in &self.members {
            let r = SankofaGovernor::new(self.governor, p.clone())
                .castVote(proposal_id, 1)
                .send()
                .await?
                .get_receipt()
                .await?;
            vote_txs.push(receipt_ok(r, "castVote")?);
        }
        self.advance(self.timing.voting_period + 1).await?;
        let queue = gov.queue(
            targets.clone(),
            values.clone(),
            calldatas.clone(),
            desc_hash,
        );
        let queue_tx = receipt_ok(queue.send().await?.get_receipt().await?, "queue")?;
        self.advance(self.timing.min_delay + 1).await?;
        let execute = gov.execute(targets, values, calldatas, desc_hash);
        let execute_tx = receipt_ok(execute.send().await?.get_receipt().await?, "execute")?;
        Ok(Governed {
            proposal_id,
            propose_tx,
            vote_txs,
            queue_tx,
            execute_tx,
        })
    }

    /// Governs a single call to `target`.
    pub async fn govern_call(
        &self,
        target: Address,
        call: impl SolCall,
        description: &str,
    ) -> anyhow::Result<Governed> {
        self.govern(
            vec![target],
            vec![U256::ZERO],
            vec![call.abi_encode().into()],
            description,
        )
        .await
    }

    /// The registry binding (signing as the operator).
    pub fn registry(&self) -> SiteRegistry::SiteRegistryInstance<DynProvider> {
        SiteRegistry::new(self.registry, self.provider.clone())
    }

    /// The rollout binding (signing as the operator).
    pub fn rollout(&self) -> Rollout::RolloutInstance<DynProvider> {
        Rollout::new(self.rollout, self.provider.clone())
    }

    /// Registers `sites` as the registrar (not governed; batches of 100).
    pub async fn register(&self, sites: &[SiteSpec]) -> anyhow::Result<()> {
        register_sites(&self.registry(), sites).await
    }

    /// Binds (or rotates to) `key` as the agent key of `site`, by proposal.
    pub async fn bind(&self, site: &str, key: Address) -> anyhow::Result<Governed> {
        let call = sankofa_abi::site_registry::SiteRegistry::bindAgentKeyCall {
            site_: site_id(site)?,
            key,
        };
        self.govern_call(self.registry, call, &format!("bind {site} to {key}"))
            .await
    }

    /// Revokes the agent key of `site`, by proposal.
    pub async fn revoke(&self, site: &str) -> anyhow::Result<Governed> {
        let call = sankofa_abi::site_registry::SiteRegistry::revokeAgentKeyCall {
            site_: site_id(site)?,
        };
        self.govern_call(self.registry, call, &format!("revoke {site}"))
            .await
    }

    /// Binds many sites' keys in one proposal (one call each).
    pub async fn bind_many(&self, keys: &[(&str, Address)]) -> anyhow::Result<Governed> {
        let mut calldatas = Vec::new();
        for (site, key) in keys {
            let call = sankofa_abi::site_registry::SiteRegistry::bindAgentKeyCall {
                site_: site_id(site)?,
                key: *key,
            };
            calldatas.push(call.abi_encode().into());
        }
        self.govern(
            vec![self.registry; keys.len()],
            vec![U256::ZERO; keys.len()],
            calldatas,
            &format!("bind {} agent keys", keys.len()),
        )
        .await
    }

    /// Approves `phase`, by proposal.
    pub async fn approve_phase(&self, phase: u8) -> anyhow::Result<Governed> {
        let call = sankofa_abi::rollout::Rollout::approvePhaseCall { phase };
        self.govern_call(self.rollout, call, &format!("approve phase {phase}"))
            .await
    }

    /// Approves a wave, by proposal; returns the wave id (read from `waveCount()` afterwards) and
    /// the proposal's transactions.
    pub async fn approve_wave(&self, wave: WaveSpec<'_>) -> anyhow::Result<(u32, Governed)> {
        let sites = wave
            .sites
            .iter()
            .map(|s| site_id(s))
            .collect::<Result<Vec<_>, _>>()?;
        let call = sankofa_abi::rollout::Rollout::approveWaveCall {
            phase: wave.phase,
            planHash: keccak256(wave.plan),
            planUri: wave.plan_uri.to_string(),
            sites,
            notBefore: wave.not_before,
            expiry: wave.expiry,
            maxConcurrent: wave.max_concurrent,
            stepCount: wave.step_count,
        };
        let governed = self
            .govern_call(
                self.rollout,
                call,
                &format!("approve a wave of {} sites", wave.sites.len()),
            )
            .await?;
        let id = self.rollout().waveCount().call().await?;
        Ok((id, governed))
    }

    /// The latest block's timestamp (the clock `govern` moves).
    pub async fn now(&self) -> anyhow::Result<u64> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await?
            .context("no latest block")?;
        Ok(block.header.timestamp)
    }
}

fn receipt_ok(receipt: TransactionReceipt, what: &str) -> anyhow::Result<B256> {
    anyhow::ensure!(
        receipt.status(),
        "{what}: transaction {} reverted",
        receipt.transaction_hash
    );
    Ok(receipt.transaction_hash)
}
