//! `zk-testkit`: test support shared by the zk-rs crates' tests (not published).
//!
//! - [`apache`]: starts Apache ZooKeeper (the oracle of the differential tests), standalone or as a
//!   member of an [`Ensemble`], stops and restarts it, or skips the test when it is not installed.
//! - [`linearizability`]: a Knossos/Porcupine-style linearizability checker for recorded client
//!   histories, with a model of ZooKeeper znodes as versioned registers.
//! - [`raw`]: a raw protocol client over a TCP stream that sends exactly the frames it is told to,
//!   malformed ones included, and reports every frame the server sends back.
//! - [`free_port`] and [`four_letter`]: small networking helpers.

pub mod apache;
pub mod linearizability;
pub mod raw;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

pub use apache::{ApacheServer, ApacheServerBuilder, Ensemble, Member};
pub use raw::{ConnectOptions, RawClient, Reply};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("cannot bind an ephemeral loopback port")
}

/// Sends a four-letter word (e.g. `ruok`, `srvr`) to `addr` and returns the whole text reply, read until
/// the server closes the connection (blocking, at most `timeout` per read).
pub fn four_letter(addr: SocketAddr, command: &str, timeout: Duration) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(command.as_bytes())?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
