//! W6: failover. Synchronous writers (`setData` of their own node) run against a connect string of
//! one or more hosts; on a lost connection a writer moves to the next host, resuming its session if
//! the server still knows it, otherwise opening a new one. Reported: the longest interval during
//! which no writer completed a write (the unavailability a client sees), and per-writer gaps.
//!
//! Killing the leader of an ensemble is orchestrated outside (with the ensemble); against a
//! standalone server the side-by-side script kills and restarts the process mid-run. With
//! `--mark-file` the orchestrator tells W6 when it killed (see [`crate::mark`]), and the report adds
//! the time from the kill to the first successful write sent after it, which is what a client sees
//! of a failover (replies that arrive just after the kill to writes sent before it were committed
//! by the old leader and say nothing about the new one).

use std::time::Duration;

use tokio::time::Instant;
use zk_proto::{ErrorCode, Request, SetDataRequest};

use super::{create_ignoring_existing, ensure_path, seconds, BenchError, Ctx};
use crate::cli::W6Args;
use crate::histogram::Latency;
use crate::keys::{payload, private_key, workload_dir};
use crate::mark::{around_mark, read_mark_file, Anchor, Success};
use crate::progress::Goal;
use crate::report::Report;
use crate::session::{Session, SessionError};

/// The longest interval between consecutive instants of `sorted` (in order), counting from `start`
/// and up to `end`.
pub fn longest_gap(start: Instant, sorted: &[Instant], end: Instant) -> Duration {
    let mut prev = start;
    let mut gap = Duration::ZERO;
    for &t in sorted.iter().chain(std::iter::once(&end)) {
        gap = gap.max(t.saturating_duration_since(prev));
        prev = prev.max(t);
    }
    gap
}

#[derive(Debug, Default)]
struct Writer {
    successes: Vec<Success>,
    latency: Latency,
    errors: u64,
    reconnects: u64,
    new_sessions: u64,
}

async fn writer(
    ctx: Ctx,
    args: W6Args,
    index: usize,
    deadline: Instant,
    progress: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> Writer {
    let mut w = Writer::default();
    let path = private_key(&workload_dir("w6"), index, 0);
    let data = payload(args.data_size);
    let mut host = index;
    let mut session: Option<Session> = None;
    let mut identity: Option<(i64, bytes::Bytes)> = None;
    while Instant::now() < deadline {
        let Some(s) = session.as_mut() else {
            let addr = &ctx.hosts[host % ctx.hosts.len()];
            host += 1;
            match Session::connect(addr, ctx.timeout_ms, identity.clone()).await {
                Ok(s) => {
                    w.reconnects += 1;
                    identity = Some((s.session_id, s.passwd.clone()));
                    session = Some(s);
                }
                Err(SessionError::Expired) => {
                    identity = None;
                    w.new_sessions += 1;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(args.retry_ms)).await,
            }
            continue;
        };
        let t = Instant::now();
        let request = Request::SetData(SetDataRequest { path: path.clone(), data: Some(data.clone()), version: -1 });
        match tokio::time::timeout(Duration::from_millis(ctx.timeout_ms as u64), s.call(&request)).await {
            Ok(Ok((ErrorCode::Ok, _))) => {
                let now = Instant::now();
                w.latency.record(now - t);
                w.successes.push(Success { sent: t, done: now });
                progress.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(Ok(_)) => w.errors += 1,
            Ok(Err(_)) | Err(_) => {
                w.errors += 1;
                session = None;
            }
        }
    }
    if let Some(s) = session {
        let _ = s.close().await;
    }
    w
}

/// Runs W6.
pub async fn run(ctx: &Ctx, args: &W6Args) -> Result<Report, BenchError> {
    let dir = workload_dir("w6");
    let duration = seconds(args.duration)?;
    let mut setup = ctx.session(0).await?;
    ensure_path(&mut setup, &dir).await?;
    for i in 0..args.clients as usize {
        create_ignoring_existing(&mut setup, &private_key(&dir, i, 0), None).await?;
    }
    let _ = setup.close().await;

    let bar = ctx.bar("w6", Goal::Duration(duration));
    let anchor = Anchor::now();
    let start = anchor.instant;
    let deadline = start + duration;
    let tasks: Vec<_> = (0..args.clients as usize)
        .map(|i| tokio::spawn(writer(ctx.clone(), args.clone(), i, deadline, bar.counter())))
        .collect();
    let mut all = Vec::new();
    let mut latency = Latency::new();
    let (mut errors, mut reconnects, mut new_sessions) = (0, 0, 0);
    let mut worst_writer_gap = Duration::ZERO;
    for task in tasks {
        let w = task.await?;
        let done: Vec<Instant> = w.successes.iter().map(|s| s.done).collect();
        worst_writer_gap = worst_writer_gap.max(longest_gap(start, &done, deadline));
        all.extend(w.successes);
        latency.merge(&w.latency);
        errors += w.errors;
        reconnects += w.reconnects;
        new_sessions += w.new_sessions;
    }
    let end = Instant::now().max(deadline);
    bar.finish();
    let mut done: Vec<Instant> = all.iter().map(|s| s.done).collect();
    done.sort();
    let gap = longest_gap(start, &done, deadline.min(end));

    let mut report = Report::new("w6-failover", &ctx.connect);
    report.param("clients", args.clients).param("hosts", ctx.hosts.len()).param("data_size", args.data_size);
    report.ops = all.len() as u64 + errors;
    report.errors = errors;
    report.elapsed = end - start;
    report.latency("set", latency);
    report.counter("writes_ok", all.len() as u64);
    report.counter("connects", reconnects).counter("sessions_lost", new_sessions);
    report.metric("longest_gap_ms", gap.as_secs_f64() * 1000.0, "ms");
    report.metric("worst_writer_gap_ms", worst_writer_gap.as_secs_f64() * 1000.0, "ms");
    if let Some(path) = &args.mark_file {
        match read_mark_file(path) {
            Some(wall) => {
                let mark = anchor.instant_of(wall);
                let around = around_mark(start, &all, mark, deadline.min(end));
                report.metric("mark_at_s", mark.saturating_duration_since(start).as_secs_f64(), "s");
                report.metric("first_success_after_mark_ms", around.first_success_after.as_secs_f64() * 1000.0, "ms");
                report.metric("gap_around_mark_ms", around.gap.as_secs_f64() * 1000.0, "ms");
                report.counter("writes_after_mark", around.successes_after as u64);
                report.counter("writes_in_flight_at_mark", around.in_flight_at_mark as u64);
            }
            None => {
                report.counter("mark_missing", 1);
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_include_the_edges() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        assert_eq!(longest_gap(t0, &[], ms(100)), Duration::from_millis(100));
        assert_eq!(longest_gap(t0, &[ms(10), ms(20), ms(70)], ms(80)), Duration::from_millis(50));
        assert_eq!(longest_gap(t0, &[ms(90)], ms(100)), Duration::from_millis(90));
        assert_eq!(longest_gap(t0, &[ms(10), ms(95)], ms(100)), Duration::from_millis(85));
    }
}
