//! The persistence boundary. Each method is one transaction: a management write either
//! lands whole or not at all (DESIGN §7). Implementations live in `ferrid-store`.

use async_trait::async_trait;

use crate::{
    audit::{AuditEntry, AuditQuery, AuditRecord},
    model::{App, SecretRecord, StoredClientKey, Tenant, Track, TrackData, TrackKey, UnixTime},
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Conflict,
    /// The expected version did not match (optimistic concurrency).
    #[error("version mismatch")]
    VersionMismatch,
    /// A per-parent limit (e.g. secrets per client) would be exceeded.
    #[error("limit reached")]
    LimitReached,
    /// The database failed or is unreachable; the message is for logs only.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A new track with what it starts with: its signing key and its initial apps.
#[derive(Debug, Clone)]
pub struct NewTrack {
    pub track: Track,
    pub keys: Vec<TrackKey>,
    pub apps: Vec<(App, Vec<SecretRecord>)>,
}

/// A change announced by an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Reload this track; `track == "*"` means every track of the tenant.
    Track { tenant: String, track: String },
    /// Notifications may have been missed (a lost connection): reload everything.
    Resync,
}

impl Change {
    /// Parses a `tenant/track` notification payload.
    pub fn parse(payload: &str) -> Option<Change> {
        let (tenant, track) = payload.split_once('/')?;
        Some(Change::Track { tenant: tenant.to_owned(), track: track.to_owned() })
    }
}

/// A page of a listing ordered by name: `after` is the last name of the previous page.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Liveness of the database, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
    async fn has_tenants(&self) -> StoreResult<bool>;

    async fn list_tenants(&self, page: &PageRequest) -> StoreResult<Vec<Tenant>>;
    async fn get_tenant(&self, tenant: &str) -> StoreResult<Tenant>;
    /// Creates a tenant together with its `master` track, in one transaction.
    async fn create_tenant(&self, tenant: &Tenant, master: &NewTrack, audit: &AuditRecord) -> StoreResult<()>;
    async fn delete_tenant(&self, tenant: &str, audit: &AuditRecord) -> StoreResult<()>;

    async fn list_tracks(&self, tenant: &str, page: &PageRequest) -> StoreResult<Vec<Track>>;
    async fn get_track(&self, tenant: &str, track: &str) -> StoreResult<Track>;
    async fn create_track(&self, new: &NewTrack, audit: &AuditRecord) -> StoreResult<()>;
    /// Replaces the settings if the stored version is `expected_version`; bumps the version.
    async fn update_track(
        &self,
        track: &Track,
        expected_version: Option<i64>,
        audit: &AuditRecord,
    ) -> StoreResult<Track>;
    async fn delete_track(&self, tenant: &str, track: &str, audit: &AuditRecord) -> StoreResult<()>;

    async fn list_apps(&self, tenant: &str, track: &str, page: &PageRequest) -> StoreResult<Vec<App>>;
    async fn get_app(&self, tenant: &str, track: &str, app: &str) -> StoreResult<App>;
    async fn create_app(&self, app: &App, secrets: &[SecretRecord], audit: &AuditRecord) -> StoreResult<()>;
    /// Replaces the spec if the stored version is `expected_version`; bumps the version.
    async fn replace_app(&self, app: &App, expected_version: Option<i64>, audit: &AuditRecord) -> StoreResult<App>;
    async fn delete_app(&self, tenant: &str, track: &str, app: &str, audit: &AuditRecord) -> StoreResult<()>;

    async fn list_secrets(&self, tenant: &str, track: &str, app: &str) -> StoreResult<Vec<SecretRecord>>;
    /// Adds a secret unless the app already holds `max` ([`StoreError::LimitReached`]).
    async fn add_secret(
        &self,
        tenant: &str,
        track: &str,
        app: &str,
        secret: &SecretRecord,
        max: usize,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn delete_secret(
        &self,
        tenant: &str,
        track: &str,
        app: &str,
        id: &str,
        audit: &AuditRecord,
    ) -> StoreResult<()>;

    async fn list_client_keys(&self, tenant: &str, track: &str, app: &str) -> StoreResult<Vec<StoredClientKey>>;
    /// Adds a key unless the app already holds `max` ([`StoreError::LimitReached`]) or
    /// one with the same kid ([`StoreError::Conflict`]).
    async fn add_client_key(
        &self,
        tenant: &str,
        track: &str,
        app: &str,
        key: &StoredClientKey,
        max: usize,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn delete_client_key(
        &self,
        tenant: &str,
        track: &str,
        app: &str,
        kid: &str,
        audit: &AuditRecord,
    ) -> StoreResult<()>;

    /// The client-assertion replay guard (RFC 7523 §3 item 7): records `jti` for the
    /// client until `exp` and answers whether it was new; the record is durable before
    /// the answer. For an assertion, `exp` is its own `exp` plus the verifier's leeway,
    /// the last moment it could be accepted. Entries past `now` are purged.
    async fn use_jti(
        &self,
        tenant: &str,
        track: &str,
        client: &str,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool>;

    /// Adds a `next` key unless the track already has one; answers whether it did.
    /// Instances racing to rotate the same track create one key between them.
    async fn add_next_key(&self, tenant: &str, track: &str, key: &TrackKey, audit: &AuditRecord) -> StoreResult<bool>;
    /// Makes the `next` key `kid` active and the active key retired, in one transaction;
    /// false when `kid` is no longer the next key (another instance promoted it).
    async fn promote_next_key(
        &self,
        tenant: &str,
        track: &str,
        kid: &str,
        now: UnixTime,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Deletes keys retired before `before`.
    async fn delete_retired_keys(
        &self,
        tenant: &str,
        track: &str,
        before: UnixTime,
        audit: &AuditRecord,
    ) -> StoreResult<u64>;

    /// Deletes replay-guard entries that expired before `now`.
    async fn purge_jtis(&self, now: UnixTime) -> StoreResult<u64>;

    /// The failed-authentication buckets shared by every instance (DESIGN §7): takes
    /// `count` tokens from each named bucket, which refills at `refill_per_ms` up to
    /// `burst`, and answers each bucket's level afterwards, in order. One statement per
    /// bucket, atomic on its own.
    async fn take_auth_failures(
        &self,
        buckets: &[(String, u32)],
        burst: f64,
        refill_per_ms: f64,
        now_ms: i64,
    ) -> StoreResult<Vec<f64>>;
    /// Deletes buckets untouched since `before_ms` (full again by then).
    async fn purge_auth_failures(&self, before_ms: i64) -> StoreResult<u64>;

    /// Appends records outside any change (failed client authentications).
    async fn append_audit(&self, records: &[AuditRecord]) -> StoreResult<()>;
    /// One page of a tenant's log.
    async fn list_audit(&self, tenant: &str, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
    /// Deletes records older than `before` (retention).
    async fn purge_audit(&self, before: UnixTime) -> StoreResult<u64>;

    /// Changes made by any instance sharing this store, for keeping the snapshot fresh.
    /// `None` when this process is the only writer (the embedded store).
    fn subscribe(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Change>> {
        None
    }

    /// Everything the runtime needs about one track.
    async fn load_track(&self, tenant: &str, track: &str) -> StoreResult<TrackData>;
    /// Every track of every tenant, for start-up.
    async fn load_all(&self) -> StoreResult<Vec<TrackData>>;
}

/// Wraps a store and counts the calls made to it, so `/metrics` can show that the
/// token hot path makes none.
pub struct CountingStore {
    inner: std::sync::Arc<dyn Store>,
    calls: std::sync::atomic::AtomicU64,
}

impl CountingStore {
    pub fn new(inner: std::sync::Arc<dyn Store>) -> CountingStore {
        CountingStore { inner, calls: Default::default() }
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self) -> &dyn Store {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.as_ref()
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn ping(&self) -> StoreResult<()> {
        self.count().ping().await
    }
    async fn has_tenants(&self) -> StoreResult<bool> {
        self.count().has_tenants().await
    }
    async fn list_tenants(&self, page: &PageRequest) -> StoreResult<Vec<Tenant>> {
        self.count().list_tenants(page).await
    }
    async fn get_tenant(&self, tenant: &str) -> StoreResult<Tenant> {
        self.count().get_tenant(tenant).await
    }
    async fn create_tenant(&self, tenant: &Tenant, master: &NewTrack, audit: &AuditRecord) -> StoreResult<()> {
        self.count().create_tenant(tenant, master, audit).await
    }
    async fn delete_tenant(&self, tenant: &str, audit: &AuditRecord) -> StoreResult<()> {
        self.count().delete_tenant(tenant, audit).await
    }
    async fn list_tracks(&self, tenant: &str, page: &PageRequest) -> StoreResult<Vec<Track>> {
        self.count().list_tracks(tenant, page).await
    }
    async fn get_track(&self, tenant: &str, track: &str) -> StoreResult<Track> {
        self.count().get_track(tenant, track).await
    }
    async fn create_track(&self, new: &NewTrack, audit: &AuditRecord) -> StoreResult<()> {
        self.count().create_track(new, audit).await
    }
    async fn update_track(
        &self,
        track: &Track,
        expected_version: Option<i64>,
        audit: &AuditRecord,
    ) -> StoreResult<Track> {
        self.count().update_track(track, expected_version, audit).await
    }
    async fn delete_track(&self, tenant: &str, track: &str, audit: &AuditRecord) -> StoreResult<()> {
        self.count().delete_track(tenant, track, audit).await
    }
    async fn list_apps(&self, tenant: &str, track: &str, page: &PageRequest) -> StoreResult<Vec<App>> {
        self.count().list_apps(tenant, track, page).await
    }
    async fn get_app(&self, tenant: &str, track: &str, app: &str) -> StoreResult<App> {
        self.count().get_app(tenant, track, app).await
    }
    async fn create_app(&self, app: &App, secrets: &[SecretRecord], audit: &AuditRecord) -> StoreResult<()> {
        self.count().create_app(app, secrets, audit).await
    }
    async fn replace_app(&self, app: &App, expected_version: Option<i64>, audit: &AuditRecord) -> StoreResult<App> {
        self.count().replace_app(app, expected_version, audit).await
    }
    async fn delete_app(&self, tenant: &str, track: &str, app: &str, audit: &AuditRecord) -> StoreResult<()> {
        self.count().delete_app(tenant, track, app, audit).await
    }
    async fn list_secrets(&self, tenant: &str, track: &str, app: &str) -> StoreResult<Vec<SecretRecord>> {
        self.count().list_secrets(tenant, track, app).await
    }
    async fn add_secret(
        &self,
        tenant: &str,
        track: &str,
        app: &str,
        secret: &SecretRecord,
        max: usize,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        self.count().add_secret(tenant, track, app, secret, max, audit).await
    }
    async fn delete_secret(
        &self,
        tenant: &str,
        track: &str,
        app: &str,
        id: &str,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        self.count().delete_secret(tenant, track, app, id, audit).await
    }
    async fn list_client_keys(&self, tenant: &str, track: &str, app: &str) -> StoreResult<Vec<StoredClientKey>> {
        self.count().list_client_keys(tenant, track, app).await
    }
    async fn add_client_key(
        &self,
        tenant: &str,
        track: &str,
        app: &str,
        key: &StoredClientKey,
        max: usize,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        self.count().add_client_key(tenant, track, app, key, max, audit).await
    }
    async fn delete_client_key(
        &self,
        tenant: &str,
        track: &str,
        app: &str,
        kid: &str,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        self.count().delete_client_key(tenant, track, app, kid, audit).await
    }
    async fn use_jti(
        &self,
        tenant: &str,
        track: &str,
        client: &str,
        jti: &str,
        exp: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool> {
        self.count().use_jti(tenant, track, client, jti, exp, now).await
    }
    async fn purge_jtis(&self, now: UnixTime) -> StoreResult<u64> {
        self.count().purge_jtis(now).await
    }
    async fn take_auth_failures(
        &self,
        buckets: &[(String, u32)],
        burst: f64,
        refill_per_ms: f64,
        now_ms: i64,
    ) -> StoreResult<Vec<f64>> {
        self.count().take_auth_failures(buckets, burst, refill_per_ms, now_ms).await
    }
    async fn purge_auth_failures(&self, before_ms: i64) -> StoreResult<u64> {
        self.count().purge_auth_failures(before_ms).await
    }
    async fn append_audit(&self, records: &[AuditRecord]) -> StoreResult<()> {
        self.count().append_audit(records).await
    }
    async fn list_audit(&self, tenant: &str, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        self.count().list_audit(tenant, query).await
    }
    async fn purge_audit(&self, before: UnixTime) -> StoreResult<u64> {
        self.count().purge_audit(before).await
    }
    async fn add_next_key(&self, tenant: &str, track: &str, key: &TrackKey, audit: &AuditRecord) -> StoreResult<bool> {
        self.count().add_next_key(tenant, track, key, audit).await
    }
    async fn promote_next_key(
        &self,
        tenant: &str,
        track: &str,
        kid: &str,
        now: UnixTime,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        self.count().promote_next_key(tenant, track, kid, now, audit).await
    }
    async fn delete_retired_keys(
        &self,
        tenant: &str,
        track: &str,
        before: UnixTime,
        audit: &AuditRecord,
    ) -> StoreResult<u64> {
        self.count().delete_retired_keys(tenant, track, before, audit).await
    }
    fn subscribe(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Change>> {
        self.inner.subscribe()
    }
    async fn load_track(&self, tenant: &str, track: &str) -> StoreResult<TrackData> {
        self.count().load_track(tenant, track).await
    }
    async fn load_all(&self) -> StoreResult<Vec<TrackData>> {
        self.count().load_all().await
    }
}
