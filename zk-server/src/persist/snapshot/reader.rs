//! [`SnapshotReader`]: the streaming decoder of snapshot files and of the SNAP-sync body.

use std::io::{Cursor, Read};

use bytes::Bytes;
use zk_proto::{Acl, FileHeader, Id, Jute, StatPersisted};

use super::records::{AclCacheEntry, DataNodeRecord, SnapshotTrailer, ZxidDigest, SNAP_SYNC_SIGNATURE};
use crate::persist::checked_io::{CheckedReader, ReadFault, DEFAULT_MAX_FIELD_LEN};
use crate::persist::error::{PersistError, Result};

/// The most bytes the trailer sections (digest, last zxid and their seals) can take; anything longer
/// after the first seal is corruption.
const MAX_TRAILER_LEN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Sessions,
    Acls,
    Nodes,
    NodesDone,
}

/// Reads a snapshot section by section: [`SnapshotReader::read_sessions`],
/// [`SnapshotReader::read_acl_cache`], [`SnapshotReader::next_node`] until `None`, then
/// [`SnapshotReader::finish`], which checks the seals. Nothing read is trustworthy before `finish`
/// returns `Ok`: the checksum covers the whole stream and is only known at its end.
///
/// Lengths are checked against a limit and storage grows only as bytes arrive, so a corrupt file
/// yields an error, never a panic or a huge allocation.
#[derive(Debug)]
pub struct SnapshotReader<R> {
    input: CheckedReader<R>,
    stage: Stage,
    header: Option<FileHeader>,
    context: String,
}

impl<R: Read> SnapshotReader<R> {
    /// A snapshot file: reads and checks the header (magic `ZKSN`).
    pub fn new(input: R, context: impl Into<String>) -> Result<Self> {
        let mut reader = Self::snap_sync(input).with_context(context);
        let mut raw = [0u8; 16];
        reader.input.read_exact(&mut raw).map_err(|f| reader.fault(f))?;
        let header = FileHeader::from_bytes(Bytes::copy_from_slice(&raw)).map_err(|e| reader.corrupt(e.to_string()))?;
        if header.magic != FileHeader::SNAP_MAGIC {
            return Err(reader.corrupt(format!("bad snapshot magic {:#x}", header.magic)));
        }
        if header.version != FileHeader::VERSION {
            tracing::warn!(context = %reader.context, version = header.version, "unexpected snapshot version");
        }
        reader.header = Some(header);
        Ok(reader)
    }

    /// A SNAP-sync body (no header): end with [`SnapshotReader::finish_snap_sync`].
    pub fn snap_sync(input: R) -> Self {
        SnapshotReader {
            input: CheckedReader::new(input, DEFAULT_MAX_FIELD_LEN),
            stage: Stage::Sessions,
            header: None,
            context: "snapshot stream".into(),
        }
    }

    /// Names the source in errors.
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = context.into();
        self
    }

    /// The file header (`None` for a SNAP-sync body).
    pub fn header(&self) -> Option<&FileHeader> {
        self.header.as_ref()
    }

    fn fault(&self, fault: ReadFault) -> PersistError {
        fault.into_error(&self.context, self.input.position())
    }

    fn corrupt(&self, reason: impl Into<String>) -> PersistError {
        PersistError::corrupt(&self.context, self.input.position(), reason)
    }

    fn enter(&mut self, stage: Stage) -> Result<()> {
        if self.stage != stage {
            return Err(PersistError::Usage("snapshot sections read out of order"));
        }
        Ok(())
    }

    fn count(&mut self) -> Result<usize> {
        match self.input.read_count() {
            Ok(Some(n)) => Ok(n),
            Ok(None) => Err(self.corrupt("null count")),
            Err(f) => Err(self.fault(f)),
        }
    }

    fn string(&mut self) -> Result<String> {
        match self.input.read_string() {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(self.corrupt("null string")),
            Err(f) => Err(self.fault(f)),
        }
    }

    fn i32(&mut self) -> Result<i32> {
        self.input.read_i32().map_err(|f| self.fault(f))
    }

    fn i64(&mut self) -> Result<i64> {
        self.input.read_i64().map_err(|f| self.fault(f))
    }

    /// Reads the sessions: (session id, timeout ms) in file order.
    pub fn read_sessions(&mut self) -> Result<Vec<(i64, i32)>> {
        self.enter(Stage::Sessions)?;
        let count = self.count()?;
        let mut sessions = Vec::new();
        for _ in 0..count {
            let id = self.i64()?;
            let timeout = self.i32()?;
            sessions.push((id, timeout));
        }
        self.stage = Stage::Acls;
        Ok(sessions)
    }

    /// Reads the ACL cache entries in file order.
    pub fn read_acl_cache(&mut self) -> Result<Vec<AclCacheEntry>> {
        self.enter(Stage::Acls)?;
        let count = self.count()?;
        let mut entries = Vec::new();
        for _ in 0..count {
            let index = self.i64()?;
            let acl_count = self.count()?;
            let mut acls = Vec::new();
            for _ in 0..acl_count {
                let perms = self.i32()?;
                let scheme = self.string()?;
                let id = self.string()?;
                acls.push(Acl { perms, id: Id { scheme, id } });
            }
            entries.push(AclCacheEntry { index, acls });
        }
        self.stage = Stage::Nodes;
        Ok(entries)
    }

    /// Reads the next node, or `None` at the terminator `"/"`. The root's path is `""`.
    pub fn next_node(&mut self) -> Result<Option<(String, DataNodeRecord)>> {
        if self.stage == Stage::NodesDone {
            return Ok(None);
        }
        self.enter(Stage::Nodes)?;
        let path = self.string()?;
        if path == "/" {
            self.stage = Stage::NodesDone;
            return Ok(None);
        }
        let data = self.input.read_buffer().map_err(|f| self.fault(f))?;
        let acl = self.i64()?;
        let mut raw = [0u8; StatPersisted::MIN_LEN];
        self.input.read_exact(&mut raw).map_err(|f| self.fault(f))?;
        let stat = StatPersisted::from_bytes(Bytes::copy_from_slice(&raw)).map_err(|e| self.corrupt(e.to_string()))?;
        Ok(Some((path, DataNodeRecord { data, acl, stat })))
    }

    /// Skips whatever sections the caller did not read, up to the end of the nodes.
    fn skip_nodes(&mut self) -> Result<()> {
        if self.stage == Stage::Sessions {
            self.read_sessions()?;
        }
        if self.stage == Stage::Acls {
            self.read_acl_cache()?;
        }
        while self.next_node()?.is_some() {}
        Ok(())
    }

    /// Reads the rest of a snapshot file and checks its seals: the one after the nodes, then the
    /// digest and last-zxid sections, each with its seal, when present (ZooKeeper 3.5 files have
    /// neither, 3.6–3.8 only the digest, 3.9 both). Sections not read yet are skipped.
    pub fn finish(mut self) -> Result<SnapshotTrailer> {
        self.skip_nodes()?;
        check_seal(&mut self.input, &self.context)?;
        let (checksum, position) = (self.input.checksum(), self.input.position());
        let tail = self.input.read_rest_raw(MAX_TRAILER_LEN).map_err(|f| self.fault(f))?;
        let tail_len = tail.len();
        let mut tail = CheckedReader::resume(Cursor::new(tail), checksum, position, 64);
        let mut trailer = SnapshotTrailer::default();
        // The sections are optional and untagged. ZooKeeper decides by its own configuration; we decide by
        // length: 21 bytes can only be a last zxid and its seal (a digest section takes 33).
        if tail_len != 0 && tail_len != 21 {
            trailer.digest = Some(read_digest(&mut tail, &self.context)?);
            check_seal(&mut tail, &self.context)?;
        }
        if (tail.position() - position) < tail_len as u64 {
            trailer.last_processed_zxid =
                Some(tail.read_i64().map_err(|f| f.into_error(&self.context, tail.position()))?);
            check_seal(&mut tail, &self.context)?;
        }
        if (tail.position() - position) < tail_len as u64 {
            return Err(PersistError::corrupt(&self.context, tail.position(), "unexpected bytes after the last seal"));
        }
        Ok(trailer)
    }

    /// Reads the rest of a SNAP-sync body and checks its `"BenWasHere"` signature.
    pub fn finish_snap_sync(mut self) -> Result<()> {
        self.skip_nodes()?;
        let signature = self.string()?;
        if signature != SNAP_SYNC_SIGNATURE {
            return Err(self.corrupt(format!("missing SNAP signature, got {signature:?}")));
        }
        Ok(())
    }
}

/// Checks a seal: the Adler32 of everything before it, then a string (`"/"`, ignored as ZooKeeper does).
fn check_seal<R: Read>(input: &mut CheckedReader<R>, context: &str) -> Result<()> {
    let expected = i64::from(input.checksum());
    let offset = input.position();
    let found = input.read_i64().map_err(|f| f.into_error(context, offset))?;
    input.read_string().map_err(|f| f.into_error(context, offset))?;
    if found != expected {
        return Err(PersistError::corrupt(context, offset, format!("snapshot checksum {found:#x} != {expected:#x}")));
    }
    Ok(())
}

/// `ZxidDigest`: before version 2 the digest was a hex string.
fn read_digest<R: Read>(input: &mut CheckedReader<R>, context: &str) -> Result<ZxidDigest> {
    let offset = input.position();
    let fault = |f: ReadFault| f.into_error(context, offset);
    let zxid = input.read_i64().map_err(fault)?;
    let digest_version = input.read_i32().map_err(fault)?;
    let digest = if digest_version < 2 {
        match input.read_string().map_err(fault)? {
            Some(hex) => u64::from_str_radix(&hex, 16)
                .map(|d| d as i64)
                .map_err(|_| PersistError::corrupt(context, offset, "bad legacy digest"))?,
            None => 0,
        }
    } else {
        input.read_i64().map_err(fault)?
    };
    Ok(ZxidDigest { zxid, digest_version, digest })
}
