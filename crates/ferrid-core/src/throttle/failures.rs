//! What happens to a failed client authentication after the response has gone: it is
//! counted in the store's shared buckets (so that several instances behind one load
//! balancer throttle together, `docs/ARCHITECTURE.md` "Invariants"), the shared levels
//! are brought back into this instance's [`Throttle`], and it is written to the
//! tenant's audit log. The reporter holds only those two store ports ([`FailurePorts`]).
//!
//! Reports arrive on a bounded queue and are handled in batches off the request path; a
//! full queue drops reports (counted by [`Throttle::dropped_reports`]) rather than
//! delaying a response. Failures at one instance reach another instance's buckets with
//! that instance's next failure from the same source, so an attacker who spreads over N
//! instances gains at most one failure per instance and per batch over the shared burst.

use std::{collections::HashMap, net::IpAddr, sync::Arc, time::Duration};

use ferrid_oauth::name::Name;
use serde_json::json;
use tokio::sync::mpsc;

use super::{Failure, Throttle, buckets::is_holder};
use crate::{
    audit::AuditRecord,
    env::Clock,
    jobs::Jobs,
    model::UnixTime,
    store::{AuditLog, FailureBuckets},
};

/// Reports waiting before new ones are dropped.
pub const QUEUE: usize = 10_000;
/// Reports handled in one batch.
const MAX_BATCH: usize = 256;
/// How often full buckets are removed from the store.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// The store ports the reporter uses: the shared buckets and the audit log.
#[derive(Clone)]
pub struct FailurePorts {
    pub buckets: Arc<dyn FailureBuckets>,
    pub audit: Arc<dyn AuditLog>,
}

/// Connects `throttle` to a reporter task on `store`, until `jobs` shut down; the shared
/// buckets refill on `clock`'s wall time (instances share no monotonic clock).
pub fn spawn(jobs: &Jobs, store: FailurePorts, throttle: Arc<Throttle>, clock: Arc<dyn Clock>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    throttle.report_to(tx);
    jobs.spawn("auth-failures", run(store, throttle, clock, rx));
}

async fn run(store: FailurePorts, throttle: Arc<Throttle>, clock: Arc<dyn Clock>, mut rx: mpsc::Receiver<Failure>) {
    let mut purge = tokio::time::interval(PURGE_EVERY);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut seen = LockoutsSeen::default();
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => {
                if n == 0 {
                    return;
                }
                let now_ms = clock.now_millis();
                batch.retain(|f| seen.first(f, now_ms / 1000));
                record(&store, &throttle, now_ms, &batch).await;
                batch.clear();
            }
            _ = purge.tick() => {
                let cfg = throttle.config();
                let full_after_ms = (cfg.burst / cfg.per_second * 1000.0) as i64;
                if let Err(e) = store.buckets.purge_auth_failures(clock.now_millis() - full_after_ms).await {
                    tracing::warn!(error = %e, "could not purge failed-authentication buckets");
                }
            }
        }
    }
}

/// Lockout refusals already written to the audit log: one record per lockout (its
/// counter and end), user and source is enough, however often an attacker knocks on a
/// locked door, so the log does not grow with their requests (docs/provider.md
/// "Lockout"). Bounded: past [`MAX_SEEN`] entries the ended lockouts are forgotten,
/// and if that is not enough, all (some refusals are then recorded twice).
#[derive(Default)]
struct LockoutsSeen {
    seen: std::collections::HashSet<LockoutKey>,
}

/// One lockout as a source met it: tenant, track, holder, source, counter, end.
type LockoutKey = (String, String, Option<String>, IpAddr, &'static str, UnixTime);

/// Lockout refusals remembered per instance.
const MAX_SEEN: usize = 10_000;

impl LockoutsSeen {
    /// Whether `f` is to be handled: any failure, and the first refusal of a lockout.
    fn first(&mut self, f: &Failure, now: UnixTime) -> bool {
        let Some(l) = f.locked else { return true };
        if self.seen.len() >= MAX_SEEN {
            self.seen.retain(|k| k.5 > now);
            if self.seen.len() >= MAX_SEEN {
                self.seen.clear();
            }
        }
        self.seen.insert((f.tenant.clone(), f.track.clone(), f.client.clone(), f.source, l.counter, l.until))
    }
}

/// The shared bucket of a source, and of a registered holder at that source: a client
/// of the track, or a user (`user:{id}`, provider::login) whose login failed. Any other
/// client id or login name has no secret to guess and only its source's bucket counts
/// it, so the shared buckets grow with sources and registered holders, not with the
/// names sent. A holder is keyed as this instance's buckets key it ([`is_holder`]).
fn bucket_keys(f: &Failure) -> (String, Option<String>) {
    let source = f.source;
    let holder = f.client.as_deref().filter(|c| f.registered && is_holder(c));
    (source.to_string(), holder.map(|c| format!("{source} {c}")))
}

/// Counts one batch in the shared buckets, lowers this instance's buckets to the shared
/// levels and appends the audit records.
async fn record(store: &FailurePorts, throttle: &Throttle, now_ms: i64, batch: &[Failure]) {
    let records: Vec<AuditRecord> = batch.iter().map(audit_record).collect();
    // A lockout refusal checked no password: it is audited, not counted.
    let batch: Vec<&Failure> = batch.iter().filter(|f| f.locked.is_none()).collect();
    let keys: Vec<(String, Option<String>)> = batch.iter().map(|f| bucket_keys(f)).collect();
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for (source, client) in &keys {
        for k in std::iter::once(source).chain(client) {
            *counts.entry(k.as_str()).or_default() += 1;
        }
    }
    let buckets: Vec<(String, u32)> = counts.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    if !buckets.is_empty() {
        count(store, throttle, now_ms, &batch, &keys, &buckets).await;
    }
    if records.is_empty() {
        return;
    }
    if let Err(e) = store.audit.append_audit(&records).await {
        tracing::warn!(error = %e, failures = records.len(), "could not write failed authentications to the audit log");
    }
}

/// Counts the failures in the store's shared buckets and lowers this instance's buckets
/// to the shared levels.
async fn count(
    store: &FailurePorts,
    throttle: &Throttle,
    now_ms: i64,
    batch: &[&Failure],
    keys: &[(String, Option<String>)],
    buckets: &[(String, u32)],
) {
    let cfg = throttle.config();
    match store.buckets.take_auth_failures(buckets, cfg.burst, cfg.per_second / 1000.0, now_ms).await {
        Ok(levels) => {
            let level: HashMap<&str, f64> = buckets.iter().map(|(k, _)| k.as_str()).zip(levels).collect();
            for (f, (source, client)) in batch.iter().zip(keys) {
                let client_level = client.as_deref().and_then(|c| level.get(c).copied());
                let registered = f.client.as_deref().filter(|_| client.is_some());
                throttle.apply_shared(registered, f.source, level.get(source.as_str()).copied(), client_level);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count failed authentications in the store"),
    }
}

fn audit_record(f: &Failure) -> AuditRecord {
    let login = f.client.as_deref().and_then(|c| c.strip_prefix(crate::provider::login::USER_HOLDER));
    let user = login.filter(|u| !u.is_empty());
    // A login the lockout refused: the user (none for a name no user has), which
    // counter refused it and until when; no password was read.
    if let Some(l) = f.locked {
        let track = crate::routes::object::track(&f.tenant, &f.track);
        return AuditRecord {
            tenant: f.tenant.clone(),
            at: f.at,
            actor: format!("user:{}/{}/{}", f.tenant, f.track, user.unwrap_or("?")),
            action: "login.locked".into(),
            target: user.map_or_else(|| track.clone(), |u| format!("{track}/users/{u}")),
            source: Some(f.source.to_string()),
            details: json!({ "user_id": user, "counter": l.counter, "until": l.until }),
        };
    }
    // A failed login names its holder `user:{id}`, or `user:` for a name no user has
    // (provider::login).
    if login.is_some() {
        let track = crate::routes::object::track(&f.tenant, &f.track);
        return AuditRecord {
            tenant: f.tenant.clone(),
            at: f.at,
            actor: format!("user:{}/{}/{}", f.tenant, f.track, user.unwrap_or("?")),
            action: "login.failed".into(),
            target: user.map_or_else(|| track.clone(), |u| format!("{track}/users/{u}")),
            source: Some(f.source.to_string()),
            details: json!({ "user_id": user }),
        };
    }
    let client = f.client.as_deref().unwrap_or("");
    let target = match Name::check(client) {
        Ok(()) => crate::routes::object::app(&f.tenant, &f.track, client),
        Err(_) => crate::routes::object::track(&f.tenant, &f.track),
    };
    AuditRecord {
        tenant: f.tenant.clone(),
        at: f.at,
        actor: format!("client:{}/{}/{client}", f.tenant, f.track),
        action: "client_auth.failed".into(),
        target,
        source: Some(f.source.to_string()),
        details: json!({ "client_id": f.client }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::throttle::LockedOut;
    use serde_json::Value;

    fn failure(client: Option<&str>, registered: bool) -> Failure {
        Failure {
            tenant: "acme".into(),
            track: "prod".into(),
            client: client.map(str::to_owned),
            registered,
            source: "10.1.2.3".parse().unwrap(),
            at: 42,
            locked: None,
        }
    }

    #[test]
    fn only_a_registered_client_gets_a_bucket_of_its_own() {
        let keys = |c: Option<&str>, registered| bucket_keys(&failure(c, registered));
        let mine = Some("10.1.2.3 orders".to_owned());
        assert_eq!(keys(Some("orders"), true), ("10.1.2.3".into(), mine));
        assert_eq!(keys(Some("orders"), false), ("10.1.2.3".into(), None));
        assert_eq!(keys(Some("No Such Client"), true), ("10.1.2.3".into(), None));
        assert_eq!(keys(Some(&"x".repeat(100)), false), ("10.1.2.3".into(), None));
        assert_eq!(keys(None, false), ("10.1.2.3".into(), None));
    }

    #[test]
    fn a_user_whose_login_failed_gets_a_shared_bucket_at_its_source() {
        let keys = |c: &str, registered| bucket_keys(&failure(Some(c), registered)).1;
        assert_eq!(keys("user:Hs3-k_9QaZ0xYw7LmN2pRt", true).as_deref(), Some("10.1.2.3 user:Hs3-k_9QaZ0xYw7LmN2pRt"));
        // a name no user has: its source's bucket only
        assert_eq!(keys("user:", false), None);
        assert_eq!(keys("user:", true), None);
        assert_eq!(keys("user:not an id", true), None);
        assert_eq!(keys(&format!("user:{}", "a".repeat(65)), true), None);
    }

    #[test]
    fn a_failure_is_audited_in_its_tenant_with_its_source_and_no_secret() {
        let f = Failure {
            tenant: "acme".into(),
            track: "prod".into(),
            client: Some("orders".into()),
            registered: true,
            source: "10.1.2.3".parse().unwrap(),
            at: 42,
            locked: None,
        };
        let r = audit_record(&f);
        assert_eq!((r.tenant.as_str(), r.action.as_str(), r.at), ("acme", "client_auth.failed", 42));
        assert_eq!(r.target, "tenants/acme/tracks/prod/apps/orders");
        assert_eq!(r.actor, "client:acme/prod/orders");
        assert_eq!(r.source.as_deref(), Some("10.1.2.3"));
        assert_eq!(r.details, json!({ "client_id": "orders" }));
    }

    fn locked(user: Option<&str>, until: UnixTime) -> Failure {
        Failure {
            tenant: "acme".into(),
            track: "prod".into(),
            client: Some(format!("user:{}", user.unwrap_or(""))),
            registered: user.is_some(),
            source: "10.1.2.3".parse().unwrap(),
            at: 42,
            locked: Some(LockedOut { counter: "ceiling", until }),
        }
    }

    #[test]
    fn a_lockout_refusal_is_audited_as_login_locked_with_its_counter() {
        let r = audit_record(&locked(Some("u1"), 942));
        assert_eq!((r.action.as_str(), r.actor.as_str()), ("login.locked", "user:acme/prod/u1"));
        assert_eq!(r.target, "tenants/acme/tracks/prod/users/u1");
        assert_eq!(r.details, json!({ "user_id": "u1", "counter": "ceiling", "until": 942 }));
        let r = audit_record(&locked(None, 942));
        assert_eq!((r.target.as_str(), &r.details["user_id"]), ("tenants/acme/tracks/prod", &Value::Null));
    }

    #[test]
    fn a_failed_login_at_a_name_no_user_has_is_a_login_failure_of_no_user() {
        let mut f = locked(None, 0);
        f.locked = None;
        let r = audit_record(&f);
        assert_eq!((r.action.as_str(), r.actor.as_str()), ("login.failed", "user:acme/prod/?"));
        assert_eq!((r.target.as_str(), &r.details), ("tenants/acme/tracks/prod", &json!({ "user_id": null })));
    }

    #[test]
    fn a_lockout_is_audited_once_per_source_however_often_it_refuses() {
        let mut seen = LockoutsSeen::default();
        assert!(seen.first(&locked(Some("u1"), 942), 100));
        assert!(!seen.first(&locked(Some("u1"), 942), 101), "the same lockout again");
        assert!(seen.first(&locked(Some("u1"), 1942), 1000), "the next lockout");
        assert!(seen.first(&locked(Some("u2"), 942), 101), "another user");
        let mut failed = locked(Some("u1"), 942);
        failed.locked = None;
        assert!(seen.first(&failed, 101) && seen.first(&failed, 102), "failures are never held back");
    }
}
