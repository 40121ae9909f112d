//! The PKCS#11 signer (cryptoki) for HSMs other than the YubiHSM 2; tested against SoftHSM2.
//!
//! The key is an EC secp256k1 private key found by its label (`CKA_LABEL`), with a public key
//! object of the same label. The token answers `CKM_ECDSA` with raw r‖s (no DER, no recovery id),
//! which [`crate::ecdsa`] turns into an Ethereum signature.
//!
//! PKCS#11 state is per process: a module may be initialised once, and a login holds for every
//! session of the token. So this module keeps one context per module path and one logged-in
//! session per token, shared by every signer on that token. A second open with a different PIN
//! is refused instead of riding on the existing login, which would otherwise accept any PIN.

use std::{
    collections::HashMap,
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Mutex, Weak},
};

use alloy::{
    consensus::SignableTransaction,
    network::TxSigner,
    primitives::{Address, B256, ChainId, Signature},
    signers::{Signer, utils::public_key_to_address},
};
use async_trait::async_trait;
use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error as CkError, RvError},
    mechanism::Mechanism,
    object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    types::AuthPin,
};
use k256::ecdsa::VerifyingKey;
use zeroize::Zeroizing;

use crate::{
    ecdsa,
    error::{Error, Result},
};

/// DER encoding of the secp256k1 curve OID 1.3.132.0.10, the value of `CKA_EC_PARAMS`.
const SECP256K1_OID_DER: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];

/// One initialised context per module path: `C_Initialize` is process-wide.
static CONTEXTS: LazyLock<Mutex<HashMap<PathBuf, Pkcs11>>> = LazyLock::new(Default::default);

/// One logged-in token per (module, token label), shared while any signer holds it.
static TOKENS: LazyLock<Mutex<HashMap<TokenKey, Weak<Token>>>> = LazyLock::new(Default::default);

/// (module path, token label).
type TokenKey = (PathBuf, String);

/// Where a PKCS#11 key lives: the module, the token label and the user PIN.
#[derive(Clone)]
pub struct Pkcs11Location {
    /// Path of the PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The token label.
    pub token_label: String,
    /// The user PIN, read from its file.
    pub pin: Zeroizing<String>,
}

impl fmt::Debug for Pkcs11Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Location")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .finish_non_exhaustive()
    }
}

/// A logged-in token: one read-write session behind the device lock.
pub struct Token {
    label: String,
    module: PathBuf,
    /// Compared with the PIN of a later open (see the module docs).
    pin: Zeroizing<String>,
    session: Mutex<Session>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("module", &self.module)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

fn context(module: &Path) -> Result<Pkcs11> {
    let mut contexts = CONTEXTS.lock().map_err(|_| Error::LockPoisoned {
        device: format!("PKCS#11 module registry ({})", module.display()),
    })?;
    if let Some(ctx) = contexts.get(module) {
        return Ok(ctx.clone());
    }
    let err = |source| Error::Pkcs11Module {
        module: module.to_path_buf(),
        source,
    };
    let ctx = Pkcs11::new(module).map_err(err)?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Someone else in the process initialised it first: the library is usable as is.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(source) => return Err(err(source)),
    }
    contexts.insert(module.to_path_buf(), ctx.clone());
    Ok(ctx)
}

impl Token {
    /// Opens (or joins) the logged-in session of the token at `location`.
    pub fn open(location: &Pkcs11Location) -> Result<Arc<Token>> {
        let key = (location.module.clone(), location.token_label.clone());
        let mut tokens = TOKENS.lock().map_err(|_| Error::LockPoisoned {
            device: format!("PKCS#11 token registry ({})", location.token_label),
        })?;
        if let Some(token) = tokens.get(&key).and_then(Weak::upgrade) {
            if token.pin.as_bytes() != location.pin.as_bytes() {
                return Err(Error::Pkcs11Pin {
                    token: location.token_label.clone(),
                    reason: "differs from the PIN this process is logged in with".to_owned(),
                });
            }
            return Ok(token);
        }
        let token = Arc::new(Self::login(location)?);
        tokens.insert(key, Arc::downgrade(&token));
        Ok(token)
    }

    fn login(location: &Pkcs11Location) -> Result<Token> {
        let module = &location.module;
        let label = &location.token_label;
        let ctx = context(module)?;
        let module_err = |source| Error::Pkcs11Module {
            module: module.clone(),
            source,
        };
        let mut available = Vec::new();
        let mut found = None;
        for slot in ctx.get_slots_with_token().map_err(module_err)? {
            let info = ctx.get_token_info(slot).map_err(module_err)?;
            // Labels are blank-padded to 32 bytes on the token.
            let have = info.label().trim_end().to_owned();
            if have == *label {
                found = Some(slot);
                break;
            }
            available.push(have);
        }
        let slot = found.ok_or_else(|| Error::Pkcs11TokenNotFound {
            module: module.clone(),
            label: label.clone(),
            available,
        })?;
        let op_err = |operation| {
            move |source| Error::Pkcs11 {
                token: label.clone(),
                operation,
                source,
            }
        };
        let session = ctx.open_rw_session(slot).map_err(op_err("open session"))?;
        let pin = AuthPin::from(location.pin.as_str().to_owned());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) => {}
            Err(CkError::Pkcs11(rv, _)) if is_pin_error(rv) => {
                return Err(Error::Pkcs11Pin {
                    token: label.clone(),
                    reason: format!("{rv}"),
                });
            }
            // A login we did not make cannot vouch for this PIN: refuse rather than ride on it.
            Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                return Err(Error::Pkcs11Pin {
                    token: label.clone(),
                    reason: "the token is already logged in by another session of this \
                             process, so the PIN cannot be checked"
                        .to_owned(),
                });
            }
            Err(source) => return Err(op_err("login")(source)),
        }
        tracing::debug!(target: "keys::pkcs11", token = %label, module = %module.display(), "logged in");
        Ok(Token {
            label: label.clone(),
            module: module.clone(),
            pin: location.pin.clone(),
            session: Mutex::new(session),
        })
    }

    /// The token label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Runs `f` with the session, holding the token lock.
    fn with_session<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&Session) -> cryptoki::error::Result<T>,
    ) -> Result<T> {
        let session = self.session.lock().map_err(|_| Error::LockPoisoned {
            device: format!("PKCS#11 token {}", self.label),
        })?;
        f(&session).map_err(|source| Error::Pkcs11 {
            token: self.label.clone(),
            operation,
            source,
        })
    }

    fn find(&self, class: ObjectClass, key_label: &str) -> Result<Vec<ObjectHandle>> {
        let template = [
            Attribute::Class(class),
            Attribute::KeyType(KeyType::EC),
            Attribute::Label(key_label.as_bytes().to_vec()),
        ];
        self.with_session("find objects", |s| s.find_objects(&template))
    }

    /// Finds the private key labelled `key_label` and its public key; checks the curve.
    fn locate(&self, key_label: &str) -> Result<(ObjectHandle, VerifyingKey)> {
        let private = self.find(ObjectClass::PRIVATE_KEY, key_label)?;
        let key = match private.as_slice() {
            [key] => *key,
            [] => {
                return Err(Error::Pkcs11KeyNotFound {
                    token: self.label.clone(),
                    label: key_label.to_owned(),
                });
            }
            many => {
                return Err(Error::Pkcs11KeyAmbiguous {
                    token: self.label.clone(),
                    label: key_label.to_owned(),
                    count: many.len(),
                });
            }
        };
        let bad = |reason: String| Error::BadPublicKey {
            device: format!("PKCS#11 token {}", self.label),
            key: format!("label {key_label}"),
            reason,
        };
        let params = self.with_session("read key parameters", |s| {
            s.get_attributes(key, &[AttributeType::EcParams])
        })?;
        match params.as_slice() {
            [Attribute::EcParams(oid)] if oid.as_slice() == SECP256K1_OID_DER => {}
            other => {
                return Err(Error::WrongKeyType {
                    device: format!("PKCS#11 token {}", self.label),
                    key: format!("label {key_label}"),
                    found: format!("an EC key with parameters {other:?}"),
                });
            }
        }
        let public = self.find(ObjectClass::PUBLIC_KEY, key_label)?;
        let [public] = public.as_slice() else {
            return Err(bad(format!(
                "expected one public key object labelled `{key_label}`, found {}",
                public.len()
            )));
        };
        let point = self.with_session("read public key", |s| {
            s.get_attributes(*public, &[AttributeType::EcPoint])
        })?;
        let [Attribute::EcPoint(point)] = point.as_slice() else {
            return Err(bad("the public key has no CKA_EC_POINT".to_owned()));
        };
        // CKA_EC_POINT is a DER OCTET STRING around the SEC1 point; some modules omit the wrapper.
        let sec1 = match point.as_slice() {
            [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest,
            raw => raw,
        };
        let pubkey = ecdsa::verifying_key_from_point(sec1).map_err(bad)?;
        Ok((key, pubkey))
    }

    /// Generates a secp256k1 key pair on the token: the private key is sensitive, never
    /// extractable, and may only sign. Refuses a label that is already in use.
    fn generate(&self, key_label: &str) -> Result<()> {
        if !self.find(ObjectClass::PRIVATE_KEY, key_label)?.is_empty()
            || !self.find(ObjectClass::PUBLIC_KEY, key_label)?.is_empty()
        {
            return Err(Error::KeyExists {
                device: format!("PKCS#11 token {}", self.label),
                key: format!("label {key_label}"),
            });
        }
        let label = key_label.as_bytes().to_vec();
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(SECP256K1_OID_DER.to_vec()),
            Attribute::Label(label.clone()),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label),
        ];
        self.with_session("generate key pair", |s| {
            s.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
        })?;
        Ok(())
    }
}

fn is_pin_error(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::PinIncorrect
            | RvError::PinInvalid
            | RvError::PinLenRange
            | RvError::PinExpired
            | RvError::PinLocked
            | RvError::UserPinNotInitialized
    )
}

/// An alloy signer backed by an EC secp256k1 key on a PKCS#11 token.
#[derive(Clone)]
pub struct Pkcs11Signer {
    token: Arc<Token>,
    key_label: Arc<str>,
    key: ObjectHandle,
    pubkey: VerifyingKey,
    address: Address,
    chain_id: Option<ChainId>,
}

impl Pkcs11Signer {
    /// Opens the key labelled `key_label` on the token at `location`, caching its public key.
    pub async fn open(location: Pkcs11Location, key_label: &str) -> Result<Self> {
        let key_label: Arc<str> = key_label.into();
        let label = Arc::clone(&key_label);
        let (token, key, pubkey) = blocking("pkcs11 open", move || {
            let token = Token::open(&location)?;
            let (key, pubkey) = token.locate(&label)?;
            Ok((token, key, pubkey))
        })
        .await?;
        let address = public_key_to_address(&pubkey);
        tracing::info!(target: "keys::pkcs11", token = %token.label, key = %key_label, %address, "signer ready");
        Ok(Self {
            token,
            key_label,
            key,
            pubkey,
            address,
            chain_id: None,
        })
    }

    /// Generates a new non-extractable secp256k1 key labelled `key_label` and opens it.
    pub async fn generate(location: Pkcs11Location, key_label: &str) -> Result<Self> {
        let label = key_label.to_owned();
        let loc = location.clone();
        blocking("pkcs11 generate", move || {
            Token::open(&loc)?.generate(&label)
        })
        .await?;
        Self::open(location, key_label).await
    }

    /// The key's label.
    pub fn key_label(&self) -> &str {
        &self.key_label
    }

    /// The public key, read at construction.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.pubkey
    }

    /// Signs a 32-byte digest on the token and turns r‖s into an Ethereum signature.
    pub async fn sign_digest(&self, hash: &B256) -> Result<Signature> {
        let token = Arc::clone(&self.token);
        let key = self.key;
        let digest = *hash;
        let raw = blocking("pkcs11 sign", move || {
            token.with_session("sign", |s| {
                s.sign(&Mechanism::Ecdsa, key, digest.as_slice())
            })
        })
        .await?;
        let rs: [u8; 64] = raw
            .as_slice()
            .try_into()
            .map_err(|_| Error::MalformedSignature {
                reason: format!("CKM_ECDSA returned {} bytes, expected r‖s of 64", raw.len()),
            })?;
        let (mut r, mut s) = ([0u8; 32], [0u8; 32]);
        r.copy_from_slice(&rs[..32]);
        s.copy_from_slice(&rs[32..]);
        ecdsa::to_eth_signature(&r, &s, hash, &self.pubkey, self.address)
    }
}

/// Runs a blocking PKCS#11 call on tokio's blocking pool.
async fn blocking<T, F>(operation: &'static str, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|source| Error::Task { operation, source })?
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("token", &self.token.label)
            .field("key_label", &self.key_label)
            .field("address", &self.address)
            .field("chain_id", &self.chain_id)
            .finish()
    }
}

#[async_trait]
impl Signer for Pkcs11Signer {
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
impl TxSigner<Signature> for Pkcs11Signer {
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
