//! Heap bytes per registered client in the snapshot (issue 20: ≤ 1 KiB of RSS per client,
//! docs/benchmarks.md "Registration scale"). A counting allocator, for this test binary
//! only, counts the bytes live on the test's own thread. A global allocator is `unsafe`
//! to implement, hence the one exception to the workspace's `unsafe_code` rule here.
#![allow(unsafe_code)]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
};

use ferrid_core::{
    credentials::secret::{generate, record_generated},
    env::SystemRng,
    keys::KeyCipher,
    model::{App, AppData, AppSpec, ClientAuthMethod, ClientSpec, ResourceScopes, ResourceSpec, Track, TrackSettings},
    runtime::{ClientRuntime, Registry, TrackBuilder},
    urls::PublicUrl,
};
use ferrid_oauth::{name::Name, scope::ScopeName};

struct Counting;

thread_local! {
    /// Bytes requested and live, and the same rounded to glibc's chunk sizes (16-byte
    /// steps, 8 bytes of header, 32 at least): what RSS sees.
    static LIVE: Cell<(isize, isize)> = const { Cell::new((0, 0)) };
}

fn chunk(size: usize) -> isize {
    ((size + 8).div_ceil(16) * 16).max(32) as isize
}

fn count(size: usize, sign: isize) {
    let _ = LIVE.try_with(|l| {
        let (a, c) = l.get();
        l.set((a + sign * size as isize, c + sign * chunk(size)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter only
// reads the layout.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 1);
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(layout.size(), -1);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(layout.size(), -1);
        count(new_size, 1);
        // SAFETY: as for `dealloc` and `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Live heap bytes (requested, in chunks) that `f` leaves behind, with what it returns.
fn heap_of<T>(f: impl FnOnce() -> T) -> (T, isize, isize) {
    let (a0, c0) = LIVE.with(Cell::get);
    let v = f();
    let (a1, c1) = LIVE.with(Cell::get);
    (v, a1 - a0, c1 - c0)
}

fn name(s: &str) -> Name {
    Name::parse(s).expect("a valid name")
}

fn track() -> Track {
    Track { tenant: name("t"), name: name("prod"), settings: TrackSettings::default(), version: 1, created: 0 }
}

fn resource() -> App {
    let scopes = ["read", "write"].map(|s| ScopeName::parse(s).expect("scope")).to_vec();
    App::new(name("t"), name("prod"), name("api"), AppSpec::OauthResource(ResourceSpec { scopes }), 0)
}

/// An `oauth_client` as `bench/registration_scale.py` registers it: `client_secret_basic`,
/// one generated secret, `api:read`.
fn client(i: usize) -> AppData {
    let spec = ClientSpec {
        client_auth_method: ClientAuthMethod::ClientSecretBasic,
        resource_scopes: vec![ResourceScopes {
            resource: name("api"),
            scopes: vec![ScopeName::parse("read").expect("scope")],
        }],
        access_token_lifetime: None,
        claims: Vec::new(),
        issued_claims: ferrid_core::claims::issue::default_issued(),
        claim_transforms: Vec::new(),
    };
    let app = App::new(name("t"), name("prod"), name(&format!("c{i:06}")), AppSpec::OauthClient(spec), 0);
    let secret = record_generated(&generate(&SystemRng), 0, &SystemRng);
    AppData { app, secrets: vec![secret], client_keys: Vec::new() }
}

fn urls() -> PublicUrl {
    PublicUrl::parse("https://id.example").expect("url")
}

/// The heap a registered client costs in the snapshot, in glibc's chunks. Measured at
/// 259 bytes (issue 20; before: 1 085, with owned strings for every grant, secret field
/// and a second copy of the name as the map's key).
const MAX_CHUNK_BYTES_PER_CLIENT: isize = 320;

const N: usize = 10_000;

#[test]
fn a_client_costs_at_most_320_bytes_of_heap_in_a_track_built_at_once() {
    let cipher = KeyCipher::new(&[7u8; 32]);
    let builder = TrackBuilder::start(&track(), &[], &[resource()], &cipher, &urls());
    // the input is made and dropped inside: what stays is the snapshot alone
    let (rt, bytes, chunks) = heap_of(|| {
        let mut b = builder;
        (0..N).for_each(|i| b.add(client(i)));
        b.finish(&urls())
    });
    let (per_client, per_client_chunks) = (bytes / N as isize, chunks / N as isize);
    println!("{N} clients built at once: {per_client} B/client requested, {per_client_chunks} B/client in chunks");
    assert_eq!(rt.clients.len(), N);
    assert!(per_client_chunks <= MAX_CHUNK_BYTES_PER_CLIENT, "{per_client_chunks} B per client");
}

#[test]
fn a_client_costs_at_most_320_bytes_of_heap_when_put_in_one_at_a_time() {
    let registry = Registry::new(KeyCipher::new(&[7u8; 32]), urls());
    registry.put_built(TrackBuilder::start(&track(), &[], &[resource()], registry.cipher(), &urls()).finish(&urls()));
    // as single-app writes through the management API do (`manage/reload.rs`)
    let ((), bytes, chunks) = heap_of(|| {
        for i in 0..N {
            let rt = registry.track("t", "prod").expect("the track");
            let c = ClientRuntime::build(client(i), &rt);
            drop(rt);
            assert!(registry.put_client("t", "prod", &name(&format!("c{i:06}")), c));
        }
    });
    let per_client_chunks = chunks / N as isize;
    println!(
        "{N} clients put in one by one: {} B/client requested, {per_client_chunks} B/client in chunks",
        bytes / N as isize
    );
    assert_eq!(registry.track("t", "prod").expect("the track").clients.len(), N);
    assert!(per_client_chunks <= MAX_CHUNK_BYTES_PER_CLIENT, "{per_client_chunks} B per client");
}
