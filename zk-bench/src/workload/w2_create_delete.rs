//! W2: synchronous create+delete loops (the ZooKeeper paper's Table 2 shape): each client creates a
//! node with a payload, waits for the reply, deletes it, waits, and repeats. Every write is durable
//! before its reply, so this measures the server's write path latency end to end.

use std::sync::Arc;

use bytes::Bytes;
use tokio::time::Instant;
use zk_proto::{DeleteRequest, ErrorCode, Request};

use super::{create, ensure_path, report_from, seconds, BenchError, Ctx};
use crate::cli::W2Args;
use crate::driver::{drive, DriveConfig, DriveResult, OpSource};
use crate::keys::{payload, private_key, workload_dir};
use crate::progress::Goal;
use crate::report::Report;

const KINDS: [&str; 2] = ["create", "delete"];

/// One client's alternating create/delete stream.
#[derive(Debug)]
pub struct CreateDelete {
    path: String,
    data: Bytes,
    created: bool,
}

impl CreateDelete {
    /// The loop of client `client` under `dir`.
    pub fn new(dir: &str, client: usize, data: Bytes) -> CreateDelete {
        CreateDelete { path: private_key(dir, client, 0), data, created: false }
    }
}

impl OpSource for CreateDelete {
    fn next(&mut self) -> Option<(usize, Request)> {
        self.created = !self.created;
        if self.created {
            Some((0, create(&self.path, Some(self.data.clone()), 0)))
        } else {
            Some((1, Request::Delete(DeleteRequest { path: self.path.clone(), version: -1 })))
        }
    }

    fn done(&mut self, _kind: usize, _result: ErrorCode) {}
}

/// Runs W2.
pub async fn run(ctx: &Ctx, args: &W2Args) -> Result<Report, BenchError> {
    let dir = workload_dir("w2");
    let data = payload(args.data_size);
    let duration = seconds(args.duration)?;
    let mut setup = ctx.session(0).await?;
    ensure_path(&mut setup, &dir).await?;
    let mut sessions = Vec::new();
    for i in 0..args.clients as usize {
        sessions.push(ctx.session(i).await?);
    }
    let bar = ctx.bar("w2", Goal::Duration(duration));
    let start = Instant::now();
    let cfg = Arc::new(DriveConfig {
        depth: 1,
        deadline: start + duration,
        max_ops: None,
        rate: None,
        progress: bar.counter(),
    });
    let mut tasks = Vec::new();
    for (i, mut session) in sessions.into_iter().enumerate() {
        let (cfg, mut source) = (cfg.clone(), CreateDelete::new(&dir, i, data.clone()));
        tasks.push(tokio::spawn(async move {
            let result = drive(&mut session, &mut source, KINDS.len(), &cfg).await;
            if source.created {
                let delete = Request::Delete(DeleteRequest { path: source.path.clone(), version: -1 });
                let _ = session.call(&delete).await;
            }
            let _ = session.close().await;
            result
        }));
    }
    let mut merged = DriveResult::new(KINDS.len());
    for task in tasks {
        merged.merge(&task.await?);
    }
    let elapsed = start.elapsed();
    bar.finish();
    let _ = setup.close().await;

    let mut report = Report::new("w2-create-delete", &ctx.connect);
    report.param("clients", args.clients).param("data_size", args.data_size);
    report_from(&mut report, &merged, &KINDS, elapsed);
    let creates = merged.count_by_kind[0] as f64;
    report.metric("creates_per_s", creates / elapsed.as_secs_f64().max(1e-9), "1/s");
    Ok(report)
}
