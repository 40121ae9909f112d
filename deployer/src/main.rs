//! `sankofa`: the operators' and council members' CLI (see `cli.rs` for the commands).

mod artifacts;
mod audit;
mod bench;
mod cli;
mod cmd;
mod compiler;
mod config;
mod contracts;
mod deployment;
mod genesis;
mod governance;
mod in_flight;
mod inventory;
mod output;
mod plan;
mod registry;
mod rpc;
mod signer;
mod workspace;

use std::process::ExitCode;

fn main() -> ExitCode {
    output::exit_cleanly_on_output_errors();
    let cli = <cli::Cli as clap::Parser>::parse();
    cli::init_tracing(cli.verbose);
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: what failed and why.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
