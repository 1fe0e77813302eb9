//! The authorization request (OpenID Connect Core 1.0 §3.1.2.1, RFC 6749 §4.1.1,
//! RFC 7636 §4.3), checked in the order of docs/provider.md "The authorization
//! endpoint": first what decides whether the client may be redirected to at all (an
//! error page otherwise), then everything else, whose errors go to the redirect URI
//! with `state` (RFC 6749 §4.1.2.1).

use ferrid_oauth::{ErrorCode, OAuthError, form::Form, scope::ScopeRef};

use crate::{
    model::{GrantType, ResponseType},
    runtime::{ClientRuntime, OidcRuntime, TrackRuntime},
};

/// How the response parameters travel (OAuth 2.0 Multiple Response Type Encoding
/// Practices §2.1, OAuth 2.0 Form Post Response Mode §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    pub fn parse(s: &str) -> Option<ResponseMode> {
        match s {
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }

    pub const ALL: [&'static str; 3] = ["query", "fragment", "form_post"];
}

/// `prompt` (OpenID Connect Core 1.0 §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A PKCE challenge as sent (RFC 7636 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub value: String,
    /// `S256` or `plain`.
    pub method: &'static str,
}

/// An authorization request that passed every check.
pub struct Authorization<'t> {
    pub client: &'t ClientRuntime,
    pub oidc: &'t OidcRuntime,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub response_type: ResponseType,
    pub response_mode: ResponseMode,
    /// The granted scope tokens, canonical, in the order asked, each once.
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub challenge: Option<Challenge>,
    pub prompt: Prompt,
    /// Seconds (`max_age`).
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The `sub` of a valid `id_token_hint`.
    pub hint_sub: Option<String>,
}

impl Authorization<'_> {
    pub fn has_scope(&self, s: &str) -> bool {
        self.scope.iter().any(|x| x == s)
    }

    /// The granted scope as the space-separated string tokens carry.
    pub fn scope_string(&self) -> String {
        self.scope.join(" ")
    }

    /// Where a response to this request goes.
    pub fn reply(&self, issuer: &str) -> Reply {
        Reply {
            redirect_uri: self.redirect_uri.clone(),
            mode: self.response_mode,
            params: vec![],
            state: self.state.clone(),
            issuer: issuer.to_owned(),
        }
    }
}

/// A response to the client's redirect URI: a code, or an error (RFC 6749 §4.1.2,
/// §4.1.2.1), always with `state` as sent and `iss` (RFC 9207 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub params: Vec<(&'static str, String)>,
    pub state: Option<String>,
    pub issuer: String,
}

impl Reply {
    pub fn error(mut self, e: &OAuthError) -> Reply {
        self.params.push(("error", e.error.as_str().to_owned()));
        if let Some(d) = &e.description {
            self.params.push(("error_description", d.to_string()));
        }
        self
    }

    pub fn with(mut self, name: &'static str, value: String) -> Reply {
        self.params.push((name, value));
        self
    }

    /// Every parameter in the order sent: the response's, then `state`, then `iss`.
    pub fn all_params(&self) -> Vec<(&str, &str)> {
        let mut all: Vec<(&str, &str)> = self.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(s) = &self.state {
            all.push(("state", s));
        }
        all.push(("iss", &self.issuer));
        all
    }

    /// The redirect's `Location` for the query and fragment modes (RFC 6749 §3.1.2: a
    /// query the redirect URI already has is kept).
    pub fn location(&self) -> String {
        let encoded = ferrid_oauth::form::encode(self.all_params());
        match self.mode {
            ResponseMode::Fragment => format!("{}#{encoded}", self.redirect_uri),
            _ if self.redirect_uri.contains('?') => format!("{}&{encoded}", self.redirect_uri),
            _ => format!("{}?{encoded}", self.redirect_uri),
        }
    }
}

/// Why an authorization request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client or its redirect URI is not known good: an error page (400), never a
    /// redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.1.1).
    Page(String),
    /// Sent to the redirect URI.
    Redirect(Reply),
}

/// Longest accepted `nonce` (bytes; it goes into the code's record and the ID token);
/// `state` is bounded by the form alone.
const MAX_NONCE: usize = 512;

/// Checks an authorization request read from `form` (the query of a GET, the body of a
/// POST). `app` is the app segment of an app-scoped URL: only that client may use it.
pub fn check<'t>(track: &'t TrackRuntime, form: &Form<'_>, app: Option<&str>) -> Result<Authorization<'t>, Refusal> {
    // 1. The client: known, an OpenID Connect client, and the app of an app-scoped URL.
    let client_id =
        form.get("client_id").ok_or_else(|| Refusal::Page("The request names no client (client_id).".into()))?;
    let client = track
        .clients
        .get(client_id)
        .filter(|_| app.is_none_or(|a| a == client_id))
        .ok_or_else(|| Refusal::Page("The client of this request (client_id) is not registered here.".into()))?;
    let oidc = client
        .oidc
        .as_deref()
        .ok_or_else(|| Refusal::Page("The client of this request is not an OpenID Connect client.".into()))?;
    // 2. The redirect URI: present and exactly a registered one (RFC 9700 §2.1).
    let redirect_uri = form
        .get("redirect_uri")
        .ok_or_else(|| Refusal::Page("The request has no redirect URI (redirect_uri).".into()))?;
    if !oidc.redirect_uris.contains(redirect_uri) {
        return Err(Refusal::Page("The redirect URI is not registered for this client.".into()));
    }
    // From here on errors go to the redirect URI, in the mode asked for if it is a
    // known one (the default of the response type otherwise).
    let response_type = form.get("response_type").and_then(ResponseType::parse);
    let asked_mode = form.get("response_mode");
    let default_mode = match response_type {
        Some(t) if t.returns_tokens() => ResponseMode::Fragment,
        _ => ResponseMode::Query,
    };
    let mode = asked_mode.and_then(ResponseMode::parse).unwrap_or(default_mode);
    let reply = Reply {
        redirect_uri: redirect_uri.to_owned(),
        mode,
        params: vec![],
        state: form.get("state").map(str::to_owned),
        issuer: track.issuer.clone(),
    };
    let refuse =
        |code: ErrorCode, why: &'static str| Refusal::Redirect(reply.clone().error(&OAuthError::new(code, why)));

    // 3. Request objects are not supported (OpenID Connect Core 1.0 §6.1, §6.2).
    if form.contains("request") {
        return Err(refuse(ErrorCode::RequestNotSupported, "request objects are not supported"));
    }
    if form.contains("request_uri") {
        return Err(refuse(ErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    // 4. The response type and mode.
    let Some(raw_type) = form.get("response_type") else {
        return Err(refuse(ErrorCode::InvalidRequest, "response_type is required"));
    };
    let Some(response_type) = response_type else {
        let _ = raw_type;
        return Err(refuse(ErrorCode::UnsupportedResponseType, "this response type is not supported"));
    };
    // RFC 7591 §2.1: a response type with `code` needs the authorization_code grant, one
    // that returns tokens from this endpoint the implicit grant.
    let registered = oidc.response_types.contains(&response_type)
        && (!response_type.has_code() || client.allows(GrantType::AuthorizationCode))
        && (!response_type.returns_tokens() || client.allows(GrantType::Implicit));
    if !registered {
        return Err(refuse(ErrorCode::UnauthorizedClient, "this client is not registered for this response type"));
    }
    if let Some(m) = asked_mode {
        match ResponseMode::parse(m) {
            None => return Err(refuse(ErrorCode::InvalidRequest, "unknown response_mode")),
            // OAuth 2.0 Multiple Response Type Encoding Practices §5: tokens never travel in a query.
            Some(ResponseMode::Query) if response_type.returns_tokens() => {
                return Err(refuse(ErrorCode::InvalidRequest, "response_mode query cannot carry tokens"));
            }
            Some(_) => {}
        }
    }
    // 5. Scope: every value one the client may ask for.
    let scope = scopes(client, oidc, form.get("scope")).map_err(|why| refuse(ErrorCode::InvalidScope, why))?;
    let has_openid = scope.iter().any(|s| s == "openid");
    if !has_openid && response_type != ResponseType::Code {
        return Err(refuse(ErrorCode::InvalidScope, "the openid scope is required for this response type"));
    }
    // 6. PKCE (RFC 7636 §4.3, §4.4.1), for response types that return a code (the
    // implicit ones have no code to bind it to).
    let pkce_params = if response_type.has_code() {
        (form.get("code_challenge"), form.get("code_challenge_method"))
    } else {
        (None, None)
    };
    let pkce_required = oidc.pkce.required && response_type.has_code();
    let challenge = match pkce_params {
        (None, Some(_)) => {
            return Err(refuse(ErrorCode::InvalidRequest, "code_challenge_method without code_challenge"));
        }
        (None, None) if pkce_required => {
            return Err(refuse(ErrorCode::InvalidRequest, "code_challenge is required (PKCE)"));
        }
        (None, None) => None,
        (Some(value), method) => {
            let method = match method.unwrap_or("plain") {
                "S256" => "S256",
                "plain" if oidc.pkce.allow_plain => "plain",
                "plain" => {
                    return Err(refuse(
                        ErrorCode::InvalidRequest,
                        "code_challenge_method plain is not allowed; use S256",
                    ));
                }
                _ => return Err(refuse(ErrorCode::InvalidRequest, "unsupported code_challenge_method")),
            };
            if !is_pkce_value(value) {
                return Err(refuse(
                    ErrorCode::InvalidRequest,
                    "code_challenge must be 43 to 128 unreserved characters",
                ));
            }
            Some(Challenge { value: value.to_owned(), method })
        }
    };
    // 7. nonce (required when the authorization endpoint returns an ID token).
    let nonce = form.get("nonce");
    if nonce.is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(refuse(ErrorCode::InvalidRequest, "nonce is too long"));
    }
    // OpenID Connect Core 1.0 §3.2.2.1, §3.3.2.1 (errata set 2): every response type that
    // returns an ID token from this endpoint; optional for `code` and `code token`.
    if nonce.is_none() && response_type.has_id_token() {
        return Err(refuse(ErrorCode::InvalidRequest, "nonce is required for this response type"));
    }
    // 8. prompt and max_age.
    let mut prompt = Prompt::default();
    if let Some(p) = form.get("prompt") {
        for word in p.split(' ').filter(|w| !w.is_empty()) {
            match word {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                // Nothing to select between: one account per session.
                "select_account" => {}
                _ => return Err(refuse(ErrorCode::InvalidRequest, "unknown prompt value")),
            }
        }
        if prompt.none && (prompt.login || prompt.consent || p.split(' ').filter(|w| !w.is_empty()).count() > 1) {
            return Err(refuse(ErrorCode::InvalidRequest, "prompt=none cannot be combined with other values"));
        }
    }
    let max_age = match form.get("max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(refuse(ErrorCode::InvalidRequest, "max_age must be a non-negative integer")),
        },
    };
    // id_token_hint: an ID token of this track (its exp is not looked at).
    let hint_sub = match form.get("id_token_hint") {
        None => None,
        Some(t) => match super::logout::read_hint(track, t) {
            Some(h) => Some(h.sub),
            None => return Err(refuse(ErrorCode::InvalidRequest, "id_token_hint is not an ID token of this issuer")),
        },
    };
    Ok(Authorization {
        client,
        hint_sub,
        oidc,
        redirect_uri: redirect_uri.to_owned(),
        state: reply.state,
        response_type,
        response_mode: mode,
        scope,
        nonce: nonce.map(str::to_owned),
        challenge,
        prompt,
        max_age,
        login_hint: form.get("login_hint").map(|h| h.chars().take(256).collect()),
    })
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]` (also the S256 challenge's form).
pub fn is_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The scope tokens of a request, canonical, each once: OpenID scopes the client may ask
/// for (`OidcRuntime::scopes`) and resource scopes it is granted (`resource:scope`, or
/// the `resource.scope` alias). Anything else refuses the request (`invalid_scope`).
pub fn scopes(client: &ClientRuntime, oidc: &OidcRuntime, asked: Option<&str>) -> Result<Vec<String>, &'static str> {
    let mut out: Vec<String> = Vec::new();
    for token in asked.unwrap_or_default().split(' ').filter(|t| !t.is_empty()) {
        let canonical = if oidc.claims_of(token).is_some() {
            token.to_owned()
        } else {
            let r = ScopeRef::parse(token).map_err(|_| "a requested scope is not known to this client")?;
            let (resource, scope) = match (r.resource, r.scope) {
                (res, Some(s)) => (res, s),
                _ => return Err("a requested scope is not known to this client"),
            };
            let granted = client.grant(resource).is_some_and(|g| g.scopes.iter().any(|s| s == scope));
            if !granted {
                return Err("a requested scope is not granted to this client");
            }
            format!("{resource}:{scope}")
        };
        if !out.contains(&canonical) {
            out.push(canonical);
        }
    }
    Ok(out)
}
