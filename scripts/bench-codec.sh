#!/usr/bin/env bash
# Codec benchmark, side by side: zk-proto (criterion) and Apache ZooKeeper's jute classes (JuteBench.java)
# encode and decode the same records on this machine. Prints a markdown table with the ratio.
# Needs a JDK and Debian's zookeeper package (scripts/install-apache-zk.sh installs it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo bench -p zk-proto --bench codec -- --warm-up-time 2 --measurement-time 5 >/dev/null
java_out="$(zk-proto/benches/java/run.sh)"
python3 - "$target" "$java_out" <<'PY'
import json, sys
target, java_out = sys.argv[1], sys.argv[2]
java = {}
for line in java_out.splitlines():
    name, ns, _ = line.split()
    java[name] = float(ns)
print("| record / op | zk-proto (ns) | Apache ZooKeeper jute (ns) | speed-up |")
print("|---|---:|---:|---:|")
for name, jns in java.items():
    group, op = name.split("/")
    with open(f"{target}/criterion/{group}/{op}/new/estimates.json") as f:
        rns = json.load(f)["median"]["point_estimate"]
    print(f"| {group} {op} | {rns:.0f} | {jns:.0f} | {jns / rns:.1f}x |")
PY
