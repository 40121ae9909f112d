//! Typed reads of the Sankofa contracts through the failover endpoints.

use std::sync::Arc;

use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::types::{BlockNumberOrTag, Filter, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use sankofa_abi::{Rollout, SiteRegistry};
use sankofa_chain::Endpoints;

use crate::error::{Error, Result};

/// The deployment ledger's view of this site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnChainDeployment {
    /// Current wave (0: none).
    pub wave: u32,
    /// Next forward step the ledger accepts.
    pub next_step: u16,
    /// Next rollback step the ledger accepts.
    pub rollback_next: u16,
    /// A rollback was ordered (or finished).
    pub rollback_ordered: bool,
}

/// A wave's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaveInfo {
    /// Window start.
    pub not_before: u64,
    /// Window end.
    pub expiry: u64,
    /// Concurrency cap.
    pub max_concurrent: u16,
    /// Steps in the plan.
    pub step_count: u16,
    /// Sites of the wave now deploying.
    pub deploying: u16,
    /// Cancelled as a whole.
    pub cancelled: bool,
    /// Approved plan hash.
    pub plan_hash: B256,
}

/// What an approval fixed for a wave, as its `WaveApproved` event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveTerms {
    /// Where the plan is fetched from.
    pub plan_uri: String,
    /// Steps in the plan.
    pub step_count: u16,
    /// Window start.
    pub not_before: u64,
    /// Window end.
    pub expiry: u64,
}

/// Contract reads for one site.
#[derive(Debug, Clone)]
pub struct ChainView {
    endpoints: Arc<Endpoints>,
    rollout: Address,
    registry: Address,
    site: B256,
}

impl ChainView {
    /// A view of `site` on the given contracts.
    pub fn new(endpoints: Arc<Endpoints>, rollout: Address, registry: Address, site: B256) -> Self {
        Self {
            endpoints,
            rollout,
            registry,
            site,
        }
    }

    /// The endpoints.
    pub fn endpoints(&self) -> &Arc<Endpoints> {
        &self.endpoints
    }

    /// Raw `eth_call` (optionally from an address), returning the revert data on revert.
    pub async fn call_raw(
        &self,
        to: Address,
        from: Option<Address>,
        data: Bytes,
    ) -> Result<std::result::Result<Bytes, Bytes>> {
        let mut req = TransactionRequest::default().to(to).input(data.into());
        if let Some(f) = from {
            req = req.from(f);
        }
        let res = self
            .endpoints
            .call("eth_call", |p| {
                let r = req.clone();
                async move {
                    match p.call(r).await {
                        Ok(b) => Ok(Ok(b)),
                        Err(e) => match e.as_error_resp().and_then(|p| p.as_revert_data()) {
                            Some(data) => Ok(Err(data)),
                            None => Err(e),
                        },
                    }
                }
            })
            .await?;
        Ok(res)
    }

    async fn view<C: SolCall>(
        &self,
        to: Address,
        name: &'static str,
        call: C,
    ) -> Result<C::Return> {
        match self.call_raw(to, None, call.abi_encode().into()).await? {
            Ok(bytes) => C::abi_decode_returns(&bytes).map_err(|e| Error::Contract {
                call: name,
                message: e.to_string(),
            }),
            Err(data) => Err(Error::Contract {
                call: name,
                message: sankofa_abi::revert::decode(&data)
                    .unwrap_or_else(|| format!("reverted with {data}")),
            }),
        }
    }

    /// `Rollout.deployment(site)`.
    pub async fn deployment(&self) -> Result<OnChainDeployment> {
        let d = self
            .view(
                self.rollout,
                "Rollout.deployment",
                Rollout::deploymentCall { site: self.site },
            )
            .await?;
        Ok(OnChainDeployment {
            wave: d.waveId,
            next_step: d.nextStep,
            rollback_next: d.rollbackNext,
            rollback_ordered: d.rollbackOrdered,
        })
    }

    /// `Rollout.wave(id)`.
    pub async fn wave(&self, wave: u32) -> Result<WaveInfo> {
        let w = self
            .view(
                self.rollout,
                "Rollout.wave",
                Rollout::waveCall { waveId: wave },
            )
            .await?;
        Ok(WaveInfo {
            not_before: w.notBefore,
            expiry: w.expiry,
            max_concurrent: w.maxConcurrent,
            step_count: w.stepCount,
            deploying: w.deploying,
            cancelled: w.cancelled,
            plan_hash: w.planHash,
        })
    }

    /// `(tier, status, agent)` of the site from the registry.
    pub async fn site(&self) -> Result<(u8, u8, Address)> {
        let s = self
            .view(
                self.registry,
                "SiteRegistry.site",
                SiteRegistry::siteCall { id: self.site },
            )
            .await?;
        Ok((s.tier, s.status, s.agent))
    }

    /// Whether contract code is deployed at `address` (latest block).
    pub async fn has_code(&self, address: Address) -> Result<bool> {
        let code = self
            .endpoints
            .call(
                "eth_getCode",
                |p| async move { p.get_code_at(address).await },
            )
            .await?;
        Ok(!code.is_empty())
    }

    /// The hash of block `number` (an error if the node has no such block).
    pub async fn block_hash(&self, number: u64) -> Result<B256> {
        let block = self
            .endpoints
            .call("eth_getBlockByNumber", |p| async move {
                p.get_block_by_number(BlockNumberOrTag::Number(number))
                    .await
            })
            .await?;
        block.map(|b| b.header.hash).ok_or_else(|| Error::Contract {
            call: "eth_getBlockByNumber",
            message: format!("the node has no block {number}"),
        })
    }

    /// `SiteRegistry.rollout()`: the Rollout contract the registry is bound to.
    pub async fn registry_rollout(&self) -> Result<Address> {
        self.view(
            self.registry,
            "SiteRegistry.rollout",
            SiteRegistry::rolloutCall {},
        )
        .await
    }

    /// A wave's fixed terms, from its `WaveApproved` event in `block` (the approval's block:
    /// `approveWave` emits it with the sites' `DeploymentApproved`). One log read instead of a
    /// `wave()` call plus this read: at a wave's start every agent of the wave asks at once.
    pub async fn wave_terms(&self, wave: u32, block: u64) -> Result<WaveTerms> {
        let filter = Filter::new()
            .address(self.rollout)
            .event_signature(Rollout::WaveApproved::SIGNATURE_HASH)
            .topic1(B256::from(alloy::primitives::U256::from(wave)))
            .from_block(block)
            .to_block(block);
        let logs = self
            .endpoints
            .call("eth_getLogs", |p| {
                let f = filter.clone();
                async move { p.get_logs(&f).await }
            })
            .await?;
        let log = logs.first().ok_or_else(|| Error::Contract {
            call: "WaveApproved lookup",
            message: format!("no WaveApproved event for wave {wave} in block {block}"),
        })?;
        let ev = Rollout::WaveApproved::decode_log(&log.inner).map_err(|e| Error::Contract {
            call: "WaveApproved decode",
            message: e.to_string(),
        })?;
        Ok(WaveTerms {
            plan_uri: ev.data.planUri,
            step_count: ev.data.stepCount,
            not_before: ev.data.notBefore,
            expiry: ev.data.expiry,
        })
    }

    /// "Now" for window checks: the later of the latest block's timestamp and the wall clock
    /// (an idle dev chain's last block can be old; the contract checks the including block).
    pub async fn now(&self) -> Result<u64> {
        let block = self
            .endpoints
            .call("eth_getBlockByNumber", |p| async move {
                p.get_block_by_number(BlockNumberOrTag::Latest).await
            })
            .await?;
        let chain = block.map_or(0, |b| b.header.timestamp);
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(chain.max(wall))
    }
}
