//! Watches: one-shot data/exist/child watches and their events, persistent and persistent recursive
//! watches, checkWatches/removeWatches, and setWatches after a reconnect.

use super::harness::{Script, Step};
use super::ops::*;
use zk_proto::xid;

/// One-shot and persistent watches and their events.
pub fn watches() -> Script {
    let mut s = Script::default();
    s.connect(0); // writer
    s.connect(1); // watcher
    s.call("create /w", 0, mk("/w", b""));
    s.call("getData watch", 1, get_data("/w", true));
    s.call("exists watch on a missing node", 1, exists("/w/new", true));
    s.call("getChildren watch", 1, children("/w", true));
    s.call("exists watch on an existing node", 1, exists("/w", true));
    s.call("setData fires data watches", 0, set_data("/w", b"1", -1));
    s.events("NodeDataChanged once", 1);
    s.call("setData again: no watch left", 0, set_data("/w", b"2", -1));
    s.call("create fires exist and child watches", 0, mk("/w/new", b""));
    s.events("NodeCreated and NodeChildrenChanged", 1);
    s.call("data + child watch on /w/new", 1, get_data("/w/new", true));
    s.call("child watch on /w/new", 1, children2("/w/new", true));
    s.call("exists watch on /w/new", 1, exists("/w/new", true));
    s.call("child watch on /w", 1, children("/w", true));
    s.call("delete fires NodeDeleted and the parent's child watch", 0, delete("/w/new", -1));
    s.events("NodeDeleted (once) then NodeChildrenChanged", 1);
    s.call("watches on a node the watcher itself changes", 1, get_data("/w", true));
    s.call("own setData: notification before the reply", 1, set_data("/w", b"3", -1));
    // A multi triggers its watches in op order.
    s.call("watch /w data", 1, get_data("/w", true));
    s.call("watch /w children", 1, children("/w", true));
    s.call("watch /w/m1 creation", 1, exists("/w/m1", true));
    s.call("multi", 0, multi(vec![m_create("/w/m1", b"", 0), m_set("/w", b"4", -1), m_create("/w/m2", b"", 0)]));
    s.events("multi events in order", 1);
    s.call("watch on a node a failed multi would touch", 1, get_data("/w/m1", true));
    s.call("failed multi fires nothing", 0, multi(vec![m_set("/w/m1", b"", -1), m_check("/w", 99)]));
    s.events("no events after a failed multi", 1);
    // A multi that deletes and recreates a watched node.
    s.call("data watch on /w/m2", 1, get_data("/w/m2", true));
    s.call("child watch on /w (recreate)", 1, children("/w", true));
    s.call("multi delete and recreate /w/m2", 0, multi(vec![m_delete("/w/m2", -1), m_create("/w/m2", b"again", 0)]));
    s.call("exists watch on the recreated /w/m2", 1, exists("/w/m2", true));
    s.call("multi setData then delete /w/m2", 0, multi(vec![m_set("/w/m2", b"z", -1), m_delete("/w/m2", -1)]));
    s.events("events of delete-and-recreate multis", 1);
    // checkWatches / removeWatches.
    s.call("checkWatches data (set)", 1, check_watches("/w/m1", 2));
    s.call("checkWatches children (none): NoWatcher", 1, check_watches("/w/m1", 1));
    s.call("checkWatches any", 1, check_watches("/w/m1", 3));
    s.call("checkWatches missing path: NoWatcher", 1, check_watches("/w/none", 3));
    s.call("checkWatches of another session's watch: NoWatcher", 0, check_watches("/w/m1", 2));
    s.call("removeWatches children (none): NoWatcher", 1, remove_watches("/w/m1", 1));
    s.call("removeWatches data", 1, remove_watches("/w/m1", 2));
    s.call("checkWatches after remove: NoWatcher", 1, check_watches("/w/m1", 2));
    s.call("removed watch does not fire", 0, set_data("/w/m1", b"x", -1));
    s.events("no event for a removed watch", 1);
    s.call("child watch to remove with Any", 1, children("/w/m1", true));
    s.call("exist watch to remove with Any", 1, exists("/w/m1", true));
    s.call("removeWatches any", 1, remove_watches("/w/m1", 3));
    s.call("removeWatches any again: NoWatcher", 1, remove_watches("/w/m1", 3));
    s.call("removeWatches of an exist watch on a missing node", 1, exists("/w/ghost", true));
    s.call("removeWatches data for the exist watch", 1, remove_watches("/w/ghost", 2));
    s.call("removeWatches invalid type 9", 1, remove_watches("/w/m1", 9));
    s.call("checkWatches invalid type 0", 1, check_watches("/w/m1", 0));
    // Persistent watches.
    s.call("addWatch persistent /pw (missing)", 1, add_watch("/pw", 0));
    s.call("create /pw", 0, mk("/pw", b""));
    s.call("setData /pw", 0, set_data("/pw", b"1", -1));
    s.call("create /pw/c", 0, mk("/pw/c", b""));
    s.call("setData /pw/c (not watched)", 0, set_data("/pw/c", b"1", -1));
    s.call("delete /pw/c", 0, delete("/pw/c", -1));
    s.call("delete /pw", 0, delete("/pw", -1));
    s.call("create /pw again", 0, mk("/pw", b""));
    s.events("persistent events", 1);
    s.call("checkWatches on a persistent watch (data)", 1, check_watches("/pw", 2));
    s.call("checkWatches on a persistent watch (any)", 1, check_watches("/pw", 3));
    s.call("standard data watch on /pw too", 1, get_data("/pw", true));
    s.call("setData with both watches", 0, set_data("/pw", b"2", -1));
    s.events("one event for both watches", 1);
    s.call("addWatch recursive /rw", 1, add_watch("/rw", 1));
    s.call("create /rw", 0, mk("/rw", b""));
    s.call("create /rw/a", 0, mk("/rw/a", b""));
    s.call("create /rw/a/b", 0, mk("/rw/a/b", b""));
    s.call("setData /rw/a/b", 0, set_data("/rw/a/b", b"1", -1));
    s.call("multi under /rw", 0, multi(vec![m_delete("/rw/a/b", -1), m_create("/rw/z", b"", 0)]));
    s.call("create /rwx (sibling prefix, not watched)", 0, mk("/rwx", b""));
    s.events("recursive events", 1);
    s.call("recursive + child watch on /rw", 1, children("/rw", true));
    s.call("create /rw/y", 0, mk("/rw/y", b""));
    s.events("child watch fires alongside the recursive one", 1);
    s.connect(2);
    s.call("addWatch on / recursive", 2, add_watch("/", 1));
    s.call("persistent watch on /pw4", 1, add_watch("/pw4", 0));
    s.call("removeWatches persistent (type 4)", 1, remove_watches("/pw4", 4));
    s.call("removeWatches any on persistent", 1, remove_watches("/pw", 3));
    s.call("setData /pw after removal", 0, set_data("/pw", b"3", -1));
    s.events("nothing after removal", 1);
    s.events("the recursive watch on / saw the setData", 2);
    // Watches that are not set.
    s.call("getData watch on a missing node: NoNode", 1, get_data("/w/absent", true));
    s.call("getChildren watch on a missing node: NoNode", 1, children("/w/absent", true));
    s.call("create /w/absent: fires nothing", 0, mk("/w/absent", b""));
    s.events("no event for watches on missing nodes", 1);
    s.call("checkWatches after a getData watch on a missing node", 1, check_watches("/w/absent", 3));
    let mut watched_read = multi_read(vec![m_get("/w/absent"), m_children("/w/absent")]);
    if let zk_proto::Request::MultiRead(m) = &mut watched_read {
        for op in &mut m.ops {
            match op {
                zk_proto::MultiOp::GetData(r) => r.watch = true,
                zk_proto::MultiOp::GetChildren(r) => r.watch = true,
                _ => {}
            }
        }
    }
    s.call("multiRead with watch flags", 1, watched_read);
    s.call("setData /w/absent after a watching multiRead", 0, set_data("/w/absent", b"x", -1));
    s.call("create /w/absent/c after a watching multiRead", 0, mk("/w/absent/c", b""));
    s.events("events of multiRead watch flags", 1);
    // Pipelined requests: replies in order, notifications between them.
    s.call("watch /w for the pipeline", 1, get_data("/w", true));
    s.step(
        "pipelined writes and reads",
        Step::Pipeline {
            slot: 1,
            requests: vec![
                set_data("/w", b"p1", -1),
                get_data("/w", true),
                mk("/w/p", b""),
                children("/w", true),
                delete("/w/p", -1),
                set_data("/w", b"p2", -1),
                exists("/w", false),
                multi(vec![m_set("/w", b"p3", -1), m_check("/w/none", -1)]),
                get_data("/w", false),
            ],
        },
    );
    s.events("nothing left after the pipeline", 1);
    s.call("addWatch invalid mode 5", 1, add_watch("/pw", 5));
    s
}

/// setWatches / setWatches2 after a reconnect: changes made while away fire at once.
pub fn reconnect() -> Script {
    let mut s = Script::default();
    s.connect(0);
    s.connect(1);
    s.call("create /sw", 0, mk("/sw", b""));
    s.call("create /sw/keep", 0, mk("/sw/keep", b""));
    s.call("create /sw/gone", 0, mk("/sw/gone", b""));
    s.call("watcher reads /sw", 1, get_data("/sw", true));
    s.step("watcher disconnects", Step::Disconnect { slot: 1 });
    s.call("setData /sw while away", 0, set_data("/sw", b"x", -1));
    s.call("create /sw/new while away", 0, mk("/sw/new", b""));
    s.call("delete /sw/gone while away", 0, delete("/sw/gone", -1));
    s.step("watcher resumes its session", Step::Resume { slot: 1, bad_password: false, zxid_bump: 0 });
    s.step(
        "setWatches",
        Step::CallXid {
            slot: 1,
            xid: xid::SET_WATCHES,
            request: set_watches(
                &["/sw", "/sw/keep", "/sw/gone"],
                &["/sw/new", "/sw/never"],
                &["/sw", "/sw/keep", "/sw/nope"],
            ),
        },
    );
    s.events("nothing more", 1);
    s.call("registered watches still work", 0, set_data("/sw/keep", b"k", -1));
    s.call("creation watch still works", 0, mk("/sw/never", b""));
    s.events("events of re-registered watches", 1);
    s.step("disconnect again", Step::Disconnect { slot: 1 });
    s.call("setData /sw/keep while away", 0, set_data("/sw/keep", b"k2", -1));
    s.call("create /sw/p while away", 0, mk("/sw/p", b""));
    s.step("resume again", Step::Resume { slot: 1, bad_password: false, zxid_bump: 0 });
    s.step(
        "setWatches2 with persistent watches",
        Step::CallXid { slot: 1, xid: xid::SET_WATCHES, request: set_watches2(&[], &["/sw/keep", "/sw/p"], &["/sw"]) },
    );
    s.call("persistent watch re-registered", 0, set_data("/sw/keep", b"k3", -1));
    s.call("recursive watch re-registered", 0, mk("/sw/keep/deep", b""));
    s.events("events of persistent watches", 1);
    s.call("checkWatches persistent re-registered", 1, check_watches("/sw/keep", 3));
    // The Java client's reconnect: connect, auth and setWatches pipelined before the connect response.
    s.step("disconnect before a primed reconnect", Step::Disconnect { slot: 1 });
    s.call("setData /sw/keep while away (3)", 0, set_data("/sw/keep", b"k4", -1));
    s.call("create /sw/primed while away", 0, mk("/sw/primed", b""));
    s.step(
        "primed reconnect",
        Step::Primed {
            slot: 1,
            resume: true,
            auth: vec![("digest".into(), "dave:pw".into())],
            set_watches: Some(set_watches(&["/sw/keep"], &["/sw/primed", "/sw/later"], &[])),
        },
    );
    s.call("whoAmI after a primed reconnect", 1, zk_proto::Request::WhoAmI);
    s.call("create /sw/later", 0, mk("/sw/later", b""));
    s.events("events after a primed reconnect", 1);
    s.step(
        "primed new session with a failing auth",
        Step::Primed { slot: 6, resume: false, auth: vec![("bogus".into(), "x".into())], set_watches: None },
    );
    s.closed("primed failing auth closes", 6);
    // Bad reconnects.
    s.step("resume with a wrong password", Step::Resume { slot: 1, bad_password: true, zxid_bump: 0 });
    s.closed("wrong password closes", 1);
    s.step("resume with a zxid from the future", Step::Resume { slot: 1, bad_password: false, zxid_bump: 1 << 40 });
    s.closed("future zxid closes", 1);
    s.step("resume properly", Step::Resume { slot: 1, bad_password: false, zxid_bump: 0 });
    s.call("session still works", 1, exists("/sw", false));
    s.step(
        "unknown session id",
        Step::ConnectWith {
            slot: 2,
            options: zk_testkit::ConnectOptions { session_id: 0x0123_4567_89ab_cdef, ..Default::default() },
        },
    );
    s.closed("unknown session closes", 2);
    s.step(
        "handshake without the read-only byte",
        Step::ConnectWith { slot: 3, options: zk_testkit::ConnectOptions { read_only: None, ..Default::default() } },
    );
    s.call("old client works", 3, exists("/sw", false));
    s.step(
        "tiny session timeout is raised to the minimum",
        Step::ConnectWith { slot: 4, options: zk_testkit::ConnectOptions { timeout_ms: 1, ..Default::default() } },
    );
    s.step(
        "huge session timeout is lowered to the maximum",
        Step::ConnectWith {
            slot: 5,
            options: zk_testkit::ConnectOptions { timeout_ms: 1 << 30, ..Default::default() },
        },
    );
    s
}
