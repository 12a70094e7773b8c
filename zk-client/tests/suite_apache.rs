//! The zk-client integration suite against Apache ZooKeeper 3.8 (Debian's package).

// Test-support types (servers, proxies) need no Debug.
#![allow(missing_debug_implementations)]

/// The server this binary tests against.
pub const SERVER_KIND: &str = "apache";

mod suite;
pub use suite::*;
