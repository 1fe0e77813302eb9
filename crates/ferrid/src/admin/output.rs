//! What `ferrid admin` prints: aligned columns and `key: value` blocks for people,
//! the API's JSON for programs (`--output json`).

use serde_json::{Value, json};

/// `--output`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Columns and `key: value` lines.
    Text,
    /// The API's JSON (lists merged over all pages into `{"items": [...]}`).
    Json,
}

/// A value as one line of text: strings bare, arrays of strings comma-separated, the rest JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Array(items) if items.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    }
}

/// Rows under a header, each column as wide as its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// A table whose cells are the given fields of each item.
pub fn items_table(items: &[Value], columns: &[(&str, &str)]) -> String {
    let header: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let rows: Vec<Vec<String>> =
        items.iter().map(|it| columns.iter().map(|(_, field)| cell(&it[*field])).collect()).collect();
    table(&header, &rows)
}

/// Keys shown first, in this order; the others follow alphabetically.
const FIRST: [&str; 12] = [
    "name",
    "tenant",
    "kind",
    "client_id",
    "client_secret",
    "id",
    "kid",
    "scopes",
    "issuer",
    "token_endpoint",
    "discovery_endpoint",
    "jwks_uri",
];

/// An object as aligned `key: value` lines, skipping `hide`d keys.
pub fn block(obj: &Value, hide: &[&str]) -> String {
    let Some(map) = obj.as_object() else {
        return format!("{}\n", cell(obj));
    };
    let mut keys: Vec<&str> = FIRST.iter().copied().filter(|k| map.contains_key(*k)).collect();
    keys.extend(map.keys().map(String::as_str).filter(|k| !FIRST.contains(k)));
    keys.retain(|k| !hide.contains(k));
    let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0) + 1;
    let value = |k: &str| match (k, &map[k]) {
        ("resource_scopes", Value::Array(grants)) if !grants.is_empty() => grant_list(grants).join(","),
        (_, v) => cell(v),
    };
    keys.iter().map(|k| format!("{:<width$} {}\n", format!("{k}:"), value(k))).collect()
}

/// What a program reads: pretty JSON.
pub fn json(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON values serialize") + "\n"
}

pub fn list_json(items: Vec<Value>) -> String {
    json(&json!({ "items": items }))
}

/// The block a developer needs after registering a client (docs/api.md).
pub fn registration(app: &Value) -> String {
    let mut out = String::new();
    let name = cell(&app["name"]);
    let kind = cell(&app["kind"]);
    out.push_str(&format!("Created {kind} '{name}'.\n\n"));
    let mut fields =
        vec!["client_id", "client_secret", "client_auth_method", "issuer", "token_endpoint", "discovery_endpoint"];
    if kind == "oidc_client" {
        fields.extend(["redirect_uris", "authorization_endpoint", "userinfo_endpoint", "end_session_endpoint"]);
    }
    if kind == "oauth_resource" {
        fields = vec!["name", "scopes", "issuer", "token_endpoint", "discovery_endpoint"];
    }
    let mut shown = serde_json::Map::new();
    for f in fields {
        if let Some(v) = app.get(f) {
            shown.insert(f.to_owned(), v.clone());
        }
    }
    if let Some(grants) = app.get("resource_scopes").and_then(Value::as_array).filter(|g| !g.is_empty()) {
        shown.insert("scopes".into(), json!(grant_list(grants)));
    }
    for line in block(&Value::Object(shown), &[]).lines() {
        out.push_str(&format!("  {line}\n"));
    }
    if app.get("client_secret").is_some() {
        out.push_str("\nThe client secret is shown only this once: store it now.\n");
    }
    out
}

/// `[{"resource": "api", "scopes": ["a", "b"]}]` → `["api:a", "api:b"]`.
pub fn grant_list(grants: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for g in grants {
        let r = g["resource"].as_str().unwrap_or_default();
        for s in g["scopes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            out.push(format!("{r}:{s}"));
        }
    }
    out
}

/// An app's scopes in one cell: a resource's own, or a client's grants.
pub fn app_scopes(app: &Value) -> String {
    match app.get("resource_scopes").and_then(Value::as_array) {
        Some(g) => grant_list(g).join(","),
        None => cell(&app["scopes"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let t = table(&["NAME", "KIND"], &[vec!["a".into(), "x".into()], vec!["longer-name".into(), "y".into()]]);
        assert_eq!(t, "NAME         KIND\na            x\nlonger-name  y\n");
    }

    #[test]
    fn the_registration_block_lists_what_a_developer_needs() {
        let app = json!({
            "name": "svc", "kind": "oauth_client", "client_id": "svc", "client_secret": "s3cr3t",
            "resource_scopes": [{ "resource": "api", "scopes": ["read"] }],
            "issuer": "http://x/t/p", "token_endpoint": "http://x/t/p/oauth/token",
            "discovery_endpoint": "http://x/t/p/.well-known/openid-configuration", "version": 1
        });
        let text = registration(&app);
        for want in ["client_id:", "client_secret:      s3cr3t", "token_endpoint:", "discovery_endpoint:", "api:read"] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
        assert!(!text.contains("version"));
    }
}
