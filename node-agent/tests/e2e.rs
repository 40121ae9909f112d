//! The agent end to end: real anvil, real contracts, real agent processes.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;

const OPERATIONAL: u8 = 4;
const LIMIT: Duration = Duration::from_secs(90);

fn opts(net: &Net, site: &'static str, mode: &'static str) -> AgentOpts<'static> {
    AgentOpts::direct(net, site, mode)
}

#[tokio::test]
async fn happy_path_runs_each_step_once_and_reports_in_order() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = counting_plan(tmp.path(), 3, None);
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        opts(&net, "edge-a", "subscribe"),
    );
    agent.start();
    let wave = net
        .approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    eventually("site operational", LIMIT, || async {
        (net.status("edge-a").await == OPERATIONAL).then_some(())
    })
    .await;
    assert_eq!(
        net.step_reports("edge-a").await,
        vec![(wave, 0, 1), (wave, 1, 1), (wave, 2, 1)]
    );
    for i in 0..3 {
        assert_eq!(
            runs(&agent.sandbox(), &format!("s{i}")),
            1,
            "step s{i} runs"
        );
    }
    // The journal catches up right after the last report is mined.
    eventually("journal says completed", LIMIT, || async {
        let st = agent.try_status()?;
        (st["deployments"][0]["deployment"]["state"] == "completed").then_some(())
    })
    .await;
    assert!(agent.sigterm().success(), "graceful stop exits 0");
}
