//! The console's pages, black-box (docs/console.md "Pages"): tenants, tracks, users and
//! the audit log through forms, with the management rules' errors next to their fields.

use reqwest::{Method, StatusCode};
use serde_json::json;

use ferrid_testkit::{browser::Browser, *};

use crate::console::{PASSWORD, abs, admin_browser, form_to, sign_in, user_id};

async fn get(app: &TestApp, b: &mut Browser, path: &str) -> browser::Page {
    b.get(&abs(app, path)).await
}

/// The `<input>`, `<select>` or `<textarea>` tag of the control with this id.
fn control<'p>(body: &'p str, id: &str) -> &'p str {
    let at = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no control {id}: {body}"));
    let start = body[..at].rfind('<').unwrap();
    let end = at + body[at..].find('>').unwrap();
    &body[start..=end]
}

#[tokio::test]
async fn errors_of_the_rules_appear_next_to_their_fields_with_the_input_kept_and_nothing_created() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut b = admin_browser(&app).await;
    let page = get(&app, &mut b, "/console/").await;
    let mut form = form_to(&page, "/console/tenants");
    form.set("name", "Bad Name");
    let refused = b.submit(&app.base, &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let input = control(&refused.body, "f-name");
    assert!(input.contains("aria-invalid=\"true\"") && input.contains("f-name-error"), "{input}");
    assert!(input.contains("value=\"Bad Name\""), "the input is kept: {input}");
    assert!(refused.body.contains("<p class=\"error\" id=\"f-name-error\">"), "{}", refused.body);
    let (_, tenants) = app.get_api("/tenants", &admin).await;
    assert_eq!(tenants["items"].as_array().unwrap().len(), 1, "only master: {tenants}");

    form.set("name", "acme");
    assert_eq!(b.submit(&app.base, &form).await.status, StatusCode::SEE_OTHER);
    let taken = b.submit(&app.base, &form).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(control(&taken.body, "f-name").contains("aria-invalid=\"true\""));
    assert!(taken.body.contains("already exists"), "{}", taken.body);

    // a user: every bad field named at once, next to its control
    let page = get(&app, &mut b, "/console/acme/tracks/master/users/new").await;
    let mut form = form_to(&page, "/users/new");
    form.fields.retain(|(k, _)| k != "email_verified");
    form.set("username", "a b").set("password", "password").set("claims", "{\"sub\": \"x\"}");
    let refused = b.submit(&app.base, &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    for id in ["f-username", "f-password", "f-claims"] {
        assert!(control(&refused.body, id).contains("aria-invalid=\"true\""), "{id}: {}", refused.body);
    }
    assert!(refused.body.contains("claims.sub:"), "{}", refused.body);
    assert!(!control(&refused.body, "f-password").contains("value=\"password\""), "a password is never sent back");
    let (_, users) = app.get_api("/tenants/acme/tracks/master/users", &admin).await;
    assert_eq!(users["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn the_audit_log_names_the_person_who_made_a_change_in_the_console() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut b = admin_browser(&app).await;
    let page = get(&app, &mut b, "/console/").await;
    let mut form = form_to(&page, "/console/tenants");
    form.set("name", "acme");
    assert_eq!(b.submit(&app.base, &form).await.status, StatusCode::SEE_OTHER);
    let actor = format!("user:master/master/{}", user_id(&app, &admin, "master", "admin").await);
    let (_, log) = app.get_api("/tenants/master/audit?action=tenant.create", &admin).await;
    assert_eq!(log["items"][0]["actor"], actor, "{log}");
    assert_eq!(log["items"][0]["target"], "tenants/acme");
    // the API's own callers are still named as clients
    app.create("/tenants", &admin, json!({ "name": "globex" })).await;
    let (_, log) = app.get_api("/tenants/master/audit?action=tenant.create&limit=1", &admin).await;
    assert_eq!(log["items"][0]["actor"], "client:master/master/admin");

    let page = get(&app, &mut b, &format!("/console/master/audit?action=tenant.create&actor={actor}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<strong>admin</strong>") && page.body.contains(&actor), "{}", page.body);
    assert!(page.body.contains("tenants/acme") && !page.body.contains("tenants/globex"), "{}", page.body);
    // a misspelt filter is named, as by the API
    let bad = get(&app, &mut b, "/console/master/audit?since=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(control(&bad.body, "f-since").contains("aria-invalid=\"true\""), "{}", bad.body);
}

#[tokio::test]
async fn tracks_are_created_changed_rotated_and_deleted_after_confirmation() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create("/tenants", &admin, json!({ "name": "acme" })).await;
    let mut b = admin_browser(&app).await;
    let page = get(&app, &mut b, "/console/acme/").await;
    let mut form = form_to(&page, "/console/acme/tracks");
    form.set("name", "prod").set("signing_alg", "ES256");
    let made = b.submit(&app.base, &form).await;
    assert_eq!(made.location(), Some("/console/acme/tracks/prod"), "{}", made.body);
    let (_, track) = app.get_api("/tenants/acme/tracks/prod", &admin).await;
    assert_eq!(track["signing_alg"], "ES256", "{track}");

    let page = get(&app, &mut b, "/console/acme/tracks/prod").await;
    let settings = form_to(&page, "/settings");
    let mut bad = settings.clone();
    bad.set("session_lifetime", "soon");
    let refused = b.submit(&app.base, &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(control(&refused.body, "f-session-lifetime").contains("aria-invalid=\"true\""), "{}", refused.body);
    let mut bad = settings.clone();
    bad.set("lockout_failures", "0");
    let refused = b.submit(&app.base, &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(control(&refused.body, "f-lockout-failures").contains("aria-invalid=\"true\""), "{}", refused.body);
    let mut good = settings.clone();
    good.set("access_token_lifetime", "600")
        .set("password_min_length", "12")
        .set("lockout_failures", "3")
        .set("lockout_duration", "900");
    assert_eq!(b.submit(&app.base, &good).await.location(), Some("/console/acme/tracks/prod?done=saved"));
    let (_, track) = app.get_api("/tenants/acme/tracks/prod", &admin).await;
    let saved =
        ["access_token_lifetime", "password_min_length", "lockout_failures", "lockout_duration"].map(|f| &track[f]);
    assert_eq!(saved, [600, 12, 3, 900].map(|n| json!(n)).each_ref(), "{track}");
    // the same form again, read before that change: refused, not lost
    let stale = b.submit(&app.base, &settings).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.body);

    let rotated = b.submit(&app.base, &form_to(&page, "/rotate")).await;
    assert_eq!(rotated.location(), Some("/console/acme/tracks/prod?done=rotated"));
    let (_, keys) = app.get_api("/tenants/acme/tracks/prod/keys", &admin).await;
    assert!(keys["items"].as_array().unwrap().iter().any(|k| k["state"] == "next"), "{keys}");

    let confirm = get(&app, &mut b, "/console/acme/tracks/prod/delete").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("<h1>Delete track prod?</h1>"), "{}", confirm.body);
    let gone = b.submit(&app.base, &form_to(&confirm, "/tracks/prod/delete")).await;
    assert_eq!(gone.location(), Some("/console/acme/"));
    assert_eq!(app.get_api("/tenants/acme/tracks/prod", &admin).await.0, StatusCode::NOT_FOUND);
    // the master track is the rules' to protect
    let confirm = get(&app, &mut b, "/console/acme/tracks/master/delete").await;
    let refused = b.submit(&app.base, &form_to(&confirm, "/tracks/master/delete")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

#[tokio::test]
async fn a_tenant_is_deleted_after_confirmation_by_an_administrator_of_every_tenant_only() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create("/tenants", &admin, json!({ "name": "acme" })).await;
    app.create("/tenants/acme/tracks/master/users", &admin, json!({ "username": "ops", "password": PASSWORD })).await;
    let mut ops = Browser::new();
    let page = sign_in(&app, &mut ops, "/console/acme/", "ops", PASSWORD).await;
    assert!(!page.body.contains("Delete this tenant"), "{}", page.body);
    assert_eq!(get(&app, &mut ops, "/console/acme/delete").await.status, StatusCode::FORBIDDEN);

    let mut b = admin_browser(&app).await;
    let confirm = get(&app, &mut b, "/console/acme/delete").await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let gone = b.submit(&app.base, &form_to(&confirm, "/console/acme/delete")).await;
    assert_eq!(gone.location(), Some("/console/"));
    assert_eq!(app.get_api("/tenants/acme", &admin).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &mut b, "/console/master/delete").await.status, StatusCode::OK);
    let confirm = get(&app, &mut b, "/console/master/delete").await;
    let refused = b.submit(&app.base, &form_to(&confirm, "/console/master/delete")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "the master tenant is protected");
}

#[tokio::test]
async fn users_are_created_searched_edited_disabled_and_signed_out_in_the_console() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.tenant_track(&admin, "acme", "prod", "ES256").await;
    let mut b = admin_browser(&app).await;
    let page = get(&app, &mut b, "/console/acme/tracks/prod/users/new").await;
    let mut form = form_to(&page, "/users/new");
    form.fields.retain(|(k, _)| k != "email_verified");
    form.set("username", "alice")
        .set("email", "alice@example.com")
        .set("password", PASSWORD)
        .set("claims", "{\"name\": \"Alice\"}");
    let made = b.submit(&app.base, &form).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let (_, users) = app.get_api("/tenants/acme/tracks/prod/users?username=alice", &admin).await;
    let id = users["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(made.location().unwrap(), format!("/console/acme/tracks/prod/users/{id}?done=created"));
    assert_eq!(users["items"][0]["claims"], json!({ "name": "Alice" }));

    let found = get(&app, &mut b, "/console/acme/tracks/prod/users?username=ali").await;
    assert!(found.body.contains(">alice</a>"), "{}", found.body);
    let by_email = get(&app, &mut b, "/console/acme/tracks/prod/users?email=ALICE%40").await;
    assert!(by_email.body.contains(">alice</a>"), "{}", by_email.body);
    let none = get(&app, &mut b, "/console/acme/tracks/prod/users?username=bob").await;
    assert!(none.body.contains("No users found."), "{}", none.body);

    let user_path = format!("/console/acme/tracks/prod/users/{id}");
    let page = get(&app, &mut b, &user_path).await;
    let mut profile = form_to(&page, &format!("/users/{id}"));
    profile.fields.retain(|(k, _)| k != "email_verified");
    profile.set("claims", "{\"name\": \"Alice L.\"}");
    assert_eq!(b.submit(&app.base, &profile).await.location(), Some(&*format!("{user_path}?done=saved")));
    let api_user = format!("/tenants/acme/tracks/prod/users/{id}");
    assert_eq!(app.get_api(&api_user, &admin).await.1["claims"], json!({ "name": "Alice L." }));

    let mut password = form_to(&page, "/password");
    password.set("password", "password");
    let weak = b.submit(&app.base, &password).await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(control(&weak.body, "f-password").contains("aria-invalid=\"true\""), "{}", weak.body);
    password.set("password", "another long passphrase 7");
    assert_eq!(b.submit(&app.base, &password).await.location(), Some(&*format!("{user_path}?done=password")));
    let (_, log) = app.get_api("/tenants/acme/audit?action=user.update&limit=1", &admin).await;
    assert_eq!(log["items"][0]["details"]["password_changed"], true, "{log}");

    assert_eq!(b.submit(&app.base, &form_to(&page, "/disable")).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get_api(&api_user, &admin).await.1["disabled"], true);
    let page = get(&app, &mut b, &user_path).await;
    assert_eq!(b.submit(&app.base, &form_to(&page, "/enable")).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get_api(&api_user, &admin).await.1["disabled"], false);
    let ended = b.submit(&app.base, &form_to(&page, "/end-sessions")).await;
    assert_eq!(ended.location(), Some(&*format!("{user_path}?done=ended")));
    let (_, log) = app.get_api("/tenants/acme/audit?action=user.sessions.delete", &admin).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    let (s, _) = app.api(Method::GET, &format!("{api_user}/sessions"), &admin, None).await;
    assert_eq!(s, StatusCode::OK);
}
