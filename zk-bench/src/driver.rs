//! The pipelined driver: keeps up to `depth` requests in flight on one session, closed-loop (send as
//! soon as a slot frees) or open-loop (send on a fixed schedule; latency counts from the scheduled
//! time, so a stalled server is not hidden by coordinated omission).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use zk_proto::{ErrorCode, Request};

use crate::histogram::Latency;
use crate::session::{Frame, Session};

/// Supplies a connection's requests and hears their results.
pub trait OpSource {
    /// The next request and its kind (an index into the kinds the workload reports), or `None` when
    /// this source is exhausted.
    fn next(&mut self) -> Option<(usize, Request)>;
    /// The result of a request of `kind` (called in request order).
    fn done(&mut self, kind: usize, result: ErrorCode);
}

/// How to drive one connection.
#[derive(Debug, Clone)]
pub struct DriveConfig {
    /// Requests in flight at most.
    pub depth: usize,
    /// Stop sending at this instant (then wait for what is in flight).
    pub deadline: Instant,
    /// Stop after sending this many.
    pub max_ops: Option<u64>,
    /// Open-loop: requests per second on this connection.
    pub rate: Option<f64>,
    /// Completed requests, shared with a progress bar.
    pub progress: Arc<AtomicU64>,
}

/// What one connection did.
#[derive(Debug, Clone, Default)]
pub struct DriveResult {
    /// Requests answered, plus those lost with the connection.
    pub ops: u64,
    /// Non-OK answers plus requests lost with the connection.
    pub errors: u64,
    /// Latency of every answered request.
    pub all: Latency,
    /// Latency by kind.
    pub by_kind: Vec<Latency>,
    /// Answers by kind.
    pub count_by_kind: Vec<u64>,
    /// Non-OK answers by error name (plus `connection-lost`).
    pub errors_by_code: BTreeMap<String, u64>,
    /// Why the connection was lost, if it was.
    pub connection_error: Option<String>,
}

impl DriveResult {
    /// An empty result for `kinds` kinds.
    pub fn new(kinds: usize) -> DriveResult {
        DriveResult { by_kind: vec![Latency::new(); kinds], count_by_kind: vec![0; kinds], ..DriveResult::default() }
    }

    /// Adds `other` (same number of kinds).
    pub fn merge(&mut self, other: &DriveResult) {
        self.ops += other.ops;
        self.errors += other.errors;
        self.all.merge(&other.all);
        for (mine, theirs) in self.by_kind.iter_mut().zip(&other.by_kind) {
            mine.merge(theirs);
        }
        for (mine, theirs) in self.count_by_kind.iter_mut().zip(&other.count_by_kind) {
            *mine += theirs;
        }
        for (code, n) in &other.errors_by_code {
            *self.errors_by_code.entry(code.clone()).or_default() += n;
        }
        if self.connection_error.is_none() {
            self.connection_error.clone_from(&other.connection_error);
        }
    }
}

/// Drives `session` with requests from `source` until the deadline, `max_ops`, or the source ends.
pub async fn drive(session: &mut Session, source: &mut impl OpSource, kinds: usize, cfg: &DriveConfig) -> DriveResult {
    let mut result = DriveResult::new(kinds);
    let mut inflight: VecDeque<(usize, Instant)> = VecDeque::with_capacity(cfg.depth);
    let interval = cfg.rate.map(|r| Duration::from_secs_f64(1.0 / r.max(1e-3)));
    let mut next_due = Instant::now();
    let mut sent = 0u64;
    let mut stopping = false;
    loop {
        while !stopping && inflight.len() < cfg.depth.max(1) {
            let now = Instant::now();
            if now >= cfg.deadline || cfg.max_ops.is_some_and(|m| sent >= m) {
                stopping = true;
                break;
            }
            let intended = match interval {
                Some(_) if now < next_due => break,
                Some(step) => {
                    let at = next_due;
                    next_due += step;
                    at
                }
                None => now,
            };
            let Some((kind, request)) = source.next() else {
                stopping = true;
                break;
            };
            session.queue(&request);
            inflight.push_back((kind, intended));
            sent += 1;
        }
        if let Err(err) = session.flush().await {
            lose(&mut result, &mut inflight, &err.to_string());
            return result;
        }
        if inflight.is_empty() {
            if stopping {
                return result;
            }
            tokio::time::sleep_until(next_due.min(cfg.deadline)).await;
            continue;
        }
        let frame = if interval.is_some() && !stopping && inflight.len() < cfg.depth.max(1) {
            tokio::select! {
                frame = session.read() => Some(frame),
                _ = tokio::time::sleep_until(next_due.min(cfg.deadline)) => None,
            }
        } else {
            Some(session.read().await)
        };
        match frame {
            None => {}
            Some(Ok(Frame::Reply(header, _))) => {
                let Some((kind, intended)) = inflight.pop_front() else {
                    lose(&mut result, &mut inflight, "unexpected reply");
                    return result;
                };
                let latency = intended.elapsed();
                result.ops += 1;
                result.all.record(latency);
                result.by_kind[kind].record(latency);
                result.count_by_kind[kind] += 1;
                let code = ErrorCode::from_code(header.err);
                if code != ErrorCode::Ok {
                    result.errors += 1;
                    *result.errors_by_code.entry(format!("{code:?}")).or_default() += 1;
                }
                source.done(kind, code);
                cfg.progress.fetch_add(1, Ordering::Relaxed);
            }
            Some(Ok(Frame::Event(_) | Frame::Ping)) => {}
            Some(Err(err)) => {
                lose(&mut result, &mut inflight, &err.to_string());
                return result;
            }
        }
    }
}

fn lose(result: &mut DriveResult, inflight: &mut VecDeque<(usize, Instant)>, why: &str) {
    let lost = inflight.len() as u64;
    result.ops += lost;
    result.errors += lost;
    *result.errors_by_code.entry("connection-lost".into()).or_default() += lost;
    result.connection_error = Some(why.to_string());
    inflight.clear();
}
