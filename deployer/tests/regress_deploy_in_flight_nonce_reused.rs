//! A deploy announces each creation (sender + nonce address) before sending it, and a re-run
//! adopts the contract found there. If that creation never happened and the nonce went to
//! another contract (another deploy with the same key), the re-run used to adopt the stranger:
//! a TimelockController recorded as something else. Now only the announced transaction's own
//! contract is adopted; anything else is skipped and deployed anew. Zero addresses in the
//! parameters are refused before anything is sent.

mod common;

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::Bytes,
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use common::World;

#[test]
fn regress_a_reused_in_flight_nonce_is_not_adopted() {
    let w = World::new();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let validator = format!("{}=core-iad", w.address(1));
    w.deploy_killed_after_first_send(&rt, &["--validator", &validator]);
    assert!(w.path("deployments/devnet.in-flight.json").is_file());

    // The announced creation is dropped, and nonce 0 creates some other contract.
    let deployer = w.anvil.addresses()[0];
    rt.block_on(async {
        w.rpc("anvil_dropAllTransactions", serde_json::json!([]))
            .await;
        w.rpc("evm_setAutomine", serde_json::json!([true])).await;
        let signer = PrivateKeySigner::from_signing_key(w.anvil.keys()[0].clone().into());
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(w.anvil.endpoint_url());
        // Init code returning the one-byte runtime 0x00.
        let init: Bytes = "0x6001600c60003960016000f300".parse().expect("hex");
        let tx = TransactionRequest::default()
            .with_deploy_code(init)
            .with_nonce(0);
        let receipt = provider
            .send_transaction(tx)
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("receipt");
        assert_eq!(receipt.contract_address, Some(deployer.create(0)));
    });

    // Resumed with the parameters the file recorded.
    let out = w.sankofa(&["deploy", "--private-key-file", &w.key(0)]).ok();
    assert!(!out.contains("adopted"), "{out}");
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(w.path("deployments/devnet.json")).expect("deployment"),
    )
    .expect("json");
    let timelock = file["contracts"]["TimelockController"]["address"]
        .as_str()
        .expect("timelock")
        .parse::<alloy::primitives::Address>()
        .expect("address");
    assert_eq!(
        timelock,
        deployer.create(1),
        "deployed anew at the next nonce"
    );
    // And the deployment works: its contracts answer as what they are.
    w.sankofa(&["council", "list"]).ok();
    w.sankofa(&["validators", "list"]).ok();
}

#[test]
fn regress_zero_addresses_are_refused_before_anything_is_sent() {
    let w = World::new();
    let zero = alloy::primitives::Address::ZERO.to_string();
    let validator = format!("{}=core-iad", w.address(1));
    let zero_validator = format!("{zero}=core-iad");
    for (args, expected) in [
        (
            vec![
                "--validator",
                validator.as_str(),
                "--council",
                zero.as_str(),
            ],
            "--council #1",
        ),
        (
            vec!["--validator", zero_validator.as_str()],
            "--validator #1",
        ),
        (
            vec![
                "--validator",
                validator.as_str(),
                "--guardian",
                zero.as_str(),
            ],
            "--guardian",
        ),
    ] {
        let key = w.key(0);
        let mut all = vec!["deploy", "--private-key-file", key.as_str()];
        all.extend(args);
        let err = w.sankofa(&all).fails();
        assert!(
            err.contains(expected) && err.contains("zero address"),
            "{expected}: {err}"
        );
    }
    let nonce = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            ProviderBuilder::new()
                .connect_http(w.anvil.endpoint_url())
                .get_transaction_count(w.anvil.addresses()[0])
                .await
                .expect("nonce")
        });
    assert_eq!(nonce, 0, "nothing was sent");
    assert!(!w.path("deployments/devnet.json").exists());
}
