//! End-to-end tests of Sankofa live in `tests/tests/`: they run the real binaries (`sankofa`,
//! `sankofa-agent`) and the README's main job (`scripts/demo`) against a real anvil, and assert on
//! chain state and on the auditor's verdict, never on printed text. This library part only finds
//! the checkout and the debug binaries that `cargo build --workspace` (scripts/test) produced.

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A workspace binary from the debug build (`sankofa`, `sankofa-agent`).
pub fn binary(name: &str) -> PathBuf {
    let path = repo_root().join("target/debug").join(name);
    assert!(
        path.exists(),
        "{} missing: build the workspace first (scripts/test does: cargo build --workspace)",
        path.display()
    );
    path
}
