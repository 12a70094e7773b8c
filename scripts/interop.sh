#!/usr/bin/env bash
# Real third-party ZooKeeper clients against a server, as a pass/fail table.
#
#   scripts/interop.sh HOST:PORT [HOST:PORT...]   run the checks against running servers
#   scripts/interop.sh --both                      build zk-server, start it and Apache ZooKeeper (Debian's
#                                                  package) on free loopback ports, run the checks on each
#
# Checks: the Java zkCli command script, the kazoo smoke script (both in zk-server/tests/real_clients/),
# the C client cli_mt (create/set/get/ls/delete), and the ruok/srvr four-letter words. A check whose
# client is missing is reported as SKIP (scripts/install-apache-zk.sh installs them all).
# Environment: ZK_SERVER_BIN (a zk-server binary; default: cargo build, honouring CARGO_TARGET_DIR),
# ZKCLI, CLI_MT. Exit status: 0 if no check failed. Needs bash and python3.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
clients="$repo/zk-server/tests/real_clients"
ZKCLI=${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}
CLI_MT=${CLI_MT:-/usr/lib/zookeeper/bin/cli_mt}
work=$(mktemp -d -t zk-interop.XXXXXX) # servers' data and every check's log; kept if a check fails
keep_work=0
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  [ $keep_work = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# four-letter word over a plain TCP connection (no nc needed).
four_letter() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(sys.argv[2].encode())
out = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    out += chunk
print(out.decode(errors="replace"))
PY
}

reachable() {
  python3 -c 'import socket,sys; h,p=sys.argv[1].rsplit(":",1); socket.create_connection((h,int(p)),timeout=5)' "$1" 2>/dev/null
}

wait_serving() { # HOST:PORT SECONDS
  for _ in $(seq 1 $(( $2 * 10 ))); do
    four_letter "$1" srvr 2>/dev/null | grep -q 'Mode: standalone' && return 0
    sleep 0.1
  done
  return 1
}

# --- checks: each prints its log to stdout and returns 0 (pass), 1 (fail) or 2 (skip) ---

check_4lw() {
  local ruok srvr
  ruok=$(four_letter "$1" ruok) || return 1
  srvr=$(four_letter "$1" srvr) || return 1
  echo "ruok: $ruok"; echo "$srvr"
  [ "$ruok" = imok ] && grep -q '^Zookeeper version: ' <<<"$srvr" && grep -q '^Mode: standalone' <<<"$srvr"
}

check_zkcli() {
  [ -x "$ZKCLI" ] || { echo "$ZKCLI not installed"; return 2; }
  timeout 300 python3 "$clients/zkcli_script.py" "$1" "$clients/zkcli_script.txt" "$ZKCLI"
}

check_kazoo() {
  python3 -c 'import kazoo' 2>/dev/null || { echo "kazoo not installed"; return 2; }
  timeout 180 python3 "$clients/kazoo_smoke.py" "$1" "/interop-kazoo-$$-$RANDOM"
}

check_cli_mt() {
  [ -x "$CLI_MT" ] || { echo "$CLI_MT not installed"; return 2; }
  local node="/interop-cmt-$$-$RANDOM" out
  # command | extended regex its output must match
  local steps=(
    "create $node|\\[$node\\]: rc = 0"
    "create $node|rc = -110"
    "set $node hello|$node: rc = 0"
    "get $node|value_len = 5"
    "ls /|	${node#/}\$"
    "delete $node|$node: rc = 0"
    "get $node|rc = -101"
  )
  for step in "${steps[@]}"; do
    local cmd=${step%%|*} want=${step#*|}
    out=$(timeout 20 "$CLI_MT" -h "$1" -c "$cmd" 2>&1)
    echo "\$ cli_mt -c '$cmd'"; echo "$out" | grep -v ZOO_
    grep -Eq -- "$want" <<<"$out" || { echo "expected /$want/"; return 1; }
  done
}

CHECKS=(4lw zkcli kazoo cli_mt)

# run_table NAME=HOST:PORT...: prints one column per server; returns 1 if anything failed.
run_table() {
  local names=() hosts=() failed=0 spec failed_logs=()
  local up=()
  for spec in "$@"; do
    names+=("${spec%%=*}"); hosts+=("${spec#*=}")
    if reachable "${spec#*=}"; then up+=(1); else up+=(0); fi
  done
  printf '%-8s' check; printf ' | %-24s' "${names[@]}"; echo
  printf '%-8s' --------; printf ' | %-24s' "${names[@]//?/-}"; echo
  for check in "${CHECKS[@]}"; do
    printf '%-8s' "$check"
    for i in "${!hosts[@]}"; do
      local log="$work/${names[$i]}-$check.log" start=$SECONDS result status=1
      if [ "${up[$i]}" = 1 ]; then
        "check_$check" "${hosts[$i]}" >"$log" 2>&1; status=$?
      else
        echo "${hosts[$i]} does not accept connections" >"$log"
      fi
      case $status in
        0) result=PASS ;;
        2) result=SKIP ;;
        *) result=FAIL; failed=1 ;;
      esac
      printf ' | %-24s' "$result ($((SECONDS - start))s)"
      [ "$result" = FAIL ] && failed_logs+=("$log")
    done
    echo
  done
  if [ $failed = 1 ]; then
    keep_work=1
    echo; echo "failure logs:"; printf '  %s\n' "${failed_logs[@]}"
  fi
  return $failed
}

start_zk_server() { # PORT DIR
  local bin=${ZK_SERVER_BIN:-}
  if [ -z "$bin" ]; then
    (cd "$repo" && cargo build -q -p zk-server --bin zk-server) >&2 || return 1
    bin="${CARGO_TARGET_DIR:-$repo/target}/debug/zk-server"
  fi
  mkdir -p "$2/data"
  printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nextendedTypesEnabled=true\n4lw.commands.whitelist=*\n' \
    "$2/data" "$1" >"$2/zoo.cfg"
  "$bin" "$2/zoo.cfg" >"$2/server.log" 2>&1 &
  pids+=($!)
}

start_apache() { # PORT DIR
  local cp=/usr/share/java/zookeeper.jar:/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar:/usr/share/java/slf4j-simple.jar
  [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null || return 1
  mkdir -p "$2"
  java -Dzookeeper.4lw.commands.whitelist='*' -Dzookeeper.admin.enableServer=false -Dzookeeper.extendedTypesEnabled=true \
    -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$1" "$2" >"$2/server.log" 2>&1 &
  pids+=($!)
}

if [ $# = 0 ]; then sed -n '2,12p' "$0"; exit 2; fi

if [ "$1" = --both ]; then
  zport=$(free_port); aport=$(free_port)
  start_zk_server "$zport" "$work/zk-server" || { echo "cannot build or start zk-server" >&2; exit 1; }
  specs=()
  wait_serving "127.0.0.1:$zport" 60 && specs+=("zk-server=127.0.0.1:$zport") \
    || { echo "zk-server did not start:"; cat "$work/zk-server/server.log"; exit 1; }
  if start_apache "$aport" "$work/apache" && wait_serving "127.0.0.1:$aport" 60; then
    specs+=("apache-zk=127.0.0.1:$aport")
  else
    echo "Apache ZooKeeper not available (scripts/install-apache-zk.sh); zk-server only" >&2
  fi
  run_table "${specs[@]}"
  exit $?
fi

specs=()
for hp in "$@"; do specs+=("$hp=$hp"); done
run_table "${specs[@]}"
