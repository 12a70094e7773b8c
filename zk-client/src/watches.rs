//! The client-side watch table (sans-IO): which local watchers wait on which server path, how a
//! server notification fans out to them, and the `SetWatches`/`SetWatches2` batches that re-register
//! them after a reconnect.

use std::collections::{BTreeMap, HashMap};

use zk_proto::{EventType, Request, SetWatches, SetWatches2, WatcherType};

/// Identifies one local watcher (one `OneshotWatcher` or `PersistentWatcher`).
pub(crate) type WatcherId = u64;

/// What a watcher waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum WatchKind {
    /// One-shot data watch (getData, or exists on a present node).
    Data,
    /// One-shot exist watch (exists on a missing node).
    Exist,
    /// One-shot child watch (getChildren).
    Child,
    /// Persistent watch on one node.
    Persistent,
    /// Persistent watch on a subtree.
    PersistentRecursive,
}

impl WatchKind {
    const ALL: [WatchKind; 5] =
        [WatchKind::Data, WatchKind::Exist, WatchKind::Child, WatchKind::Persistent, WatchKind::PersistentRecursive];

    fn index(self) -> usize {
        self as usize
    }

    /// Whether one event consumes the watch.
    pub(crate) fn is_oneshot(self) -> bool {
        matches!(self, WatchKind::Data | WatchKind::Exist | WatchKind::Child)
    }

    /// Whether `removeWatches(type)` removes this kind, and the event that reports the removal.
    fn removed_by(self, watcher_type: WatcherType) -> Option<EventType> {
        let event = match self {
            WatchKind::Data | WatchKind::Exist => EventType::DataWatchRemoved,
            WatchKind::Child => EventType::ChildWatchRemoved,
            WatchKind::Persistent | WatchKind::PersistentRecursive => EventType::PersistentWatchRemoved,
        };
        let matches = match watcher_type {
            WatcherType::Any => true,
            WatcherType::Data => matches!(self, WatchKind::Data | WatchKind::Exist),
            WatcherType::Children => self == WatchKind::Child,
            WatcherType::Persistent => self == WatchKind::Persistent,
            WatcherType::PersistentRecursive => self == WatchKind::PersistentRecursive,
        };
        matches.then_some(event)
    }
}

/// SetWatches batches are cut at about this many bytes of path text, as the Java client does.
const SET_WATCHES_BATCH: usize = 128 * 1024;

/// All live local watchers, by kind and server path.
#[derive(Debug, Default)]
pub(crate) struct WatchRegistry {
    tables: [BTreeMap<String, Vec<WatcherId>>; 5],
    index: HashMap<WatcherId, (WatchKind, String)>,
}

impl WatchRegistry {
    /// Registers watcher `id` for `kind` events on `path`.
    pub(crate) fn add(&mut self, id: WatcherId, kind: WatchKind, path: String) {
        self.tables[kind.index()].entry(path.clone()).or_default().push(id);
        self.index.insert(id, (kind, path));
    }

    /// Removes watcher `id`. Returns its kind and path, and whether it was the last watcher of that kind
    /// on that path.
    pub(crate) fn remove(&mut self, id: WatcherId) -> Option<(WatchKind, String, bool)> {
        let (kind, path) = self.index.remove(&id)?;
        let table = &mut self.tables[kind.index()];
        let mut last = false;
        if let Some(ids) = table.get_mut(&path) {
            ids.retain(|&w| w != id);
            if ids.is_empty() {
                table.remove(&path);
                last = true;
            }
        }
        Some((kind, path, last))
    }

    /// Whether any watcher, of any kind, waits on `path`.
    pub(crate) fn is_watched(&self, path: &str) -> bool {
        self.tables.iter().any(|table| table.contains_key(path))
    }

    /// Whether watcher `id` is registered.
    #[cfg(test)]
    pub(crate) fn contains(&self, id: WatcherId) -> bool {
        self.index.contains_key(&id)
    }

    /// Whether there are no watchers at all.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The watchers a server notification reaches. One-shot watchers it reaches are removed (the
    /// `bool` is true for them: the watcher is finished).
    pub(crate) fn dispatch(&mut self, event_type: EventType, path: &str) -> Vec<(WatcherId, bool)> {
        let mut hit = Vec::new();
        let oneshot: &[WatchKind] = match event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => &[WatchKind::Data, WatchKind::Exist],
            EventType::NodeChildrenChanged => &[WatchKind::Child],
            EventType::NodeDeleted => &[WatchKind::Data, WatchKind::Exist, WatchKind::Child],
            _ => &[],
        };
        for &kind in oneshot {
            for id in self.tables[kind.index()].remove(path).unwrap_or_default() {
                self.index.remove(&id);
                hit.push((id, true));
            }
        }
        if let Some(ids) = self.tables[WatchKind::Persistent.index()].get(path) {
            hit.extend(ids.iter().map(|&id| (id, false)));
        }
        if event_type != EventType::NodeChildrenChanged {
            let recursive = &self.tables[WatchKind::PersistentRecursive.index()];
            for ancestor in ancestors(path) {
                if let Some(ids) = recursive.get(ancestor) {
                    hit.extend(ids.iter().map(|&id| (id, false)));
                }
            }
        }
        hit
    }

    /// Removes the watchers on `path` that `removeWatches(watcher_type)` removes, with the event type
    /// each is told.
    pub(crate) fn remove_path(&mut self, path: &str, watcher_type: WatcherType) -> Vec<(WatcherId, EventType)> {
        let mut removed = Vec::new();
        for kind in WatchKind::ALL {
            let Some(event) = kind.removed_by(watcher_type) else { continue };
            for id in self.tables[kind.index()].remove(path).unwrap_or_default() {
                self.index.remove(&id);
                removed.push((id, event));
            }
        }
        removed
    }

    /// Removes every watcher, returning their ids (session over).
    pub(crate) fn drain(&mut self) -> Vec<WatcherId> {
        for table in &mut self.tables {
            table.clear();
        }
        let mut ids: Vec<WatcherId> = self.index.drain().map(|(id, _)| id).collect();
        ids.sort_unstable();
        ids
    }

    /// The requests that re-register every watched path after a reconnect: `SetWatches` batches, or
    /// `SetWatches2` when a batch holds persistent watches. Paths are cut into batches of about 128 KiB.
    pub(crate) fn set_watches(&self, relative_zxid: i64) -> Vec<Request> {
        let mut batches = Vec::new();
        let mut batch: [Vec<String>; 5] = Default::default();
        let mut size = 0;
        for kind in WatchKind::ALL {
            for path in self.tables[kind.index()].keys() {
                if size + path.len() > SET_WATCHES_BATCH && size > 0 {
                    batches.push(to_request(relative_zxid, std::mem::take(&mut batch)));
                    size = 0;
                }
                size += path.len();
                batch[kind.index()].push(path.clone());
            }
        }
        if size > 0 {
            batches.push(to_request(relative_zxid, batch));
        }
        batches
    }
}

fn to_request(relative_zxid: i64, batch: [Vec<String>; 5]) -> Request {
    let [data_watches, exist_watches, child_watches, persistent_watches, persistent_recursive_watches] = batch;
    if persistent_watches.is_empty() && persistent_recursive_watches.is_empty() {
        Request::SetWatches(SetWatches { relative_zxid, data_watches, exist_watches, child_watches })
    } else {
        Request::SetWatches2(SetWatches2 {
            relative_zxid,
            data_watches,
            exist_watches,
            child_watches,
            persistent_watches,
            persistent_recursive_watches,
        })
    }
}

/// `path` and each of its ancestors up to `/`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.rfind('/') {
            _ if current == "/" => None,
            Some(0) => Some("/"),
            Some(i) => Some(&current[..i]),
            None => None,
        };
        Some(current)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_walk_to_root() {
        assert_eq!(ancestors("/a/b/c").collect::<Vec<_>>(), ["/a/b/c", "/a/b", "/a", "/"]);
        assert_eq!(ancestors("/").collect::<Vec<_>>(), ["/"]);
    }

    #[test]
    fn dispatch_follows_java_materialize() {
        let mut w = WatchRegistry::default();
        w.add(1, WatchKind::Data, "/a".into());
        w.add(2, WatchKind::Exist, "/b".into());
        w.add(3, WatchKind::Child, "/a".into());
        w.add(4, WatchKind::Persistent, "/a".into());
        w.add(5, WatchKind::PersistentRecursive, "/".into());
        assert_eq!(w.dispatch(EventType::NodeChildrenChanged, "/a"), [(3, true), (4, false)]);
        assert_eq!(w.dispatch(EventType::NodeDataChanged, "/a"), [(1, true), (4, false), (5, false)]);
        assert_eq!(w.dispatch(EventType::NodeDataChanged, "/a"), [(4, false), (5, false)]);
        assert_eq!(w.dispatch(EventType::NodeCreated, "/b"), [(2, true), (5, false)]);
        assert_eq!(w.dispatch(EventType::NodeChildrenChanged, "/"), []);
        assert_eq!(w.remove(4), Some((WatchKind::Persistent, "/a".into(), true)));
        assert_eq!(w.remove(4), None);
        assert_eq!(w.drain(), [5]);
        assert!(w.is_empty());
    }

    #[test]
    fn set_watches_uses_v2_only_with_persistent_watches() {
        let mut w = WatchRegistry::default();
        w.add(1, WatchKind::Data, "/d".into());
        w.add(2, WatchKind::Exist, "/e".into());
        w.add(3, WatchKind::Child, "/c".into());
        assert_eq!(
            w.set_watches(7),
            [Request::SetWatches(SetWatches {
                relative_zxid: 7,
                data_watches: vec!["/d".into()],
                exist_watches: vec!["/e".into()],
                child_watches: vec!["/c".into()],
            })]
        );
        w.add(4, WatchKind::PersistentRecursive, "/r".into());
        assert!(matches!(&w.set_watches(7)[..], [Request::SetWatches2(s)] if s.persistent_recursive_watches == ["/r"]));
    }

    #[test]
    fn set_watches_batches_large_sets() {
        let mut w = WatchRegistry::default();
        let long = "x".repeat(1000);
        for i in 0..300 {
            w.add(i, WatchKind::Data, format!("/{long}{i}"));
        }
        let batches = w.set_watches(0);
        assert_eq!(batches.len(), 3);
        let total: usize =
            batches.iter().map(|b| if let Request::SetWatches(s) = b { s.data_watches.len() } else { 0 }).sum();
        assert_eq!(total, 300);
    }

    #[test]
    fn remove_path_reports_the_removed_kinds() {
        let mut w = WatchRegistry::default();
        w.add(1, WatchKind::Data, "/a".into());
        w.add(2, WatchKind::Child, "/a".into());
        w.add(3, WatchKind::Persistent, "/a".into());
        assert_eq!(w.remove_path("/a", WatcherType::Children), [(2, EventType::ChildWatchRemoved)]);
        assert_eq!(
            w.remove_path("/a", WatcherType::Any),
            [(1, EventType::DataWatchRemoved), (3, EventType::PersistentWatchRemoved)]
        );
        assert!(w.is_empty());
    }
}
