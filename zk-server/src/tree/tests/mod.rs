//! `DataTree` tests: ZooKeeper oracle values, stat rules, replay and snapshots, property tests.

mod differential;
mod initial;
mod memprobe;
mod oracle;
mod props;
mod quotas;
mod replay;
mod stat_rules;
pub(crate) mod txns;
