//! The agent as a service: sd_notify (READY, WATCHDOG, STOPPING), metrics and health, and clear
#![allow(clippy::unwrap_used)]
//! fatal errors for bad configs and a wrong chain.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
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

/// A config that parses, with the given `state_dir` and `[signer]` body; the chain is never
/// contacted by check-config.
fn offline_config(dir: &std::path::Path, state_dir: &std::path::Path, signer: &str) -> PathBuf {
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!(
            "state_dir = \"{}\"\n[site]\nname = \"edge-a\"\n[chain]\nchain_id = 31337\n\
             rollout = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\n\
             registry = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\"\n\
             [[rpc]]\nname = \"a\"\nhttp = \"http://127.0.0.1:1\"\n[events]\nmode = \"poll\"\n\
             [signer]\n{signer}",
            state_dir.display()
        ),
    )
    .unwrap();
    path
}

fn agent_cmd(cmd: &str, config: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sankofa-agent"))
        .args([cmd, "--config"])
        .arg(config)
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn regress_check_config_refuses_what_run_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let key = tmp.path().join("agent.json");
    let pw = tmp.path().join("agent.password");
    std::fs::write(&pw, "right horse\n").unwrap();
    sankofa_keys::keystore::create(&key, "right horse".to_owned().into(), None)
        .await
        .unwrap();
    let keystore = |path: &std::path::Path, pw: &std::path::Path| {
        format!(
            "backend = \"keystore\"\npath = \"{}\"\npassword_file = \"{}\"\n",
            path.display(),
            pw.display()
        )
    };

    // The good config passes, says what it did not check, and nothing is created.
    let cfg = offline_config(tmp.path(), &state, &keystore(&key, &pw));
    let (ok, out, err) = agent_cmd("check-config", &cfg);
    assert!(ok, "{out}{err}");
    assert!(out.contains("offline") && out.contains("no RPC"), "{out}");
    assert!(!state.exists());

    let cases: Vec<(String, &str, &str)> = vec![
        (
            keystore(&tmp.path().join("missing.json"), &pw),
            "`signer.path`",
            "missing.json",
        ),
        (
            keystore(&key, &tmp.path().join("missing.pw")),
            "`signer.password_file`",
            "missing.pw",
        ),
        (keystore(&key, &cfg), "`signer`", "wrong password"),
    ];
    for (signer, key_name, detail) in cases {
        let cfg = offline_config(tmp.path(), &state, &signer);
        let (ok, out, err) = agent_cmd("check-config", &cfg);
        assert!(!ok, "{signer}: {out}");
        assert!(
            err.contains("agent.toml") && err.contains(key_name) && err.contains(detail),
            "{signer}: {err}"
        );
    }
    for bad_state in [tmp.path().join("agent.password"), "/proc/sankofa".into()] {
        let cfg = offline_config(tmp.path(), &bad_state, &keystore(&key, &pw));
        let (ok, out, err) = agent_cmd("check-config", &cfg);
        assert!(!ok, "{}: {out}", bad_state.display());
        assert!(
            err.contains("agent.toml") && err.contains("`state_dir`"),
            "{err}"
        );
    }
}

#[test]
fn regress_run_with_state_dir_a_file_names_the_key_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("passwd");
    std::fs::write(&file, "root:x:0:0\n").unwrap();
    let cfg = offline_config(tmp.path(), &file, "backend = \"mockhsm\"\nkey_id = 1\n");
    let (ok, _, err) = agent_cmd("run", &cfg);
    assert!(!ok);
    assert!(
        err.contains("agent.toml")
            && err.contains("`state_dir`")
            && err.contains("is not a directory")
            && !err.contains("os error 17"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "root:x:0:0\n");
}

#[tokio::test]
async fn regress_run_refuses_contract_addresses_without_code_or_mismatched() {
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
    let good = std::fs::read_to_string(&agent.config).unwrap();
    let empty = "0x0000000000000000000000000000000000000001";
    let cases = [
        // No code at the Rollout address: the agent used to idle forever, "ready".
        (
            format!("rollout = \"{}\"", net.rollout),
            format!("rollout = \"{empty}\""),
            "`chain.rollout`",
            "no contract code",
        ),
        (
            format!("registry = \"{}\"", net.registry),
            format!("registry = \"{empty}\""),
            "`chain.registry`",
            "no contract code",
        ),
        // Code, but not the Rollout this registry is bound to.
        (
            format!("rollout = \"{}\"", net.rollout),
            format!("rollout = \"{}\"", net.registry),
            "`chain.rollout`",
            "is not the Rollout of the SiteRegistry",
        ),
    ];
    for (from, to, key, what) in cases {
        assert!(good.contains(&from), "{from}");
        std::fs::write(&agent.config, good.replace(&from, &to)).unwrap();
        let (ok, _, err) = agent_cmd("run", &agent.config);
        assert!(!ok, "{to}: {err}");
        assert!(
            err.contains("agent.toml") && err.contains(key) && err.contains(what),
            "{to}: {err}"
        );
    }
}
