//! Load generator of the OpenID Provider flow benchmark (driven by bench/oidc_flows.py;
//! docs/benchmarks.md "OpenID Provider flows").
//!
//! Virtual users each hold a cookie jar like a browser. Before the clock starts every
//! user signs in once (authorize without a session → the login form → POST it → the
//! code) and exchanges that code, which gives it a session cookie, an access token and a
//! refresh token. Then, for `--warmup` seconds and `--runs` × `--duration` seconds, each
//! user repeats one scenario as fast as the server answers:
//!
//! * `code`: GET authorize with the session (PKCE S256, state, nonce) → 302/303 to the
//!   redirect URI with a code → POST token (code + verifier, Basic auth). One op = both.
//! * `refresh`: POST token `grant_type=refresh_token` with the user's latest refresh token
//!   (rotation: the answer's refresh token replaces it).
//! * `userinfo`: GET userinfo with the bearer access token.
//! * `login`: a fresh jar (no session): GET authorize → the login form (following the
//!   server's redirects) → POST the form with the password → the code. One op = the whole
//!   sign-in; `step_p50_ms` is the POST of the password alone. ferrid runs at most two
//!   password checks at once per source address and per user and answers 429 beyond
//!   that, so this scenario is meant for `--conns 2` (a 429 counts as an error).
//!
//! Only http:// on 127.0.0.1 is meant: there is no TLS here. Lines on stdout:
//! `PHASE warmup`, `PHASE run N` (when the run starts), `RESULT {json}` (when it ends).
//! `--check` runs each scenario once with one user and prints what it saw.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::header::{HeaderMap, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest as _, Sha256};

type Http = Client<HttpConnector, Full<Bytes>>;
type Res<T> = Result<T, String>;

#[derive(Clone)]
struct Config {
    authorize: String,
    token: String,
    userinfo: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    username: String,
    password: String,
    scope: String,
    /// `resource` sent on the code flow's authorization request (the peer issues JWT
    /// access tokens only for a resource); the userinfo users never send it.
    resource: Option<String>,
    scenario: String,
    conns: usize,
    warmup: f64,
    duration: f64,
    runs: u32,
    threads: usize,
    check: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: oidc-load --authorize URL --token URL --userinfo URL --client-id ID --client-secret S \
         --redirect-uri URI --username U --password P --scenario code|refresh|userinfo|login \
         [--conns 16] [--warmup 3] [--duration 10] [--runs 2] [--threads 2] [--resource URI] [--scope S] [--check]"
    );
    std::process::exit(2)
}

fn parse_args() -> Config {
    let mut a = std::env::args().skip(1);
    let mut c = Config {
        authorize: String::new(),
        token: String::new(),
        userinfo: String::new(),
        client_id: String::new(),
        client_secret: String::new(),
        redirect_uri: String::new(),
        username: String::new(),
        password: String::new(),
        scope: "openid profile email offline_access".into(),
        resource: None,
        scenario: "code".into(),
        conns: 16,
        warmup: 3.0,
        duration: 10.0,
        runs: 2,
        threads: 2,
        check: false,
    };
    while let Some(k) = a.next() {
        if k == "--check" {
            c.check = true;
            continue;
        }
        let v = a.next().unwrap_or_else(|| usage());
        let num = |v: &str| v.parse::<f64>().unwrap_or_else(|_| usage());
        match k.as_str() {
            "--authorize" => c.authorize = v,
            "--token" => c.token = v,
            "--userinfo" => c.userinfo = v,
            "--client-id" => c.client_id = v,
            "--client-secret" => c.client_secret = v,
            "--redirect-uri" => c.redirect_uri = v,
            "--username" => c.username = v,
            "--password" => c.password = v,
            "--scope" => c.scope = v,
            "--resource" => c.resource = Some(v),
            "--scenario" => c.scenario = v,
            "--conns" => c.conns = num(&v) as usize,
            "--warmup" => c.warmup = num(&v),
            "--duration" => c.duration = num(&v),
            "--runs" => c.runs = num(&v) as u32,
            "--threads" => c.threads = num(&v) as usize,
            _ => usage(),
        }
    }
    if c.authorize.is_empty() || c.token.is_empty() || c.client_id.is_empty() || c.redirect_uri.is_empty() {
        usage()
    }
    if !["code", "refresh", "userinfo", "login"].contains(&c.scenario.as_str()) {
        usage()
    }
    c
}

// ---- URLs and forms ----

/// (origin, path, query) of an absolute http URL.
fn split_url(url: &str) -> Res<(&str, &str, &str)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("not an http URL: {url}"))?;
    let host_end = rest.find('/').map(|i| i + 7).unwrap_or(url.len());
    let (origin, pq) = url.split_at(host_end);
    let (path, query) = pq.split_once('?').unwrap_or((pq, ""));
    Ok((origin, if path.is_empty() { "/" } else { path }, query))
}

fn resolve(base: &str, location: &str) -> Res<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Ok(location.to_string());
    }
    let (origin, path, _) = split_url(base)?;
    if location.starts_with('/') {
        return Ok(format!("{origin}{location}"));
    }
    if location.is_empty() {
        return Ok(base.to_string());
    }
    let dir = &path[..path.rfind('/').map(|i| i + 1).unwrap_or(0)];
    Ok(format!("{origin}{dir}{location}"))
}

fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&form_encode(k));
        out.push('=');
        out.push_str(&form_encode(v));
    }
    out
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    let q = q.split('#').next().unwrap_or(q);
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (form_decode(k) == name).then(|| form_decode(v))
    })
}

fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16).ok().and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The attributes of one tag (`<input name="a" value='b' hidden>`), names lowercased.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let b = tag.as_bytes();
    let mut i = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/' || b[i] == b'>') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'>' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            break;
        }
        let name = tag[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = tag[vs..].find(q as char).map(|e| vs + e).unwrap_or(b.len());
                value = html_unescape(&tag[vs..ve]);
                i = ve + 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = html_unescape(&tag[vs..i]);
            }
        }
        out.push((name, value));
    }
    out
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The login form of a page: (action, every named input with its value).
fn login_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(s) = lower[from..].find("<form").map(|i| from + i) {
        let end = lower[s..].find("</form").map(|i| s + i).unwrap_or(lower.len());
        let open_end = lower[s..].find('>').map(|i| s + i).unwrap_or(end);
        let action = attr(&attributes(&html[s + 1..open_end]), "action").unwrap_or("").to_string();
        let mut inputs = Vec::new();
        let mut has_password = false;
        let mut j = s;
        while let Some(t) = lower[j..end].find("<input").map(|i| j + i) {
            let te = lower[t..end].find('>').map(|i| t + i).unwrap_or(end);
            let attrs = attributes(&html[t + 1..te]);
            if let Some(name) = attr(&attrs, "name") {
                if attr(&attrs, "type").is_some_and(|ty| ty.eq_ignore_ascii_case("password")) || name == "password" {
                    has_password = true;
                }
                inputs.push((name.to_string(), attr(&attrs, "value").unwrap_or("").to_string()));
            }
            j = te;
        }
        if has_password {
            return Some((action, inputs));
        }
        from = end;
    }
    None
}

// ---- cookies ----

struct Cookie {
    name: String,
    value: String,
    path: String,
}

#[derive(Default)]
struct Jar(Vec<Cookie>);

impl Jar {
    fn store(&mut self, request_path: &str, headers: &HeaderMap) {
        for h in headers.get_all(hyper::header::SET_COOKIE) {
            let Ok(h) = h.to_str() else { continue };
            let mut parts = h.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.trim().split_once('=')) else { continue };
            // RFC 6265 §5.1.4: the default path is the request path up to its last '/'
            let mut path = match request_path.rfind('/') {
                Some(0) | None => "/".to_string(),
                Some(i) => request_path[..i].to_string(),
            };
            let mut expired = value.is_empty();
            for p in parts {
                let (k, v) = p.trim().split_once('=').unwrap_or((p.trim(), ""));
                if k.eq_ignore_ascii_case("path") && v.starts_with('/') {
                    path = v.to_string();
                } else if (k.eq_ignore_ascii_case("max-age") && v.trim().parse::<i64>().is_ok_and(|s| s <= 0))
                    || (k.eq_ignore_ascii_case("expires") && v.contains("1970"))
                {
                    expired = true;
                }
            }
            self.0.retain(|c| !(c.name == name && c.path == path));
            if !expired {
                self.0.push(Cookie { name: name.to_string(), value: value.to_string(), path });
            }
        }
    }

    fn header(&self, request_path: &str) -> Option<String> {
        let mut out = String::new();
        for c in &self.0 {
            let matches = request_path == c.path
                || (request_path.starts_with(&c.path)
                    && (c.path.ends_with('/') || request_path.as_bytes().get(c.path.len()) == Some(&b'/')));
            if matches {
                if !out.is_empty() {
                    out.push_str("; ");
                }
                let _ = write!(out, "{}={}", c.name, c.value);
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

// ---- HTTP ----

struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

async fn send(
    http: &Http,
    jar: Option<&mut Jar>,
    method: &str,
    url: &str,
    auth: Option<&str>,
    form: Option<String>,
) -> Res<Resp> {
    let (_, path, _) = split_url(url)?;
    let mut req = hyper::Request::builder().method(method).uri(url);
    let h = req.headers_mut().expect("a fresh builder has headers");
    if let Some(jar) = jar.as_ref()
        && let Some(c) = jar.header(path)
    {
        h.insert(hyper::header::COOKIE, HeaderValue::from_str(&c).map_err(|e| e.to_string())?);
    }
    if let Some(a) = auth {
        h.insert(hyper::header::AUTHORIZATION, HeaderValue::from_str(a).map_err(|e| e.to_string())?);
    }
    let body = match form {
        Some(f) => {
            h.insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
            Full::new(Bytes::from(f))
        }
        None => Full::new(Bytes::new()),
    };
    let req = req.body(body).map_err(|e| e.to_string())?;
    let res = http.request(req).await.map_err(|e| format!("{method} {url}: {e:?}"))?;
    let status = res.status().as_u16();
    let (parts, body) = res.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    if let Some(jar) = jar {
        jar.store(path, &parts.headers);
    }
    Ok(Resp { status, headers: parts.headers, body })
}

fn snippet(b: &Bytes) -> String {
    String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned()
}

// ---- the flows ----

struct Vu {
    id: usize,
    jar: Jar,
    seq: u64,
    access: String,
    refresh: Option<String>,
}

impl Vu {
    fn nonce(&mut self, what: &str) -> String {
        self.seq += 1;
        let mut h = Sha256::new();
        h.update(SEED.get().expect("seeded").as_slice());
        h.update(self.id.to_le_bytes());
        h.update(self.seq.to_le_bytes());
        h.update(what.as_bytes());
        URL_SAFE_NO_PAD.encode(h.finalize())
    }
}

static SEED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

fn basic(cfg: &Config) -> String {
    let raw = format!("{}:{}", form_encode(&cfg.client_id), form_encode(&cfg.client_secret));
    format!("Basic {}", STANDARD.encode(raw))
}

/// The authorization request of one flow: (URL, code_verifier).
fn authorize_url(cfg: &Config, vu: &mut Vu, with_resource: bool) -> (String, String) {
    let verifier = vu.nonce("verifier");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut p = vec![
        ("response_type".to_string(), "code".to_string()),
        ("client_id".to_string(), cfg.client_id.clone()),
        ("redirect_uri".to_string(), cfg.redirect_uri.clone()),
        ("scope".to_string(), cfg.scope.clone()),
        ("state".to_string(), vu.nonce("state")[..16].to_string()),
        ("nonce".to_string(), vu.nonce("nonce")[..16].to_string()),
        ("code_challenge".to_string(), challenge),
        ("code_challenge_method".to_string(), "S256".to_string()),
    ];
    if with_resource && let Some(r) = &cfg.resource {
        p.push(("resource".to_string(), r.clone()));
    }
    let sep = if cfg.authorize.contains('?') { '&' } else { '?' };
    (format!("{}{sep}{}", cfg.authorize, encode_pairs(&p)), verifier)
}

/// Follows an authorization request to the redirect URI: redirects, and (when
/// `may_login`) the login form. Returns the code and the time spent in password POSTs.
async fn to_code(
    http: &Http,
    cfg: &Config,
    jar: &mut Jar,
    start: String,
    may_login: bool,
    verbose: bool,
) -> Res<(String, Duration)> {
    let (mut method, mut url, mut body) = ("GET", start, None::<String>);
    let mut in_posts = Duration::ZERO;
    let state = query_param(&url, "state");
    for _ in 0..12 {
        let t0 = Instant::now();
        let posting = body.is_some();
        let r = send(http, Some(jar), method, &url, None, body.take()).await?;
        if posting {
            in_posts += t0.elapsed();
        }
        if verbose {
            let loc = r.headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or("");
            println!("  {method} {} → {} {}", &url[..url.len().min(110)], r.status, &loc[..loc.len().min(110)]);
        }
        if (300..400).contains(&r.status) {
            let loc = r.headers.get("location").and_then(|l| l.to_str().ok()).ok_or("redirect without Location")?;
            let next = resolve(&url, loc)?;
            if next.starts_with(&cfg.redirect_uri) {
                if let Some(e) = query_param(&next, "error") {
                    return Err(format!("authorization error {e}: {next}"));
                }
                if query_param(&next, "state") != state {
                    return Err(format!("state not returned: {next}"));
                }
                let code = query_param(&next, "code").ok_or_else(|| format!("no code in {next}"))?;
                return Ok((code, in_posts));
            }
            (method, url) = ("GET", next);
            continue;
        }
        if r.status == 200 && may_login {
            let html = String::from_utf8_lossy(&r.body);
            let (action, inputs) =
                login_form(&html).ok_or_else(|| format!("no login form at {url}: {}", snippet(&r.body)))?;
            let mut fields = Vec::with_capacity(inputs.len());
            for (k, v) in inputs {
                let v = match k.as_str() {
                    "username" => cfg.username.clone(),
                    "password" => cfg.password.clone(),
                    _ => v,
                };
                fields.push((k, v));
            }
            let target = resolve(&url, &action)?;
            (method, url, body) = ("POST", target, Some(encode_pairs(&fields)));
            continue;
        }
        return Err(format!("{method} {url} → {}: {}", r.status, snippet(&r.body)));
    }
    Err("too many steps before the redirect URI".into())
}

struct Tokens {
    json: serde_json::Value,
}

async fn token(http: &Http, cfg: &Config, form: String) -> Res<Tokens> {
    let r = send(http, None, "POST", &cfg.token, Some(&basic(cfg)), Some(form)).await?;
    if r.status != 200 {
        return Err(format!("token → {}: {}", r.status, snippet(&r.body)));
    }
    let json: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| format!("token JSON: {e}"))?;
    if json.get("access_token").and_then(|v| v.as_str()).is_none() {
        return Err(format!("no access_token: {}", snippet(&r.body)));
    }
    Ok(Tokens { json })
}

fn s(json: &serde_json::Value, k: &str) -> Option<String> {
    json.get(k).and_then(|v| v.as_str()).map(str::to_string)
}

/// One code flow with the user's session: authorize → code → token.
async fn code_flow(
    http: &Http,
    cfg: &Config,
    vu: &mut Vu,
    with_resource: bool,
    may_login: bool,
    verbose: bool,
) -> Res<(Tokens, Duration)> {
    let (url, verifier) = authorize_url(cfg, vu, with_resource);
    let (code, in_posts) = to_code(http, cfg, &mut vu.jar, url, may_login, verbose).await?;
    let form = encode_pairs(&[
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code),
        ("redirect_uri".into(), cfg.redirect_uri.clone()),
        ("code_verifier".into(), verifier),
    ]);
    let t = token(http, cfg, form).await?;
    if s(&t.json, "id_token").is_none() {
        return Err("no id_token".into());
    }
    Ok((t, in_posts))
}

async fn refresh(http: &Http, cfg: &Config, vu: &mut Vu) -> Res<Tokens> {
    let rt = vu.refresh.clone().ok_or("no refresh token")?;
    let form = encode_pairs(&[("grant_type".into(), "refresh_token".into()), ("refresh_token".into(), rt)]);
    let t = token(http, cfg, form).await?;
    if let Some(new) = s(&t.json, "refresh_token") {
        vu.refresh = Some(new);
    }
    Ok(t)
}

async fn userinfo(http: &Http, cfg: &Config, vu: &Vu) -> Res<serde_json::Value> {
    let r = send(http, None, "GET", &cfg.userinfo, Some(&format!("Bearer {}", vu.access)), None).await?;
    if r.status != 200 {
        return Err(format!("userinfo → {}: {}", r.status, snippet(&r.body)));
    }
    let json: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| format!("userinfo JSON: {e}"))?;
    if s(&json, "sub").is_none() {
        return Err("userinfo without sub".into());
    }
    Ok(json)
}

/// A fresh browser signs in: authorize without a session → form → code.
async fn login(http: &Http, cfg: &Config, vu: &mut Vu, verbose: bool) -> Res<Duration> {
    let mut fresh = Vu { id: vu.id, jar: Jar::default(), seq: vu.seq, access: String::new(), refresh: None };
    let (url, _) = authorize_url(cfg, &mut fresh, false);
    vu.seq = fresh.seq;
    let (_, in_posts) = to_code(http, cfg, &mut fresh.jar, url, true, verbose).await?;
    Ok(in_posts)
}

/// Before the clock: sign in once and hold a session, an access and a refresh token.
/// A sign-in refused with 429 (ferrid admits two password checks at a time per source
/// address and per user) is tried again a moment later.
async fn setup(http: &Http, cfg: &Config, id: usize, verbose: bool) -> Res<Vu> {
    let mut vu = Vu { id, jar: Jar::default(), seq: 0, access: String::new(), refresh: None };
    let with_resource = cfg.scenario != "userinfo";
    let mut tries = 0;
    let t = loop {
        match code_flow(http, cfg, &mut vu, with_resource, true, verbose).await {
            Ok((t, _)) => break t,
            Err(e) if e.contains(" → 429") && tries < 50 => {
                tries += 1;
                vu.jar = Jar::default();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    };
    vu.access = s(&t.json, "access_token").unwrap_or_default();
    vu.refresh = s(&t.json, "refresh_token");
    Ok(vu)
}

fn jwt_header(t: &str) -> String {
    t.split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .map(|h| String::from_utf8_lossy(&h).into_owned())
        .filter(|_| t.split('.').count() == 3)
        .unwrap_or_else(|| format!("opaque ({} chars)", t.len()))
}

async fn check(http: &Http, cfg: &Config) -> Res<()> {
    println!("sign in (setup of one user):");
    let mut vu = setup(http, cfg, 0, true).await?;
    println!(
        "  cookies held: {}",
        vu.jar.0.iter().map(|c| format!("{} (Path={})", c.name, c.path)).collect::<Vec<_>>().join(", ")
    );
    println!("code flow with the session:");
    let (t, _) = code_flow(http, cfg, &mut vu, true, false, true).await?;
    let keys: Vec<_> = t.json.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    println!("  token response keys: {keys:?}");
    println!("  id_token header: {}", jwt_header(&s(&t.json, "id_token").unwrap_or_default()));
    println!("  access_token: {}", jwt_header(&s(&t.json, "access_token").unwrap_or_default()));
    vu.refresh = s(&t.json, "refresh_token");
    println!("refresh (rotation):");
    let before = vu.refresh.clone();
    let t = refresh(http, cfg, &mut vu).await?;
    let keys: Vec<_> = t.json.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    println!("  keys: {keys:?}; rotated: {}", before != vu.refresh);
    println!("  access_token: {}", jwt_header(&s(&t.json, "access_token").unwrap_or_default()));
    let old = before.clone();
    vu.refresh = old;
    match refresh(http, cfg, &mut vu).await {
        Ok(_) => println!("  the replaced refresh token still works"),
        Err(e) => println!("  the replaced refresh token is refused: {}", &e[..e.len().min(120)]),
    }
    println!("userinfo (token of a flow without resource):");
    let mut u = setup(http, &Config { scenario: "userinfo".into(), ..cfg.clone() }, 1, false).await?;
    println!("  access_token: {}", jwt_header(&u.access));
    println!("  {}", userinfo(http, cfg, &u).await?);
    println!("login with a fresh browser:");
    let posts = login(http, cfg, &mut u, true).await?;
    println!("  password POST took {posts:?}");
    println!("wrong password:");
    let bad = Config { password: "not the password 42".into(), ..cfg.clone() };
    match login(http, &bad, &mut u, false).await {
        Ok(_) => return Err("a wrong password signed in".into()),
        Err(e) => println!("  refused: {}", &e[..e.len().min(160)]),
    }
    Ok(())
}

// ---- the load ----

#[derive(Clone, Copy)]
struct Sample {
    phase: u32,
    us: u32,
    step_us: u32,
    ok: bool,
}

const STOP: u32 = u32::MAX;

async fn op(http: &Http, cfg: &Config, vu: &mut Vu) -> Res<Duration> {
    match cfg.scenario.as_str() {
        "code" => {
            let (t, _) = code_flow(http, cfg, vu, true, false, false).await?;
            if let Some(rt) = s(&t.json, "refresh_token") {
                vu.refresh = Some(rt);
            }
            Ok(Duration::ZERO)
        }
        "refresh" => refresh(http, cfg, vu).await.map(|_| Duration::ZERO),
        "userinfo" => userinfo(http, cfg, vu).await.map(|_| Duration::ZERO),
        _ => login(http, cfg, vu, false).await,
    }
}

fn cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<_> = s.rsplit_once(')')?.1.split_whitespace().map(str::to_string).collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn run(cfg: Config) -> Res<()> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: Http = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(4096).build(connector);
    if cfg.check {
        return check(&http, &cfg).await;
    }
    let t0 = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    // sign the users in two at a time (ferrid's bound per source and user): not measured
    let gate = Arc::new(tokio::sync::Semaphore::new(2));
    for id in 0..cfg.conns {
        let (http, cfg, gate) = (http.clone(), cfg.clone(), gate.clone());
        set.spawn(async move {
            let _p = gate.acquire().await;
            setup(&http, &cfg, id, false).await
        });
    }
    let mut vus = Vec::new();
    while let Some(r) = set.join_next().await {
        vus.push(r.map_err(|e| e.to_string())??);
    }
    println!("SETUP {} users signed in in {:.1} s", vus.len(), t0.elapsed().as_secs_f64());

    let phase = Arc::new(AtomicU32::new(0));
    let errors_shown = Arc::new(AtomicU64::new(0));
    let mut logs = Vec::new();
    for mut vu in vus {
        let log: Arc<Mutex<Vec<Sample>>> = Arc::new(Mutex::new(Vec::with_capacity(4096)));
        logs.push(log.clone());
        let (http, cfg, phase, shown) = (http.clone(), cfg.clone(), phase.clone(), errors_shown.clone());
        set.spawn(async move {
            loop {
                let p = phase.load(Ordering::Acquire);
                if p == STOP {
                    return Ok(vu);
                }
                let start = Instant::now();
                let r = op(&http, &cfg, &mut vu).await;
                let us = start.elapsed().as_micros().min(u32::MAX as u128) as u32;
                if let Err(e) = &r
                    && shown.fetch_add(1, Ordering::Relaxed) < 5
                {
                    eprintln!("error ({}): {}", cfg.scenario, &e[..e.len().min(400)]);
                }
                if phase.load(Ordering::Acquire) == p {
                    let step_us = r.as_ref().map(|d| d.as_micros() as u32).unwrap_or(0);
                    log.lock().expect("log").push(Sample { phase: p, us, step_us, ok: r.is_ok() });
                }
                if r.is_err() {
                    // a user whose flow broke does not spin
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
    }
    let phases: Vec<(u32, f64)> =
        std::iter::once((1, cfg.warmup)).chain((0..cfg.runs).map(|i| (i + 2, cfg.duration))).collect();
    for (p, secs) in phases {
        if p == 1 {
            println!("PHASE warmup");
        } else {
            println!("PHASE run {}", p - 1);
        }
        let c0 = cpu_ticks();
        let started = Instant::now();
        phase.store(p, Ordering::Release);
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        phase.store(p + 100, Ordering::Release);
        let wall = started.elapsed().as_secs_f64();
        let c1 = cpu_ticks();
        if p == 1 {
            continue;
        }
        let mut lat = Vec::new();
        let mut steps = Vec::new();
        let mut errors = 0u64;
        for log in &logs {
            let mut l = log.lock().expect("log");
            for smp in l.iter().filter(|x| x.phase == p) {
                if smp.ok {
                    lat.push(smp.us);
                    if smp.step_us > 0 {
                        steps.push(smp.step_us);
                    }
                } else {
                    errors += 1;
                }
            }
            l.clear();
        }
        lat.sort_unstable();
        steps.sort_unstable();
        let result = serde_json::json!({
            "scenario": cfg.scenario,
            "conns": cfg.conns,
            "run": p - 1,
            "ops": lat.len(),
            "errors": errors,
            "secs": wall,
            "ops_per_s": lat.len() as f64 / wall,
            "p50_ms": pct(&lat, 0.50),
            "p99_ms": pct(&lat, 0.99),
            "step_p50_ms": pct(&steps, 0.50),
            "gen_cpu_pct": 100.0 * (c1 - c0) as f64 / 100.0 / wall,
        });
        println!("RESULT {result}");
    }
    phase.store(STOP, Ordering::Release);
    while set.join_next().await.is_some() {}
    Ok(())
}

fn main() {
    let cfg = parse_args();
    let mut seed = vec![0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read as _;
        let _ = f.read_exact(&mut seed);
    }
    SEED.set(seed).expect("seeded once");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.threads.max(1))
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Err(e) = rt.block_on(run(cfg)) {
        eprintln!("oidc-load: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_form_yields_its_action_and_every_named_input_unescaped() {
        let page = r#"<html><form method="get" action="/search"><input name="q"></form>
            <FORM method="post" action="/acme/prod/login?x=1&amp;y=2">
            <input type="hidden" name="csrf" value="a&#43;b&quot;c">
            <input type=hidden name=authorization value='response_type=code&amp;state=s'>
            <label>Username or email <input name="username" autocomplete="username"></label>
            <input name="password" type="password"><button>Sign in</button></FORM>"#;
        let (action, inputs) = login_form(page).expect("a form with a password input");
        assert_eq!(action, "/acme/prod/login?x=1&y=2");
        assert_eq!(
            inputs,
            vec![
                ("csrf".to_string(), "a+b\"c".to_string()),
                ("authorization".to_string(), "response_type=code&state=s".to_string()),
                ("username".to_string(), String::new()),
                ("password".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn a_page_without_a_password_input_has_no_login_form() {
        assert!(login_form(r#"<form action="/x"><input name="q"></form>"#).is_none());
    }

    #[test]
    fn cookies_go_only_to_their_path_and_an_expired_one_is_dropped() {
        let mut jar = Jar::default();
        let mut h = HeaderMap::new();
        h.append("set-cookie", HeaderValue::from_static("ferrid_session=abc; Path=/acme/prod; HttpOnly"));
        h.append("set-cookie", HeaderValue::from_static("csrf=1; Path=/acme/prod/login"));
        h.append("set-cookie", HeaderValue::from_static("other=2"));
        jar.store("/acme/prod/oauth/authorize", &h);
        assert_eq!(jar.header("/acme/prod/oauth/authorize").as_deref(), Some("ferrid_session=abc; other=2"));
        assert_eq!(jar.header("/acme/prod/login").as_deref(), Some("ferrid_session=abc; csrf=1"));
        assert_eq!(jar.header("/acme/production"), None);
        let mut gone = HeaderMap::new();
        gone.append("set-cookie", HeaderValue::from_static("ferrid_session=; Path=/acme/prod; Max-Age=0"));
        jar.store("/acme/prod/oauth/authorize", &gone);
        assert_eq!(jar.header("/acme/prod/login").as_deref(), Some("csrf=1"));
    }

    #[test]
    fn locations_resolve_against_the_request_url_and_parameters_decode() {
        let base = "http://127.0.0.1:8080/acme/prod/oauth/authorize?a=b";
        assert_eq!(resolve(base, "/interaction/x").unwrap(), "http://127.0.0.1:8080/interaction/x");
        assert_eq!(resolve(base, "login").unwrap(), "http://127.0.0.1:8080/acme/prod/oauth/login");
        assert_eq!(resolve(base, "http://127.0.0.1:9/cb?code=c").unwrap(), "http://127.0.0.1:9/cb?code=c");
        let cb = "http://127.0.0.1:9/cb?code=a%2Bb&state=s+1&iss=http%3A%2F%2Fx";
        assert_eq!(query_param(cb, "code").as_deref(), Some("a+b"));
        assert_eq!(query_param(cb, "state").as_deref(), Some("s 1"));
        assert_eq!(query_param(cb, "error"), None);
        assert_eq!(form_decode(&form_encode("a b+c/é&=")), "a b+c/é&=");
    }
}
