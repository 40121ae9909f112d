//! The committed `abi/` must be exactly what `sankofa compile` makes of `contracts/src`, and forge
//! must produce the same bytecode (foundry's `spec_up_to_date` idea: a drift is a failing test).

use std::{path::PathBuf, process::Command};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `unshare -n` (a network namespace with nothing but loopback) where this machine allows it:
/// compiling must never need the network. Elsewhere the compile runs as it is, and says so.
fn offline(program: &str) -> Command {
    let can = Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if can {
        let mut c = Command::new("unshare");
        c.args(["-n", program]);
        c
    } else {
        eprintln!("unshare -n is not allowed here: compiling with the network present");
        Command::new(program)
    }
}

#[test]
fn abi_artifacts_match_a_fresh_compile() {
    let out = offline(env!("CARGO_BIN_EXE_sankofa"))
        .args(["compile", "--check"])
        .current_dir(root())
        .output()
        .expect("run sankofa compile --check");
    assert!(
        out.status.success(),
        "abi/ drifted from contracts/src:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn forge_build_produces_the_committed_bytecode() {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let status = Command::new(root().join("node_modules/.bin/forge"))
        .args(["build", "--skip", "test", "--skip", "script", "--out"])
        .arg(out_dir.path())
        .args(["--cache-path"])
        .arg(out_dir.path().join("cache"))
        .current_dir(root())
        .status()
        .expect("run forge build (scripts/setup installs forge)");
    assert!(status.success(), "forge build failed");

    let mut compared = 0;
    for entry in std::fs::read_dir(root().join("abi/artifacts")).expect("abi/artifacts") {
        let path = entry.expect("dir entry").path();
        let ours: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read artifact"))
                .expect("artifact JSON");
        let name = ours["contractName"].as_str().expect("contractName");
        let source = ours["sourceName"].as_str().expect("sourceName");
        let file = std::path::Path::new(source)
            .file_name()
            .expect("source file name");
        let forge_path = out_dir.path().join(file).join(format!("{name}.json"));
        let theirs: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&forge_path).unwrap_or_else(|e| panic!("{}: {e}", forge_path.display())),
        )
        .expect("forge artifact JSON");
        for key in ["bytecode", "deployedBytecode"] {
            assert_eq!(
                ours[key]["object"], theirs[key]["object"],
                "{key} of {name}: sankofa compile and forge build disagree"
            );
        }
        compared += 1;
    }
    assert!(compared > 0, "no artifacts compared");
}
