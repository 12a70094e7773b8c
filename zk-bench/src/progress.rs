//! A progress bar for long runs (hidden with `--no-progress`, `--json`, or when stderr is not a
//! terminal), fed by a shared counter of completed operations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the bar measures.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// A run of fixed length.
    Duration(Duration),
    /// A run of a fixed number of operations.
    Count(u64),
}

/// A running progress bar; [`Progress::finish`] clears it.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    counter: Arc<AtomicU64>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Starts a bar for `goal` labelled `label` (drawn only if `visible`).
    pub fn start(label: &str, goal: Goal, visible: bool) -> Progress {
        let counter = Arc::new(AtomicU64::new(0));
        let (len, template) = match goal {
            Goal::Duration(d) => (d.as_millis() as u64, "{prefix} [{elapsed_precise}] {wide_bar} {msg}"),
            Goal::Count(n) => (n, "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}"),
        };
        let bar = ProgressBar::with_draw_target(
            Some(len),
            if visible { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() },
        );
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_prefix(label.to_string());
        let ticker = visible.then(|| {
            let (bar, counter) = (bar.clone(), counter.clone());
            let started = Instant::now();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let done = counter.load(Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    match goal {
                        Goal::Duration(_) => bar.set_position(started.elapsed().as_millis() as u64),
                        Goal::Count(_) => bar.set_position(done),
                    }
                    bar.set_message(format!("{done} ops, {:.0} ops/s", done as f64 / secs));
                }
            })
        });
        Progress { bar, counter, ticker }
    }

    /// The counter workloads bump per completed operation.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.counter.clone()
    }

    /// Stops and clears the bar.
    pub fn finish(self) {
        if let Some(ticker) = self.ticker {
            ticker.abort();
        }
        self.bar.finish_and_clear();
    }
}
