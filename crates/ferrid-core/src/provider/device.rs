//! Device cookies (docs/provider.md "Login"): after a successful login the browser gets a
//! signed statement "user U logged in from this browser at T", with a nonce that names
//! the cookie's own failure counter. A login presenting a valid one for the user it
//! names is judged only by that counter, so that an attacker guessing the user's
//! password elsewhere (and so locking the user out of new browsers) does not lock the
//! user out of their own browser. Signed with the page MAC of the master key, so every
//! instance accepts what any instance issued.

use crate::{env::Rng, keys::KeyCipher, model::UnixTime};

/// The device cookie's name.
pub const DEVICE_COOKIE: &str = "ferrid_device";
/// How long a device cookie is valid (and its `Max-Age`), seconds: a year.
pub const DEVICE_LIFETIME: i64 = 365 * 24 * 3600;
/// Longest cookie value looked at.
const MAX_VALUE: usize = 512;

/// A device cookie that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The id of the user who logged in from the browser.
    pub user: String,
    /// When, Unix seconds.
    pub issued: UnixTime,
    /// The cookie's own name for its failure counter.
    pub nonce: String,
}

fn signed(issuer: &str, user: &str, issued: UnixTime, nonce: &str) -> Vec<u8> {
    format!("device|{issuer}|{user}|{issued}|{nonce}").into_bytes()
}

/// A new device cookie value for `user` at the track of `issuer`:
/// `{b64(user)}.{issued}.{nonce}.{tag}`.
pub fn issue(cipher: &KeyCipher, issuer: &str, user: &str, now: UnixTime, rng: &dyn Rng) -> String {
    let user = ferrid_oauth::b64::encode(user.as_bytes());
    let nonce = ferrid_oauth::b64::encode(&rng.bytes::<16>());
    let tag = cipher.page_tag(&signed(issuer, &user, now, &nonce));
    format!("{user}.{now}.{nonce}.{tag}")
}

/// The device cookie `value` if it was issued for the track of `issuer` by this
/// deployment (any instance) and has not expired at `now`.
pub fn verify(cipher: &KeyCipher, issuer: &str, value: &str, now: UnixTime) -> Option<Device> {
    if value.len() > MAX_VALUE {
        return None;
    }
    let mut parts = value.split('.');
    let (user, issued, nonce, tag) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let issued_at: UnixTime = issued.parse().ok()?;
    if !cipher.page_tag_matches(&signed(issuer, user, issued_at, nonce), tag) {
        return None;
    }
    if issued_at > now || now - issued_at >= DEVICE_LIFETIME {
        return None;
    }
    let user = String::from_utf8(ferrid_oauth::b64::decode(user)?).ok()?;
    Some(Device { user, issued: issued_at, nonce: nonce.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SystemRng;

    fn cipher(key: u8) -> KeyCipher {
        KeyCipher::new(&[key; 32])
    }

    #[test]
    fn a_device_cookie_verifies_for_its_user_until_it_expires() {
        let c = cipher(1);
        let v = issue(&c, "https://id.example/t/p", "u-1", 1_000, &SystemRng);
        let d = verify(&c, "https://id.example/t/p", &v, 1_000).unwrap();
        assert_eq!((d.user.as_str(), d.issued), ("u-1", 1_000));
        assert!(verify(&c, "https://id.example/t/p", &v, 1_000 + DEVICE_LIFETIME - 1).is_some());
        assert!(verify(&c, "https://id.example/t/p", &v, 1_000 + DEVICE_LIFETIME).is_none());
    }

    #[test]
    fn a_device_cookie_of_another_key_track_or_user_does_not_verify() {
        let c = cipher(1);
        let v = issue(&c, "https://id.example/t/p", "u-1", 1_000, &SystemRng);
        assert!(verify(&cipher(2), "https://id.example/t/p", &v, 1_000).is_none());
        assert!(verify(&c, "https://id.example/t/q", &v, 1_000).is_none());
        let mut parts: Vec<String> = v.split('.').map(str::to_owned).collect();
        parts[0] = ferrid_oauth::b64::encode(b"u-2");
        assert!(verify(&c, "https://id.example/t/p", &parts.join("."), 1_000).is_none());
        parts[0] = ferrid_oauth::b64::encode(b"u-1");
        parts[1] = "1001".to_owned();
        assert!(verify(&c, "https://id.example/t/p", &parts.join("."), 1_001).is_none());
        assert!(verify(&c, "https://id.example/t/p", "garbage", 1_000).is_none());
    }
}
