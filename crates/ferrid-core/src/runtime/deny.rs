//! The deny-list in memory (docs/provider.md "Revocation"): the `jti`s of access tokens
//! revoked before their `exp`, per track. Introspection, UserInfo and the management API
//! read it without a store call; the token endpoint never reads it. Each instance fills
//! it from the store at start, on every `deny:` notification and on a resync, and adds
//! its own revocations at once.

use std::{collections::HashMap, sync::RwLock};

use crate::{
    model::UnixTime,
    store::{Denied, TrackRef},
};

/// `tenant/track` → `jti` → `exp`.
#[derive(Default)]
pub struct DenyList {
    tracks: RwLock<HashMap<String, HashMap<String, UnixTime>>>,
}

fn key(tenant: &str, track: &str) -> String {
    format!("{tenant}/{track}")
}

impl DenyList {
    /// Whether `jti` of the track is denied.
    pub fn contains(&self, tenant: &str, track: &str, jti: &str) -> bool {
        let tracks = self.tracks.read().unwrap_or_else(|e| e.into_inner());
        tracks.get(&key(tenant, track)).is_some_and(|t| t.contains_key(jti))
    }

    /// Adds entries to a track's list.
    pub fn add(&self, track: &TrackRef, entries: &[Denied]) {
        if entries.is_empty() {
            return;
        }
        let mut tracks = self.tracks.write().unwrap_or_else(|e| e.into_inner());
        let t = tracks.entry(key(&track.tenant, &track.track)).or_default();
        for d in entries {
            t.insert(d.jti.clone(), d.expires);
        }
    }

    /// Replaces a track's list (after a notification).
    pub fn replace(&self, track: &TrackRef, entries: Vec<Denied>) {
        let list: HashMap<String, UnixTime> = entries.into_iter().map(|d| (d.jti, d.expires)).collect();
        let mut tracks = self.tracks.write().unwrap_or_else(|e| e.into_inner());
        tracks.insert(key(&track.tenant, &track.track), list);
    }

    /// Replaces every list (start-up, resync).
    pub fn replace_all(&self, entries: Vec<(TrackRef, Denied)>) {
        let mut all: HashMap<String, HashMap<String, UnixTime>> = HashMap::new();
        for (t, d) in entries {
            all.entry(key(&t.tenant, &t.track)).or_default().insert(d.jti, d.expires);
        }
        *self.tracks.write().unwrap_or_else(|e| e.into_inner()) = all;
    }

    /// Drops entries whose token has expired by `now` (it is refused for its `exp` anyway).
    pub fn purge(&self, now: UnixTime) -> usize {
        let mut tracks = self.tracks.write().unwrap_or_else(|e| e.into_inner());
        let mut dropped = 0;
        for t in tracks.values_mut() {
            let before = t.len();
            t.retain(|_, exp| *exp > now);
            dropped += before - t.len();
        }
        tracks.retain(|_, t| !t.is_empty());
        dropped
    }

    pub fn len(&self) -> usize {
        self.tracks.read().unwrap_or_else(|e| e.into_inner()).values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrid_oauth::name::Name;

    fn track(t: &str) -> TrackRef {
        TrackRef::new(Name::parse(t).unwrap(), Name::parse("p").unwrap())
    }

    fn d(jti: &str, expires: i64) -> Denied {
        Denied { jti: jti.into(), expires }
    }

    #[test]
    fn a_denied_jti_is_denied_in_its_track_only_until_purged_after_its_exp() {
        let list = DenyList::default();
        list.add(&track("a"), &[d("j1", 100), d("j2", 200)]);
        assert!(list.contains("a", "p", "j1"));
        assert!(!list.contains("b", "p", "j1"), "another track's");
        assert_eq!(list.purge(150), 1);
        assert!(!list.contains("a", "p", "j1") && list.contains("a", "p", "j2"));
        list.replace(&track("a"), vec![d("j3", 300)]);
        assert!(!list.contains("a", "p", "j2") && list.contains("a", "p", "j3"));
        list.replace_all(vec![(track("b"), d("j4", 400))]);
        assert_eq!(list.len(), 1);
        assert!(list.contains("b", "p", "j4"));
    }
}
