//! The simulated ensemble: nodes with a "disk" and an applied "state", the Zab state machines, an
//! election stand-in, a fault injector and the safety checks run after every step.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use zk_proto::{Jute, OpCode, TxnEntry};
use zk_server::config::{Properties, QuorumConfig};
use zk_server::election::QuorumVerifier;
use zk_server::zab::{epoch_of, Leader, LeaderOutput, Learner, LearnerOutput, ZabConfig};

use crate::net::{Link, Msg, LEADER_END, LEARNER_END};

#[path = "actors.rs"]
mod actors;
#[path = "checks.rs"]
mod checks;

const MS: u64 = 1_000;
const TICK_MS: u64 = 100;
/// A small committed log, so that syncs fall back to SNAP often.
const COMMIT_LOG_COUNT: usize = 16;

/// One run's shape.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub voters: usize,
    pub observers: usize,
    pub faults: bool,
    /// How long faults are injected (ms).
    pub fault_ms: u64,
}

/// What a run exercised.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub commits: u64,
    pub established: u64,
    pub snaps: u64,
    pub truncs: u64,
    pub syncs_done: u64,
    pub settled_after_ms: u64,
}

#[derive(Debug, Default)]
struct Disk {
    txns: Vec<TxnEntry>,
    durable: usize,
    accepted: i64,
    current: i64,
}

impl Disk {
    fn last_zxid(&self) -> i64 {
        self.txns.last().map_or(0, |e| e.header.zxid)
    }
}

#[derive(Debug)]
enum Role {
    Down,
    Looking { since: u64 },
    Leading(Box<Leader>),
    Learning { learner: Box<Learner>, link: u64 },
}

#[derive(Debug)]
struct Node {
    id: i64,
    voter: bool,
    role: Role,
    disk: Disk,
    state: Vec<TxnEntry>,
    /// How much of `state` was checked against the chain.
    verified: usize,
    serving: bool,
    partition: u8,
    flush_due: Option<u64>,
    restart_at: Option<u64>,
    syncs_asked: u64,
    syncs_done: u64,
}

enum Out {
    Leader(LeaderOutput),
    Learner(LearnerOutput),
}

/// A seeded ensemble.
pub struct Sim {
    seed: u64,
    rng: ChaCha8Rng,
    base: Instant,
    now: u64,
    config: ZabConfig,
    nodes: Vec<Node>,
    links: BTreeMap<u64, Link>,
    next_link: u64,
    /// The longest applied sequence any serving node showed: every serving state is a prefix of it.
    chain: Vec<TxnEntry>,
    /// Txns whose Commit a leader emitted.
    acked: BTreeMap<i64, TxnEntry>,
    /// Epoch → the sid that established it and its applied state then.
    established: BTreeMap<i64, (i64, Vec<TxnEntry>)>,
    opts: Options,
    next_fault: u64,
    next_propose: u64,
    next_election: u64,
    /// Crashes planned by a fault trigger: (when, node).
    planned_crashes: Vec<(u64, usize)>,
    fault_end: u64,
    trace: bool,
    stats: Stats,
}

impl Sim {
    pub fn new(seed: u64, opts: Options, trace: bool) -> Sim {
        let mut text = String::new();
        for id in 1..=opts.voters + opts.observers {
            let kind = if id > opts.voters { ":observer" } else { "" };
            text.push_str(&format!("server.{id}=127.0.0.1:{}:{}{kind}\n", 2000 + id, 3000 + id));
        }
        let quorum = QuorumConfig::from_properties(&Properties::parse(&text).unwrap(), false, false).unwrap();
        let config = ZabConfig {
            my_id: 0,
            verifier: QuorumVerifier::from_config(&quorum),
            tick: Duration::from_millis(TICK_MS),
            init_limit: 10,
            sync_limit: 5,
            config_text: Bytes::from(quorum.config_string()),
            commit_log_count: COMMIT_LOG_COUNT,
        };
        let nodes = (0..opts.voters + opts.observers)
            .map(|i| Node {
                id: i as i64 + 1,
                voter: i < opts.voters,
                role: Role::Looking { since: 0 },
                disk: Disk::default(),
                state: Vec::new(),
                verified: 0,
                serving: false,
                partition: 0,
                flush_due: None,
                restart_at: None,
                syncs_asked: 0,
                syncs_done: 0,
            })
            .collect();
        Sim {
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
            base: Instant::now(),
            now: 0,
            config,
            nodes,
            links: BTreeMap::new(),
            next_link: 1,
            chain: Vec::new(),
            acked: BTreeMap::new(),
            established: BTreeMap::new(),
            opts,
            next_fault: 100 * MS,
            next_propose: 0,
            next_election: 50 * MS,
            planned_crashes: Vec::new(),
            fault_end: if opts.faults { opts.fault_ms * MS } else { 0 },
            trace,
            stats: Stats::default(),
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "zab sim seed {} ({} voters, {} observers) at {} ms: {what}\nreplay: ZAB_SIM_SEED={} ZAB_SIM_TRACE=1",
            self.seed,
            self.opts.voters,
            self.opts.observers,
            self.now / MS,
            self.seed
        );
    }

    fn log(&self, what: impl FnOnce() -> String) {
        if self.trace {
            eprintln!("[{:>7.1} ms] {}", self.now as f64 / MS as f64, what());
        }
    }

    fn instant(&self) -> Instant {
        self.base + Duration::from_micros(self.now)
    }

    fn micros(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.base).as_micros() as u64
    }

    fn delay(&mut self) -> u64 {
        if self.rng.random_bool(0.05) {
            self.rng.random_range(30 * MS..=150 * MS)
        } else {
            self.rng.random_range(MS..=15 * MS)
        }
    }

    /// Runs the faulty phase, then heals everything and waits for the ensemble to settle.
    pub fn run(mut self) -> Stats {
        let fault_end = self.fault_end;
        let propose_end = fault_end + 2_000 * MS;
        let deadline = propose_end + 60_000 * MS;
        let mut healed = false;
        let mut next_settle_check = propose_end;
        loop {
            let next = self.next_time(fault_end, propose_end).min(next_settle_check);
            self.now = self.now.max(next);
            if !healed && self.now >= fault_end {
                healed = true;
                self.log(|| "heal everything".into());
                for i in 0..self.nodes.len() {
                    self.nodes[i].partition = 0;
                    if matches!(self.nodes[i].role, Role::Down) {
                        self.nodes[i].restart_at = Some(self.now);
                    }
                }
            }
            self.deliver_due();
            self.run_timers();
            if self.opts.faults && self.now < fault_end && self.now >= self.next_fault {
                self.inject_fault();
                self.next_fault = self.now + self.rng.random_range(50 * MS..=400 * MS);
            }
            if self.now < propose_end && self.now >= self.next_propose {
                self.propose_round();
                self.next_propose = self.now + self.rng.random_range(5 * MS..=40 * MS);
            }
            if self.now >= self.next_election {
                self.election_round();
                self.next_election = self.now + self.rng.random_range(20 * MS..=80 * MS);
            }
            self.links.retain(|_, l| !l.dead());
            self.check_chain();
            if self.now >= next_settle_check {
                if self.settled() {
                    self.stats.settled_after_ms = (self.now - propose_end) / MS;
                    return self.stats;
                }
                if self.now >= deadline {
                    let roles: Vec<String> =
                        self.nodes.iter().map(|n| format!("{}:{}", n.id, role_name(&n.role))).collect();
                    self.fail(&format!("no settled leader 60 s after the faults: {roles:?}"));
                }
                next_settle_check = self.now + 100 * MS;
            }
        }
    }

    fn next_time(&self, fault_end: u64, propose_end: u64) -> u64 {
        let mut t = self.next_election;
        if self.opts.faults && self.now < fault_end {
            t = t.min(self.next_fault).min(fault_end);
        }
        if self.now < propose_end {
            t = t.min(self.next_propose);
        }
        for link in self.links.values() {
            if self.nodes[link.leader].partition != self.nodes[link.learner].partition {
                continue;
            }
            for queue in &link.queues {
                if let Some((due, _)) = queue.front() {
                    t = t.min(*due);
                }
            }
        }
        for (at, _) in &self.planned_crashes {
            t = t.min(*at);
        }
        for node in &self.nodes {
            t = t.min(node.flush_due.unwrap_or(u64::MAX)).min(node.restart_at.unwrap_or(u64::MAX));
            let timer = match &node.role {
                Role::Leading(l) => l.poll_timeout(),
                Role::Learning { learner, .. } => learner.poll_timeout(),
                _ => None,
            };
            if let Some(at) = timer {
                t = t.min(self.micros(at));
            }
        }
        t
    }

    // ---- the network ----

    fn send(&mut self, link: u64, from: usize, msg: Msg) {
        let delay = self.delay();
        let now = self.now;
        if let Some(l) = self.links.get_mut(&link) {
            l.send(from, msg, now, delay);
        }
    }

    fn close_end(&mut self, link: u64, end: usize) {
        let delay = self.delay();
        let now = self.now;
        if let Some(l) = self.links.get_mut(&link) {
            l.close(end, now, delay);
        }
    }

    /// A connection breaks: in-flight data is lost and both attached ends see it at once.
    fn abort(&mut self, link: u64) {
        let Some(l) = self.links.get_mut(&link) else { return };
        let attached = l.ends;
        let nodes = [l.leader, l.learner];
        l.ends = [false, false];
        l.queues.iter_mut().for_each(|q| q.clear());
        self.log(|| format!("link {link} aborted"));
        for end in [LEADER_END, LEARNER_END] {
            if attached[end] {
                self.notify_down(link, end, nodes[end]);
            }
        }
    }

    fn notify_down(&mut self, link: u64, end: usize, node: usize) {
        let now = self.instant();
        match (&mut self.nodes[node].role, end) {
            (Role::Leading(leader), LEADER_END) => leader.link_down(link, now),
            (Role::Learning { learner, link: mine }, LEARNER_END) if *mine == link => learner.disconnected(now),
            _ => return,
        }
        self.drain(node);
    }

    fn deliver_due(&mut self) {
        loop {
            let mut delivered = false;
            let ids: Vec<u64> = self.links.keys().copied().collect();
            for id in ids {
                for end in [LEADER_END, LEARNER_END] {
                    while let Some(msg) = self.pop_due(id, end) {
                        delivered = true;
                        self.deliver(id, end, msg);
                    }
                }
            }
            if !delivered {
                return;
            }
        }
    }

    fn pop_due(&mut self, id: u64, end: usize) -> Option<Msg> {
        let l = self.links.get_mut(&id)?;
        if self.nodes[l.leader].partition != self.nodes[l.learner].partition {
            return None;
        }
        if l.queues[end].front().is_some_and(|(due, _)| *due <= self.now) {
            l.queues[end].pop_front().map(|(_, m)| m)
        } else {
            None
        }
    }

    fn deliver(&mut self, id: u64, end: usize, msg: Msg) {
        let now = self.instant();
        let Some(link) = self.links.get_mut(&id) else { return };
        if !link.ends[end] {
            return;
        }
        let node = link.node(end);
        if matches!(msg, Msg::Eof) {
            link.ends[end] = false;
        }
        self.log(|| format!("link {id} -> node {}: {}", node + 1, msg_name(&msg)));
        match (&mut self.nodes[node].role, end, msg) {
            (Role::Leading(leader), LEADER_END, msg) => match msg {
                Msg::Connect => {
                    leader.link_up(id, now);
                    self.send(id, LEADER_END, Msg::Connect);
                }
                Msg::Packet(p) => leader.handle_packet(id, p, now),
                Msg::Eof => leader.link_down(id, now),
                Msg::Snapshot(_) => self.fail("a snapshot sent to the leader"),
            },
            (Role::Learning { learner, link }, LEARNER_END, msg) if *link == id => match msg {
                Msg::Connect => learner.connected(now),
                Msg::Packet(p) => learner.handle_packet(p, now),
                Msg::Snapshot(body) => learner.handle_snapshot(body, now),
                Msg::Eof => learner.disconnected(now),
            },
            _ => return,
        }
        self.drain(node);
    }

    // ---- outputs ----

    fn pop_output(&mut self, i: usize) -> Option<Out> {
        match &mut self.nodes[i].role {
            Role::Leading(l) => l.poll_output().map(Out::Leader),
            Role::Learning { learner, .. } => learner.poll_output().map(Out::Learner),
            _ => None,
        }
    }

    fn drain(&mut self, i: usize) {
        while let Some(out) = self.pop_output(i) {
            match out {
                Out::Leader(o) => self.leader_output(i, o),
                Out::Learner(o) => self.learner_output(i, o),
            }
        }
    }

    fn leader_output(&mut self, i: usize, out: LeaderOutput) {
        match out {
            LeaderOutput::Send { link, packet } => self.send(link, LEADER_END, Msg::Packet(packet)),
            LeaderOutput::SendSnapshot { link, zxid } => {
                let at = self.nodes[i].state.last().map_or(0, |e| e.header.zxid);
                if at != zxid {
                    self.fail(&format!("SendSnapshot at {zxid:#x} but the applied state is at {at:#x}"));
                }
                self.stats.snaps += 1;
                let body = encode_state(&self.nodes[i].state);
                self.send(link, LEADER_END, Msg::Snapshot(body));
            }
            LeaderOutput::Close { link } => self.close_end(link, LEADER_END),
            LeaderOutput::PersistAcceptedEpoch(e) => self.persist_accepted(i, e),
            LeaderOutput::PersistCurrentEpoch(e) => self.persist_current(i, e),
            LeaderOutput::Established { epoch } => self.established(i, epoch),
            LeaderOutput::Commit(zxid) => {
                let node = &self.nodes[i];
                let Some(entry) = node.disk.txns.iter().rev().find(|e| e.header.zxid == zxid).cloned() else {
                    self.fail(&format!("Commit({zxid:#x}) of a txn not in the leader's log"))
                };
                self.apply(i, entry.clone());
                self.stats.commits += 1;
                // Leaders of later epochs may have established before this commit event (their quorum
                // acked before the committing quorum moved on): they must hold it all the same.
                let later: Vec<i64> = self.established.range(epoch_of(zxid) + 1..).map(|(e, _)| *e).collect();
                for epoch in later {
                    self.check_in_leader(epoch, &entry);
                }
                self.acked.insert(zxid, entry);
            }
            LeaderOutput::Forwarded { op_code, .. } => {
                if op_code != OpCode::SetData.code() {
                    self.fail("a forwarded sync reached the core");
                }
                self.propose_on(i);
            }
            LeaderOutput::TouchSessions(_) => {}
            LeaderOutput::Revalidate { link, session_id, .. } => {
                let valid = self.rng.random_bool(0.5);
                if let Role::Leading(l) = &mut self.nodes[i].role {
                    l.revalidated(link, session_id, valid);
                }
            }
            LeaderOutput::Shutdown { reason } => {
                self.log(|| format!("node {} stops leading: {reason}", i + 1));
                self.end_term(i);
            }
        }
    }

    fn learner_output(&mut self, i: usize, out: LearnerOutput) {
        let link = match &self.nodes[i].role {
            Role::Learning { link, .. } => *link,
            _ => 0,
        };
        match out {
            LearnerOutput::Send(packet) => self.send(link, LEARNER_END, Msg::Packet(packet)),
            LearnerOutput::PersistAcceptedEpoch(e) => self.persist_accepted(i, e),
            LearnerOutput::PersistCurrentEpoch(e) => self.persist_current(i, e),
            LearnerOutput::Truncate(zxid) => {
                self.stats.truncs += 1;
                let disk = &mut self.nodes[i].disk;
                let keep = if zxid == 0 {
                    0
                } else {
                    match disk.txns.iter().position(|e| e.header.zxid == zxid) {
                        Some(at) => at + 1,
                        None => self.fail(&format!("TRUNC to {zxid:#x}, not in node {}'s log", i + 1)),
                    }
                };
                disk.txns.truncate(keep);
                disk.durable = disk.durable.min(keep);
                self.nodes[i].state = self.nodes[i].disk.txns.clone();
                self.nodes[i].verified = 0;
            }
            LearnerOutput::InstallSnapshot { zxid, body } => {
                let txns = decode_state(body);
                if txns.last().map_or(0, |e| e.header.zxid) != zxid {
                    self.fail(&format!("snapshot body does not end at {zxid:#x}"));
                }
                let node = &mut self.nodes[i];
                node.disk.durable = txns.len();
                node.disk.txns = txns.clone();
                node.state = txns;
                node.verified = 0;
            }
            LearnerOutput::Log(entry) => self.append(i, entry),
            LearnerOutput::Apply(entry) => {
                if !self.nodes[i].disk.txns.iter().rev().any(|e| *e == entry) {
                    self.fail(&format!("Apply({:#x}) of a txn never logged", entry.header.zxid));
                }
                self.apply(i, entry);
            }
            LearnerOutput::UpToDate => {
                self.nodes[i].serving = true;
                self.nodes[i].verified = 0;
            }
            LearnerOutput::SyncDone => {
                self.stats.syncs_done += 1;
                let node = &mut self.nodes[i];
                node.syncs_done += 1;
                if node.syncs_done > node.syncs_asked {
                    self.fail("more SyncDone than syncs forwarded");
                }
            }
            LearnerOutput::Revalidated { .. } => {}
            LearnerOutput::Shutdown { reason } => {
                self.log(|| format!("node {} stops learning: {reason}", i + 1));
                self.end_term(i);
            }
        }
    }

    // ---- disk and state ----

    fn append(&mut self, i: usize, entry: TxnEntry) {
        let disk = &mut self.nodes[i].disk;
        if entry.header.zxid <= disk.last_zxid() {
            let last = disk.last_zxid();
            self.fail(&format!("log append {:#x} after {last:#x}", entry.header.zxid));
        }
        disk.txns.push(entry);
        if self.nodes[i].flush_due.is_none() {
            // fsync latency: usually short, sometimes a slow disk, so crashes often catch a tail.
            let latency = if self.rng.random_bool(0.1) {
                self.rng.random_range(100 * MS..=400 * MS)
            } else {
                self.rng.random_range(MS..=40 * MS)
            };
            self.nodes[i].flush_due = Some(self.now + latency);
        }
    }

    fn apply(&mut self, i: usize, entry: TxnEntry) {
        let last = self.nodes[i].state.last().map_or(0, |e| e.header.zxid);
        if entry.header.zxid <= last {
            self.fail(&format!("node {} applies {:#x} after {last:#x}", i + 1, entry.header.zxid));
        }
        self.nodes[i].state.push(entry);
    }

    fn end_term(&mut self, i: usize) {
        let ids: Vec<(u64, usize)> = self
            .links
            .iter()
            .flat_map(|(id, l)| {
                [LEADER_END, LEARNER_END].into_iter().filter(|e| l.node(*e) == i && l.ends[*e]).map(|e| (*id, e))
            })
            .collect();
        for (id, end) in ids {
            self.close_end(id, end);
        }
        let node = &mut self.nodes[i];
        node.disk.durable = node.disk.txns.len();
        node.flush_due = None;
        node.serving = false;
        node.role = Role::Looking { since: self.now };
    }

    fn run_timers(&mut self) {
        let now = self.instant();
        let due: Vec<usize> = self.planned_crashes.iter().filter(|(at, _)| *at <= self.now).map(|(_, i)| *i).collect();
        self.planned_crashes.retain(|(at, _)| *at > self.now);
        for i in due {
            if !matches!(self.nodes[i].role, Role::Down) {
                self.crash(i);
            }
        }
        for i in 0..self.nodes.len() {
            if self.nodes[i].restart_at.is_some_and(|at| at <= self.now) {
                self.nodes[i].restart_at = None;
                self.log(|| format!("node {} restarts", i + 1));
                let node = &mut self.nodes[i];
                node.role = Role::Looking { since: self.now };
                node.state = node.disk.txns.clone();
            }
            if self.nodes[i].flush_due.is_some_and(|at| at <= self.now) {
                let node = &mut self.nodes[i];
                node.flush_due = None;
                node.disk.durable = node.disk.txns.len();
                let zxid = node.disk.last_zxid();
                match &mut node.role {
                    Role::Leading(l) => l.logged(zxid, now),
                    Role::Learning { learner, .. } => learner.logged(zxid, now),
                    _ => {}
                }
                self.drain(i);
            }
            let due = match &mut self.nodes[i].role {
                Role::Leading(l) => l.poll_timeout().is_some_and(|at| at <= now).then(|| l.handle_timeout(now)),
                Role::Learning { learner, .. } => {
                    learner.poll_timeout().is_some_and(|at| at <= now).then(|| learner.handle_timeout(now))
                }
                _ => None,
            };
            if due.is_some() {
                self.drain(i);
            }
        }
    }
}

fn role_name(role: &Role) -> String {
    match role {
        Role::Down => "down".into(),
        Role::Looking { .. } => "looking".into(),
        Role::Leading(l) => format!("leading {:?} {}", l.epoch(), l.phase().name()),
        Role::Learning { learner, .. } => format!("learning from {} {}", learner.leader_id(), learner.phase().name()),
    }
}

fn msg_name(msg: &Msg) -> String {
    match msg {
        Msg::Connect => "connect".into(),
        Msg::Eof => "EOF".into(),
        Msg::Snapshot(b) => format!("snapshot ({} bytes)", b.len()),
        Msg::Packet(p) => format!("{} {:#x}", p.kind().map_or("?".to_string(), |k| format!("{k:?}")), p.zxid),
    }
}

/// The simulated snapshot: the applied txns, each as a length-prefixed `TxnEntry`.
fn encode_state(state: &[TxnEntry]) -> Bytes {
    let mut buf = BytesMut::new();
    for entry in state {
        let bytes = entry.to_bytes();
        buf.put_u32(bytes.len() as u32);
        buf.put_slice(&bytes);
    }
    buf.freeze()
}

fn decode_state(mut body: Bytes) -> Vec<TxnEntry> {
    let mut txns = Vec::new();
    while body.has_remaining() {
        let len = body.get_u32() as usize;
        txns.push(TxnEntry::from_bytes(body.split_to(len)).expect("snapshot entry"));
    }
    txns
}
