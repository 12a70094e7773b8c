//! Node metadata: `Stat` (client view) and `StatPersisted` (server and snapshot view).

use crate::jute::jute_record;

jute_record! {
    /// A node's metadata as clients see it (68 bytes on the wire).
    pub struct Stat {
        /// Zxid of the create.
        pub czxid: i64,
        /// Zxid of the last data change.
        pub mzxid: i64,
        /// Create time (ms since the epoch, leader clock).
        pub ctime: i64,
        /// Last data change time.
        pub mtime: i64,
        /// Data version.
        pub version: i32,
        /// Child version.
        pub cversion: i32,
        /// ACL version.
        pub aversion: i32,
        /// Owning session of an ephemeral node, or the container / TTL marker, or 0.
        pub ephemeral_owner: i64,
        /// Data length in bytes.
        pub data_length: i32,
        /// Number of children.
        pub num_children: i32,
        /// Zxid of the last child change.
        pub pzxid: i64,
    }
}

jute_record! {
    /// A node's metadata as servers store it (no dataLength / numChildren).
    pub struct StatPersisted {
        /// Zxid of the create.
        pub czxid: i64,
        /// Zxid of the last data change.
        pub mzxid: i64,
        /// Create time.
        pub ctime: i64,
        /// Last data change time.
        pub mtime: i64,
        /// Data version.
        pub version: i32,
        /// Child version.
        pub cversion: i32,
        /// ACL version.
        pub aversion: i32,
        /// Owner marker (see [`Stat::ephemeral_owner`]).
        pub ephemeral_owner: i64,
        /// Zxid of the last child change.
        pub pzxid: i64,
    }
}

impl StatPersisted {
    /// The client view, given the data length and child count the server tracks separately.
    pub fn to_stat(&self, data_length: i32, num_children: i32) -> Stat {
        Stat {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion,
            aversion: self.aversion,
            ephemeral_owner: self.ephemeral_owner,
            data_length,
            num_children,
            pzxid: self.pzxid,
        }
    }
}
