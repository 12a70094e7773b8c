//! W5: large tree. Creates `nodes` znodes under `/zkbench/w5`, `fanout` per bucket, over pipelined
//! connections. The restart/recovery time and on-disk size that follow are measured by
//! `scripts/bench-side-by-side.sh`, which owns the server process.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use zk_proto::{ErrorCode, Request};

use super::{create, ensure_path, report_from, BenchError, Ctx};
use crate::cli::W5Args;
use crate::driver::{drive, DriveConfig, DriveResult, OpSource};
use crate::keys::{payload, tree_buckets, tree_node, workload_dir};
use crate::progress::Goal;
use crate::report::Report;

/// Creates a contiguous range of node indices (or of bucket indices).
#[derive(Debug)]
pub struct TreeRange {
    dir: String,
    next: u64,
    end: u64,
    fanout: u64,
    data: Option<Bytes>,
    buckets: bool,
}

impl TreeRange {
    /// Nodes `start..end`.
    pub fn nodes(dir: &str, start: u64, end: u64, fanout: u64, data: Bytes) -> TreeRange {
        TreeRange { dir: dir.into(), next: start, end, fanout, data: Some(data), buckets: false }
    }

    /// Bucket znodes `0..buckets`.
    pub fn buckets(dir: &str, buckets: u64, fanout: u64) -> TreeRange {
        TreeRange { dir: dir.into(), next: 0, end: buckets, fanout, data: None, buckets: true }
    }
}

impl OpSource for TreeRange {
    fn next(&mut self) -> Option<(usize, Request)> {
        if self.next >= self.end {
            return None;
        }
        let (bucket, node) = tree_node(&self.dir, self.next * if self.buckets { self.fanout } else { 1 }, self.fanout);
        self.next += 1;
        let path = if self.buckets { bucket } else { node };
        Some((0, create(&path, self.data.clone(), 0)))
    }

    fn done(&mut self, _kind: usize, _result: ErrorCode) {}
}

/// Runs W5.
pub async fn run(ctx: &Ctx, args: &W5Args) -> Result<Report, BenchError> {
    let dir = workload_dir("w5");
    let data = payload(args.data_size);
    let mut setup = ctx.session(0).await?;
    ensure_path(&mut setup, &dir).await?;
    let far = Instant::now() + Duration::from_secs(365 * 86_400);
    let bucket_cfg = DriveConfig { depth: 256, deadline: far, max_ops: None, rate: None, progress: Default::default() };
    let buckets = drive(
        &mut setup,
        &mut TreeRange::buckets(&dir, tree_buckets(args.nodes, args.fanout), args.fanout),
        1,
        &bucket_cfg,
    )
    .await;
    if let Some(err) = buckets.connection_error {
        return Err(BenchError::Usage(format!("creating buckets: {err}")));
    }

    let clients = u64::from(args.clients);
    let mut sessions = Vec::new();
    for i in 0..clients as usize {
        sessions.push(ctx.session(i).await?);
    }
    let bar = ctx.bar("w5", Goal::Count(args.nodes));
    let cfg = Arc::new(DriveConfig {
        depth: args.depth as usize,
        deadline: far,
        max_ops: None,
        rate: None,
        progress: bar.counter(),
    });
    let start = Instant::now();
    let per = args.nodes.div_ceil(clients);
    let mut tasks = Vec::new();
    for (i, mut session) in sessions.into_iter().enumerate() {
        let (lo, hi) = ((i as u64 * per).min(args.nodes), ((i as u64 + 1) * per).min(args.nodes));
        let mut source = TreeRange::nodes(&dir, lo, hi, args.fanout, data.clone());
        let cfg = cfg.clone();
        tasks.push(tokio::spawn(async move {
            let result = drive(&mut session, &mut source, 1, &cfg).await;
            let _ = session.close().await;
            result
        }));
    }
    let mut merged = DriveResult::new(1);
    for task in tasks {
        merged.merge(&task.await?);
    }
    let elapsed = start.elapsed();
    bar.finish();
    let _ = setup.close().await;

    let mut report = Report::new("w5-large-tree", &ctx.connect);
    report
        .param("nodes", args.nodes)
        .param("fanout", args.fanout)
        .param("data_size", args.data_size)
        .param("clients", args.clients)
        .param("depth", args.depth);
    report_from(&mut report, &merged, &["create"], elapsed);
    report.counter("buckets", buckets.ops);
    report.metric("creates_per_s", merged.count_by_kind[0] as f64 / elapsed.as_secs_f64().max(1e-9), "1/s");
    Ok(report)
}
