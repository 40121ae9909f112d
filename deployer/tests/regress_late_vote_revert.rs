//! A transaction that passes gas estimation but is mined after the state moved on (here: a
//! vote mined after the voting deadline) is reported with its decoded reason, not as the
//! unhelpful "out of gas or state changed".

mod common;

use std::{process::Command, time::Duration};

use alloy::providers::{Provider, ProviderBuilder};
use common::World;

#[test]
fn regress_vote_mined_after_the_deadline_names_the_reason() {
    let w = World::new();
    w.deploy();
    let proposed = w.sankofa(&[
        "propose",
        "phase",
        "1",
        "--private-key-file",
        &w.key(1),
        "--json",
    ]);
    let proposed: serde_json::Value = serde_json::from_str(&proposed.ok()).expect("json");
    let id = proposed["proposalId"].as_str().expect("id").to_string();
    // Opens the vote (anvil clock) with a first vote, so the proposal is Active.
    w.sankofa(&[
        "vote",
        &id,
        "--private-key-file",
        &w.key(1),
        "--advance-time",
    ])
    .ok();

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let provider = ProviderBuilder::new().connect_http(w.anvil.endpoint_url());
    rt.block_on(async {
        let _: serde_json::Value = provider
            .raw_request("evm_setAutomine".into(), (false,))
            .await
            .expect("evm_setAutomine");
    });

    // The second vote is estimated while voting is open and waits in the pool...
    let mut vote = Command::new(env!("CARGO_BIN_EXE_sankofa"));
    vote.args(["vote", &id, "--private-key-file", &w.key(2)])
        .current_dir(w.dir.path())
        .env("SANKOFA_RPC_URL", w.anvil.endpoint())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = vote.spawn().expect("spawn sankofa vote");
    rt.block_on(async {
        loop {
            let pool: serde_json::Value = provider
                .raw_request("txpool_status".into(), ())
                .await
                .expect("txpool_status");
            if pool["pending"].as_str().is_some_and(|n| n != "0x0")
                || pool["pending"].as_u64().is_some_and(|n| n > 0)
            {
                break;
            }
            // A vote that fails before sending must fail the test, not hang it.
            if child.try_wait().expect("try_wait").is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // ...and is mined after the voting period (300 s) is over.
        let _: serde_json::Value = provider
            .raw_request("evm_increaseTime".into(), (1_000u64,))
            .await
            .expect("evm_increaseTime");
        let _: serde_json::Value = provider
            .raw_request("evm_mine".into(), ())
            .await
            .expect("evm_mine");
    });
    let out = child.wait_with_output().expect("vote exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the late vote must fail: {stderr}");
    assert!(
        stderr.contains("GovernorUnexpectedProposalState") && stderr.contains("changed"),
        "{stderr}"
    );
    assert!(!stderr.contains("out of gas"), "{stderr}");
}
