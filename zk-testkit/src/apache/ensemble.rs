//! The members of a ZooKeeper ensemble on loopback: their ids and ports, as the `server.N=` lines of a
//! `zoo.cfg` name them.
//!
//! An [`Ensemble`] only describes the servers. Some of them run as Apache ZooKeeper
//! ([`ApacheServerBuilder::quorum_member`](super::ApacheServerBuilder::quorum_member)), the others may be
//! zk-rs code under test listening on their member's ports.

use std::net::SocketAddr;

/// One server of an [`Ensemble`], on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The server id (`server.N`, the `myid` file).
    pub id: u64,
    /// The client port.
    pub client_port: u16,
    /// The port followers connect to when this server leads (Zab).
    pub quorum_port: u16,
    /// The port of leader election (`QuorumCnxManager`).
    pub election_port: u16,
}

impl Member {
    /// The client address.
    pub fn client_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.client_port))
    }

    /// The quorum (Zab) address.
    pub fn quorum_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.quorum_port))
    }

    /// The leader election address.
    pub fn election_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.election_port))
    }

    /// `server.N=127.0.0.1:<quorum port>:<election port>`.
    pub fn server_line(&self) -> String {
        format!("server.{}=127.0.0.1:{}:{}", self.id, self.quorum_port, self.election_port)
    }
}

/// The servers of an ensemble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensemble {
    members: Vec<Member>,
}

impl Ensemble {
    /// `size` members with ids 1..=`size`, each on three loopback ports that were free a moment ago.
    pub fn with_free_ports(size: usize) -> Ensemble {
        let members = (1..=size as u64)
            .map(|id| Member {
                id,
                client_port: crate::free_port(),
                quorum_port: crate::free_port(),
                election_port: crate::free_port(),
            })
            .collect();
        Ensemble { members }
    }

    /// The members, by id.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The member with server id `id`. Panics if there is none.
    pub fn member(&self, id: u64) -> Member {
        *self.members.iter().find(|member| member.id == id).unwrap_or_else(|| panic!("no server.{id} in {self:?}"))
    }

    /// The `server.N=` line of every member, each ending in a newline.
    pub fn server_lines(&self) -> String {
        self.members.iter().map(|member| member.server_line() + "\n").collect()
    }
}
