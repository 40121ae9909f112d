//! The keystore signer: a standard encrypted JSON keystore (scrypt + AES-128-CTR, as geth and
//! foundry write them). For development and the demo only: the key is in process memory while
//! the signer lives, which is exactly what the HSM backends avoid.

use std::path::{Path, PathBuf};

use alloy::signers::local::{LocalSignerError, PrivateKeySigner};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Decrypts the keystore at `path` with `password`. Scrypt is deliberately slow, so this runs on
/// the blocking pool.
pub async fn open(path: &Path, password: Zeroizing<String>) -> Result<PrivateKeySigner> {
    let file = path.to_path_buf();
    let signer = tokio::task::spawn_blocking(move || {
        PrivateKeySigner::decrypt_keystore(&file, password.as_bytes())
            .map_err(|err| keystore_error(&file, err))
    })
    .await
    .map_err(|source| Error::Task {
        operation: "keystore decrypt",
        source,
    })??;
    tracing::info!(target: "keys::keystore", path = %path.display(), address = %signer.address(), "keystore signer ready (development only)");
    Ok(signer)
}

/// Writes a new keystore at `path` holding `secret` (or a fresh random key when `None`),
/// encrypted with `password`. Refuses to overwrite an existing file.
pub async fn create(
    path: &Path,
    password: Zeroizing<String>,
    secret: Option<Zeroizing<[u8; 32]>>,
) -> Result<PrivateKeySigner> {
    let file = path.to_path_buf();
    if file.exists() {
        return Err(Error::Keystore {
            path: file,
            reason: "already exists; refusing to overwrite a key (move it away first)".to_owned(),
        });
    }
    let (dir, name) = split(&file)?;
    let signer = tokio::task::spawn_blocking(move || {
        let secret = match secret {
            Some(secret) => secret,
            None => Zeroizing::new(PrivateKeySigner::random().to_bytes().0),
        };
        let mut rng = rand08::rngs::OsRng;
        PrivateKeySigner::encrypt_keystore(
            &dir,
            &mut rng,
            secret.as_slice(),
            password.as_bytes(),
            Some(&name),
        )
        .map(|(signer, _uuid)| signer)
        .map_err(|err| keystore_error(&file, err))
    })
    .await
    .map_err(|source| Error::Task {
        operation: "keystore encrypt",
        source,
    })??;
    Ok(signer)
}

fn split(path: &Path) -> Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Keystore {
            path: path.to_path_buf(),
            reason: "the keystore path must end in a UTF-8 file name".to_owned(),
        })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::Keystore {
            path: path.to_path_buf(),
            reason: format!("directory {} does not exist", dir.display()),
        });
    }
    Ok((dir, name.to_owned()))
}

fn keystore_error(path: &Path, err: LocalSignerError) -> Error {
    match err {
        LocalSignerError::EthKeystoreError(eth_keystore::KeystoreError::MacMismatch) => {
            Error::KeystorePassword {
                path: path.to_path_buf(),
            }
        }
        other => Error::Keystore {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}
