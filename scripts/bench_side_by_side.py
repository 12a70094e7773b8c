#!/usr/bin/env python3
"""Side-by-side benchmark: Apache ZooKeeper 3.8 and zk-server, standalone, same settings, same machine.

Started by scripts/bench-side-by-side.sh (which builds the release binaries). For each server in turn
(never both at once: they would share the cores): start it on a loopback port with a fresh dataDir,
run the zk-bench workloads (--json), sample its RSS from /proc/<pid>/status, kill and restart it
during W6 (write gap across a crash) and after W5 (recovery time, on-disk size). Prints markdown
tables with a zk-server / Apache ratio column and saves the raw JSON.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import APACHE_CP, COMMON_CFG, HEADER, bench, describe, four_letter, latency_rows, mb, node_count, proc_status, row

APACHE_HEAP = "-Xmx4g"

ZOO_CFG = """tickTime=2000
dataDir={dir}
clientPort={port}
clientPortAddress=127.0.0.1
minSessionTimeout=4000
maxSessionTimeout=40000
""" + COMMON_CFG


def quick_plan():
    return {
        "w1": [
            ["w1", "--clients", "16", "--depth", "4", "--read-ratio", "0.9", "--duration", "10"],
        ],
        "w2": [["w2", "--clients", "1", "--duration", "8"]],
        "w3": [["w3", "--watchers", "1000", "--connections", "100", "--rounds", "3"]],
        "w4": [["w4", "--sessions", "1000", "--parallel", "50", "--ephemerals", "1"]],
        "w6": [["w6", "--clients", "4", "--duration", "8"]],
        "w6_kill_after": 3.0,
        "w5": [["w5", "--nodes", "20000", "--clients", "8", "--depth", "64"]],
    }


def full_plan(nodes):
    return {
        "w1": [
            ["w1", "--clients", "1", "--depth", "1", "--read-ratio", "0.9", "--duration", "30"],
            ["w1", "--clients", "100", "--depth", "4", "--read-ratio", "0.9", "--duration", "30"],
            ["w1", "--clients", "1000", "--depth", "1", "--read-ratio", "0.5", "--duration", "30"],
            ["w1", "--clients", "100", "--depth", "16", "--read-ratio", "0.9", "--duration", "30", "--rate", "5000"],
        ],
        "w2": [
            ["w2", "--clients", "1", "--duration", "30"],
            ["w2", "--clients", "16", "--duration", "30"],
            ["w2", "--clients", "64", "--duration", "30"],
        ],
        "w3": [
            ["w3", "--watchers", "1000", "--connections", "1000", "--rounds", "5"],
            ["w3", "--watchers", "100000", "--connections", "1000", "--rounds", "3"],
        ],
        "w4": [
            ["w4", "--sessions", "10000", "--parallel", "100", "--ephemerals", "1"],
            ["w4", "--sessions", "2000", "--parallel", "100", "--ephemerals", "1", "--end", "expire"],
        ],
        "w6": [["w6", "--clients", "4", "--duration", "30"]],
        "w6_kill_after": 10.0,
        "w5": [["w5", "--nodes", str(nodes), "--clients", "8", "--depth", "64"]],
    }


def dir_size(path, allocated=True):
    """Bytes under path: allocated blocks (what du reports; preallocated log tails that were never
    written are sparse) or apparent sizes."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                st = os.stat(os.path.join(root, name))
                total += st.st_blocks * 512 if allocated else st.st_size
            except OSError:
                pass
    return total


class Server:
    """One server process (Apache or zk-server) on a port with its own dataDir."""

    def __init__(self, kind, port, base, zk_server_bin):
        self.kind, self.port = kind, port
        self.dir = os.path.join(base, kind)
        os.makedirs(self.dir)
        self.cfg = os.path.join(base, f"{kind}.cfg")
        with open(self.cfg, "w") as f:
            f.write(ZOO_CFG.format(dir=self.dir, port=port))
        self.zk_server_bin = zk_server_bin
        self.proc = None
        self.peak_rss = 0
        self.last_rss = 0
        self._sampling = False

    def command(self):
        if self.kind == "apache":
            return ["java", APACHE_HEAP, "-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.admin.enableServer=false",
                    "-cp", APACHE_CP, "org.apache.zookeeper.server.ZooKeeperServerMain", self.cfg]
        return [self.zk_server_bin, self.cfg]

    def start(self, expect_nodes=None, timeout=600):
        """Starts the process; returns seconds until ruok=imok (and srvr shows expect_nodes, if given)."""
        log = open(os.path.join(os.path.dirname(self.dir), f"{self.kind}.log"), "a")
        env = dict(os.environ, RUST_LOG="warn")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env)
        self._start_sampler()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}; see {log.name}")
            # Apache answers ruok while still loading its data; srvr shows a node count only once
            # the server is serving.
            if four_letter(self.port, "ruok", 0.5) == "imok":
                count = node_count(self.port)
                if count is not None and (expect_nodes is None or count == expect_nodes):
                    return time.monotonic() - t0
            time.sleep(0.02)
        raise RuntimeError(f"{self.kind} not ready after {timeout} s")

    def _start_sampler(self):
        self._sampling = True
        proc = self.proc

        def sample():
            while self._sampling and proc.poll() is None:
                st = proc_status(proc.pid)
                if "VmRSS" in st:
                    self.last_rss = st["VmRSS"]
                    self.peak_rss = max(self.peak_rss, st["VmRSS"], st.get("VmHWM", 0))
                time.sleep(0.2)

        threading.Thread(target=sample, daemon=True).start()

    def rss(self):
        return proc_status(self.proc.pid).get("VmRSS", self.last_rss)

    def kill(self):
        self._sampling = False
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        self._sampling = False
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def settle():
    """Flushes dirty pages (and waits a little) so one server's writeback does not slow the next."""
    os.sync()
    time.sleep(2)


def run_server(kind, port, plan, bins, base, only, log):
    server = Server(kind, port, base, bins["zk-server"])
    res = {"runs": {}, "facts": {}}
    print(f"== {kind}", file=sys.stderr, flush=True)
    res["facts"]["first_start_s"] = server.start()
    try:
        for w in ["w1", "w2", "w3", "w4"]:
            if w in only:
                res["runs"][w] = [bench(bins["zk-bench"], f"127.0.0.1:{port}", a, log) for a in plan[w]]
                res["facts"][f"rss_after_{w}"] = server.rss()
        if "w6" in only:
            args = plan["w6"][0]
            cmd = [bins["zk-bench"], "--connect", f"127.0.0.1:{port}", "--json", "--no-progress"] + args
            print(f"  $ zk-bench {' '.join(args)}  (server SIGKILLed after {plan['w6_kill_after']} s, restarted)",
                  file=sys.stderr, flush=True)
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
            time.sleep(plan["w6_kill_after"])
            before = node_count(port)
            server.kill()
            res["facts"]["w6_restart_s"] = server.start(expect_nodes=before)
            out, _ = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError("zk-bench w6 failed")
            res["runs"]["w6"] = [json.loads(out)]
        if "w5" in only:
            res["runs"]["w5"] = [bench(bins["zk-bench"], f"127.0.0.1:{port}", a, log) for a in plan["w5"]]
            facts = res["facts"]
            facts["rss_after_w5"] = server.rss()
            facts["w5_node_count"] = node_count(port)
            facts["w5_disk_bytes"] = dir_size(server.dir)
            facts["w5_disk_apparent_bytes"] = dir_size(server.dir, allocated=False)
            server.kill()
            facts["w5_restart_s"] = server.start(expect_nodes=facts["w5_node_count"])
            time.sleep(1.0)
            facts["rss_after_restart"] = server.rss()
            facts["w5_disk_bytes_after_restart"] = dir_size(server.dir)
        res["facts"]["peak_rss"] = server.peak_rss
    finally:
        server.stop()
    return res


# --- the tables -------------------------------------------------------------------------------

def tables(a, z, only):
    out = []
    sections = [("w1", "W1 mixed get/set/create/delete"), ("w2", "W2 synchronous create+delete"),
                ("w3", "W3 watch fan-out"), ("w4", "W4 session storm"), ("w6", "W6 write gap across a crash-restart"),
                ("w5", "W5 large tree, recovery, memory and disk")]
    for w, title in sections:
        if w not in only or w not in a["runs"] or w not in z["runs"]:
            continue
        out.append(f"### {title}\n")
        for ra, rz in zip(a["runs"][w], z["runs"][w]):
            out.append(f"`zk-bench {w} {describe(ra)}`\n")
            out += HEADER
            if w in ("w1", "w2", "w5"):
                out.append(row("throughput (ops/s)", ra["throughput_ops_s"], rz["throughput_ops_s"], "higher"))
                out += latency_rows("all", ra, rz, "all")
            if w == "w1":
                for kind in ["get", "set"]:
                    out += latency_rows(kind, ra, rz, kind)
            if w == "w2":
                out.append(row("creates/s", ra["metrics"]["creates_per_s"], rz["metrics"]["creates_per_s"], "higher"))
                for kind in ["create", "delete"]:
                    out += latency_rows(kind, ra, rz, kind)
            if w == "w3":
                out.append(row("time to last notification, mean (ms)", ra["metrics"]["time_to_last_mean_ms"],
                               rz["metrics"]["time_to_last_mean_ms"], "lower", "{:.2f}"))
                out.append(row("time to last notification, max (ms)", ra["metrics"]["time_to_last_max_ms"],
                               rz["metrics"]["time_to_last_max_ms"], "lower", "{:.2f}"))
                out += latency_rows("notification", ra, rz, "notification")
            if w == "w4":
                out.append(row("sessions/s", ra["metrics"]["sessions_per_s"], rz["metrics"]["sessions_per_s"], "higher"))
                out += latency_rows("connect", ra, rz, "connect")
                out += latency_rows("create ephemeral", ra, rz, "create_ephemeral")
                if ra["latency"]["close"]["count"]:
                    out += latency_rows("close", ra, rz, "close")
                if "all_expired_after_s" in ra["metrics"]:
                    out.append(row("all ephemerals gone after (s)", ra["metrics"]["all_expired_after_s"],
                                   rz["metrics"]["all_expired_after_s"], "lower", "{:.2f}"))
            if w == "w6":
                out.append(row("longest gap without a successful write (ms)", ra["metrics"]["longest_gap_ms"],
                               rz["metrics"]["longest_gap_ms"], "lower", "{:.0f}"))
                out.append(row("restart to ruok+node count (s)", a["facts"]["w6_restart_s"],
                               z["facts"]["w6_restart_s"], "lower", "{:.2f}"))
                out.append(row("writes/s over the run", ra["throughput_ops_s"], rz["throughput_ops_s"], "higher"))
            out.append(row("errors", ra["errors"], rz["errors"], "lower", "{:.0f}"))
            out.append("")
        if w == "w5":
            fa, fz = a["facts"], z["facts"]
            out.append(f"Node count after W5: Apache {fa['w5_node_count']}, zk-server {fz['w5_node_count']}.\n")
            out += HEADER
            out.append(row("restart: process start to ruok=imok + full node count (s)", fa["w5_restart_s"],
                           fz["w5_restart_s"], "lower", "{:.2f}"))
            out.append(row("dataDir on disk after W5, allocated (MiB)", mb(fa["w5_disk_bytes"]), mb(fz["w5_disk_bytes"]),
                           "lower"))
            out.append(row("dataDir after W5, apparent size incl. log preallocation (MiB)",
                           mb(fa["w5_disk_apparent_bytes"]), mb(fz["w5_disk_apparent_bytes"]), "lower"))
            out.append(row("dataDir on disk after restart, allocated (MiB)", mb(fa["w5_disk_bytes_after_restart"]),
                           mb(fz["w5_disk_bytes_after_restart"]), "lower"))
            out.append(row("RSS after W5 (MiB)", mb(fa["rss_after_w5"]), mb(fz["rss_after_w5"]), "lower"))
            out.append(row("RSS after restart (MiB)", mb(fa["rss_after_restart"]), mb(fz["rss_after_restart"]), "lower"))
            out.append("")
    fa, fz = a["facts"], z["facts"]
    out.append("### Memory (RSS from /proc/<pid>/status)\n")
    out += HEADER
    for w in ["w1", "w2", "w3", "w4"]:
        if f"rss_after_{w}" in fa and f"rss_after_{w}" in fz:
            out.append(row(f"RSS after {w.upper()} (MiB)", mb(fa[f"rss_after_{w}"]), mb(fz[f"rss_after_{w}"]), "lower"))
    out.append(row("peak RSS, whole run (MiB)", mb(fa["peak_rss"]), mb(fz["peak_rss"]), "lower"))
    out.append(row("first start to ruok=imok (s)", fa["first_start_s"], fz["first_start_s"], "lower", "{:.2f}"))
    return "\n".join(out) + "\n"


def median_result(rounds, only):
    """One result made of the median of `rounds` (a server's results, one per round): for each workload
    run, the round with the median throughput (so its latencies stay those of one real run), and the
    median of each numeric fact."""
    if len(rounds) == 1:
        return rounds[0]
    merged = {"runs": {}, "facts": {}}
    for w, runs in rounds[0]["runs"].items():
        merged["runs"][w] = []
        for i in range(len(runs)):
            ordered = sorted((r["runs"][w][i] for r in rounds), key=lambda run: run["throughput_ops_s"])
            merged["runs"][w].append(ordered[len(ordered) // 2])
    for key in rounds[0]["facts"]:
        values = sorted(r["facts"][key] for r in rounds)
        merged["facts"][key] = values[len(values) // 2]
    return merged


def round_ratios(a_rounds, z_rounds):
    """Markdown: the zk-server / Apache throughput ratio of every workload run in every round."""
    out = ["### Throughput ratio per round (zk-server / Apache)\n",
           "| workload | " + " | ".join(f"round {i + 1}" for i in range(len(a_rounds))) + " | median |",
           "|---|" + "---:|" * (len(a_rounds) + 1)]
    for w, runs in a_rounds[0]["runs"].items():
        for i, first in enumerate(runs):
            ratios = [z["runs"][w][i]["throughput_ops_s"] / a["runs"][w][i]["throughput_ops_s"]
                      for a, z in zip(a_rounds, z_rounds)]
            median = sorted(ratios)[len(ratios) // 2]
            cells = " | ".join(f"{r:.2f}x" for r in ratios)
            out.append(f"| `{w} {describe(first)}` | {cells} | {median:.2f}x |")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--only", default="w1,w2,w3,w4,w6,w5")
    p.add_argument("--nodes", type=int, default=1_000_000, help="W5 size in full mode")
    p.add_argument("--rounds", type=int, default=1,
                   help="run both servers this many times, alternating which goes first; the tables show "
                        "each server's median run, plus every round's throughput ratio")
    p.add_argument("--results", default=None, help="directory for raw JSON and logs")
    p.add_argument("--apache-port", type=int, default=21810)
    p.add_argument("--zk-port", type=int, default=21820)
    args = p.parse_args()
    only = set(args.only.split(","))
    plan = quick_plan() if args.quick else full_plan(args.nodes)
    bins = {"zk-server": os.path.join(args.bin_dir, "zk-server"), "zk-bench": os.path.join(args.bin_dir, "zk-bench")}
    results = args.results or tempfile.mkdtemp(prefix="zk-bench-results-")
    os.makedirs(results, exist_ok=True)
    servers = [("apache", args.apache_port), ("zk-server", args.zk_port)]
    rounds = {"apache": [], "zk-server": []}
    t0 = time.monotonic()
    with open(os.path.join(results, "zk-bench.log"), "w") as log:
        for n in range(args.rounds):
            base = tempfile.mkdtemp(prefix="zk-bench-data-")
            try:
                # Alternate which server goes first, so a drift in the machine does not favour one.
                for kind, port in servers if n % 2 == 0 else servers[::-1]:
                    # The previous server's dataDir (gigabytes after a full W5) must not be written back
                    # while this one waits for its fsyncs.
                    settle()
                    rounds[kind].append(run_server(kind, port, plan, bins, base, only, log))
                for name in ["apache.log", "zk-server.log"]:
                    if os.path.exists(os.path.join(base, name)):
                        suffix = f".{n + 1}" if args.rounds > 1 else ""
                        shutil.copy(os.path.join(base, name), os.path.join(results, name + suffix))
            finally:
                shutil.rmtree(base, ignore_errors=True)
    mode = "quick" if args.quick else "full"
    with open(os.path.join(results, "results.json"), "w") as f:
        json.dump({"apache": rounds["apache"], "zk-server": rounds["zk-server"], "mode": mode}, f, indent=1)
    a, z = median_result(rounds["apache"], only), median_result(rounds["zk-server"], only)
    took = f"run took {time.monotonic() - t0:.0f} s"
    if args.rounds > 1:
        took += f", {args.rounds} rounds (each server's median run below)"
    print(f"## Side by side ({mode}): {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, "
          f"{took}; raw results in {results}\n")
    if args.rounds > 1:
        print(round_ratios(rounds["apache"], rounds["zk-server"]))
    print(tables(a, z, only))


if __name__ == "__main__":
    main()
