//! Client-library throughput and latency: the zk-client side of `scripts/bench-clients.sh`, which runs
//! the same work with kazoo (`scripts/client-bench/kazoo_bench.py`) and the Java client
//! (`scripts/client-bench/JavaClientBench.java`) against the same server.
//!
//! Two shapes, both on ONE session / connection:
//!
//! * `pipelined`: one task keeps `--concurrency` requests outstanding on one `Client`
//!   (a `FuturesUnordered` window, refilled as replies arrive);
//! * `tasks`: `--concurrency` tokio tasks share one `Client` (a clone each), each doing one
//!   request after another.
//!
//! Slot / task `i` works on `<root>/n-<i % nodes>`; `get` reads it, `set` overwrites it with
//! `--payload` bytes, `create` makes an ephemeral sequential node `<root>/create/e-` (gone when the
//! session closes). `--prepare` creates the nodes (with `--payload` bytes each) and exits.
//!
//! ```sh
//! cargo run --release -p zk-client --example client_bench -- 127.0.0.1:2181 --prepare
//! cargo run --release -p zk-client --example client_bench -- 127.0.0.1:2181 --op get --shape pipelined --json
//! ```
#![allow(clippy::print_stdout)] // a command-line measurement prints its numbers

use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures::stream::{FuturesUnordered, StreamExt};
use hdrhistogram::Histogram;
use zk_client::{Client, CreateOptions, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Op {
    Get,
    Set,
    Create,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Shape {
    /// One task, `concurrency` requests in flight on one client.
    Pipelined,
    /// `concurrency` tasks sharing one client, each sequential.
    Tasks,
}

#[derive(Debug, Parser)]
#[command(about = "zk-client throughput and latency (one session)")]
struct Args {
    /// Connect string.
    #[arg(default_value = "127.0.0.1:2181")]
    connect: String,
    /// The operation.
    #[arg(long, value_enum, default_value_t = Op::Get)]
    op: Op,
    /// The load shape.
    #[arg(long, value_enum, default_value_t = Shape::Pipelined)]
    shape: Shape,
    /// Requests in flight (pipelined) or tasks (tasks); 1 means strictly sequential.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Payload bytes (set/create data; the size of the prepared nodes).
    #[arg(long, default_value_t = 1024)]
    payload: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Warm-up seconds (run, not measured).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Number of prepared nodes.
    #[arg(long, default_value_t = 64)]
    nodes: usize,
    /// The parent of the benchmark nodes.
    #[arg(long, default_value = "/client-bench")]
    root: String,
    /// Create the nodes and exit.
    #[arg(long)]
    prepare: bool,
    /// Print one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

/// What the measuring loops share.
#[derive(Debug, Clone)]
struct Plan {
    op: Op,
    paths: Vec<String>,
    create_path: String,
    payload: Vec<u8>,
    measure_from: Instant,
    end: Instant,
}

/// Per-worker tallies.
#[derive(Debug)]
struct Tally {
    latency_us: Histogram<u64>,
    ops: u64,
    errors: u64,
    first_error: Option<Error>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            ops: 0,
            errors: 0,
            first_error: None,
        }
    }

    fn record(&mut self, plan: &Plan, started: Instant, result: Result<(), Error>) {
        if started < plan.measure_from {
            return;
        }
        match result {
            Ok(()) => {
                self.ops += 1;
                let us = started.elapsed().as_micros().max(1) as u64;
                self.latency_us.saturating_record(us);
            }
            Err(err) => {
                self.errors += 1;
                self.first_error.get_or_insert(err);
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.ops += other.ops;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        let _ = self.latency_us.add(&other.latency_us);
    }
}

async fn one_op(client: &Client, plan: &Plan, slot: usize) -> Result<(), Error> {
    let path = &plan.paths[slot % plan.paths.len()];
    match plan.op {
        Op::Get => client.get_data(path).await.map(drop),
        Op::Set => client.set_data(path, &plan.payload, None).await.map(drop),
        Op::Create => {
            client.create(&plan.create_path, &plan.payload, &CreateOptions::ephemeral_sequential()).await.map(drop)
        }
    }
}

/// One client, `depth` requests in flight from one task.
async fn pipelined(client: &Client, plan: &Plan, depth: usize) -> Tally {
    let mut tally = Tally::new();
    let mut in_flight = FuturesUnordered::new();
    let issue = |slot: usize| async move {
        let started = Instant::now();
        let result = one_op(client, plan, slot).await;
        (slot, started, result)
    };
    for slot in 0..depth {
        in_flight.push(issue(slot));
    }
    while let Some((slot, started, result)) = in_flight.next().await {
        tally.record(plan, started, result);
        if Instant::now() < plan.end {
            in_flight.push(issue(slot));
        }
    }
    tally
}

/// `tasks` tasks sharing one client, each sequential.
async fn tasks(client: &Client, plan: &Plan, tasks: usize) -> Tally {
    let handles: Vec<_> = (0..tasks)
        .map(|slot| {
            let client = client.clone();
            let plan = plan.clone();
            tokio::spawn(async move {
                let mut tally = Tally::new();
                while Instant::now() < plan.end {
                    let started = Instant::now();
                    let result = one_op(&client, &plan, slot).await;
                    tally.record(&plan, started, result);
                }
                tally
            })
        })
        .collect();
    let mut total = Tally::new();
    for handle in handles {
        total.merge(handle.await.expect("benchmark task panicked"));
    }
    total
}

async fn ensure(client: &Client, path: &str, data: &[u8]) -> Result<(), Error> {
    match client.create(path, data, &CreateOptions::persistent()).await {
        Ok(_) => Ok(()),
        Err(Error::NodeExists) => client.set_data(path, data, None).await.map(drop),
        Err(err) => Err(err),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let concurrency = args.concurrency.max(1);
    let client = Client::connect(&args.connect).await?;
    let payload = vec![b'x'; args.payload];
    let root = args.root.trim_end_matches('/').to_owned();
    let paths: Vec<String> = (0..args.nodes.max(1)).map(|i| format!("{root}/n-{i}")).collect();
    if args.prepare {
        ensure(&client, &root, b"").await?;
        ensure(&client, &format!("{root}/create"), b"").await?;
        for path in &paths {
            ensure(&client, path, &payload).await?;
        }
        client.close().await?;
        return Ok(());
    }

    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let plan = Plan {
        op: args.op,
        paths,
        create_path: format!("{root}/create/e-"),
        payload,
        measure_from,
        end: measure_from + Duration::from_secs_f64(args.duration),
    };
    let tally = match args.shape {
        Shape::Pipelined => pipelined(&client, &plan, concurrency).await,
        Shape::Tasks => tasks(&client, &plan, concurrency).await,
    };
    let seconds = plan.end.duration_since(plan.measure_from).as_secs_f64();
    let ops_per_sec = tally.ops as f64 / seconds;
    let h = &tally.latency_us;
    let (p50, p99, p999, max) =
        (h.value_at_quantile(0.50), h.value_at_quantile(0.99), h.value_at_quantile(0.999), h.max());
    let op = format!("{:?}", args.op).to_lowercase();
    let shape = format!("{:?}", args.shape).to_lowercase();
    if args.json {
        println!(
            "{{\"client\":\"zk-client\",\"op\":\"{op}\",\"shape\":\"{shape}\",\"concurrency\":{concurrency},\
             \"payload\":{},\"seconds\":{seconds:.3},\"ops\":{},\"errors\":{},\"ops_per_sec\":{ops_per_sec:.1},\
             \"p50_us\":{p50},\"p99_us\":{p99},\"p999_us\":{p999},\"max_us\":{max}}}",
            args.payload, tally.ops, tally.errors
        );
    } else {
        println!(
            "zk-client {op} {shape} x{concurrency}, {} B: {} ops in {seconds:.1} s = {ops_per_sec:.0} ops/s; \
             latency p50 {p50} us, p99 {p99} us, p99.9 {p999} us, max {max} us; {} errors",
            args.payload, tally.ops, tally.errors
        );
    }
    if let Some(err) = &tally.first_error {
        eprintln!("first error: {err}");
    }
    // Closing ends the session, and with it the ephemeral nodes `create` made.
    client.close().await
}
