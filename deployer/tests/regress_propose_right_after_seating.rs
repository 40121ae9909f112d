//! A council member who proposes in the same second the chain seated them (`deploy`, then
//! `propose` at once, on anvil's automine) used to get `GovernorInsufficientProposerVotes`: the
//! Governor counts votes at `clock() - 1`, and the propose block shared the seating block's
//! timestamp. `propose` now waits for the chain's clock to pass the checkpoint.

mod common;

use alloy::providers::{Provider, ProviderBuilder};
use common::World;

#[test]
fn regress_propose_in_the_second_of_seating_waits_for_the_clock() {
    let w = World::new();
    w.deploy();

    // Pin the chain's clock to the seating block's second, so the next block shares it
    // (what a fast machine does by chance); the clock moves on by itself a second later.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let provider = ProviderBuilder::new().connect_http(w.anvil.endpoint_url());
    rt.block_on(async {
        let latest = provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .expect("latest block")
            .expect("a latest block");
        let _: serde_json::Value = provider
            .raw_request("evm_setTime".into(), (latest.header.timestamp,))
            .await
            .expect("evm_setTime");
    });

    let proposed = w.sankofa(&[
        "propose",
        "phase",
        "1",
        "--private-key-file",
        &w.key(1),
        "--json",
    ]);
    let proposed: serde_json::Value = serde_json::from_str(&proposed.ok()).expect("json");
    assert_eq!(proposed["created"], true, "{proposed}");
    assert_eq!(proposed["state"], "Pending", "{proposed}");
}
