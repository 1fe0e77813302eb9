//! A full scenario with logging at `trace`: registration, tokens by every method,
//! failures, chosen secrets, key upload. None of the secrets it used may appear in the
//! captured output.

use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_full_scenario_at_trace_level_logs_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let dir = tempfile::tempdir().unwrap();
    let admin_secret = "operator-chosen-admin-secret-42";
    let mut config = ferrid_server::ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
    config.admin_secret = Some(secrecy::SecretString::from(admin_secret));
    let (addr, _) = ferrid_server::spawn(&config).await.unwrap();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let token = |id: String, secret: String, basic: bool| {
        let http = http.clone();
        let url = format!("{base}/t1/prod/oauth/token");
        async move {
            let req = http.post(url).header("content-type", "application/x-www-form-urlencoded");
            let req = if basic {
                let b = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
                req.header("authorization", format!("Basic {b}")).body("grant_type=client_credentials")
            } else {
                req.body(format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"))
            };
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let r: Value = http
        .post(format!("{base}/master/master/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "admin"),
            ("client_secret", admin_secret),
            ("scope", "ferrid-api:admin"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = r["access_token"].as_str().unwrap().to_owned();
    let api =
        |path: &str, body: Value| http.post(format!("{base}/api/v1{path}")).bearer_auth(&admin).json(&body).send();
    api("/tenants", json!({ "name": "t1" })).await.unwrap();
    api("/tenants/t1/tracks", json!({ "name": "prod", "signing_alg": "ES256" })).await.unwrap();
    api("/tenants/t1/tracks/prod/apps", json!({ "name": "api", "kind": "oauth_resource", "scopes": ["read"] }))
        .await
        .unwrap();
    let c: Value = api(
        "/tenants/t1/tracks/prod/apps",
        json!({ "name": "svc", "kind": "oauth_client",
        "resource_scopes": [{ "resource": "api", "scopes": ["read"] }] }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let generated = c["client_secret"].as_str().unwrap().to_owned();
    let chosen = "a chosen secret that must not leak";
    api("/tenants/t1/tracks/prod/apps/svc/secrets", json!({ "secret": chosen })).await.unwrap();
    let mut secrets = vec![admin_secret.to_owned(), generated.clone(), chosen.to_owned(), admin.clone()];
    for (secret, basic) in [(&generated, true), (&generated, false), (&chosen.to_owned(), true)] {
        let t = token("svc".into(), secret.clone(), basic).await;
        secrets.push(t["access_token"].as_str().unwrap().to_owned());
    }
    // failures: a wrong secret, a malformed header
    token("svc".into(), "wrong-secret-value-123".into(), true).await;
    secrets.push("wrong-secret-value-123".into());
    // a PFX with its password, when openssl is there to make one
    if std::process::Command::new("openssl").arg("version").output().is_ok() {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["svc".into()]).unwrap().self_signed(&kp).unwrap().pem();
        std::fs::write(dir.path().join("k.pem"), kp.serialize_pem()).unwrap();
        std::fs::write(dir.path().join("c.pem"), cert).unwrap();
        let out = std::process::Command::new("openssl")
            .args([
                "pkcs12",
                "-export",
                "-inkey",
                "k.pem",
                "-in",
                "c.pem",
                "-passout",
                "pass:pfx-password-xyz",
                "-out",
                "k.pfx",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        let pfx = base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.path().join("k.pfx")).unwrap());
        api("/tenants/t1/tracks/prod/apps/svc/keys", json!({ "pfx": pfx, "password": "pfx-password-xyz" }))
            .await
            .unwrap();
        api("/tenants/t1/tracks/prod/apps/svc/keys", json!({ "pfx": pfx, "password": "wrong-pfx-password" }))
            .await
            .unwrap();
        secrets.push("pfx-password-xyz".into());
        secrets.push("wrong-pfx-password".into());
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let logged = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(logged.len() > 1000, "the capture caught the server's trace output");
    for s in &secrets {
        assert!(!logged.contains(s.as_str()), "a secret reached the log: {}…", &s[..6]);
        // nor its base64 form inside a logged Authorization header
        let b = base64::engine::general_purpose::STANDARD.encode(format!("svc:{s}"));
        assert!(!logged.contains(&b));
    }
}
