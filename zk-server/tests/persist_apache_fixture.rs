//! Reading a dataDir written by a real Apache ZooKeeper 3.8 (tests/fixtures/apache-datadir, see its
//! README.md), and writing byte-identical snapshots back.

use std::path::{Path, PathBuf};

use zk_proto::{OpCode, TxnBody};
use zk_server::persist::snapshot::{read_snapshot_file, write_snapshot_file, Snapshot, OPEN_UNSAFE_ACL_ID};
use zk_server::persist::txn_log::{read_log_file, EndReason, TxnLogReader};
use zk_server::persist::{Compression, DataDir, TxnLogOptions};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apache-datadir/version-2")
}

fn copy_fixture(to: &Path) {
    let dest = to.join("version-2");
    std::fs::create_dir_all(&dest).unwrap();
    for entry in std::fs::read_dir(fixture()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dest.join(entry.file_name())).unwrap();
    }
}

#[test]
fn every_txn_of_the_apache_logs_decodes() {
    let (txns, end, offset) = read_log_file(&fixture().join("log.1")).unwrap();
    assert_eq!(end, EndReason::ShortRead, "the fixture's zero padding was trimmed");
    assert_eq!(offset, std::fs::metadata(fixture().join("log.1")).unwrap().len());
    let zxids: Vec<i64> = txns.iter().map(|t| t.zxid).collect();
    assert_eq!(zxids, (1..=0x10).collect::<Vec<_>>());
    let ops: Vec<i32> = txns.iter().map(|t| t.entry.header.op_code).collect();
    assert_eq!(ops[0], OpCode::CreateSession.code());
    assert!(ops.contains(&OpCode::Multi.code()));
    assert!(ops.contains(&OpCode::SetAcl.code()));
    assert!(ops.contains(&OpCode::Delete.code()));
    // ZooKeeper 3.8 logs a digest with every txn.
    assert!(txns.iter().all(|t| t.entry.digest.as_ref().is_some_and(|d| d.version == 2)));
    let created: Vec<&str> = txns
        .iter()
        .filter_map(|t| match &t.entry.body {
            TxnBody::Create(c) => Some(c.path.as_str()),
            _ => None,
        })
        .collect();
    assert!(created.contains(&"/app/ephemeral"));
    assert!(created.contains(&"/app/seq-0000000001"));
    // The error txn of the failed multi.
    let failed_multi = txns.iter().find(|t| match &t.entry.body {
        TxnBody::Multi(m) => m.txns.iter().any(|sub| sub.op_code == OpCode::Error.code()),
        _ => false,
    });
    assert!(failed_multi.is_some());

    // The reader crosses files and fast-forwards like FileTxnIterator.
    let all: Vec<i64> = TxnLogReader::open(&fixture(), 0).unwrap().map(|t| t.unwrap().zxid).collect();
    assert_eq!(all.first(), Some(&1));
    assert!(all.windows(2).all(|w| w[1] == w[0] + 1), "{all:?}");
    let from: Vec<i64> = TxnLogReader::open(&fixture(), 0x12).unwrap().map(|t| t.unwrap().zxid).collect();
    assert_eq!(from.first(), Some(&0x12));
    assert_eq!(from.last(), all.last());
}

#[test]
fn every_node_of_the_apache_snapshots_reads_and_rewrites_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["snapshot.0", "snapshot.10"] {
        let original = std::fs::read(fixture().join(name)).unwrap();
        let snapshot = read_snapshot_file(&fixture().join(name)).unwrap();
        assert_eq!(snapshot.nodes[0].0, "", "the root comes first with path \"\"");
        assert!(snapshot.nodes.iter().any(|(p, _)| p == "/zookeeper/quota"));
        // ZooKeeper 3.8 writes the digest section but not the last processed zxid.
        assert!(snapshot.trailer.digest.is_some());
        assert_eq!(snapshot.trailer.last_processed_zxid, None);
        let zxid = i64::from_str_radix(name.trim_start_matches("snapshot."), 16).unwrap();
        let rewritten = write_snapshot_file(dir.path(), zxid, Compression::None, &snapshot).unwrap();
        assert_eq!(std::fs::read(rewritten).unwrap(), original, "{name} re-encodes identically");
        // And through the in-memory writer too.
        assert_eq!(snapshot.write(Vec::new()).unwrap(), original);
    }
}

#[test]
fn the_apache_snapshot_holds_what_was_written() {
    let snapshot = read_snapshot_file(&fixture().join("snapshot.10")).unwrap();
    let node = |path: &str| snapshot.nodes.iter().find(|(p, _)| p == path).map(|(_, n)| n.clone());
    assert_eq!(node("/app/config").unwrap().data.as_deref(), Some(&b"k=v2\n"[..]));
    let ephemeral = node("/app/ephemeral").unwrap();
    assert_ne!(ephemeral.stat.ephemeral_owner, 0);
    assert!(snapshot.sessions.iter().any(|(id, _)| *id == ephemeral.stat.ephemeral_owner));
    assert_eq!(node("/app/nulldata").unwrap().data, None, "null data stays null");
    let secret = node("/app/secret").unwrap();
    assert_ne!(secret.acl, OPEN_UNSAFE_ACL_ID);
    let acl = snapshot.acls.iter().find(|e| e.index == secret.acl).unwrap();
    assert_eq!(acl.acls[0].id.scheme, "digest");
    assert!(acl.acls[0].id.id.starts_with("alice:"));
    assert_eq!(snapshot.nodes.iter().filter(|(p, _)| p.starts_with("/app/seq-")).count(), 3);
    assert!(node("/app/gone").is_none());
}

#[test]
fn the_gzip_snapshot_of_apache_reads() {
    let gz = read_snapshot_file(&fixture().join("snapshot.15.gz")).unwrap();
    assert!(gz.nodes.iter().any(|(p, _)| p == "/app/later"));
    assert!(!gz.nodes.iter().any(|(p, _)| p == "/app/multi-b"));
}

#[test]
fn recovery_on_the_apache_datadir_picks_the_newest_snapshot_and_the_logs_after_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    let data = DataDir::open(dir.path(), None).unwrap();
    let recovered = data
        .recover(false, |_, reader| {
            reader.read_sessions()?;
            reader.read_acl_cache()?;
            let mut nodes = 0;
            while reader.next_node()?.is_some() {
                nodes += 1;
            }
            Ok(nodes)
        })
        .unwrap();
    let snapshot = recovered.snapshot.as_ref().unwrap();
    assert_eq!(snapshot.file.zxid, 0x15);
    assert_eq!(recovered.snapshot_zxid, 0x15);
    let replay: Vec<i64> = recovered.txns.map(|t| t.unwrap().zxid).collect();
    assert!(replay.is_empty(), "nothing after the last snapshot: {replay:?}");
    // Our log writer appends after Apache's logs in a new file, like ZooKeeper after a restart.
    let log = data.open_txn_log(TxnLogOptions::default()).unwrap();
    assert_eq!(log.last_logged_zxid(), Some(0x15));
    drop(log);
    // And a snapshot round trip through DataDir.
    let read = read_snapshot_file(&data.snap_dir().join("snapshot.10")).unwrap();
    let again: Snapshot = read.clone();
    assert_eq!(read, again);
}
