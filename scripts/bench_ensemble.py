#!/usr/bin/env python3
"""Ensemble benchmark: a 3-node Apache ZooKeeper 3.8 ensemble and a 3-node zk-server ensemble, same
zoo.cfg, same machine, one after the other.

Started by scripts/bench-ensemble.sh (which builds the release binaries and cleans up on exit). For
each server kind in turn (never both at once: they would share the cores):

1. start 3 nodes on 127.0.0.1 (QuorumPeerMain for Apache, the zk-server binary for ours) with one
   zoo.cfg (tickTime=2000, initLimit=10, syncLimit=5, fsync on, `server.N=...;127.0.0.1:clientPort`
   lines, a dataDir with `myid` per node) and wait until `srvr` shows one leader and two followers;
2. run zk-bench over the 3-host connect string: W1 write-heavy (read ratio 0), W1 read-heavy (0.9),
   W2 synchronous create+delete with one client; check the nodes converge on one zxid and node count;
3. restart the ensemble fresh with tickTime=500 and run failover trials: W6 writers over the 3 hosts,
   SIGKILL the leader (found with `srvr`) a few seconds in, write the kill's Unix time to a mark file
   so W6 reports the time from the kill to the first successful write, then restart the killed node
   and wait for the ensemble to be whole before the next trial.

Prints markdown tables with a zk-server / Apache ratio column (rows from benchlib, like
bench_side_by_side.py) and writes the raw JSON to --results.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import APACHE_CP, COMMON_CFG, HEADER, bench, describe, latency_rows, mb, proc_status, row, session_ok, srvr_field

APACHE_HEAP = "-Xmx2g"
NODES = 3

ZOO_CFG = """tickTime={tick}
dataDir={dir}
""" + COMMON_CFG + "{servers}"

# The goals of the ensemble issue, printed next to the tables.
GOAL_THROUGHPUT_RATIO = 2.0
GOAL_FAILOVER_MS = 200.0


def quick_plan():
    return {
        "w1": [
            ["w1", "--clients", "32", "--depth", "8", "--read-ratio", "0", "--data-size", "1024", "--duration", "3"],
            ["w1", "--clients", "32", "--depth", "8", "--read-ratio", "0.9", "--data-size", "1024", "--duration", "3"],
        ],
        "w2": [["w2", "--clients", "1", "--data-size", "1024", "--duration", "3"]],
        "w6": ["w6", "--clients", "8", "--duration", "8", "--retry-ms", "10", "--session-timeout", "4000"],
        "w6_kill_after": 3.0,
        "failover_trials": 1,
    }


def full_plan():
    return {
        "w1": [
            ["w1", "--clients", "32", "--depth", "8", "--read-ratio", "0", "--data-size", "1024", "--duration", "15"],
            ["w1", "--clients", "32", "--depth", "8", "--read-ratio", "0.9", "--data-size", "1024", "--duration", "15"],
        ],
        "w2": [["w2", "--clients", "1", "--data-size", "1024", "--duration", "15"]],
        "w6": ["w6", "--clients", "8", "--duration", "10", "--retry-ms", "10", "--session-timeout", "4000"],
        "w6_kill_after": 3.0,
        "failover_trials": 3,
    }


def port_free(port):
    with socket.socket() as s:
        # As the servers bind: connections of a previous ensemble in TIME_WAIT do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Ensemble:
    """NODES server processes of one kind on loopback ports with a shared zoo.cfg (only dataDir
    differs). Node i (0-based) serves clients on base+1+i, quorum on base+11+i, election on base+21+i.
    Every started PID is appended to `pid_file` so the shell wrapper can clean up after a crash."""

    def __init__(self, kind, base_port, tick, root, bins, pid_file):
        self.kind, self.tick, self.bins, self.pid_file = kind, tick, bins, pid_file
        self.dir = os.path.join(root, f"{kind}-tick{tick}")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.client_ports = [base_port + 1 + i for i in range(NODES)]
        ports = [(base_port + 11 + i, base_port + 21 + i, self.client_ports[i]) for i in range(NODES)]
        for port in [p for triple in ports for p in triple]:
            if not port_free(port):
                raise RuntimeError(f"port {port} is in use; pass other base ports")
        servers = "".join(f"server.{i + 1}=127.0.0.1:{q}:{e};127.0.0.1:{c}\n" for i, (q, e, c) in enumerate(ports))
        self.cfgs = []
        for i in range(NODES):
            data = os.path.join(self.dir, f"n{i + 1}", "data")
            os.makedirs(data)
            with open(os.path.join(data, "myid"), "w") as f:
                f.write(f"{i + 1}\n")
            cfg = os.path.join(self.dir, f"n{i + 1}", "zoo.cfg")
            with open(cfg, "w") as f:
                f.write(ZOO_CFG.format(tick=tick, dir=data, servers=servers))
            self.cfgs.append(cfg)
        self.procs = [None] * NODES
        self.connect = ",".join(f"127.0.0.1:{p}" for p in self.client_ports)

    def command(self, i):
        if self.kind == "apache":
            return ["java", APACHE_HEAP, "-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.admin.enableServer=false",
                    "-cp", APACHE_CP, "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.cfgs[i]]
        return [self.bins["zk-server"], self.cfgs[i]]

    def start_node(self, i):
        log = open(os.path.join(os.path.dirname(self.cfgs[i]), "server.log"), "a")
        env = dict(os.environ, RUST_LOG="warn")
        # A session of its own: a Ctrl-C reaches this script, which then stops the nodes itself.
        self.procs[i] = subprocess.Popen(self.command(i), stdout=log, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        log.close()
        with open(self.pid_file, "a") as f:
            f.write(f"{self.procs[i].pid}\n")

    def start(self, timeout=120):
        """Starts every node; seconds until one leads and the others follow."""
        t0 = time.monotonic()
        for i in range(NODES):
            self.start_node(i)
        self.wait_quorum(timeout)
        return time.monotonic() - t0

    def alive(self, i):
        return self.procs[i] is not None and self.procs[i].poll() is None

    def modes(self):
        """`srvr`'s Mode of each node (None when it is down or not serving)."""
        return [srvr_field(p, "Mode", 0.5) if self.alive(i) else None for i, p in enumerate(self.client_ports)]

    def wait_quorum(self, timeout=120):
        """Waits until, among the running nodes, exactly one says `leader` and the rest `follower`
        (`srvr`), and every running node establishes a client session (zk-server's `srvr` shows the
        mode as soon as a term starts, before the node serves; Apache's only once it serves);
        returns the leader's index."""
        deadline = time.monotonic() + timeout
        while True:
            for i, p in enumerate(self.procs):
                if p is not None and p.poll() is not None:
                    log = os.path.join(os.path.dirname(self.cfgs[i]), "server.log")
                    raise RuntimeError(f"{self.kind} node {i + 1} exited with {p.returncode}; see {log}")
            modes = self.modes()
            live = [m for i, m in enumerate(modes) if self.alive(i)]
            if live.count("leader") == 1 and live.count("follower") == len(live) - 1:
                if all(session_ok(p) for i, p in enumerate(self.client_ports) if self.alive(i)):
                    return modes.index("leader")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind}: no leader with followers after {timeout} s: {modes}")
            time.sleep(0.02)

    def kill(self, i):
        """SIGKILLs node i; returns the wall-clock time right after the signal was sent."""
        self.procs[i].send_signal(signal.SIGKILL)
        killed_at = time.time()
        self.procs[i].wait()
        self.procs[i] = None
        return killed_at

    def rss(self):
        """RSS of each running node, bytes."""
        return [proc_status(p.pid).get("VmRSS", 0) if self.alive(i) else 0 for i, p in enumerate(self.procs)]

    def converged(self, timeout=15):
        """Waits until every running node reports the same Zxid and Node count; (ok, [(zxid, count)])."""
        deadline = time.monotonic() + timeout
        while True:
            seen = [(srvr_field(p, "Zxid"), srvr_field(p, "Node count"))
                    for i, p in enumerate(self.client_ports) if self.alive(i)]
            if len(set(seen)) == 1 and None not in seen[0]:
                return True, seen
            if time.monotonic() > deadline:
                return False, seen
            time.sleep(0.1)

    def stop(self):
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.terminate()
        for p in self.procs:
            if p is not None and p.poll() is None:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def failover_trial(ens, bins, plan, mark_path, log):
    """One W6 run with the leader SIGKILLed `w6_kill_after` s in; the killed node is restarted and the
    ensemble whole again before this returns."""
    if os.path.exists(mark_path):
        os.remove(mark_path)
    args = plan["w6"] + ["--mark-file", mark_path]
    cmd = [bins["zk-bench"], "--connect", ens.connect, "--json", "--no-progress"] + args
    print(f"  $ zk-bench {' '.join(args)}  (leader SIGKILLed after {plan['w6_kill_after']} s)",
          file=sys.stderr, flush=True)
    log.flush()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    with open(ens.pid_file, "a") as f:
        f.write(f"{proc.pid}\n")
    try:
        time.sleep(plan["w6_kill_after"])
        leader = ens.wait_quorum(10)
        t_kill = time.monotonic()
        killed_at = ens.kill(leader)
        tmp = mark_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{killed_at:.6f}\n")
        os.replace(tmp, mark_path)
        new_leader = ens.wait_quorum(60)
        election_s = time.monotonic() - t_kill
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError("zk-bench w6 failed; see zk-bench.log")
    report = json.loads(out)
    ens.start_node(leader)
    ens.wait_quorum(120)
    return {"w6": report, "killed_node": leader + 1, "new_leader": new_leader + 1, "election_s": election_s}


def run_kind(kind, base_port, plan, bins, root, only, pid_file, log):
    res = {"runs": {}, "facts": {}, "failover": []}
    print(f"== {kind}", file=sys.stderr, flush=True)
    if only & {"w1", "w2"}:
        ens = Ensemble(kind, base_port, 2000, root, bins, pid_file)
        try:
            res["facts"]["start_s"] = ens.start()
            for w in ["w1", "w2"]:
                if w in only:
                    res["runs"][w] = [bench(bins["zk-bench"], ens.connect, a, log) for a in plan[w]]
                    res["facts"][f"rss_after_{w}"] = ens.rss()
            ok, seen = ens.converged()
            res["facts"]["converged"], res["facts"]["zxid_and_count"] = ok, seen
        finally:
            ens.stop()
    if "failover" in only:
        ens = Ensemble(kind, base_port, 500, root, bins, pid_file)
        try:
            res["facts"]["start_tick500_s"] = ens.start()
            mark = os.path.join(ens.dir, "leader-killed-at")
            for _ in range(plan["failover_trials"]):
                res["failover"].append(failover_trial(ens, bins, plan, mark, log))
        finally:
            ens.stop()
    return res


# --- the tables -------------------------------------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else None


def failover_stats(res):
    """Per-trial lists of the failover numbers of one server kind."""
    trials = res["failover"]

    def metric(name):
        return [t["w6"]["metrics"][name] for t in trials if name in t["w6"]["metrics"]]

    return {
        "first": metric("first_success_after_mark_ms"),
        "gap": metric("gap_around_mark_ms"),
        "longest": metric("longest_gap_ms"),
        "election_ms": [t["election_s"] * 1000 for t in trials],
        "writes_per_s": [t["w6"]["throughput_ops_s"] for t in trials],
        "errors": [t["w6"]["errors"] for t in trials],
    }


def goal_line(what, value, goal, met):
    if value is None:
        return f"Goal: {what} {goal}: no result.\n"
    return f"Goal: {what} {goal}: zk-server {value} — {'met' if met else 'not met'}.\n"


def tables(a, z, only):
    out = []
    if "w1" in only and "w1" in a["runs"] and "w1" in z["runs"]:
        out.append("### W1 mixed get/set/create/delete over the 3-host connect string\n")
        for ra, rz in zip(a["runs"]["w1"], z["runs"]["w1"]):
            out.append(f"`zk-bench w1 {describe(ra)}`\n")
            out += HEADER
            out.append(row("throughput (ops/s)", ra["throughput_ops_s"], rz["throughput_ops_s"], "higher"))
            out += latency_rows("all", ra, rz, "all")
            for kind in ["get", "set"]:
                out += latency_rows(kind, ra, rz, kind)
            out.append(row("errors", ra["errors"], rz["errors"], "lower", "{:.0f}"))
            out.append("")
            ratio = rz["throughput_ops_s"] / ra["throughput_ops_s"] if ra["throughput_ops_s"] else None
            out.append(goal_line("throughput", None if ratio is None else f"{ratio:.2f}x Apache",
                                 f">= {GOAL_THROUGHPUT_RATIO:.0f}x Apache",
                                 ratio is not None and ratio >= GOAL_THROUGHPUT_RATIO))
    if "w2" in only and "w2" in a["runs"] and "w2" in z["runs"]:
        out.append("### W2 synchronous create+delete (1 client)\n")
        for ra, rz in zip(a["runs"]["w2"], z["runs"]["w2"]):
            out.append(f"`zk-bench w2 {describe(ra)}`\n")
            out += HEADER
            out.append(row("creates/s", ra["metrics"]["creates_per_s"], rz["metrics"]["creates_per_s"], "higher"))
            for kind in ["create", "delete"]:
                out += latency_rows(kind, ra, rz, kind)
            out.append(row("errors", ra["errors"], rz["errors"], "lower", "{:.0f}"))
            out.append("")
    if "failover" in only and a["failover"] and z["failover"]:
        sa, sz = failover_stats(a), failover_stats(z)
        n = len(a["failover"])
        out.append(f"### Failover: SIGKILL of the leader under W6 writers (tickTime=500, {n} trial{'s' * (n > 1)})\n")
        out.append(f"`zk-bench w6 {describe(a['failover'][0]['w6'])}`; median over trials, max in the last rows\n")
        out += HEADER
        rows = [("kill to first successful write sent after it (ms)", "first"),
                ("gap without writes spanning the kill (ms)", "gap"),
                ("longest gap of the run (ms)", "longest"),
                ("kill to both survivors serving again (ms)", "election_ms")]
        for label, key in rows:
            out.append(row(label, median(sa[key]), median(sz[key]), "lower", "{:.0f}"))
        out.append(row("writes/s over the run", median(sa["writes_per_s"]), median(sz["writes_per_s"]), "higher"))
        out.append(row("errors (median)", median(sa["errors"]), median(sz["errors"]), "lower", "{:.0f}"))
        if n > 1:
            out.append(row("kill to first successful write, max (ms)", max(sa["first"], default=None),
                           max(sz["first"], default=None), "lower", "{:.0f}"))
        out.append("")
        first = median(sz["first"])
        out.append(goal_line("failover (kill to first successful write)",
                             None if first is None else f"{first:.0f} ms", f"< {GOAL_FAILOVER_MS:.0f} ms",
                             first is not None and first < GOAL_FAILOVER_MS))
    fa, fz = a["facts"], z["facts"]
    if "converged" in fa and "converged" in fz:
        out.append("### Ensemble facts\n")
        out += HEADER
        for w in ["w1", "w2"]:
            if f"rss_after_{w}" in fa and f"rss_after_{w}" in fz:
                out.append(row(f"RSS of the 3 nodes after {w.upper()}, sum (MiB)", mb(sum(fa[f"rss_after_{w}"])),
                               mb(sum(fz[f"rss_after_{w}"])), "lower"))
        out.append(row("start to one leader + 2 followers, all serving (s)", fa["start_s"], fz["start_s"], "lower", "{:.2f}"))
        out.append("")
        out.append(f"Nodes agree on zxid and node count after W1/W2: Apache {fa['converged']} {fa['zxid_and_count'][:1]}, "
                   f"zk-server {fz['converged']} {fz['zxid_and_count'][:1]}.\n")
    return "\n".join(out) + "\n"


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="3 s runs and one failover trial")
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--only", default="w1,w2,failover", help="any of w1,w2,failover")
    p.add_argument("--failover-trials", type=int, default=None)
    p.add_argument("--results", default=None, help="directory for raw JSON and logs")
    p.add_argument("--state-dir", default=None, help="where the dataDirs go (default: a temp dir, removed after)")
    p.add_argument("--apache-base-port", type=int, default=22700)
    p.add_argument("--zk-base-port", type=int, default=22800)
    args = p.parse_args()
    only = set(args.only.split(","))
    plan = quick_plan() if args.quick else full_plan()
    if args.failover_trials is not None:
        plan["failover_trials"] = args.failover_trials
    bins = {"zk-server": os.path.join(args.bin_dir, "zk-server"), "zk-bench": os.path.join(args.bin_dir, "zk-bench")}
    results = args.results or tempfile.mkdtemp(prefix="zk-bench-ensemble-results-")
    os.makedirs(results, exist_ok=True)
    root = args.state_dir or tempfile.mkdtemp(prefix="zk-bench-ensemble-")
    data_root = os.path.join(root, "data")
    os.makedirs(data_root, exist_ok=True)
    pid_file = os.path.join(root, "pids")
    t0 = time.monotonic()
    try:
        with open(os.path.join(results, "zk-bench.log"), "w") as log:
            a = run_kind("apache", args.apache_base_port, plan, bins, data_root, only, pid_file, log)
            z = run_kind("zk-server", args.zk_base_port, plan, bins, data_root, only, pid_file, log)
    finally:
        # Keep the servers' logs next to the results.
        for dirpath, _, files in os.walk(data_root):
            for name in files:
                if name == "server.log":
                    rel = os.path.relpath(dirpath, data_root).replace(os.sep, "-")
                    shutil.copy(os.path.join(dirpath, name), os.path.join(results, f"{rel}.log"))
        shutil.rmtree(data_root, ignore_errors=True)
    mode = "quick" if args.quick else "full"
    with open(os.path.join(results, "results.json"), "w") as f:
        json.dump({"apache": a, "zk-server": z, "mode": mode}, f, indent=1)
    print(f"## Ensemble, 3 nodes ({mode}): {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, "
          f"run took {time.monotonic() - t0:.0f} s; raw results in {results}\n")
    print(tables(a, z, only))


if __name__ == "__main__":
    main()
