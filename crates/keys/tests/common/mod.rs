//! Shared fixtures of the integration tests: anvil, and the checks every backend must pass.

#![allow(dead_code, unreachable_pub)]

use alloy::{
    consensus::{SignableTransaction, TxEnvelope, TxLegacy},
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, TransactionBuilder, TxSigner},
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, B256, TxKind, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::{Signer, local::PrivateKeySigner},
};
use sankofa_keys::AnySigner;

pub mod softhsm;

/// n/2 for secp256k1: a low-s signature has s <= this.
pub const SECP256K1_HALF_ORDER: U256 = U256::from_be_bytes([
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// Starts the repository's pinned anvil (node_modules/.bin/anvil).
pub fn anvil() -> AnvilInstance {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../node_modules/.bin/anvil");
    assert!(
        std::path::Path::new(path).exists(),
        "{path} is missing: run `npm ci` at the repository root"
    );
    Anvil::at(path).spawn()
}

/// Signs `count` distinct digests; every signature must be low-s and recover to the address.
/// Returns how many signatures were checked.
pub async fn assert_signatures_low_s_and_recover(signer: &AnySigner, count: u32) -> u32 {
    let address = signer.address();
    for i in 0..count {
        let hash: B256 = keccak256(format!("sankofa signature {i}"));
        let sig = signer.sign_hash(&hash).await.expect("device signs");
        assert!(
            sig.s() <= SECP256K1_HALF_ORDER,
            "signature {i} is high-s: {sig:?}"
        );
        assert_eq!(
            sig.recover_address_from_prehash(&hash).expect("recovers"),
            address,
            "signature {i} recovers to another address"
        );
    }
    count
}

/// Funds `signer` from anvil's first account, then sends a value transfer signed by `signer`
/// and checks that anvil mined it and attributes it to the signer's address.
pub async fn assert_anvil_accepts_tx(anvil: &AnvilInstance, signer: AnySigner) {
    let url = anvil.endpoint_url();
    let funder = PrivateKeySigner::from(anvil.keys()[0].clone());
    let funding = ProviderBuilder::new()
        .wallet(EthereumWallet::from(funder))
        .connect_http(url.clone());
    let from = signer.address();
    let receipt = funding
        .send_transaction(
            TransactionRequest::default()
                .with_to(from)
                .with_value(U256::from(10u128.pow(18))),
        )
        .await
        .expect("funding sent")
        .get_receipt()
        .await
        .expect("funding mined");
    assert!(receipt.status());

    let to = Address::repeat_byte(0x35);
    let before = funding.get_balance(to).await.expect("balance");

    // A legacy EIP-155 transaction, signed by hand and sent raw: anvil checks v = 2·chain_id + 35/36.
    let mut legacy = TxLegacy {
        chain_id: Some(anvil.chain_id()),
        nonce: funding.get_transaction_count(from).await.expect("nonce"),
        gas_price: funding.get_gas_price().await.expect("gas price"),
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value: U256::from(1u64),
        input: Default::default(),
    };
    let sig = TxSigner::sign_transaction(&signer, &mut legacy)
        .await
        .expect("HSM signs");
    let raw = TxEnvelope::from(legacy.into_signed(sig)).encoded_2718();
    let receipt = funding
        .send_raw_transaction(&raw)
        .await
        .expect("EIP-155 transaction accepted by anvil")
        .get_receipt()
        .await
        .expect("EIP-155 transaction mined");
    assert!(receipt.status() && receipt.from == from, "{receipt:?}");

    // And an EIP-1559 transaction through alloy's wallet filler, as the agent sends them.
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url);
    let receipt = provider
        .send_transaction(
            TransactionRequest::default()
                .with_to(to)
                .with_value(U256::from(12345u64)),
        )
        .await
        .expect("HSM-signed transaction accepted by anvil")
        .get_receipt()
        .await
        .expect("HSM-signed transaction mined");
    assert!(receipt.status(), "transaction reverted: {receipt:?}");
    assert_eq!(receipt.from, from, "anvil recovered another sender");
    let after = funding.get_balance(to).await.expect("balance");
    assert_eq!(after - before, U256::from(12346u64));
}
