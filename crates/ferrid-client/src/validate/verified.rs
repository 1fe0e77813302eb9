//! Tokens whose signature verified, with their claims (docs/client.md "Verified
//! tokens"), so that a token presented again is not verified again.
//!
//! - The key is the SHA-256 digest of the whole token: a hit is the same bytes —
//!   header, claims and signature — that verified before.
//! - An entry remembers the generation of the key set that verified it
//!   ([`super::JwksCache`] counts its fetches) and is used only while that set is the
//!   one held and fresh: after a refetch the token is verified again, so a token signed
//!   by a removed key is refused.
//! - A hit skips the header, key and signature checks (steps 1–4 of [`super`]), whose
//!   outcome the token's bytes, the configuration and the key set fix. The claim checks
//!   (exp and nbf with the leeway, iss, aud) and the scope and role checks run on every
//!   hit; an entry whose claims no longer pass is dropped when met, and every minute a
//!   write drops the entries past `exp`.
//! - At most `max` entries (default 10 000), the oldest evicted first: callers holding
//!   many valid tokens can fill it, never grow it.

use std::sync::Mutex;

use super::{
    Claims,
    fifo::{Fifo, Key},
};

/// Drop the expired entries at most this often, seconds.
const SWEEP_EVERY: u64 = 60;

struct Entry {
    claims: Claims,
    exp: u64,
    generation: u64,
}

struct State {
    tokens: Fifo<Entry>,
    next_sweep: u64,
}

/// The verified tokens of one validator.
pub(crate) struct VerifiedTokens {
    state: Mutex<State>,
    max: usize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl VerifiedTokens {
    /// Holds at most `max` tokens; 0 turns the cache off.
    pub(crate) fn new(max: usize) -> VerifiedTokens {
        VerifiedTokens { state: Mutex::new(State { tokens: Fifo::new(max), next_sweep: 0 }), max }
    }

    /// The claims of the token with this digest, if it verified under the key set of
    /// `generation` (the set held now, if fresh). An entry of another generation is
    /// dropped.
    pub(crate) fn get(&self, key: &Key, generation: Option<u64>) -> Option<Claims> {
        if self.max == 0 {
            return None;
        }
        let mut state = lock(&self.state);
        let e = state.tokens.get(key)?;
        if Some(e.generation) == generation {
            return Some(e.claims.clone());
        }
        state.tokens.remove(key);
        None
    }

    /// Remembers a token verified under the key set of `generation`.
    pub(crate) fn put(&self, key: Key, claims: Claims, exp: u64, generation: u64, now: u64) {
        if self.max == 0 {
            return;
        }
        let mut state = lock(&self.state);
        if now >= state.next_sweep {
            state.tokens.retain(|e| e.exp >= now);
            state.next_sweep = now.saturating_add(SWEEP_EVERY);
        }
        state.tokens.put(key, Entry { claims, exp, generation });
    }

    /// Forgets a token (its claims no longer pass).
    pub(crate) fn remove(&self, key: &Key) {
        lock(&self.state).tokens.remove(key);
    }

    /// How many tokens are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).tokens.len()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{super::fifo::key_of, *};

    fn claims(n: u64) -> Claims {
        Claims::new(json!({ "n": n }).as_object().unwrap().clone())
    }

    #[test]
    fn an_entry_serves_only_the_generation_that_verified_it() {
        let v = VerifiedTokens::new(10);
        v.put(key_of("t"), claims(1), 500, 3, 100);
        assert_eq!(v.get(&key_of("t"), Some(3)), Some(claims(1)));
        assert_eq!(v.get(&key_of("t"), None), None, "no fresh key set");
        assert_eq!(v.get(&key_of("t"), Some(3)), None, "dropped when met with another generation");
        assert_eq!(v.len(), 0);
    }

    #[test]
    fn the_bound_holds_and_expired_entries_are_swept() {
        let v = VerifiedTokens::new(100);
        for n in 0..1000u64 {
            v.put(key_of(&n.to_string()), claims(n), 200 + n, 1, 100);
        }
        assert_eq!(v.len(), 100);
        assert!(v.get(&key_of("899"), Some(1)).is_none(), "the oldest went first");
        assert!(v.get(&key_of("999"), Some(1)).is_some());
        // a minute later, a write drops every entry whose exp has passed
        v.put(key_of("new"), claims(0), 10_000, 1, 1199);
        assert_eq!(v.len(), 2, "999 (exp 1199) and the new one");
        let off = VerifiedTokens::new(0);
        off.put(key_of("t"), claims(1), 500, 1, 100);
        assert_eq!((off.len(), off.get(&key_of("t"), Some(1))), (0, None));
    }
}
