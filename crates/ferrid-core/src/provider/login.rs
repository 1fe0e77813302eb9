//! The `login` authentication method's password check (docs/provider.md "Login"): the
//! user is found by username or email, the password verified with its slow hash on the
//! blocking pool under the slow-check bounds, failures throttled per source and per user
//! at a source, and an unknown user costs the same slow hash as a known one.

use std::{net::IpAddr, sync::OnceLock};

use secrecy::SecretString;

use crate::{
    credentials::argon2id,
    model::{UnixTime, User},
    runtime::TrackRuntime,
    store::{StoreError, TrackRef, UserStore},
    throttle::{Attempt, Throttle},
};

/// The throttle holder of a user (`user:{id}`): its bucket at a source, and how the
/// audit log tells a failed login from a failed client authentication.
pub const USER_HOLDER: &str = "user:";

/// Why a login did not succeed.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginFailure {
    /// Unknown user, wrong password or a disabled user: one answer for all three.
    Wrong,
    /// Too many failures or slow checks from this source: wait this many seconds.
    Throttled(u64),
    Unavailable,
}

/// Longest login name and password looked at (bytes); longer ones are wrong.
const MAX_LOGIN: usize = 256;
const MAX_PASSWORD: usize = 1024;

/// A hash that verifies nothing, checked for an unknown user so that the answer takes as long.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        argon2id::hash(&SecretString::from("no user has this password".to_owned()), &crate::env::SystemRng)
    })
}

/// Whether `presented` is the password of the stored hash (Argon2id PHC strings).
pub fn password_matches(stored: &str, presented: &[u8]) -> bool {
    argon2id::verify(stored, presented)
}

/// Checks a login at `track`.
pub async fn check(
    track: &TrackRuntime,
    users: &dyn UserStore,
    throttle: &Throttle,
    login: &str,
    password: &str,
    source: Option<IpAddr>,
    now: UnixTime,
) -> Result<User, LoginFailure> {
    let at = TrackRef::new(track.tenant.clone(), track.track.clone());
    let too_long = login.len() > MAX_LOGIN || password.len() > MAX_PASSWORD;
    let user = if too_long || login.is_empty() {
        None
    } else {
        match users.find_user(&at, login).await {
            Ok(u) => Some(u),
            Err(StoreError::NotFound) => None,
            Err(_) => return Err(LoginFailure::Unavailable),
        }
    };
    let holder = user.as_ref().map(|u| format!("{USER_HOLDER}{}", u.id));
    if let Some(ip) = source
        && let Some(wait) = throttle.check(holder.as_deref(), ip).wait()
    {
        return Err(LoginFailure::Throttled(wait.as_secs().saturating_add(1)));
    }
    let gate_key = format!("{}/{}/{}", track.tenant, track.track, holder.as_deref().unwrap_or("?"));
    let Some(_slot) = throttle.slow().enter(source, &gate_key) else {
        return Err(LoginFailure::Throttled(1));
    };
    let stored = user.as_ref().map_or_else(|| dummy_hash().to_owned(), |u| u.password.0.clone());
    let presented = password.as_bytes().to_vec();
    let matched = throttle.slow().run(move || password_matches(&stored, &presented)).await.unwrap_or(false);
    match user {
        Some(u) if matched && !u.disabled && !too_long => Ok(u),
        other => {
            if let Some(ip) = source {
                throttle.failed(Attempt {
                    tenant: &track.tenant,
                    track: &track.track,
                    client: holder.as_deref(),
                    registered: other.is_some(),
                    source: ip,
                    at: now,
                });
            }
            Err(LoginFailure::Wrong)
        }
    }
}
