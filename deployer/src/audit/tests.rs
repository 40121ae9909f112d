//! The replay's checks on hand-made histories: anomalies the contracts refuse to produce
//! (so no real chain can show them) but a buggy contract or a lying node could.

use std::collections::HashMap;

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    sol_types::SolCall,
};
use sankofa_abi::{ids::site_id, rollout::Rollout};

use super::{
    events::{Contracts, Event},
    findings::Kind,
    scan::{ChainState, Entry, Scan, TxCheck},
    verify::replay,
};

const ROLLOUT: Address = Address::repeat_byte(0xaa);

fn site() -> B256 {
    site_id("core-fra").expect("site id")
}

fn key(n: u8) -> Address {
    Address::repeat_byte(n)
}

/// A scan of `events`, one per block starting at block 1 (time = 1000 + block).
fn scan(events: Vec<Event>) -> Scan {
    let n = events.len() as u64;
    let entries = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let block = i as u64 + 1;
            Entry {
                block,
                timestamp: 1000 + block,
                tx: B256::with_last_byte(block as u8),
                log_index: 0,
                address: ROLLOUT,
                event,
                topics: vec![],
                data: Bytes::new(),
            }
        })
        .collect();
    Scan {
        contracts: Contracts {
            registry: Address::repeat_byte(0xee),
            rollout: ROLLOUT,
            validators: None,
            council: None,
            governor: None,
            timelock: None,
        },
        from_block: 1,
        to_block: n,
        pages: vec![(1, n)],
        halvings: 0,
        entries,
        stray: vec![],
        txs: HashMap::new(),
        receipts: HashMap::new(),
        state: ChainState::default(),
        timings: vec![],
    }
}

/// Registered, key 1 bound, wave 1 (window [1000, `expiry`), 3 steps) approved.
fn approved(expiry: u64) -> Vec<Event> {
    vec![
        Event::SiteRegistered {
            site: site(),
            tier: 1,
            phase: 1,
            parent: B256::ZERO,
            record_hash: B256::ZERO,
        },
        Event::KeyBound {
            site: site(),
            key: key(1),
            previous: Address::ZERO,
        },
        Event::WaveApproved {
            wave: 1,
            phase: 1,
            plan_hash: B256::repeat_byte(9),
            plan_uri: String::new(),
            not_before: 1000,
            expiry,
            max_concurrent: 1,
            step_count: 3,
            site_count: U256::from(1),
        },
        Event::DeploymentApproved {
            site: site(),
            wave: 1,
            plan_hash: B256::repeat_byte(9),
        },
    ]
}

fn step(wave: u32, step: u16) -> Event {
    Event::StepReported {
        site: site(),
        wave,
        step,
        status: 1,
        plan_hash: B256::repeat_byte(9),
        digest: B256::ZERO,
    }
}

/// The finding kinds, without the state cross-checks (these scans carry no state).
fn kinds(s: &Scan) -> Vec<Kind> {
    let mut k: Vec<Kind> = replay(s, true)
        .findings
        .into_iter()
        .map(|f| f.kind)
        .filter(|k| *k != Kind::CountMismatch)
        .collect();
    k.sort();
    k.dedup();
    k
}

#[test]
fn a_clean_sequence_has_no_findings() {
    let mut events = approved(u64::MAX);
    events.extend([step(1, 0), step(1, 1), step(1, 2)]);
    assert_eq!(kinds(&scan(events)), []);
}

#[test]
fn a_report_after_expiry_is_outside_the_approval() {
    // Blocks 5.. have time 1005..; the window closes at 1006.
    let mut events = approved(1006);
    events.extend([step(1, 0), step(1, 1)]);
    assert_eq!(kinds(&scan(events)), [Kind::ReportOutsideApproval]);
}

#[test]
fn a_report_after_cancellation_is_outside_the_approval() {
    let mut events = approved(u64::MAX);
    events.push(Event::DeploymentCancelled {
        site: site(),
        wave: 1,
        reason: 0,
    });
    events.push(step(1, 0));
    assert_eq!(kinds(&scan(events)), [Kind::ReportOutsideApproval]);
}

#[test]
fn a_report_under_another_wave_has_no_approval() {
    let mut events = approved(u64::MAX);
    events.push(step(2, 0));
    assert_eq!(kinds(&scan(events)), [Kind::ReportWithoutApproval]);
}

#[test]
fn rollback_steps_must_descend_without_gaps() {
    let mut events = approved(u64::MAX);
    events.extend([step(1, 0), step(1, 1), step(1, 2)]);
    events.push(Event::RollbackOrdered {
        site: site(),
        wave: 1,
        reason: 1,
    });
    let rollback = |step| Event::RollbackStepReported {
        site: site(),
        wave: 1,
        step,
        status: 1,
        digest: B256::ZERO,
    };
    let mut gap = events.clone();
    gap.extend([rollback(2), rollback(0)]);
    assert_eq!(kinds(&scan(gap)), [Kind::StepGap]);
    let mut clean = events;
    clean.extend([rollback(2), rollback(1), rollback(0)]);
    assert_eq!(kinds(&scan(clean)), []);
}

#[test]
fn a_report_signed_by_a_revoked_key_is_a_finding() {
    let mut events = approved(u64::MAX);
    events.push(step(1, 0));
    events.push(Event::KeyRevoked {
        site: site(),
        key: key(1),
    });
    events.push(step(1, 1));
    let mut s = scan(events);
    // Both reports signed by key 1 with matching calldata: the first is fine, the second is not.
    for (block, n) in [(5u8, 0u16), (7, 1)] {
        let input = Rollout::reportStepCall {
            site: site(),
            waveId: 1,
            step: n,
            status: 1,
            outputDigest: B256::ZERO,
        }
        .abi_encode();
        s.txs.insert(
            B256::with_last_byte(block),
            Some(TxCheck {
                signer: Some(key(1)),
                hash_ok: true,
                to: Some(ROLLOUT),
                input: input.into(),
            }),
        );
    }
    let audit = replay(&s, true);
    let unbound: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| f.kind == Kind::ReportUnboundSigner)
        .collect();
    assert_eq!(unbound.len(), 1, "{:?}", audit.findings);
    assert_eq!(unbound[0].step, Some(1));
    assert!(unbound[0].message.contains("no key was bound"));
}
