//! A console form posted as `multipart/form-data` (the certificate upload of an
//! application's page, docs/console.md "Applications"): the same live session and CSRF
//! check as [`super::ConsolePost`], before any handler runs.

use axum::{
    body::Body,
    extract::{FromRequest, FromRequestParts, Multipart, Request},
    http::header,
    response::Response,
};
use ferrid_core::provider::session::cookie_value;

use super::{Console, ConsolePost, forbidden, session, session::SESSION_COOKIE, view::Posted};
use crate::AppState;

/// Largest upload accepted: a certificate or a PFX file is a few KiB.
pub const UPLOAD_LIMIT: usize = 64 * 1024;

/// What an upload carried.
pub enum Uploaded {
    /// The text fields, and the bytes of each file field by name.
    Parts { form: Posted, files: Vec<(String, Vec<u8>)> },
    /// The body was larger than [`UPLOAD_LIMIT`]; nothing of it was read as a form, so
    /// the handler may only show an error (it changes nothing).
    TooLarge,
}

/// A `POST` of a console form as `multipart/form-data` (or, without a file, as
/// `application/x-www-form-urlencoded`, read by [`ConsolePost`]).
pub struct ConsoleUpload {
    pub console: Console,
    pub upload: Uploaded,
}

impl ConsoleUpload {
    /// The bytes of the file field `name`, if one was chosen.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        match &self.upload {
            Uploaded::Parts { files, .. } => files.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_slice()),
            Uploaded::TooLarge => None,
        }
    }
}

impl FromRequest<AppState> for ConsoleUpload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let urlencoded = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        if urlencoded {
            // the same form without a file (a browser without the file control's form)
            let post = ConsolePost::from_request(req, state).await?;
            return Ok(ConsoleUpload {
                console: post.console,
                upload: Uploaded::Parts { form: post.form, files: vec![] },
            });
        }
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, state).await?;
        let Ok(bytes) = axum::body::to_bytes(body, UPLOAD_LIMIT).await else {
            return Ok(ConsoleUpload { console, upload: Uploaded::TooLarge });
        };
        let session = cookie_value(parts.headers.get(header::COOKIE).and_then(|v| v.to_str().ok()), SESSION_COOKIE)
            .map(str::to_owned);
        let path = parts.uri.path().to_owned();
        let req = Request::from_parts(parts, Body::from(bytes));
        // anything but a well-formed multipart body is refused like a foreign form
        let read = async {
            let mut multipart = Multipart::from_request(req, state).await.ok()?;
            let (mut fields, mut files) = (Vec::new(), Vec::new());
            while let Some(field) = multipart.next_field().await.ok()? {
                let name = field.name().unwrap_or_default().to_owned();
                let is_file = field.file_name().is_some();
                let data = field.bytes().await.ok()?.to_vec();
                if is_file {
                    files.push((name, data));
                } else {
                    fields.push((name, String::from_utf8_lossy(&data).into_owned()));
                }
            }
            Some((Posted { fields }, files))
        };
        let Some((form, files)) = read.await else { return Err(forbidden(state)) };
        let token = form.get("csrf").unwrap_or_default();
        let cipher = state.manager.registry().cipher();
        if !session.is_some_and(|s| session::csrf_ok(cipher, &s, token)) {
            tracing::info!(path = %path, "console: an upload without this session's CSRF token was refused");
            return Err(forbidden(state));
        }
        Ok(ConsoleUpload { console, upload: Uploaded::Parts { form, files } })
    }
}
