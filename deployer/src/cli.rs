//! The command line: one subcommand per file in `cmd/`.

use clap::{Parser, Subcommand};

use crate::cmd;

/// Sankofa: on-chain controlled rollouts. Operators, council members and auditors use this tool.
#[derive(Debug, Parser)]
#[command(name = "sankofa", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). `RUST_LOG` overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile contracts/src with the pinned solc and write abi/artifacts deterministically.
    Compile(cmd::compile::Args),
    /// Generate chain genesis files (Besu QBFT).
    Genesis(cmd::genesis::Args),
    /// Run a local anvil chain (the pinned one) and print its endpoints.
    Devnet(cmd::devnet::Args),
    /// Deploy and wire every contract; re-running verifies instead of redeploying.
    Deploy(cmd::deploy::Args),
    /// Register and inspect sites.
    Sites(cmd::sites::Args),
    /// The QBFT validator set: list, propose changes.
    Validators(cmd::validators::Args),
    /// The council: list, propose members.
    Council(cmd::council::Args),
    /// Agent keys: bind/rotate/revoke (proposals) and the local signing key.
    Keys(cmd::keys::Args),
    /// Propose a rollout decision (phase, wave, rollback).
    Propose(cmd::propose::Args),
    /// Vote on a proposal.
    Vote(cmd::vote::Args),
    /// Queue a succeeded proposal in the timelock.
    Queue(cmd::queue::Args),
    /// Execute a queued proposal.
    Execute(cmd::execute::Args),
    /// Inspect proposals.
    Proposals(cmd::proposals::Args),
    /// The rollout at a glance: phase criteria, sites by status, waves, failures, validators.
    Status(cmd::status::Args),
    /// Besu node configuration rendered from the registry.
    Besu(cmd::besu::Args),
    /// Verify provenance from the chain: timelines, approvals, signers, digests.
    Audit(cmd::audit::Args),
    /// Measure gas, event-to-action latency, throughput and agent resources (docs/benchmarks.md).
    Bench(cmd::bench::Args),
    /// Follow the rollout live until a phase's criteria hold or every site in flight settled.
    Watch(cmd::watch::Args),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Compile(args) => args.run(),
            Command::Genesis(args) => args.run(),
            Command::Devnet(args) => args.run(),
            Command::Deploy(args) => args.run(),
            Command::Sites(args) => args.run(),
            Command::Validators(args) => args.run(),
            Command::Council(args) => args.run(),
            Command::Keys(args) => args.run(),
            Command::Propose(args) => args.run(),
            Command::Vote(args) => args.run(),
            Command::Queue(args) => args.run(),
            Command::Execute(args) => args.run(),
            Command::Proposals(args) => args.run(),
            Command::Status(args) => args.run(),
            Command::Besu(args) => args.run(),
            Command::Audit(args) => args.run(),
            Command::Bench(args) => args.run(),
            Command::Watch(args) => args.run(),
        }
    }
}

/// Logs go to stderr so that `--json` output on stdout stays machine-readable.
pub(crate) fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info,sankofa=info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
