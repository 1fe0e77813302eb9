//! The console's signed cookies and the values derived from them (docs/console.md
//! "Session and CSRF"). Every value is signed with the page MAC of the master key
//! (`KeyCipher::page_tag`), so every instance sharing the store accepts what any
//! instance issued, and nothing is stored for them:
//! - the session cookie names the person (tenant, user id), the OpenID Provider session
//!   (`sid`) it rides on and its end; each request also checks that OP session and the
//!   user in the store (`signin::live`), so a logout, a disabled user or "end sessions"
//!   ends the console session too;
//! - the pre-login cookie carries the `state` of one authorization request (RFC 6749
//!   §10.12) and where to go after it; the PKCE verifier (RFC 7636 §4.1) and the `nonce`
//!   (OpenID Connect Core 1.0 §3.1.2.1) are MACs of that state, so they need no storage
//!   and cannot be guessed from the request;
//! - the CSRF token of every form is a MAC of the session cookie: it is valid for that
//!   session only.

use ferrid_core::{keys::KeyCipher, model::UnixTime};
use ferrid_oauth::{b64, name::Name};

/// The console session cookie (`Path` = the console's path).
pub const SESSION_COOKIE: &str = "ferrid_console";
/// The cookie of a sign-in in progress.
pub const LOGIN_COOKIE: &str = "ferrid_console_login";
/// How long a sign-in may take, from the redirect to the callback, seconds.
pub const LOGIN_WINDOW: i64 = 600;
/// Longest cookie value looked at.
const MAX_VALUE: usize = 1024;

/// A console session cookie whose signature verified (its end is the caller's to check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    /// The tenant whose `master` track the person belongs to.
    pub tenant: Name,
    /// The person's user id (`sub`).
    pub user: String,
    /// The OpenID Provider session the console session rides on.
    pub sid: String,
    /// Unix seconds; the OP session's absolute end.
    pub expires: UnixTime,
}

fn session_message(tenant: &str, user: &str, sid: &str, expires: UnixTime) -> Vec<u8> {
    format!("console-session|{tenant}|{user}|{sid}|{expires}").into_bytes()
}

impl SessionCookie {
    /// `{tenant}.{b64(user)}.{b64(sid)}.{expires}.{tag}`.
    pub fn seal(&self, cipher: &KeyCipher) -> String {
        let (user, sid) = (b64::encode(self.user.as_bytes()), b64::encode(self.sid.as_bytes()));
        let tag = cipher.page_tag(&session_message(&self.tenant, &user, &sid, self.expires));
        format!("{}.{user}.{sid}.{}.{tag}", self.tenant, self.expires)
    }

    /// The cookie if this deployment signed it.
    pub fn open(cipher: &KeyCipher, value: &str) -> Option<SessionCookie> {
        let [tenant, user, sid, expires, tag] = parts(value)?;
        let expires: UnixTime = expires.parse().ok()?;
        if !cipher.page_tag_matches(&session_message(tenant, user, sid, expires), tag) {
            return None;
        }
        Some(SessionCookie {
            tenant: Name::parse(tenant).ok()?,
            user: String::from_utf8(b64::decode(user)?).ok()?,
            sid: String::from_utf8(b64::decode(sid)?).ok()?,
            expires,
        })
    }
}

/// A sign-in in progress: the authorization request's `state`, the tenant it signs in
/// at, the console path to return to, and when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub tenant: Name,
    pub state: String,
    /// A path below the console's (checked when made and when read).
    pub next: String,
    pub issued: UnixTime,
}

fn pending_message(tenant: &str, state: &str, next: &str, issued: UnixTime) -> Vec<u8> {
    format!("console-login|{tenant}|{state}|{next}|{issued}").into_bytes()
}

impl PendingLogin {
    /// `{tenant}.{state}.{b64(next)}.{issued}.{tag}`.
    pub fn seal(&self, cipher: &KeyCipher) -> String {
        let next = b64::encode(self.next.as_bytes());
        let tag = cipher.page_tag(&pending_message(&self.tenant, &self.state, &next, self.issued));
        format!("{}.{}.{next}.{}.{tag}", self.tenant, self.state, self.issued)
    }

    /// The cookie if this deployment signed it and it is not older than [`LOGIN_WINDOW`].
    pub fn open(cipher: &KeyCipher, value: &str, now: UnixTime) -> Option<PendingLogin> {
        let [tenant, state, next, issued, tag] = parts(value)?;
        let issued: UnixTime = issued.parse().ok()?;
        if !cipher.page_tag_matches(&pending_message(tenant, state, next, issued), tag) {
            return None;
        }
        if issued > now || now - issued >= LOGIN_WINDOW {
            return None;
        }
        Some(PendingLogin {
            tenant: Name::parse(tenant).ok()?,
            state: state.to_owned(),
            next: String::from_utf8(b64::decode(next)?).ok()?,
            issued,
        })
    }

    /// The PKCE `code_verifier` of this sign-in (RFC 7636 §4.1: 43 base64url characters).
    pub fn verifier(&self, cipher: &KeyCipher) -> String {
        cipher.page_tag(format!("console-pkce|{}", self.state).as_bytes())
    }

    /// The `code_challenge` of [`PendingLogin::verifier`] (RFC 7636 §4.2, S256).
    pub fn challenge(&self, cipher: &KeyCipher) -> String {
        b64::encode(&ferrid_core::provider::session::sha256(self.verifier(cipher).as_bytes()))
    }

    /// The `nonce` the ID token must carry back.
    pub fn nonce(&self, cipher: &KeyCipher) -> String {
        cipher.page_tag(format!("console-nonce|{}", self.state).as_bytes())
    }
}

/// Five dot-separated parts of a bounded cookie value.
fn parts(value: &str) -> Option<[&str; 5]> {
    if value.len() > MAX_VALUE {
        return None;
    }
    let mut it = value.split('.');
    let p = [it.next()?, it.next()?, it.next()?, it.next()?, it.next()?];
    it.next().is_none().then_some(p)
}

/// The CSRF token of the forms of the session whose cookie is `session`.
pub fn csrf_token(cipher: &KeyCipher, session: &str) -> String {
    cipher.page_tag(format!("console-csrf|{session}").as_bytes())
}

/// Whether `token` is the CSRF token of `session` (constant-time).
pub fn csrf_ok(cipher: &KeyCipher, session: &str, token: &str) -> bool {
    cipher.page_tag_matches(format!("console-csrf|{session}").as_bytes(), token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> KeyCipher {
        KeyCipher::new(&[byte; 32])
    }

    fn cookie() -> SessionCookie {
        SessionCookie { tenant: Name::parse("acme").unwrap(), user: "u-1".into(), sid: "s1".into(), expires: 100 }
    }

    #[test]
    fn a_session_cookie_opens_only_with_the_key_that_sealed_it_and_unchanged() {
        let value = cookie().seal(&cipher(1));
        assert_eq!(SessionCookie::open(&cipher(1), &value), Some(cookie()));
        assert_eq!(SessionCookie::open(&cipher(2), &value), None);
        // another tenant named in an otherwise valid cookie
        let forged = value.replacen("acme", "evil", 1);
        assert_eq!(SessionCookie::open(&cipher(1), &forged), None);
        let later = value.replacen(".100.", ".999.", 1);
        assert_eq!(SessionCookie::open(&cipher(1), &later), None);
        assert_eq!(SessionCookie::open(&cipher(1), &"a.".repeat(600)), None);
    }

    #[test]
    fn a_pending_login_lasts_its_window_and_derives_pkce_and_nonce_from_its_state() {
        let c = cipher(1);
        let p = PendingLogin {
            tenant: Name::parse("master").unwrap(),
            state: "st".into(),
            next: "/console/".into(),
            issued: 1000,
        };
        let value = p.seal(&c);
        assert_eq!(PendingLogin::open(&c, &value, 1000 + LOGIN_WINDOW - 1), Some(p.clone()));
        assert_eq!(PendingLogin::open(&c, &value, 1000 + LOGIN_WINDOW), None, "expired");
        assert_eq!(PendingLogin::open(&c, &value, 999), None, "from the future");
        assert_eq!(PendingLogin::open(&cipher(2), &value, 1000), None);
        let v = p.verifier(&c);
        assert_eq!(v.len(), 43);
        assert_ne!(v, p.nonce(&c));
        let other = PendingLogin { state: "other".into(), ..p.clone() };
        assert_ne!(other.verifier(&c), v);
        let expected = b64::encode(&ferrid_core::provider::session::sha256(v.as_bytes()));
        assert_eq!(p.challenge(&c), expected);
    }

    #[test]
    fn a_csrf_token_is_valid_for_its_own_session_only() {
        let c = cipher(1);
        let token = csrf_token(&c, "session-a");
        assert!(csrf_ok(&c, "session-a", &token));
        assert!(!csrf_ok(&c, "session-b", &token));
        assert!(!csrf_ok(&c, "session-a", ""));
        assert!(!csrf_ok(&cipher(2), "session-a", &token));
    }
}
