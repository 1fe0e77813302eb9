//! Issue 19, real `ferrid` processes: strict configuration (each bad setting refused with
//! one line naming it), the exit table (docs/cli.md), no backtrace for a user's mistake,
//! the generated admin secret and password kept out of captured output and logs and
//! shown on a terminal (a pseudo-terminal of util-linux `script`), the warning for an
//! ignored `FERRID_ADMIN_SECRET`, and `ferrid recover-admin` on a store whose secret is lost.

use std::{net::TcpListener, path::Path, process::Command};

use ferrid_testkit::{
    pg::fresh_database,
    process::{free_port, run_to_exit, start_logged},
    server::{TEST_MASTER_KEY, eventually},
};
use serde_json::Value;

/// `ferrid ARGS` with no `FERRID_*` variable from the host and `RUST_BACKTRACE=1`.
fn ferrid(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrid"));
    for (k, _) in std::env::vars() {
        if k.starts_with("FERRID_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args).env("RUST_BACKTRACE", "1");
    cmd
}

/// Runs `ferrid ARGS` to its end; asserts the status and that standard error is the
/// one line `ferrid COMMAND: …` holding every needle, with no backtrace.
#[track_caller]
fn refused(cmd: &mut Command, status: i32, needles: &[&str]) -> String {
    let out = run_to_exit(cmd);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(status), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.starts_with("ferrid "), "{stderr}");
    assert!(!stderr.to_lowercase().contains("backtrace"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{n:?} not in {stderr}");
    }
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    stderr
}

fn serve_in(dir: &Path, extra: &[&str]) -> Command {
    let mut args = vec!["serve", "--data-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    ferrid(&args)
}

#[test]
fn an_unknown_key_in_the_config_file_refuses_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ferrid.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nlisten_adress = \"0.0.0.0:80\"\n").unwrap();
    let data = dir.path().join("data");
    let line =
        refused(&mut serve_in(&data, &["--config", file.to_str().unwrap()]), 6, &["unknown key 'listen_adress'"]);
    assert!(line.starts_with(&format!("ferrid serve: --config {}: ", file.display())), "{line}");
    assert!(!data.exists(), "nothing is created before the settings are accepted");
    // a value of the wrong kind names the key and its flag
    std::fs::write(&file, "log_format = \"xml\"\n").unwrap();
    refused(&mut serve_in(&data, &["--config", file.to_str().unwrap()]), 6, &["key 'log_format' (--log-format)"]);
    // a --config that is not there is a usage error
    refused(&mut serve_in(&data, &["--config", "/no/such/ferrid.toml"]), 2, &["--config /no/such/ferrid.toml"]);
}

#[test]
fn bad_flags_are_refused_with_one_line_naming_the_flag_and_no_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let junk = junk.to_str().unwrap();
    let cases: [(&[&str], i32, &[&str]); 6] = [
        (&["--log-format", "xml"], 2, &["ferrid serve: ", "--log-format", "text, json"]),
        (&["--log", "debg"], 6, &["ferrid serve: --log 'debg': 'debg' is not a level"]),
        (&["--log", "ferrid=loud"], 6, &["ferrid serve: --log 'ferrid=loud'"]),
        (&["--listen", "no-such-host.invalid:8080"], 5, &["--listen no-such-host.invalid:8080: cannot resolve"]),
        (&["--tls-cert", junk], 2, &["ferrid serve: ", "--tls-key"]),
        (&["--tls-cert", junk, "--tls-key", junk], 6, &["ferrid serve: --tls-cert ", "no PEM certificate"]),
    ];
    for (args, status, needles) in cases {
        refused(&mut serve_in(&data, args), status, needles);
    }
    assert!(!data.exists());
}

#[test]
fn a_bind_failure_names_the_flag_and_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let line = refused(&mut serve_in(dir.path(), &["--listen", &addr]), 5, &[]);
    assert_eq!(line, format!("ferrid serve: --listen {addr}: address already in use\n"));
    // the gateway: its --listen, or the file's listen_ip and port
    let gw = dir.path().join("gw.json");
    std::fs::write(
        &gw,
        format!(
            r#"{{"version": 3, "listen_ip": "127.0.0.1", "port": {}, "endpoints": []}}"#,
            held.local_addr().unwrap().port()
        ),
    )
    .unwrap();
    let gw = gw.to_str().unwrap();
    let line = refused(&mut ferrid(&["gateway", "--config", gw, "--listen", &addr]), 5, &[]);
    assert_eq!(line, format!("ferrid gateway: --listen {addr}: address already in use\n"));
    refused(
        &mut ferrid(&["gateway", "--config", gw]),
        5,
        &[&format!("listen address {addr} (listen_ip and port in {gw})")],
    );
}

#[test]
fn every_subcommand_reports_through_one_exit_table() {
    let dir = tempfile::tempdir().unwrap();
    let dead = format!("127.0.0.1:{}", free_port());
    // usage (2): clap's own error, as one line in the subcommand's voice
    refused(&mut ferrid(&["admin", "tenant", "list", "--no-such-flag"]), 2, &["ferrid admin: ", "--no-such-flag"]);
    refused(&mut ferrid(&["token", "--client-id", "a"]), 2, &["ferrid token: ", "--token-url"]);
    // network (5): nothing listens there
    let url = format!("http://{dead}");
    refused(
        &mut ferrid(&["admin", "--url", &url, "--token", "t", "tenant", "list"]),
        5,
        &["ferrid admin: cannot reach"],
    );
    let token_url = format!("http://{dead}/t/p/oauth/token");
    refused(
        &mut ferrid(&["token", "--token-url", &token_url, "--client-id", "a", "--client-secret", "b"]),
        5,
        &["ferrid token: token endpoint unreachable"],
    );
    // configuration (6): a gateway file that does not validate
    let gw = dir.path().join("gw.json");
    std::fs::write(&gw, "{\"version\": 3, \"endpoints\": [{}]}").unwrap();
    refused(&mut ferrid(&["gateway", "--config", gw.to_str().unwrap()]), 6, &["ferrid gateway: --config "]);
    refused(&mut ferrid(&["gateway", "--config", "/no/such.json"]), 2, &["ferrid gateway: --config /no/such.json"]);
    refused(
        &mut ferrid(&["gateway", "--config", gw.to_str().unwrap(), "--log", "verbose"]),
        6,
        &["ferrid gateway: --log 'verbose'"],
    );
    // recovery on a directory that holds no store (6): refused, nothing created
    let empty = dir.path().join("empty");
    refused(&mut ferrid(&["recover-admin", "--data-dir", empty.to_str().unwrap()]), 6, &["no ferrid store there"]);
    assert!(!empty.exists());
}

/// A client-credentials token of `admin` with `secret`: `Some(token)` or `None` if refused.
async fn admin_token(base: &str, secret: &str) -> Option<String> {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "admin"),
        ("client_secret", secret),
        ("scope", "ferrid-api:admin"),
    ];
    let r = reqwest::Client::new().post(format!("{base}/master/master/oauth/token")).form(&form).send().await.unwrap();
    let ok = r.status() == 200;
    let body: Value = r.json().await.unwrap();
    ok.then(|| body["access_token"].as_str().unwrap().to_owned())
}

struct Logged {
    _child: ferrid_testkit::process::KillOnDrop,
    base: String,
    out: std::path::PathBuf,
    err: std::path::PathBuf,
}

impl Logged {
    async fn start(data: &Path, logs: &Path, env: &[(&str, &str)]) -> Logged {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = serve_in(data, &["--listen", &listen, "--log", "info", "--log-format", "json"]);
        cmd.envs(env.iter().copied());
        let (out, err) = (logs.join("stdout"), logs.join("stderr"));
        let base = format!("http://{listen}");
        let child = start_logged(cmd, &base, &reqwest::Client::new(), &out, &err).await;
        Logged { _child: child, base, out, err }
    }

    fn output(&self) -> (String, String) {
        (std::fs::read_to_string(&self.out).unwrap(), std::fs::read_to_string(&self.err).unwrap())
    }
}

#[tokio::test]
async fn a_lost_admin_secret_is_recovered_offline_and_the_generated_one_never_reaches_a_captured_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // first start, no FERRID_ADMIN_SECRET, standard output captured (not a terminal)
    let first = Logged::start(&data, dir.path(), &[]).await;
    let generated = std::fs::read_to_string(data.join("admin-secret")).unwrap();
    let password = std::fs::read_to_string(data.join("admin-password")).unwrap();
    let (stdout, stderr) = first.output();
    for shown in [generated.trim(), password.trim()] {
        assert!(shown.len() >= 16, "{shown:?}");
        assert!(!stdout.contains(shown) && !stderr.contains(shown), "printed:\n{stdout}\n{stderr}");
    }
    assert!(stderr.contains("admin-secret"), "the log says where the secret is:\n{stderr}");
    assert!(stderr.contains("admin-password"), "the log says where the password is:\n{stderr}");
    assert!(admin_token(&first.base, &generated).await.is_some());
    drop(first);

    // FERRID_ADMIN_SECRET for a store that has its admin: ignored, with a warning
    let chosen = "a-secret-chosen-too-late-0123456789";
    let second = Logged::start(&data, dir.path(), &[("FERRID_ADMIN_SECRET", chosen)]).await;
    let warning = second.output().1;
    let warning = warning.lines().find(|l| l.contains("FERRID_ADMIN_SECRET is ignored")).expect(&warning);
    assert_eq!(serde_json::from_str::<Value>(warning).unwrap()["level"], "WARN");
    assert!(admin_token(&second.base, chosen).await.is_none());
    drop(second);

    // the secret is lost; recovery works on the store alone, no server running
    std::fs::remove_file(data.join("admin-secret")).unwrap();
    let out = run_to_exit(&mut ferrid(&["recover-admin", "--data-dir", data.to_str().unwrap()]));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let recovered = stdout.trim();
    assert!(recovered.len() >= 32 && recovered != generated, "{recovered}");
    assert!(stderr.contains("audited as 'recovery'") && !stderr.contains(recovered), "{stderr}");

    let third = Logged::start(&data, dir.path(), &[]).await;
    let token = admin_token(&third.base, recovered).await.expect("the recovered secret is accepted");
    let audit: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/tenants/master/audit?actor=recovery", third.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = audit["items"].as_array().unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(items.len(), 1, "{audit}");
    assert_eq!(items[0]["action"], "secret.add");
    assert!(items[0]["target"].as_str().unwrap().starts_with("tenants/master/tracks/master/apps/admin/secrets/"));
    assert!(!audit.to_string().contains(recovered));
}

#[tokio::test]
async fn recovery_on_postgresql_reaches_a_running_instance() {
    let Some(db) = fresh_database("ferrid_rec") else { return };
    let dir = tempfile::tempdir().unwrap();
    let pg = [("FERRID_DATABASE_URL", db.url.as_str()), ("FERRID_MASTER_KEY", TEST_MASTER_KEY)];
    // without the master key, refused as for `serve`
    let line = refused(&mut ferrid(&["recover-admin", "--database-url", &db.url]), 6, &["FERRID_MASTER_KEY"]);
    assert!(line.starts_with("ferrid recover-admin: "), "{line}");
    let running = Logged::start(&dir.path().join("data"), dir.path(), &pg).await;
    let out = run_to_exit(ferrid(&["recover-admin"]).envs(pg));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let recovered = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    // the change notification reaches the running instance: no restart
    assert!(eventually(|| async { admin_token(&running.base, &recovered).await.is_some() }).await);
}

/// Kills a process of the test's own by its id when dropped (`ferrid serve` run under
/// `script`, which is not `script`'s own id).
struct KillPid(String);

impl Drop for KillPid {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.0).status();
    }
}

/// A path as one single-quoted shell word.
fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.to_str().unwrap().replace('\'', r"'\''"))
}

/// Issue 19 (docs/cli.md): on first start the generated admin secret and the admin's
/// password are written to their owner-only files and, only when standard output is a
/// terminal, shown there once. The terminal is a pseudo-terminal of util-linux `script`;
/// the captured (not a terminal) case is
/// `a_lost_admin_secret_is_recovered_offline_and_the_generated_one_never_reaches_a_captured_output`.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn on_a_terminal_the_generated_admin_secret_and_password_are_shown_there() {
    let found = Command::new("script").arg("--version").output();
    assert!(found.is_ok_and(|o| o.status.success()), "util-linux `script` is needed for a pseudo-terminal");
    let dir = tempfile::tempdir().unwrap();
    let (data, pid) = (dir.path().join("data"), dir.path().join("pid"));
    let listen = format!("127.0.0.1:{}", free_port());
    let inner = format!(
        "echo $$ > {}; exec {} serve --data-dir {} --listen {listen} --log info",
        sh_quote(&pid),
        sh_quote(Path::new(env!("CARGO_BIN_EXE_ferrid"))),
        sh_quote(&data)
    );
    // -q: no banner, -f: flush at each write, -e: the child's status, -c: the command;
    // the typescript file is not wanted (/dev/null): the terminal's output is script's
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &inner, "/dev/null"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("FERRID_") {
            cmd.env_remove(k);
        }
    }
    let (terminal, err) = (dir.path().join("terminal"), dir.path().join("stderr"));
    let base = format!("http://{listen}");
    let _script = start_logged(cmd, &base, &reqwest::Client::new(), &terminal, &err).await;
    let _server = KillPid(std::fs::read_to_string(&pid).unwrap().trim().to_owned());

    let secret = std::fs::read_to_string(data.join("admin-secret")).unwrap().trim().to_owned();
    let password = std::fs::read_to_string(data.join("admin-password")).unwrap().trim().to_owned();
    let read = || std::fs::read_to_string(&terminal).unwrap();
    assert!(
        eventually(|| async { read().contains(&secret) && read().contains(&password) }).await,
        "not shown on the terminal:\n{}",
        read()
    );
    let shown = read();
    assert!(shown.contains("client 'admin'") && shown.contains("user 'admin'"), "{shown}");
    assert!(shown.contains("admin-secret") && shown.contains("admin-password"), "{shown}");
    assert_eq!(shown.matches(&secret).count(), 1, "shown once:\n{shown}");
    assert_eq!(shown.matches(&password).count(), 1, "shown once:\n{shown}");
    assert!(admin_token(&base, &secret).await.is_some());
}
