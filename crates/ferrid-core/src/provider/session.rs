//! Login sessions (docs/provider.md "Sessions"): the cookie holds 256 random bits, the
//! store their SHA-256 digest; a session lives until its absolute end and while it is
//! used within the track's sliding lifetime.

use aws_lc_rs::digest;

use crate::{
    env::Rng,
    model::{Session, TrackSettings, UnixTime, User},
    store::{SessionStore, StoreError, TrackRef},
};

/// The session cookie's name (one per track: its `Path` is the issuer's path).
pub const SESSION_COOKIE: &str = "ferrid_session";
/// The cookie the CSRF token of a page is bound to (docs/provider.md "Pages").
pub const CSRF_COOKIE: &str = "ferrid_csrf";
/// A session is written back for its sliding lifetime at most this often (seconds): a
/// burst of authorizations in one session costs one write, not one each.
pub const TOUCH_EVERY: i64 = 60;

/// SHA-256 of a cookie or token value: what the store keeps.
pub fn digest_of(value: &str) -> [u8; 32] {
    sha256(value.as_bytes())
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

/// A new session for `user`, with its cookie value.
pub fn start(
    track: &TrackRef,
    settings: &TrackSettings,
    user: &User,
    now: UnixTime,
    rng: &dyn Rng,
) -> (String, Session) {
    let value = ferrid_oauth::b64::encode(&rng.bytes::<32>());
    let session = Session {
        tenant: track.tenant.clone(),
        track: track.track.clone(),
        id_digest: digest_of(&value),
        sid: ferrid_oauth::b64::encode(&rng.bytes::<16>()),
        user_id: user.id.clone(),
        auth_time: now,
        created: now,
        last_seen: now,
        expires: now + i64::from(settings.session_absolute_lifetime),
    };
    (value, session)
}

/// Whether the session is alive at `now` under the track's lifetimes.
pub fn is_live(session: &Session, settings: &TrackSettings, now: UnixTime) -> bool {
    now < session.expires && now < session.last_seen + i64::from(settings.session_lifetime)
}

/// The live session of a cookie value, its use recorded (sliding lifetime); `None`
/// when there is none, it ended, or the store cannot say.
pub async fn find(
    sessions: &dyn SessionStore,
    track: &TrackRef,
    settings: &TrackSettings,
    cookie: Option<&str>,
    now: UnixTime,
) -> Result<Option<Session>, StoreError> {
    let Some(value) = cookie.filter(|v| v.len() <= 64) else { return Ok(None) };
    let d = digest_of(value);
    let session = match sessions.get_session(track, &d).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    if !is_live(&session, settings, now) {
        return Ok(None);
    }
    if now - session.last_seen >= TOUCH_EVERY {
        match sessions.touch_session(track, &d, now).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(session))
}

/// The cookie's value in a `Cookie` header, if present (RFC 6265 §5.4).
pub fn cookie_value<'h>(header: Option<&'h str>, name: &str) -> Option<&'h str> {
    header?.split(';').map(str::trim).find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(last_seen: i64, expires: i64) -> Session {
        Session {
            tenant: ferrid_oauth::name::Name::parse("t").unwrap(),
            track: ferrid_oauth::name::Name::parse("p").unwrap(),
            id_digest: [0; 32],
            sid: "s".into(),
            user_id: "u".into(),
            auth_time: 0,
            created: 0,
            last_seen,
            expires,
        }
    }

    #[test]
    fn a_session_ends_at_its_sliding_or_its_absolute_end_whichever_is_first() {
        let s = TrackSettings { session_lifetime: 100, session_absolute_lifetime: 1000, ..Default::default() };
        assert!(is_live(&session(0, 1000), &s, 99));
        assert!(!is_live(&session(0, 1000), &s, 100), "sliding end");
        assert!(is_live(&session(950, 1000), &s, 999));
        assert!(!is_live(&session(950, 1000), &s, 1000), "absolute end");
    }

    #[test]
    fn cookie_value_finds_the_named_cookie_only() {
        let h = Some("a=1; ferrid_session=abc; ferrid_session_x=no");
        assert_eq!(cookie_value(h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(Some("x=1"), SESSION_COOKIE), None);
        assert_eq!(cookie_value(None, SESSION_COOKIE), None);
    }
}
