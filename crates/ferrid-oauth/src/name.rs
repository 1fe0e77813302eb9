//! Names of tenants, tracks and app registrations (docs/model.md "Vocabulary"): `^[a-z0-9_][a-z0-9_-]{0,49}$`.

use std::{fmt, ops::Deref};

use serde::{Deserialize, Serialize};

/// A validated tenant, track or app name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Name(String);

/// Why a string is not a [`Name`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 50 characters")]
    TooLong,
    #[error("must use only a-z, 0-9, '_' and '-', and must not start with '-'")]
    BadCharacter,
}

impl Name {
    pub const MAX_LEN: usize = 50;

    pub fn parse(s: &str) -> Result<Name, NameError> {
        Self::check(s)?;
        Ok(Name(s.to_owned()))
    }

    /// Checks the rule without allocating.
    pub fn check(s: &str) -> Result<(), NameError> {
        let bytes = s.as_bytes();
        let Some(&first) = bytes.first() else {
            return Err(NameError::Empty);
        };
        if bytes.len() > Self::MAX_LEN {
            return Err(NameError::TooLong);
        }
        let body_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
        if first == b'-' || !bytes.iter().all(|&b| body_ok(b)) {
            return Err(NameError::BadCharacter);
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Name::check(&s).map_err(serde::de::Error::custom)?;
        Ok(Name(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_design_rule() {
        for ok in ["a", "master", "party-api2", "_x", "0", &"a".repeat(50)] {
            assert!(Name::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_what_the_rule_excludes() {
        assert_eq!(Name::parse(""), Err(NameError::Empty));
        assert_eq!(Name::parse(&"a".repeat(51)), Err(NameError::TooLong));
        for bad in ["-a", "A", "a.b", "a:b", "a b", "é", "a/b"] {
            assert_eq!(Name::parse(bad), Err(NameError::BadCharacter), "{bad}");
        }
    }
}
