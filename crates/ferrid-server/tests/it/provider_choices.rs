//! Choices of the OpenID Provider written down in docs/protocol.md "OpenID Provider
//! (issue 15)" that no other module shows: PKCE parameters are ignored for implicit
//! response types, and response-type words are read as a set.

use reqwest::StatusCode;
use serde_json::json;

use ferrid_testkit::browser::{Browser, params_of};

use crate::provider::{CB, PASSWORD, op, register};

#[tokio::test]
async fn pkce_parameters_are_ignored_for_implicit_response_types_even_when_the_client_requires_pkce() {
    let op = op().await;
    let body = json!({ "response_types": ["id_token", "code id_token"], "grant_types": ["authorization_code", "implicit"],
                       "require_pkce": true });
    register(&op.app, &op.admin, "spa", body).await;
    let mut b = Browser::new();
    // a challenge that would be refused for a code (too short, a method not allowed)
    let bad_pkce = [("code_challenge", "short"), ("code_challenge_method", "plain")];
    let mut implicit = vec![("response_type", "id_token")];
    implicit.extend(bad_pkce);
    let page = b.get(&op.code_url("spa", &implicit)).await;
    let after = op.log_in(&mut b, &page, "alice", PASSWORD).await;
    let loc = after.location().unwrap_or_else(|| panic!("a redirect ({}): {}", after.status, after.body));
    assert!(loc.starts_with(&format!("{CB}#")), "{loc}");
    let p = params_of(loc);
    assert!(p.contains_key("id_token") && !p.contains_key("error"), "{p:?}");
    // no challenge at all: issued as well
    let none = [("response_type", "id_token"), ("code_challenge", ""), ("code_challenge_method", "")];
    assert!(params_of(b.get(&op.code_url("spa", &none)).await.location().unwrap()).contains_key("id_token"));
    // a hybrid type has a code: the same challenge is refused there
    let mut hybrid = vec![("response_type", "id_token code")];
    hybrid.extend(bad_pkce);
    let p = params_of(b.get(&op.code_url("spa", &hybrid)).await.location().unwrap());
    assert_eq!(p["error"], "invalid_request");
}

#[tokio::test]
async fn response_type_words_are_a_set_each_once_and_registrations_store_one_spelling() {
    let op = op().await;
    let body = json!({ "response_types": ["id_token code"], "grant_types": ["authorization_code", "implicit"] });
    register(&op.app, &op.admin, "hy", body).await;
    let (s, got) = op.app.get_api("/tenants/t1/tracks/prod/apps/hy", &op.admin).await;
    assert_eq!((s, &got["response_types"]), (StatusCode::OK, &json!(["code id_token"])));
    let mut b = Browser::new();
    for (rt, error) in [
        ("code  id_token", "unsupported_response_type"),
        ("code id_token id_token", "unsupported_response_type"),
        ("Code id_token", "unsupported_response_type"),
        ("token", "unsupported_response_type"),
        // a served type this client did not register
        ("code token", "unauthorized_client"),
    ] {
        let page = b.get(&op.code_url("hy", &[("response_type", rt)])).await;
        assert_eq!(page.status, StatusCode::FOUND, "{rt}: {}", page.body);
        let p = params_of(page.location().unwrap());
        assert_eq!(p["error"], error, "{rt}: {p:?}");
    }
}
