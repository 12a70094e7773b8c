//! A member of an ensemble (ZooKeeper's `QuorumPeer.run`): elect, then lead or follow (or observe)
//! for one term, then go back to election when the term ends.
//!
//! The peer owns the same pieces as a standalone server (the core, the data directory, the client
//! port) plus the election mesh and, for the term, a Zab state machine ([`zab::Leader`] or
//! [`zab::Learner`]) and its quorum links. One task runs everything: it feeds the state machines the
//! events of the sockets, the txn log and the clock, and carries out what they ask for. Clients are
//! served only while the term is established (leader: a quorum acknowledged NEWLEADER; learner: UPTODATE);
//! otherwise their connections are refused, as ZooKeeper refuses them while it is not running. Between
//! terms everything logged counts as applied (what ZooKeeper gets by reloading its `ZKDatabase`; see
//! [`QuorumPeer::end_term`]), and the next election votes with it. The terms live in [`looking`],
//! [`leading`] and [`learning`]; [`activation`] switches membership after a reconfig. With `readonlymode.enabled`, a
//! member that stays LOOKING serves read-only clients until the election ends (see [`read_only`]).

mod activation;

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tracing::{info, info_span, warn, Instrument};

use super::election_net::ElectionNet;
use super::log_writer::LogEvent;
use super::quorum_link::{LinkEvent, LinkId, LinkLimits};
use super::storage::Storage;
use super::{
    admin_http, core_config, host, ClientFront, Clock, Control, Driver, PeerState, PeerStatus, RunningServer,
    StartError,
};
use crate::config::{QuorumServer, ServerConfig};
use crate::core::{CoreConfig, LeaderFacts, QuorumFacts, Role, ServerCore};
use crate::database::{self, Loaded};
use crate::election::{ElectionConfig, FastLeaderElection, QuorumVerifier, ServerState};
use crate::net::Event;
use crate::zab::{self, LearnerKind, PersistedState, ZabConfig};

mod leading;
mod learning;
mod looking;
mod read_only;

/// ZooKeeper's `zookeeper.commitLogCount`: txns a leader keeps for DIFF syncs.
const COMMIT_LOG_COUNT: usize = 500;

/// Starts a member of the ensemble `config` describes (its `myid` picks which).
pub(super) async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    let my_id = config.server_id.ok_or_else(|| StartError::Unsupported("an ensemble member needs a myid".into()))?;
    let me = config
        .quorum
        .servers
        .get(&my_id)
        .cloned()
        .ok_or_else(|| StartError::Unsupported(format!("myid {my_id} is not in the server list")))?;
    let clock = Clock::new();
    let (log_events_tx, log_events) = mpsc::unbounded_channel();
    let (storage, loaded) = Storage::open(&config, log_events_tx.clone()).await?;
    let front = ClientFront::open(&config).await?;

    let election_addr = member_addr(&me, |a| a.election_port)?;
    let peers = config
        .quorum
        .servers
        .values()
        .filter(|s| s.id != my_id)
        .map(|s| Ok((s.id, member_addr(s, |a| a.election_port)?)))
        .collect::<Result<HashMap<_, _>, StartError>>()?;
    let election = ElectionNet::start(my_id, election_addr, peers, front.shutdown_rx.clone())
        .await
        .map_err(|source| StartError::Bind { addr: election_addr.to_string(), source })?;
    let verifier = QuorumVerifier::from_config(&config.quorum);
    let fle = FastLeaderElection::new(election_config(&config, my_id, verifier.clone()));
    let zab_config = ZabConfig {
        my_id,
        verifier,
        tick: Duration::from_millis(config.tick_time.max(1) as u64),
        init_limit: config.init_limit.max(1) as u32,
        sync_limit: config.sync_limit.max(1) as u32,
        config_text: Bytes::from(config.quorum.config_string()),
        commit_log_count: COMMIT_LOG_COUNT,
    };
    let core_config = CoreConfig { server_id: my_id, role: Role::Follower, ..core_config(&config) };
    let core = ServerCore::new(core_config, loaded.tree, &loaded.sessions, clock.now());
    let host = host::facts(&config, front.endpoints.local_addr);
    let limits = LinkLimits::from_jute_max_buffer(config.jute_max_buffer.max(0) as usize);
    let server = Driver { core, clock, config, storage, host, local_addr: front.endpoints.local_addr };
    let (link_tx, link_rx) = mpsc::unbounded_channel();
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let looking = PeerStatus { state: PeerState::Looking, serving: false, read_only: false, leader: None, epoch: 0 };
    let (status_tx, status) = watch::channel(looking);
    let mut peer = QuorumPeer {
        server,
        me,
        fle,
        election,
        zab_config,
        limits,
        serving: false,
        read_only: None,
        next_link: 1,
        log_events_tx,
        link_tx,
        channels: Channels {
            events: front.events,
            log: log_events,
            admin: front.admin,
            links: link_rx,
            control: control_rx,
        },
        shutdown: front.shutdown_rx.clone(),
        status: status_tx,
        blocked: HashSet::new(),
        unapplied: std::collections::VecDeque::new(),
    };
    peer.refresh_membership();
    let span = info_span!("peer", id = my_id);
    let core_task = tokio::spawn(peer.run().instrument(span));
    Ok(RunningServer { endpoints: front.endpoints, core_task, status, control: Some(control_tx) })
}

/// How long a decided quorum waits for a better vote before an election ends, by default. ZooKeeper's
/// `finalizeWait` is a fixed 200 ms, which alone is most of a failover; peers on a LAN deliver a better
/// vote within milliseconds, and the choice affects only liveness (Zab's discovery, not the election,
/// keeps a stale leader from committing), so ours waits 50 ms unless `fastleader.finalizeWait` says
/// otherwise.
const DEFAULT_FINALIZE_WAIT: Duration = Duration::from_millis(50);

/// The election's settings: ZooKeeper's `fastleader.minNotificationInterval` and
/// `fastleader.maxNotificationInterval` (ms; also with the `zookeeper.` prefix), and
/// `fastleader.finalizeWait` (ms, ours).
fn election_config(config: &ServerConfig, my_id: i64, verifier: QuorumVerifier) -> ElectionConfig {
    let ms = |key: &str| {
        let value = config.other.get(key).or_else(|| config.other.get(&format!("zookeeper.{key}")))?;
        value.value.trim().parse::<u64>().ok().map(Duration::from_millis)
    };
    let mut election = ElectionConfig::new(my_id, verifier, config.quorum.config_string());
    election.finalize_wait = ms("fastleader.finalizeWait").unwrap_or(DEFAULT_FINALIZE_WAIT);
    if let Some(min) = ms("fastleader.minNotificationInterval") {
        election.min_notification_interval = min;
    }
    if let Some(max) = ms("fastleader.maxNotificationInterval") {
        election.max_notification_interval = max;
    }
    election
}

/// The first address of a member, with the port `port` picks.
fn member_addr(
    server: &QuorumServer,
    port: impl Fn(&crate::config::QuorumAddress) -> u16,
) -> Result<SocketAddr, StartError> {
    let address = server
        .addresses
        .first()
        .ok_or_else(|| StartError::Unsupported(format!("server.{} has no address", server.id)))?;
    (address.host.as_str(), port(address))
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| StartError::Unsupported(format!("cannot resolve {}", address.host)))
}

/// ZooKeeper's `ZK_NOT_SERVING`, answered by the four-letter words that need a running server.
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests\n";

/// What a member that is not serving (electing, or synchronizing a term) answers to a four-letter word,
/// as ZooKeeper's commands check `isZKServerRunning()`: `None` for the words that answer anyway (`ruok`,
/// `envi`, ...). `isro` says `null`, ZooKeeper's answer without a server.
fn not_serving_answer(word: &str) -> Option<&'static str> {
    match word {
        "srvr" | "stat" | "cons" | "crst" | "dump" | "srst" | "wchs" | "wchc" | "wchp" | "mntr" | "conf" | "dirs" => {
            Some(NOT_SERVING)
        }
        "isro" => Some("null"),
        _ => None,
    }
}

/// Everything the peer's task listens to.
struct Channels {
    events: mpsc::UnboundedReceiver<Event>,
    log: mpsc::UnboundedReceiver<LogEvent>,
    admin: mpsc::UnboundedReceiver<admin_http::AdminQuery>,
    links: mpsc::UnboundedReceiver<LinkEvent>,
    control: mpsc::UnboundedReceiver<Control>,
}

/// What woke the loop.
enum Wake {
    Client(Event),
    Log(LogEvent),
    Admin(admin_http::AdminQuery),
    Link(LinkEvent),
    Election(i64, zk_proto::Notification),
    Control(Control),
    Timer,
    Stop,
}

/// How a term ended.
#[derive(Debug, PartialEq, Eq)]
enum TermEnd {
    /// Back to election.
    Reelect,
    /// The server is shutting down (or cannot go on).
    Stop,
}

struct QuorumPeer {
    server: Driver,
    me: QuorumServer,
    fle: FastLeaderElection,
    election: ElectionNet,
    zab_config: ZabConfig,
    limits: LinkLimits,
    /// Clients are served (the term is established).
    serving: bool,
    /// LOOKING in read-only mode: read-only clients are served; the core's role before it.
    read_only: Option<Role>,
    next_link: LinkId,
    log_events_tx: mpsc::UnboundedSender<LogEvent>,
    link_tx: mpsc::UnboundedSender<LinkEvent>,
    channels: Channels,
    shutdown: watch::Receiver<bool>,
    status: watch::Sender<PeerStatus>,
    /// Servers this one is cut off from (a test partition).
    blocked: HashSet<i64>,
    /// Txns handed to the log but not applied to the core's tree yet (proposed or logged, not
    /// committed), in zxid order.
    unapplied: std::collections::VecDeque<zk_proto::TxnEntry>,
}

impl QuorumPeer {
    async fn run(mut self) {
        loop {
            if !self.is_member() && !self.stay_removed().await {
                break;
            }
            self.publish(PeerState::Looking, None);
            self.report("looking", None, None);
            let Some(result) = self.look_for_leader().await else { break };
            info!(leader = result.leader, state = ?result.state, epoch = result.epoch, "elected");
            let end = match result.state {
                ServerState::Leading => self.lead().await,
                ServerState::Following => self.learn(result.leader, LearnerKind::Follower).await,
                ServerState::Observing => self.learn(result.leader, LearnerKind::Observer).await,
                ServerState::Looking => TermEnd::Reelect,
            };
            self.serving = false;
            if end == TermEnd::Stop || *self.shutdown.borrow() {
                break;
            }
            if let Err(err) = self.end_term().await {
                warn!(%err, "cannot reload the database; stopping");
                break;
            }
            self.refresh_membership();
        }
        info!("server stopping");
        self.server.storage.close().await;
    }

    /// Between terms, the database is what the log holds, as when ZooKeeper reloads its `ZKDatabase`:
    /// once everything appended is durable, the txns logged but not committed are applied too. The core
    /// is reset to that (dropping every client connection). Reading the whole database back from disk
    /// is left for when the log cannot be trusted to match memory (its thread failed).
    async fn end_term(&mut self) -> Result<(), crate::persist::PersistError> {
        if !self.server.storage.sync().await {
            self.unapplied.clear();
            return self.reload(None).await;
        }
        let core = &self.server.core;
        let mut tree = core.tree().clone();
        let mut sessions: std::collections::BTreeMap<i64, i32> = core.sessions().into_iter().collect();
        for entry in self.unapplied.drain(..) {
            if entry.header.zxid <= tree.last_processed_zxid() {
                continue;
            }
            tree.apply(&entry);
            database::track_session(&mut sessions, &entry);
        }
        let sessions: Vec<(i64, i32)> = sessions.into_iter().collect();
        let now = self.server.clock.now();
        self.server.core.reset(tree, &sessions, now);
        Ok(())
    }

    /// Reloads the database from disk (after truncating the log past `truncate_to`) and resets the core
    /// to it, dropping every client connection.
    async fn reload(&mut self, truncate_to: Option<i64>) -> Result<(), crate::persist::PersistError> {
        let Loaded { tree, sessions, .. } =
            self.server.storage.reopen(truncate_to, false, self.log_events_tx.clone()).await?;
        // What the old log thread reported is about a log that is gone now.
        while let Ok(LogEvent::Durable(_)) = self.channels.log.try_recv() {}
        let now = self.server.clock.now();
        self.server.core.reset(tree, &sessions, now);
        Ok(())
    }

    fn persisted(&self) -> PersistedState {
        let dir = self.server.storage.dir();
        let last_logged_zxid = self.server.core.tree().last_processed_zxid();
        PersistedState {
            accepted_epoch: dir.accepted_epoch().ok().flatten().unwrap_or(0),
            current_epoch: dir.current_epoch().ok().flatten().unwrap_or(0),
            last_logged_zxid,
        }
    }

    /// Events every state handles the same way; client events depend on whether we serve.
    fn common(&mut self, wake: Wake) {
        match wake {
            Wake::Client(event) => self.client_event(event),
            Wake::Admin(query) => self.server.answer_admin(query),
            Wake::Election(from, n) => {
                self.fle.handle_notification(from, n, std::time::Instant::now());
                self.send_election_messages();
            }
            Wake::Control(Control::Block(blocked)) => {
                self.election.set_blocked(blocked.clone());
                self.blocked = blocked;
            }
            Wake::Log(_) | Wake::Link(_) | Wake::Timer | Wake::Stop => {}
        }
    }

    /// Tells the core what `mntr` reports of the ensemble (`peer_state` as ZooKeeper's
    /// `getDetailedPeerState`: the state, then the Zab phase unless electing).
    fn report(&mut self, state: &str, phase: Option<zab::ZabPhase>, leader: Option<LeaderFacts>) {
        let peer_state = match phase {
            Some(phase) => format!("{state} - {}", phase.name()),
            None => state.to_owned(),
        };
        let quorum_size = self.zab_config.verifier.voting_members().len();
        self.server.core.set_quorum_facts(Some(QuorumFacts { peer_state, quorum_size, leader }));
    }

    fn publish(&self, state: PeerState, leader: Option<i64>) {
        let epoch = self.server.storage.dir().current_epoch().ok().flatten().unwrap_or(0);
        let read_only = self.read_only.is_some();
        self.status.send_replace(PeerStatus { state, serving: self.serving, read_only, leader, epoch });
    }

    fn client_event(&mut self, event: Event) {
        match event {
            // ZooKeeper closes connections while its server is not running ("ZooKeeperServer not running").
            Event::Connect { out, .. } if !self.serving && self.read_only.is_none() => drop(out),
            Event::Request { .. } if !self.serving && self.read_only.is_none() => {}
            Event::FourLetter { command, peer, reply } if !self.serving && self.read_only.is_none() => {
                let word = String::from_utf8_lossy(&command).into_owned();
                match not_serving_answer(&word) {
                    Some(answer) if self.server.config.four_letter_words.is_enabled(&word) => {
                        let _ = reply.send(answer.to_owned());
                    }
                    _ => self.server.dispatch(Event::FourLetter { command, peer, reply }),
                }
            }
            event => self.server.dispatch(event),
        }
    }

    /// Waits for the next event, or for `timer`, or for the core's next tick while serving.
    async fn wait(&mut self, timer: Option<tokio::time::Instant>) -> Wake {
        let tick =
            (self.serving || self.read_only.is_some()).then(|| self.server.clock.instant(self.server.core.next_tick()));
        let deadline = match (timer, tick) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let c = &mut self.channels;
        tokio::select! {
            Some(event) = c.events.recv() => Wake::Client(event),
            Some(event) = c.log.recv() => Wake::Log(event),
            Some(query) = c.admin.recv() => Wake::Admin(query),
            Some(event) = c.links.recv() => Wake::Link(event),
            Some((from, n)) = self.election.recv() => Wake::Election(from, n),
            Some(control) = c.control.recv() => Wake::Control(control),
            _ = sleep => Wake::Timer,
            _ = self.shutdown.wait_for(|stop| *stop) => Wake::Stop,
        }
    }
}
