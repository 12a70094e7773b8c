//! A loopback TCP proxy the test controls: pass traffic, stall it, refuse new connections, or cut
//! every open connection.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways.
    Pass,
    /// Accept connections but forward nothing, either way (a black hole).
    Stall,
    /// Close new connections at once; open ones are cut too.
    Refuse,
}

/// The proxy. Dropping it stops it and cuts every connection.
pub struct Proxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    listener: AbortHandle,
}

impl Proxy {
    /// Starts a proxy to `upstream` on a free loopback port.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, mode_rx) = watch::channel(Mode::Pass);
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let tracked = conns.clone();
        let listener = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *mode_rx.borrow() == Mode::Refuse {
                    drop(client);
                    continue;
                }
                let task = tokio::spawn(relay(client, upstream, mode_rx.clone()));
                tracked.lock().unwrap().push(task.abort_handle());
            }
        })
        .abort_handle();
        Proxy { addr, mode, conns, listener }
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the mode. `Refuse` also cuts the open connections.
    pub fn set_mode(&self, mode: Mode) {
        self.mode.send_replace(mode);
        if mode == Mode::Refuse {
            self.drop_all();
        }
    }

    /// Cuts every open connection (both sides see EOF / reset).
    pub fn drop_all(&self) {
        for conn in self.conns.lock().unwrap().drain(..) {
            conn.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.listener.abort();
        self.drop_all();
    }
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    // A stalled proxy does not even reach the server.
    while *mode.borrow_and_update() == Mode::Stall {
        if mode.changed().await.is_err() {
            return;
        }
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    let mut a = [0u8; 16 * 1024];
    let mut b = [0u8; 16 * 1024];
    loop {
        if *mode.borrow_and_update() != Mode::Pass {
            if mode.changed().await.is_err() {
                return;
            }
            continue;
        }
        tokio::select! {
            r = client.read(&mut a) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => if server.write_all(&a[..n]).await.is_err() { return },
            },
            r = server.read(&mut b) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => if client.write_all(&b[..n]).await.is_err() { return },
            },
            _ = mode.changed() => {}
        }
    }
}
