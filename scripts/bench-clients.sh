#!/usr/bin/env bash
# Client-library benchmark, side by side: zk-client (zk-client/examples/client_bench.rs), kazoo
# (scripts/client-bench/kazoo_bench.py) and Apache ZooKeeper's Java client
# (scripts/client-bench/JavaClientBench.java) do the same work, one after another, against ONE server
# (same znodes, same payload). Two shapes, both on one session / one connection:
#   pipelined  one caller keeps 64 requests in flight (async API / futures window);
#   tasks      64 tasks (threads for kazoo and Java) share the client, each sequential.
# Prints a markdown table: client, op, shape, ops/s, p50, p99, ratio vs kazoo and vs the Java client.
#
#   scripts/bench-clients.sh [--quick] [--server ours|apache] [--ops "get set create"]
#                            [--shapes "pipelined tasks"] [--concurrency 64] [--payload 1024]
#                            [--duration S] [--warmup S]
#
# --server ours (default): our zk-server release binary; --server apache: Apache ZooKeeper 3.8 from
# Debian's packages (scripts/install-apache-zk.sh installs it and kazoo). fsync is on for both.
# --quick: 2 s per cell after 1 s of warm-up (default: 10 s after 3 s).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
java_dir="${ZK_JAVA_DIR:-/usr/share/java}"

server=ours ops="get set create" shapes="pipelined tasks" concurrency=64 payload=1024 duration=10 warmup=3
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) duration=2 warmup=1 ;;
    --server) server="$2"; shift ;;
    --ops) ops="$2"; shift ;;
    --shapes) shapes="$2"; shift ;;
    --concurrency) concurrency="$2"; shift ;;
    --payload) payload="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
case "$server" in ours|apache) ;; *) echo "--server ours|apache" >&2; exit 2 ;; esac

# Build: the Rust client (and our server), the Java client program.
cargo build --release -q -p zk-client --example client_bench -p zk-server --bin zk-server
rust_bench="$target/release/examples/client_bench"
java_out="$target/client-bench/java"
mkdir -p "$java_out"
client_cp="$java_dir/zookeeper.jar:$java_dir/zookeeper-jute.jar:$java_dir/slf4j-api.jar:$java_dir/slf4j-nop.jar"
javac -nowarn -d "$java_out" -cp "$client_cp" scripts/client-bench/JavaClientBench.java

# One server for every client.
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-clients.XXXXXX")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# Ready when it answers `srvr` (the four-letter word both servers always enable).
ready() { python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"srvr")
print("ok" if s.recv(64).startswith(b"Zookeeper version") else "no")
PY
}
generation=0
start_server() {
  generation=$((generation + 1))
  local data="$work/data-$generation"
  if [ "$server" = ours ]; then
    RUST_LOG=warn "$target/release/zk-server" --client-port "$port" --client-address 127.0.0.1 \
      --data-dir "$data" >>"$work/server.log" 2>&1 &
  else
    printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nforceSync=yes\n' \
      "$data" "$port" >"$work/zoo.cfg"
    java -Xmx2g -Dzookeeper.admin.enableServer=false -cp "$server_cp" \
      org.apache.zookeeper.server.ZooKeeperServerMain "$work/zoo.cfg" >>"$work/server.log" 2>&1 &
  fi
  server_pid=$!
  for _ in $(seq 1 300); do
    [ "$(ready || true)" = ok ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  [ "$(ready || true)" = ok ] || { echo "server did not answer srvr" >&2; cat "$work/server.log" >&2; exit 1; }
  # The same znodes for everyone: /client-bench/n-0..63 with the payload, and /client-bench/create.
  "$rust_bench" "127.0.0.1:$port" --prepare --payload "$payload" --nodes "$concurrency"
}
server_cp="$java_dir/zookeeper.jar:$java_dir/zookeeper-jute.jar:$java_dir/slf4j-api.jar:$java_dir/slf4j-nop.jar"
for jar in netty-codec netty-resolver netty-common netty-buffer netty-transport netty-handler; do
  server_cp="$server_cp:$java_dir/$jar.jar"
done
if [ "$server" = ours ]; then
  server_name="zk-server (release)"
else
  server_name="Apache ZooKeeper $(dpkg -s zookeeper 2>/dev/null | sed -n 's/^Version: //p')"
fi
start_server

# Warm the server (a JVM's JIT, our allocator and caches) with each op before the first measured cell.
for op in $ops; do
  "$rust_bench" "127.0.0.1:$port" --op "$op" --shape pipelined --concurrency "$concurrency" --payload "$payload" \
    --nodes "$concurrency" --duration "$warmup" --warmup 0 --json >/dev/null
done

results="$target/client-bench/results-$server.jsonl"
: >"$results"
common=(--concurrency "$concurrency" --payload "$payload" --duration "$duration" --warmup "$warmup"
  --nodes "$concurrency" --json)
# One cell: a failed client is reported and leaves a gap in the table; the others still run.
cell() {
  "$@" | tee -a "$results" >&2 || echo "FAILED: $*" >&2
}
# Between cells: a server that died (ours does on closing a session that holds ~90k ephemerals, see
# BENCHMARKS.md) is reported and replaced by a fresh one, so the remaining cells still run.
settle() {
  sleep 1
  if kill -0 "$server_pid" 2>/dev/null; then
    for _ in $(seq 1 100); do [ "$(ready || true)" = ok ] && return; sleep 0.1; done
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "SERVER DIED; its last log lines:" >&2
    tail -3 "$work/server.log" >&2
    start_server
  fi
}
for op in $ops; do
  for shape in $shapes; do
    echo "# $op $shape x$concurrency" >&2
    cell "$rust_bench" "127.0.0.1:$port" --op "$op" --shape "$shape" "${common[@]}"
    settle
    cell python3 scripts/client-bench/kazoo_bench.py "127.0.0.1:$port" --op "$op" --shape "$shape" "${common[@]}"
    settle
    cell java -cp "$java_out:$client_cp" JavaClientBench "127.0.0.1:$port" --op "$op" --shape "$shape" "${common[@]}"
    settle
  done
done

python3 - "$results" "$server_name" "$duration" "$warmup" "$payload" "$concurrency" <<'PY'
import json, sys
path, server, duration, warmup, payload, conc = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.startswith("{")]
cell = {(r["op"], r["shape"], r["client"]): r for r in rows}
names = {"zk-client": "zk-client (Rust)", "kazoo": "kazoo (Python)", "java": "Java client"}
print(f"Server: {server}, fsync on. {payload} B payload, {conc} in flight, one session per client; "
      f"{duration} s measured after {warmup} s warm-up per cell.\n")
print("| op | shape | client | ops/s | p50 (us) | p99 (us) | vs kazoo | vs Java | errors |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
seen = []
for r in rows:
    key = (r["op"], r["shape"])
    if key not in seen:
        seen.append(key)
for op, shape in seen:
    k = cell.get((op, shape, "kazoo"))
    j = cell.get((op, shape, "java"))
    for client in ("zk-client", "kazoo", "java"):
        r = cell.get((op, shape, client))
        if r is None:
            continue
        vk = f"{r['ops_per_sec'] / k['ops_per_sec']:.1f}x" if k and k["ops_per_sec"] else "-"
        vj = f"{r['ops_per_sec'] / j['ops_per_sec']:.2f}x" if j and j["ops_per_sec"] else "-"
        print(f"| {op} | {shape} | {names[client]} | {r['ops_per_sec']:,.0f} | {r['p50_us']:,} | "
              f"{r['p99_us']:,} | {vk} | {vj} | {r['errors']} |")
PY
