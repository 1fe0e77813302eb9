//! Public keys of `private_key_jwt` clients: `GET, POST …/apps/{app}/keys`,
//! `DELETE …/keys/{kid}` (RFC 7523 §2.2, docs/api.md). Only public material is ever stored.

use super::{ManageError, ManageResult, Manager, TrackScope, request::NewClientKey};
use crate::{
    client_auth::keys::{ClientKey, KeyImportError, import_key_blocking},
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
    pub async fn list_client_keys(&self, scope: &TrackScope<'_>, app: &str) -> ManageResult<Vec<StoredClientKey>> {
        let at = scope.app(app)?;
        let read = self.stores.credentials.list_client_keys(&at);
        self.client_list(scope, app, "keys", read).await
    }

    /// `POST …/keys` with exactly one of `{"pem"}`, `{"pfx": base64, "password"}`, `{"jwk"}`.
    pub async fn add_client_key(
        &self,
        scope: &TrackScope<'_>,
        app: &str,
        body: ManageResult<NewClientKey>,
    ) -> ManageResult<StoredClientKey> {
        self.get_client(scope, app).await?;
        let key = self.check_client_key(body).await?;
        let stored = StoredClientKey { key, created: self.now() };
        let summary = serde_json::json!({
            "kid": stored.key.kid,
            "x5t#S256": stored.key.thumbprint_sha256,
            "subject": stored.key.subject,
        });
        let target = format!("{app}/keys/{}", stored.key.kid);
        let audit = self.app_audit(scope, "key.add", &target, serde_json::json!({ "after": summary }));
        let (tenant, track) = (scope.tenant(), scope.track());
        self.stores.credentials.add_client_key(&scope.app(app)?, &stored, MAX_KEYS_PER_CLIENT, &audit).await.map_err(
            |e| match e {
                StoreError::LimitReached => {
                    ManageError::Conflict(format!("a client holds at most {MAX_KEYS_PER_CLIENT} keys"))
                }
                StoreError::Conflict => {
                    ManageError::Conflict(format!("the client already has a key with kid '{}'", stored.key.kid))
                }
                e => ManageError::from_store(e, || "key".into()),
            },
        )?;
        self.refresh_app(tenant, track, app).await?;
        Ok(stored)
    }

    /// The key of a `POST …/keys` body, imported and checked as [`Manager::add_client_key`]
    /// does, without storing it: for a caller that must refuse a key before creating its
    /// client (the console's New application), so nothing is half-created.
    pub async fn check_client_key(&self, body: ManageResult<NewClientKey>) -> ManageResult<ClientKey> {
        let (input, field) = body?.into_input()?;
        // Off the async workers, two at a time (a PFX may cost seconds of key derivation).
        let key = import_key_blocking(input)
            .await
            .ok_or(ManageError::Unavailable)?
            .map_err(|e| ManageError::field(field_of(&e, field), e.to_string()))?;
        // The kid is a path segment of DELETE …/keys/{kid}: keep it short and printable.
        if key.kid.is_empty() || key.kid.len() > 128 || !key.kid.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
            return Err(ManageError::field("jwk.kid", "must be 1 to 128 printable ASCII characters without '/'"));
        }
        Ok(key)
    }

    pub async fn delete_client_key(&self, scope: &TrackScope<'_>, app: &str, kid: &str) -> ManageResult<()> {
        self.get_client(scope, app).await?;
        let before = serde_json::json!({ "before": { "kid": kid } });
        let audit = self.app_audit(scope, "key.delete", &format!("{app}/keys/{kid}"), before);
        let (tenant, track) = (scope.tenant(), scope.track());
        self.stores.credentials.delete_client_key(&scope.app(app)?, kid, &audit).await.map_err(|e| {
            ManageError::from_store(e, || format!("key '{}'", kid.chars().take(60).collect::<String>()))
        })?;
        self.refresh_app(tenant, track, app).await
    }
}
