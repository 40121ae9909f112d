//! The governed lists, each changed only through a proposal made with `sankofa`: validators
//! (add at a core site, remove, never the last one), agent keys (bind, rotate, revoke) and the
//! council (add, remove). Every change is read back from the chain, and every refusal happens
//! before anything is proposed.

mod common;

use common::World;

fn json_of(run: &common::Run) -> serde_json::Value {
    run.json()
}

/// propose (as member 1) -> vote (members 1 and 2) -> queue -> execute, clock advanced on anvil.
fn enact(w: &World, propose: &[&str]) {
    let mut args = propose.to_vec();
    let k1 = w.key(1);
    args.extend_from_slice(&["--private-key-file", &k1, "--json"]);
    let proposed = json_of(&w.sankofa(&args));
    assert_eq!(proposed["created"], true, "{proposed}");
    let id = proposed["proposalId"].as_str().expect("id").to_string();
    let voters = format!("{},{}", w.key(1), w.key(2));
    w.sankofa(&["vote", &id, "--private-key-file", &voters, "--advance-time"])
        .ok();
    for step in ["queue", "execute"] {
        w.sankofa(&[step, &id, "--private-key-file", &w.key(0), "--advance-time"])
            .ok();
    }
    let shown = json_of(&w.sankofa(&["proposals", "show", &id, "--json"]));
    assert_eq!(shown["state"], "Executed", "{shown}");
}

fn validators(w: &World) -> Vec<(String, String)> {
    json_of(&w.sankofa(&["validators", "list", "--json"]))
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["validator"].as_str().expect("validator").to_lowercase(),
                r["site"].as_str().expect("site").to_string(),
            )
        })
        .collect()
}

fn council(w: &World) -> Vec<String> {
    json_of(&w.sankofa(&["council", "list", "--json"]))
        .as_array()
        .expect("a list")
        .iter()
        .map(|m| m.as_str().expect("address").to_lowercase())
        .collect()
}

fn agent_of(w: &World, site: &str) -> serde_json::Value {
    json_of(&w.sankofa(&["sites", "show", site, "--json"]))["agent"].clone()
}

fn lower(w: &World, i: usize) -> String {
    w.address(i).to_lowercase()
}

#[test]
fn validators_keys_and_council_change_only_through_enacted_proposals() {
    let w = World::new();
    w.deploy();
    let csv = common::root().join("data/sites.csv").display().to_string();
    w.sankofa(&["sites", "import", &csv, "--private-key-file", &w.key(0)])
        .ok();
    let k1 = w.key(1);
    let member = ["--private-key-file", k1.as_str()];

    // Validators: the deployment's one, then one more at a core site, then the first removed.
    assert_eq!(validators(&w), vec![(lower(&w, 1), "core-iad".to_string())]);
    let a3 = w.address(3);
    let err = w
        .sankofa(
            &[
                &["validators", "propose-add", &a3, "--site", "regional-ist"][..],
                &member,
            ]
            .concat(),
        )
        .fails();
    assert!(err.contains("is not a registered core site"), "{err}");
    enact(
        &w,
        &["validators", "propose-add", &a3, "--site", "core-fra"],
    );
    assert_eq!(
        validators(&w),
        vec![
            (lower(&w, 1), "core-iad".to_string()),
            (lower(&w, 3), "core-fra".to_string())
        ]
    );
    let err = w
        .sankofa(
            &[
                &["validators", "propose-add", &a3, "--site", "core-sin"][..],
                &member,
            ]
            .concat(),
        )
        .fails();
    assert!(err.contains("is already a validator"), "{err}");
    enact(&w, &["validators", "propose-remove", &w.address(1)]);
    assert_eq!(validators(&w), vec![(lower(&w, 3), "core-fra".to_string())]);
    let err = w
        .sankofa(&[&["validators", "propose-remove", &a3][..], &member].concat())
        .fails();
    assert!(err.contains("is the last validator"), "{err}");

    // Agent keys: bind, rotate to another key, revoke. The zero address is no key.
    assert!(agent_of(&w, "core-iad").is_null());
    let zero = alloy::primitives::Address::ZERO.to_string();
    let err = w
        .sankofa(
            &[
                &["keys", "bind", "--site", "core-iad", "--key", &zero][..],
                &member,
            ]
            .concat(),
        )
        .fails();
    assert!(err.contains("is the zero address"), "{err}");
    enact(
        &w,
        &["keys", "bind", "--site", "core-iad", "--key", &w.address(5)],
    );
    assert_eq!(
        agent_of(&w, "core-iad").as_str().map(str::to_lowercase),
        Some(lower(&w, 5))
    );
    enact(
        &w,
        &[
            "keys",
            "rotate",
            "--site",
            "core-iad",
            "--key",
            &w.address(6),
        ],
    );
    assert_eq!(
        agent_of(&w, "core-iad").as_str().map(str::to_lowercase),
        Some(lower(&w, 6))
    );
    enact(&w, &["keys", "revoke", "--sites", "core-iad"]);
    assert!(agent_of(&w, "core-iad").is_null());

    // Council: a third member, then the second one removed.
    assert_eq!(council(&w), vec![lower(&w, 1), lower(&w, 2)]);
    enact(&w, &["council", "propose-add", &w.address(3)]);
    assert_eq!(council(&w), vec![lower(&w, 1), lower(&w, 2), lower(&w, 3)]);
    let err = w
        .sankofa(&[&["council", "propose-add", &w.address(3)][..], &member].concat())
        .fails();
    assert!(err.contains("is already a council member"), "{err}");
    let err = w
        .sankofa(&[&["council", "propose-remove", &w.address(7)][..], &member].concat())
        .fails();
    assert!(err.contains("is not a council member"), "{err}");
    enact(&w, &["council", "propose-remove", &w.address(2)]);
    let after = council(&w);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.contains(&lower(&w, 1)) && after.contains(&lower(&w, 3)),
        "{after:?}"
    );
}

/// A wave the Rollout would refuse at execution (no such phase, an expiry that passes before the
/// vote and timelock are over) is refused before anything is proposed.
#[test]
fn a_wave_that_could_never_execute_is_refused_before_the_vote() {
    let w = World::new();
    w.deploy();
    let csv = common::root().join("data/sites.csv").display().to_string();
    w.sankofa(&["sites", "import", &csv, "--private-key-file", &w.key(0)])
        .ok();
    std::fs::write(w.path("plan.toml"), "[[step]]\nname = \"a\"\n").expect("plan");
    let k1 = w.key(1);
    let wave = |extra: &[&str]| {
        let mut args = vec![
            "propose",
            "wave",
            "--plan",
            "plan.toml",
            "--sites",
            "core-iad",
            "--private-key-file",
            k1.as_str(),
        ];
        args.extend_from_slice(extra);
        w.sankofa(&args)
    };
    for phase in ["0", "4"] {
        let err = wave(&["--phase", phase]).fails();
        assert!(err.contains("phases are 1, 2 and 3"), "{err}");
    }
    let err = wave(&["--phase", "1", "--valid-for", "0"]).fails();
    assert!(
        err.contains("would expire") && err.contains("--valid-for above"),
        "{err}"
    );
    let proposals = json_of(&w.sankofa(&["proposals", "list", "--json"]));
    assert_eq!(proposals.as_array().map(Vec::len), Some(0), "{proposals}");
    // The same wave with a window that outlasts governance is proposed.
    let first = json_of(&wave(&["--phase", "1", "--json"]));
    assert_eq!(first["created"], true, "{first}");
    // Retried later (its default expiry, now + --valid-for, would differ): the same proposal
    // is found and resumed, not proposed a second time.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        w.rpc("evm_increaseTime", serde_json::json!([30])).await;
        w.rpc("evm_mine", serde_json::json!([])).await;
    });
    let retry = json_of(&wave(&["--phase", "1", "--json"]));
    assert_eq!(retry["created"], false, "{retry}");
    assert_eq!(retry["proposalId"], first["proposalId"]);
    let proposals = json_of(&w.sankofa(&["proposals", "list", "--json"]));
    assert_eq!(proposals.as_array().map(Vec::len), Some(1), "{proposals}");

    // The shortened id the human listing prints is accepted where an id is.
    let id = proposals[0]["id"].as_str().expect("id");
    let short = format!("{}…", &id[..12]);
    let listed = w.sankofa(&["proposals", "list"]).ok();
    assert!(listed.contains(&short), "{listed}");
    let shown = json_of(&w.sankofa(&["proposals", "show", &short, "--json"]));
    assert_eq!(shown["id"], id);
    let err = w.sankofa(&["proposals", "show", "0…"]).fails();
    assert!(err.contains("no proposal id starts with 0"), "{err}");
}
