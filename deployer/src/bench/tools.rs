//! Wall time of the operator's and the auditor's commands at full size: `sankofa sites import`
//! of the whole inventory after a real `sankofa deploy`, and `sankofa audit verify` over the
//! history a 325-agent scenario left on its chain. Both run this very binary as a child process,
//! as an operator would.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use alloy::{
    node_bindings::{Anvil, AnvilInstance},
    primitives::B256,
};
use anyhow::{Context, bail};
use sankofa_testkit::System;

use super::report::ToolTiming;
use crate::deployment::{DeployParams, Deployed, Deployment};

/// `sankofa deploy` then a timed `sankofa sites import` of `inventory` on a fresh anvil.
pub(crate) fn sites_import(
    anvil_bin: &Path,
    work: &Path,
    inventory: &Path,
    sites: usize,
) -> anyhow::Result<ToolTiming> {
    let dir = fresh(&work.join("sites-import"))?;
    let anvil = Anvil::at(anvil_bin)
        .timeout(30_000)
        .try_spawn()
        .context("starting anvil")?;
    let key = dir.join("operator.key");
    std::fs::write(&key, hex::encode(anvil.keys()[0].to_bytes()))
        .with_context(|| format!("writing {}", key.display()))?;
    let key = key.display().to_string();
    let validator = format!("{}=core-iad", anvil.addresses()[1]);
    let (council_a, council_b) = (
        anvil.addresses()[1].to_string(),
        anvil.addresses()[2].to_string(),
    );
    sankofa(
        &dir,
        &anvil,
        &[],
        &[
            "deploy",
            "--private-key-file",
            &key,
            "--validator",
            &validator,
            "--council",
            &council_a,
            "--council",
            &council_b,
        ],
    )?;
    let csv = inventory.display().to_string();
    let start = Instant::now();
    sankofa(
        &dir,
        &anvil,
        &[],
        &["sites", "import", &csv, "--private-key-file", &key],
    )?;
    Ok(ToolTiming {
        command: "sankofa sites import data/sites.csv".into(),
        sites,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// A timed `sankofa audit verify` over everything `system` recorded on `anvil` (the governance
/// there is an EOA, hence `--allow-direct-governance`).
pub(crate) async fn audit_verify(
    anvil: &AnvilInstance,
    system: &System,
    work: &Path,
    sites: usize,
    steps: u16,
) -> anyhow::Result<ToolTiming> {
    let dir = fresh(&work.join("audit"))?;
    // The auditor refuses a deployment file whose code hashes are not the chain's.
    let provider = alloy::providers::ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let mut code_hashes = BTreeMap::new();
    for address in [system.registry, system.rollout, system.validators] {
        let code = alloy::providers::Provider::get_code_at(&provider, address)
            .await
            .with_context(|| format!("eth_getCode {address}"))?;
        code_hashes.insert(address, alloy::primitives::keccak256(&code));
    }
    let entry = |address| Deployed {
        address,
        block: system.deploy_block,
        tx: None,
        artifact_hash: B256::ZERO,
        code_hash: code_hashes[&address],
    };
    let deployment = Deployment {
        network: "bench".into(),
        chain_id: anvil.chain_id(),
        deployer: system.governance,
        deployment_block: system.deploy_block,
        complete: true,
        params: DeployParams {
            min_delay: 0,
            voting_delay: 0,
            voting_period: 0,
            quorum_percent: 0,
            guardian: system.governance,
            registrar: system.governance,
            council: Vec::new(),
            validators: Vec::new(),
            validator_set: None,
            criteria: [[0; 4]; 3],
        },
        contracts: BTreeMap::from([
            ("SiteRegistry".to_owned(), entry(system.registry)),
            ("Rollout".to_owned(), entry(system.rollout)),
            ("ValidatorSet".to_owned(), entry(system.validators)),
        ]),
    };
    let path = dir.join("deployment.json");
    deployment.save(&path)?;
    let start = Instant::now();
    sankofa(
        &dir,
        anvil,
        &[("SANKOFA_DEPLOYMENT", path.display().to_string())],
        &["audit", "verify", "--json", "--allow-direct-governance"],
    )?;
    Ok(ToolTiming {
        command: format!("sankofa audit verify ({steps} steps per site, real agent reports)"),
        sites,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Runs this binary in `dir` against `anvil`; fails with its output on a non-zero exit.
fn sankofa(
    dir: &Path,
    anvil: &AnvilInstance,
    env: &[(&str, String)],
    args: &[&str],
) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating the sankofa binary")?;
    let mut cmd = Command::new(exe);
    cmd.args(args).current_dir(dir);
    // Only this run's settings: none of the caller's SANKOFA_* variables leak in.
    for (k, _) in std::env::vars() {
        if k.starts_with("SANKOFA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("SANKOFA_RPC_URL", anvil.endpoint())
        .envs(env.iter().map(|(k, v)| (k, v)));
    let out = cmd
        .output()
        .with_context(|| format!("running sankofa {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "sankofa {} failed ({}):\n{}{}",
            args.join(" "),
            out.status,
            tail(&String::from_utf8_lossy(&out.stdout)),
            tail(&String::from_utf8_lossy(&out.stderr))
        );
    }
    Ok(())
}

fn fresh(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
