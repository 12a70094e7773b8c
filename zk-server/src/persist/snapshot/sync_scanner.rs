//! Where a SNAP-sync body ends in a byte stream.
//!
//! After a `SNAP` packet a leader writes the snapshot body (sessions, ACL cache, nodes, `"/"`) and the
//! `"BenWasHere"` signature straight onto the quorum stream, with no length in front (ZooKeeper's
//! `LearnerHandler.syncFollower`). A learner reading the stream asynchronously has to know where that
//! body ends before it can hand it over and go back to reading packets. [`SnapSyncScanner`] walks the
//! body's structure over a growing buffer, one small item at a time, remembering where it stopped, so
//! each byte is looked at once however the bytes arrive. It checks every length against limits and
//! never allocates; decoding the body is left to [`super::Snapshot::read_snap_sync`] or the streaming
//! [`super::SnapshotReader`].

use super::records::SNAP_SYNC_SIGNATURE;

/// `StatPersisted`: 4 longs, 3 ints, 2 longs.
const STAT_PERSISTED_LEN: usize = 8 * 4 + 4 * 3 + 8 * 2;

/// Why a SNAP-sync body is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// A count or length that is negative where it must not be.
    #[error("invalid {what} {value} at offset {offset}")]
    Invalid {
        /// What was being read.
        what: &'static str,
        /// The value found.
        value: i64,
        /// Its offset in the body.
        offset: usize,
    },
    /// A field longer than the field limit (`jute.maxbuffer`).
    #[error("{what} of {len} bytes at offset {offset} exceeds the limit of {max}")]
    FieldTooLong {
        /// What was being read.
        what: &'static str,
        /// The declared length.
        len: usize,
        /// Its offset in the body.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// The body grew past the total limit.
    #[error("snapshot body exceeds {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The body did not end with `"BenWasHere"`.
    #[error("missing SNAP signature")]
    BadSignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    SessionCount,
    Sessions(u32),
    AclCount,
    AclEntries(u32),
    Acls { entries_left: u32, acls_left: u32 },
    Node,
    Signature,
    Done,
}

/// Finds the end of a SNAP-sync body (see the module docs).
#[derive(Debug, Clone)]
pub struct SnapSyncScanner {
    phase: Phase,
    pos: usize,
    max_field: usize,
    max_total: usize,
}

impl SnapSyncScanner {
    /// A scanner for a body starting at offset 0 of the buffers it is given; strings and node data
    /// may be up to `max_field` bytes, the whole body up to `max_total`.
    pub fn new(max_field: usize, max_total: usize) -> SnapSyncScanner {
        SnapSyncScanner { phase: Phase::SessionCount, pos: 0, max_field, max_total }
    }

    /// Scans `buf` (the body's bytes received so far, always from its first byte) from where the last
    /// call stopped. `Ok(Some(len))`: the body, signature included, is the first `len` bytes.
    /// `Ok(None)`: more bytes are needed.
    pub fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, ScanError> {
        loop {
            if self.phase == Phase::Done {
                return Ok(Some(self.pos));
            }
            match self.step(buf)? {
                Some(next) => self.pos = next,
                None if buf.len() > self.max_total => return Err(ScanError::TooLarge { max: self.max_total }),
                None => return Ok(None),
            }
            if self.pos > self.max_total {
                return Err(ScanError::TooLarge { max: self.max_total });
            }
        }
    }

    /// Consumes one item if it is complete in `buf`: returns the offset after it.
    fn step(&mut self, buf: &[u8]) -> Result<Option<usize>, ScanError> {
        let mut r = Cursor { buf, at: self.pos, max_field: self.max_field };
        let done = match self.phase {
            Phase::SessionCount => r.count("session count")?.map(|n| self.phase = Phase::Sessions(n)),
            Phase::Sessions(0) => {
                self.phase = Phase::AclCount;
                Some(())
            }
            Phase::Sessions(n) => r.skip(8 + 4).map(|()| self.phase = Phase::Sessions(n - 1)),
            Phase::AclCount => r.count("ACL cache size")?.map(|n| self.phase = Phase::AclEntries(n)),
            Phase::AclEntries(0) => {
                self.phase = Phase::Node;
                Some(())
            }
            Phase::AclEntries(n) => match r.skip(8) {
                Some(()) => {
                    r.count("ACL count")?.map(|acls| self.phase = Phase::Acls { entries_left: n, acls_left: acls })
                }
                None => None,
            },
            Phase::Acls { entries_left, acls_left: 0 } => {
                self.phase = Phase::AclEntries(entries_left - 1);
                Some(())
            }
            Phase::Acls { entries_left, acls_left } => {
                let acl = r.skip(4).map(|()| r.string("ACL scheme")).transpose()?.flatten();
                let acl = acl.map(|_| r.string("ACL id")).transpose()?.flatten();
                acl.map(|_| self.phase = Phase::Acls { entries_left, acls_left: acls_left - 1 })
            }
            Phase::Node => match r.string("path")? {
                Some(path) if path == b"/" => {
                    self.phase = Phase::Signature;
                    Some(())
                }
                Some(_) => {
                    let data = r.buffer("node data")?;
                    data.and_then(|()| r.skip(8 + STAT_PERSISTED_LEN))
                }
                None => None,
            },
            Phase::Signature => match r.string("signature")? {
                Some(s) if s == SNAP_SYNC_SIGNATURE.as_bytes() => {
                    self.phase = Phase::Done;
                    Some(())
                }
                Some(_) => return Err(ScanError::BadSignature),
                None => None,
            },
            Phase::Done => Some(()),
        };
        Ok(done.map(|()| r.at))
    }
}

/// Reads items at `at`; `None` when `buf` ends first.
struct Cursor<'a> {
    buf: &'a [u8],
    at: usize,
    max_field: usize,
}

impl<'a> Cursor<'a> {
    fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.at.checked_add(n)?;
        (end <= self.buf.len()).then(|| self.at = end)
    }

    fn int(&mut self) -> Option<i32> {
        let bytes = self.buf.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn count(&mut self, what: &'static str) -> Result<Option<u32>, ScanError> {
        let offset = self.at;
        match self.int() {
            Some(n) if n < 0 => Err(ScanError::Invalid { what, value: n.into(), offset }),
            Some(n) => Ok(Some(n as u32)),
            None => Ok(None),
        }
    }

    /// A length-prefixed field (-1 is null, as jute writes it); returns its bytes.
    fn field(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, ScanError> {
        let offset = self.at;
        let Some(len) = self.int() else { return Ok(None) };
        let len = match len {
            -1 => 0,
            n if n < 0 => return Err(ScanError::Invalid { what, value: n.into(), offset }),
            n => n as usize,
        };
        if len > self.max_field {
            return Err(ScanError::FieldTooLong { what, len, offset, max: self.max_field });
        }
        let start = self.at;
        Ok(self.skip(len).map(|()| &self.buf[start..start + len]))
    }

    fn string(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, ScanError> {
        self.field(what)
    }

    fn buffer(&mut self, what: &'static str) -> Result<Option<()>, ScanError> {
        Ok(self.field(what)?.map(|_| ()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::{DataNodeRecord, Snapshot};
    use zk_proto::{Acl, Id, StatPersisted};

    fn body() -> Vec<u8> {
        let stat = StatPersisted { czxid: 1, mzxid: 2, ctime: 3, mtime: 4, version: 5, ..Default::default() };
        let node = |data: &[u8]| DataNodeRecord { data: Some(data.to_vec().into()), acl: 1, stat: stat.clone() };
        let snapshot = Snapshot {
            sessions: vec![(0x100, 4000), (0x101, 6000)],
            acls: vec![crate::persist::AclCacheEntry {
                index: 1,
                acls: vec![Acl { perms: 31, id: Id::anyone() }, Acl { perms: 1, id: Id::new("digest", "u:x") }],
            }],
            nodes: vec![("".into(), node(b"")), ("/a".into(), node(b"hello")), ("/a/b".into(), node(&[7; 300]))],
            trailer: Default::default(),
        };
        snapshot.write_snap_sync(Vec::new()).unwrap()
    }

    #[test]
    fn finds_the_end_however_the_bytes_arrive() {
        let mut stream = body();
        let len = stream.len();
        stream.extend_from_slice(b"next packet");
        for chunk in [1, 3, 7, 64, stream.len()] {
            let mut scanner = SnapSyncScanner::new(1 << 20, 1 << 30);
            let mut found = None;
            let mut have = 0;
            while found.is_none() {
                have = (have + chunk).min(stream.len());
                found = scanner.scan(&stream[..have]).unwrap();
                assert!(found.is_some() || have < len, "chunk {chunk}: not found with the whole body present");
            }
            assert_eq!(found, Some(len), "chunk {chunk}");
            let decoded = Snapshot::read_snap_sync(&stream[..len]).unwrap();
            assert_eq!(decoded.nodes.len(), 3);
        }
    }

    #[test]
    fn every_prefix_asks_for_more() {
        let body = body();
        for cut in 0..body.len() {
            assert_eq!(SnapSyncScanner::new(1 << 20, 1 << 30).scan(&body[..cut]), Ok(None), "cut {cut}");
        }
    }

    #[test]
    fn hostile_lengths_are_errors() {
        let negative = (-5i32).to_be_bytes();
        assert!(matches!(SnapSyncScanner::new(100, 1000).scan(&negative), Err(ScanError::Invalid { .. })));
        // No sessions, no ACLs, then a path claiming 1 MiB.
        let mut long_path = vec![0, 0, 0, 0, 0, 0, 0, 0];
        long_path.extend_from_slice(&(1i32 << 20).to_be_bytes());
        assert!(matches!(SnapSyncScanner::new(100, 1 << 30).scan(&long_path), Err(ScanError::FieldTooLong { .. })));
        let mut body = body();
        let end = body.len();
        body[end - 1] = b'X';
        assert_eq!(SnapSyncScanner::new(1 << 20, 1 << 30).scan(&body), Err(ScanError::BadSignature));
        assert!(matches!(SnapSyncScanner::new(1 << 20, 64).scan(&body), Err(ScanError::TooLarge { .. })));
    }
}
