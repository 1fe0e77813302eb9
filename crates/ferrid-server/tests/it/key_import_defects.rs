//! Issue 18, key import: a PFX that asks for minutes of key derivation is refused before
//! any is done, and the import runs off the async workers so it cannot stall the token
//! endpoints of other tenants.

use std::{num::NonZeroU32, time::Duration};

use aws_lc_rs::{
    cipher::{AES_256, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey},
    iv::FixedLength,
    pbkdf2,
};
use base64::Engine;
use ferrid_core::env::{Clock, SystemClock};
use serde_json::{Value, json};

use ferrid_testkit::*;

/// Key imports share two slots per process: these tests take turns, so one's uploads
/// never queue behind the other's.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const KEYS: &str = "/tenants/t1/tracks/prod/apps/pk/keys";
const PASSWORD: &str = "correct-horse-battery";

// ---- a tiny DER writer (X.690) ---------------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n <= 0xff => out.extend([0x81, n as u8]),
        n if n <= 0xffff => out.extend([0x82, (n >> 8) as u8, n as u8]),
        n => out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn int(n: u32) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(3);
    let mut content = bytes[skip..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

const ID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const ID_ENCRYPTED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
const PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const HMAC_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
const AES_256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];

/// A PFX (RFC 7292) without MAC whose AuthenticatedSafe holds `sections` copies of one
/// `encryptedData` section: an empty SafeContents, really encrypted with PBES2
/// (PBKDF2-HMAC-SHA256 at `iterations`, AES-256-CBC) under [`PASSWORD`]. Every section
/// decrypts, so a reader that opens the file derives `sections × iterations`.
fn costly_pfx(sections: usize, iterations: u32) -> Vec<u8> {
    sealed_pfx(sections, iterations, &seq(&[]))
}

/// A PBES2 AlgorithmIdentifier: PBKDF2-HMAC-SHA256 at `iterations`, AES-256-CBC.
fn pbes2(salt: &[u8], iterations: u32, iv: &[u8]) -> Vec<u8> {
    let prf = seq(&[oid(HMAC_SHA256), tlv(0x05, &[])]);
    let kdf = seq(&[oid(PBKDF2), seq(&[tlv(0x04, salt), int(iterations), prf])]);
    let scheme = seq(&[oid(AES_256_CBC), tlv(0x04, iv)]);
    seq(&[oid(PBES2), seq(&[kdf, scheme])])
}

/// `n` shrouded key bags (RFC 7292 §4.2.2) whose encryption asks for `iterations` each;
/// their ciphertext is junk (a reader derives the key before it can tell).
fn shrouded_bags(n: usize, iterations: u32) -> Vec<u8> {
    const SHROUDED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02];
    let epki = seq(&[pbes2(&[1; 16], iterations, &[2; 16]), tlv(0x04, &[3; 32])]);
    let bag = seq(&[oid(SHROUDED), tlv(0xa0, &epki)]);
    seq(&std::iter::repeat_n(bag, n).collect::<Vec<_>>())
}

/// Like [`costly_pfx`], each section holding `safe_contents` (a SafeContents DER).
fn sealed_pfx(sections: usize, iterations: u32, safe_contents: &[u8]) -> Vec<u8> {
    let salt = [7u8; 16];
    let iv = [9u8; 16];
    let mut key = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations).unwrap(),
        &salt,
        PASSWORD.as_bytes(),
        &mut key,
    );
    let cipher = PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &key).unwrap()).unwrap();
    let mut in_out = safe_contents.to_vec();
    cipher.less_safe_encrypt(&mut in_out, EncryptionContext::Iv128(FixedLength::from(iv))).unwrap();
    let alg = pbes2(&salt, iterations, &iv);
    let eci = seq(&[oid(ID_DATA), alg, tlv(0x80, &in_out)]);
    let section = seq(&[oid(ID_ENCRYPTED_DATA), tlv(0xa0, &seq(&[int(0), eci]))]);
    let safes: Vec<Vec<u8>> = std::iter::repeat_n(section, sections).collect();
    let auth_safe = seq(&[oid(ID_DATA), tlv(0xa0, &tlv(0x04, &seq(&safes)))]);
    seq(&[int(3), auth_safe])
}

fn b64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// Tenant t1/prod with a private_key_jwt client `pk`; tenant t2/prod with a
/// client_secret_post client `svc`, whose token requests must not wait for uploads.
async fn two_tenants(app: &TestApp) -> (String, ClientCreds) {
    let admin = app.admin_token().await;
    for t in ["t1", "t2"] {
        app.tenant_track(&admin, t, "prod", "ES256").await;
        app.resource(&admin, t, "prod", "api", &["read"]).await;
    }
    let body = json!({ "name": "pk", "kind": "oauth_client", "client_auth_method": "private_key_jwt" });
    let (st, b) = app.post_api("/tenants/t1/tracks/prod/apps", &admin, body).await;
    assert_eq!(st, 201, "{b}");
    let grants = json!([{ "resource": "api", "scopes": ["read"] }]);
    let svc = app.client(&admin, "t2", "prod", "svc", "client_secret_post", grants).await;
    (admin, svc)
}

fn field_message(b: &Value, field: &str) -> String {
    b["errors"]
        .as_array()
        .and_then(|errs| errs.iter().find(|e| e["field"] == field))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error naming {field}: {b}"))
        .to_owned()
}

#[tokio::test]
async fn a_pfx_with_excessive_key_derivation_work_is_refused() {
    let _serial = SERIAL.lock().await;
    let app = spawn_app().await;
    let (admin, _) = two_tenants(&app).await;
    // The attack: 1 000 encrypted sections at 1 000 000 iterations each.
    let attack = costly_pfx(1000, 1_000_000);
    // Sections within the bag cap but over the iteration budget: 3 × 1 000 000.
    let heavy = costly_pfx(3, 1_000_000);
    // One cheap encrypted section hiding shrouded key bags: 10 × 1 000 000 inside.
    let hidden = sealed_pfx(1, 10_000, &shrouded_bags(10, 1_000_000));
    // … or hiding more bags than any export holds.
    let many = sealed_pfx(1, 10_000, &shrouded_bags(40, 1));
    let cases =
        [(attack, "bags"), (heavy, "key-derivation iterations"), (hidden, "key-derivation iterations"), (many, "bags")];
    for (pfx, why) in cases {
        let started = SystemClock::new(); // real time: what the refusal costs
        let (st, b) = app.post_api(KEYS, &admin, json!({ "pfx": b64(&pfx), "password": PASSWORD })).await;
        let took = started.monotonic();
        assert_eq!(st, 400, "{b}");
        assert_eq!(b["error"], "validation_failed", "{b}");
        let message = field_message(&b, "pfx");
        assert!(message.contains(why), "{message}");
        assert!(took < Duration::from_secs(2), "refused only after {took:?}");
    }
    // Within both caps (2 × 1 000 000) the file is opened (and has no certificate).
    let (st, b) =
        app.post_api(KEYS, &admin, json!({ "pfx": b64(&costly_pfx(2, 1_000_000)), "password": PASSWORD })).await;
    assert_eq!(st, 400, "{b}");
    assert!(field_message(&b, "pfx").contains("no certificate"), "{b}");
}

#[tokio::test]
async fn key_import_does_not_stall_the_token_endpoint() {
    let _serial = SERIAL.lock().await;
    let app = std::sync::Arc::new(spawn_app().await);
    let (admin, svc) = two_tenants(&app).await;
    let token_url = app.token_url("t2", "prod");
    let form = format!("grant_type=client_credentials&client_id=svc&client_secret={}", svc.secret);
    // Warm up the token endpoint (first-use costs stay out of the measurement).
    assert_eq!(app.post_form(&token_url, None, &form).await.status(), 200);
    // Three uploads that pass the caps but each cost 2 × 1 000 000 iterations.
    let pfx = b64(&costly_pfx(2, 1_000_000));
    // real time: whether imports hold the token endpoint back is a matter of CPU time
    let clock = SystemClock::new();
    let uploads: Vec<_> = (0..3)
        .map(|_| {
            let (app, admin, pfx) = (app.clone(), admin.clone(), pfx.clone());
            tokio::spawn(async move {
                let answer = app.post_api(KEYS, &admin, json!({ "pfx": pfx, "password": PASSWORD })).await;
                (answer, clock.monotonic())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // While they run, tenant t2's token endpoint answers promptly, again and again.
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let t = clock.monotonic();
        assert_eq!(app.post_form(&token_url, None, &form).await.status(), 200);
        slowest = slowest.max(clock.monotonic() - t);
    }
    let tokens_done = clock.monotonic();
    let mut first_upload_done = None::<Duration>;
    for u in uploads {
        let ((st, b), done) = u.await.unwrap();
        assert_eq!(st, 400, "{b}");
        first_upload_done = Some(first_upload_done.map_or(done, |f| f.min(done)));
    }
    let first_upload_done = first_upload_done.unwrap();
    eprintln!(
        "token requests: slowest {slowest:?}; first upload done {:?} after them",
        first_upload_done.saturating_sub(tokens_done)
    );
    // On the async workers the imports would have run first, holding the token requests back.
    assert!(tokens_done < first_upload_done, "the token requests waited until an upload had finished");
    assert!(slowest < Duration::from_millis(500), "a token request waited {slowest:?} behind key imports");
}
