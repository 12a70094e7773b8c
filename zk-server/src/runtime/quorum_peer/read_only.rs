//! Read-only mode of an ensemble member (`readonlymode.enabled`), as ZooKeeper's `QuorumPeer.run`
//! does it while LOOKING: its `roZkMgr` thread waits `max(2000 ms, tickTime)` and, if the peer is
//! still looking, starts a `ReadOnlyZooKeeperServer`; when the election ends the read-only server is
//! shut down, closing every connection it served, and the peer goes on to its term.
//!
//! Here the core plays the read-only server ([`Role::ReadOnly`]): the peer switches it to that role,
//! lets client events through to it while LOOKING, ticks it (local sessions expire), and switches it
//! back to its former role when the election ends. The read-only core proposes nothing, so nothing
//! reaches the txn log.

use std::time::Duration;

use tracing::{info, warn};

use super::{PeerState, QuorumPeer};
use crate::core::{Output, Role};

/// How long a member looks for a leader before it serves read-only clients (`roZkMgr`'s
/// `Math.max(2000, tickTime)`).
pub(super) fn delay(tick_time: i32) -> Duration {
    Duration::from_millis(u64::try_from(tick_time.max(2000)).unwrap_or(2000))
}

impl QuorumPeer {
    /// Starts serving read-only clients (`ReadOnlyZooKeeperServer.startup`).
    pub(super) fn start_read_only(&mut self) {
        if self.read_only.is_some() {
            return;
        }
        let before = self.server.core.role();
        self.server.core.set_role(Role::ReadOnly);
        self.read_only = Some(before);
        info!("read-only server started");
        self.publish(PeerState::Looking, None);
    }

    /// Stops serving read-only clients (`ReadOnlyZooKeeperServer.shutdown`): their connections are
    /// closed and their local sessions forgotten, and the core takes its former role back.
    pub(super) fn stop_read_only(&mut self) {
        let Some(before) = self.read_only.take() else { return };
        self.server.core.set_role(before);
        info!("read-only server stopped");
        self.publish(PeerState::Looking, None);
    }

    /// A read-only core has nothing to log or forward; anything it asked for is dropped (and would be
    /// a bug).
    pub(super) fn discard_read_only_outputs(&mut self) {
        while let Some(output) = self.server.core.poll_output() {
            match output {
                Output::Persist(entry) => warn!(zxid = entry.header.zxid, "txn while looking; dropped"),
                Output::Forward { op_code, .. } => warn!(op_code, "request forwarded while looking; dropped"),
                Output::Revalidate { session_id, .. } => warn!(session_id, "revalidation while looking; dropped"),
            }
        }
    }
}
