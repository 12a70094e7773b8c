//! Durable file replacement: write `name.tmp`, fsync it, rename over `name`, fsync the directory
//! (ZooKeeper's `AtomicFileOutputStream` idiom, plus the directory sync it leaves out).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::{IoContext, Result};
use super::file_name::TMP_SUFFIX;

/// The temporary name used while `path` is being written.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(TMP_SUFFIX);
    path.with_file_name(name)
}

/// Replaces `path` with `contents` atomically and durably.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    let mut file = File::create(&tmp).at(&tmp)?;
    file.write_all(contents).at(&tmp)?;
    file.sync_all().at(&tmp)?;
    drop(file);
    commit_tmp(&tmp, path)
}

/// Renames a fully written and synced `tmp` over `path` and syncs the directory.
pub fn commit_tmp(tmp: &Path, path: &Path) -> Result<()> {
    fs::rename(tmp, path).at(path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Makes the directory's entries (created, renamed or removed files) durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    // Opening a directory read-only and fsyncing it is how Unix persists its entries; elsewhere it is a
    // no-op that may fail, which is harmless.
    match File::open(dir) {
        Ok(handle) => match handle.sync_all() {
            Ok(()) => Ok(()),
            Err(e) if cfg!(unix) => Err(super::PersistError::io(dir, e)),
            Err(_) => Ok(()),
        },
        Err(e) if cfg!(unix) => Err(super::PersistError::io(dir, e)),
        Err(_) => Ok(()),
    }
}
