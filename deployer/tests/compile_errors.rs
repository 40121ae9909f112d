//! `sankofa compile` on a broken toolchain or broken sources: one message that names what is
//! wrong and what to do, and `abi/` untouched. Each case runs in a scratch copy of the checkout
//! (the real node_modules linked in where the case needs it).

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A checkout with what `compile` reads: foundry.toml, package.json, the solc shim, the sources
/// and the committed artifacts. `node_modules` is left to each case.
fn scratch_checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = root();
    for file in ["foundry.toml", "package.json"] {
        std::fs::copy(r.join(file), dir.path().join(file)).expect("copy");
    }
    std::fs::create_dir_all(dir.path().join("scripts")).expect("scripts dir");
    std::fs::copy(r.join("scripts/solc"), dir.path().join("scripts/solc")).expect("copy shim");
    copy_dir(&r.join("contracts/src"), &dir.path().join("contracts/src"));
    copy_dir(&r.join("abi/artifacts"), &dir.path().join("abi/artifacts"));
    dir
}

fn compile(checkout: &Path, path_env: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sankofa"));
    c.arg("compile").arg("--root").arg(checkout);
    if let Some(path) = path_env {
        c.env("PATH", path);
    }
    c.output().expect("run sankofa compile")
}

fn stderr_of(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "compile should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn artifacts(checkout: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(checkout.join("abi/artifacts"))
        .expect("abi/artifacts")
        .map(|e| {
            let e = e.expect("dir entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read artifact"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_missing_node_is_named_with_the_fix() {
    let checkout = scratch_checkout();
    let err = stderr_of(&compile(checkout.path(), Some("/nonexistent")));
    assert!(
        err.contains("`node` is not on PATH") && err.contains("apt-get install nodejs"),
        "{err}"
    );
}

#[test]
fn a_missing_compiler_is_named_with_the_fix() {
    let checkout = scratch_checkout();
    std::fs::create_dir_all(checkout.path().join("node_modules")).expect("node_modules");
    let err = stderr_of(&compile(checkout.path(), None));
    assert!(
        err.contains("is not installed") && err.contains("run scripts/setup"),
        "{err}"
    );
}

#[test]
fn a_wrong_compiler_version_is_named_with_both_versions() {
    let checkout = scratch_checkout();
    let solc = checkout.path().join("node_modules/solc");
    std::fs::create_dir_all(&solc).expect("solc dir");
    std::fs::write(
        solc.join("package.json"),
        r#"{"name": "solc", "version": "0.8.1"}"#,
    )
    .expect("write package.json");
    let pinned: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("package.json")).expect("package.json"))
            .expect("package.json is JSON");
    let pinned = pinned["dependencies"]["solc"].as_str().expect("solc pin");
    let err = stderr_of(&compile(checkout.path(), None));
    assert!(
        err.contains("solc-js 0.8.1") && err.contains(&format!("pins {pinned}")),
        "{err}"
    );
}

#[test]
fn a_compile_error_names_the_source_and_leaves_abi_untouched() {
    let checkout = scratch_checkout();
    std::os::unix::fs::symlink(
        root()
            .join("node_modules")
            .canonicalize()
            .expect("node_modules (scripts/setup)"),
        checkout.path().join("node_modules"),
    )
    .expect("link node_modules");
    let before = artifacts(checkout.path());
    let source = checkout.path().join("contracts/src/ValidatorSet.sol");
    let mut text = std::fs::read_to_string(&source).expect("read source");
    text.push_str("\ncontract Broken { function f() external { undeclared = 1; } }\n");
    std::fs::write(&source, text).expect("write source");

    let err = stderr_of(&compile(checkout.path(), None));
    assert!(
        err.contains("contracts/src does not compile")
            && err.contains("ValidatorSet.sol")
            && err.contains("undeclared"),
        "{err}"
    );
    assert_eq!(
        artifacts(checkout.path()),
        before,
        "a failed compile changed abi/artifacts"
    );
}
