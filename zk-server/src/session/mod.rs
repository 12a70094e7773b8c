//! Sessions: ids, passwords, timeout negotiation and expiry tracking, as Apache ZooKeeper does them.
//!
//! Everything here is sans-IO: the caller passes the current time (`now_ms`, milliseconds of a monotonic
//! clock) into every call that needs it, and asks [`SessionTracker::next_expiry_time`] when to call
//! [`SessionTracker::expire`] again.

mod connect;
mod expiry_queue;
mod java_random;
mod password;
mod session_id;
mod timeout;
mod tracker;

pub use connect::SessionOpen;
pub use expiry_queue::ExpiryQueue;
pub use java_random::JavaRandom;
pub use password::{check_password, generate_password, PASSWORD_LEN, SUPER_SECRET};
pub use session_id::{initial_session_id, validate_server_id, MAX_EXTENDED_SERVER_ID};
pub use timeout::SessionTimeouts;
pub use tracker::{SessionInfo, SessionTracker};
