//! Introspection (RFC 7662) in the validation layer, with a short cache of answers.
//!
//! - The cache key is the SHA-256 digest of the token, never the token itself; the
//!   token is never logged.
//! - An answer is kept for `cache_ttl` (default 10 s) and never past the token's `exp`;
//!   at most `cache_size` answers (default 10 000) are held, the oldest evicted first.
//!   Inactive answers are cached too (a token never becomes active again).
//! - Concurrent requests with one token share one introspection call and its outcome
//!   (single flight).
//! - A failed call (unreachable, non-2xx — including a refusal of this client's
//!   credentials —, or an answer that is not RFC 7662) is not cached and refuses the
//!   request with [`super::ValidationError::IntrospectionUnavailable`]: 503, fail closed.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::fifo::{Fifo, Key, key_of};
use crate::token::{ClientCredentialsConfig, ConfigError, TokenClient, check_url};

/// When the validation layer introspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Introspect {
    /// No local JWT validation: the bearer (JWT or opaque) is introspected, `active: true`
    /// is required, and the validator's `iss`, `aud`, scope and role requirements are
    /// checked against the answer, which becomes the [`super::Claims`].
    Instead,
    /// Local JWT validation first (all seven steps), then introspection, so that a
    /// revoked token is refused; the claims are the JWT's.
    After,
}

/// Where and how to introspect.
#[derive(Debug, Clone)]
pub struct IntrospectionConfig {
    /// [`Introspect::Instead`] or [`Introspect::After`].
    pub mode: Introspect,
    /// The introspection endpoint, e.g. `{issuer}/oauth/introspect`.
    pub url: String,
    /// The resource server's own client credentials (secret, Basic/post/auto, or
    /// `private_key_jwt`). Its `token_url` is checked and is the default `aud` of
    /// assertions; scopes and other `endpoint_params` are not sent.
    pub client: ClientCredentialsConfig,
    /// How long an answer is reused. Default 10 s; never past the token's `exp`.
    pub cache_ttl: Duration,
    /// Most answers held. Default 10 000.
    pub cache_size: usize,
}

impl IntrospectionConfig {
    /// Defaults for the cache.
    pub fn new(mode: Introspect, url: impl Into<String>, client: ClientCredentialsConfig) -> IntrospectionConfig {
        IntrospectionConfig { mode, url: url.into(), client, cache_ttl: Duration::from_secs(10), cache_size: 10_000 }
    }
}

type Flight = Arc<tokio::sync::OnceCell<Result<Arc<Map<String, Value>>, String>>>;

/// An answer and the end of its use.
struct Entry {
    answer: Arc<Map<String, Value>>,
    until: Instant,
}

/// The cached answers: at most `cache_size`, the oldest evicted first.
struct Cache(Fifo<Entry>);

impl Cache {
    fn get(&mut self, key: &Key, now: Instant) -> Option<Arc<Map<String, Value>>> {
        match self.0.get(key) {
            Some(e) if now < e.until => Some(e.answer.clone()),
            Some(_) => {
                self.0.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&mut self, key: Key, answer: Arc<Map<String, Value>>, until: Instant) {
        self.0.put(key, Entry { answer, until });
    }
}

/// Calls the introspection endpoint through the cache.
pub(crate) struct Introspector {
    cfg: IntrospectionConfig,
    client: TokenClient,
    cache: Mutex<Cache>,
    /// Calls under way, one per token; each ends with its outcome, shared by its waiters.
    flights: Mutex<HashMap<Key, Flight>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Introspector {
    pub(crate) fn new(cfg: IntrospectionConfig, http: reqwest::Client) -> Result<Introspector, ConfigError> {
        check_url(&cfg.url)?;
        let client = TokenClient::new(cfg.client.clone(), http)?;
        let cache = Mutex::new(Cache(Fifo::new(cfg.cache_size)));
        Ok(Introspector { cfg, client, cache, flights: Mutex::default() })
    }

    pub(crate) fn mode(&self) -> Introspect {
        self.cfg.mode
    }

    /// The answer for `token`, from the cache or the endpoint; `Err` says why the
    /// endpoint could not answer (never containing the token). Callers arriving while a
    /// call for the same token is under way wait for it and share its outcome, failure
    /// included.
    pub(crate) async fn answer(&self, token: &str) -> Result<Arc<Map<String, Value>>, String> {
        let key = key_of(token);
        if let Some(a) = lock(&self.cache).get(&key, crate::env::now()) {
            return Ok(a);
        }
        let flight = lock(&self.flights).entry(key).or_default().clone();
        let result = flight.get_or_init(|| self.call(&key, token)).await.clone();
        let mut flights = lock(&self.flights);
        if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(&key);
        }
        result
    }

    /// One flight's call: the cache once more (a flight just ended may have filled it),
    /// then the endpoint.
    async fn call(&self, key: &Key, token: &str) -> Result<Arc<Map<String, Value>>, String> {
        if let Some(a) = lock(&self.cache).get(key, crate::env::now()) {
            return Ok(a);
        }
        let sent = crate::env::now();
        let answer = Arc::new(self.client.introspect(&self.cfg.url, token, None).await.map_err(|e| e.to_string())?);
        let mut ttl = self.cfg.cache_ttl;
        if let Some(exp) = answer.get("exp").and_then(Value::as_u64) {
            ttl = ttl.min(Duration::from_secs(exp.saturating_sub(crate::env::unix_now())));
        }
        if !ttl.is_zero() && self.cfg.cache_size > 0 {
            lock(&self.cache).put(*key, answer.clone(), sent + ttl);
        }
        Ok(answer)
    }

    #[cfg(test)]
    fn cached(&self) -> usize {
        lock(&self.cache).0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(n: u64) -> Arc<Map<String, Value>> {
        Arc::new(serde_json::json!({ "active": true, "n": n }).as_object().unwrap().clone())
    }

    #[tokio::test]
    async fn an_answer_is_not_served_at_or_after_its_end() {
        let mut c = Cache(Fifo::new(4));
        let now = crate::env::now();
        c.put(key_of("long"), answer(1), now + Duration::from_secs(60));
        c.put(key_of("short"), answer(2), now);
        assert_eq!(c.get(&key_of("long"), now).unwrap()["n"], 1);
        assert!(c.get(&key_of("short"), now).is_none());
        assert_eq!(c.0.len(), 1, "the ended answer is dropped");
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cfg = IntrospectionConfig::new(
            Introspect::Instead,
            "http://127.0.0.1:9/introspect",
            ClientCredentialsConfig::new("rs", "s", "http://127.0.0.1:9/token"),
        );
        let i = Introspector::new(cfg, crate::token::default_http_client().unwrap()).unwrap();
        assert_eq!(i.cached(), 0);
        assert!(i.answer("t").await.is_err(), "nothing listens on port 9");
        assert_eq!(i.cached(), 0, "failures are not cached");
    }
}
