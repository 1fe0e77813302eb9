//! The buckets of one instance's throttle: per source address, and per holder at a
//! source. A holder ([`is_holder`]) is a registered client, named by a valid [`Name`],
//! or a user of a track, named `user:{id}` (provider::login; ids are random, so unique
//! across tracks); any other id is counted in its source's bucket alone.

use std::{collections::HashMap, net::IpAddr};

use ferrid_oauth::name::Name;

use super::MAX_CLIENTS_PER_SOURCE;

/// The key of the bucket shared by a source's holders beyond [`MAX_CLIENTS_PER_SOURCE`]
/// (no valid name is empty).
const OVERFLOW: &str = "";

#[derive(Debug, Clone, Copy)]
pub(super) struct Bucket {
    pub(super) tokens: f64,
    /// Milliseconds on the throttle's monotonic clock.
    pub(super) at: u64,
}

/// The buckets of one source address: its own, and one per registered client that
/// failed from it.
#[derive(Debug)]
pub(super) struct Source {
    pub(super) bucket: Bucket,
    pub(super) clients: Vec<(Box<str>, Bucket)>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) sources: HashMap<IpAddr, Source>,
    /// Sources plus client buckets.
    pub(super) buckets: usize,
    pub(super) swept: u64,
}

impl State {
    /// The buckets of `source`, created with a full bucket if missing, and the count of
    /// buckets held.
    pub(super) fn source(&mut self, source: IpAddr, full: Bucket) -> (&mut Source, &mut usize) {
        let State { sources, buckets, .. } = self;
        let entry = sources.entry(source).or_insert_with(|| {
            *buckets += 1;
            Source { bucket: full, clients: Vec::new() }
        });
        (entry, buckets)
    }
}

/// A registered client's name, or a user's holder `user:{id}` (an id is base64url).
pub(super) fn is_holder(h: &str) -> bool {
    match h.strip_prefix(crate::provider::login::USER_HOLDER) {
        Some(id) => {
            (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        None => Name::check(h).is_ok(),
    }
}

/// The key of `client`'s bucket at a source: its name, or the overflow bucket for a name
/// that is no holder (callers pass registered clients and users only) or that finds the
/// source full.
pub(super) fn slot_key<'k>(entry: &Source, client: &'k str) -> &'k str {
    let known = |k: &str| entry.clients.iter().any(|(x, _)| &**x == k);
    if !is_holder(client) || (entry.clients.len() >= MAX_CLIENTS_PER_SOURCE && !known(client)) {
        OVERFLOW
    } else {
        client
    }
}

pub(super) fn find(entry: &Source, client: &str) -> Option<Bucket> {
    let k = slot_key(entry, client);
    entry.clients.iter().find(|(x, _)| **x == *k).map(|(_, b)| *b)
}

/// The client's bucket at a source (see [`slot_key`]), created full if missing.
pub(super) fn client_slot<'s>(
    entry: &'s mut Source,
    client: &str,
    full: Bucket,
    buckets: &mut usize,
) -> &'s mut Bucket {
    let k = slot_key(entry, client);
    let i = match entry.clients.iter().position(|(x, _)| **x == *k) {
        Some(i) => i,
        None => {
            entry.clients.push((k.into(), full));
            *buckets += 1;
            entry.clients.len() - 1
        }
    };
    &mut entry.clients[i].1
}
