//! `keys import`: a known private key into a new keystore file (development only).

use std::{io::Write, path::PathBuf};

use clap::Args;
use zeroize::Zeroizing;

use super::KeyReport;
use crate::{
    config::SignerConfig,
    error::{Error, Result},
    secret::SecretSource,
};

/// Arguments of `keys import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// File holding the hex private key (never given on the command line, where `ps` shows it).
    #[arg(long)]
    pub private_key_file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl ImportArgs {
    pub(super) async fn run(&self, config: &SignerConfig, out: &mut dyn Write) -> Result<()> {
        let hex_key = SecretSource::File(self.private_key_file.clone()).read("private key")?;
        let mut secret = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(
            hex_key.trim().trim_start_matches("0x"),
            secret.as_mut_slice(),
        )
        .map_err(|e| Error::Config {
            field: "--private-key-file",
            reason: format!(
                "{}: expected 32 hex-encoded bytes: {e}",
                self.private_key_file.display()
            ),
        })?;
        let signer = config.import(secret).await?;
        KeyReport::new(&signer).print(self.json, out)
    }
}
