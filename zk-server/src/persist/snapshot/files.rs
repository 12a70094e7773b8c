//! Snapshot files on disk: writing one atomically, the cheap validity check, finding the newest valid
//! ones and loading the newest that reads back intact (`FileSnap`, `SnapStream`).

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::reader::SnapshotReader;
use super::records::SnapshotTrailer;
use super::whole::Snapshot;
use super::writer::SnapshotWriter;
use crate::persist::atomic_file::{commit_tmp, tmp_path};
use crate::persist::error::{IoContext, PersistError, Result};
use crate::persist::file_name::{list_files, snapshot_name, Compression, DataFile, SNAPSHOT_PREFIX};

/// How many of the newest snapshots ZooKeeper tries before giving up (`FileSnap.deserialize`).
pub const MAX_SNAPSHOTS_TRIED: usize = 100;

/// How much of a snapshot is written between two `fdatasync`s.
const SYNC_STEP: u64 = 8 * 1024 * 1024;

/// A snapshot file that is made durable in steps of [`SYNC_STEP`] bytes as it is written: one fsync of a
/// whole snapshot (hundreds of megabytes with a million znodes) floods the disk queue, and the txn
/// log's group-commit fsyncs, which every write waits for, would queue behind it.
#[derive(Debug)]
pub struct SteppedSyncFile {
    file: File,
    unsynced: u64,
}

impl Write for SteppedSyncFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(buf)?;
        self.unsynced += written as u64;
        if self.unsynced >= SYNC_STEP {
            self.file.sync_data()?;
            self.unsynced = 0;
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The destination of a snapshot file being written.
#[derive(Debug)]
pub enum FileSink {
    /// Uncompressed.
    Plain(BufWriter<SteppedSyncFile>),
    /// Gzip-compressed (the checksum covers the uncompressed stream, inside the compression).
    Gzip(GzEncoder<BufWriter<SteppedSyncFile>>),
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            FileSink::Plain(w) => w.write(buf),
            FileSink::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            FileSink::Plain(w) => w.flush(),
            FileSink::Gzip(w) => w.flush(),
        }
    }
}

impl FileSink {
    fn into_file(self) -> std::io::Result<File> {
        let buffered = match self {
            FileSink::Plain(w) => w,
            FileSink::Gzip(w) => w.finish()?,
        };
        Ok(buffered.into_inner().map_err(|e| e.into_error())?.file)
    }
}

/// Writes `snapshot.<zxid>[.gz]` through a `.tmp` file: nothing appears under the final name until
/// [`SnapshotFileWriter::finish`] has fsynced it, so a crash never leaves a partial snapshot that looks
/// like a real one.
#[derive(Debug)]
pub struct SnapshotFileWriter {
    writer: SnapshotWriter<FileSink>,
    tmp: PathBuf,
    dest: PathBuf,
}

impl SnapshotFileWriter {
    /// Starts `snap_dir/snapshot.<hex zxid>[ext]` and writes its header.
    pub fn create(snap_dir: &Path, zxid: i64, compression: Compression) -> Result<SnapshotFileWriter> {
        let dest = snap_dir.join(snapshot_name(zxid, compression));
        let tmp = tmp_path(&dest);
        let file = SteppedSyncFile { file: File::create(&tmp).at(&tmp)?, unsynced: 0 };
        let file = BufWriter::with_capacity(256 * 1024, file);
        let sink = match compression {
            Compression::None => FileSink::Plain(file),
            Compression::Gzip => FileSink::Gzip(GzEncoder::new(file, flate2::Compression::default())),
            Compression::Snappy => return Err(PersistError::Unsupported { path: dest, what: "snappy compression" }),
        };
        let writer = SnapshotWriter::new(sink)?.with_context(tmp.display().to_string());
        Ok(SnapshotFileWriter { writer, tmp, dest })
    }

    /// The encoder: write the sessions, the ACL cache and the nodes through it.
    pub fn encoder(&mut self) -> &mut SnapshotWriter<FileSink> {
        &mut self.writer
    }

    /// Writes the trailer, fsyncs and renames the file into place. Returns its path.
    pub fn finish(self, trailer: &SnapshotTrailer) -> Result<PathBuf> {
        let sink = self.writer.finish(trailer)?;
        let file = sink.into_file().at(&self.tmp)?;
        file.sync_all().at(&self.tmp)?;
        drop(file);
        commit_tmp(&self.tmp, &self.dest)?;
        tracing::info!(path = %self.dest.display(), "snapshot written");
        Ok(self.dest)
    }
}

/// Writes a whole in-memory snapshot as `snap_dir/snapshot.<hex zxid>[ext]`.
pub fn write_snapshot_file(
    snap_dir: &Path,
    zxid: i64,
    compression: Compression,
    snapshot: &Snapshot,
) -> Result<PathBuf> {
    let mut file = SnapshotFileWriter::create(snap_dir, zxid, compression)?;
    let encoder = file.encoder();
    encoder.write_sessions(snapshot.sessions.iter().copied())?;
    encoder.write_acl_cache(snapshot.acls.iter().map(|e| (e.index, e.acls.as_slice())))?;
    for (path, node) in &snapshot.nodes {
        encoder.write_node(path, node)?;
    }
    file.finish(&snapshot.trailer)
}

/// A boxed reader over a snapshot file's decompressed bytes.
pub type SnapshotFileReader = SnapshotReader<Box<dyn Read + Send>>;

/// Opens a snapshot file for reading (plain or gzip; snappy is not supported).
pub fn open_snapshot_file(file: &DataFile) -> Result<SnapshotFileReader> {
    let path = &file.path;
    let raw = BufReader::with_capacity(256 * 1024, File::open(path).at(path)?);
    let input: Box<dyn Read + Send> = match file.compression {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(MultiGzDecoder::new(raw)),
        Compression::Snappy => {
            return Err(PersistError::Unsupported { path: path.clone(), what: "snappy compression" })
        }
    };
    SnapshotReader::new(input, path.display().to_string())
}

/// Reads a whole snapshot file, checking its seals.
pub fn read_snapshot_file(path: &Path) -> Result<Snapshot> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let zxid = crate::persist::file_name::zxid_from_name(name, SNAPSHOT_PREFIX).unwrap_or(-1);
    let compression = crate::persist::file_name::compression_of(name);
    Snapshot::read(open_snapshot_file(&DataFile { zxid, path: path.to_path_buf(), compression })?)
}

/// The cheap check ZooKeeper runs before trying a snapshot (`SnapStream.isValidSnapshot`): a plain
/// file must be at least 10 bytes and end with the seal's `"/"` (int 1, then `'/'`); a gzip file must
/// start with the gzip magic. Snappy files are never valid here (we cannot read them).
pub fn is_valid_snapshot(file: &DataFile) -> Result<bool> {
    let path = &file.path;
    let mut handle = File::open(path).at(path)?;
    let len = handle.metadata().at(path)?.len();
    match file.compression {
        Compression::None => {
            if len < 10 {
                return Ok(false);
            }
            let mut tail = [0u8; 5];
            handle.seek(SeekFrom::Start(len - 5)).at(path)?;
            handle.read_exact(&mut tail).at(path)?;
            Ok(tail == [0, 0, 0, 1, b'/'])
        }
        Compression::Gzip => {
            let mut magic = [0u8; 2];
            Ok(len >= 2 && handle.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b])
        }
        Compression::Snappy => Ok(false),
    }
}

/// The newest (at most `n`) snapshots in `snap_dir` that pass [`is_valid_snapshot`], newest first.
pub fn find_valid_snapshots(snap_dir: &Path, n: usize) -> Result<Vec<DataFile>> {
    let mut valid = Vec::new();
    for file in list_files(snap_dir, SNAPSHOT_PREFIX)?.into_iter().rev() {
        if valid.len() == n {
            break;
        }
        match is_valid_snapshot(&file) {
            Ok(true) => valid.push(file),
            Ok(false) => tracing::info!(path = %file.path.display(), "invalid snapshot skipped"),
            Err(e) => tracing::info!(error = %e, "invalid snapshot skipped"),
        }
    }
    Ok(valid)
}

/// A snapshot loaded by [`load_newest_snapshot`].
#[derive(Debug)]
pub struct LoadedSnapshot<T> {
    /// The file (its `zxid` is the last processed zxid, as ZooKeeper takes it from the name).
    pub file: DataFile,
    /// What the caller built from it.
    pub value: T,
    /// The trailer sections.
    pub trailer: SnapshotTrailer,
}

/// Loads the newest snapshot that reads back intact, trying up to [`MAX_SNAPSHOTS_TRIED`] valid-looking
/// ones newest first, as ZooKeeper does. `build` reads the sections (sessions, ACL cache, nodes) and
/// builds the caller's structure; the seals are checked after it returns, and on any error the next
/// older snapshot is tried with a fresh `build` call. `Ok(None)` when there is no snapshot at all.
pub fn load_newest_snapshot<T>(
    snap_dir: &Path,
    mut build: impl FnMut(&DataFile, &mut SnapshotFileReader) -> Result<T>,
) -> Result<Option<LoadedSnapshot<T>>> {
    let candidates = find_valid_snapshots(snap_dir, MAX_SNAPSHOTS_TRIED)?;
    if candidates.is_empty() {
        return Ok(None);
    }
    for file in candidates {
        tracing::info!(path = %file.path.display(), "reading snapshot");
        let attempt = open_snapshot_file(&file).and_then(|mut reader| {
            let value = build(&file, &mut reader)?;
            let trailer = reader.finish()?;
            Ok((value, trailer))
        });
        match attempt {
            Ok((value, trailer)) => return Ok(Some(LoadedSnapshot { file, value, trailer })),
            Err(e) => tracing::warn!(path = %file.path.display(), error = %e, "problem reading snapshot"),
        }
    }
    Err(PersistError::NoValidSnapshot { dir: snap_dir.to_path_buf() })
}

/// Removes leftover `.tmp` snapshots (a crash while writing one).
pub fn remove_partial_snapshots(snap_dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(snap_dir) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(SNAPSHOT_PREFIX) && name.ends_with(crate::persist::file_name::TMP_SUFFIX) {
            tracing::warn!(path = %entry.path().display(), "removing partial snapshot");
            fs::remove_file(entry.path()).at(&entry.path())?;
        }
    }
    Ok(())
}
