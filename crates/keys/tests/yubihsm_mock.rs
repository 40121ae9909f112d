//! The YubiHSM signer against the yubihsm crate's MockHsm: in-process, and behind the crate's
//! yubihsm-connector compatible HTTP server so the real HTTP connector path is exercised.

// Tests may panic on anything unexpected; that is how they fail.
#![allow(clippy::unwrap_used)]

mod common;

use std::{net::TcpListener, path::PathBuf, time::Instant};

use sankofa_keys::{
    Error, HsmConnector, MockHsmConfig, SecretSource, SignerConfig, YubiHsmConfig, YubiHsmDevice,
};
use zeroize::Zeroizing;

/// A free port on 127.0.0.1 (bound, then released for the server to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serves a fresh MockHsm over HTTP like yubihsm-connector does; returns its connector setting.
fn serve_mockhsm() -> HsmConnector {
    let port = free_port();
    let config = yubihsm::HttpConfig {
        addr: "127.0.0.1".into(),
        port,
        timeout_ms: 5000,
    };
    let server = yubihsm::connector::http::Server::new(&config, yubihsm::Connector::mockhsm())
        .expect("bind the connector server");
    // The server runs until the test process exits.
    std::thread::spawn(move || server.run());
    HsmConnector::Http {
        host: "127.0.0.1".into(),
        port,
    }
}

fn password_file(dir: &tempfile::TempDir, name: &str, password: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path
}

fn http_config(connector: HsmConnector, password: PathBuf, key_id: u16) -> SignerConfig {
    SignerConfig::Yubihsm(YubiHsmConfig {
        connector,
        auth_key_id: 1,
        password_file: SecretSource::File(password),
        key_id,
        domains: vec![1],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_connector_200_signatures_low_s_and_recovering() {
    let dir = tempfile::tempdir().unwrap();
    let config = http_config(
        serve_mockhsm(),
        password_file(&dir, "pw", "password"),
        0x0100,
    );
    let generated = config.generate(Some("agent")).await.unwrap();
    let signer = config.open().await.unwrap();
    assert_eq!(
        signer.address(),
        generated.address(),
        "open finds the generated key"
    );
    let started = Instant::now();
    let n = common::assert_signatures_low_s_and_recover(&signer, 200).await;
    let elapsed = started.elapsed();
    println!(
        "mockhsm over HTTP: {n} signatures in {elapsed:?} ({:.2} ms each)",
        elapsed.as_secs_f64() * 1000.0 / f64::from(n)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_mockhsm_200_signatures_and_anvil_accepts_tx() {
    let config = SignerConfig::Mockhsm(MockHsmConfig {
        device: "anvil-test".into(),
        key_id: 9,
        secret_key_file: None,
    });
    let signer = config.open().await.unwrap();
    common::assert_signatures_low_s_and_recover(&signer, 200).await;
    let anvil = common::anvil();
    common::assert_anvil_accepts_tx(&anvil, signer).await;
}

#[tokio::test]
async fn mockhsm_secret_key_file_gives_a_stable_address() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("mock.key");
    std::fs::write(&key, format!("0x{}\n", "46".repeat(32))).unwrap();
    let config = SignerConfig::Mockhsm(MockHsmConfig {
        device: "stable".into(),
        key_id: 4,
        secret_key_file: Some(SecretSource::File(key)),
    });
    let signer = config.open().await.unwrap();
    assert_eq!(
        signer.address(),
        alloy::primitives::address!("9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
    );
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let connector = serve_mockhsm();
    let config = http_config(
        connector,
        password_file(&dir, "pw", "not-the-password"),
        0x0100,
    );
    let err = config.open().await.unwrap_err();
    assert!(
        matches!(err, Error::HsmAuth { auth_key_id: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("wrong password"), "{err}");

    let err = YubiHsmDevice::connect(
        "mockhsm:wrong",
        yubihsm::Connector::mockhsm(),
        1,
        Zeroizing::new("hunter2".to_owned()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::HsmAuth { .. }), "{err}");
}

#[tokio::test]
async fn missing_key_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let config = http_config(
        serve_mockhsm(),
        password_file(&dir, "pw", "password"),
        0x0777,
    );
    let err = config.open().await.unwrap_err();
    assert!(
        matches!(err, Error::HsmKeyNotFound { key_id: 0x0777, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("keys generate"), "{err}");
}

#[tokio::test]
async fn unreachable_connector_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port(); // nothing listens there any more
    let connector = HsmConnector::Http {
        host: "127.0.0.1".into(),
        port,
    };
    let config = http_config(connector, password_file(&dir, "pw", "password"), 1);
    let err = config.open().await.unwrap_err();
    assert!(matches!(err, Error::HsmUnreachable { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn missing_password_file_is_named() {
    let config = http_config(serve_mockhsm(), PathBuf::from("/nonexistent/yubihsm-pw"), 1);
    let err = config.open().await.unwrap_err();
    assert!(err.to_string().contains("/nonexistent/yubihsm-pw"), "{err}");
}

#[tokio::test]
async fn usb_without_a_device_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let config = http_config(
        HsmConnector::Usb { serial: None },
        password_file(&dir, "pw", "password"),
        1,
    );
    let err = config.open().await.unwrap_err();
    assert!(matches!(err, Error::HsmUnreachable { .. }), "{err}");
    assert!(err.to_string().contains("usb"), "{err}");
}

#[tokio::test]
async fn key_without_sign_capability_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let connector = serve_mockhsm();
    let HsmConnector::Http { port, .. } = connector.clone() else {
        unreachable!()
    };
    // Provision a secp256k1 key that may only be exported, through a plain yubihsm client.
    tokio::task::spawn_blocking(move || {
        let http = yubihsm::HttpConfig {
            addr: "127.0.0.1".into(),
            port,
            timeout_ms: 5000,
        };
        let client = yubihsm::Client::open(
            yubihsm::Connector::http(&http),
            yubihsm::Credentials::default(),
            true,
        )
        .unwrap();
        client
            .generate_asymmetric_key(
                0x0300,
                "no-sign".into(),
                yubihsm::Domain::DOM1,
                yubihsm::Capability::EXPORTABLE_UNDER_WRAP,
                yubihsm::asymmetric::Algorithm::EcK256,
            )
            .unwrap();
    })
    .await
    .unwrap();
    let config = http_config(connector, password_file(&dir, "pw", "password"), 0x0300);
    let err = config.open().await.unwrap_err();
    assert!(
        matches!(err, Error::HsmKeyCapability { key_id: 0x0300, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_signing_is_serialised_per_device() {
    // 32 tasks sign at once through one session; the device lock keeps the encrypted channel
    // consistent, and every signature must still recover.
    let config = SignerConfig::Mockhsm(MockHsmConfig {
        device: "concurrent".into(),
        key_id: 21,
        secret_key_file: None,
    });
    let signer = config.open().await.unwrap();
    let tasks: Vec<_> = (0..32u32)
        .map(|i| {
            let signer = signer.clone();
            tokio::spawn(async move {
                let hash = alloy::primitives::keccak256(i.to_be_bytes());
                let sig = alloy::signers::Signer::sign_hash(&signer, &hash)
                    .await
                    .unwrap();
                sig.recover_address_from_prehash(&hash).unwrap() == signer.address()
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap());
    }
}
