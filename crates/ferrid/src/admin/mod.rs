//! `ferrid admin`: the management API (docs/api.md) from the command line.
//!
//! # Layout
//! - `mod.rs`: the flags and subcommands (clap) and [`run`].
//! - `api.rs`: the token (given, or by client credentials), requests, pagination, and
//!   [`api::Failure`] with its exit status.
//! - `body.rs`: request bodies from flags and files; `output.rs`: text and JSON output.
//! - `tenants.rs` (tenants and tracks) and `apps.rs` (apps, secrets, keys): one function
//!   per command; `users.rs`: users and their sessions.

mod api;
mod apps;
mod body;
mod output;
mod tenants;
mod users;

use std::path::PathBuf;

use clap::{Args, Subcommand};

pub use api::Failure;
use output::Format;

#[derive(Args)]
#[command(after_help = crate::exit::EXIT_STATUS_HELP)]
pub struct AdminArgs {
    #[command(flatten)]
    conn: Connection,
    #[command(subcommand)]
    command: AdminCommand,
}

/// Where the API is, who is calling, and how to print (shown under their own heading).
#[derive(Args)]
#[command(next_help_heading = "Connection (any admin command)")]
pub struct Connection {
    /// The ferrid server's base URL.
    #[arg(long, env = "FERRID_URL", default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
    /// A ready bearer token for the management API (instead of client credentials).
    #[arg(long, env = "FERRID_TOKEN", hide_env_values = true, global = true, allow_hyphen_values = true)]
    token: Option<String>,
    /// The administrator client that gets the token.
    #[arg(long, env = "FERRID_CLIENT_ID", default_value = "admin", global = true)]
    client_id: String,
    /// Its secret (FERRID_ADMIN_SECRET is read too); prefer the variable, arguments show in `ps`.
    #[arg(long, env = "FERRID_CLIENT_SECRET", hide_env_values = true, global = true, allow_hyphen_values = true)]
    client_secret: Option<String>,
    /// Get the token from this tenant's master track (scope ferrid-api:tenant) instead
    /// of master/master (scope ferrid-api:admin).
    #[arg(long, env = "FERRID_AUTH_TENANT", default_value = "master", global = true)]
    auth_tenant: String,
    /// The tenant that track, app, secret and key commands work in.
    #[arg(long, short = 't', env = "FERRID_TENANT", global = true)]
    tenant: Option<String>,
    /// The track that app, secret, key and user commands work in [default: master, the
    /// track every tenant has; errors name the track used].
    #[arg(long, env = "FERRID_TRACK", global = true)]
    track: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text", global = true)]
    output: Format,
    /// Items asked for per page when listing (every page is read).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000), global = true, hide = true)]
    page_size: u32,
}

impl Connection {
    fn tenant(&self) -> Result<&str, Failure> {
        self.tenant.as_deref().ok_or_else(|| Failure::Usage("this command needs --tenant (or FERRID_TENANT)".into()))
    }

    /// The track of app, secret, key and user commands: `--track`, or `master`.
    fn track(&self) -> &str {
        self.track.as_deref().unwrap_or("master")
    }

    /// A track-level command's failure, naming where it looked: a 404 from the wrong
    /// track (the default one, say) reads as the app or user not existing otherwise.
    fn in_track(&self, result: Result<String, Failure>) -> Result<String, Failure> {
        match result {
            Err(Failure::Api { status: 404, error, message, fields }) => {
                let tenant = self.tenant.as_deref().unwrap_or_default();
                let how = if self.track.is_some() { "" } else { "; the default track: name another with --track" };
                let message = format!("{message} (in tenant '{tenant}', track '{}'{how})", self.track());
                Err(Failure::Api { status: 404, error, message, fields })
            }
            other => other,
        }
    }
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Tenants: create, list, get, delete.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Tracks of a tenant (--tenant): create, list, get, update, delete, keys, rotate.
    #[command(subcommand)]
    Track(TrackCmd),
    /// Apps of a track (--tenant, --track): create, list, get, update, delete.
    #[command(subcommand)]
    App(AppCmd),
    /// A client's secrets: add, list, delete.
    #[command(subcommand)]
    Secret(SecretCmd),
    /// A client's public keys (private_key_jwt): add, list, delete.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Users of a track and their login sessions.
    #[command(subcommand)]
    User(UserCmd),
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Create a tenant (and its master track).
    Create {
        /// The tenant name.
        name: String,
    },
    /// List tenants.
    List,
    /// Show a tenant.
    Get {
        /// The tenant name.
        name: String,
    },
    /// Delete a tenant and everything in it.
    Delete {
        /// The tenant name.
        name: String,
    },
}

/// Track settings that can be set at creation and changed later.
#[derive(Args)]
struct TrackSettings {
    /// Access token lifetime, seconds.
    #[arg(long)]
    access_token_lifetime: Option<u32>,
    /// Longest accepted client assertion lifetime, seconds.
    #[arg(long)]
    assertion_max_lifetime: Option<u32>,
}

/// Track settings that are changed after creation (`track update`).
#[derive(Args)]
struct TrackLaterSettings {
    /// Days between signing key rotations.
    #[arg(long)]
    key_rotation_days: Option<u32>,
    /// Sliding lifetime of a login session, seconds.
    #[arg(long)]
    session_lifetime: Option<u32>,
    /// Absolute lifetime of a login session, seconds.
    #[arg(long)]
    session_absolute_lifetime: Option<u32>,
    /// The shortest password people of the track may choose, characters.
    #[arg(long)]
    password_min_length: Option<u32>,
    /// Failed logins of one user from one source that lock that pair out.
    #[arg(long)]
    lockout_failures: Option<u32>,
    /// How long the first lockout lasts, seconds.
    #[arg(long)]
    lockout_duration: Option<u32>,
}

#[derive(Subcommand)]
enum TrackCmd {
    /// Create a track.
    Create {
        /// The track name.
        name: String,
        /// RS256, PS256, ES256 or EdDSA (fixed once created) [server default: RS256].
        #[arg(long)]
        signing_alg: Option<String>,
        #[command(flatten)]
        settings: TrackSettings,
    },
    /// List the tenant's tracks.
    List,
    /// Show a track (issuer, endpoints, settings).
    Get {
        /// The track name.
        name: String,
    },
    /// Change a track's settings (If-Match: the version just read, or --if-match).
    Update {
        /// The track name.
        name: String,
        #[command(flatten)]
        settings: TrackSettings,
        #[command(flatten)]
        later: TrackLaterSettings,
        /// Only if the track is still at this version (from `get`).
        #[arg(long)]
        if_match: Option<u64>,
    },
    /// Delete a track.
    Delete {
        /// The track name.
        name: String,
    },
    /// List a track's signing keys and their states.
    Keys {
        /// The track name.
        name: String,
    },
    /// Start a signing key rotation now.
    Rotate {
        /// The track name.
        name: String,
    },
}

/// What an app is made of; flags override what `--json` holds.
#[derive(Args)]
struct AppSpecArgs {
    /// oauth_resource (an API), oauth_client (client credentials) or oidc_client (OpenID Connect).
    #[arg(long, value_parser = ["oauth_resource", "oauth_client", "oidc_client"])]
    kind: Option<String>,
    /// A resource's scope names, or a client's grants RESOURCE:SCOPE; repeatable or comma-separated.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// client_secret_basic, client_secret_post or private_key_jwt (an oidc_client also none).
    #[arg(long)]
    client_auth_method: Option<String>,
    /// An oidc_client's redirect URI; repeatable.
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// A client's access token lifetime, seconds (the track's when absent).
    #[arg(long)]
    access_token_lifetime: Option<u32>,
    /// A JSON file (`-` for standard input) with the app body, for what the flags don't cover.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AppCmd {
    /// Register an app; a client's secret is printed this once.
    Create {
        /// The app name (client_id of a client); may come from --json instead.
        name: Option<String>,
        #[command(flatten)]
        spec: AppSpecArgs,
    },
    /// List the track's apps.
    List,
    /// Show an app.
    Get {
        /// The app name (a client's client_id).
        name: String,
    },
    /// Change an app: read it, apply the flags (or --json), and replace it if unchanged meanwhile.
    Update {
        /// The app name (a client's client_id).
        name: String,
        #[command(flatten)]
        spec: AppSpecArgs,
        /// Only if the app is still at this version (from `get`).
        #[arg(long)]
        if_match: Option<u64>,
    },
    /// Delete an app.
    Delete {
        /// The app name (a client's client_id).
        name: String,
    },
}

#[derive(Subcommand)]
enum SecretCmd {
    /// Add a secret to a client: generated and printed once, or chosen with --secret.
    Add {
        /// The client (its client_id).
        app: String,
        /// The secret to set (16 to 512 characters) instead of a generated one; never printed.
        #[arg(long, env = "FERRID_NEW_SECRET", hide_env_values = true, allow_hyphen_values = true)]
        secret: Option<String>,
    },
    /// List a client's secrets (ids and dates, never the secrets).
    List {
        /// The client (its client_id).
        app: String,
    },
    /// Remove a secret by id.
    Delete {
        /// The client (its client_id).
        app: String,
        /// Ids are base64url and may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Upload a client's public key or certificate.
    #[command(group = clap::ArgGroup::new("source").required(true).args(["pfx", "pem", "jwk"]))]
    Add {
        /// The client (its client_id).
        app: String,
        /// A PFX/PKCS#12 file (sent base64); only its certificate is kept.
        #[arg(long, value_name = "FILE")]
        pfx: Option<PathBuf>,
        /// The PFX password.
        #[arg(long, env = "FERRID_PFX_PASSWORD", hide_env_values = true, allow_hyphen_values = true)]
        password: Option<String>,
        /// A PEM certificate or public key.
        #[arg(long, value_name = "FILE")]
        pem: Option<PathBuf>,
        /// A JWK (JSON) file.
        #[arg(long, value_name = "FILE")]
        jwk: Option<PathBuf>,
    },
    /// List a client's keys.
    List {
        /// The client (its client_id).
        app: String,
    },
    /// Remove a key by kid.
    Delete {
        /// The client (its client_id).
        app: String,
        /// Kids are base64url thumbprints and may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

/// What `user create` and `user update` may set besides the password.
#[derive(Args)]
struct UserFields {
    #[arg(long)]
    username: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    email_verified: Option<bool>,
    /// Extra claims as a JSON object, e.g. '{"name": "Alice A"}' (replaces them all).
    #[arg(long, value_name = "JSON")]
    claims: Option<String>,
}

#[derive(Subcommand)]
enum UserCmd {
    /// List users, optionally by username or email prefix.
    List {
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Create a user; the password is typed at a prompt or read with --password-stdin.
    Create {
        #[command(flatten)]
        fields: UserFields,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Show a user.
    Show {
        /// User ids are base64url and may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Change a user; a new password with --password-stdin or --password-prompt.
    Update {
        /// User ids are base64url and may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
        #[command(flatten)]
        fields: UserFields,
        #[arg(long)]
        disabled: Option<bool>,
        #[arg(long, conflicts_with = "password_prompt")]
        password_stdin: bool,
        #[arg(long)]
        password_prompt: bool,
        #[arg(long)]
        if_match: Option<u64>,
    },
    /// Delete a user (its sessions end).
    Delete {
        /// User ids are base64url and may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// List a user's login sessions.
    Sessions {
        /// User ids are base64url and may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// End every session of a user.
    EndSessions {
        /// User ids are base64url and may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

/// Runs one `ferrid admin` command; returns the exit status.
pub fn run(args: AdminArgs) -> std::process::ExitCode {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(format!("runtime: {e}")))
        .and_then(|rt| rt.block_on(dispatch(args)));
    match result {
        Ok(out) => {
            // A closed pipe (`… | head`) is not an error worth a panic.
            let mut stdout = std::io::stdout().lock();
            let _ = std::io::Write::write_all(&mut stdout, out.as_bytes())
                .and_then(|()| std::io::Write::flush(&mut stdout));
            std::process::ExitCode::SUCCESS
        }
        Err(f) => crate::exit::Failure::new(f.exit_code(), f.report()).report("admin"),
    }
}

/// Runs the command and returns what to print.
async fn dispatch(args: AdminArgs) -> Result<String, Failure> {
    let conn = &args.conn;
    if !matches!(args.command, AdminCommand::Tenant(_)) {
        conn.tenant()?;
    }
    let api = api::Api::connect(conn).await?;
    match args.command {
        AdminCommand::Tenant(cmd) => tenants::tenant(&api, conn, cmd).await,
        AdminCommand::Track(cmd) => tenants::track(&api, conn, cmd).await,
        AdminCommand::App(cmd) => conn.in_track(apps::app(&api, conn, cmd).await),
        AdminCommand::Secret(cmd) => conn.in_track(apps::secret(&api, conn, cmd).await),
        AdminCommand::Key(cmd) => conn.in_track(apps::key(&api, conn, cmd).await),
        AdminCommand::User(cmd) => conn.in_track(users::user(&api, conn, cmd).await),
    }
}
