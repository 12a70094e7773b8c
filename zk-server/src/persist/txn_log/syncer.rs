//! [`LogFileSyncer`]: the second half of a txn log commit, which makes written batches durable.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use crate::persist::error::{IoContext, Result};

/// Makes what [`TxnLog::write`](super::TxnLog::write) wrote durable: an fdatasync of the log file
/// through a file description of its own.
///
/// Several syncers may sync the same file at once (the writer going on with the next batch meanwhile).
/// Each opens the file itself rather than sharing the writer's descriptor: Linux reports a writeback
/// error once per open file description, so with a shared one, one sync could consume the error
/// that belongs to another's batch and let that batch be reported durable.
#[derive(Debug, Default)]
pub struct LogFileSyncer {
    open: Option<(Arc<Path>, File)>,
}

impl LogFileSyncer {
    /// Makes everything written to `path` before this call durable (`fdatasync`).
    pub fn sync(&mut self, path: &Arc<Path>) -> Result<()> {
        let file = match &mut self.open {
            Some((open, file)) if open == path => file,
            slot => {
                // fdatasync works on a read-only descriptor; the writer alone writes.
                let file = File::open(path).at(path)?;
                &mut slot.insert((path.clone(), file)).1
            }
        };
        file.sync_data().at(path)
    }
}
