//! The client-credentials configuration: KrakenD's `auth/client-credentials` shape
//! (`client_id`, `client_secret`, `token_url`, `scopes`, `endpoint_params`) plus ferrid's
//! additions (`auth`, `private_key_jwt`).

use std::{collections::BTreeMap, path::PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

/// Where a client secret goes in the token request (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthStyle {
    /// `client_secret_basic`: the `Authorization: Basic` header, id and secret
    /// form-url-encoded before base64.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    #[serde(alias = "body")]
    Post,
    /// Basic first; on `invalid_client` (or any 401) the same request once more with the
    /// credentials in the body, and the style that worked is remembered (Auth0 ignores the
    /// header).
    #[default]
    Auto,
}

/// One `endpoint_params` entry: KrakenD writes a list (`{"audience": ["api"]}`); a single
/// string is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ParamValues {
    /// `"audience": ["a", "b"]`: the parameter is sent once per value.
    List(Vec<String>),
    /// `"audience": "a"`.
    One(String),
}

impl ParamValues {
    /// The values, in order.
    pub fn values(&self) -> &[String] {
        match self {
            ParamValues::List(v) => v,
            ParamValues::One(s) => std::slice::from_ref(s),
        }
    }
}

/// `private_key_jwt` client authentication (RFC 7523 §2.2): an assertion signed with a
/// private key replaces the secret.
#[derive(Debug, Clone, Deserialize)]
pub struct PrivateKeyJwtConfig {
    /// A PEM file (PKCS#8 `PRIVATE KEY`, or PKCS#1 `RSA PRIVATE KEY`) or a PKCS#12/PFX file.
    pub key_file: PathBuf,
    /// The `kid` header naming the registered key; omitted when absent.
    #[serde(default)]
    pub kid: Option<String>,
    /// The signing algorithm: RS256/384/512, PS256/384/512, ES256, ES384 or EdDSA.
    pub alg: String,
    /// The PFX password (`""` when absent).
    #[serde(default, deserialize_with = "opt_secret")]
    pub key_password: Option<SecretString>,
    /// The assertion's `aud`; the token URL when absent (RFC 7523 §3 item 3).
    #[serde(default)]
    pub audience: Option<String>,
}

/// A client-credentials grant configuration, deserializable from KrakenD's
/// `auth/client-credentials` object unchanged.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientCredentialsConfig {
    /// The client identifier.
    pub client_id: String,
    /// The client secret; absent with `private_key_jwt` or when the secret is in
    /// `endpoint_params` (KrakenD's Auth0 sample).
    #[serde(default, deserialize_with = "opt_secret")]
    pub client_secret: Option<SecretString>,
    /// The token endpoint.
    pub token_url: String,
    /// Scopes, written comma-separated (`"a,b"`, spaces allowed); sent as one
    /// space-separated `scope` parameter.
    #[serde(default, deserialize_with = "comma_list")]
    pub scopes: Vec<String>,
    /// Extra form parameters, e.g. `{"audience": ["api"]}`. When it holds `client_secret`
    /// the credentials are taken to be in the body: no Basic header is sent and the
    /// configured id and secret are not added a second time.
    #[serde(default)]
    pub endpoint_params: BTreeMap<String, ParamValues>,
    /// Where the secret goes; `auto` by default.
    #[serde(default)]
    pub auth: AuthStyle,
    /// Authenticate with a signed assertion instead of a secret.
    #[serde(default)]
    pub private_key_jwt: Option<PrivateKeyJwtConfig>,
    /// Keys this version does not know; reported by the gateway, otherwise ignored.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

impl ClientCredentialsConfig {
    /// A configuration with a secret and nothing else set.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>, token_url: impl Into<String>) -> Self {
        ClientCredentialsConfig {
            client_id: client_id.into(),
            client_secret: Some(SecretString::from(client_secret.into())),
            token_url: token_url.into(),
            scopes: Vec::new(),
            endpoint_params: BTreeMap::new(),
            auth: AuthStyle::Auto,
            private_key_jwt: None,
            unknown: BTreeMap::new(),
        }
    }

    /// Whether `endpoint_params` carries the credentials itself (KrakenD's Auth0 sample).
    pub(crate) fn secret_in_params(&self) -> bool {
        self.endpoint_params.contains_key("client_secret")
    }
}

fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}

fn comma_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?.unwrap_or_default();
    Ok(split_scopes(&s))
}

/// Splits `"a,b"`, `"a, b"` or `"a b"` into scopes.
pub(crate) fn split_scopes(s: &str) -> Vec<String> {
    s.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn krakend_shape_parses_with_comma_scopes_and_list_params() {
        let c: ClientCredentialsConfig = serde_json::from_value(serde_json::json!({
            "client_id": "id", "client_secret": "s", "token_url": "http://x/token",
            "scopes": "scope1, scope2,scope3", "endpoint_params": { "audience": ["a", "b"], "x": "y" }
        }))
        .unwrap();
        assert_eq!(c.scopes, ["scope1", "scope2", "scope3"]);
        assert_eq!(c.endpoint_params["audience"].values(), ["a", "b"]);
        assert_eq!(c.endpoint_params["x"].values(), ["y"]);
        assert_eq!(c.auth, AuthStyle::Auto);
        assert_eq!(c.client_secret.unwrap().expose_secret(), "s");
        assert!(c.unknown.is_empty());
    }

    #[test]
    fn the_secret_never_prints() {
        let c = ClientCredentialsConfig::new("id", "hunter2", "http://x/token");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
