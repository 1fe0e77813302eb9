//! The OpenAPI document at `/api/v1/openapi.json` and the Swagger page at `/api/v1/docs`.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use ferrid_testkit::*;

/// Every route of the management API. Adding a route means adding it here, and this file
/// then checks that the router serves it and that the document describes it.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/tenants"),
    ("POST", "/api/v1/tenants"),
    ("GET", "/api/v1/tenants/{tenant}"),
    ("DELETE", "/api/v1/tenants/{tenant}"),
    ("GET", "/api/v1/tenants/{tenant}/audit"),
    ("GET", "/api/v1/tenants/{tenant}/tracks"),
    ("POST", "/api/v1/tenants/{tenant}/tracks"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}"),
    ("PATCH", "/api/v1/tenants/{tenant}/tracks/{track}"),
    ("DELETE", "/api/v1/tenants/{tenant}/tracks/{track}"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}/keys"),
    ("POST", "/api/v1/tenants/{tenant}/tracks/{track}/keys/rotate"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}/apps"),
    ("POST", "/api/v1/tenants/{tenant}/tracks/{track}/apps"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}"),
    ("PUT", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}"),
    ("DELETE", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets"),
    ("POST", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets"),
    ("DELETE", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/secrets/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys"),
    ("POST", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys"),
    ("DELETE", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}/keys/{kid}"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}/users"),
    ("POST", "/api/v1/tenants/{tenant}/tracks/{track}/users"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}/sessions"),
    ("DELETE", "/api/v1/tenants/{tenant}/tracks/{track}/users/{id}/sessions"),
];

/// Unauthenticated routes that the document also describes.
const PUBLIC: &[(&str, &str)] = &[("GET", "/api/v1/openapi.json")];

async fn document(app: &TestApp) -> Value {
    let r = app.http.get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    serde_json::from_str(&r.text().await.unwrap()).expect("the document is JSON")
}

/// (METHOD, path) of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options", "trace"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

fn concrete(path: &str) -> String {
    path.replace("{tenant}", "t1")
        .replace("{track}", "tr")
        .replace("{app}", "a")
        .replace("{id}", "i")
        .replace("{kid}", "k")
}

#[tokio::test]
async fn the_document_is_openapi_3_1_served_without_a_token() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(doc["info"]["title"], "ferrid management API");
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    for name in ["Error", "FieldError", "Tenant", "Track", "App", "AppRegistration", "AppSpec", "ClientKey"] {
        assert!(doc["components"]["schemas"].get(name).is_some(), "schema {name} missing");
    }
}

#[tokio::test]
async fn every_route_is_documented_and_nothing_else() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let expected: BTreeSet<(String, String)> =
        ROUTES.iter().chain(PUBLIC).map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(operations(&doc), expected);
}

#[tokio::test]
async fn every_listed_route_is_served() {
    // Without a token each route answers 401 in the API's shape: neither 404 (no route)
    // nor 405 (no such method), so the list above is the router's.
    let app = spawn_app().await;
    for (method, path) in ROUTES {
        let url = format!("{}{}", app.base, concrete(path));
        let r = app.http.request(Method::from_bytes(method.as_bytes()).unwrap(), &url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "unauthorized", "{method} {path}");
    }
}

#[tokio::test]
async fn every_authenticated_operation_documents_its_errors() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (method, path) in ROUTES {
        let op = &doc["paths"][path][method.to_lowercase()];
        assert_eq!(op["security"], serde_json::json!([{ "bearer": [] }, { "oauth2": [] }]), "{method} {path}");
        let params: BTreeSet<&str> =
            op["parameters"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
        for segment in path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')) {
            assert!(params.contains(segment), "{method} {path}: path parameter {segment}");
        }
        let responses = op["responses"].as_object().unwrap();
        let mut wanted = vec!["401", "403", "404", "503"];
        if op.get("requestBody").is_some() {
            wanted.extend(["400", "413"]);
        }
        if *method == "POST" && responses.contains_key("201") {
            wanted.push("409");
        }
        if *method == "PUT" || *method == "PATCH" {
            wanted.push("412");
            assert!(params.contains("If-Match"), "{method} {path}: If-Match");
        }
        for status in wanted {
            let r = responses.get(status).unwrap_or_else(|| panic!("{method} {path}: no {status}"));
            let name = r["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
            let shared = &doc["components"]["responses"][name];
            assert_eq!(
                shared["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error",
                "{method} {path} {status}"
            );
        }
        assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path}: no success response");
    }
}

#[tokio::test]
async fn lists_document_pagination_and_responses_their_headers() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for path in ["/api/v1/tenants", "/api/v1/tenants/{tenant}/tracks", "/api/v1/tenants/{tenant}/tracks/{track}/apps"] {
        let op = &doc["paths"][path]["get"];
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(params, ["limit", "after"], "{path}");
        assert!(op["responses"]["400"].is_object(), "{path}: a bad limit is a 400");
    }
    for (method, path) in ROUTES.iter().filter(|(m, _)| *m == "POST") {
        let op = &doc["paths"][path][method.to_lowercase()];
        if let Some(created) = op["responses"].get("201") {
            assert!(created["headers"]["Location"].is_object(), "{path}: Location");
        }
    }
    for path in ["/api/v1/tenants/{tenant}/tracks/{track}", "/api/v1/tenants/{tenant}/tracks/{track}/apps/{app}"] {
        for method in ["get", "put", "patch"] {
            if let Some(op) = doc["paths"][path].get(method) {
                assert!(op["responses"]["200"]["headers"]["ETag"].is_object(), "{method} {path}: ETag");
            }
        }
    }
}

#[tokio::test]
async fn the_swagger_page_and_its_files_are_served_with_strict_headers() {
    let app = spawn_app().await;
    let files = [
        ("/api/v1/docs", "text/html"),
        ("/api/v1/docs/init.js", "text/javascript"),
        ("/api/v1/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/api/v1/docs/swagger-ui.css", "text/css"),
    ];
    for (path, content_type) in files {
        let r = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers();
        assert!(h["content-type"].to_str().unwrap().starts_with(content_type), "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn the_swagger_page_loads_only_from_this_server_and_runs_no_inline_script() {
    let app = spawn_app().await;
    let page = app.http.get(format!("{}/api/v1/docs", app.base)).send().await.unwrap().text().await.unwrap();
    // every script has a same-origin src and no body
    let scripts: Vec<&str> = page.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 2);
    for s in &scripts {
        let tag = &s[..s.find('>').unwrap()];
        assert!(tag.contains("src=\"/api/v1/docs/"), "{tag}");
        assert!(s[s.find('>').unwrap() + 1..].trim_start().starts_with("</script>"), "inline script: {s}");
    }
    for absolute in ["http://", "https://", "//cdn", "unpkg", "jsdelivr"] {
        assert!(!page.contains(absolute), "{absolute} in the page");
    }
    let init = app.http.get(format!("{}/api/v1/docs/init.js", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(init.contains("url: \"/api/v1/openapi.json\""));
    assert!(init.contains("validatorUrl: null"), "no outside validator");
}

#[tokio::test]
async fn an_undecodable_path_segment_is_a_404_in_the_api_shape() {
    let (app, admin) = spawn_admin().await;
    let (s, b) = app.get_api("/tenants/%FF%FE", &admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(b["error"], "not_found");
}

#[tokio::test]
async fn swagger_authorize_gets_a_client_credentials_token_from_the_master_track() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let flow = &doc["components"]["securitySchemes"]["oauth2"];
    assert_eq!(flow["type"], "oauth2");
    let cc = &flow["flows"]["clientCredentials"];
    let token_url = cc["tokenUrl"].as_str().unwrap();
    assert_eq!(token_url, format!("{}/master/master/oauth/token", app.base));
    assert!(cc["scopes"]["ferrid-api:admin"].is_string(), "{cc}");
    // what Swagger UI's Authorize then does: the admin client at that URL, then an API call
    let body = "grant_type=client_credentials&scope=ferrid-api:admin";
    let token =
        ferrid_testkit::api::access_token(app.post_form(token_url, Some(("admin", &app.admin_secret)), body).await)
            .await;
    let (status, _) = app.get_api("/tenants", &token).await;
    assert_eq!(status, StatusCode::OK);
}
