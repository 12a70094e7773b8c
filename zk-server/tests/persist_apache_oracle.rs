//! Apache ZooKeeper reads what we write: a dataDir made by `zk_server::persist` (a snapshot and a txn
//! log after it) is loaded by a real ZooKeeper 3.8, checked with `zkCli.sh`, written to by ZooKeeper,
//! and read back by us.
//!
//! Needs `java`, `/usr/share/java/zookeeper.jar` and `zkCli.sh` (Debian's `zookeeper` and
//! `zookeeper-bin`). Without them the test prints a SKIPPED line and passes, unless
//! `ZK_RS_REQUIRE_ORACLE=1`, which makes it fail instead.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use zk_proto::{perms, Acl, CreateTxn, Id, OpCode, SetDataTxn, StatPersisted, TxnBody, TxnEntry, TxnHeader};
use zk_server::persist::snapshot::{read_snapshot_file, AclCacheEntry, DataNodeRecord, SnapshotTrailer, ZxidDigest};
use zk_server::persist::txn_log::TxnLogReader;
use zk_server::persist::{Compression, DataDir, TxnLogOptions};
use zk_testkit::ApacheServer;

/// Apache ZooKeeper on our dataDir `dir`, with `zkCli.sh` to talk to it; `None` when it is not installed.
fn start_zookeeper(test: &str, dir: &Path) -> Option<ApacheServer> {
    ApacheServer::builder().data_dir(dir).zk_cli().start_or_skip(test)
}

fn stat(zxid: i64, cversion: i32) -> StatPersisted {
    StatPersisted {
        czxid: zxid,
        mzxid: zxid,
        ctime: 1_700_000_000_000,
        mtime: 1_700_000_000_000,
        cversion,
        pzxid: zxid,
        ..Default::default()
    }
}

/// A dataDir as a ZooKeeper would have it after txns 1..=5 (in a snapshot) and 6..=7 (in a log).
fn write_our_data_dir(root: &Path) -> PathBuf {
    let data = DataDir::open(root, None).unwrap();
    let empty = || Some(Bytes::new());
    // alice may do anything; everybody else may only administer (enough for getAcl, not for get).
    let digest_acl = vec![
        Acl::new(perms::ALL, Id::new("digest", "alice:Rk3p6ZzgUW2NSBa7Z4Tl4rHZP4o=")),
        Acl::new(perms::ADMIN, Id::anyone()),
    ];
    let mut snap = data.new_snapshot(5, Compression::None).unwrap();
    let encoder = snap.encoder();
    encoder.write_sessions(std::iter::empty()).unwrap();
    let acls = [AclCacheEntry { index: 1, acls: Acl::open_unsafe() }, AclCacheEntry { index: 2, acls: digest_acl }];
    encoder.write_acl_cache(acls.iter().map(|e| (e.index, e.acls.as_slice()))).unwrap();
    let nodes = [
        ("", DataNodeRecord { data: empty(), acl: -1, stat: stat(0, 3) }),
        ("/zookeeper", DataNodeRecord { data: empty(), acl: -1, stat: stat(0, 0) }),
        ("/zookeeper/quota", DataNodeRecord { data: empty(), acl: -1, stat: stat(0, 0) }),
        ("/zookeeper/config", DataNodeRecord { data: empty(), acl: -1, stat: stat(0, 0) }),
        ("/from-snapshot", DataNodeRecord { data: Some(Bytes::from_static(b"snap-data")), acl: 1, stat: stat(4, 0) }),
        ("/secret", DataNodeRecord { data: Some(Bytes::from_static(b"hidden")), acl: 2, stat: stat(5, 0) }),
    ];
    for (path, node) in &nodes {
        encoder.write_node(path, node).unwrap();
    }
    let trailer = SnapshotTrailer {
        digest: Some(ZxidDigest { zxid: 0, digest_version: 2, digest: 0 }),
        last_processed_zxid: Some(5),
    };
    snap.finish(&trailer).unwrap();

    let header =
        |zxid: i64, op: OpCode| TxnHeader { client_id: 0, cxid: 0, zxid, time: 1_700_000_001_000, op_code: op.code() };
    let mut log = data.open_txn_log(TxnLogOptions::default()).unwrap();
    let create = TxnBody::Create(CreateTxn {
        path: "/from-log".into(),
        data: Some(Bytes::from_static(b"log-data")),
        acl: Acl::open_unsafe(),
        ephemeral: false,
        parent_c_version: 4,
    });
    log.append(&TxnEntry { header: header(6, OpCode::Create), body: create, digest: None }).unwrap();
    let set = TxnBody::SetData(SetDataTxn {
        path: "/from-snapshot".into(),
        data: Some(Bytes::from_static(b"updated")),
        version: 1,
    });
    log.append(&TxnEntry { header: header(7, OpCode::SetData), body: set, digest: None }).unwrap();
    log.close().unwrap();
    data.snap_dir().to_path_buf()
}

#[test]
fn apache_zookeeper_starts_on_a_data_dir_we_wrote_and_we_read_what_it_adds() {
    let root = tempfile::tempdir().unwrap();
    let version2 = write_our_data_dir(root.path());
    let test = "apache_zookeeper_starts_on_a_data_dir_we_wrote_and_we_read_what_it_adds";
    let Some(server) = start_zookeeper(test, root.path()) else { return };

    let out = server.cli(&["get", "/from-snapshot"]);
    assert!(out.contains("updated"), "setData from our log applied over our snapshot:\n{out}");
    let out = server.cli(&["get", "/from-log"]);
    assert!(out.contains("log-data"), "create from our log:\n{out}");
    let out = server.cli(&["getAcl", "/secret"]);
    assert!(out.contains("'digest,'alice:Rk3p6ZzgUW2NSBa7Z4Tl4rHZP4o="), "ACL from our snapshot's ACL cache:\n{out}");
    let out = server.cli(&["get", "/secret"]);
    assert!(out.contains("Insufficient permission") || out.contains("NoAuth"), "the ACL is enforced:\n{out}");
    let out = server.cli(&["create", "/by-apache", "apache-data"]);
    // (A retried create may find its first attempt done.)
    assert!(out.contains("Created /by-apache") || out.contains("Node already exists: /by-apache"), "{out}");
    drop(server);

    // The other door: we read what ZooKeeper wrote on top of our files.
    let created_by_apache = TxnLogReader::open(&version2, 0)
        .unwrap()
        .map(|t| t.unwrap())
        .filter_map(|t| match t.entry.body {
            TxnBody::Create(c) => Some((t.zxid, c.path)),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert!(created_by_apache.iter().any(|(_, p)| p == "/by-apache"), "{created_by_apache:?}");
    assert!(created_by_apache.iter().any(|(z, p)| *z == 6 && p == "/from-log"));
    // ZooKeeper snapshots after loading: its snapshot.7 holds the tree our files described.
    let snapshot = read_snapshot_file(&version2.join("snapshot.7")).unwrap();
    let node = |path: &str| snapshot.nodes.iter().find(|(p, _)| p == path).map(|(_, n)| n.clone()).unwrap();
    assert_eq!(node("/from-snapshot").data.as_deref(), Some(&b"updated"[..]));
    assert_eq!(node("/from-log").data.as_deref(), Some(&b"log-data"[..]));
}

#[test]
fn apache_zookeeper_reads_our_gzip_snapshot() {
    let root = tempfile::tempdir().unwrap();
    let data = DataDir::open(root.path(), None).unwrap();
    let node = |data: &'static [u8], zxid| DataNodeRecord {
        data: Some(Bytes::from_static(data)),
        acl: -1,
        stat: stat(zxid, 0),
    };
    let snapshot = zk_server::persist::snapshot::Snapshot {
        sessions: vec![],
        acls: vec![],
        nodes: vec![
            (String::new(), node(b"", 0)),
            ("/zookeeper".into(), node(b"", 0)),
            ("/zookeeper/quota".into(), node(b"", 0)),
            ("/gz-node".into(), node(b"from-a-gzip-snapshot", 3)),
        ],
        trailer: SnapshotTrailer { digest: None, last_processed_zxid: None },
    };
    let path =
        zk_server::persist::snapshot::write_snapshot_file(data.snap_dir(), 3, Compression::Gzip, &snapshot).unwrap();
    assert!(path.to_string_lossy().ends_with("snapshot.3.gz"));
    let Some(server) = start_zookeeper("apache_zookeeper_reads_our_gzip_snapshot", root.path()) else { return };
    let out = server.cli(&["get", "/gz-node"]);
    assert!(out.contains("from-a-gzip-snapshot"), "{out}");
}
