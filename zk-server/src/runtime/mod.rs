//! The tokio shell around the core: the accept loop, the core's event loop, the txn log thread and
//! snapshots. [`start`] brings a standalone server up; [`RunningServer`] stops it.

mod admin_http;
pub mod election_net;
mod host;
mod log_writer;
pub mod quorum_link;
mod quorum_peer;
mod storage;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::config::ServerConfig;
use crate::core::{CoreConfig, HostFacts, Now, Output, ServerCore};
use crate::net::tls::TlsSettings;
use crate::net::{self, ConnIds, Event, ListenerConfig};
use crate::persist::PersistError;
use log_writer::LogEvent;
use storage::Storage;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be read or recovered.
    #[error("data directory: {0}")]
    Persist(#[from] PersistError),
    /// The client port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration cannot run here (e.g. an ensemble configuration).
    #[error("unsupported configuration: {0}")]
    Unsupported(String),
}

/// What a server is doing, as its role and whether it serves clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    /// A standalone server.
    Standalone,
    /// Electing a leader.
    Looking,
    /// Leading the ensemble.
    Leading,
    /// Following the leader.
    Following,
    /// Observing (a non-voting learner).
    Observing,
}

/// A server's state, published as it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerStatus {
    /// The role.
    pub state: PeerState,
    /// Whether clients are served (a standalone server always; an ensemble member once its term is
    /// established: NEWLEADER acknowledged by a quorum, or UPTODATE received).
    pub serving: bool,
    /// Whether a LOOKING member serves read-only clients (`readonlymode.enabled`, ZooKeeper's
    /// `ReadOnlyZooKeeperServer`); `serving` stays false meanwhile.
    pub read_only: bool,
    /// The leader of the current term, if any.
    pub leader: Option<i64>,
    /// The epoch of the current term (0 before the first).
    pub epoch: i64,
}

/// Commands a test fixture sends a running ensemble member.
#[derive(Debug)]
pub(crate) enum Control {
    /// Cut every link (election and quorum) with these server ids, until the next `Block`.
    Block(std::collections::HashSet<i64>),
}

/// Where a server listens, and the signal that stops it.
#[derive(Debug)]
struct Endpoints {
    local_addr: SocketAddr,
    secure_addr: Option<SocketAddr>,
    admin_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
}

/// A server running in this process.
#[derive(Debug)]
pub struct RunningServer {
    endpoints: Endpoints,
    core_task: JoinHandle<()>,
    status: watch::Receiver<PeerStatus>,
    control: Option<mpsc::UnboundedSender<Control>>,
}

impl RunningServer {
    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.endpoints.local_addr
    }

    /// The TLS client address (`secureClientPort`), when configured.
    pub fn secure_addr(&self) -> Option<SocketAddr> {
        self.endpoints.secure_addr
    }

    /// The AdminServer's address, when enabled.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.endpoints.admin_addr
    }

    /// The Prometheus endpoint's address, when the Prometheus metrics provider is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.endpoints.metrics_addr
    }

    /// The server's current state.
    pub fn status(&self) -> PeerStatus {
        *self.status.borrow()
    }

    /// A receiver that sees every change of [`Self::status`].
    pub fn watch_status(&self) -> watch::Receiver<PeerStatus> {
        self.status.clone()
    }

    /// An ensemble member drops every election and quorum link with these servers, and refuses new
    /// ones, until called again (an empty set heals). Standalone servers ignore it.
    pub fn block_peers(&self, blocked: std::collections::HashSet<i64>) {
        if let Some(control) = &self.control {
            let _ = control.send(Control::Block(blocked));
        }
    }

    /// Stops accepting, closes every connection, syncs the txn log and waits for the core to finish.
    pub async fn shutdown(self) {
        let _ = self.endpoints.shutdown.send(true);
        let _ = self.core_task.await;
    }

    /// Waits until the server stops on its own (a fatal error) or is shut down.
    pub async fn wait(&mut self) {
        let _ = (&mut self.core_task).await;
    }
}

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The clocks: a monotonic ms clock, and the wall clock.
///
/// The monotonic clock starts at the wall-clock time of the server's start rather than at 0, so it keeps
/// growing across restarts as ZooKeeper's `System.nanoTime` does: session ids derive from it, and a
/// restarted server must not hand out the ids of the sessions it restored.
#[derive(Debug, Clone, Copy)]
struct Clock {
    start: Instant,
    base_ms: i64,
}

impl Clock {
    fn new() -> Clock {
        Clock { start: Instant::now(), base_ms: wall_ms() }
    }

    fn now(&self) -> Now {
        Now { mono_ms: self.base_ms + self.start.elapsed().as_millis() as i64, wall_ms: wall_ms() }
    }

    fn instant(&self, mono_ms: i64) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.start + Duration::from_millis((mono_ms - self.base_ms).max(0) as u64))
    }
}

/// A standalone ZooKeeper's session tracker uses server id 1 (`createSessionTrackerServerId`).
const STANDALONE_SESSION_SERVER_ID: i64 = 1;

fn core_config(config: &ServerConfig) -> CoreConfig {
    let other = |key: &str| config.other.get(key).map(|p| p.value.trim().to_owned());
    CoreConfig {
        server_id: STANDALONE_SESSION_SERVER_ID,
        tick_time: config.tick_time,
        timeouts: config.session_timeouts(),
        auth: config.auth.clone(),
        extended_types: config.extended_types_enabled,
        reconfig_enabled: config.reconfig_enabled,
        enforce_quota: other("enforceQuota").or_else(|| other("zookeeper.enforceQuota")).is_some_and(|v| v == "true"),
        digest_enabled: other("digest.enabled").is_none_or(|v| v != "false"),
        container_check_interval_ms: other("znode.container.checkIntervalMs")
            .and_then(|v| v.parse().ok())
            .unwrap_or(60_000),
        container_max_per_minute: other("znode.container.maxPerMinute").and_then(|v| v.parse().ok()).unwrap_or(10_000),
        role: crate::core::Role::Standalone,
    }
}

/// Loads the data directory and starts serving on the configured client address: a standalone server,
/// or a member of an ensemble when the configuration lists `server.N` members.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    if config.is_distributed() {
        return quorum_peer::start(config).await;
    }
    let clock = Clock::new();
    let (log_events_tx, log_events) = mpsc::unbounded_channel();
    let (storage, loaded) = Storage::open(&config, log_events_tx).await?;
    let front = ClientFront::open(&config).await?;
    info!(local_addr = %front.endpoints.local_addr, last_zxid = format_args!("{:#x}", loaded.tree.last_processed_zxid()), "serving");
    let core = ServerCore::new(core_config(&config), loaded.tree, &loaded.sessions, clock.now());
    let host = host::facts(&config, front.endpoints.local_addr);
    let driver = Driver { core, clock, config, storage, host, local_addr: front.endpoints.local_addr };
    let core_task = tokio::spawn(driver.run(front.events, log_events, front.admin, front.shutdown_rx));
    let standalone =
        PeerStatus { state: PeerState::Standalone, serving: true, read_only: false, leader: None, epoch: 0 };
    let (_, status) = watch::channel(standalone);
    Ok(RunningServer { endpoints: front.endpoints, core_task, status, control: None })
}

/// What faces clients and operators: the client port, the AdminServer and the Prometheus endpoint, and the
/// shutdown signal they all watch.
struct ClientFront {
    endpoints: Endpoints,
    events: mpsc::UnboundedReceiver<Event>,
    admin: mpsc::UnboundedReceiver<admin_http::AdminQuery>,
    shutdown_rx: watch::Receiver<bool>,
}

impl ClientFront {
    async fn open(config: &ServerConfig) -> Result<ClientFront, StartError> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let listener_config = ListenerConfig {
            max_client_cnxns: config.max_client_cnxns.max(0) as usize,
            max_frame: config.jute_max_buffer.max(0) as usize,
        };
        let ids = ConnIds::default();
        // As ZooKeeper: the secure port alone when only `secureClientPort` is set.
        let secure_addr = match &config.secure_client_address {
            Some(address) => {
                let acceptor = TlsSettings::from_config(config)
                    .and_then(|settings| settings.acceptor())
                    .map_err(|e| StartError::Unsupported(e.to_string()))?;
                let listener = bind(&format!("{}:{}", address.host, address.port)).await?;
                let addr =
                    listener.local_addr().map_err(|source| StartError::Bind { addr: address.to_string(), source })?;
                let (tx, stop) = (events_tx.clone(), shutdown_rx.clone());
                tokio::spawn(net::accept_loop(listener, listener_config, Some(acceptor), ids.clone(), tx, stop));
                Some(addr)
            }
            None => None,
        };
        let local_addr = match (&config.client_address, secure_addr) {
            (None, Some(secure)) => secure,
            (address, _) => {
                let addr =
                    address.as_ref().map_or_else(|| "0.0.0.0:2181".to_owned(), |a| format!("{}:{}", a.host, a.port));
                let listener = bind(&addr).await?;
                let local = listener.local_addr().map_err(|source| StartError::Bind { addr, source })?;
                tokio::spawn(net::accept_loop(listener, listener_config, None, ids, events_tx, shutdown_rx.clone()));
                local
            }
        };
        let (admin_tx, admin) = mpsc::unbounded_channel();
        let admin_addr = if config.admin.enabled {
            let addr = format!("{}:{}", config.admin.address, config.admin.port);
            // As in ZooKeeper, a server whose AdminServer cannot start still serves clients.
            let bound =
                admin_http::start_admin(&addr, &config.admin.command_url, admin_tx.clone(), shutdown_rx.clone());
            bound.await.map_err(|err| warn!(%addr, %err, "problem starting the AdminServer")).ok()
        } else {
            None
        };
        let metrics_addr = match &config.metrics.prometheus {
            Some(prometheus) => {
                let addr = format!("{}:{}", prometheus.host, prometheus.port);
                let bound = admin_http::start_metrics(&addr, admin_tx.clone(), shutdown_rx.clone());
                bound.await.map_err(|err| warn!(%addr, %err, "problem starting the Prometheus endpoint")).ok()
            }
            None => None,
        };
        let endpoints = Endpoints { local_addr, secure_addr, admin_addr, metrics_addr, shutdown };
        Ok(ClientFront { endpoints, events, admin, shutdown_rx })
    }
}

async fn bind(addr: &str) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr: addr.to_owned(), source })
}

/// Owns the core and moves events, outputs and timers.
struct Driver {
    core: ServerCore,
    clock: Clock,
    config: ServerConfig,
    storage: Storage,
    host: HostFacts,
    local_addr: SocketAddr,
}

impl Driver {
    async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<Event>,
        mut log_events: mpsc::UnboundedReceiver<LogEvent>,
        mut admin: mpsc::UnboundedReceiver<admin_http::AdminQuery>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            let sent_before = self.core.stats().packets_sent;
            let deadline = self.clock.instant(self.core.next_tick());
            tokio::select! {
                Some(event) = events.recv() => self.dispatch(event),
                Some(log_event) = log_events.recv() => {
                    if !self.on_log_event(log_event) {
                        break;
                    }
                }
                Some(query) = admin.recv() => self.answer_admin(query),
                _ = tokio::time::sleep_until(deadline) => self.core.tick(self.clock.now()),
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            // Take whatever else is ready before flushing: this is where batches (and group commit) form.
            for _ in 0..1024 {
                match events.try_recv() {
                    Ok(event) => self.dispatch(event),
                    Err(_) => break,
                }
            }
            // Replies sent before the flush (reads, or writes the log threads made durable) wait in
            // this worker's queue behind this task. When a commit here kept them waiting through a
            // sync, let them go before the next turn; a lone writer's reply needs no such turn.
            let answered = self.core.stats().packets_sent != sent_before;
            match self.flush() {
                Flushed::Failed => break,
                Flushed::Committed if answered => run_again_later().await,
                Flushed::Committed | Flushed::Queued => {}
            }
        }
        info!("server stopping");
        self.storage.close().await;
    }

    fn dispatch(&mut self, event: Event) {
        let now = self.clock.now();
        match event {
            Event::Connect { conn, peer, request, out } => self.core.connect(conn, peer, request, out, now),
            Event::Request { conn, xid, op_code, body, size: _ } => self.core.request(conn, xid, op_code, body, now),
            Event::Closed { conn } => self.core.closed(conn),
            Event::FourLetter { command, peer: _, reply } => {
                let word = String::from_utf8_lossy(&command).into_owned();
                if word == "dirs" || word == "conf" {
                    self.host = host::facts(&self.config, self.local_addr);
                }
                if word == "mntr" {
                    self.core.set_process_facts(host::process_facts());
                }
                let allowed = self.config.four_letter_words.is_enabled(&word);
                let _ = reply.send(self.core.four_letter(&word, allowed, &self.host, now));
            }
        }
    }

    fn answer_admin(&mut self, query: admin_http::AdminQuery) {
        let now = self.clock.now();
        match query {
            admin_http::AdminQuery::Command(name, reply) => {
                if matches!(name.as_str(), "dirs" | "conf" | "configuration" | "config") {
                    self.host = host::facts(&self.config, self.local_addr);
                }
                if matches!(name.as_str(), "monitor" | "mntr") {
                    self.core.set_process_facts(host::process_facts());
                }
                let _ = reply.send(self.core.admin_command(&name, &self.host, now));
            }
            admin_http::AdminQuery::Metrics(reply) => {
                self.core.set_process_facts(host::process_facts());
                let _ = reply.send(self.core.metrics(now));
            }
        }
    }

    /// Returns false when the server must stop.
    fn on_log_event(&mut self, event: LogEvent) -> bool {
        match event {
            LogEvent::Durable(zxid) => {
                let before = self.core.stats().commits;
                self.core.durable(zxid, self.clock.now());
                let core = &self.core;
                self.storage.applied(core.stats().commits - before, core.tree(), || core.sessions());
                true
            }
            LogEvent::Failed(err) => {
                error!(%err, "txn log failed; shutting down");
                false
            }
        }
    }

    /// Hands what the core proposed to the log. When the log was idle, the batch was committed on this
    /// thread and its durability is handled here at once.
    fn flush(&mut self) -> Flushed {
        let mut batch = Vec::new();
        while let Some(Output::Persist(entry)) = self.core.poll_output() {
            batch.push(entry);
        }
        let events = self.storage.commit_if_idle(batch);
        if events.is_empty() {
            Flushed::Queued
        } else if events.into_iter().all(|event| self.on_log_event(event)) {
            Flushed::Committed
        } else {
            Flushed::Failed
        }
    }
}

/// What [`Driver::flush`] did with the core's proposals.
enum Flushed {
    /// Handed to the log threads, or nothing to persist.
    Queued,
    /// Committed on the Driver's thread, and applied.
    Committed,
    /// The log failed: the server must stop.
    Failed,
}

/// Ends the task's turn and has it scheduled again at once, behind the tasks already queued on its
/// worker, which tokio may hand to an idle worker meanwhile.
async fn run_again_later() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}
