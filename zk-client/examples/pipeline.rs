//! Measures request latency and pipelined throughput against a server.
//!
//! ```sh
//! cargo run --release -p zk-client --example pipeline -- 127.0.0.1:2181 20000
//! ```
#![allow(clippy::print_stdout)] // a command-line measurement prints its numbers

use std::time::Instant;

use futures::stream::{self, StreamExt};
use zk_client::{Client, CreateOptions, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let connect = args.next().unwrap_or_else(|| "127.0.0.1:2181".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let client = Client::connect(&connect).await?;
    match client.create("/pipeline-bench", &[0; 100], &CreateOptions::persistent()).await {
        Ok(_) | Err(Error::NodeExists) => {}
        Err(err) => return Err(err),
    }

    let started = Instant::now();
    for _ in 0..n / 10 {
        client.get_data("/pipeline-bench").await?;
    }
    let sequential = started.elapsed();
    println!(
        "sequential get_data: {} ops in {:?} = {:.0} ops/s ({:.1} us/op)",
        n / 10,
        sequential,
        (n / 10) as f64 / sequential.as_secs_f64(),
        sequential.as_micros() as f64 / (n / 10) as f64
    );

    for depth in [16, 256] {
        let started = Instant::now();
        let done = stream::iter(0..n)
            .map(|_| client.get_data("/pipeline-bench"))
            .buffer_unordered(depth)
            .filter(|r| std::future::ready(r.is_ok()))
            .count()
            .await;
        let elapsed = started.elapsed();
        println!(
            "pipelined get_data (depth {depth}): {done} ops in {elapsed:?} = {:.0} ops/s",
            done as f64 / elapsed.as_secs_f64()
        );
    }

    let started = Instant::now();
    let done = stream::iter(0..n / 4)
        .map(|_| client.set_data("/pipeline-bench", &[1; 100], None))
        .buffer_unordered(256)
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await;
    let elapsed = started.elapsed();
    println!(
        "pipelined set_data (depth 256): {done} ops in {elapsed:?} = {:.0} ops/s",
        done as f64 / elapsed.as_secs_f64()
    );
    client.delete("/pipeline-bench", None).await?;
    client.close().await
}
