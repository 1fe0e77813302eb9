//! The `ferrid` binary: `serve` (more subcommands follow). Thin: configuration in,
//! the server crate does the rest.

mod admin;
mod client_cmds;
mod settings;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ferrid", version, about = "OAuth 2.0 and OpenID Connect identity server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the authorization server.
    Serve(settings::ServeArgs),
    /// Register many clients straight through the store (scale benchmark).
    #[command(hide = true)]
    Seed(SeedArgs),
    /// Print an access token from any OAuth 2.0 token endpoint (client credentials), or
    /// introspect (RFC 7662) or revoke (RFC 7009) a token.
    Token(client_cmds::TokenArgs),
    /// Run the API gateway (a reverse proxy configured in KrakenD's shape).
    Gateway(client_cmds::GatewayArgs),
    /// Manage tenants, tracks, apps, secrets and keys through the management API.
    Admin(admin::AdminArgs),
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Seed(args) => tokio::runtime::Runtime::new()?.block_on(seed(args)),
        Command::Token(args) => client_cmds::token(args),
        Command::Gateway(args) => client_cmds::gateway(args),
        Command::Admin(args) => std::process::exit(admin::run(args)),
        Command::Serve(args) => {
            let settings = settings::Settings::load(&args)?;
            settings::init_logging(&settings);
            let config = settings.into_config()?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let result = runtime.block_on(async move {
                let server = ferrid_server::Server::bind_with_env(&config, ferrid_core::env::Env::system()).await?;
                tracing::info!(addr = %server.addr, "ferrid listening");
                server.run(ferrid_server::shutdown_signal()).await?;
                Ok(())
            });
            // The server has drained (or passed its drain deadline) and stopped its
            // background jobs; anything else still running is not waited for.
            runtime.shutdown_timeout(std::time::Duration::from_millis(500));
            result
        }
    }
}
