//! The real `ferrid admin` binary against a real `ferrid serve` process.

use std::process::Command;

use ferrid_testkit::{
    certs,
    process::{KillOnDrop, free_port, serve_command, start_serving},
};
use serde_json::Value;

const ADMIN_SECRET: &str = "admin-cli-test-secret-0123456789";

/// Variables that would change what `ferrid admin` does if the host happened to set them.
const FERRID_VARS: [&str; 10] = [
    "FERRID_URL",
    "FERRID_TOKEN",
    "FERRID_CLIENT_ID",
    "FERRID_CLIENT_SECRET",
    "FERRID_ADMIN_SECRET",
    "FERRID_AUTH_TENANT",
    "FERRID_TENANT",
    "FERRID_TRACK",
    "FERRID_NEW_SECRET",
    "FERRID_PFX_PASSWORD",
];

struct Server {
    _child: KillOnDrop,
    base: String,
    dir: tempfile::TempDir,
}

/// What one `ferrid admin` run did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts the exit status `code` and that standard error names each of `needles`.
    #[track_caller]
    fn fails(self, code: i32, needles: &[&str]) -> Run {
        assert_eq!(self.code, code, "stderr:\n{}", self.stderr);
        assert!(needles.iter().all(|n| self.stderr.contains(n)), "{}", self.stderr);
        self
    }

    /// The value of a `key: value` line of text output.
    #[track_caller]
    fn field(&self, key: &str) -> String {
        let prefix = format!("{key}:");
        self.stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(&prefix).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no {key} in\n{}", self.stdout))
    }
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = serve_command(env!("CARGO_BIN_EXE_ferrid"), dir.path(), port);
    cmd.env("FERRID_ADMIN_SECRET", ADMIN_SECRET).env_remove("FERRID_DATABASE_URL").env_remove("FERRID_PUBLIC_URL");
    let (child, base) = start_serving(cmd, port).await;
    Server { _child: child, base, dir }
}

impl Server {
    /// `ferrid admin ARGS` with the URL and the admin secret in the environment.
    fn admin(&self, args: &[&str]) -> Run {
        self.admin_with(args, &[("FERRID_ADMIN_SECRET", ADMIN_SECRET)])
    }

    /// `ferrid admin ARGS` with the URL and exactly the given variables.
    fn admin_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrid"));
        for v in FERRID_VARS {
            cmd.env_remove(v);
        }
        cmd.arg("admin").args(args).env("FERRID_URL", &self.base).envs(env.iter().copied());
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// `ferrid admin app create svc` (a client of acme/prod) granted `scope`.
    fn create_svc(&self, scope: &str) -> Run {
        self.admin(&with(&["app", "create", "svc", "--kind", "oauth_client", "--scope", scope], &PROD))
    }

    /// Tenant `acme`, track `prod` and resource `party-api2` (scopes read1, write).
    fn setup(&self) {
        self.admin(&["tenant", "create", "acme"]).ok();
        self.admin(&["track", "create", "prod", "--tenant", "acme", "--signing-alg", "ES256"]).ok();
        self.admin(&with(
            &["app", "create", "party-api2", "--kind", "oauth_resource", "--scope", "read1,write"],
            &PROD,
        ))
        .ok();
    }
}

/// A client-credentials token request with the secret in the body.
async fn token(url: &str, id: &str, secret: &str, scope: &str) -> (u16, Value) {
    let form = [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret), ("scope", scope)];
    let r = reqwest::Client::new().post(url).form(&form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

const PROD: [&str; 4] = ["-t", "acme", "--track", "prod"];

fn with<'a>(args: &[&'a str], ctx: &[&'a str]) -> Vec<&'a str> {
    args.iter().chain(ctx).copied().collect()
}

#[tokio::test]
async fn a_client_created_by_the_cli_gets_a_token_with_the_printed_secret() {
    let s = start().await;
    s.setup();
    let created = s.create_svc("party-api2:read1").ok();
    assert_eq!(created.field("client_id"), "svc");
    let issuer = format!("{}/acme/prod", s.base);
    assert_eq!(created.field("issuer"), issuer);
    assert_eq!(created.field("token_endpoint"), format!("{issuer}/oauth/token"));
    assert_eq!(created.field("discovery_endpoint"), format!("{issuer}/.well-known/openid-configuration"));
    let secret = created.field("client_secret");
    let (status, body) = token(&created.field("token_endpoint"), "svc", &secret, "party-api2:read1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "party-api2:read1");
    // the grant is what --scope said, and no more
    let (status, _) = token(&created.field("token_endpoint"), "svc", &secret, "party-api2:write").await;
    assert_eq!(status, 400);

    // the listing shows both apps in aligned columns, and never a secret
    let list = s.admin(&with(&["app", "list"], &PROD)).ok();
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", list.stdout);
    assert!(lines[0].starts_with("NAME") && lines[0].contains("KIND") && lines[0].contains("SCOPES"));
    let kind_col = lines[0].find("KIND").unwrap();
    assert!(lines.iter().skip(1).all(|l| l[kind_col..].starts_with("oauth_")), "{}", list.stdout);
    assert!(list.stdout.contains("party-api2:read1"));
    let get = s.admin(&with(&["app", "get", "svc"], &PROD)).ok();
    assert!(!list.stdout.contains(&secret) && !get.stdout.contains(&secret));

    // delete the client, then the track and the tenant
    s.admin(&with(&["app", "delete", "svc"], &PROD)).ok();
    let (status, _) = token(&created.field("token_endpoint"), "svc", &secret, "party-api2:read1").await;
    assert_eq!(status, 401);
    s.admin(&["track", "delete", "prod", "--tenant", "acme"]).ok();
    s.admin(&["tenant", "delete", "acme"]).ok();
    let gone = s.admin(&["tenant", "get", "acme"]);
    assert_eq!(gone.code, 4, "{}", gone.stderr);
}

#[tokio::test]
async fn secrets_are_added_listed_and_deleted_and_printed_only_when_added() {
    let s = start().await;
    s.setup();
    let created = s.create_svc("party-api2:write").ok();
    let (url, first) = (created.field("token_endpoint"), created.field("client_secret"));

    let added = s.admin(&with(&["secret", "add", "svc"], &PROD)).ok();
    assert!(added.stdout.contains("shown only this once"));
    let second = added.field("client_secret");
    assert_ne!(first, second);
    assert_eq!(token(&url, "svc", &second, "party-api2:write").await.0, 200);
    // a chosen secret is not echoed
    let chosen = "a-chosen-secret-of-enough-length";
    let added = s.admin(&with(&["secret", "add", "svc", "--secret", chosen, "-o", "json"], &PROD)).ok();
    assert!(!added.stdout.contains(chosen), "{}", added.stdout);
    let chosen_id = added.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(token(&url, "svc", chosen, "party-api2:write").await.0, 200);

    let list = s.admin(&with(&["secret", "list", "svc", "-o", "json"], &PROD)).ok().json();
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    let text = s.admin(&with(&["secret", "list", "svc"], &PROD)).ok().stdout;
    assert!(text.starts_with("ID") && ids.iter().all(|id| text.contains(id)), "{text}");
    assert!(![&first, &second].iter().any(|sec| text.contains(sec.as_str())));

    s.admin(&with(&["secret", "delete", "svc", &chosen_id], &PROD)).ok();
    assert_eq!(token(&url, "svc", chosen, "party-api2:write").await.0, 401);
    assert_eq!(token(&url, "svc", &second, "party-api2:write").await.0, 200);
    let missing = s.admin(&with(&["secret", "delete", "svc", "no-such-id"], &PROD));
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    // an id may begin with `-` (base64url): it is an id, not a flag
    let dashed = s.admin(&with(&["secret", "delete", "svc", "-Mno-such-id"], &PROD));
    assert_eq!(dashed.code, 4, "{}", dashed.stderr);
}

#[tokio::test]
async fn keys_are_added_from_a_pfx_or_a_pem_listed_and_deleted() {
    let s = start().await;
    s.setup();
    let pk = ["app", "create", "pk", "--kind", "oauth_client", "--client-auth-method", "private_key_jwt"];
    let created = s.admin(&with(&[&pk[..], &["--scope", "party-api2:read1"]].concat(), &PROD)).ok();
    assert!(created.stdout.contains("private_key_jwt"));
    let (pfx, pem) = certs::write_pfx_and_pem(s.dir.path(), "one", "pfx-password");
    let (pfx, pem) = (pfx.to_str().unwrap(), pem.to_str().unwrap());

    s.admin(&with(&["key", "add", "pk", "--pfx", pfx, "--password", "nope"], &PROD)).fails(1, &["password:"]);

    // the password from the environment, as a script would pass it
    let env = [("FERRID_ADMIN_SECRET", ADMIN_SECRET), ("FERRID_PFX_PASSWORD", "pfx-password")];
    let added = s.admin_with(&with(&["key", "add", "pk", "--pfx", pfx], &PROD), &env).ok();
    let kid = added.field("kid");
    assert_eq!(added.field("subject"), "CN=rcgen self signed cert");
    // the same certificate again (as PEM) is a conflict
    let again = s.admin_with(&with(&["key", "add", "pk", "--pem", pem], &PROD), &env);
    assert_eq!(again.code, 4, "{}", again.stderr);
    assert!(again.stderr.contains("409") && again.stderr.contains(&kid), "{}", again.stderr);
    let (_, other_pem) = certs::write_pfx_and_pem(s.dir.path(), "two", "unused");
    let other = s.admin(&with(&["key", "add", "pk", "--pem", other_pem.to_str().unwrap(), "-o", "json"], &PROD)).ok();
    assert_ne!(other.json()["kid"], kid.as_str());

    let list = s.admin(&with(&["key", "list", "pk", "-o", "json"], &PROD)).ok().json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["items"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()));
    assert!(list["items"].as_array().unwrap().iter().all(|k| k["jwk"].get("d").is_none()));
    let text = s.admin(&with(&["key", "list", "pk"], &PROD)).ok().stdout;
    assert!(text.starts_with("KID") && text.contains(&kid), "{text}");

    for k in list["items"].as_array().unwrap() {
        s.admin(&with(&["key", "delete", "pk", k["kid"].as_str().unwrap()], &PROD)).ok();
    }
    let empty = s.admin(&with(&["key", "list", "pk", "-o", "json"], &PROD)).ok().json();
    assert_eq!(empty["items"], serde_json::json!([]));
    // a public JWK file, here the one the API listed for the second key
    let jwk = s.dir.path().join("two.jwk");
    std::fs::write(&jwk, other.json()["jwk"].to_string()).unwrap();
    let from_jwk = s.admin(&with(&["key", "add", "pk", "--jwk", jwk.to_str().unwrap(), "-o", "json"], &PROD)).ok();
    assert_eq!(from_jwk.json()["kid"], other.json()["kid"]);
}

#[tokio::test]
async fn json_output_is_the_api_json_and_lists_follow_every_page() {
    let s = start().await;
    s.setup();
    let created = s
        .admin(&with(
            &["app", "create", "svc", "--kind", "oauth_client", "--scope", "party-api2:read1", "-o", "json"],
            &PROD,
        ))
        .ok()
        .json();
    assert_eq!(created["client_id"], "svc");
    assert_eq!(created["resource_scopes"], serde_json::json!([{ "resource": "party-api2", "scopes": ["read1"] }]));
    let url = created["token_endpoint"].as_str().unwrap();
    assert_eq!(token(url, "svc", created["client_secret"].as_str().unwrap(), "party-api2:read1").await.0, 200);
    for i in 0..4 {
        s.admin(&with(&["app", "create", &format!("api-{i}"), "--kind", "oauth_resource", "--scope", "read"], &PROD))
            .ok();
    }
    let list = s.admin(&with(&["app", "list", "-o", "json", "--page-size", "2"], &PROD)).ok().json();
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["api-0", "api-1", "api-2", "api-3", "party-api2", "svc"]);
    let text = s.admin(&with(&["app", "list", "--page-size", "1"], &PROD)).ok().stdout;
    assert_eq!(text.lines().count(), 7, "{text}");
    let tenants = s.admin(&["tenant", "list", "-o", "json"]).ok().json();
    assert_eq!(tenants["items"].as_array().unwrap().len(), 2);
    let track = s.admin(&["track", "get", "prod", "-t", "acme", "-o", "json"]).ok().json();
    assert_eq!(track["signing_alg"], "ES256");
}

#[tokio::test]
async fn a_body_from_a_json_file_covers_what_the_flags_do_not() {
    let s = start().await;
    s.setup();
    let file = s.dir.path().join("app.json");
    std::fs::write(
        &file,
        r#"{"name": "svc", "kind": "oauth_client", "claims": [{"claim": "role", "values": ["reader"]}],
            "resource_scopes": [{"resource": "party-api2", "scopes": ["read1"]}]}"#,
    )
    .unwrap();
    let created = s.admin(&with(&["app", "create", "--json", file.to_str().unwrap(), "-o", "json"], &PROD)).ok().json();
    assert_eq!(created["claims"][0]["claim"], "role");
    // flags win over the file
    let flags = ["app", "create", "svc2", "--json", file.to_str().unwrap(), "--access-token-lifetime", "600"];
    let created = s.admin(&with(&[&flags[..], &["-o", "json"]].concat(), &PROD)).ok().json();
    assert_eq!((created["name"].as_str(), created["access_token_lifetime"].as_u64()), (Some("svc2"), Some(600)));
}

#[tokio::test]
async fn updates_change_settings_and_a_stale_version_is_refused_with_412() {
    let s = start().await;
    s.setup();
    let upd = s.admin(&["track", "update", "prod", "-t", "acme", "--access-token-lifetime", "900", "-o", "json"]).ok();
    assert_eq!(upd.json()["access_token_lifetime"], 900);
    let version = upd.json()["version"].as_u64().unwrap().to_string();
    let stale = (version.parse::<u64>().unwrap() - 1).to_string();
    let args = ["track", "update", "prod", "-t", "acme", "--access-token-lifetime", "1200", "--if-match"];
    let refused = s.admin(&[&args[..], &[&stale]].concat());
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(refused.stderr.contains("412") && refused.stderr.contains("changed"), "{}", refused.stderr);
    s.admin(&[&args[..], &[&version]].concat()).ok();
    let track = s.admin(&["track", "get", "prod", "-t", "acme"]).ok();
    assert_eq!(track.field("access_token_lifetime"), "1200");
    // the settings only an update sets, the login's among them
    let later = [
        ("--session-lifetime", "session_lifetime", "1800"),
        ("--session-absolute-lifetime", "session_absolute_lifetime", "7200"),
        ("--password-min-length", "password_min_length", "12"),
        ("--lockout-failures", "lockout_failures", "3"),
        ("--lockout-duration", "lockout_duration", "600"),
        ("--key-rotation-days", "key_rotation_days", "30"),
    ];
    let mut args = vec!["track", "update", "prod", "-t", "acme", "-o", "json"];
    later.iter().for_each(|(flag, _, v)| args.extend([*flag, *v]));
    let upd = s.admin(&args).ok().json();
    for (_, field, v) in later {
        assert_eq!(upd[field].to_string(), v, "{field}: {upd}");
    }
    let refused = s.admin(&["track", "update", "prod", "-t", "acme", "--lockout-failures", "0"]);
    assert!(refused.code != 0 && refused.stderr.contains("lockout_failures"), "{}", refused.stderr);

    // apps: flags change a client in place, keeping the rest
    s.create_svc("party-api2:read1").ok();
    let updated = s
        .admin(&with(&["app", "update", "svc", "--scope", "party-api2:read1,party-api2:write", "-o", "json"], &PROD))
        .ok()
        .json();
    assert_eq!(updated["resource_scopes"][0]["scopes"], serde_json::json!(["read1", "write"]));
    assert_eq!(updated["client_auth_method"], "client_secret_post");
    let stale = s.admin(&with(&["app", "update", "svc", "--access-token-lifetime", "600", "--if-match", "1"], &PROD));
    assert_eq!(stale.code, 4, "{}", stale.stderr);
    assert!(stale.stderr.contains("412"));
}

#[tokio::test]
async fn a_validation_error_names_the_field_on_stderr_and_exits_1() {
    let s = start().await;
    s.setup();
    let r = s.admin(&["track", "create", "dev", "-t", "acme", "--access-token-lifetime", "5"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("HTTP 400") && r.stderr.contains("access_token_lifetime:"), "{}", r.stderr);
    s.create_svc("nope:read").fails(1, &["resource_scopes[0].resource:"]);
}

#[tokio::test]
async fn not_found_and_conflict_exit_4() {
    let s = start().await;
    s.setup();
    s.admin(&with(&["app", "get", "nope"], &PROD)).fails(4, &["not found", "404", "(in tenant 'acme', track 'prod')"]);
    s.admin(&["tenant", "create", "acme"]).fails(4, &["409"]);
}

#[tokio::test]
async fn a_track_level_not_found_names_the_track_and_says_when_it_was_the_default() {
    let s = start().await;
    s.setup();
    // party-api2 lives in acme/prod; without --track the default master track is searched
    s.admin(&["app", "get", "party-api2", "-t", "acme"])
        .fails(4, &["(in tenant 'acme', track 'master'; the default track: name another with --track)"]);
    s.admin(&["secret", "list", "party-api2", "-t", "acme"]).fails(4, &["track 'master'; the default track"]);
    s.admin(&with(&["app", "get", "party-api2"], &PROD)).ok();
}

#[tokio::test]
async fn a_wrong_secret_is_an_authentication_failure_with_exit_status_3() {
    let s = start().await;
    let r = s
        .admin_with(&["tenant", "list"], &[("FERRID_ADMIN_SECRET", "wrong-secret")])
        .fails(3, &["invalid_client", "/master/master/oauth/token"]);
    assert!(!r.stderr.contains("wrong-secret"));
    s.admin_with(&["tenant", "list"], &[("FERRID_TOKEN", "not-a-token")]).fails(3, &["401"]);
}

#[tokio::test]
async fn credentials_come_from_a_flag_either_variable_or_a_ready_token() {
    let s = start().await;
    s.admin_with(&["tenant", "list"], &[("FERRID_CLIENT_SECRET", ADMIN_SECRET)]).ok();
    s.admin_with(&["tenant", "list", "--client-secret", ADMIN_SECRET], &[]).ok();
    let (status, body) =
        token(&format!("{}/master/master/oauth/token", s.base), "admin", ADMIN_SECRET, "ferrid-api:admin").await;
    assert_eq!(status, 200);
    let t = body["access_token"].as_str().unwrap();
    let r = s.admin_with(&["tenant", "get", "master", "-o", "json"], &[("FERRID_TOKEN", t)]).ok();
    assert_eq!(r.json()["name"], "master");
    s.admin_with(&["tenant", "list"], &[]).fails(2, &["FERRID_ADMIN_SECRET"]);
}

#[tokio::test]
async fn a_tenant_administrator_manages_only_its_tenant() {
    let s = start().await;
    s.setup();
    let args = ["app", "create", "acme-admin", "-t", "acme", "--kind", "oauth_client", "--scope", "ferrid-api:tenant"];
    let secret = s.admin(&args).ok().field("client_secret");
    let env =
        [("FERRID_CLIENT_ID", "acme-admin"), ("FERRID_CLIENT_SECRET", secret.as_str()), ("FERRID_AUTH_TENANT", "acme")];
    let r = s.admin_with(&["app", "list", "-t", "acme", "--track", "prod"], &env).ok();
    assert!(r.stdout.contains("party-api2"));
    s.admin_with(&["tenant", "get", "master"], &env).fails(4, &[]);
}

#[tokio::test]
async fn usage_errors_and_an_unreachable_server_have_their_own_exit_status() {
    let s = start().await;
    s.admin(&["app", "list"]).fails(2, &["--tenant"]);
    assert_eq!(s.admin(&["app", "frobnicate"]).code, 2);
    s.admin(&["app", "create", "x", "-t", "acme", "--kind", "oauth_client", "--scope", "read"])
        .fails(2, &["RESOURCE:SCOPE"]);
    s.admin(&["key", "add", "x", "-t", "acme", "--pem", "a.pem", "--jwk", "a.jwk"]).fails(2, &[]);
    s.admin(&["key", "add", "x", "-t", "acme", "--pem", "/no/such/file.pem"]).fails(2, &["/no/such/file.pem"]);
    s.admin(&["key", "add", "x", "-t", "acme", "--pem", "a.pem", "--jwk", "a.jwk"]).fails(2, &[]);
    s.admin(&["key", "add", "x", "-t", "acme", "--pem", "/no/such/file.pem"]).fails(2, &["/no/such/file.pem"]);
    let port = free_port();
    s.admin_with(
        &["tenant", "list", "--url", &format!("http://127.0.0.1:{port}")],
        &[("FERRID_ADMIN_SECRET", ADMIN_SECRET)],
    )
    .fails(5, &[]);
}

#[tokio::test]
async fn app_create_registers_an_oidc_client_with_its_redirect_uris_and_endpoints() {
    let s = start().await;
    s.setup();
    let args = [
        "app",
        "create",
        "web",
        "--kind",
        "oidc_client",
        "--redirect-uri",
        "https://app.example/cb",
        "--redirect-uri",
        "http://localhost:3000/cb",
    ];
    let text = s.admin(&with(&args, &PROD)).ok();
    assert!(text.stdout.contains("Created oidc_client 'web'"), "{}", text.stdout);
    // the provider's endpoints appear once they are served (docs/protocol.md "Discovery")
    assert!(text.stdout.contains("discovery_endpoint"), "{}", text.stdout);
    assert!(!text.field("client_secret").is_empty());
    let got = s.admin(&with(&["app", "get", "web", "-o", "json"], &PROD)).ok().json();
    assert_eq!(got["redirect_uris"], serde_json::json!(["https://app.example/cb", "http://localhost:3000/cb"]));
    let spa = [
        "app",
        "create",
        "spa",
        "--kind",
        "oidc_client",
        "--client-auth-method",
        "none",
        "--redirect-uri",
        "http://x.example/cb",
    ];
    s.admin(&with(&spa, &PROD)).fails(1, &["redirect_uris[0]"]);
}

impl Server {
    /// `ferrid admin ARGS` (admin secret in the environment) with `input` on standard input.
    fn admin_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrid"));
        for v in FERRID_VARS {
            cmd.env_remove(v);
        }
        cmd.arg("admin").args(args).env("FERRID_URL", &self.base).env("FERRID_ADMIN_SECRET", ADMIN_SECRET);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}

#[tokio::test]
async fn users_are_created_listed_changed_and_deleted_with_the_password_from_stdin_never_printed() {
    let s = start().await;
    s.setup();
    let password = "Lantern-Orchid-Harbor-55";
    let args =
        with(&["user", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin"], &PROD);
    let created = s
        .admin_stdin(
            &[&args[..], &["--claims", r#"{"name": "Alice A"}"#, "-o", "json"]].concat(),
            &format!("{password}\n"),
        )
        .ok();
    let user = created.json();
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["claims"]["name"], "Alice A");
    assert!(!created.stdout.contains(password) && !created.stderr.contains(password));

    // no --password-stdin and no terminal: a usage error, nothing created
    s.admin(&with(&["user", "create", "--username", "bob"], &PROD)).fails(2, &["--password-stdin"]);
    // a weak password names the field
    let weak = with(&["user", "create", "--username", "bob", "--password-stdin"], &PROD);
    s.admin_stdin(&weak, "password1\n").fails(1, &["password:"]);

    let list = s.admin(&with(&["user", "list", "--username", "al"], &PROD)).ok();
    assert!(list.stdout.contains(&id) && list.stdout.contains("alice"), "{}", list.stdout);
    let none = s.admin(&with(&["user", "list", "--email", "zz", "-o", "json"], &PROD)).ok();
    assert_eq!(none.json()["items"], serde_json::json!([]));
    let shown = s.admin(&with(&["user", "show", &id], &PROD)).ok();
    assert_eq!(shown.field("username"), "alice");

    let upd = s.admin(&with(&["user", "update", &id, "--disabled", "true", "-o", "json"], &PROD)).ok().json();
    assert_eq!((upd["disabled"].clone(), upd["version"].clone()), (serde_json::json!(true), serde_json::json!(2)));
    let new = "Falcon-Meadow-Copper-18";
    let changed = s.admin_stdin(&with(&["user", "update", &id, "--password-stdin"], &PROD), &format!("{new}\n")).ok();
    assert!(!changed.stdout.contains(new));
    let stale = s.admin(&with(&["user", "update", &id, "--email-verified", "true", "--if-match", "1"], &PROD));
    stale.fails(4, &["412"]);

    let sessions = s.admin(&with(&["user", "sessions", &id, "-o", "json"], &PROD)).ok();
    assert_eq!(sessions.json()["items"], serde_json::json!([]));
    s.admin(&with(&["user", "end-sessions", &id], &PROD)).ok();
    s.admin(&with(&["user", "delete", &id], &PROD)).ok();
    s.admin(&with(&["user", "show", &id], &PROD)).fails(4, &["404"]);
}
