//! `ferrid serve`: settings in, the server crate runs; its start-up refusals sorted into
//! the exit table (docs/cli.md "Exit status").

use ferrid_server::config::StartRefused;

use crate::{
    exit::{Exit, Failure, one_line},
    settings::{ServeArgs, Settings},
};

/// Runs the server until SIGTERM or Ctrl-C, then drains.
pub fn run(args: ServeArgs) -> Result<(), Failure> {
    let settings = Settings::load(&args)?;
    let logging = settings.logging()?;
    let config = settings.into_config()?;
    logging.init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Failed, format!("starting the runtime: {e}")))?;
    let result = runtime.block_on(async move {
        let server = ferrid_server::Server::bind_with_env(&config, ferrid_core::env::Env::system())
            .await
            .map_err(start_failure)?;
        tracing::info!(addr = %server.addr, tls = server.tls.is_some(), "ferrid listening");
        server.run(ferrid_server::shutdown_signal()).await.map_err(|e| Failure::new(Exit::Failed, e.to_string()))
    });
    // The server has drained (or passed its drain deadline) and stopped its background
    // jobs; anything else still running is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}

/// A start-up error with its status: the operator's settings (6), the network (5), or
/// a failure (1).
pub fn start_failure(e: anyhow::Error) -> Failure {
    let exit = match e.chain().find_map(|c| c.downcast_ref::<StartRefused>()) {
        Some(StartRefused::Bind { .. } | StartRefused::Unreachable(_)) => Exit::Network,
        Some(StartRefused::Config(_)) => Exit::Config,
        None => Exit::Failed,
    };
    Failure::new(exit, one_line(&e))
}
