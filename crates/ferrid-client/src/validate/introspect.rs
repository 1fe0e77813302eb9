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
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_lc_rs::digest;
use serde_json::{Map, Value};
use tokio::time::Instant;

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

type Key = [u8; 32];
type Flight = Arc<tokio::sync::OnceCell<Result<Arc<Map<String, Value>>, String>>>;

struct Entry {
    answer: Arc<Map<String, Value>>,
    until: Instant,
    seq: u64,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Key, Entry>,
    /// Insertion order; a key whose entry has another `seq` was replaced or removed.
    order: VecDeque<(Key, u64)>,
    seq: u64,
}

impl Cache {
    fn get(&mut self, key: &Key, now: Instant) -> Option<Arc<Map<String, Value>>> {
        match self.entries.get(key) {
            Some(e) if now < e.until => Some(e.answer.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&mut self, key: Key, answer: Arc<Map<String, Value>>, until: Instant, max: usize) {
        self.seq += 1;
        let seq = self.seq;
        self.entries.insert(key, Entry { answer, until, seq });
        self.order.push_back((key, seq));
        while self.entries.len() > max {
            let Some((k, s)) = self.order.pop_front() else { break };
            if self.entries.get(&k).is_some_and(|e| e.seq == s) {
                self.entries.remove(&k);
            }
        }
        if self.order.len() > 2 * max.max(1) {
            let entries = &self.entries;
            self.order.retain(|(k, s)| entries.get(k).is_some_and(|e| e.seq == *s));
        }
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

/// The cache key: SHA-256 of the token.
pub(crate) fn key_of(token: &str) -> Key {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

impl Introspector {
    pub(crate) fn new(cfg: IntrospectionConfig, http: reqwest::Client) -> Result<Introspector, ConfigError> {
        check_url(&cfg.url)?;
        let client = TokenClient::new(cfg.client.clone(), http)?;
        Ok(Introspector { cfg, client, cache: Mutex::default(), flights: Mutex::default() })
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
            lock(&self.cache).put(*key, answer.clone(), sent + ttl, self.cfg.cache_size);
        }
        Ok(answer)
    }

    #[cfg(test)]
    fn cached(&self) -> usize {
        lock(&self.cache).entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(n: u64) -> Arc<Map<String, Value>> {
        Arc::new(serde_json::json!({ "active": true, "n": n }).as_object().unwrap().clone())
    }

    #[test]
    fn the_key_is_a_digest_not_the_token() {
        let k = key_of("secret-token");
        assert_ne!(&k[..], b"secret-token");
        assert_eq!(k, key_of("secret-token"));
        assert_ne!(k, key_of("secret-tokeN"));
    }

    #[tokio::test]
    async fn the_cache_is_bounded_and_evicts_the_oldest() {
        let mut c = Cache::default();
        let now = crate::env::now();
        let later = now + Duration::from_secs(60);
        for n in 0..10u64 {
            c.put(key_of(&n.to_string()), answer(n), later, 4);
        }
        assert_eq!(c.entries.len(), 4);
        assert!(c.get(&key_of("5"), now).is_none());
        assert_eq!(c.get(&key_of("9"), now).unwrap()["n"], 9);
        assert_eq!(c.get(&key_of("6"), now).unwrap()["n"], 6);
        // replacing an entry does not let the stale order evict the new one
        c.put(key_of("6"), answer(60), later, 4);
        c.put(key_of("10"), answer(10), later, 4);
        assert_eq!(c.get(&key_of("6"), now).unwrap()["n"], 60);
        assert!(c.order.len() <= 8);
        // an entry is not served at or after its end
        c.put(key_of("short"), answer(1), now, 4);
        assert!(c.get(&key_of("short"), now).is_none());
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
