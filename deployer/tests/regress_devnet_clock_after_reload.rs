//! A devnet reloaded from its state dump continues its clock from the last block. Anvil drops
//! the offset that `--advance-time` adds, so without care the reloaded chain mined blocks older
//! than its last one, and queued proposals turned Pending again.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use alloy::providers::{Provider, ProviderBuilder};

/// Starts `sankofa devnet` with `args` and returns it with its HTTP endpoint.
fn devnet(args: &[&str]) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sankofa"))
        .args(["devnet", "--json", "--port", &port.to_string()])
        .args(args)
        .current_dir(common::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sankofa devnet");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("endpoints line");
    let endpoints: serde_json::Value = serde_json::from_str(&line).expect("endpoints JSON");
    let http = endpoints["http"].as_str().expect("http").to_string();
    (child, http)
}

fn stop(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    child.wait().expect("devnet exits");
}

async fn latest_timestamp(url: &str) -> u64 {
    let provider = ProviderBuilder::new().connect_http(url.parse().expect("url"));
    provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .expect("latest")
        .expect("a block")
        .header
        .timestamp
}

async fn rpc(url: &str, method: &'static str, params: serde_json::Value) {
    let provider = ProviderBuilder::new().connect_http(url.parse().expect("url"));
    let _: serde_json::Value = provider
        .raw_request(method.into(), params)
        .await
        .expect(method);
}

#[test]
fn regress_reloaded_devnet_does_not_go_back_in_time() {
    let dir = tempfile::tempdir().expect("tmp");
    let dump = dir.path().join("state.json");
    let dump_arg = dump.to_str().expect("utf-8 path");
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    let (first, url) = devnet(&["--dump-state", dump_arg]);
    let before = rt.block_on(async {
        rpc(&url, "evm_increaseTime", serde_json::json!([100_000])).await;
        rpc(&url, "evm_mine", serde_json::json!([])).await;
        latest_timestamp(&url).await
    });
    stop(first);
    assert!(dump.is_file(), "the devnet dumped its state");

    let (second, url) = devnet(&["--load-state", dump_arg]);
    let after = rt.block_on(async {
        rpc(&url, "evm_mine", serde_json::json!([])).await;
        latest_timestamp(&url).await
    });
    stop(second);
    assert!(
        after > before,
        "the first block after the reload ({after}) is not later than the last one before it ({before})"
    );
}
