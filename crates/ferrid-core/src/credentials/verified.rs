//! Chosen secrets already verified, remembered as a keyed digest under a key that exists
//! only in this process, so a slow hash is paid once per secret, not per request.

use aws_lc_rs::hmac;
use subtle::ConstantTimeEq;

use crate::env::random_bytes;

/// Chosen secrets verified once, process-wide, keyed by secret id (random and never
/// reused): an entry of a removed secret is never consulted again, since only the ids
/// of a client's current secrets are looked up. One cache, not one per client, keeps
/// the snapshot small with many clients.
pub fn verified() -> &'static VerifiedCache {
    static CACHE: std::sync::OnceLock<VerifiedCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Forgets verified chosen secrets that were removed (their ids are never reused, so
/// this only returns the memory).
pub fn forget_verified(ids: &[String]) {
    if !ids.is_empty() {
        verified().forget(ids);
    }
}

/// Remembers chosen secrets already verified, as a keyed digest under a key that exists
/// only in this process, so a slow hash is paid once per secret, not per request.
pub struct VerifiedCache {
    key: hmac::Key,
    entries: std::sync::RwLock<std::collections::HashMap<String, [u8; 32]>>,
}

impl Default for VerifiedCache {
    fn default() -> Self {
        VerifiedCache { key: hmac::Key::new(hmac::HMAC_SHA256, &random_bytes::<32>()), entries: Default::default() }
    }
}

impl VerifiedCache {
    /// The keyed digest of a presented secret, computed once per request.
    pub fn tag(&self, secret: &[u8]) -> [u8; 32] {
        hmac::sign(&self.key, secret).as_ref().try_into().expect("HMAC-SHA256 is 32 bytes")
    }

    /// Whether `presented` is the secret `id` verified earlier (constant-time).
    pub fn matches(&self, id: &str, presented: &[u8]) -> bool {
        self.matches_tag(id, &self.tag(presented))
    }

    /// Whether the secret whose [`VerifiedCache::tag`] is `tag` is the secret `id`
    /// verified earlier (constant-time).
    pub fn matches_tag(&self, id: &str, tag: &[u8; 32]) -> bool {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        match entries.get(id) {
            Some(t) => tag.ct_eq(t).into(),
            None => false,
        }
    }

    pub fn remember(&self, id: &str, presented: &[u8]) {
        let tag = self.tag(presented);
        self.entries.write().unwrap_or_else(|e| e.into_inner()).insert(id.to_owned(), tag);
    }

    /// Drops the entries of removed secrets.
    pub fn forget(&self, ids: &[String]) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            entries.remove(id);
        }
    }

    /// How many verified secrets are remembered.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_secret_is_forgotten_by_the_verified_cache() {
        let cache = VerifiedCache::default();
        cache.remember("s1", b"chosen one");
        cache.remember("s2", b"chosen two");
        assert!(cache.matches("s1", b"chosen one"));
        cache.forget(&["s1".to_owned()]);
        assert!(!cache.matches("s1", b"chosen one"));
        assert!(cache.matches("s2", b"chosen two"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn verified_cache_recognises_only_the_same_secret() {
        let c = VerifiedCache::default();
        c.remember("id1", b"secret");
        assert!(c.matches("id1", b"secret"));
        assert!(!c.matches("id1", b"secreT"));
        assert!(!c.matches("id2", b"secret"));
    }
}
