//! `ferrid token` (print a token from any OAuth 2.0 token endpoint, like curl; or
//! introspect or revoke one) and
//! `ferrid gateway` (the KrakenD-shaped reverse proxy). Thin: ferrid-client does the work.

use std::{path::PathBuf, process::exit};

use anyhow::Context;
use ferrid_client::{
    gateway::{Gateway, GatewayConfig},
    token::{
        AuthStyle, ClientCredentialsConfig, FetchError, ParamValues, PrivateKeyJwtConfig, TokenError, check_url,
        fetch_token, introspect_token, revoke_token,
    },
};

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
(an OAuth error such as invalid_client or unsupported_token_type); 2 bad arguments or key file; 3 the server could not \
be reached; 4 the server answered something else (no token, not an introspection answer, an error without an \
OAuth error code).";

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
    #[arg(long, env = "FERRID_CLIENT_SECRET", hide_env_values = true)]
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
    #[arg(long, env = "FERRID_KEY_PASSWORD", hide_env_values = true, requires = "key")]
    key_password: Option<String>,
    /// Print the whole token response (JSON) instead of the access token.
    #[arg(long, conflicts_with_all = ["introspect", "revoke"])]
    json: bool,
    /// Introspect TOKEN (RFC 7662) and print the server's answer instead of getting a token.
    #[arg(long, value_name = "TOKEN", conflicts_with = "revoke")]
    introspect: Option<String>,
    /// Revoke TOKEN (RFC 7009) instead of getting a token; without a secret or key the
    /// client sends its client_id alone (a public client).
    #[arg(long, value_name = "TOKEN")]
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
/// revocation), or says what went wrong and exits with its status.
pub fn token(mut args: TokenArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let hint = args.token_type_hint.take();
    let url = args.endpoint_url.take();
    if let Some(token) = args.introspect.take() {
        let url = endpoint(url, &args.token_url, "introspect");
        match rt.block_on(introspect_token(args.into_config(), &url, &token, hint.as_deref())) {
            Ok(answer) => println!("{}", serde_json::Value::Object(answer)),
            Err(e) => fail(&e, "introspection"),
        }
        return Ok(());
    }
    if let Some(token) = args.revoke.take() {
        let url = endpoint(url, &args.token_url, "revoke");
        if let Err(e) = rt.block_on(revoke_token(args.into_config(), &url, &token, hint.as_deref())) {
            fail(&e, "revocation");
        }
        return Ok(());
    }
    if hint.is_some() || url.is_some() {
        eprintln!("ferrid token: --token-type-hint and --endpoint-url go with --introspect or --revoke");
        exit(2);
    }
    let json = args.json;
    match rt.block_on(fetch_token(args.into_config())) {
        Ok(r) if json => println!("{}", serde_json::Value::Object(r.raw)),
        Ok(r) => println!("{}", r.access_token),
        Err(e) => fail(&e, "token"),
    }
    Ok(())
}

/// The introspection or revocation endpoint: given, or the token URL with its last
/// path segment `token` replaced by `last` (ferrid's layout, `{issuer}/oauth/…`).
fn endpoint(given: Option<String>, token_url: &str, last: &str) -> String {
    let url = match given {
        Some(u) => u,
        None => match token_url.strip_suffix("/token") {
            Some(base) => format!("{base}/{last}"),
            None => {
                eprintln!("ferrid token: the token URL does not end in /token; give the endpoint with --endpoint-url");
                exit(2);
            }
        },
    };
    if check_url(&url).is_err() {
        eprintln!("ferrid token: {url:?} is not an http:// or https:// URL");
        exit(2);
    }
    url
}

/// Says what went wrong at the `what` endpoint and exits with its status.
fn fail(e: &FetchError, what: &str) -> ! {
    let (code, msg) = match e {
        FetchError::Config(_) => (2, e.to_string()),
        FetchError::Token(TokenError::Refused { status, error, description }) => {
            let desc = description.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
            (1, format!("{what} endpoint refused the request (HTTP {status}): {error}{desc}"))
        }
        FetchError::Token(TokenError::Transport(why)) => (3, format!("{what} endpoint unreachable: {why}")),
        FetchError::Token(TokenError::Http { status }) => (4, format!("{what} endpoint answered HTTP {status}")),
        FetchError::Token(TokenError::BadResponse(why)) => (4, format!("{what} response not understood: {why}")),
        FetchError::Token(_) => (4, e.to_string()),
    };
    eprintln!("ferrid token: {msg}");
    exit(code);
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
    /// Log filter, e.g. info or ferrid_client=debug.
    #[arg(long, env = "FERRID_LOG", default_value = "info")]
    log: String,
}

/// `ferrid gateway`: serves until SIGINT/SIGTERM, then drains. Prints
/// `ferrid gateway listening on ADDR` on standard output once bound.
pub fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .init();
    let mut cfg = GatewayConfig::from_file(&args.config)?;
    cfg.allow_unimplemented.extend(args.allow_unimplemented);
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async move {
        let gw = Gateway::new(cfg).with_context(|| format!("{}", args.config.display()))?;
        gw.report().log();
        let listener = tokio::net::TcpListener::bind(gw.listen_addr())
            .await
            .with_context(|| format!("binding {}", gw.listen_addr()))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "ferrid gateway listening");
        println!("ferrid gateway listening on {addr}");
        gw.serve(listener, ferrid_server::shutdown_signal()).await?;
        Ok(())
    })
}
