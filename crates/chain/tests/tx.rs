//! The transaction sender against a real anvil: nonce management under failures.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use common::*;
use sankofa_chain::testing::{Break, TcpProxy};
use sankofa_chain::{Error, TxConfig, TxSender};

fn calldata(site: u64, seq: u64) -> Bytes {
    let mut d = topic(site).to_vec();
    d.extend_from_slice(&topic(seq).0);
    Bytes::from(d)
}

async fn emitted(
    anvil: &alloy::node_bindings::AnvilInstance,
    emitter: alloy::primitives::Address,
    site: u64,
) -> Vec<u64> {
    let p = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let logs = p
        .get_logs(&filter(emitter, site).from_block(0))
        .await
        .unwrap();
    let mut s: Vec<u64> = logs
        .iter()
        .map(|l| U256::from_be_slice(&l.data().data[32..64]).to::<u64>())
        .collect();
    s.sort();
    s
}

fn cfg(chain_id: u64) -> TxConfig {
    TxConfig {
        receipt_timeout: Duration::from_secs(2),
        poll_interval: Duration::from_millis(50),
        ..TxConfig::new(chain_id)
    }
}

#[tokio::test]
async fn three_concurrent_sends_land_once_when_the_first_broadcast_breaks() {
    for mode in [Break::BeforeForward, Break::AfterForward] {
        let anvil = spawn_anvil(&[]);
        let emitter = deploy_emitter(&anvil).await;
        let proxy = TcpProxy::start(anvil.endpoint_url().socket_addrs(|| None).unwrap()[0])
            .await
            .unwrap();
        let eps = endpoints(&[("proxied", proxy.http_url(), None)]);
        let sender = TxSender::new(
            eps,
            EthereumWallet::from(signer(&anvil, 2)),
            cfg(anvil.chain_id()),
        )
        .await
        .unwrap();
        // The nonce is leased and the tx signed before the broadcast breaks.
        proxy.break_next("eth_sendRawTransaction", 1, mode);
        let (a, b, c) = tokio::join!(
            sender.send(emitter, calldata(9, 1), &()),
            sender.send(emitter, calldata(9, 2), &()),
            sender.send(emitter, calldata(9, 3), &()),
        );
        assert_eq!(proxy.fired(), 1, "{mode:?}: the fault was injected");
        for r in [a, b, c] {
            assert!(r.expect("send").status(), "{mode:?}");
        }
        assert_eq!(
            emitted(&anvil, emitter, 9).await,
            vec![1, 2, 3],
            "{mode:?}: each lands exactly once"
        );
        assert_eq!(
            sender.latest_nonce().await.unwrap(),
            3,
            "{mode:?}: no gap, no extra tx"
        );
    }
}

#[tokio::test]
async fn an_outside_transaction_from_the_same_key_forces_a_resync() {
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    let eps = endpoints(&[("anvil", anvil.endpoint(), None)]);
    let sender = TxSender::new(
        eps,
        EthereumWallet::from(signer(&anvil, 2)),
        cfg(anvil.chain_id()),
    )
    .await
    .unwrap();
    sender.send(emitter, calldata(4, 1), &()).await.unwrap();
    // Someone else uses the key: our local nonce counter is now stale.
    let outside = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer(&anvil, 2)))
        .connect_http(anvil.endpoint_url());
    let tx = TransactionRequest::default()
        .with_to(emitter)
        .with_input(calldata(4, 2));
    outside
        .send_transaction(tx)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    sender
        .send(emitter, calldata(4, 3), &())
        .await
        .expect("resynced send");
    assert_eq!(emitted(&anvil, emitter, 4).await, vec![1, 2, 3]);
}

#[tokio::test]
async fn a_dropped_transaction_is_rebroadcast_after_the_wait_times_out() {
    let anvil = spawn_anvil(&[]);
    let emitter = deploy_emitter(&anvil).await;
    let p = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let _: serde_json::Value = p
        .raw_request("evm_setAutomine".into(), (false,))
        .await
        .unwrap();
    let eps = endpoints(&[("anvil", anvil.endpoint(), None)]);
    let sender = TxSender::new(
        eps,
        EthereumWallet::from(signer(&anvil, 2)),
        cfg(anvil.chain_id()),
    )
    .await
    .unwrap();
    let task = tokio::spawn({
        let s = sender.clone();
        async move { s.send(emitter, calldata(5, 1), &()).await }
    });
    // Wait for it in the pool, drop it, then let blocks be mined again.
    loop {
        let pool: serde_json::Value = p.raw_request("txpool_content".into(), ()).await.unwrap();
        if pool["pending"].as_object().is_some_and(|m| !m.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _: serde_json::Value = p
        .raw_request("anvil_dropAllTransactions".into(), ())
        .await
        .unwrap();
    let _: serde_json::Value = p
        .raw_request("evm_setAutomine".into(), (true,))
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .unwrap()
        .unwrap()
        .expect("rebroadcast lands");
    assert!(r.status());
    assert_eq!(emitted(&anvil, emitter, 5).await, vec![1]);
}

#[tokio::test]
async fn a_chain_id_mismatch_is_fatal_and_clear() {
    let anvil = spawn_anvil(&[]);
    let eps = endpoints(&[("anvil", anvil.endpoint(), None)]);
    let err = TxSender::new(eps, EthereumWallet::from(signer(&anvil, 2)), cfg(4242))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ChainIdMismatch { expected: 4242, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("4242"));
}

/// Each fee mode sends the transaction type it names: legacy at gas price 0 on a free-gas chain
/// (Besu with `zeroBaseFee`; here anvil with a zero base fee), legacy at the node's price, and
/// EIP-1559. The free-gas sender's balance does not move.
#[tokio::test]
async fn fee_modes_send_the_transaction_type_they_name() {
    use alloy::consensus::Transaction as _;
    use alloy::eips::Typed2718 as _;
    use sankofa_chain::FeeMode;
    for (mode, anvil_args, tx_type) in [
        (
            FeeMode::LegacyZero,
            &["--block-base-fee-per-gas", "0"][..],
            0u8,
        ),
        (FeeMode::Legacy, &[][..], 0u8),
        (FeeMode::Eip1559, &[][..], 2u8),
    ] {
        let anvil = spawn_anvil(anvil_args);
        let emitter = deploy_emitter(&anvil).await;
        let key = signer(&anvil, 3);
        let from = key.address();
        let sender = TxSender::new(
            endpoints(&[("anvil", anvil.endpoint(), None)]),
            EthereumWallet::from(key),
            TxConfig {
                fee_mode: mode,
                ..cfg(anvil.chain_id())
            },
        )
        .await
        .unwrap();
        let p = ProviderBuilder::new().connect_http(anvil.endpoint_url());
        let before = p.get_balance(from).await.unwrap();
        let receipt = sender.send(emitter, calldata(4, 1), &()).await.unwrap();
        assert!(receipt.status(), "{mode:?}");
        let tx = p
            .get_transaction_by_hash(receipt.transaction_hash)
            .await
            .unwrap()
            .expect("the transaction");
        assert_eq!(tx.inner.ty(), tx_type, "{mode:?}");
        let after = p.get_balance(from).await.unwrap();
        if mode == FeeMode::LegacyZero {
            assert_eq!(tx.inner.gas_price(), Some(0), "free gas");
            assert_eq!(after, before, "free gas costs nothing");
        } else {
            assert!(after < before, "{mode:?}: gas was paid");
        }
        assert_eq!(emitted(&anvil, emitter, 4).await, vec![1], "{mode:?}");
    }
}
