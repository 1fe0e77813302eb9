//! Password-based decryption of a PFX's `encryptedData` section, so that `pfx_cost` can
//! count the bags it hides before the PFX reader opens them: PBES2 (RFC 8018 §6.2) and
//! the PKCS#12 PBE schemes with SHA-1 and 3-key triple DES or 40-bit RC2 (RFC 7292
//! Appendix C) — the same schemes, through the same crates, as the PFX reader, so a
//! section this cannot open is one the reader cannot open either.

use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit, block_padding::Pkcs7};
use pkcs5::der::Decode;
use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};

/// PBES2 (1.2.840.113549.1.5.13).
const PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
/// pbeWithSHAAnd3-KeyTripleDES-CBC (1.2.840.113549.1.12.1.3).
const PBE_SHA1_3DES: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03];
/// pbeWithSHAAnd40BitRC2-CBC (1.2.840.113549.1.12.1.6).
const PBE_SHA1_RC2_40: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x06];

/// Decrypts `ciphertext` under the scheme named by `oid` with `params` (the DER of the
/// AlgorithmIdentifier's parameters). `None` for a wrong password (bad padding), bad
/// parameters or a scheme the PFX reader does not know either.
pub(super) fn decrypt(oid: &[u8], params: &[u8], ciphertext: &[u8], password: &str) -> Option<Vec<u8>> {
    if oid == PBES2 {
        let params = pkcs5::pbes2::Parameters::from_der(params).ok()?;
        return params.decrypt(password.as_bytes(), ciphertext).ok();
    }
    // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
    let (salt, iterations) = pbe_params(params)?;
    if oid == PBE_SHA1_3DES {
        cbc_decrypt::<des::TdesEde3>(salt, iterations, 24, ciphertext, password)
    } else if oid == PBE_SHA1_RC2_40 {
        cbc_decrypt::<rc2::Rc2>(salt, iterations, 5, ciphertext, password)
    } else {
        None
    }
}

/// RFC 7292 Appendix B.2 key and IV derivation (SHA-1), then CBC with PKCS#7 padding.
fn cbc_decrypt<C>(salt: &[u8], iterations: i32, key_len: usize, ciphertext: &[u8], password: &str) -> Option<Vec<u8>>
where
    C: KeyInit + BlockCipherDecrypt,
{
    let key = derive_key_utf8::<sha1::Sha1>(password, salt, Pkcs12KeyType::EncryptionKey, iterations, key_len).ok()?;
    let iv = derive_key_utf8::<sha1::Sha1>(password, salt, Pkcs12KeyType::Iv, iterations, 8).ok()?;
    let cipher = cbc::Decryptor::<C>::new_from_slices(&key, &iv).ok()?;
    cipher.decrypt_padded_vec::<Pkcs7>(ciphertext).ok()
}

fn pbe_params(der: &[u8]) -> Option<(&[u8], i32)> {
    let (params, _) = super::pfx_cost::expect(der, 0x30)?;
    let (salt, rest) = super::pfx_cost::expect(params, 0x04)?;
    let (int, _) = super::pfx_cost::expect(rest, 0x02)?;
    if int.is_empty() || int.len() > 4 || int[0] & 0x80 != 0 {
        return None;
    }
    Some((salt, int.iter().fold(0i32, |n, b| (n << 8) | i32::from(*b))))
}
