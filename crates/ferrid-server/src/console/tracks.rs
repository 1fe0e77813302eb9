//! A track's page (docs/console.md "Pages"): its issuer, its settings (as `PATCH`
//! changes them, with its version for `If-Match`), its signing keys and rotating them
//! now, and deleting it after a confirmation page.

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};
use ferrid_core::{
    manage::{MASTER, ManageError, Request, request::TrackChanges},
    model::{KeyState, Track, rfc3339},
};

use super::{
    Console, ConsolePost, Section,
    input::{self, In},
    page::render,
    signin::redirect,
    tenants::{Confirm, status_of},
    view::{Field, FormView, Layout, Row},
};
use crate::AppState;

#[derive(Template)]
#[template(path = "console/track.html")]
pub struct TrackPage {
    pub l: Layout,
    pub issuer: String,
    pub discovery: String,
    pub alg: String,
    pub settings: FormView,
    pub keys: Vec<Row>,
    pub rotate: FormView,
    pub delete: Option<String>,
}

fn settings_form(c: &Console, t: &Track) -> FormView {
    let s = &t.settings;
    let n = |name: &str, label: &str, v: u32| Field::number(name, label).value(v.to_string());
    FormView::post(c.paths.track_settings(&t.tenant, &t.name), &c.csrf, "Save settings")
        .label("Settings")
        .field(Field::hidden("version", &t.version.to_string()))
        .field(n("access_token_lifetime", "Access token lifetime (seconds)", s.access_token_lifetime))
        .field(n("assertion_max_lifetime", "Longest client assertion (seconds)", s.assertion_max_lifetime))
        .field(n("key_rotation_days", "Key rotation (days)", s.key_rotation_days))
        .field(n("session_lifetime", "Login session, sliding (seconds)", s.session_lifetime))
        .field(n("session_absolute_lifetime", "Login session, absolute (seconds)", s.session_absolute_lifetime))
        .field(n("password_min_length", "Shortest password (characters)", s.password_min_length))
        .field(n("lockout_failures", "Failed logins before a lockout", s.lockout_failures))
        .field(n("lockout_duration", "First lockout (seconds)", s.lockout_duration))
}

/// `GET /console/{tenant}/tracks/{track}`: settings and keys.
pub async fn track(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let notice = ferrid_oauth::form::pairs(q.as_deref().unwrap_or_default().as_bytes())
        .into_iter()
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| match v.as_str() {
            "saved" => Some("The settings are saved."),
            "rotated" => {
                Some("The next signing key is published; it signs once the pre-publication window has passed.")
            }
            _ => None,
        });
    track_page(&state, &c, &tenant, &track, None, notice.map(str::to_owned), StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)]
async fn track_page(
    state: &AppState,
    c: &Console,
    tenant: &str,
    track: &str,
    settings: Option<(FormView, Option<String>)>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let found = match c.caller.tenant(tenant).and_then(|s| s.track(track)) {
        Ok(scope) => match state.manager.get_track(&scope).await {
            Ok(t) => state.manager.track_keys(&scope).await.map(|k| (t, k)),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (t, keys) = match found {
        Ok(found) => found,
        Err(e) => return c.refusal(&e),
    };
    let urls = state.manager.registry().urls();
    let (settings, alert) = settings.unwrap_or_else(|| (settings_form(c, &t), None));
    let keys = keys
        .iter()
        .map(|k| {
            let state = match k.state {
                KeyState::Next => "next (published, not signing yet)",
                KeyState::Active => "active (signing)",
                KeyState::Retired => "retired (still published)",
            };
            Row { name: k.kid.clone(), href: String::new(), cells: vec![state.into(), rfc3339(k.created)] }
        })
        .collect();
    let mut l = c.layout(
        format!("Track {track}"),
        c.track_crumbs(tenant, track),
        c.track_sections(tenant, track, Section::Settings),
    );
    (l.notice, l.alert) = (notice, alert);
    let page = TrackPage {
        l,
        issuer: urls.issuer(tenant, track),
        discovery: urls.discovery_endpoint(tenant, track),
        alg: t.settings.signing_alg.as_str().to_owned(),
        settings,
        keys,
        rotate: FormView::post(c.paths.track_rotate(tenant, track), &c.csrf, "Rotate keys now").label("Rotate keys"),
        delete: (track != MASTER).then(|| c.paths.track_delete(tenant, track)),
    };
    render(status, &page)
}

/// `POST /console/{tenant}/tracks/{track}/settings`: the changes `PATCH` accepts, at the
/// version the form was read at (a concurrent change is not lost: 412, shown).
pub async fn track_settings(
    State(state): State<AppState>,
    Path((tenant, track)): Path<(String, String)>,
    post: ConsolePost,
) -> Response {
    let c = &post.console;
    let scope = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(s) => s,
        Err(e) => return c.refusal(&e),
    };
    let spec = [
        ("access_token_lifetime", In::Integer),
        ("assertion_max_lifetime", In::Integer),
        ("key_rotation_days", In::Integer),
        ("session_lifetime", In::Integer),
        ("session_absolute_lifetime", In::Integer),
        ("password_min_length", In::Integer),
        ("lockout_failures", In::Integer),
        ("lockout_duration", In::Integer),
    ];
    let body = TrackChanges::from_json(&input::body(&post.form, &spec));
    let version = post.form.text("version").and_then(|v| v.parse::<i64>().ok());
    match state.manager.update_track(&scope, body, version).await {
        Ok(_) => redirect(StatusCode::SEE_OTHER, &format!("{}?done=saved", c.paths.track(&tenant, &track)), vec![]),
        Err(e @ ManageError::NotFound(_)) => c.refusal(&e),
        Err(e) => {
            let current = state.manager.get_track(&scope).await;
            let mut form = match &current {
                Ok(t) => settings_form(c, t),
                Err(e) => return c.refusal(e),
            };
            form.keep(&post.form);
            let alert = form.refused(&e, "access_token_lifetime");
            track_page(&state, c, &tenant, &track, Some((form, alert)), None, status_of(&e)).await
        }
    }
}

/// `POST /console/{tenant}/tracks/{track}/rotate`.
pub async fn rotate(
    State(state): State<AppState>,
    Path((tenant, track)): Path<(String, String)>,
    post: ConsolePost,
) -> Response {
    let c = &post.console;
    let done = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(scope) => state.manager.rotate_now(&scope).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => redirect(StatusCode::SEE_OTHER, &format!("{}?done=rotated", c.paths.track(&tenant, &track)), vec![]),
        Err(e) => c.refusal(&e),
    }
}

/// `GET /console/{tenant}/tracks/{track}/delete`: asks first.
pub async fn confirm_delete_track(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track)): Path<(String, String)>,
) -> Response {
    let found = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(scope) => state.manager.get_track(&scope).await,
        Err(e) => Err(e),
    };
    if let Err(e) = found {
        return c.refusal(&e);
    }
    let page = Confirm {
        l: c.layout(format!("Delete track {track}?"), c.track_crumbs(&tenant, &track), vec![]),
        question: format!("Delete the track {track} of {tenant} and everything in it?"),
        consequences: vec![
            "Its keys, applications, users and their sessions are deleted.".into(),
            "Its issuer stops answering; tokens it issued stop validating.".into(),
            "This cannot be undone.".into(),
        ],
        form: FormView::post(c.paths.track_delete(&tenant, &track), &c.csrf, "Delete track").danger(),
        cancel: c.paths.track(&tenant, &track),
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/{tenant}/tracks/{track}/delete`.
pub async fn delete_track(
    State(state): State<AppState>,
    Path((tenant, track)): Path<(String, String)>,
    post: ConsolePost,
) -> Response {
    let c = &post.console;
    let done = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(scope) => state.manager.delete_track(&scope).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => redirect(StatusCode::SEE_OTHER, &c.paths.tenant(&tenant), vec![]),
        Err(e) => c.refusal(&e),
    }
}
