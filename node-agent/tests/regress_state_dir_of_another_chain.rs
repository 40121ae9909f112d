//! A state_dir kept from another chain (a restarted devnet: same chain id, same contract
//! addresses, same wave numbers) used to be trusted: its "completed" wave 1 swallowed the new
//! chain's wave 1, and the site stayed Approved with no word. The journal is now bound to the
//! chain's genesis hash and Rollout address, and a mismatch stops the agent with the key named.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;

const OPERATIONAL: u8 = 4;
const LIMIT: Duration = Duration::from_secs(90);

fn opts(net: &Net) -> AgentOpts<'static> {
    AgentOpts::direct(net, "edge-a", "subscribe")
}

#[tokio::test]
async fn regress_a_state_dir_from_another_chain_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let plan = counting_plan(tmp.path(), 2, None);

    let first = Net::start(&["edge-a"]).await;
    let mut agent = Agent::new(&dir, &first, opts(&first));
    agent.start();
    first
        .approve(&plan, &["edge-a"], first.open_window().await)
        .await;
    eventually("operational on the first chain", LIMIT, || async {
        (first.status("edge-a").await == OPERATIONAL).then_some(())
    })
    .await;
    let stopped = agent.sigterm();
    assert!(stopped.success(), "{stopped:?}: {}", agent.logs());
    drop(first);

    // A new chain, deployed the same way: same addresses, and again a wave 1 for edge-a. Two
    // anvils started in the same second with the same deployments are block for block the same
    // chain (their divergence is a deep reorg, not another chain), so this one starts later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = Net::start(&["edge-a"]).await;
    let wave = second
        .approve(&plan, &["edge-a"], second.open_window().await)
        .await;
    assert_eq!(wave, 1, "the new chain reuses the wave number");
    let mut agent = Agent::new(&dir, &second, opts(&second));
    agent.start();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = agent.child.as_mut().unwrap().try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < LIMIT,
            "the agent kept running on another chain's journal"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success(), "refused with a non-zero exit");
    let logs = agent.logs();
    assert!(
        logs.contains("key `state_dir`") && logs.contains("holds the journal of another chain"),
        "{logs}"
    );
    assert!(
        second.step_reports("edge-a").await.is_empty(),
        "nothing was reported on the new chain"
    );
}
