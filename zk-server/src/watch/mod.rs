//! `WatchManager`: ZooKeeper's server-side watches (one-shot data / exist / child watches, persistent
//! and persistent-recursive watches), with ZooKeeper 3.9's trigger, removal and reconnect rules.
//!
//! Sans-IO: the manager only decides who is notified of what; the caller sends the notifications
//! (ReplyHeader xid -1 with the txn's zxid, or -1 for events produced by [`WatchManager::set_watches`]).

mod manager;
mod mode;
mod reconnect;
mod table;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use manager::{WatchManager, WatchesSummary};
pub use mode::{Modes, WatchMode};
pub use reconnect::WatchLists;
