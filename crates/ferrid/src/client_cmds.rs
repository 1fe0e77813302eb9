//! `ferrid token` (print a token from any OAuth 2.0 token endpoint, like curl; or
//! introspect or revoke one) and
//! `ferrid gateway` (the KrakenD-shaped reverse proxy). Thin: ferrid-client does the work.

use std::path::PathBuf;

use ferrid_client::{
    gateway::{Gateway, GatewayConfig},
    token::{
        AuthStyle, ClientCredentialsConfig, FetchError, ParamValues, PrivateKeyJwtConfig, TokenError, check_url,
        fetch_token, introspect_token, revoke_token,
    },
};

use crate::exit::{Exit, Failure, for_http_status, for_oauth_error};

/// Where the client secret goes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum AuthArg {
    /// The Authorization: Basic header (client_secret_basic).
    Basic,
    /// The form body (client_secret_post).
    Post,
    /// Basic, then the body once if refused as invalid_client.
    Auto,
}

const TOKEN_EXIT_CODES: &str = "With --introspect the server's answer (JSON) is printed; with --revoke nothing is \
printed on success. Their endpoint is --endpoint-url, or the token URL with its last segment `token` replaced by \
`introspect` or `revoke`.

Exit status: 0 a token or an introspection answer was printed, or the revocation was accepted; 1 the server refused \
(an OAuth error other than a failed client authentication) or answered something else; 2 bad arguments or key \
file; 3 the client's authentication was refused (invalid_client, unauthorized_client, HTTP 401/403); 4 HTTP 404 \
(a wrong URL); 5 the server could not be reached (docs/cli.md).";

#[derive(clap::Args)]
#[command(after_help = TOKEN_EXIT_CODES)]
pub struct TokenArgs {
    /// Token endpoint URL.
    #[arg(long)]
    token_url: String,
    /// Client identifier.
    #[arg(long, env = "FERRID_CLIENT_ID")]
    client_id: String,
    /// Client secret; prefer the variable (arguments show in `ps`).
    /// Secrets and tokens are base64url and may begin with `-`: the value after the flag
    /// is taken as it is.
    #[arg(long, env = "FERRID_CLIENT_SECRET", hide_env_values = true, allow_hyphen_values = true)]
    client_secret: Option<String>,
    /// Scope to ask for; repeatable, or several separated by spaces or commas.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Extra form parameter NAME=VALUE, e.g. audience=https://api.example; repeatable.
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Where the secret goes.
    #[arg(long, value_enum, default_value = "auto")]
    auth: AuthArg,
    /// private_key_jwt: the private key, PEM (PKCS#8 or PKCS#1) or PFX.
    #[arg(long, requires = "alg")]
    key: Option<PathBuf>,
    /// private_key_jwt: the kid of the registered key.
    #[arg(long, requires = "key")]
    kid: Option<String>,
    /// private_key_jwt: RS256, PS256, ES256, EdDSA, …
    #[arg(long, requires = "key")]
    alg: Option<String>,
    /// PFX password.
    #[arg(long, env = "FERRID_KEY_PASSWORD", hide_env_values = true, requires = "key", allow_hyphen_values = true)]
    key_password: Option<String>,
    /// Print the whole token response (JSON) instead of the access token.
    #[arg(long, conflicts_with_all = ["introspect", "revoke"])]
    json: bool,
    /// Introspect TOKEN (RFC 7662) and print the server's answer instead of getting a token.
    #[arg(long, value_name = "TOKEN", conflicts_with = "revoke", allow_hyphen_values = true)]
    introspect: Option<String>,
    /// Revoke TOKEN (RFC 7009) instead of getting a token; without a secret or key the
    /// client sends its client_id alone (a public client).
    #[arg(long, value_name = "TOKEN", allow_hyphen_values = true)]
    revoke: Option<String>,
    /// With --introspect or --revoke: access_token or refresh_token (a hint only).
    #[arg(long, value_name = "HINT")]
    token_type_hint: Option<String>,
    /// With --introspect or --revoke: the endpoint, when it is not the token URL with
    /// `token` replaced by `introspect` or `revoke`.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or("expected NAME=VALUE")?;
    if k.is_empty() {
        return Err("empty parameter name".into());
    }
    Ok((k.to_owned(), v.to_owned()))
}

impl TokenArgs {
    fn into_config(self) -> ClientCredentialsConfig {
        let mut cfg = ClientCredentialsConfig::new(self.client_id, String::new(), self.token_url);
        cfg.client_secret = self.client_secret.map(Into::into);
        cfg.scopes =
            self.scopes.iter().flat_map(|s| s.split([' ', ','])).filter(|s| !s.is_empty()).map(Into::into).collect();
        for (k, v) in self.params {
            match cfg.endpoint_params.entry(k).or_insert_with(|| ParamValues::List(Vec::new())) {
                ParamValues::List(l) => l.push(v),
                ParamValues::One(_) => unreachable!("built as lists"),
            }
        }
        cfg.auth = match self.auth {
            AuthArg::Basic => AuthStyle::Basic,
            AuthArg::Post => AuthStyle::Post,
            AuthArg::Auto => AuthStyle::Auto,
        };
        cfg.private_key_jwt = self.key.map(|key_file| PrivateKeyJwtConfig {
            key_file,
            kid: self.kid,
            alg: self.alg.unwrap_or_default(),
            key_password: self.key_password.map(Into::into),
            audience: None,
        });
        cfg
    }
}

/// `ferrid token`: prints the token (or the introspection answer; nothing for a
/// revocation), or says what went wrong with its status.
pub fn token(mut args: TokenArgs) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Failed, format!("starting the runtime: {e}")))?;
    let hint = args.token_type_hint.take();
    let url = args.endpoint_url.take();
    if let Some(token) = args.introspect.take() {
        let url = endpoint(url, &args.token_url, "introspect")?;
        let answer = rt
            .block_on(introspect_token(args.into_config(), &url, &token, hint.as_deref()))
            .map_err(|e| fail(&e, "introspection"))?;
        println!("{}", serde_json::Value::Object(answer));
        return Ok(());
    }
    if let Some(token) = args.revoke.take() {
        let url = endpoint(url, &args.token_url, "revoke")?;
        return rt
            .block_on(revoke_token(args.into_config(), &url, &token, hint.as_deref()))
            .map_err(|e| fail(&e, "revocation"));
    }
    if hint.is_some() || url.is_some() {
        return Err(Failure::new(Exit::Usage, "--token-type-hint and --endpoint-url go with --introspect or --revoke"));
    }
    let json = args.json;
    match rt.block_on(fetch_token(args.into_config())).map_err(|e| fail(&e, "token"))? {
        r if json => println!("{}", serde_json::Value::Object(r.raw)),
        r => println!("{}", r.access_token),
    }
    Ok(())
}

/// The introspection or revocation endpoint: given, or the token URL with its last
/// path segment `token` replaced by `last` (ferrid's layout, `{issuer}/oauth/…`).
fn endpoint(given: Option<String>, token_url: &str, last: &str) -> Result<String, Failure> {
    let url = match given {
        Some(u) => u,
        None => match token_url.strip_suffix("/token") {
            Some(base) => format!("{base}/{last}"),
            None => {
                return Err(Failure::new(
                    Exit::Usage,
                    "the token URL does not end in /token; give the endpoint with --endpoint-url",
                ));
            }
        },
    };
    if check_url(&url).is_err() {
        return Err(Failure::new(Exit::Usage, format!("{url:?} is not an http:// or https:// URL")));
    }
    Ok(url)
}

/// What went wrong at the `what` endpoint, with its status (docs/cli.md "Exit status").
fn fail(e: &FetchError, what: &str) -> Failure {
    let (exit, msg) = match e {
        FetchError::Config(_) => (Exit::Usage, e.to_string()),
        FetchError::Token(TokenError::Refused { status, error, description }) => {
            let desc = description.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
            let exit = match for_oauth_error(error) {
                Exit::Failed => for_http_status(*status),
                auth => auth,
            };
            (exit, format!("{what} endpoint refused the request (HTTP {status}): {error}{desc}"))
        }
        FetchError::Token(TokenError::Transport(why)) => (Exit::Network, format!("{what} endpoint unreachable: {why}")),
        FetchError::Token(TokenError::Http { status }) => {
            (for_http_status(*status), format!("{what} endpoint answered HTTP {status}"))
        }
        FetchError::Token(TokenError::BadResponse(why)) => {
            (Exit::Failed, format!("{what} response not understood: {why}"))
        }
        FetchError::Token(_) => (Exit::Failed, e.to_string()),
    };
    Failure::new(exit, msg)
}

#[derive(clap::Args)]
pub struct GatewayArgs {
    /// The configuration: KrakenD's JSON shape (port, listen_ip, host, endpoints[], …).
    #[arg(long, short = 'c', env = "FERRID_GATEWAY_CONFIG")]
    config: PathBuf,
    /// A security-bearing extra_config namespace ferrid does not implement (qos/…,
    /// security/…, validation/…, auth/…) to run without instead of refusing to start;
    /// repeat for several.
    #[arg(
        long = "allow-unimplemented",
        value_name = "NAMESPACE",
        env = "FERRID_GATEWAY_ALLOW_UNIMPLEMENTED",
        value_delimiter = ','
    )]
    allow_unimplemented: Vec<String>,
    /// Address to listen on, IP:PORT or HOST:PORT, instead of the file's listen_ip and port.
    #[arg(long, env = "FERRID_GATEWAY_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
    /// Log filter, e.g. info or ferrid_client=debug.
    #[arg(long, env = "FERRID_LOG", default_value = "info")]
    log: String,
}

/// `ferrid gateway`: serves until SIGINT/SIGTERM, then drains. Prints
/// `ferrid gateway listening on ADDR` on standard output once bound.
pub fn gateway(args: GatewayArgs) -> Result<(), Failure> {
    let filter = crate::settings::log_filter(&args.log)?;
    let file = args.config.display().to_string();
    let mut cfg = GatewayConfig::from_file(&args.config).map_err(|e| match e {
        ferrid_client::gateway::GatewayError::Read { .. } => Failure::new(Exit::Usage, format!("--config {e}")),
        e => Failure::new(Exit::Config, format!("--config {file}: {e}")),
    })?;
    cfg.allow_unimplemented.extend(args.allow_unimplemented);
    let listen = args.listen.as_deref().map(crate::settings::resolve_listen).transpose()?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Failed, format!("starting the runtime: {e}")))?;
    runtime.block_on(async move {
        let gw = Gateway::new(cfg).map_err(|e| Failure::new(Exit::Config, format!("--config {file}: {e}")))?;
        gw.report().log();
        let (bound, named) = match listen {
            Some(addr) => (tokio::net::TcpListener::bind(addr).await, format!("--listen {addr}")),
            None => (
                tokio::net::TcpListener::bind(gw.listen_addr()).await,
                format!("listen address {} (listen_ip and port in {file})", gw.listen_addr()),
            ),
        };
        let listener = bound.map_err(|e| {
            let why = ferrid_server::config::bind_reason(&e);
            let exit = if e.kind() == std::io::ErrorKind::InvalidInput { Exit::Config } else { Exit::Network };
            Failure::new(exit, format!("{named}: {why}"))
        })?;
        let addr = listener.local_addr().map_err(|e| Failure::new(Exit::Failed, e.to_string()))?;
        tracing::info!(%addr, "ferrid gateway listening");
        println!("ferrid gateway listening on {addr}");
        gw.serve(listener, ferrid_server::shutdown_signal())
            .await
            .map_err(|e| Failure::new(Exit::Failed, e.to_string()))
    })
}
