//! [`AnySigner`]: whichever backend the config chose, as one alloy signer.

use alloy::{
    consensus::SignableTransaction,
    network::TxSigner,
    primitives::{Address, B256, ChainId, Signature},
    signers::{Signer, local::PrivateKeySigner},
};
use async_trait::async_trait;
use k256::ecdsa::VerifyingKey;

use crate::{pkcs11::Pkcs11Signer, yubihsm::YubiHsmSigner};

/// The signer opened from a [`crate::SignerConfig`]. Implements alloy's [`Signer`] and
/// [`TxSigner`], so `EthereumWallet::from(signer)` gives a provider wallet.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnySigner {
    /// A decrypted keystore (development and demo only).
    Keystore(PrivateKeySigner),
    /// A YubiHSM 2 key (also the in-process MockHsm).
    YubiHsm(YubiHsmSigner),
    /// A PKCS#11 key.
    Pkcs11(Pkcs11Signer),
}

impl AnySigner {
    /// The key's Ethereum address (the one to bind on chain).
    pub fn address(&self) -> Address {
        match self {
            Self::Keystore(s) => s.address(),
            Self::YubiHsm(s) => Signer::address(s),
            Self::Pkcs11(s) => Signer::address(s),
        }
    }

    /// The key's public key.
    pub fn public_key(&self) -> VerifyingKey {
        match self {
            Self::Keystore(s) => *s.credential().verifying_key(),
            Self::YubiHsm(s) => *s.public_key(),
            Self::Pkcs11(s) => *s.public_key(),
        }
    }

    /// The backend name, as in the config.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Keystore(_) => "keystore",
            Self::YubiHsm(_) => "yubihsm",
            Self::Pkcs11(_) => "pkcs11",
        }
    }

    /// A human description of where the key lives (never the key).
    pub fn location(&self) -> String {
        match self {
            Self::Keystore(_) => "encrypted keystore file".to_owned(),
            Self::YubiHsm(s) => format!("{} key id {}", s.device().name(), s.key_id()),
            Self::Pkcs11(s) => format!("PKCS#11 key label {}", s.key_label()),
        }
    }
}

#[async_trait]
impl Signer for AnySigner {
    async fn sign_hash(&self, hash: &B256) -> alloy::signers::Result<Signature> {
        match self {
            Self::Keystore(s) => s.sign_hash(hash).await,
            Self::YubiHsm(s) => s.sign_hash(hash).await,
            Self::Pkcs11(s) => s.sign_hash(hash).await,
        }
    }

    fn address(&self) -> Address {
        AnySigner::address(self)
    }

    fn chain_id(&self) -> Option<ChainId> {
        match self {
            Self::Keystore(s) => s.chain_id(),
            Self::YubiHsm(s) => s.chain_id(),
            Self::Pkcs11(s) => s.chain_id(),
        }
    }

    fn set_chain_id(&mut self, chain_id: Option<ChainId>) {
        match self {
            Self::Keystore(s) => s.set_chain_id(chain_id),
            Self::YubiHsm(s) => s.set_chain_id(chain_id),
            Self::Pkcs11(s) => s.set_chain_id(chain_id),
        }
    }
}

#[async_trait]
impl TxSigner<Signature> for AnySigner {
    fn address(&self) -> Address {
        AnySigner::address(self)
    }

    async fn sign_transaction(
        &self,
        tx: &mut dyn SignableTransaction<Signature>,
    ) -> alloy::signers::Result<Signature> {
        match self {
            Self::Keystore(s) => s.sign_transaction(tx).await,
            Self::YubiHsm(s) => s.sign_transaction(tx).await,
            Self::Pkcs11(s) => s.sign_transaction(tx).await,
        }
    }
}
