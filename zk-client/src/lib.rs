//! `zk-client`: an async, session-aware, reconnecting ZooKeeper client.
//!
//! * [`Client`] is a cheap `Clone` handle to one session. Requests from every clone are pipelined on
//!   one connection and complete in submission order.
//! * The session survives connection loss: the client reconnects (shuffled hosts, jittered exponential
//!   backoff), resumes the session, replays credentials and re-registers every watch with the last zxid
//!   it saw, so changes made while it was disconnected are still delivered.
//! * Watches come with the read that sets them ([`Client::get_data_and_watch`] returns a
//!   [`OneshotWatcher`] future); persistent and recursive watches are [`PersistentWatcher`] streams.
//!   Dropping a watcher removes it.
//! * The session state is a stream ([`Client::state_stream`]); expiry is never silent.
//! * Errors are typed ([`Error`]): every ZooKeeper code plus `Timeout`, `Closed` and friends.
//!
//! Inside, a sans-IO session state machine (`session` module: bytes, timer ticks and commands in;
//! bytes, completions, watch events and state changes out) is driven by a thin tokio task.
//!
//! ```no_run
//! use futures::StreamExt;
//! use zk_client::{AddWatchMode, Client, CreateOptions, Error};
//!
//! # async fn demo() -> zk_client::Result<()> {
//! let client = Client::connect("127.0.0.1:2181").await?;
//! match client.create("/app", b"", &CreateOptions::persistent()).await {
//!     Ok(_) | Err(Error::NodeExists) => {}
//!     Err(err) => return Err(err),
//! }
//! let mut events = client.watch("/app", AddWatchMode::PersistentRecursive).await?;
//! client.create("/app/member-", b"me", &CreateOptions::ephemeral_sequential()).await?;
//! let created = events.next().await.unwrap();
//! println!("{:?} {}", created.event_type, created.path);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod client;
mod connect_string;
mod connection;
mod error;
mod multi;
mod ops;
mod path;
mod rw_probe;
mod session;
mod state;
mod transport;
mod watcher;
mod watches;

pub use client::{Client, ClientBuilder};
pub use connect_string::{ConnectString, DEFAULT_PORT};
pub use error::{Error, Result};
pub use multi::{MultiBuilder, MultiReadBuilder, MultiReadResult, MultiResult};
pub use ops::CreateOptions;
pub use state::SessionState;
pub use watcher::{OneshotWatcher, PersistentWatcher, WatchedEvent};

pub use bytes::Bytes;
/// The rustls crate, for building the config given to [`ClientBuilder::with_tls`].
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;
pub use zk_proto::{perms, Acl, AddWatchMode, ClientInfo, CreateMode, EventType, Id, KeeperState, Stat, WatcherType};
