#!/usr/bin/env python3
"""The disk's sync cost, the way a txn log pays it: threads append `--size` bytes each to one file
(preallocated sparse, as ZooKeeper's `preAllocSize` does, or written with zeros beforehand, as zk-server
does just ahead of its data) and fdatasync it through their own descriptor, `--count` times. Prints
syncs per second and the p50/p99 of one append + sync.

    python3 scripts/bench_fsync.py --dir /path/on/the/disk --size 1100 --threads 1
    python3 scripts/bench_fsync.py --dir /path/on/the/disk --size 8192 --threads 2 --fill zeros
"""
import argparse
import os
import tempfile
import threading
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", default=".", help="a directory on the disk to measure")
    p.add_argument("--size", type=int, default=1100, help="bytes per append")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--count", type=int, default=1500, help="appends + syncs per thread")
    p.add_argument("--fill", choices=["sparse", "zeros"], default="sparse",
                   help="the preallocated space: a hole, or zeros written (and synced) before the run")
    args = p.parse_args()
    with tempfile.NamedTemporaryFile(dir=args.dir) as f:
        os.ftruncate(f.fileno(), 64 << 20)
        if args.fill == "zeros":
            needed = args.size * args.count * args.threads + (1 << 20)
            zeros = bytes(1 << 20)
            for at in range(0, min(needed, 64 << 20), len(zeros)):
                os.pwrite(f.fileno(), zeros, at)
            os.fsync(f.fileno())
        lock, offset, latencies = threading.Lock(), [0], []

        def worker():
            sync_fd = os.open(f.name, os.O_RDONLY)
            try:
                for _ in range(args.count):
                    start = time.perf_counter()
                    with lock:
                        os.pwrite(f.fileno(), b"x" * args.size, offset[0])
                        offset[0] += args.size
                    os.fdatasync(sync_fd)
                    latencies.append(time.perf_counter() - start)
            finally:
                os.close(sync_fd)

        start = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    print(f"size {args.size} B, {args.fill}, {args.threads} thread(s): {n / elapsed:.0f} syncs/s, "
          f"p50 {latencies[n // 2] * 1e3:.3f} ms, p99 {latencies[int(n * 0.99)] * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
