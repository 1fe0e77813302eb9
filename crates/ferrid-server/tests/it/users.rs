//! Users of a track and their sessions through the management API (docs/api.md "Users").

use ferrid_core::{
    model::Session,
    store::{StoreError, TrackRef},
};
use ferrid_oauth::name::Name;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use ferrid_testkit::*;

use crate::permissions::tenant_admin;

const USERS: &str = "/tenants/t1/tracks/prod/users";
const PASSWORD: &str = "correct horse battery staple";

fn field_names(b: &Value) -> Vec<String> {
    b["errors"].as_array().into_iter().flatten().map(|e| e["field"].as_str().unwrap().to_owned()).collect()
}

/// ferrid with tenant t1 and track prod, and an admin token.
async fn spawn_users() -> (TestApp, String) {
    spawn_t1_prod(&[]).await
}

async fn create_user(app: &TestApp, admin: &str, body: Value) -> Value {
    app.create(USERS, admin, body).await
}

fn t1_prod() -> TrackRef {
    TrackRef::new(Name::parse("t1").unwrap(), Name::parse("prod").unwrap())
}

/// A session of `user` in t1/prod, inserted through the store port (logins come next).
async fn insert_session(app: &TestApp, user: &str, d: u8) {
    let s = Session {
        tenant: Name::parse("t1").unwrap(),
        track: Name::parse("prod").unwrap(),
        id_digest: [d; 32],
        sid: format!("sid-{d}"),
        user_id: user.to_owned(),
        auth_time: 1_700_000_000,
        created: 1_700_000_000,
        last_seen: 1_700_000_000,
        expires: 4_000_000_000,
    };
    app.state.stores.sessions.create_session(&s).await.unwrap();
}

#[tokio::test]
async fn a_user_is_created_read_listed_filtered_changed_and_deleted() {
    let (app, admin) = spawn_users().await;
    let body = json!({ "username": "alice", "email": "Alice@Example.com", "email_verified": true,
        "password": PASSWORD, "claims": { "name": "Alice A", "given_name": "Alice" } });
    let (s, u) = app.post_api(USERS, &admin, body).await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    let id = u["id"].as_str().unwrap().to_owned();
    assert_eq!((u["username"].clone(), u["email"].clone()), (json!("alice"), json!("Alice@Example.com")));
    assert_eq!(u["claims"]["given_name"], "Alice");
    assert_eq!(
        (u["email_verified"].clone(), u["disabled"].clone(), u["version"].clone()),
        (json!(true), json!(false), json!(1))
    );
    create_user(&app, &admin, json!({ "username": "alfred", "password": PASSWORD })).await;
    create_user(&app, &admin, json!({ "email": "bob@example.com", "password": PASSWORD })).await;

    let (s, read) = app.get_api(&format!("{USERS}/{id}"), &admin).await;
    assert_eq!((s, read.clone()), (StatusCode::OK, u.clone()));
    let names = |b: &Value| -> Vec<String> {
        b["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap_or("-").to_owned()).collect()
    };
    let (_, all) = app.get_api(USERS, &admin).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let (_, al) = app.get_api(&format!("{USERS}?username=al"), &admin).await;
    let mut got = names(&al);
    got.sort();
    assert_eq!(got, ["alfred", "alice"]);
    let (_, by_email) = app.get_api(&format!("{USERS}?email=ALICE%40"), &admin).await;
    assert_eq!(names(&by_email), ["alice"]);
    let (_, page) = app.get_api(&format!("{USERS}?limit=2"), &admin).await;
    let next = page["next"].as_str().unwrap().to_owned();
    let (_, rest) = app.get_api(&format!("{USERS}?limit=2&after={next}"), &admin).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);

    let patch = json!({ "claims": { "name": "Alice B" }, "disabled": true, "email": "alice@new.example" });
    let (s, changed) = app.api(Method::PATCH, &format!("{USERS}/{id}"), &admin, Some(patch)).await;
    assert_eq!(s, StatusCode::OK, "{changed}");
    assert_eq!(changed["claims"], json!({ "name": "Alice B" }));
    assert_eq!((changed["disabled"].clone(), changed["version"].clone()), (json!(true), json!(2)));
    assert_eq!(changed["username"], "alice", "fields not in the patch stay");

    let (s, _) = app.api(Method::DELETE, &format!("{USERS}/{id}"), &admin, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.get_api(&format!("{USERS}/{id}"), &admin).await;
    assert_eq!((s, b["error"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
}

#[tokio::test]
async fn a_user_id_is_opaque_random_and_never_the_username_or_email() {
    let (app, admin) = spawn_users().await;
    let a = create_user(&app, &admin, json!({ "username": "alice", "email": "a@x.io", "password": PASSWORD })).await;
    let b = create_user(&app, &admin, json!({ "username": "bob", "password": PASSWORD })).await;
    let (ia, ib) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    assert_ne!(ia, ib);
    for id in [ia, ib] {
        let bytes = ferrid_oauth::b64::decode(id).expect("base64url");
        assert!(bytes.len() >= 16, "at least 128 bits: {id}");
        assert!(!id.contains("alice") && !id.contains("bob"));
    }
}

#[tokio::test]
async fn a_stale_if_match_on_a_user_is_412_and_nothing_changes() {
    let (app, admin) = spawn_users().await;
    let u = create_user(&app, &admin, json!({ "username": "alice", "password": PASSWORD })).await;
    let url = format!("{}/api/v1{USERS}/{}", app.base, u["id"].as_str().unwrap());
    let patch = |tag: &str| {
        app.http.patch(&url).bearer_auth(&admin).header("if-match", tag).json(&json!({ "disabled": true })).send()
    };
    let r = patch("\"1\"").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let r = patch("\"1\"").await.unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "precondition_failed");
    let (_, now) = app.get_api(&format!("{USERS}/{}", u["id"].as_str().unwrap()), &admin).await;
    assert_eq!(now["version"], 2);
}

#[tokio::test]
async fn another_tenants_administrator_gets_404_for_users() {
    let (app, admin) = spawn_users().await;
    let u = create_user(&app, &admin, json!({ "username": "alice", "password": PASSWORD })).await;
    let other = tenant_admin(&app, &admin, "t2").await;
    let one = format!("{USERS}/{}", u["id"].as_str().unwrap());
    for (method, path, body) in [
        (Method::GET, USERS.to_owned(), None),
        (Method::POST, USERS.to_owned(), Some(json!({ "username": "mallory", "password": PASSWORD }))),
        (Method::GET, one.clone(), None),
        (Method::PATCH, one.clone(), Some(json!({ "disabled": true }))),
        (Method::DELETE, one.clone(), None),
        (Method::GET, format!("{one}/sessions"), None),
        (Method::DELETE, format!("{one}/sessions"), None),
    ] {
        let (s, b) = app.api(method.clone(), &path, &other, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {b}");
        assert!(!b.to_string().contains("alice"), "{b}");
    }
    let (_, still) = app.get_api(&one, &admin).await;
    assert_eq!(still["disabled"], false);
}

#[tokio::test]
async fn the_password_never_appears_in_a_response_or_the_audit_log() {
    let (app, admin) = spawn_users().await;
    let (first, second) = ("Blue-Orchid-Lantern-71", "Quiet-Harbor-Falcon-39");
    let u = create_user(&app, &admin, json!({ "username": "alice", "password": first })).await;
    let one = format!("{USERS}/{}", u["id"].as_str().unwrap());
    let mut seen = vec![u.to_string()];
    let (_, b) = app.api(Method::PATCH, &one, &admin, Some(json!({ "password": second }))).await;
    seen.push(b.to_string());
    seen.push(app.get_api(&one, &admin).await.1.to_string());
    seen.push(app.get_api(USERS, &admin).await.1.to_string());
    seen.push(app.get_api(&format!("{one}/sessions"), &admin).await.1.to_string());
    let (_, log) = app.get_api("/tenants/t1/audit", &admin).await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"user.create") && actions.contains(&"user.update"), "{actions:?}");
    seen.push(log.to_string());
    for text in seen {
        for secret in [first, second, "argon2", "password_hash"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn a_weak_password_is_refused_naming_the_password_field() {
    let (app, admin) = spawn_users().await;
    for (username, password) in [("alice", "short1!"), ("alice", "Password123"), ("alice", "my-alice-pass"), ("", "")] {
        let mut body = json!({ "username": "alice", "email": "al.ice@x.io", "password": password });
        if username.is_empty() {
            body = json!({ "username": "alice", "password": "al.ice-winter-2026", "email": "al.ice@x.io" });
        }
        let (s, b) = app.post_api(USERS, &admin, body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{password}: {b}");
        assert_eq!(field_names(&b), ["password"], "{b}");
    }
    let u = create_user(&app, &admin, json!({ "username": "alice", "password": PASSWORD })).await;
    let one = format!("{USERS}/{}", u["id"].as_str().unwrap());
    let (s, b) = app.api(Method::PATCH, &one, &admin, Some(json!({ "password": "qwertyuiop" }))).await;
    assert_eq!((s, field_names(&b)), (StatusCode::BAD_REQUEST, vec!["password".to_owned()]));
    let (s, b) = app.post_api(USERS, &admin, json!({ "password": PASSWORD })).await;
    assert_eq!((s, field_names(&b)), (StatusCode::BAD_REQUEST, vec!["username".to_owned()]));
}

#[tokio::test]
async fn a_track_may_ask_for_longer_passwords_and_only_within_its_range() {
    let (app, admin) = spawn_users().await;
    let track = "/tenants/t1/tracks/prod";
    for bad in [json!(7), json!(129), json!("12")] {
        let (s, b) = app.api(Method::PATCH, track, &admin, Some(json!({ "password_min_length": bad }))).await;
        assert_eq!((s, field_names(&b)), (StatusCode::BAD_REQUEST, vec!["password_min_length".to_owned()]), "{b}");
    }
    // eleven characters pass the default of 8
    let eleven = "lilac comet";
    let u = create_user(&app, &admin, json!({ "username": "alice", "password": eleven })).await;
    let (s, b) = app.api(Method::PATCH, track, &admin, Some(json!({ "password_min_length": 12 }))).await;
    assert_eq!((s, &b["password_min_length"]), (StatusCode::OK, &json!(12)), "{b}");
    let (s, b) = app.post_api(USERS, &admin, json!({ "username": "bob", "password": eleven })).await;
    assert_eq!((s, field_names(&b)), (StatusCode::BAD_REQUEST, vec!["password".to_owned()]), "{b}");
    assert_eq!(b["errors"][0]["message"], "must be at least 12 characters", "{b}");
    // below the floor of every track too: still this track's length, named with the rest
    let (s, b) = app.post_api(USERS, &admin, json!({ "username": "b o b", "password": "lilac" })).await;
    assert_eq!((s, field_names(&b)), (StatusCode::BAD_REQUEST, vec!["username".to_owned(), "password".to_owned()]));
    assert_eq!(b["errors"][1]["message"], "must be at least 12 characters", "{b}");
    let one = format!("{USERS}/{}", u["id"].as_str().unwrap());
    let (s, b) = app.api(Method::PATCH, &one, &admin, Some(json!({ "password": "comet lilac" }))).await;
    assert_eq!((s, field_names(&b)), (StatusCode::BAD_REQUEST, vec!["password".to_owned()]), "{b}");
    // twelve are enough; the password set before the change still stands
    create_user(&app, &admin, json!({ "username": "bob", "password": "lilac comet!" })).await;
    let (s, _) = app.api(Method::PATCH, &one, &admin, Some(json!({ "claims": { "name": "Alice" } }))).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_duplicate_username_or_email_in_any_case_is_409() {
    let (app, admin) = spawn_users().await;
    create_user(&app, &admin, json!({ "username": "alice", "email": "alice@x.io", "password": PASSWORD })).await;
    for body in
        [json!({ "username": "alice", "password": PASSWORD }), json!({ "email": "ALICE@X.IO", "password": PASSWORD })]
    {
        let (s, b) = app.post_api(USERS, &admin, body.clone()).await;
        assert_eq!((s, b["error"].clone()), (StatusCode::CONFLICT, json!("conflict")), "{body}");
    }
    let bob = create_user(&app, &admin, json!({ "username": "bob", "password": PASSWORD })).await;
    let one = format!("{USERS}/{}", bob["id"].as_str().unwrap());
    let (s, _) = app.api(Method::PATCH, &one, &admin, Some(json!({ "username": "alice" }))).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test]
async fn deleting_a_user_or_its_sessions_ends_them() {
    let (app, admin) = spawn_users().await;
    let a = create_user(&app, &admin, json!({ "username": "alice", "password": PASSWORD })).await;
    let b = create_user(&app, &admin, json!({ "username": "bob", "password": PASSWORD })).await;
    let (ia, ib) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    insert_session(&app, ia, 1).await;
    insert_session(&app, ia, 2).await;
    insert_session(&app, ib, 3).await;
    let (s, list) = app.get_api(&format!("{USERS}/{ib}/sessions"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["items"][0]["sid"], "sid-3");
    assert!(!list.to_string().contains("digest"), "{list}");

    let (s, _) = app.api(Method::DELETE, &format!("{USERS}/{ib}/sessions"), &admin, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = app.get_api(&format!("{USERS}/{ib}/sessions"), &admin).await;
    assert_eq!(list["items"], json!([]));
    let sessions = &app.state.stores.sessions;
    assert!(matches!(sessions.get_session(&t1_prod(), &[3; 32]).await, Err(StoreError::NotFound)));

    let (s, _) = app.api(Method::DELETE, &format!("{USERS}/{ia}"), &admin, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for d in [1, 2] {
        assert!(matches!(sessions.get_session(&t1_prod(), &[d; 32]).await, Err(StoreError::NotFound)), "{d}");
    }
    let (_, log) = app.get_api("/tenants/t1/audit", &admin).await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"user.sessions.delete") && actions.contains(&"user.delete"), "{actions:?}");
}

/// The periodic expiry purge (`Manager::purge_expired`) removes ended sessions, codes and
/// grants with their tokens, and keeps what still runs.
#[tokio::test]
async fn the_expiry_purge_removes_ended_sessions_codes_and_grants_only() {
    use ferrid_core::model::{AuthCode, IssuedToken, RefreshRecord, UserGrant};
    let (app, admin) = spawn_users().await;
    let u = create_user(&app, &admin, json!({ "username": "alice", "password": PASSWORD })).await;
    let id = u["id"].as_str().unwrap();
    insert_session(&app, id, 1).await;
    let live = app.state.stores.sessions.get_session(&t1_prod(), &[1; 32]).await.unwrap();
    let ended = Session { id_digest: [2; 32], sid: "sid-2".into(), expires: 1, ..live };
    app.state.stores.sessions.create_session(&ended).await.unwrap();
    let grants = &app.state.stores.grants;
    let code = |d: u8, expires: i64| AuthCode {
        tenant: Name::parse("t1").unwrap(),
        track: Name::parse("prod").unwrap(),
        digest: [d; 32],
        client: Name::parse("web").unwrap(),
        user_id: id.to_owned(),
        sid: "sid-1".into(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: None,
        code_challenge_method: None,
        nonce: None,
        scope: "openid".into(),
        auth_time: 1,
        created: 1,
        expires,
        grant_id: None,
    };
    grants.create_code(&code(1, 1)).await.unwrap();
    grants.create_code(&code(2, 4_000_000_000)).await.unwrap();
    let grant = UserGrant {
        tenant: Name::parse("t1").unwrap(),
        track: Name::parse("prod").unwrap(),
        id: "g1".into(),
        client: Name::parse("web").unwrap(),
        user_id: id.to_owned(),
        sid: "sid-1".into(),
        scope: "openid offline_access".into(),
        auth_time: 1,
        created: 1,
        expires: 2,
        revoked: false,
    };
    let refresh = RefreshRecord { digest: [1; 32], grant_id: "g1".into(), created: 1, expires: 2, used: false };
    let token = IssuedToken { jti: "j1".into(), grant_id: "g1".into(), expires: 2 };
    grants.create_grant(&grant, Some(&refresh), &token).await.unwrap();
    app.state.manager.purge_expired().await;
    let at = t1_prod();
    assert!(app.state.stores.sessions.get_session(&at, &[1; 32]).await.is_ok());
    assert!(matches!(app.state.stores.sessions.get_session(&at, &[2; 32]).await, Err(StoreError::NotFound)));
    assert!(matches!(grants.redeem_code(&at, &[1; 32], "gx").await, Err(StoreError::NotFound)));
    assert!(grants.redeem_code(&at, &[2; 32], "gy").await.is_ok());
    assert!(matches!(grants.get_refresh(&at, &[1; 32]).await, Err(StoreError::NotFound)));
}
