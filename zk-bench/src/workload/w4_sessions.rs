//! W4: session storm. `parallel` workers establish `sessions` sessions in total; each session creates
//! its ephemerals and is then closed (`closeSession`) or abandoned (the connection dropped, so the
//! server must expire it). With `expire`, the run also measures how long until every ephemeral is
//! gone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use zk_proto::{ErrorCode, GetChildrenRequest, GetChildrenResponse, Jute, Request};

use super::{create, ensure_path, BenchError, Ctx};
use crate::cli::{SessionEnd, W4Args};
use crate::histogram::Latency;
use crate::keys::workload_dir;
use crate::progress::Goal;
use crate::report::Report;
use crate::session::Session;

/// The path of ephemeral `e` of session number `s`.
pub fn ephemeral_path(dir: &str, s: u64, e: u32) -> String {
    format!("{dir}/s{s:08}-{e}")
}

#[derive(Debug, Default)]
struct WorkerResult {
    connect: Latency,
    create: Latency,
    close: Latency,
    sessions: u64,
    creates: u64,
    errors: u64,
}

async fn worker(ctx: Ctx, args: W4Args, dir: String, next: Arc<AtomicU64>, progress: Arc<AtomicU64>) -> WorkerResult {
    let mut r = WorkerResult::default();
    let timeout = if args.end == SessionEnd::Expire { args.expire_timeout } else { ctx.timeout_ms };
    loop {
        let s = next.fetch_add(1, Ordering::Relaxed);
        if s >= args.sessions {
            return r;
        }
        let t = Instant::now();
        let host = &ctx.hosts[s as usize % ctx.hosts.len()];
        let mut session = match Session::connect(host, timeout, None).await {
            Ok(session) => session,
            Err(_) => {
                r.errors += 1;
                continue;
            }
        };
        r.connect.record(t.elapsed());
        r.sessions += 1;
        for e in 0..args.ephemerals {
            let t = Instant::now();
            match session.call(&create(&ephemeral_path(&dir, s, e), None, 1)).await {
                Ok((ErrorCode::Ok, _)) => {
                    r.create.record(t.elapsed());
                    r.creates += 1;
                }
                _ => r.errors += 1,
            }
        }
        match args.end {
            SessionEnd::Close => {
                let t = Instant::now();
                match session.close().await {
                    Ok(()) => r.close.record(t.elapsed()),
                    Err(_) => r.errors += 1,
                }
            }
            SessionEnd::Expire => session.abandon(),
        }
        progress.fetch_add(1, Ordering::Relaxed);
    }
}

async fn count_children(session: &mut Session, dir: &str) -> Result<usize, BenchError> {
    let (code, mut body) =
        session.call(&Request::GetChildren(GetChildrenRequest { path: dir.into(), watch: false })).await?;
    if code != ErrorCode::Ok {
        return Err(BenchError::Server { what: format!("getChildren {dir}"), code });
    }
    let children = GetChildrenResponse::decode(&mut body).map_err(|e| BenchError::Usage(e.to_string()))?;
    Ok(children.children.len())
}

/// Runs W4.
pub async fn run(ctx: &Ctx, args: &W4Args) -> Result<Report, BenchError> {
    let dir = workload_dir("w4");
    let mut observer = ctx.session(0).await?;
    ensure_path(&mut observer, &dir).await?;
    let bar = ctx.bar("w4", Goal::Count(args.sessions));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..args.parallel)
        .map(|_| tokio::spawn(worker(ctx.clone(), args.clone(), dir.clone(), next.clone(), bar.counter())))
        .collect();
    let mut total = WorkerResult::default();
    for w in workers {
        let r = w.await?;
        total.connect.merge(&r.connect);
        total.create.merge(&r.create);
        total.close.merge(&r.close);
        total.sessions += r.sessions;
        total.creates += r.creates;
        total.errors += r.errors;
    }
    let storm = start.elapsed();
    bar.finish();

    let mut report = Report::new("w4-session-storm", &ctx.connect);
    report
        .param("sessions", args.sessions)
        .param("parallel", args.parallel)
        .param("ephemerals", args.ephemerals)
        .param("end", format!("{:?}", args.end).to_lowercase());
    let closes = total.close.count();
    report.ops = total.sessions + total.creates + closes + total.errors;
    report.errors = total.errors;
    report.elapsed = storm;
    report.counter("sessions", total.sessions).counter("ephemerals", total.creates).counter("closes", closes);
    report.metric("sessions_per_s", total.sessions as f64 / storm.as_secs_f64().max(1e-9), "1/s");
    if args.end == SessionEnd::Expire {
        let waited = Instant::now();
        let limit = Duration::from_millis(args.expire_timeout.max(ctx.timeout_ms) as u64 * 20 + 60_000);
        let mut left = count_children(&mut observer, &dir).await?;
        while left > 0 && waited.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(100)).await;
            left = count_children(&mut observer, &dir).await?;
        }
        report.counter("ephemerals_left", left as u64);
        report.metric("all_expired_after_s", waited.elapsed().as_secs_f64(), "s");
    } else {
        report.counter("ephemerals_left", count_children(&mut observer, &dir).await? as u64);
    }
    let _ = observer.close().await;
    report.latency("connect", total.connect).latency("create_ephemeral", total.create).latency("close", total.close);
    Ok(report)
}
