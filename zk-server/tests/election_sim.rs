//! Deterministic simulation of fast leader election: 3, 5 or 7 voters (plus observers) running the
//! sans-IO `FastLeaderElection` over a seeded network and clock.
//!
//! The network behaves like the TCP connections of `QuorumCnxManager`: per-connection FIFO, random
//! delays (so messages on different connections reorder), no duplicates; a connection broken by a
//! partition or a crash loses what was in flight. Faults during the first phase: partitions, heals,
//! crashes and restarts (a restarted server has a new election object and its persisted epoch/zxid,
//! which moved on whenever it took part in an established leadership).
//!
//! A stand-in for Zab runs on top, as `QuorumPeer` would: a follower/observer whose leader is not
//! reachable and LEADING, or a leader without a quorum of followers, goes back to LOOKING after an
//! init limit; a leader with a quorum "establishes" a new epoch (max epoch + 1) with a few txns, and
//! its followers take the leader's history.
//!
//! Invariants: observers (and voters of weight 0) never lead; a server elected to lead has an
//! (epoch, zxid, sid) at least that of every supporter when it voted in that round; a leader's
//! supporters form a quorum; after the faults, with a connected quorum, every live server (observers
//! too) decides on one leader, which leads a quorum, within a bounded simulated time; without faults
//! that takes at most 5 simulated seconds; a seed replays identically.
//!
//! `ELECTION_SIM_SEEDS=<n>` runs n seeds per ensemble size (default 400; the fault-free and weighted
//! tests take the first 200 and 150 of them), `ELECTION_SIM_SEED=<s>` one seed (all tests). A failure
//! names its seed and the last events.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::time::{Duration, Instant};

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use zk_proto::Notification;
use zk_server::config::{Properties, QuorumConfig};
use zk_server::election::{DecisionPath, ElectionConfig, FastLeaderElection, QuorumVerifier, ServerState};

/// How long a learner waits for its leader (or a leader for its quorum) before electing again.
const INIT_LIMIT_MS: u64 = 2_000;
/// The faulty phase.
const FAULT_PHASE_MS: u64 = 20_000;
/// After the last fault, every live server must settle on one leader within this.
const LIVENESS_BOUND_MS: u64 = 200_000;
/// The longest network delay.
const MAX_DELAY_MS: u64 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Basis {
    epoch: i64,
    zxid: i64,
}

#[derive(Debug)]
struct Server {
    id: i64,
    voter: bool,
    alive: bool,
    incarnation: u64,
    fle: FastLeaderElection,
    basis: Basis,
    restart_at: Option<u64>,
    /// Zab stand-in: since when the current leadership has been unhealthy.
    unhealthy_since: Option<u64>,
    /// Leader: whether it established its epoch. Learner: whether it synced with its leader.
    synced: bool,
    /// The last decision checked.
    checked_decision: Option<(i64, u64)>,
    /// Counts this server's elections; a learner follows one leadership (the leader's count when it
    /// synced), as a Zab connection does not survive the leader going back to LOOKING.
    leadership: u64,
    following: Option<u64>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: u64,
    seq: u64,
    from: usize,
    to: usize,
    link_gen: u64,
}

struct Sim {
    seed: u64,
    rng: ChaCha8Rng,
    base: Instant,
    now: u64,
    servers: Vec<Server>,
    config_text: String,
    verifier: QuorumVerifier,
    heap: BinaryHeap<Reverse<InFlight>>,
    payloads: BTreeMap<u64, Notification>,
    seq: u64,
    last_delivery: Vec<Vec<u64>>,
    link_gen: Vec<Vec<u64>>,
    group: Vec<u8>,
    /// Per server and round: the lowest basis it had while LOOKING in that round.
    round_basis: Vec<BTreeMap<i64, Basis>>,
    next_fault: u64,
    log: Vec<String>,
    /// When every live server first agreed on one established leader.
    first_settled: Option<u64>,
    /// How to run this seed alone.
    replay: String,
}

impl Sim {
    fn new(seed: u64, voters: usize, observers: usize, faults: bool) -> Sim {
        Sim::with_groups(seed, voters, observers, faults, 0)
    }

    /// With `groups > 0`, a hierarchical quorum: voters dealt round-robin into that many groups, each
    /// weighing 1 to 3, and one voter (when there are several per group) weighing 0.
    fn with_groups(seed: u64, voters: usize, observers: usize, faults: bool, groups: usize) -> Sim {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut text = String::new();
        for id in 1..=voters + observers {
            let kind = if id > voters { ":observer" } else { "" };
            text.push_str(&format!("server.{id}=127.0.0.1:{}:{}{kind}\n", 2000 + id, 3000 + id));
        }
        for g in 0..groups {
            let members: Vec<String> = (1..=voters).filter(|id| id % groups == g).map(|id| id.to_string()).collect();
            text.push_str(&format!("group.{}={}\n", g + 1, members.join(":")));
        }
        if groups > 0 {
            let zero = if voters >= 2 * groups { rng.random_range(1..=voters) } else { 0 };
            for id in 1..=voters {
                let w = if id == zero { 0 } else { rng.random_range(1..=3) };
                text.push_str(&format!("weight.{id}={w}\n"));
            }
        }
        let config = QuorumConfig::from_properties(&Properties::parse(&text).unwrap(), false, false).unwrap();
        let verifier = QuorumVerifier::from_config(&config);
        let config_text = config.config_string();
        let n = voters + observers;
        let servers = (0..n)
            .map(|i| {
                let epoch = rng.random_range(0..3i64);
                let basis = Basis { epoch, zxid: (epoch << 32) | rng.random_range(0..4i64) };
                let id = i as i64 + 1;
                Server {
                    id,
                    voter: i < voters,
                    alive: false,
                    incarnation: 0,
                    fle: FastLeaderElection::new(ElectionConfig::new(id, verifier.clone(), config_text.clone())),
                    basis,
                    restart_at: Some(rng.random_range(0..1000)),
                    unhealthy_since: None,
                    synced: false,
                    checked_decision: None,
                    leadership: 0,
                    following: None,
                }
            })
            .collect();
        Sim {
            seed,
            rng,
            base: Instant::now(),
            now: 0,
            servers,
            config_text,
            verifier,
            heap: BinaryHeap::new(),
            payloads: BTreeMap::new(),
            seq: 0,
            last_delivery: vec![vec![0; n]; n],
            link_gen: vec![vec![0; n]; n],
            group: vec![0; n],
            round_basis: vec![BTreeMap::new(); n],
            next_fault: if faults { 1000 } else { u64::MAX },
            log: Vec::new(),
            first_settled: None,
            replay: String::new(),
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.base + Duration::from_millis(ms)
    }

    fn ms(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.base).as_millis() as u64
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        self.servers[a].alive && self.servers[b].alive && self.group[a] == self.group[b]
    }

    /// Breaks every connection whose ends can no longer talk.
    fn break_links(&mut self) {
        let n = self.servers.len();
        for a in 0..n {
            for b in 0..n {
                if !self.connected(a, b) {
                    self.link_gen[a][b] += 1;
                }
            }
        }
    }

    fn fail(&self, what: String) -> ! {
        let tail: Vec<&String> = self.log.iter().rev().take(30).collect();
        panic!(
            "election_sim seed {} (t={} ms): {what}\nreplay: {}\nrecent events (newest first): {tail:#?}",
            self.seed, self.now, self.replay
        );
    }

    fn record_round(&mut self, i: usize) {
        let s = &self.servers[i];
        if s.alive && s.fle.state() == ServerState::Looking {
            let round = s.fle.logical_clock();
            let entry = self.round_basis[i].entry(round).or_insert(s.basis);
            *entry = (*entry).min(s.basis);
        }
    }

    fn start_election(&mut self, i: usize) {
        let now = self.at(self.now);
        let s = &mut self.servers[i];
        s.unhealthy_since = None;
        s.synced = false;
        s.checked_decision = None;
        s.leadership += 1;
        s.following = None;
        s.fle.start(now, s.basis.zxid, s.basis.epoch);
        self.record_round(i);
    }

    fn restart(&mut self, i: usize) {
        let fle = FastLeaderElection::new(ElectionConfig::new(
            self.servers[i].id,
            self.verifier.clone(),
            self.config_text.clone(),
        ));
        let s = &mut self.servers[i];
        s.alive = true;
        s.incarnation += 1;
        s.restart_at = None;
        s.fle = fle;
        self.log.push(format!("{}: restart {} with {:?}", self.now, s.id, s.basis));
        self.start_election(i);
    }

    fn crash(&mut self, i: usize, down_for: Option<u64>) {
        let s = &mut self.servers[i];
        s.alive = false;
        s.restart_at = down_for.map(|d| self.now + d);
        self.log.push(format!("{}: crash {}", self.now, s.id));
        self.break_links();
    }

    fn flush(&mut self, i: usize) {
        let out = self.servers[i].fle.poll_messages();
        for (to, n) in out {
            let Some(j) = self.servers.iter().position(|s| s.id == to) else { continue };
            if !self.connected(i, j) {
                continue;
            }
            let delay = if self.rng.random_bool(0.05) {
                self.rng.random_range(100..=MAX_DELAY_MS)
            } else {
                self.rng.random_range(1..=50)
            };
            let at = (self.now + delay).max(self.last_delivery[i][j]);
            self.last_delivery[i][j] = at;
            self.seq += 1;
            self.payloads.insert(self.seq, n);
            self.heap.push(Reverse(InFlight { at, seq: self.seq, from: i, to: j, link_gen: self.link_gen[i][j] }));
        }
    }

    fn deliver(&mut self, m: InFlight) {
        let Some(n) = self.payloads.remove(&m.seq) else { return };
        if m.link_gen != self.link_gen[m.from][m.to] || !self.connected(m.from, m.to) {
            return;
        }
        let from = self.servers[m.from].id;
        let now = self.at(self.now);
        self.servers[m.to].fle.handle_notification(from, n, now);
        self.record_round(m.to);
    }

    /// A random fault during the faulty phase.
    fn inject_fault(&mut self) {
        let n = self.servers.len();
        match self.rng.random_range(0..10) {
            0..=3 => {
                let i = self.rng.random_range(0..n);
                if self.servers[i].alive {
                    let down = self.rng.random_range(100..5000);
                    self.crash(i, Some(down));
                }
            }
            4..=6 => {
                for g in self.group.iter_mut() {
                    *g = self.rng.random_range(0..2);
                }
                self.log.push(format!("{}: partition {:?}", self.now, self.group));
                self.break_links();
            }
            _ => {
                self.group.iter_mut().for_each(|g| *g = 0);
                self.log.push(format!("{}: heal", self.now));
            }
        }
        self.next_fault = self.now + self.rng.random_range(200..3000);
    }

    /// The Zab stand-in for server `i` (see the module comment).
    fn zab(&mut self, i: usize) {
        let Some(outcome) = self.servers[i].fle.outcome().cloned() else { return };
        if !self.servers[i].alive {
            return;
        }
        let leader = outcome.leader;
        let healthy = if outcome.state == ServerState::Leading {
            let mut quorum = BTreeSet::from([self.servers[i].id]);
            for (j, s) in self.servers.iter().enumerate() {
                let follows = s.fle.outcome().is_some_and(|o| o.leader == leader && o.state == ServerState::Following);
                if j != i && follows && self.connected(i, j) {
                    quorum.insert(s.id);
                }
            }
            let ok = self.verifier.contains_quorum(&quorum);
            if ok && !self.servers[i].synced {
                self.establish(i, &quorum);
            }
            ok
        } else {
            let l = (leader - 1) as usize;
            let ok = l < self.servers.len()
                && self.connected(i, l)
                && self.servers[l].fle.outcome().is_some_and(|o| o.state == ServerState::Leading)
                && self.servers[l].synced
                && self.servers[i].following.is_none_or(|f| f == self.servers[l].leadership);
            if ok && !self.servers[i].synced {
                let basis = self.servers[l].basis;
                self.servers[i].basis = basis;
                self.servers[i].synced = true;
                self.servers[i].following = Some(self.servers[l].leadership);
                self.servers[i].fle.update_election_vote(basis.epoch);
            }
            ok
        };
        if healthy {
            self.servers[i].unhealthy_since = None;
        } else {
            let since = *self.servers[i].unhealthy_since.get_or_insert(self.now);
            if self.now >= since + INIT_LIMIT_MS {
                self.log.push(format!("{}: {} gives up on leader {leader}", self.now, self.servers[i].id));
                self.start_election(i);
            }
        }
    }

    /// A leader with a quorum: new epoch = max of the quorum's epochs + 1, a few txns.
    fn establish(&mut self, i: usize, quorum: &BTreeSet<i64>) {
        let epoch = quorum.iter().map(|id| self.servers[(*id - 1) as usize].basis.epoch).max().unwrap_or(0) + 1;
        let txns = self.rng.random_range(0..5i64);
        let basis = Basis { epoch, zxid: (epoch << 32) | txns };
        self.log.push(format!("{}: {} establishes {basis:?} with {quorum:?}", self.now, self.servers[i].id));
        self.servers[i].basis = basis;
        self.servers[i].synced = true;
        self.servers[i].fle.update_election_vote(epoch);
        let leadership = self.servers[i].leadership;
        for id in quorum {
            let j = (*id - 1) as usize;
            if j != i {
                let lag = self.rng.random_range(0..=txns);
                self.servers[j].basis = Basis { epoch, zxid: (epoch << 32) | lag };
                self.servers[j].synced = true;
                self.servers[j].following = Some(leadership);
                self.servers[j].fle.update_election_vote(epoch);
            }
        }
    }

    /// Safety checks on fresh decisions.
    fn check_decisions(&mut self) {
        for i in 0..self.servers.len() {
            let s = &self.servers[i];
            let Some(o) = s.fle.outcome() else { continue };
            let key = (o.election_epoch, self.ms(o.decided_at));
            if s.checked_decision == Some(key) {
                continue;
            }
            if o.state == ServerState::Leading {
                if !s.voter {
                    self.fail(format!("observer {} decided to lead", s.id));
                }
                if self.verifier.weight(s.id) == 0 {
                    self.fail(format!("{} of weight 0 decided to lead", s.id));
                }
                if !self.verifier.contains_quorum(&o.supporters) {
                    self.fail(format!("{} leads without a quorum: {:?}", s.id, o.supporters));
                }
                let mine = (o.epoch, o.zxid, o.leader);
                // Only an election proper compares data; joining an established leader does not.
                let supporters = if o.path == DecisionPath::Elected { o.supporters.clone() } else { BTreeSet::new() };
                for sup in &supporters {
                    let j = (*sup - 1) as usize;
                    if let Some(b) = self.round_basis[j].get(&o.election_epoch) {
                        if (b.epoch, b.zxid, *sup) > mine {
                            self.fail(format!(
                                "leader {} {mine:?} elected by {sup} whose basis in round {} was {b:?}",
                                s.id, o.election_epoch
                            ));
                        }
                    }
                }
            }
            if o.state == ServerState::Observing && s.voter {
                self.fail(format!("voter {} decided to observe", s.id));
            }
            let line =
                format!("{}: {} decides {:?} {} in round {}", self.now, s.id, o.state, o.leader, o.election_epoch);
            self.servers[i].checked_decision = Some(key);
            self.log.push(line);
        }
    }

    /// Every live server decided on one leader that leads with a quorum, all synced.
    fn settled(&self) -> Option<i64> {
        let live: Vec<&Server> = self.servers.iter().filter(|s| s.alive).collect();
        let leader = live.first()?.fle.outcome()?.leader;
        let l = self.servers.get(usize::try_from(leader - 1).ok()?)?;
        let leading = l.alive && l.fle.outcome().is_some_and(|o| o.state == ServerState::Leading);
        let all = live
            .iter()
            .all(|s| s.synced && s.unhealthy_since.is_none() && s.fle.outcome().is_some_and(|o| o.leader == leader));
        (leading && all && self.servers.iter().all(|s| s.restart_at.is_none())).then_some(leader)
    }

    fn next_event(&self, fault_phase: bool) -> Option<u64> {
        let mut next = self.heap.peek().map(|Reverse(m)| m.at);
        let mut consider = |t: u64| next = Some(next.map_or(t, |n: u64| n.min(t)));
        for s in &self.servers {
            if s.alive {
                if let Some(t) = s.fle.poll_timeout() {
                    consider(self.ms(t));
                }
                if let Some(since) = s.unhealthy_since {
                    consider(since + INIT_LIMIT_MS);
                }
            } else if let Some(t) = s.restart_at {
                consider(t);
            }
        }
        if fault_phase {
            consider(self.next_fault.min(FAULT_PHASE_MS));
        }
        next
    }

    fn step(&mut self, t: u64, fault_phase: bool) {
        self.now = self.now.max(t);
        while self.heap.peek().is_some_and(|Reverse(m)| m.at <= self.now) {
            let Some(Reverse(m)) = self.heap.pop() else { break };
            self.deliver(m);
        }
        for i in 0..self.servers.len() {
            if self.servers[i].alive {
                let now = self.at(self.now);
                if self.servers[i].fle.poll_timeout().is_some_and(|d| d <= now) {
                    self.servers[i].fle.handle_timeout(now);
                    self.record_round(i);
                }
            } else if self.servers[i].restart_at.is_some_and(|r| r <= self.now) {
                self.restart(i);
            }
        }
        if fault_phase && self.now >= self.next_fault && self.now < FAULT_PHASE_MS {
            self.inject_fault();
        }
        self.check_decisions();
        for i in 0..self.servers.len() {
            self.zab(i);
        }
        if self.first_settled.is_none() && self.settled().is_some() {
            self.first_settled = Some(self.now);
        }
        for i in 0..self.servers.len() {
            if self.servers[i].alive {
                self.flush(i);
            } else {
                self.servers[i].fle.poll_messages();
            }
        }
    }

    fn run(&mut self) {
        while let Some(t) = self.next_event(true) {
            if t >= FAULT_PHASE_MS {
                break;
            }
            if self.next_fault == u64::MAX && self.first_settled.is_some() {
                // Fault-free run: settled is all there is to see.
                return;
            }
            self.step(t, true);
        }
        // End of faults: heal, bring everyone back except possibly a minority of voters that stays down.
        self.now = self.now.max(FAULT_PHASE_MS);
        self.group.iter_mut().for_each(|g| *g = 0);
        let voters = self.servers.iter().filter(|s| s.voter).count();
        let mut stay_down = self.rng.random_range(0..=(voters - 1) / 2);
        let mut down: BTreeSet<usize> = BTreeSet::new();
        for i in 0..self.servers.len() {
            if self.servers[i].voter && stay_down > 0 && self.rng.random_bool(0.5) {
                stay_down -= 1;
                down.insert(i);
            }
        }
        // The servers left up must hold a quorum (not a given with weighted groups).
        let up: BTreeSet<i64> =
            self.servers.iter().enumerate().filter(|(i, _)| !down.contains(i)).map(|(_, s)| s.id).collect();
        if !self.verifier.contains_quorum(&up) {
            down.clear();
        }
        for i in 0..self.servers.len() {
            if down.contains(&i) {
                if self.servers[i].alive {
                    self.crash(i, None);
                } else {
                    self.servers[i].restart_at = None;
                }
            } else if !self.servers[i].alive {
                self.servers[i].restart_at = Some(self.now);
            }
        }
        self.log.push(format!("{}: faults end", self.now));
        self.step(self.now, false);
        let deadline = FAULT_PHASE_MS + LIVENESS_BOUND_MS;
        loop {
            if let Some(leader) = self.settled() {
                let l = &self.servers[(leader - 1) as usize];
                if !l.voter || !l.alive {
                    self.fail(format!("settled on {leader}, which is not a live voter"));
                }
                return;
            }
            match self.next_event(false) {
                Some(t) if t <= deadline => self.step(t, false),
                _ => {
                    let states: Vec<String> = self
                        .servers
                        .iter()
                        .map(|s| {
                            format!(
                                "{} alive={} {:?} {:?}",
                                s.id,
                                s.alive,
                                s.fle.state(),
                                s.fle.outcome().map(|o| o.leader)
                            )
                        })
                        .collect();
                    self.fail(format!("no single leader {LIVENESS_BOUND_MS} ms after the faults: {states:?}"));
                }
            }
        }
    }
}

fn seeds() -> Vec<u64> {
    if let Ok(one) = std::env::var("ELECTION_SIM_SEED") {
        return vec![one.parse().expect("ELECTION_SIM_SEED")];
    }
    let n: u64 = std::env::var("ELECTION_SIM_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    (0..n).collect()
}

fn replay(seed: u64, test: &str) -> String {
    format!("ELECTION_SIM_SEED={seed} cargo test -p zk-server --test election_sim {test}")
}

fn run_size(voters: usize, test: &str) {
    for seed in seeds() {
        let observers = (seed % 3) as usize;
        let mut sim = Sim::new(seed * 1000 + voters as u64, voters, observers, true);
        sim.replay = replay(seed, test);
        sim.run();
    }
}

#[test]
fn three_voters() {
    run_size(3, "three_voters");
}

#[test]
fn five_voters() {
    run_size(5, "five_voters");
}

#[test]
fn seven_voters() {
    run_size(7, "seven_voters");
}

/// Without faults (servers starting within the first second), everyone settles on one leader within
/// a few simulated seconds.
#[test]
fn fault_free_elections_settle_quickly() {
    for seed in seeds().into_iter().take(200) {
        for voters in [3, 5, 7] {
            let mut sim = Sim::new(seed * 1000 + 500 + voters as u64, voters, (seed % 3) as usize, false);
            sim.replay = replay(seed, "fault_free_elections_settle_quickly");
            sim.run();
            match sim.first_settled {
                Some(t) if t <= 5_000 => {}
                other => sim.fail(format!("fault-free election settled at {other:?} ms")),
            }
        }
    }
}

/// Hierarchical quorums: nine voters in three weighted groups (one voter of weight 0, which can
/// never lead), with the same faults.
#[test]
fn nine_voters_in_weighted_groups() {
    for seed in seeds().into_iter().take(150) {
        let mut sim = Sim::with_groups(seed * 1000 + 9, 9, (seed % 2) as usize, true, 3);
        sim.replay = replay(seed, "nine_voters_in_weighted_groups");
        sim.run();
    }
}

/// The same seed gives the same run.
#[test]
fn runs_are_deterministic() {
    for seed in [1, 2, 3] {
        let mut a = Sim::new(seed, 5, 2, true);
        a.run();
        let mut b = Sim::new(seed, 5, 2, true);
        b.run();
        assert_eq!((a.log, a.now), (b.log, b.now), "seed {seed}");
    }
}
