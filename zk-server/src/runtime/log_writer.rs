//! The txn log threads: group commit with overlapping syncs. What the core proposes is written in
//! batches (everything queued, one `write`) and made durable with one fdatasync per batch; durability
//! is reported to the core in batch order.
//!
//! [`LOG_THREADS`] threads take turns: the one holding the intake (the txn log and the command queue)
//! waits for commands, writes the batch, lets go of the intake and syncs its batch, while another
//! takes the intake and writes the next batch. So a request that arrives during a sync is written and
//! its own sync starts at once, instead of waiting for the running sync to end and then for its own;
//! and a batch is synced by the thread that wrote it, with no hand-off in between. A batch is reported
//! durable only when its own sync has returned and every earlier batch has been reported, so the core
//! always sees a durable prefix of the log.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;
use tracing::{error, info_span};
use zk_proto::TxnEntry;

use crate::persist::txn_log::LogFileSyncer;
use crate::persist::{PersistError, TxnLog};

/// How many batches may be syncing at once (one per thread). On the virtual disk measured
/// (BENCHMARKS.md), two concurrent syncs each take about a third longer than one alone, and three or
/// more about twice as long, so more threads would only slow every sync down.
const LOG_THREADS: usize = 2;

/// Work for the log thread.
#[derive(Debug)]
pub enum LogCommand {
    /// Append these txns (in zxid order).
    Append(Vec<TxnEntry>),
    /// Start a new log file after what was appended so far (after a snapshot).
    Roll,
    /// Answer once everything appended before it is durable.
    Barrier(oneshot::Sender<()>),
}

/// What the log thread reports.
#[derive(Debug)]
pub enum LogEvent {
    /// Everything up to this zxid is on disk.
    Durable(i64),
    /// The log failed; the server must stop (as ZooKeeper does on a txn log error).
    Failed(PersistError),
}

/// One written batch on its way to being reported durable.
#[derive(Debug)]
struct Batch {
    /// The file to sync; `None` when nothing was written or syncs are off.
    file: Option<Arc<Path>>,
    last_zxid: Option<i64>,
    barriers: Vec<oneshot::Sender<()>>,
}

/// What one thread at a time holds: the log and the queue it is fed from.
#[derive(Debug)]
struct Intake {
    log: TxnLog,
    commands: Receiver<LogCommand>,
    next_seq: u64,
}

/// Finished batches, reported in order.
#[derive(Debug, Default)]
struct Reports {
    /// Finished batches not yet reported, by sequence number (or the error that ends the log).
    finished: BTreeMap<u64, Result<Batch, PersistError>>,
    next: u64,
    /// Nothing more is reported: the log failed, or nobody listens any more.
    stopped: bool,
}

#[derive(Debug)]
struct LogThreads {
    intake: Mutex<Option<Intake>>,
    reports: Mutex<Reports>,
    events: UnboundedSender<LogEvent>,
    force_sync: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LogThreads {
    fn stopped(&self) -> bool {
        lock(&self.reports).stopped
    }

    /// Reports batch `seq` (or the failure at it) once every earlier batch has been reported.
    fn finish(&self, seq: u64, result: Result<Batch, PersistError>) {
        let reports = &mut *lock(&self.reports);
        if reports.stopped {
            return;
        }
        reports.finished.insert(seq, result);
        while let Some(result) = reports.finished.remove(&reports.next) {
            reports.next += 1;
            match result {
                Ok(batch) => {
                    let gone = batch.last_zxid.is_some_and(|zxid| self.events.send(LogEvent::Durable(zxid)).is_err());
                    for done in batch.barriers {
                        let _ = done.send(());
                    }
                    if gone {
                        reports.stopped = true;
                    }
                }
                Err(err) => {
                    error!(%err, "txn log failure; stopping");
                    let _ = self.events.send(LogEvent::Failed(err));
                    reports.stopped = true;
                }
            }
            if reports.stopped {
                reports.finished.clear();
                break;
            }
        }
    }

    /// One log thread: takes the intake, writes a batch, syncs it, until the queue closes or the log
    /// stops. Every batch it wrote is synced before it returns; the log stays in the intake for [`run`]
    /// to close.
    fn run_thread(&self) {
        let mut syncer = LogFileSyncer::default();
        loop {
            let mut guard = lock(&self.intake);
            let Some(intake) = guard.as_mut() else { return };
            if self.stopped() {
                return;
            }
            let Ok(first) = intake.commands.recv() else { return };
            let seq = intake.next_seq;
            intake.next_seq += 1;
            let written = write_batch(intake, first, self.force_sync);
            drop(guard);
            let result = match written {
                Ok(batch) => match &batch.file {
                    Some(file) => syncer.sync(file).map(|()| batch),
                    None => Ok(batch),
                },
                Err(err) => Err(err),
            };
            self.finish(seq, result);
        }
    }
}

/// Takes `first` and every command queued behind it, appends their txns and writes them with one
/// `write`; rolls the log after the batch when asked to.
fn write_batch(intake: &mut Intake, first: LogCommand, force_sync: bool) -> Result<Batch, PersistError> {
    let mut batch = Batch { file: None, last_zxid: None, barriers: Vec::new() };
    let mut roll = false;
    let mut next = Some(first);
    while let Some(command) = next.take() {
        match command {
            LogCommand::Append(entries) => {
                for entry in &entries {
                    intake.log.append(entry)?;
                    batch.last_zxid = Some(entry.header.zxid);
                }
            }
            LogCommand::Roll => roll = true,
            LogCommand::Barrier(done) => batch.barriers.push(done),
        }
        next = intake.commands.try_recv().ok();
    }
    batch.file = intake.log.write()?.filter(|_| force_sync);
    if roll {
        // The batch's file keeps its name; its sync opens it by path.
        intake.log.roll()?;
    }
    Ok(batch)
}

/// Runs until `commands` closes or the log fails. Every batch of queued commands costs one write and
/// one fdatasync.
pub fn run(log: TxnLog, commands: Receiver<LogCommand>, events: UnboundedSender<LogEvent>) {
    let _span = info_span!("txn_log").entered();
    let force_sync = log.options().force_sync;
    let threads = Arc::new(LogThreads {
        intake: Mutex::new(Some(Intake { log, commands, next_seq: 0 })),
        reports: Mutex::new(Reports::default()),
        events,
        force_sync,
    });
    // Without syncs there is nothing to overlap.
    let helpers: Vec<_> = (1..if force_sync { LOG_THREADS } else { 1 })
        .filter_map(|i| {
            let shared = threads.clone();
            let spawned = std::thread::Builder::new().name(format!("zk-txn-log-{i}")).spawn(move || {
                let _span = info_span!("txn_log").entered();
                shared.run_thread();
            });
            // One thread still commits everything, only without overlap.
            spawned.map_err(|err| error!(%err, "cannot start a second txn log thread")).ok()
        })
        .collect();
    threads.run_thread();
    for helper in helpers {
        let _ = helper.join();
    }
    let intake = lock(&threads.intake).take();
    if let Some(Err(err)) = intake.map(|intake| intake.log.close()) {
        error!(%err, "closing the txn log failed");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use bytes::Bytes;
    use tokio::sync::mpsc::unbounded_channel;
    use zk_proto::{OpCode, SetDataTxn, TxnBody, TxnHeader};

    use super::*;
    use crate::persist::{TxnLogOptions, TxnLogReader};

    fn entry(zxid: i64) -> TxnEntry {
        TxnEntry {
            header: TxnHeader { client_id: 1, cxid: zxid as i32, zxid, time: 0, op_code: OpCode::SetData.code() },
            body: TxnBody::SetData(SetDataTxn { path: "/n".into(), data: Some(Bytes::from_static(b"v")), version: 0 }),
            digest: None,
        }
    }

    /// Runs the log threads over `dir`, sends `commands`, closes the channel and returns every event.
    fn run_log(dir: &Path, options: TxnLogOptions, commands: Vec<LogCommand>) -> Vec<LogEvent> {
        let log = TxnLog::open(dir, options).unwrap();
        let (events_tx, mut events_rx) = unbounded_channel();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || run(log, rx, events_tx));
        for (i, command) in commands.into_iter().enumerate() {
            tx.send(command).unwrap();
            if i % 8 == 0 {
                // Let batches form and syncs overlap, rather than queueing everything at once.
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }
        drop(tx);
        thread.join().unwrap();
        let mut events = Vec::new();
        while let Ok(event) = events_rx.try_recv() {
            events.push(event);
        }
        events
    }

    fn durable(events: &[LogEvent]) -> Vec<i64> {
        events
            .iter()
            .map(|e| match e {
                LogEvent::Durable(zxid) => *zxid,
                LogEvent::Failed(err) => panic!("log failed: {err}"),
            })
            .collect()
    }

    #[test]
    fn durability_is_reported_in_zxid_order_up_to_the_last_append_and_everything_is_readable() {
        for force_sync in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let options = TxnLogOptions { force_sync, prealloc_size: 4096, ..TxnLogOptions::default() };
            // Many small appends with rolls in between: batches form from whatever is queued.
            let mut commands = Vec::new();
            for zxid in 1..=400 {
                commands.push(LogCommand::Append(vec![entry(zxid)]));
                if zxid % 150 == 0 {
                    commands.push(LogCommand::Roll);
                }
            }
            let reported = durable(&run_log(dir.path(), options, commands));
            assert!(reported.windows(2).all(|w| w[0] < w[1]), "not increasing: {reported:?}");
            assert_eq!(reported.last(), Some(&400));
            let logged: Vec<i64> = TxnLogReader::open(dir.path(), 1).unwrap().map(|t| t.unwrap().zxid).collect();
            assert_eq!(logged, (1..=400).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_barrier_is_answered_once_what_came_before_it_is_reported_durable() {
        let dir = tempfile::tempdir().unwrap();
        let log = TxnLog::open(dir.path(), TxnLogOptions::default()).unwrap();
        let (events_tx, mut events_rx) = unbounded_channel();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || run(log, rx, events_tx));
        for zxid in 1..=50 {
            tx.send(LogCommand::Append(vec![entry(zxid)])).unwrap();
        }
        let (done, answered) = oneshot::channel();
        tx.send(LogCommand::Barrier(done)).unwrap();
        answered.blocking_recv().expect("barrier answered");
        // Reports go out before the barrier's answer: the last append is already reported.
        let mut reported = Vec::new();
        while let Ok(event) = events_rx.try_recv() {
            reported.extend(durable(&[event]));
        }
        assert_eq!(reported.last(), Some(&50));
        drop(tx);
        thread.join().unwrap();
    }

    #[test]
    fn a_failed_write_is_reported_after_the_batches_before_it_and_ends_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let options = TxnLogOptions { max_record_len: 64, ..TxnLogOptions::default() };
        let mut big = entry(3);
        big.body =
            TxnBody::SetData(SetDataTxn { path: "/n".into(), data: Some(Bytes::from(vec![0; 100])), version: 0 });
        let commands = vec![
            LogCommand::Append(vec![entry(1)]),
            LogCommand::Append(vec![entry(2)]),
            LogCommand::Append(vec![big]),
            LogCommand::Append(vec![entry(4)]),
        ];
        let events = run_log(dir.path(), options, commands);
        let failed = events.iter().position(|e| matches!(e, LogEvent::Failed(_))).expect("a failure is reported");
        assert_eq!(failed, events.len() - 1, "nothing is reported after the failure: {events:?}");
        assert!(durable(&events[..failed]).iter().all(|&zxid| zxid <= 2));
    }

    fn reporter() -> (LogThreads, tokio::sync::mpsc::UnboundedReceiver<LogEvent>) {
        let dir = tempfile::tempdir().unwrap();
        let log = TxnLog::open(dir.path(), TxnLogOptions::default()).unwrap();
        let (events, rx) = unbounded_channel();
        let (_tx, commands) = mpsc::channel();
        let intake = Mutex::new(Some(Intake { log, commands, next_seq: 0 }));
        (LogThreads { intake, reports: Mutex::default(), events, force_sync: true }, rx)
    }

    fn batch(zxid: i64) -> Batch {
        Batch { file: None, last_zxid: Some(zxid), barriers: Vec::new() }
    }

    #[test]
    fn a_batch_whose_sync_ends_first_waits_for_the_batches_before_it() {
        let (threads, mut events) = reporter();
        threads.finish(1, Ok(batch(20)));
        threads.finish(2, Ok(batch(30)));
        assert!(events.try_recv().is_err(), "nothing before batch 0 is reported");
        threads.finish(0, Ok(batch(10)));
        let mut reported = Vec::new();
        while let Ok(event) = events.try_recv() {
            reported.extend(durable(&[event]));
        }
        assert_eq!(reported, [10, 20, 30]);
    }

    #[test]
    fn nothing_after_a_failed_batch_is_reported_even_if_its_sync_ended_first() {
        let (threads, mut events) = reporter();
        threads.finish(1, Ok(batch(20)));
        threads.finish(0, Err(PersistError::Failed));
        threads.finish(2, Ok(batch(30)));
        assert!(matches!(events.try_recv(), Ok(LogEvent::Failed(_))));
        assert!(events.try_recv().is_err(), "batches 1 and 2 are never reported");
        assert!(threads.stopped());
    }
}
