//! Every workload, briefly, against an in-process zk-server: the reported counts must add up.
//! No timing is asserted.

use clap::Parser;
use zk_bench::{Cli, Report};
use zk_server::testing::Server;

async fn run(server: &Server, args: &[&str]) -> Report {
    let connect = server.connect_string();
    let argv = ["zk-bench", "--no-progress", "--connect", &connect].into_iter().chain(args.iter().copied());
    let cli = Cli::try_parse_from(argv).expect("valid arguments");
    zk_bench::run(&cli).await.unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn counter(report: &Report, name: &str) -> u64 {
    report.counters.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v)
}

/// A path in the temp dir unique to this test process (the file is not created).
fn scratch_file(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("zk-bench-test-{}-{name}", std::process::id()))
}

fn metric(report: &Report, name: &str) -> Option<f64> {
    report.metrics.iter().find(|(n, _, _)| n == name).map(|(_, v, _)| *v)
}

fn latency_count(report: &Report, name: &str) -> u64 {
    report.latencies.iter().find(|(n, _)| n == name).map_or(0, |(_, l)| l.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_reports_consistent_counts() {
    let server = Server::builder().tick_time(200).start().await.unwrap();

    let w1 = run(&server, &["w1", "--clients", "4", "--depth", "8", "--keys", "50", "--duration", "0.5"]).await;
    assert!(w1.ops > 0);
    assert_eq!(w1.errors, 0, "{}", w1.to_table());
    let by_kind: u64 = ["get", "set", "create", "delete"].iter().map(|k| counter(&w1, &format!("ops.{k}"))).sum();
    assert_eq!(by_kind, w1.ops);
    assert_eq!(latency_count(&w1, "all"), w1.ops);
    assert!(counter(&w1, "ops.get") > counter(&w1, "ops.set"));

    let open = run(&server, &["w1", "--clients", "2", "--rate", "200", "--duration", "0.5", "--read-ratio", "0"]).await;
    assert_eq!(open.errors, 0, "{}", open.to_table());
    assert_eq!(counter(&open, "ops.get"), 0);
    assert!(open.ops > 0 && open.ops <= 110, "open loop at 200/s for 0.5 s sent {}", open.ops);

    let w2 = run(&server, &["w2", "--clients", "2", "--duration", "0.5"]).await;
    assert_eq!(w2.errors, 0, "{}", w2.to_table());
    let (creates, deletes) = (counter(&w2, "ops.create"), counter(&w2, "ops.delete"));
    assert_eq!(creates + deletes, w2.ops);
    assert!(creates.abs_diff(deletes) <= 2, "{creates} creates, {deletes} deletes");

    let w3 = run(&server, &["w3", "--watchers", "60", "--connections", "20", "--rounds", "2"]).await;
    assert_eq!(w3.errors, 0, "{}", w3.to_table());
    assert_eq!(counter(&w3, "notifications"), 2 * 60);
    assert_eq!(latency_count(&w3, "notification"), 2 * 60);
    assert_eq!(latency_count(&w3, "last_notification"), 2);

    let w4 = run(&server, &["w4", "--sessions", "40", "--parallel", "8", "--ephemerals", "2"]).await;
    assert_eq!(w4.errors, 0, "{}", w4.to_table());
    assert_eq!(counter(&w4, "sessions"), 40);
    assert_eq!(counter(&w4, "ephemerals"), 80);
    assert_eq!(counter(&w4, "closes"), 40);
    assert_eq!(counter(&w4, "ephemerals_left"), 0);
    assert_eq!(w4.ops, 40 + 80 + 40);

    let expire =
        run(&server, &["w4", "--sessions", "10", "--parallel", "5", "--end", "expire", "--expire-timeout", "400"])
            .await;
    assert_eq!(expire.errors, 0, "{}", expire.to_table());
    assert_eq!(counter(&expire, "sessions"), 10);
    assert_eq!(counter(&expire, "ephemerals_left"), 0, "{}", expire.to_table());

    let w5 = run(&server, &["w5", "--nodes", "2500", "--fanout", "1000", "--clients", "3", "--depth", "16"]).await;
    assert_eq!(w5.errors, 0, "{}", w5.to_table());
    assert_eq!(w5.ops, 2500);
    assert_eq!(counter(&w5, "buckets"), 3);

    let w6 = run(&server, &["w6", "--clients", "2", "--duration", "0.5"]).await;
    assert_eq!(w6.errors, 0, "{}", w6.to_table());
    assert_eq!(counter(&w6, "writes_ok"), w6.ops);
    assert_eq!(latency_count(&w6, "set"), w6.ops);
    assert_eq!(counter(&w6, "connects"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_writers_survive_a_restart() {
    let mut server = Server::builder().tick_time(200).start().await.unwrap();
    let connect = server.connect_string();
    let mark_file = scratch_file("restart");
    let cli = Cli::try_parse_from([
        "zk-bench",
        "--no-progress",
        "-c",
        &connect,
        "--session-timeout",
        "4000",
        "w6",
        "--clients",
        "2",
        "--duration",
        "2",
        "--mark-file",
        mark_file.to_str().unwrap(),
    ])
    .unwrap();
    let bench = tokio::spawn(async move { zk_bench::run(&cli).await });
    // Restart only once both writers are writing: a restart during the bench's own setup is an
    // error by design (setup does not retry), and that is not what this test is about.
    let observer = zk_client::Client::connect(&connect).await.unwrap();
    let both_writing = async {
        for writer in 0..2 {
            let path = format!("/zkbench/w6/c{writer:04}-00000000");
            loop {
                match observer.exists(&path).await.unwrap() {
                    Some(stat) if stat.version > 0 => break,
                    _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                }
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), both_writing).await.expect("writers never started");
    drop(observer);
    // The mark: the instant of the restart, as a Unix time, written the way the ensemble script does.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    std::fs::write(&mark_file, format!("{:.6}", now.as_secs_f64())).unwrap();
    server.restart().await.unwrap();
    let report = bench.await.unwrap().unwrap();
    assert!(counter(&report, "writes_ok") > 0);
    assert!(counter(&report, "connects") >= 3, "{}", report.to_table());
    assert_eq!(report.ops, counter(&report, "writes_ok") + report.errors);

    // Writes sent after the mark succeeded; the time to the first of them is part of the gap that
    // spans the mark, and both fit in the run.
    let table = report.to_table();
    assert_eq!(counter(&report, "mark_missing"), 0, "{table}");
    assert!(counter(&report, "writes_after_mark") > 0, "{table}");
    let mark_at = metric(&report, "mark_at_s").expect("mark_at_s");
    assert!(mark_at > 0.0 && mark_at < 2.0, "{table}");
    let first = metric(&report, "first_success_after_mark_ms").expect("first_success_after_mark_ms");
    let gap = metric(&report, "gap_around_mark_ms").expect("gap_around_mark_ms");
    assert!(first > 0.0 && first <= gap && gap < 2000.0, "{table}");
    let _ = std::fs::remove_file(&mark_file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_mark_file_is_reported_not_fatal() {
    let server = Server::builder().tick_time(200).start().await.unwrap();
    let absent = scratch_file("never-written");
    let report =
        run(&server, &["w6", "--clients", "1", "--duration", "0.3", "--mark-file", absent.to_str().unwrap()]).await;
    assert_eq!(report.errors, 0, "{}", report.to_table());
    assert_eq!(counter(&report, "mark_missing"), 1);
    assert_eq!(metric(&report, "first_success_after_mark_ms"), None);
    assert!(!absent.exists());
}
