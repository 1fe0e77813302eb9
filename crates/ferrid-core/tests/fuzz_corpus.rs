//! Replays the saved fuzz corpus (`fuzz/corpus/<target>/`) through the same entry points
//! the fuzz targets use: every input that once ran must still run without a panic.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        run(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n > 0, "no corpus for {target}");
    n
}

#[test]
fn the_saved_fuzz_corpus_replays_without_a_panic() {
    use ferrid_core::fuzzing as f;
    let total = replay("token_request", f::token_request)
        + replay("client_assertion", f::client_assertion)
        + replay("key_import", f::key_import)
        + replay("scope", f::scope)
        + replay("claim_transforms", f::claim_transforms);
    eprintln!("replayed {total} corpus inputs");
}
