//! The request bodies of the user routes (docs/api.md "Users"), read by the field reader
//! like every management body: each bad field named, all at once.

use secrecy::SecretString;
use serde_json::{Map, Value};

use super::super::{FieldError, ManageResult, Request, input::Fields};
use crate::credentials::password_policy;

/// Longest username.
pub const USERNAME_MAX: usize = 100;
/// Longest email (RFC 5321 §4.5.3.1.3 path limit less the brackets).
pub const EMAIL_MAX: usize = 254;
/// Most extra claims on a user, and the longest their JSON may be.
pub const CLAIMS_MAX: usize = 100;
pub const CLAIMS_MAX_BYTES: usize = 16 * 1024;
/// Claims a user's own fields give (`updated_at` from `updated`) and the ID token's
/// protocol claims (OpenID Connect Core 1.0 §2), never set through `claims`.
const OWN_CLAIMS: [&str; 12] = [
    "email",
    "email_verified",
    "preferred_username",
    "updated_at",
    "nonce",
    "auth_time",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
];

/// `POST …/users`: one of `username` and `email` is required.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone)]
pub struct NewUser {
    /// 1–100 characters, no `@`, no white space; unique in the track.
    pub username: Option<String>,
    /// An address `local@domain`; unique in the track without regard to case.
    pub email: Option<String>,
    /// Default false.
    pub email_verified: bool,
    /// At least 8 characters, not a common password, not containing the username or
    /// the email's name. Never returned or logged.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password, write_only))]
    pub password: SecretString,
    /// Extra claims (`name`, `given_name`, …): a JSON object of at most 100 members.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub claims: Map<String, Value>,
}

/// `PATCH …/users/{id}`: the fields present (and not null) change; the others stay.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    /// A new password (the policy of [`NewUser::password`]).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Password, write_only))]
    pub password: Option<SecretString>,
    /// Replaces every extra claim.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub claims: Option<Map<String, Value>>,
    /// A disabled user cannot log in.
    pub disabled: Option<bool>,
}

impl Request for NewUser {
    fn from_json(body: &Value) -> ManageResult<Self> {
        let mut f = Fields::of(body)?;
        let username = username(&mut f);
        let email = email(&mut f);
        let email_verified = opt_bool(&mut f, "email_verified").unwrap_or(false);
        let password = match f.opt_str("password") {
            Some(p) => Some(p),
            None if f.errors.iter().any(|e| e.field == "password") => None,
            None => {
                f.errors.push(FieldError::new("password", "is required"));
                None
            }
        };
        if let Some(p) = password
            && let Some(why) = password_policy::refusal(p, username.as_deref(), email.as_deref())
        {
            f.errors.push(FieldError::new("password", why));
        }
        let claims = claims(&mut f).unwrap_or_default();
        if username.is_none()
            && email.is_none()
            && !f.errors.iter().any(|e| e.field == "username" || e.field == "email")
        {
            f.errors.push(FieldError::new("username", "username or email is required"));
        }
        f.finish()?;
        let password = SecretString::from(password.unwrap_or_default().to_owned());
        Ok(NewUser { username, email, email_verified, password, claims })
    }
}

impl Request for UserPatch {
    fn from_json(body: &Value) -> ManageResult<Self> {
        let mut f = Fields::of(body)?;
        let patch = UserPatch {
            username: username(&mut f),
            email: email(&mut f),
            email_verified: opt_bool(&mut f, "email_verified"),
            password: f.opt_str("password").map(|p| SecretString::from(p.to_owned())),
            claims: claims(&mut f),
            disabled: opt_bool(&mut f, "disabled"),
        };
        f.finish()?;
        Ok(patch)
    }
}

fn opt_bool(f: &mut Fields<'_>, field: &'static str) -> Option<bool> {
    match f.opt_value(field)? {
        Value::Bool(b) => Some(*b),
        _ => {
            f.errors.push(FieldError::new(field, "must be true or false"));
            None
        }
    }
}

fn username(f: &mut Fields<'_>) -> Option<String> {
    let s = f.opt_str("username")?;
    let bad = s.is_empty()
        || s.chars().count() > USERNAME_MAX
        || s.contains('@')
        || s.chars().any(|c| c.is_whitespace() || c.is_control());
    if bad {
        let msg = format!("must be 1 to {USERNAME_MAX} characters without '@' or white space");
        f.errors.push(FieldError::new("username", msg));
        return None;
    }
    Some(s.to_owned())
}

/// A plausible address: one `@` with something on each side, no white space. Whether it
/// reaches anyone is what `email_verified` says.
fn email(f: &mut Fields<'_>) -> Option<String> {
    let s = f.opt_str("email")?;
    let ok = s.len() <= EMAIL_MAX
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if !ok {
        f.errors
            .push(FieldError::new("email", format!("must be an address local@domain of at most {EMAIL_MAX} bytes")));
        return None;
    }
    Some(s.to_owned())
}

fn claims(f: &mut Fields<'_>) -> Option<Map<String, Value>> {
    let v = f.opt_value("claims")?;
    let Value::Object(map) = v else {
        f.errors.push(FieldError::new("claims", "must be a JSON object"));
        return None;
    };
    if map.len() > CLAIMS_MAX || v.to_string().len() > CLAIMS_MAX_BYTES {
        let msg = format!("must hold at most {CLAIMS_MAX} claims in {CLAIMS_MAX_BYTES} bytes");
        f.errors.push(FieldError::new("claims", msg));
        return None;
    }
    let before = f.errors.len();
    for name in map.keys() {
        let path = format!("claims.{name}");
        if name.is_empty() || name.chars().count() > 100 {
            f.errors.push(FieldError::new(path, "a claim name must be 1 to 100 characters"));
        } else if crate::claims::issue::is_protected(name) || OWN_CLAIMS.contains(&name.as_str()) {
            f.errors.push(FieldError::new(
                path,
                format!("'{name}' is set by ferrid, from the user's own fields or the protocol"),
            ));
        }
    }
    (f.errors.len() == before).then(|| map.clone())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::manage::ManageError;

    fn fields(r: ManageResult<impl std::fmt::Debug>) -> Vec<String> {
        match r {
            Err(ManageError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_new_user_needs_a_username_or_an_email_and_a_password() {
        assert_eq!(fields(NewUser::from_json(&json!({}))), ["password", "username"]);
        let ok = NewUser::from_json(&json!({"email": "a@b.c", "password": "Tr0ub4dor&3x"})).unwrap();
        assert_eq!(ok.email.as_deref(), Some("a@b.c"));
        assert!(!ok.email_verified);
    }

    #[test]
    fn every_bad_user_field_is_named_at_once() {
        let body = json!({"username": "a b", "email": "nope", "email_verified": "yes", "password": 5,
            "claims": {"sub": "x", "name": "A"}, "extra": 1});
        let named = fields(NewUser::from_json(&body));
        for f in ["username", "email", "email_verified", "password", "claims.sub", "extra"] {
            assert!(named.iter().any(|n| n == f), "{f} in {named:?}");
        }
        let patch = json!({"disabled": 1, "claims": [], "email": "x@"});
        assert_eq!(fields(UserPatch::from_json(&patch)), ["email", "claims", "disabled"]);
    }

    #[test]
    fn a_username_with_an_at_sign_is_refused_so_a_login_name_with_one_is_an_email() {
        let body = json!({"username": "a@b.c", "password": "Tr0ub4dor&3x"});
        assert_eq!(fields(NewUser::from_json(&body)), ["username"]);
    }

    #[test]
    fn claims_the_user_fields_give_are_refused_in_claims() {
        let body = json!({"username": "al", "password": "Tr0ub4dor&3x", "claims": {"email": "x", "nonce": "n"}});
        assert_eq!(fields(NewUser::from_json(&body)), ["claims.email", "claims.nonce"]);
    }

    #[test]
    fn a_weak_password_is_refused_on_the_password_field() {
        let body = json!({"username": "alice", "password": "alice2026!"});
        assert_eq!(fields(NewUser::from_json(&body)), ["password"]);
        assert_eq!(fields(NewUser::from_json(&json!({"username": "bob", "password": "password1"}))), ["password"]);
    }
}
