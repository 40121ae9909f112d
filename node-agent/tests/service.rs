//! The agent as a service: sd_notify (READY, WATCHDOG, STOPPING), metrics and health, and clear
#![allow(clippy::unwrap_used)]
//! fatal errors for bad configs and a wrong chain.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http_get(port: u16, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn notifies_systemd_and_serves_metrics_and_health() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let extra = format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n");
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        AgentOpts {
            site: "edge-a",
            key_index: 0,
            http: net.anvil.endpoint(),
            ws: Some(net.anvil.ws_endpoint()),
            mode: "subscribe",
            extra: &extra,
        },
    );
    let sock_path = tmp.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    agent.start_with_env(&[
        ("NOTIFY_SOCKET", sock_path.display().to_string()),
        ("WATCHDOG_USEC", "1000000".into()),
    ]);
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while !(seen.iter().any(|m: &String| m.contains("READY=1"))
        && seen.iter().filter(|m| m.as_str() == "WATCHDOG=1").count() >= 2)
    {
        let n = sock.recv(&mut buf).expect("a notification");
        seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let metrics = eventually("metrics served", Duration::from_secs(30), || async {
        let m = http_get(port, "/metrics").await;
        m.contains("sankofa_agent_ready{site=\"edge-a\"} 1")
            .then_some(m)
    })
    .await;
    assert!(
        metrics.contains("sankofa_agent_lag_blocks{site=\"edge-a\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sankofa_agent_signatures_total{site=\"edge-a\",outcome=\"new\"} 0"),
        "{metrics}"
    );
    assert!(http_get(port, "/health").await.starts_with("HTTP/1.1 200"));
    // A figure, not an assertion: the idle agent's resident memory (113 share a host in the demo).
    let pid = agent.child.as_ref().unwrap().id();
    let st = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss: Vec<&str> = st
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("RssAnon") || l.starts_with("RssFile"))
        .collect();
    println!(
        "idle agent (debug build, subscribe mode): {}",
        rss.join(", ").replace('\t', " ")
    );
    let status = agent.sigterm();
    assert!(status.success());
    loop {
        let n = sock.recv(&mut buf).expect("STOPPING=1");
        if &buf[..n] == b"STOPPING=1" {
            break;
        }
    }
}

#[test]
fn a_bad_config_names_the_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("agent.toml");
    std::fs::write(
        &path,
        "state_dir = \"/var/lib/x\"\n[site]\nname = \"edge-a\"\n[chain]\nchain_id = 1\nrollout = \"0x01\"\nregistry = \"0x02\"\n[[rpc]]\nname = \"a\"\nhttp = \"http://127.0.0.1:1\"\n[signer]\nbackend = \"keystore\"\npath = \"/k\"\npassword_file = \"/p\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sankofa-agent"))
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("agent.toml") && err.contains("chain.rollout"),
        "{err}"
    );
}

#[tokio::test]
async fn a_chain_id_mismatch_stops_the_agent_with_a_clear_error() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        AgentOpts {
            site: "edge-a",
            key_index: 0,
            http: net.anvil.endpoint(),
            ws: None,
            mode: "poll",
            extra: "",
        },
    );
    let text = std::fs::read_to_string(&agent.config).unwrap().replace(
        &format!("chain_id = {}", net.anvil.chain_id()),
        "chain_id = 999",
    );
    std::fs::write(&agent.config, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sankofa-agent"))
        .args(["run", "--config"])
        .arg(&agent.config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("chain id mismatch") && err.contains("999"),
        "{err}"
    );
}
