use async_trait::async_trait;
use ferrid_oauth::name::Name;

use super::{AppRef, NewTrack, PageRequest, StoreResult, TrackRef};
use crate::{
    audit::AuditRecord,
    model::{App, AppData, Track, TrackData, TrackKey},
};

/// Tracks and their settings.
#[async_trait]
pub trait TrackStore: Send + Sync + 'static {
    async fn list_tracks(&self, tenant: &Name, page: &PageRequest) -> StoreResult<Vec<Track>>;
    async fn get_track(&self, track: &TrackRef) -> StoreResult<Track>;
    async fn create_track(&self, new: &NewTrack, audit: &AuditRecord) -> StoreResult<()>;
    /// Replaces the settings if the stored version is `expected_version`; bumps the version.
    async fn update_track(
        &self,
        track: &Track,
        expected_version: Option<i64>,
        audit: &AuditRecord,
    ) -> StoreResult<Track>;
    async fn delete_track(&self, track: &TrackRef, audit: &AuditRecord) -> StoreResult<()>;
}

/// What the in-memory snapshot is built from; each load is one read transaction, so a
/// track is never built from two states of the store.
#[async_trait]
pub trait SnapshotSource: Send + Sync + 'static {
    /// Everything the runtime needs about one track.
    async fn load_track(&self, track: &TrackRef) -> StoreResult<TrackData>;
    /// One app with its secrets and keys (after a change to that app alone); NotFound
    /// when it does not exist.
    async fn load_app(&self, app: &AppRef) -> StoreResult<AppData>;
    /// Every track of every tenant, whole.
    async fn load_all(&self) -> StoreResult<Vec<TrackData>>;
    /// Every track of every tenant, in one read transaction, handed to `sink` `page` apps
    /// at a time (start-up): only the snapshot being built and one page are held.
    async fn stream_all(&self, page: u32, sink: &mut dyn SnapshotSink) -> StoreResult<()>;
}

/// Receives a streamed load ([`SnapshotSource::stream_all`]): for each track, its start,
/// then its apps (clients and resources, ordered by name) in pages, then its end.
pub trait SnapshotSink: Send {
    /// A track begins: its row, its keys and its resource apps (the clients' grants are
    /// resolved against them).
    fn start_track(&mut self, track: Track, keys: Vec<TrackKey>, resources: Vec<App>);
    /// The next page of the current track's apps, each with its credentials.
    fn apps(&mut self, page: Vec<AppData>);
    /// The current track is complete.
    fn end_track(&mut self);
}
