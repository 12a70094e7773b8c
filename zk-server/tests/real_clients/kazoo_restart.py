#!/usr/bin/env python3
"""kazoo across a server restart: usage `kazoo_restart.py HOST:PORT`.

Creates an ephemeral node and a DataWatch, prints `READY`, then waits for a line on stdin (the test
SIGKILLs the server and starts it again on the same port and data meanwhile). Then the session must
resume (same session id, no expiry), the ephemeral must still be there, and the watch must fire for a
change made after the restart. Prints `ALL OK` on success.
"""
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState

HOSTS = sys.argv[1]
TIMEOUT = 30.0

states = []
zk = KazooClient(hosts=HOSTS, timeout=20.0)
zk.add_listener(lambda state: states.append(state))
zk.start(timeout=TIMEOUT)
session = zk.client_id[0]
zk.create("/restart-eph", b"mine", ephemeral=True)
zk.create("/restart-watched", b"before")
seen = []
changed = threading.Event()


@zk.DataWatch("/restart-watched")
def watcher(data, stat, event):
    seen.append(data)
    if data == b"after":
        changed.set()


print("READY", flush=True)
sys.stdin.readline()

deadline = time.time() + TIMEOUT
while not (KazooState.SUSPENDED in states and zk.state == KazooState.CONNECTED):
    assert time.time() < deadline, "no reconnection: %s" % states
    time.sleep(0.05)
assert KazooState.LOST not in states, "the session was lost: %s" % states
assert zk.client_id[0] == session, "a new session %x replaced %x" % (zk.client_id[0], session)
data, stat = zk.get("/restart-eph")
assert data == b"mine" and stat.ephemeralOwner == session, (data, stat)

other = KazooClient(hosts=HOSTS, timeout=10.0)
other.start(timeout=TIMEOUT)
other.set("/restart-watched", b"after")
other.stop()
other.close()
assert changed.wait(TIMEOUT), "the watch set before the restart did not fire: %s" % seen
assert seen == [b"before", b"after"], seen
zk.delete("/restart-watched")
zk.stop()
zk.close()
print("ALL OK", flush=True)
