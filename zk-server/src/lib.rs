//! `zk-server`: a ZooKeeper-compatible server.
//!
//! Sans-IO cores (data tree, watches, sessions, request preparation, persistence formats) driven by a
//! thin tokio shell.

pub mod persist;
