//! What a gateway configuration holds that ferrid ignores, and which of it carries
//! security (and so stops the start unless allowed).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Whether an `extra_config` namespace carries security (rate limits, CORS and other
/// HTTP security policies, input validation, authentication), so that running without
/// it must be asked for.
pub(super) fn security_bearing(ns: &str) -> bool {
    matches!(ns.split('/').next(), Some("qos" | "security" | "validation" | "auth"))
}

/// What the configuration holds that ferrid ignores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// `extra_config` namespaces not supported, with how often each appears.
    pub ignored_namespaces: BTreeMap<String, usize>,
    /// Other settings not supported, by name (`endpoints[].input_headers`).
    pub ignored_settings: BTreeSet<String>,
}

impl Report {
    /// Logs one warning per ignored namespace and one listing the ignored settings.
    pub fn log(&self) {
        for (ns, n) in &self.ignored_namespaces {
            tracing::warn!(namespace = %ns, occurrences = n, "extra_config namespace not supported by ferrid; ignored");
        }
        if !self.ignored_settings.is_empty() {
            let names: Vec<_> = self.ignored_settings.iter().map(String::as_str).collect();
            tracing::warn!(settings = %names.join(", "), "settings not supported by ferrid; ignored");
        }
    }

    /// Records unknown settings; `"no-op"` encodings are what ferrid does anyway.
    pub(super) fn settings(&mut self, prefix: &str, unknown: &BTreeMap<String, Value>) {
        let noop = |k: &str, v: &Value| matches!(k, "output_encoding" | "encoding") && v == "no-op";
        self.ignored_settings.extend(unknown.iter().filter(|(k, v)| !noop(k, v)).map(|(k, _)| format!("{prefix}{k}")));
    }
}
