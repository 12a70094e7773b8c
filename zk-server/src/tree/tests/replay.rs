//! Replay determinism, fuzzy-snapshot replay, O(1) snapshots and snapshot round trips.

use bytes::Bytes;
use zk_proto::{Acl, ErrorCode, OpCode, StatPersisted, TxnEntry};

use super::txns::*;
use crate::tree::{DataTree, DataTreeBuilder, SnapshotError};

/// A snapshot as plain values: ACL section and node records.
type Image = (Vec<(i64, Vec<Acl>)>, Vec<(String, Option<Bytes>, i64, StatPersisted)>);

fn image(tree: &DataTree) -> Image {
    let acls = tree.acl_cache().entries().map(|(index, acl)| (index, acl.to_vec())).collect();
    let nodes = tree
        .snapshot_nodes()
        .map(|n| (n.path.to_owned(), n.data.map(Bytes::copy_from_slice), n.acl_index, n.stat.clone()))
        .collect();
    (acls, nodes)
}

fn rebuild(tree: &DataTree) -> DataTree {
    let (acls, nodes) = image(tree);
    let mut builder = DataTreeBuilder::new();
    for (index, acl) in acls {
        builder.acl(index, acl);
    }
    for (path, data, acl, stat) in nodes {
        builder.node(&path, data, acl, stat).expect("valid snapshot");
    }
    builder.finish(tree.last_processed_zxid()).expect("has a root")
}

fn script() -> Vec<TxnEntry> {
    let open = Acl::open_unsafe;
    vec![
        entry(1, 1, OpCode::Create, create("/a", data(b"a"), open(), false, 1)),
        entry(1, 2, OpCode::Create, create("/a/b", None, digest_acl(), false, 1)),
        entry(1, 3, OpCode::SetData, set_data("/a", data(b"aa"), 1)),
        entry(1, 4, OpCode::Delete, delete("/a/b")),
        entry(1, 5, OpCode::Create, create("/a/c", data(b"c"), open(), false, 2)),
        entry(1, 6, OpCode::SetData, set_data("/a/c", None, 1)),
        entry(0x77, 7, OpCode::Create, create("/e", None, open(), true, 2)),
        entry(1, 8, OpCode::CreateContainer, create_container("/box", None, 3)),
        entry(1, 9, OpCode::CreateTtl, create_ttl("/box/t", data(b"t"), 1, 60_000)),
        entry(0x77, 10, OpCode::CloseSession, close_session(&["/e"])),
        entry(1, 11, OpCode::SetAcl, set_acl("/a", Acl::read_unsafe(), 1)),
    ]
}

fn applied(entries: &[TxnEntry]) -> DataTree {
    let mut tree = DataTree::new();
    for entry in entries {
        tree.apply(entry);
    }
    tree
}

#[test]
fn replaying_the_same_log_gives_equal_digests_and_snapshots() {
    let (first, second) = (applied(&script()), applied(&script()));
    assert_eq!(first.digest(), second.digest());
    assert_eq!(image(&first), image(&second));
    assert_eq!(first.approximate_data_size(), second.approximate_data_size());
}

#[test]
fn replaying_a_log_suffix_over_a_fuzzy_snapshot_converges() {
    let log = script();
    let full = applied(&log);
    // The most fuzzy snapshot possible: the final state, labelled as taken after zxid 3.
    let mut fuzzy = rebuild(&full);
    fuzzy.set_last_processed_zxid(3);
    for entry in &log[3..] {
        fuzzy.apply(entry);
    }
    assert_eq!(image(&fuzzy), image(&full));
    assert_eq!(fuzzy.digest(), full.digest());
    assert_eq!(fuzzy.ephemerals(0x77).count(), 0);
}

#[test]
fn replayed_create_of_an_existing_node_moves_the_parent_cversion_forward() {
    let mut tree = DataTree::new();
    tree.apply(&entry(1, 1, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1)));
    let outcome = tree.apply(&entry(1, 9, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 5)));
    assert_eq!(outcome.err, ErrorCode::NodeExists);
    let root = tree.get("/").unwrap().stat_persisted().clone();
    assert_eq!((root.cversion, root.pzxid), (5, 9));
    // Only `create` (type 1) gets the fix-up; `create2` does not, as in ZooKeeper.
    tree.apply(&entry(1, 10, OpCode::Create2, create("/a", None, Acl::open_unsafe(), false, 7)));
    assert_eq!(tree.get("/").unwrap().stat_persisted().cversion, 5);
}

#[test]
fn a_clone_is_a_frozen_snapshot_while_the_original_moves_on() {
    let mut tree = applied(&script()[..5]);
    let snapshot = tree.clone();
    let frozen = image(&snapshot);
    for entry in &script()[5..] {
        tree.apply(entry);
    }
    assert_eq!(image(&snapshot), frozen);
    assert_ne!(image(&tree), frozen);
    assert_eq!(snapshot.digest(), snapshot.recompute_digest());
}

#[test]
fn snapshot_order_is_depth_first_preorder_from_the_empty_root_path() {
    let tree = applied(&script());
    let paths: Vec<String> = tree.snapshot_nodes().map(|n| n.path.to_owned()).collect();
    assert_eq!(paths, ["", "/a", "/a/c", "/box", "/box/t", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"]);
}

#[test]
fn rebuilding_from_a_snapshot_restores_everything_the_tree_tracks() {
    let tree = applied(&script()[..9]);
    let copy = rebuild(&tree);
    assert_eq!(image(&copy), image(&tree));
    assert_eq!(copy.digest(), tree.digest());
    assert_eq!(copy.node_count(), tree.node_count());
    assert_eq!(copy.approximate_data_size(), tree.approximate_data_size());
    assert_eq!(copy.ephemerals(0x77).collect::<Vec<_>>(), ["/e"]);
    assert_eq!(copy.containers().collect::<Vec<_>>(), ["/box"]);
    assert_eq!(copy.ttl_nodes().collect::<Vec<_>>(), ["/box/t"]);
    assert_eq!(copy.last_processed_zxid(), 9);
    for path in ["/", "/a", "/a/c", "/box/t", "/zookeeper/config"] {
        assert_eq!(copy.stat(path), tree.stat(path), "{path}");
        assert_eq!(copy.acl(path), tree.acl(path), "{path}");
    }
}

#[test]
fn builder_drops_unused_acls_and_allocates_above_the_largest_loaded_index() {
    let mut builder = DataTreeBuilder::new();
    builder.acl(3, Acl::read_unsafe()).acl(8, digest_acl());
    builder.node("", Some(Bytes::new()), -1, StatPersisted::default()).unwrap();
    builder.node("/r", None, 3, StatPersisted::default()).unwrap();
    let mut tree = builder.finish(0).unwrap();
    assert_eq!(tree.acl_cache().entries().map(|(i, _)| i).collect::<Vec<_>>(), [3]);
    tree.apply(&entry(1, 1, OpCode::Create, create("/n", None, Acl::creator_all(), false, 1)));
    assert_eq!(tree.get("/n").unwrap().acl_index(), 9);
}

#[test]
fn builder_rejects_records_that_do_not_form_a_tree() {
    let stat = StatPersisted::default;
    assert!(matches!(
        DataTreeBuilder::new().node("/a", None, -1, stat()),
        Err(SnapshotError::RootNotFirst(p)) if p == "/a"
    ));
    let mut builder = DataTreeBuilder::new();
    builder.node("", None, -1, stat()).unwrap();
    assert!(matches!(builder.node("/x/y", None, -1, stat()), Err(SnapshotError::MissingParent(_))));
    assert!(matches!(builder.node("/", None, -1, stat()), Err(SnapshotError::DuplicateRoot)));
    assert!(matches!(DataTreeBuilder::new().finish(0), Err(SnapshotError::Empty)));
}

#[test]
fn unknown_acl_index_in_a_snapshot_reads_as_an_empty_acl() {
    let mut builder = DataTreeBuilder::new();
    builder.node("", None, -1, StatPersisted::default()).unwrap();
    builder.node("/x", None, 42, StatPersisted::default()).unwrap();
    let tree = builder.finish(0).unwrap();
    assert_eq!(tree.acl("/x").map(|acl| acl.len()), Some(0));
}

#[test]
fn snapshot_of_an_unchanged_clone_needs_no_copy_of_nodes() {
    let tree = applied(&script());
    let clone = tree.clone();
    let (a, b) = (tree.get("/a").unwrap(), clone.get("/a").unwrap());
    assert!(std::ptr::eq(a, b), "nodes are shared until written");
}

#[test]
fn trees_and_watch_managers_can_move_to_a_snapshot_thread() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<DataTree>();
    send_sync::<crate::watch::WatchManager<u64>>();
}

/// A replayed delete of a node that still has children leaves them as ZooKeeper does: in the map (node
/// count, digest, reads by path) but nobody's child, their own children still theirs, and out of
/// snapshots, so every snapshot still loads; a recreated parent starts childless.
#[test]
fn a_replayed_delete_of_a_non_empty_node_leaves_unreachable_orphans() {
    let open = Acl::open_unsafe;
    let mut tree = DataTree::new();
    for (zxid, path) in [(1, "/a"), (2, "/a/b"), (3, "/a/b/c"), (4, "/a/d")] {
        tree.apply(&entry(1, zxid, OpCode::Create, create(path, data(b"x"), open(), false, 1)));
    }
    let count = tree.node_count();
    assert!(tree.apply(&entry(1, 5, OpCode::Delete, delete("/a"))).err == ErrorCode::Ok);
    assert_eq!(tree.node_count(), count - 1, "only /a left the map");
    assert!(tree.exists("/a/b") && tree.exists("/a/b/c"));
    assert_eq!(tree.children("/a/b").unwrap().collect::<Vec<_>>(), ["c"]);
    assert_eq!(tree.recompute_digest(), tree.digest());
    let snapshot: Vec<String> = tree.snapshot_nodes().map(|n| n.path.to_owned()).collect();
    assert!(!snapshot.iter().any(|path| path.starts_with("/a")), "{snapshot:?}");
    assert_eq!(rebuild(&tree).get_all_children_number("/"), 3, "the built-in nodes");

    // The parent comes back childless; a create replaces the orphan and starts childless itself.
    tree.apply(&entry(1, 6, OpCode::Create, create("/a", None, open(), false, 2)));
    assert_eq!(tree.children("/a").unwrap().count(), 0);
    assert_eq!(tree.get("/a").unwrap().num_children(), 0);
    assert!(
        tree.apply(&entry(1, 7, OpCode::Create, create("/a/b", data(b"y"), open(), false, 3))).err == ErrorCode::Ok
    );
    assert_eq!(tree.children("/a").unwrap().collect::<Vec<_>>(), ["b"]);
    assert_eq!(tree.children("/a/b").unwrap().count(), 0, "/a/b/c is an orphan now");
    assert_eq!(tree.recompute_digest(), tree.digest());
    let rebuilt = rebuild(&tree);
    assert!(rebuilt.exists("/a/b") && !rebuilt.exists("/a/b/c") && !rebuilt.exists("/a/d"));
    assert_eq!(rebuilt.get("/a").unwrap().stat(), tree.get("/a").unwrap().stat());
}
