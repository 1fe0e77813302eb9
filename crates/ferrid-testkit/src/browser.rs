//! A person's browser, as far as the OpenID Provider's tests need one: it keeps cookies
//! (by name; one host), never follows redirects, and fills and submits the forms of the
//! server-rendered pages the way a browser without JavaScript does.

use std::collections::BTreeMap;

use reqwest::{Response, StatusCode, header};

/// A form of a page: where it posts and every named input with its value.
#[derive(Debug, Clone)]
pub struct HtmlForm {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl HtmlForm {
    /// Sets (or adds) a field.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(f) => f.1 = value.to_owned(),
            None => self.fields.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The value of `attr="…"` inside one tag.
fn attribute(tag: &str, attr: &str) -> Option<String> {
    let key = format!(" {attr}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The forms of an HTML page, in order (inputs of type submit are left out: a button is
/// added with [`HtmlForm::set`], as a click would).
pub fn forms(html: &str) -> Vec<HtmlForm> {
    let mut out = Vec::new();
    for part in html.split("<form").skip(1) {
        let body = part.split("</form>").next().unwrap_or(part);
        let tag_end = body.find('>').unwrap_or(body.len());
        let action = attribute(&body[..tag_end], "action").unwrap_or_default();
        let mut fields = Vec::new();
        for input in body.split("<input").skip(1) {
            let tag = &input[..input.find('>').unwrap_or(input.len())];
            if let Some(name) = attribute(tag, "name") {
                fields.push((name, attribute(tag, "value").unwrap_or_default()));
            }
        }
        out.push(HtmlForm { action, fields });
    }
    out
}

/// A browser session against one server.
pub struct Browser {
    pub http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// Every `Set-Cookie` received, as sent (for attribute checks).
    pub set_cookies: Vec<String>,
}

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

/// What a response was, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The `Location` of a redirect.
    pub fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }

    pub fn forms(&self) -> Vec<HtmlForm> {
        forms(&self.body)
    }

    /// The first form, which must exist.
    pub fn form(&self) -> HtmlForm {
        self.forms()
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no form on the page ({}): {}", self.status, self.body))
    }
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: BTreeMap::new(),
            set_cookies: Vec::new(),
        }
    }

    /// A browser on another machine: its requests come from `ip` (a loopback address
    /// such as `127.0.0.2`, which the server sees as the source).
    pub fn from(ip: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(ip.parse::<std::net::IpAddr>().unwrap())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            set_cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty())
            .then(|| self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    async fn read(&mut self, r: Response) -> Page {
        for v in r.headers().get_all(header::SET_COOKIE) {
            let s = v.to_str().unwrap().to_owned();
            let pair = s.split(';').next().unwrap();
            if let Some((k, val)) = pair.split_once('=') {
                let expired = s.to_ascii_lowercase().contains("max-age=0");
                if expired || val.is_empty() {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies.insert(k.trim().to_owned(), val.to_owned());
                }
            }
            self.set_cookies.push(s);
        }
        Page { status: r.status(), headers: r.headers().clone(), body: r.text().await.unwrap() }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let mut req = self.http.get(url);
        if let Some(c) = self.cookie_header() {
            req = req.header(header::COOKIE, c);
        }
        let r = req.send().await.unwrap();
        self.read(r).await
    }

    /// Posts `fields` as a form to `url` (absolute, or a path resolved against `base`).
    pub async fn post(&mut self, url: &str, fields: &[(String, String)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut req = self.http.post(url).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(body);
        if let Some(c) = self.cookie_header() {
            req = req.header(header::COOKIE, c);
        }
        let r = req.send().await.unwrap();
        self.read(r).await
    }

    /// Submits a form as a browser does (its action resolved against `base`).
    pub async fn submit(&mut self, base: &str, form: &HtmlForm) -> Page {
        let url = if form.action.starts_with("http") { form.action.clone() } else { format!("{base}{}", form.action) };
        self.post(&url, &form.fields).await
    }
}

/// The query (or fragment) parameters of a redirect location.
pub fn params_of(location: &str) -> BTreeMap<String, String> {
    let tail = location.split_once(['?', '#']).map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(tail.as_bytes()).into_owned().collect()
}
