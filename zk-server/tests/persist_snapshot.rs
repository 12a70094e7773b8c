//! The snapshot codec: round trips, trailer variants, SNAP sync, corruption, fallback to older snapshots.

use std::fs;

use bytes::Bytes;
use zk_proto::{Acl, Id, StatPersisted};
use zk_server::persist::snapshot::{
    find_valid_snapshots, load_newest_snapshot, read_snapshot_file, write_snapshot_file, AclCacheEntry, DataNodeRecord,
    Snapshot, SnapshotFileWriter, SnapshotReader, SnapshotTrailer, SnapshotWriter, ZxidDigest,
};
use zk_server::persist::{Compression, PersistError};

fn stat(zxid: i64) -> StatPersisted {
    StatPersisted {
        czxid: zxid,
        mzxid: zxid,
        ctime: 1000 + zxid,
        mtime: 2000 + zxid,
        version: 1,
        cversion: 2,
        aversion: 3,
        ephemeral_owner: 0,
        pzxid: zxid,
    }
}

fn sample() -> Snapshot {
    let node = |data: Option<&'static [u8]>, acl: i64, zxid: i64| DataNodeRecord {
        data: data.map(Bytes::from_static),
        acl,
        stat: stat(zxid),
    };
    Snapshot {
        sessions: vec![(0x100_0000_0001, 30000), (0x100_0000_0002, 4000)],
        acls: vec![
            AclCacheEntry { index: 1, acls: Acl::open_unsafe() },
            AclCacheEntry {
                index: 2,
                acls: vec![Acl::new(31, Id::new("digest", "alice:hash")), Acl::new(1, Id::anyone())],
            },
        ],
        nodes: vec![
            (String::new(), node(Some(b""), -1, 0)),
            ("/zookeeper".into(), node(Some(b""), -1, 0)),
            ("/zookeeper/quota".into(), node(Some(b""), -1, 0)),
            ("/app".into(), node(Some(b"hello"), 1, 5)),
            ("/app/secret".into(), node(Some(b"s3cr3t"), 2, 6)),
            ("/app/null".into(), node(None, 1, 7)),
        ],
        trailer: SnapshotTrailer {
            digest: Some(ZxidDigest { zxid: 7, digest_version: 2, digest: -42 }),
            last_processed_zxid: Some(7),
        },
    }
}

fn read(bytes: &[u8]) -> Result<Snapshot, PersistError> {
    Snapshot::read(SnapshotReader::new(bytes, "test")?)
}

#[test]
fn every_trailer_variant_round_trips() {
    let digest = Some(ZxidDigest { zxid: 7, digest_version: 2, digest: i64::MIN + 3 });
    for trailer in [
        SnapshotTrailer::default(),
        SnapshotTrailer { digest, last_processed_zxid: None },
        SnapshotTrailer { digest: None, last_processed_zxid: Some(0x5_0000_0007) },
        SnapshotTrailer { digest, last_processed_zxid: Some(0x5_0000_0007) },
    ] {
        let snapshot = Snapshot { trailer, ..sample() };
        let bytes = snapshot.write(Vec::new()).unwrap();
        assert_eq!(&bytes[..4], b"ZKSN");
        assert_eq!(&bytes[bytes.len() - 5..], &[0, 0, 0, 1, b'/']);
        let mut expected = snapshot.clone();
        if trailer.digest.is_none() && trailer.last_processed_zxid.is_some() {
            // A last zxid is always preceded by a (here empty) digest, as ZooKeeper writes it.
            expected.trailer.digest = Some(ZxidDigest { zxid: 0, digest_version: 2, digest: 0 });
        }
        assert_eq!(read(&bytes).unwrap(), expected, "{trailer:?}");
    }
}

#[test]
fn sections_must_be_written_and_read_in_order() {
    let mut writer = SnapshotWriter::new(Vec::new()).unwrap();
    assert!(matches!(writer.write_node("/a", &DataNodeRecord::default()), Err(PersistError::Usage(_))));
    writer.write_sessions(std::iter::empty()).unwrap();
    assert!(matches!(writer.write_sessions(std::iter::empty()), Err(PersistError::Usage(_))));
    writer.write_acl_cache(std::iter::empty()).unwrap();
    assert!(matches!(writer.write_node("/", &DataNodeRecord::default()), Err(PersistError::Usage(_))));
    writer.write_node("", &DataNodeRecord::default()).unwrap();
    let bytes = writer.finish(&SnapshotTrailer::default()).unwrap();

    let mut reader = SnapshotReader::new(&bytes[..], "test").unwrap();
    assert!(matches!(reader.read_acl_cache(), Err(PersistError::Usage(_))));
    assert_eq!(reader.read_sessions().unwrap(), vec![]);
    assert_eq!(reader.read_acl_cache().unwrap(), vec![]);
    // finish skips unread nodes and still checks the seal.
    assert_eq!(reader.finish().unwrap(), SnapshotTrailer::default());
}

#[test]
fn snap_sync_body_is_the_sections_without_header_or_seals() {
    let snapshot = sample();
    let body = snapshot.write_snap_sync(Vec::new()).unwrap();
    let file = Snapshot { trailer: SnapshotTrailer::default(), ..snapshot.clone() }.write(Vec::new()).unwrap();
    // file = header(16) + sections + "/" + seal(8 + 5); body = sections + "/" + "BenWasHere".
    let sections_and_terminator = &file[16..file.len() - 13];
    assert_eq!(&body[..body.len() - 14], sections_and_terminator);
    assert_eq!(&body[body.len() - 14..], b"\x00\x00\x00\x0aBenWasHere");
    let decoded = Snapshot::read_snap_sync(&body[..]).unwrap();
    assert_eq!(decoded, Snapshot { trailer: SnapshotTrailer::default(), ..snapshot });
    let mut unsigned = body.clone();
    unsigned.truncate(body.len() - 1);
    unsigned.push(b'X');
    assert!(Snapshot::read_snap_sync(&unsigned[..]).is_err());
}

#[test]
fn any_flipped_byte_before_the_seal_and_any_truncation_is_an_error_never_a_panic() {
    let bytes = Snapshot { trailer: SnapshotTrailer::default(), ..sample() }.write(Vec::new()).unwrap();
    let seal_start = bytes.len() - 13;
    for at in 0..seal_start {
        for bit in [0x01u8, 0x80] {
            let mut damaged = bytes.clone();
            damaged[at] ^= bit;
            assert!(read(&damaged).is_err(), "flip {bit:#x} at {at} went unnoticed");
        }
    }
    for cut in 0..bytes.len() {
        assert!(read(&bytes[..cut]).is_err(), "truncated to {cut}");
    }
    let mut huge = bytes[..16].to_vec();
    huge.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff]); // two billion sessions, then nothing
    assert!(read(&huge).is_err());
}

#[test]
fn snapshot_files_appear_atomically_and_gzip_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = sample();
    let mut file = SnapshotFileWriter::create(dir.path(), 7, Compression::None).unwrap();
    file.encoder().write_sessions(snapshot.sessions.iter().copied()).unwrap();
    assert!(!dir.path().join("snapshot.7").exists(), "no snapshot under its name before finish");
    assert!(find_valid_snapshots(dir.path(), 10).unwrap().is_empty(), "the .tmp file is not a snapshot");
    file.encoder().write_acl_cache(snapshot.acls.iter().map(|e| (e.index, e.acls.as_slice()))).unwrap();
    for (path, node) in &snapshot.nodes {
        file.encoder().write_node(path, node).unwrap();
    }
    let path = file.finish(&snapshot.trailer).unwrap();
    assert_eq!(path, dir.path().join("snapshot.7"));
    assert_eq!(fs::read(&path).unwrap(), snapshot.write(Vec::new()).unwrap());
    assert_eq!(read_snapshot_file(&path).unwrap(), snapshot);

    let gz = write_snapshot_file(dir.path(), 8, Compression::Gzip, &snapshot).unwrap();
    assert_eq!(gz, dir.path().join("snapshot.8.gz"));
    assert_eq!(&fs::read(&gz).unwrap()[..2], &[0x1f, 0x8b]);
    assert_eq!(read_snapshot_file(&gz).unwrap(), snapshot);
    let names: Vec<i64> = find_valid_snapshots(dir.path(), 10).unwrap().iter().map(|f| f.zxid).collect();
    assert_eq!(names, vec![8, 7]);
}

#[test]
fn loading_falls_back_to_an_older_snapshot_when_the_newest_is_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let older = Snapshot { sessions: vec![(1, 1000)], ..sample() };
    write_snapshot_file(dir.path(), 5, Compression::None, &older).unwrap();
    let newer = write_snapshot_file(dir.path(), 9, Compression::None, &sample()).unwrap();
    // Damage the newest in the middle: it still looks valid (ends with the seal) but its checksum fails.
    let mut bytes = fs::read(&newer).unwrap();
    bytes[40] ^= 0xff;
    fs::write(&newer, &bytes).unwrap();
    // An incomplete one (crash while writing without the tmp idiom) is skipped by the cheap check.
    fs::write(dir.path().join("snapshot.a"), &bytes[..bytes.len() - 3]).unwrap();

    let mut attempts = 0;
    let loaded = load_newest_snapshot(dir.path(), |_, reader| {
        attempts += 1;
        Snapshot::read_sessions_for_test(reader)
    })
    .unwrap()
    .unwrap();
    assert_eq!(loaded.file.zxid, 5);
    assert_eq!(loaded.value, vec![(1, 1000)]);
    assert_eq!(attempts, 2, "snapshot.a is not even tried");

    fs::write(dir.path().join("snapshot.5"), &bytes).unwrap();
    let err = load_newest_snapshot(dir.path(), |_, reader| Snapshot::read_sessions_for_test(reader)).unwrap_err();
    assert!(matches!(err, PersistError::NoValidSnapshot { .. }));
    let empty = tempfile::tempdir().unwrap();
    assert!(load_newest_snapshot(empty.path(), |_, r| Snapshot::read_sessions_for_test(r)).unwrap().is_none());
}

trait ReadSessions {
    fn read_sessions_for_test<R: std::io::Read>(
        reader: &mut SnapshotReader<R>,
    ) -> Result<Vec<(i64, i32)>, PersistError>;
}

impl ReadSessions for Snapshot {
    fn read_sessions_for_test<R: std::io::Read>(
        reader: &mut SnapshotReader<R>,
    ) -> Result<Vec<(i64, i32)>, PersistError> {
        let sessions = reader.read_sessions()?;
        reader.read_acl_cache()?;
        while reader.next_node()?.is_some() {}
        Ok(sessions)
    }
}
