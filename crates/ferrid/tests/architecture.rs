//! The dependency rules of docs/ARCHITECTURE.md ("Allowed dependencies"), checked against
//! what Cargo resolves: a crate that gains a dependency the document does not allow for
//! it fails here, so the layering cannot drift silently.

use std::collections::{BTreeMap, BTreeSet};

/// The fenced `deps` block of docs/ARCHITECTURE.md: `crate: dep dep …` per line.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let doc = include_str!("../../../docs/ARCHITECTURE.md");
    let block = doc
        .split("```deps\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/ARCHITECTURE.md has a ```deps block");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (krate, deps) = l.split_once(':').expect("a deps line is `crate: dep …`");
            (krate.trim().to_owned(), deps.split_whitespace().map(str::to_owned).collect())
        })
        .collect()
}

/// Normal (not dev or build) dependencies of every workspace member, from `cargo metadata`.
fn actual() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
    let mut crates = BTreeMap::new();
    for p in meta["packages"].as_array().expect("packages") {
        let deps = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().expect("name").to_owned())
            .collect();
        crates.insert(p["name"].as_str().expect("name").to_owned(), deps);
    }
    crates
}

#[test]
fn every_crate_depends_only_on_what_architecture_md_allows() {
    let allowed = allowed();
    let mut problems = Vec::new();
    for (krate, deps) in actual() {
        let Some(ok) = allowed.get(&krate) else {
            problems.push(format!("{krate} is not listed in the deps block of docs/ARCHITECTURE.md"));
            continue;
        };
        for dep in deps.difference(ok) {
            problems.push(format!("{krate} depends on {dep}, which docs/ARCHITECTURE.md does not allow"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_layering_forbids_the_server_side_in_the_client_and_frameworks_in_the_core() {
    // The fixed arrows, whatever the deps block says: the client library never reaches
    // the server side, the domain has no web framework or SQL, and test support is never
    // a normal dependency.
    let forbidden: &[(&str, &[&str])] = &[
        ("ferrid-oauth", &["ferrid-core", "ferrid-store", "ferrid-server", "tokio", "axum", "sqlx"]),
        ("ferrid-core", &["ferrid-store", "ferrid-server", "axum", "hyper", "sqlx"]),
        ("ferrid-store", &["ferrid-server", "axum", "hyper"]),
        ("ferrid-client", &["ferrid-core", "ferrid-store", "ferrid-server", "sqlx"]),
    ];
    let actual = actual();
    for (krate, deps) in &actual {
        assert!(!deps.contains("ferrid-testkit"), "{krate} has ferrid-testkit as a normal dependency");
    }
    for (krate, bad) in forbidden {
        let deps = actual.get(*krate).unwrap_or_else(|| panic!("{krate} is a workspace member"));
        for b in *bad {
            assert!(!deps.contains(*b), "{krate} must not depend on {b}");
        }
    }
}
