//! Besu QBFT genesis: extraData (RLP, byte-compatible with Besu's own encoder) and the
//! ValidatorSet preloaded into `alloc` for validator-contract mode.
//!
//! In contract mode Besu reads `getValidators()` from the contract at
//! `config.qbft.validatorcontractaddress` from block 0, so the contract must exist in genesis with
//! its storage already holding the initial validators: no constructor runs there. The storage
//! layout is fixed by docs/contracts.md ("ValidatorSet" table) and mirrored here.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    rlp::{Encodable, Header},
};
use serde_json::{Value, json};

/// Besu's IBFT2/QBFT mix hash ("Byzantine fault tolerance" marker); Besu rejects others.
pub(crate) const QBFT_MIX_HASH: &str =
    "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365";

/// QBFT extraData: `RLP([vanity(32), validators, vote, round, seals])` for the genesis block:
/// zero vanity, no vote (empty list), round 0, no seals. Contract mode passes no validators.
pub(crate) fn qbft_extra_data(validators: &[Address]) -> Bytes {
    let vanity = B256::ZERO;
    let round: u32 = 0;
    let empty_list = Header {
        list: true,
        payload_length: 0,
    };
    let validators_len: usize = validators.iter().map(Encodable::length).sum();
    let validators_header = Header {
        list: true,
        payload_length: validators_len,
    };
    let payload_length = vanity.length()
        + validators_header.length()
        + validators_len
        + empty_list.length()
        + round.length()
        + empty_list.length();
    let mut out = Vec::with_capacity(payload_length + 3);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    vanity.encode(&mut out);
    validators_header.encode(&mut out);
    for v in validators {
        v.encode(&mut out);
    }
    empty_list.encode(&mut out); // vote: none
    round.encode(&mut out); // round 0 encodes as the empty string (0x80), as Besu does
    empty_list.encode(&mut out); // committed seals: none in genesis
    out.into()
}

/// One initial validator and the core site it runs at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InitialValidator {
    pub(crate) address: Address,
    pub(crate) site: B256,
}

/// The storage of a ValidatorSet holding `validators`, as its constructor would have left it.
pub(crate) fn validator_set_storage(
    validators: &[InitialValidator],
    governance: Address,
    registry: Address,
) -> BTreeMap<B256, B256> {
    let mut storage = BTreeMap::new();
    let slot = |n: u64| B256::from(U256::from(n));
    let word = |a: Address| a.into_word();
    // slot 0: array length; element i at keccak256(pad32(0)) + i.
    storage.insert(slot(0), B256::from(U256::from(validators.len())));
    let base = U256::from_be_bytes(keccak256(slot(0)).0);
    for (i, v) in validators.iter().enumerate() {
        storage.insert(B256::from(base + U256::from(i)), word(v.address));
        // slot 1: _index[v] = i + 1; slot 2: _siteOf[v] = site (mapping key = pad32(key) . pad32(slot)).
        storage.insert(mapping_slot(v.address, 1), B256::from(U256::from(i + 1)));
        storage.insert(mapping_slot(v.address, 2), v.site);
    }
    storage.insert(slot(3), word(governance));
    if !registry.is_zero() {
        storage.insert(slot(4), word(registry));
    }
    storage
}

fn mapping_slot(key: Address, slot: u64) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(key.into_word().as_slice());
    preimage[32..].copy_from_slice(&U256::from(slot).to_be_bytes::<32>());
    keccak256(preimage)
}

/// Which QBFT validator-selection mode the genesis uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Validators live in the ValidatorSet contract preloaded in `alloc`.
    Contract,
    /// Validators are listed in the genesis header's extraData (voted by `qbft_proposeValidatorVote`).
    Header,
}

/// Everything a genesis file is made of.
#[derive(Debug, Clone)]
pub(crate) struct GenesisSpec {
    pub(crate) chain_id: u64,
    pub(crate) mode: Mode,
    pub(crate) validators: Vec<InitialValidator>,
    /// ValidatorSet runtime bytecode (the artifact's deployedBytecode).
    pub(crate) validator_set_code: Bytes,
    pub(crate) validator_set_address: Address,
    /// ValidatorSet governance at genesis: the bootstrap account that hands it to the timelock.
    pub(crate) governance: Address,
    pub(crate) registry: Address,
    pub(crate) block_period_seconds: u64,
    pub(crate) epoch_length: u64,
    pub(crate) request_timeout_seconds: u64,
    pub(crate) gas_limit: u64,
    pub(crate) timestamp: u64,
    /// Pre-funded accounts (operators, council members): address -> wei.
    pub(crate) funded: Vec<(Address, U256)>,
}

/// Renders the genesis JSON. Alloc entries carry only nonce, balance, code and storage.
pub(crate) fn render(spec: &GenesisSpec) -> Value {
    let mut qbft = json!({
        "blockperiodseconds": spec.block_period_seconds,
        "epochlength": spec.epoch_length,
        "requesttimeoutseconds": spec.request_timeout_seconds,
    });
    let mut alloc = serde_json::Map::new();
    for (address, balance) in &spec.funded {
        alloc.insert(
            address.to_checksum(None),
            json!({ "balance": format!("{balance:#x}") }),
        );
    }
    let extra = match spec.mode {
        Mode::Contract => {
            qbft["validatorcontractaddress"] =
                json!(spec.validator_set_address.to_checksum(None).to_lowercase());
            let storage: serde_json::Map<String, Value> =
                validator_set_storage(&spec.validators, spec.governance, spec.registry)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), json!(v.to_string())))
                    .collect();
            alloc.insert(
                spec.validator_set_address.to_checksum(None),
                json!({
                    "nonce": "0x1",
                    "balance": "0x0",
                    "code": spec.validator_set_code.to_string(),
                    "storage": storage,
                }),
            );
            qbft_extra_data(&[])
        }
        Mode::Header => qbft_extra_data(
            &spec
                .validators
                .iter()
                .map(|v| v.address)
                .collect::<Vec<_>>(),
        ),
    };
    json!({
        "config": {
            "chainId": spec.chain_id,
            "homesteadBlock": 0,
            "eip150Block": 0,
            "eip155Block": 0,
            "eip158Block": 0,
            "byzantiumBlock": 0,
            "constantinopleBlock": 0,
            "petersburgBlock": 0,
            "istanbulBlock": 0,
            "muirGlacierBlock": 0,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,
            // Free gas: operators and agents hold no ether of value.
            "zeroBaseFee": true,
            "qbft": qbft,
        },
        "nonce": "0x0",
        "timestamp": format!("{:#x}", spec.timestamp),
        "gasLimit": format!("{:#x}", spec.gas_limit),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": Address::ZERO.to_string(),
        "extraData": extra.to_string(),
        "alloc": alloc,
    })
}

#[cfg(test)]
mod tests {
    use alloy::primitives::address;

    use super::*;

    /// Besu's QbftExtraDataCodec test vector (two validators, no vote, round 0, no seals).
    #[test]
    fn extra_data_matches_besu_header_mode_vector() {
        let validators = [
            address!("be068f726a13c8d46c44be6ce9d275600e1735a4"),
            address!("5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193"),
        ];
        assert_eq!(
            qbft_extra_data(&validators).to_string(),
            "0xf84fa00000000000000000000000000000000000000000000000000000000000000000ea94be068f726a13c8d46c44be6ce9d275600e1735a4945ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193c080c0"
        );
    }

    #[test]
    fn extra_data_matches_besu_contract_mode_vector() {
        assert_eq!(
            qbft_extra_data(&[]).to_string(),
            "0xe5a00000000000000000000000000000000000000000000000000000000000000000c0c080c0"
        );
    }

    #[test]
    fn storage_follows_the_documented_layout() {
        let v = address!("be068f726a13c8d46c44be6ce9d275600e1735a4");
        let site = B256::left_padding_from(&[1]);
        let gov = address!("5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193");
        let s = validator_set_storage(&[InitialValidator { address: v, site }], gov, Address::ZERO);
        // keccak256(pad32(0)) is the well-known first element slot of a dynamic array at slot 0.
        let first = "0x290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563";
        assert_eq!(s[&first.parse::<B256>().expect("hex")], v.into_word());
        assert_eq!(s[&B256::ZERO], B256::from(U256::from(1)));
        assert_eq!(s[&B256::from(U256::from(3))], gov.into_word());
        assert_eq!(
            s.len(),
            5,
            "length, element, index, site, governance; no zero registry"
        );
    }
}
