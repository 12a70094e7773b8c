//! The accept loop: per-IP connection limits and one task per connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use super::connection;
use super::event::{ConnId, Event};

/// Accept-loop settings.
#[derive(Debug, Clone, Copy)]
pub struct ListenerConfig {
    /// Most concurrent connections from one IP address (`maxClientCnxns`; 0 = unlimited).
    pub max_client_cnxns: usize,
    /// Largest accepted frame (`jute.maxbuffer`).
    pub max_frame: usize,
}

/// How long a client may take over its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Hands out connection ids, unique across every listener of a server.
#[derive(Debug, Clone)]
pub struct ConnIds(Arc<AtomicU64>);

impl Default for ConnIds {
    fn default() -> Self {
        ConnIds(Arc::new(AtomicU64::new(1)))
    }
}

impl ConnIds {
    fn next(&self) -> ConnId {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// Counts open connections per client IP; a slot is released when its guard drops.
#[derive(Debug, Default, Clone)]
struct PerIpCount(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct Slot {
    counts: PerIpCount,
    ip: IpAddr,
}

impl PerIpCount {
    fn acquire(&self, ip: IpAddr, limit: usize) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if limit != 0 && *count >= limit {
            return None;
        }
        *count += 1;
        Some(Slot { counts: self.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Accepts connections until `shutdown` turns true, handing each to a connection task; with `tls`, each
/// connection first completes a TLS handshake (the secure client port).
pub async fn accept_loop(
    listener: TcpListener,
    config: ListenerConfig,
    tls: Option<TlsAcceptor>,
    ids: ConnIds,
    core: mpsc::UnboundedSender<Event>,
    mut shutdown: watch::Receiver<bool>,
) {
    let counts = PerIpCount::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let (socket, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                warn!(%err, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some(slot) = counts.acquire(peer.ip(), config.max_client_cnxns) else {
            warn!(%peer, limit = config.max_client_cnxns, "too many connections from this address; refusing");
            drop(socket);
            continue;
        };
        let _ = socket.set_nodelay(true);
        let conn = ids.next();
        let core = core.clone();
        let mut stop = shutdown.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let serve = async {
                match tls {
                    None => connection::serve(socket, conn, peer, config.max_frame, core.clone()).await,
                    Some(acceptor) => {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await {
                            Ok(Ok(stream)) => {
                                connection::serve(stream, conn, peer, config.max_frame, core.clone()).await
                            }
                            Ok(Err(err)) => info!(%peer, %err, "TLS handshake failed"),
                            Err(_) => info!(%peer, "TLS handshake timed out"),
                        }
                    }
                }
            };
            tokio::select! {
                _ = serve => {}
                _ = stop.wait_for(|stop| *stop) => {
                    info!(conn, "server shutting down; closing connection");
                    let _ = core.send(Event::Closed { conn });
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_slots_are_limited_and_released() {
        let counts = PerIpCount::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let a = counts.acquire(ip, 2).unwrap();
        let _b = counts.acquire(ip, 2).unwrap();
        assert!(counts.acquire(ip, 2).is_none());
        assert!(counts.acquire("127.0.0.2".parse().unwrap(), 2).is_some());
        drop(a);
        assert!(counts.acquire(ip, 2).is_some());
        assert!(counts.acquire(ip, 0).is_some(), "0 means unlimited");
    }
}
