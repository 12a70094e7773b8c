//! `zk-server`: run a ZooKeeper-compatible server.
//!
//! `zk-server path/to/zoo.cfg` reads Apache ZooKeeper's own configuration file; with no argument it runs
//! a standalone server on port 2181 with its data in `./zk-data`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing::{error, info};
use zk_server::config::{HostPort, ServerConfig};

#[derive(Debug, Parser)]
#[command(name = "zk-server", version, about = "A ZooKeeper-compatible server")]
struct Args {
    /// A ZooKeeper `zoo.cfg` (as `QuorumPeerMain zoo.cfg` takes it). Without one, the embedded default
    /// configuration is used.
    config: Option<PathBuf>,
    /// Override `clientPort`.
    #[arg(long)]
    client_port: Option<u16>,
    /// Override `clientPortAddress`.
    #[arg(long)]
    client_address: Option<String>,
    /// Override `dataDir` (and `dataLogDir`, unless the configuration sets it).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

fn load(args: &Args) -> Result<ServerConfig, String> {
    let mut config = match &args.config {
        Some(path) => ServerConfig::load(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => ServerConfig::embedded_default(),
    };
    if let Some(dir) = &args.data_dir {
        if config.data_log_dir == config.data_dir {
            config.data_log_dir = dir.clone();
        }
        config.data_dir = dir.clone();
    }
    if args.client_port.is_some() || args.client_address.is_some() {
        let current = config.client_address.clone().unwrap_or_else(|| HostPort::new("0.0.0.0", 2181));
        config.client_address = Some(HostPort::new(
            args.client_address.clone().unwrap_or(current.host),
            args.client_port.unwrap_or(current.port),
        ));
    }
    for warning in &config.warnings {
        tracing::warn!(key = %warning.key, line = warning.line, "{}", warning.message);
    }
    Ok(config)
}

async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = match load(&args) {
        Ok(config) => config,
        Err(err) => {
            error!("invalid configuration: {err}");
            return ExitCode::from(2);
        }
    };
    let mut server = match zk_server::runtime::start(config).await {
        Ok(server) => server,
        Err(err) => {
            error!("cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = terminated() => {
            info!("shutting down");
            server.shutdown().await;
            ExitCode::SUCCESS
        }
        _ = server.wait() => {
            error!("server stopped");
            ExitCode::FAILURE
        }
    }
}
