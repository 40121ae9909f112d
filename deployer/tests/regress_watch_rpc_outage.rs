//! `sankofa watch` keeps polling through an RPC outage (a restarted node, a dropped
//! connection) until its timeout, instead of exiting on the first failed read.

mod common;

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
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
    // Wait until it has connected (its first line), however loaded the machine, then take the
    // node away: dropping the instance kills anvil and every connection to it.
    let mut child = child;
    let mut stderr_pipe = BufReader::new(child.stderr.take().expect("stderr piped"));
    let mut first = String::new();
    stderr_pipe
        .read_line(&mut first)
        .expect("read watch's first line");
    assert!(first.starts_with("watching until"), "{first}");
    w.anvil = common::anvil();
    let mut rest = String::new();
    stderr_pipe.read_to_string(&mut rest).expect("read stderr");
    let out = child.wait_with_output().expect("watch exits");
    let stderr = format!("{first}{rest}");
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
