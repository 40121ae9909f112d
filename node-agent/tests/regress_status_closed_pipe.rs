//! `sankofa-agent status | head` used to panic ("failed printing to stdout: Broken pipe") when
//! the reader had gone; the one-shot commands now end quietly on SIGPIPE, as Unix tools do.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    os::unix::process::ExitStatusExt,
    process::{Command, Stdio},
    time::Duration,
};

use common::*;

#[tokio::test]
async fn regress_status_into_a_closed_pipe_is_not_a_panic() {
    let net = Net::start(&["edge-a"]).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut agent = Agent::new(
        &tmp.path().join("a"),
        &net,
        AgentOpts::direct(&net, "edge-a", "subscribe"),
    );
    agent.start();
    eventually("the agent ready", Duration::from_secs(60), || async {
        (agent.count_logs("ready") > 0).then_some(())
    })
    .await;

    // The reader is gone before the command prints.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sankofa-agent"))
        .args(["status", "--config"])
        .arg(&agent.config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(13), "{:?}: {stderr}", out.status);
    let stopped = agent.sigterm();
    assert!(stopped.success(), "{stopped:?}: {}", agent.logs());
}
