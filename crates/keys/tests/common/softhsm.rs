//! A SoftHSM2 token made by scripts/softhsm/init-token in a fresh directory per test run.

use std::{path::PathBuf, process::Command, sync::OnceLock};

use sankofa_keys::{Pkcs11Config, SecretSource, SignerConfig};

/// Debian's path of the SoftHSM2 PKCS#11 module.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The token the tests use.
pub const TOKEN: &str = "sankofa-test";
/// A second token that is only ever opened with a wrong PIN, so its refusal is the token's own.
pub const WRONG_PIN_TOKEN: &str = "sankofa-wrong-pin";

/// The run's SoftHSM2 state: where the PIN files are.
pub struct SoftHsm {
    pub dir: PathBuf,
    pub pin_file: PathBuf,
}

static SOFTHSM: OnceLock<Option<SoftHsm>> = OnceLock::new();

/// Sets up SoftHSM2 once per test binary. `None` (with a loud message) only when SoftHSM2 cannot
/// be installed on this machine at all (init-token exit code 3) and `SANKOFA_REQUIRE_SOFTHSM` is
/// unset; any other failure panics.
pub fn softhsm() -> Option<&'static SoftHsm> {
    SOFTHSM.get_or_init(init).as_ref()
}

fn init() -> Option<SoftHsm> {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    remove_stale_runs(&root);
    let dir = root.join(format!("softhsm-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).expect("create the SoftHSM2 state dir");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/softhsm/init-token"
    );
    let pin_file = dir.join("user-pin");
    for (label, pin) in [
        (TOKEN, pin_file.clone()),
        (WRONG_PIN_TOKEN, dir.join("other-pin")),
    ] {
        let output = Command::new(script)
            .arg(&dir)
            .arg(label)
            .arg(&pin)
            .output()
            .expect("run scripts/softhsm/init-token");
        if !output.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        }
        match output.status.code() {
            Some(0) => {}
            // scripts/test installs SoftHSM2 itself, so there a missing one is a failure.
            Some(3) if std::env::var_os("SANKOFA_REQUIRE_SOFTHSM").is_some() => panic!(
                "SoftHSM2 is missing and SANKOFA_REQUIRE_SOFTHSM is set (scripts/test installs \
                 it in scripts/setup): see the init-token output above"
            ),
            Some(3) => {
                eprintln!(
                    "\n!!!!!!!! SKIPPING SoftHSM2 TESTS: SoftHSM2 is not installed and cannot be \
                     installed on this machine (see the init-token output above) !!!!!!!!\n"
                );
                return None;
            }
            other => panic!("scripts/softhsm/init-token failed with {other:?}"),
        }
    }
    // SAFETY: called once, inside OnceLock initialisation, before any PKCS#11 library is loaded;
    // the other test threads of this binary are blocked on the same OnceLock, so nothing reads
    // the environment concurrently. SoftHSM2 only reads SOFTHSM2_CONF in C_Initialize.
    unsafe { std::env::set_var("SOFTHSM2_CONF", dir.join("softhsm2.conf")) };
    Some(SoftHsm { dir, pin_file })
}

/// Token dirs of earlier runs (nextest makes one per test process): drop those over an hour old.
fn remove_stale_runs(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600));
        if old && entry.file_name().to_string_lossy().starts_with("softhsm-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

impl SoftHsm {
    /// A pkcs11 signer config for `key_label` on the test token.
    pub fn config(&self, key_label: &str) -> SignerConfig {
        SignerConfig::Pkcs11(Pkcs11Config {
            module: PathBuf::from(MODULE),
            token_label: TOKEN.to_owned(),
            pin_file: SecretSource::File(self.pin_file.clone()),
            key_label: key_label.to_owned(),
        })
    }
}
