//! Looking for a read-write server while connected to a read-only one: ZooKeeper's `isro` four-letter
//! word answers `rw` or `ro`. The Java client probes the other hosts at growing intervals (100 ms
//! doubling to 60 s) and moves to the first that answers `rw`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// First delay between probes.
pub(crate) const MIN_PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// Largest delay between probes.
pub(crate) const MAX_PROBE_INTERVAL: Duration = Duration::from_secs(60);

/// Whether the server at `host` says it is read-write (any failure counts as no).
pub(crate) async fn is_read_write(host: String, timeout: Duration) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect(host.as_str()).await.ok()?;
        stream.write_all(b"isro").await.ok()?;
        let mut answer = [0u8; 2];
        stream.read_exact(&mut answer).await.ok()?;
        Some(&answer == b"rw")
    };
    matches!(tokio::time::timeout(timeout, probe).await, Ok(Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn answering(answer: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut word = [0u8; 4];
                if s.read_exact(&mut word).await.is_ok() && &word == b"isro" {
                    let _ = s.write_all(answer).await;
                }
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_the_isro_answer() {
        let timeout = Duration::from_secs(2);
        assert!(is_read_write(answering(b"rw").await, timeout).await);
        assert!(!is_read_write(answering(b"ro").await, timeout).await);
        assert!(!is_read_write(answering(b"").await, timeout).await);
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
        assert!(!is_read_write(dead, timeout).await);
    }
}
