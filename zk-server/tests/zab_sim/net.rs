//! The simulated leader–learner TCP connections: per-direction FIFO queues with random delays, graceful
//! closes (data, then EOF), abortive drops (in-flight lost) and partitions (a queue across a partition
//! stalls until it heals, as TCP retransmits would).

use std::collections::VecDeque;

use bytes::Bytes;
use zk_proto::QuorumPacket;

/// The leader's end of a link.
pub const LEADER_END: usize = 0;
/// The learner's end of a link.
pub const LEARNER_END: usize = 1;

/// What travels on a link.
#[derive(Debug, Clone)]
pub enum Msg {
    /// The TCP handshake reached this end (leader: `link_up`; learner: `connected`).
    Connect,
    /// A quorum packet.
    Packet(QuorumPacket),
    /// The snapshot body after a SNAP packet.
    Snapshot(Bytes),
    /// The other end closed the connection.
    Eof,
}

/// One learner connection.
#[derive(Debug)]
pub struct Link {
    /// The leader's node index.
    pub leader: usize,
    /// The learner's node index.
    pub learner: usize,
    /// Whether each end is still attached.
    pub ends: [bool; 2],
    /// Messages travelling toward each end: (due time µs, message).
    pub queues: [VecDeque<(u64, Msg)>; 2],
    last_due: [u64; 2],
}

impl Link {
    /// A connection being opened.
    pub fn new(leader: usize, learner: usize) -> Link {
        Link { leader, learner, ends: [true, true], queues: [VecDeque::new(), VecDeque::new()], last_due: [0, 0] }
    }

    /// The node at `end`.
    pub fn node(&self, end: usize) -> usize {
        if end == LEADER_END {
            self.leader
        } else {
            self.learner
        }
    }

    /// Queues `msg` from `from` to the other end, FIFO after what is already in flight.
    pub fn send(&mut self, from: usize, msg: Msg, now: u64, delay: u64) {
        if !self.ends[from] {
            return;
        }
        let to = 1 - from;
        let due = (now + delay).max(self.last_due[to]);
        self.last_due[to] = due;
        self.queues[to].push_back((due, msg));
    }

    /// `end` closes: what it sent still arrives, then EOF; nothing more reaches it.
    pub fn close(&mut self, end: usize, now: u64, delay: u64) {
        if !self.ends[end] {
            return;
        }
        self.send(end, Msg::Eof, now, delay);
        self.ends[end] = false;
        self.queues[end].clear();
    }

    /// Whether the connection is gone at both ends.
    pub fn dead(&self) -> bool {
        !self.ends[0] && !self.ends[1]
    }
}
