//! Cross-checks of the replayed history against independent sources: every receipt seen must
//! carry exactly the logs eth_getLogs returned for its transaction, and the contracts' final
//! state (siteCount, per-tier counters, each site's status, key and `deployment(site)`, waves,
//! current phase) must equal what the logs imply. A node that silently drops or alters a log
//! cannot pass both.

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::B256;
use sankofa_abi::ids::site_name;

use super::{
    findings::{Finding, Kind},
    scan::{Entry, Scan},
    verify::{SiteHistory, SiteReplay, WaveInfo, status_name, tier_name},
};

/// Every receipt seen must carry exactly the logs eth_getLogs returned for its tx.
pub(super) fn receipts(f: &mut Vec<Finding>, scan: &Scan) {
    let mut by_tx: HashMap<B256, Vec<&Entry>> = HashMap::new();
    for e in &scan.entries {
        by_tx.entry(e.tx).or_default().push(e);
    }
    let mut txs: Vec<_> = scan.receipts.iter().collect();
    txs.sort_by_key(|(h, _)| **h);
    for (hash, receipt) in txs {
        let block = by_tx
            .get(hash)
            .and_then(|v| v.first())
            .map(|e| e.block)
            .unwrap_or_default();
        let Some(receipt) = receipt else {
            f.push(
                Finding::new(
                    Kind::TxMissing,
                    format!("logs name tx {hash}, for which the node has no receipt"),
                )
                .at(block, *hash),
            );
            continue;
        };
        if !receipt.success {
            f.push(
                Finding::new(
                    Kind::TxMissing,
                    format!("logs name tx {hash}, which reverted (a reverted tx has no logs)"),
                )
                .at(block, *hash),
            );
        }
        let ours = by_tx.get(hash).cloned().unwrap_or_default();
        for (index, address, topics, data) in &receipt.logs {
            match ours.iter().find(|e| e.log_index == *index) {
                None => f.push(
                    Finding::new(
                        Kind::LogMissing,
                        format!(
                            "the receipt of tx {hash} has log {index} of {address} that eth_getLogs did not return"
                        ),
                    )
                    .at(block, *hash),
                ),
                Some(e) if e.address != *address || e.topics != *topics || e.data != *data => f
                    .push(
                        Finding::new(
                            Kind::LogMismatch,
                            format!(
                                "log {index} of tx {hash} from eth_getLogs differs from the receipt's copy"
                            ),
                        )
                        .at(block, *hash),
                    ),
                Some(_) => {}
            }
        }
        for e in ours {
            if !receipt.logs.iter().any(|(i, ..)| *i == e.log_index) {
                f.push(
                    Finding::new(
                        Kind::LogMismatch,
                        format!(
                            "eth_getLogs returned log {} of tx {hash}, which its receipt does not have",
                            e.log_index
                        ),
                    )
                    .at(e.block, *hash),
                );
            }
        }
    }
}

/// The contracts' final state against what the logs imply.
pub(super) fn state(
    f: &mut Vec<Finding>,
    scan: &Scan,
    replay: &BTreeMap<B256, SiteReplay>,
    sites: &BTreeMap<B256, SiteHistory>,
    registrations: u64,
    phase: u8,
    waves: &HashMap<u32, WaveInfo>,
) {
    let s = &scan.state;
    let head = scan.to_block;
    let mut mismatch = |what: String| {
        f.push(Finding::new(
            Kind::CountMismatch,
            format!("at block {head}: {what}"),
        ))
    };
    // A site-restricted scan reads only that site's state; the global counters still apply.
    if s.site_count != registrations {
        mismatch(format!(
            "siteCount() is {}, the logs register {registrations} sites",
            s.site_count
        ));
    }
    if s.current_phase != phase {
        mismatch(format!(
            "currentPhase() is {}, the logs approve up to phase {phase}",
            s.current_phase
        ));
    }
    if s.wave_count as usize != waves.len() {
        mismatch(format!(
            "waveCount() is {}, the logs approve {} waves",
            s.wave_count,
            waves.len()
        ));
    }
    for (id, w) in &s.waves {
        match waves.get(id) {
            Some(l)
                if l.plan_hash == w.plan_hash
                    && l.step_count == w.step_count
                    && l.phase == w.phase
                    && l.not_before == w.not_before
                    && l.expiry == w.expiry => {}
            Some(_) => mismatch(format!(
                "wave {id} as stored (phase, plan hash, window, step count) differs from its WaveApproved log"
            )),
            None => {}
        }
    }
    if scan.state.sites.len() == sites.len() {
        let mut counts: BTreeMap<(u8, u8), u64> = BTreeMap::new();
        for (id, h) in sites {
            if let Some(r) = replay.get(id) {
                *counts.entry((h.tier, r.status)).or_default() += 1;
            }
        }
        for ((tier, status), n) in &s.counts {
            let implied = counts.get(&(*tier, *status)).copied().unwrap_or_default();
            if *n != implied {
                mismatch(format!(
                    "count({}, {}) is {n}, the logs imply {implied}",
                    tier_name(*tier),
                    status_name(*status)
                ));
            }
        }
    }
    for (id, st) in &s.sites {
        let name = site_name(*id);
        let Some(r) = replay.get(id) else { continue };
        let mut site_mismatch = |what: String| {
            f.push(Finding::new(Kind::CountMismatch, format!("at block {head}: {what}")).site(*id))
        };
        if let Some(h) = sites.get(id)
            && (h.tier, h.phase) != (st.tier, st.phase)
        {
            site_mismatch(format!(
                "{name} is tier {} phase {} on chain, registered as tier {} phase {}",
                st.tier, st.phase, h.tier, h.phase
            ));
        }
        if st.status != r.status {
            site_mismatch(format!(
                "{name} is {} on chain, the logs leave it {}",
                status_name(st.status),
                status_name(r.status)
            ));
        }
        if st.agent != r.key {
            site_mismatch(format!(
                "{name}'s key is {} on chain, the logs leave it {}",
                st.agent, r.key
            ));
        }
        let (wave, next) = r
            .open
            .as_ref()
            .map(|o| (o.wave, o.steps_seen.len()))
            .unwrap_or_default();
        if st.wave != wave {
            site_mismatch(format!(
                "{name}'s deployment is wave {} on chain, the logs say wave {wave}",
                st.wave
            ));
        } else if usize::from(st.next_step) != next {
            site_mismatch(format!(
                "{name}'s deployment(site).nextStep is {}, the logs show {next} steps reported",
                st.next_step
            ));
        }
    }
}
