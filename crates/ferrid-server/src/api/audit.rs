//! `GET /api/v1/tenants/{tenant}/audit`: a tenant's audit log, filtered and paginated.

use axum::{
    extract::{Path, RawQuery, State},
    response::{IntoResponse, Response},
};
use ferrid_core::{audit::AuditEntry, clock::rfc3339, manage::audit};
use serde_json::{Value, json};

use super::{ApiResult, Auth};
use crate::AppState;

pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(tenant): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = audit::query(ferrid_oauth::form::pairs(raw.as_deref().unwrap_or("").as_bytes()))?;
    let items = s.manager.list_audit(&c, &tenant, &q).await?;
    let next = (items.len() as u32 >= q.limit).then(|| items.last().map(|e| e.id.to_string())).flatten();
    Ok(axum::Json(json!({ "items": items.iter().map(view).collect::<Vec<_>>(), "next": next })).into_response())
}

fn view(e: &AuditEntry) -> Value {
    let r = &e.record;
    json!({
        "id": e.id.to_string(),
        "at": rfc3339(r.at),
        "actor": r.actor,
        "action": r.action,
        "target": r.target,
        "source": r.source,
        "details": r.details,
    })
}
