//! Users of a track (docs/console.md "Pages"): the list with its search (username and
//! email prefixes, as the API filters), a new user, and a user's page: profile and
//! claims (as `PATCH` changes them, at the version read), a new password, disable or
//! enable, end every session.

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};
use ferrid_core::{
    manage::{
        ManageError, Request,
        users::{NewUser, UserPatch},
    },
    model::{User, rfc3339},
    store::{PageRequest, UserFilter},
};

use super::{
    Console, ConsolePost, Section,
    input::{self, In},
    page::render,
    signin::redirect,
    tenants::status_of,
    view::{Field, FormView, Layout, Row, Table},
};
use crate::AppState;

/// Users listed per page.
const PAGE: u32 = 50;

type TrackPath = Path<(String, String)>;
type UserPath = Path<(String, String, String)>;

#[derive(Template)]
#[template(path = "console/users.html")]
pub struct UsersPage {
    pub l: Layout,
    pub search: FormView,
    pub table: Table,
    pub new_user: String,
}

/// `GET …/users`: a page of users, filtered by username or email prefix.
pub async fn list(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track)): TrackPath,
    RawQuery(q): RawQuery,
) -> Response {
    let query = ferrid_oauth::form::pairs(q.as_deref().unwrap_or_default().as_bytes());
    let get = |n: &str| query.iter().find(|(k, v)| k == n && !v.is_empty()).map(|(_, v)| v.clone());
    let filter = UserFilter { username: get("username"), email: get("email") };
    let page = PageRequest { after: get("after"), limit: PAGE };
    let users = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(scope) => state.manager.list_users(&scope, &filter, &page).await,
        Err(e) => Err(e),
    };
    let users = match users {
        Ok(u) => u,
        Err(e) => return c.refusal(&e),
    };
    let base = c.paths.users(&tenant, &track);
    let next = (users.len() as u32 >= PAGE).then(|| users.last()).flatten().map(|last| {
        let mut pairs = vec![("after", last.id.as_str())];
        filter.username.as_deref().into_iter().for_each(|u| pairs.push(("username", u)));
        filter.email.as_deref().into_iter().for_each(|e| pairs.push(("email", e)));
        format!("{base}?{}", ferrid_oauth::form::encode(pairs))
    });
    let rows = users
        .iter()
        .map(|u| Row {
            name: u.username.clone().unwrap_or_else(|| "(no username)".into()),
            href: c.paths.user(&tenant, &track, &u.id),
            cells: vec![u.email.clone().unwrap_or_default(), user_status(u).into()],
        })
        .collect();
    let search = FormView::get(base, "Search")
        .label("Search users")
        .field(Field::text("username", "Username starts with").value(filter.username.clone().unwrap_or_default()))
        .field(Field::text("email", "Email starts with").value(filter.email.clone().unwrap_or_default()));
    let l = c.layout(
        format!("Users of {track}"),
        c.track_crumbs(&tenant, &track),
        c.track_sections(&tenant, &track, Section::Users),
    );
    let columns = &["Username", "Email", "Status"];
    let table = Table { caption: "Users", columns, empty: "No users found.", rows, next };
    render(StatusCode::OK, &UsersPage { l, search, table, new_user: c.paths.user_new(&tenant, &track) })
}

fn user_status(u: &User) -> &'static str {
    if u.disabled { "Disabled" } else { "Enabled" }
}

#[derive(Template)]
#[template(path = "console/form_page.html")]
pub struct FormPage {
    pub l: Layout,
    pub intro: String,
    pub form: FormView,
}

fn new_user_form(c: &Console, tenant: &str, track: &str) -> FormView {
    FormView::post(c.paths.user_new(tenant, track), &c.csrf, "Create user")
        .label("New user")
        .field(Field::text("username", "Username").autocomplete("off").hint("A username, an email, or both."))
        .field(Field::text("email", "Email").autocomplete("off"))
        .field(Field::checkbox("email_verified", "The email address is verified", false))
        .field(
            Field::password("password", "Password")
                .required()
                .hint("At least 8 characters; not a common password, not containing the username or email."),
        )
        .field(Field::textarea("claims", "Claims (JSON)").hint("A JSON object, e.g. {\"name\": \"Alice Liddell\"}."))
}

fn new_user_page(
    c: &Console,
    tenant: &str,
    track: &str,
    form: FormView,
    alert: Option<String>,
    status: StatusCode,
) -> Response {
    let mut l = c.layout("New user", c.track_crumbs(tenant, track), c.track_sections(tenant, track, Section::Users));
    l.alert = alert;
    let intro = format!("A person who signs in at the track {track} of {tenant}.");
    render(status, &FormPage { l, intro, form })
}

/// `GET …/users/new`.
pub async fn new_form(c: Console, Path((tenant, track)): TrackPath) -> Response {
    if let Err(e) = c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        return c.refusal(&e);
    }
    let form = new_user_form(&c, &tenant, &track);
    new_user_page(&c, &tenant, &track, form, None, StatusCode::OK)
}

const USER_FIELDS: [(&str, In); 5] = [
    ("username", In::Text),
    ("email", In::Text),
    ("email_verified", In::Bool),
    ("password", In::Secret),
    ("claims", In::Json),
];

/// `POST …/users/new`.
pub async fn create(State(state): State<AppState>, Path((tenant, track)): TrackPath, post: ConsolePost) -> Response {
    let c = &post.console;
    let scope = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(s) => s,
        Err(e) => return c.refusal(&e),
    };
    let body = NewUser::from_json(&input::body(&post.form, &USER_FIELDS));
    match state.manager.create_user(&scope, body).await {
        Ok(u) => {
            redirect(StatusCode::SEE_OTHER, &format!("{}?done=created", c.paths.user(&tenant, &track, &u.id)), vec![])
        }
        Err(e @ ManageError::NotFound(_)) => c.refusal(&e),
        Err(e) => {
            let mut form = new_user_form(c, &tenant, &track);
            form.keep(&post.form);
            let alert = form.refused(&e, "username");
            new_user_page(c, &tenant, &track, form, alert, status_of(&e))
        }
    }
}

#[derive(Template)]
#[template(path = "console/user.html")]
pub struct UserPage {
    pub l: Layout,
    pub facts: Vec<(String, String)>,
    pub profile: FormView,
    pub password: FormView,
    pub state: FormView,
    pub sessions: FormView,
}

fn profile_form(c: &Console, tenant: &str, track: &str, u: &User) -> FormView {
    let claims = serde_json::to_string_pretty(&u.claims).unwrap_or_default();
    FormView::post(c.paths.user(tenant, track, &u.id), &c.csrf, "Save profile")
        .label("Profile and claims")
        .field(Field::hidden("version", &u.version.to_string()))
        .field(Field::text("username", "Username").value(u.username.clone().unwrap_or_default()).autocomplete("off"))
        .field(Field::text("email", "Email").value(u.email.clone().unwrap_or_default()).autocomplete("off"))
        .field(Field::checkbox("email_verified", "The email address is verified", u.email_verified))
        .field(Field::textarea("claims", "Claims (JSON)").value(claims).hint("A JSON object; {} removes every claim."))
}

fn password_form(c: &Console, tenant: &str, track: &str, u: &User) -> FormView {
    FormView::post(c.paths.user_action(tenant, track, &u.id, "password"), &c.csrf, "Set password")
        .label("Reset password")
        .field(Field::password("password", "New password").required())
}

/// Which of a user's forms to show again with a refusal.
pub enum Again {
    Profile(FormView),
    Password(FormView),
}

/// `GET …/users/{id}`.
pub async fn show(
    State(state): State<AppState>,
    c: Console,
    Path((tenant, track, id)): UserPath,
    RawQuery(q): RawQuery,
) -> Response {
    let notice = ferrid_oauth::form::pairs(q.as_deref().unwrap_or_default().as_bytes())
        .into_iter()
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| notice(&v));
    user_page(&state, &c, (&tenant, &track, &id), None, notice.map(str::to_owned), StatusCode::OK).await
}

fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "created" => "The user is created.",
        "saved" => "The profile is saved.",
        "password" => "The password is changed.",
        "disabled" => "The user is disabled: they cannot sign in, and what was issued to them is revoked.",
        "enabled" => "The user is enabled.",
        "ended" => "Every session of the user has ended.",
        _ => return None,
    })
}

async fn user_page(
    state: &AppState,
    c: &Console,
    (tenant, track, id): (&str, &str, &str),
    again: Option<(Again, Option<String>)>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let found = match c.caller.tenant(tenant).and_then(|s| s.track(track)) {
        Ok(scope) => match state.manager.get_user(&scope, id).await {
            Ok(u) => state.manager.list_user_sessions(&scope, id).await.map(|s| (u, s.len())),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (u, sessions) = match found {
        Ok(f) => f,
        Err(e) => return c.refusal(&e),
    };
    let (mut profile, mut password) = (profile_form(c, tenant, track, &u), password_form(c, tenant, track, &u));
    let mut alert = None;
    if let Some((form, a)) = again {
        alert = a;
        match form {
            Again::Profile(f) => profile = f,
            Again::Password(f) => password = f,
        }
    }
    let (action, label) = if u.disabled { ("enable", "Enable user") } else { ("disable", "Disable user") };
    let mut l = c.layout(
        format!("User {}", u.username.clone().or_else(|| u.email.clone()).unwrap_or_else(|| u.id.clone())),
        c.track_crumbs(tenant, track),
        c.track_sections(tenant, track, Section::Users),
    );
    (l.notice, l.alert) = (notice, alert);
    let page = UserPage {
        l,
        facts: vec![
            ("User id (sub)".into(), u.id.clone()),
            ("Status".into(), user_status(&u).into()),
            ("Sessions".into(), sessions.to_string()),
            ("Created".into(), rfc3339(u.created)),
            ("Changed".into(), rfc3339(u.updated)),
        ],
        profile,
        password,
        state: FormView::post(c.paths.user_action(tenant, track, &u.id, action), &c.csrf, label).label(label),
        sessions: FormView::post(
            c.paths.user_action(tenant, track, &u.id, "end-sessions"),
            &c.csrf,
            "End every session",
        )
        .label("End sessions"),
    };
    render(status, &page)
}

/// `POST …/users/{id}`: the profile and claims, at the version the form was read at.
pub async fn update(State(state): State<AppState>, Path((tenant, track, id)): UserPath, post: ConsolePost) -> Response {
    let c = &post.console;
    let spec = [("username", In::Text), ("email", In::Text), ("email_verified", In::Bool), ("claims", In::Json)];
    let body = UserPatch::from_json(&input::body(&post.form, &spec));
    let version = post.form.text("version").and_then(|v| v.parse::<i64>().ok());
    let done = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(scope) => state.manager.update_user(&scope, &id, body, version).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let path = (tenant.as_str(), track.as_str(), id.as_str());
    match done {
        Ok(()) => {
            redirect(StatusCode::SEE_OTHER, &format!("{}?done=saved", c.paths.user(&tenant, &track, &id)), vec![])
        }
        Err(e @ ManageError::NotFound(_)) => c.refusal(&e),
        Err(e) => {
            let current = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
                Ok(scope) => state.manager.get_user(&scope, &id).await,
                Err(e) => Err(e),
            };
            let mut form = match &current {
                Ok(u) => profile_form(c, &tenant, &track, u),
                Err(e) => return c.refusal(e),
            };
            form.keep(&post.form);
            let alert = form.refused(&e, "username");
            user_page(&state, c, path, Some((Again::Profile(form), alert)), None, status_of(&e)).await
        }
    }
}

/// `POST …/users/{id}/{password|disable|enable|end-sessions}`.
pub async fn act(
    State(state): State<AppState>,
    Path((tenant, track, id, action)): Path<(String, String, String, String)>,
    post: ConsolePost,
) -> Response {
    let c = &post.console;
    let scope = match c.caller.tenant(&tenant).and_then(|s| s.track(&track)) {
        Ok(s) => s,
        Err(e) => return c.refusal(&e),
    };
    let m = &state.manager;
    let patch = |v: serde_json::Value| UserPatch::from_json(&v);
    let (done, result) = match action.as_str() {
        "password" => {
            let password = post.form.get("password").unwrap_or_default();
            let body = if password.is_empty() {
                Err(ManageError::field("password", "is required"))
            } else {
                patch(serde_json::json!({ "password": password }))
            };
            ("password", m.update_user(&scope, &id, body, None).await.map(|_| ()))
        }
        "disable" => (
            "disabled",
            m.update_user(&scope, &id, patch(serde_json::json!({"disabled": true})), None).await.map(|_| ()),
        ),
        "enable" => (
            "enabled",
            m.update_user(&scope, &id, patch(serde_json::json!({"disabled": false})), None).await.map(|_| ()),
        ),
        "end-sessions" => ("ended", m.end_user_sessions(&scope, &id).await.map(|_| ())),
        _ => ("", Err(ManageError::NotFound("no such page".into()))),
    };
    match result {
        Ok(()) => {
            redirect(StatusCode::SEE_OTHER, &format!("{}?done={done}", c.paths.user(&tenant, &track, &id)), vec![])
        }
        Err(e @ ManageError::Invalid(_)) if done == "password" => {
            let user = match m.get_user(&scope, &id).await {
                Ok(u) => u,
                Err(e) => return c.refusal(&e),
            };
            let mut form = password_form(c, &tenant, &track, &user);
            let alert = form.refused(&e, "password");
            let path = (tenant.as_str(), track.as_str(), id.as_str());
            user_page(&state, c, path, Some((Again::Password(form), alert)), None, status_of(&e)).await
        }
        Err(e) => c.refusal(&e),
    }
}
