//! An application's page (docs/console.md "Applications"): its endpoints, its
//! registration as labelled controls ([`super::app_form`]; saved by the API's rules for
//! `PUT …/apps/{app}` at the version read), its secrets (add → shown once; remove after a
//! confirmation page), its keys (remove after a confirmation page), and deleting it after
//! a confirmation page.

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};
use ferrid_core::{
    manage::{ManageError, Request, TrackScope, request::AppBody, request::SecretBody},
    model::{App, rfc3339},
};
use secrecy::ExposeSecret;

use super::{
    Console, ConsolePost, Section, app_form,
    apps::{CreatedPage, app_path, endpoints, grant_values, kind_label},
    keys::key_form,
    page::render,
    signin::redirect,
    tenants::{Confirm, status_of},
    view::{FormView, Layout, Row},
};
use crate::AppState;

type AppPathParams = Path<(String, String, String)>;

#[derive(Template)]
#[template(path = "console/apps/app.html")]
pub struct AppPage {
    pub l: Layout,
    pub facts: Vec<(String, String)>,
    pub edit: FormView,
    pub secrets: Option<Vec<Row>>,
    pub add_secret: FormView,
    pub keys: Option<Vec<Row>>,
    pub add_key: FormView,
    pub delete: String,
}

/// A form of the page shown again with its errors, and the alert of those that name no
/// field of it.
pub enum Again {
    Registration(FormView, Option<String>),
    Key(FormView, Option<String>),
}

/// The registration form of `a`, the track's grants offered.
fn registration_form(state: &AppState, c: &Console, tenant: &str, track: &str, a: &App) -> FormView {
    app_form::registration_form(c, tenant, track, a, &grant_values(state, tenant, track))
}

pub(super) fn scope_of<'c>(c: &'c Console, tenant: &str, track: &str) -> Result<TrackScope<'c>, ManageError> {
    c.caller.tenant(tenant).and_then(|s| s.track(track))
}

fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "saved" => "The registration is saved.",
        "secret-removed" => "The secret is removed: it no longer authenticates the client.",
        "key-removed" => "The key is removed.",
        "key-added" => "The key is added: client assertions signed with it are accepted.",
        _ => return None,
    })
}

/// `GET …/apps/{app}`.
pub async fn show(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track, app)): AppPathParams,
    RawQuery(q): RawQuery,
) -> Response {
    let done = ferrid_oauth::form::pairs(q.as_deref().unwrap_or_default().as_bytes())
        .into_iter()
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| notice(&v));
    app_page(&state, &c, (&tenant, &track, &app), None, done.map(str::to_owned), StatusCode::OK).await
}

pub(super) async fn app_page(
    state: &AppState,
    c: &Console,
    (tenant, track, app): (&str, &str, &str),
    again: Option<Again>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let read = async {
        let scope = scope_of(c, tenant, track)?;
        let a = state.manager.get_app(&scope, app).await?;
        if a.spec.as_client().is_none() {
            return Ok((a, None, None));
        }
        let secrets = state.manager.list_secrets(&scope, app).await?;
        let keys = state.manager.list_client_keys(&scope, app).await?;
        Ok::<_, ManageError>((a, Some(secrets), Some(keys)))
    };
    let (a, secrets, keys) = match read.await {
        Ok(found) => found,
        Err(e) => return c.refusal(&e),
    };
    let base = app_path(c, tenant, track, app);
    let secrets = secrets.map(|list| {
        list.iter()
            .map(|s| Row {
                name: s.id.clone(),
                href: format!("{base}/secrets/{}/delete", s.id),
                cells: vec![s.info.clone().unwrap_or_else(|| "(chosen)".into()), rfc3339(s.created)],
            })
            .collect()
    });
    let keys = keys.map(|list| {
        list.iter()
            .map(|k| Row {
                name: k.key.kid.clone(),
                href: format!("{base}/keys/{}/delete", k.key.kid),
                cells: vec![k.key.subject.clone().unwrap_or_default(), rfc3339(k.created)],
            })
            .collect()
    });
    let (edit, add_key, alert) = match again {
        Some(Again::Registration(f, alert)) => (f, key_form(c, &base), alert),
        Some(Again::Key(f, alert)) => (registration_form(state, c, tenant, track, &a), f, alert),
        None => (registration_form(state, c, tenant, track, &a), key_form(c, &base), None),
    };
    let mut facts = vec![("Kind".into(), kind_label(a.spec.kind()).to_owned())];
    facts.extend(endpoints(state, &a));
    facts.push(("Created".into(), rfc3339(a.created)));
    facts.push(("Changed".into(), rfc3339(a.updated)));
    let mut l = c.layout(
        format!("Application {app}"),
        c.track_crumbs(tenant, track),
        c.track_sections(tenant, track, Section::Applications),
    );
    (l.notice, l.alert) = (notice, alert);
    let page = AppPage {
        l,
        facts,
        edit,
        secrets,
        add_secret: FormView::post(format!("{base}/secrets"), &c.csrf, "Add secret").label("Add secret"),
        keys,
        add_key,
        delete: format!("{base}/delete"),
    };
    render(status, &page)
}

/// `POST …/apps/{app}`: replaces the registration, as `PUT` with `If-Match` does.
pub async fn update(
    State(state): State<AppState>,
    Path((tenant, track, app)): AppPathParams,
    post: ConsolePost,
) -> Response {
    let c = &post.console;
    let current = async { state.manager.get_app(&scope_of(c, &tenant, &track)?, &app).await }.await;
    let a = match current {
        Ok(a) => a,
        Err(e) => return c.refusal(&e),
    };
    let body = AppBody::from_json(&app_form::registration_body(&a, &post.form));
    let version = post.form.text("version").and_then(|v| v.parse::<i64>().ok());
    let done = match scope_of(c, &tenant, &track) {
        Ok(scope) => state.manager.replace_app(&scope, &app, body, version).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => {
            redirect(StatusCode::SEE_OTHER, &format!("{}?done=saved", app_path(c, &tenant, &track, &app)), vec![])
        }
        Err(e @ (ManageError::NotFound(_) | ManageError::Forbidden(_) | ManageError::Protected(_))) => c.refusal(&e),
        Err(e) => {
            // the form of the version read, the input kept, each error next to its control
            let mut form = registration_form(&state, c, &tenant, &track, &a);
            form.keep(&post.form);
            let alert = form.refused(&e, "name");
            let again = Some(Again::Registration(form, alert));
            app_page(&state, c, (&tenant, &track, &app), again, None, status_of(&e)).await
        }
    }
}

/// `POST …/apps/{app}/secrets`: a generated secret, shown this once.
pub async fn add_secret(
    State(state): State<AppState>,
    Path((tenant, track, app)): AppPathParams,
    post: ConsolePost,
) -> Response {
    let c = &post.console;
    let added = async {
        let scope = scope_of(c, &tenant, &track)?;
        let a = state.manager.get_app(&scope, &app).await?;
        let (_, shown) = state.manager.add_secret(&scope, &app, Ok(SecretBody { secret: None })).await?;
        Ok::<_, ManageError>((a, shown))
    };
    match added.await {
        Ok((a, shown)) => {
            let mut l = c.layout(
                format!("New secret of {app}"),
                c.track_crumbs(&tenant, &track),
                c.track_sections(&tenant, &track, Section::Applications),
            );
            l.notice = Some("A new secret is added; the others keep working until removed.".into());
            let page = CreatedPage {
                l,
                facts: endpoints(&state, &a),
                secret: shown.as_ref().map(|s| s.expose_secret().to_owned()),
                app_href: app_path(c, &tenant, &track, &app),
                script: format!("{}/console.js", c.paths.cookie_path()),
            };
            let mut resp = render(StatusCode::CREATED, &page);
            resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, "no-store".parse().expect("valid"));
            resp
        }
        Err(e) => c.refusal(&e),
    }
}

/// What a confirmation page deletes.
enum Target<'a> {
    App,
    Secret(&'a str),
    Key(&'a str),
}

fn confirm_page(c: &Console, (tenant, track, app): (&str, &str, &str), target: Target<'_>) -> Response {
    let base = app_path(c, tenant, track, app);
    let (title, question, consequences, action, button) = match target {
        Target::App => (
            format!("Delete application {app}?"),
            format!("Delete the application {app} with its secrets and keys?"),
            vec![
                "Its clients can no longer get tokens.".to_owned(),
                "Tokens already issued stay valid until they expire.".to_owned(),
                "This cannot be undone.".to_owned(),
            ],
            format!("{base}/delete"),
            "Delete application",
        ),
        Target::Secret(id) => (
            format!("Remove secret {id}?"),
            format!("Remove the secret {id} of {app}?"),
            vec!["A client using it can no longer authenticate with it.".to_owned()],
            format!("{base}/secrets/{id}/delete"),
            "Remove secret",
        ),
        Target::Key(kid) => (
            format!("Remove key {kid}?"),
            format!("Remove the key {kid} of {app}?"),
            vec!["Client assertions signed with it are refused.".to_owned()],
            format!("{base}/keys/{kid}/delete"),
            "Remove key",
        ),
    };
    let page = Confirm {
        l: c.layout(title, c.track_crumbs(tenant, track), c.track_sections(tenant, track, Section::Applications)),
        question,
        consequences,
        form: FormView::post(action, &c.csrf, button).danger(),
        cancel: base,
    };
    render(StatusCode::OK, &page)
}

/// `GET …/apps/{app}/delete`: asks first.
pub async fn confirm_delete(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track, app)): AppPathParams,
) -> Response {
    if let Err(e) = async { state.manager.get_app(&scope_of(&c, &tenant, &track)?, &app).await }.await {
        return c.refusal(&e);
    }
    confirm_page(&c, (&tenant, &track, &app), Target::App)
}

/// `POST …/apps/{app}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path((tenant, track, app)): AppPathParams,
    post: ConsolePost,
) -> Response {
    let c = &post.console;
    match async { state.manager.delete_app(&scope_of(c, &tenant, &track)?, &app).await }.await {
        Ok(()) => redirect(StatusCode::SEE_OTHER, &c.paths.apps(&tenant, &track), vec![]),
        Err(e) => c.refusal(&e),
    }
}

type ItemParams = Path<(String, String, String, String, String)>;

/// `GET …/apps/{app}/{secrets|keys}/{id}/delete`: asks first.
pub async fn confirm_remove(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track, app, what, id)): ItemParams,
) -> Response {
    let found = async {
        let scope = scope_of(&c, &tenant, &track)?;
        let exists = match what.as_str() {
            "secrets" => state.manager.list_secrets(&scope, &app).await?.iter().any(|s| s.id == id),
            "keys" => state.manager.list_client_keys(&scope, &app).await?.iter().any(|k| k.key.kid == id),
            _ => false,
        };
        if exists { Ok(()) } else { Err(ManageError::NotFound(format!("no such {what}"))) }
    };
    if let Err(e) = found.await {
        return c.refusal(&e);
    }
    let target = if what == "secrets" { Target::Secret(&id) } else { Target::Key(&id) };
    confirm_page(&c, (&tenant, &track, &app), target)
}

/// `POST …/apps/{app}/{secrets|keys}/{id}/delete`.
pub async fn remove(
    State(state): State<AppState>,
    Path((tenant, track, app, what, id)): ItemParams,
    post: ConsolePost,
) -> Response {
    let c = &post.console;
    let done = async {
        let scope = scope_of(c, &tenant, &track)?;
        match what.as_str() {
            "secrets" => state.manager.delete_secret(&scope, &app, &id).await.map(|_| "secret-removed"),
            "keys" => state.manager.delete_client_key(&scope, &app, &id).await.map(|_| "key-removed"),
            _ => Err(ManageError::NotFound("no such page".into())),
        }
    };
    match done.await {
        Ok(done) => {
            redirect(StatusCode::SEE_OTHER, &format!("{}?done={done}", app_path(c, &tenant, &track, &app)), vec![])
        }
        Err(e) => c.refusal(&e),
    }
}
