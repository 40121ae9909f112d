//! DER vectors with unusual integer lengths, from real RFC 6979 signatures by the EIP-155 example
//! key (0x4646…46, address 0x9d8A…5A4F) over keccak256("sankofa der vector <i>"). A decoder that
//! forgets the 0x00 sign byte or the left-padding gets a wrong r or s, and recovery then fails.

// Tests may panic on anything unexpected; that is how they fail.
#![allow(clippy::unwrap_used)]

use alloy::primitives::{address, hex, keccak256};
use k256::ecdsa::VerifyingKey;
use sankofa_keys::ecdsa::{decode_der, to_eth_signature};

const ADDRESS: alloy::primitives::Address = address!("9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");

struct Vector {
    message: &'static str,
    der: &'static str,
    r: &'static str,
    s: &'static str,
    y_odd: bool,
}

const VECTORS: [Vector; 3] = [
    // 33-byte r: the top bit of r is set, so DER prepends 0x00.
    Vector {
        message: "sankofa der vector 0",
        der: "3045022100abf5fd7b6d997e6c8e76024cd0219d5770f5139cc96b6e1afeb19ea399896406022075bd4680d3b1482d874bd0995c4d50450ce7545f86b76b2bf28773641f91730b",
        r: "abf5fd7b6d997e6c8e76024cd0219d5770f5139cc96b6e1afeb19ea399896406",
        s: "75bd4680d3b1482d874bd0995c4d50450ce7545f86b76b2bf28773641f91730b",
        y_odd: false,
    },
    // 31-byte r: r < 2^247, must be left-padded to 32 bytes.
    Vector {
        message: "sankofa der vector 151",
        der: "3043021f05c6b41568e4577ac9bcad304565a6b554bf76286993ac6088407e2ffa9d8002200b91221c68b4fcae2614937b200a2225c1e013163cb73394f1634ef5e8247498",
        r: "0005c6b41568e4577ac9bcad304565a6b554bf76286993ac6088407e2ffa9d80",
        s: "0b91221c68b4fcae2614937b200a2225c1e013163cb73394f1634ef5e8247498",
        y_odd: false,
    },
    // 31-byte s (and a 33-byte r).
    Vector {
        message: "sankofa der vector 988",
        der: "3044022100ecc4e40b3a37a8f8c7e1661b357d8e116dadcba0921c12edf3b86561e53fca72021f2c494090cb2f081bccf64982e226377a837f882b4dd11e11b30f5dbbbbb798",
        r: "ecc4e40b3a37a8f8c7e1661b357d8e116dadcba0921c12edf3b86561e53fca72",
        s: "002c494090cb2f081bccf64982e226377a837f882b4dd11e11b30f5dbbbbb798",
        y_odd: true,
    },
];

fn key() -> VerifyingKey {
    *k256::ecdsa::SigningKey::from_slice(&[0x46; 32])
        .unwrap()
        .verifying_key()
}

#[test]
fn unusual_integer_lengths_decode_and_recover() {
    let key = key();
    for v in &VECTORS {
        let der = hex::decode(v.der).unwrap();
        let (r, s) = decode_der(&der).unwrap();
        assert_eq!(hex::encode(r), v.r, "{}: r", v.message);
        assert_eq!(hex::encode(s), v.s, "{}: s", v.message);
        let hash = keccak256(v.message);
        let sig = to_eth_signature(&r, &s, &hash, &key, ADDRESS).unwrap();
        assert_eq!(sig.v(), v.y_odd, "{}: parity", v.message);
        assert_eq!(
            sig.recover_address_from_prehash(&hash).unwrap(),
            ADDRESS,
            "{}",
            v.message
        );
    }
}

#[test]
fn vectors_are_what_they_claim() {
    // Guard the vectors themselves: the DER integer lengths are 33, 31 (r) and 31 (s).
    let len_r = |d: &[u8]| d[3];
    let len_s = |d: &[u8]| d[5 + usize::from(d[3])];
    let ders: Vec<Vec<u8>> = VECTORS
        .iter()
        .map(|v| hex::decode(v.der).unwrap())
        .collect();
    assert_eq!(len_r(&ders[0]), 33);
    assert_eq!(len_r(&ders[1]), 31);
    assert_eq!(len_s(&ders[2]), 31);
}

#[test]
fn crafted_high_s_is_normalised_with_flipped_parity() {
    // Vector 0 mirrored: s' = n - s is the same signature in the upper half, with R's parity
    // flipped. The decoder must hand back the low-s form and the original parity.
    let key = key();
    let v = &VECTORS[0];
    let (r, s) = decode_der(&hex::decode(v.der).unwrap()).unwrap();
    let low = k256::ecdsa::Signature::from_scalars(r, s).unwrap();
    let high_s: [u8; 32] = (-*low.s()).to_bytes().into();
    assert!(high_s > s, "the crafted s is in the upper half");
    let hash = keccak256(v.message);
    let sig = to_eth_signature(&r, &high_s, &hash, &key, ADDRESS).unwrap();
    assert_eq!(hex::encode(sig.s().to_be_bytes::<32>()), v.s);
    assert_eq!(sig.v(), v.y_odd);
    assert_eq!(sig.recover_address_from_prehash(&hash).unwrap(), ADDRESS);
}
