//! [`SnapshotWriter`]: the streaming encoder of snapshot files and of the SNAP-sync body.

use std::io::Write;

use zk_proto::{Acl, FileHeader, Jute, StatPersisted};

use super::records::{DataNodeRecord, SnapshotTrailer, ZxidDigest, DIGEST_VERSION, SNAP_SYNC_SIGNATURE};
use crate::persist::checked_io::CheckedWriter;
use crate::persist::error::{PersistError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Sessions,
    Acls,
    Nodes,
}

/// Writes a snapshot section by section, in the only order the format allows: sessions, ACL cache,
/// nodes (depth-first pre-order from the root, whose path is `""`), then [`SnapshotWriter::finish`]
/// (terminator, seals, digest, last zxid). Every byte goes through a running Adler32 for the seals.
///
/// The same encoder writes the SNAP-sync body ([`SnapshotWriter::snap_sync`]): no header, no seals, and
/// the `"BenWasHere"` signature at the end.
#[derive(Debug)]
pub struct SnapshotWriter<W: Write> {
    out: CheckedWriter<W>,
    stage: Stage,
    scratch: Vec<u8>,
    context: String,
}

impl<W: Write> SnapshotWriter<W> {
    /// A snapshot file: writes the header (`ZKSN`, version 2, dbid -1).
    pub fn new(out: W) -> Result<Self> {
        let mut writer = Self::snap_sync(out);
        writer.emit(|buf| FileHeader::snapshot().encode(buf))?;
        Ok(writer)
    }

    /// A SNAP-sync body: sessions, ACL cache and nodes with no header; end it with
    /// [`SnapshotWriter::finish_snap_sync`].
    pub fn snap_sync(out: W) -> Self {
        SnapshotWriter {
            out: CheckedWriter::new(out),
            stage: Stage::Sessions,
            scratch: Vec::new(),
            context: "snapshot stream".into(),
        }
    }

    /// Names the destination in I/O errors.
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = context.into();
        self
    }

    fn emit(&mut self, encode: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        self.scratch.clear();
        encode(&mut self.scratch);
        let context = &self.context;
        self.out.write_all(&self.scratch).map_err(|e| PersistError::io(context, e))
    }

    fn enter(&mut self, stage: Stage) -> Result<()> {
        if self.stage != stage {
            return Err(PersistError::Usage("snapshot sections written out of order"));
        }
        Ok(())
    }

    /// Writes the sessions: id and timeout (ms) of each.
    pub fn write_sessions<I>(&mut self, sessions: I) -> Result<()>
    where
        I: IntoIterator<Item = (i64, i32)>,
        I::IntoIter: ExactSizeIterator,
    {
        self.enter(Stage::Sessions)?;
        let sessions = sessions.into_iter();
        let count = count_of(sessions.len())?;
        self.emit(|buf| count.encode(buf))?;
        let mut written = 0;
        for (id, timeout) in sessions {
            self.emit(|buf| {
                id.encode(buf);
                timeout.encode(buf);
            })?;
            written += 1;
        }
        check_count(count, written)?;
        self.stage = Stage::Acls;
        Ok(())
    }

    /// Writes the ACL cache: each index with its ACL list.
    pub fn write_acl_cache<'a, I>(&mut self, entries: I) -> Result<()>
    where
        I: IntoIterator<Item = (i64, &'a [Acl])>,
        I::IntoIter: ExactSizeIterator,
    {
        self.enter(Stage::Acls)?;
        let entries = entries.into_iter();
        let count = count_of(entries.len())?;
        self.emit(|buf| count.encode(buf))?;
        let mut written = 0;
        for (index, acls) in entries {
            let acl_count = count_of(acls.len())?;
            self.emit(|buf| {
                index.encode(buf);
                acl_count.encode(buf);
                for acl in acls {
                    acl.encode(buf);
                }
            })?;
            written += 1;
        }
        check_count(count, written)?;
        self.stage = Stage::Nodes;
        Ok(())
    }

    /// Writes one node. The root comes first, with path `""`; then every node after its parent.
    pub fn write_node(&mut self, path: &str, node: &DataNodeRecord) -> Result<()> {
        self.write_node_parts(path, node.data.as_deref(), node.acl, &node.stat)
    }

    /// [`Self::write_node`] from the record's parts.
    pub fn write_node_parts(&mut self, path: &str, data: Option<&[u8]>, acl: i64, stat: &StatPersisted) -> Result<()> {
        self.enter(Stage::Nodes)?;
        if path == "/" {
            return Err(PersistError::Usage("the root node's path is \"\" in a snapshot"));
        }
        self.emit(|buf| {
            put_ustring(buf, path);
            DataNodeRecord::encode_parts(buf, data, acl, stat);
        })
    }

    fn end_nodes(&mut self) -> Result<()> {
        self.enter(Stage::Nodes)?;
        self.emit(|buf| put_ustring(buf, "/"))
    }

    fn seal(&mut self) -> Result<()> {
        let checksum = i64::from(self.out.checksum());
        self.emit(|buf| {
            checksum.encode(buf);
            put_ustring(buf, "/");
        })
    }

    /// Ends a snapshot file: the node terminator `"/"`, the seal (Adler32 of everything so far and
    /// `"/"`), then each trailer section present followed by its own seal. Returns the flushed writer.
    /// A last processed zxid is always preceded by a digest section (an empty one if `trailer` has
    /// none), as ZooKeeper 3.9 writes it with its default settings, so that ZooKeeper 3.6–3.9 read it.
    pub fn finish(mut self, trailer: &SnapshotTrailer) -> Result<W> {
        self.end_nodes()?;
        self.seal()?;
        // A last-zxid section without a digest section would be misread as a digest by every ZooKeeper
        // with digests enabled (the default), so write the empty digest ZooKeeper writes when it has none.
        let digest = match (trailer.digest, trailer.last_processed_zxid) {
            (None, Some(_)) => Some(ZxidDigest { zxid: 0, digest_version: DIGEST_VERSION, digest: 0 }),
            (digest, _) => digest,
        };
        if let Some(digest) = digest {
            self.emit(|buf| {
                digest.zxid.encode(buf);
                digest.digest_version.encode(buf);
                digest.digest.encode(buf);
            })?;
            self.seal()?;
        }
        if let Some(zxid) = trailer.last_processed_zxid {
            self.emit(|buf| zxid.encode(buf))?;
            self.seal()?;
        }
        self.into_flushed()
    }

    /// Ends a SNAP-sync body: the node terminator and the `"BenWasHere"` signature.
    pub fn finish_snap_sync(mut self) -> Result<W> {
        self.end_nodes()?;
        self.emit(|buf| put_ustring(buf, SNAP_SYNC_SIGNATURE))?;
        self.into_flushed()
    }

    fn into_flushed(mut self) -> Result<W> {
        let context = self.context.clone();
        self.out.get_mut().flush().map_err(|e| PersistError::io(context, e))?;
        Ok(self.out.into_inner())
    }
}

/// A jute `ustring` from a `&str`.
fn put_ustring(buf: &mut Vec<u8>, s: &str) {
    let len = i32::try_from(s.len()).expect("path longer than i32::MAX");
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn count_of(len: usize) -> Result<i32> {
    i32::try_from(len).map_err(|_| PersistError::Usage("more than i32::MAX items in a snapshot section"))
}

fn check_count(promised: i32, written: usize) -> Result<()> {
    if written != promised as usize {
        return Err(PersistError::Usage("iterator yielded a different number of items than its len()"));
    }
    Ok(())
}
