//! W3: watch fan-out. `connections` sessions each set a data watch on the same `k` nodes
//! (`k = ceil(watchers / connections)`), then one write — a `setData` when `k == 1`, else one `multi`
//! of `k` `setData`s — fires all `connections * k` watches. Measured: time from sending the write
//! to the last notification, and the distribution of notification arrival times.
//!
//! ZooKeeper delivers one notification per (connection, path), so more watchers than connections
//! needs more than one path; the write stays a single transaction either way.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;
use tokio::time::Instant;
use zk_proto::{ErrorCode, EventType, GetDataRequest, MultiOp, MultiRequest, Request, SetDataRequest};

use super::{create_ignoring_existing, ensure_path, BenchError, Ctx};
use crate::cli::W3Args;
use crate::histogram::Latency;
use crate::keys::{payload, workload_dir};
use crate::progress::Goal;
use crate::report::Report;
use crate::session::{Frame, Session};

/// How long a round waits for its notifications.
const ROUND_TIMEOUT: Duration = Duration::from_secs(120);

/// Nodes each connection watches for `watchers` watches over `connections` connections.
pub fn nodes_per_connection(watchers: u64, connections: u64) -> u64 {
    watchers.div_ceil(connections.max(1)).max(1)
}

fn node(dir: &str, j: u64) -> String {
    format!("{dir}/n{j:06}")
}

/// One watcher connection's round: set the watches, wait at the barrier, then collect `k`
/// notifications. Returns the session, arrival instants, and errors (failed watch sets + missing
/// notifications).
async fn watch_round(
    mut session: Session,
    dir: String,
    k: u64,
    ready: Arc<Barrier>,
) -> (Option<Session>, Vec<Instant>, u64) {
    for j in 0..k {
        session.queue(&Request::GetData(GetDataRequest { path: node(&dir, j), watch: true }));
    }
    let mut errors = 0;
    let mut arrivals = Vec::with_capacity(k as usize);
    let mut replies = 0;
    if session.flush().await.is_err() {
        ready.wait().await;
        return (None, arrivals, k);
    }
    while replies < k {
        match session.read().await {
            Ok(Frame::Reply(header, _)) => {
                replies += 1;
                if ErrorCode::from_code(header.err) != ErrorCode::Ok {
                    errors += 1;
                }
            }
            Ok(_) => {}
            Err(_) => {
                ready.wait().await;
                return (None, arrivals, k);
            }
        }
    }
    ready.wait().await;
    let deadline = Instant::now() + ROUND_TIMEOUT;
    while (arrivals.len() as u64) < k - errors {
        match tokio::time::timeout_at(deadline, session.read()).await {
            Ok(Ok(Frame::Event(event))) if event.event_type == EventType::NodeDataChanged.code() => {
                arrivals.push(Instant::now());
            }
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => {
                let missing = k - errors - arrivals.len() as u64;
                return (None, arrivals, errors + missing);
            }
        }
    }
    (Some(session), arrivals, errors)
}

/// Runs W3.
pub async fn run(ctx: &Ctx, args: &W3Args) -> Result<Report, BenchError> {
    let dir = workload_dir("w3");
    let connections = u64::from(args.connections);
    let k = nodes_per_connection(args.watchers, connections);
    let watchers = connections * k;
    let mut writer = ctx.session(0).await?;
    ensure_path(&mut writer, &dir).await?;
    for j in 0..k {
        create_ignoring_existing(&mut writer, &node(&dir, j), Some(payload(16))).await?;
    }
    let mut sessions = Vec::with_capacity(args.connections as usize);
    for i in 0..args.connections as usize {
        sessions.push(ctx.session(i + 1).await?);
    }

    let bar = ctx.bar("w3", Goal::Count(u64::from(args.rounds) * watchers));
    let mut fanout = Latency::new();
    let mut last = Latency::new();
    let (mut delivered, mut errors) = (0u64, 0u64);
    let mut total = Duration::ZERO;
    for round in 0..args.rounds {
        let ready = Arc::new(Barrier::new(sessions.len() + 1));
        let tasks: Vec<_> =
            sessions.drain(..).map(|s| tokio::spawn(watch_round(s, dir.clone(), k, ready.clone()))).collect();
        ready.wait().await;
        let data = Some(payload(16 + round as usize % 2));
        let write = if k == 1 {
            Request::SetData(SetDataRequest { path: node(&dir, 0), data, version: -1 })
        } else {
            let ops = (0..k)
                .map(|j| MultiOp::SetData(SetDataRequest { path: node(&dir, j), data: data.clone(), version: -1 }))
                .collect();
            Request::Multi(MultiRequest { ops })
        };
        let start = Instant::now();
        let (code, _) = writer.call(&write).await?;
        if code != ErrorCode::Ok {
            return Err(BenchError::Server { what: "w3 trigger write".into(), code });
        }
        let mut latest = start;
        for task in tasks {
            let (session, arrivals, errs) = task.await?;
            errors += errs;
            delivered += arrivals.len() as u64;
            bar.counter().fetch_add(arrivals.len() as u64, std::sync::atomic::Ordering::Relaxed);
            for at in arrivals {
                fanout.record(at - start);
                latest = latest.max(at);
            }
            if let Some(session) = session {
                sessions.push(session);
            }
        }
        last.record(latest - start);
        total += latest - start;
        if sessions.is_empty() {
            break;
        }
    }
    bar.finish();
    for session in sessions {
        let _ = session.close().await;
    }
    let _ = writer.close().await;

    let mut report = Report::new("w3-watch-fanout", &ctx.connect);
    report
        .param("watchers", watchers)
        .param("connections", connections)
        .param("nodes_per_connection", k)
        .param("rounds", args.rounds);
    report.ops = delivered + errors;
    report.errors = errors;
    report.elapsed = total;
    report.latency("notification", fanout).latency("last_notification", last.clone());
    report.counter("notifications", delivered);
    let s = last.summary();
    report.metric("time_to_last_mean_ms", s.mean_ms, "ms");
    report.metric("time_to_last_max_ms", s.max_ms, "ms");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_watchers_over_connections() {
        assert_eq!(nodes_per_connection(1000, 1000), 1);
        assert_eq!(nodes_per_connection(100_000, 1000), 100);
        assert_eq!(nodes_per_connection(1001, 1000), 2);
        assert_eq!(nodes_per_connection(5, 0), 5);
        assert_eq!(nodes_per_connection(0, 10), 1);
    }
}
