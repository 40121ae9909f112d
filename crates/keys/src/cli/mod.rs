//! `keys` subcommands, mounted by both binaries (`sankofa keys …`, `sankofa-agent keys …`).
//!
//! Each binary reads its own config file and passes the `[signer]` section to [`KeysCommand::run`].

use std::io::Write;

use clap::Subcommand;
use serde::Serialize;

use crate::{any::AnySigner, config::SignerConfig, ecdsa::uncompressed, error::Result};

mod generate;
mod import;
mod show;
mod sign_message;

pub use generate::GenerateArgs;
pub use import::ImportArgs;
pub use show::ShowArgs;
pub use sign_message::SignMessageArgs;

/// Manage the signing key selected by the `[signer]` config section.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Generate the key in the HSM (non-exportable), or a new keystore file, and show it.
    Generate(GenerateArgs),
    /// Show the key's address and public key.
    Show(ShowArgs),
    /// Sign a test message (EIP-191) and check that it recovers to the key's address.
    SignMessage(SignMessageArgs),
    /// Import a private key into a new keystore file (keystore backend only; development).
    Import(ImportArgs),
}

impl KeysCommand {
    /// Runs the command against `config`, printing to stdout.
    pub async fn run(&self, config: &SignerConfig) -> Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        self.run_with_output(config, &mut out).await
    }

    /// Runs the command, writing its output to `out` (tests capture it).
    pub async fn run_with_output(&self, config: &SignerConfig, out: &mut dyn Write) -> Result<()> {
        match self {
            Self::Generate(args) => args.run(config, out).await,
            Self::Show(args) => args.run(config, out).await,
            Self::SignMessage(args) => args.run(config, out).await,
            Self::Import(args) => args.run(config, out).await,
        }
    }
}

/// What `generate`, `show` and `import` print; stable JSON with `--json`.
#[derive(Debug, Serialize)]
struct KeyReport {
    backend: &'static str,
    location: String,
    address: String,
    public_key: String,
}

impl KeyReport {
    fn new(signer: &AnySigner) -> Self {
        Self {
            backend: signer.backend(),
            location: signer.location(),
            address: signer.address().to_checksum(None),
            public_key: format!("0x{}", hex::encode(uncompressed(&signer.public_key()))),
        }
    }

    fn print(&self, json: bool, out: &mut dyn Write) -> Result<()> {
        if json {
            serde_json::to_writer(&mut *out, self).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            writeln!(out, "backend:    {}", self.backend)?;
            writeln!(out, "location:   {}", self.location)?;
            writeln!(out, "address:    {}", self.address)?;
            writeln!(out, "public key: {}", self.public_key)?;
        }
        Ok(())
    }
}
