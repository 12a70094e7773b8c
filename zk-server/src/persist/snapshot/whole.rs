//! [`Snapshot`]: a whole snapshot in memory, for tools, tests and SNAP sync of small trees.

use std::io::{Read, Write};

use super::reader::SnapshotReader;
use super::records::{AclCacheEntry, DataNodeRecord, SnapshotTrailer};
use super::writer::SnapshotWriter;
use crate::persist::error::Result;

/// Every section of a snapshot, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// (session id, timeout ms).
    pub sessions: Vec<(i64, i32)>,
    /// The ACL cache.
    pub acls: Vec<AclCacheEntry>,
    /// The nodes in depth-first pre-order; the root's path is `""`.
    pub nodes: Vec<(String, DataNodeRecord)>,
    /// The sections after the nodes (empty for a SNAP-sync body).
    pub trailer: SnapshotTrailer,
}

impl Snapshot {
    fn read_sections<R: Read>(reader: &mut SnapshotReader<R>) -> Result<Snapshot> {
        let sessions = reader.read_sessions()?;
        let acls = reader.read_acl_cache()?;
        let mut nodes = Vec::new();
        while let Some(node) = reader.next_node()? {
            nodes.push(node);
        }
        Ok(Snapshot { sessions, acls, nodes, trailer: SnapshotTrailer::default() })
    }

    /// Reads a whole snapshot file stream, checking its seals.
    pub fn read<R: Read>(mut reader: SnapshotReader<R>) -> Result<Snapshot> {
        let mut snapshot = Self::read_sections(&mut reader)?;
        snapshot.trailer = reader.finish()?;
        Ok(snapshot)
    }

    fn write_sections<W: Write>(&self, writer: &mut SnapshotWriter<W>) -> Result<()> {
        writer.write_sessions(self.sessions.iter().copied())?;
        writer.write_acl_cache(self.acls.iter().map(|e| (e.index, e.acls.as_slice())))?;
        for (path, node) in &self.nodes {
            writer.write_node(path, node)?;
        }
        Ok(())
    }

    /// Writes this snapshot as a file stream (header, sections, seals, trailer).
    pub fn write<W: Write>(&self, out: W) -> Result<W> {
        let mut writer = SnapshotWriter::new(out)?;
        self.write_sections(&mut writer)?;
        writer.finish(&self.trailer)
    }

    /// Encodes the SNAP-sync body: sessions, ACL cache, nodes, `"/"`, `"BenWasHere"` (no header,
    /// seals or trailer), as a leader streams it to a learner.
    pub fn write_snap_sync<W: Write>(&self, out: W) -> Result<W> {
        let mut writer = SnapshotWriter::snap_sync(out);
        self.write_sections(&mut writer)?;
        writer.finish_snap_sync()
    }

    /// Decodes a SNAP-sync body, checking its signature.
    pub fn read_snap_sync<R: Read>(input: R) -> Result<Snapshot> {
        let mut reader = SnapshotReader::snap_sync(input).with_context("SNAP sync");
        let snapshot = Self::read_sections(&mut reader)?;
        reader.finish_snap_sync()?;
        Ok(snapshot)
    }
}
