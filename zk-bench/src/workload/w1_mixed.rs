//! W1: mixed 1 KiB get/set/create/delete at a read ratio, over many pipelined connections.
//!
//! Reads are `getData` of shared keys; half of the writes are `setData` of shared keys, the other half
//! create and later delete the client's own keys (so the tree stays bounded).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use zk_proto::{DeleteRequest, ErrorCode, GetDataRequest, Request, SetDataRequest};

use super::{create, ensure_path, report_from, seconds, BenchError, Ctx};
use crate::cli::W1Args;
use crate::driver::{drive, DriveConfig, DriveResult, OpSource};
use crate::keys::{payload, pick_mixed, private_key, shared_key, workload_dir, MixedOp, Rng};
use crate::progress::Goal;
use crate::report::Report;

const KINDS: [&str; 4] = ["get", "set", "create", "delete"];

/// One client's operation stream.
#[derive(Debug)]
pub struct Mixed {
    rng: Rng,
    read_ratio: f64,
    keys: u64,
    dir: String,
    client: usize,
    data: Bytes,
    live: VecDeque<u64>,
    next_seq: u64,
}

impl Mixed {
    /// The stream of client `client`.
    pub fn new(args: &W1Args, dir: &str, client: usize, data: Bytes) -> Mixed {
        Mixed {
            rng: Rng::new(args.seed.wrapping_mul(1_000_003).wrapping_add(client as u64)),
            read_ratio: args.read_ratio,
            keys: args.keys.max(1),
            dir: dir.to_string(),
            client,
            data,
            live: VecDeque::new(),
            next_seq: 0,
        }
    }
}

impl OpSource for Mixed {
    fn next(&mut self) -> Option<(usize, Request)> {
        let op = pick_mixed(&mut self.rng, self.read_ratio, self.live.len());
        let request = match op {
            MixedOp::Get => {
                let path = shared_key(&self.dir, self.rng.below(self.keys));
                Request::GetData(GetDataRequest { path, watch: false })
            }
            MixedOp::Set => {
                let path = shared_key(&self.dir, self.rng.below(self.keys));
                Request::SetData(SetDataRequest { path, data: Some(self.data.clone()), version: -1 })
            }
            MixedOp::Create => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.live.push_back(seq);
                create(&private_key(&self.dir, self.client, seq), Some(self.data.clone()), 0)
            }
            MixedOp::Delete => {
                let seq = self.live.pop_front()?;
                Request::Delete(DeleteRequest { path: private_key(&self.dir, self.client, seq), version: -1 })
            }
        };
        Some((op as usize, request))
    }

    fn done(&mut self, _kind: usize, _result: ErrorCode) {}
}

/// Creates the shared keys (pipelined; existing ones are kept).
struct Populate {
    dir: String,
    next: u64,
    keys: u64,
    data: Bytes,
}

impl OpSource for Populate {
    fn next(&mut self) -> Option<(usize, Request)> {
        (self.next < self.keys).then(|| {
            self.next += 1;
            (0, create(&shared_key(&self.dir, self.next - 1), Some(self.data.clone()), 0))
        })
    }
    fn done(&mut self, _kind: usize, _result: ErrorCode) {}
}

/// Runs W1.
pub async fn run(ctx: &Ctx, args: &W1Args) -> Result<Report, BenchError> {
    let dir = workload_dir("w1");
    let data = payload(args.data_size);
    let duration = seconds(args.duration)?;
    let mut setup = ctx.session(0).await?;
    ensure_path(&mut setup, &dir).await?;
    let populate_cfg = DriveConfig {
        depth: 256,
        deadline: Instant::now() + Duration::from_secs(3600),
        max_ops: None,
        rate: None,
        progress: Default::default(),
    };
    let mut populate = Populate { dir: dir.clone(), next: 0, keys: args.keys, data: data.clone() };
    let populated = drive(&mut setup, &mut populate, 1, &populate_cfg).await;
    if let Some(err) = &populated.connection_error {
        return Err(BenchError::Usage(format!("populating {dir}: {err}")));
    }

    let mut sessions = Vec::with_capacity(args.clients as usize);
    for i in 0..args.clients as usize {
        sessions.push(ctx.session(i).await?);
    }
    let bar = ctx.bar("w1", Goal::Duration(duration));
    let start = Instant::now();
    let cfg = Arc::new(DriveConfig {
        depth: args.depth as usize,
        deadline: start + duration,
        max_ops: None,
        rate: args.rate.map(|r| r / f64::from(args.clients)),
        progress: bar.counter(),
    });
    let mut tasks = Vec::new();
    for (i, mut session) in sessions.into_iter().enumerate() {
        let (cfg, mut source) = (cfg.clone(), Mixed::new(args, &dir, i, data.clone()));
        tasks.push(tokio::spawn(async move {
            let result = drive(&mut session, &mut source, KINDS.len(), &cfg).await;
            (result, session, source)
        }));
    }
    let mut merged = DriveResult::new(KINDS.len());
    let mut leftovers = Vec::new();
    for task in tasks {
        let (result, session, source) = task.await?;
        merged.merge(&result);
        if result.connection_error.is_none() {
            leftovers.push((session, source));
        }
    }
    let elapsed = start.elapsed();
    bar.finish();
    for (mut session, source) in leftovers {
        for seq in source.live {
            let path = private_key(&dir, source.client, seq);
            session.call(&Request::Delete(DeleteRequest { path, version: -1 })).await?;
        }
        let _ = session.close().await;
    }
    let _ = setup.close().await;

    let mut report = Report::new("w1-mixed", &ctx.connect);
    report
        .param("clients", args.clients)
        .param("depth", args.depth)
        .param("read_ratio", args.read_ratio)
        .param("keys", args.keys)
        .param("data_size", args.data_size)
        .param("mode", args.rate.map_or("closed-loop".to_string(), |r| format!("open-loop {r} ops/s")));
    report_from(&mut report, &merged, &KINDS, elapsed);
    Ok(report)
}
