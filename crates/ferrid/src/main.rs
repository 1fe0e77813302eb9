//! The `ferrid` binary: `serve`, `gateway`, `admin`, `token`, `recover-admin`. Thin:
//! configuration in, the other crates do the rest. Every subcommand ends the same way
//! (`exit.rs`): one line on standard error and a status from one table (docs/cli.md).

mod admin;
mod client_cmds;
mod exit;
mod recover;
mod serve;
mod settings;

use std::process::ExitCode;

use clap::{Parser, Subcommand, error::ErrorKind};

use exit::{Exit, Failure};

#[derive(Parser)]
#[command(name = "ferrid", version, about = "OAuth 2.0 and OpenID Connect identity server")]
#[command(after_help = exit::EXIT_STATUS_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the authorization server.
    #[command(after_help = exit::EXIT_STATUS_HELP)]
    Serve(settings::ServeArgs),
    /// Register many clients straight through the store (scale benchmark).
    #[command(hide = true)]
    Seed(SeedArgs),
    /// Print an access token from any OAuth 2.0 token endpoint (client credentials), or
    /// introspect (RFC 7662) or revoke (RFC 7009) a token.
    Token(client_cmds::TokenArgs),
    /// Run the API gateway (a reverse proxy configured in KrakenD's shape).
    #[command(after_help = exit::EXIT_STATUS_HELP)]
    Gateway(client_cmds::GatewayArgs),
    /// Manage tenants, tracks, apps, secrets and keys through the management API.
    Admin(admin::AdminArgs),
    /// Add a new secret to the client `admin` of master/master when its secret is lost:
    /// offline, on the data directory or database (no server needed), audited.
    RecoverAdmin(recover::RecoverArgs),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Serve(_) => "serve",
            Command::Seed(_) => "seed",
            Command::Token(_) => "token",
            Command::Gateway(_) => "gateway",
            Command::Admin(_) => "admin",
            Command::RecoverAdmin(_) => "recover-admin",
        }
    }
}

#[derive(clap::Args)]
struct SeedArgs {
    #[arg(long, env = "FERRID_DATA_DIR", default_value = "./ferrid-data")]
    data_dir: std::path::PathBuf,
    #[arg(long, default_value_t = 100)]
    tenants: usize,
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
}

/// Seeds a fresh data directory and writes `seed.json` (the client to load) into it.
async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let mut config = ferrid_server::ServerConfig::new("127.0.0.1:0".parse()?, args.data_dir.clone());
    config.print_admin_secret = false;
    let server = ferrid_server::Server::bind_with_env(&config, ferrid_core::env::Env::system()).await?;
    let s =
        server.state.manager.seed(args.tenants, args.clients).await.map_err(|e| anyhow::anyhow!("seeding: {e:?}"))?;
    let out = serde_json::json!({ "tenant": s.tenant, "track": s.track, "client_id": s.client_id, "client_secret": s.client_secret });
    std::fs::write(args.data_dir.join("seed.json"), out.to_string())?;
    println!("seeded {} clients over {} tenants", args.clients, args.tenants);
    Ok(())
}

/// The subcommand a command line names (for a usage error's prefix), if any.
fn named_subcommand() -> Option<String> {
    let first = std::env::args().nth(1)?;
    let cli = <Cli as clap::CommandFactory>::command();
    cli.get_subcommands().any(|c| c.get_name() == first).then_some(first)
}

/// A clap usage error as one line: its message, its hints, no "For more information".
fn usage_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect();
    format!("{} (see --help)", parts.join("; "))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            e.exit()
        }
        Err(e) => {
            let command = named_subcommand().map_or_else(String::new, |c| format!(" {c}"));
            eprintln!("ferrid{command}: {}", usage_line(&e));
            return ExitCode::from(Exit::Usage as u8);
        }
    };
    let name = cli.command.name();
    let result = match cli.command {
        Command::Admin(args) => return admin::run(args),
        Command::Seed(args) => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(seed(args)))
            .map_err(|e| Failure::new(Exit::Failed, exit::one_line(&e))),
        Command::Token(args) => client_cmds::token(args),
        Command::Gateway(args) => client_cmds::gateway(args),
        Command::Serve(args) => serve::run(args),
        Command::RecoverAdmin(args) => recover::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(name),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every positional argument of every subcommand says what it is in `--help`.
    #[test]
    fn every_positional_argument_is_described() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_positionals() {
                if arg.get_help().is_none() {
                    missing.push(format!("{path} <{}>", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "ferrid", &mut missing);
        assert!(missing.is_empty(), "positional arguments without a description: {missing:?}");
    }

    /// `ferrid admin --help` shows the connection flags under their own heading.
    #[test]
    fn the_admin_connection_flags_have_their_own_heading() {
        let mut cli = super::Cli::command();
        let admin = cli.find_subcommand_mut("admin").unwrap();
        let help = admin.render_help().to_string();
        let heading = help.find("Connection (any admin command):").expect(&help);
        let url = help.find("--url").expect(&help);
        assert!(url > heading, "{help}");
    }

    /// Generated secrets, tokens and user ids are base64url, so one in 64 begins with `-`:
    /// every flag that takes one must take such a value as it is, not as another flag.
    #[test]
    fn secret_and_token_values_may_begin_with_a_hyphen() {
        fn walk(cmd: &clap::Command, path: &str, refused: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                let takes_value = arg.get_action().takes_values();
                let sensitive = ["secret", "token", "password", "introspect", "revoke"].iter().any(|w| id.contains(w));
                if takes_value
                    && sensitive
                    && !id.ends_with("_url")
                    && !id.ends_with("_hint")
                    && !id.ends_with("_lifetime")
                    && !id.ends_with("_length")
                    && !arg.is_allow_hyphen_values_set()
                {
                    refused.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), refused);
            }
        }
        let mut refused = Vec::new();
        walk(&super::Cli::command(), "ferrid", &mut refused);
        assert!(refused.is_empty(), "flags that would read a value beginning with '-' as a flag: {refused:?}");

        use clap::Parser;
        let cli = super::Cli::try_parse_from([
            "ferrid",
            "token",
            "--token-url",
            "http://x/t",
            "--client-id",
            "a",
            "--client-secret",
            "-lQ3x",
        ]);
        assert!(cli.is_ok(), "{:?}", cli.err().map(|e| e.to_string()));
    }

    #[test]
    fn the_cli_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
