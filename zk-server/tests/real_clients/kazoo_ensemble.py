#!/usr/bin/env python3
"""kazoo against a ZooKeeper ensemble: usage `kazoo_ensemble.py HOST:PORT,HOST:PORT,...`.

One client per server: a write through one server is read (after sync) through the others; a data
watch set through one server fires for a change made through another; an ephemeral is seen everywhere
and goes everywhere with its session; a transaction through a client holding the whole host list; the
`srvr` mode of every server (exactly one leader). Prints `OK <step>` per step and `ALL OK` at the end.
"""
import socket
import sys
import threading
import time
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError

HOSTS = sys.argv[1].split(",")
ROOT = "/kz-" + uuid.uuid4().hex[:8]
TIMEOUT = 20.0


def step(name):
    print("OK", name, flush=True)


def srvr_mode(host):
    addr, port = host.rsplit(":", 1)
    with socket.create_connection((addr, int(port)), timeout=5) as s:
        s.sendall(b"srvr")
        out = b""
        while chunk := s.recv(4096):
            out += chunk
    for line in out.decode().splitlines():
        if line.startswith("Mode: "):
            return line[len("Mode: "):]
    return None


modes = [srvr_mode(h) for h in HOSTS]
assert sorted(modes) == ["follower"] * (len(HOSTS) - 1) + ["leader"], modes
step("modes")

clients = [KazooClient(hosts=h, timeout=10.0) for h in HOSTS]
for c in clients:
    c.start(timeout=TIMEOUT)
a, b, c = clients[0], clients[1], clients[2]

a.create(ROOT, b"v0")
for other in (b, c):
    other.sync(ROOT)
    assert other.get(ROOT)[0] == b"v0"
step("replicated_create")

changed = threading.Event()
c.sync(ROOT)


def on_change(event):
    if event.type == "CHANGED":
        changed.set()


data, stat = c.get(ROOT, watch=on_change)
b.set(ROOT, b"v1", version=stat.version)
assert changed.wait(TIMEOUT), "data watch through one server did not fire for a write through another"
try:
    a.set(ROOT, b"stale", version=stat.version)
    raise AssertionError("a stale version must be refused")
except BadVersionError:
    pass
step("cross_server_watch")

a.create(ROOT + "/eph", b"", ephemeral=True)
for other in (b, c):
    other.sync(ROOT)
    assert other.get_children(ROOT) == ["eph"]
a.stop()
a.close()
deadline = time.time() + TIMEOUT
while True:
    b.sync(ROOT)
    if b.get_children(ROOT) == []:
        break
    assert time.time() < deadline, "the ephemeral outlived its session"
    time.sleep(0.05)
c.sync(ROOT)
assert c.get_children(ROOT) == []
step("global_ephemerals")

everyone = KazooClient(hosts=",".join(HOSTS), timeout=10.0)
everyone.start(timeout=TIMEOUT)
t = everyone.transaction()
t.create(ROOT + "/t1", b"1")
t.set_data(ROOT, b"v2")
results = t.commit()
assert results[0] == ROOT + "/t1", results
for other in (b, c):
    other.sync(ROOT)
    assert other.get(ROOT)[0] == b"v2"
    assert other.exists(ROOT + "/t1") is not None
everyone.delete(ROOT, recursive=True)
everyone.stop()
everyone.close()
step("transaction")

for other in (b, c):
    other.stop()
    other.close()
print("ALL OK", flush=True)
