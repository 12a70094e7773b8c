//! The zk-client integration suite against zk-server (`zk_server::testing::Server`, in process).

// Test-support types (servers, proxies) need no Debug.
#![allow(missing_debug_implementations)]

/// The server this binary tests against.
pub const SERVER_KIND: &str = "zk-server";

mod suite;
pub use suite::*;
