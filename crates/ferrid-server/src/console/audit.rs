//! A tenant's audit log (docs/console.md "Pages"), with the filters of the API's
//! `GET /api/v1/tenants/{tenant}/audit`, read by the same parser (`manage::audit::query`):
//! action, actor, target prefix, a time range, the order, and pages. A person who acted
//! through the console is shown by the name they sign in with, next to their actor string.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};
use ferrid_core::{
    audit::AuditEntry,
    manage::{ManageError, audit},
    model::rfc3339,
};

use super::{
    Console,
    page::render,
    tenants::status_of,
    view::{Field, FormView, Layout},
};
use crate::AppState;

#[derive(Debug, Clone)]
pub struct Entry {
    pub at: String,
    /// The person's name, when the actor is a user the caller may see.
    pub who: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    pub l: Layout,
    pub filters: FormView,
    pub entries: Vec<Entry>,
    pub next: Option<String>,
}

/// The filters a person sets; the cursor `after` and `limit` come from the links.
const FILTERS: [&str; 6] = ["action", "actor", "target", "since", "until", "order"];

fn filter_form(c: &Console, tenant: &str, query: &[(String, String)]) -> FormView {
    let v = |n: &str| query.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let order = if v("order") == "asc" { "asc" } else { "desc" };
    FormView::get(c.paths.audit(tenant), "Filter")
        .label("Filter the audit log")
        .field(Field::text("action", "Action").value(v("action")).hint("For example user.create or app.replace."))
        .field(
            Field::text("actor", "Actor")
                .value(v("actor"))
                .hint("For example user:master/master/… or client:master/master/admin."),
        )
        .field(
            Field::text("target", "Target starts with")
                .value(v("target"))
                .hint("For example tenants/acme/tracks/prod."),
        )
        .field(Field::text("since", "From").value(v("since")).hint("An RFC 3339 time, e.g. 2026-11-22T18:00:00Z."))
        .field(Field::text("until", "Before").value(v("until")).hint("An RFC 3339 time."))
        .field(Field::select("order", "Order", &[("desc", "Newest first"), ("asc", "Oldest first")], order))
}

/// `GET /console/{tenant}/audit`.
pub async fn audit(
    State(state): State<AppState>,
    c: Console,
    Path(tenant): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    // An empty filter of the form is no filter.
    let query: Vec<(String, String)> = ferrid_oauth::form::pairs(q.as_deref().unwrap_or_default().as_bytes())
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let mut filters = filter_form(&c, &tenant, &query);
    let scope = match c.caller.tenant(&tenant) {
        Ok(s) => s,
        Err(e) => return c.refusal(&e),
    };
    let mut l = c.layout(format!("Audit log of {tenant}"), c.tenant_crumbs(&tenant), c.tenant_sections(&tenant, true));
    let parsed = audit::query(query.clone());
    let listed = match &parsed {
        Ok(q) => state.manager.list_audit(&scope, q).await,
        Err(ManageError::Invalid(errors)) => Err(ManageError::Invalid(errors.clone())),
        Err(e) => return c.refusal(e),
    };
    let items = match listed {
        Ok(items) => items,
        Err(e @ ManageError::Invalid(_)) => {
            l.alert = filters.refused(&e, "action");
            return render(status_of(&e), &AuditPage { l, filters, entries: Vec::new(), next: None });
        }
        Err(e) => return c.refusal(&e),
    };
    let limit = parsed.as_ref().map_or(audit::DEFAULT_PAGE, |q| q.limit);
    let next = (items.len() as u32 >= limit).then(|| items.last()).flatten().map(|last| {
        let after = last.id.to_string();
        let mut pairs: Vec<(&str, &str)> = query
            .iter()
            .filter(|(k, _)| FILTERS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.push(("after", &after));
        format!("{}?{}", c.paths.audit(&tenant), ferrid_oauth::form::encode(pairs))
    });
    let entries = entries(&state, &c, &items).await;
    render(StatusCode::OK, &AuditPage { l, filters, entries, next })
}

/// The entries as shown, each person actor named once per page (and only when the
/// caller may see that person's tenant).
async fn entries(state: &AppState, c: &Console, items: &[AuditEntry]) -> Vec<Entry> {
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for e in items {
        let r = &e.record;
        if !names.contains_key(&r.actor) {
            let name = person(state, c, &r.actor).await;
            names.insert(r.actor.clone(), name);
        }
        out.push(Entry {
            at: rfc3339(r.at),
            who: names.get(&r.actor).cloned().flatten(),
            actor: r.actor.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            details: r.details.to_string(),
        });
    }
    out
}

/// The sign-in name of the person an actor string `user:{tenant}/master/{id}` names.
async fn person(state: &AppState, c: &Console, actor: &str) -> Option<String> {
    let rest = actor.strip_prefix("user:")?;
    let mut parts = rest.splitn(3, '/');
    let (tenant, track, id) = (parts.next()?, parts.next()?, parts.next()?);
    let scope = c.caller.tenant(tenant).ok()?.track(track).ok()?;
    let u = state.manager.get_user(&scope, id).await.ok()?;
    u.username.or(u.email)
}
