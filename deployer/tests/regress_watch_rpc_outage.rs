//! `sankofa watch` keeps polling through an RPC outage (a restarted node, a dropped
//! connection) until its timeout, instead of exiting on the first failed read.

mod common;

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use common::World;

#[test]
fn regress_watch_survives_an_rpc_outage_until_its_timeout() {
    let mut w = World::new();
    w.deploy();
    let child = Command::new(env!("CARGO_BIN_EXE_sankofa"))
        .args([
            "watch",
            "--until-criteria",
            "1",
            "--timeout",
            "12",
            "--interval",
            "0.2",
        ])
        .current_dir(w.dir.path())
        .env("SANKOFA_RPC_URL", w.anvil.endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sankofa watch");
    // Let it connect and poll (well within 4 s, even on a loaded machine), then take the node
    // away: dropping the instance kills anvil and every connection to it.
    std::thread::sleep(Duration::from_secs(4));
    w.anvil = common::anvil();
    let out = child.wait_with_output().expect("watch exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "phase 1 was never met: {stderr}");
    assert!(
        stderr.contains("cannot read the chain") && stderr.contains("timed out after 12s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("has not answered for"),
        "the timeout names the outage: {stderr}"
    );
}
