#!/usr/bin/env python3
"""kazoo against a ZooKeeper server: usage `kazoo_smoke.py HOST:PORT [ROOT]`.

Runs create/get/set/delete with version checks, DataWatch and ChildrenWatch event sequences, a Lock
contended by two sessions, a transaction, ephemeral and sequential nodes, ACLs with digest auth,
ephemerals going with their session, and kazoo's recipes (Counter, Queue, LockingQueue, Barrier,
Semaphore, Election, Party, SetPartitioner) plus the `ruok`/`envi` four-letter words. Every step asserts its result; the script prints `OK <step>` per step
and `ALL OK` at the end, and exits non-zero (with a traceback) on the first failure.
"""
import sys
import threading
import time
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, NodeExistsError, NoNodeError, NotEmptyError,
                              NoAuthError)
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE

HOSTS = sys.argv[1]
ROOT = sys.argv[2] if len(sys.argv) > 2 else "/kazoo-" + uuid.uuid4().hex[:8]
TIMEOUT = 20.0


def step(name):
    print("OK", name, flush=True)


def wait_for(predicate, what, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def client(**kwargs):
    zk = KazooClient(hosts=HOSTS, timeout=10.0, **kwargs)
    zk.start(timeout=TIMEOUT)
    return zk


def crud(zk):
    zk.create(ROOT, b"root")
    try:
        zk.create(ROOT, b"again")
        raise AssertionError("second create succeeded")
    except NodeExistsError:
        pass
    data, stat = zk.get(ROOT)
    assert data == b"root" and stat.version == 0, (data, stat)
    stat = zk.set(ROOT, b"v1", version=0)
    assert stat.version == 1 and stat.dataLength == 2, stat
    try:
        zk.set(ROOT, b"stale", version=0)
        raise AssertionError("set with a stale version succeeded")
    except BadVersionError:
        pass
    assert zk.get(ROOT)[0] == b"v1"
    path = zk.create(ROOT + "/a/b/c", b"deep", makepath=True)
    assert path == ROOT + "/a/b/c"
    assert zk.exists(ROOT + "/a/b").numChildren == 1
    try:
        zk.delete(ROOT + "/a")
        raise AssertionError("deleted a node with children")
    except NotEmptyError:
        pass
    zk.delete(ROOT + "/a", recursive=True)
    assert zk.exists(ROOT + "/a") is None
    try:
        zk.get(ROOT + "/missing")
        raise AssertionError("get of a missing node succeeded")
    except NoNodeError:
        pass
    seq = [zk.create(ROOT + "/seq-", b"", sequence=True) for _ in range(3)]
    # The suffix is the parent's cversion: 10 digits, consecutive.
    first = int(seq[0][-10:])
    assert seq == [ROOT + "/seq-%010d" % (first + i) for i in range(3)], seq
    assert sorted(zk.get_children(ROOT)) == [p[len(ROOT) + 1:] for p in seq]
    for p in seq:
        zk.delete(p)
    step("crud")


def data_watch(zk):
    path = ROOT + "/dw"
    events = []
    seen = threading.Event()

    @zk.DataWatch(path)
    def watcher(data, stat, event):
        events.append((data, stat.version if stat else None, event.type if event else None))
        seen.set()

    wait_for(lambda: len(events) == 1, "the initial DataWatch call")
    zk.create(path, b"one")
    wait_for(lambda: len(events) == 2, "DataWatch CREATED")
    zk.set(path, b"two")
    wait_for(lambda: len(events) == 3, "DataWatch CHANGED")
    zk.delete(path)
    wait_for(lambda: len(events) == 4, "DataWatch DELETED")
    expected = [(None, None, None), (b"one", 0, "CREATED"), (b"two", 1, "CHANGED"), (None, None, "DELETED")]
    assert events == expected, events
    step("data_watch")


def children_watch(zk):
    path = ROOT + "/cw"
    zk.create(path)
    seen = []

    @zk.ChildrenWatch(path)
    def watcher(children):
        seen.append(sorted(children))

    wait_for(lambda: len(seen) == 1, "the initial ChildrenWatch call")
    zk.create(path + "/x")
    wait_for(lambda: len(seen) == 2, "ChildrenWatch after create x")
    zk.create(path + "/y")
    wait_for(lambda: len(seen) == 3, "ChildrenWatch after create y")
    zk.delete(path + "/x")
    wait_for(lambda: len(seen) == 4, "ChildrenWatch after delete x")
    zk.set(path + "/y", b"data changes do not fire child watches")
    time.sleep(0.3)
    assert seen == [[], ["x"], ["x", "y"], ["y"]], seen
    step("children_watch")


def one_shot_watch(zk):
    path = ROOT + "/ow"
    zk.create(path, b"a")
    fired = []
    zk.get(path, watch=lambda e: fired.append((e.type, e.path)))
    zk.set(path, b"b")
    zk.set(path, b"c")
    wait_for(lambda: fired, "the one-shot watch")
    time.sleep(0.3)
    assert fired == [("CHANGED", path)], fired
    exists_fired = []
    assert zk.exists(ROOT + "/later", watch=lambda e: exists_fired.append(e.type)) is None
    zk.create(ROOT + "/later")
    wait_for(lambda: exists_fired == ["CREATED"], "the exists watch")
    step("one_shot_watch")


def lock(zk, other):
    order = []
    lock_a = zk.Lock(ROOT + "/lock", "a")
    lock_b = other.Lock(ROOT + "/lock", "b")
    assert lock_a.acquire(timeout=TIMEOUT)
    order.append("a-acquired")

    def contender():
        assert lock_b.acquire(timeout=TIMEOUT)
        order.append("b-acquired")
        lock_b.release()

    thread = threading.Thread(target=contender)
    thread.start()
    wait_for(lambda: len(lock_a.contenders()) == 2, "b queued on the lock")
    assert lock_a.contenders() == ["a", "b"], lock_a.contenders()
    time.sleep(0.2)
    assert order == ["a-acquired"], order
    order.append("a-released")
    lock_a.release()
    thread.join(TIMEOUT)
    assert order == ["a-acquired", "a-released", "b-acquired"], order
    assert zk.get_children(ROOT + "/lock") == []
    step("lock")


def transaction(zk):
    base = ROOT + "/tx"
    tx = zk.transaction()
    tx.create(base, b"t")
    tx.create(base + "/one", b"1")
    tx.set_data(base, b"t2")
    results = tx.commit()
    assert results[0] == base and results[1] == base + "/one", results
    assert zk.get(base)[0] == b"t2"
    bad = zk.transaction()
    bad.create(base + "/two", b"2")
    bad.check(base, 42)
    results = bad.commit()
    assert isinstance(results[1], BadVersionError), results
    assert zk.exists(base + "/two") is None, "a failed transaction left a node behind"
    step("transaction")


def ephemerals_and_acl(zk):
    other = client()
    other.create(ROOT + "/eph", b"mine", ephemeral=True)
    assert zk.exists(ROOT + "/eph").ephemeralOwner == other.client_id[0]
    gone = threading.Event()
    zk.exists(ROOT + "/eph", watch=lambda e: e.type == "DELETED" and gone.set())
    other.stop()
    other.close()
    assert gone.wait(TIMEOUT), "the ephemeral outlived its session"
    acl = make_digest_acl("alice", "secret", all=True)
    zk.create(ROOT + "/private", b"s3cret", acl=[acl])
    try:
        zk.get(ROOT + "/private")
        raise AssertionError("read a digest-protected node without auth")
    except NoAuthError:
        pass
    authed = client(auth_data=[("digest", "alice:secret")])
    assert authed.get(ROOT + "/private")[0] == b"s3cret"
    acls, _ = authed.get_acls(ROOT + "/private")
    assert acls[0].id.scheme == "digest" and acls[0].id.id.startswith("alice:"), acls
    authed.set_acls(ROOT + "/private", OPEN_ACL_UNSAFE)
    authed.stop()
    authed.close()
    assert zk.get(ROOT + "/private")[0] == b"s3cret"
    step("ephemerals_and_acl")


def recipes(zk):
    assert zk.command(b"ruok") == "imok"
    assert len(zk.server_version()) == 3, zk.server_version()  # parsed from `envi`
    counter = zk.Counter(ROOT + "/counter")
    counter += 5
    counter -= 2
    assert counter.value == 3, counter.value
    queue = zk.Queue(ROOT + "/queue")
    queue.put(b"a")
    queue.put(b"b", priority=10)
    queue.put(b"c", priority=1)
    assert [queue.get(), queue.get(), queue.get(), len(queue)] == [b"c", b"b", b"a", 0]
    locking = zk.LockingQueue(ROOT + "/locking-queue")
    locking.put_all([b"x", b"y"])
    assert [locking.get(1), locking.consume(), locking.get(1), locking.consume(), len(locking)] == [
        b"x", True, b"y", True, 0]
    barrier = zk.Barrier(ROOT + "/barrier")
    barrier.create()
    waited = []
    thread = threading.Thread(target=lambda: waited.append(barrier.wait(TIMEOUT)))
    thread.start()
    time.sleep(0.2)
    assert waited == []
    barrier.remove()
    thread.join(TIMEOUT)
    assert waited == [True]
    semaphore = zk.Semaphore(ROOT + "/semaphore", identifier="s1", max_leases=2)
    assert semaphore.acquire(timeout=TIMEOUT)
    assert semaphore.lease_holders() == ["s1"]
    semaphore.release()
    won = []
    election = zk.Election(ROOT + "/election", "me")
    thread = threading.Thread(target=lambda: election.run(lambda: won.append(True)))
    thread.start()
    thread.join(TIMEOUT)
    assert won == [True]
    party = zk.Party(ROOT + "/party", "p1")
    party.join()
    assert list(party) == ["p1"]
    party.leave()
    partitioner = zk.SetPartitioner(ROOT + "/partitioner", set=(1, 2, 3), time_boundary=0.2)
    deadline = time.time() + TIMEOUT
    while not partitioner.acquired:
        assert time.time() < deadline and not partitioner.failed, "the set partitioner did not settle"
        if partitioner.release:
            partitioner.release_set()
        elif partitioner.allocating:
            partitioner.wait_for_acquire(1)
    assert sorted(partitioner) == [1, 2, 3]
    partitioner.finish()
    step("recipes")


def main():
    zk = client()
    other = client()
    try:
        crud(zk)
        data_watch(zk)
        children_watch(zk)
        one_shot_watch(zk)
        lock(zk, other)
        transaction(zk)
        ephemerals_and_acl(zk)
        recipes(zk)
        zk.delete(ROOT, recursive=True)
        assert zk.exists(ROOT) is None
        step("cleanup")
    finally:
        for c in (zk, other):
            c.stop()
            c.close()
    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
