//! Re-running a command right after killing it, while the killed run's transaction is still in
//! the pool, waits for that transaction instead of reading stale state and sending the same
//! work again (which reverted: "SiteRegistryDuplicateSite").

mod common;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::World;

const SITES: &str = "site,tier,phase,parent,iata,city,country,lat,lon,tz
core-iad,core,1,,IAD,Washington,US,38.947456,-77.459929,America/New_York
core-fra,core,1,,FRA,Frankfurt am Main,DE,50.026400,8.543130,Europe/Berlin
core-sin,core,1,,SIN,Singapore,SG,1.350190,103.994000,Asia/Singapore
";

fn import(w: &World) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sankofa"))
        .args([
            "sites",
            "import",
            "sites.csv",
            "--private-key-file",
            &w.key(0),
        ])
        .current_dir(w.dir.path())
        .env("SANKOFA_RPC_URL", w.anvil.endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sankofa sites import")
}

#[test]
fn regress_rerun_after_kill_waits_for_the_killed_runs_transaction() {
    let w = World::new();
    w.deploy();
    std::fs::write(w.path("sites.csv"), SITES).expect("csv");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(w.rpc("evm_setAutomine", serde_json::json!([false])));

    // The first run sends its batch and is killed while the batch waits in the pool.
    w.kill_once_a_transaction_is_pending(&rt, import(&w));

    // The re-run starts while that batch is still pending; then the batch is mined.
    let second = import(&w);
    std::thread::sleep(Duration::from_secs(2));
    rt.block_on(async {
        w.rpc("evm_setAutomine", serde_json::json!([true])).await;
        w.rpc("evm_mine", serde_json::json!([])).await;
    });
    let out = second.wait_with_output().expect("re-run exits");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "re-run failed: {stderr}");
    assert!(
        stdout.contains("registered 0 in 0 transaction(s), verified 3 already registered"),
        "{stdout}\n{stderr}"
    );
}
