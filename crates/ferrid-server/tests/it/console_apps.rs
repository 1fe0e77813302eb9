//! The console's application pages, black-box (docs/console.md "Applications"): New
//! application for each kind, the page shown once after it, secrets, delete, errors next
//! to their fields. Driven like a browser without JavaScript.

use reqwest::StatusCode;
use serde_json::json;

use ferrid_testkit::{
    browser::{Browser, HtmlForm, Page},
    *,
};

use crate::console::{abs, admin_browser, form_to};

pub(crate) const APPS: &str = "/console/acme/tracks/master/apps";

pub(crate) async fn get(app: &TestApp, b: &mut Browser, path: &str) -> Page {
    b.get(&abs(app, path)).await
}

/// A server with the tenant `acme` and a browser signed in as the bootstrap admin.
pub(crate) async fn setup() -> (TestApp, String, Browser) {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create("/tenants", &admin, json!({"name": "acme"})).await;
    let b = admin_browser(&app).await;
    (app, admin, b)
}

/// The New application form of `kind`, with only the grants given checked.
pub(crate) async fn new_form(app: &TestApp, b: &mut Browser, kind: &str, grants: &[&str]) -> HtmlForm {
    let page = get(app, b, &format!("{APPS}/new?kind={kind}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut form = form_to(&page, "/apps/new");
    form.fields.retain(|(k, _)| k != "grant");
    form.fields.extend(grants.iter().map(|g| ("grant".to_owned(), (*g).to_owned())));
    form
}

/// The value of the read-only control labelled "Client secret" on a page.
fn shown_secret(page: &Page) -> String {
    let key = "id=\"client-secret\" class=\"secret\" value=\"";
    let start = page.body.find(key).unwrap_or_else(|| panic!("no secret: {}", page.body));
    let rest = &page.body[start + key.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn client_credentials(app: &TestApp, id: &str, secret: &str, scope: &str) -> StatusCode {
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&scope={scope}");
    app.post_form(&app.token_url("acme", "master"), None, &body).await.status()
}

/// Creates the resource `api` (scopes read, write) through the console.
pub(crate) async fn create_resource(app: &TestApp, b: &mut Browser) {
    let mut form = new_form(app, b, "oauth_resource", &[]).await;
    form.set("name", "api").set("scopes", "read write");
    let page = b.submit(&app.base, &form).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    assert!(!page.body.contains("client-secret"), "a resource has no secret: {}", page.body);
}

#[tokio::test]
async fn new_application_offers_the_three_kinds_by_name() {
    let (app, _, mut b) = setup().await;
    let page = get(&app, &mut b, &format!("{APPS}/new")).await;
    for name in ["OAuth 2.0 – Resource (API)", "OAuth 2.0 – Client Credentials Grant", "OpenID Connect"] {
        assert!(page.body.contains(&format!(">{name}</a>")), "{name}: {}", page.body);
    }
    let form = get(&app, &mut b, &format!("{APPS}/new?kind=oauth_client")).await;
    assert!(form.body.contains("<details>\n<summary>Show advanced</summary>"), "{}", form.body);
    assert!(form.body.contains("<option value=\"client_secret_post\" selected>"), "{}", form.body);
}

#[tokio::test]
async fn each_new_client_gets_a_token_with_the_secret_its_page_showed() {
    let (app, admin, mut b) = setup().await;
    create_resource(&app, &mut b).await;

    let mut form = new_form(&app, &mut b, "oauth_client", &["api:read"]).await;
    form.set("name", "svc");
    let created = b.submit(&app.base, &form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let issuer = app.issuer("acme", "master");
    for value in [
        format!("<code>{issuer}</code>"),
        app.token_url("acme", "master"),
        format!("{issuer}/.well-known/openid-configuration"),
    ] {
        assert!(created.body.contains(&value), "{value}: {}", created.body);
    }
    assert!(created.body.contains("Copy secret"), "{}", created.body);
    let secret = shown_secret(&created);
    assert_eq!(client_credentials(&app, "svc", &secret, "api:read").await, StatusCode::OK);
    assert_ne!(client_credentials(&app, "svc", &secret, "api:write").await, StatusCode::OK, "not granted");
    assert_ne!(client_credentials(&app, "svc", "wrong-secret-wrong-secret", "api:read").await, StatusCode::OK);

    let mut form = new_form(&app, &mut b, "oidc_client", &["api:write"]).await;
    form.set("name", "web")
        .set("redirect_uris", "https://web.example/cb")
        .set("grant_types", "authorization_code, client_credentials");
    let created = b.submit(&app.base, &form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(client_credentials(&app, "web", &shown_secret(&created), "api:write").await, StatusCode::OK);
    let (_, web) = app.get_api("/tenants/acme/tracks/master/apps/web", &admin).await;
    assert_eq!(web["redirect_uris"], json!(["https://web.example/cb"]), "{web}");
    assert_eq!(web["client_auth_method"], "client_secret_post", "{web}");
}

#[tokio::test]
async fn an_invalid_or_taken_name_is_shown_next_to_the_field_and_nothing_is_created() {
    let (app, admin, mut b) = setup().await;
    create_resource(&app, &mut b).await;
    let mut form = new_form(&app, &mut b, "oauth_client", &["api:read"]).await;
    form.set("name", "Bad Name");
    let refused = b.submit(&app.base, &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("aria-invalid=\"true\" aria-describedby") || refused.body.contains("f-name-error"));
    assert!(refused.body.contains("<p class=\"error\" id=\"f-name-error\">"), "{}", refused.body);
    assert!(refused.body.contains("value=\"Bad Name\""), "the input is kept: {}", refused.body);
    assert!(refused.body.contains("value=\"api:read\" checked"), "the grant is kept: {}", refused.body);

    form.set("name", "api");
    let taken = b.submit(&app.base, &form).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert!(taken.body.contains("<p class=\"error\" id=\"f-name-error\">"), "{}", taken.body);
    let (_, apps) = app.get_api("/tenants/acme/tracks/master/apps", &admin).await;
    let names: Vec<&str> = apps["items"].as_array().unwrap().iter().filter_map(|a| a["name"].as_str()).collect();
    assert!(!names.contains(&"Bad Name") && names.iter().filter(|n| **n == "api").count() == 1, "{apps}");
    assert_eq!(apps["items"][0]["kind"], "oauth_resource", "the resource is unchanged: {apps}");
}

#[tokio::test]
async fn a_secret_added_on_the_apps_page_works_and_stops_working_once_removed() {
    let (app, _, mut b) = setup().await;
    create_resource(&app, &mut b).await;
    let mut form = new_form(&app, &mut b, "oauth_client", &["api:read"]).await;
    form.set("name", "svc");
    let first = shown_secret(&b.submit(&app.base, &form).await);

    let page = get(&app, &mut b, &format!("{APPS}/svc")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let added = b.submit(&app.base, &form_to(&page, "/apps/svc/secrets")).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let second = shown_secret(&added);
    assert_ne!(first, second);
    for s in [&first, &second] {
        assert_eq!(client_credentials(&app, "svc", s, "api:read").await, StatusCode::OK);
    }

    // the list shows the secrets by their first characters; remove the first
    let page = get(&app, &mut b, &format!("{APPS}/svc")).await;
    assert!(!page.body.contains(&first) && !page.body.contains(&second), "never shown again");
    let row = page.body.find(&format!("<td>{}</td>", &first[..3])).expect("the first secret's row");
    let link_at = row + page.body[row..].find("href=\"").unwrap() + 6;
    let link = &page.body[link_at..link_at + page.body[link_at..].find('"').unwrap()];
    let confirm = get(&app, &mut b, link).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert_eq!(client_credentials(&app, "svc", &first, "api:read").await, StatusCode::OK, "asking removes nothing");
    let done = b.submit(&app.base, &form_to(&confirm, "/delete")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_ne!(client_credentials(&app, "svc", &first, "api:read").await, StatusCode::OK, "removed");
    assert_eq!(client_credentials(&app, "svc", &second, "api:read").await, StatusCode::OK);
}

#[tokio::test]
async fn an_application_is_deleted_only_after_its_confirmation_page() {
    let (app, admin, mut b) = setup().await;
    create_resource(&app, &mut b).await;
    let page = get(&app, &mut b, &format!("{APPS}/api")).await;
    assert!(page.body.contains("Delete this application…"), "{}", page.body);
    let confirm = get(&app, &mut b, &format!("{APPS}/api/delete")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert_eq!(app.get_api("/tenants/acme/tracks/master/apps/api", &admin).await.0, StatusCode::OK);
    let done = b.submit(&app.base, &form_to(&confirm, "/apps/api/delete")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(app.get_api("/tenants/acme/tracks/master/apps/api", &admin).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &mut b, &format!("{APPS}/api")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_application_list_searches_by_name_prefix() {
    let (app, admin, mut b) = setup().await;
    for name in ["api", "web-a", "web-b", "worker"] {
        app.create(
            "/tenants/acme/tracks/master/apps",
            &admin,
            json!({"name": name, "kind": "oauth_resource", "scopes": ["x"]}),
        )
        .await;
    }
    let page = get(&app, &mut b, &format!("{APPS}?name=web")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for (name, shown) in [("api", false), ("web-a", true), ("web-b", true), ("worker", false)] {
        assert_eq!(page.body.contains(&format!(">{name}</a>")), shown, "{name}: {}", page.body);
    }
}

/// Creates the `private_key_jwt` client `pk` (granted `api:read`) through New
/// application, and returns its page.
async fn key_client(app: &TestApp, b: &mut Browser) -> Page {
    create_resource(app, b).await;
    let mut form = new_form(app, b, "oauth_client", &["api:read"]).await;
    form.set("name", "pk").set("client_auth_method", "private_key_jwt");
    let created = b.submit(&app.base, &form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let page = get(app, b, &format!("{APPS}/pk")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

/// Posts `fields` and the file `certificate` as `multipart/form-data`, the body built by
/// hand as a browser builds it (RFC 7578), with the browser's cookies.
async fn upload(app: &TestApp, b: &Browser, fields: &[(&str, &str)], file: &[u8]) -> Page {
    upload_to(app, b, &format!("{APPS}/pk/keys"), fields, file).await
}

async fn upload_to(app: &TestApp, b: &Browser, path: &str, fields: &[(&str, &str)], file: &[u8]) -> Page {
    let boundary = "----ferrid-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes());
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"certificate\"; filename=\"client.bin\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .bytes(),
    );
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let cookies = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let r = b
        .http
        .post(abs(app, path))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .header("cookie", cookies)
        .body(body)
        .send()
        .await
        .unwrap();
    Page { status: r.status(), headers: r.headers().clone(), body: r.text().await.unwrap() }
}

/// How many keys `pk` holds, read through the API.
async fn key_count(app: &TestApp, admin: &str) -> usize {
    let (st, body) = app.get_api("/tenants/acme/tracks/master/apps/pk/keys", admin).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap_or_else(|| panic!("{body}")).len()
}

/// A `client_credentials` request of `pk` with an assertion (RFC 7523 §2.2) signed by `kp`.
async fn assert_with(app: &TestApp, kp: &rcgen::KeyPair) -> StatusCode {
    let t = ferrid_core::env::Clock::now(&ferrid_core::env::SystemClock::new());
    let aud = app.token_url("acme", "master");
    let claims =
        json!({"iss": "pk", "sub": "pk", "aud": aud, "iat": t, "exp": t + 300, "jti": format!("j-{t}-{}", rand_id())});
    let key = jsonwebtoken::EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap();
    let jwt = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256), &claims, &key).unwrap();
    let body = format!(
        "grant_type=client_credentials&scope=api:read&client_assertion_type={}&client_assertion={jwt}",
        percent_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    app.post_form(&aud, None, &body).await.status()
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn p256() -> rcgen::KeyPair {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
}

#[tokio::test]
async fn a_pem_certificate_uploaded_on_the_apps_page_lets_the_client_sign_its_assertions() {
    let (app, admin, mut b) = setup().await;
    let page = key_client(&app, &mut b).await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""), "{}", page.body);
    assert!(page.body.contains(">Certificate file (PEM or PFX)"), "{}", page.body);
    assert!(page.body.contains(">PFX password<") && page.body.contains("Upload certificate"), "{}", page.body);
    let csrf = form_to(&page, "/apps/pk/keys").get("csrf").unwrap().to_owned();

    let kp = p256();
    assert_eq!(assert_with(&app, &kp).await, StatusCode::UNAUTHORIZED, "no key yet");
    let pem = ferrid_testkit::certs::self_signed(&kp).pem();
    let done = upload(&app, &b, &[("csrf", &csrf), ("password", "")], pem.as_bytes()).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.location().unwrap().ends_with("/apps/pk?done=key-added"));
    assert_eq!(key_count(&app, &admin).await, 1);
    let shown = get(&app, &mut b, done.location().unwrap()).await;
    assert!(
        shown.body.contains("The key is added") && shown.body.contains("CN=rcgen self signed cert"),
        "{}",
        shown.body
    );
    assert_eq!(assert_with(&app, &kp).await, StatusCode::OK, "the uploaded key signs the assertion");
    assert_eq!(assert_with(&app, &p256()).await, StatusCode::UNAUTHORIZED, "another key does not");
}

#[tokio::test]
async fn a_pfx_with_a_wrong_password_is_refused_next_to_the_password_and_nothing_is_added() {
    let (app, admin, mut b) = setup().await;
    let page = key_client(&app, &mut b).await;
    let csrf = form_to(&page, "/apps/pk/keys").get("csrf").unwrap().to_owned();
    let kp = p256();
    let pfx = ferrid_testkit::certs::pfx(&kp, &ferrid_testkit::certs::self_signed(&kp), "right horse");

    let refused = upload(&app, &b, &[("csrf", &csrf), ("password", "wrong horse")], &pfx).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"f-password-error\""), "next to the password: {}", refused.body);
    assert!(!refused.body.contains("wrong horse"), "the password is never sent back");
    assert_eq!(key_count(&app, &admin).await, 0);

    let done = upload(&app, &b, &[("csrf", &csrf), ("password", "right horse")], &pfx).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(key_count(&app, &admin).await, 1);
    assert_eq!(assert_with(&app, &kp).await, StatusCode::OK);

    // a file that is neither: the error is next to the file control
    let junk = upload(&app, &b, &[("csrf", &csrf)], b"not a certificate").await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST, "{}", junk.body);
    assert!(junk.body.contains("id=\"f-certificate-error\""), "{}", junk.body);
    let empty = upload(&app, &b, &[("csrf", &csrf)], b"").await;
    assert!(empty.body.contains("id=\"f-certificate-error\""), "{}", empty.body);
    assert_eq!(key_count(&app, &admin).await, 1);
}

#[tokio::test]
async fn an_oversize_upload_is_refused_next_to_the_file_field_not_with_a_500() {
    let (app, admin, mut b) = setup().await;
    let page = key_client(&app, &mut b).await;
    let csrf = form_to(&page, "/apps/pk/keys").get("csrf").unwrap().to_owned();
    let big = vec![b'A'; 65 * 1024];
    let refused = upload(&app, &b, &[("csrf", &csrf)], &big).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", refused.body);
    assert!(refused.body.contains("id=\"f-certificate-error\""), "{}", refused.body);
    assert!(refused.body.contains("must be at most 64 KiB"), "{}", refused.body);
    assert_eq!(key_count(&app, &admin).await, 0);
}

#[tokio::test]
async fn an_upload_without_this_sessions_csrf_token_is_refused_with_403_and_nothing_is_added() {
    let (app, admin, mut b) = setup().await;
    key_client(&app, &mut b).await;
    let kp = p256();
    let pem = ferrid_testkit::certs::self_signed(&kp).pem();
    let missing = upload(&app, &b, &[], pem.as_bytes()).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN, "{}", missing.body);
    let foreign = upload(&app, &b, &[("csrf", "forged-token")], pem.as_bytes()).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
    // another person's session's token does not do either
    let mut other = admin_browser(&app).await;
    let page = get(&app, &mut b, &format!("{APPS}/pk")).await;
    let mine = form_to(&page, "/apps/pk/keys").get("csrf").unwrap().to_owned();
    let theirs = get(&app, &mut other, &format!("{APPS}/pk")).await;
    let theirs = form_to(&theirs, "/apps/pk/keys").get("csrf").unwrap().to_owned();
    assert_ne!(mine, theirs);
    let crossed = upload(&app, &b, &[("csrf", &theirs)], pem.as_bytes()).await;
    assert_eq!(crossed.status, StatusCode::FORBIDDEN, "{}", crossed.body);
    assert_eq!(key_count(&app, &admin).await, 0);
    assert_eq!(assert_with(&app, &kp).await, StatusCode::UNAUTHORIZED);
}

/// The New application form of a client as `multipart/form-data` fields: its hidden
/// fields, the name `pk`, `api:read` granted, `method`.
async fn new_client_fields(app: &TestApp, b: &mut Browser, method: &str) -> Vec<(String, String)> {
    let page = get(app, b, &format!("{APPS}/new?kind=oauth_client")).await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""), "{}", page.body);
    assert!(page.body.contains(">Certificate file (PEM or PFX)") && page.body.contains(">PFX password<"));
    let form = form_to(&page, "/apps/new");
    let mut fields: Vec<(String, String)> =
        ["csrf", "kind"].iter().map(|k| ((*k).to_owned(), form.get(k).unwrap().to_owned())).collect();
    for (k, v) in [("name", "pk"), ("grant", "api:read"), ("client_auth_method", method)] {
        fields.push((k.to_owned(), v.to_owned()));
    }
    fields
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn a_private_key_jwt_client_created_with_its_certificate_in_new_application_gets_a_token() {
    let (app, admin, mut b) = setup().await;
    create_resource(&app, &mut b).await;
    let fields = new_client_fields(&app, &mut b, "private_key_jwt").await;
    let kp = p256();
    let pem = ferrid_testkit::certs::self_signed(&kp).pem();
    let created = upload_to(&app, &b, &format!("{APPS}/new"), &refs(&fields), pem.as_bytes()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(!created.body.contains("client-secret"), "no secret for private_key_jwt: {}", created.body);
    assert_eq!(key_count(&app, &admin).await, 1);
    assert_eq!(assert_with(&app, &kp).await, StatusCode::OK);
}

#[tokio::test]
async fn a_certificate_refused_in_new_application_leaves_nothing_created() {
    let (app, admin, mut b) = setup().await;
    create_resource(&app, &mut b).await;
    let kp = p256();
    let pfx = ferrid_testkit::certs::pfx(&kp, &ferrid_testkit::certs::self_signed(&kp), "right horse");
    let mut fields = new_client_fields(&app, &mut b, "private_key_jwt").await;
    fields.push(("password".into(), "wrong horse".into()));
    let refused = upload_to(&app, &b, &format!("{APPS}/new"), &refs(&fields), &pfx).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"f-password-error\""), "{}", refused.body);
    assert!(refused.body.contains("<details open>"), "Show advanced opens on its error: {}", refused.body);
    let (st, _) = app.get_api("/tenants/acme/tracks/master/apps/pk", &admin).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing created");

    // a certificate is only for private_key_jwt
    let fields = new_client_fields(&app, &mut b, "client_secret_post").await;
    let pem = ferrid_testkit::certs::self_signed(&kp).pem();
    let refused = upload_to(&app, &b, &format!("{APPS}/new"), &refs(&fields), pem.as_bytes()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"f-certificate-error\""), "{}", refused.body);
    let (st, _) = app.get_api("/tenants/acme/tracks/master/apps/pk", &admin).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing created");
}

/// The names linked from a listing's table rows.
fn listed(page: &Page) -> Vec<String> {
    page.body
        .split("<th scope=\"row\"><a href=\"")
        .skip(1)
        .filter_map(|r| r.split_once("\">").and_then(|(_, rest)| rest.split_once("</a>")).map(|(n, _)| n.to_owned()))
        .collect()
}

/// The "Next page" link of a listing, if it has one.
fn next_page(page: &Page) -> Option<String> {
    let (before, _) = page.body.split_once("\">Next page</a>")?;
    Some(before.rsplit_once("<a href=\"")?.1.replace("&amp;", "&"))
}

#[tokio::test]
async fn the_applications_list_is_paged_and_searched_by_name_prefix() {
    let (app, admin, mut b) = setup().await;
    let mut made: Vec<String> = (0..55).map(|i| format!("r{i:02}")).collect();
    for name in &made {
        app.create(
            "/tenants/acme/tracks/master/apps",
            &admin,
            json!({"name": name, "kind": "oauth_resource", "scopes": ["read"]}),
        )
        .await;
    }
    // with the track's own apps (console, ferrid-api), in name order, 50 to a page
    made.extend(["console".to_owned(), "ferrid-api".to_owned()]);
    made.sort();
    let first = get(&app, &mut b, APPS).await;
    assert_eq!(listed(&first), made[..50], "{}", first.body);
    let next = next_page(&first).unwrap_or_else(|| panic!("a next page: {}", first.body));
    let second = get(&app, &mut b, &next).await;
    assert_eq!(listed(&second), made[50..], "{}", second.body);
    assert_eq!(next_page(&second), None, "the last page links no further");
    // a prefix: only its names, on one page
    let found = get(&app, &mut b, &format!("{APPS}?name=r5")).await;
    assert_eq!(listed(&found), ["r50", "r51", "r52", "r53", "r54"], "{}", found.body);
    assert_eq!(next_page(&found), None);
    let none = get(&app, &mut b, &format!("{APPS}?name=zz")).await;
    assert!(listed(&none).is_empty() && none.body.contains("No applications found."), "{}", none.body);
}
