//! Opening the signers: `--keystore`/`--password-file` or `--private-key-file` flags (several
//! where a command accepts them, e.g. `vote`), else the `[signer]` section of `sankofa.toml` in
//! the keys crate's format (keystore, YubiHSM 2, PKCS#11).
//!
//! Passwords and keys are read from files only (never flags or config values), so they do not
//! end up in shell history or process listings.

use std::path::Path;

use alloy::{network::EthereumWallet, primitives::Address, signers::local::PrivateKeySigner};
use anyhow::{Context, bail};

use crate::config::{Settings, SignerArgs};

/// A ready signer: its address and the wallet that signs transactions.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) address: Address,
    pub(crate) wallet: EthereumWallet,
}

impl From<PrivateKeySigner> for Key {
    fn from(s: PrivateKeySigner) -> Self {
        Self {
            address: s.address(),
            wallet: EthereumWallet::from(s),
        }
    }
}

/// Opens every signer given by flags, or the one of `[signer]`.
pub(crate) async fn open_all(settings: &Settings) -> anyhow::Result<Vec<Key>> {
    let flags = &settings.signer_flags;
    if !(flags.keystore.is_empty() && flags.private_key_file.is_empty()) {
        return open_flags(flags);
    }
    match &settings.signer_config {
        Some(cfg) => {
            let signer = cfg
                .open()
                .await
                .context("opening the [signer] key from the config file")?;
            Ok(vec![Key {
                address: signer.address(),
                wallet: EthereumWallet::from(signer),
            }])
        }
        None => Ok(Vec::new()),
    }
}

/// Exactly one signer, for commands that send as one account.
pub(crate) async fn open_one(settings: &Settings) -> anyhow::Result<Key> {
    let mut all = open_all(settings).await?;
    match all.len() {
        0 => bail!(
            "this command sends transactions and needs a signer: pass --keystore FILE --password-file FILE, \
             or --private-key-file FILE (or set [signer] in sankofa.toml)"
        ),
        1 => Ok(all.remove(0)),
        n => bail!("this command signs as one account, but {n} signers were given"),
    }
}

fn open_flags(flags: &SignerArgs) -> anyhow::Result<Vec<Key>> {
    let mut out = Vec::new();
    if !flags.keystore.is_empty() {
        let passwords = &flags.password_file;
        if passwords.is_empty() {
            bail!("--keystore needs --password-file (a file holding the keystore password)");
        }
        if passwords.len() != 1 && passwords.len() != flags.keystore.len() {
            bail!(
                "{} keystores but {} password files: give one password file for all, or one per keystore",
                flags.keystore.len(),
                passwords.len()
            );
        }
        for (i, keystore) in flags.keystore.iter().enumerate() {
            let password_file = if passwords.len() == 1 {
                &passwords[0]
            } else {
                &passwords[i]
            };
            out.push(open_keystore(keystore, password_file)?.into());
        }
    }
    for file in &flags.private_key_file {
        out.push(open_key_file(file)?.into());
    }
    Ok(out)
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
