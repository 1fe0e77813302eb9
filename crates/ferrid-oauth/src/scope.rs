//! Scope references (docs/model.md "Vocabulary"): `resource:scope`, with `resource.scope` accepted as an
//! alias on input and a bare `resource` naming the whole resource.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::name::Name;

/// A scope of a resource: `[A-Za-z0-9_-]`, 1 to 50 characters, not starting with `-`.
/// `:` and `.` are excluded so that a reference splits one way only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ScopeName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 50 characters")]
    TooLong,
    #[error("must use only A-Z, a-z, 0-9, '_' and '-', and must not start with '-'")]
    BadCharacter,
    #[error("resource name: {0}")]
    Resource(crate::name::NameError),
}

impl ScopeName {
    pub fn parse(s: &str) -> Result<ScopeName, ScopeError> {
        let b = s.as_bytes();
        let Some(&first) = b.first() else {
            return Err(ScopeError::Empty);
        };
        if b.len() > 50 {
            return Err(ScopeError::TooLong);
        }
        let ok = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        if first == b'-' || !b.iter().all(|&c| ok(c)) {
            return Err(ScopeError::BadCharacter);
        }
        Ok(ScopeName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for ScopeName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ScopeName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ScopeName::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A parsed scope reference as a client sends it, borrowing from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeRef<'a> {
    pub resource: &'a str,
    /// `None` for a bare resource name.
    pub scope: Option<&'a str>,
}

impl<'a> ScopeRef<'a> {
    /// Splits `resource:scope` or `resource.scope` (the first separator wins: neither
    /// may occur in a name) and checks both halves against their rules.
    pub fn parse(s: &'a str) -> Result<ScopeRef<'a>, ScopeError> {
        let (resource, scope) = match s.find([':', '.']) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        Name::check(resource).map_err(ScopeError::Resource)?;
        if let Some(scope) = scope {
            ScopeName::parse(scope)?;
        }
        Ok(ScopeRef { resource, scope })
    }
}

impl fmt::Display for ScopeRef<'_> {
    /// The canonical form, with `:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            Some(s) => write!(f, "{}:{}", self.resource, s),
            None => f.write_str(self.resource),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_and_dot_forms_parse_alike() {
        let a = ScopeRef::parse("party-api2:read1").unwrap();
        let b = ScopeRef::parse("party-api2.read1").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "party-api2:read1");
    }

    #[test]
    fn a_bare_resource_names_the_resource() {
        let r = ScopeRef::parse("party-api2").unwrap();
        assert_eq!(r.scope, None);
        assert_eq!(r.to_string(), "party-api2");
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in ["", ":read", "Party:read", "api:", "api:re:ad", "api.re.ad", "api:-x"] {
            assert!(ScopeRef::parse(bad).is_err(), "{bad}");
        }
    }
}
