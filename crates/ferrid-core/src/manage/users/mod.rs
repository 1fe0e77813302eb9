//! Users of a track and their sessions (docs/api.md "Users"): the same scopes, audit,
//! error and `If-Match` rules as apps. Passwords are hashed with Argon2id off the async
//! workers, at most [`HASHING`] at once, and never returned, logged or audited.

pub mod request;

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::json;

use super::{ManageError, ManageResult, Manager, TrackScope};
use crate::{
    credentials::{argon2id, password_policy},
    env::Rng,
    model::{PasswordHash, Session, User},
    store::{PageRequest, StoreResult, UserFilter, UserRef},
};
pub use request::{NewUser, UserPatch};

/// Password hashes computed at once, process-wide: each costs Argon2id's 19 MiB and two
/// passes, so a flood of user changes waits here instead of taking every core (as key
/// imports do, `client_auth::keys`).
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The Argon2id PHC string of `password`, on the blocking pool behind [`HASHING`].
pub async fn hash_password(password: SecretString, rng: Arc<dyn Rng>) -> ManageResult<PasswordHash> {
    let permit = HASHING.acquire().await.map_err(|_| ManageError::Unavailable)?;
    let job = move || {
        // the slot is held until the hash is done, even if the request is abandoned
        let _permit = permit;
        argon2id::hash(&password, rng.as_ref())
    };
    tokio::task::spawn_blocking(job).await.map(PasswordHash).map_err(|_| ManageError::Unavailable)
}

/// A user id from a path, for messages (at most 60 characters of it).
fn shown(id: &str) -> String {
    id.chars().take(60).collect()
}

impl Manager {
    pub async fn list_users(
        &self,
        scope: &TrackScope<'_>,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> ManageResult<Vec<User>> {
        self.get_track(scope).await?;
        self.stores
            .users
            .list_users(&scope.at(), filter, page)
            .await
            .map_err(|e| ManageError::from_store(e, || "users".into()))
    }

    pub async fn get_user(&self, scope: &TrackScope<'_>, id: &str) -> ManageResult<User> {
        self.stores
            .users
            .get_user(&scope.at().user(id))
            .await
            .map_err(|e| ManageError::from_store(e, || format!("user '{}'", shown(id))))
    }

    /// `POST …/users`: a new user with a fresh opaque id (its `sub`).
    pub async fn create_user(&self, scope: &TrackScope<'_>, body: ManageResult<NewUser>) -> ManageResult<User> {
        let track = self.get_track(scope).await?;
        let min_len = track.settings.password_min_length;
        // the body was read against the policy's floor: a password below it is told
        // this track's length, so that the person fixes it once
        let body = body.map_err(|e| match e {
            ManageError::Invalid(mut errors) => {
                let floor = password_policy::too_short_message(password_policy::MIN_LEN as u32);
                for e in errors.iter_mut().filter(|e| e.field == "password" && e.message == floor) {
                    e.message = password_policy::too_short_message(min_len);
                }
                ManageError::Invalid(errors)
            }
            e => e,
        })?;
        {
            use secrecy::ExposeSecret;
            if let Some(why) = password_policy::too_short(body.password.expose_secret(), min_len) {
                return Err(ManageError::field("password", why));
            }
        }
        let password = hash_password(body.password, Arc::clone(&self.env().rng)).await?;
        let now = self.now();
        let user = User {
            tenant: scope.tenant().clone(),
            track: scope.track().clone(),
            id: self.env().rng.id(),
            username: body.username,
            email: body.email,
            email_verified: body.email_verified,
            password,
            claims: body.claims,
            disabled: false,
            version: 1,
            created: now,
            updated: now,
        };
        let audit = self.user_audit(scope, "user.create", &user.id, json!({ "after": user.summary() }));
        user_write(self.stores.users.create_user(&user, &audit).await)?;
        Ok(user)
    }

    /// `PATCH …/users/{id}`: changes the fields the patch holds.
    pub async fn update_user(
        &self,
        scope: &TrackScope<'_>,
        id: &str,
        body: ManageResult<UserPatch>,
        if_match: Option<i64>,
    ) -> ManageResult<User> {
        let current = self.get_user(scope, id).await?;
        let patch = body?;
        let mut next = User {
            username: patch.username.or_else(|| current.username.clone()),
            email: patch.email.or_else(|| current.email.clone()),
            email_verified: patch.email_verified.unwrap_or(current.email_verified),
            claims: patch.claims.unwrap_or_else(|| current.claims.clone()),
            disabled: patch.disabled.unwrap_or(current.disabled),
            updated: self.now(),
            ..current.clone()
        };
        let password_changed = patch.password.is_some();
        if let Some(p) = patch.password {
            use secrecy::ExposeSecret;
            let min_len = self.get_track(scope).await?.settings.password_min_length;
            if let Some(why) = password_policy::too_short(p.expose_secret(), min_len).or_else(|| {
                password_policy::refusal(p.expose_secret(), next.username.as_deref(), next.email.as_deref())
            }) {
                return Err(ManageError::field("password", why));
            }
            next.password = hash_password(p, Arc::clone(&self.env().rng)).await?;
        }
        let details =
            json!({ "before": current.summary(), "after": next.summary(), "password_changed": password_changed });
        let audit = self.user_audit(scope, "user.update", &current.id, details);
        let updated = user_write(self.stores.users.update_user(&next, if_match, &audit).await)?;
        // Disabling a user takes back what was issued to them (docs/provider.md "Revocation").
        if updated.disabled && !current.disabled {
            self.revoke_user_grants(&updated.user_ref()).await?;
        }
        Ok(updated)
    }

    /// `DELETE …/users/{id}`: the user and its sessions.
    pub async fn delete_user(&self, scope: &TrackScope<'_>, id: &str) -> ManageResult<()> {
        let current = self.get_user(scope, id).await?;
        let audit = self.user_audit(scope, "user.delete", &current.id, json!({ "before": current.summary() }));
        // First what was issued to the user, while the grants still name it.
        self.revoke_user_grants(&current.user_ref()).await?;
        user_write(self.stores.users.delete_user(&current.user_ref(), &audit).await)
    }

    /// `GET …/users/{id}/sessions`.
    pub async fn list_user_sessions(&self, scope: &TrackScope<'_>, id: &str) -> ManageResult<Vec<Session>> {
        let user = self.get_user(scope, id).await?;
        self.stores
            .sessions
            .list_sessions(&user.user_ref())
            .await
            .map_err(|e| ManageError::from_store(e, || "sessions".into()))
    }

    /// `DELETE …/users/{id}/sessions`: ends every session of the user; how many.
    pub async fn end_user_sessions(&self, scope: &TrackScope<'_>, id: &str) -> ManageResult<u64> {
        let user = self.get_user(scope, id).await?;
        let at: UserRef = user.user_ref();
        let audit = self.user_audit(scope, "user.sessions.delete", &user.id, json!({ "user": user.summary() }));
        let ended = user_write(self.stores.sessions.delete_user_sessions(&at, &audit).await)?;
        self.revoke_user_grants(&at).await?;
        Ok(ended)
    }

    fn user_audit(
        &self,
        scope: &TrackScope<'_>,
        action: &str,
        id: &str,
        details: serde_json::Value,
    ) -> crate::audit::AuditRecord {
        let target = format!("{}/users/{id}", scope.target());
        self.audit(scope.caller(), scope.tenant(), action, target, details)
    }
}

/// A store write to a user, its errors named: a taken username or email is a conflict.
fn user_write<T>(r: StoreResult<T>) -> ManageResult<T> {
    r.map_err(|e| match e {
        crate::store::StoreError::Conflict => {
            ManageError::Conflict("a user with this username or email already exists in the track".into())
        }
        e => ManageError::from_store(e, || "user".into()),
    })
}

#[cfg(test)]
mod tests {
    use std::{future::Future, task::Poll};

    use super::*;

    #[tokio::test]
    async fn password_hashing_waits_for_one_of_two_slots() {
        let first = HASHING.acquire().await.unwrap();
        let second = HASHING.acquire().await.unwrap();
        let rng: Arc<dyn Rng> = Arc::new(crate::env::SystemRng);
        let mut job = Box::pin(hash_password(SecretString::from("a password to hash".to_owned()), rng));
        // both slots are taken: the hash does not start
        let waiting = std::future::poll_fn(|cx| Poll::Ready(job.as_mut().poll(cx).is_pending())).await;
        assert!(waiting);
        drop(first);
        let hash = job.await.unwrap();
        assert!(argon2id::verify(&hash.0, b"a password to hash"));
        drop(second);
    }
}
