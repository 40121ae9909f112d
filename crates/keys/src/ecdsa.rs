//! From an HSM's raw ECDSA output to an Ethereum signature: strict DER decoding, left-padding of r
//! and s to 32 bytes, low-s normalisation and the recovery id found by trial recovery.
//!
//! HSMs sign a digest and know nothing of Ethereum: they return DER (YubiHSM) or r‖s (PKCS#11),
//! with s in either half of the curve order and no recovery id. Ethereum wants s in the lower half
//! (EIP-2) and the y parity of R, which we find by recovering the public key with each parity and
//! comparing it with the key we cached at construction. A signature that recovers to neither is an
//! error: it is never "fixed" by trying another key.

use alloy::primitives::{Address, B256, Signature, U256};
use k256::ecdsa::{RecoveryId, Signature as K256Signature, VerifyingKey};

use crate::error::{Error, Result};

/// A scalar is at most 32 bytes; DER adds a 0x00 byte when the top bit is set.
const MAX_INTEGER_LEN: usize = 33;

/// Decodes a DER `ECDSA-Sig-Value` (`SEQUENCE { r INTEGER, s INTEGER }`) into r and s as 32-byte
/// big-endian values, left-padded. Rejects anything that is not strict DER (long-form lengths,
/// negative or non-minimal integers, trailing bytes), because a lax parser lets one signature
/// take several encodings.
pub fn decode_der(der: &[u8]) -> Result<([u8; 32], [u8; 32])> {
    let malformed = |reason: String| Error::MalformedSignature { reason };
    let (&tag, rest) = der
        .split_first()
        .ok_or_else(|| malformed("empty DER signature".to_owned()))?;
    if tag != 0x30 {
        return Err(malformed(format!(
            "expected a DER SEQUENCE (0x30), found tag {tag:#04x}"
        )));
    }
    let (&len, body) = rest
        .split_first()
        .ok_or_else(|| malformed("DER SEQUENCE has no length".to_owned()))?;
    // 2 * (2 + 33) = 70 < 128, so a valid signature always uses the short length form.
    if len & 0x80 != 0 {
        return Err(malformed(format!(
            "DER SEQUENCE uses a long-form length ({len:#04x})"
        )));
    }
    if usize::from(len) != body.len() {
        return Err(malformed(format!(
            "DER SEQUENCE length {len} does not match the {} bytes that follow",
            body.len()
        )));
    }
    let (r, body) = decode_integer(body, "r")?;
    let (s, body) = decode_integer(body, "s")?;
    if !body.is_empty() {
        return Err(malformed(format!("{} trailing bytes after s", body.len())));
    }
    Ok((r, s))
}

/// Decodes one DER INTEGER holding a non-negative scalar; returns it left-padded and the rest.
fn decode_integer<'a>(input: &'a [u8], name: &str) -> Result<([u8; 32], &'a [u8])> {
    let malformed = |reason: String| Error::MalformedSignature { reason };
    match input {
        [0x02, len, rest @ ..] => {
            let len = usize::from(*len);
            if len == 0 || len > MAX_INTEGER_LEN || len > rest.len() {
                return Err(malformed(format!(
                    "INTEGER {name} has length {len} ({} bytes available, 1..=33 allowed)",
                    rest.len()
                )));
            }
            let (bytes, rest) = rest.split_at(len);
            if bytes[0] & 0x80 != 0 {
                return Err(malformed(format!("INTEGER {name} is negative")));
            }
            if len > 1 && bytes[0] == 0 && bytes[1] & 0x80 == 0 {
                return Err(malformed(format!(
                    "INTEGER {name} has a superfluous leading zero"
                )));
            }
            let digits = if len == MAX_INTEGER_LEN {
                &bytes[1..]
            } else {
                bytes
            };
            let mut out = [0u8; 32];
            out[32 - digits.len()..].copy_from_slice(digits);
            Ok((out, rest))
        }
        [tag, ..] => Err(malformed(format!(
            "expected INTEGER {name} (0x02), found tag {tag:#04x}"
        ))),
        [] => Err(malformed(format!(
            "DER signature ends before INTEGER {name}"
        ))),
    }
}

/// Turns a device's (r, s) over `hash` into an Ethereum signature by `key` (whose address is
/// `address`): rejects zero or out-of-range scalars, moves s to the lower half of the order and
/// finds the y parity by trial recovery. Errors if neither parity recovers `key`.
pub fn to_eth_signature(
    r: &[u8; 32],
    s: &[u8; 32],
    hash: &B256,
    key: &VerifyingKey,
    address: Address,
) -> Result<Signature> {
    let sig = K256Signature::from_scalars(*r, *s).map_err(|_| Error::MalformedSignature {
        reason: "r or s is zero or not below the curve order".to_owned(),
    })?;
    // Negating s mirrors R, so the parity that recovers changes too; trial recovery below finds
    // the right one for the normalised signature, whichever half s came in.
    let sig = sig.normalize_s().unwrap_or(sig);
    for parity in [false, true] {
        let recid = RecoveryId::new(parity, false);
        match VerifyingKey::recover_from_prehash(hash.as_slice(), &sig, recid) {
            Ok(recovered) if &recovered == key => {
                let (r, s) = sig.split_bytes();
                return Ok(Signature::new(
                    U256::from_be_slice(&r),
                    U256::from_be_slice(&s),
                    parity,
                ));
            }
            _ => {}
        }
    }
    Err(Error::SignatureMismatch { address })
}

/// EIP-155 for a signer with a chain id: fills an unset transaction chain id, and refuses a
/// transaction meant for another chain (what alloy's own signers do).
pub(crate) fn apply_chain_id(
    chain_id: Option<alloy::primitives::ChainId>,
    tx: &mut dyn alloy::consensus::SignableTransaction<Signature>,
) -> alloy::signers::Result<()> {
    if let Some(chain_id) = chain_id
        && !tx.set_chain_id_checked(chain_id)
    {
        return Err(alloy::signers::Error::TransactionChainIdMismatch {
            signer: chain_id,
            tx: tx.chain_id().unwrap_or_default(),
        });
    }
    Ok(())
}

/// Parses an uncompressed public key given as x‖y (64 bytes, YubiHSM) or SEC1 0x04‖x‖y (65 bytes).
pub fn verifying_key_from_point(point: &[u8]) -> std::result::Result<VerifyingKey, String> {
    let sec1: Vec<u8> = match point.len() {
        64 => [&[0x04], point].concat(),
        65 if point[0] == 0x04 => point.to_vec(),
        n => {
            return Err(format!(
                "expected a 64-byte x‖y or 65-byte uncompressed point, got {n} bytes"
            ));
        }
    };
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| "the point is not on secp256k1".to_owned())
}

/// The key's uncompressed SEC1 encoding (0x04‖x‖y), as `keys show` prints it.
pub fn uncompressed(key: &VerifyingKey) -> [u8; 65] {
    let point = key.to_encoded_point(false);
    let mut out = [0u8; 65];
    out.copy_from_slice(point.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::utils::public_key_to_address;
    use k256::ecdsa::SigningKey;

    fn key() -> SigningKey {
        SigningKey::from_slice(&[0x46; 32]).unwrap()
    }

    #[test]
    fn der_agrees_with_k256_on_many_signatures() {
        let sk = key();
        for i in 0u32..300 {
            let hash = alloy::primitives::keccak256(i.to_be_bytes());
            let (sig, _) = sk.sign_prehash_recoverable(hash.as_slice()).unwrap();
            let der = sig.to_der();
            let (r, s) = decode_der(der.as_bytes()).unwrap();
            let (er, es) = sig.split_bytes();
            assert_eq!((r.as_slice(), s.as_slice()), (er.as_slice(), es.as_slice()));
        }
    }

    #[test]
    fn rejects_non_strict_der() {
        let cases: &[(&str, &[u8])] = &[
            ("empty", &[]),
            (
                "wrong tag",
                &[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            ),
            (
                "long form",
                &[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            ),
            (
                "length mismatch",
                &[0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            ),
            (
                "negative r",
                &[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01],
            ),
            (
                "padded r",
                &[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01],
            ),
            ("zero-length s", &[0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x00]),
            (
                "trailing",
                &[0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00],
            ),
        ];
        for (name, der) in cases {
            assert!(decode_der(der).is_err(), "{name} was accepted");
        }
        let mut too_long = vec![0x30, 38, 0x02, 34, 0x00];
        too_long.extend([0x80; 33]);
        too_long.extend([0x02, 0x01, 0x01]);
        assert!(decode_der(&too_long).is_err());
    }

    #[test]
    fn high_s_is_normalised_and_parity_flipped() {
        let sk = key();
        let vk = *sk.verifying_key();
        let address = public_key_to_address(&vk);
        let hash = alloy::primitives::keccak256(b"sankofa");
        let (low, recid) = sk.sign_prehash_recoverable(hash.as_slice()).unwrap();
        let (r, s) = low.split_bytes();
        let high_s = -*low.s();
        let high = K256Signature::from_scalars(r, high_s.to_bytes()).unwrap();
        assert!(
            high.normalize_s().is_some(),
            "crafted signature must be high-s"
        );

        let (hr, hs) = high.split_bytes();
        let eth = to_eth_signature(&hr.into(), &hs.into(), &hash, &vk, address).unwrap();
        assert_eq!(eth.s(), U256::from_be_slice(&s));
        assert_eq!(eth.v(), recid.is_y_odd());
        assert_eq!(eth.recover_address_from_prehash(&hash).unwrap(), address);
    }

    #[test]
    fn other_keys_signature_is_refused() {
        let vk = *key().verifying_key();
        let other = SigningKey::from_slice(&[0x35; 32]).unwrap();
        let hash = alloy::primitives::keccak256(b"x");
        let (sig, _) = other.sign_prehash_recoverable(hash.as_slice()).unwrap();
        let (r, s) = sig.split_bytes();
        let err = to_eth_signature(&r.into(), &s.into(), &hash, &vk, public_key_to_address(&vk))
            .unwrap_err();
        assert!(matches!(err, Error::SignatureMismatch { .. }), "{err}");
    }

    #[test]
    fn zero_scalars_are_refused() {
        let vk = *key().verifying_key();
        let err =
            to_eth_signature(&[0; 32], &[1; 32], &B256::ZERO, &vk, Address::ZERO).unwrap_err();
        assert!(matches!(err, Error::MalformedSignature { .. }));
    }

    #[test]
    fn points_parse_in_both_forms() {
        let vk = *key().verifying_key();
        let full = uncompressed(&vk);
        assert_eq!(verifying_key_from_point(&full).unwrap(), vk);
        assert_eq!(verifying_key_from_point(&full[1..]).unwrap(), vk);
        assert!(verifying_key_from_point(&full[2..]).is_err());
        let mut off_curve = full;
        off_curve[64] ^= 1;
        assert!(verifying_key_from_point(&off_curve).is_err());
    }
}
