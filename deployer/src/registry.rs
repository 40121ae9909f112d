//! Reading the SiteRegistry: each site's current state and its registration record (from the
//! `SiteRegistered` event, which is where the parent and recordHash live).

use std::collections::HashMap;

use alloy::{
    primitives::{Address, B256},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::{
    contracts::{ISiteRegistry, site_status_name},
    deployment::Deployment,
    inventory::{Tier, site_name},
    rpc::Chain,
};

/// Concurrent reads in flight (keeps a public RPC from rate-limiting us).
const READ_CONCURRENCY: usize = 16;

/// A registration as the event recorded it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Registration {
    pub(crate) site: String,
    #[serde(skip)]
    pub(crate) id: B256,
    pub(crate) tier: u8,
    pub(crate) phase: u8,
    pub(crate) parent: Option<String>,
    pub(crate) record_hash: B256,
    pub(crate) block: u64,
    pub(crate) tx: Option<B256>,
}

/// A site's current on-chain state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SiteState {
    pub(crate) tier: u8,
    pub(crate) phase: u8,
    pub(crate) status: u8,
    pub(crate) agent: Address,
}

impl SiteState {
    pub(crate) fn registered(&self) -> bool {
        self.tier != 0
    }
}

/// One row of `sites list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SiteView {
    pub(crate) site: String,
    pub(crate) tier: String,
    pub(crate) phase: u8,
    pub(crate) status: &'static str,
    pub(crate) parent: Option<String>,
    pub(crate) agent: Option<Address>,
    pub(crate) record_hash: B256,
}

/// Every `SiteRegistered` event since the deployment, in chain order.
pub(crate) async fn registrations(
    chain: &Chain,
    dep: &Deployment,
) -> anyhow::Result<Vec<Registration>> {
    let registry = dep.address("SiteRegistry")?;
    let head = alloy::providers::Provider::get_block_number(&chain.provider).await?;
    let filter = Filter::new()
        .address(registry)
        .event_signature(ISiteRegistry::SiteRegistered::SIGNATURE_HASH);
    let logs = chain.logs(filter, dep.deployment_block, head).await?;
    logs.into_iter()
        .map(|log| {
            let block = log.block_number.unwrap_or_default();
            let tx = log.transaction_hash;
            let ev = log
                .log_decode::<ISiteRegistry::SiteRegistered>()?
                .inner
                .data;
            Ok(Registration {
                site: site_name(&ev.site),
                id: ev.site,
                tier: ev.tier,
                phase: ev.phase,
                parent: (!ev.parent.is_zero()).then(|| site_name(&ev.parent)),
                record_hash: ev.recordHash,
                block,
                tx,
            })
        })
        .collect()
}

/// The current state of each site in `ids`, read concurrently, in the same order.
pub(crate) async fn states(
    chain: &Chain,
    dep: &Deployment,
    ids: &[B256],
    progress: Option<&indicatif::ProgressBar>,
) -> anyhow::Result<Vec<SiteState>> {
    let registry = ISiteRegistry::new(dep.address("SiteRegistry")?, &chain.provider);
    futures::stream::iter(ids.iter().copied())
        .map(|id| {
            let registry = &registry;
            async move {
                let s = registry
                    .site(id)
                    .call()
                    .await
                    .map_err(|e| chain.explain_call("SiteRegistry.site", e))?;
                if let Some(p) = progress {
                    p.inc(1);
                }
                Ok::<_, anyhow::Error>(SiteState {
                    tier: s.tier,
                    phase: s.phase,
                    status: s.status,
                    agent: s.agent,
                })
            }
        })
        .buffered(READ_CONCURRENCY)
        .try_collect()
        .await
}

/// Every registered site with its current state.
pub(crate) async fn list(chain: &Chain, dep: &Deployment) -> anyhow::Result<Vec<SiteView>> {
    let regs = registrations(chain, dep).await?;
    let ids: Vec<B256> = regs.iter().map(|r| r.id).collect();
    let states = states(chain, dep, &ids, None).await?;
    Ok(regs
        .into_iter()
        .zip(states)
        .map(|(r, s)| SiteView {
            site: r.site,
            tier: Tier::from_u8(s.tier)
                .map(|t| t.name().to_string())
                .unwrap_or_else(|| s.tier.to_string()),
            phase: s.phase,
            status: site_status_name(s.status),
            parent: r.parent,
            agent: (!s.agent.is_zero()).then_some(s.agent),
            record_hash: r.record_hash,
        })
        .collect())
}

/// Registrations by site id (for verification of an import against the chain).
pub(crate) fn by_id(regs: Vec<Registration>) -> HashMap<B256, Registration> {
    regs.into_iter().map(|r| (r.id, r)).collect()
}
