//! `zk-bench`: a lean, pipelined load generator for ZooKeeper-protocol servers, written directly on
//! `zk-proto` and tokio (like `redis-benchmark`), so no client library sits inside the measurement.
//!
//! Workloads: W1 mixed get/set/create/delete, W2 synchronous create+delete, W3 watch fan-out, W4
//! session storm, W5 large tree, W6 failover write gaps. Each returns a [`Report`] printed as a
//! table or JSON.

pub mod cli;
pub mod driver;
pub mod histogram;
pub mod keys;
pub mod mark;
pub mod progress;
pub mod report;
pub mod session;
pub mod workload;

pub use cli::{Cli, Workload};
pub use report::Report;
pub use workload::{BenchError, Ctx};

/// Runs the workload `cli` names.
pub async fn run(cli: &Cli) -> Result<Report, BenchError> {
    let hosts = keys::parse_connect(&cli.connect).map_err(BenchError::Usage)?;
    let ctx = Ctx {
        connect: cli.connect.clone(),
        hosts,
        timeout_ms: cli.session_timeout,
        progress: !cli.json && !cli.no_progress,
    };
    match &cli.workload {
        Workload::W1(args) => workload::w1_mixed::run(&ctx, args).await,
        Workload::W2(args) => workload::w2_create_delete::run(&ctx, args).await,
        Workload::W3(args) => workload::w3_watch::run(&ctx, args).await,
        Workload::W4(args) => workload::w4_sessions::run(&ctx, args).await,
        Workload::W5(args) => workload::w5_tree::run(&ctx, args).await,
        Workload::W6(args) => workload::w6_failover::run(&ctx, args).await,
    }
}
