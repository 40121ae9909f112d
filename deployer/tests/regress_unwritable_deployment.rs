//! `sankofa deploy` with a deployment path it cannot write fails before the first transaction,
//! so no contract is left on chain without a record of where it is.

mod common;

use alloy::providers::{Provider, ProviderBuilder};
use common::World;

#[test]
fn regress_unwritable_deployment_path_sends_nothing() {
    let w = World::new();
    // A regular file where a directory is needed: unwritable even for root.
    std::fs::write(w.path("not-a-dir"), "x").expect("write");
    let path = w.path("not-a-dir/devnet.json");
    let validator = format!("{}=core-iad", w.address(1));
    let run = w.sankofa(&[
        "deploy",
        "--deployment",
        path.to_str().expect("utf-8 path"),
        "--private-key-file",
        &w.key(0),
        "--validator",
        &validator,
        "--council",
        &w.address(1),
    ]);
    let err = run.fails();
    assert!(
        err.contains("not-a-dir/devnet.json") && err.contains("nothing was sent"),
        "{err}"
    );

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let nonce = rt.block_on(async {
        let provider = ProviderBuilder::new().connect_http(w.anvil.endpoint_url());
        provider
            .get_transaction_count(w.anvil.addresses()[0])
            .await
            .expect("nonce")
    });
    assert_eq!(
        nonce, 0,
        "a transaction was sent before the path was checked"
    );
}
