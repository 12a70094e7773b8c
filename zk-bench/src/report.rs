//! The result of one workload run: counts, named latency histograms and metrics, printed as a human
//! table or as JSON.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::histogram::Latency;

/// What a workload measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `w1-mixed`, `w2-create-delete`, ...
    pub workload: String,
    /// The connect string driven.
    pub connect: String,
    /// The workload's parameters, as given.
    pub params: Vec<(String, String)>,
    /// Operations completed (successful or not).
    pub ops: u64,
    /// Operations that failed (a non-OK result or a lost connection).
    pub errors: u64,
    /// Wall time of the measured phase.
    pub elapsed: Duration,
    /// Latency histograms by operation kind; the first is the overall one.
    pub latencies: Vec<(String, Latency)>,
    /// Counters: operations by kind, errors by code, ...
    pub counters: Vec<(String, u64)>,
    /// Workload-specific results: (name, value, unit).
    pub metrics: Vec<(String, f64, String)>,
}

impl Report {
    /// An empty report for `workload` against `connect`.
    pub fn new(workload: &str, connect: &str) -> Report {
        Report { workload: workload.into(), connect: connect.into(), ..Report::default() }
    }

    /// Adds a parameter.
    pub fn param(&mut self, name: &str, value: impl ToString) -> &mut Self {
        self.params.push((name.into(), value.to_string()));
        self
    }

    /// Adds a counter.
    pub fn counter(&mut self, name: &str, value: u64) -> &mut Self {
        self.counters.push((name.into(), value));
        self
    }

    /// Adds a metric.
    pub fn metric(&mut self, name: &str, value: f64, unit: &str) -> &mut Self {
        self.metrics.push((name.into(), value, unit.into()));
        self
    }

    /// Adds a latency histogram.
    pub fn latency(&mut self, name: &str, latency: Latency) -> &mut Self {
        self.latencies.push((name.into(), latency));
        self
    }

    /// Operations per second over the measured phase.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ops as f64 / secs
        } else {
            0.0
        }
    }

    /// The human-readable table.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let params: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "{} @ {}  ({})", self.workload, self.connect, params.join(" "));
        let _ = writeln!(
            out,
            "ops {}   errors {}   elapsed {:.2} s   throughput {:.1} ops/s",
            self.ops,
            self.errors,
            self.elapsed.as_secs_f64(),
            self.throughput()
        );
        if !self.latencies.is_empty() {
            let _ = writeln!(
                out,
                "{:<16} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                "latency (ms)", "count", "mean", "p50", "p99", "p99.9", "max"
            );
            for (name, lat) in &self.latencies {
                let s = lat.summary();
                let _ = writeln!(
                    out,
                    "{:<16} {:>10} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
                    name, s.count, s.mean_ms, s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms
                );
            }
        }
        for (name, value) in &self.counters {
            let _ = writeln!(out, "{name:<28} {value:>14}");
        }
        for (name, value, unit) in &self.metrics {
            let _ = writeln!(out, "{name:<28} {value:>14.3} {unit}");
        }
        out
    }

    /// The JSON form: one object; latencies in ms under `latency.<name>`.
    pub fn to_json(&self) -> Value {
        let params: Map<String, Value> = self.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let counters: Map<String, Value> = self.counters.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let metrics: Map<String, Value> = self.metrics.iter().map(|(k, v, _)| (k.clone(), json!(v))).collect();
        let units: Map<String, Value> = self.metrics.iter().map(|(k, _, u)| (k.clone(), json!(u))).collect();
        let latency: Map<String, Value> = self
            .latencies
            .iter()
            .map(|(name, lat)| {
                let s = lat.summary();
                let value = json!({
                    "count": s.count, "mean_ms": s.mean_ms, "p50_ms": s.p50_ms,
                    "p99_ms": s.p99_ms, "p999_ms": s.p999_ms, "max_ms": s.max_ms,
                });
                (name.clone(), value)
            })
            .collect();
        json!({
            "workload": self.workload,
            "connect": self.connect,
            "params": params,
            "ops": self.ops,
            "errors": self.errors,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "throughput_ops_s": self.throughput(),
            "latency": latency,
            "counters": counters,
            "metrics": metrics,
            "units": units,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut lat = Latency::new();
        lat.record(Duration::from_millis(2));
        let mut r = Report::new("w1-mixed", "127.0.0.1:2181");
        r.ops = 500;
        r.errors = 1;
        r.elapsed = Duration::from_secs(2);
        r.param("clients", 10).counter("get", 400).metric("fanout", 1.5, "ms").latency("all", lat);
        r
    }

    #[test]
    fn table_has_every_part() {
        let table = sample().to_table();
        assert!(table.starts_with("w1-mixed @ 127.0.0.1:2181  (clients=10)\n"), "{table}");
        assert!(table.contains("ops 500   errors 1   elapsed 2.00 s   throughput 250.0 ops/s"), "{table}");
        assert!(table.contains("latency (ms)"), "{table}");
        assert!(table.lines().any(|l| l.starts_with("all ") && l.contains("2.000")), "{table}");
        assert!(table.lines().any(|l| l.starts_with("get ") && l.ends_with(" 400")), "{table}");
        assert!(table.lines().any(|l| l.starts_with("fanout ") && l.ends_with("1.500 ms")), "{table}");
    }

    #[test]
    fn json_round_trips_the_numbers() {
        let v = sample().to_json();
        assert_eq!(v["workload"], "w1-mixed");
        assert_eq!(v["ops"], 500);
        assert_eq!(v["errors"], 1);
        assert_eq!(v["throughput_ops_s"], 250.0);
        assert_eq!(v["params"]["clients"], "10");
        assert_eq!(v["counters"]["get"], 400);
        assert_eq!(v["metrics"]["fanout"], 1.5);
        assert_eq!(v["units"]["fanout"], "ms");
        assert_eq!(v["latency"]["all"]["count"], 1);
        assert_eq!(v["latency"]["all"]["p50_ms"], 2.0);
    }

    #[test]
    fn zero_elapsed_has_zero_throughput() {
        assert_eq!(Report::new("w", "c").throughput(), 0.0);
    }
}
