//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their
//! saved corpus (`tests/fuzz_corpus.rs`). Each takes arbitrary bytes and must neither
//! panic nor hang; results are ignored.

use std::sync::OnceLock;

use ferrid_oauth::{
    basic::parse_basic,
    form::Form,
    jwt::SigningAlg,
    name::Name,
    scope::{ScopeName, ScopeRef},
};

use crate::{
    claims::{ClaimSet, CompiledTransforms, parse_transforms},
    client_auth::{
        keys::{KeyInput, import_key},
        private_key_jwt,
    },
    keys::{KeyCipher, key_context},
    model::*,
    runtime::TrackRuntime,
    urls::PublicUrl,
};

/// A token request body, plus the same bytes as a Basic header value.
pub fn token_request(data: &[u8]) {
    if let Ok(form) = Form::parse(data) {
        let _ = ferrid_oauth::token::TokenRequest::from_form(&form);
        let _ = crate::client_auth::extract(form.get("authorization"), &form);
        let _ = form.get("scope").map(|s| s.split(' ').map(ScopeRef::parse).count());
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_basic(s);
        let _ = parse_basic(&format!("Basic {s}"));
    }
}

/// A client assertion checked against a track with one `private_key_jwt` client.
pub fn client_assertion(data: &[u8]) {
    let Ok(assertion) = std::str::from_utf8(data) else { return };
    let track = assertion_track();
    let _ = private_key_jwt::verify(track, private_key_jwt::ASSERTION_TYPE, assertion, None, 1_800_000_000);
}

/// A key upload in each form: PEM text, PFX bytes with a password, JWK JSON.
pub fn key_import(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = import_key(KeyInput::Pem(text));
    }
    let _ = import_key(KeyInput::Pfx { der: data, password: Some("pw") });
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = import_key(KeyInput::Jwk(&v));
    }
}

/// Scope strings and names.
pub fn scope(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        for token in s.split(' ') {
            let _ = ScopeRef::parse(token);
            let _ = ScopeName::parse(token);
            let _ = Name::parse(token);
        }
    }
}

/// Claim transforms as JSON, compiled and applied to claims taken from the same input.
pub fn claim_transforms(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok(list) = parse_transforms(&v, "claim_transforms")
        && let Ok(compiled) = CompiledTransforms::compile(list)
    {
        let mut set = ClaimSet::new();
        set.add("client_id", ["svc".to_owned()]);
        set.add("scope", ["api:read".to_owned()]);
        compiled.apply(&mut set);
    }
}

fn assertion_track() -> &'static TrackRuntime {
    static TRACK: OnceLock<TrackRuntime> = OnceLock::new();
    TRACK.get_or_init(|| {
        let cipher = KeyCipher::new(&[1u8; 32]);
        let name = |s: &str| Name::parse(s).expect("valid");
        let pkcs8 = ferrid_oauth::jwt::SigningKey::generate_pkcs8(SigningAlg::ES256).expect("key");
        let kid = ferrid_oauth::jwt::SigningKey::from_pkcs8(SigningAlg::ES256, &pkcs8).expect("key").kid().to_owned();
        let sealed = cipher.seal(&key_context("t", "prod", &kid), &pkcs8, &crate::env::SystemRng);
        let jwk = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": ferrid_oauth::b64::encode(&[9u8; 32]), "kid": "k1" });
        let client = App {
            tenant: name("t"),
            track: name("prod"),
            name: name("pk"),
            spec: AppSpec::OauthClient(ClientSpec {
                client_auth_method: ClientAuthMethod::PrivateKeyJwt,
                resource_scopes: Vec::new(),
                access_token_lifetime: None,
                claims: Vec::new(),
                issued_claims: crate::claims::issue::default_issued(),
                claim_transforms: Vec::new(),
            }),
            version: 1,
            created: 0,
            updated: 0,
        };
        let data = TrackData {
            track: Track { tenant: name("t"), name: name("prod"), settings: TrackSettings::default(), version: 1, created: 0 },
            keys: vec![TrackKey { kid, alg: SigningAlg::ES256, state: KeyState::Active, encrypted_pkcs8: sealed, created: 0, changed: 0 }],
            apps: vec![client],
            secrets: Vec::new(),
            client_keys: vec![(name("pk"), StoredClientKey { key: import_key(KeyInput::Jwk(&jwk)).expect("jwk"), created: 0 })],
        };
        TrackRuntime::build(data, &cipher, &PublicUrl::parse("https://id.example").expect("url"))
    })
}
