//! Server-rendered pages of the OpenID Provider (docs/provider.md "Pages"): the login,
//! consent and error pages and the form-post response. They work without JavaScript,
//! label every control, and carry the page headers: a `Content-Security-Policy` that
//! allows only the page's own inline style (and the form-post page's one script) by
//! hash, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, `Cache-Control:
//! no-store`. Every interpolated value is HTML-escaped.

use std::sync::OnceLock;

use axum::{
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}\
label{display:block;margin-top:1rem;font-weight:600}\
input[type=text],input[type=password]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}\
button{margin-top:1.25rem;margin-right:.5rem;padding:.5rem 1.25rem;font-size:1rem}\
.error{color:#a00000;border:1px solid #a00000;padding:.5rem}";

const AUTO_SUBMIT: &str = "document.forms[0].submit();";

fn csp_hash(source: &str) -> String {
    let d = ferrid_core::provider::session::sha256(source.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(d))
}

/// The Content-Security-Policy of every page: nothing but the inline style (and, for the
/// form-post page, its one script), no framing, no `<base>`.
fn csp(script: bool) -> HeaderValue {
    static PLAIN: OnceLock<HeaderValue> = OnceLock::new();
    static SCRIPTED: OnceLock<HeaderValue> = OnceLock::new();
    let make = |script: bool| {
        let scripts = if script { format!("; script-src {}", csp_hash(AUTO_SUBMIT)) } else { String::new() };
        let value = format!(
            "default-src 'none'; style-src {}{scripts}; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
            csp_hash(STYLE)
        );
        HeaderValue::from_str(&value).expect("a CSP header value")
    };
    if script { SCRIPTED.get_or_init(|| make(true)).clone() } else { PLAIN.get_or_init(|| make(false)).clone() }
}

/// The headers of every HTML page (docs/security.md "Pages"), the provider's and the
/// console's: the page's `Content-Security-Policy`, no framing, no referrer, no caching,
/// no sniffing.
pub fn page_headers(h: &mut axum::http::HeaderMap, csp: HeaderValue) {
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A page response with the page headers and any extra headers (cookies).
pub fn page(
    status: StatusCode,
    title: &str,
    body: &str,
    script: bool,
    extra: Vec<(HeaderName, HeaderValue)>,
) -> Response {
    let script_tag = if script { format!("<script>{AUTO_SUBMIT}</script>") } else { String::new() };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\
<body><main>{body}</main>{script_tag}</body></html>\n",
        escape(title)
    );
    let mut resp = (status, html).into_response();
    page_headers(resp.headers_mut(), csp(script));
    let h = resp.headers_mut();
    for (k, v) in extra {
        h.append(k, v);
    }
    resp
}

/// The error page: the request cannot be answered to the client (docs/provider.md).
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>Sign-in error</h1><p role=\"alert\">{}</p><p>Go back to the application and start again.</p>",
        escape(message)
    );
    page(status, "Sign-in error", &body, false, vec![])
}

fn hidden(name: &str, value: &str) -> String {
    format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value))
}

/// What a login or consent form carries besides its own fields.
pub struct Carried<'a> {
    /// Where the form posts.
    pub action: &'a str,
    pub csrf: &'a str,
    /// The authorization request, as sent.
    pub authorization: &'a str,
    /// The app segment of an app-scoped request.
    pub app: Option<&'a str>,
}

impl Carried<'_> {
    fn fields(&self) -> String {
        let mut f = hidden("csrf", self.csrf) + &hidden("authorization", self.authorization);
        if let Some(app) = self.app {
            f.push_str(&hidden("app", app));
        }
        f
    }
}

/// The login page: `username` and `password`, labelled, and the carried request.
pub fn login(
    status: StatusCode,
    client: &str,
    username: Option<&str>,
    problem: Option<&str>,
    carried: &Carried<'_>,
    extra: Vec<(HeaderName, HeaderValue)>,
) -> Response {
    let alert = problem
        .map(|p| format!("<p class=\"error\" role=\"alert\" id=\"login-error\">{}</p>", escape(p)))
        .unwrap_or_default();
    let described = if problem.is_some() { " aria-describedby=\"login-error\"" } else { "" };
    let body = format!(
        "<h1>Sign in</h1><p>to continue to <strong>{client}</strong></p>{alert}\
<form method=\"post\" action=\"{action}\">{fields}\
<label for=\"username\">Username or email</label>\
<input type=\"text\" id=\"username\" name=\"username\" value=\"{user}\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required autofocus{described}>\
<label for=\"password\">Password</label>\
<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required{described}>\
<button type=\"submit\">Sign in</button></form>",
        client = escape(client),
        action = escape(carried.action),
        fields = carried.fields(),
        user = escape(username.unwrap_or_default()),
    );
    page(status, "Sign in", &body, false, extra)
}

/// The consent page: the scopes asked for, Allow and Deny.
pub fn consent(
    client: &str,
    scopes: &[String],
    carried: &Carried<'_>,
    extra: Vec<(HeaderName, HeaderValue)>,
) -> Response {
    let items: String = scopes.iter().map(|s| format!("<li>{}</li>", escape(s))).collect();
    let body = format!(
        "<h1>Allow access?</h1><p><strong>{client}</strong> asks for:</p><ul>{items}</ul>\
<form method=\"post\" action=\"{action}\">{fields}\
<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        client = escape(client),
        action = escape(carried.action),
        fields = carried.fields(),
    );
    page(StatusCode::OK, "Allow access", &body, false, extra)
}

/// The form-post response (OAuth 2.0 Form Post Response Mode §2): a form to the redirect
/// URI that submits itself, with a visible button for a browser without JavaScript.
pub fn form_post(redirect_uri: &str, params: &[(&str, &str)], extra: Vec<(HeaderName, HeaderValue)>) -> Response {
    let fields: String = params.iter().map(|(k, v)| hidden(k, v)).collect();
    let body = format!(
        "<h1>Continue</h1><form method=\"post\" action=\"{}\">{fields}<button type=\"submit\">Continue</button></form>",
        escape(redirect_uri)
    );
    page(StatusCode::OK, "Continue", &body, true, extra)
}

/// The confirmation of a logout without a valid `id_token_hint` (docs/provider.md
/// "Logout"): a form that posts the request back with the person's consent.
pub fn confirm_logout(action: &str, csrf: &str, logout: &str, extra: Vec<(HeaderName, HeaderValue)>) -> Response {
    let body = format!(
        "<h1>Sign out?</h1><p>An application asks to end your session here.</p>\
<form method=\"post\" action=\"{action}\">{}{}{}<button type=\"submit\">Sign out</button></form>",
        hidden("csrf", csrf),
        hidden("logout", logout),
        hidden("confirm", "yes"),
        action = escape(action),
    );
    page(StatusCode::OK, "Sign out", &body, false, extra)
}

/// The signed-out page: the other clients of the session are loaded in hidden iframes
/// (Front-Channel Logout 1.0 §2), then the browser goes on to `next`, if any, by a meta
/// refresh and a link (no script).
pub fn signed_out(frames: &[String], next: Option<&str>, extra: Vec<(HeaderName, HeaderValue)>) -> Response {
    let iframes: String = frames
        .iter()
        .map(|u| {
            format!(
                "<iframe src=\"{}\" title=\"Signing out of an application\" width=\"0\" height=\"0\" hidden></iframe>",
                escape(u)
            )
        })
        .collect();
    let refresh =
        next.map(|n| format!("<meta http-equiv=\"refresh\" content=\"2;url={}\">", escape(n))).unwrap_or_default();
    let link = next.map(|n| format!("<p><a href=\"{}\">Continue</a></p>", escape(n))).unwrap_or_default();
    let body = format!("{refresh}<h1>You are signed out</h1>{link}{iframes}");
    let mut resp = page(StatusCode::OK, "Signed out", &body, false, extra);
    if !frames.is_empty() {
        // The page frames the clients' logout URIs: their origins, and nothing else.
        let origins: Vec<String> = frames.iter().filter_map(|u| origin(u)).collect();
        let csp = format!(
            "default-src 'none'; style-src {}; frame-src {}; frame-ancestors 'none'; base-uri 'none'",
            csp_hash(STYLE),
            origins.join(" ")
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    resp
}

/// `scheme://host[:port]` of an absolute URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && !host.contains(['\'', ' ', ';'])).then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
