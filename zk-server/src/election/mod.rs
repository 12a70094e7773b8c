//! Fast leader election (`FastLeaderElection`, `QuorumCnxManager`, `Vote`, `QuorumVerifier` in
//! ZooKeeper), sans-IO: the state machine takes notifications and timer expiries stamped with `now`
//! and hands back the notifications to send; a shell (tokio, or a simulator) moves the bytes.
//!
//! Messages and handshakes use ZooKeeper's own wire formats ([`zk_proto::Notification`],
//! [`zk_proto::InitialMessage`]), so these servers can elect together with Apache ZooKeeper peers.

pub mod connection;
mod fle;
#[cfg(test)]
mod fle_tests;
pub mod quorum;
pub mod vote;

pub use fle::{
    DecisionPath, ElectionConfig, ElectionResult, FastLeaderElection, FINALIZE_WAIT, MAX_NOTIFICATION_INTERVAL,
    MIN_NOTIFICATION_INTERVAL,
};
pub use quorum::{HierarchicalVerifier, MajorityVerifier, QuorumVerifier};
pub use vote::{total_order_predicate, ServerState, Vote};
