//! `keys show`.

use std::io::Write;

use clap::Args;

use super::KeyReport;
use crate::{config::SignerConfig, error::Result};

/// Arguments of `keys show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl ShowArgs {
    pub(super) async fn run(&self, config: &SignerConfig, out: &mut dyn Write) -> Result<()> {
        let signer = config.open().await?;
        KeyReport::new(&signer).print(self.json, out)
    }
}
