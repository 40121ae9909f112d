//! The YubiHSM 2 signer: an alloy [`Signer`] and [`TxSigner`] whose key never leaves the device.
//!
//! Shaped like alloy's `AwsSigner`: the public key and address are read once at construction; each
//! signature is ECDSA over the 32-byte digest on the device, returned as DER, decoded, normalised
//! to low-s and given its parity by trial recovery ([`crate::ecdsa`]). The `yubihsm` client is
//! blocking, so every device call runs on tokio's blocking pool, and one mutex per device
//! serialises the calls (the encrypted session is a single command channel).

use std::{
    fmt,
    sync::{Arc, Mutex},
};

use alloy::{
    consensus::SignableTransaction,
    network::TxSigner,
    primitives::{Address, B256, ChainId, Signature},
    signers::{Signer, utils::public_key_to_address},
};
use async_trait::async_trait;
use k256::ecdsa::VerifyingKey;
use yubihsm::{
    Capability, Client, Credentials, Domain, asymmetric,
    client::{Error as ClientError, ErrorKind as ClientErrorKind},
    device, object,
};
use zeroize::Zeroizing;

use crate::{
    ecdsa,
    error::{Error, Result},
};

/// A connected YubiHSM 2 (one authenticated session), shared by the signers made from it.
///
/// Cloning is cheap and shares the session and its lock.
#[derive(Clone)]
pub struct YubiHsmDevice {
    /// Where the device is, for errors and logs (`http://127.0.0.1:12345`, `usb`, `mockhsm:<name>`).
    name: Arc<str>,
    /// The session lock: the yubihsm client is blocking and its session is one command channel.
    client: Arc<Mutex<Client>>,
}

impl YubiHsmDevice {
    /// Opens an authenticated session with `auth_key_id` and its password. The password is only
    /// used to derive the session keys. Errors clearly when the device is unreachable or refuses
    /// the credentials.
    pub async fn connect(
        name: impl Into<String>,
        connector: yubihsm::Connector,
        auth_key_id: u16,
        password: Zeroizing<String>,
    ) -> Result<Self> {
        let name: Arc<str> = name.into().into();
        let device = name.to_string();
        let client = tokio::task::spawn_blocking(move || {
            let credentials = Credentials::from_password(auth_key_id, password.as_bytes());
            // reconnect = true keeps the credentials so an idle-timed-out session is reopened.
            Client::open(connector, credentials, true)
        })
        .await
        .map_err(|source| Error::Task {
            operation: "yubihsm connect",
            source,
        })?
        .map_err(|source| classify_connect_error(device, auth_key_id, source))?;
        tracing::debug!(target: "keys::yubihsm", device = %name, auth_key_id, "session opened");
        Ok(Self {
            name,
            client: Arc::new(Mutex::new(client)),
        })
    }

    /// The device's name as used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs one blocking client call on the blocking pool, holding the device lock.
    async fn call<T, F>(&self, operation: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Client) -> std::result::Result<T, ClientError> + Send + 'static,
    {
        let client = Arc::clone(&self.client);
        let name = Arc::clone(&self.name);
        tokio::task::spawn_blocking(move || {
            let guard = client.lock().map_err(|_| Error::LockPoisoned {
                device: name.to_string(),
            })?;
            f(&guard).map_err(|source| Error::HsmCommand {
                device: name.to_string(),
                operation,
                source,
            })
        })
        .await
        .map_err(|source| Error::Task { operation, source })?
    }

    /// Reads the public key of `key_id`; errors if it is missing or not secp256k1.
    pub async fn public_key(&self, key_id: u16) -> Result<VerifyingKey> {
        let result = self
            .call("get public key", move |c| c.get_public_key(key_id))
            .await;
        let public = match result {
            Ok(public) => public,
            Err(Error::HsmCommand { source, .. })
                if source.device_error() == Some(device::ErrorKind::ObjectNotFound) =>
            {
                return Err(Error::HsmKeyNotFound {
                    device: self.name.to_string(),
                    key_id,
                });
            }
            Err(err) => return Err(err),
        };
        if public.algorithm != asymmetric::Algorithm::EcK256 {
            return Err(Error::WrongKeyType {
                device: self.name.to_string(),
                key: format!("id {key_id}"),
                found: format!("{:?}", public.algorithm),
            });
        }
        ecdsa::verifying_key_from_point(&public.bytes).map_err(|reason| Error::BadPublicKey {
            device: self.name.to_string(),
            key: format!("id {key_id}"),
            reason,
        })
    }

    /// A signer for the secp256k1 key `key_id`, with its public key read and cached now.
    pub async fn signer(&self, key_id: u16) -> Result<YubiHsmSigner> {
        let pubkey = self.public_key(key_id).await?;
        self.check_capabilities(key_id).await?;
        let address = public_key_to_address(&pubkey);
        tracing::info!(target: "keys::yubihsm", device = %self.name, key_id, %address, "signer ready");
        Ok(YubiHsmSigner {
            device: self.clone(),
            key_id,
            pubkey,
            address,
            chain_id: None,
        })
    }

    /// Fails fast on a key that cannot sign, rather than at the first report; warns about a key
    /// that could be exported under wrap, which the safety model does not expect.
    async fn check_capabilities(&self, key_id: u16) -> Result<()> {
        let info = self
            .call("get object info", move |c| {
                c.get_object_info(key_id, object::Type::AsymmetricKey)
            })
            .await?;
        if !info.capabilities.contains(Capability::SIGN_ECDSA) {
            return Err(Error::HsmKeyCapability {
                device: self.name.to_string(),
                key_id,
                missing: "sign-ecdsa",
            });
        }
        if info
            .capabilities
            .contains(Capability::EXPORTABLE_UNDER_WRAP)
        {
            tracing::warn!(target: "keys::yubihsm", device = %self.name, key_id, "signing key is exportable under wrap; generate a non-exportable one with `keys generate`");
        }
        Ok(())
    }

    /// Whether an object of any type with this id exists (ids are shared across types on the
    /// device, so generating over any of them would fail or confuse).
    async fn key_exists(&self, key_id: u16) -> Result<bool> {
        let result = self
            .call("get object info", move |c| {
                c.get_object_info(key_id, object::Type::AsymmetricKey)
            })
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(Error::HsmCommand { source, .. })
                if source.device_error() == Some(device::ErrorKind::ObjectNotFound) =>
            {
                Ok(false)
            }
            Err(err) => Err(err),
        }
    }

    /// Generates a secp256k1 key inside the device with only the `sign-ecdsa` capability: it can
    /// sign and can never be exported (no `exportable-under-wrap`). Refuses to touch an existing id.
    pub async fn generate_key(
        &self,
        key_id: u16,
        label: &str,
        domains: Domain,
    ) -> Result<YubiHsmSigner> {
        if self.key_exists(key_id).await? {
            return Err(Error::KeyExists {
                device: self.name.to_string(),
                key: format!("id {key_id}"),
            });
        }
        let label = object_label(label)?;
        self.call("generate key", move |c| {
            c.generate_asymmetric_key(
                key_id,
                label,
                domains,
                Capability::SIGN_ECDSA,
                asymmetric::Algorithm::EcK256,
            )
        })
        .await?;
        tracing::info!(target: "keys::yubihsm", device = %self.name, key_id, "generated non-exportable secp256k1 key");
        self.signer(key_id).await
    }

    /// Puts a known secret key into the device. Only for the in-process MockHsm of demos and
    /// tests, where a fixed key keeps an agent's address stable across restarts; a production
    /// key is generated on the device instead.
    #[cfg(feature = "mockhsm")]
    pub(crate) async fn import_key(
        &self,
        key_id: u16,
        label: &str,
        secret: Zeroizing<[u8; 32]>,
        domains: Domain,
    ) -> Result<YubiHsmSigner> {
        let label = object_label(label)?;
        self.call("put key", move |c| {
            c.put_asymmetric_key(
                key_id,
                label,
                domains,
                Capability::SIGN_ECDSA,
                asymmetric::Algorithm::EcK256,
                secret.to_vec(),
            )
        })
        .await?;
        self.signer(key_id).await
    }
}

impl fmt::Debug for YubiHsmDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YubiHsmDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn object_label(label: &str) -> Result<object::Label> {
    object::Label::from_bytes(label.as_bytes()).map_err(|err| Error::Config {
        field: "label",
        reason: format!("`{label}` is not a valid YubiHSM label (at most 40 bytes): {err}"),
    })
}

/// Sorts a failed session open into "unreachable" and "refused", which call for different fixes.
fn classify_connect_error(device: String, auth_key_id: u16, source: ClientError) -> Error {
    match source.kind() {
        ClientErrorKind::AuthenticationError => Error::HsmAuth {
            device,
            auth_key_id,
        },
        _ if source.device_error() == Some(device::ErrorKind::ObjectNotFound)
            || source.device_error() == Some(device::ErrorKind::AuthenticationFailed) =>
        {
            Error::HsmAuth {
                device,
                auth_key_id,
            }
        }
        _ => Error::HsmUnreachable { device, source },
    }
}

/// An alloy signer backed by a secp256k1 key in a YubiHSM 2.
#[derive(Clone)]
pub struct YubiHsmSigner {
    device: YubiHsmDevice,
    key_id: u16,
    pubkey: VerifyingKey,
    address: Address,
    chain_id: Option<ChainId>,
}

impl YubiHsmSigner {
    /// The key's object id on the device.
    pub fn key_id(&self) -> u16 {
        self.key_id
    }

    /// The public key, read from the device at construction.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.pubkey
    }

    /// The device this key lives on.
    pub fn device(&self) -> &YubiHsmDevice {
        &self.device
    }

    /// Signs a 32-byte digest on the device and turns the DER answer into an Ethereum signature.
    pub async fn sign_digest(&self, hash: &B256) -> Result<Signature> {
        let key_id = self.key_id;
        let digest = hash.to_vec();
        let der = self
            .device
            .call("sign", move |c| c.sign_ecdsa_prehash_raw(key_id, digest))
            .await?;
        let (r, s) = ecdsa::decode_der(&der)?;
        ecdsa::to_eth_signature(&r, &s, hash, &self.pubkey, self.address)
    }
}

// Shows which key, never anything that could help use it.
impl fmt::Debug for YubiHsmSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YubiHsmSigner")
            .field("device", &self.device.name)
            .field("key_id", &self.key_id)
            .field("address", &self.address)
            .field("chain_id", &self.chain_id)
            .finish()
    }
}

#[async_trait]
impl Signer for YubiHsmSigner {
    async fn sign_hash(&self, hash: &B256) -> alloy::signers::Result<Signature> {
        self.sign_digest(hash).await.map_err(Into::into)
    }

    fn address(&self) -> Address {
        self.address
    }

    fn chain_id(&self) -> Option<ChainId> {
        self.chain_id
    }

    fn set_chain_id(&mut self, chain_id: Option<ChainId>) {
        self.chain_id = chain_id;
    }
}

#[async_trait]
impl TxSigner<Signature> for YubiHsmSigner {
    fn address(&self) -> Address {
        self.address
    }

    async fn sign_transaction(
        &self,
        tx: &mut dyn SignableTransaction<Signature>,
    ) -> alloy::signers::Result<Signature> {
        crate::ecdsa::apply_chain_id(self.chain_id, tx)?;
        self.sign_digest(&tx.signature_hash())
            .await
            .map_err(Into::into)
    }
}

#[cfg(all(test, feature = "mockhsm"))]
mod tests {
    use super::*;
    use alloy::primitives::keccak256;

    async fn mock() -> YubiHsmDevice {
        let password = Zeroizing::new("password".to_owned());
        YubiHsmDevice::connect("mockhsm:unit", yubihsm::Connector::mockhsm(), 1, password)
            .await
            .expect("the MockHsm accepts its default credentials")
    }

    #[tokio::test]
    async fn generated_key_signs_and_recovers() {
        let device = mock().await;
        let signer = device.generate_key(7, "unit", Domain::DOM1).await.unwrap();
        let hash = keccak256(b"report");
        let sig = signer.sign_hash(&hash).await.unwrap();
        assert_eq!(
            sig.recover_address_from_prehash(&hash).unwrap(),
            Signer::address(&signer)
        );
        let again = device
            .generate_key(7, "unit", Domain::DOM1)
            .await
            .unwrap_err();
        assert!(matches!(again, Error::KeyExists { .. }), "{again}");
    }

    #[tokio::test]
    async fn transaction_for_another_chain_is_refused() {
        use alloy::consensus::TxLegacy;
        let device = mock().await;
        let signer = device
            .generate_key(5, "chain", Domain::DOM1)
            .await
            .unwrap()
            .with_chain_id(Some(5));
        let mut tx = TxLegacy {
            chain_id: Some(1),
            gas_limit: 21_000,
            ..Default::default()
        };
        let err = signer.sign_transaction(&mut tx).await.unwrap_err();
        assert!(
            matches!(
                err,
                alloy::signers::Error::TransactionChainIdMismatch { signer: 5, tx: 1 }
            ),
            "{err}"
        );
        // An unset chain id is filled with the signer's (EIP-155).
        let mut tx = TxLegacy {
            chain_id: None,
            gas_limit: 21_000,
            ..Default::default()
        };
        signer.sign_transaction(&mut tx).await.unwrap();
        assert_eq!(tx.chain_id, Some(5));
    }

    #[tokio::test]
    async fn missing_key_is_named() {
        let err = mock().await.signer(42).await.unwrap_err();
        assert!(
            matches!(err, Error::HsmKeyNotFound { key_id: 42, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("42"));
    }

    #[tokio::test]
    async fn debug_shows_no_secret_material() {
        let device = mock().await;
        let signer = device.generate_key(3, "dbg", Domain::DOM1).await.unwrap();
        let shown = format!("{signer:?}");
        assert!(
            shown.contains("key_id: 3") && !shown.contains("password"),
            "{shown}"
        );
    }
}
