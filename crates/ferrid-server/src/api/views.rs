//! The JSON the management API returns.

use ferrid_core::{
    clock::rfc3339,
    model::{App, AppSpec, SecretRecord, StoredClientKey, Tenant, Track},
    urls::PublicUrl,
};
use serde_json::{Value, json};

pub fn tenant(t: &Tenant) -> Value {
    json!({ "name": t.name, "created": rfc3339(t.created) })
}

pub fn track(urls: &PublicUrl, t: &Track) -> Value {
    let issuer = urls.issuer(&t.tenant, &t.name);
    json!({
        "name": t.name,
        "tenant": t.tenant,
        "signing_alg": t.settings.signing_alg.as_str(),
        "access_token_lifetime": t.settings.access_token_lifetime,
        "assertion_max_lifetime": t.settings.assertion_max_lifetime,
        "key_rotation_days": t.settings.key_rotation_days,
        "issuer": issuer,
        "discovery_endpoint": format!("{issuer}/.well-known/openid-configuration"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "jwks_uri": format!("{issuer}/oauth/keys"),
        "version": t.version,
        "created": rfc3339(t.created),
    })
}

pub fn app(a: &App) -> Value {
    let mut v = serde_json::to_value(&a.spec).expect("spec serializes");
    let obj = v.as_object_mut().expect("spec is an object");
    obj.insert("name".into(), json!(a.name));
    if let AppSpec::OauthClient(_) = &a.spec {
        obj.insert("client_id".into(), json!(a.name));
    }
    obj.insert("version".into(), json!(a.version));
    obj.insert("created".into(), json!(rfc3339(a.created)));
    obj.insert("updated".into(), json!(rfc3339(a.updated)));
    v
}

/// What a developer needs next after registering an app (DESIGN §5).
pub fn registration(urls: &PublicUrl, a: &App, secret: Option<&str>) -> Value {
    let mut v = app(a);
    let issuer = urls.issuer(&a.tenant, &a.track);
    let obj = v.as_object_mut().expect("app is an object");
    if let Some(s) = secret {
        obj.insert("client_secret".into(), json!(s));
    }
    obj.insert("issuer".into(), json!(issuer));
    obj.insert("token_endpoint".into(), json!(format!("{issuer}/oauth/token")));
    obj.insert("discovery_endpoint".into(), json!(format!("{issuer}/.well-known/openid-configuration")));
    v
}

/// A client's public key: its kid, public JWK and certificate facts; never private material.
pub fn client_key(k: &StoredClientKey) -> Value {
    let key = &k.key;
    json!({
        "kid": key.kid,
        "jwk": key.jwk,
        "x5t#S256": key.thumbprint_sha256,
        "subject": key.subject,
        "not_before": key.not_before.map(rfc3339),
        "not_after": key.not_after.map(rfc3339),
        "created": rfc3339(k.created),
    })
}

/// A track signing key: its kid, state and times (the key itself never leaves).
pub fn track_key(k: &ferrid_core::manage::rotation::KeyLife) -> Value {
    json!({ "kid": k.kid, "state": k.state, "created": rfc3339(k.created), "changed": rfc3339(k.changed) })
}

pub fn secret(s: &SecretRecord) -> Value {
    json!({ "id": s.id, "info": s.info, "created": rfc3339(s.created) })
}

/// A page of a listing: `next` is the `after` cursor of the following page.
pub fn page<T>(items: &[T], limit: u32, name_of: impl Fn(&T) -> &str, view: impl Fn(&T) -> Value) -> Value {
    let next = (items.len() as u32 >= limit).then(|| items.last().map(&name_of)).flatten();
    json!({ "items": items.iter().map(view).collect::<Vec<_>>(), "next": next })
}
