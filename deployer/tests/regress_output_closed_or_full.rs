//! Output that cannot be written used to panic with a backtrace (exit 101): `sankofa sites list |
//! head -1`, or stdout on a full disk. A closed pipe now ends the process quietly (SIGPIPE, as
//! Unix tools do), and a failed write is one line on stderr with exit code 1.

mod common;

use std::{
    os::unix::process::ExitStatusExt,
    process::{Command, Stdio},
};

use common::World;

fn sites_list(w: &World) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sankofa"));
    c.args(["sites", "list"])
        .current_dir(w.dir.path())
        .env("SANKOFA_RPC_URL", w.anvil.endpoint())
        .stderr(Stdio::piped());
    c
}

#[test]
fn regress_a_closed_pipe_or_a_full_disk_is_not_a_panic() {
    let w = World::new();
    w.deploy();
    let csv = common::root().join("data/sites.csv").display().to_string();
    w.sankofa(&["sites", "import", &csv, "--private-key-file", &w.key(0)])
        .ok();

    // `| head -1` that has already exited: the pipe is closed before the table is printed
    // (the command reads the chain first).
    let mut child = sites_list(&w)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc_sigpipe()),
        "{:?}",
        out.status
    );

    // `> /dev/full`: every write fails with ENOSPC.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = sites_list(&w).stdout(full).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failed printing to stdout"), "{stderr}");
}

/// SIGPIPE's number on Linux.
fn libc_sigpipe() -> i32 {
    13
}
