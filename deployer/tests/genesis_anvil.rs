//! `sankofa genesis besu` output boots the pinned anvil (`--init`), and the preloaded
//! ValidatorSet answers `getValidators()` with the initial validators; `deploy --validator-set`
//! then adopts it and hands it to the timelock.

mod common;

use alloy::{
    node_bindings::Anvil,
    primitives::{Address, address},
    providers::ProviderBuilder,
};

alloy::sol! {
    #[sol(rpc)]
    interface IValidatorSet {
        function getValidators() external view returns (address[] memory);
        function siteOf(address validator) external view returns (bytes32);
        function governance() external view returns (address);
        function validatorCount() external view returns (uint256);
    }
}

const V1: Address = address!("be068f726a13c8d46c44be6ce9d275600e1735a4");
const V2: Address = address!("5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193");
const VSET: Address = address!("0000000000000000000000000000000000008888");

fn genesis(
    dir: &std::path::Path,
    governance: Address,
    fund: Address,
    extra: &[&str],
) -> serde_json::Value {
    let out = dir.join("genesis.json");
    let v1 = format!("{V1}=core-iad");
    let v2 = format!("{V2}=core-fra");
    let gov = governance.to_string();
    let fund = fund.to_string();
    let mut args = vec![
        "genesis",
        "besu",
        "--chain-id",
        "31337",
        "--validator",
        &v1,
        "--validator",
        &v2,
        "--governance",
        &gov,
        "--fund",
        &fund,
        "--out",
    ];
    let out_s = out.display().to_string();
    args.push(&out_s);
    args.extend_from_slice(extra);
    common::run_in(&common::root(), &args, &[]).ok();
    serde_json::from_slice(&std::fs::read(&out).expect("genesis written")).expect("json")
}

#[tokio::test]
async fn anvil_boots_the_contract_mode_genesis_and_get_validators_returns_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let g = genesis(dir.path(), V1, V1, &[]);
    assert_eq!(
        g["config"]["qbft"]["validatorcontractaddress"],
        VSET.to_string().to_lowercase()
    );
    assert_eq!(g["config"]["zeroBaseFee"], true);
    assert_eq!(
        g["extraData"],
        "0xe5a00000000000000000000000000000000000000000000000000000000000000000c0c080c0"
    );
    for (_, account) in g["alloc"].as_object().expect("alloc") {
        for key in account.as_object().expect("account").keys() {
            assert!(
                ["nonce", "balance", "code", "storage"].contains(&key.as_str()),
                "extra alloc key {key}"
            );
        }
    }

    let anvil = Anvil::at(common::anvil_bin())
        .arg("--init")
        .arg(dir.path().join("genesis.json"))
        .spawn();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let vset = IValidatorSet::new(VSET, &provider);
    assert_eq!(
        vset.getValidators().call().await.expect("getValidators"),
        vec![V1, V2]
    );
    assert_eq!(vset.governance().call().await.expect("governance"), V1);
    let site = vset.siteOf(V2).call().await.expect("siteOf");
    assert_eq!(&site[..8], b"core-fra");
}

#[test]
fn header_mode_puts_the_validators_in_extra_data_and_no_contract() {
    let dir = tempfile::tempdir().expect("tmp");
    let g = genesis(dir.path(), V1, V1, &["--validators-in-header"]);
    assert_eq!(
        g["extraData"],
        "0xf84fa00000000000000000000000000000000000000000000000000000000000000000ea94be068f726a13c8d46c44be6ce9d275600e1735a4945ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193c080c0"
    );
    assert!(
        g["config"]["qbft"]
            .get("validatorcontractaddress")
            .is_none()
    );
    assert_eq!(
        g["alloc"].as_object().expect("alloc").len(),
        1,
        "only the funded account"
    );
}

#[tokio::test]
async fn deploy_adopts_the_genesis_validator_set_and_hands_it_to_the_timelock() {
    let dir = tempfile::tempdir().expect("tmp");
    // Use anvil's first dev key as the bootstrap governance and deployer.
    let probe = common::anvil();
    let deployer = probe.addresses()[0];
    let key = alloy::signers::local::PrivateKeySigner::from_signing_key((&probe.keys()[0]).into());
    drop(probe);
    let key_file = dir.path().join("0.key");
    std::fs::write(&key_file, alloy::hex::encode_prefixed(key.to_bytes())).expect("key");
    genesis(dir.path(), deployer, deployer, &[]);
    let anvil = Anvil::at(common::anvil_bin())
        .arg("--init")
        .arg(dir.path().join("genesis.json"))
        .spawn();

    let vset_arg = VSET.to_string();
    let run = common::run_in(
        dir.path(),
        &[
            "deploy",
            "--private-key-file",
            &key_file.display().to_string(),
            "--validator-set",
            &vset_arg,
            "--json",
        ],
        &[("SANKOFA_RPC_URL", &anvil.endpoint())],
    );
    let report: serde_json::Value = run.json();
    let timelock: Address = report["deployment"]["contracts"]["TimelockController"]["address"]
        .as_str()
        .expect("addr")
        .parse()
        .expect("address");
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let vset = IValidatorSet::new(VSET, &provider);
    assert_eq!(
        vset.governance().call().await.expect("governance"),
        timelock
    );
    assert_eq!(
        vset.getValidators().call().await.expect("getValidators"),
        vec![V1, V2]
    );
}

/// A genesis Besu would take and then stall on, or that the ValidatorSet could never be handed
/// over from, is refused with the flag named, and no file is written.
#[test]
fn bad_genesis_parameters_are_refused_by_flag() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("genesis.json");
    let out_s = out.display().to_string();
    let v1 = format!("{V1}=core-iad");
    let gov = V1.to_string();
    let zero = Address::ZERO.to_string();
    let zero_validator = format!("{zero}=core-iad");
    let vset = VSET.to_string();
    let cases: [(&[&str], &str); 9] = [
        (
            &["--validator", &zero_validator, "--governance", &gov],
            "zero address cannot be a validator",
        ),
        (&["--validator", &v1, "--governance", &zero], "--governance"),
        (
            &["--validator", &v1, "--governance", &gov, "--chain-id", "0"],
            "--chain-id 0",
        ),
        (
            &[
                "--validator",
                &v1,
                "--governance",
                &gov,
                "--block-period-seconds",
                "0",
            ],
            "--block-period-seconds 0",
        ),
        (
            &[
                "--validator",
                &v1,
                "--governance",
                &gov,
                "--epoch-length",
                "0",
            ],
            "--epoch-length 0",
        ),
        (
            &["--validator", &v1, "--governance", &gov, "--gas-limit", "0"],
            "--gas-limit 0",
        ),
        (
            &[
                "--validator",
                &v1,
                "--governance",
                &gov,
                "--validator-set-address",
                "0x0000000000000000000000000000000000000001",
            ],
            "precompile",
        ),
        (
            &["--validator", &v1, "--governance", &gov, "--fund", &vset],
            "ValidatorSet's address",
        ),
        (
            &[
                "--validator",
                &v1,
                "--governance",
                &gov,
                "--fund",
                &gov,
                "--fund",
                &gov,
            ],
            "given twice",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["genesis", "besu", "--out", out_s.as_str()];
        args.extend_from_slice(extra);
        let err = common::run_in(&common::root(), &args, &[]).fails();
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(!out.exists(), "{extra:?} wrote a genesis");
    }
}
