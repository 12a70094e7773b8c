#!/usr/bin/env bash
# Server benchmark, side by side: Apache ZooKeeper 3.8 and zk-server, each standalone on a loopback port
# with a fresh dataDir and the same zoo.cfg (fsync on, snapCount 100000, tickTime 2000, all 4lw words),
# one after the other, driven by zk-bench (workloads W1-W6), with RSS sampling, a crash-restart during W6,
# and recovery time + on-disk size after W5. Prints markdown tables with a zk-server / Apache ratio.
#   scripts/bench-side-by-side.sh [--quick] [--only w1,w2,...] [--nodes N] [--results DIR]
# --quick: small sizes and short runs (about 3 minutes); default: the full sizes (W5 = 1M znodes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-apache-zk.sh >&2
cargo build --release -q -p zk-server -p zk-bench --bins
target="${CARGO_TARGET_DIR:-target}"
exec python3 scripts/bench_side_by_side.py --bin-dir "$target/release" "$@"
