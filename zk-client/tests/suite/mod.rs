//! Integration suite for zk-client against a real server, modules by topic. It is compiled into two
//! test binaries, `suite_apache` and `suite_zk_server`, whose roots set `SERVER_KIND` (see `server.rs`
//! for the skip rules).

pub mod fake_ro;
pub mod faults;
pub mod ops;
pub mod proxy;
pub mod server;
pub mod tls;
pub mod watches;

use std::sync::Arc;
use std::time::Duration;

use zk_client::{Client, CreateOptions, Error};

pub use server::TestServer;

/// Gets the shared server or returns from the test (after the SKIPPED line).
#[macro_export]
macro_rules! shared_server {
    ($test:expr) => {
        match $crate::server::shared($test) {
            Some(server) => server,
            None => return,
        }
    };
}

/// Starts a private server (for tests that stop it) or returns from the test.
#[macro_export]
macro_rules! own_server {
    ($test:expr) => {
        match $crate::server::start($test) {
            Some(server) => server,
            None => return,
        }
    };
}

/// Client logs in the test output: `RUST_LOG=zk_client=debug cargo test ... -- --nocapture`.
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A client of `server` with a 10 s session, under `chroot` (may be "").
pub async fn client(server: &Arc<dyn TestServer>, chroot: &str) -> Client {
    init_logs();
    Client::builder()
        .with_session_timeout(Duration::from_secs(10))
        .connect(&format!("{}{chroot}", server.connect_string()))
        .await
        .expect("connect")
}

/// Creates (or reuses) a fresh persistent node `/name` for one test and returns its path.
pub async fn test_root(client: &Client, name: &str) -> String {
    let path = format!("/{name}");
    match client.create(&path, b"", &CreateOptions::persistent()).await {
        Ok(_) | Err(Error::NodeExists) => path,
        Err(err) => panic!("creating {path}: {err}"),
    }
}

/// Waits for a future with a limit, failing the test on timeout.
pub async fn within<F: std::future::Future>(limit: Duration, what: &str, fut: F) -> F::Output {
    tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}
