//! `sankofa bench`: gas against a floor contract, event-to-action latency against bare
//! subscribers, throughput and agent resources, written as markdown and JSON.

use std::path::PathBuf;

use crate::{bench, output, workspace::Workspace};

/// Measure gas, latency, throughput and resources; write benchmarks.md and benchmarks.json.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The Sankofa checkout (default: found from here).
    #[arg(long)]
    root: Option<PathBuf>,
    /// 13 agents only, the committed gas snapshots, a short idle window (a minute or two).
    #[arg(long)]
    quick: bool,
    /// Fleet sizes (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "13,113,325")]
    agents: Vec<usize>,
    /// Modes (comma separated): ws-automine, ws-block-1s, poll-block-1s.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ws-automine,ws-block-1s,poll-block-1s"
    )]
    modes: Vec<bench::Mode>,
    /// Steps in the bench plan (each agent reports every one).
    #[arg(long, default_value_t = 5)]
    steps: u16,
    /// Seconds of the idle window (resources and polling load before the approval).
    #[arg(long, default_value_t = 10)]
    idle_secs: u64,
    /// Read the committed gas snapshots instead of running forge.
    #[arg(long)]
    no_forge: bool,
    /// The agent binary (default: `sankofa-agent` next to this executable).
    #[arg(long)]
    agent_bin: Option<PathBuf>,
    /// Where benchmarks.md and benchmarks.json go (default: docs/, or target/bench/ with --quick).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Scratch space for agent state and keys (default: target/bench/work).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let workspace = Workspace::locate(self.root.as_deref())?;
        let root = workspace.root().to_path_buf();
        let agent = match self.agent_bin {
            Some(path) => path,
            None => std::env::current_exe()?.with_file_name("sankofa-agent"),
        };
        let (agents, run_forge, idle_secs) = if self.quick {
            (vec![13], false, self.idle_secs.min(5))
        } else {
            (self.agents, !self.no_forge, self.idle_secs)
        };
        let out_dir = self.out_dir.unwrap_or_else(|| {
            if self.quick {
                root.join("target").join("bench")
            } else {
                root.join("docs")
            }
        });
        let work = self
            .work_dir
            .unwrap_or_else(|| root.join("target").join("bench").join("work"));
        let opts = bench::Options {
            workspace,
            agent,
            agents,
            modes: self.modes,
            steps: self.steps,
            idle_secs,
            run_forge,
            work,
            quick: self.quick,
            out_dir: out_dir.clone(),
        };
        // On Ctrl-C or SIGTERM the run is dropped, and with it every agent process and anvil.
        let report = output::block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                report = bench::run(opts) => report,
                _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted; agents and anvil stopped"),
                _ = term.recv() => anyhow::bail!("terminated; agents and anvil stopped"),
            }
        })?;
        bench::write(&report, &out_dir)?;
        print!("{}", report.markdown());
        Ok(())
    }
}
