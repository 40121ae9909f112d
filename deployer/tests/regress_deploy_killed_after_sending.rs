//! `sankofa deploy` killed after sending a contract's creation but before recording it: the
//! re-run adopts that contract instead of deploying a second, orphaned one.

mod common;

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use alloy::providers::{Provider, ProviderBuilder};
use common::World;

async fn rpc(w: &World, method: &'static str, params: serde_json::Value) -> serde_json::Value {
    ProviderBuilder::new()
        .connect_http(w.anvil.endpoint_url())
        .raw_request(method.into(), params)
        .await
        .expect(method)
}

#[test]
fn regress_deploy_killed_after_sending_adopts_the_contract() {
    let w = World::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(rpc(&w, "evm_setAutomine", serde_json::json!([false])));

    // The first contract's creation waits in the pool when the run is killed.
    let validator = format!("{}=core-iad", w.address(1));
    let mut first = Command::new(env!("CARGO_BIN_EXE_sankofa"))
        .args([
            "deploy",
            "--private-key-file",
            &w.key(0),
            "--validator",
            &validator,
            "--council",
            &w.address(1),
            "--council",
            &w.address(2),
            "--min-delay",
            "60",
            "--voting-delay",
            "1",
            "--voting-period",
            "300",
        ])
        .current_dir(w.dir.path())
        .env("SANKOFA_RPC_URL", w.anvil.endpoint())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sankofa deploy");
    rt.block_on(async {
        loop {
            let pool = rpc(&w, "txpool_status", serde_json::json!([])).await;
            if pool["pending"] != "0x0" && pool["pending"] != 0 {
                break;
            }
            assert!(
                first.try_wait().expect("try_wait").is_none(),
                "deploy ended before sending anything"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    first.kill().expect("kill -9");
    first.wait().expect("reaped");
    assert!(
        w.path("deployments/devnet.in-flight.json").is_file(),
        "the creation was announced before it was sent"
    );
    rt.block_on(async {
        rpc(&w, "evm_setAutomine", serde_json::json!([true])).await;
        rpc(&w, "evm_mine", serde_json::json!([])).await;
    });

    let out = w.deploy().ok();
    assert!(
        out.contains("TimelockController (sent by an interrupted run, adopted)"),
        "{out}"
    );
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(w.path("deployments/devnet.json")).expect("deployment"),
    )
    .expect("json");
    let deployer = w.anvil.addresses()[0];
    let recorded = |name: &str| {
        file["contracts"][name]["address"]
            .as_str()
            .expect(name)
            .parse::<alloy::primitives::Address>()
            .expect("address")
    };
    // Nonce 0 is the killed run's timelock; nothing was created twice.
    assert_eq!(recorded("TimelockController"), deployer.create(0));
    assert_eq!(recorded("Council"), deployer.create(1));
    assert!(
        file["contracts"]["TimelockController"]["tx"].is_string(),
        "{file}"
    );
    assert!(!w.path("deployments/devnet.in-flight.json").exists());
    let nonce = rt.block_on(async {
        ProviderBuilder::new()
            .connect_http(w.anvil.endpoint_url())
            .get_transaction_count(deployer)
            .await
            .expect("nonce")
    });
    // 6 creations + initRollout + 3 role grants + the admin renouncement.
    assert_eq!(nonce, 11, "an extra transaction was sent");
}
