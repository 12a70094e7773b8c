//! Watch-related enums: event types, keeper states, watcher types and add-watch modes.

use crate::int_enum::int_enum;

int_enum! {
    /// `WatcherEvent.type`.
    pub enum EventType {
        /// A session state change (no path).
        None = -1 => "None",
        /// A node was created.
        NodeCreated = 1 => "NodeCreated",
        /// A node was deleted.
        NodeDeleted = 2 => "NodeDeleted",
        /// A node's data changed.
        NodeDataChanged = 3 => "NodeDataChanged",
        /// A node's children changed.
        NodeChildrenChanged = 4 => "NodeChildrenChanged",
        /// A data watch was removed (client side).
        DataWatchRemoved = 5 => "DataWatchRemoved",
        /// A child watch was removed (client side).
        ChildWatchRemoved = 6 => "ChildWatchRemoved",
        /// A persistent watch was removed (client side).
        PersistentWatchRemoved = 7 => "PersistentWatchRemoved",
    }
}

int_enum! {
    /// `WatcherEvent.state`: the connection state an event was sent in.
    pub enum KeeperState {
        /// Unknown (deprecated).
        Unknown = -1 => "Unknown",
        /// Disconnected.
        Disconnected = 0 => "Disconnected",
        /// Deprecated.
        NoSyncConnected = 1 => "NoSyncConnected",
        /// Connected.
        SyncConnected = 3 => "SyncConnected",
        /// Authentication failed.
        AuthFailed = 4 => "AuthFailed",
        /// Connected to a read-only server.
        ConnectedReadOnly = 5 => "ConnectedReadOnly",
        /// SASL authenticated.
        SaslAuthenticated = 6 => "SaslAuthenticated",
        /// The session expired.
        Expired = -112 => "Expired",
        /// The client was closed.
        Closed = 7 => "Closed",
    }
}

int_enum! {
    /// The watch kind named by `checkWatches` / `removeWatches`.
    pub enum WatcherType {
        /// Child watches.
        Children = 1 => "Children",
        /// Data and exist watches.
        Data = 2 => "Data",
        /// Every kind.
        Any = 3 => "Any",
        /// Persistent watches.
        Persistent = 4 => "Persistent",
        /// Persistent recursive watches.
        PersistentRecursive = 5 => "PersistentRecursive",
    }
}

int_enum! {
    /// `AddWatchRequest.mode`.
    pub enum AddWatchMode {
        /// Fires for the path itself, not removed when triggered.
        Persistent = 0 => "PERSISTENT",
        /// Fires for the path and all descendants (never for child changes).
        PersistentRecursive = 1 => "PERSISTENT_RECURSIVE",
    }
}
