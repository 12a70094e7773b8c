//! Quick start: connect, create, read, watch, multi, close.
//!
//! ```sh
//! cargo run -p zk-client --example tour -- 127.0.0.1:2181
//! ```
#![allow(clippy::print_stdout)] // a command-line demo talks to its user

use futures::StreamExt;
use zk_client::{AddWatchMode, Client, CreateOptions, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let connect = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:2181".into());
    let client = Client::connect(&connect).await?;
    println!("session 0x{:x}, timeout {:?}", client.session_id(), client.session_timeout());

    // Create a node (tolerating a leftover from an earlier run).
    match client.create("/quickstart", b"hello", &CreateOptions::persistent()).await {
        Ok((path, stat)) => println!("created {path} (czxid {})", stat.czxid),
        Err(Error::NodeExists) => println!("/quickstart already exists"),
        Err(err) => return Err(err),
    }

    // Read it and leave a one-shot watch.
    let (data, stat, watcher) = client.get_data_and_watch("/quickstart").await?;
    println!("data {:?}, version {}", String::from_utf8_lossy(&data), stat.version);

    // A persistent recursive watch sees the whole subtree.
    let mut subtree = client.watch("/quickstart", AddWatchMode::PersistentRecursive).await?;

    // Change it: the one-shot watch fires.
    client.set_data("/quickstart", b"world", Some(stat.version)).await?;
    let event = watcher.await;
    println!("one-shot watch: {:?} on {}", event.event_type, event.path);

    // An atomic multi: an ephemeral sequential child and a version check.
    let results = client
        .multi()
        .check("/quickstart", stat.version + 1)
        .create("/quickstart/member-", b"me", &CreateOptions::ephemeral_sequential())
        .commit()
        .await?;
    println!("multi: {results:?}");
    for _ in 0..2 {
        if let Some(event) = subtree.next().await {
            println!("subtree: {:?} on {}", event.event_type, event.path);
        }
    }

    let children = client.get_children("/quickstart").await?;
    println!("children: {children:?}");
    client.close().await?;
    println!("closed: the ephemeral child is gone");
    Ok(())
}
