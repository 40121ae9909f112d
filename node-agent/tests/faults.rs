//! The agent under faults: restarts, connection resets, kill -9, tampered plans, expiry,
#![allow(clippy::unwrap_used)]
//! cancel and rollback. Real anvil, real contracts, real agent processes.

mod common;

use std::time::Duration;

use alloy::primitives::keccak256;
use alloy::providers::Provider;
use common::*;
use rand::Rng;
use sankofa_chain::testing::TcpProxy;

const OPERATIONAL: u8 = 4;
const DEGRADED: u8 = 5;
const ROLLED_BACK: u8 = 6;
const LIMIT: Duration = Duration::from_secs(120);

fn opts(net: &Net, site: &'static str, mode: &'static str) -> AgentOpts<'static> {
    AgentOpts::direct(net, site, mode)
}

async fn wait_ready(agent: &Agent) {
    let run = agent.runs;
    eventually("agent ready", LIMIT, || async {
        let log =
            std::fs::read_to_string(agent.dir.join(format!("agent-{run}.log"))).unwrap_or_default();
        log.contains("event stream live; ready").then_some(())
    })
    .await;
}

async fn wait_state(agent: &Agent, wave: u32, state: &str) -> serde_json::Value {
    eventually(&format!("wave {wave} {state}"), LIMIT, || async {
        let st = agent.try_status()?;
        let d = st["deployments"]
            .as_array()?
            .iter()
            .find(|d| d["deployment"]["wave"] == wave)?
            .clone();
        (d["deployment"]["state"] == state).then_some(d)
    })
    .await
}

#[tokio::test]
async fn restart_handles_every_event_exactly_once() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = counting_plan(tmp.path(), 1, None);
    let mut agent = Agent::new(&tmp.path().join("a"), &net, opts(&net, "edge-a", "poll"));
    agent.start();
    wait_ready(&agent).await;
    assert!(agent.sigterm().success());
    let cursor = agent.status_json()["cursor"]["number"]
        .as_u64()
        .expect("checkpoint persisted");
    // While it is down: three approvals (each cancelled before it could start).
    let later = net.now().await.max(wall()) + 3600;
    for _ in 0..3 {
        net.approve(&plan, &["edge-a"], (later, later + 3600)).await;
        net.cancel("edge-a").await;
    }
    // A fourth during start-up.
    agent.start();
    let w4 = net
        .approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    eventually("site operational", LIMIT, || async {
        (net.status("edge-a").await == OPERATIONAL).then_some(())
    })
    .await;
    wait_state(&agent, w4, "completed").await;
    // 4 approvals, 3 cancels and the agent's own step report.
    let st = eventually("8 events handled", LIMIT, || async {
        agent
            .try_status()
            .filter(|st| st["events_handled"] == 4 + 3 + 1)
    })
    .await;
    assert!(st["cursor"]["number"].as_u64().unwrap() > cursor);
    assert_eq!(agent.count_logs("event handled"), 8);
    assert_eq!(
        runs(&agent.sandbox(), "s0"),
        1,
        "only the live approval ran"
    );
    for w in 1..=3u32 {
        wait_state(&agent, w, "cancelled").await;
    }
    // And once more: a restart repeats nothing.
    assert!(agent.sigterm().success());
    agent.start();
    wait_ready(&agent).await;
    assert_eq!(agent.count_logs("event handled"), 8);
    assert_eq!(agent.status_json()["events_handled"], 8);
}

#[tokio::test]
async fn connection_resets_lose_and_repeat_no_event() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = counting_plan(tmp.path(), 1, None);
    let proxy = TcpProxy::start(net.anvil.endpoint_url().socket_addrs(|| None).unwrap()[0])
        .await
        .unwrap();
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        AgentOpts {
            http: proxy.http_url(),
            ws: Some(proxy.ws_url()),
            ..opts(&net, "edge-a", "subscribe")
        },
    );
    agent.start();
    wait_ready(&agent).await;
    let later = net.now().await.max(wall()) + 3600;
    proxy.reset_all();
    net.approve(&plan, &["edge-a"], (later, later + 3600)).await;
    proxy.reset_all();
    net.cancel("edge-a").await;
    proxy.reset_all();
    net.approve(&plan, &["edge-a"], (later, later + 3600)).await;
    proxy.reset_all();
    eventually("3 events handled", LIMIT, || async {
        (agent.try_status()?["events_handled"] == 3).then_some(())
    })
    .await;
    // Let it settle through further reconnects; nothing may be handled twice.
    proxy.reset_all();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(agent.count_logs("event handled"), 3);
    assert_eq!(agent.status_json()["events_handled"], 3);
    assert!(
        agent.logs().contains("log stream session ended"),
        "the resets were felt"
    );
}

#[tokio::test]
async fn kill_9_at_random_points_never_runs_a_step_twice_nor_loses_a_report() {
    const STEPS: usize = 12;
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut s = String::from("name = \"kill\"\nshell_prelude = \"set -eu\"\n");
    for i in 0..STEPS {
        s.push_str(&format!(
            "[[step]]\nname = \"s{i}\"\nrun = {{ shell = \"mkdir -p {{{{root}}}}/runs && echo run >> {{{{root}}}}/runs/s{i} && touch {{{{root}}}}/done-s{i}\" }}\ncheck = {{ shell = \"test -f {{{{root}}}}/done-s{i}\" }}\n"
        ));
    }
    let plan = tmp.path().join("kill.toml");
    std::fs::write(&plan, s).unwrap();
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        opts(&net, "edge-a", "subscribe"),
    );
    let wave = net
        .approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    let mut kills = 0;
    while kills < 22 {
        agent.start();
        let ms = rand::rng().random_range(150..1200);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        agent.kill9();
        kills += 1;
    }
    agent.start();
    let status = eventually("terminal site status", LIMIT, || async {
        let s = net.status("edge-a").await;
        (s == OPERATIONAL || s == DEGRADED).then_some(s)
    })
    .await;
    let reports = net.step_reports_full("edge-a").await;
    println!(
        "after {kills} kills: site status {status}, {} reports",
        reports.len()
    );
    // Reports: contiguous from 0, each step once.
    for (i, r) in reports.iter().enumerate() {
        assert_eq!((r.0, r.1 as usize), (wave, i), "reports {reports:?}");
    }
    if status == OPERATIONAL {
        assert_eq!(reports.len(), STEPS);
    }
    // Every step ran at most once; every finished step's outcome is exactly what was reported.
    let st = wait_state(
        &agent,
        wave,
        if status == OPERATIONAL {
            "completed"
        } else {
            "failed"
        },
    )
    .await;
    let steps = st["steps"].as_array().unwrap();
    for i in 0..STEPS {
        assert!(
            runs(&agent.sandbox(), &format!("s{i}")) <= 1,
            "step s{i} ran twice"
        );
    }
    let finished: Vec<_> = steps.iter().filter(|s| s["finished"] == true).collect();
    assert_eq!(
        finished.len(),
        reports.len(),
        "a finished step without a report (or the reverse): {st}"
    );
    for (s, r) in finished.iter().zip(&reports) {
        assert_eq!(s["status"].as_u64(), Some(r.2 as u64));
        assert_eq!(
            s["digest"].as_str().map(|d| d.to_lowercase()),
            Some(r.3.to_string())
        );
    }
    assert_eq!(agent.count_logs("GuardConflict"), 0);
}

#[tokio::test]
async fn a_tampered_plan_is_refused_and_reported() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = counting_plan(tmp.path(), 2, None);
    let good = std::fs::read(&plan).unwrap();
    let mut bad = good.clone();
    let pos = bad.iter().position(|b| *b == b'r').unwrap();
    bad[pos] = b'R';
    let served = tmp.path().join("served.toml");
    std::fs::write(&served, &bad).unwrap();
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        opts(&net, "edge-a", "subscribe"),
    );
    agent.start();
    let wave = net
        .approve_hash(
            keccak256(&good),
            &served.display().to_string(),
            &["edge-a"],
            net.open_window().await,
            2,
        )
        .await;
    wait_state(&agent, wave, "rejected").await;
    assert_eq!(net.status("edge-a").await, DEGRADED);
    let reports = net.step_reports_full("edge-a").await;
    assert_eq!(
        reports,
        vec![(wave, 0, 2, keccak256(&bad))],
        "step 0 failed with the refused content's hash"
    );
    assert_eq!(runs(&agent.sandbox(), "s0"), 0, "nothing ran");
}

#[tokio::test]
async fn an_expired_approval_is_ignored() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = counting_plan(tmp.path(), 1, None);
    let now = net.now().await.max(wall());
    let wave = net.approve(&plan, &["edge-a"], (now - 60, now + 30)).await;
    net.warp(120).await;
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        opts(&net, "edge-a", "subscribe"),
    );
    agent.start();
    wait_state(&agent, wave, "expired").await;
    assert!(net.step_reports("edge-a").await.is_empty());
    assert_eq!(runs(&agent.sandbox(), "s0"), 0);
}

#[tokio::test]
async fn cancel_mid_plan_stops_at_the_next_step_boundary() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("slow.toml");
    std::fs::write(
        &plan,
        r#"name = "slow"
shell_prelude = "set -eu; mkdir -p {{root}}/runs"
[[step]]
name = "s0"
run = { shell = "echo run >> {{root}}/runs/s0" }
[[step]]
name = "s1"
run = { shell = "touch {{root}}/s1-started; while [ ! -f {{root}}/go ]; do sleep 0.05; done; echo run >> {{root}}/runs/s1" }
[[step]]
name = "s2"
run = { shell = "echo run >> {{root}}/runs/s2" }
[[step]]
name = "s3"
run = { shell = "echo run >> {{root}}/runs/s3" }
"#,
    )
    .unwrap();
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        opts(&net, "edge-a", "subscribe"),
    );
    agent.start();
    let wave = net
        .approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    let sandbox = agent.sandbox();
    eventually("s1 running", LIMIT, || async {
        sandbox.join("s1-started").exists().then_some(())
    })
    .await;
    net.cancel("edge-a").await;
    eventually("cancel seen", LIMIT, || async {
        (agent.try_status()?["deployments"][0]["deployment"]["cancel_requested"] == true)
            .then_some(())
    })
    .await;
    std::fs::write(sandbox.join("go"), "").unwrap();
    wait_state(&agent, wave, "cancelled").await;
    assert_eq!(runs(&sandbox, "s1"), 1, "the running step finished");
    assert_eq!(runs(&sandbox, "s2"), 0, "no step after the boundary");
    assert_eq!(runs(&sandbox, "s3"), 0);
    assert_eq!(net.step_reports("edge-a").await, vec![(wave, 0, 1)]);
    assert_eq!(
        net.status("edge-a").await,
        DEGRADED,
        "a started deployment that is cancelled is Degraded"
    );
}

#[tokio::test]
async fn a_failed_step_degrades_and_a_rollback_undoes_in_reverse() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = counting_plan(tmp.path(), 4, Some(2));
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        opts(&net, "edge-a", "subscribe"),
    );
    agent.start();
    let wave = net
        .approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    wait_state(&agent, wave, "failed").await;
    assert_eq!(net.status("edge-a").await, DEGRADED);
    assert_eq!(
        net.step_reports("edge-a").await,
        vec![(wave, 0, 1), (wave, 1, 1), (wave, 2, 2)]
    );
    assert_eq!(runs(&agent.sandbox(), "s3"), 0);
    net.order_rollback("edge-a").await;
    wait_state(&agent, wave, "rolled-back").await;
    assert_eq!(net.status("edge-a").await, ROLLED_BACK);
    assert_eq!(
        net.rollback_reports("edge-a").await,
        vec![(wave, 2, 1), (wave, 1, 1), (wave, 0, 1)]
    );
    for i in 0..3 {
        assert_eq!(runs(&agent.sandbox(), &format!("undo-s{i}")), 1);
    }
    assert_eq!(
        runs(&agent.sandbox(), "undo-s3"),
        0,
        "step 3 never ran, so nothing to undo"
    );
}

#[tokio::test]
async fn sigterm_lets_the_running_step_finish_and_a_restart_reports_it_without_rerunning() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("slow.toml");
    std::fs::write(
        &plan,
        r#"name = "slow"
shell_prelude = "set -eu; mkdir -p {{root}}/runs"
[[step]]
name = "s0"
run = { shell = "touch {{root}}/s0-started; while [ ! -f {{root}}/go ]; do sleep 0.05; done; echo run >> {{root}}/runs/s0" }
[[step]]
name = "s1"
run = { shell = "echo run >> {{root}}/runs/s1" }
"#,
    )
    .unwrap();
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        opts(&net, "edge-a", "subscribe"),
    );
    agent.start();
    let wave = net
        .approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    let sandbox = agent.sandbox();
    eventually("s0 running", LIMIT, || async {
        sandbox.join("s0-started").exists().then_some(())
    })
    .await;
    // Stop while s0 runs; it completes within the grace period (5 s in the test config).
    let (go, child) = (sandbox.join("go"), agent.child.as_ref().unwrap().id());
    // A thread, not a task: the test's runtime thread blocks in wait() below.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        std::fs::write(go, "").unwrap();
    });
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child as i32, libc::SIGTERM);
    }
    let status = agent.child.take().unwrap().wait().unwrap();
    releaser.join().unwrap();
    assert!(status.success(), "graceful stop: {}", agent.logs());
    assert_eq!(
        runs(&sandbox, "s0"),
        1,
        "the running step finished: {}",
        agent.logs()
    );
    let st = agent.status_json();
    assert_eq!(st["deployments"][0]["steps"][0]["finished"], true, "{st}");
    agent.start();
    eventually("site operational", LIMIT, || async {
        (net.status("edge-a").await == OPERATIONAL).then_some(())
    })
    .await;
    assert_eq!(
        net.step_reports("edge-a").await,
        vec![(wave, 0, 1), (wave, 1, 1)]
    );
    assert_eq!(runs(&sandbox, "s0"), 1, "not run again after the restart");
    assert_eq!(runs(&sandbox, "s1"), 1);
}

#[tokio::test]
async fn a_rollback_ordered_mid_step_also_undoes_the_step_the_ledger_never_recorded() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("slow.toml");
    std::fs::write(
        &plan,
        r#"name = "slow"
shell_prelude = "set -eu; mkdir -p {{root}}/runs"
[[step]]
name = "s0"
run = { shell = "echo run >> {{root}}/runs/s0" }
rollback = { shell = "echo undo >> {{root}}/runs/undo-s0" }
[[step]]
name = "s1"
run = { shell = "touch {{root}}/s1-started; while [ ! -f {{root}}/go ]; do sleep 0.05; done; echo run >> {{root}}/runs/s1" }
rollback = { shell = "echo undo >> {{root}}/runs/undo-s1" }
[[step]]
name = "s2"
run = { shell = "echo run >> {{root}}/runs/s2" }
rollback = { shell = "echo undo >> {{root}}/runs/undo-s2" }
"#,
    )
    .unwrap();
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        opts(&net, "edge-a", "subscribe"),
    );
    agent.start();
    let wave = net
        .approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    let sandbox = agent.sandbox();
    eventually("s1 running", LIMIT, || async {
        sandbox.join("s1-started").exists().then_some(())
    })
    .await;
    net.order_rollback("edge-a").await;
    eventually("rollback seen", LIMIT, || async {
        (agent.try_status()?["deployments"][0]["deployment"]["rollback_requested"] == true)
            .then_some(())
    })
    .await;
    std::fs::write(sandbox.join("go"), "").unwrap();
    wait_state(&agent, wave, "rolled-back").await;
    assert_eq!(net.status("edge-a").await, ROLLED_BACK);
    assert_eq!(
        net.step_reports("edge-a").await,
        vec![(wave, 0, 1)],
        "s1's report was refused"
    );
    assert_eq!(net.rollback_reports("edge-a").await, vec![(wave, 0, 1)]);
    assert_eq!(
        runs(&sandbox, "undo-s1"),
        1,
        "the unrecorded step was undone locally"
    );
    assert_eq!(runs(&sandbox, "undo-s0"), 1);
    assert_eq!(runs(&sandbox, "s2"), 0);
    assert_eq!(runs(&sandbox, "undo-s2"), 0);
}

#[tokio::test]
async fn an_approval_reorged_away_before_its_confirmations_is_never_acted_on() {
    let mut net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let plan = counting_plan(tmp.path(), 1, None);
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        AgentOpts {
            extra: "",
            ..opts(&net, "edge-a", "poll")
        },
    );
    let text = std::fs::read_to_string(&agent.config)
        .unwrap()
        .replace("[events]\n", "[events]\nconfirmations = 2\n");
    std::fs::write(&agent.config, text).unwrap();
    agent.start();
    wait_ready(&agent).await;
    net.approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    let replaced = net.gov.get_block_number().await.unwrap();
    net.reorg(1).await;
    net.fresh_gov();
    net.mine(3).await;
    eventually("cursor past the replaced block", LIMIT, || async {
        (agent.try_status()?["cursor"]["number"].as_u64()? >= replaced).then_some(())
    })
    .await;
    assert_eq!(
        agent.status_json()["events_handled"],
        0,
        "the approval was never final"
    );
    assert_eq!(runs(&agent.sandbox(), "s0"), 0);
    // A real approval, once confirmed, runs.
    net.approve(&plan, &["edge-a"], net.open_window().await)
        .await;
    net.mine(2).await;
    eventually("site operational", LIMIT, || async {
        if net.status("edge-a").await != OPERATIONAL {
            // The agent's own report needs confirmations of its own to be seen; keep mining.
            net.mine(1).await;
            return None;
        }
        Some(())
    })
    .await;
    assert_eq!(runs(&agent.sandbox(), "s0"), 1);
}
