use async_trait::async_trait;

use super::{PageRequest, StoreResult, TrackRef};
use crate::{
    audit::AuditRecord,
    model::{Session, UnixTime, User},
};

/// A user of a track.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserRef {
    pub track: TrackRef,
    pub id: String,
}

impl TrackRef {
    /// The user `id` of this track.
    pub fn user(&self, id: &str) -> UserRef {
        UserRef { track: self.clone(), id: id.to_owned() }
    }
}

impl User {
    pub fn track_ref(&self) -> TrackRef {
        TrackRef::new(self.tenant.clone(), self.track.clone())
    }

    pub fn user_ref(&self) -> UserRef {
        self.track_ref().user(&self.id)
    }
}

/// Which users a listing shows: those whose username starts with `username` (exactly)
/// and whose email starts with `email` (without regard to case).
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub username: Option<String>,
    pub email: Option<String>,
}

/// The users of a track (docs/model.md "Users").
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// A page ordered by id; `page.after` is the last id of the previous page.
    async fn list_users(&self, track: &TrackRef, filter: &UserFilter, page: &PageRequest) -> StoreResult<Vec<User>>;
    async fn get_user(&self, user: &UserRef) -> StoreResult<User>;
    /// The user a login name names: its email (any case) when it holds an `@`, its
    /// username otherwise.
    async fn find_user(&self, track: &TrackRef, login: &str) -> StoreResult<User>;
    /// Conflict when the username or the email is taken in the track.
    async fn create_user(&self, user: &User, audit: &AuditRecord) -> StoreResult<()>;
    /// Replaces the user if the stored version is `expected_version`; bumps the version.
    async fn update_user(&self, user: &User, expected_version: Option<i64>, audit: &AuditRecord) -> StoreResult<User>;
    /// Deletes the user with its sessions.
    async fn delete_user(&self, user: &UserRef, audit: &AuditRecord) -> StoreResult<()>;
}

/// Login sessions, stored by the digest of their cookie value.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// NotFound when the user does not exist (any more).
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn get_session(&self, track: &TrackRef, id_digest: &[u8; 32]) -> StoreResult<Session>;
    /// Records a use at `now` (the sliding lifetime); NotFound when the session is gone.
    async fn touch_session(&self, track: &TrackRef, id_digest: &[u8; 32], now: UnixTime) -> StoreResult<()>;
    /// The user's sessions, oldest first.
    async fn list_sessions(&self, user: &UserRef) -> StoreResult<Vec<Session>>;
    /// Ends every session of the user (a management change, with its record); how many.
    async fn delete_user_sessions(&self, user: &UserRef, audit: &AuditRecord) -> StoreResult<u64>;
    /// Ends one session (logout); NotFound when it is gone.
    async fn delete_session(&self, track: &TrackRef, id_digest: &[u8; 32]) -> StoreResult<()>;
    /// Removes sessions whose absolute end is before `now`; how many.
    async fn purge_sessions(&self, now: UnixTime) -> StoreResult<u64>;
}
