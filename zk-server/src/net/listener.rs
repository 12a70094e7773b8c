//! The accept loop: per-IP connection limits and one task per connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
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

/// Accepts connections until `shutdown` turns true, handing each to a connection task.
pub async fn accept_loop(
    listener: TcpListener,
    config: ListenerConfig,
    core: mpsc::UnboundedSender<Event>,
    mut shutdown: watch::Receiver<bool>,
) {
    let counts = PerIpCount::default();
    let mut next_conn: ConnId = 1;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let (socket, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                warn!(%err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some(slot) = counts.acquire(peer.ip(), config.max_client_cnxns) else {
            warn!(%peer, limit = config.max_client_cnxns, "too many connections from this address; refusing");
            drop(socket);
            continue;
        };
        let _ = socket.set_nodelay(true);
        let conn = next_conn;
        next_conn += 1;
        let core = core.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                _ = connection::serve(socket, conn, peer, config.max_frame, core.clone()) => {}
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
