//! The password policy for people's passwords (docs/model.md "Users"), in the spirit of
//! NIST SP 800-63B §5.1.1.2: a minimum length, no password from a list of commonly used
//! ones, none derived from the account's own names. No composition rules.

use std::{collections::HashSet, sync::LazyLock};

/// The shortest password any track accepts (NIST SP 800-63B: at least 8); a track may
/// ask for more (`password_min_length`, [`too_short`]).
pub const MIN_LEN: usize = 8;
/// The longest password accepted: Argon2id takes any length, this bounds the work and
/// the request.
pub const MAX_LEN: usize = 1024;
/// Names shorter than this are not looked for inside a password (a one-letter username
/// would refuse most passwords).
const MIN_NAME_LEN: usize = 3;

/// The embedded list (`common_passwords.txt`, its source at its top), lower case.
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

/// Why `password` is refused for an account named `username`/`email`, or `None`.
pub fn refusal(password: &str, username: Option<&str>, email: Option<&str>) -> Option<String> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Some(too_short_message(MIN_LEN as u32));
    }
    if len > MAX_LEN {
        return Some(format!("must be at most {MAX_LEN} characters"));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower) {
        return Some("is a commonly used password".into());
    }
    let local = email.map(|e| e.rsplit_once('@').map_or(e, |(l, _)| l));
    for name in [username, local].into_iter().flatten() {
        if name.chars().count() >= MIN_NAME_LEN && lower.contains(&name.to_lowercase()) {
            return Some("must not contain the username or the email's name".into());
        }
    }
    None
}

/// Why `password` is refused by a track whose passwords have at least `min_len`
/// characters (its `password_min_length`), or `None`. [`refusal`] holds the rest.
pub fn too_short(password: &str, min_len: u32) -> Option<String> {
    (password.chars().count() < min_len as usize).then(|| too_short_message(min_len))
}

/// What a password shorter than `min_len` characters is told.
pub fn too_short_message(min_len: u32) -> String {
    format!("must be at least {min_len} characters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_track_may_ask_for_longer_passwords() {
        assert_eq!(too_short("eleven char", 12).as_deref(), Some("must be at least 12 characters"));
        assert_eq!(too_short("twelve chars", 12), None);
        assert_eq!(too_short("ünïcödé chärs", 13), None, "characters, not bytes");
    }

    #[test]
    fn a_password_shorter_than_eight_characters_is_refused() {
        assert!(refusal("Xy7#pQ2", None, None).is_some());
        assert!(refusal("Xy7#pQ2!", None, None).is_none());
        assert!(refusal(&"x".repeat(MAX_LEN + 1), None, None).is_some());
    }

    #[test]
    fn a_common_password_is_refused_in_any_case() {
        for p in ["password", "Password1", "QWERTYUIOP", "iloveyou"] {
            assert_eq!(refusal(p, None, None).as_deref(), Some("is a commonly used password"), "{p}");
        }
        assert!(COMMON.len() > 100);
        assert!(COMMON.iter().all(|p| p.chars().count() >= MIN_LEN), "shorter entries are never reached");
    }

    #[test]
    fn a_password_containing_the_username_or_the_email_name_is_refused() {
        assert!(refusal("xx-Alice-2026!", Some("alice"), None).is_some());
        assert!(refusal("bob.smith#2026", None, Some("Bob.Smith@example.com")).is_some());
        assert!(refusal("correct horse battery", Some("alice"), Some("bob@example.com")).is_none());
        // a name too short to matter does not refuse everything
        assert!(refusal("a long passphrase", Some("a"), Some("b@x.io")).is_none());
    }
}
