use serde_json::{Value, json};

use crate::{
    manage::{ManageError, request::AppBody, request::Request},
    model::{AppSpec, ClientAuthMethod, GrantType, OidcClientSpec, ResponseType},
};

/// A valid minimal `oidc_client` body with `extra` merged in.
fn body(extra: Value) -> Value {
    let mut b = json!({ "name": "web", "kind": "oidc_client", "redirect_uris": ["https://app.example/cb"] });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

fn spec(extra: Value) -> OidcClientSpec {
    match AppBody::from_json(&body(extra)).unwrap().spec {
        AppSpec::OidcClient(o) => *o,
        other => panic!("{other:?}"),
    }
}

/// The `(field, message)` pairs of a refused body.
fn errors(extra: Value) -> Vec<(String, String)> {
    match AppBody::from_json(&body(extra)) {
        Err(ManageError::Invalid(errs)) => errs.into_iter().map(|e| (e.field, e.message)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

/// The fields named by the errors of a refused body.
fn fields(extra: Value) -> Vec<String> {
    errors(extra).into_iter().map(|(f, _)| f).collect()
}

#[test]
fn a_minimal_oidc_client_takes_the_documented_defaults() {
    let s = spec(json!({}));
    assert_eq!(s.client.client_auth_method, ClientAuthMethod::ClientSecretPost);
    assert_eq!(s.response_types, [ResponseType::Code]);
    assert_eq!(s.grant_types, [GrantType::AuthorizationCode]);
    assert!(s.require_pkce && !s.allow_plain_pkce && !s.require_consent);
    assert!(s.access_token_audience_includes_client, "the client is in aud by default");
    assert_eq!(
        (s.id_token_lifetime, s.refresh_token_lifetime, s.refresh_token_absolute_lifetime),
        (300, 86_400, 2_592_000)
    );
    assert_eq!(s.scopes, None, "absent scopes keep the standard table");
    assert_eq!(s.resource, None);
    assert_eq!(serde_json::to_value(&s).unwrap()["auth_methods"], json!(["login"]));
}

#[test]
fn response_types_are_stored_as_normalised_sets_of_words() {
    let s =
        spec(json!({ "response_types": ["id_token code", "code"], "grant_types": ["authorization_code", "implicit"] }));
    assert_eq!(s.response_types, [ResponseType::CodeIdToken, ResponseType::Code]);
    let stored = serde_json::to_value(AppSpec::OidcClient(Box::new(s))).unwrap();
    assert_eq!(stored["response_types"], json!(["code id_token", "code"]));
    assert_eq!(fields(json!({ "response_types": ["code", "code"] })), ["response_types[1]"]);
    assert_eq!(fields(json!({ "response_types": ["code token"] })), ["response_types[0]"]);
    assert_eq!(fields(json!({ "response_types": "code" })), ["response_types"]);
}

#[test]
fn a_spec_round_trips_through_its_stored_json() {
    let s = AppSpec::OidcClient(Box::new(spec(json!({
        "client_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"],
        "scopes": [{ "scope": "openid" }, { "scope": "orders", "claims": ["order_id"] }],
        "resource": { "scopes": ["read"] }, "frontchannel_logout_uri": "https://app.example/fc",
    }))));
    let back: AppSpec = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.kind(), "oidc_client");
    let n = |s: &str| ferrid_oauth::name::Name::parse(s).unwrap();
    let app = crate::model::App::new(n("t1"), n("prod"), n("web"), s.clone(), 7);
    let row = crate::model::AppRow::of(&app);
    assert_eq!(row.kind, "oidc_client");
    assert_eq!(row.into_app().unwrap(), app, "the stored row reads back");
    assert!(back.as_client().is_some() && back.as_resource().is_some());
}

#[test]
fn client_auth_method_may_be_none_only_for_an_oidc_client() {
    assert_eq!(spec(json!({ "client_auth_method": "none" })).client.client_auth_method, ClientAuthMethod::None);
    assert_eq!(
        errors(json!({ "client_auth_method": "secret" })),
        [(
            "client_auth_method".to_owned(),
            "must be client_secret_post, client_secret_basic, private_key_jwt or none".to_owned()
        )]
    );
    let oauth = json!({ "name": "c", "kind": "oauth_client", "client_auth_method": "none" });
    match AppBody::from_json(&oauth) {
        Err(ManageError::Invalid(e)) => {
            assert_eq!(e[0].message, "must be client_secret_post, client_secret_basic or private_key_jwt")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn each_bad_redirect_uri_is_named_by_its_index() {
    let uris = json!([
        "https://app.example/cb",
        "https://app.example/cb#frag",
        "http://app.example/cb",
        "/relative",
        "javascript:alert(1)",
        "http://localhost@evil.example/cb",
        "https://app.example/cb",
        "https:///nohost",
        7,
    ]);
    let got = errors(json!({ "redirect_uris": uris }));
    let named: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        named,
        [
            "redirect_uris[1]",
            "redirect_uris[2]",
            "redirect_uris[3]",
            "redirect_uris[4]",
            "redirect_uris[5]",
            "redirect_uris[6]",
            "redirect_uris[7]",
            "redirect_uris[8]"
        ]
    );
    assert_eq!(got[0].1, "must not contain a fragment");
    assert_eq!(got[5].1, "is listed twice");
    assert_eq!(fields(json!({ "redirect_uris": "https://a.example" })), ["redirect_uris"]);
}

#[test]
fn loopback_http_and_native_schemes_are_accepted_as_redirect_uris() {
    let uris = ["http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "com.example.app:/cb"];
    assert_eq!(spec(json!({ "redirect_uris": uris })).redirect_uris, uris);
    assert_eq!(
        spec(json!({ "post_logout_redirect_uris": ["com.example.app:/out"] })).post_logout_redirect_uris.len(),
        1
    );
    assert_eq!(fields(json!({ "post_logout_redirect_uris": ["http://x.example"] })), ["post_logout_redirect_uris[0]"]);
}

#[test]
fn the_front_channel_logout_uri_must_be_a_web_uri() {
    assert_eq!(fields(json!({ "frontchannel_logout_uri": "com.example.app:/fc" })), ["frontchannel_logout_uri"]);
    assert_eq!(fields(json!({ "frontchannel_logout_uri": "https://a.example/fc#x" })), ["frontchannel_logout_uri"]);
    assert_eq!(fields(json!({ "frontchannel_logout_uri": 1 })), ["frontchannel_logout_uri"]);
}

#[test]
fn flags_lifetimes_and_auth_methods_are_checked() {
    let got = fields(json!({
        "require_pkce": "yes", "allow_plain_pkce": 1, "require_consent": null,
        "id_token_lifetime": 59, "refresh_token_lifetime": 0, "refresh_token_absolute_lifetime": 40_000_000,
        "auth_methods": ["login", "saml"], "grant_types": ["password"],
    }));
    assert_eq!(
        got,
        [
            "grant_types[0]",
            "require_pkce",
            "allow_plain_pkce",
            "auth_methods[1]",
            "id_token_lifetime",
            "refresh_token_lifetime",
            "refresh_token_absolute_lifetime"
        ]
    );
    assert_eq!(fields(json!({ "auth_methods": [] })), ["auth_methods"]);
    assert_eq!(fields(json!({ "grant_types": [] })), ["grant_types"]);
    // a missing openid is reported beside another field's error
    assert_eq!(
        fields(json!({ "scopes": [{ "scope": "email" }], "require_consent": 1 })),
        ["scopes", "require_consent"]
    );
    assert_eq!(fields(json!({ "access_token_lifetime": 10 })), ["access_token_lifetime"]);
}

#[test]
fn the_client_audience_opt_out_is_a_boolean() {
    assert!(!spec(json!({ "access_token_audience_includes_client": false })).access_token_audience_includes_client);
    assert!(spec(json!({ "access_token_audience_includes_client": null })).access_token_audience_includes_client);
    assert_eq!(
        errors(json!({ "access_token_audience_includes_client": "no" })),
        [("access_token_audience_includes_client".to_owned(), "must be true or false".to_owned())]
    );
}

#[test]
fn scopes_are_named_by_their_path() {
    let got = fields(json!({ "scopes": [
        { "scope": "openid" },
        { "scope": "has space" },
        { "scope": "orders", "claims": ["", "id", "id"] },
        { "scope": "orders" },
        "email",
        { "scope": "x", "release": [] },
        { "scope": "api:read" },
    ] }));
    assert_eq!(
        got,
        [
            "scopes[1].scope",
            "scopes[2].claims[0]",
            "scopes[2].claims[2]",
            "scopes[3].scope",
            "scopes[4]",
            "scopes[5].release",
            "scopes[6].scope"
        ]
    );
    assert_eq!(errors(json!({ "scopes": [{ "scope": "email" }] }))[0].0, "scopes", "openid is required");
    assert_eq!(fields(json!({ "scopes": {} })), ["scopes"]);
}

#[test]
fn a_resource_is_an_object_of_scopes() {
    assert_eq!(fields(json!({ "resource": ["read"] })), ["resource"]);
    assert_eq!(fields(json!({ "resource": {} })), ["resource.scopes"]);
    assert_eq!(
        fields(json!({ "resource": { "scopes": ["read", "read"], "name": "x" } })),
        ["resource.name", "resource.scopes[1]"]
    );
}

#[test]
fn a_public_client_must_use_pkce_and_cannot_use_client_credentials() {
    assert_eq!(fields(json!({ "client_auth_method": "none", "require_pkce": false })), ["require_pkce"]);
    let got =
        fields(json!({ "client_auth_method": "none", "grant_types": ["authorization_code", "client_credentials"] }));
    assert_eq!(got, ["grant_types[1]"]);
}

#[test]
fn response_types_and_grant_types_must_agree() {
    // RFC 7591 §2.1: a response type returning tokens needs the implicit grant.
    assert_eq!(fields(json!({ "response_types": ["code id_token"] })), ["response_types[0]"]);
    // the implicit grant needs such a response type
    assert_eq!(fields(json!({ "grant_types": ["authorization_code", "implicit"] })), ["grant_types[1]"]);
    // the code grant needs a response type with code
    let got = fields(json!({ "response_types": ["id_token"], "grant_types": ["authorization_code", "implicit"] }));
    assert_eq!(got, ["grant_types[0]"]);
    assert_eq!(fields(json!({ "grant_types": ["refresh_token"], "response_types": [] })), ["grant_types[0]"]);
    let implicit = spec(json!({ "response_types": ["token id_token"], "grant_types": ["implicit"] }));
    assert_eq!(implicit.grant_types, [GrantType::Implicit]);
}

#[test]
fn a_client_credentials_only_oidc_client_needs_no_redirect_uri() {
    let b = json!({ "name": "svc", "kind": "oidc_client", "grant_types": ["client_credentials"] });
    let AppSpec::OidcClient(s) = AppBody::from_json(&b).unwrap().spec else { panic!() };
    assert!(s.response_types.is_empty() && s.redirect_uris.is_empty());
    let b = json!({ "name": "web", "kind": "oidc_client" });
    match AppBody::from_json(&b) {
        Err(ManageError::Invalid(e)) => assert_eq!(e[0].field, "redirect_uris"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_refresh_cap_is_at_least_the_sliding_lifetime() {
    let got = fields(json!({ "refresh_token_lifetime": 7200, "refresh_token_absolute_lifetime": 3600 }));
    assert_eq!(got, ["refresh_token_absolute_lifetime"]);
}

#[test]
fn the_registration_endpoints_may_be_sent_back_on_an_oidc_client_only() {
    let back = json!({ "authorization_endpoint": "x", "userinfo_endpoint": "y", "end_session_endpoint": "z" });
    spec(back.clone());
    let mut oauth = json!({ "name": "c", "kind": "oauth_client" });
    oauth["authorization_endpoint"] = json!("x");
    assert!(AppBody::from_json(&oauth).is_err(), "an oauth_client has no such field");
}
