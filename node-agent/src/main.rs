//! `sankofa-agent`: parse the command line, init tracing, run, map errors to the exit code.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use sankofa_agent::cli::{Cli, Command};
use sankofa_agent::config::{Config, LogFormat};
use sankofa_agent::service;

fn init_tracing(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    // Under systemd, journald stamps each line itself and colours would be noise.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match (format, journald) {
        (LogFormat::Json, _) => builder.json().init(),
        (LogFormat::Text, true) => builder.without_time().with_ansi(false).init(),
        (LogFormat::Text, false) => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Run) {
        // The one-shot commands print for people and pipes: `sankofa-agent status | head` ends
        // quietly when the pipe closes, as Unix tools do, instead of panicking in println!.
        // The service keeps Rust's default (EPIPE as an error), so a closed log stream never
        // kills a running agent.
        // SAFETY: first thing in main, before any thread exists; it only restores a signal's
        // default disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match real_main(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sankofa-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main(cli: Cli) -> anyhow::Result<()> {
    let cfg = Config::load(&cli.config)?;
    // One thread: the agent mostly waits, and 113 of them share a small host in the demo.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()?;
    match cli.command {
        Command::Run => {
            init_tracing(cfg.log_format, &cfg.log_filter);
            rt.block_on(service::run(cfg))
        }
        Command::CheckConfig(args) => rt.block_on(args.run(&cfg)),
        Command::Status(args) => args.run(&cfg),
        Command::Keys { command } => {
            init_tracing(cfg.log_format, "warn");
            rt.block_on(command.run(&cfg.signer)).map_err(Into::into)
        }
    }
}
