//! ACLs: `Id`, `ACL`, permission bits and the well-known ids and ACL lists.

use crate::jute::jute_record;

jute_record! {
    /// An identity: an auth scheme and an id within it (e.g. `digest` / `user:hash`).
    pub struct Id {
        /// The auth scheme (`world`, `auth`, `digest`, `ip`, `sasl`, `x509`, `super`).
        pub scheme: String,
        /// The id within the scheme.
        pub id: String,
    }
}

jute_record! {
    /// A permission grant: `perms` bits for `id`.
    pub struct Acl {
        /// A bit set of [`perms`].
        pub perms: i32,
        /// Who the permissions are granted to.
        pub id: Id,
    }
}

/// Permission bits (`ZooDefs.Perms`).
pub mod perms {
    /// Read data and list children.
    pub const READ: i32 = 1;
    /// Write data.
    pub const WRITE: i32 = 2;
    /// Create children.
    pub const CREATE: i32 = 4;
    /// Delete children.
    pub const DELETE: i32 = 8;
    /// Set the ACL.
    pub const ADMIN: i32 = 16;
    /// Everything.
    pub const ALL: i32 = READ | WRITE | CREATE | DELETE | ADMIN;
}

impl Id {
    /// An id from a scheme and id string.
    pub fn new(scheme: impl Into<String>, id: impl Into<String>) -> Id {
        Id { scheme: scheme.into(), id: id.into() }
    }

    /// `world:anyone`: everybody.
    pub fn anyone() -> Id {
        Id::new("world", "anyone")
    }

    /// `auth:`: in a submitted ACL, every id the caller has authenticated as.
    pub fn auth_ids() -> Id {
        Id::new("auth", "")
    }
}

impl Acl {
    /// A grant of `perms` to `id`.
    pub fn new(perms: i32, id: Id) -> Acl {
        Acl { perms, id }
    }

    /// `OPEN_ACL_UNSAFE`: everything for everybody.
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl::new(perms::ALL, Id::anyone())]
    }

    /// `CREATOR_ALL_ACL`: everything for the creator's authenticated ids.
    pub fn creator_all() -> Vec<Acl> {
        vec![Acl::new(perms::ALL, Id::auth_ids())]
    }

    /// `READ_ACL_UNSAFE`: read for everybody.
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl::new(perms::READ, Id::anyone())]
    }
}
