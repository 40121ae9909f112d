//! Shared fixtures: anvil, a hand-written log emitter contract, helpers.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use sankofa_chain::{Endpoint, Endpoints, StreamEvent};
use tokio::sync::mpsc;

/// Runtime: copy calldata to memory; LOG2(mem[0..cds], topic0 = 1, topic1 = calldata[0..32]).
/// Init code: return the 16-byte runtime that follows it at offset 0x0c.
pub const EMITTER_INITCODE: &str = "6010600c60003960106000f33660006000376000356001366000a200";

pub fn anvil_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/anvil")
}

pub fn spawn_anvil(extra: &[&str]) -> AnvilInstance {
    Anvil::at(anvil_bin()).args(extra.iter().copied()).spawn()
}

pub fn signer(anvil: &AnvilInstance, i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from(anvil.keys()[i].clone())
}

pub fn endpoints(list: &[(&str, String, Option<String>)]) -> Arc<Endpoints> {
    let eps = list
        .iter()
        .map(|(n, h, w)| Endpoint::parse(n, h, w.as_deref()).expect("endpoint"))
        .collect();
    Arc::new(
        Endpoints::new(eps, Duration::from_secs(5), Duration::from_secs(3600)).expect("endpoints"),
    )
}

pub async fn deploy_emitter(anvil: &AnvilInstance) -> Address {
    let p = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer(anvil, 0)))
        .connect_http(anvil.endpoint_url());
    let tx = TransactionRequest::default()
        .with_deploy_code(Bytes::from(alloy::hex::decode(EMITTER_INITCODE).unwrap()));
    let r = p
        .send_transaction(tx)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    r.contract_address.expect("deployed")
}

pub fn topic(n: u64) -> B256 {
    B256::from(U256::from(n))
}

/// Emits one log with topic1 = `topic(site)` and data = `seq` (as a second word).
pub async fn emit(anvil: &AnvilInstance, emitter: Address, site: u64, seq: u64) -> u64 {
    let p = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer(anvil, 1)))
        .connect_http(anvil.endpoint_url());
    let mut data = topic(site).to_vec();
    data.extend_from_slice(&topic(seq).0);
    let tx = TransactionRequest::default()
        .with_to(emitter)
        .with_input(Bytes::from(data));
    let r = p
        .send_transaction(tx)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(r.status());
    r.block_number.unwrap()
}

pub fn filter(emitter: Address, site: u64) -> Filter {
    Filter::new().address(emitter).topic1(topic(site))
}

/// The `seq` of a delivered log.
pub fn seq_of(ev: &StreamEvent) -> Option<u64> {
    match ev {
        StreamEvent::Log(l) => Some(U256::from_be_slice(&l.data().data[32..64]).to::<u64>()),
        _ => None,
    }
}

/// Collects events until `n` logs arrived (and the checkpoint after the last one).
pub async fn collect_logs(rx: &mut mpsc::Receiver<StreamEvent>, n: usize) -> Vec<StreamEvent> {
    let mut out = Vec::new();
    let mut logs = 0;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("stream stalled")
            .expect("stream ended");
        let is_checkpoint = matches!(ev, StreamEvent::Checkpoint { .. });
        if matches!(ev, StreamEvent::Log(_)) {
            logs += 1;
        }
        out.push(ev);
        if logs >= n && is_checkpoint {
            return out;
        }
    }
}

pub fn seqs(evs: &[StreamEvent]) -> Vec<u64> {
    evs.iter().filter_map(seq_of).collect()
}

pub async fn reorg(anvil: &AnvilInstance, depth: u64) {
    let p = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let _: serde_json::Value = p
        .raw_request(
            "anvil_reorg".into(),
            serde_json::json!({ "depth": depth, "tx_block_pairs": [] }),
        )
        .await
        .expect("anvil_reorg");
}

pub async fn mine(anvil: &AnvilInstance, blocks: u64) {
    let p = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let _: serde_json::Value = p
        .raw_request("anvil_mine".into(), (U256::from(blocks),))
        .await
        .expect("anvil_mine");
}
