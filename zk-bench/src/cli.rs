//! The command line (`clap` derive): global connection options and one subcommand per workload.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Drive any ZooKeeper-protocol server with benchmark workloads W1..W6.
#[derive(Debug, Clone, Parser)]
#[command(name = "zk-bench", version, about)]
pub struct Cli {
    /// Connect string: `host:port[,host:port...]`.
    #[arg(long, short = 'c', global = true, default_value = "127.0.0.1:2181")]
    pub connect: String,
    /// Requested session timeout in ms.
    #[arg(long, global = true, default_value_t = 30_000)]
    pub session_timeout: i32,
    /// Print the report as JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Never draw a progress bar.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// The workload.
    #[command(subcommand)]
    pub workload: Workload,
}

/// One workload.
#[derive(Debug, Clone, Subcommand)]
pub enum Workload {
    /// W1: mixed get/set/create/delete at a read ratio, many clients, pipelined.
    W1(W1Args),
    /// W2: synchronous create+delete loop (the ZooKeeper paper's Table 2 shape).
    W2(W2Args),
    /// W3: one write, N watchers: time until the last notification arrives.
    W3(W3Args),
    /// W4: session storm: establish N sessions with an ephemeral each, then close or expire them.
    W4(W4Args),
    /// W5: large tree: create N znodes (pipelined), report rate and latency.
    W5(W5Args),
    /// W6: write load across a multi-host connect string; reports the longest gap without a
    /// successful write (failover).
    W6(W6Args),
}

/// W1 options.
#[derive(Debug, Clone, Args)]
pub struct W1Args {
    /// Connections (one session each), 1..=1000.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub clients: u32,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub depth: u32,
    /// Fraction of operations that are reads (getData), 0..=1.
    #[arg(long, default_value_t = 0.9, value_parser = ratio)]
    pub read_ratio: f64,
    /// Shared keys read and set.
    #[arg(long, default_value_t = 1000)]
    pub keys: u64,
    /// Payload bytes of set and create.
    #[arg(long, default_value_t = 1024)]
    pub data_size: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Open-loop: total requests per second over all clients (default: closed loop).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seed of the operation mix.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// W2 options.
#[derive(Debug, Clone, Args)]
pub struct W2Args {
    /// Concurrent synchronous loops (one connection each).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub clients: u32,
    /// Payload bytes of each create.
    #[arg(long, default_value_t = 1024)]
    pub data_size: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
}

/// W3 options.
#[derive(Debug, Clone, Args)]
pub struct W3Args {
    /// Total watches triggered by the one write (connections x nodes per connection).
    #[arg(long, default_value_t = 1000)]
    pub watchers: u64,
    /// Connections the watchers are spread over.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub connections: u32,
    /// Rounds (each a fresh set of watches and one write).
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
}

/// How W4 ends its sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SessionEnd {
    /// `closeSession`.
    Close,
    /// Drop the connection and wait for the server to expire the session.
    Expire,
}

/// W4 options.
#[derive(Debug, Clone, Args)]
pub struct W4Args {
    /// Sessions to establish.
    #[arg(long, default_value_t = 1000)]
    pub sessions: u64,
    /// Sessions open at once.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub parallel: u32,
    /// Ephemerals created per session.
    #[arg(long, default_value_t = 1)]
    pub ephemerals: u32,
    /// Close the sessions or let them expire.
    #[arg(long, value_enum, default_value_t = SessionEnd::Close)]
    pub end: SessionEnd,
    /// Session timeout asked for with `--end expire` (the server clamps it to its minimum).
    #[arg(long, default_value_t = 4000)]
    pub expire_timeout: i32,
}

/// W5 options.
#[derive(Debug, Clone, Args)]
pub struct W5Args {
    /// Znodes to create.
    #[arg(long, default_value_t = 1_000_000)]
    pub nodes: u64,
    /// Children per bucket znode.
    #[arg(long, default_value_t = 1000)]
    pub fanout: u64,
    /// Payload bytes per znode.
    #[arg(long, default_value_t = 128)]
    pub data_size: usize,
    /// Connections.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub clients: u32,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub depth: u32,
}

/// W6 options.
#[derive(Debug, Clone, Args)]
pub struct W6Args {
    /// Concurrent synchronous writers.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub clients: u32,
    /// Payload bytes per setData.
    #[arg(long, default_value_t = 1024)]
    pub data_size: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Pause between reconnect attempts, ms.
    #[arg(long, default_value_t = 50)]
    pub retry_ms: u64,
    /// A file that, by the end of the run, holds the Unix time (seconds, fractions allowed) of an
    /// event outside the benchmark, such as the SIGKILL of the leader. The report then adds
    /// `first_success_after_mark_ms` (from that instant to the reply of the first successful write
    /// sent after it) and `gap_around_mark_ms` (from the last reply before it to that reply). A
    /// missing or unreadable file adds `mark_missing` = 1 instead.
    #[arg(long)]
    pub mark_file: Option<std::path::PathBuf>,
}

fn ratio(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not in 0..=1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("zk-bench").chain(args.iter().copied()))
    }

    #[test]
    fn w1_defaults_and_overrides() {
        let cli = parse(&["w1"]).unwrap();
        assert_eq!(cli.connect, "127.0.0.1:2181");
        assert!(!cli.json);
        let Workload::W1(a) = cli.workload else { panic!() };
        assert_eq!((a.clients, a.depth, a.read_ratio, a.data_size, a.rate), (16, 1, 0.9, 1024, None));

        let cli = parse(&[
            "w1",
            "--clients",
            "1000",
            "--depth",
            "8",
            "--read-ratio",
            "0.5",
            "--rate",
            "2000",
            "--json",
            "-c",
            "h:1",
        ])
        .unwrap();
        assert!(cli.json);
        assert_eq!(cli.connect, "h:1");
        let Workload::W1(a) = cli.workload else { panic!() };
        assert_eq!((a.clients, a.depth, a.read_ratio, a.rate), (1000, 8, 0.5, Some(2000.0)));
    }

    #[test]
    fn rejects_out_of_range_values() {
        assert!(parse(&["w1", "--clients", "1001"]).is_err());
        assert!(parse(&["w1", "--clients", "0"]).is_err());
        assert!(parse(&["w1", "--read-ratio", "1.5"]).is_err());
        assert!(parse(&["w4", "--end", "explode"]).is_err());
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn other_workloads_parse() {
        let Workload::W4(a) = parse(&["w4", "--sessions", "10", "--end", "expire"]).unwrap().workload else { panic!() };
        assert_eq!((a.sessions, a.end), (10, SessionEnd::Expire));
        let Workload::W5(a) = parse(&["w5"]).unwrap().workload else { panic!() };
        assert_eq!(a.nodes, 1_000_000);
        let Workload::W3(a) = parse(&["w3", "--watchers", "100000", "--connections", "1000"]).unwrap().workload else {
            panic!()
        };
        assert_eq!((a.watchers, a.connections), (100_000, 1000));
        let cli = parse(&["w6", "--connect", "a:1,b:2", "--duration", "5"]).unwrap();
        assert_eq!(cli.connect, "a:1,b:2");
        assert!(matches!(cli.workload, Workload::W6(W6Args { duration, ref mark_file, .. })
            if duration == 5.0 && mark_file.is_none()));
        let Workload::W6(a) = parse(&["w6", "--mark-file", "/tmp/kill"]).unwrap().workload else { panic!() };
        assert_eq!(a.mark_file.as_deref(), Some(std::path::Path::new("/tmp/kill")));
    }
}
