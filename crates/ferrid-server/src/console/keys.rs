//! Adding a `private_key_jwt` client's key on its application's page (docs/console.md
//! "Applications"): a certificate file, PEM or PFX with its password, handed to the same
//! `Manager::add_client_key` the API's `POST …/apps/{app}/keys` calls, with the body the
//! API would get (`{"pem"}` or `{"pfx": base64, "password"}`).

use axum::{extract::Path, extract::State, http::StatusCode, response::Response};
use base64::Engine;
use ferrid_core::manage::{FieldError, ManageError, Request, request::NewClientKey};
use serde_json::{Map, Value, json};

use super::{
    Console,
    app::{Again, app_page, scope_of},
    apps::app_path,
    signin::redirect,
    tenants::status_of,
    upload::{ConsoleUpload, UPLOAD_LIMIT, Uploaded},
    view::{Field, FormView},
};
use crate::AppState;

/// The file control of the upload form.
pub const CERTIFICATE: &str = "certificate";
/// The PFX password control of the upload form.
pub const PASSWORD: &str = "password";

/// The "Upload a certificate" form of the application at `base`.
pub fn key_form(c: &Console, base: &str) -> FormView {
    FormView::post(format!("{base}/keys"), &c.csrf, "Upload certificate")
        .label("Upload a certificate")
        .multipart()
        .field(Field::file(CERTIFICATE, "Certificate file (PEM or PFX)").required().hint(
            "A PEM certificate or public key (text starting with -----BEGIN), or a PFX/PKCS#12 file; \
             only its public key is kept.",
        ))
        .field(Field::password(PASSWORD, "PFX password").autocomplete("off").hint("Only for a PFX file."))
}

/// Whether `bytes` are PEM text (`-----BEGIN`, after any blank space) rather than a
/// binary PFX file.
pub fn is_pem(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN")
}

/// The body of `POST …/keys` that an uploaded file stands for (RFC 7468 PEM as text; a
/// PFX, RFC 7292, in base64 with its password, left out when empty).
pub fn key_body(file: &[u8], password: Option<&str>) -> Result<Value, ManageError> {
    let mut obj = Map::new();
    if is_pem(file) {
        let text = std::str::from_utf8(file).map_err(|_| ManageError::field(CERTIFICATE, "is not PEM text"))?;
        obj.insert("pem".into(), json!(text));
    } else {
        obj.insert("pfx".into(), json!(base64::engine::general_purpose::STANDARD.encode(file)));
        if let Some(p) = password.filter(|p| !p.is_empty()) {
            obj.insert(PASSWORD.into(), json!(p));
        }
    }
    Ok(Value::Object(obj))
}

/// The Manager's errors named after the upload form's controls: the key material's
/// fields (`pem`, `pfx`, `jwk.kid`, `body`) are the file's.
pub fn on_form(e: ManageError) -> ManageError {
    match e {
        ManageError::Invalid(errors) => ManageError::Invalid(
            errors
                .into_iter()
                .map(|f| if f.field == PASSWORD { f } else { FieldError::new(CERTIFICATE, f.message) })
                .collect(),
        ),
        other => other,
    }
}

fn too_large() -> ManageError {
    ManageError::field(CERTIFICATE, format!("must be at most {} KiB", UPLOAD_LIMIT / 1024))
}

/// The status of a refused upload: 413 for a body over the limit.
pub fn status_of_upload(up: &ConsoleUpload, e: &ManageError) -> StatusCode {
    if matches!(up.upload, Uploaded::TooLarge) { StatusCode::PAYLOAD_TOO_LARGE } else { status_of(e) }
}

/// The key a New application form uploads, checked by `Manager::check_client_key` before
/// anything is created (`None` when no file was chosen). A file is only for a client
/// whose authentication method is `private_key_jwt`.
pub async fn checked_key(state: &AppState, up: &ConsoleUpload) -> Result<Option<NewClientKey>, ManageError> {
    let form = match &up.upload {
        Uploaded::TooLarge => return Err(too_large()),
        Uploaded::Parts { form, .. } => form,
    };
    let Some(file) = up.file(CERTIFICATE).filter(|f| !f.is_empty()) else { return Ok(None) };
    if form.text("client_auth_method") != Some("private_key_jwt") {
        return Err(ManageError::field(CERTIFICATE, "is only for the client authentication method private_key_jwt"));
    }
    let body = key_body(file, form.get(PASSWORD)).and_then(|b| NewClientKey::from_json(&b)).map_err(on_form)?;
    state.manager.check_client_key(Ok(body.clone())).await.map_err(on_form)?;
    Ok(Some(body))
}

/// `POST …/apps/{app}/keys` (`multipart/form-data`): adds the uploaded key.
pub async fn add_key(
    State(state): State<AppState>,
    Path((tenant, track, app)): Path<(String, String, String)>,
    up: ConsoleUpload,
) -> Response {
    let c = &up.console;
    let added = async {
        let scope = scope_of(c, &tenant, &track)?;
        let form = match &up.upload {
            Uploaded::TooLarge => return Err(too_large()),
            Uploaded::Parts { form, .. } => form,
        };
        let file = up.file(CERTIFICATE).filter(|f| !f.is_empty());
        let file = file.ok_or_else(|| ManageError::field(CERTIFICATE, "choose a certificate file (PEM or PFX)"))?;
        let body = key_body(file, form.get(PASSWORD)).and_then(|b| NewClientKey::from_json(&b));
        state.manager.add_client_key(&scope, &app, body).await.map_err(on_form)
    };
    match added.await {
        Ok(_) => {
            let to = format!("{}?done=key-added", app_path(c, &tenant, &track, &app));
            redirect(StatusCode::SEE_OTHER, &to, vec![])
        }
        Err(e @ (ManageError::NotFound(_) | ManageError::Forbidden(_) | ManageError::Protected(_))) => c.refusal(&e),
        Err(e) => {
            let mut form = key_form(c, &app_path(c, &tenant, &track, &app));
            let alert = form.refused(&e, CERTIFICATE);
            let status = status_of_upload(&up, &e);
            app_page(&state, c, (&tenant, &track, &app), Some(Again::Key(form, alert)), None, status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_starting_with_begin_is_pem_text_and_anything_else_a_pfx_in_base64() {
        assert!(is_pem(b"\n -----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"));
        assert!(!is_pem(&[0x30, 0x82, 0x01]));
        let pem = key_body(b"-----BEGIN PUBLIC KEY-----\n", Some("ignored")).unwrap();
        assert_eq!(pem, json!({"pem": "-----BEGIN PUBLIC KEY-----\n"}));
        assert_eq!(key_body(&[1, 2, 3], Some(" pw ")).unwrap(), json!({"pfx": "AQID", "password": " pw "}));
        assert_eq!(key_body(&[1, 2, 3], Some("")).unwrap(), json!({"pfx": "AQID"}));
        assert!(key_body(b"-----BEGIN \xff", None).is_err());
    }
}
