//! Quota bookkeeping, as ZooKeeper's `DataTree` keeps it: a path with a quota has a
//! `/zookeeper/quota<path>/zookeeper_limits` node, and its `zookeeper_stats` sibling holds the count
//! and bytes of the subtree (`count=N,bytes=M`), updated in place (no txn, no version change) by every
//! create, delete and setData below the path, and recomputed when the stats node is created or a
//! snapshot is loaded. Quotas are not enforced; the stats are what `listquota` shows.

use std::sync::Arc;

use bytes::Bytes;

use super::{key, node_size, path, DataTree, QUOTA_PATH};

/// The limits node's name (`Quotas.limitNode`).
pub const LIMIT_NODE: &str = "zookeeper_limits";
/// The stats node's name (`Quotas.statNode`).
pub const STAT_NODE: &str = "zookeeper_stats";

/// `StatsTrack`: `key=value` pairs separated by commas, `count` and `bytes` first.
#[derive(Debug, Default, PartialEq, Eq)]
struct StatsTrack {
    count: i64,
    bytes: i64,
    others: Vec<(String, String)>,
}

impl StatsTrack {
    fn parse(data: Option<&Bytes>) -> StatsTrack {
        let mut track = StatsTrack::default();
        let text = data.map(|d| String::from_utf8_lossy(d).into_owned()).unwrap_or_default();
        for pair in text.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "count" => track.count = v.trim().parse().unwrap_or(0),
                "bytes" => track.bytes = v.trim().parse().unwrap_or(0),
                _ => track.others.push((k.to_owned(), v.to_owned())),
            }
        }
        track.others.sort();
        track
    }

    fn to_bytes(&self) -> Bytes {
        let mut text = format!("count={},bytes={}", self.count, self.bytes);
        for (k, v) in &self.others {
            text.push_str(&format!(",{k}={v}"));
        }
        Bytes::from(text)
    }
}

/// For a path under the quota root ending in `/<node>`, the quota'd path it belongs to.
fn quota_target<'a>(path: &'a str, node: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(QUOTA_PATH)?;
    let target = rest.strip_suffix(node)?.strip_suffix('/')?;
    (!target.is_empty()).then_some(target)
}

impl DataTree {
    /// The deepest quota'd path at or above `path` (`getMaxPrefixWithQuota`; never the root).
    fn quota_prefix(&self, path: &str) -> Option<Arc<str>> {
        if self.quotas.is_empty() {
            return None;
        }
        path::self_and_ancestors(key(path)).take_while(|p| *p != "/").find_map(|p| self.quotas.get(p).cloned())
    }

    /// Rewrites a stats node's data in place (no version or zxid change, as ZooKeeper does).
    fn rewrite_stats(&mut self, stat_path: &str, change: impl FnOnce(&mut StatsTrack)) {
        let Some(node) = self.get(stat_path) else {
            tracing::warn!(stat_path, "quota stats node missing");
            return;
        };
        let mut track = StatsTrack::parse(node.data.as_ref());
        let old_size = node_size(stat_path, node.data.as_deref());
        change(&mut track);
        let data = track.to_bytes();
        self.data_size += node_size(stat_path, Some(&data)) - old_size;
        self.modify(stat_path, |node| node.data = Some(data));
    }

    /// `updateQuotaStat` for a change at `path` (called after the change).
    pub(super) fn quota_changed(&mut self, path: &str, count_diff: i64, bytes_diff: i64) {
        if let Some(prefix) = self.quota_prefix(path) {
            let stat_path = format!("{QUOTA_PATH}{prefix}/{STAT_NODE}");
            self.rewrite_stats(&stat_path, |track| {
                track.count += count_diff;
                track.bytes += bytes_diff;
            });
        }
    }

    /// `updateQuotaForPath`: recounts the subtree of `target` into its stats node.
    fn recount_quota(&mut self, target: &str) {
        let (mut count, mut bytes) = (0i64, 0i64);
        let mut stack = vec![key(target).to_owned()];
        while let Some(p) = stack.pop() {
            let Some(node) = self.get(&p) else { continue };
            count += 1;
            bytes += node.data.as_ref().map_or(0, |d| d.len() as i64);
            stack.extend(node.children.iter().map(|child| child.to_string()));
        }
        let stat_path = format!("{QUOTA_PATH}{target}/{STAT_NODE}");
        self.rewrite_stats(&stat_path, |track| {
            track.count = count;
            track.bytes = bytes;
        });
    }

    /// After `path` was created: a new limits node adds a quota, a new stats node is recounted.
    pub(super) fn quota_node_created(&mut self, path: &str) {
        if let Some(target) = quota_target(path, LIMIT_NODE) {
            self.quotas.insert(target.into());
        }
        if let Some(target) = quota_target(path, STAT_NODE) {
            self.recount_quota(target);
        }
    }

    /// After `path` was deleted: a deleted limits node removes its quota.
    pub(super) fn quota_node_deleted(&mut self, path: &str) {
        if let Some(target) = quota_target(path, LIMIT_NODE) {
            self.quotas.remove(target);
        }
    }

    /// `setupQuota` after loading a snapshot: every limits node's quota, with its stats recounted.
    pub(super) fn setup_quotas(&mut self) {
        let limits: Vec<String> = self
            .nodes
            .keys()
            .filter(|p| p.starts_with(QUOTA_PATH) && path::name(p) == LIMIT_NODE)
            .map(|p| p.to_string())
            .collect();
        for limit in limits {
            if let Some(target) = quota_target(&limit, LIMIT_NODE) {
                self.quotas.insert(target.into());
                self.recount_quota(target);
            }
        }
    }

    /// The quota'd paths (those with a limits node).
    pub fn quota_paths(&self) -> impl Iterator<Item = &str> + '_ {
        self.quotas.iter().map(|p| &**p)
    }
}

#[cfg(test)]
mod tests {
    use zk_proto::{Acl, OpCode, TxnEntry};

    use super::*;
    use crate::tree::tests::txns::*;
    use crate::tree::DataTreeBuilder;

    fn stats(tree: &DataTree, path: &str) -> Option<Bytes> {
        tree.data(&format!("{QUOTA_PATH}{path}/{STAT_NODE}")).flatten().cloned()
    }

    /// What zkCli's `setquota -n 5 /q` does: the quota node, then its stats and limits nodes.
    fn set_quota(first_zxid: i64) -> Vec<TxnEntry> {
        let open = Acl::open_unsafe;
        vec![
            entry(1, first_zxid, OpCode::Create, create("/zookeeper/quota/q", None, open(), false, -1)),
            entry(
                1,
                first_zxid + 1,
                OpCode::Create,
                create("/zookeeper/quota/q/zookeeper_stats", data(b"count=0,bytes=0"), open(), false, -1),
            ),
            entry(
                1,
                first_zxid + 2,
                OpCode::Create,
                create("/zookeeper/quota/q/zookeeper_limits", data(b"count=5,bytes=-1"), open(), false, -1),
            ),
        ]
    }

    #[test]
    fn stats_follow_creates_deletes_and_set_data_below_the_quota_path() {
        let open = Acl::open_unsafe;
        let mut tree = DataTree::new();
        tree.apply(&entry(1, 1, OpCode::Create, create("/q", data(b""), open(), false, -1)));
        tree.apply(&entry(1, 2, OpCode::Create, create("/q/a", data(b"12345"), open(), false, -1)));
        tree.apply(&entry(1, 3, OpCode::Create, create("/other", data(b"zz"), open(), false, -1)));
        for txn in set_quota(4) {
            tree.apply(&txn);
        }
        // Recounted when the stats node is created: /q and /q/a.
        assert_eq!(stats(&tree, "/q"), data(b"count=2,bytes=5"));
        tree.apply(&entry(1, 7, OpCode::Create, create("/q/a/b", data(b"xy"), open(), false, -1)));
        tree.apply(&entry(1, 8, OpCode::SetData, set_data("/q/a", data(b"1"), 1)));
        tree.apply(&entry(1, 9, OpCode::SetData, set_data("/other", data(b"not counted"), 1)));
        assert_eq!(stats(&tree, "/q"), data(b"count=3,bytes=3"));
        tree.apply(&entry(1, 10, OpCode::Delete, delete("/q/a/b")));
        assert_eq!(stats(&tree, "/q"), data(b"count=2,bytes=1"));
        assert_eq!(tree.approximate_data_size(), tree.recompute_data_size());
        assert_eq!(tree.digest(), tree.recompute_digest());
        // The stats node changes in place: no new version, zxid or digest.
        let stat = tree.stat("/zookeeper/quota/q/zookeeper_stats").unwrap();
        assert_eq!((stat.version, stat.mzxid), (0, 5));

        // A snapshot does not carry the quota set: loading recounts it (`setupQuota`).
        let mut builder = DataTreeBuilder::new();
        for (index, acl) in tree.acl_cache().entries() {
            builder.acl(index, acl.to_vec());
        }
        for node in tree.snapshot_nodes() {
            builder.node(node.path, node.data.cloned(), node.acl_index, node.stat.clone()).unwrap();
        }
        let mut loaded = builder.finish(10).unwrap();
        assert_eq!(loaded.quota_paths().collect::<Vec<_>>(), ["/q"]);
        loaded.apply(&entry(1, 11, OpCode::Create, create("/q/c", data(b"abc"), open(), false, -1)));
        assert_eq!(stats(&loaded, "/q"), data(b"count=3,bytes=4"));

        // Deleting the limits node ends the accounting.
        loaded.apply(&entry(1, 12, OpCode::Delete, delete("/zookeeper/quota/q/zookeeper_limits")));
        loaded.apply(&entry(1, 13, OpCode::Delete, delete("/q/c")));
        assert_eq!(stats(&loaded, "/q"), data(b"count=3,bytes=4"));
        assert_eq!(loaded.quota_paths().count(), 0);
    }

    #[test]
    fn stats_track_keeps_count_and_bytes_first() {
        let track = StatsTrack::parse(Some(&Bytes::from_static(b"bytes=5,count=2,countHardLimit=-1")));
        assert_eq!((track.count, track.bytes), (2, 5));
        assert_eq!(track.to_bytes(), Bytes::from_static(b"count=2,bytes=5,countHardLimit=-1"));
        assert_eq!(StatsTrack::parse(None).to_bytes(), Bytes::from_static(b"count=0,bytes=0"));
    }

    #[test]
    fn quota_target_of_limit_and_stat_nodes() {
        assert_eq!(quota_target("/zookeeper/quota/a/b/zookeeper_limits", LIMIT_NODE), Some("/a/b"));
        assert_eq!(quota_target("/zookeeper/quota/a/zookeeper_stats", STAT_NODE), Some("/a"));
        assert_eq!(quota_target("/zookeeper/quota/zookeeper_limits", LIMIT_NODE), None);
        assert_eq!(quota_target("/a/zookeeper_limits", LIMIT_NODE), None);
    }
}
