//! Applications of a track (docs/console.md "Applications"): the list with its name
//! search, **New application** for each of the three kinds, and the page shown once
//! after creating a client, with its secret. The application's own page is [`super::app`].
//!
//! A form is turned into the JSON body the API's `POST …/apps` receives and read by the
//! same parser (`AppBody::from_json`), then registered by `Manager::create_app`.

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};
use ferrid_core::{
    manage::{ManageError, Request, request::AppBody},
    model::{App, ClientAuthMethod},
    store::PageRequest,
};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use super::{
    Console, Section, keys,
    page::render,
    upload::{ConsoleUpload, Uploaded},
    view::{Field, FormView, Layout, Link, Posted, Row, Table},
};
use crate::AppState;

/// Applications listed per page.
const PAGE: u32 = 50;
/// Pages read at most to find the start of a name prefix.
const SEARCH_PAGES: usize = 20;

/// The kinds, as `kind` names them, with the names people choose them by.
pub const KINDS: [(&str, &str); 3] = [
    ("oauth_resource", "OAuth 2.0 – Resource (API)"),
    ("oauth_client", "OAuth 2.0 – Client Credentials Grant"),
    ("oidc_client", "OpenID Connect"),
];

/// The label of a kind.
pub fn kind_label(kind: &str) -> &'static str {
    KINDS.iter().find(|(k, _)| *k == kind).map_or("Application", |(_, l)| l)
}

/// `…/apps/new`.
fn new_path(c: &Console, tenant: &str, track: &str) -> String {
    format!("{}/new", c.paths.apps(tenant, track))
}

/// `…/apps/{app}`.
pub fn app_path(c: &Console, tenant: &str, track: &str, app: &str) -> String {
    format!("{}/{app}", c.paths.apps(tenant, track))
}

fn query(q: &Option<String>) -> Vec<(String, String)> {
    ferrid_oauth::form::pairs(q.as_deref().unwrap_or_default().as_bytes())
}

#[derive(Template)]
#[template(path = "console/apps/list.html")]
pub struct AppsPage {
    pub l: Layout,
    pub search: FormView,
    pub table: Table,
    pub new_app: String,
}

/// Apps whose name starts with `prefix`, from `after` on: pages are read by name from
/// just before the prefix, as the store orders them.
async fn find_apps(
    state: &AppState,
    scope: &ferrid_core::manage::TrackScope<'_>,
    prefix: &str,
    after: Option<String>,
) -> Result<Vec<App>, ManageError> {
    if prefix.is_empty() {
        return state.manager.list_apps(scope, &PageRequest { after, limit: PAGE }).await;
    }
    // the largest name before every name with this prefix: the prefix without its last character
    let cut = prefix.char_indices().last().map_or(0, |(i, _)| i);
    let mut cursor = after.or_else(|| Some(prefix[..cut].to_owned()).filter(|s| !s.is_empty()));
    let mut found = Vec::new();
    for _ in 0..SEARCH_PAGES {
        let page = state.manager.list_apps(scope, &PageRequest { after: cursor.clone(), limit: PAGE }).await?;
        let full = page.len() as u32 >= PAGE;
        cursor = page.last().map(|a| a.name.to_string());
        for a in page {
            if a.name.as_str().starts_with(prefix) {
                found.push(a);
            } else if a.name.as_str() > prefix {
                return Ok(found);
            }
            if found.len() as u32 >= PAGE {
                return Ok(found);
            }
        }
        if !full {
            break;
        }
    }
    Ok(found)
}

/// `GET …/apps`: a page of applications, by name; `?name=` searches by prefix.
pub async fn list(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(&q);
    let get = |n: &str| q.iter().find(|(k, v)| k == n && !v.is_empty()).map(|(_, v)| v.trim().to_owned());
    let prefix = get("name").unwrap_or_default();
    let apps = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(scope) => find_apps(&state, &scope, &prefix, get("after")).await,
        Err(e) => Err(e),
    };
    let apps = match apps {
        Ok(a) => a,
        Err(e) => return c.refusal(&e),
    };
    let base = c.paths.apps(&tenant, &track);
    let next = (apps.len() as u32 >= PAGE).then(|| apps.last()).flatten().map(|last| {
        let mut pairs = vec![("after", last.name.as_str())];
        if !prefix.is_empty() {
            pairs.push(("name", prefix.as_str()));
        }
        format!("{base}?{}", ferrid_oauth::form::encode(pairs))
    });
    let rows = apps
        .iter()
        .map(|a| Row {
            name: a.name.to_string(),
            href: app_path(&c, &tenant, &track, &a.name),
            cells: vec![kind_label(a.spec.kind()).to_owned()],
        })
        .collect();
    let search = FormView::get(base, "Search")
        .label("Search applications")
        .field(Field::text("name", "Name starts with").value(prefix.clone()));
    let page = AppsPage {
        l: c.layout(
            format!("Applications of {tenant}/{track}"),
            c.track_crumbs(&tenant, &track),
            c.track_sections(&tenant, &track, Section::Applications),
        ),
        search,
        table: Table {
            caption: "Applications",
            columns: &["Name", "Kind"],
            empty: "No applications found.",
            rows,
            next,
        },
        new_app: new_path(&c, &tenant, &track),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/apps/kinds.html")]
pub struct KindsPage {
    pub l: Layout,
    pub kinds: Vec<Link>,
}

/// A checkbox granting `resource:scope`.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: String,
    pub value: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "console/apps/new.html")]
pub struct NewAppPage {
    pub l: Layout,
    pub action: String,
    pub csrf: String,
    pub kind: String,
    pub multipart: bool,
    pub form: FormView,
    pub grants: Vec<Grant>,
    pub grants_error: Option<String>,
    pub advanced_names: Vec<&'static str>,
    pub open_advanced: bool,
}

impl NewAppPage {
    /// Whether the control `name` sits under "Show advanced".
    pub fn is_advanced(&self, name: &str) -> bool {
        self.advanced_names.contains(&name)
    }
}

/// Every `resource:scope` of the track's resources, sorted.
pub(super) fn grant_values(state: &AppState, tenant: &str, track: &str) -> Vec<String> {
    let Some(rt) = state.manager.registry().track(tenant, track) else { return Vec::new() };
    let mut values: Vec<String> =
        rt.resources.iter().flat_map(|(r, scopes)| scopes.iter().map(move |s| format!("{r}:{s}"))).collect();
    values.sort();
    values
}

/// Every `resource:scope` of the track's resources as checkboxes, sorted.
fn grants_of(state: &AppState, tenant: &str, track: &str, posted: Option<&Posted>) -> Vec<Grant> {
    grant_values(state, tenant, track)
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let checked = posted.is_some_and(|p| p.fields.iter().any(|(k, v)| k == "grant" && *v == value));
            Grant { id: format!("grant-{i}"), value, checked }
        })
        .collect()
}

pub(super) const METHODS: [(&str, &str); 3] = [
    ("client_secret_post", "client_secret_post (the secret in the form)"),
    ("client_secret_basic", "client_secret_basic (the secret in HTTP Basic)"),
    ("private_key_jwt", "private_key_jwt (a signed client assertion)"),
];

/// The form of a kind: its fields, and which of them sit under "Show advanced".
fn kind_form(c: &Console, tenant: &str, track: &str, kind: &str) -> (FormView, Vec<&'static str>) {
    let mut form = FormView::post(new_path(c, tenant, track), &c.csrf, "Create application")
        .field(Field::text("name", "Name").required().hint("Lower-case letters, digits and '-'; also the client id."));
    if kind == "oauth_resource" {
        let scopes = Field::text("scopes", "Scopes").required().hint("Separated by spaces, for example read write.");
        return (form.field(scopes), Vec::new());
    }
    if kind == "oidc_client" {
        form = form
            .field(Field::textarea("redirect_uris", "Redirect URIs").hint("One per line."))
            .field(
                Field::text("response_types", "Response types")
                    .value("code")
                    .hint("Separated by commas, for example code, or code id_token."),
            )
            .field(
                Field::text("grant_types", "Grant types")
                    .value("authorization_code")
                    .hint("Separated by commas: authorization_code, refresh_token, client_credentials, implicit."),
            );
    }
    let mut grants = Field::text("resource_scopes", "Resource scopes to grant");
    grants.kind = "grants";
    let method = Field::select(
        "client_auth_method",
        "Client authentication method",
        &METHODS,
        ClientAuthMethod::default().as_str(),
    );
    let certificate = Field::file(keys::CERTIFICATE, "Certificate file (PEM or PFX)")
        .hint("For private_key_jwt: a PEM certificate or public key, or a PFX/PKCS#12 file.");
    let password = Field::password(keys::PASSWORD, "PFX password").autocomplete("off").hint("Only for a PFX file.");
    let form = form.field(grants).field(method).field(certificate).field(password);
    (form, vec!["client_auth_method", keys::CERTIFICATE, keys::PASSWORD])
}

fn new_page(
    state: &AppState,
    c: &Console,
    (tenant, track, kind): (&str, &str, &str),
    form: Option<(FormView, &Posted)>,
    alert: Option<String>,
    status: StatusCode,
) -> Response {
    let (fresh, advanced_names) = kind_form(c, tenant, track, kind);
    let (form, posted) = match form {
        Some((f, p)) => (f, Some(p)),
        None => (fresh, None),
    };
    let grants_error = form.fields.iter().find(|f| f.kind == "grants").and_then(|f| f.error.clone());
    let open_advanced = form.fields.iter().any(|f| advanced_names.contains(&f.name.as_str()) && f.error.is_some());
    let mut l = c.layout(
        format!("New application: {}", kind_label(kind)),
        c.track_crumbs(tenant, track),
        c.track_sections(tenant, track, Section::Applications),
    );
    l.alert = alert;
    let page = NewAppPage {
        l,
        action: new_path(c, tenant, track),
        csrf: c.csrf.clone(),
        kind: kind.to_owned(),
        multipart: kind != "oauth_resource",
        grants: if kind == "oauth_resource" { Vec::new() } else { grants_of(state, tenant, track, posted) },
        form,
        grants_error,
        advanced_names,
        open_advanced,
    };
    render(status, &page)
}

/// `GET …/apps/new`: the three kinds; `?kind=` the form of one.
pub async fn new_form(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(e) = c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        return c.refusal(&e);
    }
    let kind = query(&q).into_iter().find(|(k, _)| k == "kind").map(|(_, v)| v);
    match kind.as_deref().filter(|k| KINDS.iter().any(|(n, _)| n == k)) {
        Some(kind) => new_page(&state, &c, (&tenant, &track, kind), None, None, StatusCode::OK),
        None => {
            let base = new_path(&c, &tenant, &track);
            let page = KindsPage {
                l: c.layout(
                    "New application",
                    c.track_crumbs(&tenant, &track),
                    c.track_sections(&tenant, &track, Section::Applications),
                ),
                kinds: KINDS.iter().map(|(k, label)| Link::new(*label, format!("{base}?kind={k}"))).collect(),
            };
            render(StatusCode::OK, &page)
        }
    }
}

/// Text split at `seps`, trimmed, empty parts dropped, as a JSON array.
pub(super) fn list_of(text: &str, seps: &[char]) -> Value {
    Value::Array(text.split(seps).map(str::trim).filter(|s| !s.is_empty()).map(|s| json!(s)).collect())
}

/// The JSON body of `POST …/apps` that a New application form stands for.
pub fn app_body(kind: &str, posted: &Posted) -> Value {
    let mut obj = Map::new();
    obj.insert("kind".into(), json!(kind));
    if let Some(name) = posted.text("name") {
        obj.insert("name".into(), json!(name));
    }
    let mut put = |field: &str, seps: &[char]| {
        if let Some(v) = posted.text(field) {
            obj.insert(field.into(), list_of(v, seps));
        }
    };
    if kind == "oauth_resource" {
        put("scopes", &[' ', '\t', '\n', '\r', ',']);
        return Value::Object(obj);
    }
    if kind == "oidc_client" {
        put("redirect_uris", &[' ', '\t', '\n', '\r']);
        put("response_types", &[',', '\n', '\r']);
        put("grant_types", &[',', ' ', '\n', '\r']);
    }
    // resource:scope checkboxes, grouped by resource in the order first checked
    let mut grants: Vec<(String, Vec<String>)> = Vec::new();
    for (_, v) in posted.fields.iter().filter(|(k, _)| k == "grant") {
        let Some((r, s)) = v.split_once(':') else { continue };
        match grants.iter_mut().find(|(g, _)| g == r) {
            Some((_, scopes)) => scopes.push(s.to_owned()),
            None => grants.push((r.to_owned(), vec![s.to_owned()])),
        }
    }
    if !grants.is_empty() {
        let items = grants.into_iter().map(|(r, s)| json!({ "resource": r, "scopes": s })).collect();
        obj.insert("resource_scopes".into(), Value::Array(items));
    }
    if let Some(m) = posted.text("client_auth_method") {
        obj.insert("client_auth_method".into(), json!(m));
    }
    Value::Object(obj)
}

#[derive(Template)]
#[template(path = "console/apps/created.html")]
pub struct CreatedPage {
    pub l: Layout,
    pub facts: Vec<(String, String)>,
    pub secret: Option<String>,
    pub app_href: String,
    pub script: String,
}

/// What a developer needs next: the values of the API's 201 (docs/api.md).
pub fn endpoints(state: &AppState, a: &App) -> Vec<(String, String)> {
    let urls = state.manager.registry().urls();
    let (t, k) = (&a.tenant, &a.track);
    let mut facts = Vec::new();
    if a.spec.as_client().is_some() {
        facts.push(("Client id".into(), a.name.to_string()));
    }
    facts.push(("Issuer".into(), urls.issuer(t, k)));
    facts.push(("Token endpoint".into(), urls.token_endpoint(t, k, None)));
    facts.push(("Discovery URL".into(), urls.discovery_endpoint(t, k)));
    if a.spec.as_oidc().is_some() {
        facts.push(("Authorization endpoint".into(), urls.authorization_endpoint(t, k, None)));
    }
    facts
}

/// `POST …/apps/new`: registers the application; a client's secret is shown this once.
pub async fn create(
    State(state): State<AppState>,
    Path((tenant, track)): Path<(String, String)>,
    up: ConsoleUpload,
) -> Response {
    let c = &up.console;
    let scope = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(s) => s,
        Err(e) => return c.refusal(&e),
    };
    let empty = Posted::default();
    let posted = match &up.upload {
        Uploaded::Parts { form, .. } => form,
        Uploaded::TooLarge => &empty,
    };
    let kind = posted.text("kind").filter(|k| KINDS.iter().any(|(n, _)| n == k)).unwrap_or("oauth_client");
    let created = async {
        // the certificate first: a refused one leaves nothing created
        let key = keys::checked_key(&state, &up).await?;
        let r = state.manager.create_app(&scope, AppBody::from_json(&app_body(kind, posted))).await?;
        if let Some(key) = key
            && let Err(e) = state.manager.add_client_key(&scope, &r.app.name, Ok(key)).await
        {
            // checked above, so only a store failure gets here: undo the creation
            if state.manager.delete_app(&scope, &r.app.name).await.is_err() {
                tracing::warn!(app = %r.app.name, "console: a client whose key failed could not be removed");
            }
            return Err(keys::on_form(e));
        }
        Ok(r)
    };
    match created.await {
        Ok(r) => {
            let mut l = c.layout(
                format!("Application {} created", r.app.name),
                c.track_crumbs(&tenant, &track),
                c.track_sections(&tenant, &track, Section::Applications),
            );
            l.notice = Some(format!("The application {} is created.", r.app.name));
            let page = CreatedPage {
                l,
                facts: endpoints(&state, &r.app),
                secret: r.secret.as_ref().map(|s| s.expose_secret().to_owned()),
                app_href: app_path(c, &tenant, &track, &r.app.name),
                script: format!("{}/console.js", c.paths.cookie_path()),
            };
            let mut resp = render(StatusCode::CREATED, &page);
            resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, "no-store".parse().expect("valid"));
            resp
        }
        Err(e @ ManageError::NotFound(_)) => c.refusal(&e),
        Err(e) => {
            let (mut form, _) = kind_form(c, &tenant, &track, kind);
            form.keep(posted);
            let alert = form.refused(&e, "name");
            let status = keys::status_of_upload(&up, &e);
            new_page(&state, c, (&tenant, &track, kind), Some((form, posted)), alert, status)
        }
    }
}

/// The progressive enhancement of the console: a "Copy secret" button appears and
/// copies the secret next to it (the secret is visible text without it).
pub async fn script() -> Response {
    use axum::{http::HeaderValue, response::IntoResponse};
    let mut resp = include_str!("../../templates/console/console.js").into_response();
    let h = resp.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    h.insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}
