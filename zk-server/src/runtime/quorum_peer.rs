//! A member of an ensemble (ZooKeeper's `QuorumPeer.run`): elect, then lead or follow (or observe)
//! for one term, then go back to election when the term ends.
//!
//! The peer owns the same pieces as a standalone server (the core, the data directory, the client
//! port) plus the election mesh and, for the term, a Zab state machine ([`zab::Leader`] or
//! [`zab::Learner`]) and its quorum links. One task runs everything: it feeds the state machines the
//! events of the sockets, the txn log and the clock, and carries out what they ask for. Clients are
//! served only while the term is established (leader: a quorum acknowledged NEWLEADER; learner: UPTODATE);
//! otherwise their connections are refused, as ZooKeeper refuses them while it is not running. Between
//! terms the database is reloaded from disk, so that everything logged counts as applied (as ZooKeeper
//! reloads its `ZKDatabase`), and the next election votes with it. With `readonlymode.enabled`, a
//! member that stays LOOKING serves read-only clients until the election ends (see [`read_only`]).

mod activation;

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::{info, info_span, warn, Instrument};

use super::election_net::ElectionNet;
use super::log_writer::LogEvent;
use super::quorum_link::{self, Inbound, LinkEvent, LinkId, LinkLimits, LinkWriter};
use super::storage::Storage;
use super::{
    admin_http, core_config, host, ClientFront, Clock, Control, Driver, PeerState, PeerStatus, RunningServer,
    StartError,
};
use crate::config::{QuorumServer, ServerConfig};
use crate::core::{CoreConfig, LeaderFacts, Output, QuorumFacts, Role, ServerCore};
use crate::database::{self, Loaded};
use crate::election::{ElectionConfig, FastLeaderElection, QuorumVerifier, ServerState};
use crate::net::Event;
use crate::zab::{self, LeaderOutput, LearnerKind, LearnerOutput, PersistedState, ZabConfig};
use zk_proto::{Jute, LearnerInfo, PacketType};

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
    let host = host::facts(&config, front.local_addr);
    let limits = LinkLimits::from_jute_max_buffer(config.jute_max_buffer.max(0) as usize);
    let server = Driver { core, clock, config, storage, host, local_addr: front.local_addr };
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
    Ok(RunningServer {
        local_addr: front.local_addr,
        secure_addr: front.secure_addr,
        admin_addr: front.admin_addr,
        metrics_addr: front.metrics_addr,
        shutdown: front.shutdown,
        core_task,
        status,
        control: Some(control_tx),
    })
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

/// The server id a FOLLOWERINFO or OBSERVERINFO packet introduces.
fn learner_sid(packet: &zk_proto::QuorumPacket) -> Option<i64> {
    let info =
        packet.packet_type == PacketType::FollowerInfo.code() || packet.packet_type == PacketType::ObserverInfo.code();
    let mut data = packet.data.clone().filter(|_| info)?;
    LearnerInfo::decode(&mut data).ok().map(|i| i.server_id).or_else(|| {
        // A bare sid (older learners send only the 8-byte id).
        packet.data.as_ref().filter(|d| d.len() >= 8).map(|d| i64::from_be_bytes(d[..8].try_into().unwrap_or_default()))
    })
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

    /// LEADING for one term.
    async fn lead(&mut self) -> TermEnd {
        let quorum_addr = match member_addr(&self.me, |a| a.quorum_port) {
            Ok(addr) => addr,
            Err(err) => {
                warn!(%err, "no quorum address");
                return TermEnd::Stop;
            }
        };
        let listener = match TcpListener::bind(quorum_addr).await {
            Ok(listener) => listener,
            Err(err) => {
                warn!(%quorum_addr, %err, "cannot listen for learners");
                return TermEnd::Reelect;
            }
        };
        let (stop_accepting, accept_stop_rx) = watch::channel(false);
        let first_link = self.next_link;
        self.next_link += 1 << 32; // this term's links take ids from a range of their own
        tokio::spawn(quorum_link::accept_learners(
            listener,
            self.limits,
            first_link,
            self.link_tx.clone(),
            accept_stop_rx,
        ));
        let history = match self.server.storage.log_tail(COMMIT_LOG_COUNT).await {
            Ok(history) => history,
            Err(err) => {
                warn!(%err, "cannot read the txn log");
                return TermEnd::Stop;
            }
        };
        let now = std::time::Instant::now();
        let mut leader = zab::Leader::new(self.zab_config.clone(), self.persisted(), history, now);
        self.server.core.set_role(Role::Leader);
        self.publish(PeerState::Leading, Some(self.zab_config.my_id));
        let mut links: HashMap<LinkId, LinkWriter> = HashMap::new();
        // Which server each link belongs to, from its FOLLOWERINFO/OBSERVERINFO (for test partitions).
        let mut link_sids: HashMap<LinkId, i64> = HashMap::new();
        let end = loop {
            if let Some(end) = self.drive_leader(&mut leader, &mut links) {
                break end;
            }
            if self.activate_committed_config() {
                break TermEnd::Reelect;
            }
            let learners = leader.learners();
            self.report_synced(&learners);
            let facts = LeaderFacts {
                learners: learners.len(),
                synced_followers: leader.synced_followers(),
                synced_non_voting_followers: 0,
                synced_observers: leader.synced_observers(),
                pending_syncs: leader.pending_syncs(),
            };
            self.report("leading", Some(leader.phase()), Some(facts));
            let timer = leader.poll_timeout().map(tokio::time::Instant::from_std);
            let now_std = std::time::Instant::now();
            match self.wait(timer).await {
                Wake::Stop => break TermEnd::Stop,
                Wake::Timer => {
                    leader.handle_timeout(now_std);
                    if self.serving {
                        self.server.core.tick(self.server.clock.now());
                    }
                }
                Wake::Log(LogEvent::Durable(zxid)) => leader.logged(zxid, now_std),
                Wake::Log(LogEvent::Failed(err)) => {
                    warn!(%err, "txn log failed");
                    break TermEnd::Stop;
                }
                Wake::Link(LinkEvent::Accepted { link, writer }) => {
                    links.insert(link, writer);
                    leader.link_up(link, now_std);
                }
                Wake::Link(LinkEvent::Received { link, inbound: Inbound::Packet(packet) }) => {
                    if let Some(sid) = learner_sid(&packet) {
                        link_sids.insert(link, sid);
                    }
                    if link_sids.get(&link).is_some_and(|sid| self.blocked.contains(sid)) {
                        if links.remove(&link).is_some() {
                            leader.link_down(link, now_std);
                        }
                    } else if links.contains_key(&link) {
                        leader.handle_packet(link, packet, now_std);
                    }
                }
                Wake::Link(LinkEvent::Received { link, inbound: Inbound::Snapshot(_) }) => {
                    links.remove(&link);
                    leader.link_down(link, now_std);
                }
                Wake::Link(LinkEvent::Closed { link }) => {
                    link_sids.remove(&link);
                    if links.remove(&link).is_some() {
                        leader.link_down(link, now_std);
                    }
                }
                Wake::Control(control) => {
                    self.common(Wake::Control(control));
                    let cut: Vec<LinkId> =
                        link_sids.iter().filter(|(_, sid)| self.blocked.contains(sid)).map(|(link, _)| *link).collect();
                    for link in cut {
                        link_sids.remove(&link);
                        if links.remove(&link).is_some() {
                            leader.link_down(link, now_std);
                        }
                    }
                }
                wake => self.common(wake),
            }
        };
        let _ = stop_accepting.send(true);
        end
    }

    /// Carries out what the leader and the core asked for, until neither has more. `Some` ends the term.
    fn drive_leader(&mut self, leader: &mut zab::Leader, links: &mut HashMap<LinkId, LinkWriter>) -> Option<TermEnd> {
        loop {
            let mut progressed = false;
            while let Some(output) = leader.poll_output() {
                progressed = true;
                let now = self.server.clock.now();
                match output {
                    LeaderOutput::Send { link, packet } => {
                        if let Some(writer) = links.get(&link) {
                            writer.send(&packet);
                        }
                    }
                    LeaderOutput::SendSnapshot { link, zxid } => {
                        let core = &self.server.core;
                        if core.tree().last_processed_zxid() != zxid {
                            warn!(
                                zxid,
                                at = core.tree().last_processed_zxid(),
                                "snapshot for a learner is not at the synced zxid"
                            );
                        }
                        match database::snap_sync_body(core.tree(), &core.sessions()) {
                            Ok(body) => {
                                if let Some(writer) = links.get(&link) {
                                    writer.send_raw(Bytes::from(body));
                                }
                            }
                            Err(err) => {
                                warn!(%err, "cannot serialize a snapshot for a learner");
                                links.remove(&link);
                            }
                        }
                    }
                    LeaderOutput::Close { link } => {
                        links.remove(&link);
                    }
                    LeaderOutput::PersistAcceptedEpoch(epoch) => {
                        if let Err(err) = self.server.storage.dir().set_accepted_epoch(epoch) {
                            warn!(%err, "cannot persist acceptedEpoch");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LeaderOutput::PersistCurrentEpoch(epoch) => {
                        if let Err(err) = self.server.storage.dir().set_current_epoch(epoch) {
                            warn!(%err, "cannot persist currentEpoch");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LeaderOutput::Established { epoch } => {
                        info!(epoch, "leading");
                        self.server.core.start_epoch(epoch);
                        self.serving = true;
                        self.publish(PeerState::Leading, Some(self.zab_config.my_id));
                    }
                    LeaderOutput::Commit(zxid) => {
                        while self.unapplied.front().is_some_and(|e| e.header.zxid <= zxid) {
                            self.unapplied.pop_front();
                        }
                        let before = self.server.core.stats().commits;
                        self.server.core.durable(zxid, now);
                        let core = &self.server.core;
                        self.server.storage.applied(core.stats().commits - before, core.tree(), || core.sessions());
                    }
                    LeaderOutput::Forwarded { link: _, session_id, cxid, op_code, body, authinfo } => {
                        self.server.core.remote_request(session_id, cxid, op_code, body, authinfo, now);
                    }
                    LeaderOutput::TouchSessions(sessions) => self.server.core.touch_sessions(&sessions, now),
                    LeaderOutput::Revalidate { link, session_id, timeout } => {
                        let valid = self.server.core.revalidate(session_id, timeout, now);
                        leader.revalidated(link, session_id, valid);
                    }
                    LeaderOutput::Shutdown { reason } => {
                        info!(%reason, "leader stepping down");
                        return Some(TermEnd::Reelect);
                    }
                }
            }
            let mut batch = Vec::new();
            while let Some(output) = self.server.core.poll_output() {
                progressed = true;
                match output {
                    Output::Persist(entry) => {
                        if let Err(err) = leader.propose(entry.clone(), std::time::Instant::now()) {
                            warn!(%err, "cannot propose; stepping down");
                            // What was proposed before it is logged, as `unapplied` says.
                            self.server.storage.append(batch);
                            return Some(TermEnd::Reelect);
                        }
                        self.unapplied.push_back(entry.clone());
                        batch.push(entry);
                    }
                    Output::Forward { .. } | Output::Revalidate { .. } => {
                        warn!("a leader's core asked to forward; ignored");
                    }
                }
            }
            self.server.storage.append(batch);
            if !progressed {
                return None;
            }
        }
    }

    /// FOLLOWING or OBSERVING `leader_id` for one term.
    async fn learn(&mut self, leader_id: i64, kind: LearnerKind) -> TermEnd {
        let Some(leader_server) = self.server.config.quorum.servers.get(&leader_id).cloned() else {
            return TermEnd::Reelect;
        };
        if self.blocked.contains(&leader_id) {
            tokio::time::sleep(self.zab_config.tick).await;
            return TermEnd::Reelect;
        }
        let Ok(addr) = member_addr(&leader_server, |a| a.quorum_port) else { return TermEnd::Reelect };
        let link = self.next_link;
        self.next_link += 1;
        let tick = self.zab_config.tick;
        let limit = tick * self.zab_config.init_limit;
        let deadline = tokio::time::Instant::now() + limit;
        // Learner.connectToLeader: retry until the leader listens (it may still be binding its port). The
        // first retries come quickly: the leader is usually a few milliseconds behind its followers.
        let mut pause = Duration::from_millis(5);
        let writer = loop {
            match quorum_link::connect_to_leader(addr, link, self.limits, &self.link_tx).await {
                Ok(writer) => break Some(writer),
                Err(err) if tokio::time::Instant::now() + pause < deadline => {
                    tracing::debug!(%addr, %err, "leader not reachable yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(tick.min(Duration::from_millis(200)));
                }
                Err(err) => {
                    warn!(%addr, %err, "cannot connect to the leader");
                    break None;
                }
            }
        };
        let Some(writer) = writer else { return TermEnd::Reelect };
        let now = std::time::Instant::now();
        let mut learner = zab::Learner::new(self.zab_config.clone(), leader_id, kind, self.persisted(), now);
        let role = match kind {
            LearnerKind::Follower => Role::Follower,
            LearnerKind::Observer => Role::Observer,
        };
        self.server.core.set_role(role);
        let state = match kind {
            LearnerKind::Follower => PeerState::Following,
            LearnerKind::Observer => PeerState::Observing,
        };
        self.publish(state, Some(leader_id));
        learner.connected(now);
        loop {
            if let Some(end) = self.drive_learner(&mut learner, &writer, state, leader_id).await {
                return end;
            }
            if self.activate_committed_config() {
                return TermEnd::Reelect;
            }
            let name = if kind == LearnerKind::Observer { "observing" } else { "following" };
            self.report(name, Some(learner.phase()), None);
            let timer = learner.poll_timeout().map(tokio::time::Instant::from_std);
            let now_std = std::time::Instant::now();
            match self.wait(timer).await {
                Wake::Stop => return TermEnd::Stop,
                Wake::Timer => {
                    learner.handle_timeout(now_std);
                    if self.serving {
                        self.server.core.tick(self.server.clock.now());
                    }
                }
                Wake::Log(LogEvent::Durable(zxid)) => learner.logged(zxid, now_std),
                Wake::Log(LogEvent::Failed(err)) => {
                    warn!(%err, "txn log failed");
                    return TermEnd::Stop;
                }
                Wake::Link(LinkEvent::Received { link: from, inbound }) if from == link => match inbound {
                    Inbound::Packet(packet) => learner.handle_packet(packet, now_std),
                    Inbound::Snapshot(body) => learner.handle_snapshot(body, now_std),
                },
                Wake::Link(LinkEvent::Closed { link: from }) if from == link => {
                    info!(leader = leader_id, "connection to the leader lost");
                    return TermEnd::Reelect;
                }
                Wake::Link(_) => {}
                Wake::Control(control) => {
                    self.common(Wake::Control(control));
                    if self.blocked.contains(&leader_id) {
                        info!(leader = leader_id, "cut off from the leader");
                        return TermEnd::Reelect;
                    }
                }
                wake => self.common(wake),
            }
        }
    }

    /// Carries out what the learner and the core asked for, until neither has more. `Some` ends the term.
    async fn drive_learner(
        &mut self,
        learner: &mut zab::Learner,
        writer: &LinkWriter,
        state: PeerState,
        leader_id: i64,
    ) -> Option<TermEnd> {
        loop {
            let mut progressed = false;
            let mut batch = Vec::new();
            while let Some(output) = learner.poll_output() {
                progressed = true;
                let now = self.server.clock.now();
                match output {
                    LearnerOutput::Send(packet) => {
                        writer.send(&packet);
                    }
                    LearnerOutput::PersistAcceptedEpoch(epoch) => {
                        if let Err(err) = self.server.storage.dir().set_accepted_epoch(epoch) {
                            warn!(%err, "cannot persist acceptedEpoch");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LearnerOutput::PersistCurrentEpoch(epoch) => {
                        if let Err(err) = self.server.storage.dir().set_current_epoch(epoch) {
                            warn!(%err, "cannot persist currentEpoch");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LearnerOutput::Truncate(zxid) => {
                        self.server.storage.append(std::mem::take(&mut batch));
                        self.unapplied.clear();
                        if let Err(err) = self.reload(Some(zxid)).await {
                            warn!(%err, "cannot truncate the txn log");
                            return Some(TermEnd::Stop);
                        }
                    }
                    LearnerOutput::InstallSnapshot { zxid, body } => {
                        self.unapplied.clear();
                        if let Err(err) = self.install_snapshot(zxid, &body).await {
                            warn!(%err, "cannot install the leader's snapshot");
                            return Some(TermEnd::Reelect);
                        }
                    }
                    LearnerOutput::Log(entry) => {
                        self.unapplied.push_back(entry.clone());
                        batch.push(entry);
                    }
                    LearnerOutput::Apply(entry) => {
                        while self.unapplied.front().is_some_and(|e| e.header.zxid <= entry.header.zxid) {
                            self.unapplied.pop_front();
                        }
                        self.server.core.apply_committed(entry, now);
                        let core = &self.server.core;
                        self.server.storage.applied(1, core.tree(), || core.sessions());
                    }
                    LearnerOutput::UpToDate => {
                        info!("following: up to date");
                        self.serving = true;
                        self.publish(state, Some(leader_id));
                    }
                    LearnerOutput::SyncDone => self.server.core.sync_done(now),
                    LearnerOutput::Revalidated { session_id, valid } => {
                        self.server.core.revalidated(session_id, valid, now);
                    }
                    LearnerOutput::Shutdown { reason } => {
                        info!(%reason, "learner term ended");
                        self.server.storage.append(batch);
                        return Some(TermEnd::Reelect);
                    }
                }
            }
            self.server.storage.append(batch);
            while let Some(output) = self.server.core.poll_output() {
                progressed = true;
                match output {
                    Output::Forward { session_id, cxid, op_code, body, authinfo } => {
                        learner.forward(session_id, cxid, op_code, body, authinfo);
                    }
                    Output::Revalidate { session_id, timeout } => learner.revalidate(session_id, timeout),
                    Output::Persist(entry) => {
                        warn!(zxid = entry.header.zxid, "a learner's core proposed a txn; ignored");
                    }
                }
            }
            for (session_id, timeout) in self.server.core.take_touched() {
                learner.touch(session_id, timeout);
            }
            if !progressed {
                return None;
            }
        }
    }

    /// SNAP: replaces the database by the leader's snapshot and persists it.
    async fn install_snapshot(&mut self, zxid: i64, body: &[u8]) -> Result<(), crate::persist::PersistError> {
        let (tree, sessions) = database::load_snap_sync(body, zxid)?;
        let dir = self.server.storage.dir().clone();
        let (snap_tree, snap_sessions) = (tree.clone(), sessions.clone());
        tokio::task::spawn_blocking(move || database::write_snapshot(&dir, &snap_tree, &snap_sessions))
            .await
            .map_err(|_| crate::persist::PersistError::Usage("snapshot task failed"))??;
        let now = self.server.clock.now();
        self.server.core.reset(tree, &sessions, now);
        Ok(())
    }
}
