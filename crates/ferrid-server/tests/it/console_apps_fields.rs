//! The registration of an application's page as labelled controls (docs/console.md
//! "Applications"): a field changed through its control is what the API then answers;
//! a refusal is shown next to the control its path names, nothing changed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use ferrid_testkit::{
    browser::{Browser, HtmlForm, Page},
    *,
};

use crate::{
    console::form_to,
    console_apps::{APPS, create_resource, get, new_form, setup},
};

const API: &str = "/tenants/acme/tracks/master/apps";

/// The registration form of `name` as a browser posts it (the testkit leaves unchecked
/// checkboxes out and sends the text areas and selects as they are).
async fn registration(app: &TestApp, b: &mut Browser, name: &str) -> (Page, HtmlForm) {
    let page = get(app, b, &format!("{APPS}/{name}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let form = form_to(&page, &format!("/apps/{name}"));
    (page, form)
}

/// The resource `api` and the client `svc` granted `api:read`, made in the console.
async fn client(app: &TestApp, b: &mut Browser) {
    create_resource(app, b).await;
    let mut form = new_form(app, b, "oauth_client", &["api:read"]).await;
    form.set("name", "svc");
    assert_eq!(b.submit(&app.base, &form).await.status, StatusCode::CREATED);
}

async fn api(app: &TestApp, admin: &str, name: &str) -> Value {
    app.get_api(&format!("{API}/{name}"), admin).await.1
}

#[tokio::test]
async fn the_access_token_lifetime_changed_through_its_labelled_control_is_what_the_api_answers() {
    let (app, admin, mut b) = setup().await;
    client(&app, &mut b).await;
    let (page, mut form) = registration(&app, &mut b, "svc").await;
    for label in [
        "<label for=\"f-access-token-lifetime\">Access token lifetime (seconds)</label>",
        "<label for=\"f-client-auth-method\">Client authentication method</label>",
        "<label for=\"f-issued-claims\">Issued claims</label>",
        "<legend>Resource scopes</legend>",
    ] {
        assert!(page.body.contains(label), "{label}: {}", page.body);
    }
    form.set("access_token_lifetime", "1200");
    let saved = b.submit(&app.base, &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let svc = api(&app, &admin, "svc").await;
    assert_eq!(svc["access_token_lifetime"], 1200, "{svc}");
    assert_eq!(svc["resource_scopes"], json!([{"resource": "api", "scopes": ["read"]}]), "kept: {svc}");
    assert_eq!(svc["client_auth_method"], "client_secret_post", "kept: {svc}");
}

#[tokio::test]
async fn an_out_of_range_lifetime_is_shown_next_to_its_control_and_nothing_changes() {
    let (app, admin, mut b) = setup().await;
    client(&app, &mut b).await;
    let before = api(&app, &admin, "svc").await;
    let (_, mut form) = registration(&app, &mut b, "svc").await;
    form.set("access_token_lifetime", "5");
    let refused = b.submit(&app.base, &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let control = refused.body.split("id=\"f-access-token-lifetime\"").nth(1).unwrap_or_default();
    let control = &control[..control.find('>').unwrap_or(0)];
    assert!(control.contains("value=\"5\""), "input kept: {control}");
    assert!(control.contains("aria-invalid=\"true\""), "{control}");
    assert!(
        control.contains("aria-describedby=\"f-access-token-lifetime-hint f-access-token-lifetime-error\""),
        "{control}"
    );
    assert!(refused.body.contains("<p class=\"error\" id=\"f-access-token-lifetime-error\">"), "{}", refused.body);
    assert_eq!(api(&app, &admin, "svc").await, before, "unchanged");
}

#[tokio::test]
async fn a_redirect_uri_edited_on_an_oidc_client_is_saved_and_its_checkboxes_kept() {
    let (app, admin, mut b) = setup().await;
    create_resource(&app, &mut b).await;
    let mut form = new_form(&app, &mut b, "oidc_client", &[]).await;
    form.set("name", "web").set("redirect_uris", "https://web.example/cb");
    assert_eq!(b.submit(&app.base, &form).await.status, StatusCode::CREATED);
    let (page, mut form) = registration(&app, &mut b, "web").await;
    for label in ["Redirect URIs", "Post-logout redirect URIs", "Front-channel logout URI", "Require PKCE"] {
        assert!(page.body.contains(&format!(">{label}</label>")), "{label}: {}", page.body);
    }
    form.set("redirect_uris", "https://web.example/cb\nhttps://web.example/other");
    form.set("refresh_token_lifetime", "3600");
    let saved = b.submit(&app.base, &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let web = api(&app, &admin, "web").await;
    assert_eq!(web["redirect_uris"], json!(["https://web.example/cb", "https://web.example/other"]), "{web}");
    assert_eq!(web["refresh_token_lifetime"], 3600, "{web}");
    assert_eq!(web["require_pkce"], true, "checked stays on: {web}");
    assert_eq!(web["require_consent"], false, "unchecked stays off: {web}");

    let (_, mut form) = registration(&app, &mut b, "web").await;
    form.set("redirect_uris", "not a uri");
    let refused = b.submit(&app.base, &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"f-redirect-uris-error\">redirect_uris[0]"), "{}", refused.body);
}

#[tokio::test]
async fn claims_are_edited_as_json_in_their_own_control_and_a_refusal_is_placed_there() {
    let (app, admin, mut b) = setup().await;
    client(&app, &mut b).await;
    let (page, mut form) = registration(&app, &mut b, "svc").await;
    assert!(page.body.contains("<label for=\"f-claims\">Claims (JSON)</label>"), "{}", page.body);
    assert!(page.body.contains("Claim transforms (JSON, in order)</label>"), "{}", page.body);
    form.set("claims", r#"[{"claim": "role", "values": ["reader"]}]"#);
    let saved = b.submit(&app.base, &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let svc = api(&app, &admin, "svc").await;
    assert_eq!(svc["claims"], json!([{"claim": "role", "values": ["reader"]}]), "{svc}");
    let page = get(&app, &mut b, &format!("{APPS}/svc")).await;
    assert!(page.body.contains("reader"), "prefilled: {}", page.body);

    let (_, mut form) = registration(&app, &mut b, "svc").await;
    form.set("claims", r#"[{"claim": "iss", "values": ["x"]}]"#);
    let refused = b.submit(&app.base, &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"f-claims-error\">claims[0].claim:"), "{}", refused.body);
    assert_eq!(api(&app, &admin, "svc").await, svc, "unchanged");
}

#[tokio::test]
async fn a_resources_scopes_are_edited_as_text() {
    let (app, admin, mut b) = setup().await;
    create_resource(&app, &mut b).await;
    let (page, mut form) = registration(&app, &mut b, "api").await;
    assert!(page.body.contains("value=\"read write\""), "prefilled: {}", page.body);
    form.set("scopes", "read write admin");
    let saved = b.submit(&app.base, &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(api(&app, &admin, "api").await["scopes"], json!(["read", "write", "admin"]));
}
