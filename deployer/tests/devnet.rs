//! `sankofa devnet`: prints its endpoints as JSON, writes dev key files, and keeps the chain
//! across restarts with `--state` (anvil dumps on SIGTERM, which devnet forwards).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use alloy::providers::{Provider, ProviderBuilder};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn start(dir: &std::path::Path, port: u16) -> (Child, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sankofa"))
        .args([
            "devnet",
            "--port",
            &port.to_string(),
            "--json",
            "--state",
            "state.json",
            "--keys-dir",
            "keys",
        ])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn devnet");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    (child, serde_json::from_str(&line).expect("one JSON line"))
}

fn stop(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "devnet exits cleanly on SIGTERM: {exit:?}");
}

#[tokio::test]
async fn devnet_prints_endpoints_and_keeps_state_across_restarts() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let (child, info) = start(dir.path(), port);
    assert_eq!(info["chainId"], 31337);
    assert_eq!(info["http"], format!("http://127.0.0.1:{port}"));
    assert_eq!(info["accounts"].as_array().expect("accounts").len(), 10);
    let key = std::fs::read_to_string(dir.path().join("keys/0.key")).expect("key file");
    let signer: alloy::signers::local::PrivateKeySigner = key.trim().parse().expect("hex key");
    assert_eq!(
        signer.address().to_checksum(None),
        info["accounts"][0].as_str().expect("addr")
    );

    let provider = ProviderBuilder::new()
        .connect_http(info["http"].as_str().expect("url").parse().expect("url"));
    for _ in 0..3 {
        let _: serde_json::Value = provider
            .raw_request("evm_mine".into(), ())
            .await
            .expect("mine");
    }
    assert_eq!(provider.get_block_number().await.expect("block"), 3);
    stop(child);
    assert!(
        dir.path().join("state.json").is_file(),
        "state dumped on exit"
    );

    let (child, _) = start(dir.path(), port);
    let provider = ProviderBuilder::new()
        .connect_http(format!("http://127.0.0.1:{port}").parse().expect("url"));
    assert_eq!(
        provider.get_block_number().await.expect("block"),
        3,
        "the chain survived the restart"
    );
    stop(child);
}

alloy::sol! {
    #[sol(rpc)]
    interface IValidatorSet {
        function getValidators() external view returns (address[] memory);
    }
}

#[tokio::test]
async fn devnet_boots_a_besu_genesis_with_init() {
    let dir = tempfile::tempdir().expect("tmp");
    let validator: alloy::primitives::Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        .parse()
        .expect("address");
    let v = format!("{validator}=core-iad");
    let out = Command::new(env!("CARGO_BIN_EXE_sankofa"))
        .args([
            "genesis",
            "besu",
            "--chain-id",
            "2025",
            "--validator",
            &v,
            "--governance",
        ])
        .arg(validator.to_string())
        .args(["-o", "genesis.json"])
        .current_dir(dir.path())
        .output()
        .expect("genesis");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sankofa"))
        .args([
            "devnet",
            "--port",
            &port.to_string(),
            "--json",
            "--init",
            "genesis.json",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn devnet");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let info: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert_eq!(info["chainId"], 2025, "the genesis decides the chain id");
    let provider = ProviderBuilder::new()
        .connect_http(info["http"].as_str().expect("url").parse().expect("url"));
    let vset = IValidatorSet::new(
        "0x0000000000000000000000000000000000008888"
            .parse()
            .expect("address"),
        &provider,
    );
    assert_eq!(
        vset.getValidators().call().await.expect("getValidators"),
        vec![validator]
    );
    stop(child);
}

/// `kill -9` of the anvil under `sankofa devnet` used to leave the wrapper running as if the
/// chain were alive; now it exits non-zero and says the chain is gone.
#[test]
fn regress_devnet_exits_when_its_anvil_dies() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut child, endpoints) = start(dir.path(), free_port());
    let anvil_pid = Command::new("pgrep")
        .args(["-P", &child.id().to_string(), "anvil"])
        .output()
        .expect("pgrep");
    let anvil_pid = String::from_utf8_lossy(&anvil_pid.stdout)
        .trim()
        .to_string();
    assert!(!anvil_pid.is_empty(), "no anvil under devnet: {endpoints}");
    assert!(
        Command::new("kill")
            .args(["-KILL", &anvil_pid])
            .status()
            .expect("kill")
            .success()
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "devnet kept running without its anvil"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(!status.success(), "{status:?}");
}
