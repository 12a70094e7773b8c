//! The data directory: layout, epoch and myid files, recovery planning, purge.

use std::fs;
use std::path::Path;

use zk_proto::{CreateSessionTxn, OpCode, TxnBody, TxnEntry, TxnHeader};
use zk_server::persist::snapshot::{write_snapshot_file, Snapshot};
use zk_server::persist::{Compression, DataDir, PersistError, TxnLogOptions};

fn session_txn(zxid: i64) -> TxnEntry {
    TxnEntry {
        header: TxnHeader { client_id: zxid, cxid: 0, zxid, time: 0, op_code: OpCode::CreateSession.code() },
        body: TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
        digest: None,
    }
}

fn options() -> TxnLogOptions {
    TxnLogOptions { prealloc_size: 4096, ..TxnLogOptions::default() }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn empty_tree() -> Snapshot {
    let mut snapshot = Snapshot::default();
    snapshot.nodes.push((String::new(), Default::default()));
    snapshot
}

#[test]
fn layout_and_small_files_match_zookeeper() {
    let root = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let data = DataDir::open(root.path(), Some(logs.path())).unwrap();
    assert_eq!(data.snap_dir(), root.path().join("version-2"));
    assert_eq!(data.log_dir(), logs.path().join("version-2"));
    assert_eq!(data.current_epoch().unwrap(), None);
    data.set_current_epoch(5).unwrap();
    data.set_accepted_epoch(6).unwrap();
    assert_eq!(fs::read_to_string(root.path().join("version-2/currentEpoch")).unwrap(), "5");
    assert_eq!(data.current_epoch().unwrap(), Some(5));
    assert_eq!(data.accepted_epoch().unwrap(), Some(6));
    assert!(!root.path().join("version-2/currentEpoch.tmp").exists());
    assert_eq!(data.myid().unwrap(), None);
    fs::write(root.path().join("myid"), "3\n").unwrap();
    assert_eq!(data.myid().unwrap(), Some(3));
    data.set_myid(4).unwrap();
    assert_eq!(data.myid().unwrap(), Some(4));
    // ZooKeeper refuses a dataLogDir with snapshots in it (ZOOKEEPER-2967), and so do we.
    fs::write(logs.path().join("version-2/snapshot.5"), "").unwrap();
    assert!(DataDir::open(root.path(), Some(logs.path())).is_err());
    fs::write(root.path().join("version-2/acceptedEpoch"), "x").unwrap();
    assert!(matches!(data.accepted_epoch(), Err(PersistError::Corrupt { .. })));
}

#[test]
fn recovery_replays_the_logs_after_the_newest_snapshot() {
    let root = tempfile::tempdir().unwrap();
    let data = DataDir::open(root.path(), None).unwrap();
    // Empty database: nothing at all.
    let recovered = data.recover(false, |_, _| Ok(())).unwrap();
    assert!(recovered.snapshot.is_none());
    assert_eq!(recovered.txns.count(), 0);

    let mut log = data.open_txn_log(options()).unwrap();
    for zxid in 1..=4 {
        log.append(&session_txn(zxid)).unwrap();
    }
    log.commit().unwrap();
    // Logs without a snapshot are refused, as ZooKeeper refuses them.
    assert!(matches!(
        data.recover(false, |_, _| Ok(())),
        Err(PersistError::MissingSnapshot { last_logged_zxid: 4, .. })
    ));
    let trusted: Vec<i64> = data.recover(true, |_, _| Ok(())).unwrap().txns.map(|t| t.unwrap().zxid).collect();
    assert_eq!(trusted, vec![1, 2, 3, 4]);

    // A (fuzzy) snapshot at 3, then the log rolls and goes on.
    write_snapshot_file(data.snap_dir(), 3, Compression::None, &empty_tree()).unwrap();
    log.roll().unwrap();
    for zxid in 5..=6 {
        log.append(&session_txn(zxid)).unwrap();
    }
    log.commit().unwrap();
    let recovered = data.recover(false, |file, _| Ok(file.zxid)).unwrap();
    assert_eq!(recovered.snapshot.as_ref().unwrap().value, 3);
    let logs: Vec<i64> = recovered.logs.iter().map(|f| f.zxid).collect();
    assert_eq!(logs, vec![1, 5], "log.1 holds zxid 4, after the snapshot");
    let replay: Vec<i64> = recovered.txns.map(|t| t.unwrap().zxid).collect();
    assert_eq!(replay, vec![4, 5, 6]);
}

#[test]
fn purge_keeps_the_newest_snapshots_and_the_logs_they_need() {
    let root = tempfile::tempdir().unwrap();
    let data = DataDir::open(root.path(), None).unwrap();
    let mut log = data.open_txn_log(options()).unwrap();
    // log.1: 1..=10, snapshot.5 (fuzzy, mid-log), log.b: 11..=20, snapshot.f, snapshot.14, log.15: 21..=30,
    // snapshot.1e, and snapshot.0 first.
    write_snapshot_file(data.snap_dir(), 0, Compression::None, &empty_tree()).unwrap();
    for zxid in 1..=30 {
        log.append(&session_txn(zxid)).unwrap();
        log.commit().unwrap();
        if [5, 15, 20, 30].contains(&zxid) {
            write_snapshot_file(data.snap_dir(), zxid, Compression::None, &empty_tree()).unwrap();
        }
        if zxid == 10 || zxid == 20 {
            log.roll().unwrap();
        }
    }
    log.close().unwrap();
    assert_eq!(names(data.log_dir()).iter().filter(|n| n.starts_with("log.")).count(), 3);
    assert!(matches!(data.purge(2), Err(PersistError::Usage(_))));

    let report = data.purge(3).unwrap();
    // Keep snapshots 0x1e, 0x14, 0xf; the oldest kept is 0xf, which needs log.b (starts at 0xb <= 0xf).
    assert_eq!(report.oldest_kept_snapshot, Some(0xf));
    assert_eq!(names(data.snap_dir()), vec!["log.15", "log.b", "snapshot.14", "snapshot.1e", "snapshot.f"],);
    assert_eq!(report.deleted.len(), 3, "log.1, snapshot.0, snapshot.5");
    // Everything after the oldest kept snapshot is still replayable.
    let recovered = data.recover(false, |file, _| Ok(file.zxid)).unwrap();
    assert_eq!(recovered.snapshot.unwrap().value, 0x1e);
    // Purging again changes nothing.
    assert!(data.purge(3).unwrap().deleted.is_empty());
}
