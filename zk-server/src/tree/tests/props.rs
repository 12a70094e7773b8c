//! Property tests: random valid txn sequences keep the tree's invariants.

use std::collections::BTreeMap;

use proptest::prelude::*;
use zk_proto::{Acl, NodeKind, OpCode, TxnEntry};

use super::txns::*;
use crate::tree::DataTree;

/// A random intent, turned into a valid txn against the current tree (as the request stage would).
#[derive(Debug, Clone)]
enum Intent {
    Create { path: usize, kind: u8, data: Vec<u8> },
    Delete { path: usize },
    SetData { path: usize, data: Option<Vec<u8>> },
    SetAcl { path: usize, open: bool },
    CloseSession { session: usize },
}

const SESSIONS: [i64; 2] = [0x11, 0x22];

fn universe() -> Vec<String> {
    let names = ["a", "b", "c"];
    let mut paths: Vec<String> = names.iter().map(|n| format!("/{n}")).collect();
    for depth in 0..2 {
        let parents: Vec<String> = paths.iter().filter(|p| p.matches('/').count() == depth + 1).cloned().collect();
        for parent in parents {
            paths.extend(names.iter().map(|n| format!("{parent}/{n}")));
        }
    }
    paths
}

fn intents() -> impl Strategy<Value = Vec<Intent>> {
    let n = universe().len();
    let intent = prop_oneof![
        4 => (0..n, 0u8..4, proptest::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(path, kind, data)| Intent::Create { path, kind, data }),
        2 => (0..n).prop_map(|path| Intent::Delete { path }),
        2 => (0..n, proptest::option::of(proptest::collection::vec(any::<u8>(), 0..4)))
            .prop_map(|(path, data)| Intent::SetData { path, data }),
        1 => (0..n, any::<bool>()).prop_map(|(path, open)| Intent::SetAcl { path, open }),
        1 => (0..SESSIONS.len()).prop_map(|session| Intent::CloseSession { session }),
    ];
    proptest::collection::vec(intent, 0..60)
}

/// The txn the request stage would log for `intent` (an error txn when the request would fail).
fn prepare(tree: &DataTree, intent: &Intent, zxid: i64) -> TxnEntry {
    let paths = universe();
    let failed = |op| entry(1, zxid, OpCode::Error, error(op));
    match intent {
        Intent::Create { path, kind, data } => {
            let path = &paths[*path];
            let parent = crate::tree::path::parent(path).unwrap();
            let Some(parent_node) = tree.get(parent) else { return failed(-101) };
            if matches!(parent_node.kind(), NodeKind::Ephemeral(_)) {
                return failed(-108);
            }
            if tree.exists(path) {
                return failed(-110);
            }
            let pcv = parent_node.stat_persisted().cversion + 1;
            let d = Some(bytes::Bytes::from(data.clone()));
            match kind {
                0 => entry(1, zxid, OpCode::Create, create(path, d, Acl::open_unsafe(), false, pcv)),
                1 => entry(
                    SESSIONS[data.len() % 2],
                    zxid,
                    OpCode::Create2,
                    create(path, d, Acl::open_unsafe(), true, pcv),
                ),
                2 => entry(1, zxid, OpCode::CreateContainer, create_container(path, d, pcv)),
                _ => entry(1, zxid, OpCode::CreateTtl, create_ttl(path, d, pcv, 1000)),
            }
        }
        Intent::Delete { path } => match tree.get(&paths[*path]) {
            None => failed(-101),
            Some(node) if node.num_children() > 0 => failed(-111),
            Some(_) => entry(1, zxid, OpCode::Delete, delete(&paths[*path])),
        },
        Intent::SetData { path, data } => match tree.get(&paths[*path]) {
            None => failed(-101),
            Some(node) => {
                let version = node.stat_persisted().version + 1;
                entry(1, zxid, OpCode::SetData, set_data(&paths[*path], data.clone().map(Into::into), version))
            }
        },
        Intent::SetAcl { path, open } => match tree.get(&paths[*path]) {
            None => failed(-101),
            Some(node) => {
                let acl = if *open { Acl::open_unsafe() } else { digest_acl() };
                entry(1, zxid, OpCode::SetAcl, set_acl(&paths[*path], acl, node.stat_persisted().aversion + 1))
            }
        },
        Intent::CloseSession { session } => {
            let id = SESSIONS[*session];
            let owned: Vec<&str> = tree.ephemerals(id).collect();
            entry(id, zxid, OpCode::CloseSession, close_session(&owned))
        }
    }
}

/// `(stored cversion, client cversion, pzxid)` of every node.
fn versions(tree: &DataTree) -> BTreeMap<String, (i32, i32, i64)> {
    tree.snapshot_nodes()
        .map(|n| {
            let stat = tree.stat(n.path).unwrap();
            (n.path.to_owned(), (n.stat.cversion, stat.cversion, n.stat.pzxid))
        })
        .collect()
}

fn check_invariants(tree: &DataTree) -> Result<(), TestCaseError> {
    prop_assert_eq!(tree.digest(), tree.recompute_digest());
    prop_assert_eq!(tree.approximate_data_size(), tree.recompute_data_size());
    let mut reachable = 0;
    let (mut ephemerals, mut containers, mut ttls) = (0, Vec::new(), Vec::new());
    for record in tree.snapshot_nodes() {
        reachable += 1;
        let node = tree.get(record.path).unwrap();
        let children: Vec<&str> = tree.children(record.path).into_iter().flatten().collect();
        prop_assert_eq!(node.stat().num_children as usize, children.len());
        for child in children {
            let full = if record.path.is_empty() { format!("/{child}") } else { format!("{}/{child}", record.path) };
            prop_assert!(tree.exists(&full), "child {} missing", full);
        }
        match node.kind() {
            NodeKind::Ephemeral(_) => ephemerals += 1,
            NodeKind::Container => containers.push(record.path.to_owned()),
            NodeKind::Ttl(_) => ttls.push(record.path.to_owned()),
            NodeKind::Persistent => {}
        }
    }
    prop_assert_eq!(reachable + 1, tree.node_count(), "every node is reachable from the root");
    prop_assert_eq!(ephemerals, tree.ephemerals_count());
    containers.sort();
    ttls.sort();
    prop_assert_eq!(containers, tree.containers().map(str::to_owned).collect::<Vec<_>>());
    prop_assert_eq!(ttls, tree.ttl_nodes().map(str::to_owned).collect::<Vec<_>>());
    Ok(())
}

proptest! {
    #[test]
    fn random_valid_txns_keep_counts_digest_and_bookkeeping_consistent(intents in intents()) {
        let mut tree = DataTree::new();
        let mut log = Vec::new();
        for (i, intent) in intents.iter().enumerate() {
            let before = versions(&tree);
            let entry = prepare(&tree, intent, i as i64 + 1);
            tree.apply(&entry);
            log.push(entry);
            check_invariants(&tree)?;
            for (path, (cversion, client_cversion, pzxid)) in versions(&tree) {
                if let Some((old_cversion, old_client, old_pzxid)) = before.get(&path) {
                    prop_assert!(cversion >= *old_cversion && client_cversion >= *old_client, "cversion of {}", path);
                    prop_assert!(pzxid >= *old_pzxid, "pzxid of {}", path);
                }
            }
        }
        let mut replayed = DataTree::new();
        for entry in &log {
            replayed.apply(entry);
        }
        prop_assert_eq!(replayed.digest(), tree.digest());
        let records = |t: &DataTree| -> Vec<(String, Option<bytes::Bytes>, i64, zk_proto::StatPersisted)> {
            t.snapshot_nodes().map(|n| (n.path.to_owned(), n.data.map(bytes::Bytes::copy_from_slice), n.acl_index, n.stat.clone())).collect()
        };
        prop_assert_eq!(records(&replayed), records(&tree));
    }

    #[test]
    fn applying_arbitrary_txns_never_panics_and_keeps_the_digest_consistent(
        entries in proptest::collection::vec(zk_proto::arbitrary::any_jute::<TxnEntry>(), 0..20)
    ) {
        let mut tree = DataTree::new();
        for entry in &entries {
            tree.apply(entry);
            prop_assert_eq!(tree.digest(), tree.recompute_digest());
        }
    }
}

/// Every node's path, data, persisted stat and resolved ACL (ACL indices may legitimately differ after
/// a fuzzy replay, in ZooKeeper too: replayed creates of existing nodes keep an extra reference).
fn contents(tree: &DataTree) -> Vec<(String, Option<bytes::Bytes>, zk_proto::StatPersisted, Vec<Acl>)> {
    tree.snapshot_nodes()
        .map(|n| {
            (
                n.path.to_owned(),
                n.data.map(bytes::Bytes::copy_from_slice),
                n.stat.clone(),
                tree.acl(n.path).unwrap().to_vec(),
            )
        })
        .collect()
}

proptest! {
    #[test]
    fn replaying_any_log_suffix_over_the_final_state_converges(intents in intents(), cut in any::<prop::sample::Index>()) {
        let mut tree = DataTree::new();
        let mut log = Vec::new();
        for (i, intent) in intents.iter().enumerate() {
            let entry = prepare(&tree, intent, i as i64 + 1);
            tree.apply(&entry);
            log.push(entry);
        }
        // The fuzziest snapshot: the final state, replayed from an arbitrary earlier point.
        let mut fuzzy = tree.clone();
        let start = if log.is_empty() { 0 } else { cut.index(log.len()) };
        for entry in &log[start..] {
            fuzzy.apply(entry);
        }
        prop_assert_eq!(contents(&fuzzy), contents(&tree));
        prop_assert_eq!(fuzzy.digest(), tree.digest());
        prop_assert_eq!(fuzzy.ephemerals_count(), tree.ephemerals_count());
    }
}

#[test]
fn universe_has_three_levels() {
    assert_eq!(universe().len(), 3 + 9 + 27);
}
