//! `ferrid admin user …`: users of a track and their sessions. A password is read from
//! standard input (`--password-stdin`) or typed at a prompt that does not echo, never
//! taken as a flag value (arguments show in `ps`).

use std::io::{BufRead, IsTerminal, Write};

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{
    Connection, UserCmd, UserFields,
    api::{Api, Failure},
    output::{self, Format},
    tenants::{deleted, precondition, refs, show, show_list},
};

const USER_COLUMNS: [(&str, &str); 5] =
    [("ID", "id"), ("USERNAME", "username"), ("EMAIL", "email"), ("DISABLED", "disabled"), ("VERSION", "version")];
const SESSION_COLUMNS: [(&str, &str); 4] =
    [("SID", "sid"), ("AUTH_TIME", "auth_time"), ("LAST_SEEN", "last_seen"), ("EXPIRES", "expires")];

/// `tenants/{tenant}/tracks/{track}/users[/…]`.
fn users_path(conn: &Connection, rest: &[&str]) -> Result<Vec<String>, Failure> {
    let mut p: Vec<String> = ["tenants", conn.tenant()?, "tracks", conn.track(), "users"].map(str::to_owned).to_vec();
    p.extend(rest.iter().map(|s| s.to_string()));
    Ok(p)
}

pub async fn user(api: &Api, conn: &Connection, cmd: UserCmd) -> Result<String, Failure> {
    match cmd {
        UserCmd::List { username, email } => {
            let mut filters = Vec::new();
            filters.extend(username.as_deref().map(|u| ("username", u)));
            filters.extend(email.as_deref().map(|e| ("email", e)));
            let all = api.list_filtered(&refs(&users_path(conn, &[])?), &filters).await?;
            Ok(show_list(conn, all, &USER_COLUMNS))
        }
        UserCmd::Create { fields, password_stdin } => {
            let mut b = body(&fields)?;
            if !b.contains_key("username") && !b.contains_key("email") {
                return Err(Failure::Usage("user create needs --username or --email".into()));
            }
            b.insert("password".into(), json!(read_password(password_stdin)?));
            let u = api.post(&refs(&users_path(conn, &[])?), &Value::Object(b)).await?.body;
            Ok(match conn.output {
                Format::Json => output::json(&u),
                Format::Text => format!("Created user {}.\n\n{}", output::cell(&u["id"]), output::block(&u, &[])),
            })
        }
        UserCmd::Show { id } => Ok(show(conn, &api.get(&refs(&users_path(conn, &[&id])?)).await?.body)),
        UserCmd::Update { id, fields, disabled, password_stdin, password_prompt, if_match } => {
            let mut b = body(&fields)?;
            if let Some(d) = disabled {
                b.insert("disabled".into(), json!(d));
            }
            if password_stdin || password_prompt {
                b.insert("password".into(), json!(read_password(password_stdin)?));
            }
            if b.is_empty() {
                return Err(Failure::Usage("user update needs something to change".into()));
            }
            let path = users_path(conn, &[&id])?;
            let current = api.get(&refs(&path)).await?;
            let tag = precondition(if_match, &current)?;
            Ok(show(conn, &api.write(Method::PATCH, &refs(&path), &Value::Object(b), &tag).await?.body))
        }
        UserCmd::Delete { id } => {
            api.delete(&refs(&users_path(conn, &[&id])?)).await?;
            Ok(deleted(conn, format!("user {id} (its sessions ended)")))
        }
        UserCmd::Sessions { id } => {
            let r = api.get(&refs(&users_path(conn, &[&id, "sessions"])?)).await?.body;
            let items = match r.get("items") {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            Ok(show_list(conn, items, &SESSION_COLUMNS))
        }
        UserCmd::EndSessions { id } => {
            api.delete(&refs(&users_path(conn, &[&id, "sessions"])?)).await?;
            Ok(match conn.output {
                Format::Json => String::new(),
                Format::Text => format!("Ended every session of user {id}.\n"),
            })
        }
    }
}

/// The body fields the flags give.
fn body(f: &UserFields) -> Result<Map<String, Value>, Failure> {
    let mut b = Map::new();
    if let Some(u) = &f.username {
        b.insert("username".into(), json!(u));
    }
    if let Some(e) = &f.email {
        b.insert("email".into(), json!(e));
    }
    if let Some(v) = f.email_verified {
        b.insert("email_verified".into(), json!(v));
    }
    if let Some(c) = &f.claims {
        let claims: Value =
            serde_json::from_str(c).map_err(|e| Failure::Usage(format!("--claims is not a JSON object: {e}")))?;
        if !claims.is_object() {
            return Err(Failure::Usage("--claims must be a JSON object".into()));
        }
        b.insert("claims".into(), claims);
    }
    Ok(b)
}

/// The password: the first line of standard input with `--password-stdin`, else typed at
/// a prompt on a terminal with echo turned off.
fn read_password(from_stdin: bool) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if !from_stdin && !stdin.is_terminal() {
        return Err(Failure::Usage(
            "give the password with --password-stdin (standard input is not a terminal)".into(),
        ));
    }
    let echo_off = !from_stdin && stty("-echo");
    if !from_stdin {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if echo_off {
        stty("echo");
        eprintln!();
    }
    read.map_err(|e| Failure::Usage(format!("reading the password: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(Failure::Usage("the password is empty".into()));
    }
    Ok(password)
}

/// Sets a terminal mode of standard input with `stty`; whether it worked.
fn stty(mode: &str) -> bool {
    std::process::Command::new("stty")
        .arg(mode)
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success())
}
