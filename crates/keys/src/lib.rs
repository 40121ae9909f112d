//! Signing for Sankofa: every on-chain step report of an agent and every council vote is signed
//! by a key that never leaves its HSM. This crate is that signing layer, shared by `sankofa-agent`
//! and `sankofa`; it knows nothing of RPC or events.
//!
//! # Public API
//! - [`SignerConfig`]: the `[signer]` config section (serde, unknown fields rejected), with
//!   `backend = "keystore" | "yubihsm" | "pkcs11" | "mockhsm"` and that backend's fields. Secrets
//!   (passwords, PINs) come from a file path or `credential:<name>` (`$CREDENTIALS_DIRECTORY/<name>`,
//!   systemd `LoadCredential=`), never inline, from argv or the environment. See [`config`].
//! - [`SignerConfig::open`] → [`AnySigner`]: an alloy [`Signer`](alloy::signers::Signer) and
//!   [`TxSigner<Signature>`](alloy::network::TxSigner) with an inherent `address()`; use it as
//!   `alloy::network::EthereumWallet::from(signer)`. Failures are errors, never a fallback key.
//! - [`SigningGuard`]: check-and-record of (site, approval, step, [`ReportKind`], payload hash)
//!   before a report is signed, in one exclusive SQLite transaction; the same payload again is a
//!   [`GuardDecision::Repeat`], a different one an [`Error::GuardConflict`], across restarts.
//! - [`cli::KeysCommand`]: the `keys` subcommand (`generate`, `show`, `sign-message`, `import`),
//!   mounted by both binaries; `run(&SignerConfig)`.
//!
//! # Backends
//! - [`YubiHsmSigner`] (crate `yubihsm`, HTTP connector or USB): shaped like alloy's `AwsSigner`:
//!   public key and address cached at construction, ECDSA over the digest on the device, strict
//!   DER decoding, r and s left-padded to 32 bytes, low-s normalisation, parity by trial recovery
//!   (error if neither recovers), EIP-155 through the transaction's chain id. The blocking client
//!   runs on tokio's blocking pool behind one lock per device.
//! - [`Pkcs11Signer`] (crate `cryptoki`): an EC secp256k1 key by label; tested with SoftHSM2
//!   (`scripts/softhsm/init-token` makes a token).
//! - keystore: a standard encrypted JSON keystore, for development and the demo only.
//! - mockhsm (feature `mockhsm`): yubihsm's in-process MockHsm, real keys that die with the
//!   process, for the demo and tests. The yubihsm crate refuses release builds with it.
//!
//! # Feature flags
//! - `mockhsm`: enables the `mockhsm` backend (debug builds only).

mod any;
pub mod cli;
pub mod config;
pub mod ecdsa;
mod error;
pub mod guard;
pub mod keystore;
pub mod pkcs11;
pub mod secret;
pub mod yubihsm;

pub use any::AnySigner;
pub use config::{
    HsmConnector, KeystoreConfig, MockHsmConfig, Pkcs11Config, SignerConfig, YubiHsmConfig,
};
pub use error::{Error, Result};
pub use guard::{GuardDecision, ReportKind, SigningGuard};
pub use pkcs11::{Pkcs11Location, Pkcs11Signer};
pub use secret::SecretSource;
pub use yubihsm::{YubiHsmDevice, YubiHsmSigner};
