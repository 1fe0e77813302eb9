//! HTTPS end to end: a token endpoint and a gateway backend behind TLS with a certificate
//! from a test CA that the process trusts through `SSL_CERT_FILE` (read by the platform
//! verifier on Linux), and a server whose certificate nobody vouches for, refused.
//!
//! One test in this binary: it sets a process-wide variable before any client exists.

use std::{net::SocketAddr, sync::Arc};

use axum::{Json, Router, http::HeaderMap, routing::any, routing::post};
use ferrid_client::{
    gateway::{Gateway, GatewayConfig},
    token::{ClientCredentialsConfig, TokenSource},
};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{self, pki_types::PrivateKeyDer},
    server::TlsStream,
};

/// A TCP listener that completes a TLS handshake before handing a connection to axum.
struct TlsListener {
    tcp: TcpListener,
    tls: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else { continue };
            // a refused handshake (an untrusting client) is that client's business
            if let Ok(tls) = self.tls.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// Serves `router` over TLS with a certificate for `localhost`, signed by `issuer` (or
/// self-signed); answers `https://localhost:{port}`.
async fn serve_tls(router: Router, issuer: Option<&Issuer<'_, KeyPair>>) -> String {
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = match issuer {
        Some(i) => params.signed_by(&key, i).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], PrivateKeyDer::try_from(key.serialize_der()).unwrap())
        .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let listener = TlsListener { tcp, tls: TlsAcceptor::from(Arc::new(config)) };
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("https://localhost:{port}")
}

fn token_endpoint() -> Router {
    Router::new().route(
        "/token",
        post(|| async { Json(json!({ "access_token": "tls-tok", "token_type": "Bearer", "expires_in": 3600 })) }),
    )
}

#[tokio::test]
async fn tokens_and_backends_are_reached_over_verified_https_and_an_unknown_ca_is_refused() {
    // a test CA, trusted by this process only
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    // SAFETY: the only test of this binary sets it before any thread reads the environment.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &ca_file)
    };
    let issuer = Issuer::new(ca_params, ca_key);

    // the token endpoint over HTTPS
    let auth = serve_tls(token_endpoint(), Some(&issuer)).await;
    let src = TokenSource::new(ClientCredentialsConfig::new("id", "secret", format!("{auth}/token"))).unwrap();
    assert_eq!(src.token().await.unwrap().access_token(), "tls-tok");

    // a gateway backend over HTTPS, given the token fetched over HTTPS
    let backend = serve_tls(
        Router::new().fallback(any(|h: HeaderMap| async move {
            Json(json!({ "authorization": h.get("authorization").and_then(|v| v.to_str().ok()) }))
        })),
        Some(&issuer),
    )
    .await;
    let cfg = json!({
        "version": 3,
        "endpoints": [{
            "endpoint": "/e",
            "backend": [{
                "host": [backend],
                "url_pattern": "/b",
                "extra_config": { "auth/client-credentials": {
                    "client_id": "id", "client_secret": "secret", "token_url": format!("{auth}/token")
                } }
            }]
        }]
    });
    let gw = Gateway::new(GatewayConfig::from_json(&cfg.to_string()).unwrap()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/e", listener.local_addr().unwrap());
    let router = gw.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["authorization"], "Bearer tls-tok");

    // a certificate no trusted CA signed: no token, and the error says why
    let rogue = serve_tls(token_endpoint(), None).await;
    let src = TokenSource::new(ClientCredentialsConfig::new("id", "secret", format!("{rogue}/token"))).unwrap();
    let err = src.token().await.expect_err("an untrusted certificate must be refused");
    assert!(!err.to_string().contains("tls-tok"));
}
