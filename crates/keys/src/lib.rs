//! Signing for Sankofa: YubiHSM 2, PKCS#11 and keystore keys as alloy signers, and the signing guard.
