//! `sankofa compile`: contracts/src -> abi/artifacts, with the pinned solc-js, never the network.

use std::path::PathBuf;

use anyhow::bail;

use crate::{compiler, workspace::Workspace};

/// Compile the contracts and write `abi/artifacts/*.json`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The Sankofa checkout (default: found from the current directory).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Write nothing; fail if abi/artifacts differs from a fresh compile by a single byte.
    #[arg(long)]
    check: bool,
}

impl Args {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let ws = Workspace::locate(self.root.as_deref())?;
        let files = compiler::compile(&ws)?;
        if self.check {
            let problems = compiler::drift(&ws, &files)?;
            if !problems.is_empty() {
                bail!(
                    "abi/ is out of date with contracts/src ({}); run `sankofa compile` and commit abi/",
                    problems.join("; ")
                );
            }
            println!(
                "abi/artifacts matches contracts/src ({} artifacts)",
                files.len()
            );
        } else {
            compiler::write_artifacts(&ws, &files)?;
            println!(
                "wrote {} artifacts to {}",
                files.len(),
                ws.artifacts_dir().display()
            );
        }
        Ok(())
    }
}
