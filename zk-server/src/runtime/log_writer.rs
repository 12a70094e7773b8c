//! The txn log threads: group commit with overlapping syncs. What the core proposes is written in
//! batches (everything queued, one `write`) and made durable with one fdatasync per batch; durability
//! is reported to the core in batch order.
//!
//! [`LOG_THREADS`] threads take turns: one takes the log and everything queued, writes the batch,
//! gives the log back and syncs its batch, while another takes the log and writes the next batch. So
//! a request that arrives during a sync is written and its own sync starts at once, instead of waiting
//! for the running sync to end and then for its own; and a batch is synced by the thread that wrote it,
//! with no hand-off in between. A batch is reported durable only when its own sync has returned and
//! every earlier batch has been reported, so the core always sees a durable prefix of the log.
//!
//! When the log is idle, the caller may commit a batch on its own thread instead
//! ([`LogWriter::commit_if_idle`]): the same write and sync, without waking a log thread, and the
//! report handed back as the call's result rather than sent on the events channel (a send would wake
//! the caller's own task, which is already running, for nothing).

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

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

/// Work for the log threads.
#[derive(Debug)]
pub enum LogCommand {
    /// Append these txns (in zxid order).
    Append(Vec<TxnEntry>),
    /// Start a new log file after what was appended so far (after a snapshot).
    Roll,
    /// Answer once everything appended before it is durable.
    Barrier(oneshot::Sender<()>),
}

/// What the log threads report.
#[derive(Debug)]
pub enum LogEvent {
    /// Everything up to this zxid is on disk.
    Durable(i64),
    /// The log failed; the server must stop (as ZooKeeper does on a txn log error).
    Failed(PersistError),
}

/// What [`LogWriter::commit_if_idle`] did with a batch.
#[derive(Debug)]
pub enum Commit {
    /// Written and synced on the calling thread; what the log threads would have reported on the
    /// events channel (durability, or the failure).
    Here(Vec<LogEvent>),
    /// Queued for the log threads (the log was busy).
    Queued,
    /// Dropped: the log has stopped after a failure.
    Stopped,
}

/// One written batch on its way to being reported durable.
#[derive(Debug)]
struct Batch {
    /// The file to sync; `None` when nothing was written or syncs are off.
    file: Option<Arc<Path>>,
    last_zxid: Option<i64>,
    barriers: Vec<oneshot::Sender<()>>,
}

/// The command queue and the log, which one writer at a time takes out.
#[derive(Debug)]
struct Queue {
    /// `None` while a writer has it.
    log: Option<TxnLog>,
    commands: VecDeque<LogCommand>,
    next_seq: u64,
    /// Batches written (or being written) and not yet reported.
    in_flight: usize,
    /// No more commands come; the threads end once the queue is empty.
    closed: bool,
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

/// Lock order: `queue`, then `reports`.
#[derive(Debug)]
struct LogThreads {
    queue: Mutex<Queue>,
    /// Signalled when commands are queued while the log is free, when the log comes back with
    /// commands waiting, and on close.
    work: Condvar,
    reports: Mutex<Reports>,
    events: UnboundedSender<LogEvent>,
    force_sync: bool,
    /// The syncer of batches committed on the caller's thread ([`LogWriter::commit_if_idle`]).
    caller_syncer: Mutex<LogFileSyncer>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A batch taken out of the queue, with the log to write it to.
struct Taken {
    log: TxnLog,
    commands: Vec<LogCommand>,
    seq: u64,
}

impl LogThreads {
    fn stopped(&self) -> bool {
        lock(&self.reports).stopped
    }

    /// Queues `command`, waking a thread when the log is there to take it.
    fn enqueue(&self, queue: &mut Queue, command: LogCommand) {
        queue.commands.push_back(command);
        if queue.log.is_some() {
            self.work.notify_one();
        }
    }

    /// Takes the log and every queued command.
    fn take(&self, queue: &mut Queue) -> Option<Taken> {
        let log = queue.log.take()?;
        let seq = queue.next_seq;
        queue.next_seq += 1;
        queue.in_flight += 1;
        Some(Taken { log, commands: queue.commands.drain(..).collect(), seq })
    }

    /// Writes a taken batch, gives the log back (waking a thread when commands wait for it) and
    /// syncs the batch.
    fn write_and_sync(&self, taken: Taken, syncer: &mut LogFileSyncer, here: Option<&mut Vec<LogEvent>>) {
        let Taken { mut log, commands, seq } = taken;
        let written = write_batch(&mut log, commands, self.force_sync);
        {
            let mut queue = lock(&self.queue);
            queue.log = Some(log);
            if queue.closed {
                self.work.notify_all();
            } else if !queue.commands.is_empty() {
                self.work.notify_one();
            }
        }
        let result = match written {
            Ok(batch) => match &batch.file {
                Some(file) => syncer.sync(file).map(|()| batch),
                None => Ok(batch),
            },
            Err(err) => Err(err),
        };
        self.finish(seq, result, here);
        lock(&self.queue).in_flight -= 1;
    }

    /// Reports batch `seq` (or the failure at it) once every earlier batch has been reported: on the
    /// events channel, or into `here` (a batch committed on the caller's thread, which is always the
    /// next to report: nothing else was in flight).
    fn finish(&self, seq: u64, result: Result<Batch, PersistError>, mut here: Option<&mut Vec<LogEvent>>) {
        let reports = &mut *lock(&self.reports);
        if reports.stopped {
            return;
        }
        reports.finished.insert(seq, result);
        while let Some(result) = reports.finished.remove(&reports.next) {
            reports.next += 1;
            match result {
                Ok(batch) => {
                    let gone = batch.last_zxid.is_some_and(|zxid| !self.report(LogEvent::Durable(zxid), &mut here));
                    for done in batch.barriers {
                        let _ = done.send(());
                    }
                    if gone {
                        reports.stopped = true;
                    }
                }
                Err(err) => {
                    error!(%err, "txn log failure; stopping");
                    self.report(LogEvent::Failed(err), &mut here);
                    reports.stopped = true;
                }
            }
            if reports.stopped {
                reports.finished.clear();
                break;
            }
        }
    }

    /// Sends `event` on the channel, or pushes it to `here`; false when nobody listens any more.
    fn report(&self, event: LogEvent, here: &mut Option<&mut Vec<LogEvent>>) -> bool {
        match here {
            Some(events) => {
                events.push(event);
                true
            }
            None => self.events.send(event).is_ok(),
        }
    }

    /// One log thread: waits for commands and the log, writes a batch, syncs it, until the queue is
    /// closed and empty or the log stops. Every batch it wrote is synced before it returns.
    fn run_thread(&self) {
        let _span = info_span!("txn_log").entered();
        let mut syncer = LogFileSyncer::default();
        loop {
            let taken = {
                let mut queue = lock(&self.queue);
                loop {
                    if self.stopped() || (queue.closed && queue.commands.is_empty()) {
                        return;
                    }
                    if !queue.commands.is_empty() {
                        if let Some(taken) = self.take(&mut queue) {
                            break taken;
                        }
                    }
                    queue = self.work.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            };
            self.write_and_sync(taken, &mut syncer, None);
        }
    }
}

/// Appends the txns of `commands` and writes them with one `write`; rolls the log after the batch
/// when asked to.
fn write_batch(log: &mut TxnLog, commands: Vec<LogCommand>, force_sync: bool) -> Result<Batch, PersistError> {
    let mut batch = Batch { file: None, last_zxid: None, barriers: Vec::new() };
    let mut roll = false;
    for command in commands {
        match command {
            LogCommand::Append(entries) => {
                for entry in &entries {
                    log.append(entry)?;
                    batch.last_zxid = Some(entry.header.zxid);
                }
            }
            LogCommand::Roll => roll = true,
            LogCommand::Barrier(done) => batch.barriers.push(done),
        }
    }
    batch.file = log.write()?.filter(|_| force_sync);
    if roll {
        // The batch's file keeps its name; its sync opens it by path.
        log.roll()?;
    }
    Ok(batch)
}

/// The txn log's writers: [`LOG_THREADS`] threads (one without syncs: there is nothing to overlap),
/// fed through [`LogWriter::send`]. Every batch of queued commands costs one write and one fdatasync.
#[derive(Debug)]
pub struct LogWriter {
    shared: Arc<LogThreads>,
    threads: Vec<JoinHandle<()>>,
}

impl LogWriter {
    /// Starts the threads; they report on `events`.
    pub fn start(log: TxnLog, events: UnboundedSender<LogEvent>) -> std::io::Result<LogWriter> {
        let force_sync = log.options().force_sync;
        let queue = Queue { log: Some(log), commands: VecDeque::new(), next_seq: 0, in_flight: 0, closed: false };
        let shared = Arc::new(LogThreads {
            queue: Mutex::new(queue),
            work: Condvar::new(),
            reports: Mutex::new(Reports::default()),
            events,
            force_sync,
            caller_syncer: Mutex::new(LogFileSyncer::default()),
        });
        let mut writer = LogWriter { shared, threads: Vec::new() };
        for i in 0..if force_sync { LOG_THREADS } else { 1 } {
            let shared = writer.shared.clone();
            let spawned =
                std::thread::Builder::new().name(format!("zk-txn-log-{i}")).spawn(move || shared.run_thread());
            match spawned {
                Ok(thread) => writer.threads.push(thread),
                // One thread still commits everything, only without overlap.
                Err(err) if i > 0 => error!(%err, "cannot start a second txn log thread"),
                Err(err) => {
                    writer.close();
                    return Err(err);
                }
            }
        }
        Ok(writer)
    }

    /// Queues a command for the threads; false once the log has stopped.
    pub fn send(&self, command: LogCommand) -> bool {
        if self.shared.stopped() {
            return false;
        }
        self.shared.enqueue(&mut lock(&self.shared.queue), command);
        true
    }

    /// Writes and syncs `entries` on the calling thread when the log is idle (nothing queued,
    /// written or syncing), returning their report ([`Commit::Here`]); otherwise queues them as
    /// [`Self::send`] does. Nothing is written once the log has stopped. Every batch reported on the
    /// channel before this call precedes the one it returns.
    ///
    /// A lone writer's request then waits for its sync and nothing else: no hand-off to a log thread
    /// and back, each a wake-up of a sleeping thread.
    pub fn commit_if_idle(&self, entries: Vec<TxnEntry>) -> Commit {
        if self.shared.stopped() {
            return Commit::Stopped;
        }
        let taken = {
            let mut queue = lock(&self.shared.queue);
            let idle = queue.in_flight == 0 && queue.commands.is_empty() && !queue.closed;
            if !idle {
                self.shared.enqueue(&mut queue, LogCommand::Append(entries));
                return Commit::Queued;
            }
            queue.commands.push_back(LogCommand::Append(entries));
            // Nothing is in flight, so the log is here; were it out, whoever has it would find the
            // command when giving it back.
            match self.shared.take(&mut queue) {
                Some(taken) => taken,
                None => return Commit::Queued,
            }
        };
        let mut events = Vec::new();
        self.shared.write_and_sync(taken, &mut lock(&self.shared.caller_syncer), Some(&mut events));
        Commit::Here(events)
    }

    /// Stops the threads once everything queued is durable (or the log has failed), then closes the
    /// log. Blocks; does nothing the second time.
    pub fn close(&mut self) {
        lock(&self.shared.queue).closed = true;
        self.shared.work.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        if let Some(log) = lock(&self.shared.queue).log.take() {
            if let Err(err) = log.close() {
                error!(%err, "closing the txn log failed");
            }
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
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

    /// Starts the log threads over a log in `dir`; the receiver gets their events.
    fn start_writer(dir: &Path, options: TxnLogOptions) -> (LogWriter, tokio::sync::mpsc::UnboundedReceiver<LogEvent>) {
        let (events_tx, events_rx) = unbounded_channel();
        (LogWriter::start(TxnLog::open(dir, options).unwrap(), events_tx).unwrap(), events_rx)
    }

    /// Runs the log threads over `dir`, sends `commands`, closes the writer and returns every event.
    fn run_log(dir: &Path, options: TxnLogOptions, commands: Vec<LogCommand>) -> Vec<LogEvent> {
        let (mut writer, mut events_rx) = start_writer(dir, options);
        for (i, command) in commands.into_iter().enumerate() {
            assert!(writer.send(command));
            if i % 8 == 0 {
                // Let batches form and syncs overlap, rather than queueing everything at once.
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }
        writer.close();
        received(&mut events_rx)
    }

    /// Every event already sent.
    fn received(events: &mut tokio::sync::mpsc::UnboundedReceiver<LogEvent>) -> Vec<LogEvent> {
        std::iter::from_fn(|| events.try_recv().ok()).collect()
    }

    /// Checks that durability was reported in increasing zxids up to `last`, and that the log in `dir`
    /// holds every txn from 1 to `last`.
    fn assert_reported_and_logged(dir: &Path, reported: &[i64], last: i64) {
        assert!(reported.windows(2).all(|w| w[0] < w[1]), "not increasing: {reported:?}");
        assert_eq!(reported.last(), Some(&last));
        let logged: Vec<i64> = TxnLogReader::open(dir, 1).unwrap().map(|t| t.unwrap().zxid).collect();
        assert_eq!(logged, (1..=last).collect::<Vec<_>>());
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
            assert_reported_and_logged(dir.path(), &reported, 400);
        }
    }

    #[test]
    fn a_barrier_is_answered_once_what_came_before_it_is_reported_durable() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, mut events_rx) = start_writer(dir.path(), TxnLogOptions::default());
        for zxid in 1..=50 {
            assert!(writer.send(LogCommand::Append(vec![entry(zxid)])));
        }
        let (done, answered) = oneshot::channel();
        assert!(writer.send(LogCommand::Barrier(done)));
        answered.blocking_recv().expect("barrier answered");
        // Reports go out before the barrier's answer: the last append is already reported.
        assert_eq!(durable(&received(&mut events_rx)).last(), Some(&50));
        writer.close();
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

    #[test]
    fn a_batch_committed_on_an_idle_log_is_durable_and_reported_to_the_caller_not_on_the_channel() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, mut events_rx) = start_writer(dir.path(), TxnLogOptions::default());
        match writer.commit_if_idle(vec![entry(1), entry(2)]) {
            Commit::Here(events) => assert_eq!(durable(&events), [2]),
            other => panic!("not committed here: {other:?}"),
        }
        assert!(events_rx.try_recv().is_err(), "reported to the caller only");
        // Queued and committed-here batches mix, in order.
        let mut reported = vec![2];
        for zxid in 3..=40 {
            if zxid % 3 == 0 {
                match writer.commit_if_idle(vec![entry(zxid)]) {
                    Commit::Here(events) => {
                        // Whatever the threads reported before it comes first.
                        reported.extend(durable(&received(&mut events_rx)));
                        reported.extend(durable(&events));
                    }
                    Commit::Queued => {}
                    Commit::Stopped => panic!("the log stopped"),
                }
            } else {
                assert!(writer.send(LogCommand::Append(vec![entry(zxid)])));
            }
        }
        writer.close();
        reported.extend(durable(&received(&mut events_rx)));
        assert_reported_and_logged(dir.path(), &reported, 40);
    }

    #[test]
    fn a_batch_is_queued_rather_than_committed_here_while_another_is_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let (threads, mut events) = reporter();
        {
            let mut queue = lock(&threads.queue);
            queue.log = Some(TxnLog::open(dir.path(), TxnLogOptions::default()).unwrap());
            queue.in_flight = 1;
        }
        // No threads: whatever is queued stays queued.
        let writer = LogWriter { shared: Arc::new(threads), threads: Vec::new() };
        assert!(matches!(writer.commit_if_idle(vec![entry(1)]), Commit::Queued));
        assert!(events.try_recv().is_err());
        let queue = lock(&writer.shared.queue);
        assert!(matches!(queue.commands.front(), Some(LogCommand::Append(entries)) if entries.len() == 1));
        assert_eq!(queue.next_seq, 0, "no batch was taken");
    }

    #[test]
    fn nothing_is_written_or_queued_once_the_log_has_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let (threads, mut events) = reporter();
        lock(&threads.queue).log = Some(TxnLog::open(dir.path(), TxnLogOptions::default()).unwrap());
        threads.finish(0, Err(PersistError::Failed), None);
        assert!(matches!(events.try_recv(), Ok(LogEvent::Failed(_))));
        let writer = LogWriter { shared: Arc::new(threads), threads: Vec::new() };
        assert!(matches!(writer.commit_if_idle(vec![entry(1)]), Commit::Stopped));
        assert!(!writer.send(LogCommand::Append(vec![entry(2)])));
        assert!(events.try_recv().is_err(), "nothing reported after the failure");
        let queue = lock(&writer.shared.queue);
        assert!(queue.commands.is_empty());
        assert_eq!(queue.next_seq, 0, "no batch was taken");
        drop(queue);
        drop(writer);
        assert!(TxnLogReader::open(dir.path(), 1).unwrap().next().is_none(), "the log holds no txn");
    }

    fn reporter() -> (LogThreads, tokio::sync::mpsc::UnboundedReceiver<LogEvent>) {
        let (events, rx) = unbounded_channel();
        let queue = Queue { log: None, commands: VecDeque::new(), next_seq: 0, in_flight: 0, closed: false };
        let threads = LogThreads {
            queue: Mutex::new(queue),
            work: Condvar::new(),
            reports: Mutex::default(),
            events,
            force_sync: true,
            caller_syncer: Mutex::default(),
        };
        (threads, rx)
    }

    fn batch(zxid: i64) -> Batch {
        Batch { file: None, last_zxid: Some(zxid), barriers: Vec::new() }
    }

    #[test]
    fn a_batch_whose_sync_ends_first_waits_for_the_batches_before_it() {
        let (threads, mut events) = reporter();
        threads.finish(1, Ok(batch(20)), None);
        threads.finish(2, Ok(batch(30)), None);
        assert!(events.try_recv().is_err(), "nothing before batch 0 is reported");
        threads.finish(0, Ok(batch(10)), None);
        assert_eq!(durable(&received(&mut events)), [10, 20, 30]);
    }

    #[test]
    fn nothing_after_a_failed_batch_is_reported_even_if_its_sync_ended_first() {
        let (threads, mut events) = reporter();
        threads.finish(1, Ok(batch(20)), None);
        threads.finish(0, Err(PersistError::Failed), None);
        threads.finish(2, Ok(batch(30)), None);
        assert!(matches!(events.try_recv(), Ok(LogEvent::Failed(_))));
        assert!(events.try_recv().is_err(), "batches 1 and 2 are never reported");
        assert!(threads.stopped());
    }
}
