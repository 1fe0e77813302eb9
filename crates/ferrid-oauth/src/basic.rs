//! HTTP Basic client credentials (RFC 6749 §2.3.1, RFC 7617).
//!
//! The client id and secret are form-url-encoded before base64 (RFC 6749 §2.3.1), which
//! some clients do (Go x/oauth2, openid-client) and others do not (authlib): decoding
//! `+` and `%XX` is correct for the first kind and harmless for the second, whose values
//! (generated ids and secrets) hold neither.

use base64::{
    Engine,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

static STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BasicError {
    #[error("the Authorization header does not use the Basic scheme")]
    NotBasic,
    #[error("the Basic credentials are not valid base64")]
    Base64,
    #[error("the Basic credentials are not UTF-8")]
    Utf8,
    #[error("the Basic credentials have no ':' separator")]
    NoColon,
    #[error("the Basic credentials are not form-url-encoded correctly")]
    Encoding,
}

/// A client id and secret taken from a Basic header.
pub struct BasicCredentials {
    pub client_id: String,
    pub secret: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials").field("client_id", &self.client_id).field("secret", &"[redacted]").finish()
    }
}

/// Whether an `Authorization` header value uses the Basic scheme (case-insensitive).
pub fn is_basic(header: &str) -> bool {
    // Compared as bytes: slicing the str at 6 could split a multi-byte character.
    header.as_bytes().get(..6).is_some_and(|p| p.eq_ignore_ascii_case(b"basic "))
}

pub fn parse_basic(header: &str) -> Result<BasicCredentials, BasicError> {
    if !is_basic(header) {
        return Err(BasicError::NotBasic);
    }
    let raw = STANDARD_ANY_PAD.decode(header[6..].trim_matches(' ')).map_err(|_| BasicError::Base64)?;
    let text = String::from_utf8(raw).map_err(|_| BasicError::Utf8)?;
    let (id, secret) = text.split_once(':').ok_or(BasicError::NoColon)?;
    Ok(BasicCredentials { client_id: form_decode(id)?, secret: form_decode(secret)? })
}

/// Decodes one `application/x-www-form-urlencoded` value: `+` is a space, `%XX` a byte.
pub fn form_decode(s: &str) -> Result<String, BasicError> {
    if !s.contains(['%', '+']) {
        return Ok(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3).ok_or(BasicError::Encoding)?;
                let hex = std::str::from_utf8(hex).map_err(|_| BasicError::Encoding)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| BasicError::Encoding)?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| BasicError::Utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s))
    }

    #[test]
    fn raw_credentials_parse() {
        let c = parse_basic(&basic("svc1:abc-DEF_123")).unwrap();
        assert_eq!((c.client_id.as_str(), c.secret.as_str()), ("svc1", "abc-DEF_123"));
    }

    #[test]
    fn credentials_are_form_url_decoded_after_base64() {
        let c = parse_basic(&basic("my%3Aclient:s%2Bc+r%25t")).unwrap();
        assert_eq!(c.client_id, "my:client");
        assert_eq!(c.secret, "s+c r%t");
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let h = basic("a:b").replacen("Basic", "bAsIc", 1);
        assert!(parse_basic(&h).is_ok());
    }

    /// Found by the `token_request` fuzz target: a multi-byte character across byte 6.
    #[test]
    fn a_multibyte_character_at_the_scheme_boundary_is_not_basic() {
        assert!(!is_basic("Basicé"));
        assert_eq!(parse_basic("Basé x").unwrap_err(), BasicError::NotBasic);
    }

    #[test]
    fn broken_headers_are_refused() {
        assert_eq!(parse_basic("Bearer x").unwrap_err(), BasicError::NotBasic);
        assert_eq!(parse_basic("Basic !!!").unwrap_err(), BasicError::Base64);
        assert_eq!(parse_basic(&basic("nocolon")).unwrap_err(), BasicError::NoColon);
        assert_eq!(parse_basic(&basic("a:%zz")).unwrap_err(), BasicError::Encoding);
        assert_eq!(parse_basic(&basic("a:%4")).unwrap_err(), BasicError::Encoding);
    }
}
