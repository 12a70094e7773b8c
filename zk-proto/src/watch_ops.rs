//! Watch records: notifications, re-registration after reconnect, persistent watches and removal.

use crate::jute::jute_record;

jute_record! {
    /// A watch notification (xid -1) or, client side, a session event.
    pub struct WatcherEvent {
        /// An [`crate::EventType`] code.
        pub event_type: i32,
        /// A [`crate::KeeperState`] code (servers always send `SyncConnected`).
        pub state: i32,
        /// The node the event is about.
        pub path: String,
    }
}

jute_record! {
    /// `setWatches` (op 101, xid -8): standard watches to re-register after a reconnect.
    pub struct SetWatches {
        /// The last zxid the client saw; changes after it fire at once.
        pub relative_zxid: i64,
        /// Data watch paths.
        pub data_watches: Vec<String>,
        /// Exist watch paths.
        pub exist_watches: Vec<String>,
        /// Child watch paths.
        pub child_watches: Vec<String>,
    }
}

jute_record! {
    /// `setWatches2` (op 105, xid -8): as [`SetWatches`] plus persistent watches.
    pub struct SetWatches2 {
        /// The last zxid the client saw.
        pub relative_zxid: i64,
        /// Data watch paths.
        pub data_watches: Vec<String>,
        /// Exist watch paths.
        pub exist_watches: Vec<String>,
        /// Child watch paths.
        pub child_watches: Vec<String>,
        /// Persistent watch paths.
        pub persistent_watches: Vec<String>,
        /// Persistent recursive watch paths.
        pub persistent_recursive_watches: Vec<String>,
    }
}

jute_record! {
    /// `addWatch` (op 106).
    pub struct AddWatchRequest {
        /// The path (need not exist).
        pub path: String,
        /// An [`crate::AddWatchMode`] code.
        pub mode: i32,
    }
}

jute_record! {
    /// `checkWatches` (op 17).
    pub struct CheckWatchesRequest {
        /// The path.
        pub path: String,
        /// A [`crate::WatcherType`] code.
        pub watcher_type: i32,
    }
}

jute_record! {
    /// `removeWatches` (op 18).
    pub struct RemoveWatchesRequest {
        /// The path.
        pub path: String,
        /// A [`crate::WatcherType`] code.
        pub watcher_type: i32,
    }
}

jute_record! {
    /// An error code as a record: the reply body of `addWatch` and of a failed multi sub-op.
    pub struct ErrorResponse {
        /// An [`crate::ErrorCode`] code.
        pub err: i32,
    }
}
