//! The PKCS#11 signer against a real SoftHSM2 token (scripts/softhsm/init-token installs and
//! initialises it in a fresh directory for each run).

// Tests may panic on anything unexpected; that is how they fail.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use common::softhsm::{MODULE, TOKEN, WRONG_PIN_TOKEN, softhsm};
use sankofa_keys::{Error, Pkcs11Config, SecretSource, SignerConfig};

macro_rules! softhsm_or_skip {
    () => {
        match softhsm() {
            Some(hsm) => hsm,
            None => return,
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn softhsm_200_signatures_low_s_and_recovering() {
    let hsm = softhsm_or_skip!();
    let config = hsm.config("sigs");
    let generated = config.generate(None).await.unwrap();
    let signer = config.open().await.unwrap();
    assert_eq!(signer.address(), generated.address());
    assert_eq!(signer.backend(), "pkcs11");
    let started = Instant::now();
    let n = common::assert_signatures_low_s_and_recover(&signer, 200).await;
    let elapsed = started.elapsed();
    println!(
        "SoftHSM2: {n} signatures in {elapsed:?} ({:.2} ms each)",
        elapsed.as_secs_f64() * 1000.0 / f64::from(n)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn softhsm_signed_tx_is_accepted_by_anvil() {
    let hsm = softhsm_or_skip!();
    let config = hsm.config("anvil");
    config.generate(None).await.unwrap();
    let signer = config.open().await.unwrap();
    let anvil = common::anvil();
    common::assert_anvil_accepts_tx(&anvil, signer).await;
}

#[tokio::test]
async fn generated_key_is_not_extractable_and_not_replaced() {
    let hsm = softhsm_or_skip!();
    let config = hsm.config("once");
    // Holding the signer keeps the token logged in, so a second session sees private objects.
    let _signer = config.generate(None).await.unwrap();
    assert_private_key_stays_inside("once");
    let err = config.generate(None).await.unwrap_err();
    assert!(matches!(err, Error::KeyExists { .. }), "{err}");
    let err = config
        .import(zeroize::Zeroizing::new([1; 32]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}

#[tokio::test]
async fn missing_key_label_is_refused() {
    let hsm = softhsm_or_skip!();
    let err = hsm.config("no-such-key").open().await.unwrap_err();
    assert!(matches!(err, Error::Pkcs11KeyNotFound { .. }), "{err}");
    assert!(err.to_string().contains("no-such-key"), "{err}");
}

#[tokio::test]
async fn wrong_pin_is_refused_by_the_token() {
    let hsm = softhsm_or_skip!();
    let wrong = hsm.dir.join("wrong-pin");
    std::fs::write(&wrong, "00000000\n").unwrap();
    let config = SignerConfig::Pkcs11(Pkcs11Config {
        module: MODULE.into(),
        token_label: WRONG_PIN_TOKEN.into(),
        pin_file: SecretSource::File(wrong),
        key_label: "any".into(),
    });
    let err = config.open().await.unwrap_err();
    assert!(matches!(err, Error::Pkcs11Pin { .. }), "{err}");
    assert!(
        err.to_string().contains("CKR_PIN_INCORRECT") || err.to_string().contains("PIN"),
        "{err}"
    );
}

#[tokio::test]
async fn wrong_pin_cannot_ride_on_an_open_login() {
    let hsm = softhsm_or_skip!();
    let config = hsm.config("login");
    config.generate(None).await.unwrap();
    let _held = config.open().await.unwrap();
    let wrong = hsm.dir.join("wrong-pin-2");
    std::fs::write(&wrong, "12345678\n").unwrap();
    let SignerConfig::Pkcs11(mut c) = config else {
        unreachable!()
    };
    c.pin_file = SecretSource::File(wrong);
    let err = SignerConfig::Pkcs11(c).open().await.unwrap_err();
    assert!(matches!(err, Error::Pkcs11Pin { .. }), "{err}");
}

#[tokio::test]
async fn missing_token_and_module_are_named() {
    let hsm = softhsm_or_skip!();
    let SignerConfig::Pkcs11(mut c) = hsm.config("x") else {
        unreachable!()
    };
    c.token_label = "no-such-token".into();
    let err = SignerConfig::Pkcs11(c.clone()).open().await.unwrap_err();
    assert!(matches!(err, Error::Pkcs11TokenNotFound { .. }), "{err}");
    assert!(
        err.to_string().contains(TOKEN),
        "lists the tokens present: {err}"
    );

    c.token_label = TOKEN.into();
    c.module = "/nonexistent/libpkcs11.so".into();
    let err = SignerConfig::Pkcs11(c).open().await.unwrap_err();
    assert!(matches!(err, Error::Pkcs11Module { .. }), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/libpkcs11.so"),
        "{err}"
    );
}

#[tokio::test]
async fn token_high_s_output_is_normalised() {
    // SoftHSM2 (OpenSSL) returns s from either half of the order; take raw CKM_ECDSA output from
    // a separate session and check that some is high-s and all of it is normalised.
    let hsm = softhsm_or_skip!();
    let config = hsm.config("raw");
    let signer = config.generate(None).await.unwrap();
    let (key, address) = (signer.public_key(), signer.address());
    let session = logged_in_session();
    let handle = private_key(&session, "raw");
    let mut high = 0;
    for i in 0..200u32 {
        let hash = alloy::primitives::keccak256(i.to_be_bytes());
        let rs = session
            .sign(
                &cryptoki::mechanism::Mechanism::Ecdsa,
                handle,
                hash.as_slice(),
            )
            .unwrap();
        let (r, s): ([u8; 32], [u8; 32]) =
            (rs[..32].try_into().unwrap(), rs[32..].try_into().unwrap());
        if alloy::primitives::U256::from_be_bytes(s) > common::SECP256K1_HALF_ORDER {
            high += 1;
        }
        let sig = sankofa_keys::ecdsa::to_eth_signature(&r, &s, &hash, &key, address).unwrap();
        assert!(sig.s() <= common::SECP256K1_HALF_ORDER);
        assert_eq!(sig.recover_address_from_prehash(&hash).unwrap(), address);
    }
    println!("SoftHSM2: {high} of 200 raw token signatures were high-s and got normalised");
    assert!(
        high > 0,
        "the token never produced a high-s signature in 200 tries"
    );
}

/// A second session on the test token; it shares the login of a signer that is alive.
fn logged_in_session() -> cryptoki::session::Session {
    use cryptoki::{
        context::{CInitializeArgs, CInitializeFlags, Pkcs11},
        error::{Error as CkError, RvError},
    };
    let ctx = Pkcs11::new(MODULE).unwrap();
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(err) => panic!("{err}"),
    }
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label().trim_end() == TOKEN)
        .unwrap();
    ctx.open_ro_session(slot).unwrap()
}

fn private_key(
    session: &cryptoki::session::Session,
    label: &str,
) -> cryptoki::object::ObjectHandle {
    use cryptoki::object::{Attribute, ObjectClass};
    let keys = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .unwrap();
    assert_eq!(keys.len(), 1, "one private key labelled {label}");
    keys[0]
}

/// Looks at the generated key with a separate PKCS#11 session: it must be sensitive, not
/// extractable, and its value must be unreadable.
fn assert_private_key_stays_inside(label: &str) {
    use cryptoki::object::{Attribute, AttributeType};
    let session = logged_in_session();
    let key = private_key(&session, label);
    let attrs = session
        .get_attributes(key, &[AttributeType::Sensitive, AttributeType::Extractable])
        .unwrap();
    assert!(attrs.contains(&Attribute::Sensitive(true)), "{attrs:?}");
    assert!(attrs.contains(&Attribute::Extractable(false)), "{attrs:?}");
    let value = session.get_attributes(key, &[AttributeType::Value]);
    assert!(
        !matches!(&value, Ok(v) if v.iter().any(|a| matches!(a, Attribute::Value(_)))),
        "the private value was readable: {value:?}"
    );
}
