//! `sankofa audit` against a real anvil and real rollouts: a governed history verifies, with
//! each approval traced to its proposal and votes and each report to its bound key (checked
//! against `cast`); a direct-governance history, key rotation and revocation; artifacts.

mod audit_support;

use alloy::{
    primitives::{Address, B256, keccak256},
    providers::Provider,
};
use audit_support::{Addresses, cast, sankofa, write_deployment};
use sankofa_abi::{
    Rollout,
    ids::{Tier, site_id},
};
use sankofa_testkit::{
    GovernanceTiming, GovernedSystem, SiteSpec, System, WaveSpec, anvil, anvil_key, provider,
};

/// An address as the JSON output spells it.
fn lc(a: Address) -> String {
    a.to_string().to_lowercase()
}

async fn report(
    anvil: &alloy::node_bindings::AnvilInstance,
    rollout: Address,
    agent: usize,
    site: &str,
    wave: u32,
    step: u16,
    digest: B256,
) -> Result<B256, String> {
    let r = Rollout::new(rollout, provider(anvil, &anvil_key(anvil, agent)));
    let call = r.reportStep(site_id(site).expect("site id"), wave, step, 1, digest);
    if let Err(e) = call.call().await {
        return Err(e
            .as_revert_data()
            .and_then(|d| sankofa_abi::revert::decode(&d))
            .unwrap_or_else(|| e.to_string()));
    }
    let receipt = call
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    Ok(receipt.transaction_hash)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_governed_history_verifies_with_votes_signers_and_digests() {
    let anvil = anvil(None).unwrap();
    let op = anvil_key(&anvil, 0);
    let members = [anvil_key(&anvil, 1), anvil_key(&anvil, 2)];
    let system = GovernedSystem::deploy(
        provider(&anvil, &op),
        op.address(),
        &members,
        &anvil.endpoint(),
        GovernanceTiming::default(),
        [(1, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)],
    )
    .await
    .unwrap();
    system
        .register(&[
            SiteSpec::new("core-fra", Tier::Core, 1, None),
            SiteSpec::new("reg-ams", Tier::Regional, 1, Some("core-fra")),
        ])
        .await
        .unwrap();
    let agent = anvil_key(&anvil, 3).address();
    let binding = system
        .bind_many(&[
            ("core-fra", agent),
            ("reg-ams", anvil_key(&anvil, 4).address()),
        ])
        .await
        .unwrap();
    system.approve_phase(1).await.unwrap();
    let now = system.now().await.unwrap();
    let (wave, approval) = system
        .approve_wave(WaveSpec {
            phase: 1,
            plan: b"[plan]\nsteps = 3\n",
            plan_uri: "file:///plans/core.toml",
            sites: &["core-fra", "reg-ams"],
            not_before: 0,
            expiry: now + 86_400,
            max_concurrent: 2,
            step_count: 3,
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let logs: Vec<Vec<u8>> = (0..3)
        .map(|i| format!("step {i} output\nok\n").into_bytes())
        .collect();
    let mut report_txs = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        let tx = report(
            &anvil,
            system.rollout,
            3,
            "core-fra",
            wave,
            i as u16,
            keccak256(log),
        )
        .await
        .unwrap();
        report_txs.push(tx);
    }
    // Phase 2 needs one operational core site: now it can be approved.
    system.approve_phase(2).await.unwrap();

    write_deployment(
        dir.path(),
        &Addresses {
            registry: system.registry,
            rollout: system.rollout,
            validators: system.validators,
            council: Some(system.council),
            governor: Some(system.governor),
            timelock: Some(system.timelock),
            deployer: op.address(),
            block: system.deploy_block,
        },
        &system.provider,
    )
    .await;
    let rpc = anvil.endpoint();
    let html = dir.path().join("audit.html");
    let html_arg = html.display().to_string();
    let verify = sankofa(
        dir.path(),
        &rpc,
        &["audit", "verify", "--json", "--html", &html_arg],
    );
    assert!(verify.success(), "{}\n{}", verify.stdout(), verify.stderr());
    let v = verify.json();
    assert_eq!(v["schema"], "sankofa-audit-verify/1");
    assert_eq!(v["ok"], true);
    assert_eq!(v["reportsChecked"], 3);
    assert_eq!(v["sites"], 2);
    assert_eq!(
        v["governedTxs"], v["governedViaTimelock"],
        "every governed tx went through the Governor"
    );
    assert_eq!(v["governedTxs"], 4, "bind, phase 1, wave, phase 2");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("core-fra") && page.contains("Verified"));

    // The site's timeline: the approval traced to its proposal and both votes; each report
    // signed by the bound key.
    let site = sankofa(dir.path(), &rpc, &["audit", "site", "core-fra", "--json"]);
    assert!(site.success(), "{}", site.stderr());
    let s = site.json();
    assert_eq!(s["status"], 4, "operational");
    let timeline = s["timeline"].as_array().unwrap();
    let approved = timeline.iter().find(|t| t["kind"] == "approved").unwrap();
    let a = &approved["approval"];
    assert_eq!(a["via"], "governance");
    assert_eq!(a["executed"]["tx"], approval.execute_tx.to_string());
    assert_eq!(a["queued"]["tx"], approval.queue_tx.to_string());
    assert_eq!(a["created"]["tx"], approval.propose_tx.to_string());
    let votes = a["votes"].as_array().unwrap();
    assert_eq!(votes.len(), 2);
    for (v, m) in votes.iter().zip(&members) {
        assert_eq!(v["voter"], lc(m.address()));
        assert_eq!(v["support"], "for");
        assert_eq!(v["weight"], "0x1");
    }
    let bound = timeline.iter().find(|t| t["kind"] == "key-bound").unwrap();
    assert_eq!(
        bound["approval"]["executed"]["tx"],
        binding.execute_tx.to_string()
    );
    let steps: Vec<_> = timeline.iter().filter(|t| t["kind"] == "step").collect();
    assert_eq!(steps.len(), 3);
    for (t, tx) in steps.iter().zip(&report_txs) {
        assert_eq!(t["tx"], tx.to_string());
        assert_eq!(t["signer"], lc(agent));
        assert_eq!(t["boundKey"], lc(agent));
        assert_eq!(t["verified"], true);
    }

    // An independent client agrees: cast's view of the same events and signers.
    let out = std::process::Command::new(cast())
        .args([
            "logs",
            "--rpc-url",
            &rpc,
            "--from-block",
            &system.deploy_block.to_string(),
            "--address",
            &system.rollout.to_string(),
            "StepReported(bytes32 indexed,uint32 indexed,uint16 indexed,uint8,bytes32,bytes32)",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cast_logs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cast_txs: Vec<String> = cast_logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["transactionHash"].as_str().unwrap().to_lowercase())
        .collect();
    let ours: Vec<String> = steps
        .iter()
        .map(|t| t["tx"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cast_txs, ours);
    for t in &steps {
        let out = std::process::Command::new(cast())
            .args(["tx", "--rpc-url", &rpc, t["tx"].as_str().unwrap(), "from"])
            .output()
            .unwrap();
        let from = String::from_utf8_lossy(&out.stdout).trim().to_lowercase();
        assert_eq!(from, t["signer"].as_str().unwrap().to_lowercase());
    }

    // Phase 1's criteria at the approval of phase 2: core-fra was the operational core site.
    let phase = sankofa(dir.path(), &rpc, &["audit", "phase", "1", "--json"]);
    assert!(phase.success(), "{}", phase.stderr());
    let p = phase.json();
    assert_eq!(p["met"], true);
    assert_eq!(p["sites"]["core"], serde_json::json!(["core-fra"]));
    assert_eq!(p["approval"]["via"], "governance");
    assert_eq!(p["criteria"][0]["need"], 1);
    assert_eq!(p["criteria"][0]["onChain"], 1);

    // The step log matches its digest; a changed one does not.
    let file = dir.path().join("step-001.log");
    std::fs::write(&file, &logs[1]).unwrap();
    let f = file.display().to_string();
    let ok = sankofa(
        dir.path(),
        &rpc,
        &[
            "audit", "artifact", "--site", "core-fra", "--step", "1", &f, "--json",
        ],
    );
    assert!(ok.success(), "{}", ok.stderr());
    assert_eq!(ok.json()["matches"], true);
    assert_eq!(ok.json()["reportVerified"], true);
    std::fs::write(&file, b"step 1 output\nok, edited\n").unwrap();
    let bad = sankofa(
        dir.path(),
        &rpc,
        &["audit", "artifact", "--site", "core-fra", "--step", "1", &f],
    );
    assert!(!bad.success());
    assert!(bad.stdout().contains("MISMATCH"), "{}", bad.stdout());
    // Human output names the votes.
    let human = sankofa(dir.path(), &rpc, &["audit", "site", "core-fra"]);
    assert!(human.success());
    assert!(human.stdout().contains("vote"), "{}", human.stdout());
    println!("{}", human.stdout());
    let human = sankofa(dir.path(), &rpc, &["audit", "phase", "1"]);
    assert!(human.success(), "{}", human.stderr());
    println!("{}", human.stdout());
    let human = sankofa(dir.path(), &rpc, &["audit", "verify"]);
    assert!(human.success(), "{}", human.stderr());
    println!("{}", human.stdout());
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_governance_rotation_and_revocation() {
    let anvil = anvil(None).unwrap();
    let gov = anvil_key(&anvil, 0);
    let system = System::deploy(
        provider(&anvil, &gov),
        gov.address(),
        [(0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)],
    )
    .await
    .unwrap();
    system
        .register(&[
            SiteSpec::new("core-fra", Tier::Core, 1, None),
            SiteSpec::new("core-sin", Tier::Core, 1, None),
        ])
        .await
        .unwrap();
    let (a, b, c) = (
        anvil_key(&anvil, 1).address(),
        anvil_key(&anvil, 2).address(),
        anvil_key(&anvil, 3).address(),
    );
    system.bind("core-fra", a).await.unwrap();
    system.bind("core-sin", c).await.unwrap();
    system.approve_phase(1).await.unwrap();
    let wave = system
        .approve_wave(WaveSpec {
            phase: 1,
            plan: b"[plan]\n",
            plan_uri: "file:///p.toml",
            sites: &["core-fra", "core-sin"],
            not_before: 0,
            expiry: u64::from(u32::MAX),
            max_concurrent: 2,
            step_count: 4,
        })
        .await
        .unwrap();
    let d = B256::repeat_byte(1);
    let r = system.rollout;
    report(&anvil, r, 1, "core-fra", wave, 0, d).await.unwrap();
    report(&anvil, r, 1, "core-fra", wave, 1, d).await.unwrap();
    // Rotation mid-sequence: the old key is refused from here on, the new one continues.
    system.bind("core-fra", b).await.unwrap();
    let refused = report(&anvil, r, 1, "core-fra", wave, 2, d)
        .await
        .unwrap_err();
    assert!(refused.contains("RolloutNotSiteAgent"), "{refused}");
    report(&anvil, r, 2, "core-fra", wave, 2, d).await.unwrap();
    report(&anvil, r, 2, "core-fra", wave, 3, d).await.unwrap();
    // Revocation: the contract refuses the revoked key's report, so it never reaches the log.
    report(&anvil, r, 3, "core-sin", wave, 0, d).await.unwrap();
    system
        .registry()
        .revokeAgentKey(site_id("core-sin").unwrap())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let refused = report(&anvil, r, 3, "core-sin", wave, 1, d)
        .await
        .unwrap_err();
    assert!(refused.contains("RolloutNotSiteAgent"), "{refused}");
    // The guardian cancels core-sin's open deployment; governance rolls core-fra back, and its
    // agent undoes steps 3..0 (strictly descending) until the site is RolledBack.
    let rollout = system.rollout();
    let cancel = rollout.cancelDeployments(vec![site_id("core-sin").unwrap()], 0);
    let receipt = cancel.send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status());
    let order = rollout.orderRollback(vec![site_id("core-fra").unwrap()], 1);
    let receipt = order.send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status());
    let agent = Rollout::new(r, provider(&anvil, &anvil_key(&anvil, 2)));
    for step in (0..4u16).rev() {
        let receipt = agent
            .reportRollbackStep(site_id("core-fra").unwrap(), wave, step, 1, d)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status(), "rollback step {step}");
    }

    let dir = tempfile::tempdir().unwrap();
    write_deployment(
        dir.path(),
        &Addresses {
            registry: system.registry,
            rollout: system.rollout,
            validators: system.validators,
            council: None,
            governor: None,
            timelock: None,
            deployer: gov.address(),
            block: system.deploy_block,
        },
        &system.provider,
    )
    .await;
    let rpc = anvil.endpoint();
    // Without the test-setup flag, every EOA decision is a finding and the exit is non-zero.
    let strict = sankofa(dir.path(), &rpc, &["audit", "verify", "--json"]);
    assert!(!strict.success());
    assert_eq!(strict.kinds(), ["direct-governance"]);
    let strict_json = strict.json();
    let findings = strict_json["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| {
        f["message"]
            .as_str()
            .unwrap()
            .contains(&gov.address().to_string())
    }));
    let human = sankofa(dir.path(), &rpc, &["audit", "verify"]);
    assert!(!human.success());
    assert!(
        human
            .stdout()
            .contains("approval not made through governance")
    );

    let allowed = sankofa(
        dir.path(),
        &rpc,
        &["audit", "verify", "--json", "--allow-direct-governance"],
    );
    assert!(allowed.success(), "{}", allowed.stdout());
    assert_eq!(allowed.json()["reportsChecked"], 9);
    assert_eq!(
        allowed.json()["sitesByStatus"]["core"],
        serde_json::json!({"degraded": 1, "rolled-back": 1})
    );

    // The inventory check: testkit registers recordHash = keccak256(name), i.e. a CSV whose line
    // is just the name. An edited line no longer matches what was registered.
    let inventory = dir.path().join("inventory.csv");
    let inv = inventory.display().to_string();
    std::fs::write(&inventory, "site\ncore-fra\r\ncore-sin\n").unwrap();
    let args = [
        "audit",
        "verify",
        "--json",
        "--allow-direct-governance",
        "--inventory",
        &inv,
    ];
    let clean = sankofa(dir.path(), &rpc, &args);
    assert!(clean.success(), "{}", clean.stdout());
    std::fs::write(&inventory, "site\ncore-fra\ncore-sin,edited\n").unwrap();
    let edited = sankofa(dir.path(), &rpc, &args);
    assert!(!edited.success());
    assert_eq!(edited.kinds(), ["record-mismatch"]);
    assert_eq!(edited.json()["findings"][0]["site"], "core-sin");

    // The timeline checks each report against the key bound at its block, not today's key.
    let site = sankofa(
        dir.path(),
        &rpc,
        &[
            "audit",
            "site",
            "core-fra",
            "--json",
            "--allow-direct-governance",
        ],
    );
    assert!(site.success(), "{}", site.stdout());
    let s = site.json();
    let steps: Vec<_> = s["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "step")
        .collect();
    let signers: Vec<&str> = steps
        .iter()
        .map(|t| t["signer"].as_str().unwrap())
        .collect();
    let (a, b) = (lc(a), lc(b));
    assert_eq!(signers, [&a, &a, &b, &b]);
    assert!(steps.iter().all(|t| t["verified"] == true));
    let undone: Vec<u64> = s["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "rollback-step" && t["verified"] == true)
        .map(|t| t["step"].as_u64().unwrap())
        .collect();
    assert_eq!(undone, [3, 2, 1, 0]);
    assert_eq!(s["status"], 6, "rolled back");
    assert!(
        s["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "key-bound"
                && t["detail"].as_str().unwrap().contains("rotated")
                && t["approval"]["via"] == "direct")
    );
    let sin = sankofa(
        dir.path(),
        &rpc,
        &[
            "audit",
            "site",
            "core-sin",
            "--json",
            "--allow-direct-governance",
        ],
    );
    let sin = sin.json();
    assert!(
        sin["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "key-revoked")
    );
    assert_eq!(sin["key"], lc(Address::ZERO));
    // An unknown site is an error, not an empty report.
    let unknown = sankofa(dir.path(), &rpc, &["audit", "site", "edge-nowhere"]);
    assert!(!unknown.success());
    assert!(
        unknown.stderr().contains("never registered"),
        "{}",
        unknown.stderr()
    );
    let _ = system.provider.get_block_number().await.unwrap();
}
