//! Watches against a real server: one-shot, persistent, recursive, removal, ordering.

use std::time::Duration;

use futures::{FutureExt, StreamExt};
use zk_client::{AddWatchMode, CreateOptions, Error, EventType, KeeperState, WatchedEvent, WatcherType};

use crate::{client, shared_server, test_root, within};

const WAIT: Duration = Duration::from_secs(5);

fn event(event_type: EventType, path: &str, zxid: i64) -> WatchedEvent {
    WatchedEvent { event_type, state: KeeperState::SyncConnected, path: path.to_owned(), zxid }
}

/// Checks an event; its zxid must be the change's (ZooKeeper 3.9+) or -1 (3.8 does not send it).
#[track_caller]
fn assert_event(got: WatchedEvent, want: WatchedEvent) {
    let zxid = if got.zxid == -1 { -1 } else { want.zxid };
    assert_eq!(got, WatchedEvent { zxid, ..want });
}

#[tokio::test]
async fn oneshot_watches_fire_once_with_the_change_zxid() {
    let server = shared_server!("oneshot_watches_fire_once_with_the_change_zxid");
    let zk = client(&server, "").await;
    let other = client(&server, "").await;
    let root = test_root(&zk, "oneshot").await;
    let a = format!("{root}/a");
    zk.create(&a, b"1", &CreateOptions::persistent()).await.unwrap();

    let (data, _, on_data) = zk.get_data_and_watch(&a).await.unwrap();
    assert_eq!(&data[..], b"1");
    let (missing, on_create) = zk.exists_and_watch(&format!("{root}/b")).await.unwrap();
    assert_eq!(missing, None);
    let (children, _, on_children) = zk.get_children_and_watch(&root).await.unwrap();
    assert_eq!(children, ["a"]);

    let set = other.set_data(&a, b"2", None).await.unwrap();
    assert_event(within(WAIT, "data watch", on_data).await, event(EventType::NodeDataChanged, &a, set.mzxid));
    other.create(&format!("{root}/b"), b"", &CreateOptions::persistent()).await.unwrap();
    let b_stat = other.exists(&format!("{root}/b")).await.unwrap().unwrap();
    assert_event(
        within(WAIT, "exist watch", on_create).await,
        event(EventType::NodeCreated, &format!("{root}/b"), b_stat.czxid),
    );
    assert_event(
        within(WAIT, "child watch", on_children).await,
        event(EventType::NodeChildrenChanged, &root, b_stat.czxid),
    );

    // A watch on a node that is deleted reports the deletion; watches on a missing node fail the read.
    let (_, _, on_delete) = zk.get_data_and_watch(&a).await.unwrap();
    other.delete(&a, None).await.unwrap();
    assert_eq!(within(WAIT, "delete", on_delete).await.event_type, EventType::NodeDeleted);
    assert_eq!(zk.get_data_and_watch(&a).await.err(), Some(Error::NoNode));
    zk.close().await.unwrap();
    other.close().await.unwrap();
}

#[tokio::test]
async fn a_watch_event_precedes_the_read_that_follows_the_change() {
    let server = shared_server!("a_watch_event_precedes_the_read_that_follows_the_change");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "ordering").await;
    let (_, _, watcher) = zk.get_data_and_watch(&root).await.unwrap();
    zk.set_data(&root, b"new", None).await.unwrap();
    // The notification was written before the set's reply: it is already delivered.
    let fired = watcher.now_or_never().expect("event delivered before the set_data reply");
    assert_eq!(fired.event_type, EventType::NodeDataChanged);
    zk.close().await.unwrap();
}

#[tokio::test]
async fn persistent_and_recursive_watches_stream_every_event() {
    let server = shared_server!("persistent_and_recursive_watches_stream_every_event");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "persistent").await;
    let node = format!("{root}/n");
    let mut on_node = zk.watch(&node, AddWatchMode::Persistent).await.unwrap();
    let mut on_tree = zk.watch(&root, AddWatchMode::PersistentRecursive).await.unwrap();

    let (_, created) = zk.create(&node, b"", &CreateOptions::persistent()).await.unwrap();
    let set = zk.set_data(&node, b"x", None).await.unwrap();
    let (_, child) = zk.create(&format!("{node}/c"), b"", &CreateOptions::persistent()).await.unwrap();
    zk.delete(&format!("{node}/c"), None).await.unwrap();
    zk.delete(&node, None).await.unwrap();

    let mut node_events = Vec::new();
    for _ in 0..5 {
        node_events.push(within(WAIT, "persistent event", on_node.next()).await.unwrap());
    }
    let kinds: Vec<_> = node_events.iter().map(|e| (e.event_type, e.path.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (EventType::NodeCreated, node.as_str()),
            (EventType::NodeDataChanged, node.as_str()),
            (EventType::NodeChildrenChanged, node.as_str()),
            (EventType::NodeChildrenChanged, node.as_str()),
            (EventType::NodeDeleted, node.as_str()),
        ]
    );
    for (got, zxid) in node_events.iter().zip([created.czxid, set.mzxid, child.czxid]) {
        assert_event(got.clone(), WatchedEvent { zxid, ..got.clone() });
    }

    let c = format!("{node}/c");
    let mut tree_events = Vec::new();
    for _ in 0..5 {
        tree_events.push(within(WAIT, "recursive event", on_tree.next()).await.unwrap());
    }
    let kinds: Vec<_> = tree_events.iter().map(|e| (e.event_type, e.path.clone())).collect();
    assert_eq!(
        kinds,
        [
            (EventType::NodeCreated, node.clone()),
            (EventType::NodeDataChanged, node.clone()),
            (EventType::NodeCreated, c.clone()),
            (EventType::NodeDeleted, c.clone()),
            (EventType::NodeDeleted, node.clone()),
        ],
        "recursive watches never report NodeChildrenChanged"
    );

    // Dropping the stream removes the server-side watch.
    drop(on_node);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(zk.remove_watches(&node, WatcherType::Any).await, Err(Error::NoWatcher));
    // remove_watches tells the local watcher, then the stream ends. (`Any`: ZooKeeper 3.8 rejects the
    // persistent watcher types in removeWatches.)
    zk.remove_watches(&root, WatcherType::Any).await.unwrap();
    let removed = within(WAIT, "removal event", on_tree.next()).await.unwrap();
    assert_eq!(removed, WatchedEvent { zxid: -1, ..event(EventType::PersistentWatchRemoved, &root, -1) });
    assert_eq!(within(WAIT, "stream end", on_tree.next()).await, None);
    zk.close().await.unwrap();
}

#[tokio::test]
async fn remove_watches_reports_locally() {
    let server = shared_server!("remove_watches_reports_locally");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "remove").await;
    let (_, _, data_watch) = zk.get_data_and_watch(&root).await.unwrap();
    let (_, _, child_watch) = zk.get_children_and_watch(&root).await.unwrap();
    zk.remove_watches(&root, WatcherType::Children).await.unwrap();
    assert_eq!(within(WAIT, "child removed", child_watch).await.event_type, EventType::ChildWatchRemoved);
    zk.remove_watches(&root, WatcherType::Any).await.unwrap();
    assert_eq!(within(WAIT, "data removed", data_watch).await.event_type, EventType::DataWatchRemoved);
    assert_eq!(zk.remove_watches(&root, WatcherType::Any).await, Err(Error::NoWatcher));
    zk.close().await.unwrap();
}

#[tokio::test]
async fn chroot_watch_paths_are_relative_and_close_ends_watchers() {
    let server = shared_server!("chroot_watch_paths_are_relative_and_close_ends_watchers");
    let root_client = client(&server, "").await;
    let root = test_root(&root_client, "watch-chroot").await;
    let zk = client(&server, &root).await;
    let mut all = zk.watch("/", AddWatchMode::PersistentRecursive).await.unwrap();
    let (_, exist) = zk.exists_and_watch("/never").await.unwrap();
    root_client.create(&format!("{root}/x"), b"", &CreateOptions::persistent()).await.unwrap();
    let e = within(WAIT, "recursive under chroot", all.next()).await.unwrap();
    assert_eq!((e.event_type, e.path.as_str()), (EventType::NodeCreated, "/x"));

    zk.close().await.unwrap();
    let last = within(WAIT, "closed event", all.next()).await.unwrap();
    assert_eq!((last.event_type, last.state), (EventType::None, KeeperState::Closed));
    assert_eq!(within(WAIT, "end", all.next()).await, None);
    assert_eq!(within(WAIT, "closed oneshot", exist).await.state, KeeperState::Closed);
    root_client.close().await.unwrap();
}
