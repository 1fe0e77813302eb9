//! Public keys of `private_key_jwt` clients: `GET, POST …/apps/{app}/keys`,
//! `DELETE …/keys/{kid}` (DESIGN §5). Only public material is ever stored.

use base64::Engine;
use serde_json::Value;

use super::{Caller, ManageError, ManageResult, Manager, app_at, input::Fields};
use crate::{
    client_auth::keys::{KeyImportError, OwnedKeyInput, import_key_blocking},
    model::{MAX_KEYS_PER_CLIENT, StoredClientKey},
    store::StoreError,
};

/// Which body field an import error is about.
fn field_of(e: &KeyImportError, input_field: &'static str) -> &'static str {
    match e {
        KeyImportError::PfxPasswordRequired | KeyImportError::PfxWrongPassword => "password",
        _ => input_field,
    }
}

impl Manager {
    pub async fn list_client_keys(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        app: &str,
    ) -> ManageResult<Vec<StoredClientKey>> {
        self.get_client(caller, tenant, track, app).await?;
        self.stores
            .credentials
            .list_client_keys(&app_at(tenant, track, app)?)
            .await
            .map_err(|e| ManageError::from_store(e, || "keys".into()))
    }

    /// `POST …/keys` with exactly one of `{"pem"}`, `{"pfx": base64, "password"}`, `{"jwk"}`.
    pub async fn add_client_key(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        app: &str,
        body: &Value,
    ) -> ManageResult<StoredClientKey> {
        self.get_client(caller, tenant, track, app).await?;
        let mut f = Fields::of(body)?;
        let pem = f.opt_str("pem");
        let pfx = f.opt_str("pfx");
        let password = f.opt_str("password");
        let jwk = f.opt_value("jwk");
        f.finish()?;
        let (input, field) = match (pem, pfx, jwk) {
            (Some(pem), None, None) => (OwnedKeyInput::Pem(pem.to_owned()), "pem"),
            (None, Some(b64), None) => {
                let clean: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(clean.trim_end_matches('='))
                    .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(clean.trim_end_matches('=')))
                    .map_err(|_| ManageError::field("pfx", "must be the PFX/PKCS#12 file in base64"))?;
                (OwnedKeyInput::Pfx { der, password: password.map(|p| zeroize::Zeroizing::new(p.to_owned())) }, "pfx")
            }
            (None, None, Some(jwk)) => (OwnedKeyInput::Jwk(jwk.clone()), "jwk"),
            _ => return Err(ManageError::field("body", "must hold exactly one of pem, pfx (with password) or jwk")),
        };
        // Off the async workers, two at a time (a PFX may cost seconds of key derivation).
        let key = import_key_blocking(input)
            .await
            .ok_or(ManageError::Unavailable)?
            .map_err(|e| ManageError::field(field_of(&e, field), e.to_string()))?;
        // The kid is a path segment of DELETE …/keys/{kid}: keep it short and printable.
        if key.kid.is_empty() || key.kid.len() > 128 || !key.kid.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
            return Err(ManageError::field("jwk.kid", "must be 1 to 128 printable ASCII characters without '/'"));
        }
        let stored = StoredClientKey { key, created: self.now() };
        let target = format!("tenants/{tenant}/tracks/{track}/apps/{app}/keys/{}", stored.key.kid);
        let summary = serde_json::json!({
            "kid": stored.key.kid,
            "x5t#S256": stored.key.thumbprint_sha256,
            "subject": stored.key.subject,
        });
        let audit = self.audit(caller, tenant, "key.add", target, serde_json::json!({ "after": summary }));
        self.stores
            .credentials
            .add_client_key(&app_at(tenant, track, app)?, &stored, MAX_KEYS_PER_CLIENT, &audit)
            .await
            .map_err(|e| match e {
                StoreError::LimitReached => {
                    ManageError::Conflict(format!("a client holds at most {MAX_KEYS_PER_CLIENT} keys"))
                }
                StoreError::Conflict => {
                    ManageError::Conflict(format!("the client already has a key with kid '{}'", stored.key.kid))
                }
                e => ManageError::from_store(e, || "key".into()),
            })?;
        self.refresh_track(tenant, track).await?;
        Ok(stored)
    }

    pub async fn delete_client_key(
        &self,
        caller: &Caller,
        tenant: &str,
        track: &str,
        app: &str,
        kid: &str,
    ) -> ManageResult<()> {
        self.get_client(caller, tenant, track, app).await?;
        let target = format!("tenants/{tenant}/tracks/{track}/apps/{app}/keys/{kid}");
        let audit = self.audit(caller, tenant, "key.delete", target, serde_json::json!({ "before": { "kid": kid } }));
        self.stores.credentials.delete_client_key(&app_at(tenant, track, app)?, kid, &audit).await.map_err(|e| {
            ManageError::from_store(e, || format!("key '{}'", kid.chars().take(60).collect::<String>()))
        })?;
        self.refresh_track(tenant, track).await
    }
}
