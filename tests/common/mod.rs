//! Helpers shared by the cross-crate ensemble tests.
#![allow(dead_code)] // each test file uses its own subset

use std::net::SocketAddr;
use std::time::Duration;

use zk_rs::client::{Client, Error};
use zk_rs::server::testing::Ensemble;

/// How long a test waits for an ensemble to reach a state.
pub const WAIT: Duration = Duration::from_secs(30);

/// A client connected to server `id` alone.
pub async fn client_of(ensemble: &Ensemble, id: i64) -> Client {
    Client::builder()
        .with_session_timeout(Duration::from_secs(6))
        .connect(&ensemble.client_addr(id).to_string())
        .await
        .unwrap_or_else(|e| panic!("connect to server {id}: {e}"))
}

/// The data of `path` as server `id` sees it after a `sync`.
pub async fn read_on(ensemble: &Ensemble, id: i64, path: &str) -> Option<Vec<u8>> {
    let client = client_of(ensemble, id).await;
    client.sync(path).await.unwrap();
    let data = match client.get_data(path).await {
        Ok((data, _)) => Some(data.to_vec()),
        Err(Error::NoNode) => None,
        Err(e) => panic!("read {path} on {id}: {e}"),
    };
    client.close().await.unwrap();
    data
}

/// The answer to a four-letter word.
pub async fn four_letter(addr: SocketAddr, word: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(word.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}
