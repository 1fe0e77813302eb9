use async_trait::async_trait;
use ferrid_oauth::name::Name;

use super::{NewTrack, PageRequest, StoreResult, TrackRef};
use crate::{
    audit::AuditRecord,
    model::{Track, TrackData},
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
    /// Every track of every tenant, for start-up.
    async fn load_all(&self) -> StoreResult<Vec<TrackData>>;
}
