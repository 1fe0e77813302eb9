//! `ferrid recover-admin` (docs/cli.md "Recovering the admin secret"): the way back in
//! when the secret of the client `admin` is lost, like Keycloak's `bootstrap-admin`.
//! It works on the store itself — the data directory or the database URL, with the
//! master key — so no server and no token is needed; being able to read those is the
//! proof of being the operator. The new secret is added through the management rules
//! (audited, actor `recovery`) and printed once on standard output.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use crate::{
    exit::{Exit, Failure},
    serve::start_failure,
};

#[derive(clap::Args)]
#[command(after_help = crate::exit::EXIT_STATUS_HELP)]
pub struct RecoverArgs {
    /// The data directory of the embedded store (and of master.key).
    #[arg(long, env = "FERRID_DATA_DIR", default_value = "./ferrid-data")]
    data_dir: PathBuf,
    /// The database (postgres://… or sqlite:…) instead of the embedded store; with
    /// PostgreSQL, FERRID_MASTER_KEY must be set as for `ferrid serve`.
    #[arg(long, env = "FERRID_DATABASE_URL")]
    database_url: Option<String>,
}

pub fn run(args: RecoverArgs) -> Result<(), Failure> {
    let mut config = ferrid_server::ServerConfig::new(([127, 0, 0, 1], 0).into(), args.data_dir);
    config.database_url = args.database_url;
    config.master_key = std::env::var("FERRID_MASTER_KEY").ok().filter(|s| !s.is_empty()).map(SecretString::from);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Failed, format!("starting the runtime: {e}")))?;
    let secret = runtime
        .block_on(ferrid_server::startup::recover_admin(&config, ferrid_core::env::Env::system()))
        .map_err(start_failure)?;
    println!("{}", secret.expose_secret());
    eprintln!(
        "ferrid recover-admin: added a new secret to the client 'admin' of master/master (audited as 'recovery'), \
shown above only this once. Its other secrets still work: list them with `ferrid admin secret list admin -t master` \
and delete the lost one. A running server with the embedded store sees the new secret after a restart."
    );
    Ok(())
}
