//! The tree mutations behind txns (ZooKeeper's `createNode`, `deleteNode`, `setData`, `setACL`,
//! `setCversionPzxid`, `killSession`), with their replay tolerances.

use std::sync::Arc;

use bytes::Bytes;
use zk_proto::{Acl, ErrorCode, EventType, NodeKind, Stat, StatPersisted};

use super::node::Node;
use super::outcome::WatchTrigger;
use super::path::split_last;
use super::{key, node_size, DataTree, NodeStore};

/// What a create needs besides the path.
#[derive(Debug)]
pub(crate) struct NewNode<'a> {
    pub data: Option<&'a Bytes>,
    pub acl: &'a [Acl],
    pub ephemeral_owner: i64,
    /// The parent's cversion after the create; -1 means "current + 1".
    pub parent_cversion: i32,
    pub zxid: i64,
    pub time: i64,
}

/// The path ZooKeeper reports child-change events on: the root's internal name `""` becomes `/`.
fn event_path(parent: &str) -> String {
    key(parent).to_owned()
}

impl<S: NodeStore> DataTree<S> {
    /// `createNode`: adds a node under an existing parent.
    ///
    /// As ZooKeeper: the ACL is counted in the cache before the existence check (so a failed replay
    /// create keeps a reference); the parent's cversion only moves forward, and its pzxid moves with it.
    pub(crate) fn create_node(
        &mut self,
        path: &str,
        new: NewNode<'_>,
        triggers: &mut Vec<WatchTrigger>,
    ) -> Result<Stat, ErrorCode> {
        let (parent_name, child_name) = split_last(path).ok_or(ErrorCode::NoNode)?;
        if child_name.is_empty() {
            // Only reachable with an unvalidated path ("/" or a trailing slash); ZooKeeper would corrupt
            // its tree here.
            return Err(ErrorCode::BadArguments);
        }
        let parent = self.get(parent_name).ok_or(ErrorCode::NoNode)?.clone();
        // An orphan (see `delete_node`) is not its parent's child: a create replaces it, as in ZooKeeper.
        let exists = self.exists(path) && !self.meta.orphans.contains(path);
        let acl_index = self.meta.acls.intern(new.acl);
        if exists {
            return Err(ErrorCode::NodeExists);
        }
        self.insert_node(parent.edited(|parent| {
            let cversion =
                if new.parent_cversion == -1 { parent.stat.cversion.wrapping_add(1) } else { new.parent_cversion };
            if cversion > parent.stat.cversion {
                parent.stat.cversion = cversion;
                parent.stat.pzxid = new.zxid;
            }
            parent.num_children += 1;
        }));
        let stat = StatPersisted {
            czxid: new.zxid,
            mzxid: new.zxid,
            ctime: new.time,
            mtime: new.time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: new.ephemeral_owner,
            pzxid: new.zxid,
        };
        let node = Node::new(path, new.data.map(|data| &data[..]), acl_index, stat);
        let client_stat = node.stat();
        let data_len = node.data().map_or(0, <[u8]>::len);
        self.meta.data_size += node_size(path, node.data());
        if self.meta.orphans.contains(path) {
            // The new node starts childless: the orphan's children are nobody's now.
            self.orphan_children(path);
        }
        if let Some(orphan) = self.insert_node(node) {
            tracing::warn!(path, "create replaces an orphaned node");
            self.meta.orphans.remove(path);
            self.forget(&orphan);
        }
        self.track_kind(path, new.ephemeral_owner);
        self.quota_after_create(parent_name, child_name, path, data_len);
        if self.collects_triggers {
            let (node_acl, parent_acl) = (self.acl_or_none(path), self.acl_or_none(parent_name));
            triggers.push(WatchTrigger { path: path.to_owned(), event: EventType::NodeCreated, acl: node_acl });
            triggers.push(WatchTrigger {
                path: event_path(parent_name),
                event: EventType::NodeChildrenChanged,
                acl: parent_acl,
            });
        }
        Ok(client_stat)
    }

    /// `deleteNode`: removes a node.
    ///
    /// As ZooKeeper: the parent's pzxid advances (when larger) even if the node is already gone, and the
    /// parent's cversion is not changed. The request stage refuses non-empty deletes; a replay (over a
    /// fuzzy snapshot, or of a damaged log) can still delete a node with children. ZooKeeper then keeps
    /// the nodes below in its map, unreachable: so do we. Its children become orphans: still in the map,
    /// the digest and the node count, with their own children, but nobody's child, and left out of
    /// snapshots with everything below them. A later create of the same path replaces an orphan.
    pub(crate) fn delete_node(
        &mut self,
        path: &str,
        zxid: i64,
        triggers: &mut Vec<WatchTrigger>,
    ) -> Result<(), ErrorCode> {
        let (parent_name, child_name) = split_last(path).ok_or(ErrorCode::NoNode)?;
        if child_name.is_empty() {
            return Err(ErrorCode::BadArguments);
        }
        let exists = self.exists(path) && !self.meta.orphans.contains(path);
        self.modify(parent_name, |parent| {
            if exists {
                parent.num_children -= 1;
            }
            if zxid > parent.stat.pzxid {
                parent.stat.pzxid = zxid;
            }
        })
        .ok_or(ErrorCode::NoNode)?;
        let node = self.remove_node(path).ok_or(ErrorCode::NoNode)?;
        if !exists {
            self.meta.orphans.remove(path);
        }
        if node.num_children() > 0 {
            tracing::warn!(path, children = node.num_children(), "deleted a node that still had children");
            self.orphan_children(path);
        }
        // The node's ACL before `forget` releases its use.
        let node_acl = self.collects_triggers.then(|| self.acl_of(&node));
        self.forget(&node);
        self.quota_after_delete(parent_name, child_name, path, node.data().map_or(0, <[u8]>::len));
        if let Some(node_acl) = node_acl {
            let parent_acl = self.acl_or_none(parent_name);
            triggers.push(WatchTrigger { path: path.to_owned(), event: EventType::NodeDeleted, acl: node_acl });
            triggers.push(WatchTrigger {
                path: event_path(parent_name),
                event: EventType::NodeChildrenChanged,
                acl: parent_acl,
            });
        }
        Ok(())
    }

    /// Makes the children `path` lists orphans (see [`Self::delete_node`]); their own children stay
    /// theirs, as in ZooKeeper's unreachable nodes.
    fn orphan_children(&mut self, path: &str) {
        let children: Vec<Arc<str>> = self.child_nodes(path).into_iter().map(|child| Arc::from(child.path())).collect();
        for child in children {
            self.meta.orphans.insert(child);
        }
    }

    /// The bookkeeping for a node that left the tree: its ACL use, size and kind index.
    fn forget(&mut self, node: &Node) {
        self.meta.acls.remove_usage(node.acl_index());
        self.meta.data_size -= node_size(node.path(), node.data());
        self.untrack_kind(node.path(), node);
    }

    /// `setData`: new data, version (as given by the txn), mzxid and mtime.
    pub(crate) fn set_data(
        &mut self,
        path: &str,
        data: Option<&Bytes>,
        version: i32,
        zxid: i64,
        time: i64,
        triggers: &mut Vec<WatchTrigger>,
    ) -> Result<Stat, ErrorCode> {
        let data = data.map(|data| &data[..]);
        let old = self.get(path).ok_or(ErrorCode::NoNode)?.clone();
        let old_len = old.data().map_or(0, <[u8]>::len);
        let old_size = node_size(key(path), old.data());
        let node = old.with_data(data, |header| {
            header.stat.mtime = time;
            header.stat.mzxid = zxid;
            header.stat.version = version;
        });
        let stat = node.stat();
        self.insert_node(node);
        self.meta.data_size += node_size(key(path), data) - old_size;
        self.quota_after_set_data(path, old_len, data.map_or(0, <[u8]>::len));
        if self.collects_triggers {
            let acl = self.acl_or_none(path);
            triggers.push(WatchTrigger { path: key(path).to_owned(), event: EventType::NodeDataChanged, acl });
        }
        Ok(stat)
    }

    /// `setACL`: the old list's use is released before the new one is counted (so re-setting the only
    /// use of a list moves it to a fresh index, as in ZooKeeper); aversion is set from the txn.
    pub(crate) fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, ErrorCode> {
        let old = self.get(path).ok_or(ErrorCode::NoNode)?.clone();
        self.meta.acls.remove_usage(old.acl_index());
        let index = self.meta.acls.intern(acl);
        let node = old.edited(|node| {
            node.stat.aversion = version;
            node.set_acl(index);
        });
        let stat = node.stat();
        self.insert_node(node);
        Ok(stat)
    }

    /// `setCversionPzxid`: the replay fix-up for a create that found its node already present.
    pub(crate) fn set_cversion_pzxid(&mut self, path: &str, cversion: i32, zxid: i64) -> Result<(), ErrorCode> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let current = self.get(path).ok_or(ErrorCode::NoNode)?.stat_persisted().cversion;
        let cversion = if cversion == -1 { current.wrapping_add(1) } else { cversion };
        if cversion > current {
            self.modify(path, |node| {
                node.stat.cversion = cversion;
                node.stat.pzxid = zxid;
            });
        }
        Ok(())
    }

    /// `killSession`: deletes the txn's paths, then any other ephemeral the tree still lists for the
    /// session (a body-less closeSession from an old log lists none). Missing paths are skipped.
    pub(crate) fn kill_session(
        &mut self,
        session: i64,
        zxid: i64,
        listed: Option<&[String]>,
        triggers: &mut Vec<WatchTrigger>,
    ) -> Vec<String> {
        let mut remaining = self.meta.ephemerals.remove(&session).unwrap_or_default();
        let mut deleted = Vec::new();
        let mut delete = |tree: &mut DataTree<S>, path: &str| match tree.delete_node(path, zxid, triggers) {
            Ok(()) => deleted.push(path.to_owned()),
            Err(err) => tracing::warn!(path, session, ?err, "ephemeral of a closed session not deleted"),
        };
        if let Some(listed) = listed {
            for path in listed {
                delete(self, path);
                remaining.remove(path.as_str());
            }
            if !remaining.is_empty() {
                tracing::warn!(session, extra = remaining.len(), "ephemerals not listed in closeSession txn");
            }
        }
        for path in remaining.iter() {
            delete(self, path);
        }
        deleted
    }

    pub(super) fn track_kind(&mut self, path: &str, owner: i64) {
        match NodeKind::from_ephemeral_owner(owner) {
            NodeKind::Persistent => {}
            NodeKind::Container => {
                self.meta.containers.insert(path.into());
            }
            NodeKind::Ttl(_) => {
                self.meta.ttls.insert(path.into());
            }
            NodeKind::Ephemeral(session) => {
                self.meta.ephemerals.entry(session).or_default().insert(path.into());
            }
        }
    }

    pub(super) fn untrack_kind(&mut self, path: &str, node: &Node) {
        match node.kind() {
            NodeKind::Persistent => {}
            NodeKind::Container => {
                self.meta.containers.remove(path);
            }
            NodeKind::Ttl(_) => {
                self.meta.ttls.remove(path);
            }
            NodeKind::Ephemeral(session) => {
                if let Some(paths) = self.meta.ephemerals.get_mut(&session) {
                    paths.remove(path);
                    if paths.is_empty() {
                        self.meta.ephemerals.remove(&session);
                    }
                }
            }
        }
    }
}
