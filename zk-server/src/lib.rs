//! `zk-server`: a ZooKeeper-compatible server.
//!
//! Sans-IO cores (data tree, watches, sessions, request preparation, persistence formats) driven by a
//! thin tokio shell.

pub mod acl;
pub mod config;
pub mod core;
pub mod database;
pub mod election;
mod java_hash;
pub mod net;
pub mod persist;
pub mod prep;
pub mod read;
pub mod runtime;
pub mod session;
pub mod testing;
pub mod tree;
pub mod watch;
pub mod zab;
