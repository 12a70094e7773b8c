//! `SessionTracker`: the live sessions of a standalone server or leader and their expiry buckets.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use tracing::{debug, trace};
use zk_proto::ErrorCode;

use super::ExpiryQueue;

/// What the tracker knows about one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id.
    pub id: i64,
    /// The negotiated timeout in ms.
    pub timeout: i32,
    /// Set once the session expired or a close was requested: it can no longer be touched.
    pub closing: bool,
    /// The connection (or learner) that owns the session, an opaque token chosen by the caller.
    pub owner: Option<u64>,
}

/// Sessions with their timeouts, expired in batches of one tick (`SessionTrackerImpl`).
///
/// Sans-IO: every call that depends on time takes `now_ms` (a monotonic clock in ms). The driver sleeps
/// until [`next_expiry_time`](Self::next_expiry_time), then calls [`expire`](Self::expire) and submits a
/// closeSession for each id it returns. The session stays tracked (marked closing) until
/// [`remove`](Self::remove) is called when that closeSession is applied.
#[derive(Debug, Clone)]
pub struct SessionTracker {
    sessions: HashMap<i64, SessionInfo>,
    queue: ExpiryQueue<i64>,
    next_session_id: i64,
}

impl SessionTracker {
    /// An empty tracker with buckets `tick_time` ms wide, handing out ids from `first_session_id` (see
    /// [`initial_session_id`](super::initial_session_id)).
    pub fn new(tick_time: i32, first_session_id: i64, now_ms: i64) -> SessionTracker {
        SessionTracker {
            sessions: HashMap::new(),
            queue: ExpiryQueue::new(tick_time, now_ms),
            next_session_id: first_session_id,
        }
    }

    /// A tracker holding `sessions` (`(id, timeout)` pairs, as a snapshot stores them), each due one
    /// timeout after `now_ms` (`SessionTrackerImpl`'s constructor).
    pub fn restore(
        tick_time: i32,
        first_session_id: i64,
        sessions: impl IntoIterator<Item = (i64, i32)>,
        now_ms: i64,
    ) -> SessionTracker {
        let mut tracker = SessionTracker::new(tick_time, first_session_id, now_ms);
        for (id, timeout) in sessions {
            tracker.track_session(id, timeout, now_ms);
        }
        tracker
    }

    /// Creates a session with a fresh id (`createSession`) and tracks it as if touched at `now_ms`.
    pub fn create_session(&mut self, timeout: i32, now_ms: i64) -> i64 {
        let id = self.allocate_session_id();
        self.track_session(id, timeout, now_ms);
        id
    }

    /// Hands out a fresh session id without tracking it: a learner's `LearnerSessionTracker.createSession`,
    /// whose session is tracked once the leader commits its createSession.
    pub fn allocate_session_id(&mut self) -> i64 {
        let id = self.next_session_id;
        self.next_session_id = self.next_session_id.wrapping_add(1);
        id
    }

    /// Starts tracking `id` (a session restored from a snapshot or log, or created by another server) or,
    /// if already tracked, refreshes its expiry. Returns whether it was new.
    pub fn track_session(&mut self, id: i64, timeout: i32, now_ms: i64) -> bool {
        let added = !self.sessions.contains_key(&id);
        self.sessions.entry(id).or_insert(SessionInfo { id, timeout, closing: false, owner: None });
        if added {
            debug!(session = format_args!("0x{id:x}"), timeout, "adding session");
        }
        // As ZooKeeper: an existing session keeps its stored timeout but is bucketed by this one.
        self.queue.update(id, timeout, now_ms);
        added
    }

    /// Records activity on `id` (`touchSession`): moves it to the bucket for `now_ms + timeout`. False if
    /// the session is unknown or closing.
    pub fn touch(&mut self, id: i64, now_ms: i64) -> bool {
        match self.sessions.get(&id) {
            Some(session) => {
                let timeout = session.timeout;
                self.touch_with_timeout(id, timeout, now_ms)
            }
            None => false,
        }
    }

    /// As [`touch`](Self::touch), with the timeout of the touching connection (a reconnect negotiates
    /// its own timeout, and ZooKeeper buckets the session by it without changing the stored one).
    pub fn touch_with_timeout(&mut self, id: i64, timeout: i32, now_ms: i64) -> bool {
        match self.sessions.get(&id) {
            None => {
                trace!(session = format_args!("0x{id:x}"), "touch of an invalid session");
                false
            }
            Some(session) if session.closing => {
                trace!(session = format_args!("0x{id:x}"), "touch of a closing session");
                false
            }
            Some(_) => {
                self.queue.update(id, timeout, now_ms);
                true
            }
        }
    }

    /// Marks `id` closing: later touches fail and requests see `SessionExpired`.
    pub fn set_closing(&mut self, id: i64) {
        if let Some(session) = self.sessions.get_mut(&id) {
            session.closing = true;
        }
    }

    /// Whether `id` is tracked and closing.
    pub fn is_closing(&self, id: i64) -> bool {
        self.sessions.get(&id).is_some_and(|s| s.closing)
    }

    /// Stops tracking `id`, returning what was known about it.
    pub fn remove(&mut self, id: i64) -> Option<SessionInfo> {
        let session = self.sessions.remove(&id)?;
        debug!(session = format_args!("0x{id:x}"), "removing session");
        self.queue.remove(&id);
        Some(session)
    }

    /// Whether `id` is tracked (closing or not).
    pub fn contains(&self, id: i64) -> bool {
        self.sessions.contains_key(&id)
    }

    /// The negotiated timeout of `id`.
    pub fn timeout_of(&self, id: i64) -> Option<i32> {
        self.sessions.get(&id).map(|s| s.timeout)
    }

    /// Everything known about `id`.
    pub fn get(&self, id: i64) -> Option<&SessionInfo> {
        self.sessions.get(&id)
    }

    /// The number of tracked sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is tracked.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// The id the next [`create_session`](Self::create_session) will return.
    pub fn next_session_id(&self) -> i64 {
        self.next_session_id
    }

    /// When the driver should call [`expire`](Self::expire) next.
    pub fn next_expiry_time(&self) -> i64 {
        self.queue.next_expiration_time()
    }

    /// Collects every bucket whose time has come by `now_ms`, marks their sessions closing and returns
    /// their ids in ascending order. The sessions stay tracked until [`remove`](Self::remove)d.
    pub fn expire(&mut self, now_ms: i64) -> Vec<i64> {
        let mut expired = Vec::new();
        for id in self.queue.poll_all(now_ms) {
            if let Some(session) = self.sessions.get_mut(&id) {
                session.closing = true;
                expired.push(id);
            }
        }
        expired.sort_unstable();
        if !expired.is_empty() {
            debug!(count = expired.len(), "sessions expired");
        }
        expired
    }

    /// `checkSession`: `id` must be tracked (else `UnknownSession`) and not closing (else
    /// `SessionExpired`); the first owner to check claims it, and any other owner gets `SessionMoved`.
    pub fn check_session(&mut self, id: i64, owner: u64) -> Result<(), ErrorCode> {
        let session = self.sessions.get_mut(&id).ok_or(ErrorCode::UnknownSession)?;
        if session.closing {
            return Err(ErrorCode::SessionExpired);
        }
        match session.owner {
            None => session.owner = Some(owner),
            Some(current) if current != owner => return Err(ErrorCode::SessionMoved),
            Some(_) => {}
        }
        Ok(())
    }

    /// `setOwner`: hands `id` to `owner` (a reconnect moved it). `SessionExpired` if unknown or closing.
    pub fn set_owner(&mut self, id: i64, owner: u64) -> Result<(), ErrorCode> {
        match self.sessions.get_mut(&id) {
            Some(session) if !session.closing => {
                session.owner = Some(owner);
                Ok(())
            }
            _ => Err(ErrorCode::SessionExpired),
        }
    }

    /// `(id, timeout)` of every session in ascending id order, as a snapshot serializes them.
    pub fn sessions_with_timeouts(&self) -> Vec<(i64, i32)> {
        let mut all: Vec<(i64, i32)> = self.sessions.values().map(|s| (s.id, s.timeout)).collect();
        all.sort_unstable();
        all
    }

    /// Expiry time → session ids, in time order (`getSessionExpiryMap`, used by the `cons`/`dump` words).
    pub fn expiry_map(&self) -> BTreeMap<i64, Vec<i64>> {
        self.queue.buckets().map(|(time, ids)| (time, ids.iter().copied().collect())).collect()
    }

    /// The session part of the `dump` four-letter word (`dumpSessions`), with ZooKeeper's layout:
    ///
    /// ```text
    /// Session Sets (2)/(1):
    /// 0 expire at <time>:
    /// 1 expire at <time>:
    /// \t0x1000...
    /// ```
    ///
    /// `format_time` renders a bucket's monotonic time (ZooKeeper prints it as a wall-clock date).
    pub fn dump(&self, format_time: impl Fn(i64) -> String) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Session Sets ({})/({}):", self.queue.bucket_count(), self.queue.len());
        for (time, ids) in self.queue.buckets() {
            let _ = writeln!(out, "{} expire at {}:", ids.len(), format_time(time));
            for id in ids {
                let _ = writeln!(out, "\t0x{id:x}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: i32 = 2000;

    #[test]
    fn ids_are_consecutive_from_the_first() {
        let mut t = SessionTracker::new(TICK, 0x0100_0000_0000_0000, 0);
        assert_eq!(t.create_session(4000, 0), 0x0100_0000_0000_0000);
        assert_eq!(t.create_session(4000, 0), 0x0100_0000_0000_0001);
        assert_eq!(t.next_session_id(), 0x0100_0000_0000_0002);
        assert_eq!(t.len(), 2);
        assert_eq!(t.timeout_of(0x0100_0000_0000_0001), Some(4000));
    }

    #[test]
    fn expiry_follows_the_buckets() {
        let mut t = SessionTracker::new(TICK, 1, 100);
        assert_eq!(t.next_expiry_time(), 2000);
        let a = t.create_session(5000, 100); // due (100 + 5000) rounded up: 6000
        let b = t.create_session(9000, 100); // 10000
        assert_eq!(t.expiry_map(), BTreeMap::from([(6000, vec![a]), (10000, vec![b])]));
        assert!(t.expire(5999).is_empty());
        assert_eq!(t.next_expiry_time(), 6000);
        assert_eq!(t.expire(6000), vec![a]);
        assert!(t.is_closing(a));
        assert!(!t.touch(a, 6000), "closing sessions can't be touched");
        assert_eq!(t.next_expiry_time(), 8000);
        // b is touched at 7000 and moves to (7000 + 9000) -> 18000.
        assert!(t.touch(b, 7000));
        assert!(t.expire(17999).is_empty());
        assert_eq!(t.expire(18000), vec![b]);
        assert!(t.contains(b));
        assert_eq!(t.remove(a).map(|s| s.id), Some(a));
        assert!(!t.contains(a));
        assert!(!t.touch(a, 18000), "unknown");
    }

    #[test]
    fn late_wakeup_collects_every_passed_bucket() {
        let mut t = SessionTracker::new(1000, 10, 0);
        let ids: Vec<i64> = (0..5).map(|i| t.create_session(1000 * (i + 1), 0)).collect();
        // Due at 2000, 3000, 4000, 5000 and 6000.
        assert_eq!(t.expire(3500), ids[..2].to_vec());
        assert_eq!(t.next_expiry_time(), 4000);
        assert_eq!(t.expire(100_000), ids[2..].to_vec());
        assert_eq!(t.next_expiry_time(), 101_000);
    }

    #[test]
    fn ownership() {
        let mut t = SessionTracker::new(TICK, 1, 0);
        let id = t.create_session(4000, 0);
        assert_eq!(t.check_session(99, 1), Err(ErrorCode::UnknownSession));
        assert_eq!(t.check_session(id, 1), Ok(()));
        assert_eq!(t.check_session(id, 2), Err(ErrorCode::SessionMoved));
        assert_eq!(t.set_owner(id, 2), Ok(()));
        assert_eq!(t.check_session(id, 2), Ok(()));
        t.set_closing(id);
        assert_eq!(t.check_session(id, 2), Err(ErrorCode::SessionExpired));
        assert_eq!(t.set_owner(id, 3), Err(ErrorCode::SessionExpired));
    }

    #[test]
    fn snapshot_iteration_and_dump() {
        let mut t = SessionTracker::new(TICK, 0x100, 0);
        t.track_session(0x205, 6000, 0);
        let a = t.create_session(4000, 0);
        let b = t.create_session(4000, 1000);
        assert_eq!(t.sessions_with_timeouts(), vec![(a, 4000), (b, 4000), (0x205, 6000)]);
        let restored = SessionTracker::restore(TICK, 0x300, t.sessions_with_timeouts(), 10_000);
        assert_eq!(restored.sessions_with_timeouts(), t.sessions_with_timeouts());
        assert_eq!(restored.expiry_map(), BTreeMap::from([(16000, vec![a, b]), (18000, vec![0x205])]));
        let dump = t.dump(|ms| format!("{ms}ms"));
        assert_eq!(
            dump,
            "Session Sets (2)/(3):\n2 expire at 6000ms:\n\t0x100\n\t0x101\n1 expire at 8000ms:\n\t0x205\n"
        );
        // Negative ids print as Java's Long.toHexString (two's complement).
        let mut n = SessionTracker::new(TICK, -2, 0);
        n.create_session(100, 0);
        assert!(n.dump(|ms| ms.to_string()).contains("\t0xfffffffffffffffe\n"));
    }
}
