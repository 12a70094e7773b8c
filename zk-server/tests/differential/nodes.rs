//! Node operations: every create mode, sequential numbering, delete/setData versions, exists,
//! children, sync, getEphemerals, getAllChildrenNumber, path validation, multi and multiRead.

use super::harness::Script;
use super::ops::*;
use zk_proto::MultiOp;

/// Create modes, versions and the errors of single operations.
pub fn nodes() -> Script {
    let mut s = Script::default();
    s.connect(0);
    s.call("create /n", 0, mk("/n", b"root"));
    s.call("create /n again: NodeExists", 0, mk("/n", b"x"));
    s.call("create2 /n/a", 0, create2("/n/a", b"a", open(), 0));
    s.call(
        "create with null data",
        0,
        zk_proto::Request::Create(zk_proto::CreateRequest {
            path: "/n/null".into(),
            data: None,
            acl: open(),
            flags: 0,
        }),
    );
    s.call("getData of null data", 0, get_data("/n/null", false));
    s.call("create under missing parent: NoNode", 0, mk("/n/missing/x", b""));
    s.call("getData /n", 0, get_data("/n", false));
    s.call("getData missing: NoNode", 0, get_data("/n/none", false));
    s.call("exists /n/a", 0, exists("/n/a", false));
    s.call("exists missing: NoNode", 0, exists("/n/none", false));
    s.call("setData any version", 0, set_data("/n/a", b"a1", -1));
    s.call("setData version 1", 0, set_data("/n/a", b"a2", 1));
    s.call("setData stale version: BadVersion", 0, set_data("/n/a", b"a3", 1));
    s.call("setData missing: NoNode", 0, set_data("/n/none", b"", -1));
    s.call("getData after setData", 0, get_data("/n/a", false));
    s.call("getChildren /n", 0, children("/n", false));
    s.call("getChildren2 /n", 0, children2("/n", false));
    s.call("getChildren missing: NoNode", 0, children("/n/none", false));
    s.call("getChildren2 missing: NoNode", 0, children2("/n/none", false));
    // Sequential numbering follows the parent's cversion (deletes do not reuse numbers).
    s.call("create /n/seq", 0, mk("/n/seq", b""));
    s.call("persistent sequential 1", 0, create("/n/seq/p-", b"", open(), 2));
    s.call("persistent sequential 2", 0, create2("/n/seq/p-", b"", open(), 2));
    s.call("ephemeral sequential", 0, create("/n/seq/e-", b"", open(), 3));
    s.call("delete the first sequential", 0, delete("/n/seq/p-0000000000", -1));
    s.call("sequential after a delete", 0, create("/n/seq/p-", b"", open(), 2));
    s.call("sequential with a trailing slash", 0, create("/n/seq/", b"", open(), 2));
    s.call("getChildren2 /n/seq", 0, children2("/n/seq", false));
    s.call("ephemeral", 0, create2("/n/eph", b"e", open(), 1));
    s.call("child of an ephemeral: NoChildrenForEphemerals", 0, mk("/n/eph/c", b""));
    s.call("sequential child of an ephemeral", 0, create("/n/eph/c", b"", open(), 2));
    s.call("container", 0, create_container("/n/cont", 4));
    s.call("createContainer with flags 0: BadArguments", 0, create_container("/n/cont2", 0));
    s.call("create (op 1) of a container", 0, create("/n/cont3", b"", open(), 4));
    s.call("exists container", 0, exists("/n/cont", false));
    s.call("TTL node", 0, create_ttl("/n/ttl", 5, 100_000));
    s.call("TTL sequential", 0, create_ttl("/n/ttl-", 6, 100_000));
    s.call("TTL 0: BadArguments", 0, create_ttl("/n/ttl0", 5, 0));
    s.call("TTL negative: BadArguments", 0, create_ttl("/n/ttlneg", 5, -5));
    s.call("TTL too large: BadArguments", 0, create_ttl("/n/ttlbig", 5, 0x0100_0000_0000));
    s.call("createTTL with a non-TTL mode: BadArguments", 0, create_ttl("/n/ttlp", 0, 1000));
    s.call("create (op 1) with a TTL mode", 0, create("/n/ttlc", b"", open(), 5));
    s.call("create2 with a TTL mode", 0, create2("/n/ttlc2", b"", open(), 6));
    s.call("exists TTL node", 0, exists("/n/ttl", false));
    s.call("invalid create flags 7", 0, create("/n/bad", b"", open(), 7));
    s.call("invalid create flags -1", 0, create("/n/bad", b"", open(), -1));
    s.call("delete non-empty: NotEmpty", 0, delete("/n", -1));
    s.call("delete bad version: BadVersion", 0, delete("/n/a", 7));
    s.call("delete right version", 0, delete("/n/a", 2));
    s.call("delete missing: NoNode", 0, delete("/n/a", -1));
    s.call("delete under a missing parent: NoNode", 0, delete("/n/none/x", -1));
    s.call("getChildren2 /n after delete", 0, children2("/n", false));
    s.call("getAllChildrenNumber /n", 0, all_children("/n"));
    s.call("getAllChildrenNumber /", 0, all_children("/"));
    s.call("getAllChildrenNumber missing: NoNode", 0, all_children("/n/none"));
    s.call("getEphemerals all", 0, ephemerals(""));
    s.call("getEphemerals /", 0, ephemerals("/"));
    s.call("getEphemerals prefix /n/seq", 0, ephemerals("/n/seq"));
    s.call("getEphemerals string prefix /n/e", 0, ephemerals("/n/e"));
    s.call("getEphemerals no match", 0, ephemerals("/zzz"));
    s.connect(1);
    s.call("getEphemerals of another session", 1, ephemerals(""));
    s.call("sync /n", 0, sync("/n"));
    s.call("sync missing", 0, sync("/n/none"));
    s.call("whoAmI (ip)", 0, zk_proto::Request::WhoAmI);
    s.call("getData /", 0, get_data("/", false));
    s.call("getChildren2 /", 0, children2("/", false));
    s.call("getData /zookeeper/quota", 0, get_data("/zookeeper/quota", false));
    s.call("setData version -2: BadVersion", 0, set_data("/n", b"x", -2));
    s.call("delete version -2: BadVersion", 0, delete("/n/seq", -2));
    s.call(
        "setData null data",
        0,
        zk_proto::Request::SetData(zk_proto::SetDataRequest { path: "/n".into(), data: None, version: -1 }),
    );
    s.call("getData after null setData", 0, get_data("/n", false));
    s.call("unicode names", 0, mk("/n/\u{fc}ber", "\u{65e5}\u{672c}".as_bytes()));
    s.call("unicode child", 0, create2("/n/\u{fc}ber/\u{65e5}\u{672c}\u{8a9e}", b"", open(), 2));
    s.call("getChildren of a unicode node", 0, children2("/n/\u{fc}ber", false));
    s.call("4-byte UTF-8 name", 0, mk("/n/\u{1f600}", b""));
    s.call("exists 4-byte UTF-8 name", 0, exists("/n/\u{1f600}", false));
    s.call("getChildren /zookeeper", 0, children("/zookeeper", false));
    s.call("getData /zookeeper/config", 0, get_data("/zookeeper/config", false));
    s.call("exists /zookeeper/quota", 0, exists("/zookeeper/quota", false));
    s
}

/// Path validation of every path-taking request.
pub fn paths() -> Script {
    let mut s = Script::default();
    s.connect(0);
    s.call("create /p", 0, mk("/p", b""));
    let bad = [
        "",
        "p",
        "/p/",
        "//p",
        "/p//q",
        "/p/./q",
        "/p/../q",
        "/p/.",
        "/p/..",
        "/p\u{0}q",
        "/p/\u{1}",
        "/p/\u{7f}",
        "/p/\u{fff0}",
        "/p/\u{d7ff}ok",
    ];
    for path in bad {
        s.call(format!("create {path:?}"), 0, mk(path, b""));
        s.call(format!("delete {path:?}"), 0, delete(path, -1));
        s.call(format!("setData {path:?}"), 0, set_data(path, b"", -1));
        s.call(format!("getData {path:?}"), 0, get_data(path, false));
        s.call(format!("exists {path:?}"), 0, exists(path, false));
        s.call(format!("getChildren {path:?}"), 0, children(path, false));
        s.call(format!("getACL {path:?}"), 0, get_acl(path));
        s.call(format!("setACL {path:?}"), 0, set_acl(path, open(), -1));
        s.call(format!("sync {path:?}"), 0, sync(path));
        s.call(format!("getAllChildrenNumber {path:?}"), 0, all_children(path));
        s.call(format!("addWatch {path:?}"), 0, add_watch(path, 0));
        s.call(format!("multi create {path:?}"), 0, multi(vec![m_create(path, b"", 0)]));
        s.call(format!("getChildren2 {path:?}"), 0, children2(path, false));
        s.call(format!("checkWatches {path:?}"), 0, check_watches(path, 3));
        s.call(format!("removeWatches {path:?}"), 0, remove_watches(path, 3));
        s.call(format!("getEphemerals {path:?}"), 0, ephemerals(path));
        s.call(format!("multiRead getData {path:?}"), 0, multi_read(vec![m_get(path)]));
    }
    s.call("create /", 0, mk("/", b""));
    s.call("delete /", 0, delete("/", -1));
    s.call("create /zookeeper", 0, mk("/zookeeper", b""));
    s.call("create /zookeeper/x", 0, mk("/zookeeper/x", b""));
    s.call("delete /zookeeper", 0, delete("/zookeeper", -1));
    s.call("delete /zookeeper/quota", 0, delete("/zookeeper/quota", -1));
    s.call("setData /zookeeper", 0, set_data("/zookeeper", b"x", -1));
    s.call("sequential create with a trailing-slash prefix", 0, create("/p/", b"", open(), 2));
    s.call("ephemeral sequential named only by the number", 0, create("/p/", b"", open(), 3));
    s.call("getChildren /p", 0, children("/p", false));
    s
}

/// multi and multiRead: success, failure with per-op results, check, mixed ops.
pub fn multis() -> Script {
    let mut s = Script::default();
    s.connect(0);
    s.call("create /m", 0, mk("/m", b""));
    s.call(
        "multi success",
        0,
        multi(vec![
            m_create("/m/a", b"a", 0),
            m_create2("/m/b", b"b", 0),
            m_create("/m/s-", b"", 2),
            m_set("/m", b"m", 0),
            m_check("/m", 1),
            m_delete("/m/b", 0),
            MultiOp::CreateContainer(zk_proto::CreateRequest {
                path: "/m/c".into(),
                data: None,
                acl: open(),
                flags: 4,
            }),
            MultiOp::CreateTtl(zk_proto::CreateTtlRequest {
                path: "/m/t".into(),
                data: None,
                acl: open(),
                flags: 5,
                ttl: 100_000,
            }),
            m_create("/m/e", b"", 1),
        ]),
    );
    s.call("getChildren2 /m", 0, children2("/m", false));
    s.call(
        "multi with two sequential creates in one parent",
        0,
        multi(vec![m_create("/m/q-", b"", 2), m_create2("/m/q-", b"", 3), m_create("/m/q-", b"", 2)]),
    );
    s.call(
        "multi failing in the middle",
        0,
        multi(vec![m_create("/m/x", b"", 0), m_check("/m", 99), m_set("/m", b"", -1), m_create("/m/y", b"", 0)]),
    );
    s.call("nothing of the failed multi applied", 0, exists("/m/x", false));
    s.call("multi failing on the first op", 0, multi(vec![m_delete("/m/none", -1), m_create("/m/z", b"", 0)]));
    s.call("multi failing on the last op", 0, multi(vec![m_create("/m/z", b"", 0), m_create("/m/a", b"", 0)]));
    s.call("multi NotEmpty", 0, multi(vec![m_delete("/m", -1)]));
    s.call("multi create then delete", 0, multi(vec![m_create("/m/tmp", b"", 0), m_delete("/m/tmp", 0)]));
    s.call("multi delete then create", 0, multi(vec![m_delete("/m/a", -1), m_create("/m/a", b"again", 0)]));
    s.call("multi child of an ephemeral", 0, multi(vec![m_create("/m/e/c", b"", 0)]));
    s.call("multi check on missing", 0, multi(vec![m_check("/m/none", -1)]));
    s.call("multi check any version", 0, multi(vec![m_check("/m", -1)]));
    s.call("multi bad flags", 0, multi(vec![m_create("/m/f", b"", 9)]));
    s.call("empty multi", 0, multi(vec![]));
    s.call("multi with a read op", 0, multi(vec![m_create("/m/r", b"", 0), m_get("/m")]));
    s.call("exists after a mixed multi", 0, exists("/m/r", false));
    s.call("getData /m", 0, get_data("/m", false));
    s.call(
        "multiRead",
        0,
        multi_read(vec![m_get("/m"), m_children("/m"), m_get("/m/none"), m_children("/m/none"), m_get("/m/a")]),
    );
    s.call("multiRead with a write op", 0, multi_read(vec![m_get("/m"), m_create("/m/w", b"", 0)]));
    s.call("exists after multiRead with a write", 0, exists("/m/w", false));
    s.call("empty multiRead", 0, multi_read(vec![]));
    s.call(
        "standalone check",
        0,
        zk_proto::Request::Check(zk_proto::CheckVersionRequest { path: "/m".into(), version: 1 }),
    );
    s
}
