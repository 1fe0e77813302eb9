use serde_json::json;

use super::*;
use crate::model::Track;

/// `(field, message)` of each error, in order.
fn errors<T: std::fmt::Debug>(r: ManageResult<T>) -> Vec<(String, String)> {
    match r {
        Err(ManageError::Invalid(errs)) => errs.into_iter().map(|e| (e.field, e.message)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(f, m)| (f.to_string(), m.to_string())).collect()
}

#[test]
fn a_body_must_be_an_object_and_every_bad_field_is_named() {
    assert_eq!(errors(NewTenant::from_json(&json!([1]))), pairs(&[("body", "must be a JSON object")]));
    assert_eq!(
        errors(NewTenant::from_json(&json!({ "nam": "acme" }))),
        pairs(&[("name", "is required"), ("nam", "is not a field of this object")])
    );
    assert_eq!(NewTenant::from_json(&json!({ "name": "acme" })).unwrap().name.as_str(), "acme");
}

#[test]
fn track_settings_are_read_with_the_ranges_of_the_model() {
    let body = json!({ "name": "prod", "signing_alg": "HS256", "access_token_lifetime": 86_401, "assertion_max_lifetime": null });
    assert_eq!(
        errors(NewTrack::from_json(&body)),
        pairs(&[
            ("signing_alg", "must be one of RS256, PS256, ES256, EdDSA"),
            ("access_token_lifetime", "must be an integer number of seconds from 300 to 86400"),
        ])
    );
    let t = NewTrack::from_json(&json!({ "name": "prod", "signing_alg": "ES256" })).unwrap();
    assert_eq!(t.settings(), TrackSettings { signing_alg: SigningAlg::ES256, ..TrackSettings::default() });
}

fn track() -> Track {
    Track {
        tenant: Name::parse("acme").unwrap(),
        name: Name::parse("prod").unwrap(),
        settings: TrackSettings::default(),
        version: 1,
        created: 0,
    }
}

#[test]
fn a_changed_algorithm_or_name_is_the_one_error_of_a_patch() {
    let changes = |v| TrackChanges::from_json(&v).unwrap().apply(&track());
    assert_eq!(
        errors(changes(json!({ "signing_alg": "ES256", "key_rotation_days": 0, "extra": 1 }))),
        pairs(&[("signing_alg", "is fixed when the track is created")])
    );
    assert_eq!(errors(changes(json!({ "name": "other", "extra": 1 }))), pairs(&[("name", "cannot be changed")]));
    assert_eq!(
        errors(changes(json!({ "name": "prod", "key_rotation_days": 0 }))),
        pairs(&[("key_rotation_days", "must be an integer number of days from 1 to 3650")])
    );
    let s = changes(json!({ "signing_alg": "RS256", "access_token_lifetime": 600 })).unwrap();
    assert_eq!(s, TrackSettings { access_token_lifetime: 600, ..TrackSettings::default() });
}

#[test]
fn an_app_body_names_nested_fields_by_their_json_path() {
    let body = json!({
        "name": "orders", "kind": "oauth_client",
        "resource_scopes": [{ "resource": "api", "scopes": ["read"] }, { "resource": "api2", "scopes": ["ok", 7, "ok"], "x": 1 }],
        "claims": [{ "claim": "iss", "values": ["a"] }],
    });
    assert_eq!(
        errors(AppBody::from_json(&body)),
        pairs(&[
            ("resource_scopes[1].x", "is not a field of this object"),
            ("resource_scopes[1].scopes[1]", "must be a string"),
            ("resource_scopes[1].scopes[2]", "is listed twice"),
            ("claims[0].claim", "'iss' is a protocol claim that ferrid sets itself"),
        ])
    );
}

#[test]
fn an_app_body_reads_back_what_it_serializes() {
    let body = json!({
        "name": "orders", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
        "resource_scopes": [{ "resource": "api", "scopes": ["read", "write"] }],
        "access_token_lifetime": 600, "claims": [{ "claim": "role", "values": ["reader"] }],
        // fields the API returns may be sent back
        "version": 3, "client_id": "orders",
    });
    let parsed = AppBody::from_json(&body).unwrap();
    let again = AppBody::from_json(&serde_json::to_value(&parsed).unwrap()).unwrap();
    assert_eq!(parsed, again);
    let resource = AppBody::from_json(&json!({ "name": "api", "kind": "oauth_resource", "scopes": ["read"] })).unwrap();
    assert_eq!(resource.spec.kind(), "oauth_resource");
}

#[test]
fn a_chosen_secret_is_16_to_512_characters() {
    assert_eq!(
        errors(SecretBody::from_json(&json!({ "secret": "short" }))),
        pairs(&[("secret", "must be 16 to 512 characters")])
    );
    assert!(SecretBody::from_json(&json!({})).unwrap().secret.is_none());
    assert!(SecretBody::from_json(&json!({ "secret": "x".repeat(16) })).unwrap().secret.is_some());
}

#[test]
fn a_key_body_holds_exactly_one_kind_of_key() {
    assert_eq!(
        errors(NewClientKey::from_json(&json!({ "pem": "a", "jwk": {} }))),
        pairs(&[("body", "must hold exactly one of pem, pfx (with password) or jwk")])
    );
    let pfx = NewClientKey::from_json(&json!({ "pfx": "not base64!", "password": "p" })).unwrap();
    assert_eq!(
        errors(pfx.into_input().map(|(_, field)| field)),
        pairs(&[("pfx", "must be the PFX/PKCS#12 file in base64")])
    );
    let (input, field) = NewClientKey::from_json(&json!({ "pfx": "AAEC\nAw==" })).unwrap().into_input().unwrap();
    assert!(matches!(input, OwnedKeyInput::Pfx { der, password: None } if der == [0, 1, 2, 3]));
    assert_eq!(field, "pfx");
}

#[cfg(feature = "openapi")]
#[test]
fn the_schemas_show_the_ranges_the_reader_checks() {
    use utoipa::PartialSchema;
    let schema = serde_json::to_value(NewTrack::schema()).unwrap();
    let lifetime = &schema["properties"]["access_token_lifetime"];
    assert_eq!(lifetime["minimum"], json!(*crate::model::TOKEN_LIFETIME_RANGE.start()));
    assert_eq!(lifetime["maximum"], json!(*crate::model::TOKEN_LIFETIME_RANGE.end()));
    let changes = serde_json::to_value(TrackChanges::schema()).unwrap();
    assert_eq!(changes["properties"]["key_rotation_days"]["maximum"], json!(*ROTATION_DAYS_RANGE.end()));
    assert!(changes["properties"].get("invalid").is_none());
}
