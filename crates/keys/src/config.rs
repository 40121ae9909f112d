//! The `[signer]` config section: which backend holds the key, and where to find it.
//!
//! ```toml
//! [signer]
//! backend = "yubihsm"
//! connector = "http://127.0.0.1:12345"   # or "usb", or "usb:0012345678"
//! auth_key_id = 1
//! password_file = "credential:yubihsm-password"   # systemd LoadCredential, or a file path
//! key_id = 100
//! ```
//! ```toml
//! [signer]
//! backend = "pkcs11"
//! module = "/usr/lib/softhsm/libsofthsm2.so"
//! token_label = "sankofa"
//! pin_file = "/etc/sankofa/pkcs11-pin"
//! key_label = "agent-core-fra"
//! ```
//! ```toml
//! [signer]
//! backend = "keystore"                  # development and demo only
//! path = "dev/agent.json"
//! password_file = "dev/agent.password"
//! ```
//! Secrets are never inline: `password_file`/`pin_file` name a file or `credential:<name>`.

use std::{fmt, path::PathBuf, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::{
    any::AnySigner,
    error::{Error, Result},
    keystore,
    pkcs11::{Pkcs11Location, Pkcs11Signer},
    secret::SecretSource,
    yubihsm::YubiHsmDevice,
};

/// The signer section of the agent's and the deployer's config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum SignerConfig {
    /// An encrypted JSON keystore (development and demo only).
    Keystore(KeystoreConfig),
    /// A YubiHSM 2 through yubihsm-connector or USB.
    Yubihsm(YubiHsmConfig),
    /// Any PKCS#11 module (SoftHSM2, cloud HSMs, smart cards).
    Pkcs11(Pkcs11Config),
    /// An in-process yubihsm MockHsm; needs the `mockhsm` feature (debug builds only).
    Mockhsm(MockHsmConfig),
}

/// `backend = "keystore"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoreConfig {
    /// The keystore JSON file.
    pub path: PathBuf,
    /// Its password: a file path or `credential:<name>`.
    pub password_file: SecretSource,
}

/// `backend = "yubihsm"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YubiHsmConfig {
    /// `http://host:port` of yubihsm-connector, `usb`, or `usb:<serial>`.
    pub connector: HsmConnector,
    /// The authentication key's object id.
    pub auth_key_id: u16,
    /// The authentication key's password: a file path or `credential:<name>`.
    pub password_file: SecretSource,
    /// The signing key's object id (1..=65534).
    pub key_id: u16,
    /// Domains a generated key belongs to (1..=16); default `[1]`.
    #[serde(default = "default_domains")]
    pub domains: Vec<u8>,
}

/// `backend = "pkcs11"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The PKCS#11 module (shared library).
    pub module: PathBuf,
    /// The token label.
    pub token_label: String,
    /// The user PIN: a file path or `credential:<name>`.
    pub pin_file: SecretSource,
    /// The key's `CKA_LABEL`.
    pub key_label: String,
}

/// `backend = "mockhsm"`: a real yubihsm MockHsm in this process, for demos and tests.
///
/// Devices are shared by `device` name within a process. At open, an existing key is used;
/// otherwise the key in `secret_key_file` (32 hex-encoded bytes) is put on the device, which keeps
/// an address stable across restarts; without that file a fresh key is generated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockHsmConfig {
    /// The in-process device's name; default `default`.
    #[serde(default = "default_mock_device")]
    pub device: String,
    /// The signing key's object id.
    pub key_id: u16,
    /// Optional hex private key to load into the mock device (never use a real key here).
    #[serde(default)]
    pub secret_key_file: Option<SecretSource>,
}

fn default_domains() -> Vec<u8> {
    vec![1]
}

fn default_mock_device() -> String {
    "default".to_owned()
}

/// How to reach a YubiHSM 2.
#[derive(Clone, PartialEq, Eq)]
pub enum HsmConnector {
    /// yubihsm-connector over HTTP.
    Http {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// Directly over USB, optionally a device by serial number.
    Usb {
        /// The serial number, when several devices are plugged in.
        serial: Option<String>,
    },
}

impl FromStr for HsmConnector {
    type Err = String;

    fn from_str(raw: &str) -> std::result::Result<Self, String> {
        if raw == "usb" {
            return Ok(Self::Usb { serial: None });
        }
        if let Some(serial) = raw.strip_prefix("usb:") {
            if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{raw}`: a USB serial number is decimal digits"));
            }
            return Ok(Self::Usb {
                serial: Some(serial.to_owned()),
            });
        }
        let rest = raw.strip_prefix("http://").ok_or_else(|| {
            format!(
                "`{raw}` is not `http://host:port`, `usb` or `usb:<serial>` \
                 (yubihsm-connector speaks plain HTTP, normally on 127.0.0.1:12345)"
            )
        })?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("`{raw}` has no port (yubihsm-connector's default is 12345)"))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("`{raw}`: `{port}` is not a port"))?;
        if host.is_empty() || host.contains('/') {
            return Err(format!("`{raw}`: `{host}` is not a host name or address"));
        }
        Ok(Self::Http {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for HsmConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http { host, port } => write!(f, "http://{host}:{port}"),
            Self::Usb { serial: None } => f.write_str("usb"),
            Self::Usb {
                serial: Some(serial),
            } => write!(f, "usb:{serial}"),
        }
    }
}

impl fmt::Debug for HsmConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<'de> Deserialize<'de> for HsmConnector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for HsmConnector {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl HsmConnector {
    fn connector(&self) -> Result<yubihsm::Connector> {
        Ok(match self {
            Self::Http { host, port } => yubihsm::Connector::http(&yubihsm::HttpConfig {
                addr: host.clone(),
                port: *port,
                timeout_ms: yubihsm::connector::http::HttpConfig::default().timeout_ms,
            }),
            Self::Usb { serial } => {
                let serial = serial
                    .as_deref()
                    .map(|s| {
                        s.parse().map_err(|_| Error::Config {
                            field: "signer.connector",
                            reason: format!("`usb:{s}` is not a YubiHSM serial number"),
                        })
                    })
                    .transpose()?;
                yubihsm::Connector::usb(&yubihsm::UsbConfig {
                    serial,
                    timeout_ms: yubihsm::UsbConfig::DEFAULT_TIMEOUT_MILLIS,
                })
            }
        })
    }
}

impl SignerConfig {
    /// The backend's name as written in the config.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Keystore(_) => "keystore",
            Self::Yubihsm(_) => "yubihsm",
            Self::Pkcs11(_) => "pkcs11",
            Self::Mockhsm(_) => "mockhsm",
        }
    }

    /// Checks the fields that serde cannot: id ranges, label lengths, domains.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: &str| {
            Err(Error::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        match self {
            Self::Keystore(_) => Ok(()),
            Self::Yubihsm(c) => {
                if c.auth_key_id == 0 {
                    return bad("signer.auth_key_id", "object id 0 is not a valid key id");
                }
                if c.key_id == 0 || c.key_id == u16::MAX {
                    return bad("signer.key_id", "must be 1..=65534");
                }
                domains(&c.domains).map(|_| ())
            }
            Self::Pkcs11(c) => {
                if c.token_label.is_empty() || c.token_label.len() > 32 {
                    return bad("signer.token_label", "must be 1..=32 bytes");
                }
                if c.key_label.is_empty() {
                    return bad("signer.key_label", "must not be empty");
                }
                Ok(())
            }
            Self::Mockhsm(c) => {
                if c.key_id == 0 || c.key_id == u16::MAX {
                    return bad("signer.key_id", "must be 1..=65534");
                }
                Ok(())
            }
        }
    }

    /// Opens the configured key. Never falls back to another backend or key: any failure is
    /// returned as is.
    pub async fn open(&self) -> Result<AnySigner> {
        self.validate()?;
        match self {
            Self::Keystore(c) => {
                let password = c.password_file.read("keystore password")?;
                Ok(AnySigner::Keystore(
                    keystore::open(&c.path, password).await?,
                ))
            }
            Self::Yubihsm(c) => {
                let device = yubihsm_device(c).await?;
                Ok(AnySigner::YubiHsm(device.signer(c.key_id).await?))
            }
            Self::Pkcs11(c) => {
                let location = pkcs11_location(c)?;
                Ok(AnySigner::Pkcs11(
                    Pkcs11Signer::open(location, &c.key_label).await?,
                ))
            }
            Self::Mockhsm(c) => mock::open(c).await,
        }
    }

    /// Creates the key: on the device for the HSM backends (non-exportable), as a new random
    /// keystore file for `keystore`. Refuses to replace an existing key. `label` names the key on
    /// a YubiHSM (default `sankofa`); PKCS#11 uses `key_label`.
    pub async fn generate(&self, label: Option<&str>) -> Result<AnySigner> {
        self.validate()?;
        let label = label.unwrap_or("sankofa");
        match self {
            Self::Keystore(c) => {
                let password = c.password_file.read("keystore password")?;
                Ok(AnySigner::Keystore(
                    keystore::create(&c.path, password, None).await?,
                ))
            }
            Self::Yubihsm(c) => {
                let device = yubihsm_device(c).await?;
                let domains = domains(&c.domains)?;
                Ok(AnySigner::YubiHsm(
                    device.generate_key(c.key_id, label, domains).await?,
                ))
            }
            Self::Pkcs11(c) => {
                let location = pkcs11_location(c)?;
                Ok(AnySigner::Pkcs11(
                    Pkcs11Signer::generate(location, &c.key_label).await?,
                ))
            }
            Self::Mockhsm(c) => mock::generate(c, label).await,
        }
    }

    /// Writes `secret` into a new keystore file. Only the keystore backend imports keys: an HSM
    /// key is generated on the device so that it has never existed outside it.
    pub async fn import(&self, secret: Zeroizing<[u8; 32]>) -> Result<AnySigner> {
        match self {
            Self::Keystore(c) => {
                let password = c.password_file.read("keystore password")?;
                Ok(AnySigner::Keystore(
                    keystore::create(&c.path, password, Some(secret)).await?,
                ))
            }
            other => Err(Error::Unsupported {
                backend: other.backend(),
                operation: "import",
                hint: "HSM keys are generated on the device (`keys generate`) and never imported",
            }),
        }
    }
}

async fn yubihsm_device(c: &YubiHsmConfig) -> Result<YubiHsmDevice> {
    let password = c.password_file.read("yubihsm password")?;
    YubiHsmDevice::connect(
        c.connector.to_string(),
        c.connector.connector()?,
        c.auth_key_id,
        password,
    )
    .await
}

fn pkcs11_location(c: &Pkcs11Config) -> Result<Pkcs11Location> {
    Ok(Pkcs11Location {
        module: c.module.clone(),
        token_label: c.token_label.clone(),
        pin: c.pin_file.read("pkcs11 PIN")?,
    })
}

fn domains(list: &[u8]) -> Result<yubihsm::Domain> {
    if list.is_empty() {
        return Err(Error::Config {
            field: "signer.domains",
            reason: "list at least one domain (1..=16)".into(),
        });
    }
    list.iter().try_fold(yubihsm::Domain::empty(), |acc, &d| {
        let domain = yubihsm::Domain::at(usize::from(d)).map_err(|_| Error::Config {
            field: "signer.domains",
            reason: format!("{d} is not a domain; domains are 1..=16"),
        })?;
        Ok(acc | domain)
    })
}

#[cfg(feature = "mockhsm")]
mod mock {
    //! The in-process MockHsm devices, shared by name for the life of the process.

    use std::{
        collections::HashMap,
        sync::{LazyLock, Mutex},
    };

    use zeroize::Zeroizing;

    use super::MockHsmConfig;
    use crate::{
        any::AnySigner,
        error::{Error, Result},
        yubihsm::YubiHsmDevice,
    };

    /// Connector clones share the MockHsm state, so one per name is one device.
    static DEVICES: LazyLock<Mutex<HashMap<String, yubihsm::Connector>>> =
        LazyLock::new(Default::default);

    async fn device(name: &str) -> Result<YubiHsmDevice> {
        let connector = {
            let mut devices = DEVICES.lock().map_err(|_| Error::LockPoisoned {
                device: format!("mockhsm:{name}"),
            })?;
            devices
                .entry(name.to_owned())
                .or_insert_with(yubihsm::Connector::mockhsm)
                .clone()
        };
        // The MockHsm is provisioned with the factory-default authentication key.
        let password = Zeroizing::new("password".to_owned());
        YubiHsmDevice::connect(format!("mockhsm:{name}"), connector, 1, password).await
    }

    pub(super) async fn open(c: &MockHsmConfig) -> Result<AnySigner> {
        tracing::warn!(target: "keys::mockhsm", device = %c.device, "using an in-process MockHsm: for demos and tests only");
        let device = device(&c.device).await?;
        match device.signer(c.key_id).await {
            Ok(signer) => return Ok(AnySigner::YubiHsm(signer)),
            Err(Error::HsmKeyNotFound { .. }) => {}
            Err(err) => return Err(err),
        }
        let signer = match &c.secret_key_file {
            Some(source) => {
                let hex = source.read("mockhsm secret key")?;
                let secret = parse_secret(&hex).map_err(|reason| Error::Config {
                    field: "signer.secret_key_file",
                    reason: format!("{source}: {reason}"),
                })?;
                device
                    .import_key(c.key_id, "sankofa-mock", secret, yubihsm::Domain::DOM1)
                    .await?
            }
            None => {
                device
                    .generate_key(c.key_id, "sankofa-mock", yubihsm::Domain::DOM1)
                    .await?
            }
        };
        Ok(AnySigner::YubiHsm(signer))
    }

    pub(super) async fn generate(c: &MockHsmConfig, label: &str) -> Result<AnySigner> {
        let device = device(&c.device).await?;
        Ok(AnySigner::YubiHsm(
            device
                .generate_key(c.key_id, label, yubihsm::Domain::DOM1)
                .await?,
        ))
    }

    fn parse_secret(hex_key: &str) -> std::result::Result<Zeroizing<[u8; 32]>, String> {
        let trimmed = hex_key.trim().trim_start_matches("0x");
        let mut out = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(trimmed, out.as_mut_slice())
            .map_err(|e| format!("expected 32 hex-encoded bytes: {e}"))?;
        k256::SecretKey::from_slice(out.as_slice())
            .map_err(|_| "not a valid secp256k1 private key".to_owned())?;
        Ok(out)
    }
}

#[cfg(not(feature = "mockhsm"))]
mod mock {
    use super::MockHsmConfig;
    use crate::{
        any::AnySigner,
        error::{Error, Result},
    };

    const NOT_BUILT: Error = Error::BackendNotBuilt {
        backend: "mockhsm",
        feature: "mockhsm",
    };

    pub(super) async fn open(_: &MockHsmConfig) -> Result<AnySigner> {
        Err(NOT_BUILT)
    }

    pub(super) async fn generate(_: &MockHsmConfig, _: &str) -> Result<AnySigner> {
        Err(NOT_BUILT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<SignerConfig, toml::de::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            signer: SignerConfig,
        }
        toml::from_str::<File>(text).map(|f| f.signer)
    }

    #[test]
    fn parses_each_backend() {
        let y = parse(
            "[signer]\nbackend = \"yubihsm\"\nconnector = \"http://127.0.0.1:12345\"\n\
             auth_key_id = 1\npassword_file = \"credential:hsm\"\nkey_id = 100\n",
        )
        .unwrap();
        let SignerConfig::Yubihsm(c) = &y else {
            panic!("{y:?}")
        };
        assert_eq!(
            c.connector,
            HsmConnector::Http {
                host: "127.0.0.1".into(),
                port: 12345
            }
        );
        assert_eq!(c.password_file, SecretSource::Credential("hsm".into()));
        assert_eq!(c.domains, vec![1]);
        y.validate().unwrap();

        let p = parse(
            "[signer]\nbackend = \"pkcs11\"\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\n\
             token_label = \"t\"\npin_file = \"/run/pin\"\nkey_label = \"k\"\n",
        )
        .unwrap();
        assert_eq!(p.backend(), "pkcs11");
        let k =
            parse("[signer]\nbackend = \"keystore\"\npath = \"a.json\"\npassword_file = \"p\"\n")
                .unwrap();
        assert_eq!(k.backend(), "keystore");
        let m = parse("[signer]\nbackend = \"mockhsm\"\nkey_id = 5\n").unwrap();
        assert_eq!(
            m,
            SignerConfig::Mockhsm(MockHsmConfig {
                device: "default".into(),
                key_id: 5,
                secret_key_file: None
            })
        );
    }

    #[test]
    fn rejects_unknown_fields_and_inline_secrets() {
        let err = parse(
            "[signer]\nbackend = \"keystore\"\npath = \"a.json\"\npassword_file = \"p\"\npassword = \"hunter2\"\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `password`"),
            "{err}"
        );
        let err = parse("[signer]\nbackend = \"aws\"\n").unwrap_err();
        assert!(err.to_string().contains("unknown variant `aws`"), "{err}");
    }

    #[test]
    fn connector_forms() {
        assert_eq!(
            "usb".parse::<HsmConnector>().unwrap(),
            HsmConnector::Usb { serial: None }
        );
        assert_eq!(
            "usb:0012345678"
                .parse::<HsmConnector>()
                .unwrap()
                .to_string(),
            "usb:0012345678"
        );
        for bad in [
            "https://h:1",
            "http://h",
            "http://:1",
            "http://h:99999",
            "usb:abc",
            "tcp://h:1",
        ] {
            assert!(bad.parse::<HsmConnector>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn validation_names_the_field() {
        let c = SignerConfig::Yubihsm(YubiHsmConfig {
            connector: HsmConnector::Usb { serial: None },
            auth_key_id: 1,
            password_file: SecretSource::File("p".into()),
            key_id: 0,
            domains: vec![1],
        });
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("signer.key_id")
        );
        let SignerConfig::Yubihsm(mut y) = c else {
            unreachable!()
        };
        y.key_id = 3;
        y.domains = vec![17];
        let err = SignerConfig::Yubihsm(y).validate().unwrap_err();
        assert!(err.to_string().contains("signer.domains"), "{err}");
    }
}
