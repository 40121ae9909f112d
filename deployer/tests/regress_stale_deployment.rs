//! A deployment file whose contracts are not on the chain it is used against (a restarted
//! devnet, or another network with the same chain id) is refused with the file named, instead
//! of reads returning empty lists ("0 site(s)") or opaque reverts.

mod common;

use common::{World, anvil, run_in};

#[test]
fn regress_stale_deployment_file_is_refused_by_every_reader() {
    let w = World::new();
    w.deploy();
    let file = w.path("deployments/devnet.json");
    assert!(file.exists(), "deploy wrote {}", file.display());

    // Another anvil: same chain id (31337), none of the recorded contracts.
    let other = anvil();
    for args in [
        &["sites", "list"][..],
        &["proposals", "list"][..],
        &["status"][..],
        &["council", "list"][..],
    ] {
        let run = run_in(
            w.dir.path(),
            args,
            &[("SANKOFA_RPC_URL", &other.endpoint())],
        );
        let err = run.fails();
        assert!(
            err.contains("devnet.json")
                && err.contains("does not describe the contracts on this chain")
                && err.contains("no code at"),
            "{args:?}: {err}"
        );
    }

    // The file still works against its own chain.
    w.sankofa(&["sites", "list"]).ok();
}
