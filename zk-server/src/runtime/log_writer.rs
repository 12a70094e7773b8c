//! The txn log thread: appends what the core proposes and makes it durable with one fsync per batch
//! (group commit), then tells the core how far the log is durable.

use std::sync::mpsc::Receiver;

use tokio::sync::mpsc::UnboundedSender;
use tracing::{error, info_span};
use zk_proto::TxnEntry;

use crate::persist::{PersistError, TxnLog};

/// Work for the log thread.
#[derive(Debug)]
pub enum LogCommand {
    /// Append these txns (in zxid order).
    Append(Vec<TxnEntry>),
    /// Start a new log file after what was appended so far (after a snapshot).
    Roll,
    /// Answer once everything appended before it is durable.
    Barrier(tokio::sync::oneshot::Sender<()>),
}

/// What the log thread reports.
#[derive(Debug)]
pub enum LogEvent {
    /// Everything up to this zxid is on disk.
    Durable(i64),
    /// The log failed; the server must stop (as ZooKeeper does on a txn log error).
    Failed(PersistError),
}

/// Runs until `commands` closes. Every batch of queued commands costs one commit.
pub fn run(mut log: TxnLog, commands: Receiver<LogCommand>, events: UnboundedSender<LogEvent>) {
    let _span = info_span!("txn_log").entered();
    while let Ok(first) = commands.recv() {
        let mut roll = false;
        let mut last = None;
        let mut barriers = Vec::new();
        let mut next = Some(first);
        let result = (|| -> Result<(), PersistError> {
            while let Some(command) = next.take() {
                match command {
                    LogCommand::Append(entries) => {
                        for entry in &entries {
                            log.append(entry)?;
                            last = Some(entry.header.zxid);
                        }
                    }
                    LogCommand::Roll => roll = true,
                    LogCommand::Barrier(done) => barriers.push(done),
                }
                next = commands.try_recv().ok();
            }
            log.commit()?;
            if roll {
                log.roll()?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                if let Some(zxid) = last {
                    if events.send(LogEvent::Durable(zxid)).is_err() {
                        return;
                    }
                }
                for done in barriers {
                    let _ = done.send(());
                }
            }
            Err(err) => {
                error!(%err, "txn log failure; stopping");
                let _ = events.send(LogEvent::Failed(err));
                return;
            }
        }
    }
    if let Err(err) = log.close() {
        error!(%err, "closing the txn log failed");
    }
}
