//! The one error type of this crate.

use std::path::PathBuf;

use alloy::primitives::{Address, B256};

use crate::guard::ReportKind;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading, using or guarding a signing key.
///
/// Every message names the file, field, device or key concerned and says what to do. No variant
/// is ever answered by falling back to another key: the caller gets the error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A secret (password or PIN) file could not be read.
    #[error("cannot read {what} from {}: {source}; check the path and its permissions", path.display())]
    SecretRead {
        /// Which secret, e.g. "yubihsm password".
        what: &'static str,
        /// The file tried.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// A secret file exists but holds nothing usable.
    #[error("{what} file {} is empty; write the secret on its first line", path.display())]
    SecretEmpty {
        /// Which secret.
        what: &'static str,
        /// The file read.
        path: PathBuf,
    },

    /// A systemd credential was named but the process was not started with credentials.
    #[error(
        "{what} comes from systemd credential `{name}` but $CREDENTIALS_DIRECTORY is not set; \
         add `LoadCredential={name}:<file>` to the unit or use a file path instead"
    )]
    CredentialsDirectoryUnset {
        /// Which secret.
        what: &'static str,
        /// The credential name.
        name: String,
    },

    /// The signer configuration is invalid.
    #[error("signer config: field `{field}`: {reason}")]
    Config {
        /// The offending field, e.g. `signer.key_id`.
        field: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },

    /// The configured backend was not compiled into this binary.
    #[error(
        "signer backend `{backend}` is not available: this binary was built without the `{feature}` feature"
    )]
    BackendNotBuilt {
        /// The backend named in the config.
        backend: &'static str,
        /// The cargo feature of `sankofa-keys` that provides it.
        feature: &'static str,
    },

    /// The operation does not exist for this backend.
    #[error("`{operation}` is not supported by the {backend} backend: {hint}")]
    Unsupported {
        /// The backend.
        backend: &'static str,
        /// The operation asked for.
        operation: &'static str,
        /// What to do instead.
        hint: &'static str,
    },

    /// The keystore password does not open the keystore.
    #[error("wrong password for keystore {}: the MAC does not match; check the password file", path.display())]
    KeystorePassword {
        /// The keystore file.
        path: PathBuf,
    },

    /// The keystore file could not be read, parsed or written.
    #[error("keystore {}: {reason}", path.display())]
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },

    /// The YubiHSM could not be reached through its connector.
    #[error(
        "YubiHSM at {device} is unreachable: {source}; check that yubihsm-connector runs \
         (or the USB device is plugged in) and the `connector` setting"
    )]
    HsmUnreachable {
        /// The connector, e.g. `http://127.0.0.1:12345`.
        device: String,
        /// The client error.
        source: yubihsm::client::Error,
    },

    /// The YubiHSM refused the authentication key id or password.
    #[error(
        "YubiHSM at {device} rejected authentication key {auth_key_id}: wrong password or key id; \
         check `auth_key_id` and the password file"
    )]
    HsmAuth {
        /// The connector.
        device: String,
        /// The authentication key id.
        auth_key_id: u16,
    },

    /// No asymmetric key with that id exists on the YubiHSM.
    #[error(
        "YubiHSM at {device} has no asymmetric key with id {key_id}; \
         run `keys generate` or fix `key_id`"
    )]
    HsmKeyNotFound {
        /// The connector.
        device: String,
        /// The key id.
        key_id: u16,
    },

    /// The YubiHSM key exists but may not sign.
    #[error(
        "YubiHSM at {device}: key {key_id} lacks the `{missing}` capability; generate a signing key with `keys generate`"
    )]
    HsmKeyCapability {
        /// The connector.
        device: String,
        /// The key id.
        key_id: u16,
        /// The capability it needs.
        missing: &'static str,
    },

    /// `keys generate` was asked to create a key that already exists.
    #[error(
        "{device} already holds key {key}; refusing to replace it (pick another id/label or delete it on purpose)"
    )]
    KeyExists {
        /// The HSM or token.
        device: String,
        /// The key id or label.
        key: String,
    },

    /// The key exists but is not a secp256k1 key.
    #[error(
        "key {key} on {device} is {found}, not an EC secp256k1 key; Ethereum signing needs secp256k1"
    )]
    WrongKeyType {
        /// The HSM or token.
        device: String,
        /// The key id or label.
        key: String,
        /// What the key is.
        found: String,
    },

    /// A YubiHSM command failed.
    #[error("YubiHSM at {device}: {operation} failed: {source}")]
    HsmCommand {
        /// The connector.
        device: String,
        /// The operation, e.g. "sign".
        operation: &'static str,
        /// The client error.
        source: yubihsm::client::Error,
    },

    /// The PKCS#11 module could not be loaded or initialised.
    #[error("PKCS#11 module {}: {source}; check `module` (e.g. /usr/lib/softhsm/libsofthsm2.so)", module.display())]
    Pkcs11Module {
        /// The module path.
        module: PathBuf,
        /// The cryptoki error.
        source: cryptoki::error::Error,
    },

    /// No token with the configured label is present.
    #[error(
        "PKCS#11 module {} has no token labelled `{label}` (tokens present: {available:?}); \
         initialise it (scripts/softhsm/init-token for SoftHSM2) or fix `token_label`",
        module.display()
    )]
    Pkcs11TokenNotFound {
        /// The module path.
        module: PathBuf,
        /// The label asked for.
        label: String,
        /// Labels of the tokens that are present.
        available: Vec<String>,
    },

    /// The token refused the user PIN.
    #[error("PKCS#11 token `{token}` rejected the user PIN ({reason}); check the PIN file")]
    Pkcs11Pin {
        /// The token label.
        token: String,
        /// The token's answer, e.g. CKR_PIN_INCORRECT.
        reason: String,
    },

    /// No private key with the configured label is on the token.
    #[error(
        "PKCS#11 token `{token}` has no private key labelled `{label}`; run `keys generate` or fix `key_label`"
    )]
    Pkcs11KeyNotFound {
        /// The token label.
        token: String,
        /// The key label.
        label: String,
    },

    /// More than one key carries the label, so the key to use is ambiguous.
    #[error(
        "PKCS#11 token `{token}` has {count} private keys labelled `{label}`; labels must be unique"
    )]
    Pkcs11KeyAmbiguous {
        /// The token label.
        token: String,
        /// The key label.
        label: String,
        /// How many matched.
        count: usize,
    },

    /// A PKCS#11 call failed.
    #[error("PKCS#11 token `{token}`: {operation} failed: {source}")]
    Pkcs11 {
        /// The token label.
        token: String,
        /// The operation.
        operation: &'static str,
        /// The cryptoki error.
        source: cryptoki::error::Error,
    },

    /// The device returned a signature that is not valid DER or not a valid ECDSA signature.
    #[error("malformed ECDSA signature from the signer: {reason}")]
    MalformedSignature {
        /// What is wrong with it.
        reason: String,
    },

    /// Neither recovery id recovers the key's address: the device signed with another key or
    /// returned a corrupt signature. Never retried with another key.
    #[error(
        "signature does not recover to the signer's address {address} with either recovery id; the device signed with a different key or returned a corrupt signature"
    )]
    SignatureMismatch {
        /// The address the key should have.
        address: Address,
    },

    /// The device returned a public key that is not a valid secp256k1 point.
    #[error("{device} returned an invalid secp256k1 public key for {key}: {reason}")]
    BadPublicKey {
        /// The HSM or token.
        device: String,
        /// The key id or label.
        key: String,
        /// Why it is invalid.
        reason: String,
    },

    /// A blocking HSM task panicked or was cancelled.
    #[error("the blocking {operation} task failed: {source}")]
    Task {
        /// The operation.
        operation: &'static str,
        /// The join error.
        source: tokio::task::JoinError,
    },

    /// A previous HSM call panicked while holding the device lock.
    #[error("the session lock of {device} is poisoned by an earlier panic; restart the process")]
    LockPoisoned {
        /// The HSM or token.
        device: String,
    },

    /// The signing guard refused a second, different report for the same step.
    #[error(
        "signing guard: refusing to sign a different {kind} report for site {site}, approval \
         {approval}, step {step}: already signed payload {recorded}, now asked for {requested}; \
         a step is reported once (inspect the journal before overriding anything)"
    )]
    GuardConflict {
        /// The site id.
        site: B256,
        /// The approval (wave) id.
        approval: u32,
        /// The step index.
        step: u16,
        /// Step or rollback report.
        kind: ReportKind,
        /// The payload hash signed before.
        recorded: B256,
        /// The payload hash asked for now.
        requested: B256,
    },

    /// The signing guard's database could not be opened or written.
    #[error("signing guard store {}: {source}; another process may hold it (the store is exclusive)", path.display())]
    GuardStore {
        /// The SQLite file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },

    /// The guard store holds a row this version cannot read (corruption or a newer schema).
    #[error("signing guard store {}: {reason}", path.display())]
    GuardCorrupt {
        /// The SQLite file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// Writing command output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
    /// Whether trying the same operation again later may succeed (the device was unreachable or
    /// a transient failure occurred). Wrong secrets, missing keys and guard conflicts are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::HsmUnreachable { .. } | Self::Task { .. } => true,
            Self::HsmCommand { source, .. } => {
                matches!(
                    source.kind(),
                    yubihsm::client::ErrorKind::ConnectorError
                        | yubihsm::client::ErrorKind::ClosedSessionError
                )
            }
            _ => false,
        }
    }
}

impl From<Error> for alloy::signers::Error {
    fn from(err: Error) -> Self {
        alloy::signers::Error::other(err)
    }
}
