//! The shipped plans in `plans/` run for real in a sandbox: every step succeeds, each rollback
#![allow(clippy::unwrap_used)]
//! succeeds in reverse, and the fail-on-purpose flag fails the named step. Timings are printed
//! (113 agents share 2 cores in the demo, so a plan must be cheap), never asserted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::node_bindings::Anvil;
use sankofa_agent::executor::{self, Exit, Job};
use sankofa_agent::plan::{LoadedPlan, Plan, Vars};
use tokio_util::sync::CancellationToken;

fn plans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plans")
}

fn vars(root: &Path, rpc: &str, chain_id: u64, tier: &str) -> Vars {
    let mut v = BTreeMap::new();
    for (k, val) in [
        ("site", "edge-test-01"),
        (
            "site_id",
            "0x656467652d746573742d30310000000000000000000000000000000000000000",
        ),
        ("tier", tier),
        ("region", "test-region"),
        ("parent", "reg-test"),
        ("rpc_url", rpc),
        ("wave", "7"),
        ("plan_hash", "0x00"),
    ] {
        v.insert(k.to_owned(), val.to_owned());
    }
    v.insert("root".into(), root.display().to_string());
    v.insert("chain_id".into(), chain_id.to_string());
    Vars(v)
}

async fn run_step(
    p: &LoadedPlan,
    i: usize,
    rollback: bool,
    root: &Path,
    logs: &Path,
    v: &Vars,
) -> Exit {
    let s = &p.plan.steps[i];
    let cmd = if rollback {
        s.rollback
            .as_ref()
            .expect("every shipped step can be undone")
    } else {
        &s.run
    };
    let resolved = p.plan.resolve(cmd, s, v).unwrap();
    let mut env: BTreeMap<String, String> =
        v.0.iter()
            .map(|(k, val)| (format!("SANKOFA_{}", k.to_ascii_uppercase()), val.clone()))
            .collect();
    env.insert("SANKOFA_STEP_NAME".into(), s.name.clone());
    env.insert(
        "SANKOFA_KIND".into(),
        if rollback { "rollback" } else { "step" }.into(),
    );
    let log = logs.join(format!(
        "{}-{i}-{}.log",
        if rollback { "rb" } else { "step" },
        s.name
    ));
    let job = Job {
        step: &s.name,
        cmd: &resolved,
        cwd: root,
        base_env: &env,
        timeout: s.timeout(),
        retries: 0,
        backoff: Duration::from_millis(10),
        log: &log,
        grace: Duration::from_secs(1),
    };
    let out = executor::run(&job, &CancellationToken::new())
        .await
        .unwrap();
    if out.exit != Exit::Success && !root.join("FAIL_STEP").exists() {
        panic!(
            "{} step {} failed:\n{}",
            p.plan.name,
            s.name,
            std::fs::read_to_string(&log).unwrap()
        );
    }
    out.exit
}

#[tokio::test]
async fn every_shipped_plan_runs_rolls_back_and_fails_on_purpose() {
    let anvil =
        Anvil::at(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/anvil"))
            .spawn();
    let mut files: Vec<_> = std::fs::read_dir(plans_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    assert!(
        files.len() >= 5,
        "core, regional, edge, validator node and read replica plans"
    );
    println!(
        "{:<22} {:>5} {:>10} {:>10}",
        "plan", "steps", "run ms", "undo ms"
    );
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let p = Plan::parse(&file.display().to_string(), &bytes).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let (root, logs) = (tmp.path().join("root"), tmp.path().join("logs"));
        std::fs::create_dir_all(&root).unwrap();
        let v = vars(&root, &anvil.endpoint(), anvil.chain_id(), &p.plan.tier);
        let n = p.plan.steps.len();
        let t = Instant::now();
        for i in 0..n {
            assert_eq!(
                run_step(&p, i, false, &root, &logs, &v).await,
                Exit::Success
            );
        }
        let run_ms = t.elapsed().as_millis();
        assert!(
            root.join("etc").read_dir().unwrap().next().is_some(),
            "{}: rendered nothing",
            p.plan.name
        );
        let t = Instant::now();
        for i in (0..n).rev() {
            assert_eq!(run_step(&p, i, true, &root, &logs, &v).await, Exit::Success);
        }
        let undo_ms = t.elapsed().as_millis();
        println!(
            "{:<22} {:>5} {:>10} {:>10}",
            p.plan.name, n, run_ms, undo_ms
        );
        // The demo's fail flag: the named step fails, the others are unaffected.
        let victim = &p.plan.steps[n - 1].name;
        std::fs::write(root.join("FAIL_STEP"), victim).unwrap();
        assert_eq!(
            run_step(&p, 0, false, &root, &logs, &v).await,
            Exit::Success,
            "{}",
            p.plan.name
        );
        assert!(
            matches!(
                run_step(&p, n - 1, false, &root, &logs, &v).await,
                Exit::Failed(_)
            ),
            "{}",
            p.plan.name
        );
        // Rollbacks ignore the flag (undoing must always be possible).
        assert_eq!(
            run_step(&p, n - 1, true, &root, &logs, &v).await,
            Exit::Success
        );
    }
}
