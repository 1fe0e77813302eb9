use async_trait::async_trait;

use super::{AppRef, StoreResult};
use crate::{
    audit::AuditRecord,
    model::{SecretRecord, StoredClientKey},
};

/// A client's credentials: hashed secrets and uploaded public keys.
#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    async fn list_secrets(&self, app: &AppRef) -> StoreResult<Vec<SecretRecord>>;
    /// Adds a secret unless the app already holds `max` ([`super::StoreError::LimitReached`]).
    async fn add_secret(&self, app: &AppRef, secret: &SecretRecord, max: usize, audit: &AuditRecord)
    -> StoreResult<()>;
    async fn delete_secret(&self, app: &AppRef, id: &str, audit: &AuditRecord) -> StoreResult<()>;

    async fn list_client_keys(&self, app: &AppRef) -> StoreResult<Vec<StoredClientKey>>;
    /// Adds a key unless the app already holds `max` ([`super::StoreError::LimitReached`])
    /// or one with the same kid ([`super::StoreError::Conflict`]).
    async fn add_client_key(
        &self,
        app: &AppRef,
        key: &StoredClientKey,
        max: usize,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn delete_client_key(&self, app: &AppRef, kid: &str, audit: &AuditRecord) -> StoreResult<()>;
}
