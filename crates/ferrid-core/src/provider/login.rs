//! The `login` authentication method's password check (docs/provider.md "Login"): the
//! user is found by username or email, the lockout consulted before anything costly, the
//! password verified with its slow hash on the blocking pool under the slow-check
//! bounds, failures throttled per source and per user at a source and counted by the
//! lockout, and an unknown user gets the same answers, the same lockout and the same
//! slow hash as a known one.
//!
//! The lockout keeps three kinds of counters, shared by every instance through the
//! [`LoginGuard`] port:
//! - `p:` a user at a source: [`Lockout::pair`] failures lock that source out for that
//!   user, each further lockout twice as long; a successful login forgets it;
//! - `u:` a user from anywhere: past the ceiling [`Lockout::user`] only a browser with a
//!   device cookie of that user may still try;
//! - `d:` a device cookie ([`super::device`]): a login presenting a valid one for the
//!   user is judged by this counter alone ([`Lockout::device`]), not by the two above.

use std::{
    net::{IpAddr, Ipv6Addr},
    sync::OnceLock,
};

use secrecy::SecretString;

use super::device;
use crate::{
    credentials::argon2id,
    keys::KeyCipher,
    model::{TrackSettings, UnixTime, User},
    runtime::TrackRuntime,
    store::{LockRule, LoginGuard, StoreError, TrackRef, UserStore},
    throttle::{Attempt, LockedOut, Throttle},
};

/// The throttle holder of a user (`user:{id}`): its bucket at a source, and how the
/// audit log tells a failed login from a failed client authentication (the prefix
/// alone: a login at a name no user has).
pub const USER_HOLDER: &str = "user:";

/// A day, seconds: the longest lockout.
const DAY: i64 = 24 * 3600;
/// How long a counter without a failure lasts (seconds); then it starts afresh and the
/// background purge deletes it. At least every rule's `cap`, so that no lockout is
/// purged while it runs.
pub const FORGET: i64 = DAY;

/// The lockout's rules (docs/provider.md "Lockout"), from the track's settings
/// `lockout_failures` (F, default 5) and `lockout_duration` (D, default 300 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// A user at one source: F failures → D seconds, doubling, at most a day.
    pub pair: LockRule,
    /// The per-user ceiling: 4·F failures from browsers without a device cookie → only
    /// device cookies for 3·D seconds, doubling, at most a day. Well above one source's
    /// threshold, so that one source alone never reaches it first.
    pub user: LockRule,
    /// One device cookie: F failures → D seconds, doubling, at most a day.
    pub device: LockRule,
}

impl Lockout {
    /// The lockout of a track with `settings`.
    pub fn of(settings: &TrackSettings) -> Lockout {
        let (failures, lock) = (settings.lockout_failures.max(1), i64::from(settings.lockout_duration).min(DAY));
        let rule = |threshold: u32, lock: i64| LockRule { threshold, lock: lock.min(DAY), cap: DAY, forget: FORGET };
        Lockout {
            pair: rule(failures, lock),
            user: rule(failures.saturating_mul(4), lock.saturating_mul(3)),
            device: rule(failures, lock),
        }
    }
}

/// Why a login did not succeed.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginFailure {
    /// Unknown user, wrong password or a disabled user: one answer for all three.
    Wrong,
    /// Too many failures or slow checks from this source: wait this many seconds.
    Throttled(u64),
    /// Locked out by the lockout (password not checked): wait this many seconds.
    Locked(u64),
    Unavailable,
}

/// A login attempt as the login form brought it.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt<'a> {
    pub login: &'a str,
    pub password: &'a str,
    pub source: Option<IpAddr>,
    /// The device cookie the browser presented, if any (unverified).
    pub device: Option<&'a str>,
    pub now: UnixTime,
}

/// What a login check consults.
#[derive(Clone, Copy)]
pub struct LoginPorts<'a> {
    pub users: &'a dyn UserStore,
    pub guard: &'a dyn LoginGuard,
    pub throttle: &'a Throttle,
    /// Verifies device cookies and keys the counters of unknown login names.
    pub cipher: &'a KeyCipher,
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

/// How a source is named in a counter: an IPv4 address, or the /64 of an IPv6 one (a
/// single host commonly holds a whole /64).
fn source_key(source: Option<IpAddr>) -> String {
    match source {
        None => "-".to_owned(),
        Some(IpAddr::V4(a)) => a.to_string(),
        Some(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = a.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Who the counters of a login are about: the user's id, or for a name no user has, a
/// keyed hash of the name as the user lookup reads it (emails in any case), so that an
/// unknown name locks exactly as a known one and no typed name (a password typed in
/// the wrong field) is stored.
fn subject(cipher: &KeyCipher, track: &TrackRuntime, user: Option<&User>, login: &str) -> String {
    match user {
        Some(u) => u.id.clone(),
        None => {
            let name = if login.contains('@') { login.to_lowercase() } else { login.to_owned() };
            let tag = cipher.page_tag(format!("login-name|{}/{}|{name}", track.tenant, track.track).as_bytes());
            format!("?{tag}")
        }
    }
}

/// The counters a login is judged by, with their rules and what the audit log calls
/// them: the device cookie's alone when it is valid for the user, else the user's at
/// the source and the user's ceiling.
fn counters(
    lockout: &Lockout,
    subject: &str,
    device: Option<&device::Device>,
    source: Option<IpAddr>,
) -> Vec<(String, LockRule, &'static str)> {
    match device {
        Some(d) => vec![(format!("d:{}", d.nonce), lockout.device, "device")],
        None => vec![
            (format!("p:{subject}|{}", source_key(source)), lockout.pair, "source"),
            (format!("u:{subject}"), lockout.user, "ceiling"),
        ],
    }
}

/// The counter among `counters` whose lockout runs longest at `now`, and its end.
async fn locked_by(
    guard: &dyn LoginGuard,
    at: &TrackRef,
    counters: &[(String, LockRule, &'static str)],
    now: UnixTime,
) -> Result<Option<LockedOut>, StoreError> {
    let mut found: Option<LockedOut> = None;
    for (name, _, kind) in counters {
        if let Some(until) = guard.login_locked(at, std::slice::from_ref(name), now).await?
            && found.is_none_or(|f| until > f.until)
        {
            found = Some(LockedOut { counter: kind, until });
        }
    }
    Ok(found)
}

/// A login that did not get in, as the throttle reports it: the holder `user:{id}`, or
/// the bare prefix for a name no user has (a login of no user, throttle::failures).
fn reported<'a>(
    track: &'a TrackRuntime,
    holder: Option<&'a str>,
    registered: bool,
    source: IpAddr,
    at: UnixTime,
) -> Attempt<'a> {
    let client = Some(holder.unwrap_or(USER_HOLDER));
    Attempt { tenant: &track.tenant, track: &track.track, client, registered, source, at }
}

/// Checks a login at `track`.
pub async fn check(
    track: &TrackRuntime,
    ports: LoginPorts<'_>,
    attempt: LoginAttempt<'_>,
) -> Result<User, LoginFailure> {
    let LoginAttempt { login, password, source, device, now } = attempt;
    let at = track.at();
    let too_long = login.len() > MAX_LOGIN || password.len() > MAX_PASSWORD;
    let user = if too_long || login.is_empty() {
        None
    } else {
        match ports.users.find_user(&at, login).await {
            Ok(u) => Some(u),
            Err(StoreError::NotFound) => None,
            Err(_) => return Err(LoginFailure::Unavailable),
        }
    };
    let login_cut = &login[..login.floor_char_boundary(MAX_LOGIN)];
    let subject = subject(ports.cipher, track, user.as_ref(), login_cut);
    // Another user's cookie (or any cookie at an unknown name) is no cookie at all.
    let device = device
        .and_then(|v| device::verify(ports.cipher, &track.issuer, v, now))
        .filter(|d| user.as_ref().is_some_and(|u| u.id == d.user));
    let counters = counters(&Lockout::of(&track.settings), &subject, device.as_ref(), source);
    let names: Vec<String> = counters.iter().map(|(n, _, _)| n.clone()).collect();
    let holder = user.as_ref().map(|u| format!("{USER_HOLDER}{}", u.id));
    // Before the throttle and the slow hash: a locked-out attempt costs one store read
    // per counter, and is reported for the audit log (never the password).
    match locked_by(ports.guard, &at, &counters, now).await {
        Ok(Some(locked)) => {
            if let Some(ip) = source {
                ports.throttle.report_locked(reported(track, holder.as_deref(), user.is_some(), ip, now), locked);
            }
            return Err(LoginFailure::Locked(locked.until.saturating_sub(now).max(1) as u64));
        }
        Ok(None) => {}
        Err(_) => return Err(LoginFailure::Unavailable),
    }
    if let Some(ip) = source
        && let Some(wait) = ports.throttle.check(holder.as_deref(), ip).wait()
    {
        return Err(LoginFailure::Throttled(wait.as_secs().saturating_add(1)));
    }
    let gate_key = format!("{}/{}/{}", track.tenant, track.track, holder.as_deref().unwrap_or("?"));
    let Some(_slot) = ports.throttle.slow().enter(source, &gate_key) else {
        return Err(LoginFailure::Throttled(1));
    };
    let stored = user.as_ref().map_or_else(|| dummy_hash().to_owned(), |u| u.password.0.clone());
    let presented = password.as_bytes().to_vec();
    let matched = ports.throttle.slow().run(move || password_matches(&stored, &presented)).await.unwrap_or(false);
    match user {
        Some(u) if matched && !u.disabled && !too_long => {
            // The counter this login was judged by starts afresh; the ceiling does not
            // (a login does not undo guesses made elsewhere).
            if let Err(e) = ports.guard.login_succeeded(&at, &names[..1]).await {
                tracing::warn!(error = %e, "login: could not reset the lockout counter");
            }
            Ok(u)
        }
        other => {
            let rules: Vec<(String, LockRule)> = counters.into_iter().map(|(n, r, _)| (n, r)).collect();
            if let Err(e) = ports.guard.login_failed(&at, &rules, now).await {
                tracing::warn!(error = %e, "login: could not count a failure for the lockout");
            }
            if let Some(ip) = source {
                ports.throttle.failed(reported(track, holder.as_deref(), other.is_some(), ip, now));
            }
            Err(LoginFailure::Wrong)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_source_is_counted_by_its_64_and_a_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(Some(a)), source_key(Some(b)));
        assert_ne!(source_key(Some(a)), source_key(Some(c)));
        assert_eq!(source_key(Some("::ffff:10.0.0.1".parse().unwrap())), "10.0.0.1");
        assert_eq!(source_key(None), "-");
    }
}
