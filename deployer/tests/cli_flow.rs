//! The `sankofa` binary against a real anvil: deploy (idempotent), import the real inventory
//! (whole-file validation first, nothing sent on error, re-runs verify), governance round trips,
//! and one clear non-zero-exit error for each kind of bad input.

mod common;

use common::World;

fn json_of(run: &common::Run) -> serde_json::Value {
    run.json()
}

fn inventory() -> String {
    common::root().join("data/sites.csv").display().to_string()
}

#[test]
fn deploy_is_idempotent_and_import_registers_the_real_inventory() {
    let w = World::new();
    w.deploy();
    let again = json_of(&w.sankofa(&["deploy", "--private-key-file", &w.key(0), "--json"]));
    assert_eq!(
        again["deployed"].as_array().expect("list").len(),
        0,
        "{again}"
    );
    assert_eq!(again["verified"].as_array().expect("list").len(), 6);
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.path("deployments/devnet.json")).expect("file"))
            .expect("json");
    assert_eq!(file["chainId"], 31337);
    assert_eq!(file["complete"], true);
    assert!(file["contracts"]["Rollout"]["artifactHash"].is_string());

    // A file with a bad line: every problem reported with its line, nothing sent.
    let text = std::fs::read_to_string(inventory()).expect("inventory");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[9] = lines[9].replace("America/", "Mars/");
    let mut fields: Vec<&str> = lines[20].split(',').collect();
    fields[1] = "metro";
    lines[20] = fields.join(",");
    std::fs::write(w.path("bad.csv"), lines.join("\n") + "\n").expect("write");
    let err = w
        .sankofa(&[
            "sites",
            "import",
            "bad.csv",
            "--private-key-file",
            &w.key(0),
        ])
        .fails();
    assert!(
        err.contains("bad.csv:10:") && err.contains("bad.csv:21:"),
        "{err}"
    );
    assert!(err.contains("nothing was sent"), "{err}");
    let listed = json_of(&w.sankofa(&["sites", "list", "--json"]));
    assert_eq!(
        listed.as_array().expect("list").len(),
        0,
        "a rejected file registers nothing"
    );

    let first = json_of(&w.sankofa(&[
        "sites",
        "import",
        &inventory(),
        "--private-key-file",
        &w.key(0),
        "--json",
    ]));
    assert_eq!(first["registered"], 325);
    assert_eq!(
        first["transactions"].as_array().expect("txs").len(),
        4,
        "batches of at most 100"
    );
    let second = json_of(&w.sankofa(&[
        "sites",
        "import",
        &inventory(),
        "--private-key-file",
        &w.key(0),
        "--json",
    ]));
    assert_eq!(second["registered"], 0);
    assert_eq!(second["verified"], 325);

    // An existing site's line changed: the chain disagrees, nothing is sent.
    let mut changed = text.lines().map(String::from).collect::<Vec<_>>();
    changed[2] = changed[2].replace("Frankfurt am Main", "Frankfurt");
    std::fs::write(w.path("changed.csv"), changed.join("\n") + "\n").expect("write");
    let err = w
        .sankofa(&[
            "sites",
            "import",
            "changed.csv",
            "--private-key-file",
            &w.key(0),
        ])
        .fails();
    assert!(
        err.contains("changed.csv:3:") && err.contains("another record"),
        "{err}"
    );

    let listed = json_of(&w.sankofa(&["sites", "list", "--json"]));
    assert_eq!(listed.as_array().expect("list").len(), 325);
    let show = json_of(&w.sankofa(&["sites", "show", "regional-ist", "--json"]));
    assert_eq!(show["tier"], "regional");
    assert_eq!(show["parent"], "core-fra");
    assert_eq!(show["status"], "planned");

    // Besu config for a site, from the registry.
    let enode = |n: u8| format!("enode://{}@10.0.0.{n}:30303", "ab".repeat(64));
    std::fs::write(
        w.path("nodes.csv"),
        format!("site,enode\ncore-iad,{}\ncore-fra,{}\n", enode(1), enode(2)),
    )
    .expect("write");
    let rendered = json_of(&w.sankofa(&[
        "besu",
        "config",
        "--site",
        "core-iad",
        "--enodes",
        "nodes.csv",
        "--json",
    ]));
    let config = rendered["configToml"].as_str().expect("toml");
    assert!(config.contains("min-gas-price = 0"), "{config}");
    assert!(
        config.contains("rpc-ws-enabled = true") && config.contains("\"QBFT\""),
        "{config}"
    );
    let accounts = rendered["accounts"].to_string().to_lowercase();
    assert!(
        accounts.contains(&w.address(1).to_lowercase()),
        "the validator may send: {accounts}"
    );
    assert_eq!(rendered["nodes"].as_array().expect("nodes").len(), 2);
    std::fs::write(
        w.path("nodes.csv"),
        format!("core-iad,{}\nedge-nowhere,{}\n", enode(1), enode(2)),
    )
    .expect("write");
    let err = w
        .sankofa(&[
            "besu",
            "config",
            "--site",
            "core-iad",
            "--enodes",
            "nodes.csv",
        ])
        .fails();
    assert!(
        err.contains("nodes.csv:2: site edge-nowhere is not registered"),
        "{err}"
    );
}

/// propose -> vote -> queue -> execute, with `--advance-time` on anvil.
fn pass(w: &World, propose: &[&str]) -> String {
    let mut args = propose.to_vec();
    let k1 = w.key(1);
    args.extend_from_slice(&["--private-key-file", &k1, "--json"]);
    let proposed = json_of(&w.sankofa(&args));
    let id = proposed["proposalId"].as_str().expect("id").to_string();
    let voters = format!("{},{}", w.key(1), w.key(2));
    w.sankofa(&["vote", &id, "--private-key-file", &voters, "--advance-time"])
        .ok();
    w.sankofa(&[
        "queue",
        &id,
        "--private-key-file",
        &w.key(0),
        "--advance-time",
    ])
    .ok();
    id
}

#[test]
fn governance_round_trip_resumes_retries_and_decodes_reverts() {
    let w = World::new();
    w.deploy();
    w.sankofa(&[
        "sites",
        "import",
        &inventory(),
        "--private-key-file",
        &w.key(0),
    ])
    .ok();

    let first = json_of(&w.sankofa(&[
        "propose",
        "phase",
        "1",
        "--private-key-file",
        &w.key(1),
        "--json",
    ]));
    assert_eq!(first["created"], true);
    let id = first["proposalId"].as_str().expect("id").to_string();
    // A retried propose finds the same proposal instead of failing.
    let retry = json_of(&w.sankofa(&[
        "propose",
        "phase",
        "1",
        "--private-key-file",
        &w.key(1),
        "--json",
    ]));
    assert_eq!(retry["created"], false);
    assert_eq!(retry["proposalId"], first["proposalId"]);

    let err = w
        .sankofa(&["vote", &id, "--private-key-file", &w.key(1)])
        .fails();
    assert!(err.contains("has not started"), "{err}");
    let err = w
        .sankofa(&["execute", &id, "--private-key-file", &w.key(0)])
        .fails();
    assert!(
        err.contains("only a Queued proposal can be executed"),
        "{err}"
    );

    let voters = format!("{},{}", w.key(1), w.key(2));
    let voted = json_of(&w.sankofa(&[
        "vote",
        &id,
        "--private-key-file",
        &voters,
        "--advance-time",
        "--json",
    ]));
    assert_eq!(voted["for"], "2");
    // Voting again is a no-op per voter, not an error.
    let again = json_of(&w.sankofa(&["vote", &id, "--private-key-file", &voters, "--json"]));
    assert_eq!(again["casts"][0]["outcome"], "already-voted");
    // A key without a vote is refused, not silently counted as zero.
    let err = w
        .sankofa(&["vote", &id, "--private-key-file", &w.key(0)])
        .fails();
    assert!(err.contains("had no vote"), "{err}");
    w.sankofa(&[
        "queue",
        &id,
        "--private-key-file",
        &w.key(0),
        "--advance-time",
    ])
    .ok();
    w.sankofa(&[
        "execute",
        &id,
        "--private-key-file",
        &w.key(0),
        "--advance-time",
    ])
    .ok();
    let status = json_of(&w.sankofa(&["status", "--json"]));
    assert_eq!(status["currentPhase"], 1);
    assert_eq!(status["sites"][2]["counts"]["planned"], 250);

    // Phase 2 before phase 1's criteria hold: execution reverts, decoded by name with arguments,
    // and the proposal stays Queued.
    let id2 = pass(&w, &["propose", "phase", "2"]);
    let run = w.sankofa(&[
        "execute",
        &id2,
        "--private-key-file",
        &w.key(0),
        "--advance-time",
    ]);
    let err = run.fails();
    assert!(err.contains("RolloutPhaseCriteriaUnmet(phase: 1"), "{err}");
    let shown = json_of(&w.sankofa(&["proposals", "show", &id2, "--json"]));
    assert_eq!(shown["state"], "Queued");
    let status = json_of(&w.sankofa(&["status", "--json"]));
    assert_eq!(status["openProposals"][0]["id"], id2.as_str(), "{status}");

    // Many agent keys in one proposal.
    let pairs = format!(
        "site,key\ncore-iad,{}\nregional-ist,{}\n",
        w.address(5),
        w.address(6)
    );
    std::fs::write(w.path("pairs.csv"), pairs).expect("write");
    let id3 = pass(&w, &["keys", "bind", "--file", "pairs.csv"]);
    w.sankofa(&[
        "execute",
        &id3,
        "--private-key-file",
        &w.key(0),
        "--advance-time",
    ])
    .ok();
    let show = json_of(&w.sankofa(&["sites", "show", "regional-ist", "--json"]));
    assert_eq!(
        show["agent"].as_str().expect("agent").to_lowercase(),
        w.address(6).to_lowercase()
    );
    let err = w
        .sankofa(&[
            "keys",
            "bind",
            "--site",
            "core-iad",
            "--key",
            &w.address(7),
            "--private-key-file",
            &w.key(1),
        ])
        .fails();
    assert!(
        err.contains("already has key") && err.contains("keys rotate"),
        "{err}"
    );

    // A wave: the plan hash is keccak256 of the plan file's bytes.
    // Three steps: `--step-count` must match the plan (agents refuse a wave where it differs).
    let plan =
        b"[[step]]\nname = \"fetch\"\n[[step]]\nname = \"install\"\n[[step]]\nname = \"verify\"\n";
    std::fs::write(w.path("plan.toml"), plan).expect("plan");
    let expected_hash = alloy::primitives::keccak256(plan).to_string();
    let id4 = pass(
        &w,
        &[
            "propose",
            "wave",
            "--phase",
            "1",
            "--plan",
            "plan.toml",
            "--sites",
            "core-iad",
            "--step-count",
            "3",
            "--max-concurrent",
            "1",
        ],
    );
    w.sankofa(&[
        "execute",
        &id4,
        "--private-key-file",
        &w.key(0),
        "--advance-time",
    ])
    .ok();
    let status = json_of(&w.sankofa(&["status", "--json"]));
    let waves = status["wavesInFlight"].as_array().expect("waves");
    assert_eq!(waves.len(), 1, "{status}");
    assert_eq!(waves[0]["planHash"], expected_hash);
    assert_eq!(waves[0]["stepCount"], 3);
    let show = json_of(&w.sankofa(&["sites", "show", "core-iad", "--json"]));
    assert_eq!(show["status"], "approved");
    assert_eq!(show["wave"], 1);

    // A rollback of an approved site with no step run moves it straight to rolled-back.
    let id5 = pass(
        &w,
        &[
            "propose", "rollback", "--sites", "core-iad", "--reason", "security",
        ],
    );
    w.sankofa(&[
        "execute",
        &id5,
        "--private-key-file",
        &w.key(0),
        "--advance-time",
    ])
    .ok();
    let status = json_of(&w.sankofa(&["status", "--json"]));
    assert_eq!(status["failing"][0]["site"], "core-iad", "{status}");
    assert_eq!(status["failing"][0]["status"], "rolled-back");
}

#[test]
fn bad_input_fails_with_one_clear_message() {
    let w = World::new();
    // Missing deployment file.
    let err = w.sankofa(&["status"]).fails();
    assert!(
        err.contains("deployments/devnet.json does not exist") && err.contains("sankofa deploy"),
        "{err}"
    );
    w.deploy();
    // Wrong RPC URL.
    let err = w
        .sankofa(&["status", "--rpc-url", "http://127.0.0.1:1"])
        .fails();
    assert!(
        err.contains("cannot reach the RPC at http://127.0.0.1:1"),
        "{err}"
    );
    // Wrong chain id.
    let err = w.sankofa(&["status", "--chain-id", "5"]).fails();
    assert!(
        err.contains("serves chain id 31337") && err.contains("chain id 5"),
        "{err}"
    );
    // Only council members may propose.
    let err = w
        .sankofa(&["propose", "phase", "1", "--private-key-file", &w.key(0)])
        .fails();
    assert!(err.contains("cannot propose"), "{err}");
    // A config file with an unknown key names it.
    std::fs::write(w.path("sankofa.toml"), "rpc_ulr = \"http://x\"\n").expect("write");
    let err = w.sankofa(&["status"]).fails();
    assert!(
        err.contains("rpc_ulr") && err.contains("sankofa.toml"),
        "{err}"
    );
    std::fs::remove_file(w.path("sankofa.toml")).expect("rm");

    // The deployment of one chain used against another.
    let other = alloy::node_bindings::Anvil::at(common::anvil_bin())
        .chain_id(4242)
        .spawn();
    let err = w
        .sankofa(&["status", "--rpc-url", &other.endpoint()])
        .fails();
    assert!(
        err.contains("is for chain id 31337") && err.contains("4242"),
        "{err}"
    );

    // --advance-time is refused anywhere but anvil's chain id.
    let env_other = [("SANKOFA_RPC_URL", other.endpoint())];
    let env: Vec<(&str, &str)> = env_other.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = |args: &[&str]| common::run_in(w.dir.path(), args, &env);
    let validator = format!("{}=core-iad", w.address(1));
    let dep = ["--deployment", "other.json"];
    let k0 = w.key(0);
    let mut deploy = vec![
        "deploy",
        "--private-key-file",
        &k0[..],
        "--validator",
        &validator,
    ];
    let council = w.address(1);
    deploy.extend_from_slice(&["--council", &council, "--voting-delay", "1"]);
    deploy.extend_from_slice(&dep);
    run(&deploy).ok();
    let mut propose = vec!["propose", "phase", "1", "--json"];
    let k1 = w.key(1);
    propose.extend_from_slice(&["--private-key-file", &k1]);
    propose.extend_from_slice(&dep);
    // The council member's vote weight is checked at clock()-1: let a second pass first.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let proposed = run(&propose).json();
    let id = proposed["proposalId"].as_str().expect("id").to_string();
    let mut queue = vec![
        "queue",
        &id[..],
        "--advance-time",
        "--private-key-file",
        &k1,
    ];
    queue.extend_from_slice(&dep);
    let err = run(&queue).fails();
    assert!(err.contains("only works on anvil"), "{err}");
}

#[test]
fn keystores_and_the_signer_section_sign_proposals_and_votes() {
    let w = World::new();
    w.deploy();
    std::fs::write(w.path("pw"), "correct horse\n").expect("pw");
    for i in [1, 2] {
        let cfg = format!(
            "[signer]\nbackend = \"keystore\"\npath = \"ks{i}.json\"\npassword_file = \"pw\"\n"
        );
        std::fs::write(w.path(&format!("cfg{i}.toml")), cfg).expect("cfg");
        let cfg_path = w.path(&format!("cfg{i}.toml")).display().to_string();
        let out = common::run_in(
            w.dir.path(),
            &["keys", "import", "--private-key-file", &w.key(i)],
            &[("SANKOFA_CONFIG", &cfg_path)],
        )
        .ok();
        assert!(
            out.to_lowercase().contains(&w.address(i).to_lowercase()),
            "{out}"
        );
    }
    // No signer flag: the [signer] section of the config file signs.
    let cfg1 = w.path("cfg1.toml").display().to_string();
    let rpc = w.anvil.endpoint();
    let proposed = common::run_in(
        w.dir.path(),
        &["propose", "phase", "1", "--json"],
        &[("SANKOFA_CONFIG", &cfg1), ("SANKOFA_RPC_URL", &rpc)],
    )
    .json();
    let id = proposed["proposalId"].as_str().expect("id").to_string();
    // Several keystores vote in one command.
    let voted = w
        .sankofa(&[
            "vote",
            &id,
            "--keystore",
            "ks1.json",
            "--keystore",
            "ks2.json",
            "--password-file",
            "pw",
            "--advance-time",
            "--json",
        ])
        .json();
    assert_eq!(voted["for"], "2", "{voted}");
    let err = w.sankofa(&["vote", &id, "--keystore", "ks1.json"]).fails();
    assert!(err.contains("--password-file"), "{err}");
}
