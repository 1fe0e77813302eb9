//! `application/x-www-form-urlencoded` request bodies (RFC 6749 §3.2, Appendix B).

use std::borrow::Cow;

use crate::error::OAuthError;

/// The parameters of a form body. RFC 6749 §3.2: a parameter must not appear twice,
/// except those defined as repeatable (`resource` in RFC 8707, `audience` as Auth0 sends
/// it). RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
#[derive(Debug, Default)]
pub struct Form<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Parameters that may legitimately appear more than once.
const REPEATABLE: [&str; 2] = ["resource", "audience"];

/// Longest accepted parameter name; anything longer is not a parameter of ours.
const MAX_NAME: usize = 64;
/// Longest accepted value (bytes), except a client assertion's (bounded by the body).
pub const MAX_VALUE: usize = 4096;
/// Longest accepted `scope` (characters), as FoxIDs bounds it.
pub const MAX_SCOPE: usize = 2000;

impl<'a> Form<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Form<'a>, OAuthError> {
        let mut pairs: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::with_capacity(8);
        for (k, v) in form_urlencoded::parse(body) {
            if k.len() > MAX_NAME {
                return Err(OAuthError::invalid_request("a parameter name is too long"));
            }
            if v.is_empty() {
                continue;
            }
            let max = match k.as_ref() {
                "client_assertion" => usize::MAX,
                "scope" => MAX_SCOPE,
                _ => MAX_VALUE,
            };
            if v.len() > max {
                return Err(OAuthError::invalid_request(format!("parameter '{k}' is too long (at most {max} bytes)")));
            }
            if !REPEATABLE.contains(&k.as_ref()) && pairs.iter().any(|(n, _)| *n == k) {
                return Err(OAuthError::invalid_request(format!("parameter '{k}' is included more than once")));
            }
            pairs.push((k, v));
        }
        Ok(Form { pairs })
    }

    /// The single value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref())
    }

    /// Every value of a repeatable parameter, in order.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.pairs.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_ref())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// `application/x-www-form-urlencoded` text of `pairs` (also a query string).
pub fn encode<'p>(pairs: impl IntoIterator<Item = (&'p str, &'p str)>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Every pair of a query string or form, decoded, in order (no duplicate rule).
pub fn pairs(input: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(input).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        let f = Form::parse(b"scope=a%3Ab+c&x=%41").unwrap();
        assert_eq!(f.get("scope"), Some("a:b c"));
        assert_eq!(f.get("x"), Some("A"));
    }

    #[test]
    fn a_repeated_parameter_is_invalid_request() {
        let e = Form::parse(b"grant_type=a&grant_type=a").unwrap_err();
        assert_eq!(e.error, crate::error::ErrorCode::InvalidRequest);
    }

    #[test]
    fn resource_and_audience_may_repeat() {
        let f = Form::parse(b"audience=a&audience=b&resource=c&resource=d").unwrap();
        assert_eq!(f.all("audience").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(f.all("resource").collect::<Vec<_>>(), ["c", "d"]);
    }

    #[test]
    fn over_long_values_are_invalid_request() {
        let scope = format!("scope={}", "a".repeat(MAX_SCOPE + 1));
        assert!(Form::parse(scope.as_bytes()).is_err());
        let ok = format!("scope={}", "a".repeat(MAX_SCOPE));
        assert!(Form::parse(ok.as_bytes()).is_ok());
        let id = format!("client_id={}", "a".repeat(MAX_VALUE + 1));
        assert!(Form::parse(id.as_bytes()).is_err());
        let assertion = format!("client_assertion={}", "a".repeat(100_000));
        assert!(Form::parse(assertion.as_bytes()).is_ok());
    }

    #[test]
    fn an_empty_value_counts_as_omitted() {
        let f = Form::parse(b"scope=&scope=x").unwrap();
        assert_eq!(f.get("scope"), Some("x"));
    }
}
