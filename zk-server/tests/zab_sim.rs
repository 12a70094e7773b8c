//! Deterministic simulation of Zab: 3 or 5 voters (plus an observer) running the sans-IO
//! `zab::Leader` / `zab::Learner` state machines over a seeded network, disk and clock.
//!
//! Each node has a "disk" (log entries with a durable prefix, acceptedEpoch, currentEpoch) and an
//! applied "state". Leader–learner links are FIFO (TCP) with random delays. Faults during the first
//! phase: link drops (both sides notice, in-flight data is lost), partitions (traffic across stalls
//! until healed), crashes (volatile state and the non-durable log tail are lost; connections reset or
//! go silent) and restarts. An election stand-in elects, among a quorum of live, mutually connected
//! LOOKING voters, the one with the highest (currentEpoch, lastLoggedZxid, sid), as FLE does; LOOKING
//! nodes that can reach a running leader join it. Leaders propose txns at random times; learners forward
//! writes and syncs.
//!
//! Invariants, checked after every step: at most one leader establishes each epoch; the applied states
//! of serving nodes are prefixes of one another (whole txns compared); every txn a leader committed is
//! in the state of every leader established later; epochs on disk never go backwards (and currentEpoch
//! ≤ acceptedEpoch); logs append in zxid order and TRUNC targets exist; a snapshot is taken exactly at
//! its zxid. Liveness: once faults stop, one leader is in broadcast with every node caught up.
//!
//! `ZAB_SIM_SEEDS=<n>` seeds per shape (default 350: 1050 runs), `ZAB_SIM_SEED=<s>` one seed,
//! `ZAB_SIM_TRACE=1` prints the events. A failure names its seed.

#[path = "zab_sim/cluster.rs"]
mod cluster;
#[path = "zab_sim/net.rs"]
mod net;

use cluster::{Options, Sim, Stats};

fn seeds(default: u64) -> Vec<u64> {
    if let Ok(one) = std::env::var("ZAB_SIM_SEED") {
        return vec![one.parse().expect("ZAB_SIM_SEED")];
    }
    let n: u64 = std::env::var("ZAB_SIM_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    (0..n).collect()
}

fn trace() -> bool {
    std::env::var("ZAB_SIM_TRACE").is_ok_and(|v| v == "1")
}

fn run_shape(voters: usize, observers: usize, default_seeds: u64) -> Vec<Stats> {
    let opts = Options { voters, observers, faults: true, fault_ms: 6_000 };
    seeds(default_seeds).into_iter().map(|seed| Sim::new(seed, opts, trace()).run()).collect()
}

fn assert_coverage(stats: &[Stats]) {
    if stats.len() < 50 {
        return;
    }
    let sum = |f: fn(&Stats) -> u64| stats.iter().map(f).sum::<u64>();
    eprintln!(
        "{} runs: {} commits, {} leaderships established, {} SNAP, {} TRUNC, {} syncs, settled within {} ms at most",
        stats.len(),
        sum(|s| s.commits),
        sum(|s| s.established),
        sum(|s| s.snaps),
        sum(|s| s.truncs),
        sum(|s| s.syncs_done),
        stats.iter().map(|s| s.settled_after_ms).max().unwrap_or(0)
    );
    assert!(sum(|s| s.commits) > 1000, "too few commits");
    assert!(sum(|s| s.established) > stats.len() as u64, "too few re-elections");
    assert!(sum(|s| s.snaps) > 0, "no SNAP sync happened");
    assert!(sum(|s| s.truncs) > 0, "no TRUNC sync happened");
    assert!(sum(|s| s.syncs_done) > 0, "no forwarded sync completed");
}

#[test]
fn three_voters_with_faults() {
    assert_coverage(&run_shape(3, 0, 350));
}

#[test]
fn five_voters_with_faults() {
    assert_coverage(&run_shape(5, 0, 350));
}

#[test]
fn three_voters_and_an_observer_with_faults() {
    assert_coverage(&run_shape(3, 1, 350));
}

/// Seeds that once failed, kept beyond the default range. 886 (3 voters): a follower re-synced by the
/// same leader was truncated below a proposal it had acked on its previous connection, and that old ack
/// still counted towards the commit.
const REGRESSIONS: &[(usize, usize, u64)] = &[(3, 0, 886)];

#[test]
fn regression_seeds() {
    for &(voters, observers, seed) in REGRESSIONS {
        let opts = Options { voters, observers, faults: true, fault_ms: 6_000 };
        Sim::new(seed, opts, trace()).run();
    }
}

#[test]
fn fault_free_ensemble_establishes_once_and_commits_everything() {
    for seed in seeds(50) {
        let opts = Options { voters: 5, observers: 1, faults: false, fault_ms: 0 };
        let stats = Sim::new(seed, opts, trace()).run();
        assert_eq!(stats.established, 1, "seed {seed}: one leadership without faults");
        assert!(stats.commits > 10, "seed {seed}: commits flow");
        assert!(
            stats.settled_after_ms < 1_000,
            "seed {seed}: settles within a second, took {} ms",
            stats.settled_after_ms
        );
    }
}

#[test]
fn runs_are_deterministic() {
    let opts = Options { voters: 5, observers: 1, faults: true, fault_ms: 6_000 };
    for seed in [1, 2, 3] {
        let a = Sim::new(seed, opts, false).run();
        let b = Sim::new(seed, opts, false).run();
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "seed {seed}");
    }
}
