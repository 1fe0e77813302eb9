//! A map of at most `max` entries keyed by a token's SHA-256 digest, the oldest
//! inserted evicted first: the introspection answers and the verified tokens.

use std::collections::{HashMap, VecDeque};

use aws_lc_rs::digest;

/// The SHA-256 digest of a token: the key of every cache of the validation layer, so
/// that no cache holds a token.
pub(crate) type Key = [u8; 32];

/// The cache key of `token`.
pub(crate) fn key_of(token: &str) -> Key {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

struct Slot<V> {
    value: V,
    seq: u64,
}

/// Bounded by `max` entries; see the module documentation.
pub(crate) struct Fifo<V> {
    entries: HashMap<Key, Slot<V>>,
    /// Insertion order; a key whose entry has another `seq` was replaced or removed.
    order: VecDeque<(Key, u64)>,
    seq: u64,
    max: usize,
}

impl<V> Fifo<V> {
    pub(crate) fn new(max: usize) -> Fifo<V> {
        Fifo { entries: HashMap::new(), order: VecDeque::new(), seq: 0, max }
    }

    pub(crate) fn get(&self, key: &Key) -> Option<&V> {
        self.entries.get(key).map(|s| &s.value)
    }

    pub(crate) fn remove(&mut self, key: &Key) {
        self.entries.remove(key);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Inserts or replaces, then evicts the oldest entries beyond `max`.
    pub(crate) fn put(&mut self, key: Key, value: V) {
        self.seq += 1;
        let seq = self.seq;
        self.entries.insert(key, Slot { value, seq });
        self.order.push_back((key, seq));
        while self.entries.len() > self.max {
            let Some((k, s)) = self.order.pop_front() else { break };
            if self.entries.get(&k).is_some_and(|e| e.seq == s) {
                self.entries.remove(&k);
            }
        }
        self.compact();
    }

    /// Keeps only the entries `keep` accepts.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, s| keep(&s.value));
        self.compact();
    }

    /// Drops the order's records of removed or replaced entries once they outnumber the
    /// entries, so the order stays within twice the bound.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.max.max(1) {
            let entries = &self.entries;
            self.order.retain(|(k, s)| entries.get(k).is_some_and(|e| e.seq == *s));
        }
    }

    #[cfg(test)]
    pub(crate) fn order_len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_a_digest_not_the_token() {
        let k = key_of("secret-token");
        assert_ne!(&k[..], b"secret-token");
        assert_eq!(k, key_of("secret-token"));
        assert_ne!(k, key_of("secret-tokeN"));
    }

    #[test]
    fn the_map_is_bounded_and_evicts_the_oldest() {
        let mut c = Fifo::new(4);
        for n in 0..10u64 {
            c.put(key_of(&n.to_string()), n);
        }
        assert_eq!(c.len(), 4);
        assert!(c.get(&key_of("5")).is_none());
        assert_eq!(c.get(&key_of("9")), Some(&9));
        assert_eq!(c.get(&key_of("6")), Some(&6));
        // replacing an entry does not let the stale order evict the new one
        c.put(key_of("6"), 60);
        c.put(key_of("10"), 10);
        assert_eq!(c.get(&key_of("6")), Some(&60));
        assert!(c.order_len() <= 8);
        // removing and retaining keep the order bounded too
        for n in 0..100u64 {
            c.put(key_of("r"), n);
            c.remove(&key_of("r"));
        }
        assert!(c.order_len() <= 8);
        c.retain(|v| *v == 60);
        assert_eq!(c.len(), 1);
    }
}
