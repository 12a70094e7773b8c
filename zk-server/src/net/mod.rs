//! The network shell: accepting sockets, framing, the handshake and four-letter words. It decodes and
//! forwards; every decision is the core's.

pub mod connection;
pub mod event;
pub mod four_letter;
pub mod listener;
pub mod tls;

pub use event::{ConnId, Event, Outbound};
pub use listener::{accept_loop, ConnIds, ListenerConfig};
