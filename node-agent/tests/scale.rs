//! A benchmark, not a test of correctness: N agents (default 20, `SANKOFA_SCALE_AGENTS`) run the
//! shipped edge plan against one anvil, as the demo does with 113. Prints time to all
//! Operational and memory figures. Run with `cargo test -p sankofa-agent --test scale -- --ignored --nocapture`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;

#[tokio::test]
#[ignore = "benchmark: run explicitly"]
async fn many_agents_run_the_edge_plan() {
    let n: usize = std::env::var("SANKOFA_SCALE_AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let names: Vec<String> = (0..n).map(|i| format!("edge-{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let accounts = (n + 10).to_string();
    let net = Net::start_with(&refs, &["--accounts", &accounts]).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut agents = Vec::new();
    let t0 = Instant::now();
    for (i, name) in names.iter().enumerate() {
        let site: &'static str = Box::leak(name.clone().into_boxed_str());
        let mut a = Agent::new(
            &tmp.path().join(name),
            &net,
            AgentOpts {
                site,
                key_index: i,
                http: net.anvil.endpoint(),
                ws: Some(net.anvil.ws_endpoint()),
                mode: "subscribe",
                extra: "",
            },
        );
        a.start();
        agents.push(a);
    }
    // Wait until every agent is live.
    for a in &agents {
        let log = a.dir.join("agent-1.log");
        eventually("agent ready", Duration::from_secs(300), || async {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("event stream live; ready")
                .then_some(())
        })
        .await;
    }
    let ready = t0.elapsed();
    let plan = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plans/edge.toml");
    let t1 = Instant::now();
    net.approve(&plan, &refs, net.open_window().await).await;
    for name in &names {
        eventually("operational", Duration::from_secs(600), || async {
            (net.status(name).await == 4).then_some(())
        })
        .await;
    }
    let rollout = t1.elapsed();
    let mut anon = 0u64;
    let mut rss = 0u64;
    for a in &agents {
        let pid = a.child.as_ref().unwrap().id();
        let st = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kb = |k: &str| {
            st.lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        anon += kb("RssAnon:");
        rss += kb("VmRSS:");
    }
    println!(
        "agents {n}: all live after {:.1}s; wave of the edge plan (4 steps) operational everywhere after {:.1}s",
        ready.as_secs_f64(),
        rollout.as_secs_f64()
    );
    println!(
        "per agent: VmRSS {} KiB (binary pages shared), RssAnon {} KiB",
        rss / n as u64,
        anon / n as u64
    );
}
