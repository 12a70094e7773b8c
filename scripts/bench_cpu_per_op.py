#!/usr/bin/env python3
"""CPU time per operation of each server and of the load generator, for one zk-bench workload.

Starts Apache ZooKeeper, then zk-server (never both at once), each with the side-by-side benchmark's
zoo.cfg, runs the workload against it (after `--warmup` unmeasured runs of the same) and divides the server's CPU time (utime + stime of the process,
from /proc) and zk-bench's (from its rusage) by the operations done. When both processes share the
machine's cores and keep them busy, the throughput ratio cannot exceed
(apache + zk-bench CPU per op) / (zk-server + zk-bench CPU per op).

    python3 scripts/bench_cpu_per_op.py --bin-dir "$CARGO_TARGET_DIR/release" \\
        w1 --clients 1000 --depth 1 --read-ratio 0.5 --duration 20
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import tempfile

import bench_side_by_side as side_by_side


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True, help="directory with zk-server and zk-bench")
    parser.add_argument("--port", type=int, default=21850)
    parser.add_argument("--warmup", type=int, default=1, metavar="N",
                        help="run the workload N times first, unmeasured, so that Apache's JIT has compiled its "
                             "hot paths (a fresh JVM costs much more per op); default 1")
    parser.add_argument("workload", nargs=argparse.REMAINDER, help="zk-bench workload and its options")
    args = parser.parse_args()
    bench_bin = os.path.join(args.bin_dir, "zk-bench")
    per_op = {}
    for kind in ["apache", "zk-server"]:
        base = tempfile.mkdtemp(prefix="cpu-per-op-")
        server = side_by_side.Server(kind, args.port, base, os.path.join(args.bin_dir, "zk-server"))
        try:
            server.start()
            command = [bench_bin, "--connect", f"127.0.0.1:{args.port}", *args.workload, "--json", "--no-progress"]
            for _ in range(args.warmup):
                subprocess.run(command, capture_output=True, text=True, check=True)
            server_before, client_before = cpu_seconds(server.proc.pid), children_cpu()
            run = subprocess.run(command, capture_output=True, text=True, check=True)
            server_cpu = cpu_seconds(server.proc.pid) - server_before
            client_cpu = children_cpu() - client_before
        finally:
            if server.proc:
                server.proc.terminate()
                server.proc.wait()
            shutil.rmtree(base, ignore_errors=True)
        report = json.loads(run.stdout)
        ops = report["throughput_ops_s"] * report["elapsed_s"]
        per_op[kind] = (report["throughput_ops_s"], 1e6 * server_cpu / ops, 1e6 * client_cpu / ops)
    print(f"`zk-bench {' '.join(args.workload)}` (after {args.warmup} unmeasured run(s) of the same)\n")
    print("| server | ops/s | server CPU (µs/op) | zk-bench CPU (µs/op) |")
    print("|---|---:|---:|---:|")
    for kind, (rate, server_us, client_us) in per_op.items():
        print(f"| {kind} | {rate:.0f} | {server_us:.1f} | {client_us:.1f} |")
    (a_rate, a_server, a_client), (z_rate, z_server, z_client) = per_op["apache"], per_op["zk-server"]
    print(f"\nthroughput ratio {z_rate / a_rate:.2f}x; server CPU per op {z_server / a_server:.2f}x; "
          f"ceiling with both cores busy {(a_server + a_client) / (z_server + z_client):.2f}x")


if __name__ == "__main__":
    main()
