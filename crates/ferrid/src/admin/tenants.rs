//! `ferrid admin tenant …` and `ferrid admin track …`.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{
    Connection, TenantCmd, TrackCmd, TrackLaterSettings, TrackSettings,
    api::{Api, Failure, Reply},
    output::{self, Format},
};

const TRACK_COLUMNS: [(&str, &str); 5] = [
    ("NAME", "name"),
    ("ALG", "signing_alg"),
    ("TOKEN_LIFETIME", "access_token_lifetime"),
    ("VERSION", "version"),
    ("ISSUER", "issuer"),
];
const TRACK_KEY_COLUMNS: [(&str, &str); 4] =
    [("KID", "kid"), ("STATE", "state"), ("CREATED", "created"), ("CHANGED", "changed")];

/// An object: the JSON, or `key: value` lines.
pub fn show(conn: &Connection, v: &Value) -> String {
    match conn.output {
        Format::Json => output::json(v),
        Format::Text => output::block(v, &[]),
    }
}

/// A listing: the JSON, or a table.
pub fn show_list(conn: &Connection, items: Vec<Value>, columns: &[(&str, &str)]) -> String {
    match conn.output {
        Format::Json => output::list_json(items),
        Format::Text => output::items_table(&items, columns),
    }
}

/// What a delete prints: a line of text, or nothing for JSON.
pub fn deleted(conn: &Connection, what: String) -> String {
    match conn.output {
        Format::Json => String::new(),
        Format::Text => format!("Deleted {what}.\n"),
    }
}

pub async fn tenant(api: &Api, conn: &Connection, cmd: TenantCmd) -> Result<String, Failure> {
    match cmd {
        TenantCmd::Create { name } => {
            let t = api.post(&["tenants"], &json!({ "name": name })).await?.body;
            Ok(match conn.output {
                Format::Json => output::json(&t),
                Format::Text => format!("Created tenant '{name}' with its master track.\n"),
            })
        }
        TenantCmd::List => {
            Ok(show_list(conn, api.list_all(&["tenants"]).await?, &[("NAME", "name"), ("CREATED", "created")]))
        }
        TenantCmd::Get { name } => Ok(show(conn, &api.get(&["tenants", &name]).await?.body)),
        TenantCmd::Delete { name } => {
            api.delete(&["tenants", &name]).await?;
            Ok(deleted(conn, format!("tenant '{name}'")))
        }
    }
}

fn settings_body(s: &TrackSettings, body: &mut Map<String, Value>) {
    if let Some(l) = s.access_token_lifetime {
        body.insert("access_token_lifetime".into(), json!(l));
    }
    if let Some(l) = s.assertion_max_lifetime {
        body.insert("assertion_max_lifetime".into(), json!(l));
    }
}

fn later_settings_body(s: &TrackLaterSettings, body: &mut Map<String, Value>) {
    let fields = [
        ("key_rotation_days", s.key_rotation_days),
        ("session_lifetime", s.session_lifetime),
        ("session_absolute_lifetime", s.session_absolute_lifetime),
        ("password_min_length", s.password_min_length),
        ("lockout_failures", s.lockout_failures),
        ("lockout_duration", s.lockout_duration),
    ];
    for (field, value) in fields {
        if let Some(v) = value {
            body.insert(field.into(), json!(v));
        }
    }
}

/// The `If-Match` value: the version the user names, else the ETag just read.
pub fn precondition(if_match: Option<u64>, read: &Reply) -> Result<String, Failure> {
    match (if_match, &read.etag) {
        (Some(v), _) => Ok(format!("\"{v}\"")),
        (None, Some(tag)) => Ok(tag.clone()),
        (None, None) => Err(Failure::Other("the server sent no ETag to make the update conditional".into())),
    }
}

pub async fn track(api: &Api, conn: &Connection, cmd: TrackCmd) -> Result<String, Failure> {
    let tenant = conn.tenant()?;
    let tracks = ["tenants", tenant, "tracks"];
    let one = |name: &str| -> [String; 4] { ["tenants".into(), tenant.into(), "tracks".into(), name.into()] };
    match cmd {
        TrackCmd::Create { name, signing_alg, settings } => {
            let mut body = Map::new();
            body.insert("name".into(), json!(name));
            if let Some(alg) = signing_alg {
                body.insert("signing_alg".into(), json!(alg));
            }
            settings_body(&settings, &mut body);
            Ok(show(conn, &api.post(&tracks, &Value::Object(body)).await?.body))
        }
        TrackCmd::List => Ok(show_list(conn, api.list_all(&tracks).await?, &TRACK_COLUMNS)),
        TrackCmd::Get { name } => Ok(show(conn, &api.get(&refs(&one(&name))).await?.body)),
        TrackCmd::Update { name, settings, later, if_match } => {
            let mut body = Map::new();
            settings_body(&settings, &mut body);
            later_settings_body(&later, &mut body);
            if body.is_empty() {
                return Err(Failure::Usage(
                    "nothing to change: give --access-token-lifetime, --assertion-max-lifetime, --key-rotation-days, \
                     --session-lifetime, --session-absolute-lifetime, --password-min-length, --lockout-failures or \
                     --lockout-duration"
                        .into(),
                ));
            }
            let path = one(&name);
            let current = api.get(&refs(&path)).await?;
            let tag = precondition(if_match, &current)?;
            Ok(show(conn, &api.write(Method::PATCH, &refs(&path), &Value::Object(body), &tag).await?.body))
        }
        TrackCmd::Delete { name } => {
            api.delete(&refs(&one(&name))).await?;
            Ok(deleted(conn, format!("track '{tenant}/{name}'")))
        }
        TrackCmd::Keys { name } => {
            let mut path = one(&name).to_vec();
            path.push("keys".into());
            let items = api.get(&refs(&path)).await?.body["items"].as_array().cloned().unwrap_or_default();
            Ok(show_list(conn, items, &TRACK_KEY_COLUMNS))
        }
        TrackCmd::Rotate { name } => {
            let mut path = one(&name).to_vec();
            path.extend(["keys".into(), "rotate".into()]);
            let items = api.post(&refs(&path), &json!({})).await?.body["items"].as_array().cloned().unwrap_or_default();
            Ok(show_list(conn, items, &TRACK_KEY_COLUMNS))
        }
    }
}

/// `&[String]` → `Vec<&str>` for [`Api`] paths.
pub fn refs(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}
