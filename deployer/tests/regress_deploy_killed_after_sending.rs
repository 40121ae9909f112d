//! `sankofa deploy` killed after sending a contract's creation but before recording it: the
//! re-run adopts that contract instead of deploying a second, orphaned one.

mod common;

use alloy::providers::{Provider, ProviderBuilder};
use common::World;

#[test]
fn regress_deploy_killed_after_sending_adopts_the_contract() {
    let w = World::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The first contract's creation waits in the pool when the run is killed.
    let validator = format!("{}=core-iad", w.address(1));
    w.deploy_killed_after_first_send(
        &rt,
        &[
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
        ],
    );
    assert!(
        w.path("deployments/devnet.in-flight.json").is_file(),
        "the creation was announced before it was sent"
    );
    rt.block_on(async {
        w.rpc("evm_setAutomine", serde_json::json!([true])).await;
        w.rpc("evm_mine", serde_json::json!([])).await;
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
