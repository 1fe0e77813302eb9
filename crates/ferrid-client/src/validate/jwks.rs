//! Verification keys from a JWKS URL or from discovery (OpenID Connect Discovery §4,
//! RFC 8414 §3), cached.
//!
//! Keys are kept for `cache_duration`. A token naming a `kid` the cache lacks triggers a
//! refetch (the issuer may have rotated), but the key server is asked at most once per
//! `refetch_interval`, whatever the tokens say — random `kid`s cannot make ferrid hammer
//! it. When a refetch fails, the keys already held are still used.

use std::{
    str::FromStr,
    sync::{Arc, Mutex},
};

use jsonwebtoken::{Algorithm, DecodingKey, jwk::Jwk};
use serde_json::Value;
use tokio::time::{Duration, Instant};

/// Largest JWKS or discovery document read, bytes.
const MAX_DOC: usize = 1024 * 1024;

/// Where the verification keys come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeySource {
    /// A JWKS URL (`jwk_url`).
    JwksUrl(String),
    /// An issuer whose `/.well-known/openid-configuration` names the `jwks_uri`; its
    /// `issuer` member must equal this (OpenID Connect Discovery §4.3).
    Discovery(String),
}

/// One usable public key.
pub(crate) struct KeyEntry {
    pub kid: Option<String>,
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
}

impl KeyEntry {
    fn fits(&self, kid: Option<&str>, alg: Algorithm) -> bool {
        (kid.is_none() || self.kid.as_deref() == kid)
            && self.alg.is_none_or(|a| a == alg)
            && self.key.family() == alg.family()
    }
}

struct KeySet {
    keys: Vec<Arc<KeyEntry>>,
    fetched_at: Instant,
}

/// Why no key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// The keys are known but none fits the token.
    Unknown,
    /// No keys could be fetched at all.
    Unavailable(String),
}

struct Inner {
    http: reqwest::Client,
    source: KeySource,
    cache_duration: Duration,
    refetch_interval: Duration,
    keys: Mutex<Option<Arc<KeySet>>>,
    jwks_uri: Mutex<Option<String>>,
    last_attempt: Mutex<Option<(Instant, Option<String>)>>,
    fetch: tokio::sync::Mutex<()>,
}

/// A cache of one issuer's keys, shared by clones (and by validators of one issuer).
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache").field("source", &self.inner.source).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl JwksCache {
    /// A cache that keeps keys for `cache_duration` and asks the key server at most once
    /// per `refetch_interval`.
    pub fn new(http: reqwest::Client, source: KeySource, cache_duration: Duration, refetch_interval: Duration) -> Self {
        let inner = Inner {
            http,
            source,
            cache_duration,
            refetch_interval,
            keys: Mutex::new(None),
            jwks_uri: Mutex::new(None),
            last_attempt: Mutex::new(None),
            fetch: tokio::sync::Mutex::new(()),
        };
        JwksCache { inner: Arc::new(inner) }
    }

    /// The HTTP client it fetches with.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Where the keys come from.
    pub fn source(&self) -> &KeySource {
        &self.inner.source
    }

    /// The keys that may have signed a token with this `kid` and `alg`.
    pub(crate) async fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> Result<Vec<Arc<KeyEntry>>, KeyError> {
        let started = crate::env::now();
        let held = lock(&self.inner.keys).clone();
        if let Some(set) = held.as_ref().filter(|s| started < s.fetched_at + self.inner.cache_duration) {
            let c = pick(set, kid, alg);
            if !c.is_empty() {
                return Ok(c);
            }
        }
        match self.refresh().await {
            Some(set) => {
                let c = pick(&set, kid, alg);
                if c.is_empty() { Err(KeyError::Unknown) } else { Ok(c) }
            }
            None => {
                let why = lock(&self.inner.last_attempt).as_ref().and_then(|(_, e)| e.clone());
                Err(KeyError::Unavailable(why.unwrap_or_else(|| "no keys".into())))
            }
        }
    }

    /// Fetches the keys unless that was tried within `refetch_interval`; returns what is
    /// held afterwards (possibly older keys when the fetch failed).
    async fn refresh(&self) -> Option<Arc<KeySet>> {
        let _one = self.inner.fetch.lock().await;
        let now = crate::env::now();
        let recent =
            lock(&self.inner.last_attempt).as_ref().is_some_and(|(t, _)| now < *t + self.inner.refetch_interval);
        if !recent {
            *lock(&self.inner.last_attempt) = Some((now, None));
            match self.fetch_keys().await {
                Ok(keys) => {
                    tracing::debug!(source = ?self.inner.source, keys = keys.len(), "verification keys fetched");
                    *lock(&self.inner.keys) = Some(Arc::new(KeySet { keys, fetched_at: now }));
                }
                Err(e) => {
                    tracing::warn!(source = ?self.inner.source, error = %e, "fetching verification keys failed");
                    *lock(&self.inner.last_attempt) = Some((now, Some(e)));
                }
            }
        }
        lock(&self.inner.keys).clone()
    }

    async fn fetch_keys(&self) -> Result<Vec<Arc<KeyEntry>>, String> {
        let uri = self.jwks_uri().await?;
        let doc = get_json(&self.inner.http, &uri).await?;
        let keys = doc.get("keys").and_then(Value::as_array).ok_or_else(|| format!("{uri}: no \"keys\" array"))?;
        let usable: Vec<_> = keys.iter().filter_map(entry).map(Arc::new).collect();
        if usable.is_empty() {
            return Err(format!("{uri}: no usable signature key"));
        }
        Ok(usable)
    }

    async fn jwks_uri(&self) -> Result<String, String> {
        let issuer = match &self.inner.source {
            KeySource::JwksUrl(u) => return Ok(u.clone()),
            KeySource::Discovery(issuer) => issuer,
        };
        if let Some(u) = lock(&self.inner.jwks_uri).clone() {
            return Ok(u);
        }
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let meta = get_json(&self.inner.http, &url).await?;
        if meta.get("issuer").and_then(Value::as_str) != Some(issuer.as_str()) {
            return Err(format!("{url}: its issuer is not {issuer}"));
        }
        let uri = meta.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| format!("{url}: no jwks_uri"))?;
        *lock(&self.inner.jwks_uri) = Some(uri.to_owned());
        Ok(uri.to_owned())
    }
}

fn pick(set: &KeySet, kid: Option<&str>, alg: Algorithm) -> Vec<Arc<KeyEntry>> {
    set.keys.iter().filter(|k| k.fits(kid, alg)).cloned().collect()
}

/// A JWK usable for signatures: not `use: enc`, not symmetric, parseable.
fn entry(v: &Value) -> Option<KeyEntry> {
    if v.get("use").and_then(Value::as_str).is_some_and(|u| u != "sig") || v.get("kty")? == "oct" {
        return None;
    }
    let jwk: Jwk = serde_json::from_value(v.clone()).ok()?;
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    let alg = match v.get("alg").and_then(Value::as_str) {
        None => None,
        Some(a) => Some(Algorithm::from_str(a).ok()?),
    };
    Some(KeyEntry { kid: jwk.common.key_id, alg, key })
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let mut resp =
        http.get(url).header("accept", "application/json").send().await.map_err(|e| crate::token::error_chain(&e))?;
    if !resp.status().is_success() {
        return Err(format!("{url}: HTTP {}", resp.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if body.len() + chunk.len() > MAX_DOC {
            return Err(format!("{url}: larger than {MAX_DOC} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| format!("{url}: not JSON"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn encryption_symmetric_and_broken_keys_are_skipped() {
        let ec = json!({ "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" });
        let e = entry(&ec).unwrap();
        assert_eq!((e.kid.as_deref(), e.alg), (Some("k1"), Some(Algorithm::ES256)));
        assert!(e.fits(Some("k1"), Algorithm::ES256));
        assert!(e.fits(None, Algorithm::ES256));
        assert!(!e.fits(Some("k2"), Algorithm::ES256));
        assert!(!e.fits(Some("k1"), Algorithm::RS256));
        let mut enc = ec.clone();
        enc["use"] = json!("enc");
        assert!(entry(&enc).is_none());
        assert!(entry(&json!({ "kty": "oct", "k": "c2VjcmV0" })).is_none());
        assert!(entry(&json!({ "kty": "EC", "crv": "P-256" })).is_none());
    }
}
