//! Opening the signers named by `[signer]` / `--keystore` / `--private-key-file`.
//!
//! Passwords and keys are read from files only (never flags or config values), so they do not
//! end up in shell history or process listings.

use std::path::Path;

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};

use crate::config::RawSigner;

/// Opens every configured signer (keystores first, then key files).
pub(crate) fn open_all(cfg: &RawSigner) -> anyhow::Result<Vec<PrivateKeySigner>> {
    let mut out = Vec::new();
    if !cfg.keystore.is_empty() {
        let passwords = &cfg.password_file;
        if passwords.is_empty() {
            bail!("--keystore needs --password-file (a file holding the keystore password)");
        }
        if passwords.len() != 1 && passwords.len() != cfg.keystore.len() {
            bail!(
                "{} keystores but {} password files: give one password file for all, or one per keystore",
                cfg.keystore.len(),
                passwords.len()
            );
        }
        for (i, keystore) in cfg.keystore.iter().enumerate() {
            let password_file = if passwords.len() == 1 {
                &passwords[0]
            } else {
                &passwords[i]
            };
            out.push(open_keystore(keystore, password_file)?);
        }
    }
    for file in &cfg.private_key_file {
        out.push(open_key_file(file)?);
    }
    Ok(out)
}

/// Exactly one signer, for commands that send as one account.
pub(crate) fn open_one(cfg: &RawSigner) -> anyhow::Result<PrivateKeySigner> {
    let mut all = open_all(cfg)?;
    match all.len() {
        0 => bail!(
            "this command sends transactions and needs a signer: pass --keystore FILE --password-file FILE, \
             or --private-key-file FILE (or set them in sankofa.toml [signer])"
        ),
        1 => Ok(all.remove(0)),
        n => bail!("this command signs as one account, but {n} signers were given"),
    }
}

fn open_keystore(keystore: &Path, password_file: &Path) -> anyhow::Result<PrivateKeySigner> {
    let password = std::fs::read_to_string(password_file)
        .with_context(|| format!("reading the password file {}", password_file.display()))?;
    PrivateKeySigner::decrypt_keystore(keystore, password.trim_end_matches(['\r', '\n']))
        .with_context(|| {
            format!(
                "opening keystore {} (wrong password in {}, or not a keystore)",
                keystore.display(),
                password_file.display()
            )
        })
}

fn open_key_file(file: &Path) -> anyhow::Result<PrivateKeySigner> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the private key file {}", file.display()))?;
    text.trim()
        .parse::<PrivateKeySigner>()
        .map_err(|_| anyhow::anyhow!("{}: not a hex secp256k1 private key", file.display()))
}
