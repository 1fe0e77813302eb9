//! The `ferrid` binary: `serve` (more subcommands follow). Thin: configuration in,
//! the server crate does the rest.

mod settings;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ferrid",
    version,
    about = "OAuth 2.0 and OpenID Connect identity server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the authorization server.
    Serve(settings::ServeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let settings = settings::Settings::load(&args)?;
            settings::init_logging(&settings);
            let config = settings.into_config()?;
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(async move {
                    let server = ferrid_server::Server::bind(&config).await?;
                    tracing::info!(addr = %server.addr, "ferrid listening");
                    server.run(ferrid_server::shutdown_signal()).await?;
                    Ok(())
                })
        }
    }
}
