//! Issue 19: `/metrics` scraped and parsed as the Prometheus text format after a
//! scripted scenario, the access log read back as JSON, and the landing page at `/`
//! (docs/operations.md).

use std::collections::{BTreeMap, HashMap};

use ferrid_core::observe::StorePort;
use ferrid_server::access_log::Target;
use ferrid_testkit::*;
use serde_json::Value;

/// One sample of the exposition format: `name{label="value",…} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed scrape: the `# TYPE` of each family and every sample.
struct Scrape {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Scrape {
    /// Parses the text format 0.0.4, failing on any line it does not follow.
    fn parse(text: &str) -> Scrape {
        let (mut types, mut samples) = (HashMap::new(), Vec::new());
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(t) = line.strip_prefix("# TYPE ") {
                let (name, kind) = t.split_once(' ').expect("# TYPE name kind");
                assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
                types.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') {
                samples.push(sample(line));
            }
        }
        Scrape { types, samples }
    }

    /// The samples named `name` whose labels include every pair of `with`.
    fn find(&self, name: &str, with: &[(&str, &str)]) -> Vec<&Sample> {
        let matches = |s: &&Sample| with.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v));
        self.samples.iter().filter(|s| s.name == name).filter(matches).collect()
    }

    fn value(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        let found = self.find(name, with);
        assert!(!found.is_empty(), "no {name} with {with:?}");
        found.iter().map(|s| s.value).sum()
    }

    /// The family a sample belongs to (a histogram's `_bucket`, `_sum`, `_count`).
    fn family<'a>(&self, name: &'a str) -> &'a str {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix)
                && self.types.get(base).is_some_and(|t| t == "histogram")
            {
                return base;
            }
        }
        name
    }
}

fn sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).expect("a sample has a value");
    let name = &line[..name_end];
    assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "{line}");
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(mut inner) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inner.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = inner.split_once("=\"").expect("label=\"value\"");
            let (mut value, mut chars) = (String::new(), after.char_indices());
            let end = loop {
                match chars.next().expect("a closed label value") {
                    (_, '\\') => match chars.next().expect("an escape").1 {
                        'n' => value.push('\n'),
                        c => value.push(c),
                    },
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            labels.insert(key.trim_start_matches(',').to_owned(), value);
            inner = after[end + 1..].trim_start_matches(',');
        }
    }
    let value = match rest.trim() {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("not a sample value: {line}")),
    };
    Sample { name: name.to_owned(), labels, value }
}

async fn scrape(app: &TestApp) -> Scrape {
    let r = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    Scrape::parse(&r.text().await.unwrap())
}

const TOKEN_ROUTE: &str = "/{tenant}/{track}/oauth/token";

#[tokio::test]
async fn metrics_after_a_scripted_scenario_count_routes_grants_errors_and_the_throttle() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.throttle.burst = 2.0;
        c.throttle.per_second = 0.01;
    })
    .await;
    let (_, c) = app.fixture("prod", "ES256").await;
    let url = app.token_url("t1", "prod");
    for _ in 0..3 {
        assert_eq!(app.token("t1", "prod", &c, "").await.status(), 200);
    }
    let refused = app.post_form(&url, Some((&c.id, &c.secret)), "grant_type=password").await;
    assert_eq!(refused.status(), 400);
    let attacker = client_from("127.0.0.2");
    let mut last = 0;
    for _ in 0..5 {
        last = basic_attempt(&attacker, &url, &c.id, "guess").await.status().as_u16();
    }
    assert_eq!(last, 429);
    let s = scrape(&app).await;

    // requests and latency per route template, by status
    assert!(s.value("ferrid_http_requests_total", &[("route", TOKEN_ROUTE), ("status", "200")]) >= 3.0);
    assert!(s.value("ferrid_http_requests_total", &[("route", TOKEN_ROUTE), ("status", "429")]) >= 1.0);
    assert!(s.value("ferrid_http_requests_total", &[("route", "/api/v1/tenants"), ("status", "201")]) >= 1.0);
    let count = s.value("ferrid_http_request_duration_seconds_count", &[("route", TOKEN_ROUTE)]);
    assert!(count >= 9.0, "{count}");
    assert_eq!(
        s.value("ferrid_http_request_duration_seconds_bucket", &[("route", TOKEN_ROUTE), ("le", "+Inf")]),
        count
    );
    // token outcomes by grant and RFC 6749 error code, and the throttle
    assert!(s.value("ferrid_tokens_issued_total", &[("grant", "client_credentials")]) >= 3.0);
    let errors = |grant, error| s.value("ferrid_token_errors_total", &[("grant", grant), ("error", error)]);
    assert_eq!(errors("other", "unsupported_grant_type"), 1.0);
    assert!(errors("client_credentials", "invalid_client") >= 2.0);
    assert!(errors("client_credentials", "temporarily_unavailable") >= 1.0);
    assert!(s.value("ferrid_throttled_requests_total", &[("route", TOKEN_ROUTE)]) >= 1.0);
    // connections, snapshot, jobs, store, process, build
    assert!(s.value("ferrid_open_connections", &[]) >= 1.0);
    assert_eq!(s.value("ferrid_connections_refused_total", &[("limit", "server")]), 0.0);
    assert_eq!(s.value("ferrid_connections_refused_total", &[("limit", "source")]), 0.0);
    assert!(s.value("ferrid_snapshot_reloads_total", &[("kind", "full"), ("result", "ok")]) >= 1.0);
    assert!(s.value("ferrid_snapshot_reloads_total", &[("kind", "track"), ("result", "ok")]) >= 1.0);
    assert!(s.value("ferrid_snapshot_reload_duration_seconds_count", &[("kind", "full")]) >= 1.0);
    assert!(s.value("ferrid_snapshot_age_seconds", &[]) >= 0.0);
    for job in ["expiry-purge", "key-rotation", "audit-retention"] {
        assert!(s.value("ferrid_job_runs_total", &[("job", job)]) >= 1.0, "{job}");
    }
    assert!(s.value("ferrid_store_calls_total", &[]) > 0.0);
    // store call latency by port: the fixture's management writes (a tenant, a track,
    // an app) went through these ports and were timed, to their commit
    for port in ["tenant", "track", "app", "snapshot"] {
        let with = [("port", port)];
        let count = s.value("ferrid_store_call_duration_seconds_count", &with);
        assert!(count >= 1.0, "{port}: {count}");
        let inf = [("port", port), ("le", "+Inf")];
        assert_eq!(s.value("ferrid_store_call_duration_seconds_bucket", &inf), count, "{port}");
        assert!(s.value("ferrid_store_call_duration_seconds_sum", &with) > 0.0, "{port}");
    }
    let ports: Vec<&str> = StorePort::ALL.iter().map(|p| p.as_str()).collect();
    for sample in s.samples.iter().filter(|x| s.family(&x.name) == "ferrid_store_call_duration_seconds") {
        let keys: Vec<&str> = sample.labels.keys().map(String::as_str).filter(|k| *k != "le").collect();
        assert_eq!(keys, ["port"], "{sample:?}");
        assert!(ports.contains(&sample.labels["port"].as_str()), "{sample:?}");
    }
    assert!(s.value("ferrid_tracks", &[]) >= 2.0);
    assert!(s.value("process_resident_memory_bytes", &[]) > 0.0);
    assert!(s.value("process_open_fds", &[]) > 0.0);
    assert!(s.value("process_cpu_seconds_total", &[]) >= 0.0);
    assert_eq!(s.value("ferrid_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
    // the types, and bounded label sets: no tenant, track or client name is a label
    assert_eq!(s.types["ferrid_http_requests_total"], "counter");
    assert_eq!(s.types["ferrid_http_request_duration_seconds"], "histogram");
    assert_eq!(s.types["ferrid_open_connections"], "gauge");
    assert_eq!(s.types["ferrid_store_call_duration_seconds"], "histogram");
    for sample in &s.samples {
        assert!(s.types.contains_key(s.family(&sample.name)), "{} has no # TYPE", sample.name);
        for v in sample.labels.values() {
            assert!(!v.contains("t1") && !v.contains("prod") && !v.contains(&c.id), "{sample:?}");
        }
    }
}

#[tokio::test]
async fn connections_refused_at_a_sources_limit_are_counted() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with(tempfile::tempdir().unwrap(), |c| c.max_connections_per_source = Some(1)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let held = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut second = tokio::net::TcpStream::connect(&addr).await.unwrap();
    second.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    second.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    drop(held);
    let counted = eventually(|| async {
        let Ok(r) = reqwest::Client::new().get(format!("{}/metrics", app.base)).send().await else { return false };
        let Ok(text) = r.text().await else { return false };
        text.contains("ferrid_connections_refused_total{limit=\"source\"} 1")
    })
    .await;
    assert!(counted);
}

async fn read_lines(path: &std::path::Path) -> Vec<Value> {
    let text = tokio::fs::read_to_string(path).await.unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

#[tokio::test]
async fn the_access_log_is_one_json_line_per_request_without_secrets_tokens_or_queries() {
    let logs = tempfile::tempdir().unwrap();
    let path = logs.path().join("access.log");
    let target = Target::File(path.clone());
    let app = spawn_with(tempfile::tempdir().unwrap(), move |c| c.access_log = Some(target)).await;
    let (admin, c) = app.fixture("prod", "ES256").await;
    let url = app.token_url("t1", "prod");
    let token = ferrid_testkit::api::access_token(app.token("t1", "prod", &c, "").await).await;
    let wrong = "wrong-secret-0123456789";
    assert_eq!(app.post_form(&url, Some((&c.id, wrong)), "grant_type=client_credentials").await.status(), 401);
    // client_secret_post for a client_secret_basic client: refused, its id still logged
    let post = format!("grant_type=client_credentials&client_id={}&client_secret={}", c.id, c.secret);
    assert_eq!(app.post_form(&url, None, &post).await.status(), 401);
    let query = "code=query-code-0123456789";
    assert_eq!(app.http.get(format!("{}/healthz?{query}", app.base)).send().await.unwrap().status(), 200);
    assert!(eventually(|| async { read_lines(&path).await.iter().any(|l| l["route"] == "/healthz") }).await);

    let text = std::fs::read_to_string(&path).unwrap();
    for secret in [&c.secret, wrong, &token, &admin, &app.admin_secret, query, "query-code"] {
        assert!(!text.contains(secret), "the access log holds {secret}");
    }
    let lines = read_lines(&path).await;
    let tokens: Vec<&Value> = lines.iter().filter(|l| l["route"] == TOKEN_ROUTE && l["tenant"] == "t1").collect();
    assert_eq!(tokens.len(), 3, "{lines:?}");
    for l in &tokens {
        assert_eq!(l["method"], "POST");
        assert_eq!(l["track"], "prod");
        assert_eq!(l["client_id"], c.id.as_str(), "{l}");
        assert_eq!(l["source"], "127.0.0.1");
        assert!(l["latency_ms"].as_f64().unwrap() >= 0.0);
        assert!(l["time"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(tokens.iter().map(|l| l["status"].as_u64().unwrap()).collect::<Vec<_>>(), [200, 401, 401]);
    let api = lines.iter().find(|l| l["route"] == "/api/v1/tenants/{tenant}/tracks").expect("an API line");
    assert_eq!((api["tenant"].as_str(), api["track"].as_str(), api["status"].as_u64()), (Some("t1"), None, Some(201)));
    let keys: Vec<&str> = lines[0].as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = ["time", "method", "route", "status", "latency_ms", "tenant", "track", "client_id", "source"];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn the_landing_page_points_to_discovery_the_console_and_the_api_docs() {
    let app = spawn_app().await;
    let r = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["vary"], "Accept");
    let links: Value = r.json().await.unwrap();
    assert_eq!(links["discovery"], format!("{}/master/master/.well-known/openid-configuration", app.base));
    assert_eq!(links["issuer"], format!("{}/master/master", app.base));
    assert_eq!(links["console"], format!("{}/console/", app.base));
    assert_eq!(links["api_docs"], format!("{}/api/v1/docs", app.base));
    assert_eq!(links["openapi"], format!("{}/api/v1/openapi.json", app.base));
    let discovery = app.http.get(links["discovery"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(discovery.status(), 200);

    let page = app.http.get(format!("{}/", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("href=\"{}/master/master/.well-known/openid-configuration\"", app.base)), "{html}");
    assert!(html.contains(&format!("href=\"{}/api/v1/docs\"", app.base)), "{html}");
}
