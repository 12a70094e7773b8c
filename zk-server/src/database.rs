//! The database on disk, as ZooKeeper's `ZKDatabase` / `FileTxnSnapLog`: loading the newest snapshot
//! and replaying the txn log after it, and writing snapshots of a tree.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use tracing::info;
use zk_proto::{OpCode, TxnBody};

use crate::persist::{Compression, DataDir, PersistError, SnapshotReader, SnapshotTrailer, SnapshotWriter, ZxidDigest};
use crate::tree::{DataTree, DataTreeBuilder, DIGEST_VERSION};

/// State recovered from a data directory.
#[derive(Debug)]
pub struct Loaded {
    /// The tree as of the last logged txn.
    pub tree: DataTree,
    /// Live sessions and their timeouts.
    pub sessions: Vec<(i64, i32)>,
    /// The zxid of the snapshot loaded (0 without one).
    pub snapshot_zxid: i64,
    /// Txns replayed from the log after the snapshot.
    pub replayed: u64,
}

/// Loads the newest intact snapshot and replays every logged txn after it.
pub fn load(dir: &DataDir, trust_empty_snapshot: bool) -> Result<Loaded, PersistError> {
    let recovered =
        dir.recover(trust_empty_snapshot, |file, reader| read_sections(reader, &file.path.display().to_string()))?;
    let snapshot_zxid = recovered.snapshot_zxid;
    let (mut tree, sessions) = match recovered.snapshot {
        Some(loaded) => {
            let (builder, sessions) = loaded.value;
            let tree = builder
                .finish(snapshot_zxid)
                .map_err(|e| PersistError::corrupt(loaded.file.path.display().to_string(), 0, e.to_string()))?;
            (tree, sessions)
        }
        None => (DataTree::new(), Vec::new()),
    };
    let mut sessions: BTreeMap<i64, i32> = sessions.into_iter().collect();
    let mut replayed = 0;
    for txn in recovered.txns {
        let txn = txn?;
        let entry = &txn.entry;
        tree.apply(entry);
        track_session(&mut sessions, entry);
        replayed += 1;
    }
    info!(
        snapshot_zxid = format_args!("{snapshot_zxid:#x}"),
        replayed,
        last_zxid = format_args!("{:#x}", tree.last_processed_zxid()),
        nodes = tree.node_count(),
        sessions = sessions.len(),
        "database loaded"
    );
    Ok(Loaded { tree, sessions: sessions.into_iter().collect(), snapshot_zxid, replayed })
}

/// Follows a txn's effect on the live sessions (createSession adds, closeSession removes).
pub fn track_session(sessions: &mut BTreeMap<i64, i32>, entry: &zk_proto::TxnEntry) {
    match &entry.body {
        TxnBody::CreateSession(create) => {
            sessions.insert(entry.header.client_id, create.time_out);
        }
        TxnBody::CloseSession(_) if entry.header.op_code == OpCode::CloseSession.code() => {
            sessions.remove(&entry.header.client_id);
        }
        _ => {}
    }
}

/// Writes `snapshot.<zxid>` of `tree` (a clone taken at a committed zxid) with `sessions`.
pub fn write_snapshot(dir: &DataDir, tree: &DataTree, sessions: &[(i64, i32)]) -> Result<(), PersistError> {
    let zxid = tree.last_processed_zxid();
    let mut file = dir.new_snapshot(zxid, Compression::None)?;
    write_sections(file.encoder(), tree, sessions)?;
    let trailer = SnapshotTrailer {
        digest: Some(ZxidDigest { zxid, digest_version: DIGEST_VERSION, digest: tree.digest() }),
        last_processed_zxid: Some(zxid),
    };
    let path = file.finish(&trailer)?;
    info!(path = %path.display(), zxid = format_args!("{zxid:#x}"), nodes = tree.node_count(), "snapshot written");
    Ok(())
}

/// The body a leader streams after a SNAP packet (`ZKDatabase.serializeSnapshot` and the
/// `"BenWasHere"` signature): `tree`, a clone taken at a committed zxid, with `sessions`.
pub fn snap_sync_body(tree: &DataTree, sessions: &[(i64, i32)]) -> Result<Vec<u8>, PersistError> {
    let mut writer = SnapshotWriter::snap_sync(Vec::new());
    write_sections(&mut writer, tree, sessions)?;
    writer.finish_snap_sync()
}

/// Rebuilds the tree (as of `zxid`, the SNAP packet's zxid) and sessions from a SNAP-sync body.
pub fn load_snap_sync(body: &[u8], zxid: i64) -> Result<(DataTree, Vec<(i64, i32)>), PersistError> {
    const CONTEXT: &str = "SNAP sync";
    let mut reader = SnapshotReader::snap_sync(body).with_context(CONTEXT);
    let (builder, sessions) = read_sections(&mut reader, CONTEXT)?;
    reader.finish_snap_sync()?;
    let tree = builder.finish(zxid).map_err(|e| PersistError::corrupt(CONTEXT, 0, e.to_string()))?;
    Ok((tree, sessions))
}

fn write_sections<W: Write>(
    encoder: &mut SnapshotWriter<W>,
    tree: &DataTree,
    sessions: &[(i64, i32)],
) -> Result<(), PersistError> {
    encoder.write_sessions(sessions.iter().copied())?;
    let acls: Vec<_> = tree.acl_cache().entries().map(|(index, acl)| (index, acl.to_vec())).collect();
    encoder.write_acl_cache(acls.iter().map(|(index, acl)| (*index, acl.as_slice())))?;
    for node in tree.snapshot_nodes() {
        encoder.write_node_parts(node.path, node.data, node.acl_index, &node.stat)?;
    }
    Ok(())
}

fn read_sections<R: Read>(
    reader: &mut SnapshotReader<R>,
    context: &str,
) -> Result<(DataTreeBuilder, Vec<(i64, i32)>), PersistError> {
    let sessions = reader.read_sessions()?;
    let mut builder = DataTreeBuilder::new();
    for entry in reader.read_acl_cache()? {
        builder.acl(entry.index, entry.acls);
    }
    while let Some((path, node)) = reader.next_node()? {
        builder
            .node(&path, node.data, node.acl, node.stat)
            .map_err(|e| PersistError::corrupt(context, 0, e.to_string()))?;
    }
    Ok((builder, sessions))
}

#[cfg(test)]
mod tests {
    use zk_proto::{CreateTxn, TxnBody, TxnEntry, TxnHeader};

    use super::*;

    #[test]
    fn snap_sync_body_round_trips_the_tree_and_sessions() {
        let mut tree = DataTree::new();
        for (zxid, path) in [(1, "/a"), (2, "/a/b"), (3, "/c")] {
            let header =
                TxnHeader { client_id: 7, cxid: zxid as i32, zxid, time: 1000, op_code: OpCode::Create.code() };
            let body = TxnBody::Create(CreateTxn {
                path: path.into(),
                data: Some(bytes::Bytes::from(format!("data of {path}"))),
                acl: zk_proto::Acl::open_unsafe(),
                ephemeral: false,
                parent_c_version: 0,
            });
            tree.apply(&TxnEntry { header, body, digest: None });
        }
        let sessions = vec![(0x1000, 4000), (0x1001, 30000)];
        let body = snap_sync_body(&tree, &sessions).unwrap();
        let (loaded, loaded_sessions) = load_snap_sync(&body, 3).unwrap();
        assert_eq!(loaded_sessions, sessions);
        assert_eq!(loaded.last_processed_zxid(), 3);
        assert_eq!(loaded.node_count(), tree.node_count());
        assert_eq!(loaded.digest(), tree.digest());
        assert!(load_snap_sync(&body[..body.len() - 1], 3).is_err());
    }
}
