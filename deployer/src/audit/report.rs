//! The `--json` schemas of `audit verify` and `audit site`, and their human tables.
//!
//! Schemas are versioned by their `schema` field; fields are only ever added.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256};
use serde::Serialize;

use super::{
    findings::Finding,
    phase::Criterion,
    verify::{SiteHistory, status_name, tier_name},
};
use crate::output::Table;

/// One phase's progress at the head.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhaseProgress {
    pub(crate) phase: u8,
    pub(crate) approved: bool,
    pub(crate) criteria: Vec<Criterion>,
}

/// `audit verify --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VerifyReport {
    /// `sankofa-audit-verify/1`.
    pub(crate) schema: &'static str,
    pub(crate) network: String,
    pub(crate) chain_id: u64,
    pub(crate) contracts: super::events::Contracts,
    pub(crate) from_block: u64,
    pub(crate) to_block: u64,
    pub(crate) pages: usize,
    pub(crate) halvings: u32,
    pub(crate) logs: usize,
    pub(crate) transactions: usize,
    pub(crate) receipts: usize,
    pub(crate) sites: usize,
    pub(crate) reports_checked: usize,
    pub(crate) governed_txs: usize,
    pub(crate) governed_via_timelock: usize,
    /// True when there is no finding.
    pub(crate) ok: bool,
    pub(crate) findings: Vec<Finding>,
    pub(crate) phases: Vec<PhaseProgress>,
    /// tier -> status -> number of sites (from the replayed history).
    pub(crate) sites_by_status: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    /// Wall time per scan stage in milliseconds (with `--timings`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) timings_ms: Option<BTreeMap<&'static str, u128>>,
}

/// `audit site ID --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SiteReport {
    /// `sankofa-audit-site/1`.
    pub(crate) schema: &'static str,
    pub(crate) chain_id: u64,
    pub(crate) to_block: u64,
    /// True when the site has no finding.
    pub(crate) ok: bool,
    #[serde(flatten)]
    pub(crate) history: SiteHistory,
    pub(crate) findings: Vec<Finding>,
}

/// `audit artifact --json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactReport {
    /// `sankofa-audit-artifact/1`.
    pub(crate) schema: &'static str,
    pub(crate) site: String,
    pub(crate) wave: u32,
    pub(crate) step: u16,
    pub(crate) rollback: bool,
    pub(crate) file: String,
    pub(crate) file_digest: B256,
    pub(crate) on_chain_digest: B256,
    pub(crate) matches: bool,
    pub(crate) block: u64,
    pub(crate) tx: B256,
    pub(crate) signer: Option<Address>,
    /// The report's signer was the key bound at that block and its tx matched the log.
    pub(crate) report_verified: Option<bool>,
}

/// Unix seconds as an RFC 3339 UTC time.
pub(crate) fn iso_time(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map(|ts| ts.to_string())
        .unwrap_or_else(|| t.to_string())
}

pub(crate) fn print_findings(findings: &[Finding]) {
    let mut t = Table::new(["KIND", "SITE", "WAVE", "STEP", "BLOCK", "MESSAGE"]);
    for f in findings {
        t.row([
            f.kind.as_str().to_string(),
            f.site.clone().unwrap_or_default(),
            f.wave.map(|v| v.to_string()).unwrap_or_default(),
            f.step.map(|v| v.to_string()).unwrap_or_default(),
            f.block.map(|v| v.to_string()).unwrap_or_default(),
            f.message.clone(),
        ]);
    }
    t.print();
}

pub(crate) fn print_verify(r: &VerifyReport) {
    println!(
        "chain {}  blocks {}..={}  {} logs in {} pages ({} halvings)  {} txs  {} receipts",
        r.chain_id,
        r.from_block,
        r.to_block,
        r.logs,
        r.pages,
        r.halvings,
        r.transactions,
        r.receipts
    );
    println!(
        "{} sites  {} reports checked  {} governed txs ({} through the Governor/Timelock)",
        r.sites, r.reports_checked, r.governed_txs, r.governed_via_timelock
    );
    let mut t = Table::new(["TIER", "STATUS", "SITES"]);
    for (tier, m) in &r.sites_by_status {
        for (status, n) in m {
            t.row([tier.to_string(), status.to_string(), n.to_string()]);
        }
    }
    t.print();
    let mut t = Table::new(["PHASE", "APPROVED", "CRITERION", "HAVE", "NEED"]);
    for p in &r.phases {
        for c in &p.criteria {
            t.row([
                p.phase.to_string(),
                if p.approved { "yes" } else { "no" }.to_string(),
                c.what.to_string(),
                c.have.to_string(),
                c.need.to_string(),
            ]);
        }
    }
    t.print();
    if r.findings.is_empty() {
        println!("VERIFIED: no findings");
    } else {
        println!("{} FINDING(S):", r.findings.len());
        print_findings(&r.findings);
    }
}

pub(crate) fn print_site(r: &SiteReport) {
    let h = &r.history;
    println!(
        "site {}  tier {}  phase {}  parent {}  status {}  key {}  record {}",
        h.site,
        tier_name(h.tier),
        h.phase,
        h.parent.as_deref().unwrap_or("-"),
        status_name(h.status),
        h.key,
        h.record_hash
    );
    let mut t = Table::new([
        "BLOCK", "TIME", "EVENT", "DETAIL", "SIGNER", "BOUND", "OK", "APPROVAL", "TX",
    ]);
    for e in &h.timeline {
        t.row([
            e.block.to_string(),
            iso_time(e.time),
            e.kind.to_string(),
            match e.digest {
                Some(d) => format!("{} digest {d}", e.detail),
                None => e.detail.clone(),
            },
            e.signer.map(|a| a.to_string()).unwrap_or_default(),
            match (e.signer, e.bound_key) {
                (Some(_), Some(k)) => k.to_string(),
                _ => String::new(),
            },
            match e.verified {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            }
            .to_string(),
            e.approval.as_ref().map(|a| a.summary()).unwrap_or_default(),
            e.tx.to_string(),
        ]);
    }
    t.print();
    // The full provenance of each distinct approval, once.
    let mut shown = std::collections::BTreeSet::new();
    for e in &h.timeline {
        if let Some(super::provenance::Provenance::Governance {
            proposal_id,
            proposer,
            description,
            created,
            votes,
            queued,
            executed,
        }) = &e.approval
        {
            if !shown.insert(*proposal_id) {
                continue;
            }
            println!("\nproposal {proposal_id} ({})", e.kind);
            if let (Some(c), Some(p)) = (created, proposer) {
                println!("  created  block {} tx {} by {p}", c.block, c.tx);
            }
            if let Some(d) = description {
                println!("  description: {}", d.lines().next().unwrap_or_default());
            }
            for v in votes {
                println!(
                    "  vote     block {} tx {} {} {} weight {}",
                    v.at.block, v.at.tx, v.voter, v.support, v.weight
                );
            }
            if let Some(q) = queued {
                println!("  queued   block {} tx {}", q.block, q.tx);
            }
            println!("  executed block {} tx {}", executed.block, executed.tx);
        }
    }
    if r.findings.is_empty() {
        println!("\nVERIFIED: no findings for {}", h.site);
    } else {
        println!("\n{} FINDING(S):", r.findings.len());
        print_findings(&r.findings);
    }
}
