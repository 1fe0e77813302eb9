//! The web console under `/console/` (docs/console.md): server-rendered pages (askama
//! templates in `templates/console/`) through which a person does what the management
//! API does, calling the same `Manager` methods with a caller made from their session
//! ([`Caller::person`]), never a second copy of a rule.
//!
//! # Layout
//! - [`session`]: the signed cookies (session, sign-in in progress) and the CSRF token.
//! - [`signin`]: sign-in through ferrid's own OpenID Connect flow, the callback, logout,
//!   and the check that a session is still live.
//! - [`paths`]: every console URL, built in one place.
//! - [`view`] and [`page`]: the layout, forms with errors next to their fields, rendering
//!   with the page headers.
//! - one module per page group: [`tenants`], [`tracks`], [`users`], [`audit`].

pub mod app;
pub mod app_form;
pub mod apps;
pub mod audit;
pub mod input;
pub mod keys;
pub mod page;
pub mod paths;
pub mod session;
pub mod signin;
pub mod tenants;
pub mod tracks;
pub mod upload;
pub mod users;
pub mod view;

use axum::{
    Router,
    extract::{FromRequest, FromRequestParts, Request},
    http::{Method, StatusCode, header, request::Parts},
    response::Response,
    routing::{get, post},
};
use ferrid_core::{
    manage::{Caller, MASTER, ManageError},
    model::User,
    provider::session::cookie_value,
};
use ferrid_oauth::name::Name;

pub use paths::Paths;
use session::{SESSION_COOKIE, SessionCookie};
use view::{Layout, Link, Posted};

use crate::AppState;

/// Largest console form accepted.
const FORM_LIMIT: usize = 256 * 1024;

/// The console's routes (docs/console.md "URLs").
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { signin::redirect(StatusCode::FOUND, "console/", vec![]) }))
        .route("/console/", get(tenants::start))
        .route("/console/console.css", get(page::stylesheet))
        .route("/console/callback", get(signin::callback))
        .route("/console/logout", post(signin::logout))
        .route("/console/tenants", post(tenants::create_tenant))
        .route("/console/{tenant}/", get(tenants::tenant))
        .route("/console/{tenant}/callback", get(signin::callback_tenant))
        .route("/console/{tenant}/delete", get(tenants::confirm_delete_tenant).post(tenants::delete_tenant))
        .route("/console/{tenant}/audit", get(audit::audit))
        .route("/console/{tenant}/tracks", post(tenants::create_track))
        .route("/console/{tenant}/tracks/{track}", get(tracks::track))
        .route("/console/{tenant}/tracks/{track}/settings", post(tracks::track_settings))
        .route("/console/{tenant}/tracks/{track}/rotate", post(tracks::rotate))
        .route("/console/{tenant}/tracks/{track}/delete", get(tracks::confirm_delete_track).post(tracks::delete_track))
        .route("/console/console.js", get(apps::script))
        .route("/console/{tenant}/tracks/{track}/apps", get(apps::list))
        .route("/console/{tenant}/tracks/{track}/apps/new", get(apps::new_form).post(apps::create))
        .route("/console/{tenant}/tracks/{track}/apps/{app}", get(app::show).post(app::update))
        .route("/console/{tenant}/tracks/{track}/apps/{app}/secrets", post(app::add_secret))
        .route("/console/{tenant}/tracks/{track}/apps/{app}/keys", post(keys::add_key))
        .route("/console/{tenant}/tracks/{track}/apps/{app}/delete", get(app::confirm_delete).post(app::delete))
        .route(
            "/console/{tenant}/tracks/{track}/apps/{app}/{what}/{id}/delete",
            get(app::confirm_remove).post(app::remove),
        )
        .route("/console/{tenant}/tracks/{track}/users", get(users::list))
        .route("/console/{tenant}/tracks/{track}/users/new", get(users::new_form).post(users::create))
        .route("/console/{tenant}/tracks/{track}/users/{id}", get(users::show).post(users::update))
        .route("/console/{tenant}/tracks/{track}/users/{id}/{action}", post(users::act))
}

/// A signed-in person: their caller for the management rules, and what every page of
/// theirs shows.
pub struct Console {
    pub caller: Caller,
    /// The verified session cookie (the CSRF token is bound to its value).
    pub cookie: SessionCookie,
    pub person: User,
    /// The CSRF token of this session's forms.
    pub csrf: String,
    pub paths: Paths,
}

/// The section of a track a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Settings,
    Applications,
    Users,
}

impl Console {
    /// The name the person logs in with.
    pub fn who(&self) -> String {
        let p = &self.person;
        p.username.clone().or_else(|| p.email.clone()).unwrap_or_else(|| p.id.clone())
    }

    /// The frame of a page titled `title` at `crumbs`, with `sections`.
    pub fn layout(&self, title: impl Into<String>, crumbs: Vec<Link>, sections: Vec<Link>) -> Layout {
        Layout {
            title: title.into(),
            stylesheet: self.paths.stylesheet(),
            logout: self.paths.logout(),
            csrf: self.csrf.clone(),
            user: self.who(),
            crumbs,
            sections,
            notice: None,
            alert: None,
        }
    }

    /// Console › tenant (the tenant list only for an administrator of every tenant).
    pub fn tenant_crumbs(&self, tenant: &str) -> Vec<Link> {
        let mut crumbs = Vec::new();
        if self.caller.is_admin() {
            crumbs.push(Link::new("Tenants", self.paths.start()));
        }
        crumbs.push(Link::new(format!("Tenant {tenant}"), self.paths.tenant(tenant)));
        crumbs
    }

    /// Console › tenant › track.
    pub fn track_crumbs(&self, tenant: &str, track: &str) -> Vec<Link> {
        let mut crumbs = self.tenant_crumbs(tenant);
        crumbs.push(Link::new(format!("Track {track}"), self.paths.track(tenant, track)));
        crumbs
    }

    /// A tenant's sections: its tracks and its audit log.
    pub fn tenant_sections(&self, tenant: &str, audit: bool) -> Vec<Link> {
        vec![
            Link::new("Tracks", self.paths.tenant(tenant)).current(!audit),
            Link::new("Audit log", self.paths.audit(tenant)).current(audit),
        ]
    }

    /// A track's sections: settings, applications, users.
    pub fn track_sections(&self, tenant: &str, track: &str, current: Section) -> Vec<Link> {
        vec![
            Link::new("Settings", self.paths.track(tenant, track)).current(current == Section::Settings),
            Link::new("Applications", self.paths.apps(tenant, track)).current(current == Section::Applications),
            Link::new("Users", self.paths.users(tenant, track)).current(current == Section::Users),
        ]
    }

    /// A page that says one thing, in the frame of the session.
    pub fn message(&self, status: StatusCode, title: &str, text: &str, back: Option<Link>) -> Response {
        let l = self.layout(title, vec![Link::new("Console", self.paths.start())], vec![]);
        page::render(status, &page::Message { l, message: text.to_owned(), back })
    }

    /// The page of a refusal that no form shows: 404 for what does not exist (or is
    /// another tenant's), 403 for what the person may not do, 503 when the store is down.
    pub fn refusal(&self, e: &ManageError) -> Response {
        let home = Some(Link::new("Back to the console", self.paths.start()));
        match e {
            ManageError::NotFound(m) => self.message(StatusCode::NOT_FOUND, "Not found", &sentence(m), home),
            ManageError::Forbidden(m) | ManageError::Protected(m) => {
                self.message(StatusCode::FORBIDDEN, "Not allowed", &sentence(m), home)
            }
            ManageError::Unavailable => self.message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The service is unavailable; try again later.",
                home,
            ),
            other => self.message(StatusCode::BAD_REQUEST, "Refused", &sentence(&other.to_string()), home),
        }
    }
}

/// A message as a sentence: capitalised, with a full stop.
pub fn sentence(m: &str) -> String {
    let mut chars = m.chars();
    let mut s = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default() + chars.as_str();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// The tenant a sign-in starts at when there is no live session: the tenant whose entry
/// page `/console/{tenant}/` was asked for; else the tenant of the session that ended;
/// else the tenant the path names; else the master tenant.
fn login_tenant(exists: impl Fn(&str) -> bool, path: &str, ended: Option<&SessionCookie>) -> Name {
    let named = path
        .strip_prefix("/console/")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(seg, _)| exists(seg))
        .and_then(|(seg, rest)| Name::parse(seg).ok().map(|n| (n, rest.is_empty())));
    match (named, ended) {
        (Some((t, true)), _) => t,
        (_, Some(c)) if exists(&c.tenant) => c.tenant.clone(),
        (Some((t, false)), _) => t,
        _ => Name::parse(MASTER).expect("valid"),
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    /// The live session of the request. Without one, a `GET` starts a sign-in and
    /// comes back to the page; anything else is refused with 403.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let paths = Paths::new(state.manager.registry().urls().base());
        let cipher = state.manager.registry().cipher();
        let now = state.clock_now();
        let cookies = parts.headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
        let value = cookie_value(cookies, SESSION_COOKIE);
        let opened = value.and_then(|v| SessionCookie::open(cipher, v));
        if let (Some(value), Some(c)) = (value, &opened)
            && let Some(person) = signin::live(state, c, now).await?
        {
            return Ok(Console {
                caller: Caller::person(&c.tenant, person.id.clone()),
                cookie: c.clone(),
                person,
                csrf: session::csrf_token(cipher, value),
                paths,
            });
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return Err(forbidden(state));
        }
        // the path of the page, below the public prefix
        let path = parts.uri.path_and_query().map_or("/console/", |p| p.as_str());
        let prefix = paths.cookie_path().strip_suffix("/console").unwrap_or_default();
        let next = format!("{prefix}{path}");
        let exists = |t: &str| state.manager.registry().track(t, MASTER).is_some();
        let tenant = login_tenant(exists, parts.uri.path(), opened.as_ref());
        Err(signin::start(state, &paths, &tenant, &next))
    }
}

/// The page of a form that did not come from this session's pages.
fn forbidden(state: &AppState) -> Response {
    let paths = Paths::new(state.manager.registry().urls().base());
    page::message(
        state,
        StatusCode::FORBIDDEN,
        "Form refused",
        "This form has expired or did not come from this console, so nothing was changed. Reload the page and try again.",
        Some(Link::new("Back to the console", paths.start())),
    )
}

/// A `POST` of a console form: a live session, and the form with that session's CSRF
/// token. Anything else is refused with 403 before any handler runs, so nothing changes.
pub struct ConsolePost {
    pub console: Console,
    pub form: Posted,
}

impl FromRequest<AppState> for ConsolePost {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, state).await?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| console.message(StatusCode::PAYLOAD_TOO_LARGE, "Too large", "The form is too large.", None))?;
        if !is_form {
            return Err(forbidden(state));
        }
        let fields = ferrid_oauth::form::pairs(&bytes);
        let token = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default();
        let cipher = state.manager.registry().cipher();
        let session = cookie_value(parts.headers.get(header::COOKIE).and_then(|v| v.to_str().ok()), SESSION_COOKIE);
        if !session.is_some_and(|s| session::csrf_ok(cipher, s, token)) {
            tracing::info!(path = %parts.uri.path(), "console: a form without this session's CSRF token was refused");
            return Err(forbidden(state));
        }
        Ok(ConsolePost { console, form: Posted { fields } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(tenant: &str) -> SessionCookie {
        SessionCookie { tenant: Name::parse(tenant).unwrap(), user: "u".into(), sid: "s".into(), expires: 0 }
    }

    #[test]
    fn a_sign_in_starts_at_the_tenant_whose_entry_was_asked_for_else_where_the_session_was() {
        let exists = |t: &str| ["master", "acme", "globex"].contains(&t);
        let at = |path: &str, c: Option<&SessionCookie>| login_tenant(exists, path, c).to_string();
        // DESIGN's entries: /console/ at master, /console/{tenant}/ at that tenant
        assert_eq!(at("/console/", None), "master");
        assert_eq!(at("/console/acme/", None), "acme");
        assert_eq!(at("/console/acme/", Some(&ended("master"))), "acme");
        // deeper pages: where the person's session was (an administrator of every
        // tenant keeps signing in at master), else the tenant of the path
        assert_eq!(at("/console/acme/tracks/prod/users", Some(&ended("master"))), "master");
        assert_eq!(at("/console/acme/tracks/prod/users", None), "acme");
        assert_eq!(at("/console/", Some(&ended("globex"))), "globex");
        // a tenant that does not exist (any more) signs in at master
        assert_eq!(at("/console/nosuch/", None), "master");
        assert_eq!(at("/console/", Some(&ended("gone"))), "master");
    }
}
