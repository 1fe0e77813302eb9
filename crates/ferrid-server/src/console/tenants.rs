//! Tenants (docs/console.md "Pages"): the tenant list and a new tenant, a tenant's
//! tracks and a new track (with its signing algorithm), deleting a tenant after a
//! confirmation page. A track's own page is [`super::tracks`].

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};
use ferrid_core::{
    manage::{
        MASTER, ManageError, Request,
        request::{NewTenant, NewTrack},
    },
    model::rfc3339,
    store::PageRequest,
};
use ferrid_oauth::jwt::SigningAlg;

use super::{
    Console, ConsolePost,
    input::{self, In},
    page::render,
    signin::redirect,
    view::{Field, FormView, Layout, Link, Row, Table},
};
use crate::AppState;

/// Tenants and tracks listed per page.
const PAGE: u32 = 50;

/// The status of a form shown again with the rules' refusal.
pub fn status_of(e: &ManageError) -> StatusCode {
    match e {
        ManageError::Conflict(_) => StatusCode::CONFLICT,
        ManageError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        ManageError::Forbidden(_) | ManageError::Protected(_) => StatusCode::FORBIDDEN,
        ManageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `after` of a listing's query.
fn after(q: &Option<String>) -> Option<String> {
    ferrid_oauth::form::pairs(q.as_deref().unwrap_or_default().as_bytes())
        .into_iter()
        .find(|(k, v)| k == "after" && !v.is_empty())
        .map(|(_, v)| v)
}

#[derive(Template)]
#[template(path = "console/tenants.html")]
pub struct TenantsPage {
    pub l: Layout,
    pub table: Table,
    pub create: FormView,
}

fn tenant_form(c: &Console) -> FormView {
    FormView::post(c.paths.tenants(), &c.csrf, "Create tenant").label("New tenant").field(
        Field::text("name", "Tenant name")
            .required()
            .hint("Lower-case letters, digits, '_' and '-', up to 50 characters. Its master track is created with it."),
    )
}

/// `GET /console/`: every tenant for an administrator; a tenant's administrator goes
/// to their tenant.
pub async fn start(State(state): State<AppState>, c: Console, RawQuery(q): RawQuery) -> Response {
    if !c.caller.is_admin() {
        return redirect(StatusCode::FOUND, &c.paths.tenant(&c.cookie.tenant), vec![]);
    }
    tenants_page(&state, &c, after(&q), tenant_form(&c), None, StatusCode::OK).await
}

async fn tenants_page(
    state: &AppState,
    c: &Console,
    after: Option<String>,
    create: FormView,
    alert: Option<String>,
    status: StatusCode,
) -> Response {
    let page = PageRequest { after, limit: PAGE };
    let tenants = match state.manager.list_tenants(&c.caller, &page).await {
        Ok(t) => t,
        Err(e) => return c.refusal(&e),
    };
    let next = (tenants.len() as u32 >= PAGE)
        .then(|| tenants.last().map(|t| format!("{}?after={}", c.paths.start(), t.name)))
        .flatten();
    let rows = tenants
        .iter()
        .map(|t| Row { name: t.name.to_string(), href: c.paths.tenant(&t.name), cells: vec![rfc3339(t.created)] })
        .collect();
    let mut l = c.layout("Tenants", vec![Link::new("Tenants", c.paths.start()).current(true)], vec![]);
    l.alert = alert;
    let table = Table { caption: "Tenants", columns: &["Name", "Created"], empty: "No tenants.", rows, next };
    render(status, &TenantsPage { l, table, create })
}

/// `POST /console/tenants`.
pub async fn create_tenant(State(state): State<AppState>, post: ConsolePost) -> Response {
    let c = &post.console;
    let scope = match c.caller.system() {
        Ok(s) => s,
        Err(e) => return c.refusal(&e),
    };
    let body = NewTenant::from_json(&input::body(&post.form, &[("name", In::Text)]));
    match state.manager.create_tenant(&scope, body).await {
        Ok(t) => redirect(StatusCode::SEE_OTHER, &c.paths.tenant(&t.name), vec![]),
        Err(e) => {
            let mut form = tenant_form(c);
            form.keep(&post.form);
            let alert = form.refused(&e, "name");
            tenants_page(&state, c, None, form, alert, status_of(&e)).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/tenant.html")]
pub struct TenantPage {
    pub l: Layout,
    pub table: Table,
    pub create: FormView,
    pub delete: Option<String>,
}

const ALGS: [(&str, &str); 4] = [
    ("RS256", "RS256 (RSA, the default)"),
    ("PS256", "PS256 (RSA-PSS)"),
    ("ES256", "ES256 (ECDSA P-256)"),
    ("EdDSA", "EdDSA (Ed25519)"),
];

fn track_form(c: &Console, tenant: &str) -> FormView {
    FormView::post(c.paths.tracks(tenant), &c.csrf, "Create track")
        .label("New track")
        .field(
            Field::text("name", "Track name")
                .required()
                .hint("For example prod or test; the same rule as tenant names."),
        )
        .field(
            Field::select("signing_alg", "Signing algorithm", &ALGS, SigningAlg::default().as_str())
                .hint("Fixed when the track is created."),
        )
        .field(Field::number("access_token_lifetime", "Access token lifetime (seconds)").hint("Empty for the default."))
}

/// `GET /console/{tenant}/`: the tenant's tracks.
pub async fn tenant(
    State(state): State<AppState>,
    c: Console,
    Path(tenant): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let form = track_form(&c, &tenant);
    tenant_page(&state, &c, &tenant, after(&q), form, None, StatusCode::OK).await
}

async fn tenant_page(
    state: &AppState,
    c: &Console,
    tenant: &str,
    after: Option<String>,
    create: FormView,
    alert: Option<String>,
    status: StatusCode,
) -> Response {
    let page = PageRequest { after, limit: PAGE };
    let tracks = match c.caller.tenant(tenant) {
        Ok(scope) => state.manager.list_tracks(&scope, &page).await,
        Err(e) => Err(e),
    };
    let tracks = match tracks {
        Ok(t) => t,
        Err(e) => return c.refusal(&e),
    };
    let next = (tracks.len() as u32 >= PAGE)
        .then(|| tracks.last().map(|t| format!("{}?after={}", c.paths.tenant(tenant), t.name)))
        .flatten();
    let urls = state.manager.registry().urls();
    let rows = tracks
        .iter()
        .map(|t| Row {
            name: t.name.to_string(),
            href: c.paths.track(tenant, &t.name),
            cells: vec![t.settings.signing_alg.as_str().to_owned(), urls.issuer(tenant, &t.name)],
        })
        .collect();
    let mut l = c.layout(format!("Tenant {tenant}"), c.tenant_crumbs(tenant), c.tenant_sections(tenant, false));
    l.alert = alert;
    let delete = (c.caller.is_admin() && tenant != MASTER).then(|| c.paths.tenant_delete(tenant));
    let columns = &["Name", "Signing algorithm", "Issuer"];
    let table = Table { caption: "Tracks", columns, empty: "No tracks.", rows, next };
    render(status, &TenantPage { l, table, create, delete })
}

/// `POST /console/{tenant}/tracks`.
pub async fn create_track(State(state): State<AppState>, Path(tenant): Path<String>, post: ConsolePost) -> Response {
    let c = &post.console;
    let scope = match c.caller.tenant(&tenant) {
        Ok(s) => s,
        Err(e) => return c.refusal(&e),
    };
    let spec = [("name", In::Text), ("signing_alg", In::Text), ("access_token_lifetime", In::Integer)];
    let body = NewTrack::from_json(&input::body(&post.form, &spec));
    match state.manager.create_track(&scope, body).await {
        Ok(t) => redirect(StatusCode::SEE_OTHER, &c.paths.track(&tenant, &t.name), vec![]),
        Err(ManageError::NotFound(m)) => c.refusal(&ManageError::NotFound(m)),
        Err(e) => {
            let mut form = track_form(c, &tenant);
            form.keep(&post.form);
            let alert = form.refused(&e, "name");
            tenant_page(&state, c, &tenant, None, form, alert, status_of(&e)).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
pub struct Confirm {
    pub l: Layout,
    pub question: String,
    pub consequences: Vec<String>,
    pub form: FormView,
    pub cancel: String,
}

/// `GET /console/{tenant}/delete`: asks first.
pub async fn confirm_delete_tenant(State(state): State<AppState>, c: Console, Path(tenant): Path<String>) -> Response {
    let found = match c.caller.system().and_then(|s| s.tenant(&tenant)) {
        Ok(scope) => state.manager.get_tenant(&scope).await,
        Err(e) => Err(e),
    };
    if let Err(e) = found {
        return c.refusal(&e);
    }
    let form = FormView::post(c.paths.tenant_delete(&tenant), &c.csrf, "Delete tenant").danger();
    let page = Confirm {
        l: c.layout(format!("Delete tenant {tenant}?"), c.tenant_crumbs(&tenant), vec![]),
        question: format!("Delete the tenant {tenant} and everything in it?"),
        consequences: vec![
            "Every track, with its keys, applications and users, is deleted.".into(),
            "Tokens it issued stop validating once their keys are gone from the key sets.".into(),
            "This cannot be undone.".into(),
        ],
        form,
        cancel: c.paths.tenant(&tenant),
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/{tenant}/delete`.
pub async fn delete_tenant(State(state): State<AppState>, Path(tenant): Path<String>, post: ConsolePost) -> Response {
    let c = &post.console;
    let done = match c.caller.system() {
        Ok(scope) => state.manager.delete_tenant(&scope, &tenant).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => redirect(StatusCode::SEE_OTHER, &c.paths.start(), vec![]),
        Err(e) => c.refusal(&e),
    }
}
