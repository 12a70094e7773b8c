//! Request and response records of the node operations: create, delete, exists, data, ACL, children,
//! sync, check, ephemerals and descendant count.

use bytes::Bytes;

use crate::acl::Acl;
use crate::jute::jute_record;
use crate::stat::Stat;

jute_record! {
    /// `create`, `create2` and `createContainer` (op 1, 15, 19).
    pub struct CreateRequest {
        /// The path to create (the prefix, for sequential modes).
        pub path: String,
        /// The data (`None` is Java's null, stored and returned as null).
        pub data: Option<Bytes>,
        /// The ACL of the new node.
        pub acl: Vec<Acl>,
        /// A [`crate::CreateMode`] code.
        pub flags: i32,
    }
}

jute_record! {
    /// `createTTL` (op 21).
    pub struct CreateTtlRequest {
        /// The path to create.
        pub path: String,
        /// The data.
        pub data: Option<Bytes>,
        /// The ACL of the new node.
        pub acl: Vec<Acl>,
        /// A TTL [`crate::CreateMode`] code (5 or 6).
        pub flags: i32,
        /// The TTL in ms.
        pub ttl: i64,
    }
}

jute_record! {
    /// Reply to `create` (op 1).
    pub struct CreateResponse {
        /// The path actually created (with the sequence suffix).
        pub path: String,
    }
}

jute_record! {
    /// Reply to `create2`, `createContainer` and `createTTL`.
    pub struct Create2Response {
        /// The path actually created.
        pub path: String,
        /// The new node's stat.
        pub stat: Stat,
    }
}

jute_record! {
    /// `delete` (op 2).
    pub struct DeleteRequest {
        /// The node.
        pub path: String,
        /// The expected data version, or -1 for any.
        pub version: i32,
    }
}

jute_record! {
    /// `deleteContainer` (op 20): one buffer holding the path (the same bytes as a ustring).
    pub struct DeleteContainerRequest {
        /// The container to delete.
        pub path: String,
    }
}

jute_record! {
    /// `exists` (op 3).
    pub struct ExistsRequest {
        /// The node.
        pub path: String,
        /// Leave a data (or exist) watch.
        pub watch: bool,
    }
}

jute_record! {
    /// Reply to `exists`.
    pub struct ExistsResponse {
        /// The node's stat.
        pub stat: Stat,
    }
}

jute_record! {
    /// `getData` (op 4).
    pub struct GetDataRequest {
        /// The node.
        pub path: String,
        /// Leave a data watch.
        pub watch: bool,
    }
}

jute_record! {
    /// Reply to `getData` (also the reply of `reconfig`).
    pub struct GetDataResponse {
        /// The data (`None` when the node holds Java's null).
        pub data: Option<Bytes>,
        /// The node's stat.
        pub stat: Stat,
    }
}

jute_record! {
    /// `setData` (op 5).
    pub struct SetDataRequest {
        /// The node.
        pub path: String,
        /// The new data.
        pub data: Option<Bytes>,
        /// The expected data version, or -1 for any.
        pub version: i32,
    }
}

jute_record! {
    /// Reply to `setData`.
    pub struct SetDataResponse {
        /// The node's new stat.
        pub stat: Stat,
    }
}

jute_record! {
    /// `getACL` (op 6).
    pub struct GetAclRequest {
        /// The node.
        pub path: String,
    }
}

jute_record! {
    /// Reply to `getACL`.
    pub struct GetAclResponse {
        /// The node's ACL.
        pub acl: Vec<Acl>,
        /// The node's stat.
        pub stat: Stat,
    }
}

jute_record! {
    /// `setACL` (op 7).
    pub struct SetAclRequest {
        /// The node.
        pub path: String,
        /// The new ACL.
        pub acl: Vec<Acl>,
        /// The expected ACL version (aversion), or -1 for any.
        pub version: i32,
    }
}

jute_record! {
    /// Reply to `setACL`.
    pub struct SetAclResponse {
        /// The node's new stat.
        pub stat: Stat,
    }
}

jute_record! {
    /// `getChildren` (op 8).
    pub struct GetChildrenRequest {
        /// The node.
        pub path: String,
        /// Leave a child watch.
        pub watch: bool,
    }
}

jute_record! {
    /// Reply to `getChildren`.
    pub struct GetChildrenResponse {
        /// Child names (not paths), in no particular order.
        pub children: Vec<String>,
    }
}

jute_record! {
    /// `getChildren2` (op 12).
    pub struct GetChildren2Request {
        /// The node.
        pub path: String,
        /// Leave a child watch.
        pub watch: bool,
    }
}

jute_record! {
    /// Reply to `getChildren2`.
    pub struct GetChildren2Response {
        /// Child names.
        pub children: Vec<String>,
        /// The parent's stat.
        pub stat: Stat,
    }
}

jute_record! {
    /// `sync` (op 9).
    pub struct SyncRequest {
        /// The path (informational).
        pub path: String,
    }
}

jute_record! {
    /// Reply to `sync`.
    pub struct SyncResponse {
        /// The path of the request.
        pub path: String,
    }
}

jute_record! {
    /// `check` (op 13), a multi sub-op.
    pub struct CheckVersionRequest {
        /// The node.
        pub path: String,
        /// The expected data version.
        pub version: i32,
    }
}

jute_record! {
    /// `getEphemerals` (op 103).
    pub struct GetEphemeralsRequest {
        /// A plain string prefix; empty or `/` lists all of the session's ephemerals.
        pub prefix_path: String,
    }
}

jute_record! {
    /// Reply to `getEphemerals`.
    pub struct GetEphemeralsResponse {
        /// Full paths of the session's matching ephemeral nodes.
        pub ephemerals: Vec<String>,
    }
}

jute_record! {
    /// `getAllChildrenNumber` (op 104).
    pub struct GetAllChildrenNumberRequest {
        /// The node.
        pub path: String,
    }
}

jute_record! {
    /// Reply to `getAllChildrenNumber`.
    pub struct GetAllChildrenNumberResponse {
        /// The number of descendants, recursively.
        pub total_number: i32,
    }
}

jute_record! {
    /// `getMaxChildren` (legacy quota; unused by 3.9 clients).
    pub struct GetMaxChildrenRequest {
        /// The node.
        pub path: String,
    }
}

jute_record! {
    /// Reply to `getMaxChildren` (legacy).
    pub struct GetMaxChildrenResponse {
        /// The limit.
        pub max: i32,
    }
}

jute_record! {
    /// `setMaxChildren` (legacy quota).
    pub struct SetMaxChildrenRequest {
        /// The node.
        pub path: String,
        /// The limit.
        pub max: i32,
    }
}
