//! The tokio half of ZooKeeper's `QuorumCnxManager`: the election port's listener, one connection per
//! peer, the per-peer send queues, and the loops that drive a [`FastLeaderElection`] over them.
//!
//! The sans-IO rules live in [`crate::election::connection`]; this file only moves bytes:
//!
//! * `Listener`: accepts on the election address and reads each handshake (with ZooKeeper's 5 s
//!   `cnxTO`) in its own task, so one slow peer does not hold up the others.
//! * `toSend`/`connectOne`: a message to a peer without a connection dials it. Only the connection from
//!   the larger sid to the smaller survives ([`on_inbound`], [`keep_outbound`]): a smaller sid that
//!   dials us is dropped and dialed back, replacing any connection we still had with it.
//! * `SendWorker`: a new connection starts by (re)sending the newest message queued for that peer, which
//!   is ZooKeeper's "queued message, else `lastMessageSent`" with its send queues of capacity 1
//!   (`SEND_CAPACITY`): a peer that was unreachable only ever gets the newest notification.
//! * `RecvWorker`: frames are length-checked ([`decode_frame`]); a bad length closes the connection, a
//!   malformed notification is skipped. Received notifications queue up to `RECV_CAPACITY` (100), then
//!   the connection waits (TCP back-pressure) instead of ZooKeeper's dropping the oldest.
//!
//! [`ElectionNet`] is a handle to that machinery (one task owns the listener and the connection
//! table); [`run_election`] and [`serve_one`] are `QuorumPeer`'s use of it: `lookForLeader` while
//! LOOKING, and `WorkerReceiver` answering LOOKING peers while leading or following.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};
use tokio::time::Instant;
use tracing::{debug, warn};
use zk_proto::{InitialMessage, Jute, Notification};

use crate::election::connection::{
    decode_frame, decode_handshake, decode_notification, encode_frame, handshake, keep_outbound, on_inbound,
    InboundDecision, ObserverIds,
};
use crate::election::{ElectionResult, FastLeaderElection};

/// `QuorumCnxManager.cnxTO` default: how long a dial, or the handshake of an accepted connection, may
/// take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// `QuorumCnxManager.RECV_CAPACITY`: received notifications waiting for the election.
const RECV_CAPACITY: usize = 100;
/// Pause after a failed `accept` (e.g. out of file descriptors) before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A running election connection manager (`QuorumCnxManager` with its `Listener`, `SendWorker`s and
/// `RecvWorker`s) for one server.
///
/// Dropping it stops everything (the listener and every connection) without waiting; [`Self::close`]
/// waits until the sockets are closed.
#[derive(Debug)]
pub struct ElectionNet {
    my_id: i64,
    local_addr: SocketAddr,
    commands: mpsc::UnboundedSender<Command>,
    inbox: mpsc::Receiver<(i64, Notification)>,
    blocked: HashSet<i64>,
    manager: JoinHandle<()>,
}

#[derive(Debug)]
enum Command {
    Send(i64, Notification),
    Block(HashSet<i64>),
    SetPeers(HashMap<i64, SocketAddr>),
    Close,
}

impl ElectionNet {
    /// Binds the election address `listen` of `my_id` (`server.N=host:quorumPort:electionPort`) and
    /// starts accepting. `peers` are the election addresses of every other server of the config,
    /// voters and observers. Stops when `shutdown` becomes true (or its sender is dropped).
    pub async fn start(
        my_id: i64,
        listen: SocketAddr,
        peers: HashMap<i64, SocketAddr>,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<ElectionNet> {
        let listener = TcpListener::bind(listen).await?;
        ElectionNet::with_listener(my_id, listener, peers, shutdown)
    }

    /// As [`Self::start`], on a listener bound by the caller (e.g. to `127.0.0.1:0`, so that every
    /// server's address is known before any of them starts). Must run inside a tokio runtime.
    pub fn with_listener(
        my_id: i64,
        listener: TcpListener,
        peers: HashMap<i64, SocketAddr>,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<ElectionNet> {
        let local_addr = listener.local_addr()?;
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (inbox_tx, inbox) = mpsc::channel(RECV_CAPACITY);
        let (events_tx, events) = mpsc::unbounded_channel();
        let manager = Manager {
            my_id,
            handshake: handshake(my_id, &[local_addr.to_string()], false).to_bytes(),
            peers,
            learned: HashMap::new(),
            blocked: HashSet::new(),
            conns: HashMap::new(),
            dialing: HashSet::new(),
            last_sent: HashMap::new(),
            observers: ObserverIds::default(),
            next_conn: 0,
            tasks: JoinSet::new(),
            events_tx,
            inbox_tx,
        };
        let manager = tokio::spawn(manager.run(listener, commands_rx, events, shutdown));
        Ok(ElectionNet { my_id, local_addr, commands, inbox, blocked: HashSet::new(), manager })
    }

    /// This server's id.
    pub fn my_id(&self) -> i64 {
        self.my_id
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Queues `n` for `sid` (`QuorumCnxManager.toSend`): written at once on an open connection, else
    /// kept as that peer's newest message and the peer dialed (`connectOne`); a message to ourselves
    /// comes back through [`Self::recv`]. Messages to a sid without a known address and no connection
    /// are dropped, as ZooKeeper does for an unknown server id.
    pub fn send(&mut self, sid: i64, n: Notification) {
        let _ = self.commands.send(Command::Send(sid, n));
    }

    /// The next received notification and its sender's sid; `None` once the manager has stopped
    /// (shutdown). Cancel-safe: a notification is either returned or still queued.
    pub async fn recv(&mut self) -> Option<(i64, Notification)> {
        loop {
            let (sid, n) = self.inbox.recv().await?;
            if !self.blocked.contains(&sid) {
                return Some((sid, n));
            }
        }
    }

    /// A partition, for tests: while `blocked` holds a sid, its connection is closed, its dials and
    /// handshakes are refused and nothing is sent to or received from it. Messages sent meanwhile still
    /// become its newest message, delivered when a connection forms after the sid is unblocked.
    pub fn set_blocked(&mut self, blocked: HashSet<i64>) {
        self.blocked = blocked.clone();
        let _ = self.commands.send(Command::Block(blocked));
    }

    /// Replaces the election addresses of the other servers, after a reconfig (ZooKeeper's
    /// `QuorumCnxManager` learns the new view from `QuorumPeer.setQuorumVerifier`): connections to sids
    /// that were peers and are not any more are closed and their queued message dropped; new peers are
    /// dialed lazily, when something is first sent to them. Connections from servers that were never
    /// peers (a server not yet in the config dialing in) are left alone.
    pub fn set_peers(&mut self, peers: HashMap<i64, SocketAddr>) {
        let _ = self.commands.send(Command::SetPeers(peers));
    }

    /// Stops the listener and every connection, and waits until their sockets are closed.
    pub async fn close(mut self) {
        let _ = self.commands.send(Command::Close);
        let _ = (&mut self.manager).await;
    }
}

impl Drop for ElectionNet {
    fn drop(&mut self) {
        self.manager.abort();
    }
}

/// Runs `fle` (already [started](FastLeaderElection::start) by the caller) until it decides, as
/// `QuorumPeer` runs `lookForLeader` while LOOKING: received notifications and poll timeouts go into
/// `fle`, and what it produces is sent. Returns the decision, or `None` if `net` stopped first.
///
/// Cancel-safe (e.g. in a `select!` next to a shutdown signal): it only waits in [`ElectionNet::recv`]
/// or on `fle`'s timer, and everything `fle` produced has been sent by then.
pub async fn run_election(fle: &mut FastLeaderElection, net: &mut ElectionNet) -> Option<ElectionResult> {
    loop {
        flush(fle, net);
        if let Some(result) = fle.outcome() {
            return Some(result.clone());
        }
        match fle.poll_timeout() {
            Some(deadline) => {
                tokio::select! {
                    received = net.recv() => {
                        let (sid, n) = received?;
                        fle.handle_notification(sid, n, Instant::now().into_std());
                    }
                    _ = tokio::time::sleep_until(Instant::from_std(deadline)) => {
                        fle.handle_timeout(Instant::now().into_std());
                    }
                }
            }
            None => {
                let (sid, n) = net.recv().await?;
                fle.handle_notification(sid, n, Instant::now().into_std());
            }
        }
    }
}

/// While leading, following or observing, answers peers through `fle` (`WorkerReceiver` replying to a
/// LOOKING server with the current vote): handles one received notification and sends what `fle`
/// produced. Returns false once `net` has stopped. Cancel-safe; meant for a `select!` loop next to
/// the Zab work.
pub async fn serve_one(fle: &mut FastLeaderElection, net: &mut ElectionNet) -> bool {
    flush(fle, net);
    let Some((sid, n)) = net.recv().await else {
        return false;
    };
    fle.handle_notification(sid, n, Instant::now().into_std());
    flush(fle, net);
    true
}

fn flush(fle: &mut FastLeaderElection, net: &mut ElectionNet) {
    for (to, n) in fle.poll_messages() {
        net.send(to, n);
    }
}

/// What the manager's helper tasks report.
#[derive(Debug)]
enum Event {
    /// An accepted connection whose handshake was read, and the bytes read after it.
    Handshake(TcpStream, InitialMessage, BytesMut),
    /// A dial finished: the connection to keep, or `None` (failed, or dropped by the tie-break).
    Dialed(i64, Option<TcpStream>),
    /// A connection ended.
    Closed { sid: i64, conn: u64 },
}

#[derive(Debug)]
struct Conn {
    id: u64,
    frames: mpsc::UnboundedSender<Bytes>,
    task: AbortHandle,
}

/// The connection table (`senderWorkerMap`, `queueSendMap`, `lastMessageSent`), owned by one task.
struct Manager {
    my_id: i64,
    handshake: Bytes,
    peers: HashMap<i64, SocketAddr>,
    /// Election addresses of servers outside `peers`, from the handshakes they dialed in with.
    learned: HashMap<i64, SocketAddr>,
    blocked: HashSet<i64>,
    conns: HashMap<i64, Conn>,
    dialing: HashSet<i64>,
    /// The newest message for each peer: queued while it has no connection, and re-sent on each new
    /// connection (`queueSendMap` of capacity 1, `lastMessageSent`).
    last_sent: HashMap<i64, Bytes>,
    observers: ObserverIds,
    next_conn: u64,
    tasks: JoinSet<()>,
    events_tx: mpsc::UnboundedSender<Event>,
    inbox_tx: mpsc::Sender<(i64, Notification)>,
}

impl Manager {
    async fn run(
        mut self,
        listener: TcpListener,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut events: mpsc::UnboundedReceiver<Event>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, from)) => {
                        let events = self.events_tx.clone();
                        self.tasks.spawn(read_handshake(stream, from, events));
                    }
                    Err(err) => {
                        warn!(%err, "election listener cannot accept");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                command = commands.recv() => match command {
                    Some(Command::Send(sid, n)) => self.send(sid, n),
                    Some(Command::Block(blocked)) => self.block(blocked),
                    Some(Command::SetPeers(peers)) => self.set_peers(peers),
                    Some(Command::Close) | None => break,
                },
                Some(event) = events.recv() => self.on_event(event),
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
                () = stopped(&mut shutdown) => break,
            }
        }
        drop(listener);
        self.tasks.shutdown().await;
    }

    fn send(&mut self, sid: i64, n: Notification) {
        if sid == self.my_id {
            let _ = self.inbox_tx.try_send((sid, n));
            return;
        }
        let frame = encode_frame(&n);
        self.last_sent.insert(sid, frame.clone());
        if self.blocked.contains(&sid) {
            return;
        }
        if let Some(conn) = self.conns.get(&sid) {
            if conn.frames.send(frame).is_ok() {
                return;
            }
            // The connection ended and its `Closed` event is still on its way.
            self.conns.remove(&sid);
        }
        self.dial(sid);
    }

    fn block(&mut self, blocked: HashSet<i64>) {
        for sid in &blocked {
            if let Some(conn) = self.conns.remove(sid) {
                debug!(sid, "election connection blocked");
                conn.task.abort();
            }
        }
        self.blocked = blocked;
    }

    fn set_peers(&mut self, peers: HashMap<i64, SocketAddr>) {
        let removed: Vec<i64> = self.peers.keys().filter(|sid| !peers.contains_key(sid)).copied().collect();
        for sid in removed {
            if let Some(conn) = self.conns.remove(&sid) {
                debug!(sid, "election connection to a removed server closed");
                conn.task.abort();
            }
            self.last_sent.remove(&sid);
            self.learned.remove(&sid);
        }
        self.learned.retain(|sid, _| !peers.contains_key(sid));
        self.peers = peers;
    }

    /// `connectOne`: dials `sid` unless connected, already dialing or blocked.
    fn dial(&mut self, sid: i64) {
        if sid == self.my_id
            || self.blocked.contains(&sid)
            || self.conns.contains_key(&sid)
            || self.dialing.contains(&sid)
        {
            return;
        }
        let Some(addr) = self.peers.get(&sid).or_else(|| self.learned.get(&sid)).copied() else {
            debug!(sid, "no election address for server");
            return;
        };
        self.dialing.insert(sid);
        let (my_id, hello, events) = (self.my_id, self.handshake.clone(), self.events_tx.clone());
        self.tasks.spawn(async move {
            let kept = match tokio::time::timeout(CONNECT_TIMEOUT, dial(addr, &hello)).await {
                Ok(Ok(stream)) => keep_outbound(my_id, sid).then_some(stream),
                Ok(Err(err)) => {
                    debug!(sid, %addr, %err, "cannot open election connection");
                    None
                }
                Err(_) => {
                    debug!(sid, %addr, "election connection timed out");
                    None
                }
            };
            let _ = events.send(Event::Dialed(sid, kept));
        });
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Handshake(stream, hello, rest) => match on_inbound(self.my_id, &hello, &mut self.observers) {
                InboundDecision::Keep { sid } if !self.blocked.contains(&sid) => self.connected(sid, stream, rest),
                InboundDecision::CloseAndDialBack { sid } => {
                    // `handleConnection`: "this replica might still believe that the connection to sid
                    // is up", so the old connection goes before dialing back.
                    drop(stream);
                    // A server outside the config (one a reconfig is to add) is dialed back at the
                    // election address its handshake gives, as ZooKeeper's `connectOne(sid, electionAddr)`.
                    if !self.peers.contains_key(&sid) {
                        if let Some(addr) = handshake_address(&hello) {
                            self.learned.insert(sid, addr);
                        }
                    }
                    if let Some(old) = self.conns.remove(&sid) {
                        old.task.abort();
                    }
                    self.dial(sid);
                }
                _ => {}
            },
            Event::Dialed(sid, stream) => {
                self.dialing.remove(&sid);
                if let Some(stream) = stream {
                    // Not if the sid was removed from the peers while the dial was under way.
                    let known = self.peers.contains_key(&sid) || self.learned.contains_key(&sid);
                    if !self.blocked.contains(&sid) && known {
                        self.connected(sid, stream, BytesMut::new());
                    }
                }
            }
            Event::Closed { sid, conn } => {
                if self.conns.get(&sid).is_some_and(|c| c.id == conn) {
                    self.conns.remove(&sid);
                }
            }
        }
    }

    /// A connection to keep for `sid` (replacing any older one): starts its worker with the newest
    /// message for `sid` (`SendWorker` sending the queued message, else `lastMessageSent`).
    fn connected(&mut self, sid: i64, stream: TcpStream, received: BytesMut) {
        if let Some(old) = self.conns.remove(&sid) {
            old.task.abort();
        }
        self.next_conn += 1;
        let id = self.next_conn;
        let (frames, frames_rx) = mpsc::unbounded_channel();
        if let Some(last) = self.last_sent.get(&sid) {
            let _ = frames.send(last.clone());
        }
        debug!(sid, conn = id, "election connection up");
        let task = self.tasks.spawn(connection(
            sid,
            id,
            stream,
            received,
            frames_rx,
            self.inbox_tx.clone(),
            self.events_tx.clone(),
        ));
        self.conns.insert(sid, Conn { id, frames, task });
    }
}

/// The first election address of a handshake, if it is a literal `ip:port` (names are not resolved here).
fn handshake_address(hello: &InitialMessage) -> Option<SocketAddr> {
    match hello {
        InitialMessage::Versioned { addresses, .. } => addresses.split('|').next()?.trim().parse().ok(),
        InitialMessage::Legacy { .. } => None,
    }
}

/// Resolves once `shutdown` turns true or its sender is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// `startConnection`: connects and sends our handshake.
async fn dial(addr: SocketAddr, hello: &[u8]) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    stream.write_all(hello).await?;
    Ok(stream)
}

/// `receiveConnection`: reads the handshake of an accepted connection within [`CONNECT_TIMEOUT`].
async fn read_handshake(mut stream: TcpStream, from: SocketAddr, events: mpsc::UnboundedSender<Event>) {
    let mut buf = BytesMut::with_capacity(64);
    let read = async {
        loop {
            match decode_handshake(&mut buf) {
                Ok(Some(hello)) => return Some(hello),
                Ok(None) => {}
                Err(err) => {
                    debug!(%from, %err, "election handshake rejected");
                    return None;
                }
            }
            if stream.read_buf(&mut buf).await.map_or(true, |n| n == 0) {
                return None;
            }
        }
    };
    if let Ok(Some(hello)) = tokio::time::timeout(CONNECT_TIMEOUT, read).await {
        // A dialer that keeps its connection starts sending at once, so frames may already follow.
        let _ = stream.set_nodelay(true);
        let _ = events.send(Event::Handshake(stream, hello, buf));
    }
}

/// `SendWorker` + `RecvWorker` for one connection: writes queued frames, reads frames into the inbox.
async fn connection(
    sid: i64,
    id: u64,
    mut stream: TcpStream,
    mut buf: BytesMut,
    mut frames: mpsc::UnboundedReceiver<Bytes>,
    inbox: mpsc::Sender<(i64, Notification)>,
    events: mpsc::UnboundedSender<Event>,
) {
    let why = 'conn: loop {
        // Deliver every complete frame received so far (some may have come with the handshake).
        loop {
            match decode_frame(&mut buf) {
                Ok(Some(body)) => match decode_notification(body) {
                    Some(n) => {
                        if inbox.send((sid, n)).await.is_err() {
                            break 'conn "election stopped".to_owned();
                        }
                    }
                    None => debug!(sid, "malformed notification skipped"),
                },
                Ok(None) => break,
                Err(err) => break 'conn err.to_string(),
            }
        }
        tokio::select! {
            frame = frames.recv() => {
                let Some(frame) = frame else { break "closed here".to_owned() };
                if let Err(err) = stream.write_all(&frame).await {
                    break err.to_string();
                }
            }
            read = stream.read_buf(&mut buf) => match read {
                Ok(0) => break "end of stream".to_owned(),
                Ok(_) => {}
                Err(err) => break err.to_string(),
            },
        }
    };
    debug!(sid, conn = id, reason = %why, "election connection closed");
    let _ = events.send(Event::Closed { sid, conn: id });
}
