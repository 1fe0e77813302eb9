use async_trait::async_trait;

use super::{StoreResult, TrackRef, UserRef};
use crate::model::{AuthCode, IssuedToken, RefreshRecord, UnixTime, UserGrant};

/// An access token on the deny-list: its `jti` and its `exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub jti: String,
    pub expires: UnixTime,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// Unused until now; marked used with the given grant id in the same statement.
    First(AuthCode),
    /// Used before: the code as stored, with `grant_id` of its first use (RFC 6749
    /// §4.1.2: the tokens issued from it are to be revoked).
    Again(AuthCode),
}

/// Authorization codes, user grants, their refresh tokens and access tokens, and
/// remembered consent (docs/model.md "Codes, grants and refresh tokens"). Shared by
/// every instance: a code redeemed at one is used at all.
#[async_trait]
pub trait GrantStore: Send + Sync + 'static {
    async fn create_code(&self, code: &AuthCode) -> StoreResult<()>;
    /// Marks the code used by `grant_id` if it was unused (atomically: of two
    /// concurrent redemptions exactly one sees `First`); NotFound when no such code.
    /// Expiry is the caller's to check.
    async fn redeem_code(&self, track: &TrackRef, digest: &[u8; 32], grant_id: &str) -> StoreResult<Redeemed>;

    /// Stores a new grant with its first refresh token (if any) and its first access
    /// token, in one transaction. Conflict when a grant with that id exists (also one
    /// revoked in advance by [`GrantStore::revoke_grant`]).
    async fn create_grant(
        &self,
        grant: &UserGrant,
        refresh: Option<&RefreshRecord>,
        token: &IssuedToken,
    ) -> StoreResult<()>;
    /// The refresh token of that digest with its grant; NotFound when neither exists.
    async fn get_refresh(&self, track: &TrackRef, digest: &[u8; 32]) -> StoreResult<(RefreshRecord, UserGrant)>;
    /// Marks `old` used and stores `new` and `token` in one transaction, only if `old`
    /// was unused and its grant is not revoked: `Ok(false)` (and nothing written) when
    /// another request rotated it first or the grant was revoked (also when `old` is not
    /// stored, e.g. purged or gone with its user). `new` and `token` belong to `old`'s grant.
    async fn rotate_refresh(
        &self,
        track: &TrackRef,
        old: &[u8; 32],
        new: &RefreshRecord,
        token: &IssuedToken,
    ) -> StoreResult<bool>;
    /// Revokes the grant and so every refresh and access token in it. A grant not yet
    /// stored is recorded as revoked, so that a later `create_grant` of that id fails: the
    /// record is made from the code redeemed for that id (its client and user), so an id
    /// no stored code was redeemed for records nothing (and is no error). Revoking a
    /// revoked grant is no error either. The grant's access tokens that have not expired
    /// join the deny-list in the same transaction; answers the entries that joined it.
    async fn revoke_grant(&self, track: &TrackRef, grant_id: &str, now: UnixTime) -> StoreResult<Vec<Denied>>;
    /// Revokes every grant of the user (disabled, deleted, sessions ended) and puts their
    /// unexpired access tokens on the deny-list; answers the entries that joined it.
    async fn revoke_user_grants(&self, user: &UserRef, now: UnixTime) -> StoreResult<Vec<Denied>>;
    /// Puts access tokens on the deny-list until their `exp` (RFC 7009 §2.1), announced
    /// to the other instances.
    async fn deny_tokens(&self, track: &TrackRef, tokens: &[Denied]) -> StoreResult<()>;
    /// The track's deny-list entries that have not expired at `now`.
    async fn denied_tokens(&self, track: &TrackRef, now: UnixTime) -> StoreResult<Vec<Denied>>;
    /// Every track's deny-list entries that have not expired at `now` (start-up, resync).
    async fn all_denied_tokens(&self, now: UnixTime) -> StoreResult<Vec<(TrackRef, Denied)>>;
    /// Whether the access token `jti` was issued under a grant that is now revoked
    /// (false for a jti the store does not know: client-credentials tokens).
    async fn token_revoked(&self, track: &TrackRef, jti: &str) -> StoreResult<bool>;

    /// Records that `client` was answered in the session `sid` (until `expires`, the
    /// session's absolute end), for front-channel logout.
    async fn add_session_client(&self, track: &TrackRef, sid: &str, client: &str, expires: UnixTime)
    -> StoreResult<()>;
    /// The clients recorded for the session `sid`.
    async fn session_clients(&self, track: &TrackRef, sid: &str) -> StoreResult<Vec<String>>;

    /// The scopes the user consented to for the client (`require_consent`), if any.
    async fn get_consent(&self, user: &UserRef, client: &str) -> StoreResult<Option<Vec<String>>>;
    /// Replaces what the user consented to for the client.
    async fn put_consent(&self, user: &UserRef, client: &str, scopes: &[String], now: UnixTime) -> StoreResult<()>;

    /// Deletes codes, refresh tokens, issued-token records and grants past their end
    /// before `now`; how many rows. A grant stays while an access token recorded under it
    /// has not ended (its revocation must outlive the token), and a redeemed code while
    /// its grant stays (its reuse still revokes the grant).
    async fn purge_grants(&self, now: UnixTime) -> StoreResult<u64>;
}
