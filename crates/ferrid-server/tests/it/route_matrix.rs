//! Every route of the management API (issue 5; docs/api.md), table-driven: each route
//! called by each kind of caller (no token, a forged token, a token for another
//! audience, another tenant's administrator, this tenant's administrator, the
//! administrator), and each error that applies to it (404, 400 naming the field, 409,
//! 412), every error in the one shape.
//!
//! The table must list exactly `openapi::ROUTES`, so a new route fails here until it has a row.

use std::{cell::Cell, collections::BTreeSet};

use base64::Engine;
use reqwest::{Method, header::HeaderMap};
use serde_json::{Value, json};

use ferrid_testkit::*;

use crate::{openapi::ROUTES, permissions::tenant_admin};

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    NoToken,
    /// An unsigned (`alg: none`) token claiming to be t1's tenant administrator.
    Forged,
    /// A valid token from t1's master track, for another resource than `ferrid-api`.
    WrongAudience,
    /// t2's tenant administrator, on t1's paths.
    OtherTenant,
    /// t1's tenant administrator.
    OwnTenant,
    Admin,
}

const EVERY_CALLER: [Who; 6] =
    [Who::NoToken, Who::Forged, Who::WrongAudience, Who::OtherTenant, Who::OwnTenant, Who::Admin];

/// What a destructive row acts on: created (as the admin) before the first call and again
/// after each call that succeeded, so each caller meets an object that exists.
#[derive(Clone, Copy, Debug)]
enum Fresh {
    Track,
    App,
    Secret,
    Key,
    User,
}

/// One route: how to call it and what each caller gets.
struct Row {
    method: &'static str,
    /// As in `openapi::ROUTES`; `{tenant}` is t1, `{track}` prod, `{app}` svc (a client with
    /// a secret and a key), `{id}` svc's secret, `{kid}` svc's key.
    path: &'static str,
    /// The request body; `{new}` becomes an unused name, `"{jwk}"` a new public key and
    /// `"{jwk1}"` the key svc already has.
    body: Option<&'static str>,
    /// The status for another tenant's administrator, this tenant's, and the administrator.
    expect: [u16; 3],
    fresh: Option<Fresh>,
    /// Takes `limit`.
    paged: bool,
    /// A body with one invalid field, and the field the 400 must name.
    bad: Option<(&'static str, &'static str)>,
    /// A body that creates what already exists.
    duplicate: Option<&'static str>,
    /// Takes `If-Match`.
    if_match: bool,
}

const R: Row = Row {
    method: "GET",
    path: "",
    body: None,
    expect: READ,
    fresh: None,
    paged: false,
    bad: None,
    duplicate: None,
    if_match: false,
};

const READ: [u16; 3] = [404, 200, 200];
const CREATE: [u16; 3] = [404, 201, 201];
const DELETE: [u16; 3] = [404, 204, 204];

const CLIENT_SPEC: &str = r#"{"name": "svc", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
    "resource_scopes": [{"resource": "api", "scopes": ["read"]}]}"#;

/// Every route. `DELETE /tenants/{tenant}` deletes t1 for good, so it comes last.
const TABLE: &[Row] = &[
    Row { path: "/api/v1/tenants", expect: [200, 200, 200], paged: true, ..R },
    Row {
        method: "POST",
        path: "/api/v1/tenants",
        body: Some(r#"{"name": "{new}"}"#),
        expect: [403, 403, 201],
        bad: Some((r#"{"name": "Not A Name!"}"#, "name")),
        duplicate: Some(r#"{"name": "t2"}"#),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}", ..R },
    Row { path: "/api/v1/tenants/{tenant}/audit", paged: true, ..R },
    Row { path: "/api/v1/tenants/{tenant}/tracks", paged: true, ..R },
    Row {
        method: "POST",
        path: "/api/v1/tenants/{tenant}/tracks",
        body: Some(r#"{"name": "{new}", "signing_alg": "ES256"}"#),
        expect: CREATE,
        bad: Some((r#"{"name": "x", "signing_alg": "HS256"}"#, "signing_alg")),
        duplicate: Some(r#"{"name": "prod", "signing_alg": "ES256"}"#),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}", ..R },
    Row {
        method: "PATCH",
        path: "/api/v1/tenants/{tenant}/tracks/{track}",
        body: Some(r#"{"access_token_lifetime": 600}"#),
        bad: Some((r#"{"access_token_lifetime": -1}"#, "access_token_lifetime")),
        if_match: true,
        ..R
    },
    Row {
        method: "DELETE",
        path: "/api/v1/tenants/{tenant}/tracks/{track}",
        expect: DELETE,
        fresh: Some(Fresh::Track),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}/keys", ..R },
    Row { method: "POST", path: "/api/v1/tenants/{tenant}/tracks/{track}/keys/rotate", expect: [404, 202, 202], ..R },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}/apps", paged: true, ..R },
    Row {
        method: "POST",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/apps",
        body: Some(r#"{"name": "{new}", "kind": "oauth_resource", "scopes": ["read"]}"#),
        expect: CREATE,
        bad: Some((r#"{"name": "x", "kind": "oauth_resource", "scopes": ["read"], "colour": "red"}"#, "colour")),
        duplicate: Some(r#"{"name": "api", "kind": "oauth_resource", "scopes": ["read"]}"#),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}", ..R },
    Row {
        method: "PUT",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}",
        body: Some(CLIENT_SPEC),
        bad: Some((
            r#"{"name": "svc", "kind": "oauth_client", "client_auth_method": "client_secret_basic",
                "resource_scopes": [{"resource": "api", "scopes": ["read", "delete"]}]}"#,
            "resource_scopes[0].scopes[1]",
        )),
        if_match: true,
        ..R
    },
    Row {
        method: "DELETE",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}",
        expect: DELETE,
        fresh: Some(Fresh::App),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets", ..R },
    Row {
        method: "POST",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets",
        body: Some("{}"),
        expect: CREATE,
        bad: Some((r#"{"secret": "too-short"}"#, "secret")),
        ..R
    },
    Row {
        method: "DELETE",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets/{id}",
        expect: DELETE,
        fresh: Some(Fresh::Secret),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys", ..R },
    Row {
        method: "POST",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys",
        body: Some(r#"{"jwk": "{jwk}"}"#),
        expect: CREATE,
        bad: Some((r#"{"pem": "not a certificate"}"#, "pem")),
        duplicate: Some(r#"{"jwk": "{jwk1}"}"#),
        ..R
    },
    Row {
        method: "DELETE",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys/{kid}",
        expect: DELETE,
        fresh: Some(Fresh::Key),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}/users", paged: true, ..R },
    Row {
        method: "POST",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/users",
        body: Some(r#"{"username": "{new}", "password": "correct horse battery staple"}"#),
        expect: CREATE,
        bad: Some((r#"{"username": "x", "password": "short"}"#, "password")),
        duplicate: Some(r#"{"username": "taken", "password": "correct horse battery staple"}"#),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}", ..R },
    Row {
        method: "PATCH",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}",
        body: Some(r#"{"claims": {"name": "Taken"}}"#),
        bad: Some((r#"{"disabled": "yes"}"#, "disabled")),
        if_match: true,
        ..R
    },
    Row {
        method: "DELETE",
        path: "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}",
        expect: DELETE,
        fresh: Some(Fresh::User),
        ..R
    },
    Row { path: "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}/sessions", ..R },
    Row { method: "DELETE", path: "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}/sessions", expect: DELETE, ..R },
    Row { method: "DELETE", path: "/api/v1/tenants/{tenant}", expect: [403, 403, 204], ..R },
];

impl Row {
    fn expected(&self, who: Who) -> u16 {
        match who {
            Who::NoToken | Who::Forged | Who::WrongAudience => 401,
            Who::OtherTenant => self.expect[0],
            Who::OwnTenant => self.expect[1],
            Who::Admin => self.expect[2],
        }
    }

    /// The least privileged caller for whom the route succeeds.
    fn able(&self) -> Who {
        if self.expect[1] < 300 { Who::OwnTenant } else { Who::Admin }
    }

    fn params(&self) -> Vec<&'static str> {
        self.path.split('/').filter(|s| s.starts_with('{')).collect()
    }

    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

/// A server with tenants t1 and t2, each with its tenant administrator, a track `prod`
/// (ES256), a resource `api` (read, write) and a client `svc` (Basic, granted api:read)
/// holding one secret and one key `k1`; t1's `prod` also holds the user `taken`.
struct World {
    app: TestApp,
    admin: String,
    own: String,
    other: String,
    wrong_audience: String,
    forged: String,
    secret_id: String,
    /// The id of t1's user `taken`: `{id}` in the user routes.
    user_id: String,
    jwk1: Value,
    names: Cell<u32>,
}

fn ed25519_jwk(kid: &str) -> Value {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kp.public_key_raw());
    json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid })
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

impl World {
    async fn new() -> World {
        let (app, admin) = spawn_admin().await;
        let own = tenant_admin(&app, &admin, "t1").await;
        let other = tenant_admin(&app, &admin, "t2").await;
        let mut secret_id = String::new();
        let jwk1 = ed25519_jwk("k1");
        for t in ["t1", "t2"] {
            app.tenant_track(&admin, t, "prod", "ES256").await;
            app.resource(&admin, t, "prod", "api", &["read", "write"]).await;
            let grants = json!([{ "resource": "api", "scopes": ["read"] }]);
            app.client(&admin, t, "prod", "svc", "client_secret_basic", grants).await;
            let keys = format!("/tenants/{t}/tracks/prod/apps/svc/keys");
            app.create(&keys, &admin, json!({ "jwk": jwk1 })).await;
            let (s, b) = app.get_api(&format!("/tenants/{t}/tracks/prod/apps/svc/secrets"), &admin).await;
            assert_eq!(s, 200, "{b}");
            if t == "t1" {
                secret_id = b["items"][0]["id"].as_str().unwrap().to_owned();
            }
        }
        // t1's master track: a resource other than ferrid-api and a client granted it
        app.resource(&admin, "t1", "master", "other", &["x"]).await;
        let grants = json!([{ "resource": "other", "scopes": ["x"] }]);
        let c = app.client(&admin, "t1", "master", "elsewhere", "client_secret_basic", grants).await;
        let wrong_audience = app.token_for("t1", "master", &c, "").await;
        assert_eq!(claims(&wrong_audience)["aud"], "other");
        // the claims of t1's administrator, unsigned
        let mut payload = claims(&own);
        payload["jti"] = json!("forged");
        let forged = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "at+jwt" })), b64(&payload));
        let body = json!({ "username": "taken", "password": "correct horse battery staple" });
        let user_id =
            app.create("/tenants/t1/tracks/prod/users", &admin, body).await["id"].as_str().unwrap().to_owned();
        World { app, admin, own, other, wrong_audience, forged, secret_id, user_id, jwk1, names: Cell::new(0) }
    }

    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::NoToken => None,
            Who::Forged => Some(&self.forged),
            Who::WrongAudience => Some(&self.wrong_audience),
            Who::OtherTenant => Some(&self.other),
            Who::OwnTenant => Some(&self.own),
            Who::Admin => Some(&self.admin),
        }
    }

    fn new_name(&self) -> String {
        self.names.set(self.names.get() + 1);
        format!("n{}", self.names.get())
    }

    /// The template with the fixture's objects, `overrides` first.
    fn path(&self, template: &str, overrides: &[(&str, &str)]) -> String {
        let user = format!("/users/{}", self.user_id);
        let stock = [
            ("{tenant}", "t1"),
            ("{track}", "prod"),
            ("{app}", "svc"),
            ("/users/{id}", &user),
            ("{id}", &self.secret_id),
            ("{kid}", "k1"),
        ];
        let mut p = template.to_owned();
        for (k, v) in overrides.iter().chain(stock.iter()) {
            p = p.replace(k, v);
        }
        p
    }

    fn body(&self, template: &str) -> String {
        let mut b = template.replace("{new}", &self.new_name());
        if b.contains("\"{jwk}\"") {
            b = b.replace("\"{jwk}\"", &ed25519_jwk(&self.new_name()).to_string());
        }
        b.replace("\"{jwk1}\"", &self.jwk1.to_string())
    }

    async fn send(&self, method: &str, path: &str, who: Who, body: Option<&str>, if_match: Option<&str>) -> Reply {
        let url = format!("{}{path}", self.app.base);
        let mut req = self.app.http.request(Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(t) = self.token(who) {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_owned());
        }
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Reply { status, headers, body }
    }

    /// Creates, as the admin, the object a destructive row removes: (placeholder, value).
    async fn create(&self, f: Fresh) -> (&'static str, String) {
        let base = "/tenants/t1/tracks/prod/apps/svc";
        let (placeholder, path, body, field) = match f {
            Fresh::Track => {
                let n = self.new_name();
                ("{track}", "/tenants/t1/tracks".to_owned(), json!({ "name": n, "signing_alg": "ES256" }), "name")
            }
            Fresh::App => {
                let n = self.new_name();
                let body = json!({ "name": n, "kind": "oauth_resource", "scopes": ["r"] });
                ("{app}", "/tenants/t1/tracks/prod/apps".to_owned(), body, "name")
            }
            Fresh::Secret => ("{id}", format!("{base}/secrets"), json!({}), "id"),
            Fresh::Key => ("{kid}", format!("{base}/keys"), json!({ "jwk": ed25519_jwk(&self.new_name()) }), "kid"),
            Fresh::User => {
                let body = json!({ "username": self.new_name(), "password": "correct horse battery staple" });
                ("{id}", "/tenants/t1/tracks/prod/users".to_owned(), body, "id")
            }
        };
        let (s, b) = self.app.post_api(&path, &self.admin, body).await;
        assert_eq!(s, 201, "creating a {f:?}: {b}");
        (placeholder, b[field].as_str().unwrap().to_owned())
    }
}

/// The error code each status carries.
fn code(status: u16) -> &'static str {
    match status {
        400 => "validation_failed",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        405 => "method_not_allowed",
        412 => "precondition_failed",
        _ => panic!("no error code for {status}"),
    }
}

/// The status is `want`; an error is `{"error", "message", "errors"?}` as JSON, with the
/// Bearer challenge RFC 6750 §3 asks for on 401 and 403.
fn check(r: &Reply, want: u16, who: Who, ctx: &str) {
    assert_eq!(r.status, want, "{ctx} as {who:?}: {}", r.body);
    if want < 400 {
        if want == 201 {
            let loc = r.headers["location"].to_str().unwrap();
            assert!(loc.starts_with("/api/v1/tenants"), "{ctx}: Location {loc}");
        }
        return;
    }
    assert_eq!(r.headers["content-type"], "application/json", "{ctx} as {who:?}");
    let obj = r.body.as_object().unwrap_or_else(|| panic!("{ctx} as {who:?}: not an object: {}", r.body));
    let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    assert!(keys.is_subset(&BTreeSet::from(["error", "message", "errors"])), "{ctx} as {who:?}: {}", r.body);
    assert_eq!(obj["error"], code(want), "{ctx} as {who:?}");
    assert!(obj["message"].as_str().is_some_and(|m| !m.is_empty()), "{ctx} as {who:?}: {}", r.body);
    match obj.get("errors") {
        Some(errs) => {
            assert_eq!(want, 400, "{ctx}: field errors on a {want}");
            let errs = errs.as_array().unwrap();
            assert!(!errs.is_empty());
            for e in errs {
                assert!(e["field"].as_str().is_some_and(|f| !f.is_empty()) && e["message"].is_string(), "{e}");
            }
        }
        None => assert_ne!(want, 400, "{ctx}: a 400 names its fields"),
    }
    let challenge = r.headers.get("www-authenticate").map(|v| v.to_str().unwrap());
    let expected = match (want, who) {
        (401, Who::NoToken) => Some("Bearer realm=\"ferrid-api\""),
        (401, _) => Some("Bearer realm=\"ferrid-api\", error=\"invalid_token\""),
        (403, _) => Some("Bearer realm=\"ferrid-api\", error=\"insufficient_scope\""),
        _ => None,
    };
    assert_eq!(challenge, expected, "{ctx} as {who:?}");
}

/// A 403 for ferrid's own objects: the error shape, and no `WWW-Authenticate`.
fn check_protected(r: &Reply, ctx: &str) {
    assert_eq!(r.status, 403, "{ctx}: {}", r.body);
    assert_eq!(r.headers["content-type"], "application/json", "{ctx}");
    assert_eq!(r.body["error"], "forbidden", "{ctx}");
    assert!(r.headers.get("www-authenticate").is_none(), "{ctx}: a challenge no token can answer");
}

fn fields(r: &Reply) -> Vec<&str> {
    r.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect()
}

#[test]
fn the_table_lists_every_route_of_the_api_once() {
    let table: Vec<(&str, &str)> = TABLE.iter().map(|r| (r.method, r.path)).collect();
    let unique: BTreeSet<_> = table.iter().copied().collect();
    assert_eq!(unique.len(), table.len(), "a route has two rows");
    assert_eq!(unique, ROUTES.iter().copied().collect::<BTreeSet<_>>());
}

#[tokio::test]
async fn every_route_answers_each_caller_as_its_permission_says() {
    let w = World::new().await;
    for row in TABLE {
        let mut fresh: Option<(&str, String)> = None;
        for who in EVERY_CALLER {
            if let Some(f) = row.fresh
                && fresh.is_none()
            {
                fresh = Some(w.create(f).await);
            }
            let overrides: Vec<(&str, &str)> = fresh.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let path = w.path(row.path, &overrides);
            let body = row.body.map(|b| w.body(b));
            let r = w.send(row.method, &path, who, body.as_deref(), None).await;
            let want = row.expected(who);
            check(&r, want, who, &row.name());
            if who == Who::OtherTenant && want == 404 {
                // another tenant's object answers exactly as one that does not exist
                let missing =
                    w.path(row.path, &[("{tenant}", "t9")].iter().chain(&overrides).copied().collect::<Vec<_>>());
                let m = w.send(row.method, &missing, who, body.as_deref(), None).await;
                assert_eq!(m.status, 404, "{}", row.name());
                assert_eq!(r.body.to_string().replace("'t1'", "'t9'"), m.body.to_string(), "{}", row.name());
            }
            if who == Who::OtherTenant && r.status < 300 {
                let text = r.body.to_string();
                assert!(!text.contains("\"t1\"") && !text.contains("/t1/"), "{}: t1 visible to t2: {text}", row.name());
            }
            if r.status < 300 {
                fresh = None;
            }
        }
    }
    // the last row deleted t1: its administrator's token went with it, even once the name is reused
    let (s, _) = w.app.get_api("/tenants/t1", &w.admin).await;
    assert_eq!(s, 404);
    let r = w.send("GET", "/api/v1/tenants/t1", Who::OwnTenant, None, None).await;
    check(&r, 401, Who::OwnTenant, "t1's token after t1 is deleted");
    let (s, _) = w.app.post_api("/tenants", &w.admin, json!({ "name": "t1" })).await;
    assert_eq!(s, 201);
    let r = w.send("GET", "/api/v1/tenants/t1", Who::OwnTenant, None, None).await;
    check(&r, 401, Who::OwnTenant, "the old t1's token on a new t1");
}

#[tokio::test]
async fn each_path_parameter_naming_nothing_is_a_404_for_the_admin_and_the_tenant_admin() {
    let w = World::new().await;
    for row in TABLE {
        for param in row.params() {
            for missing in ["nope", "not%20a%20name"] {
                let path = w.path(row.path, &[(param, missing)]);
                for who in [Who::OwnTenant, Who::Admin] {
                    // an administrator-only route refuses a tenant administrator before it looks
                    let want = if row.expected(who) == 403 { 403 } else { 404 };
                    let body = row.body.map(|b| w.body(b));
                    let r = w.send(row.method, &path, who, body.as_deref(), None).await;
                    check(&r, want, who, &format!("{} with {param} = {missing}", row.name()));
                }
            }
        }
        // secrets and keys belong to clients: a resource has none
        if row.path.contains("{app}/") {
            let path = w.path(row.path, &[("{app}", "api")]);
            let body = row.body.map(|b| w.body(b));
            let r = w.send(row.method, &path, Who::OwnTenant, body.as_deref(), None).await;
            check(&r, 404, Who::OwnTenant, &format!("{} on a resource", row.name()));
        }
    }
}

#[tokio::test]
async fn another_method_on_a_route_is_405_and_an_unknown_path_404_in_the_error_shape() {
    let w = World::new().await;
    let paths: BTreeSet<&str> = ROUTES.iter().map(|(_, p)| *p).collect();
    for path in paths {
        let taken: BTreeSet<&str> = ROUTES.iter().filter(|(_, p)| *p == path).map(|(m, _)| *m).collect();
        let concrete = w.path(path, &[]);
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"].into_iter().filter(|m| !taken.contains(m)) {
            for who in [Who::NoToken, Who::Admin] {
                let r = w.send(method, &concrete, who, Some("{}"), None).await;
                check(&r, 405, who, &format!("{method} {path}"));
                let allow: BTreeSet<&str> = r.headers["allow"].to_str().unwrap().split(',').map(str::trim).collect();
                assert!(taken.is_subset(&allow), "{method} {path}: Allow {allow:?}");
            }
        }
    }
    for path in [
        "/api/v1",
        "/api/v1/",
        "/api/v1/nothing",
        "/api/v1/tenants/t1/nothing",
        "/api/v1/tenants/t1/tracks/prod/x/y/z/w",
    ] {
        for who in [Who::NoToken, Who::Admin] {
            let r = w.send("GET", path, who, None, None).await;
            check(&r, 404, who, path);
        }
    }
}

#[tokio::test]
async fn what_ferrid_itself_needs_is_403_even_for_the_administrator() {
    let w = World::new().await;
    let ferrid_api = "/api/v1/tenants/t1/tracks/master/apps/ferrid-api";
    let spec = r#"{"name": "ferrid-api", "kind": "oauth_resource", "scopes": ["tenant", "more"]}"#;
    let cases: [(&str, &str, Option<&str>); 5] = [
        ("DELETE", "/api/v1/tenants/master", None),
        ("DELETE", "/api/v1/tenants/t1/tracks/master", None),
        ("PUT", ferrid_api, Some(spec)),
        ("DELETE", ferrid_api, None),
        ("POST", "/api/v1/tenants/t2/tracks/master/apps", Some(spec)),
    ];
    for (method, path, body) in cases {
        for who in [Who::OwnTenant, Who::Admin] {
            // the tenant administrator of t1 does not see the master tenant nor t2
            let foreign = !path.starts_with("/api/v1/tenants/t1");
            let want = if who == Who::OwnTenant && foreign { if method == "DELETE" { 403 } else { 404 } } else { 403 };
            let r = w.send(method, path, who, body, None).await;
            let ctx = format!("{method} {path}");
            // only a missing privilege earns a Bearer challenge; an object nobody may
            // touch is refused without one (no token would help)
            let lacks_privilege = who == Who::OwnTenant && path == "/api/v1/tenants/master";
            if want == 403 && !lacks_privilege {
                check_protected(&r, &ctx);
            } else {
                check(&r, want, who, &ctx);
            }
        }
    }
    let (s, _) = w.app.get_api("/tenants/t1/tracks/master/apps/ferrid-api", &w.admin).await;
    assert_eq!(s, 200, "still there");
}

#[tokio::test]
async fn bad_bodies_and_bad_limits_are_400_naming_the_field() {
    let w = World::new().await;
    for row in TABLE {
        let who = row.able();
        let path = w.path(row.path, &[]);
        if row.body.is_some() {
            let mut cases = vec![("{", "body"), ("[]", "body"), ("\"text\"", "body"), (r#"{"bogus": 1}"#, "bogus")];
            cases.extend(row.bad);
            for (body, field) in cases {
                let r = w.send(row.method, &path, who, Some(body), None).await;
                let ctx = format!("{} with {body}", row.name());
                check(&r, 400, who, &ctx);
                assert!(fields(&r).contains(&field), "{ctx}: {field} not named in {}", r.body);
            }
        }
        if row.paged {
            for limit in ["0", "1001", "-1", "ten", ""] {
                let r = w.send(row.method, &format!("{path}?limit={limit}"), who, None, None).await;
                let ctx = format!("{} with limit={limit}", row.name());
                check(&r, 400, who, &ctx);
                assert_eq!(fields(&r), ["limit"], "{ctx}");
            }
            let r = w.send(row.method, &format!("{path}?limit=1"), who, None, None).await;
            check(&r, 200, who, &row.name());
            assert!(r.body["items"].as_array().unwrap().len() <= 1);
        }
    }
}

#[tokio::test]
async fn a_duplicate_create_is_409_and_a_stale_if_match_is_412() {
    let w = World::new().await;
    for row in TABLE {
        let who = row.able();
        let path = w.path(row.path, &[]);
        if let Some(dup) = row.duplicate {
            let r = w.send(row.method, &path, who, Some(&w.body(dup)), None).await;
            check(&r, 409, who, &format!("{} again", row.name()));
        }
        // a client holds at most 10 secrets and 4 keys: one more is a conflict
        let limit = match (row.method, row.path.rsplit('/').next()) {
            ("POST", Some("secrets")) => 10,
            ("POST", Some("keys")) if row.path.contains("{app}") => 4,
            _ => 0,
        };
        if limit > 0 {
            let (_, list) = w.app.get_api(&path["/api/v1".len()..], &w.admin).await;
            for _ in list["items"].as_array().unwrap().len()..limit {
                let r = w.send(row.method, &path, who, Some(&w.body(row.body.unwrap())), None).await;
                check(&r, 201, who, &row.name());
            }
            let r = w.send(row.method, &path, who, Some(&w.body(row.body.unwrap())), None).await;
            check(&r, 409, who, &format!("{} past the limit", row.name()));
        }
        if row.if_match {
            let body = w.body(row.body.unwrap());
            let read = w.send("GET", &path, who, None, None).await;
            check(&read, 200, who, &path);
            let stale = read.headers["etag"].to_str().unwrap().to_owned();
            for wrong in ["\"999\"", "\"0\"", "not-a-tag"] {
                let r = w.send(row.method, &path, who, Some(&body), Some(wrong)).await;
                check(&r, 412, who, &format!("{} If-Match: {wrong}", row.name()));
            }
            let r = w.send(row.method, &path, who, Some(&body), Some(&stale)).await;
            check(&r, 200, who, &format!("{} If-Match: {stale}", row.name()));
            let current = r.headers["etag"].to_str().unwrap().to_owned();
            assert_ne!(current, stale, "{}: the version moves", row.name());
            let r = w.send(row.method, &path, who, Some(&body), Some(&stale)).await;
            check(&r, 412, who, &format!("{} If-Match: {stale} (stale)", row.name()));
            let r = w.send(row.method, &path, who, Some(&body), Some(&format!("W/{current}"))).await;
            check(&r, 200, who, &format!("{} If-Match: W/{current}", row.name()));
        }
    }
}
