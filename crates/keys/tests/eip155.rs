//! The EIP-155 example transaction, signed through the keystore backend, byte for byte.
//! <https://eips.ethereum.org/EIPS/eip-155#example>

// Tests may panic on anything unexpected; that is how they fail.
#![allow(clippy::unwrap_used)]

use alloy::{
    consensus::{SignableTransaction, TxEnvelope, TxLegacy},
    eips::eip2718::Encodable2718,
    network::TxSigner,
    primitives::{Address, TxKind, U256, b256, hex},
    signers::local::PrivateKeySigner,
};
use sankofa_keys::{KeystoreConfig, SecretSource, SignerConfig};
use zeroize::Zeroizing;

const SIGNED: &str = "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";

fn example_tx() -> TxLegacy {
    TxLegacy {
        chain_id: Some(1),
        nonce: 9,
        gas_price: 20_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x35)),
        value: U256::from(10u128.pow(18)),
        input: Default::default(),
    }
}

async fn signed_bytes(
    signer: &(dyn TxSigner<alloy::primitives::Signature> + Send + Sync),
) -> Vec<u8> {
    let mut tx = example_tx();
    assert_eq!(
        tx.signature_hash(),
        b256!("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"),
        "EIP-155 signing hash"
    );
    let sig = signer.sign_transaction(&mut tx).await.unwrap();
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
}

#[tokio::test]
async fn keystore_backend_reproduces_eip155_example() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "correct horse battery staple\n").unwrap();
    let config = SignerConfig::Keystore(KeystoreConfig {
        path: dir.path().join("eip155.json"),
        password_file: SecretSource::File(password),
    });
    config.import(Zeroizing::new([0x46; 32])).await.unwrap();

    let signer = config.open().await.unwrap();
    assert_eq!(signer.backend(), "keystore");
    assert_eq!(
        signer.address(),
        alloy::primitives::address!("9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
    );
    assert_eq!(hex::encode(signed_bytes(&signer).await), SIGNED);
}

#[tokio::test]
async fn local_signer_reproduces_eip155_example() {
    let signer = PrivateKeySigner::from_slice(&[0x46; 32]).unwrap();
    assert_eq!(hex::encode(signed_bytes(&signer).await), SIGNED);
}

#[tokio::test]
async fn wrong_keystore_password_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let bad = dir.path().join("bad");
    std::fs::write(&good, "right").unwrap();
    std::fs::write(&bad, "wrong").unwrap();
    let path = dir.path().join("k.json");
    let make = |pw: &std::path::Path| {
        SignerConfig::Keystore(KeystoreConfig {
            path: path.clone(),
            password_file: SecretSource::File(pw.to_path_buf()),
        })
    };
    make(&good).generate(None).await.unwrap();
    let err = make(&bad).open().await.unwrap_err();
    assert!(
        matches!(err, sankofa_keys::Error::KeystorePassword { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("k.json"), "{err}");
    // Generating again must not replace the key.
    let err = make(&good).generate(None).await.unwrap_err();
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
}
