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

/// The forms of an HTML page, in order, each with what a browser without JavaScript
/// would submit before a button is pressed (HTML "constructing the entry list"): named
/// controls in document order, except disabled ones, buttons (a button is added with
/// [`HtmlForm::set`], as a click would), file inputs, and checkboxes or radio buttons
/// that are not checked (a checked one without a value sends `on`); a `<textarea>`
/// sends its text, a `<select>` its selected options (the first option when none is).
pub fn forms(html: &str) -> Vec<HtmlForm> {
    let mut out = Vec::new();
    for part in html.split("<form").skip(1) {
        let body = part.split("</form>").next().unwrap_or(part);
        let tag_end = body.find('>').unwrap_or(body.len());
        let action = attribute(&body[..tag_end], "action").unwrap_or_default();
        let mut fields = Vec::new();
        let mut rest = &body[tag_end..];
        while let Some((at, kind)) = next_control(rest) {
            let after = &rest[at + kind.len() + 1..];
            let tag = &after[..after.find('>').unwrap_or(after.len())];
            let content = &after[(tag.len() + 1).min(after.len())..];
            rest = content;
            let Some(name) = attribute(tag, "name") else { continue };
            if has_flag(tag, "disabled") {
                continue;
            }
            match kind {
                "input" => {
                    let ty = attribute(tag, "type").unwrap_or_default().to_ascii_lowercase();
                    let value = attribute(tag, "value");
                    match ty.as_str() {
                        "submit" | "button" | "image" | "reset" | "file" => {}
                        "checkbox" | "radio" if !has_flag(tag, "checked") => {}
                        "checkbox" | "radio" => fields.push((name, value.unwrap_or_else(|| "on".into()))),
                        _ => fields.push((name, value.unwrap_or_default())),
                    }
                }
                "textarea" => {
                    let text = &content[..content.find("</textarea>").unwrap_or(content.len())];
                    // a newline right after the start tag is not part of the value
                    let text = text.strip_prefix('\n').unwrap_or(text);
                    fields.push((name, unescape(text)));
                }
                _ => {
                    let options = &content[..content.find("</select>").unwrap_or(content.len())];
                    let all: Vec<(String, bool)> = options
                        .split("<option")
                        .skip(1)
                        .map(|o| {
                            let tag = &o[..o.find('>').unwrap_or(o.len())];
                            let text = &o[(tag.len() + 1).min(o.len())..];
                            let text = text[..text.find('<').unwrap_or(text.len())].trim();
                            (attribute(tag, "value").unwrap_or_else(|| unescape(text)), has_flag(tag, "selected"))
                        })
                        .collect();
                    let chosen: Vec<&(String, bool)> = all.iter().filter(|(_, selected)| *selected).collect();
                    let multiple = has_flag(tag, "multiple");
                    match (chosen.is_empty(), multiple) {
                        (false, true) => chosen.iter().for_each(|(v, _)| fields.push((name.clone(), v.clone()))),
                        (false, false) => fields.push((name, chosen[chosen.len() - 1].0.clone())),
                        (true, false) if !all.is_empty() => fields.push((name, all[0].0.clone())),
                        (true, _) => {}
                    }
                }
            }
        }
        out.push(HtmlForm { action, fields });
    }
    out
}

/// Where the next `<input`, `<textarea` or `<select` tag of `html` starts, and which.
fn next_control(html: &str) -> Option<(usize, &'static str)> {
    ["input", "textarea", "select"]
        .into_iter()
        .filter_map(|kind| {
            let mut from = 0;
            while let Some(i) = html[from..].find(&format!("<{kind}")) {
                let at = from + i;
                // `<select` must not match `<selected…`, nor `<input` match `<inputs`
                let next = html.as_bytes().get(at + kind.len() + 1).copied().unwrap_or(b'>');
                if next == b' ' || next == b'>' || next == b'\n' || next == b'/' {
                    return Some((at, kind));
                }
                from = at + 1;
            }
            None
        })
        .min_by_key(|(at, _)| *at)
}

/// Whether a boolean attribute (` checked`, ` selected`, ` disabled`, …) is on a tag.
fn has_flag(tag: &str, flag: &str) -> bool {
    tag.split(|c: char| c.is_ascii_whitespace() || c == '/')
        .any(|w| w.eq_ignore_ascii_case(flag) || w.to_ascii_lowercase().starts_with(&format!("{flag}=")))
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

#[cfg(test)]
mod tests {
    use super::forms;

    #[test]
    fn a_form_sends_what_a_browser_would_before_a_button_is_pressed() {
        let html = r#"<p>before</p><form method="post" action="/save">
<input type="hidden" name="csrf" value="t&amp;k">
<input name="name" value="orders" aria-describedby="name-hint">
<input type="checkbox" name="scope" value="read" checked>
<input type="checkbox" name="scope" value="write">
<input type="checkbox" name="consent" checked>
<input type="radio" name="method" value="post">
<input type="radio" name="method" value="basic" checked>
<input type="text" name="off" value="x" disabled>
<input type="file" name="cert">
<select name="alg"><option value="RS256">RS256</option><option value="ES256" selected>ES256</option></select>
<select name="first"><option value="a">A</option><option value="b">B</option></select>
<select name="many" multiple><option value="x" selected>X</option><option>y</option><option value="z" selected>Z</option></select>
<textarea name="claims" rows="4">
[{"claim": "a &lt; b"}]</textarea>
<button type="submit" name="go" value="1">Save</button>
<input type="submit" name="also" value="Save">
</form><form action="/other"><input name="q"></form>"#;
        let f = forms(html);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].action, "/save");
        let want: Vec<(String, String)> = [
            ("csrf", "t&k"),
            ("name", "orders"),
            ("scope", "read"),
            ("consent", "on"),
            ("method", "basic"),
            ("alg", "ES256"),
            ("first", "a"),
            ("many", "x"),
            ("many", "z"),
            ("claims", r#"[{"claim": "a < b"}]"#),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(f[0].fields, want);
        assert_eq!(f[1].fields, [("q".to_owned(), String::new())]);
    }
}
