//! `GET /api/v1/tenants/{tenant}/audit`: a tenant's audit log, filtered and paginated.

use axum::{
    extract::RawQuery,
    response::{IntoResponse, Response},
};
use ferrid_core::{audit::AuditEntry, manage::audit, model::rfc3339};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, Call, paths::TenantPath};

/// Filters and pagination of the audit log. Any other parameter is refused (400), so a
/// misspelt filter never returns everything.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; the parameters are read by `audit::query`
pub struct AuditParams {
    /// Only this action, e.g. `app.create` or `client_auth.failed`.
    action: Option<String>,
    /// Only this actor, e.g. `client:master/master/admin`.
    actor: Option<String>,
    /// Only objects whose path starts with this, e.g. `tenants/acme/tracks/prod/apps/orders`.
    target: Option<String>,
    /// From this time on (RFC 3339).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Before this time (RFC 3339).
    #[param(format = DateTime)]
    until: Option<String>,
    /// `desc` (newest first, the default) or `asc`.
    #[param(pattern = "^(asc|desc)$")]
    order: Option<String>,
    /// The `next` value of the previous page.
    #[param(pattern = "^-?[0-9]+$")]
    after: Option<String>,
    /// Records per page.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u32>,
}

/// One audit record: who did what to which object, when, with a before/after summary
/// (never a secret).
#[derive(Serialize, ToSchema)]
pub struct AuditRecord {
    /// The record's position in the tenant's log (the `after` cursor).
    id: String,
    #[schema(format = DateTime)]
    at: String,
    /// `client:{tenant}/{track}/{client}`, `user:{tenant}/master/{user id}` (a person in
    /// the web console) or `system`.
    actor: String,
    /// `{object}.{verb}`, e.g. `app.replace`, `secret.delete`, `client_auth.failed`.
    action: String,
    /// The object, as its path below `/api/v1`.
    target: String,
    /// The source address of a failed client authentication.
    source: Option<String>,
    /// `{"before": …, "after": …}` summaries, or other facts about the event.
    details: serde_json::Value,
}

/// A page of the audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditRecord>,
    /// The `after` value of the next page; null on the last page.
    next: Option<String>,
}

impl AuditRecord {
    fn of(e: &AuditEntry) -> AuditRecord {
        let r = &e.record;
        AuditRecord {
            id: e.id.to_string(),
            at: rfc3339(r.at),
            actor: r.actor.clone(),
            action: r.action.clone(),
            target: r.target.clone(),
            source: r.source.clone(),
            details: r.details.clone(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/audit", tag = "audit", params(TenantPath, AuditParams),
    security(("bearer" = [])),
    summary = "Read a tenant's audit log: management changes and failed client authentications",
    responses((status = 200, description = "A page of records, newest first unless order=asc", body = AuditPage)))]
pub async fn list(call: Call<TenantPath>, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let q = audit::query(ferrid_oauth::form::pairs(raw.as_deref().unwrap_or("").as_bytes()))?;
    let items = call.manager.list_audit(&call.path.scope(&call.caller)?, &q).await?;
    let next = (items.len() as u32 >= q.limit).then(|| items.last().map(|e| e.id.to_string())).flatten();
    Ok(axum::Json(AuditPage { items: items.iter().map(AuditRecord::of).collect(), next }).into_response())
}
