//! `keys generate`.

use std::io::Write;

use clap::Args;

use super::KeyReport;
use crate::{config::SignerConfig, error::Result};

/// Arguments of `keys generate`.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Label stored with a YubiHSM key (PKCS#11 uses the config's `key_label`).
    #[arg(long, default_value = "sankofa")]
    pub label: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl GenerateArgs {
    pub(super) async fn run(&self, config: &SignerConfig, out: &mut dyn Write) -> Result<()> {
        let signer = config.generate(Some(&self.label)).await?;
        KeyReport::new(&signer).print(self.json, out)?;
        if !self.json {
            writeln!(
                out,
                "next: bind this address on chain (governance `bindAgentKey`)"
            )?;
        }
        Ok(())
    }
}
