//! The fresh tree, as a ZooKeeper 3.8 standalone server starts with.

use zk_proto::{Acl, Stat};

use crate::tree::DataTree;

#[test]
fn fresh_tree_has_the_four_system_nodes_with_zeroed_stats() {
    let tree = DataTree::new();
    assert_eq!(tree.children("/").unwrap().collect::<Vec<_>>(), ["zookeeper"]);
    assert_eq!(tree.children("/zookeeper").unwrap().collect::<Vec<_>>(), ["config", "quota"]);
    // Client view: cversion = 2 × 0 − numChildren.
    assert_eq!(tree.stat("/"), Some(Stat { cversion: -1, num_children: 1, ..Stat::default() }));
    assert_eq!(tree.stat("/zookeeper"), Some(Stat { cversion: -2, num_children: 2, ..Stat::default() }));
    assert_eq!(tree.stat("/zookeeper/quota"), Some(Stat::default()));
    assert_eq!(tree.stat("/zookeeper/config"), Some(Stat { aversion: -1, ..Stat::default() }));
}

#[test]
fn fresh_tree_data_is_empty_not_null() {
    let tree = DataTree::new();
    for path in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
        assert_eq!(tree.data(path), Some(Some(&b""[..])), "{path}");
    }
}

#[test]
fn fresh_tree_acls_are_open_except_config_which_is_read_only() {
    let tree = DataTree::new();
    assert_eq!(tree.acl("/").as_deref(), Some(&Acl::open_unsafe()[..]));
    assert_eq!(tree.acl("/zookeeper/quota").as_deref(), Some(&Acl::open_unsafe()[..]));
    assert_eq!(tree.acl("/zookeeper/config").as_deref(), Some(&Acl::read_unsafe()[..]));
    assert_eq!(tree.get("/zookeeper/config").map(|n| n.acl_index()), Some(1));
    assert_eq!(tree.acl_cache().len(), 1);
}

#[test]
fn root_is_reachable_under_its_internal_empty_name() {
    let tree = DataTree::new();
    assert_eq!(tree.stat(""), tree.stat("/"));
    assert!(tree.exists(""));
}

#[test]
fn fresh_tree_counters_match_zookeeper() {
    let tree = DataTree::new();
    assert_eq!(tree.node_count(), 5);
    assert_eq!(tree.get_all_children_number("/"), 3);
    // ZooKeeper counts the keys starting with "/" for "", the root's "/" alias included.
    assert_eq!(tree.get_all_children_number(""), 4);
    assert_eq!(tree.get_all_children_number("/zookeeper"), 2);
    assert_eq!(tree.get_all_children_number("/missing"), 0);
    assert_eq!(tree.last_processed_zxid(), 0);
    assert_eq!(tree.ephemerals_count(), 0);
}

#[test]
fn lookups_of_garbage_paths_return_nothing() {
    let tree = DataTree::new();
    for path in ["zookeeper", "//", "/zookeeper/", "/\0", "/a/../zookeeper"] {
        assert!(tree.get(path).is_none(), "{path:?}");
        assert!(tree.children(path).is_none());
    }
}
