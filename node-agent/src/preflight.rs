//! Local start-up checks shared by `run` and `check-config` (the systemd `ExecStartPre` gate):
//! `state_dir` is a usable directory and the files the `[signer]` section references exist and
//! are readable. Without these, `check-config` would pass a config that `run` rejects at once.
//! Every error names the config file and the key.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use sankofa_keys::{SecretSource, SignerConfig};

use crate::config::Config;
use crate::error::{Error, Result};

fn bad(cfg_path: &Path, key: &str, message: String) -> Error {
    Error::Config {
        path: cfg_path.to_owned(),
        key: key.to_owned(),
        message,
    }
}

/// Checks that `state_dir` (the value of the config's `state_dir` key) is a directory the agent
/// can write, or can be created. Creates nothing that stays: writability is probed with a file
/// that is removed at once, because `access(2)` says yes to root even where a write fails
/// (`/proc`, read-only mounts).
pub fn check_state_dir(cfg_path: &Path, state_dir: &Path) -> Result<()> {
    let key = "state_dir";
    let shown = state_dir.display();
    match std::fs::metadata(state_dir) {
        Ok(m) if m.is_dir() => probe_writable(state_dir).map_err(|e| {
            bad(
                cfg_path,
                key,
                format!("`{shown}` is not writable ({e}); give the agent's user write access"),
            )
        }),
        Ok(_) => Err(bad(
            cfg_path,
            key,
            format!("`{shown}` is not a directory; point `state_dir` at a directory"),
        )),
        // Missing, or a path through a file (ENOTDIR): find what is in the way.
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            // It will be created: the nearest existing ancestor must be a writable directory.
            let mut ancestor = state_dir.parent();
            while let Some(a) = ancestor {
                match std::fs::metadata(a) {
                    Ok(m) if m.is_dir() => {
                        return probe_writable(a).map_err(|e| {
                            bad(
                                cfg_path,
                                key,
                                format!(
                                    "`{shown}` does not exist and cannot be created in `{}` ({e})",
                                    a.display()
                                ),
                            )
                        });
                    }
                    Ok(_) => {
                        return Err(bad(
                            cfg_path,
                            key,
                            format!(
                                "`{shown}` cannot be created: `{}` is not a directory",
                                a.display()
                            ),
                        ));
                    }
                    Err(e)
                        if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) =>
                    {
                        ancestor = a.parent()
                    }
                    Err(e) => {
                        return Err(bad(
                            cfg_path,
                            key,
                            format!("`{shown}` cannot be created: `{}`: {e}", a.display()),
                        ));
                    }
                }
            }
            Err(bad(
                cfg_path,
                key,
                format!("`{shown}` has no existing ancestor directory"),
            ))
        }
        Err(e) => Err(bad(cfg_path, key, format!("`{shown}`: {e}"))),
    }
}

/// Creates and removes a uniquely named file in `dir`.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".sankofa-agent-probe-{}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// Creates `state_dir` and the directories under it, after [`check_state_dir`]; each failure
/// names its key.
pub fn prepare_state_dir(cfg: &Config) -> Result<()> {
    check_state_dir(&cfg.path, &cfg.state_dir)?;
    for (key, dir) in [
        ("state_dir", cfg.state_dir.clone()),
        ("state_dir", cfg.log_dir()),
        ("executor.plan_cache", cfg.plan_cache.clone()),
    ] {
        std::fs::create_dir_all(&dir)
            .map_err(|e| bad(&cfg.path, key, format!("creating `{}`: {e}", dir.display())))?;
    }
    Ok(())
}

/// What [`check_signer_files`] could not check, for the operator to read.
pub type Unchecked = Vec<String>;

/// Checks that every file the `[signer]` section references exists and is readable: keystore,
/// PKCS#11 module, password/PIN/secret files. A `credential:<name>` is checked when
/// `$CREDENTIALS_DIRECTORY` is set (systemd passes it to `ExecStartPre` too); otherwise it is
/// listed in the returned notes.
pub fn check_signer_files(cfg_path: &Path, signer: &SignerConfig) -> Result<Unchecked> {
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty());
    check_signer_files_in(cfg_path, signer, credentials.as_deref().map(Path::new))
}

fn check_signer_files_in(
    cfg_path: &Path,
    signer: &SignerConfig,
    credentials: Option<&Path>,
) -> Result<Unchecked> {
    let mut files: Vec<(&str, PathBuf)> = Vec::new();
    let mut secrets: Vec<(&str, &SecretSource)> = Vec::new();
    match signer {
        SignerConfig::Keystore(c) => {
            files.push(("signer.path", c.path.clone()));
            secrets.push(("signer.password_file", &c.password_file));
        }
        SignerConfig::Yubihsm(c) => secrets.push(("signer.password_file", &c.password_file)),
        SignerConfig::Pkcs11(c) => {
            files.push(("signer.module", c.module.clone()));
            secrets.push(("signer.pin_file", &c.pin_file));
        }
        SignerConfig::Mockhsm(c) => {
            if let Some(s) = &c.secret_key_file {
                secrets.push(("signer.secret_key_file", s));
            }
        }
    }
    let mut unchecked = Vec::new();
    for (key, source) in secrets {
        match source {
            SecretSource::File(p) => files.push((key, p.clone())),
            SecretSource::Credential(name) => match credentials {
                Some(dir) => files.push((key, dir.join(name))),
                None => unchecked.push(format!(
                    "{key} = credential:{name} not checked ($CREDENTIALS_DIRECTORY is unset)"
                )),
            },
        }
    }
    for (key, path) in files {
        check_readable_file(cfg_path, key, &path)?;
    }
    Ok(unchecked)
}

fn check_readable_file(cfg_path: &Path, key: &str, path: &Path) -> Result<()> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).map_err(|e| bad(cfg_path, key, format!("`{shown}`: {e}")))?;
    if meta.is_dir() {
        return Err(bad(
            cfg_path,
            key,
            format!("`{shown}` is a directory, not a file"),
        ));
    }
    std::fs::File::open(path)
        .map(drop)
        .map_err(|e| bad(cfg_path, key, format!("`{shown}` is not readable: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cfg() -> &'static Path {
        Path::new("/etc/sankofa/agent.toml")
    }

    #[test]
    fn regress_state_dir_that_is_a_file_is_named_as_not_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("passwd");
        std::fs::write(&file, "x").unwrap();
        let err = check_state_dir(cfg(), &file).unwrap_err().to_string();
        assert!(
            err.contains("agent.toml")
                && err.contains("`state_dir`")
                && err.contains("is not a directory"),
            "{err}"
        );
        // A path below a file is refused too, naming the file.
        let err = check_state_dir(cfg(), &file.join("state"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a directory"), "{err}");
    }

    #[test]
    fn regress_unwritable_state_dir_is_refused() {
        // /proc refuses new entries even to root.
        let err = check_state_dir(cfg(), Path::new("/proc/sankofa"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`state_dir`") && err.contains("cannot be created"),
            "{err}"
        );
    }

    #[test]
    fn regress_existing_or_creatable_state_dir_passes_and_nothing_is_left() {
        let tmp = tempfile::tempdir().unwrap();
        check_state_dir(cfg(), tmp.path()).unwrap();
        check_state_dir(cfg(), &tmp.path().join("a/b/c")).unwrap();
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    fn keystore(path: &Path, password: &str) -> SignerConfig {
        SignerConfig::Keystore(sankofa_keys::KeystoreConfig {
            path: path.to_owned(),
            password_file: SecretSource::parse(password).unwrap(),
        })
    }

    #[test]
    fn regress_missing_signer_files_are_named_by_key() {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("agent.json");
        let pw = tmp.path().join("agent.password");
        let err = check_signer_files_in(cfg(), &keystore(&key, pw.to_str().unwrap()), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("agent.toml") && err.contains("`signer.path`"),
            "{err}"
        );
        std::fs::write(&key, "{}").unwrap();
        let err = check_signer_files_in(cfg(), &keystore(&key, pw.to_str().unwrap()), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`signer.password_file`"), "{err}");
        std::fs::write(&pw, "secret\n").unwrap();
        let notes =
            check_signer_files_in(cfg(), &keystore(&key, pw.to_str().unwrap()), None).unwrap();
        assert!(notes.is_empty());
    }

    #[test]
    fn regress_credentials_are_checked_only_when_the_directory_is_known() {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("agent.json");
        std::fs::write(&key, "{}").unwrap();
        let signer = keystore(&key, "credential:agent-pw");
        let notes = check_signer_files_in(cfg(), &signer, None).unwrap();
        assert!(
            notes.len() == 1 && notes[0].contains("credential:agent-pw"),
            "{notes:?}"
        );
        let err = check_signer_files_in(cfg(), &signer, Some(tmp.path()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`signer.password_file`") && err.contains("agent-pw"),
            "{err}"
        );
        std::fs::write(tmp.path().join("agent-pw"), "pw\n").unwrap();
        assert!(
            check_signer_files_in(cfg(), &signer, Some(tmp.path()))
                .unwrap()
                .is_empty()
        );
    }
}
