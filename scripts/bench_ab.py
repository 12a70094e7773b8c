#!/usr/bin/env python3
"""A/B runs of zk-server builds (or Apache) on one zk-bench workload, to measure one change alone.

Each run starts a fresh server (fresh dataDir, the side-by-side benchmark's zoo.cfg plus any `--set`
overrides), runs the workload once, and prints throughput, p50/p99/p99.9 latency and the server's CPU
time per op (utime + stime from /proc). Builds alternate run by run, `--rounds` times, so drift in the
machine hits every build alike. A build is a zk-server binary, or `apache` (warmed up by one unmeasured
run first: a fresh JVM costs twice the CPU per op).

    python3 scripts/bench_ab.py --bench "$CARGO_TARGET_DIR/release/zk-bench" --rounds 2 \\
        old/zk-server new/zk-server -- w2 --clients 16 --duration 6
    python3 scripts/bench_ab.py --bench ... --set forceSync=no new/zk-server apache -- w2 --clients 64
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile

import bench_side_by_side as side_by_side
from bench_cpu_per_op import cpu_seconds


def run_once(build, bench, workload, port, overrides):
    base = tempfile.mkdtemp(prefix="bench-ab-")
    kind = "apache" if build == "apache" else "zk-server"
    server = side_by_side.Server(kind, port, base, build)
    try:
        if overrides:
            with open(server.cfg) as f:
                lines = [line for line in f.read().splitlines() if line.split("=", 1)[0] not in overrides]
            with open(server.cfg, "w") as f:
                f.write("\n".join(lines + [f"{k}={v}" for k, v in overrides.items()]) + "\n")
        server.start()
        command = [bench, "--connect", f"127.0.0.1:{port}", *workload, "--json", "--no-progress"]
        if kind == "apache":
            subprocess.run(command, capture_output=True, check=True)
        before = cpu_seconds(server.proc.pid)
        report = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        cpu = cpu_seconds(server.proc.pid) - before
    finally:
        if server.proc:
            server.proc.terminate()
            server.proc.wait()
        shutil.rmtree(base, ignore_errors=True)
    latency = report["latency"]["all"]
    ops = report["throughput_ops_s"] * report["elapsed_s"]
    return (report["throughput_ops_s"], latency["p50_ms"], latency["p99_ms"], latency["p999_ms"], 1e6 * cpu / ops)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True, help="the zk-bench binary")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=21850)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="zoo.cfg override")
    parser.add_argument("builds", nargs="+", help="zk-server binaries, or `apache`; then `--` and the workload")
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.error("give the zk-bench workload after `--`")
    split = argv.index("--")
    args, workload = parser.parse_args(argv[:split]), argv[split + 1:]
    overrides = dict(item.split("=", 1) for item in args.set)
    print(f"`zk-bench {' '.join(workload)}`" + (f", zoo.cfg with {', '.join(args.set)}" if args.set else "") + "\n")
    print("| round | build | ops/s | p50 (ms) | p99 (ms) | p99.9 (ms) | server CPU (µs/op) |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for round_no in range(1, args.rounds + 1):
        for build in args.builds:
            rate, p50, p99, p999, cpu = run_once(build, args.bench, workload, args.port, overrides)
            print(f"| {round_no} | {build} | {rate:.0f} | {p50:.3f} | {p99:.3f} | {p999:.3f} | {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    main()
