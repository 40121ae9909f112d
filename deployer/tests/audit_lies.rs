//! A node that lies (drops, repeats or alters a log, forges a signature, or caps the log range)
//! never yields a clean audit: each lie shows up as its finding. The history itself is real
//! (anvil, the contracts, real transactions); only the answers of the node in front are rewritten.

mod audit_support;

use alloy::{
    primitives::{B256, U256, keccak256},
    sol_types::SolEvent,
};
use audit_support::{Addresses, Lie, LyingNode, sankofa, write_deployment};
use sankofa_abi::{
    Rollout,
    ids::{Tier, site_id},
    rollout::Rollout::{DeploymentApproved, StepReported},
};
use sankofa_testkit::{SiteSpec, System, WaveSpec, anvil, anvil_key, provider};

const SITES: [&str; 3] = ["core-fra", "core-sin", "core-iad"];
const STEPS: u16 = 3;

fn word(v: u64) -> B256 {
    B256::from(U256::from(v))
}

fn step_topics(site: &str, wave: u32, step: u16) -> Vec<B256> {
    vec![
        StepReported::SIGNATURE_HASH,
        site_id(site).expect("site id"),
        word(u64::from(wave)),
        word(u64::from(step)),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_lie_of_the_node_is_a_finding() {
    let anvil = anvil(None).unwrap();
    let gov = anvil_key(&anvil, 0);
    let system = System::deploy(
        provider(&anvil, &gov),
        gov.address(),
        [(0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)],
    )
    .await
    .unwrap();
    let specs: Vec<_> = SITES
        .iter()
        .map(|s| SiteSpec::new(s, Tier::Core, 1, None))
        .collect();
    system.register(&specs).await.unwrap();
    for (i, s) in SITES.iter().enumerate() {
        system
            .bind(s, anvil_key(&anvil, i + 1).address())
            .await
            .unwrap();
    }
    system.approve_phase(1).await.unwrap();
    let wave = system
        .approve_wave(WaveSpec {
            phase: 1,
            plan: b"[plan]\n",
            plan_uri: "file:///p.toml",
            sites: &SITES,
            not_before: 0,
            expiry: u64::from(u32::MAX),
            max_concurrent: 3,
            step_count: STEPS,
        })
        .await
        .unwrap();
    let mut txs = std::collections::HashMap::new();
    for (i, s) in SITES.iter().enumerate() {
        let rollout = Rollout::new(system.rollout, provider(&anvil, &anvil_key(&anvil, i + 1)));
        for step in 0..STEPS {
            let r = rollout
                .reportStep(site_id(s).unwrap(), wave, step, 1, keccak256([step as u8]))
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            txs.insert((*s, step), r.transaction_hash);
        }
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
    let audit = |url: &str| {
        sankofa(
            dir.path(),
            url,
            &["audit", "verify", "--json", "--allow-direct-governance"],
        )
    };

    // The truth, through a node that caps eth_getLogs at 4 blocks like a strict Besu: pages
    // halve down to the cap, the scan still covers every block once, and the history verifies.
    let honest = LyingNode::start(anvil.endpoint(), Lie::Honest { max_range: 4 }).await;
    let run = audit(&honest.url);
    assert!(run.success(), "{}\n{}", run.stdout(), run.stderr());
    let v = run.json();
    assert_eq!(v["ok"], true);
    assert!(v["halvings"].as_u64().unwrap() > 0, "{v}");
    assert!(v["pages"].as_u64().unwrap() > 1);
    assert_eq!(v["reportsChecked"], 9);
    assert!(honest.lies() > 0, "the cap was exercised");
    // Without blockTimestamp in the logs the times come from the blocks: same answer as anvil's.
    let direct = audit(&anvil.endpoint());
    assert!(direct.success());
    let site = |url: &str| {
        sankofa(
            dir.path(),
            url,
            &[
                "audit",
                "site",
                "core-fra",
                "--json",
                "--allow-direct-governance",
            ],
        )
        .json()["timeline"]
            .clone()
    };
    assert_eq!(site(&honest.url), site(&anvil.endpoint()));

    let cases: Vec<(&str, Lie, Vec<&str>)> = vec![
        (
            "a middle step's log dropped",
            Lie::DropLog {
                topics: step_topics("core-fra", wave, 1),
            },
            vec!["count-mismatch", "operational-incomplete", "step-gap"],
        ),
        (
            "an approval's log dropped",
            Lie::DropLog {
                topics: vec![
                    DeploymentApproved::SIGNATURE_HASH,
                    site_id("core-sin").unwrap(),
                ],
            },
            vec![
                "count-mismatch",
                "log-missing",
                "operational-incomplete",
                "report-without-approval",
            ],
        ),
        (
            "a step's log repeated",
            Lie::DuplicateLog {
                topics: step_topics("core-iad", wave, 2),
            },
            vec!["log-duplicate", "step-repeat"],
        ),
        (
            "a report's plan hash altered",
            Lie::AlterLogData {
                topics: step_topics("core-fra", wave, 0),
                word: 1,
            },
            vec!["log-mismatch", "plan-hash-mismatch"],
        ),
        (
            "a report's digest altered",
            Lie::AlterLogData {
                topics: step_topics("core-sin", wave, 2),
                word: 2,
            },
            vec!["log-mismatch", "report-tx-mismatch"],
        ),
        (
            "a report's signature forged",
            Lie::ForgeSignature {
                tx: txs[&("core-iad", 1)],
            },
            vec!["report-tx-mismatch", "report-unbound-signer"],
        ),
    ];
    for (what, lie, expected) in cases {
        let node = LyingNode::start(anvil.endpoint(), lie).await;
        let run = audit(&node.url);
        assert_eq!(node.lies(), 1, "{what}: the node lied exactly once");
        assert!(!run.success(), "{what}: a lie must fail the audit");
        assert_eq!(run.json()["ok"], false);
        assert_eq!(run.kinds(), expected, "{what}:\n{}", run.stdout());
    }
}
