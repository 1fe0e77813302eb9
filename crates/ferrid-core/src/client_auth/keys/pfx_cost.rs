//! What opening a PFX would cost, read before any key derivation (RFC 7292 §4–§5).
//!
//! Every password-based step of a PFX runs a key derivation whose iteration count the
//! file chooses: the MAC (RFC 7292 Appendix B), each encrypted content section
//! (`encryptedData`, RFC 7292 §4.1) and each shrouded key or secret bag (§4.2.2, §4.2.5),
//! with PBES2/PBKDF2 (RFC 8018 §6.2, §5.2) or the PKCS#12 PBE schemes (RFC 7292
//! Appendix C). A file can repeat them: an upload of a few hundred kilobytes could ask
//! for minutes of CPU. This module walks the DER structure the password does not hide,
//! counts the visible bags and sums the iteration counts, and [`check`] refuses the file
//! before anything is derived when it asks for more than real exports do:
//!
//! | producer | derivations | iterations each |
//! |---|---|---|
//! | OpenSSL 3 (`pkcs12 -export`, with or without `-legacy`) | MAC, certificates, key | 2 048 |
//! | Windows (`Export-PfxCertificate`, certmgr), .NET `Export(Pfx)` (FoxIDs) | MAC, certificates, key | 2 000 |
//! | Java `keytool` (JDK 17+) | MAC, certificates, key | 10 000 |
//! | hardened exports (`-iter 600000`, OWASP's PBKDF2 figure) | MAC, certificates, key | 600 000 |
//!
//! The caps ([`MAX_BAGS`], [`MAX_ITERATIONS`]) accept all of these with room to spare.
//!
//! Bags inside an encrypted content section are counted after decrypting it (`pbe.rs`):
//! that costs the section's own derivation twice (here and in the reader), so an
//! accepted import derives at most about twice [`MAX_ITERATIONS`].

use super::KeyImportError;

/// At most this many visible bags: content sections of the `AuthenticatedSafe` plus the
/// bags of its unencrypted sections. A certificate, its chain and its key take 2 to 8.
pub const MAX_BAGS: usize = 16;
/// At most this many key-derivation iterations in total (MAC + every encrypted section
/// + every shrouded key or secret bag): three derivations of 600 000 fit.
pub const MAX_ITERATIONS: u64 = 2_000_000;

// OIDs as DER content bytes (RFC 7292 Appendix D, RFC 8018 Appendix A, RFC 7914 §7).
const ID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const ID_ENCRYPTED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
const PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const SCRYPT: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b];
/// `pkcs-12PbeIds` (1.2.840.113549.1.12.1): the PKCS#12 PBE schemes, one arc each.
const PKCS12_PBE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];
const SHROUDED_KEY_BAG: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02];
const SECRET_BAG: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x05];

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const EXPLICIT_0: u8 = 0xa0;

/// What the visible layer of a PFX asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cost {
    pub bags: usize,
    pub iterations: u64,
}

/// Refuses a PFX that asks for more work than [`MAX_BAGS`] and [`MAX_ITERATIONS`]
/// allow, or for scrypt. First the structure the password does not hide is counted;
/// then each `encryptedData` section is decrypted here, in the order the PFX reader
/// would, and the bags inside it are counted too (a shrouded key bag hidden there would
/// cost the reader another derivation). A section that does not decrypt ends the count:
/// the reader stops at the same section. A structure that cannot be walked is
/// [`KeyImportError::NotPfx`] (the PFX reader, which is strict DER, refuses it too).
pub fn check(der: &[u8], password: &str) -> Result<Cost, KeyImportError> {
    let (mut cost, sections) = measure(der)?.ok_or(KeyImportError::NotPfx)?;
    within_caps(&cost)?;
    for section in sections {
        let Some((oid, params)) = expect(section.algorithm, OID) else { break };
        let Some(plain) = super::pbe::decrypt(oid, params, section.ciphertext, password) else { break };
        if !safe_contents(&plain, &mut cost)? {
            break;
        }
        within_caps(&cost)?;
    }
    Ok(cost)
}

/// The part of [`check`] that needs no password and no key derivation (microseconds,
/// whatever the file): run before an import waits for a slot, so a hostile file is
/// refused at once. A structure that cannot be walked passes here; the import says why.
pub fn check_visible(der: &[u8]) -> Result<(), KeyImportError> {
    match measure(der)? {
        Some((cost, _)) => within_caps(&cost),
        None => Ok(()),
    }
}

fn within_caps(cost: &Cost) -> Result<(), KeyImportError> {
    over_bags(cost)?;
    if cost.iterations > MAX_ITERATIONS {
        return Err(KeyImportError::PfxTooCostly(format!(
            "the PFX asks for more than {MAX_ITERATIONS} key-derivation iterations in total \
             (exports use 2 000 to 600 000 per derivation, usually three derivations)"
        )));
    }
    Ok(())
}

/// An `encryptedData` section: its algorithm (the AlgorithmIdentifier's content) and
/// its ciphertext.
struct Sealed<'a> {
    algorithm: &'a [u8],
    ciphertext: &'a [u8],
}

/// The visible cost and the encrypted sections. `Ok(None)`: not a walkable PFX. `Err`: a
/// refusal found on the way (scrypt, or the bag count running over, which stops the
/// walk early).
fn measure(der: &[u8]) -> Result<Option<(Cost, Vec<Sealed<'_>>)>, KeyImportError> {
    let mut cost = Cost::default();
    let mut sealed = Vec::new();
    let Some((pfx, _)) = expect(der, SEQUENCE) else { return Ok(None) };
    let Some((_version, rest)) = expect(pfx, INTEGER) else { return Ok(None) };
    let Some((auth_safe, mac_data)) = expect(rest, SEQUENCE) else { return Ok(None) };
    if !mac_data.is_empty() {
        // MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
        let Some((mac, _)) = expect(mac_data, SEQUENCE) else { return Ok(None) };
        let Some((_digest, rest)) = expect(mac, SEQUENCE) else { return Ok(None) };
        let Some((_salt, rest)) = expect(rest, OCTET_STRING) else { return Ok(None) };
        let iterations = if rest.is_empty() { 1 } else { integer(expect(rest, INTEGER).map(|(i, _)| i)) };
        cost.iterations = cost.iterations.saturating_add(iterations);
    }
    let Some((content_type, rest)) = expect(auth_safe, OID) else { return Ok(None) };
    if content_type != ID_DATA {
        return Ok(Some((cost, sealed))); // signedData: refused by the caller without opening it
    }
    let Some((explicit, _)) = expect(rest, EXPLICIT_0) else { return Ok(None) };
    let Some((safe_der, _)) = expect(explicit, OCTET_STRING) else { return Ok(None) };
    let Some((mut infos, _)) = expect(safe_der, SEQUENCE) else { return Ok(None) };
    // AuthenticatedSafe ::= SEQUENCE OF ContentInfo
    while !infos.is_empty() {
        let Some((info, rest)) = expect(infos, SEQUENCE) else { return Ok(None) };
        infos = rest;
        cost.bags += 1;
        over_bags(&cost)?;
        let Some((content_type, rest)) = expect(info, OID) else { return Ok(None) };
        let Some((content, _)) = expect(rest, EXPLICIT_0) else { continue };
        if content_type == ID_DATA {
            let Some((contents, _)) = expect(content, OCTET_STRING) else { return Ok(None) };
            if !safe_contents(contents, &mut cost)? {
                return Ok(None);
            }
        } else if content_type == ID_ENCRYPTED_DATA {
            // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo ::= SEQUENCE {
            //   contentType, contentEncryptionAlgorithm AlgorithmIdentifier, … } }
            let Some((enc, _)) = expect(content, SEQUENCE) else { return Ok(None) };
            let Some((_version, rest)) = expect(enc, INTEGER) else { return Ok(None) };
            let Some((eci, _)) = expect(rest, SEQUENCE) else { return Ok(None) };
            let Some((_type, rest)) = expect(eci, OID) else { return Ok(None) };
            let Some((alg, rest)) = expect(rest, SEQUENCE) else { return Ok(None) };
            cost.iterations = cost.iterations.saturating_add(derivation(alg)?);
            // encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL (primitive in DER)
            if let Some((ciphertext, _)) = expect(rest, 0x80) {
                sealed.push(Sealed { algorithm: alg, ciphertext });
            }
        }
    }
    Ok(Some((cost, sealed)))
}

fn over_bags(cost: &Cost) -> Result<(), KeyImportError> {
    if cost.bags > MAX_BAGS {
        return Err(KeyImportError::PfxTooCostly(format!("the PFX holds more than {MAX_BAGS} bags")));
    }
    Ok(())
}

/// `SafeContents ::= SEQUENCE OF SafeBag`; false when it does not parse.
fn safe_contents(der: &[u8], cost: &mut Cost) -> Result<bool, KeyImportError> {
    let Some((mut bags, _)) = expect(der, SEQUENCE) else { return Ok(false) };
    while !bags.is_empty() {
        // SafeBag ::= SEQUENCE { bagId OID, bagValue [0] EXPLICIT ANY, bagAttributes SET OPTIONAL }
        let Some((bag, rest)) = expect(bags, SEQUENCE) else { return Ok(false) };
        bags = rest;
        cost.bags += 1;
        over_bags(cost)?;
        let Some((bag_id, rest)) = expect(bag, OID) else { return Ok(false) };
        let Some((value, _)) = expect(rest, EXPLICIT_0) else { return Ok(false) };
        let epki = if bag_id == SHROUDED_KEY_BAG {
            // EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm, encryptedData }
            Some(value)
        } else if bag_id == SECRET_BAG {
            // SecretBag ::= SEQUENCE { secretTypeId OID, secretValue [0] EXPLICIT OCTET STRING };
            // the value the PFX reader tries to decrypt is an EncryptedPrivateKeyInfo.
            expect(value, SEQUENCE)
                .and_then(|(s, _)| expect(s, OID))
                .and_then(|(_, rest)| expect(rest, EXPLICIT_0))
                .and_then(|(v, _)| expect(v, OCTET_STRING))
                .map(|(v, _)| v)
        } else {
            None
        };
        if let Some(alg) = epki.and_then(|e| expect(e, SEQUENCE)).and_then(|(e, _)| expect(e, SEQUENCE)) {
            cost.iterations = cost.iterations.saturating_add(derivation(alg.0)?);
        }
    }
    Ok(true)
}

/// The iterations of one password-based encryption `AlgorithmIdentifier` (its content).
/// Schemes the reader does not know cost nothing (it refuses them without deriving).
fn derivation(alg: &[u8]) -> Result<u64, KeyImportError> {
    let Some((oid, params)) = expect(alg, OID) else { return Ok(0) };
    if oid == PBES2 {
        // PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme … }
        let kdf = expect(params, SEQUENCE).and_then(|(p, _)| expect(p, SEQUENCE)).and_then(|(k, _)| expect(k, OID));
        let Some((kdf_oid, kdf_params)) = kdf else { return Ok(0) };
        if kdf_oid == SCRYPT {
            return Err(KeyImportError::PfxUnsupported("scrypt key derivation"));
        }
        if kdf_oid != PBKDF2 {
            return Ok(0);
        }
        // PBKDF2-params ::= SEQUENCE { salt CHOICE { OCTET STRING, AlgorithmIdentifier }, iterationCount, … }
        let Some((p, _)) = expect(kdf_params, SEQUENCE) else { return Ok(0) };
        let Some((_salt, rest)) = read(p) else { return Ok(0) };
        return Ok(integer(expect(rest, INTEGER).map(|(i, _)| i)));
    }
    if oid.len() == PKCS12_PBE.len() + 1 && oid.starts_with(PKCS12_PBE) {
        // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
        let Some((p, _)) = expect(params, SEQUENCE) else { return Ok(0) };
        let Some((_salt, rest)) = expect(p, OCTET_STRING) else { return Ok(0) };
        return Ok(integer(expect(rest, INTEGER).map(|(i, _)| i)));
    }
    Ok(0)
}

/// An INTEGER's content as a count: negative or missing is 0 (nothing is derived), one
/// too large for 64 bits saturates (and so is over any cap).
fn integer(content: Option<&[u8]>) -> u64 {
    let Some(bytes) = content.filter(|b| !b.is_empty()) else { return 0 };
    if bytes[0] & 0x80 != 0 {
        return 0;
    }
    let significant: &[u8] = &bytes[bytes.iter().take_while(|b| **b == 0).count()..];
    if significant.len() > 8 {
        return u64::MAX;
    }
    significant.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b))
}

/// One TLV with the expected single-byte tag: its content and what follows it.
pub(super) fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, content, rest) = read_tagged(input)?;
    (t == tag).then_some((content, rest))
}

fn read(input: &[u8]) -> Option<(&[u8], &[u8])> {
    read_tagged(input).map(|(_, content, rest)| (content, rest))
}

/// One definite-length TLV (X.690 §8.1) with a low tag number; the indefinite form and
/// multi-byte tags, which the PFX reader's strict DER refuses, are refused here too.
fn read_tagged(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |l, b| (l << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::STANDARD};

    use super::{super::test_fixtures as fx, *};

    fn decode(b64: &str) -> Vec<u8> {
        STANDARD.decode(b64.split_whitespace().collect::<String>()).unwrap()
    }

    #[test]
    fn real_exports_fit_the_caps_and_their_encrypted_sections_are_counted() {
        // OpenSSL 3 (PBES2/AES), -legacy (RC2-40 certificates, 3DES key), 3DES at 2 000.
        for file in [fx::PFX_MODERN, fx::PFX_LEGACY, fx::PFX_3DES] {
            let der = decode(file);
            let (visible, _) = measure(&der).unwrap().unwrap();
            let cost = check(&der, fx::PFX_PASSWORD).unwrap();
            // the certificates sit in the encrypted section: counted once decrypted
            assert!(cost.bags > visible.bags, "{cost:?} vs {visible:?}");
            assert!(cost.iterations <= 3 * 2048 && cost.iterations >= 2000, "{cost:?}");
        }
        // `-nomac` leaves the certificate unencrypted: all of it is visible.
        let der = decode(fx::PFX_NO_MAC);
        assert_eq!(check(&der, fx::PFX_PASSWORD).unwrap(), Cost { bags: 4, iterations: 2048 });
        // With a wrong password nothing is decrypted, and nothing more is counted.
        let der = decode(fx::PFX_MODERN);
        assert_eq!(check(&der, "wrong").unwrap(), measure(&der).unwrap().unwrap().0);
    }

    #[test]
    fn integers_are_read_as_counts() {
        assert_eq!(integer(Some(&[0x08, 0x00])), 2048);
        assert_eq!(integer(Some(&[0x00, 0x98, 0x96, 0x80])), 10_000_000);
        assert_eq!(integer(Some(&[0xff])), 0);
        assert_eq!(integer(Some(&[1; 9])), u64::MAX);
        assert_eq!(integer(None), 0);
    }

    #[test]
    fn truncated_or_indefinite_lengths_do_not_parse() {
        assert_eq!(read_tagged(&[0x30, 0x05, 0x01]), None);
        assert_eq!(read_tagged(&[0x30, 0x80, 0x00, 0x00]), None);
        assert_eq!(read_tagged(&[0x30, 0x81, 0x01, 0x05]), Some((0x30, &[0x05][..], &[][..])));
    }
}
