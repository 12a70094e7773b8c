//! Values obtained from Apache ZooKeeper 3.8.0 itself.
//!
//! How they were obtained: a small Java program (`TreeOracle`, in package
//! `org.apache.zookeeper.server`) compiled against Debian's `/usr/share/java/zookeeper.jar` (3.8.0),
//! `zookeeper-jute.jar`, `slf4j-api.jar` and `slf4j-nop.jar`, run with
//! `-Dzookeeper.extendedTypesEnabled=true`. It builds `new DataTree()`, feeds the script below to
//! `DataTree.processTxn(TxnHeader(client, 1, zxid, 1700000000000 + zxid, type), txn)` and prints
//! `getTreeDigest()` after every txn, `DataNode.copyStat` and the ACL index of some nodes, and the
//! counters. The numbers below are copied from its output.

use zk_proto::{Acl, ErrorCode, OpCode, Stat};

use super::txns::*;
use crate::tree::DataTree;

/// `(client, zxid, type, body)` of the script, in order.
fn script() -> Vec<zk_proto::TxnEntry> {
    let open = Acl::open_unsafe;
    vec![
        entry(0x1000, 1, OpCode::Create, create("/a", data(b"hello"), open(), false, 1)),
        entry(0x1000, 2, OpCode::Create2, create("/a/b", None, Acl::read_unsafe(), false, 1)),
        entry(0x55, 3, OpCode::Create, create("/a/e", data(b"eph"), open(), true, 2)),
        entry(0x1000, 4, OpCode::SetData, set_data("/a", data(b"world!"), 1)),
        entry(0x1000, 5, OpCode::CreateContainer, create_container("/c", data(b""), 2)),
        entry(0x1000, 6, OpCode::CreateTtl, create_ttl("/t", data(b"ttl"), 3, 5000)),
        entry(0x1000, 7, OpCode::SetAcl, set_acl("/a/b", digest_acl(), 1)),
        entry(0x1000, 8, OpCode::Delete, delete("/a/b")),
        entry(
            0x1000,
            9,
            OpCode::Multi,
            multi(vec![
                (OpCode::Create, create("/m", data(b"multi"), open(), false, 4)),
                (OpCode::SetData, set_data("/c", data(b"c1"), 1)),
                (OpCode::Create, create("/c/x", None, digest_acl(), false, 1)),
            ]),
        ),
        entry(
            0x1000,
            10,
            OpCode::Multi,
            multi(vec![(OpCode::Error, error(-101)), (OpCode::SetData, set_data("/c", data(b"zz"), 2))]),
        ),
        entry(0x55, 11, OpCode::CloseSession, close_session(&["/a/e"])),
        entry(0x1000, 12, OpCode::SetData, set_data("/", data(b"root"), 1)),
        entry(0x1000, 13, OpCode::Delete, delete("/c/x")),
        // Replay-style anomalies: a create of an existing node, a delete of a missing one, a config write.
        entry(0x1000, 14, OpCode::Create, create("/m", data(b"again"), open(), false, 9)),
        entry(0x1000, 15, OpCode::Delete, delete("/a/nothing")),
        entry(0x1000, 16, OpCode::SetData, set_data("/zookeeper/config", data(b"cfg"), 1)),
    ]
}

/// `(err, digest)` ZooKeeper 3.8.0 reported after each txn of the script.
const AFTER_EACH: [(i32, i64); 16] = [
    (0, 6009908145),
    (0, 5431964934),
    (0, 8622496695),
    (0, 11197632886),
    (0, 15262218791),
    (0, 16514049335),
    (0, 16802738422),
    (0, 12598904631),
    (0, 20993479370),
    (-101, 20993479370),
    (0, 17654653194),
    (0, 17785815017),
    (0, 12131330074),
    (-110, 12987097275),
    (-101, 12614774370),
    (0, 12614774370),
];

fn stat(czxid: i64, mzxid: i64, version: i32, cversion: i32, data_length: i32, num_children: i32, pzxid: i64) -> Stat {
    let time = |zxid: i64| if zxid == 0 { 0 } else { T0 + zxid };
    Stat {
        czxid,
        mzxid,
        ctime: time(czxid),
        mtime: time(mzxid),
        version,
        cversion,
        aversion: 0,
        ephemeral_owner: 0,
        data_length,
        num_children,
        pzxid,
    }
}

#[test]
fn fresh_tree_digest_matches_zookeeper() {
    let tree = DataTree::new();
    assert_eq!(tree.digest(), 1371985504);
    assert_eq!(tree.node_count(), 5);
    assert_eq!(tree.approximate_data_size(), 44);
}

#[test]
fn digest_and_result_after_each_txn_match_zookeeper() {
    let mut tree = DataTree::new();
    for (entry, (err, digest)) in script().iter().zip(AFTER_EACH) {
        let outcome = tree.apply(entry);
        assert_eq!(outcome.err, ErrorCode::from_code(err), "err after zxid {}", entry.header.zxid);
        assert_eq!(tree.digest(), digest, "digest after zxid {}", entry.header.zxid);
        assert_eq!(tree.digest(), tree.recompute_digest());
    }
}

#[test]
fn final_stats_acls_and_counters_match_zookeeper() {
    let mut tree = DataTree::new();
    for entry in script() {
        tree.apply(&entry);
    }
    assert_eq!(tree.stat("/"), Some(stat(0, 12, 1, 13, 4, 5, 14)));
    assert_eq!(tree.stat("/a"), Some(stat(1, 4, 1, 4, 6, 0, 15)));
    assert_eq!(tree.stat("/c"), Some(stat(5, 9, 1, 2, 2, 0, 13)));
    assert_eq!(tree.stat("/t"), Some(stat(6, 6, 0, 0, 3, 0, 6)));
    assert_eq!(tree.stat("/m"), Some(stat(9, 9, 0, 0, 5, 0, 9)));
    assert_eq!(tree.stat("/zookeeper"), Some(Stat { cversion: -2, num_children: 2, ..Stat::default() }));
    let mut config = stat(0, 16, 1, 0, 3, 0, 0);
    config.aversion = -1;
    assert_eq!(tree.stat("/zookeeper/config"), Some(config));
    for gone in ["/a/b", "/a/e", "/c/x"] {
        assert!(!tree.exists(gone), "{gone}");
    }
    let acl_index = |path: &str| tree.get(path).map(|node| node.acl_index());
    assert_eq!(acl_index("/"), Some(-1));
    assert_eq!(acl_index("/zookeeper"), Some(-1));
    assert_eq!(acl_index("/a"), Some(2));
    assert_eq!(acl_index("/c"), Some(2));
    assert_eq!(acl_index("/zookeeper/config"), Some(1));
    let cache: Vec<(i64, Vec<Acl>)> = tree.acl_cache().entries().map(|(i, acl)| (i, acl.to_vec())).collect();
    assert_eq!(cache, [(1, Acl::read_unsafe()), (2, Acl::open_unsafe())]);
    assert_eq!(tree.node_count(), 9);
    assert_eq!(tree.get_all_children_number("/"), 7);
    // ZooKeeper's cached size (75); a full recount would count the root's data twice (79).
    assert_eq!(tree.approximate_data_size(), 75);
    assert_eq!(tree.last_processed_zxid(), 16);
    assert_eq!(tree.containers().collect::<Vec<_>>(), ["/c"]);
    assert_eq!(tree.ttl_nodes().collect::<Vec<_>>(), ["/t"]);
}
