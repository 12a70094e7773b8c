//! Quick start with nothing installed: start an in-process zk-server, connect zk-client to it, and use
//! the basics (create, read with a watch, multi, ephemeral nodes, close).
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//! Against an existing server, use `cargo run -p zk-client --example tour -- host:port` instead.
#![allow(clippy::print_stdout)] // a command-line demo talks to its user

use zk_rs::client::{Client, CreateOptions, Error};
use zk_rs::server::testing::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::start().await?;
    println!("zk-server listening on {}", server.connect_string());

    let client = Client::connect(&server.connect_string()).await?;
    let (path, stat) = client.create("/app", b"v1", &CreateOptions::persistent()).await?;
    println!("created {path} at zxid {:#x}", stat.czxid);

    // A read that leaves a one-shot watch; the change below fires it.
    let (data, stat, changed) = client.get_data_and_watch("/app").await?;
    println!("/app = {:?} (version {})", String::from_utf8_lossy(&data), stat.version);
    client.set_data("/app", b"v2", Some(stat.version)).await?;
    let event = changed.await;
    println!("watch fired: {:?} on {}", event.event_type, event.path);

    // An atomic multi: both ops apply or neither does.
    let failed = client.multi().check("/app", 0).create("/app/never", b"", &CreateOptions::persistent()).commit().await;
    match failed {
        Err(Error::MultiFailed { index, source }) => println!("multi failed at op {index}: {source}"),
        other => println!("unexpected multi result: {other:?}"),
    }

    // Ephemeral sequential members vanish with their session.
    let member = Client::connect(&server.connect_string()).await?;
    let (me, _) = member.create("/app/member-", b"", &CreateOptions::ephemeral_sequential()).await?;
    println!("joined as {me}; members now {:?}", client.get_children("/app").await?);
    member.close().await?;
    println!("after the member closed: {:?}", client.get_children("/app").await?);

    client.close().await?;
    Ok(())
}
