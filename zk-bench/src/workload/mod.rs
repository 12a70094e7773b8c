//! The workloads, and what they share: where to connect, how to make directories, how to build a
//! report from merged driver results.

pub mod w1_mixed;
pub mod w2_create_delete;
pub mod w3_watch;
pub mod w4_sessions;
pub mod w5_tree;
pub mod w6_failover;

use std::time::Duration;

use zk_proto::{Acl, CreateRequest, ErrorCode, Request};

use crate::driver::DriveResult;
use crate::progress::{Goal, Progress};
use crate::report::Report;
use crate::session::{Session, SessionError};

/// A workload failure that stops the run (as opposed to per-operation errors, which are counted).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Connecting or talking to the server failed during setup.
    #[error("session: {0}")]
    Session(#[from] SessionError),
    /// The server answered a setup request with an error.
    #[error("{what}: {code:?}")]
    Server {
        /// The request.
        what: String,
        /// The error.
        code: ErrorCode,
    },
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// A task panicked or was cancelled.
    #[error("task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Where and how the workloads connect.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The connect string as given.
    pub connect: String,
    /// Its addresses.
    pub hosts: Vec<String>,
    /// Requested session timeout, ms.
    pub timeout_ms: i32,
    /// Whether to draw progress bars.
    pub progress: bool,
}

impl Ctx {
    /// A new session for client `index` (clients are spread round-robin over the hosts).
    pub async fn session(&self, index: usize) -> Result<Session, SessionError> {
        Session::connect(&self.hosts[index % self.hosts.len()], self.timeout_ms, None).await
    }

    /// A progress bar (hidden unless enabled).
    pub fn bar(&self, label: &str, goal: Goal) -> Progress {
        Progress::start(label, goal, self.progress)
    }
}

/// Creates `path` and its missing ancestors (persistent, empty); existing nodes are fine.
pub async fn ensure_path(session: &mut Session, path: &str) -> Result<(), BenchError> {
    let mut prefix = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        prefix.push('/');
        prefix.push_str(part);
        create_ignoring_existing(session, &prefix, None).await?;
    }
    Ok(())
}

/// Creates `path` (persistent) unless it exists.
pub async fn create_ignoring_existing(
    session: &mut Session,
    path: &str,
    data: Option<bytes::Bytes>,
) -> Result<(), BenchError> {
    let (code, _) = session.call(&create(path, data, 0)).await?;
    match code {
        ErrorCode::Ok | ErrorCode::NodeExists => Ok(()),
        code => Err(BenchError::Server { what: format!("create {path}"), code }),
    }
}

/// A `create` request with an open ACL and the given flags (0 persistent, 1 ephemeral).
pub fn create(path: &str, data: Option<bytes::Bytes>, flags: i32) -> Request {
    Request::Create(CreateRequest { path: path.into(), data, acl: Acl::open_unsafe(), flags })
}

/// Fills the common parts of a report from merged driver results.
pub fn report_from(report: &mut Report, merged: &DriveResult, kinds: &[&str], elapsed: Duration) {
    report.ops = merged.ops;
    report.errors = merged.errors;
    report.elapsed = elapsed;
    report.latency("all", merged.all.clone());
    for (i, name) in kinds.iter().enumerate() {
        if merged.count_by_kind[i] > 0 {
            report.latency(name, merged.by_kind[i].clone());
        }
    }
    for (i, name) in kinds.iter().enumerate() {
        report.counter(&format!("ops.{name}"), merged.count_by_kind[i]);
    }
    for (code, n) in &merged.errors_by_code {
        report.counter(&format!("errors.{code}"), *n);
    }
}

/// Seconds as a `Duration`, rejecting negative or absurd values.
pub fn seconds(secs: f64) -> Result<Duration, BenchError> {
    if (0.0..1e7).contains(&secs) {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(BenchError::Usage(format!("bad duration {secs}")))
    }
}
