//! The txn log threads: a writer appends what the core proposes and writes it in batches (group
//! commit); syncer threads make the written batches durable, several at once; durability is reported
//! to the core in batch order.
//!
//! Overlapping the syncs is what keeps a request from waiting for a sync that started before it
//! arrived: with one sync at a time, a request that arrives just after a sync started waits for that
//! one and then for its own. Here its batch is written and its sync starts at once, while an earlier
//! sync may still run (at most [`MAX_SYNCS_IN_FLIGHT`]). A batch is reported durable only when its own
//! sync has returned and every earlier batch has been reported, so the core always sees a durable
//! prefix of the log.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;
use tracing::{error, info_span};
use zk_proto::TxnEntry;

use crate::persist::txn_log::LogFileSyncer;
use crate::persist::{PersistError, TxnLog};

/// How many fdatasyncs may run at once. On the virtual disk measured (BENCHMARKS.md), two concurrent
/// syncs each take about a third longer than one alone, and three or more about twice as long: two
/// cut the latency tail of synchronous writers roughly in half at the same throughput.
const MAX_SYNCS_IN_FLIGHT: usize = 2;

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
    seq: u64,
    /// The file to sync; `None` when nothing was written or syncs are off.
    file: Option<Arc<Path>>,
    last_zxid: Option<i64>,
    barriers: Vec<oneshot::Sender<()>>,
}

/// What the writer and the syncers share.
#[derive(Debug)]
struct Syncs {
    state: Mutex<SyncState>,
    /// Signalled when a batch is queued for syncing, or on stop.
    queued: Condvar,
    /// Signalled when a sync finishes.
    finished: Condvar,
    events: UnboundedSender<LogEvent>,
}

#[derive(Debug, Default)]
struct SyncState {
    queue: VecDeque<Batch>,
    /// Batches queued or being synced.
    in_flight: usize,
    /// Finished batches not yet reported, by sequence number (or the error that ends the log).
    finished: BTreeMap<u64, Result<Batch, PersistError>>,
    next_report: u64,
    /// No more batches will come (the writer ended, the log failed, or nobody listens any more).
    stopped: bool,
}

impl Syncs {
    fn lock(&self) -> MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until another sync may start; false once the log has stopped.
    fn wait_for_slot(&self) -> bool {
        let mut state = self.lock();
        while !state.stopped && state.in_flight >= MAX_SYNCS_IN_FLIGHT {
            state = self.finished.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        !state.stopped
    }

    /// Waits until every batch handed over has been synced and reported.
    fn wait_idle(&self) {
        let mut state = self.lock();
        while state.in_flight > 0 {
            state = self.finished.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Hands a written batch over: to the syncers when its file needs syncing, otherwise straight
    /// to the report (after the batches before it).
    fn submit(&self, batch: Batch) {
        let mut state = self.lock();
        if batch.file.is_some() {
            state.in_flight += 1;
            state.queue.push_back(batch);
            self.queued.notify_one();
        } else {
            state.finished.insert(batch.seq, Ok(batch));
            self.report(&mut state);
        }
    }

    /// The log failed at batch `seq`: reported after the batches before it, then everything stops.
    fn fail(&self, seq: u64, err: PersistError) {
        let mut state = self.lock();
        state.finished.insert(seq, Err(err));
        self.report(&mut state);
    }

    fn stop(&self) {
        self.lock().stopped = true;
        self.queued.notify_all();
        self.finished.notify_all();
    }

    /// Reports finished batches in order, up to the first one still syncing.
    fn report(&self, state: &mut SyncState) {
        while let Some(result) = state.finished.remove(&state.next_report) {
            state.next_report += 1;
            match result {
                Ok(batch) => {
                    let gone = batch.last_zxid.is_some_and(|zxid| self.events.send(LogEvent::Durable(zxid)).is_err());
                    for done in batch.barriers {
                        let _ = done.send(());
                    }
                    if gone {
                        state.stopped = true;
                    }
                }
                Err(err) => {
                    error!(%err, "txn log failure; stopping");
                    let _ = self.events.send(LogEvent::Failed(err));
                    state.stopped = true;
                }
            }
        }
        if state.stopped {
            state.finished.clear();
            self.queued.notify_all();
            self.finished.notify_all();
        }
    }

    /// One syncer thread: syncs queued batches until stopped with nothing left to sync.
    fn run_syncer(&self) {
        let mut syncer = LogFileSyncer::default();
        loop {
            let batch = {
                let mut state = self.lock();
                loop {
                    if let Some(batch) = state.queue.pop_front() {
                        break batch;
                    }
                    if state.stopped {
                        return;
                    }
                    state = self.queued.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            };
            let result = match &batch.file {
                Some(file) => syncer.sync(file),
                None => Ok(()),
            };
            let mut state = self.lock();
            state.in_flight -= 1;
            if !state.stopped {
                let seq = batch.seq;
                state.finished.insert(seq, result.map(|()| batch));
                self.report(&mut state);
            }
            self.finished.notify_all();
        }
    }
}

/// Runs until `commands` closes or the log fails. Every batch of queued commands costs one write and
/// one fdatasync.
pub fn run(mut log: TxnLog, commands: Receiver<LogCommand>, events: UnboundedSender<LogEvent>) {
    let _span = info_span!("txn_log").entered();
    let force_sync = log.options().force_sync;
    let syncs = Arc::new(Syncs {
        state: Mutex::new(SyncState::default()),
        queued: Condvar::new(),
        finished: Condvar::new(),
        events,
    });
    let mut syncers = Vec::new();
    for i in 0..if force_sync { MAX_SYNCS_IN_FLIGHT } else { 0 } {
        let shared = syncs.clone();
        match std::thread::Builder::new().name(format!("zk-txn-sync-{i}")).spawn(move || shared.run_syncer()) {
            Ok(thread) => syncers.push(thread),
            Err(err) => {
                syncs.fail(0, PersistError::io("txn log sync thread", err));
                break;
            }
        }
    }
    let mut seq = 0;
    // Wait for a sync slot before taking the queue: what arrives meanwhile joins the batch.
    while let Some(first) = commands.recv().ok().filter(|_| syncs.wait_for_slot()) {
        let mut batch = Batch { seq, file: None, last_zxid: None, barriers: Vec::new() };
        seq += 1;
        let mut roll = false;
        let mut next = Some(first);
        let written = (|| -> Result<Option<Arc<Path>>, PersistError> {
            while let Some(command) = next.take() {
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
                next = commands.try_recv().ok();
            }
            log.write()
        })();
        match written {
            Ok(file) => {
                batch.file = file.filter(|_| force_sync);
                syncs.submit(batch);
            }
            Err(err) => {
                syncs.fail(batch.seq, err);
                break;
            }
        }
        if roll {
            if let Err(err) = log.roll() {
                syncs.fail(seq, err);
                break;
            }
        }
    }
    syncs.wait_idle();
    syncs.stop();
    for syncer in syncers {
        let _ = syncer.join();
    }
    if let Err(err) = log.close() {
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
        for command in commands {
            tx.send(command).unwrap();
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
}
