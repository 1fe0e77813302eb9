//! The registration of an application's page as labelled controls (docs/console.md
//! "Applications"): each control is named after the field of the API's `PUT …/apps/{app}`
//! it fills (docs/api.md "Registering an app"), so a refusal's field path lands next to
//! it; fields with nested structure are JSON text areas of their own. The body is the
//! stored registration with the posted controls laid over it, so a field without a
//! control is kept as it is.

use ferrid_core::model::App;
use serde_json::{Map, Value, json};

use super::{
    Console,
    apps::{METHODS, app_path, list_of},
    view::{Field, FormView, Posted},
};

const SPACES: &[char] = &[' ', '\t', '\n', '\r', ','];
const LINES: &[char] = &[' ', '\t', '\n', '\r'];
const COMMAS: &[char] = &[',', '\n', '\r'];

/// A list control: its field, label, separators when read, separator when shown, hint.
struct ListControl(&'static str, &'static str, &'static [char], &'static str, &'static str);

const CLIENT_LISTS: [ListControl; 1] =
    [ListControl("issued_claims", "Issued claims", SPACES, " ", "Separated by spaces; * for all.")];
const OIDC_LISTS: [ListControl; 4] = [
    ListControl("redirect_uris", "Redirect URIs", LINES, "\n", "One per line."),
    ListControl("post_logout_redirect_uris", "Post-logout redirect URIs", LINES, "\n", "One per line."),
    ListControl(
        "response_types",
        "Response types",
        COMMAS,
        ", ",
        "Separated by commas, for example code, or code id_token.",
    ),
    ListControl(
        "grant_types",
        "Grant types",
        &[',', ' ', '\n', '\r'],
        ", ",
        "Separated by commas: authorization_code, refresh_token, client_credentials, implicit.",
    ),
];
const CLIENT_NUMBERS: [(&str, &str); 1] = [("access_token_lifetime", "Access token lifetime (seconds)")];
const OIDC_NUMBERS: [(&str, &str); 3] = [
    ("id_token_lifetime", "ID token lifetime (seconds)"),
    ("refresh_token_lifetime", "Refresh token lifetime (seconds)"),
    ("refresh_token_absolute_lifetime", "Refresh token absolute lifetime (seconds)"),
];
const OIDC_BOOLS: [(&str, &str); 2] = [("require_pkce", "Require PKCE"), ("require_consent", "Require consent")];
const CLIENT_JSON: [(&str, &str); 2] =
    [("claims", "Claims (JSON)"), ("claim_transforms", "Claim transforms (JSON, in order)")];
const OIDC_JSON: [(&str, &str); 2] = [("scopes", "OpenID Connect scopes (JSON)"), ("resource", "Own resource (JSON)")];

/// The stored registration as the JSON object `PUT` takes.
fn stored(a: &App) -> Map<String, Value> {
    let mut obj = match serde_json::to_value(&a.spec) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    obj.entry("kind").or_insert_with(|| json!(a.spec.kind()));
    obj
}

fn joined(v: Option<&Value>, sep: &str) -> String {
    let items = v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect::<Vec<_>>().join(sep)
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// The `resource:scope` grants of a stored `resource_scopes`.
fn granted(v: Option<&Value>) -> Vec<String> {
    let items = v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut out = Vec::new();
    for g in items {
        let r = g["resource"].as_str().unwrap_or_default();
        for s in g["scopes"].as_array().map(Vec::as_slice).unwrap_or_default() {
            out.push(format!("{r}:{}", s.as_str().unwrap_or_default()));
        }
    }
    out
}

/// The registration form of `a`, prefilled; `grants` are the track's `resource:scope`s.
pub fn registration_form(c: &Console, tenant: &str, track: &str, a: &App, grants: &[String]) -> FormView {
    let obj = stored(a);
    let mut form = FormView::post(app_path(c, tenant, track, &a.name), &c.csrf, "Save registration")
        .label("Registration")
        .field(Field::hidden("version", &a.version.to_string()));
    let kind = a.spec.kind();
    if kind == "oauth_resource" {
        let scopes = joined(obj.get("scopes"), " ");
        return form
            .field(Field::text("scopes", "Scopes").value(scopes).hint("Separated by spaces, for example read write."));
    }
    let oidc = kind == "oidc_client";
    let have = granted(obj.get("resource_scopes"));
    let mut boxes: Vec<(String, bool)> = grants.iter().map(|g| (g.clone(), have.contains(g))).collect();
    boxes.extend(have.iter().filter(|g| !grants.contains(g)).map(|g| (g.clone(), true)));
    form = form.field(Field::checkboxes("resource_scopes", "Resource scopes", &boxes));
    let mut methods: Vec<(&str, &str)> = METHODS.to_vec();
    if oidc {
        methods.push(("none", "none (a public client, with PKCE)"));
    }
    let method = obj.get("client_auth_method").and_then(Value::as_str).unwrap_or_default();
    form = form.field(Field::select("client_auth_method", "Client authentication method", &methods, method));
    let lists = CLIENT_LISTS.iter().chain(if oidc { &OIDC_LISTS[..] } else { &[] });
    for ListControl(name, label, _, sep, hint) in lists {
        let value = joined(obj.get(*name), sep);
        form = form.field(
            if *sep == "\n" { Field::textarea(name, label) } else { Field::text(name, label) }.value(value).hint(*hint),
        );
    }
    if oidc {
        let front = shown(obj.get("frontchannel_logout_uri"));
        form = form.field(Field::text("frontchannel_logout_uri", "Front-channel logout URI").value(front));
        for (name, label) in OIDC_BOOLS {
            form = form.field(Field::checkbox(name, label, obj.get(name).and_then(Value::as_bool).unwrap_or(false)));
        }
    }
    let numbers = CLIENT_NUMBERS.iter().chain(if oidc { &OIDC_NUMBERS[..] } else { &[] });
    for (name, label) in numbers {
        let f = Field::number(name, label).value(shown(obj.get(*name)));
        form = form.field(f.hint("Empty for the default (docs/api.md)."));
    }
    let jsons = CLIENT_JSON.iter().chain(if oidc { &OIDC_JSON[..] } else { &[] });
    for (name, label) in jsons {
        let f = Field::textarea(name, label).value(shown(obj.get(*name)));
        form = form.field(f.hint("As the management API takes it (docs/api.md); empty for the default."));
    }
    form
}

/// Sets `name` from `posted` when the control was posted: empty text drops the member
/// (its default applies).
fn lay(obj: &mut Map<String, Value>, posted: &Posted, name: &str, read: impl Fn(&str) -> Value) {
    let Some(raw) = posted.get(name) else { return };
    match raw.trim() {
        "" => obj.remove(name),
        text => obj.insert(name.to_owned(), read(text)),
    };
}

/// The JSON body of `PUT` that the posted registration form of `a` stands for.
pub fn registration_body(a: &App, posted: &Posted) -> Value {
    let mut obj = stored(a);
    obj.insert("name".into(), json!(a.name.as_str()));
    let kind = a.spec.kind();
    if kind == "oauth_resource" {
        if let Some(v) = posted.get("scopes") {
            obj.insert("scopes".into(), list_of(v, SPACES));
        }
        return Value::Object(obj);
    }
    let oidc = kind == "oidc_client";
    // a checkbox left unchecked is not posted: the grants are exactly those posted
    let mut grants: Vec<(String, Vec<String>)> = Vec::new();
    for (_, v) in posted.fields.iter().filter(|(k, _)| k == "resource_scopes") {
        let Some((r, s)) = v.split_once(':') else { continue };
        match grants.iter_mut().find(|(g, _)| g == r) {
            Some((_, scopes)) => scopes.push(s.to_owned()),
            None => grants.push((r.to_owned(), vec![s.to_owned()])),
        }
    }
    let items = grants.into_iter().map(|(r, s)| json!({ "resource": r, "scopes": s })).collect();
    obj.insert("resource_scopes".into(), Value::Array(items));
    lay(&mut obj, posted, "client_auth_method", |t| json!(t));
    let lists = CLIENT_LISTS.iter().chain(if oidc { &OIDC_LISTS[..] } else { &[] });
    for ListControl(name, _, seps, _, _) in lists {
        if let Some(v) = posted.get(name) {
            obj.insert((*name).to_owned(), list_of(v, seps));
        }
    }
    let numbers = CLIENT_NUMBERS.iter().chain(if oidc { &OIDC_NUMBERS[..] } else { &[] });
    for (name, _) in numbers {
        // not a whole number: passed on as text, which the rule refuses by name
        lay(&mut obj, posted, name, |t| t.parse::<i64>().map_or_else(|_| json!(t), Value::from));
    }
    let jsons = CLIENT_JSON.iter().chain(if oidc { &OIDC_JSON[..] } else { &[] });
    for (name, _) in jsons {
        lay(&mut obj, posted, name, |t| serde_json::from_str(t).unwrap_or_else(|_| json!(t)));
    }
    if oidc {
        lay(&mut obj, posted, "frontchannel_logout_uri", |t| json!(t));
        for (name, _) in OIDC_BOOLS {
            obj.insert(name.into(), json!(posted.get(name).is_some()));
        }
    }
    Value::Object(obj)
}
