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

/// Copies data into its own buffer so a long-lived node never pins a large network or log buffer.
fn own(data: Option<&Bytes>) -> Option<Bytes> {
    data.map(|data| if data.is_empty() { Bytes::new() } else { Bytes::copy_from_slice(data) })
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
        let path: Arc<str> = path.into();
        // One lookup for the parent: copied here if a snapshot shares it (even if the create then fails).
        let parent = self.nodes.get_mut(key(parent_name)).ok_or(ErrorCode::NoNode)?;
        let parent_acl = self.meta.acls.get(parent.acl).unwrap_or_else(|| Arc::from(Vec::new()));
        let exists = parent.children.contains(&path);
        let acl_index = self.meta.acls.intern(new.acl);
        if exists {
            return Err(ErrorCode::NodeExists);
        }
        self.meta.digest.remove(parent.digest);
        let cversion =
            if new.parent_cversion == -1 { parent.stat.cversion.wrapping_add(1) } else { new.parent_cversion };
        if cversion > parent.stat.cversion {
            parent.stat.cversion = cversion;
            parent.stat.pzxid = new.zxid;
        }
        parent.children.insert(path.clone());
        parent.refresh_digest(key(parent_name));
        self.meta.digest.add(parent.digest);
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
        let node = Node::new(&path, own(new.data), acl_index, stat);
        let client_stat = node.stat();
        let node_acl = self.acl_of(&node);
        let data_len = node.data.as_ref().map_or(0, Bytes::len);
        self.meta.data_size += node_size(&path, node.data.as_deref());
        if let Some(orphan) = self.insert_node(path.clone(), node) {
            // Left behind by a replayed delete of a non-empty node; ZooKeeper overwrites it too.
            tracing::warn!(path = &*path, "create replaces an orphaned node");
            self.meta.data_size -= node_size(&path, orphan.data.as_deref());
            self.untrack_kind(&path, &orphan);
            self.meta.acls.remove_usage(orphan.acl);
        }
        self.track_kind(&path, new.ephemeral_owner);
        self.quota_after_create(parent_name, child_name, &path, data_len);
        triggers.push(WatchTrigger { path: path.to_string(), event: EventType::NodeCreated, acl: node_acl });
        triggers.push(WatchTrigger {
            path: event_path(parent_name),
            event: EventType::NodeChildrenChanged,
            acl: parent_acl,
        });
        Ok(client_stat)
    }

    /// `deleteNode`: removes a node.
    ///
    /// As ZooKeeper: the parent's pzxid advances (when larger) even if the node is already gone, the
    /// parent's cversion is not changed, and the node's own children are not checked (the request
    /// stage refuses non-empty deletes; a replay can leave orphans, which a later create replaces).
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
        self.modify(parent_name, |parent| {
            parent.children.remove(path);
            if zxid > parent.stat.pzxid {
                parent.stat.pzxid = zxid;
            }
        })
        .ok_or(ErrorCode::NoNode)?;
        let node = self.remove_node(path).ok_or(ErrorCode::NoNode)?;
        if node.children.len() > 0 {
            tracing::warn!(path, children = node.children.len(), "deleted a node that still had children");
        }
        let node_acl = self.acl_of(&node);
        self.meta.acls.remove_usage(node.acl);
        self.meta.data_size -= node_size(path, node.data.as_deref());
        self.untrack_kind(path, &node);
        self.quota_after_delete(parent_name, child_name, path, node.data.as_ref().map_or(0, Bytes::len));
        let parent_acl = self.acl(parent_name).unwrap_or_else(|| Arc::from(Vec::new()));
        triggers.push(WatchTrigger { path: path.to_owned(), event: EventType::NodeDeleted, acl: node_acl });
        triggers.push(WatchTrigger {
            path: event_path(parent_name),
            event: EventType::NodeChildrenChanged,
            acl: parent_acl,
        });
        Ok(())
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
        let data = own(data);
        let new_len = data.as_ref().map_or(0, Bytes::len);
        let new_size = node_size(key(path), data.as_deref());
        let (old_len, old_size, stat) = self
            .modify(path, |node| {
                let old_len = node.data.as_ref().map_or(0, Bytes::len);
                let old_size = node_size(key(path), node.data.as_deref());
                node.data = data;
                node.stat.mtime = time;
                node.stat.mzxid = zxid;
                node.stat.version = version;
                (old_len, old_size, node.stat())
            })
            .ok_or(ErrorCode::NoNode)?;
        self.meta.data_size += new_size - old_size;
        self.quota_after_set_data(path, old_len, new_len);
        let acl = self.acl(path).unwrap_or_else(|| Arc::from(Vec::new()));
        triggers.push(WatchTrigger { path: key(path).to_owned(), event: EventType::NodeDataChanged, acl });
        Ok(stat)
    }

    /// `setACL`: the old list's use is released before the new one is counted (so re-setting the only
    /// use of a list moves it to a fresh index, as in ZooKeeper); aversion is set from the txn.
    pub(crate) fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, ErrorCode> {
        let old = self.get(path).ok_or(ErrorCode::NoNode)?.acl;
        self.meta.acls.remove_usage(old);
        let index = self.meta.acls.intern(acl);
        self.modify(path, |node| {
            node.stat.aversion = version;
            node.acl = index;
            node.stat()
        })
        .ok_or(ErrorCode::NoNode)
    }

    /// `setCversionPzxid`: the replay fix-up for a create that found its node already present.
    pub(crate) fn set_cversion_pzxid(&mut self, path: &str, cversion: i32, zxid: i64) -> Result<(), ErrorCode> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let node = self.get(path).ok_or(ErrorCode::NoNode)?;
        let cversion = if cversion == -1 { node.stat.cversion.wrapping_add(1) } else { cversion };
        if cversion > node.stat.cversion {
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

    pub(super) fn track_kind(&mut self, path: &Arc<str>, owner: i64) {
        match NodeKind::from_ephemeral_owner(owner) {
            NodeKind::Persistent => {}
            NodeKind::Container => {
                self.meta.containers.insert(path.clone());
            }
            NodeKind::Ttl(_) => {
                self.meta.ttls.insert(path.clone());
            }
            NodeKind::Ephemeral(session) => {
                self.meta.ephemerals.entry(session).or_default().insert(path.clone());
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
