//! Reading a tenant's audit log (`GET /tenants/{tenant}/audit`) and its retention.

use std::sync::Arc;

use super::{FieldError, ManageError, ManageResult, Manager, TenantScope};
use crate::audit::{AuditEntry, AuditQuery, Order};
use crate::jobs::Jobs;

/// Longest accepted filter value.
const MAX_FILTER: usize = 500;
pub const DEFAULT_PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 1000;

/// Parses the query parameters of an audit listing; every bad or unknown parameter is
/// named (a misspelt filter must not silently return everything).
pub fn query(pairs: impl IntoIterator<Item = (String, String)>) -> ManageResult<AuditQuery> {
    let mut q = AuditQuery { limit: DEFAULT_PAGE, ..AuditQuery::default() };
    let mut errors = Vec::new();
    for (k, v) in pairs {
        let mut bad = |msg: &str| errors.push(FieldError::new(k.clone(), msg));
        let text = |v: String| (v.chars().count() <= MAX_FILTER).then_some(v);
        match k.as_str() {
            "limit" => match v.parse::<u32>().ok().filter(|n| (1..=MAX_PAGE).contains(n)) {
                Some(n) => q.limit = n,
                None => bad(&format!("must be an integer from 1 to {MAX_PAGE}")),
            },
            "after" => match v.parse::<i64>() {
                Ok(id) => q.after = Some(id),
                Err(_) => bad("must be the `next` value of the previous page"),
            },
            "order" => match v.as_str() {
                "desc" => q.order = Order::Desc,
                "asc" => q.order = Order::Asc,
                _ => bad("must be asc or desc"),
            },
            "since" | "until" => match parse_time(&v) {
                Some(t) if k == "since" => q.since = Some(t),
                Some(t) => q.until = Some(t),
                None => bad("must be an RFC 3339 date-time, e.g. 2026-11-22T18:00:00Z"),
            },
            "action" | "actor" | "target" => match text(v) {
                Some(v) if k == "action" => q.action = Some(v),
                Some(v) if k == "actor" => q.actor = Some(v),
                Some(v) => q.target = Some(v),
                None => bad(&format!("must be at most {MAX_FILTER} characters")),
            },
            _ => bad("is not a filter of the audit log (action, actor, target, since, until, order, after, limit)"),
        }
    }
    if errors.is_empty() { Ok(q) } else { Err(ManageError::Invalid(errors)) }
}

fn parse_time(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

impl Manager {
    /// One page of `tenant`'s audit log, for an administrator or that tenant's own.
    pub async fn list_audit(&self, scope: &TenantScope<'_>, q: &AuditQuery) -> ManageResult<Vec<AuditEntry>> {
        self.get_tenant(scope).await?;
        self.stores
            .audit
            .list_audit(scope.name(), q)
            .await
            .map_err(|e| ManageError::from_store(e, || "audit log".into()))
    }

    /// Deletes records older than `days` days, every hour, until `jobs` shut down;
    /// `days == 0` keeps everything.
    pub fn spawn_audit_retention(self: &Arc<Self>, jobs: &Jobs, days: u32) {
        if days == 0 {
            return;
        }
        let this = Arc::clone(self);
        jobs.every("audit-retention", std::time::Duration::from_secs(3600), move || {
            let this = Arc::clone(&this);
            async move {
                let before = this.now() - i64::from(days) * 86_400;
                match this.stores.audit.purge_audit(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(records = n, days, "audit records past retention deleted"),
                    Err(e) => tracing::warn!(error = %e, "could not apply the audit retention"),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> ManageResult<AuditQuery> {
        query(s.split('&').filter(|p| !p.is_empty()).map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        }))
    }

    fn fields(r: ManageResult<AuditQuery>) -> Vec<String> {
        match r {
            Err(ManageError::Invalid(errs)) => errs.into_iter().map(|e| e.field).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn filters_are_parsed() {
        let parsed =
            q("action=app.create&since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z&order=asc&after=7&limit=5")
                .unwrap();
        assert_eq!(parsed.action.as_deref(), Some("app.create"));
        assert_eq!((parsed.since, parsed.until), (Some(1_767_225_600), Some(1_767_312_000)));
        assert_eq!((parsed.order, parsed.after, parsed.limit), (Order::Asc, Some(7), 5));
        let default = q("").unwrap();
        assert_eq!((default.order, default.limit), (Order::Desc, DEFAULT_PAGE));
    }

    #[test]
    fn every_bad_or_unknown_parameter_is_named() {
        assert_eq!(
            fields(q("limit=0&after=x&order=up&since=yesterday&actions=a")),
            ["limit", "after", "order", "since", "actions"]
        );
        assert_eq!(fields(q(&format!("target={}", "x".repeat(501)))), ["target"]);
    }
}
