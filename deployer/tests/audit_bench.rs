//! Benchmark: `sankofa audit verify` over the full inventory (data/sites.csv, 325 sites) with
//! every site taken through a 10-step approval, against a local anvil. It prints the scan's
//! figures (`--timings`); nothing is asserted about time, only that the history verifies.
//!
//! `cargo test -p sankofa-deployer --test audit_bench -- --ignored --nocapture`

mod audit_support;

use std::time::Instant;

use alloy::primitives::keccak256;
use audit_support::{Addresses, sankofa, write_deployment};
use futures::future::try_join_all;
use sankofa_abi::{
    Rollout,
    ids::{Tier, site_id},
};
use sankofa_testkit::{SiteSpec, System, WaveSpec, anvil, anvil_key, provider};

const STEPS: u16 = 10;
const AGENTS: usize = 9;

fn inventory() -> Vec<SiteSpec> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/sites.csv");
    let mut reader = csv::Reader::from_path(&path).expect("data/sites.csv");
    let mut sites: Vec<SiteSpec> = reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            let tier: Tier = r[1].parse().expect("tier");
            let parent = (!r[3].is_empty()).then(|| r[3].to_string());
            SiteSpec::new(&r[0], tier, r[2].parse().expect("phase"), parent.as_deref())
        })
        .collect();
    // Parents before children: a parent is always one tier up.
    sites.sort_by_key(|s| s.tier);
    sites
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark (about a minute of setup); run with --ignored --nocapture"]
async fn audit_verify_of_325_sites_by_10_steps() {
    let setup = Instant::now();
    let anvil = anvil(None).unwrap();
    let gov = anvil_key(&anvil, 0);
    let system = System::deploy(
        provider(&anvil, &gov),
        gov.address(),
        [(0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 0, 0)],
    )
    .await
    .unwrap();
    let sites = inventory();
    assert_eq!(sites.len(), 325);
    system.register(&sites).await.unwrap();
    for (i, s) in sites.iter().enumerate() {
        let key = anvil_key(&anvil, 1 + i % AGENTS).address();
        system.bind(&s.name, key).await.unwrap();
    }
    for phase in 1..=3 {
        system.approve_phase(phase).await.unwrap();
    }
    let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
    let wave = system
        .approve_wave(WaveSpec {
            phase: 3,
            plan: b"[plan]\n",
            plan_uri: "file:///p.toml",
            sites: &names,
            not_before: 0,
            expiry: u64::from(u32::MAX),
            max_concurrent: 325,
            step_count: STEPS,
        })
        .await
        .unwrap();
    // Each agent reports its sites' steps in order; agents run side by side.
    let agents = (0..AGENTS).map(|a| {
        let mine: Vec<String> = sites
            .iter()
            .enumerate()
            .filter(|(i, _)| i % AGENTS == a)
            .map(|(_, s)| s.name.clone())
            .collect();
        let rollout = Rollout::new(system.rollout, provider(&anvil, &anvil_key(&anvil, 1 + a)));
        async move {
            for step in 0..STEPS {
                // One round: this agent's sites' step `step`, then wait until the round is mined
                // (the next round's gas estimate needs it; one sender's txs mine in nonce order).
                let mut last = None;
                for site in &mine {
                    let pending = rollout
                        .reportStep(site_id(site)?, wave, step, 1, keccak256(site.as_bytes()))
                        .send()
                        .await?;
                    last = Some(pending);
                }
                if let Some(p) = last {
                    p.get_receipt().await?;
                }
            }
            Ok::<_, anyhow::Error>(())
        }
    });
    try_join_all(agents).await.unwrap();
    println!(
        "setup: 325 sites, {} reports in {:.1} s",
        325 * usize::from(STEPS),
        setup.elapsed().as_secs_f64()
    );

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
    println!("run  wall_ms  logs   txs   receipts  stage timings (ms)");
    for run in 1..=3 {
        let t = Instant::now();
        let out = sankofa(
            dir.path(),
            &anvil.endpoint(),
            &[
                "audit",
                "verify",
                "--json",
                "--timings",
                "--allow-direct-governance",
            ],
        );
        let wall = t.elapsed().as_millis();
        assert!(out.success(), "{}\n{}", out.stdout(), out.stderr());
        let v = out.json();
        assert_eq!(v["ok"], true);
        assert_eq!(v["reportsChecked"], 325 * u64::from(STEPS));
        assert_eq!(v["sitesByStatus"]["edge"]["operational"], 250);
        println!(
            "{run}    {wall:>6}  {}  {}  {}      {}",
            v["logs"], v["transactions"], v["receipts"], v["timingsMs"]
        );
    }
}
