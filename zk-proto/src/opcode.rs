//! Request opcodes (`ZooDefs.OpCode`) and the special xids.

use crate::int_enum::int_enum;

int_enum! {
    /// The operation a request (or txn) performs.
    pub enum OpCode {
        /// Watch notification (server to client, xid -1).
        Notification = 0 => "notification",
        /// Create a node (replies with its path).
        Create = 1 => "create",
        /// Delete a node.
        Delete = 2 => "delete",
        /// Stat a node, optionally leaving a watch.
        Exists = 3 => "exists",
        /// Read a node's data and stat.
        GetData = 4 => "getData",
        /// Write a node's data.
        SetData = 5 => "setData",
        /// Read a node's ACL.
        GetAcl = 6 => "getACL",
        /// Write a node's ACL.
        SetAcl = 7 => "setACL",
        /// List a node's children.
        GetChildren = 8 => "getChildren",
        /// Flush the leader channel before a read.
        Sync = 9 => "sync",
        /// Keep-alive (xid -2).
        Ping = 11 => "ping",
        /// List children with the parent's stat.
        GetChildren2 = 12 => "getChildren2",
        /// Version check (a multi sub-op).
        Check = 13 => "check",
        /// Atomic write transaction.
        Multi = 14 => "multi",
        /// Create a node, replying with path and stat.
        Create2 = 15 => "create2",
        /// Dynamic reconfiguration.
        Reconfig = 16 => "reconfig",
        /// Ask whether a watch exists.
        CheckWatches = 17 => "checkWatches",
        /// Remove watches.
        RemoveWatches = 18 => "removeWatches",
        /// Create a container node.
        CreateContainer = 19 => "createContainer",
        /// Delete an empty container (internal).
        DeleteContainer = 20 => "deleteContainer",
        /// Create a node with a TTL.
        CreateTtl = 21 => "createTTL",
        /// Batched reads, each succeeding on its own.
        MultiRead = 22 => "multiRead",
        /// Add authentication (xid -4).
        Auth = 100 => "auth",
        /// Re-register watches after reconnect (xid -8).
        SetWatches = 101 => "setWatches",
        /// SASL token exchange.
        Sasl = 102 => "sasl",
        /// List the session's ephemeral nodes.
        GetEphemerals = 103 => "getEphemerals",
        /// Count all descendants.
        GetAllChildrenNumber = 104 => "getAllChildrenNumber",
        /// Re-register watches including persistent ones (xid -8).
        SetWatches2 = 105 => "setWatches2",
        /// Add a persistent (recursive) watch.
        AddWatch = 106 => "addWatch",
        /// Report the caller's authenticated identities.
        WhoAmI = 107 => "whoAmI",
        /// Create a session (txn only, never on the client wire).
        CreateSession = -10 => "createSession",
        /// Close the session.
        CloseSession = -11 => "closeSession",
        /// A failed write (txn type and multi sub-result).
        Error = -1 => "error",
    }
}

impl OpCode {
    /// Whether this operation changes state (goes through the write pipeline and gets a txn).
    pub const fn is_write(self) -> bool {
        matches!(
            self,
            OpCode::Create
                | OpCode::Create2
                | OpCode::CreateContainer
                | OpCode::CreateTtl
                | OpCode::Delete
                | OpCode::DeleteContainer
                | OpCode::SetData
                | OpCode::SetAcl
                | OpCode::Check
                | OpCode::Multi
                | OpCode::Reconfig
                | OpCode::CreateSession
                | OpCode::CloseSession
        )
    }
}

/// Reserved xids.
pub mod xid {
    /// A watch notification (server to client).
    pub const NOTIFICATION: i32 = -1;
    /// A ping and its reply.
    pub const PING: i32 = -2;
    /// An auth packet and its reply.
    pub const AUTH: i32 = -4;
    /// A setWatches / setWatches2 packet and its reply.
    pub const SET_WATCHES: i32 = -8;
}
