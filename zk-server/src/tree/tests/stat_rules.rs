//! Stat, bookkeeping and watch-trigger rules of each txn type.

use zk_proto::{Acl, ErrorCode, EventType, NodeKind, OpCode, TxnBody, CONTAINER_EPHEMERAL_OWNER};

use super::txns::*;
use crate::tree::{DataTree, OpResult};

const CLIENT: i64 = 0x1000;

fn apply(tree: &mut DataTree, zxid: i64, op: OpCode, body: TxnBody) -> crate::tree::ApplyOutcome {
    tree.apply(&entry(CLIENT, zxid, op, body))
}

fn triggers(outcome: &crate::tree::ApplyOutcome) -> Vec<(String, EventType)> {
    outcome.triggers.iter().map(|t| (t.path.clone(), t.event)).collect()
}

#[test]
fn create_sets_all_zxids_and_times_and_the_parents_cversion_and_pzxid() {
    let mut tree = DataTree::new();
    apply(&mut tree, 7, OpCode::Create, create("/a", data(b"x"), Acl::open_unsafe(), false, 3));
    let stat = tree.stat("/a").unwrap();
    assert_eq!((stat.czxid, stat.mzxid, stat.pzxid), (7, 7, 7));
    assert_eq!((stat.ctime, stat.mtime), (T0 + 7, T0 + 7));
    assert_eq!((stat.version, stat.cversion, stat.aversion, stat.ephemeral_owner), (0, 0, 0, 0));
    assert_eq!((stat.data_length, stat.num_children), (1, 0));
    let root = tree.get("/").unwrap().stat_persisted().clone();
    assert_eq!((root.cversion, root.pzxid), (3, 7));
    assert_eq!(tree.stat("/").unwrap().cversion, 2 * 3 - 2);
}

#[test]
fn create_with_parent_cversion_minus_one_increments_the_parents() {
    let mut tree = DataTree::new();
    apply(&mut tree, 1, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, -1));
    apply(&mut tree, 2, OpCode::Create, create("/b", None, Acl::open_unsafe(), false, -1));
    assert_eq!(tree.get("/").unwrap().stat_persisted().cversion, 2);
}

#[test]
fn create_never_lowers_the_parents_cversion_or_pzxid() {
    let mut tree = DataTree::new();
    apply(&mut tree, 5, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 10));
    apply(&mut tree, 6, OpCode::Create, create("/b", None, Acl::open_unsafe(), false, 4));
    let root = tree.get("/").unwrap().stat_persisted().clone();
    assert_eq!((root.cversion, root.pzxid), (10, 5));
    assert!(tree.exists("/b"));
}

#[test]
fn create_keeps_null_data_distinct_from_empty() {
    let mut tree = DataTree::new();
    apply(&mut tree, 1, OpCode::Create, create("/null", None, Acl::open_unsafe(), false, 1));
    apply(&mut tree, 2, OpCode::Create, create("/empty", data(b""), Acl::open_unsafe(), false, 2));
    assert_eq!(tree.data("/null"), Some(None));
    assert_eq!(tree.data("/empty").unwrap().map(|d| d.len()), Some(0));
    assert_eq!(tree.stat("/null").unwrap().data_length, 0);
}

#[test]
fn create_fires_node_created_then_parent_children_changed() {
    let mut tree = DataTree::new();
    let outcome = apply(&mut tree, 1, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1));
    assert_eq!(
        triggers(&outcome),
        [("/a".into(), EventType::NodeCreated), ("/".into(), EventType::NodeChildrenChanged)]
    );
    let outcome = apply(&mut tree, 2, OpCode::Create, create("/a/b", None, Acl::read_unsafe(), false, 1));
    assert_eq!(triggers(&outcome)[1], ("/a".into(), EventType::NodeChildrenChanged));
    assert_eq!(&*outcome.triggers[0].acl, &Acl::read_unsafe()[..]);
    assert_eq!(&*outcome.triggers[1].acl, &Acl::open_unsafe()[..]);
    assert!(matches!(&outcome.result, OpResult::Created { path, stat } if path == "/a/b" && stat.czxid == 2));
}

#[test]
fn create_under_a_missing_parent_fails_with_no_node_and_changes_nothing() {
    let mut tree = DataTree::new();
    let before = tree.digest();
    let outcome = apply(&mut tree, 1, OpCode::Create, create("/x/y", None, Acl::open_unsafe(), false, 1));
    assert_eq!(outcome.err, ErrorCode::NoNode);
    assert!(outcome.triggers.is_empty());
    assert_eq!(tree.digest(), before);
    assert_eq!(tree.last_processed_zxid(), 1);
}

#[test]
fn delete_advances_parent_pzxid_and_client_cversion_but_not_stored_cversion() {
    let mut tree = DataTree::new();
    apply(&mut tree, 1, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1));
    apply(&mut tree, 2, OpCode::Create, create("/a/b", None, Acl::open_unsafe(), false, 1));
    let before = tree.stat("/a").unwrap();
    let outcome = apply(&mut tree, 3, OpCode::Delete, delete("/a/b"));
    assert_eq!(
        triggers(&outcome),
        [("/a/b".into(), EventType::NodeDeleted), ("/a".into(), EventType::NodeChildrenChanged)]
    );
    let after = tree.stat("/a").unwrap();
    assert_eq!(tree.get("/a").unwrap().stat_persisted().cversion, 1);
    assert_eq!((before.cversion, after.cversion), (1, 2));
    assert_eq!((after.pzxid, after.num_children), (3, 0));
}

#[test]
fn delete_of_a_missing_child_still_advances_the_parents_pzxid_when_larger() {
    let mut tree = DataTree::new();
    apply(&mut tree, 5, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1));
    let outcome = apply(&mut tree, 9, OpCode::Delete, delete("/a/gone"));
    assert_eq!(outcome.err, ErrorCode::NoNode);
    assert_eq!(tree.stat("/a").unwrap().pzxid, 9);
    apply(&mut tree, 4, OpCode::Delete, delete("/a/gone"));
    assert_eq!(tree.stat("/a").unwrap().pzxid, 9, "a smaller zxid never lowers pzxid");
}

#[test]
fn delete_of_the_root_is_refused() {
    let mut tree = DataTree::new();
    assert_eq!(apply(&mut tree, 1, OpCode::Delete, delete("/")).err, ErrorCode::BadArguments);
    assert!(tree.exists("/"));
}

#[test]
fn set_data_takes_the_txn_version_and_moves_mzxid_and_mtime_only() {
    let mut tree = DataTree::new();
    apply(&mut tree, 1, OpCode::Create, create("/a", data(b"x"), Acl::open_unsafe(), false, 1));
    let outcome = apply(&mut tree, 2, OpCode::SetData, set_data("/a", None, 41));
    assert_eq!(triggers(&outcome), [("/a".into(), EventType::NodeDataChanged)]);
    let stat = tree.stat("/a").unwrap();
    assert_eq!((stat.version, stat.mzxid, stat.mtime), (41, 2, T0 + 2));
    assert_eq!((stat.czxid, stat.ctime, stat.pzxid, stat.data_length), (1, T0 + 1, 1, 0));
    assert_eq!(tree.data("/a"), Some(None));
    assert!(matches!(outcome.result, OpResult::DataSet { stat: s, .. } if s == stat));
}

#[test]
fn set_acl_takes_the_txn_aversion_and_fires_nothing() {
    let mut tree = DataTree::new();
    apply(&mut tree, 1, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1));
    let outcome = apply(&mut tree, 2, OpCode::SetAcl, set_acl("/a", digest_acl(), 3));
    assert!(outcome.triggers.is_empty());
    let stat = tree.stat("/a").unwrap();
    assert_eq!((stat.aversion, stat.mzxid, stat.version), (3, 1, 0));
    assert_eq!(tree.acl("/a").as_deref(), Some(&digest_acl()[..]));
}

#[test]
fn set_acl_releases_the_old_list_before_interning_the_new_one() {
    let mut tree = DataTree::new();
    apply(&mut tree, 1, OpCode::Create, create("/a", None, digest_acl(), false, 1));
    let first = tree.get("/a").unwrap().acl_index();
    apply(&mut tree, 2, OpCode::SetAcl, set_acl("/a", digest_acl(), 1));
    assert_eq!(tree.get("/a").unwrap().acl_index(), first + 1, "ZooKeeper re-indexes a list it dropped");
}

#[test]
fn ephemeral_container_and_ttl_nodes_are_tracked_and_shown_as_zookeeper_does() {
    let mut tree = DataTree::new();
    tree.apply(&entry(0x77, 1, OpCode::Create, create("/e", None, Acl::open_unsafe(), true, 1)));
    apply(&mut tree, 2, OpCode::CreateContainer, create_container("/c", None, 2));
    apply(&mut tree, 3, OpCode::CreateTtl, create_ttl("/t", None, 3, 1000));
    assert_eq!(tree.stat("/e").unwrap().ephemeral_owner, 0x77);
    assert_eq!(tree.ephemerals(0x77).collect::<Vec<_>>(), ["/e"]);
    assert_eq!(tree.stat("/c").unwrap().ephemeral_owner, 0, "containers show owner 0 to clients");
    assert_eq!(tree.get("/c").unwrap().stat_persisted().ephemeral_owner, CONTAINER_EPHEMERAL_OWNER);
    assert_eq!(tree.get("/t").unwrap().kind(), NodeKind::Ttl(1000));
    assert_eq!(tree.stat("/t").unwrap().ephemeral_owner, 0);
    assert_eq!(tree.containers().collect::<Vec<_>>(), ["/c"]);
    assert_eq!(tree.ttl_nodes().collect::<Vec<_>>(), ["/t"]);
    apply(&mut tree, 4, OpCode::DeleteContainer, delete("/c"));
    apply(&mut tree, 5, OpCode::DeleteContainer, delete("/t"));
    assert_eq!(tree.containers().count() + tree.ttl_nodes().count(), 0);
}

#[test]
fn create_ttl_with_an_out_of_range_ttl_is_refused() {
    let mut tree = DataTree::new();
    for ttl in [0, -1, zk_proto::MAX_TTL + 1] {
        let outcome = apply(&mut tree, 1, OpCode::CreateTtl, create_ttl("/t", None, 1, ttl));
        assert_eq!(outcome.err, ErrorCode::BadArguments);
    }
    assert!(!tree.exists("/t"));
}

#[test]
fn close_session_deletes_listed_paths_then_unlisted_ephemerals_of_the_session() {
    let mut tree = DataTree::new();
    let s = 0x77;
    tree.apply(&entry(s, 1, OpCode::Create, create("/a", None, Acl::open_unsafe(), true, 1)));
    tree.apply(&entry(s, 2, OpCode::Create, create("/b", None, Acl::open_unsafe(), true, 2)));
    tree.apply(&entry(0x88, 3, OpCode::Create, create("/other", None, Acl::open_unsafe(), true, 3)));
    let outcome = tree.apply(&entry(s, 4, OpCode::CloseSession, close_session(&["/b", "/missing"])));
    assert_eq!(outcome.result, OpResult::SessionClosed { deleted: vec!["/b".into(), "/a".into()] });
    assert_eq!(
        triggers(&outcome),
        [
            ("/b".into(), EventType::NodeDeleted),
            ("/".into(), EventType::NodeChildrenChanged),
            ("/a".into(), EventType::NodeDeleted),
            ("/".into(), EventType::NodeChildrenChanged),
        ]
    );
    assert_eq!(tree.ephemerals(s).count(), 0);
    assert_eq!(tree.ephemerals(0x88).collect::<Vec<_>>(), ["/other"]);
    assert_eq!(tree.stat("/").unwrap().pzxid, 4);
}

#[test]
fn body_less_close_session_deletes_all_ephemerals_of_the_session() {
    let mut tree = DataTree::new();
    tree.apply(&entry(0x77, 1, OpCode::Create, create("/a", None, Acl::open_unsafe(), true, 1)));
    let outcome = tree.apply(&entry(0x77, 2, OpCode::CloseSession, TxnBody::CloseSession(None)));
    assert_eq!(outcome.result, OpResult::SessionClosed { deleted: vec!["/a".into()] });
    assert!(!tree.exists("/a"));
}

#[test]
fn multi_applies_sub_txns_in_order_with_one_zxid() {
    let mut tree = DataTree::new();
    let body = multi(vec![
        (OpCode::Create, create("/a", data(b"1"), Acl::open_unsafe(), false, 1)),
        (OpCode::Check, check("/a", 0)),
        (OpCode::SetData, set_data("/a", data(b"2"), 1)),
        (OpCode::Delete, delete("/a")),
    ]);
    let outcome = apply(&mut tree, 9, OpCode::Multi, body);
    assert_eq!(outcome.err, ErrorCode::Ok);
    let OpResult::Multi(results) = &outcome.result else { panic!("not a multi: {:?}", outcome.result) };
    assert!(matches!(&results[0], OpResult::Created { stat, .. } if stat.czxid == 9));
    assert_eq!(results[1], OpResult::Checked { path: "/a".into() });
    assert!(matches!(&results[2], OpResult::DataSet { stat, .. } if stat.version == 1));
    assert_eq!(results[3], OpResult::Deleted { path: "/a".into() });
    let events: Vec<EventType> = outcome.triggers.iter().map(|t| t.event).collect();
    use EventType::*;
    assert_eq!(events, [NodeCreated, NodeChildrenChanged, NodeDataChanged, NodeDeleted, NodeChildrenChanged]);
}

#[test]
fn failed_multi_changes_nothing_and_reports_ok_error_runtime_inconsistency() {
    let mut tree = DataTree::new();
    let before = tree.clone();
    let body = multi(vec![
        (OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1)),
        (OpCode::Error, error(ErrorCode::BadVersion.code())),
        (OpCode::SetData, set_data("/zookeeper", None, 1)),
    ]);
    let outcome = apply(&mut tree, 3, OpCode::Multi, body);
    assert_eq!(outcome.err, ErrorCode::BadVersion);
    assert_eq!(
        outcome.result,
        OpResult::Multi(vec![
            OpResult::Error(ErrorCode::Ok),
            OpResult::Error(ErrorCode::BadVersion),
            OpResult::Error(ErrorCode::RuntimeInconsistency),
        ])
    );
    assert!(outcome.triggers.is_empty());
    assert_eq!(tree.digest(), before.digest());
    assert!(!tree.exists("/a"));
}

#[test]
fn multi_stops_at_a_sub_txn_type_zookeeper_does_not_accept() {
    let mut tree = DataTree::new();
    let body = multi(vec![
        (OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1)),
        (OpCode::SetAcl, set_acl("/a", digest_acl(), 1)),
        (OpCode::Create, create("/b", None, Acl::open_unsafe(), false, 2)),
    ]);
    let outcome = apply(&mut tree, 1, OpCode::Multi, body);
    let OpResult::Multi(results) = outcome.result else { panic!() };
    assert_eq!(results.len(), 1);
    assert!(tree.exists("/a") && !tree.exists("/b"));
}

#[test]
fn error_txn_reports_its_code_and_changes_nothing() {
    let mut tree = DataTree::new();
    let outcome = apply(&mut tree, 4, OpCode::Error, error(ErrorCode::NodeExists.code()));
    assert_eq!(outcome.err, ErrorCode::NodeExists);
    assert_eq!(outcome.result, OpResult::Error(ErrorCode::NodeExists));
    assert_eq!(tree.last_processed_zxid(), 4);
}

#[test]
fn last_processed_zxid_never_moves_back() {
    let mut tree = DataTree::new();
    apply(&mut tree, 10, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1));
    apply(&mut tree, 3, OpCode::SetData, set_data("/a", None, 1));
    assert_eq!(tree.last_processed_zxid(), 10);
}

#[test]
fn node_data_does_not_pin_the_txn_buffer() {
    let mut tree = DataTree::new();
    let big = bytes::Bytes::from(vec![7u8; 4096]);
    apply(&mut tree, 1, OpCode::Create, create("/a", Some(big.slice(0..2)), Acl::open_unsafe(), false, 1));
    let stored = tree.data("/a").unwrap().unwrap();
    assert_eq!(stored, &[7, 7]);
    assert_ne!(stored.as_ptr(), big.as_ptr());
}
