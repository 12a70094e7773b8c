//! `zk-rs`: a ZooKeeper-protocol ecosystem in Rust.
//!
//! This facade re-exports the workspace crates so that the workspace-level `tests/` and `examples/` are
//! ordinary cargo targets. Applications usually depend on the individual crates directly.

pub use zk_client as client;
pub use zk_proto as proto;
pub use zk_server as server;
