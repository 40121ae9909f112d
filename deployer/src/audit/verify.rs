//! The replay: walks the scanned logs in chain order, rebuilds each site's history (key bindings,
//! approvals, step sequences, statuses), checks every report against the approval and the key
//! bound at that moment, then cross-checks what the logs imply against the receipts and the
//! contracts' final state. The result is a per-site timeline and a list of findings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alloy::{
    primitives::{Address, B256},
    sol_types::SolCall,
};
use sankofa_abi::{ids::site_name, rollout::Rollout};
use serde::Serialize;

use super::{
    crosscheck,
    events::Event,
    findings::{Finding, Kind},
    provenance::{GovernanceIndex, Provenance, TxRef},
    scan::{Scan, check_coverage},
};

const OPERATIONAL: u8 = 4;
const DECOMMISSIONED: u8 = 7;
const FAILED: u8 = 2;

/// One line of a site's timeline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TimelineEntry {
    pub(crate) block: u64,
    pub(crate) time: u64,
    pub(crate) tx: B256,
    pub(crate) log_index: u64,
    /// `registered`, `key-bound`, `key-revoked`, `approved`, `cancelled`, `rollback-ordered`,
    /// `step`, `rollback-step`, `status`.
    pub(crate) kind: &'static str,
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) wave: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) step: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plan_hash: Option<B256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) digest: Option<B256>,
    /// For reports: the signer recovered from the transaction's signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) signer: Option<Address>,
    /// For reports: the key bound to the site at that point of the chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bound_key: Option<Address>,
    /// For reports: signer == bound key and the tx matches the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) verified: Option<bool>,
    /// For governed events: how the decision was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) approval: Option<Provenance>,
}

/// A site's rebuilt history.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SiteHistory {
    pub(crate) site: String,
    pub(crate) tier: u8,
    pub(crate) phase: u8,
    pub(crate) parent: Option<String>,
    pub(crate) record_hash: B256,
    pub(crate) status: u8,
    pub(crate) key: Address,
    /// The current (last) approval's wave, 0 if none.
    pub(crate) wave: u32,
    /// Forward steps reported in the current approval.
    pub(crate) steps_reported: u16,
    /// The current wave's step count.
    pub(crate) step_count: u16,
    pub(crate) reports: u32,
    pub(crate) timeline: Vec<TimelineEntry>,
}

/// The outcome of a replay.
#[derive(Debug, Default)]
pub(crate) struct Audit {
    pub(crate) sites: BTreeMap<B256, SiteHistory>,
    pub(crate) findings: Vec<Finding>,
    /// Number of governed transactions and how many went through the Governor.
    pub(crate) governed_txs: usize,
    pub(crate) governed_via_timelock: usize,
    pub(crate) reports_checked: usize,
}

#[derive(Debug, Clone)]
pub(super) struct WaveInfo {
    pub(super) phase: u8,
    pub(super) plan_hash: B256,
    pub(super) not_before: u64,
    pub(super) expiry: u64,
    pub(super) step_count: u16,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Open {
    pub(super) wave: u32,
    plan_hash: B256,
    cancelled: bool,
    rollback_ordered: bool,
    next_step: u16,
    /// Distinct forward steps seen (a dropped log leaves fewer than `nextStep` on chain).
    pub(super) steps_seen: BTreeSet<u16>,
    last_status: Option<u8>,
    failed: bool,
    /// The next rollback step expected (None: nothing to undo / not started).
    rollback_next: Option<u16>,
    rollback_started: bool,
}

#[derive(Debug, Default)]
pub(super) struct SiteReplay {
    pub(super) key: Address,
    pub(super) status: u8,
    pub(super) open: Option<Open>,
}

/// Replays the scan. `allow_direct`: governed events sent by an EOA are not findings (test setups).
pub(crate) fn replay(scan: &Scan, allow_direct: bool) -> Audit {
    let mut audit = Audit::default();
    let gov = GovernanceIndex::build(scan);
    // Waves first: a wave's DeploymentApproved logs may come before or after its WaveApproved
    // log within the approving transaction.
    let waves: HashMap<u32, WaveInfo> = scan
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::WaveApproved {
                wave,
                phase,
                plan_hash,
                not_before,
                expiry,
                step_count,
                ..
            } => Some((
                *wave,
                WaveInfo {
                    phase: *phase,
                    plan_hash: *plan_hash,
                    not_before: *not_before,
                    expiry: *expiry,
                    step_count: *step_count,
                },
            )),
            _ => None,
        })
        .collect();
    let mut replay: BTreeMap<B256, SiteReplay> = BTreeMap::new();
    let mut seen: BTreeSet<(B256, u64)> = BTreeSet::new();
    let mut registrations = 0u64;
    let mut phase = 0u8;
    let mut governed: BTreeMap<B256, (u64, Provenance)> = BTreeMap::new();
    let f = &mut audit.findings;

    if let Err(problem) = check_coverage(&scan.pages, scan.from_block, scan.to_block) {
        f.push(Finding::new(
            Kind::LogOutOfRange,
            format!("the log pages do not cover the scan exactly: {problem}"),
        ));
    }
    for (block, tx, address) in &scan.stray {
        f.push(
            Finding::new(
                Kind::LogOutOfRange,
                format!(
                    "eth_getLogs returned a log of {address} at block {block}, outside the query"
                ),
            )
            .at(*block, *tx),
        );
    }

    for e in &scan.entries {
        if !seen.insert((e.tx, e.log_index)) {
            f.push(
                Finding::new(
                    Kind::LogDuplicate,
                    format!(
                        "eth_getLogs returned log {} of tx {} twice",
                        e.log_index, e.tx
                    ),
                )
                .at(e.block, e.tx),
            );
        }
        let at = TxRef {
            block: e.block,
            time: e.timestamp,
            tx: e.tx,
        };
        let provenance = e.event.is_governed().then(|| {
            let tx = scan.txs.get(&e.tx).and_then(|t| t.as_ref());
            let sender = tx.and_then(|t| t.signer);
            let creation = tx.is_some_and(|t| t.to.is_none());
            let p = gov.provenance(e.address, at.clone(), sender, creation);
            governed.entry(e.tx).or_insert((e.block, p.clone()));
            p
        });
        let entry = |kind: &'static str, detail: String| TimelineEntry {
            block: e.block,
            time: e.timestamp,
            tx: e.tx,
            log_index: e.log_index,
            kind,
            detail,
            wave: None,
            step: None,
            status: None,
            plan_hash: None,
            digest: None,
            signer: None,
            bound_key: None,
            verified: None,
            approval: provenance.clone(),
        };
        match &e.event {
            Event::SiteRegistered {
                site,
                tier,
                phase,
                parent,
                record_hash,
            } => {
                registrations += 1;
                let h = audit.sites.entry(*site).or_default();
                h.site = site_name(*site);
                h.tier = *tier;
                h.phase = *phase;
                h.parent = (*parent != B256::ZERO).then(|| site_name(*parent));
                h.record_hash = *record_hash;
                h.status = 1;
                let r = replay.entry(*site).or_default();
                r.status = 1;
                h.timeline.push(entry(
                    "registered",
                    format!(
                        "tier {} phase {phase}{}",
                        tier_name(*tier),
                        h.parent
                            .as_ref()
                            .map(|p| format!(" parent {p}"))
                            .unwrap_or_default()
                    ),
                ));
            }
            Event::KeyBound {
                site,
                key,
                previous,
            } => {
                let r = replay.entry(*site).or_default();
                r.key = *key;
                let detail = if *previous == Address::ZERO {
                    format!("agent key {key} bound")
                } else {
                    format!("agent key rotated {previous} -> {key}")
                };
                push(&mut audit.sites, *site, entry("key-bound", detail));
            }
            Event::KeyRevoked { site, key } => {
                replay.entry(*site).or_default().key = Address::ZERO;
                push(
                    &mut audit.sites,
                    *site,
                    entry("key-revoked", format!("agent key {key} revoked")),
                );
            }
            Event::StatusChanged { site, from, to } => {
                let r = replay.entry(*site).or_default();
                if r.status != *from {
                    f.push(
                        Finding::new(
                            Kind::StatusMismatch,
                            format!(
                                "status change {} -> {} but the history left the site {}; a log is missing",
                                status_name(*from),
                                status_name(*to),
                                status_name(r.status)
                            ),
                        )
                        .site(*site)
                        .at(e.block, e.tx),
                    );
                }
                r.status = *to;
                if *to == DECOMMISSIONED {
                    r.key = Address::ZERO;
                }
                let mut t = entry(
                    "status",
                    format!("{} -> {}", status_name(*from), status_name(*to)),
                );
                t.status = Some(status_name(*to));
                t.approval = None;
                push(&mut audit.sites, *site, t);
            }
            Event::PhaseApproved { phase: p } => phase = phase.max(*p),
            Event::DeploymentApproved {
                site,
                wave,
                plan_hash,
            } => {
                let step_count = match waves.get(wave) {
                    Some(w) => {
                        if w.plan_hash != *plan_hash {
                            f.push(
                                Finding::new(
                                    Kind::PlanHashMismatch,
                                    format!(
                                        "approval names plan {plan_hash}, wave {wave} approved plan {}",
                                        w.plan_hash
                                    ),
                                )
                                .site(*site)
                                .wave(*wave)
                                .at(e.block, e.tx),
                            );
                        }
                        w.step_count
                    }
                    None => {
                        f.push(
                            Finding::new(
                                Kind::LogMissing,
                                format!(
                                    "approval in wave {wave}, whose WaveApproved log is missing"
                                ),
                            )
                            .site(*site)
                            .wave(*wave)
                            .at(e.block, e.tx),
                        );
                        0
                    }
                };
                replay.entry(*site).or_default().open = Some(Open {
                    wave: *wave,
                    plan_hash: *plan_hash,
                    ..Open::default()
                });
                let mut t = entry(
                    "approved",
                    format!("wave {wave}, plan {plan_hash}, {step_count} steps"),
                );
                t.wave = Some(*wave);
                t.plan_hash = Some(*plan_hash);
                if let Some(h) = audit.sites.get_mut(site) {
                    h.wave = *wave;
                    h.step_count = step_count;
                    h.steps_reported = 0;
                }
                push(&mut audit.sites, *site, t);
            }
            Event::DeploymentCancelled { site, wave, reason } => {
                if let Some(o) = replay.entry(*site).or_default().open.as_mut()
                    && o.wave == *wave
                {
                    o.cancelled = true;
                }
                let mut t = entry(
                    "cancelled",
                    format!("wave {wave}, {}", reason_text(*reason)),
                );
                t.wave = Some(*wave);
                push(&mut audit.sites, *site, t);
            }
            Event::RollbackOrdered { site, wave, reason } => {
                if let Some(o) = replay.entry(*site).or_default().open.as_mut()
                    && o.wave == *wave
                {
                    o.rollback_ordered = true;
                    if !o.rollback_started || o.rollback_next.is_none() {
                        o.rollback_next = o.next_step.checked_sub(1);
                    }
                    o.rollback_started = true;
                }
                let mut t = entry(
                    "rollback-ordered",
                    format!("wave {wave}, {}", reason_text(*reason)),
                );
                t.wave = Some(*wave);
                push(&mut audit.sites, *site, t);
            }
            Event::StepReported {
                site,
                wave,
                step,
                status,
                plan_hash,
                digest,
            } => {
                audit.reports_checked += 1;
                let r = replay.entry(*site).or_default();
                let bound = r.key;
                check_live(f, r, &waves, e, *site, *wave, *step);
                if let Some(o) = r.open.as_mut().filter(|o| o.wave == *wave) {
                    if *plan_hash != o.plan_hash {
                        f.push(
                            Finding::new(
                                Kind::PlanHashMismatch,
                                format!(
                                    "report names plan {plan_hash}, the approval is for plan {}",
                                    o.plan_hash
                                ),
                            )
                            .site(*site)
                            .wave(*wave)
                            .step(*step)
                            .at(e.block, e.tx),
                        );
                    }
                    sequence(f, o.next_step, *step, *site, *wave, e.block, e.tx);
                    o.next_step = step.saturating_add(1).max(o.next_step);
                    o.steps_seen.insert(*step);
                    o.last_status = Some(*status);
                    o.failed |= *status == FAILED;
                }
                let call = Rollout::reportStepCall {
                    site: *site,
                    waveId: *wave,
                    step: *step,
                    status: *status,
                    outputDigest: *digest,
                }
                .abi_encode();
                let (signer, ok) = check_tx(f, scan, e, *site, *wave, *step, bound, &call);
                let mut t = entry("step", format!("step {step} {}", step_status(*status)));
                t.wave = Some(*wave);
                t.step = Some(*step);
                t.status = Some(step_status(*status));
                t.plan_hash = Some(*plan_hash);
                t.digest = Some(*digest);
                t.signer = signer;
                t.bound_key = Some(bound);
                t.verified = ok;
                if let Some(h) = audit.sites.get_mut(site) {
                    h.reports += 1;
                    if h.wave == *wave {
                        h.steps_reported = h.steps_reported.max(step.saturating_add(1));
                    }
                }
                push(&mut audit.sites, *site, t);
            }
            Event::RollbackStepReported {
                site,
                wave,
                step,
                status,
                digest,
            } => {
                audit.reports_checked += 1;
                let r = replay.entry(*site).or_default();
                let bound = r.key;
                match r.open.as_mut().filter(|o| o.wave == *wave) {
                    Some(o) if o.rollback_ordered => {
                        match o.rollback_next {
                            Some(expected) if expected == *step => {}
                            Some(expected) => f.push(
                                Finding::new(
                                    if *step < expected {
                                        Kind::StepGap
                                    } else {
                                        Kind::StepRepeat
                                    },
                                    format!(
                                        "rollback step {step} reported, step {expected} was next"
                                    ),
                                )
                                .site(*site)
                                .wave(*wave)
                                .step(*step)
                                .at(e.block, e.tx),
                            ),
                            None => f.push(
                                Finding::new(
                                    Kind::StepRepeat,
                                    format!(
                                        "rollback step {step} reported after the rollback completed"
                                    ),
                                )
                                .site(*site)
                                .wave(*wave)
                                .step(*step)
                                .at(e.block, e.tx),
                            ),
                        }
                        // A failed rollback step is retried after a new order; success moves down.
                        o.rollback_next = if *status == FAILED {
                            o.rollback_ordered = false;
                            Some(*step)
                        } else {
                            step.checked_sub(1)
                        };
                    }
                    _ => f.push(
                        Finding::new(
                            Kind::ReportOutsideApproval,
                            format!("rollback step {step} of wave {wave} without a rollback order"),
                        )
                        .site(*site)
                        .wave(*wave)
                        .step(*step)
                        .at(e.block, e.tx),
                    ),
                }
                let call = Rollout::reportRollbackStepCall {
                    site: *site,
                    waveId: *wave,
                    step: *step,
                    status: *status,
                    outputDigest: *digest,
                }
                .abi_encode();
                let (signer, ok) = check_tx(f, scan, e, *site, *wave, *step, bound, &call);
                let mut t = entry(
                    "rollback-step",
                    format!("rollback step {step} {}", step_status(*status)),
                );
                t.wave = Some(*wave);
                t.step = Some(*step);
                t.status = Some(step_status(*status));
                t.digest = Some(*digest);
                t.signer = signer;
                t.bound_key = Some(bound);
                t.verified = ok;
                if let Some(h) = audit.sites.get_mut(site) {
                    h.reports += 1;
                }
                push(&mut audit.sites, *site, t);
            }
            _ => {}
        }
    }

    // Governance: one judgement per governed transaction.
    // Constructor-set values (the initial criteria) are part of the deployment, not decisions.
    audit.governed_txs = governed
        .values()
        .filter(|(_, p)| !matches!(p, Provenance::Constructor { .. }))
        .count();
    for (tx, (block, p)) in &governed {
        match p {
            Provenance::Governance {
                proposal_id,
                created,
                queued,
                votes,
                ..
            } => {
                audit.governed_via_timelock += 1;
                if created.is_none() || queued.is_none() || votes.is_empty() {
                    f.push(
                        Finding::new(
                            Kind::ApprovalUnlinked,
                            format!(
                                "executed proposal {proposal_id}: creation {}, votes {}, queue {}",
                                found(created.is_some()),
                                votes.len(),
                                found(queued.is_some())
                            ),
                        )
                        .at(*block, *tx),
                    );
                }
            }
            Provenance::Direct { from, .. } if !allow_direct => f.push(
                Finding::new(
                    Kind::DirectGovernance,
                    format!(
                        "approval not made through governance: sent directly by {}",
                        from.map(|a| a.to_string())
                            .unwrap_or_else(|| "an unknown sender".into())
                    ),
                )
                .at(*block, *tx),
            ),
            Provenance::Direct { .. } | Provenance::Constructor { .. } => {}
        }
    }

    crosscheck::receipts(f, scan);
    crosscheck::state(f, scan, &replay, &audit.sites, registrations, phase, &waves);
    for (site, r) in &replay {
        if let Some(h) = audit.sites.get_mut(site) {
            h.status = r.status;
            h.key = r.key;
        }
        if r.status != OPERATIONAL {
            continue;
        }
        let complete = r.open.as_ref().is_some_and(|o| {
            let need = waves.get(&o.wave).map(|w| w.step_count).unwrap_or(u16::MAX);
            o.next_step == need && !o.failed && o.last_status.is_some_and(|s| s != FAILED)
        });
        let gaps = audit
            .findings
            .iter()
            .any(|x| x.kind == Kind::StepGap && x.site.as_deref() == Some(&site_name(*site)));
        if !complete || gaps {
            let what = r
                .open
                .as_ref()
                .map(|o| {
                    format!(
                        "wave {} has {} of {} steps reported{}",
                        o.wave,
                        o.next_step,
                        waves.get(&o.wave).map(|w| w.step_count).unwrap_or_default(),
                        if gaps { ", with gaps" } else { "" }
                    )
                })
                .unwrap_or_else(|| "no approval at all".into());
            audit.findings.push(
                Finding::new(
                    Kind::OperationalIncomplete,
                    format!("site is Operational but {what}"),
                )
                .site(*site),
            );
        }
    }
    audit
}

fn found(yes: bool) -> &'static str {
    if yes { "found" } else { "NOT FOUND" }
}

fn push(sites: &mut BTreeMap<B256, SiteHistory>, site: B256, t: TimelineEntry) {
    let h = sites.entry(site).or_default();
    if h.site.is_empty() {
        h.site = site_name(site);
    }
    h.timeline.push(t);
}

/// The report's approval must exist and be live at the report's block.
fn check_live(
    f: &mut Vec<Finding>,
    r: &SiteReplay,
    waves: &HashMap<u32, WaveInfo>,
    e: &super::scan::Entry,
    site: B256,
    wave: u32,
    step: u16,
) {
    let mk = |kind, msg: String| {
        Finding::new(kind, msg)
            .site(site)
            .wave(wave)
            .step(step)
            .at(e.block, e.tx)
    };
    let Some(o) = r.open.as_ref().filter(|o| o.wave == wave) else {
        f.push(mk(
            Kind::ReportWithoutApproval,
            format!("step {step} reported under wave {wave}, which never approved this site"),
        ));
        return;
    };
    let mut why = Vec::new();
    if o.cancelled {
        why.push("the deployment was cancelled".to_string());
    }
    if o.rollback_ordered {
        why.push("a rollback was ordered".to_string());
    }
    if let Some(w) = waves.get(&wave)
        && !(w.not_before <= e.timestamp && e.timestamp < w.expiry)
    {
        why.push(format!(
            "block time {} is outside the window [{}, {})",
            e.timestamp, w.not_before, w.expiry
        ));
    }
    if !why.is_empty() {
        f.push(mk(
            Kind::ReportOutsideApproval,
            format!("step {step} reported while {}", why.join(" and ")),
        ));
    }
}

/// One forward step against the expected next one.
fn sequence(
    f: &mut Vec<Finding>,
    expected: u16,
    got: u16,
    site: B256,
    wave: u32,
    block: u64,
    tx: B256,
) {
    if got == expected {
        return;
    }
    let (kind, msg) = if got > expected {
        (
            Kind::StepGap,
            format!("step {got} reported, step {expected} is missing"),
        )
    } else {
        (
            Kind::StepRepeat,
            format!("step {got} reported again (step {expected} was next)"),
        )
    };
    f.push(
        Finding::new(kind, msg)
            .site(site)
            .wave(wave)
            .step(got)
            .at(block, tx),
    );
}

/// The report's transaction: its hash, target, calldata and signer. Returns the recovered
/// signer and whether everything matched (None when the tx was not fetched).
fn check_tx(
    f: &mut Vec<Finding>,
    scan: &Scan,
    e: &super::scan::Entry,
    site: B256,
    wave: u32,
    step: u16,
    bound: Address,
    call: &[u8],
) -> (Option<Address>, Option<bool>) {
    let mk = |kind, msg: String| {
        Finding::new(kind, msg)
            .site(site)
            .wave(wave)
            .step(step)
            .at(e.block, e.tx)
    };
    let Some(fetched) = scan.txs.get(&e.tx) else {
        return (None, None);
    };
    let Some(tx) = fetched else {
        f.push(mk(
            Kind::TxMissing,
            format!("the node has no transaction {} for this report", e.tx),
        ));
        return (None, Some(false));
    };
    let mut ok = true;
    if !tx.hash_ok {
        ok = false;
        f.push(mk(
            Kind::ReportTxMismatch,
            "the transaction the node returned does not hash to the log's tx hash".into(),
        ));
    }
    if tx.to != Some(scan.contracts.rollout) || tx.input.as_ref() != call {
        ok = false;
        f.push(mk(
            Kind::ReportTxMismatch,
            "the transaction's target or calldata does not match the reported step".into(),
        ));
    }
    match tx.signer {
        Some(s) if s == bound && bound != Address::ZERO => {}
        Some(s) => {
            ok = false;
            f.push(mk(
                Kind::ReportUnboundSigner,
                if bound == Address::ZERO {
                    format!("signed by {s}, but no key was bound to the site at that block")
                } else {
                    format!("signed by {s}, but the key bound at that block was {bound}")
                },
            ));
        }
        None => {
            ok = false;
            f.push(mk(
                Kind::ReportUnboundSigner,
                "the transaction's signature does not recover to any key".into(),
            ));
        }
    }
    (tx.signer, Some(ok))
}

pub(crate) fn tier_name(tier: u8) -> &'static str {
    match tier {
        1 => "core",
        2 => "regional",
        3 => "edge",
        _ => "unknown",
    }
}

pub(crate) fn status_name(status: u8) -> &'static str {
    sankofa_abi::ids::SiteStatus::try_from(status)
        .map(|s| s.as_str())
        .unwrap_or("none")
}

pub(crate) fn step_status(status: u8) -> &'static str {
    match status {
        1 => "succeeded",
        2 => "failed",
        3 => "skipped",
        _ => "unknown",
    }
}

/// `reason performance-degradation` (the trigger's name), or the bare code if none is known.
fn reason_text(code: u8) -> String {
    match sankofa_abi::ids::RollbackReason::try_from(code) {
        Ok(r) => format!("reason {r}"),
        Err(c) => format!("reason {c} (unknown code)"),
    }
}
