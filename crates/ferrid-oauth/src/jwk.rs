//! JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037) as published in a JWKS.

use serde::{Deserialize, Serialize};

/// One public key of a JWKS. Only the members ferrid publishes or reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// RSA modulus (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC or OKP curve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// The RFC 7638 thumbprint input: the required members in lexicographic order.
    pub fn thumbprint_input(&self) -> Option<String> {
        let q = |s: &str| serde_json::to_string(s).expect("string serializes");
        match self.kty.as_str() {
            "RSA" => Some(format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, q(self.e.as_deref()?), q(self.n.as_deref()?))),
            "EC" => Some(format!(
                r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
                q(self.crv.as_deref()?),
                q(self.x.as_deref()?),
                q(self.y.as_deref()?)
            )),
            "OKP" => {
                Some(format!(r#"{{"crv":{},"kty":"OKP","x":{}}}"#, q(self.crv.as_deref()?), q(self.x.as_deref()?)))
            }
            _ => None,
        }
    }

    /// RFC 7638 SHA-256 thumbprint, base64url: ferrid's `kid` for keys it generates.
    pub fn thumbprint(&self) -> Option<String> {
        let input = self.thumbprint_input()?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes());
        Some(crate::b64::encode(digest.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1's example key and thumbprint.
    #[test]
    fn thumbprint_matches_rfc7638_example() {
        let jwk = Jwk {
            kty: "RSA".into(),
            kid: None,
            use_: None,
            alg: None,
            n: Some("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into()),
            e: Some("AQAB".into()),
            crv: None,
            x: None,
            y: None,
        };
        assert_eq!(jwk.thumbprint().unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
