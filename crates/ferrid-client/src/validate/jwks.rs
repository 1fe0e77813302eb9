//! Verification keys from a JWKS URL or from discovery (OpenID Connect Discovery §4,
//! RFC 8414 §3), cached.
//!
//! Keys are kept for `cache_duration`. A token naming a `kid` the cache lacks triggers a
//! refetch (the issuer may have rotated), but the key server is asked at most once per
//! `refetch_interval`, whatever the tokens say — random `kid`s cannot make ferrid hammer
//! it. When a refetch fails, the keys already held are still used.
//!
//! Each key is parsed once per fetch (`super::keys`); each successful fetch starts a new
//! generation of the key set, which the verified-token cache compares with.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use jsonwebtoken::Algorithm;
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

use super::keys::{KeyEntry, entry};

struct KeySet {
    keys: Vec<Arc<KeyEntry>>,
    fetched_at: Instant,
    generation: u64,
}

/// The keys that may have signed a token, from the key set of `generation`.
pub(crate) struct Candidates {
    pub keys: Vec<Arc<KeyEntry>>,
    pub generation: u64,
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
    /// Successful fetches so far: the generation of the key set held.
    generation: AtomicU64,
    /// Public keys parsed so far (one per key and algorithm per fetch).
    parsed: AtomicU64,
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
            generation: AtomicU64::new(0),
            parsed: AtomicU64::new(0),
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

    /// How many public keys this cache has parsed: one per key and algorithm it may
    /// serve, at each fetch of the key set, never per token.
    pub fn parsed_keys(&self) -> u64 {
        self.inner.parsed.load(Ordering::Relaxed)
    }

    /// The generation of the key set held, if it is still within `cache_duration`.
    pub(crate) fn fresh_generation(&self) -> Option<u64> {
        let now = crate::env::now();
        let held = lock(&self.inner.keys);
        held.as_ref().filter(|s| now < s.fetched_at + self.inner.cache_duration).map(|s| s.generation)
    }

    /// The keys that may have signed a token with this `kid` and `alg`.
    pub(crate) async fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> Result<Candidates, KeyError> {
        let started = crate::env::now();
        let held = lock(&self.inner.keys).clone();
        if let Some(set) = held.as_ref().filter(|s| started < s.fetched_at + self.inner.cache_duration) {
            let c = pick(set, kid, alg);
            if !c.keys.is_empty() {
                return Ok(c);
            }
        }
        match self.refresh().await {
            Some(set) => {
                let c = pick(&set, kid, alg);
                if c.keys.is_empty() { Err(KeyError::Unknown) } else { Ok(c) }
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
                    let generation = self.inner.generation.fetch_add(1, Ordering::Relaxed) + 1;
                    *lock(&self.inner.keys) = Some(Arc::new(KeySet { keys, fetched_at: now, generation }));
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
        let usable: Vec<_> = keys.iter().filter_map(|k| entry(k, &self.inner.parsed)).map(Arc::new).collect();
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

fn pick(set: &KeySet, kid: Option<&str>, alg: Algorithm) -> Candidates {
    Candidates { keys: set.keys.iter().filter(|k| k.fits(kid, alg)).cloned().collect(), generation: set.generation }
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
