use async_trait::async_trait;

use super::{AppRef, PageRequest, StoreResult, TrackRef};
use crate::{
    audit::AuditRecord,
    model::{App, SecretRecord},
};

/// App registrations (clients and resources) of a track.
#[async_trait]
pub trait AppStore: Send + Sync + 'static {
    async fn list_apps(&self, track: &TrackRef, page: &PageRequest) -> StoreResult<Vec<App>>;
    async fn get_app(&self, app: &AppRef) -> StoreResult<App>;
    /// Registers `app` with its first secrets.
    async fn create_app(&self, app: &App, secrets: &[SecretRecord], audit: &AuditRecord) -> StoreResult<()>;
    /// Replaces the spec if the stored version is `expected_version`; bumps the version.
    /// A changed kind drops the app's credentials.
    async fn replace_app(&self, app: &App, expected_version: Option<i64>, audit: &AuditRecord) -> StoreResult<App>;
    async fn delete_app(&self, app: &AppRef, audit: &AuditRecord) -> StoreResult<()>;
}
