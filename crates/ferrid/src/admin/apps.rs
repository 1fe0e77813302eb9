//! `ferrid admin app …`, `secret …` and `key …`.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{
    AppCmd, AppSpecArgs, Connection, KeyCmd, SecretCmd,
    api::{Api, Failure},
    body::{self, AppFlags},
    output::{self, Format},
    tenants::{deleted, precondition, refs, show, show_list},
};

/// Fields the API returns that are not part of an app's body.
const READ_ONLY: [&str; 7] =
    ["created", "updated", "version", "client_id", "issuer", "token_endpoint", "discovery_endpoint"];

/// `tenants/{tenant}/tracks/{track}/apps[/…]`.
fn apps_path(conn: &Connection, rest: &[&str]) -> Result<Vec<String>, Failure> {
    let mut p: Vec<String> = ["tenants", conn.tenant()?, "tracks", conn.track(), "apps"].map(str::to_owned).to_vec();
    p.extend(rest.iter().map(|s| s.to_string()));
    Ok(p)
}

fn flags(spec: &AppSpecArgs) -> AppFlags<'_> {
    AppFlags {
        kind: spec.kind.as_deref(),
        scopes: &spec.scopes,
        client_auth_method: spec.client_auth_method.as_deref(),
        access_token_lifetime: spec.access_token_lifetime,
        redirect_uris: &spec.redirect_uris,
    }
}

fn items(v: Value) -> Vec<Value> {
    match v.get("items") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    }
}

pub async fn app(api: &Api, conn: &Connection, cmd: AppCmd) -> Result<String, Failure> {
    match cmd {
        AppCmd::Create { name, spec } => create(api, conn, name, &spec).await,
        AppCmd::List => {
            let all = api.list_all(&refs(&apps_path(conn, &[])?)).await?;
            Ok(match conn.output {
                Format::Json => output::list_json(all),
                Format::Text => app_table(&all),
            })
        }
        AppCmd::Get { name } => Ok(show(conn, &api.get(&refs(&apps_path(conn, &[&name])?)).await?.body)),
        AppCmd::Update { name, spec, if_match } => update(api, conn, &name, &spec, if_match).await,
        AppCmd::Delete { name } => {
            api.delete(&refs(&apps_path(conn, &[&name])?)).await?;
            Ok(deleted(conn, format!("app '{name}'")))
        }
    }
}

/// `app create`: the `--json` body (if any), the NAME, then the flags.
async fn create(api: &Api, conn: &Connection, name: Option<String>, spec: &AppSpecArgs) -> Result<String, Failure> {
    let mut b = match &spec.json {
        Some(file) => body::read_object(file)?,
        None => Map::new(),
    };
    if let Some(n) = name {
        b.insert("name".into(), json!(n));
    }
    if !b.contains_key("name") {
        return Err(Failure::Usage("app create needs a NAME (or a \"name\" in --json)".into()));
    }
    if spec.kind.is_none() && !b.contains_key("kind") {
        return Err(Failure::Usage("app create needs --kind oauth_resource, oauth_client or oidc_client".into()));
    }
    body::apply_app_flags(&mut b, &flags(spec))?;
    let reply = api.post(&refs(&apps_path(conn, &[])?), &Value::Object(b)).await?;
    Ok(match conn.output {
        Format::Json => output::json(&reply.body),
        Format::Text => output::registration(&reply.body),
    })
}

/// `app update`: read the app, apply `--json` or the flags to it, and `PUT` it back
/// only if it is still the version read (or `--if-match`).
async fn update(
    api: &Api,
    conn: &Connection,
    name: &str,
    spec: &AppSpecArgs,
    if_match: Option<u64>,
) -> Result<String, Failure> {
    let path = apps_path(conn, &[name])?;
    let current = api.get(&refs(&path)).await?;
    let mut b = match &spec.json {
        Some(file) => body::read_object(file)?,
        None => current.body.as_object().cloned().unwrap_or_default(),
    };
    b.retain(|k, _| !READ_ONLY.contains(&k.as_str()));
    b.insert("name".into(), json!(name));
    if !b.contains_key("kind") {
        b.insert("kind".into(), current.body["kind"].clone());
    }
    body::apply_app_flags(&mut b, &flags(spec))?;
    let tag = precondition(if_match, &current)?;
    Ok(show(conn, &api.write(Method::PUT, &refs(&path), &Value::Object(b), &tag).await?.body))
}

fn app_table(apps: &[Value]) -> String {
    let rows: Vec<Vec<String>> = apps
        .iter()
        .map(|a| {
            let kind = output::cell(&a["kind"]);
            let auth = if kind == "oauth_client" { output::cell(&a["client_auth_method"]) } else { "-".into() };
            vec![output::cell(&a["name"]), kind, auth, output::app_scopes(a), output::cell(&a["version"])]
        })
        .collect();
    output::table(&["NAME", "KIND", "CLIENT_AUTH", "SCOPES", "VERSION"], &rows)
}

pub async fn secret(api: &Api, conn: &Connection, cmd: SecretCmd) -> Result<String, Failure> {
    match cmd {
        SecretCmd::Add { app, secret } => {
            let b = match secret {
                Some(s) => json!({ "secret": s }),
                None => json!({}),
            };
            let r = api.post(&refs(&apps_path(conn, &[&app, "secrets"])?), &b).await?.body;
            Ok(match conn.output {
                Format::Json => output::json(&r),
                Format::Text => {
                    let id = output::cell(&r["id"]);
                    match r.get("secret").and_then(Value::as_str) {
                        Some(s) => format!(
                            "Added secret {id} to '{app}'.\n\n  client_secret: {s}\n\nThe secret is shown only this once: store it now.\n"
                        ),
                        None => format!("Added the chosen secret to '{app}' as {id}.\n"),
                    }
                }
            })
        }
        SecretCmd::List { app } => {
            let r = api.get(&refs(&apps_path(conn, &[&app, "secrets"])?)).await?.body;
            Ok(show_list(conn, items(r), &[("ID", "id"), ("INFO", "info"), ("CREATED", "created")]))
        }
        SecretCmd::Delete { app, id } => {
            api.delete(&refs(&apps_path(conn, &[&app, "secrets", &id])?)).await?;
            Ok(deleted(conn, format!("secret {id} of '{app}'")))
        }
    }
}

const KEY_COLUMNS: [(&str, &str); 4] =
    [("KID", "kid"), ("SUBJECT", "subject"), ("NOT_AFTER", "not_after"), ("CREATED", "created")];

pub async fn key(api: &Api, conn: &Connection, cmd: KeyCmd) -> Result<String, Failure> {
    match cmd {
        KeyCmd::Add { app, pfx, password, pem, jwk } => {
            let b = body::key_body(pem.as_deref(), pfx.as_deref(), password.as_deref(), jwk.as_deref())?;
            let r = api.post(&refs(&apps_path(conn, &[&app, "keys"])?), &b).await?.body;
            Ok(match conn.output {
                Format::Json => output::json(&r),
                Format::Text => format!("Added key to '{app}'.\n\n{}", output::block(&r, &["jwk"])),
            })
        }
        KeyCmd::List { app } => {
            let r = api.get(&refs(&apps_path(conn, &[&app, "keys"])?)).await?.body;
            Ok(show_list(conn, items(r), &KEY_COLUMNS))
        }
        KeyCmd::Delete { app, kid } => {
            api.delete(&refs(&apps_path(conn, &[&app, "keys", &kid])?)).await?;
            Ok(deleted(conn, format!("key {kid} of '{app}'")))
        }
    }
}
