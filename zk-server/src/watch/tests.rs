//! Watch rules, one test per rule.

use zk_proto::{Acl, AddWatchMode, EventType, OpCode, WatcherType};

use super::{WatchLists, WatchManager, WatchesSummary};
use crate::tree::tests::txns::{create, data, entry, set_data};
use crate::tree::DataTree;

type Manager = WatchManager<u32>;

fn fire(manager: &mut Manager, path: &str, event: EventType) -> Vec<(u32, i32, String)> {
    manager.trigger(path, event).into_iter().map(|(w, e)| (w, e.event_type, e.path)).collect()
}

fn who(manager: &mut Manager, path: &str, event: EventType) -> Vec<u32> {
    fire(manager, path, event).into_iter().map(|(w, _, _)| w).collect()
}

#[test]
fn one_shot_data_watch_fires_once_with_sync_connected_state() {
    let mut m = Manager::new();
    assert!(m.add_data_watch("/a", 1));
    let events = m.trigger("/a", EventType::NodeDataChanged);
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].1.event_type, events[0].1.state, events[0].1.path.as_str()), (3, 3, "/a"));
    assert!(m.trigger("/a", EventType::NodeDataChanged).is_empty());
    assert_eq!(m.watch_count(), 0);
}

#[test]
fn exist_watch_fires_on_create() {
    let mut m = Manager::new();
    m.add_exist_watch("/new", 1);
    assert_eq!(who(&mut m, "/new", EventType::NodeCreated), [1]);
}

#[test]
fn data_watches_do_not_see_child_events_and_child_watches_do_not_see_data_events() {
    let mut m = Manager::new();
    m.add_data_watch("/a", 1);
    m.add_child_watch("/a", 2);
    assert_eq!(who(&mut m, "/a", EventType::NodeChildrenChanged), [2]);
    assert_eq!(who(&mut m, "/a", EventType::NodeDataChanged), [1]);
    assert_eq!(m.watch_count(), 0);
}

#[test]
fn node_deleted_reaches_data_and_child_watches_once_per_watcher() {
    let mut m = Manager::new();
    m.add_data_watch("/a", 2);
    m.add_child_watch("/a", 2);
    m.add_child_watch("/a", 1);
    assert_eq!(who(&mut m, "/a", EventType::NodeDeleted), [2, 1], "data-table watchers first");
    assert_eq!(m.watch_count(), 0, "both one-shot watches are consumed");
}

#[test]
fn persistent_watch_fires_every_event_on_its_path_only_and_stays() {
    let mut m = Manager::new();
    m.add_persistent_watch("/p", 1, AddWatchMode::Persistent);
    for event in [EventType::NodeCreated, EventType::NodeDataChanged, EventType::NodeChildrenChanged] {
        assert_eq!(who(&mut m, "/p", event), [1], "{event}");
    }
    assert_eq!(who(&mut m, "/p", EventType::NodeDeleted), [1]);
    assert!(who(&mut m, "/p/child", EventType::NodeCreated).is_empty());
    assert_eq!(m.watch_count(), 2, "one entry in each table, still there");
}

#[test]
fn recursive_watch_fires_for_the_subtree_but_never_for_child_changes() {
    let mut m = Manager::new();
    m.add_persistent_watch("/r", 1, AddWatchMode::PersistentRecursive);
    assert_eq!(who(&mut m, "/r", EventType::NodeCreated), [1]);
    assert_eq!(who(&mut m, "/r/a/b", EventType::NodeCreated), [1]);
    assert_eq!(who(&mut m, "/r/a", EventType::NodeDataChanged), [1]);
    assert_eq!(who(&mut m, "/r/a", EventType::NodeDeleted), [1]);
    assert!(who(&mut m, "/r", EventType::NodeChildrenChanged).is_empty());
    assert!(who(&mut m, "/rx", EventType::NodeCreated).is_empty(), "a sibling with a common prefix");
    assert!(who(&mut m, "/", EventType::NodeDataChanged).is_empty());
    assert_eq!(m.watch_count(), 1);
}

#[test]
fn recursive_watch_on_the_root_sees_every_node() {
    let mut m = Manager::new();
    m.add_persistent_watch("/", 7, AddWatchMode::PersistentRecursive);
    assert_eq!(who(&mut m, "/x/y/z", EventType::NodeDeleted), [7]);
}

#[test]
fn a_watcher_matching_several_watches_gets_one_notification() {
    let mut m = Manager::new();
    m.add_persistent_watch("/", 1, AddWatchMode::PersistentRecursive);
    m.add_persistent_watch("/a", 1, AddWatchMode::PersistentRecursive);
    m.add_persistent_watch("/a/b", 1, AddWatchMode::Persistent);
    m.add_data_watch("/a/b", 1);
    assert_eq!(fire(&mut m, "/a/b", EventType::NodeDataChanged), [(1, 3, "/a/b".into())]);
}

#[test]
fn standard_and_persistent_watches_on_one_path_coexist() {
    let mut m = Manager::new();
    m.add_persistent_watch("/a", 1, AddWatchMode::Persistent);
    m.add_data_watch("/a", 1);
    assert!(m.check_watches("/a", 1, WatcherType::Data));
    assert_eq!(who(&mut m, "/a", EventType::NodeDataChanged), [1]);
    assert!(!m.check_watches("/a", 1, WatcherType::Data), "the one-shot watch was consumed");
    assert!(m.check_watches("/a", 1, WatcherType::Persistent), "the persistent one stays");
}

/// ZooKeeper 3.8 kept one mode per watcher and path, so a one-shot data watch replaced a recursive
/// watch on the same path; 3.9 keeps both (ZOOKEEPER-4466), as zk-server does.
#[test]
fn a_one_shot_watch_does_not_replace_a_recursive_watch_on_the_same_path() {
    let mut m = Manager::new();
    m.add_persistent_watch("/a", 1, AddWatchMode::PersistentRecursive);
    m.add_data_watch("/a", 1);
    assert_eq!(who(&mut m, "/a", EventType::NodeDataChanged), [1]);
    assert_eq!(who(&mut m, "/a/new", EventType::NodeCreated), [1], "the recursive watch still sees the subtree");
    assert_eq!(who(&mut m, "/a", EventType::NodeDataChanged), [1]);
}

#[test]
fn watchers_are_notified_in_id_order() {
    let mut m = Manager::new();
    for w in [5, 3, 9, 1] {
        m.add_data_watch("/a", w);
    }
    assert_eq!(who(&mut m, "/a", EventType::NodeDataChanged), [1, 3, 5, 9]);
}

#[test]
fn remove_watcher_drops_every_watch_of_a_connection() {
    let mut m = Manager::new();
    m.add_data_watch("/a", 1);
    m.add_child_watch("/a", 1);
    m.add_persistent_watch("/", 1, AddWatchMode::PersistentRecursive);
    m.add_data_watch("/a", 2);
    m.remove_watcher(1);
    assert_eq!(m.watch_count(), 1);
    assert_eq!(who(&mut m, "/a", EventType::NodeDeleted), [2]);
    assert!(who(&mut m, "/b", EventType::NodeCreated).is_empty());
}

#[test]
fn remove_watches_removes_only_the_named_kind_and_reports_no_watcher() {
    let mut m = Manager::new();
    m.add_data_watch("/a", 1);
    m.add_child_watch("/a", 1);
    m.add_persistent_watch("/a", 1, AddWatchMode::Persistent);
    assert!(m.remove_watches("/a", 1, WatcherType::Data));
    assert!(!m.remove_watches("/a", 1, WatcherType::Data), "NoWatcher the second time");
    assert!(m.check_watches("/a", 1, WatcherType::Children));
    assert!(m.remove_watches("/a", 1, WatcherType::Persistent));
    assert!(!m.check_watches("/a", 1, WatcherType::Persistent));
    assert!(m.check_watches("/a", 1, WatcherType::Children));
    assert!(!m.remove_watches("/a", 2, WatcherType::Any), "another watcher's watches are not touched");
    assert!(m.remove_watches("/a", 1, WatcherType::Any));
    assert_eq!(m.watch_count(), 0);
    assert!(!m.remove_watches("/missing", 1, WatcherType::Any));
}

#[test]
fn removing_a_recursive_watch_stops_ancestor_matching() {
    let mut m = Manager::new();
    m.add_persistent_watch("/r", 1, AddWatchMode::PersistentRecursive);
    assert!(!m.remove_watches("/r", 1, WatcherType::Persistent));
    assert!(m.remove_watches("/r", 1, WatcherType::PersistentRecursive));
    assert!(who(&mut m, "/r/a", EventType::NodeCreated).is_empty());
}

#[test]
fn check_watches_matches_the_exact_path_and_kind() {
    let mut m = Manager::new();
    m.add_child_watch("/a", 1);
    m.add_persistent_watch("/r", 1, AddWatchMode::PersistentRecursive);
    assert!(m.check_watches("/a", 1, WatcherType::Children));
    assert!(!m.check_watches("/a", 1, WatcherType::Data));
    assert!(m.check_watches("/a", 1, WatcherType::Any));
    assert!(m.check_watches("/r", 1, WatcherType::PersistentRecursive));
    assert!(m.check_watches("/r", 1, WatcherType::Any));
    assert!(!m.check_watches("/r/below", 1, WatcherType::Any), "a recursive watch is not on descendants");
    assert!(!m.check_watches("/a", 2, WatcherType::Any));
}

#[test]
fn set_watches_fires_what_changed_since_the_clients_zxid_and_keeps_the_rest() {
    let mut tree = DataTree::new();
    tree.apply(&entry(1, 1, OpCode::Create, create("/old", data(b"x"), Acl::open_unsafe(), false, 1)));
    tree.apply(&entry(1, 2, OpCode::Create, create("/old/kid", None, Acl::open_unsafe(), false, 1)));
    tree.apply(&entry(1, 3, OpCode::Create, create("/new", None, Acl::open_unsafe(), false, 2)));
    tree.apply(&entry(1, 4, OpCode::SetData, set_data("/new", None, 1)));
    let s = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    let (data_w, exist_w, child_w) =
        (s(&["/old", "/new", "/gone"]), s(&["/new", "/absent"]), s(&["/old", "/", "/gone"]));
    let (persistent, recursive) = (s(&["/p"]), s(&["/r"]));
    let lists = WatchLists {
        data: &data_w,
        exist: &exist_w,
        child: &child_w,
        persistent: &persistent,
        persistent_recursive: &recursive,
    };
    let mut m = Manager::new();
    let events: Vec<(i32, String)> =
        m.set_watches(2, lists, 1, &tree).into_iter().map(|e| (e.event_type, e.path)).collect();
    assert_eq!(
        events,
        [
            (EventType::NodeDataChanged.code(), "/new".to_string()),
            (EventType::NodeDeleted.code(), "/gone".into()),
            (EventType::NodeCreated.code(), "/new".into()),
            (EventType::NodeChildrenChanged.code(), "/".into()),
            (EventType::NodeDeleted.code(), "/gone".into()),
        ]
    );
    assert!(m.check_watches("/old", 1, WatcherType::Data));
    assert!(m.check_watches("/absent", 1, WatcherType::Data));
    assert!(m.check_watches("/old", 1, WatcherType::Children));
    assert!(!m.check_watches("/new", 1, WatcherType::Data), "fired watches are not registered");
    assert!(m.check_watches("/p", 1, WatcherType::Persistent));
    assert!(m.check_watches("/r", 1, WatcherType::PersistentRecursive));
}

#[test]
fn reports_count_the_data_table_like_zookeeper_4lw() {
    let mut m = Manager::new();
    m.add_data_watch("/a", 1);
    m.add_data_watch("/a", 2);
    m.add_data_watch("/b", 2);
    m.add_child_watch("/c", 3);
    assert_eq!(m.summary(), WatchesSummary { watchers: 2, paths: 2, total_watches: 3 });
    assert_eq!(m.watch_count(), 4);
    assert_eq!(m.watchers_by_path()["/a"].iter().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(m.paths_by_watcher()[&2].iter().cloned().collect::<Vec<_>>(), ["/a", "/b"]);
    assert_eq!(m.child_paths_by_watcher()[&3].len(), 1);
}

#[test]
fn tree_triggers_drive_the_manager_in_zookeeper_order() {
    let mut tree = DataTree::new();
    let mut m = Manager::new();
    m.add_exist_watch("/a", 1);
    m.add_child_watch("/", 2);
    m.add_persistent_watch("/", 3, AddWatchMode::PersistentRecursive);
    let outcome = tree.apply(&entry(1, 1, OpCode::Create, create("/a", None, Acl::open_unsafe(), false, 1)));
    let mut delivered = Vec::new();
    for trigger in &outcome.triggers {
        for (watcher, event) in m.trigger(&trigger.path, trigger.event) {
            delivered.push((watcher, event.event_type, event.path));
        }
    }
    assert_eq!(
        delivered,
        [
            (1, EventType::NodeCreated.code(), "/a".to_string()),
            (3, EventType::NodeCreated.code(), "/a".into()),
            (2, EventType::NodeChildrenChanged.code(), "/".into()),
        ]
    );
}
