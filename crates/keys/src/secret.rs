//! Where passwords and PINs come from: a file, or a systemd credential. Never argv, env or config.

use std::{
    ffi::OsStr,
    fmt,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The prefix that names a systemd credential instead of a path.
const CREDENTIAL_PREFIX: &str = "credential:";

/// A reference to a secret, as written in the config: either a file path (`/etc/sankofa/pin`), or
/// `credential:<name>`, read from `$CREDENTIALS_DIRECTORY/<name>` (systemd `LoadCredential=`).
///
/// The config holds only this reference, never the secret. The secret is the file's first line,
/// without its line ending, so `echo pin > file` works.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A file path.
    File(PathBuf),
    /// The name of a systemd credential.
    Credential(String),
}

impl SecretSource {
    /// Parses the config form (`credential:<name>` or a path).
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        if let Some(name) = raw.strip_prefix(CREDENTIAL_PREFIX) {
            // systemd credential names are file names inside $CREDENTIALS_DIRECTORY.
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(format!(
                    "`{raw}` is not a valid systemd credential name (a file name, no `/`)"
                ));
            }
            return Ok(Self::Credential(name.to_owned()));
        }
        if raw.trim().is_empty() {
            return Err("the path of the secret file is empty".to_owned());
        }
        Ok(Self::File(PathBuf::from(raw)))
    }

    /// The file the secret is read from, resolving a credential against `$CREDENTIALS_DIRECTORY`.
    pub fn path(&self, what: &'static str) -> Result<PathBuf> {
        self.path_in(what, std::env::var_os("CREDENTIALS_DIRECTORY").as_deref())
    }

    /// [`Self::path`] with the credentials directory given (tests cannot safely set env vars).
    fn path_in(&self, what: &'static str, credentials_dir: Option<&OsStr>) -> Result<PathBuf> {
        match self {
            Self::File(path) => Ok(path.clone()),
            Self::Credential(name) => match credentials_dir {
                Some(dir) if !dir.is_empty() => Ok(Path::new(dir).join(name)),
                _ => Err(Error::CredentialsDirectoryUnset {
                    what,
                    name: name.clone(),
                }),
            },
        }
    }

    /// Reads the secret. `what` names it in errors ("yubihsm password").
    pub fn read(&self, what: &'static str) -> Result<Zeroizing<String>> {
        let path = self.path(what)?;
        let raw =
            Zeroizing::new(
                std::fs::read_to_string(&path).map_err(|source| Error::SecretRead {
                    what,
                    path: path.clone(),
                    source,
                })?,
            );
        let first = raw.lines().next().unwrap_or_default();
        if first.is_empty() {
            return Err(Error::SecretEmpty { what, path });
        }
        Ok(Zeroizing::new(first.to_owned()))
    }
}

// Shows where the secret lives, which is not itself secret.
impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Credential(name) => write!(f, "{CREDENTIAL_PREFIX}{name}"),
        }
    }
}

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl Serialize for SecretSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_first_line_without_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, "1234\r\nignored\n").unwrap();
        let secret = SecretSource::File(path).read("pin").unwrap();
        assert_eq!(secret.as_str(), "1234");
    }

    #[test]
    fn empty_and_missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, "\n").unwrap();
        let err = SecretSource::File(path.clone()).read("pin").unwrap_err();
        assert!(matches!(err, Error::SecretEmpty { .. }), "{err}");
        assert!(err.to_string().contains(&path.display().to_string()));

        let missing = dir.path().join("nope");
        let err = SecretSource::File(missing.clone()).read("pin").unwrap_err();
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn credentials_resolve_in_the_systemd_directory() {
        let source = SecretSource::Credential("hsm-pin".into());
        let dir = OsStr::new("/run/credentials/sankofa-agent.service");
        assert_eq!(
            source.path_in("pin", Some(dir)).unwrap(),
            Path::new("/run/credentials/sankofa-agent.service/hsm-pin")
        );
        let err = source.path_in("pin", None).unwrap_err();
        assert!(err.to_string().contains("LoadCredential=hsm-pin"), "{err}");
        let file = SecretSource::File("/etc/pin".into());
        assert_eq!(
            file.path_in("pin", Some(dir)).unwrap(),
            Path::new("/etc/pin")
        );
    }

    #[test]
    fn credential_names_are_checked() {
        assert_eq!(
            SecretSource::parse("credential:hsm-pin").unwrap(),
            SecretSource::Credential("hsm-pin".into())
        );
        assert!(SecretSource::parse("credential:../etc/shadow").is_err());
        assert!(SecretSource::parse("credential:").is_err());
        assert!(SecretSource::parse("").is_err());
        assert_eq!(
            SecretSource::parse("/run/pin").unwrap().to_string(),
            "/run/pin"
        );
    }
}
