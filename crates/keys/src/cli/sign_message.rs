//! `keys sign-message`: proves the key signs, end to end through the device.

use std::io::Write;

use alloy::signers::Signer;
use clap::Args;
use serde::Serialize;

use crate::{
    config::SignerConfig,
    error::{Error, Result},
};

/// Arguments of `keys sign-message`.
#[derive(Debug, Clone, Args)]
pub struct SignMessageArgs {
    /// The message to sign (EIP-191 personal message).
    #[arg(long, default_value = "sankofa keys test message")]
    pub message: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Signed<'a> {
    address: String,
    message: &'a str,
    signature: String,
    recovered: String,
}

impl SignMessageArgs {
    pub(super) async fn run(&self, config: &SignerConfig, out: &mut dyn Write) -> Result<()> {
        let signer = config.open().await?;
        let signature = signer
            .sign_message(self.message.as_bytes())
            .await
            .map_err(|e| Error::MalformedSignature {
                reason: format!("signing the test message failed: {e}"),
            })?;
        // Check what a verifier would: the signature must recover to this key's address.
        let recovered = signature
            .recover_address_from_msg(self.message.as_bytes())
            .map_err(|_| Error::SignatureMismatch {
                address: signer.address(),
            })?;
        if recovered != signer.address() {
            return Err(Error::SignatureMismatch {
                address: signer.address(),
            });
        }
        let report = Signed {
            address: signer.address().to_checksum(None),
            message: &self.message,
            signature: format!("0x{}", hex::encode(signature.as_bytes())),
            recovered: recovered.to_checksum(None),
        };
        if self.json {
            serde_json::to_writer(&mut *out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            writeln!(out, "address:   {}", report.address)?;
            writeln!(out, "message:   {:?}", report.message)?;
            writeln!(out, "signature: {}", report.signature)?;
            writeln!(out, "recovers:  {} (ok)", report.recovered)?;
        }
        Ok(())
    }
}
