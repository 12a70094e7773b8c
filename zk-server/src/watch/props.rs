//! Property test: the manager behaves like a naive model of ZooKeeper 3.9's watch rules.

use std::collections::BTreeSet;

use proptest::prelude::*;
use zk_proto::{AddWatchMode, EventType, WatcherType};

use super::{WatchManager, WatchMode};

const PATHS: [&str; 6] = ["/", "/a", "/a/b", "/a/b/c", "/b", "/ab"];

#[derive(Debug, Clone)]
enum Op {
    AddData(usize, u8),
    AddChild(usize, u8),
    AddPersistent(usize, u8),
    AddRecursive(usize, u8),
    Trigger(usize, u8),
    RemoveWatcher(u8),
    Remove(usize, u8, u8),
    Check(usize, u8, u8),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let p = 0..PATHS.len();
    let w = 0u8..3;
    let op = prop_oneof![
        (p.clone(), w.clone()).prop_map(|(p, w)| Op::AddData(p, w)),
        (p.clone(), w.clone()).prop_map(|(p, w)| Op::AddChild(p, w)),
        (p.clone(), w.clone()).prop_map(|(p, w)| Op::AddPersistent(p, w)),
        (p.clone(), w.clone()).prop_map(|(p, w)| Op::AddRecursive(p, w)),
        (p.clone(), 0u8..4).prop_map(|(p, e)| Op::Trigger(p, e)),
        w.clone().prop_map(Op::RemoveWatcher),
        (p.clone(), w.clone(), 0u8..5).prop_map(|(p, w, t)| Op::Remove(p, w, t)),
        (p, w, 0u8..5).prop_map(|(p, w, t)| Op::Check(p, w, t)),
    ];
    proptest::collection::vec(op, 0..80)
}

const DATA: bool = true;
const CHILD: bool = false;

/// `(is data table, watcher, path, mode)`.
type Entry = (bool, u8, &'static str, WatchMode);

#[derive(Default)]
struct Model(BTreeSet<Entry>);

fn is_ancestor(ancestor: &str, path: &str) -> bool {
    ancestor != path && (ancestor == "/" || path.starts_with(&format!("{ancestor}/")))
}

impl Model {
    fn fire(&mut self, table: bool, path: &str) -> BTreeSet<u8> {
        let mut fired = BTreeSet::new();
        for &(t, w, p, mode) in self.0.clone().iter().filter(|e| e.0 == table) {
            if p == path {
                fired.insert(w);
                if mode == WatchMode::Standard {
                    self.0.remove(&(t, w, p, mode));
                }
            } else if mode == WatchMode::PersistentRecursive && is_ancestor(p, path) {
                fired.insert(w);
            }
        }
        fired
    }

    fn trigger(&mut self, path: &str, event: EventType) -> Vec<u8> {
        match event {
            EventType::NodeChildrenChanged => self.fire(CHILD, path).into_iter().collect(),
            EventType::NodeDeleted => {
                let data = self.fire(DATA, path);
                let child = self.fire(CHILD, path);
                data.iter().chain(child.difference(&data)).copied().collect()
            }
            _ => self.fire(DATA, path).into_iter().collect(),
        }
    }

    fn take(&mut self, entry: Entry) -> bool {
        self.0.remove(&entry)
    }

    fn remove(&mut self, path: &'static str, w: u8, kind: WatcherType) -> bool {
        use WatchMode::*;
        match kind {
            WatcherType::Children => self.take((CHILD, w, path, Standard)),
            WatcherType::Data => self.take((DATA, w, path, Standard)),
            WatcherType::Persistent => {
                let child = self.take((CHILD, w, path, Persistent));
                self.take((DATA, w, path, Persistent)) || child
            }
            WatcherType::PersistentRecursive => self.take((DATA, w, path, PersistentRecursive)),
            WatcherType::Any => {
                let before = self.0.len();
                self.0.retain(|e| !(e.1 == w && e.2 == path));
                self.0.len() != before
            }
        }
    }

    fn check(&self, path: &'static str, w: u8, kind: WatcherType) -> bool {
        use WatchMode::*;
        match kind {
            WatcherType::Children => self.0.contains(&(CHILD, w, path, Standard)),
            WatcherType::Data => self.0.contains(&(DATA, w, path, Standard)),
            WatcherType::Persistent => self.0.contains(&(DATA, w, path, Persistent)),
            WatcherType::PersistentRecursive => self.0.contains(&(DATA, w, path, PersistentRecursive)),
            WatcherType::Any => self.0.iter().any(|e| e.1 == w && e.2 == path),
        }
    }

    fn watch_count(&self) -> usize {
        self.0.iter().map(|e| (e.0, e.1, e.2)).collect::<BTreeSet<_>>().len()
    }
}

const EVENTS: [EventType; 4] =
    [EventType::NodeCreated, EventType::NodeDeleted, EventType::NodeDataChanged, EventType::NodeChildrenChanged];

proptest! {
    #[test]
    fn manager_matches_a_naive_model_of_the_watch_rules(ops in ops()) {
        let mut manager = WatchManager::<u8>::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::AddData(p, w) => {
                    manager.add_data_watch(PATHS[p], w);
                    model.0.insert((DATA, w, PATHS[p], WatchMode::Standard));
                }
                Op::AddChild(p, w) => {
                    manager.add_child_watch(PATHS[p], w);
                    model.0.insert((CHILD, w, PATHS[p], WatchMode::Standard));
                }
                Op::AddPersistent(p, w) => {
                    manager.add_persistent_watch(PATHS[p], w, AddWatchMode::Persistent);
                    model.0.insert((DATA, w, PATHS[p], WatchMode::Persistent));
                    model.0.insert((CHILD, w, PATHS[p], WatchMode::Persistent));
                }
                Op::AddRecursive(p, w) => {
                    manager.add_persistent_watch(PATHS[p], w, AddWatchMode::PersistentRecursive);
                    model.0.insert((DATA, w, PATHS[p], WatchMode::PersistentRecursive));
                }
                Op::Trigger(p, e) => {
                    let got: Vec<u8> = manager.trigger(PATHS[p], EVENTS[e as usize]).into_iter().map(|(w, _)| w).collect();
                    prop_assert_eq!(got, model.trigger(PATHS[p], EVENTS[e as usize]));
                }
                Op::RemoveWatcher(w) => {
                    manager.remove_watcher(w);
                    model.0.retain(|e| e.1 != w);
                }
                Op::Remove(p, w, t) => {
                    let kind = WatcherType::ALL[t as usize];
                    prop_assert_eq!(manager.remove_watches(PATHS[p], w, kind), model.remove(PATHS[p], w, kind));
                }
                Op::Check(p, w, t) => {
                    let kind = WatcherType::ALL[t as usize];
                    prop_assert_eq!(manager.check_watches(PATHS[p], w, kind), model.check(PATHS[p], w, kind));
                }
            }
            prop_assert_eq!(manager.watch_count(), model.watch_count());
        }
    }
}
