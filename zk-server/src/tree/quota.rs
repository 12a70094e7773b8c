//! Quota bookkeeping, as ZooKeeper's `DataTree` keeps it.
//!
//! A quota on `/p` is the pair of nodes `/zookeeper/quota/p/zookeeper_limits` (the limits) and
//! `/zookeeper/quota/p/zookeeper_stats` (the usage, `count=N,bytes=M[=;key=value...]`). Creating a
//! limits node registers `/p` as a quota root, creating a stats node recounts `/p`'s subtree into it,
//! and every create / delete / setData below a quota root updates the deepest root's stats node data in
//! place (no stat change, as in ZooKeeper). Deleting a limits node unregisters that root and every root
//! below it (ZooKeeper's `PathTrie.deletePath` drops the whole trie branch).
//!
//! Quota roots are kept normalized as ZooKeeper's `PathTrie` splits paths: segments that are blank after
//! trimming are ignored.

use std::sync::Arc;

use bytes::Bytes;
use zk_proto::ErrorCode;

use super::{DataTree, Node, NodeRead, NodeStore, QUOTA_PATH};

/// The limits node name.
pub const LIMIT_NODE: &str = "zookeeper_limits";
/// The stats node name.
pub const STAT_NODE: &str = "zookeeper_stats";

/// ZooKeeper's `PathTrie` form of a path: `/` + its non-blank segments.
fn normalize(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.trim_matches(|c| c <= ' ').is_empty()).collect();
    format!("/{}", segments.join("/"))
}

/// `StatsTrack`'s parsing: `key=value` pairs separated by `,` or `;` (an unparseable pair is skipped, where
/// ZooKeeper would throw).
fn parse_stats(text: &[u8]) -> std::collections::BTreeMap<String, i64> {
    let text = String::from_utf8_lossy(text);
    let mut stats = std::collections::BTreeMap::new();
    for pair in text.split([',', ';']).filter(|pair| !pair.is_empty()) {
        // Java's String.split drops trailing empty strings; a missing value is -1.
        let mut parts: Vec<&str> = pair.split('=').collect();
        while parts.last() == Some(&"") {
            parts.pop();
        }
        let value = match parts.get(1) {
            Some(&"") => Ok(-1),
            Some(value) => value.parse::<i64>(),
            None => "".parse::<i64>(),
        };
        match value {
            Ok(value) => {
                stats.insert(parts[0].to_owned(), value);
            }
            Err(_) => tracing::warn!(pair, "unparseable quota stats pair"),
        }
    }
    stats
}

/// `StatsTrack`: adds to `count` / `bytes`, and prints `count=..,bytes=..` first then other keys sorted
/// after an extra `=`.
fn adjust_stats(text: &[u8], bytes_diff: i64, count_diff: i64) -> Bytes {
    let mut stats = parse_stats(text);
    let count = stats.remove("count").unwrap_or(-1).wrapping_add(count_diff);
    let bytes = stats.remove("bytes").unwrap_or(-1).wrapping_add(bytes_diff);
    Bytes::from(format_stats(count, bytes, &stats))
}

fn format_stats(count: i64, bytes: i64, extra: &std::collections::BTreeMap<String, i64>) -> String {
    let mut out = format!("count={count},bytes={bytes}");
    if !extra.is_empty() {
        out.push('=');
        for (key, value) in extra {
            out.push_str(&format!(";{key}={value}"));
        }
    }
    out
}

impl<S: NodeStore> DataTree<S> {
    /// `updateQuotaStat`: adds to the stats node of `root` in place.
    fn add_to_quota_stats(&mut self, root: &str, bytes_diff: i64, count_diff: i64) {
        let stat_path = format!("{QUOTA_PATH}{root}/{STAT_NODE}");
        let updated = match self.get(&stat_path) {
            Some(node) => {
                let text = adjust_stats(node.data().unwrap_or_default(), bytes_diff, count_diff);
                self.replace_data(&stat_path, Some(&text[..]))
            }
            None => None,
        };
        if updated.is_none() {
            tracing::error!(path = stat_path, "missing quota stats node");
        }
    }

    /// `updateQuotaForPath`: recounts `path`'s subtree into its stats node.
    fn recount_quota(&mut self, path: &str) {
        let (mut count, mut bytes) = (0i64, 0i64);
        let mut stack: Vec<&Node> = self.get(path).into_iter().collect();
        while let Some(node) = stack.pop() {
            count += 1;
            bytes += node.data().map_or(0, |data| data.len() as i64);
            if node.num_children() > 0 {
                stack.extend(self.child_nodes(node.path()));
            }
        }
        let stat_path = format!("{QUOTA_PATH}{path}/{STAT_NODE}");
        let text = Bytes::from(format_stats(count, bytes, &Default::default()));
        if self.replace_data(&stat_path, Some(&text[..])).is_none() {
            tracing::warn!(path = stat_path, "missing quota stats node");
        }
    }

    /// The quota part of `createNode`.
    pub(crate) fn quota_after_create(&mut self, parent: &str, child: &str, path: &str, data_len: usize) {
        if let Some(root) = parent.strip_prefix(QUOTA_PATH).filter(|root| !root.is_empty()) {
            if child == LIMIT_NODE {
                self.meta.quotas.insert(Arc::from(normalize(root)));
            } else if child == STAT_NODE {
                self.recount_quota(root);
            }
        }
        if let Some(root) = self.quota_root_of(path) {
            self.add_to_quota_stats(&root, data_len as i64, 1);
        }
    }

    /// The quota part of `deleteNode`.
    pub(crate) fn quota_after_delete(&mut self, parent: &str, child: &str, path: &str, data_len: usize) {
        if let Some(root) = parent.strip_prefix(QUOTA_PATH).filter(|root| !root.is_empty()) {
            if child == LIMIT_NODE {
                let root = normalize(root);
                let below = format!("{root}/");
                let doomed: Vec<Arc<str>> =
                    self.meta.quotas.iter().filter(|q| ***q == *root || q.starts_with(&below)).cloned().collect();
                for quota in doomed {
                    self.meta.quotas.remove(&quota);
                }
            }
        }
        if let Some(root) = self.quota_root_of(path) {
            self.add_to_quota_stats(&root, -(data_len as i64), -1);
        }
    }

    /// The quota part of `setData`.
    pub(crate) fn quota_after_set_data(&mut self, path: &str, old_len: usize, new_len: usize) {
        if let Some(root) = self.quota_root_of(path) {
            self.add_to_quota_stats(&root, new_len as i64 - old_len as i64, 0);
        }
    }

    /// `setupQuota` after loading a snapshot: every leaf limits node under `/zookeeper/quota` registers
    /// its root and recounts it.
    pub(crate) fn setup_quotas(&mut self) {
        let marker = format!("/{LIMIT_NODE}");
        let mut roots = Vec::new();
        let mut stack: Vec<String> = vec![QUOTA_PATH.to_owned()];
        while let Some(at) = stack.pop() {
            let Some(node) = self.get(&at) else { continue };
            if node.num_children() == 0 {
                if at.ends_with(&marker) {
                    if let Some(end) = at.find(&marker) {
                        let root = &at[QUOTA_PATH.len()..end];
                        if !root.is_empty() {
                            roots.push(root.to_owned());
                        }
                    }
                }
                continue;
            }
            stack.extend(self.child_nodes(node.path()).into_iter().map(|child| child.path().to_owned()));
        }
        for root in roots {
            self.recount_quota(&root);
            self.meta.quotas.insert(Arc::from(normalize(&root)));
        }
    }
}

impl<S: NodeRead> DataTree<S> {
    /// The deepest quota root that is a prefix of `path` (`getMaxPrefixWithQuota`), never `/`.
    pub(super) fn quota_root_of(&self, path: &str) -> Option<String> {
        if self.meta.quotas.is_empty() {
            return None;
        }
        let normalized = normalize(path);
        let mut candidate = normalized.as_str();
        loop {
            if candidate.len() > 1 && self.meta.quotas.contains(candidate) {
                return Some(candidate.to_owned());
            }
            let slash = candidate.rfind('/')?;
            if slash == 0 {
                return None;
            }
            candidate = &candidate[..slash];
        }
    }

    /// ZooKeeper's `checkQuota` (with `zookeeper.enforceQuota`): would a change of `count_diff` nodes and
    /// `bytes_diff` bytes below `path` pass the deepest quota over it? Soft limits (`count`, `bytes`) only
    /// log; hard limits (`countHardLimit`, `byteHardLimit`, which replace the soft ones when set) refuse
    /// with `QuotaExceeded`.
    pub fn check_quota(&self, path: &str, bytes_diff: i64, count_diff: i64) -> Result<(), ErrorCode> {
        let Some(root) = self.quota_root_of(path) else { return Ok(()) };
        let data_of = |node: &str| {
            let node = format!("{QUOTA_PATH}{root}/{node}");
            self.get(&node).map(|n| parse_stats(n.data().unwrap_or_default()))
        };
        // ZooKeeper logs and lets the change through when either node is missing.
        let Some(limits) = data_of(LIMIT_NODE) else { return Ok(()) };
        let limit = |key: &str| limits.get(key).copied().unwrap_or(-1);
        let check_count = count_diff != 0 && (limit("count") > -1 || limit("countHardLimit") > -1);
        let check_bytes = bytes_diff != 0 && (limit("bytes") > -1 || limit("byteHardLimit") > -1);
        if !check_count && !check_bytes {
            return Ok(());
        }
        let Some(current) = data_of(STAT_NODE) else { return Ok(()) };
        let used = |key: &str| current.get(key).copied().unwrap_or(-1);
        for (enabled, key, hard_key, diff) in
            [(check_count, "count", "countHardLimit", count_diff), (check_bytes, "bytes", "byteHardLimit", bytes_diff)]
        {
            if !enabled {
                continue;
            }
            let hard = limit(hard_key) > -1;
            let cap = if hard { limit(hard_key) } else { limit(key) };
            let wanted = used(key).saturating_add(diff);
            if wanted > cap {
                tracing::warn!(root, key, wanted, cap, hard, "quota exceeded");
                if hard {
                    return Err(ErrorCode::QuotaExceeded);
                }
            }
        }
        Ok(())
    }

    /// The registered quota roots (normalized), in order.
    pub fn quota_roots(&self) -> impl Iterator<Item = &str> + '_ {
        self.meta.quotas.iter().map(|root| &**root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_blank_segments_like_path_trie() {
        assert_eq!(normalize("/a//b/ /c"), "/a/b/c");
        assert_eq!(normalize("/"), "/");
    }

    #[test]
    fn stats_keep_count_and_bytes_first_and_extra_keys_sorted() {
        assert_eq!(&adjust_stats(b"count=1,bytes=5", 3, 1)[..], b"count=2,bytes=8");
        assert_eq!(
            &adjust_stats(b"count=1,bytes=5=;countHardLimit=9;byteHardLimit=7", 0, -1)[..],
            b"count=0,bytes=5=;byteHardLimit=7;countHardLimit=9"
        );
        assert_eq!(&adjust_stats(b"", 2, 1)[..], b"count=0,bytes=1");
    }
}
