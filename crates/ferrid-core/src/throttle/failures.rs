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

use super::{Failure, Throttle};
use crate::{
    audit::AuditRecord,
    env::Clock,
    jobs::Jobs,
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
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => {
                if n == 0 {
                    return;
                }
                record(&store, &throttle, clock.now_millis(), &batch).await;
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

/// The shared bucket of a source, and of a registered client at that source. Any other
/// client id has no secret to guess and only its source's bucket counts it, so the
/// shared buckets grow with sources and registered clients, not with the ids sent.
fn bucket_keys(source: IpAddr, client: Option<&str>, registered: bool) -> (String, Option<String>) {
    let client = client.filter(|c| registered && Name::check(c).is_ok()).map(|c| format!("{source} {c}"));
    (source.to_string(), client)
}

/// Counts one batch in the shared buckets, lowers this instance's buckets to the shared
/// levels and appends the audit records.
async fn record(store: &FailurePorts, throttle: &Throttle, now_ms: i64, batch: &[Failure]) {
    let keys: Vec<(String, Option<String>)> =
        batch.iter().map(|f| bucket_keys(f.source, f.client.as_deref(), f.registered)).collect();
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for (source, client) in &keys {
        for k in std::iter::once(source).chain(client) {
            *counts.entry(k.as_str()).or_default() += 1;
        }
    }
    let buckets: Vec<(String, u32)> = counts.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    let cfg = throttle.config();
    match store.buckets.take_auth_failures(&buckets, cfg.burst, cfg.per_second / 1000.0, now_ms).await {
        Ok(levels) => {
            let level: HashMap<&str, f64> = buckets.iter().map(|(k, _)| k.as_str()).zip(levels).collect();
            for (f, (source, client)) in batch.iter().zip(&keys) {
                let client_level = client.as_deref().and_then(|c| level.get(c).copied());
                let registered = f.client.as_deref().filter(|_| client.is_some());
                throttle.apply_shared(registered, f.source, level.get(source.as_str()).copied(), client_level);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not count failed authentications in the store"),
    }
    let records: Vec<AuditRecord> = batch.iter().map(audit_record).collect();
    if let Err(e) = store.audit.append_audit(&records).await {
        tracing::warn!(error = %e, failures = records.len(), "could not write failed authentications to the audit log");
    }
}

fn audit_record(f: &Failure) -> AuditRecord {
    // A failed login names its holder `user:{id}` (provider::login).
    if let Some(user) = f.client.as_deref().and_then(|c| c.strip_prefix(crate::provider::login::USER_HOLDER)) {
        return AuditRecord {
            tenant: f.tenant.clone(),
            at: f.at,
            actor: format!("user:{}/{}/{user}", f.tenant, f.track),
            action: "login.failed".into(),
            target: format!("{}/users/{user}", crate::routes::object::track(&f.tenant, &f.track)),
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

    #[test]
    fn only_a_registered_client_gets_a_bucket_of_its_own() {
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(bucket_keys(ip, Some("orders"), true), ("10.1.2.3".into(), Some("10.1.2.3 orders".into())));
        assert_eq!(bucket_keys(ip, Some("orders"), false), ("10.1.2.3".into(), None));
        assert_eq!(bucket_keys(ip, Some("No Such Client"), true), ("10.1.2.3".into(), None));
        assert_eq!(bucket_keys(ip, Some(&"x".repeat(100)), false), ("10.1.2.3".into(), None));
        assert_eq!(bucket_keys(ip, None, false), ("10.1.2.3".into(), None));
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
        };
        let r = audit_record(&f);
        assert_eq!((r.tenant.as_str(), r.action.as_str(), r.at), ("acme", "client_auth.failed", 42));
        assert_eq!(r.target, "tenants/acme/tracks/prod/apps/orders");
        assert_eq!(r.actor, "client:acme/prod/orders");
        assert_eq!(r.source.as_deref(), Some("10.1.2.3"));
        assert_eq!(r.details, json!({ "client_id": "orders" }));
    }
}
