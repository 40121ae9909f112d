//! The README's main job at reduced size — 3 core + 10 regional sites, real agent processes, a
//! site failed on purpose, rolled back and redeployed, phase 2 gated on phase 1 — then checked on
//! chain: counts, phase, the failed site's history, every site's step sequence, and the auditor.

use std::process::Command;

use alloy::{
    primitives::B256,
    providers::{Provider, ProviderBuilder},
    rpc::types::Filter,
    sol_types::SolEvent,
};
use sankofa_abi::{
    Rollout, SiteRegistry,
    ids::{SiteStatus, Tier, site_id, site_name},
};
use sankofa_e2e::{binary, repo_root};

/// Stops the devnet the demo left running (`--keep-chain`), also when an assertion fails.
struct Devnet(u32);

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn phase_one_rolls_out_fails_over_rolls_back_and_gates_phase_two() {
    binary("sankofa");
    binary("sankofa-agent");
    let run = tempfile::tempdir().expect("temp dir");
    let out = Command::new(repo_root().join("scripts/demo"))
        .args([
            "--small",
            "--debug",
            "--no-build",
            "--keep-chain",
            "--fail-site",
            "regional-mad",
            "--run-dir",
        ])
        .arg(run.path())
        .output()
        .expect("run scripts/demo");
    let pid: u32 = std::fs::read_to_string(run.path().join("devnet.pid"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .expect("the demo started a devnet");
    let _devnet = Devnet(pid);
    assert!(
        out.status.success(),
        "scripts/demo --small failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Everything below reads the chain the demo left, not what it printed.
    let devnet: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.path().join("devnet.json")).unwrap()).unwrap();
    let deployment: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.path().join("deployment.json")).unwrap())
            .unwrap();
    let provider =
        ProviderBuilder::new().connect_http(devnet["http"].as_str().unwrap().parse().unwrap());
    let address = |name: &str| {
        deployment["contracts"][name]["address"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let registry = SiteRegistry::new(address("SiteRegistry"), &provider);
    let rollout = Rollout::new(address("Rollout"), &provider);

    let count = |tier: Tier, status: SiteStatus| {
        let registry = &registry;
        async move {
            registry
                .count(tier.into(), status.into())
                .call()
                .await
                .unwrap()
        }
    };
    assert_eq!(count(Tier::Core, SiteStatus::Operational).await, 3);
    assert_eq!(count(Tier::Regional, SiteStatus::Operational).await, 10);
    for status in [
        SiteStatus::Approved,
        SiteStatus::Deploying,
        SiteStatus::Degraded,
        SiteStatus::RolledBack,
    ] {
        assert_eq!(
            count(Tier::Regional, status).await,
            0,
            "regional sites left {status}"
        );
    }
    assert_eq!(
        rollout.currentPhase().call().await.unwrap(),
        2,
        "phase 2 approved once phase 1 held"
    );
    assert!(rollout.criteriaMet(1).call().await.unwrap());

    // The failed site: Degraded, then RolledBack by its agent, then Operational in a new wave.
    let from = deployment["deploymentBlock"].as_u64().unwrap();
    let logs = provider
        .get_logs(
            &Filter::new()
                .address(*registry.address())
                .from_block(from)
                .event_signature(SiteRegistry::SiteStatusChanged::SIGNATURE_HASH),
        )
        .await
        .unwrap();
    let mad = site_id("regional-mad").unwrap();
    let history: Vec<u8> = logs
        .iter()
        .filter(|l| l.topics().get(1) == Some(&mad))
        .map(|l| {
            SiteRegistry::SiteStatusChanged::decode_log_data(l.data())
                .unwrap()
                .to
        })
        .collect();
    let [degraded, rolled_back, operational] = [
        SiteStatus::Degraded,
        SiteStatus::RolledBack,
        SiteStatus::Operational,
    ]
    .map(u8::from);
    let pos = |s: u8| history.iter().position(|&h| h == s);
    assert!(
        pos(degraded) < pos(rolled_back)
            && pos(rolled_back) < history.iter().rposition(|&h| h == operational),
        "regional-mad's status history {history:?} is not degraded -> rolled back -> operational"
    );
    assert!(pos(degraded).is_some());

    // Every site's forward reports under its current wave form the complete sequence 0..stepCount.
    let reports = provider
        .get_logs(
            &Filter::new()
                .address(*rollout.address())
                .from_block(from)
                .event_signature(Rollout::StepReported::SIGNATURE_HASH),
        )
        .await
        .unwrap();
    let sites: std::collections::BTreeSet<B256> = reports.iter().map(|l| l.topics()[1]).collect();
    assert_eq!(sites.len(), 13, "13 sites reported steps");
    for site in sites {
        let d = rollout.deployment(site).call().await.unwrap();
        let wave = rollout.wave(d.waveId).call().await.unwrap();
        let mut steps: Vec<u16> = reports
            .iter()
            .filter(|l| {
                l.topics()[1] == site
                    && l.topics()[2] == B256::from(alloy::primitives::U256::from(d.waveId))
            })
            .map(|l| alloy::primitives::U256::from_be_bytes(l.topics()[3].0).to::<u16>())
            .collect();
        steps.sort_unstable();
        assert_eq!(
            steps,
            (0..wave.stepCount).collect::<Vec<_>>(),
            "steps of {}",
            site_name(site)
        );
    }

    // The auditor, from the chain alone, finds nothing wrong (exit code and JSON, not text).
    let audit = Command::new(binary("sankofa"))
        .args(["audit", "verify", "--json"])
        .env("SANKOFA_RPC_URL", devnet["http"].as_str().unwrap())
        .env("SANKOFA_DEPLOYMENT", run.path().join("deployment.json"))
        .output()
        .expect("run sankofa audit verify");
    assert!(
        audit.status.success(),
        "audit verify failed: {}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let verdict: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("audit JSON");
    assert_eq!(
        verdict["findings"].as_array().map(Vec::len),
        Some(0),
        "{verdict}"
    );
}
