//! LOOKING (ZooKeeper's `QuorumPeer.run` in state LOOKING): a fast leader election, during which
//! clients are refused, or, with `readonlymode.enabled`, served read-only once it has gone on for a
//! while (see [`super::read_only`]).

use tracing::warn;

use super::{read_only, QuorumPeer, Wake};
use crate::election::ElectionResult;
use crate::runtime::log_writer::LogEvent;

impl QuorumPeer {
    /// LOOKING: runs an election while refusing clients, or, in read-only mode, serving read-only
    /// clients once the election has taken [`read_only::delay`] (ZooKeeper's `roZkMgr`); read-only
    /// serving ends with the election.
    pub(super) async fn look_for_leader(&mut self) -> Option<ElectionResult> {
        let state = self.persisted();
        self.fle.start(std::time::Instant::now(), state.last_logged_zxid, state.current_epoch);
        let mut read_only_at = self
            .server
            .config
            .read_only_mode_enabled
            .then(|| tokio::time::Instant::now() + read_only::delay(self.server.config.tick_time));
        let outcome = loop {
            if !self.is_member() {
                // A notification carried a config without this server.
                self.stop_read_only();
                if !self.stay_removed().await {
                    break None;
                }
                let state = self.persisted();
                self.fle.start(std::time::Instant::now(), state.last_logged_zxid, state.current_epoch);
            }
            self.send_election_messages();
            if let Some(result) = self.fle.outcome() {
                break Some(result.clone());
            }
            let timer = match (self.fle.poll_timeout().map(tokio::time::Instant::from_std), read_only_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match self.wait(timer).await {
                Wake::Stop => break None,
                Wake::Timer => {
                    self.fle.handle_timeout(std::time::Instant::now());
                    if read_only_at.is_some_and(|at| tokio::time::Instant::now() >= at) {
                        read_only_at = None;
                        self.start_read_only();
                    }
                    if self.read_only.is_some() {
                        self.server.core.tick(self.server.clock.now());
                    }
                }
                Wake::Log(LogEvent::Failed(err)) => {
                    warn!(%err, "txn log failed");
                    break None;
                }
                Wake::Election(from, n) if self.adopt_config_of(from, &n) => {
                    // The election starts over under the new membership (`shuttingDownLE`).
                    let state = self.persisted();
                    self.fle.start(std::time::Instant::now(), state.last_logged_zxid, state.current_epoch);
                }
                wake => self.common(wake),
            }
            self.discard_read_only_outputs();
        };
        self.stop_read_only();
        outcome
    }

    pub(super) fn send_election_messages(&mut self) {
        for (to, n) in self.fle.poll_messages() {
            self.election.send(to, n);
        }
    }
}
