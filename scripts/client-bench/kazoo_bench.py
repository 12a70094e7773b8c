#!/usr/bin/env python3
"""kazoo side of scripts/bench-clients.sh: the same work as zk-client/examples/client_bench.rs.

Shapes, both on ONE KazooClient (one session, one connection):
  pipelined  the main thread keeps --concurrency async requests (get_async/set_async/create_async)
             outstanding, waiting on the oldest (replies come in order) and issuing a new one;
  tasks      --concurrency threads share the client, each using the sync API one request at a time.
Slot i works on <root>/n-<i % nodes>; create makes ephemeral sequential <root>/create/e- nodes.
Prints one JSON line (--json) with the keys the Rust and Java sides print.
"""
import argparse
import collections
import json
import logging
import sys
import threading
import time

from kazoo.client import KazooClient


def percentile(sorted_us, q):
    if not sorted_us:
        return 0
    return sorted_us[min(len(sorted_us) - 1, int(q * len(sorted_us)))]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("connect", nargs="?", default="127.0.0.1:2181")
    p.add_argument("--op", choices=["get", "set", "create"], default="get")
    p.add_argument("--shape", choices=["pipelined", "tasks"], default="pipelined")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--payload", type=int, default=1024)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--nodes", type=int, default=64)
    p.add_argument("--root", default="/client-bench")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    conc = max(1, a.concurrency)
    root = a.root.rstrip("/")
    paths = [f"{root}/n-{i}" for i in range(max(1, a.nodes))]
    create_path = f"{root}/create/e-"
    payload = b"x" * a.payload

    zk = KazooClient(hosts=a.connect, timeout=10.0)
    zk.start(timeout=20)

    def issue_async(slot):
        path = paths[slot % len(paths)]
        if a.op == "get":
            return zk.get_async(path)
        if a.op == "set":
            return zk.set_async(path, payload)
        return zk.create_async(create_path, payload, ephemeral=True, sequence=True)

    def issue_sync(slot):
        path = paths[slot % len(paths)]
        if a.op == "get":
            zk.get(path)
        elif a.op == "set":
            zk.set(path, payload)
        else:
            zk.create(create_path, payload, ephemeral=True, sequence=True)

    start = time.perf_counter()
    measure_from = start + a.warmup
    end = measure_from + a.duration
    lat_us = []
    counts = {"ops": 0, "errors": 0}
    first_error = []

    def record(local, started, ok, err=None):
        if started < measure_from:
            return
        if ok:
            local.append((time.perf_counter() - started) * 1e6)
        else:
            counts["errors"] += 1
            if not first_error:
                first_error.append(repr(err))

    if a.shape == "pipelined":
        window = collections.deque()
        for slot in range(conc):
            window.append((slot, time.perf_counter(), issue_async(slot)))
        while window:
            slot, started, result = window.popleft()
            try:
                result.get()
                record(lat_us, started, True)
            except Exception as err:  # noqa: BLE001 - counted and reported
                record(lat_us, started, False, err)
            if time.perf_counter() < end:
                window.append((slot, time.perf_counter(), issue_async(slot)))
    else:
        lock = threading.Lock()

        def worker(slot):
            local = []
            while True:
                started = time.perf_counter()
                if started >= end:
                    break
                try:
                    issue_sync(slot)
                    record(local, started, True)
                except Exception as err:  # noqa: BLE001
                    with lock:
                        record(local, started, False, err)
            with lock:
                lat_us.extend(local)

        threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in range(conc)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    seconds = end - measure_from
    lat_us.sort()
    ops = len(lat_us)
    out = {
        "client": "kazoo",
        "op": a.op,
        "shape": a.shape,
        "concurrency": conc,
        "payload": a.payload,
        "seconds": round(seconds, 3),
        "ops": ops,
        "errors": counts["errors"],
        "ops_per_sec": round(ops / seconds, 1),
        "p50_us": round(percentile(lat_us, 0.50)),
        "p99_us": round(percentile(lat_us, 0.99)),
        "p999_us": round(percentile(lat_us, 0.999)),
        "max_us": round(lat_us[-1]) if lat_us else 0,
    }
    if a.json:
        print(json.dumps(out, separators=(",", ":")))
    else:
        print(f"kazoo {a.op} {a.shape} x{conc}, {a.payload} B: {ops} ops in {seconds:.1f} s = "
              f"{out['ops_per_sec']:.0f} ops/s; latency p50 {out['p50_us']} us, p99 {out['p99_us']} us, "
              f"p99.9 {out['p999_us']} us, max {out['max_us']} us; {counts['errors']} errors")
    if first_error:
        print(f"first error: {first_error[0]}", file=sys.stderr)
    zk.stop()
    zk.close()


if __name__ == "__main__":
    main()
