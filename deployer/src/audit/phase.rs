//! `audit phase N`: the criteria of phase N in force when phase N+1 was approved, and the sites
//! that met them at that moment (Operational, per tier), rebuilt from the logs and cross-checked
//! with the registry's counters read at the block before the approval.

use std::collections::BTreeMap;

use alloy::eips::BlockId;
use anyhow::Context;
use sankofa_abi::ids::site_name;
use serde::Serialize;

use super::{
    events::Event,
    findings::{Finding, Kind},
    provenance::{GovernanceIndex, Provenance, TxRef},
    scan::Scan,
    verify::tier_name,
};
use crate::rpc::Chain;

const OPERATIONAL: u8 = 4;

/// One criterion: need, have (from the logs), and the registry's own count.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Criterion {
    pub(crate) what: &'static str,
    pub(crate) need: u64,
    pub(crate) have: u64,
    /// The contract's counter at the same moment (must equal `have`).
    pub(crate) on_chain: Option<u64>,
    pub(crate) met: bool,
}

/// The answer to `audit phase N`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhaseAudit {
    pub(crate) phase: u8,
    /// The approval of phase N+1, if it happened.
    pub(crate) next_approved: Option<TxRef>,
    pub(crate) approval: Option<Provenance>,
    /// The state evaluated: the block before the approval, or the head when not yet approved.
    pub(crate) evaluated_at_block: u64,
    pub(crate) criteria: Vec<Criterion>,
    pub(crate) met: bool,
    /// tier -> the Operational sites at that moment.
    pub(crate) sites: BTreeMap<&'static str, Vec<String>>,
    pub(crate) findings: Vec<Finding>,
}

/// Evaluates phase `phase`'s criteria at the approval of `phase + 1`.
pub(crate) async fn audit_phase(
    chain: &Chain,
    scan: &Scan,
    phase: u8,
    allow_direct: bool,
) -> anyhow::Result<PhaseAudit> {
    anyhow::ensure!(
        (1..=3).contains(&phase),
        "phase {phase} does not exist; phases are 1..=3"
    );
    let approval = scan
        .entries
        .iter()
        .find(|e| matches!(e.event, Event::PhaseApproved { phase: p } if p == phase + 1));
    let (at_block, limit) = match approval {
        Some(e) => (e.block.saturating_sub(1), (e.block, e.log_index)),
        None => (scan.to_block, (u64::MAX, u64::MAX)),
    };
    // Rebuild the Operational sets up to the approval (exclusive).
    let mut status: BTreeMap<alloy::primitives::B256, (u8, u8)> = BTreeMap::new();
    for e in scan
        .entries
        .iter()
        .take_while(|e| (e.block, e.log_index) < limit)
    {
        match &e.event {
            Event::SiteRegistered { site, tier, .. } => {
                status.insert(*site, (*tier, 1));
            }
            Event::StatusChanged { site, to, .. } => {
                if let Some(s) = status.get_mut(site) {
                    s.1 = *to;
                }
            }
            _ => {}
        }
    }
    let mut sites: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut have = [0u64; 4];
    for (id, (tier, st)) in &status {
        if *st == OPERATIONAL {
            have[usize::from(*tier).min(3)] += 1;
            sites
                .entry(tier_name(*tier))
                .or_default()
                .push(site_name(*id));
        }
    }
    let at = BlockId::from(at_block);
    let p = &chain.provider;
    let c = sankofa_abi::Rollout::new(scan.contracts.rollout, p)
        .criteria(phase)
        .block(at)
        .call()
        .await
        .map_err(|e| chain.explain_call("criteria", e))
        .with_context(|| {
            format!(
                "reading phase {phase}'s criteria as of block {at_block}: this needs the node's state \
                 at that block (an archive node; a chain reloaded from a state dump or a pruned node \
                 keeps only its latest state, so run `audit phase` against the original chain)"
            )
        })?;
    let reg = sankofa_abi::SiteRegistry::new(scan.contracts.registry, p);
    let mut on_chain = [None; 4];
    for tier in 1..=3u8 {
        let n: u64 = reg
            .count(tier, OPERATIONAL)
            .block(at)
            .call()
            .await
            .map_err(|e| chain.explain_call("count", e))?
            .saturating_to();
        on_chain[usize::from(tier)] = Some(n);
    }
    let validators = match scan.contracts.validators {
        Some(v) => Some(
            sankofa_abi::ValidatorSet::new(v, p)
                .validatorCount()
                .block(at)
                .call()
                .await
                .map_err(|e| chain.explain_call("validatorCount", e))
                .context("reading the validator count at the approval")?
                .saturating_to::<u64>(),
        ),
        None => None,
    };
    let mut findings = Vec::new();
    let mut criteria = Vec::new();
    for (i, (what, need)) in [
        ("core operational", c.minCore),
        ("regional operational", c.minRegional),
        ("edge operational", c.minEdge),
    ]
    .into_iter()
    .enumerate()
    {
        let tier = i + 1;
        if on_chain[tier] != Some(have[tier]) {
            findings.push(Finding::new(
                Kind::CountMismatch,
                format!(
                    "at block {at_block}: count({}, operational) is {:?}, the logs imply {}",
                    tier_name(tier as u8),
                    on_chain[tier],
                    have[tier]
                ),
            ));
        }
        criteria.push(Criterion {
            what,
            need: u64::from(need),
            have: have[tier],
            on_chain: on_chain[tier],
            met: have[tier] >= u64::from(need),
        });
    }
    let v = validators.unwrap_or_default();
    criteria.push(Criterion {
        what: "validators",
        need: u64::from(c.minValidators),
        have: v,
        on_chain: validators,
        met: v >= u64::from(c.minValidators),
    });
    let met = criteria.iter().all(|c| c.met);
    if approval.is_some() && !met {
        findings.push(Finding::new(
            Kind::CountMismatch,
            format!(
                "phase {} was approved although phase {phase}'s criteria were not met at block {at_block}",
                phase + 1
            ),
        ));
    }
    let gov = GovernanceIndex::build(scan);
    let provenance = approval.map(|e| {
        let tx = scan.txs.get(&e.tx).and_then(|t| t.as_ref());
        let sender = tx.and_then(|t| t.signer);
        let creation = tx.is_some_and(|t| t.to.is_none());
        gov.provenance(
            e.address,
            TxRef {
                block: e.block,
                time: e.timestamp,
                tx: e.tx,
            },
            sender,
            creation,
        )
    });
    if let (Some(Provenance::Direct { .. }), false, Some(e)) = (&provenance, allow_direct, approval)
    {
        findings.push(
            Finding::new(
                Kind::DirectGovernance,
                format!("phase {} approval not made through governance", phase + 1),
            )
            .at(e.block, e.tx),
        );
    }
    Ok(PhaseAudit {
        phase,
        next_approved: approval.map(|e| TxRef {
            block: e.block,
            time: e.timestamp,
            tx: e.tx,
        }),
        approval: provenance,
        evaluated_at_block: at_block,
        criteria,
        met,
        sites,
        findings,
    })
}
