//! A long generated txn log applied both here and by Apache ZooKeeper 3.8.0's `DataTree`.
//!
//! How the oracle values were obtained: `cargo test -p zk-server --lib -- --ignored
//! write_differential_log` with `ZK_DIFF_LOG=/tmp/zk-diff.bin` writes the log below as
//! `[int length][TxnEntry bytes]...`; `oracle/DiffOracle.java` (next to this file), compiled and run
//! against Debian's `/usr/share/java/zookeeper.jar` 3.8.0 (+ `zookeeper-jute.jar`, `slf4j-api.jar`,
//! `slf4j-nop.jar`, `-Dzookeeper.extendedTypesEnabled=true`), decodes each entry with
//! `SerializeUtils.deserializeTxn`, applies it with `DataTree.processTxn` and prints the values
//! hard-coded in [`ZOOKEEPER`]. Both sides fingerprint their state with the same text dump.

use std::fmt::Write as _;

use bytes::Bytes;
use zk_proto::{Acl, Id, Jute, NodeKind, OpCode, TxnBody, TxnEntry};

use super::txns::*;
use crate::tree::DataTree;

/// A small deterministic generator (xorshift64*), so the log is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NAMES: [&str; 4] = ["a", "b", "c", "d"];
const SESSIONS: [i64; 3] = [0x101, 0x202, 0x303];

fn acls() -> [Vec<Acl>; 3] {
    [Acl::open_unsafe(), Acl::read_unsafe(), vec![Acl::new(31, Id::new("digest", "u:x")), Acl::new(1, Id::anyone())]]
}

/// Every node but the root, depth first with children in name order (the order the log was generated
/// with, which the oracle's numbers depend on).
fn depth_first(tree: &DataTree) -> Vec<String> {
    let mut paths = Vec::new();
    let mut stack = vec!["/".to_owned()];
    while let Some(at) = stack.pop() {
        let children: Vec<String> = tree.children(&at).into_iter().flatten().map(str::to_owned).collect();
        let prefix = if at == "/" { String::new() } else { at.clone() };
        if at != "/" {
            paths.push(at);
        }
        stack.extend(children.iter().rev().map(|child| format!("{prefix}/{child}")));
    }
    paths
}

/// A random existing node other than the root (or the root if there is none).
fn existing(tree: &DataTree, rng: &mut Rng) -> String {
    let paths = depth_first(tree);
    if paths.is_empty() {
        "/".into()
    } else {
        rng.pick(&paths).clone()
    }
}

/// A create txn body for a random child of a random existing node, if the parent may have children.
fn create_body(tree: &DataTree, rng: &mut Rng) -> Option<(OpCode, TxnBody, i64)> {
    let parent = if rng.below(4) == 0 { "/".to_owned() } else { existing(tree, rng) };
    let parent_node = tree.get(&parent)?;
    if matches!(parent_node.kind(), NodeKind::Ephemeral(_)) || parent.starts_with("/zookeeper") {
        return None;
    }
    let cversion = parent_node.stat_persisted().cversion;
    let prefix = if parent == "/" { String::new() } else { parent };
    let mut path = format!("{prefix}/{}", rng.pick(&NAMES));
    let kind = rng.below(6);
    if kind == 5 {
        path = crate::tree::path::sequential_path(&format!("{path}-"), cversion);
    }
    if tree.exists(&path) {
        return None;
    }
    let data = match rng.below(4) {
        0 => None,
        n => Some(Bytes::from(vec![b'a' + n as u8; n * 3])),
    };
    let acl = rng.pick(&acls()).clone();
    let session = *rng.pick(&SESSIONS);
    let pcv = cversion + 1;
    Some(match kind {
        0 | 5 => (OpCode::Create, create(&path, data, acl, false, pcv), 0x1),
        1 => (OpCode::Create2, create(&path, data, acl, true, pcv), session),
        2 => (OpCode::CreateContainer, create_container(&path, data, pcv), 0x1),
        3 => (OpCode::CreateTtl, create_ttl(&path, data, pcv, 1 + rng.below(100_000) as i64), 0x1),
        _ => (OpCode::Create, create(&path, data, acl, true, pcv), session),
    })
}

/// One valid single-op write against `tree`, or `None` if the random pick does not apply.
fn single_op(tree: &DataTree, rng: &mut Rng) -> Option<(OpCode, TxnBody, i64)> {
    match rng.below(10) {
        0..=3 => create_body(tree, rng),
        4 | 5 => {
            let path = existing(tree, rng);
            let node = tree.get(&path)?;
            (node.num_children() == 0 && !path.starts_with("/zookeeper")).then(|| (OpCode::Delete, delete(&path), 0x1))
        }
        6 | 7 => {
            let path = if rng.below(10) == 0 { "/".to_owned() } else { existing(tree, rng) };
            if path.starts_with("/zookeeper/quota") {
                return None; // a client-written stats node makes ZooKeeper's apply throw
            }
            let version = tree.get(&path)?.stat_persisted().version + 1;
            let data = if rng.below(5) == 0 { None } else { Some(Bytes::from(format!("v{version}"))) };
            Some((OpCode::SetData, set_data(&path, data, version), 0x1))
        }
        8 => {
            let path = existing(tree, rng);
            let aversion = tree.get(&path)?.stat_persisted().aversion + 1;
            Some((OpCode::SetAcl, set_acl(&path, rng.pick(&acls()).clone(), aversion), 0x1))
        }
        _ => {
            let path = existing(tree, rng);
            let version = tree.get(&path)?.stat_persisted().version;
            Some((OpCode::Check, check(&path, version), 0x1))
        }
    }
}

/// The next txn of setting up (or, once complete, sometimes removing) a quota on a random node: the
/// `/zookeeper/quota/...` chain, then `zookeeper_limits`, then `zookeeper_stats`, as `setquota` does.
fn quota_step(tree: &DataTree, rng: &mut Rng) -> Option<(OpCode, TxnBody, i64)> {
    let root = existing(tree, rng);
    if root == "/" || root.starts_with("/zookeeper") {
        return None;
    }
    let mut steps: Vec<(String, &[u8])> = Vec::new();
    let mut at = crate::tree::QUOTA_PATH.to_owned();
    for segment in root.split('/').skip(1) {
        at = format!("{at}/{segment}");
        steps.push((at.clone(), b""));
    }
    let limits = format!("{at}/{}", crate::tree::LIMIT_NODE);
    let stats = format!("{at}/{}", crate::tree::STAT_NODE);
    steps.push((limits.clone(), b"count=5,bytes=-1"));
    steps.push((stats.clone(), b"count=0,bytes=0"));
    let missing = steps.iter().find(|(path, _)| !tree.exists(path));
    match missing {
        Some((path, data)) => {
            let parent = crate::tree::path::parent(path)?;
            let pcv = tree.get(parent)?.stat_persisted().cversion + 1;
            Some((
                OpCode::Create,
                create(path, Some(Bytes::copy_from_slice(data)), Acl::open_unsafe(), false, pcv),
                0x1,
            ))
        }
        None if rng.below(3) == 0 => Some((OpCode::Delete, delete(&limits), 0x1)),
        None => None,
    }
}

/// The generated log: single writes, multis (some failed), session closes, quota setup and removal,
/// and replayed old txns.
pub(super) fn log() -> Vec<TxnEntry> {
    let mut rng = Rng(0x5EED_2026_0000_0001);
    let mut tree = DataTree::new();
    let mut log: Vec<TxnEntry> = Vec::new();
    let mut zxid = 0x1_0000_0000_i64;
    while log.len() < 600 {
        let next = zxid + 1;
        let entry = match rng.below(20) {
            0 => {
                let session = *rng.pick(&SESSIONS);
                let mut owned: Vec<&str> = tree.ephemerals(session).collect();
                if rng.below(3) == 0 {
                    owned.pop(); // an ephemeral the txn does not list is deleted too
                }
                entry(session, next, OpCode::CloseSession, close_session(&owned))
            }
            1 | 2 => {
                let mut scratch = tree.clone();
                let mut subs = Vec::new();
                for _ in 0..2 + rng.below(3) {
                    let Some((op, body, _)) = single_op(&scratch, &mut rng) else { continue };
                    if matches!(op, OpCode::SetAcl | OpCode::Create2) {
                        continue;
                    }
                    let op = if op == OpCode::Delete && rng.below(2) == 0 { OpCode::DeleteContainer } else { op };
                    scratch.apply(&entry(0x1, next, op, body.clone()));
                    subs.push((op, body));
                }
                if subs.is_empty() {
                    continue;
                }
                if rng.below(3) == 0 {
                    let at = rng.below(subs.len());
                    subs[at] = (OpCode::Error, error(-101));
                    for later in subs.iter_mut().skip(at + 1) {
                        *later = (OpCode::Error, error(-2));
                    }
                }
                entry(0x1, next, OpCode::Multi, multi(subs))
            }
            3 if !log.is_empty() => {
                // A replayed old txn (as after a fuzzy snapshot), under a new zxid.
                let old = rng.pick(&log).clone();
                TxnEntry { header: zk_proto::TxnHeader { zxid: next, time: T0 + next, ..old.header }, ..old }
            }
            4 => entry(*rng.pick(&SESSIONS), next, OpCode::CreateSession, TxnBody::CreateSession(Default::default())),
            5 | 6 => match quota_step(&tree, &mut rng) {
                Some((op, body, client)) => entry(client, next, op, body),
                None => continue,
            },
            _ => match single_op(&tree, &mut rng) {
                // A check is only logged inside a multi.
                Some((op, body, client)) if op != OpCode::Check => entry(client, next, op, body),
                _ => continue,
            },
        };
        zxid = next;
        tree.apply(&entry);
        log.push(entry);
    }
    log
}

/// The text both sides fingerprint: every node (sorted by path) with its client stat, ACL index,
/// data and children, then the ACL cache, then the sorted container, TTL and ephemeral paths.
pub(super) fn dump(tree: &DataTree) -> String {
    let mut paths: Vec<&str> = tree.paths().collect();
    paths.sort();
    let mut out = String::new();
    for path in paths {
        let node = tree.get(path).expect("listed");
        let s = node.stat();
        let data = node.data().map_or("null".to_owned(), |d| d.iter().map(|b| format!("{b:02x}")).collect());
        let children: Vec<&str> = tree.children(path).into_iter().flatten().collect();
        let _ = writeln!(
            out,
            "{path}|{},{},{},{},{},{},{},{},{},{},{}|{}|{data}|{}",
            s.czxid,
            s.mzxid,
            s.ctime,
            s.mtime,
            s.version,
            s.cversion,
            s.aversion,
            s.ephemeral_owner,
            s.data_length,
            s.num_children,
            s.pzxid,
            node.acl_index(),
            children.join(",")
        );
    }
    for (index, acl) in tree.acl_cache().entries() {
        let list: Vec<String> = acl.iter().map(|a| format!("{}:{}:{}", a.perms, a.id.scheme, a.id.id)).collect();
        let _ = writeln!(out, "acl|{index}|{}", list.join(";"));
    }
    let _ = writeln!(out, "containers|{}", tree.containers().collect::<Vec<_>>().join(","));
    let _ = writeln!(out, "ttls|{}", tree.ttl_nodes().collect::<Vec<_>>().join(","));
    let mut ephemerals: Vec<&str> = tree.sessions_with_ephemerals().flat_map(|s| tree.ephemerals(s)).collect();
    ephemerals.sort();
    let _ = writeln!(out, "ephemerals|{}", ephemerals.join(","));
    out
}

/// What ZooKeeper 3.8.0 printed for the log (see the module docs).
struct Oracle {
    final_digest: i64,
    /// CRC-32 of the lines `zxid:err:digest` after every txn.
    results_crc: u32,
    /// CRC-32 of [`dump`].
    dump_crc: u32,
    node_count: usize,
    cached_data_size: i64,
    all_children: i32,
}

const ZOOKEEPER: Oracle = Oracle {
    final_digest: 92579482308,
    results_crc: 2122249550,
    dump_crc: 2403620480,
    node_count: 85,
    cached_data_size: 2222,
    all_children: 83,
};

#[test]
fn generated_log_gives_zookeepers_results_digests_and_final_state() {
    let mut tree = DataTree::new();
    let mut results = String::new();
    for entry in log() {
        let outcome = tree.apply(&entry);
        let _ = writeln!(results, "{}:{}:{}", entry.header.zxid, outcome.err.code(), tree.digest());
    }
    assert_eq!(tree.digest(), ZOOKEEPER.final_digest);
    assert_eq!(crc32fast::hash(results.as_bytes()), ZOOKEEPER.results_crc, "per-txn results");
    assert_eq!(crc32fast::hash(dump(&tree).as_bytes()), ZOOKEEPER.dump_crc, "final state:\n{}", dump(&tree));
    assert_eq!(tree.node_count(), ZOOKEEPER.node_count);
    assert_eq!(tree.approximate_data_size(), ZOOKEEPER.cached_data_size);
    assert_eq!(tree.get_all_children_number("/"), ZOOKEEPER.all_children);
}

#[test]
#[ignore = "writes the log for the Java oracle; set ZK_DIFF_LOG"]
fn write_differential_log() {
    let Ok(target) = std::env::var("ZK_DIFF_LOG") else { return };
    let mut out = Vec::new();
    for entry in log() {
        let bytes = entry.to_bytes();
        out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    std::fs::write(target, out).expect("write the log");
    let mut tree = DataTree::new();
    for entry in log() {
        tree.apply(&entry);
    }
    std::fs::write(std::env::var("ZK_DIFF_DUMP").unwrap_or("/tmp/zk-diff-rust.txt".into()), dump(&tree))
        .expect("write the dump");
}
