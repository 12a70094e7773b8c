#!/usr/bin/env bash
# Ensemble benchmark, side by side: a 3-node Apache ZooKeeper 3.8 ensemble (QuorumPeerMain, Debian's jars)
# and a 3-node zk-server ensemble (release binary), one after the other on 127.0.0.1, with the same zoo.cfg
# (fsync on, tickTime=2000, initLimit=10, syncLimit=5, a dataDir with myid per node), driven by zk-bench over
# the 3-host connect string: W1 write-heavy and read-heavy, W2 with one client, and failover (W6 writers while
# the leader is SIGKILLed, on fresh ensembles with tickTime=500). Prints markdown tables with a
# zk-server / Apache ratio.
#   scripts/bench-ensemble.sh [--quick] [--only w1,w2,failover] [--failover-trials N] [--results DIR]
# --quick: 3 s runs and one failover trial (about 1.5 minutes); default: 15 s runs and 3 trials.
# Every server the run starts is stopped on exit, also on Ctrl-C or a failure (by PID, see cleanup below).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-apache-zk.sh >&2
cargo build --release -q -p zk-server -p zk-bench --bins
target="${CARGO_TARGET_DIR:-target}"
state="$(mktemp -d -t zk-bench-ensemble-XXXXXX)"
helper=""

cleanup() {
  trap - EXIT INT TERM
  if [ -n "$helper" ] && kill -0 "$helper" 2>/dev/null; then
    kill -TERM "$helper" 2>/dev/null || true
    wait "$helper" 2>/dev/null || true
  fi
  # The helper stops its servers itself; if it could not (it was killed), stop the ones it recorded,
  # each only if its command line still names this run's directory (the PID was not reused).
  if [ -f "$state/pids" ]; then
    while read -r pid; do
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$state"; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$state/pids"
  fi
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 scripts/bench_ensemble.py --bin-dir "$target/release" --state-dir "$state" "$@" &
helper=$!
wait "$helper"
