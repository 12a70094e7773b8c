//! `CreateMode`: the flags of a create request, and how node types show in `Stat.ephemeralOwner`.

use crate::int_enum::int_enum;

int_enum! {
    /// What kind of node a create makes (`CreateRequest.flags`).
    pub enum CreateMode {
        /// A regular node.
        Persistent = 0 => "PERSISTENT",
        /// Deleted when the creating session ends.
        Ephemeral = 1 => "EPHEMERAL",
        /// A regular node with a sequence suffix.
        PersistentSequential = 2 => "PERSISTENT_SEQUENTIAL",
        /// An ephemeral node with a sequence suffix.
        EphemeralSequential = 3 => "EPHEMERAL_SEQUENTIAL",
        /// Deleted by the server once its last child goes.
        Container = 4 => "CONTAINER",
        /// Deleted by the server once childless and unmodified for its TTL.
        PersistentWithTtl = 5 => "PERSISTENT_WITH_TTL",
        /// A TTL node with a sequence suffix.
        PersistentSequentialWithTtl = 6 => "PERSISTENT_SEQUENTIAL_WITH_TTL",
    }
}

impl CreateMode {
    /// Whether the node is deleted when its session ends.
    pub const fn is_ephemeral(self) -> bool {
        matches!(self, CreateMode::Ephemeral | CreateMode::EphemeralSequential)
    }

    /// Whether the server appends a sequence number to the name.
    pub const fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// Whether this is a container node.
    pub const fn is_container(self) -> bool {
        matches!(self, CreateMode::Container)
    }

    /// Whether this is a TTL node.
    pub const fn is_ttl(self) -> bool {
        matches!(self, CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl)
    }
}

/// `Stat.ephemeralOwner` of a container node.
pub const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;

/// The largest TTL (ms) a TTL node may have: 40 bits.
pub const MAX_TTL: i64 = 0x0000_00FF_FFFF_FFFF;

/// The top byte of `Stat.ephemeralOwner` marking an extended node type (TTL).
const EXTENDED_MASK: i64 = 0xFF00_0000_0000_0000_u64 as i64;

/// `Stat.ephemeralOwner` of a TTL node with the given TTL (`0xFF` top byte, feature 0, 40-bit TTL).
pub const fn ttl_ephemeral_owner(ttl: i64) -> i64 {
    EXTENDED_MASK | (ttl & MAX_TTL)
}

/// What a `Stat.ephemeralOwner` value says about a node's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular node.
    Persistent,
    /// An ephemeral node owned by this session.
    Ephemeral(i64),
    /// A container node.
    Container,
    /// A TTL node with this TTL (ms).
    Ttl(i64),
}

impl NodeKind {
    /// Decodes an `ephemeralOwner` value (with extended types enabled, as the server runs).
    pub const fn from_ephemeral_owner(owner: i64) -> NodeKind {
        if owner == 0 {
            NodeKind::Persistent
        } else if owner == CONTAINER_EPHEMERAL_OWNER {
            NodeKind::Container
        } else if owner & EXTENDED_MASK == EXTENDED_MASK && (owner >> 40) & 0xFFFF == 0 {
            NodeKind::Ttl(owner & MAX_TTL)
        } else {
            NodeKind::Ephemeral(owner)
        }
    }

    /// The `ephemeralOwner` value for this kind.
    pub const fn ephemeral_owner(self) -> i64 {
        match self {
            NodeKind::Persistent => 0,
            NodeKind::Ephemeral(session) => session,
            NodeKind::Container => CONTAINER_EPHEMERAL_OWNER,
            NodeKind::Ttl(ttl) => ttl_ephemeral_owner(ttl),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_modes() {
        assert_eq!(CreateMode::try_from(3), Ok(CreateMode::EphemeralSequential));
        assert_eq!(CreateMode::try_from(7), Err(7));
        assert!(CreateMode::PersistentSequentialWithTtl.is_sequential());
        assert!(CreateMode::PersistentSequentialWithTtl.is_ttl());
        assert!(!CreateMode::Container.is_ephemeral());
    }

    #[test]
    fn ephemeral_owner_round_trips() {
        for kind in [
            NodeKind::Persistent,
            NodeKind::Ephemeral(0x0100_0000_0001_0000),
            NodeKind::Container,
            NodeKind::Ttl(MAX_TTL),
            NodeKind::Ttl(1000),
        ] {
            assert_eq!(NodeKind::from_ephemeral_owner(kind.ephemeral_owner()), kind);
        }
        assert_eq!(ttl_ephemeral_owner(1000), 0xFF00_0000_0000_03E8_u64 as i64);
    }
}
