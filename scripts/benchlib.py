"""What the side-by-side benchmark scripts share: Apache ZooKeeper's classpath, four-letter words,
/proc sampling, running zk-bench, and the markdown table rows with a zk-server / Apache ratio.

Imported by bench_side_by_side.py (standalone servers) and bench_ensemble.py (3-node ensembles).
"""

import json
import socket
import struct
import subprocess
import sys

APACHE_CP = ":".join(
    f"/usr/share/java/{jar}.jar"
    for jar in ["zookeeper", "zookeeper-jute", "netty-codec", "netty-resolver", "slf4j-api", "slf4j-simple"]
)


# The zoo.cfg settings every side-by-side run gives both servers: fsync on, the same snapshot cadence
# and log preallocation, no purge, no connection limit, every four-letter word.
COMMON_CFG = """initLimit=10
syncLimit=5
maxClientCnxns=0
snapCount=100000
preAllocSize=65536
forceSync=yes
autopurge.purgeInterval=0
4lw.commands.whitelist=*
admin.enableServer=false
"""


def four_letter(port, word, timeout=2.0):
    """Sends a four-letter word to 127.0.0.1:port; the answer, or "" when the server does not answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return ""


def srvr_field(port, name, timeout=2.0):
    """One `Name: value` line of `srvr` (e.g. "Mode", "Zxid"), or None."""
    for line in four_letter(port, "srvr", timeout).splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    return None


def session_ok(port, timeout=1.0):
    """Whether 127.0.0.1:port establishes a new session (a ZooKeeper ConnectRequest answered with a
    positive timeout), i.e. the server is serving clients, not only answering four-letter words.
    The session is closed again (closeSession) before returning."""

    def read_frame(s):
        head = b""
        while len(head) < 4:
            chunk = s.recv(4 - len(head))
            if not chunk:
                return None
            head += chunk
        (length,) = struct.unpack(">i", head)
        if not 0 <= length <= 1 << 20:
            return None
        body = b""
        while len(body) < length:
            chunk = s.recv(length - len(body))
            if not chunk:
                return None
            body += chunk
        return body

    # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd (16 zero bytes), readOnly.
    connect = struct.pack(">iqiqi16s?", 0, 0, 4000, 0, 16, b"\0" * 16, False)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(struct.pack(">i", len(connect)) + connect)
            reply = read_frame(s)
            if reply is None or len(reply) < 8:
                return False
            _, negotiated = struct.unpack(">ii", reply[:8])
            if negotiated <= 0:
                return False
            close = struct.pack(">ii", 1, -11)  # RequestHeader(xid 1, closeSession)
            s.sendall(struct.pack(">i", len(close)) + close)
            read_frame(s)
            return True
    except OSError:
        return False


def node_count(port):
    count = srvr_field(port, "Node count")
    return int(count) if count is not None else None


def proc_status(pid):
    """VmRSS and VmHWM of a process in bytes (empty when it is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":")
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def bench(bench_bin, connect, args, log):
    """Runs `zk-bench --connect CONNECT --json ARGS` to completion; its JSON report."""
    cmd = [bench_bin, "--connect", connect, "--json", "--no-progress"] + args
    print(f"  $ zk-bench {' '.join(args)}", file=sys.stderr, flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True)
    log.write(out.stderr)
    if out.returncode != 0:
        raise RuntimeError(f"zk-bench {' '.join(args)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


# --- the tables -------------------------------------------------------------------------------

def mb(b):
    return b / (1024 * 1024)


def row(name, a, z, better, fmt="{:.1f}"):
    """One table row: Apache's value, zk-server's, the ratio and which is better (±5% is a tie)."""
    if a is None or z is None:
        return f"| {name} | {a} | {z} | | |"
    if not a:
        return f"| {name} | {fmt.format(a)} | {fmt.format(z)} | — | {'tie' if a == z else ''} |"
    ratio = z / a
    verdict = ""
    if a and z:
        good = ratio > 1 if better == "higher" else ratio < 1
        verdict = "zk-server" if good else "Apache"
        if abs(ratio - 1) < 0.05:
            verdict = "tie (±5%)"
    return f"| {name} | {fmt.format(a)} | {fmt.format(z)} | {ratio:.2f}x ({better} is better) | {verdict} |"


def latency_rows(label, ra, rz, hist):
    """p50/p99/p99.9 rows of latency histogram `hist` of two zk-bench reports."""
    out = []
    la, lz = ra["latency"].get(hist), rz["latency"].get(hist)
    if la and lz:
        for q, key in [("p50", "p50_ms"), ("p99", "p99_ms"), ("p99.9", "p999_ms")]:
            out.append(row(f"{label} {q} (ms)", la[key], lz[key], "lower", "{:.3f}"))
    return out


HEADER = ["| metric | Apache ZooKeeper 3.8 | zk-server | zk-server / Apache | better |", "|---|---:|---:|---:|---|"]


def describe(r):
    """A zk-bench report's parameters as `k=v ...`."""
    return " ".join(f"{k}={v}" for k, v in r["params"].items())
