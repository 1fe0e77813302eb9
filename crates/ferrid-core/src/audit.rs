//! The audit log (docs/api.md "The audit log"): every management change and every failed client
//! authentication, per tenant. A management change's record is written by the store in
//! the change's own transaction, so an acknowledged change always has its record and a
//! failed one never does. Records carry summaries, never secrets.

use serde_json::Value;

use crate::model::UnixTime;

/// What happened: who did what to which object, when, and a before/after summary.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// The tenant whose log holds the record. Creating or deleting a tenant is recorded
    /// in the `master` tenant's log.
    pub tenant: String,
    pub at: UnixTime,
    /// `client:{tenant}/{track}/{client}` for an API caller, `user:{tenant}/master/{user
    /// id}` for a person in the web console, `system` for ferrid itself, or, for a
    /// failed client authentication, `client:{tenant}/{track}/{id as sent}`.
    pub actor: String,
    /// `{object}.{verb}`: `tenant.create`, `app.replace`, `secret.delete`,
    /// `client_auth.failed`, …
    pub action: String,
    /// The object, as its API path below `/api/v1`.
    pub target: String,
    /// The source address, where there is one (failed client authentication).
    pub source: Option<String>,
    /// `{"before": …, "after": …}` summaries, or other facts about the event.
    pub details: Value,
}

/// A stored record with its position in the tenant's log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub record: AuditRecord,
}

/// Newest first (the default) or oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Desc,
    Asc,
}

/// A filtered page of one tenant's log. `after` is the last id of the previous page (in
/// the page's order).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    /// Records whose target starts with this path.
    pub target: Option<String>,
    pub since: Option<UnixTime>,
    pub until: Option<UnixTime>,
    pub order: Order,
    pub after: Option<i64>,
    pub limit: u32,
}

impl AuditRecord {
    /// A management change by `actor` (a management caller's `client:{tenant}/master/{client}`;
    /// the management service names it, so this module does not depend on it).
    pub fn change(actor: String, tenant: &str, at: UnixTime, action: &str, target: String, details: Value) -> Self {
        AuditRecord { tenant: tenant.to_owned(), at, actor, action: action.to_owned(), target, source: None, details }
    }

    /// A change ferrid made itself (bootstrap, scheduled key rotation).
    pub fn system(tenant: &str, at: UnixTime, action: &str, target: String, details: Value) -> Self {
        AuditRecord {
            tenant: tenant.to_owned(),
            at,
            actor: "system".into(),
            action: action.to_owned(),
            target,
            source: None,
            details,
        }
    }
}
