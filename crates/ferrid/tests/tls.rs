//! Issue 19, HTTPS on ferrid's own listener (docs/deployment.md "TLS"), with a test CA
//! made by rcgen that only these clients trust: a real `ferrid serve --tls-cert
//! --tls-key` process answering token, discovery and JWKS requests with https URLs; and
//! in process, a certificate swap picked up by the reload hook without dropping an open
//! connection, a bad new certificate that keeps the old one, and `Secure` cookies.

use std::path::Path;

use ferrid_testkit::process::{free_port, start_logged};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::Value;

const ADMIN_SECRET: &str = "tls-test-admin-secret-0123456789";

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new() -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { issuer: Issuer::new(params, key), pem }
    }

    /// Writes a fresh leaf certificate for localhost and 127.0.0.1 and its key to
    /// `cert.pem` and `key.pem` in `dir`; returns the certificate (DER).
    fn issue(&self, dir: &Path) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        cert.der().to_vec()
    }

    /// A client that trusts this CA only and reports the server certificate it saw.
    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.pem.as_bytes()).unwrap()])
            .tls_info(true)
            .build()
            .unwrap()
    }
}

/// The certificate the server presented on the connection that carried `r`.
fn peer_cert(r: &reqwest::Response) -> Vec<u8> {
    r.extensions().get::<reqwest::tls::TlsInfo>().unwrap().peer_certificate().unwrap().to_vec()
}

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn ferrid_serve_answers_token_discovery_and_jwks_over_https_with_https_urls() {
    let ca = Ca::new();
    let dir = tempfile::tempdir().unwrap();
    let served = ca.issue(dir.path());
    let port = free_port();
    let base = format!("https://127.0.0.1:{port}");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ferrid"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(dir.path().join("cert.pem"))
        .arg("--tls-key")
        .arg(dir.path().join("key.pem"))
        .env_remove("FERRID_PUBLIC_URL")
        .env_remove("FERRID_DATABASE_URL")
        .env("FERRID_LOG", "warn")
        .env("FERRID_ADMIN_SECRET", ADMIN_SECRET);
    let http = ca.client();
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let _running = start_logged(cmd, &base, &http, &out, &err).await;

    let discovery = get_json(&http, &format!("{base}/master/master/.well-known/openid-configuration")).await;
    let issuer = format!("{base}/master/master");
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(discovery["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/oauth/keys"));

    let form = [("grant_type", "client_credentials"), ("client_id", "admin"), ("client_secret", ADMIN_SECRET)];
    let r = http.post(format!("{issuer}/oauth/token")).form(&form).send().await.unwrap();
    assert_eq!(peer_cert(&r), served);
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    let jwt = token["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();

    let jwks = get_json(&http, discovery["jwks_uri"].as_str().unwrap()).await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().filter_map(|k| k["kid"].as_str()).collect();
    assert!(kids.contains(&header.kid.as_deref().unwrap()), "{jwks}");
    assert_eq!(ferrid_testkit::oauth::claims(jwt)["iss"], issuer.as_str());

    // plain HTTP on the TLS port gets no HTTP answer
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/readyz")).send().await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

#[tokio::test]
async fn a_new_certificate_is_served_after_a_reload_a_bad_one_keeps_the_old_and_cookies_are_secure() {
    let ca = Ca::new();
    let dir = tempfile::tempdir().unwrap();
    let first = ca.issue(dir.path());
    let mut config = ferrid_server::ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("data"));
    config.print_admin_secret = false;
    config.admin_secret = Some(ADMIN_SECRET.to_owned().into());
    config.tls =
        Some(ferrid_server::tls::TlsFiles { cert: dir.path().join("cert.pem"), key: dir.path().join("key.pem") });
    let server = ferrid_server::Server::bind(&config).await.unwrap();
    let (addr, tls) = (server.addr, server.tls.clone().unwrap());
    tokio::spawn(server.run(std::future::pending()));
    let url = format!("https://127.0.0.1:{}/healthz", addr.port());

    // a connection opened before the swap, kept alive in the client's pool
    let kept = ca.client();
    assert_eq!(peer_cert(&kept.get(&url).send().await.unwrap()), first);
    assert!(tls.reload_if_changed().is_none(), "nothing changed on disk");

    let second = ca.issue(dir.path());
    assert!(matches!(tls.reload_if_changed(), Some(Ok(()))), "the change on disk is seen");
    assert_eq!(peer_cert(&ca.client().get(&url).send().await.unwrap()), second, "a new connection gets the new one");
    let r = kept.get(&url).send().await.unwrap();
    assert_eq!((r.status().as_u16(), peer_cert(&r)), (200, first), "the open connection was not dropped");

    // a half-written or wrong pair keeps the certificate in service
    std::fs::write(dir.path().join("cert.pem"), "-----BEGIN CERTIFICATE-----\ngarbage\n").unwrap();
    let e = tls.reload().unwrap_err().to_string();
    assert!(e.starts_with("--tls-cert "), "{e}");
    ca.issue(dir.path());
    std::fs::write(dir.path().join("key.pem"), KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let e = tls.reload().unwrap_err().to_string();
    assert!(e.contains("does not belong to the certificate"), "{e}");
    assert_eq!(peer_cert(&ca.client().get(&url).send().await.unwrap()), second);
    assert_eq!(tls.current_certificate().as_ref(), second.as_slice());

    // the issuer is https://, so the login page's cookies are Secure
    let base = format!("https://127.0.0.1:{}", addr.port());
    let query = [
        ("response_type", "code"),
        ("client_id", "console"),
        ("redirect_uri", &format!("{base}/console/callback")),
        ("scope", "openid"),
        ("state", "st"),
        ("nonce", "n"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ];
    let authorize = reqwest::Url::parse_with_params(&format!("{base}/master/master/oauth/authorize"), query).unwrap();
    let r = ca.client().get(authorize).send().await.unwrap();
    let cookies: Vec<&str> = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(!cookies.is_empty(), "the login page sets its CSRF cookie ({})", r.status());
    assert!(cookies.iter().all(|c| c.contains("; Secure")), "{cookies:?}");
}
