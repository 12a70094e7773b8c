//! Quota stats nodes follow creates, deletes and data changes below their root, as in ZooKeeper.

use bytes::Bytes;
use zk_proto::{Acl, OpCode, TxnBody};

use super::txns::*;
use crate::tree::{DataTree, DataTreeBuilder};

const STATS: &str = "/zookeeper/quota/app/zookeeper_stats";

fn stats(tree: &DataTree) -> String {
    String::from_utf8_lossy(tree.data(STATS).flatten().unwrap_or_default()).into_owned()
}

/// `/app` with one child, then the quota nodes `setquota -n 5 /app` would create.
fn with_quota() -> (DataTree, i64) {
    let mut tree = DataTree::new();
    let mut zxid = 0;
    let mut apply = |tree: &mut DataTree, body: TxnBody| {
        zxid += 1;
        tree.apply(&entry(1, zxid, OpCode::Create, body));
    };
    apply(&mut tree, create("/app", data(b"abc"), Acl::open_unsafe(), false, 1));
    apply(&mut tree, create("/app/x", data(b"12345"), Acl::open_unsafe(), false, 1));
    apply(&mut tree, create("/zookeeper/quota/app", None, Acl::open_unsafe(), false, 1));
    apply(
        &mut tree,
        create("/zookeeper/quota/app/zookeeper_limits", data(b"count=5,bytes=-1"), Acl::open_unsafe(), false, 1),
    );
    apply(&mut tree, create(STATS, data(b"count=0,bytes=0"), Acl::open_unsafe(), false, 2));
    (tree, zxid)
}

#[test]
fn creating_the_stats_node_counts_the_quota_subtree() {
    let (tree, _) = with_quota();
    assert_eq!(stats(&tree), "count=2,bytes=8");
    assert_eq!(tree.quota_roots().collect::<Vec<_>>(), ["/app"]);
}

#[test]
fn changes_below_a_quota_root_update_its_stats_in_place() {
    let (mut tree, zxid) = with_quota();
    let before = tree.stat(STATS).unwrap();
    tree.apply(&entry(1, zxid + 1, OpCode::Create, create("/app/x/y", data(b"zz"), Acl::open_unsafe(), false, 1)));
    assert_eq!(stats(&tree), "count=3,bytes=10");
    tree.apply(&entry(1, zxid + 2, OpCode::SetData, set_data("/app/x", Some(Bytes::new()), 1)));
    assert_eq!(stats(&tree), "count=3,bytes=5");
    tree.apply(&entry(1, zxid + 3, OpCode::Delete, delete("/app/x/y")));
    assert_eq!(stats(&tree), "count=2,bytes=3");
    tree.apply(&entry(1, zxid + 4, OpCode::Create, create("/apple", data(b"zz"), Acl::open_unsafe(), false, 9)));
    assert_eq!(stats(&tree), "count=2,bytes=3", "a sibling sharing the name prefix is not below /app");
    assert_eq!(tree.stat(STATS), Some(before), "stats nodes change without a stat change");
    assert_eq!(tree.digest(), tree.recompute_digest());
}

#[test]
fn deleting_the_limits_node_removes_the_quota_root() {
    let (mut tree, zxid) = with_quota();
    tree.apply(&entry(1, zxid + 1, OpCode::Delete, delete("/zookeeper/quota/app/zookeeper_limits")));
    assert_eq!(tree.quota_roots().count(), 0);
    tree.apply(&entry(1, zxid + 2, OpCode::Create, create("/app/z", None, Acl::open_unsafe(), false, 2)));
    assert_eq!(stats(&tree), "count=2,bytes=8");
}

#[test]
fn loading_a_snapshot_registers_quota_roots_and_recounts_them() {
    let (tree, _) = with_quota();
    let mut builder = DataTreeBuilder::new();
    for (index, acl) in tree.acl_cache().entries() {
        builder.acl(index, acl.to_vec());
    }
    for node in tree.snapshot_nodes() {
        let data = if node.path == STATS {
            Some(Bytes::from_static(b"count=0,bytes=0"))
        } else {
            node.data.map(Bytes::copy_from_slice)
        };
        builder.node(node.path, data, node.acl_index, node.stat.clone()).unwrap();
    }
    let loaded = builder.finish(tree.last_processed_zxid()).unwrap();
    assert_eq!(loaded.quota_roots().collect::<Vec<_>>(), ["/app"]);
    assert_eq!(stats(&loaded), "count=2,bytes=8");
}
