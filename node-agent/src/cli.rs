//! Command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The Sankofa node agent: runs approved step plans for its site and reports them on-chain.
#[derive(Debug, Parser)]
#[command(name = "sankofa-agent", version)]
pub struct Cli {
    /// The config file.
    #[arg(
        long,
        short,
        global = true,
        env = "SANKOFA_AGENT_CONFIG",
        default_value = "/etc/sankofa/agent.toml"
    )]
    pub config: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the agent (the systemd service's ExecStart).
    Run,
    /// Validate the config file and print what it resolves to.
    CheckConfig(crate::cmd::check_config::Args),
    /// Show the journal: cursor, deployments, steps and reports.
    Status(crate::cmd::status::Args),
    /// Manage the agent's signing key (the `[signer]` section).
    Keys {
        /// The keys subcommand.
        #[command(subcommand)]
        command: sankofa_keys::cli::KeysCommand,
    },
}
