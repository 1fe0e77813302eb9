//! The web console, black-box (docs/console.md): sign-in through ferrid's own OpenID
//! Connect flow, the session and its end, CSRF, the page headers, tenant isolation.
//! Pages are driven like a browser without JavaScript (the testkit's `Browser`).

use reqwest::StatusCode;
use serde_json::json;

use ferrid_testkit::{
    browser::{Browser, HtmlForm, Page, params_of},
    *,
};

pub(crate) const PASSWORD: &str = "a long passphrase 42";

/// The bootstrap admin's password (generated, in the data directory).
pub(crate) fn admin_password(app: &TestApp) -> String {
    std::fs::read_to_string(app.data_dir.join("admin-password")).expect("the admin password file")
}

/// An absolute URL of a location or path.
pub(crate) fn abs(app: &TestApp, loc: &str) -> String {
    if loc.starts_with("http") { loc.to_owned() } else { format!("{}{loc}", app.base) }
}

/// Follows redirects (GET) until a page that is not one.
pub(crate) async fn follow(app: &TestApp, b: &mut Browser, mut page: Page) -> Page {
    for _ in 0..10 {
        let Some(loc) = page.location().map(str::to_owned).filter(|_| page.status.is_redirection()) else {
            return page;
        };
        page = b.get(&abs(app, &loc)).await;
    }
    panic!("too many redirects")
}

/// The form of the page whose action ends with `suffix`.
pub(crate) fn form_to(page: &Page, suffix: &str) -> HtmlForm {
    page.forms()
        .into_iter()
        .find(|f| f.action.ends_with(suffix))
        .unwrap_or_else(|| panic!("no form to …{suffix} on the page ({}): {}", page.status, page.body))
}

/// Signs in at the console entry `entry` (`/console/` or `/console/{tenant}/`) with
/// these credentials; the page after the login form, redirects followed.
pub(crate) async fn sign_in(app: &TestApp, b: &mut Browser, entry: &str, username: &str, password: &str) -> Page {
    let start = b.get(&abs(app, entry)).await;
    let login = follow(app, b, start).await;
    assert_eq!(login.status, StatusCode::OK, "the login page: {}", login.body);
    let mut form = login.form();
    form.set("username", username).set("password", password);
    let after = b.submit(&app.base, &form).await;
    follow(app, b, after).await
}

/// A browser signed in to the console as the bootstrap admin.
pub(crate) async fn admin_browser(app: &TestApp) -> Browser {
    let mut b = Browser::new();
    let page = sign_in(app, &mut b, "/console/", "admin", &admin_password(app)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Tenants</h1>"), "{}", page.body);
    b
}

/// The id of the user `username` of `tenant`'s master track.
pub(crate) async fn user_id(app: &TestApp, admin: &str, tenant: &str, username: &str) -> String {
    let (_, users) = app.get_api(&format!("/tenants/{tenant}/tracks/master/users?username={username}"), admin).await;
    users["items"][0]["id"].as_str().expect("the user").to_owned()
}

#[tokio::test]
async fn the_console_signs_in_through_the_master_tracks_authorization_endpoint_with_pkce() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let start = b.get(&format!("{}/console/", app.base)).await;
    assert_eq!(start.status, StatusCode::FOUND);
    let loc = start.location().unwrap();
    assert!(loc.starts_with(&format!("{}/master/master/oauth/authorize?", app.base)), "{loc}");
    let p = params_of(loc);
    assert_eq!(p["client_id"], "console");
    assert_eq!(p["response_type"], "code");
    assert_eq!(p["redirect_uri"], format!("{}/console/callback", app.base));
    assert_eq!(p["code_challenge_method"], "S256");
    assert_eq!(p["code_challenge"].len(), 43);
    assert!(p["state"].len() >= 43 && p["nonce"].len() >= 43);
    let pending = b.set_cookies.iter().find(|c| c.starts_with("ferrid_console_login=")).expect("the pre-login cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/console", "Max-Age=600"] {
        assert!(pending.contains(attr), "{pending}");
    }
}

#[tokio::test]
async fn the_right_password_opens_the_console_and_a_wrong_one_does_not() {
    let app = spawn_app().await;
    let mut wrong = Browser::new();
    let page = sign_in(&app, &mut wrong, "/console/", "admin", "not the password at all").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Wrong username or password"), "{}", page.body);
    assert!(!wrong.cookies.contains_key("ferrid_console"));

    let mut b = Browser::new();
    let page = sign_in(&app, &mut b, "/console/", "admin", &admin_password(&app)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Tenants</h1>") && page.body.contains("Signed in as <strong>admin</strong>"));
    let session = b.set_cookies.iter().find(|c| c.starts_with("ferrid_console=")).expect("the console cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Secure"), "not on http: {session}");
    // the pre-login cookie is spent
    assert!(!b.cookies.contains_key("ferrid_console_login"));
}

#[tokio::test]
async fn a_callback_whose_state_is_not_the_sign_ins_is_refused() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let start = b.get(&format!("{}/console/", app.base)).await;
    assert_eq!(start.status, StatusCode::FOUND);
    let page = b.get(&format!("{}/console/callback?code=abc&state=forged", app.base)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Sign-in failed"), "{}", page.body);
    assert!(!b.cookies.contains_key("ferrid_console"));
    // and without any sign-in started
    let page = Browser::new().get(&format!("{}/console/callback?code=abc&state=x", app.base)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn console_pages_send_the_page_headers_and_landmarks() {
    let app = spawn_app().await;
    let mut b = admin_browser(&app).await;
    let page = b.get(&format!("{}/console/", app.base)).await;
    let h = |n: &str| page.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let csp = h("content-security-policy");
    for part in ["default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h("x-frame-options"), "DENY");
    assert_eq!(h("referrer-policy"), "no-referrer");
    assert_eq!(h("cache-control"), "no-store");
    assert_eq!(h("x-content-type-options"), "nosniff");
    for landmark in ["<nav aria-label=\"Breadcrumb\"", "<main id=\"main\">", "<h1>", "<html lang=\"en\">"] {
        assert!(page.body.contains(landmark), "{landmark}: {}", page.body);
    }
    assert!(!page.body.contains("<script") && !page.body.contains("style="), "nothing inline");
    let css = app.http.get(format!("{}/console/console.css", app.base)).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}

#[tokio::test]
async fn logging_out_ends_the_console_session_and_the_provider_session() {
    let app = spawn_app().await;
    let mut b = admin_browser(&app).await;
    let console_cookie = b.cookies["ferrid_console"].clone();
    let page = b.get(&format!("{}/console/", app.base)).await;
    let out = b.submit(&app.base, &form_to(&page, "/console/logout")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), Some("/console/"));
    assert!(!b.cookies.contains_key("ferrid_console"), "the cookie is cleared");
    // the old cookie no longer opens the console: a sign-in starts
    b.cookies.insert("ferrid_console".into(), console_cookie);
    let again = b.get(&format!("{}/console/", app.base)).await;
    assert_eq!(again.status, StatusCode::FOUND);
    // and the provider asks for the password again (its session ended)
    let login = b.get(again.location().unwrap()).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("name=\"password\""), "{}", login.body);
}

#[tokio::test]
async fn a_form_without_or_with_a_foreign_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut a = admin_browser(&app).await;
    let mut other = admin_browser(&app).await; // another session of the same person
    let page = a.get(&format!("{}/console/", app.base)).await;
    let mut form = form_to(&page, "/console/tenants");
    form.set("name", "acme");
    let foreign = form_to(&other.get(&format!("{}/console/", app.base)).await, "/console/tenants");

    let mut without = form.clone();
    without.fields.retain(|(k, _)| k != "csrf");
    let refused = a.submit(&app.base, &without).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("nothing was changed"), "{}", refused.body);

    let mut forged = form.clone();
    forged.set("csrf", foreign.get("csrf").unwrap());
    assert_eq!(a.submit(&app.base, &forged).await.status, StatusCode::FORBIDDEN);
    let (s, _) = app.get_api("/tenants/acme", &admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing was created");

    // a post without a session at all
    let mut stranger = Browser::new();
    assert_eq!(stranger.submit(&app.base, &form).await.status, StatusCode::FORBIDDEN);

    let done = a.submit(&app.base, &form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some("/console/acme/"));
    assert_eq!(app.get_api("/tenants/acme", &admin).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_tenant_administrator_signs_in_at_their_tenant_and_sees_no_other() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for t in ["acme", "globex"] {
        app.create("/tenants", &admin, json!({ "name": t })).await;
    }
    app.create("/tenants/acme/tracks/master/users", &admin, json!({ "username": "ops", "password": PASSWORD })).await;
    let mut b = Browser::new();
    let start = b.get(&format!("{}/console/acme/", app.base)).await;
    assert!(start.location().unwrap().starts_with(&format!("{}/acme/master/oauth/authorize?", app.base)));
    let page = sign_in(&app, &mut b, "/console/acme/", "ops", PASSWORD).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Tenant acme</h1>"), "{}", page.body);
    assert!(!page.body.contains("globex"));

    let other = b.get(&format!("{}/console/globex/", app.base)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    assert_eq!(b.get(&format!("{}/console/globex/audit", app.base)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&format!("{}/console/master/tracks/master/users", app.base)).await.status, StatusCode::NOT_FOUND);
    // the tenant list is an administrator's: theirs is their tenant
    let home = b.get(&format!("{}/console/", app.base)).await;
    assert_eq!((home.status, home.location()), (StatusCode::FOUND, Some("/console/acme/")));
    // a form an administrator of every tenant would post is refused
    let page = b.get(&format!("{}/console/acme/", app.base)).await;
    let mut create = form_to(&page, "/console/acme/tracks");
    create.action = "/console/tenants".into();
    create.set("name", "evil");
    assert_eq!(b.submit(&app.base, &create).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get_api("/tenants/evil", &admin).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn disabling_the_person_or_ending_their_sessions_ends_their_console_session() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create("/tenants", &admin, json!({ "name": "acme" })).await;
    let ops = app
        .create("/tenants/acme/tracks/master/users", &admin, json!({ "username": "ops", "password": PASSWORD }))
        .await;
    let users = format!("/tenants/acme/tracks/master/users/{}", ops["id"].as_str().unwrap());
    let mut b = Browser::new();
    assert_eq!(sign_in(&app, &mut b, "/console/acme/", "ops", PASSWORD).await.status, StatusCode::OK);
    app.api(reqwest::Method::DELETE, &format!("{users}/sessions"), &admin, None).await;
    assert_eq!(b.get(&format!("{}/console/acme/", app.base)).await.status, StatusCode::FOUND, "sessions ended");

    let mut b = Browser::new();
    assert_eq!(sign_in(&app, &mut b, "/console/acme/", "ops", PASSWORD).await.status, StatusCode::OK);
    app.api(reqwest::Method::PATCH, &users, &admin, Some(json!({ "disabled": true }))).await;
    assert_eq!(b.get(&format!("{}/console/acme/", app.base)).await.status, StatusCode::FOUND, "disabled");
}

#[tokio::test]
async fn the_console_signs_in_changes_and_signs_out_on_postgresql() {
    let Some(server) = TestServer::postgres() else { return };
    let app = server.spawn().await;
    let admin = app.admin_token().await;
    let mut b = admin_browser(&app).await;
    let page = b.get(&format!("{}/console/", app.base)).await;
    let mut form = form_to(&page, "/console/tenants");
    form.set("name", "acme");
    assert_eq!(b.submit(&app.base, &form).await.status, StatusCode::SEE_OTHER);
    let (_, log) = app.get_api("/tenants/master/audit?action=tenant.create&limit=1", &admin).await;
    assert!(log["items"][0]["actor"].as_str().unwrap().starts_with("user:master/master/"), "{log}");
    let page = b.get(&format!("{}/console/acme/", app.base)).await;
    let out = b.submit(&app.base, &form_to(&page, "/console/logout")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get(&format!("{}/console/acme/", app.base)).await.status, StatusCode::FOUND);
}

#[tokio::test]
async fn the_console_cookies_are_secure_and_carry_the_public_path_behind_an_https_url() {
    let public = ferrid_core::urls::PublicUrl::parse("https://id.example/auth").unwrap();
    let app = TestServer::builder().config(move |c| c.public_url = Some(public)).spawn().await;
    let mut b = Browser::new();
    let start = b.get(&format!("{}/console/", app.base)).await;
    let loc = start.location().unwrap();
    assert!(loc.starts_with("https://id.example/auth/master/master/oauth/authorize?"), "{loc}");
    assert_eq!(params_of(loc)["redirect_uri"], "https://id.example/auth/console/callback");
    let pending = b.set_cookies.iter().find(|c| c.starts_with("ferrid_console_login=")).unwrap();
    assert!(pending.contains("; Secure") && pending.contains("Path=/auth/console;"), "{pending}");
}
