//! The `keys` subcommand as both binaries mount it, run against the keystore and MockHsm backends.

// Tests may panic on anything unexpected; that is how they fail.
#![allow(clippy::unwrap_used)]

use clap::Parser;
use sankofa_keys::{KeystoreConfig, MockHsmConfig, SecretSource, SignerConfig, cli::KeysCommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    keys: KeysCommand,
}

async fn run(config: &SignerConfig, args: &[&str]) -> sankofa_keys::Result<String> {
    let cli = Cli::try_parse_from(std::iter::once("keys").chain(args.iter().copied()))
        .expect("arguments parse");
    let mut out = Vec::new();
    cli.keys.run_with_output(config, &mut out).await?;
    Ok(String::from_utf8(out).expect("utf-8 output"))
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).expect("one JSON document")
}

#[tokio::test]
async fn keystore_import_show_sign() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("pw");
    std::fs::write(&password, "pw\n").unwrap();
    let key_file = dir.path().join("key.hex");
    std::fs::write(&key_file, format!("0x{}\n", "46".repeat(32))).unwrap();
    let config = SignerConfig::Keystore(KeystoreConfig {
        path: dir.path().join("dev.json"),
        password_file: SecretSource::File(password),
    });
    let key_arg = key_file.to_str().unwrap();
    let imported = json(
        &run(
            &config,
            &["import", "--private-key-file", key_arg, "--json"],
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        imported["address"],
        "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
    );

    let shown = json(&run(&config, &["show", "--json"]).await.unwrap());
    assert_eq!(shown["address"], imported["address"]);
    // The uncompressed public key of 0x4646…46.
    assert_eq!(
        shown["public_key"],
        "0x044bc2a31265153f07e70e0bab08724e6b85e217f8cd628ceb62974247bb493382ce28cab79ad7119ee1ad3ebcdb98a16805211530ecc6cfefa1b88e6dff99232a"
    );

    let signed = json(
        &run(&config, &["sign-message", "--message", "hello", "--json"])
            .await
            .unwrap(),
    );
    assert_eq!(signed["recovered"], imported["address"]);
    // Check the printed signature independently of the command's own check.
    let sig: alloy::primitives::Signature = signed["signature"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        sig.recover_address_from_msg("hello")
            .unwrap()
            .to_checksum(None),
        imported["address"].as_str().unwrap()
    );
}

#[tokio::test]
async fn mockhsm_generate_show_sign_and_no_import() {
    let config = SignerConfig::Mockhsm(MockHsmConfig {
        device: "cli".into(),
        key_id: 12,
        secret_key_file: None,
    });
    let text = run(&config, &["generate", "--label", "agent-core-fra"])
        .await
        .unwrap();
    assert!(text.contains("bindAgentKey"), "{text}");
    let generated: String = text
        .lines()
        .find_map(|l| l.strip_prefix("address:"))
        .expect("address line")
        .trim()
        .to_owned();
    let shown = json(&run(&config, &["show", "--json"]).await.unwrap());
    assert_eq!(shown["address"], generated.as_str());
    assert_eq!(shown["backend"], "yubihsm");
    assert!(shown["location"].as_str().unwrap().contains("key id 12"));

    let text = run(&config, &["sign-message"]).await.unwrap();
    assert!(text.contains("(ok)"), "{text}");

    let err = run(&config, &["generate"]).await.unwrap_err();
    assert!(
        matches!(err, sankofa_keys::Error::KeyExists { .. }),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("k");
    std::fs::write(&key_file, "46".repeat(32)).unwrap();
    let err = run(
        &config,
        &["import", "--private-key-file", key_file.to_str().unwrap()],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("never imported"), "{err}");
}
