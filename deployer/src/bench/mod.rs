//! `sankofa bench`: measures what the product exists for, each figure beside a reference
//! measured in the same run (see docs/benchmarks.md for the method and the latest figures).
//!
//! - [`gas`]: forge gas snapshots, ours against the floor contract.
//! - [`scenario`]: real agent fleets against anvil: event-to-action latency against bare
//!   subscribers ([`watch`]), step-report throughput, rollout wall time, agent resources
//!   ([`resources`]) and polling RPC load ([`proxy`]).
//! - [`report`]: the markdown page and the JSON.

mod fleet;
mod gas;
mod proxy;
mod report;
mod resources;
mod scenario;
mod stats;
mod tools;
mod watch;

use std::path::PathBuf;

use anyhow::Context;

pub(crate) use scenario::Mode;

use crate::{inventory, workspace::Workspace};

/// What to run.
#[derive(Debug)]
pub(crate) struct Options {
    /// The checkout.
    pub(crate) workspace: Workspace,
    /// The `sankofa-agent` binary.
    pub(crate) agent: PathBuf,
    /// Fleet sizes, run in this order.
    pub(crate) agents: Vec<usize>,
    /// Modes per fleet size.
    pub(crate) modes: Vec<Mode>,
    /// Steps in the bench plan.
    pub(crate) steps: u16,
    /// Idle window in seconds.
    pub(crate) idle_secs: u64,
    /// Run forge for the gas figures (else read the committed snapshots).
    pub(crate) run_forge: bool,
    /// Scratch directory (agent state, keystores); cleared per scenario.
    pub(crate) work: PathBuf,
    /// Marks the report as a quick run.
    pub(crate) quick: bool,
    /// Where the report goes; rewritten after every scenario, so an interrupted run keeps
    /// what it measured.
    pub(crate) out_dir: PathBuf,
}

/// Runs everything asked for; a failing part is recorded in the report, not fatal, so a long
/// run still yields the figures it did measure.
pub(crate) async fn run(opts: Options) -> anyhow::Result<report::Report> {
    let root = opts.workspace.root().to_path_buf();
    let machine = report::Machine::probe(&root);
    let mut failures = Vec::new();

    eprintln!("gas: forge gas bench (ours vs floor)");
    let gas = match gas::measure(&root, &opts.workspace.foundry_bin("forge"), opts.run_forge) {
        Ok(rows) => rows,
        Err(err) => {
            failures.push(format!("gas: {err:#}"));
            Vec::new()
        }
    };

    let csv = root.join("data").join("sites.csv");
    let sites = inventory::load(&csv)?;
    let ordered = inventory::registration_order(&sites);
    let most = opts.agents.iter().copied().max().unwrap_or(0);
    anyhow::ensure!(
        opts.agent.is_file(),
        "agent binary {} not found; build it (`cargo build --release -p sankofa-agent`) or pass --agent-bin",
        opts.agent.display()
    );
    eprintln!("keys: {most} keystores");
    let keys = fleet::Keys::create(&opts.work.join("keys"), most)
        .await
        .context("creating agent keystores")?;
    let env = scenario::Env {
        anvil: opts.workspace.foundry_bin("anvil"),
        agent: opts.agent.clone(),
        work: opts.work.clone(),
        inventory: ordered,
        keys: &keys,
        steps: opts.steps,
        idle_secs: opts.idle_secs,
    };
    let mut tools = Vec::new();
    eprintln!(
        "tools: sankofa deploy + sites import ({} sites)",
        sites.len()
    );
    let anvil = opts.workspace.foundry_bin("anvil");
    match tools::sites_import(&anvil, &opts.work, &csv, sites.len()) {
        Ok(t) => tools.push(t),
        Err(err) => failures.push(format!("sites import: {err:#}")),
    }
    // The audit runs over the largest fleet's history (preferably the automine one).
    let audit_mode = if opts.modes.contains(&Mode::WsAutomine) {
        Mode::WsAutomine
    } else {
        opts.modes.first().copied().unwrap_or(Mode::WsAutomine)
    };
    let path = opts.agent.display().to_string();
    let agent_build = ["release", "debug"]
        .into_iter()
        .find(|p| path.contains(&format!("/{p}/")))
        .map_or(path.clone(), str::to_owned);
    let mut report = report::Report {
        machine,
        quick: opts.quick,
        agent_build,
        bench_build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        gas,
        scenarios: Vec::new(),
        tools,
        failures,
    };
    for &n in &opts.agents {
        for &mode in &opts.modes {
            eprintln!("scenario {}-{n}", mode.name());
            let audit = n == most && mode == audit_mode;
            match scenario::run(&env, mode, n, audit).await {
                Ok(outcome) => {
                    eprintln!(
                        "  agent p50/p99 {:?} ms, bare {:?} ms, ratio p99 {:?}",
                        outcome.agent_ms.map(|s| (s.p50.round(), s.p99.round())),
                        outcome.bare_ms.map(|s| (s.p50.round(), s.p99.round())),
                        outcome.ratio_p99.map(|r| (r * 100.0).round() / 100.0)
                    );
                    report.tools.extend(outcome.audit.clone());
                    report.scenarios.push(outcome);
                }
                Err(err) => {
                    eprintln!("  failed: {err:#}");
                    report
                        .failures
                        .push(format!("{}-{n}: {err:#}", mode.name()));
                }
            }
            write(&report, &opts.out_dir)?;
        }
    }
    Ok(report)
}

/// Writes `dir/benchmarks.md` and `dir/benchmarks.json`.
pub(crate) fn write(report: &report::Report, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let md = dir.join("benchmarks.md");
    std::fs::write(&md, report.markdown()).with_context(|| format!("writing {}", md.display()))?;
    let json = dir.join("benchmarks.json");
    std::fs::write(&json, serde_json::to_string_pretty(report)? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    eprintln!("wrote {} and {}", md.display(), json.display());
    Ok(())
}
