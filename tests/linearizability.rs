//! Cross-crate: client histories against an in-process 3-server ensemble under faults must be what
//! ZooKeeper promises. Five clients (each its own session; some pinned to one server, some failing
//! over across the connect string) run `getData`, `sync` + `getData`, `setData` (plain and versioned)
//! and `create` on three znodes while a seeded nemesis kills and restarts the leader and partitions a
//! minority. Then:
//!
//! - (a) writes and `sync`-then-read pairs must be linearizable (checked with
//!   `zk_testkit::linearizability`); plain reads are not, since a follower may serve them stale;
//! - (b) each session sees the versions of each znode never go backwards (ZooKeeper's per-client
//!   sequential consistency; a client never reconnects to a server behind what it has seen).
//!
//! A control test feeds the checker the history of a deliberately stale in-memory store and asserts
//! that it is rejected, so the ensemble test cannot pass because the checker accepts everything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zk_rs::client::{Client, CreateOptions, Error};
use zk_rs::server::testing::Ensemble;
use zk_testkit::linearizability::{check_registers, CheckError, KeyedOp, Operation, RegisterOp, RegisterOutput};

type Op = Operation<KeyedOp, RegisterOutput>;

const KEYS: [&str; 3] = ["/lin-a", "/lin-b", "/lin-c"];
/// The default seed; `ZK_LIN_SEED` (decimal or 0x-hex) overrides it to replay or explore.
const SEED: u64 = 0x5eed_2026;
const RUN_FOR: Duration = Duration::from_secs(6);
const WAIT: Duration = Duration::from_secs(30);

/// SplitMix64: a small seeded generator, so a failing run can be replayed from its seed (the
/// interleaving with the servers still varies).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed() -> u64 {
    match std::env::var("ZK_LIN_SEED") {
        Ok(text) => match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).expect("ZK_LIN_SEED in hex"),
            None => text.parse().expect("ZK_LIN_SEED"),
        },
        Err(_) => SEED,
    }
}

fn nanos(start: Instant) -> u64 {
    start.elapsed().as_nanos() as u64
}

/// What one client recorded.
#[derive(Default)]
struct ClientLog {
    /// Writes and `sync`-then-read pairs, for the linearizability check.
    history: Vec<Op>,
    /// (session generation, key, version seen or `None` for NONODE), in the order the client saw them.
    seen: Vec<(u32, usize, Option<i32>)>,
    /// Operations whose outcome is unknown.
    unknown: usize,
    /// Operations answered (any kind, plain reads included).
    answered: usize,
    /// Sessions that ended (expired or closed under the client), with when and why.
    expired: Vec<String>,
}

enum Outcome {
    Answered(RegisterOutput),
    Unknown,
    /// Definitely not applied and nothing learned (e.g. the session was not connected).
    Nothing,
}

/// Maps a write's result: a lost connection, a timeout or an expired session leave it unknown.
fn write_outcome(result: Result<Option<i32>, Error>) -> Outcome {
    match result {
        Ok(Some(version)) => Outcome::Answered(RegisterOutput::Written(version)),
        Ok(None) => Outcome::Answered(RegisterOutput::Created),
        Err(Error::BadVersion) => Outcome::Answered(RegisterOutput::BadVersion),
        Err(Error::NoNode) => Outcome::Answered(RegisterOutput::Missing),
        Err(Error::NodeExists) => Outcome::Answered(RegisterOutput::NodeExists),
        Err(_) => Outcome::Unknown,
    }
}

/// The error, when it ends the session (expired, or the client closed under us).
fn ends_session<T>(result: &Result<T, Error>) -> Option<Error> {
    match result {
        Err(e @ (Error::SessionExpired | Error::Closed)) => Some(e.clone()),
        _ => None,
    }
}

async fn connect(target: &str) -> Option<Client> {
    let connecting = Client::builder()
        .with_session_timeout(Duration::from_secs(4))
        .with_request_timeout(Duration::from_secs(2))
        // Reconnect promptly: the default backoff (up to 2 s) can outlast a pinned client's session.
        .with_backoff(Duration::from_millis(10), Duration::from_millis(200))
        .connect(target);
    tokio::time::timeout(Duration::from_secs(3), connecting).await.ok()?.ok()
}

/// One client: random operations on [`KEYS`] until `until`, reconnecting with a new session when
/// its session expires.
async fn run_client(index: usize, target: String, seed: u64, start: Instant, until: Instant) -> ClientLog {
    let mut rng = Rng(seed ^ (index as u64 + 1).wrapping_mul(0x1234_5678_9abc_def1));
    let mut log = ClientLog::default();
    let mut client: Option<Client> = None;
    let mut generation = 0u32;
    let mut last_version: HashMap<usize, i32> = HashMap::new();
    let mut counter = 0u64;
    while Instant::now() < until {
        let Some(c) = client.as_ref() else {
            client = connect(&target).await;
            if client.is_some() {
                generation += 1;
                last_version.clear();
            } else {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            continue;
        };
        let k = rng.below(KEYS.len());
        let key = KEYS[k];
        counter += 1;
        let value = format!("c{index}-{counter}").into_bytes();
        let kind = rng.below(10);
        let call = nanos(start);
        let (op, outcome, expired) = match kind {
            // A plain read: sequentially consistent only, so it goes to the per-session check alone.
            0..=1 => {
                let result = c.get_data(key).await;
                let expired = ends_session(&result);
                match result {
                    Ok((_, stat)) => log.seen.push((generation, k, Some(stat.version))),
                    Err(Error::NoNode) => log.seen.push((generation, k, None)),
                    Err(_) => {}
                }
                log.answered += 1;
                (None, Outcome::Nothing, expired)
            }
            // sync + getData: linearizable, with the call time taken before the sync.
            2..=4 => {
                let result = match c.sync(key).await {
                    Ok(()) => c.get_data(key).await,
                    Err(e) => Err(e),
                };
                let expired = ends_session(&result);
                let outcome = match result {
                    Ok((data, stat)) => Outcome::Answered(RegisterOutput::Value(data.to_vec(), stat.version)),
                    Err(Error::NoNode) => Outcome::Answered(RegisterOutput::Missing),
                    // A read that never returned constrains nothing.
                    Err(_) => Outcome::Nothing,
                };
                (Some(RegisterOp::Read), outcome, expired)
            }
            5..=6 => {
                let result = c.set_data(key, &value, None).await;
                let expired = ends_session(&result);
                (Some(RegisterOp::Write(value)), write_outcome(result.map(|s| Some(s.version))), expired)
            }
            7..=8 => {
                let expected_version = last_version.get(&k).copied().unwrap_or(0);
                let result = c.set_data(key, &value, Some(expected_version)).await;
                let expired = ends_session(&result);
                let op = RegisterOp::Cas { expected_version, value };
                (Some(op), write_outcome(result.map(|s| Some(s.version))), expired)
            }
            _ => {
                let result = c.create(key, &value, &CreateOptions::persistent()).await;
                let expired = ends_session(&result);
                (Some(RegisterOp::Create(value)), write_outcome(result.map(|_| None)), expired)
            }
        };
        let ret = nanos(start);
        if let Some(op) = op {
            let input = KeyedOp { key: key.to_owned(), op };
            match outcome {
                Outcome::Answered(output) => {
                    let version = match &output {
                        RegisterOutput::Value(_, v) | RegisterOutput::Written(v) => Some(Some(*v)),
                        RegisterOutput::Created => Some(Some(0)),
                        RegisterOutput::Missing => Some(None),
                        _ => None,
                    };
                    if let Some(version) = version {
                        log.seen.push((generation, k, version));
                        if let Some(v) = version {
                            last_version.insert(k, v);
                        }
                    }
                    log.answered += 1;
                    log.history.push(Operation::completed(index, input, call, ret, output));
                }
                Outcome::Unknown => {
                    log.unknown += 1;
                    log.history.push(Operation::unknown(index, input, call));
                }
                Outcome::Nothing => {}
            }
        }
        if let Some(error) = expired {
            let at = Duration::from_nanos(ret);
            log.expired.push(format!("client {index} session {generation} ended at {at:?}: {error}"));
            if let Some(c) = client.take() {
                let _ = tokio::time::timeout(Duration::from_secs(1), c.close()).await;
            }
        }
    }
    if let Some(c) = client {
        let _ = tokio::time::timeout(Duration::from_secs(1), c.close()).await;
    }
    log
}

/// Every (client, session) sees each key's version never go backwards (NONODE before any version).
fn check_monotonic(logs: &[ClientLog]) -> Result<(), String> {
    for (index, log) in logs.iter().enumerate() {
        let mut latest: HashMap<(u32, usize), Option<i32>> = HashMap::new();
        for (i, &(generation, key, version)) in log.seen.iter().enumerate() {
            let previous = latest.insert((generation, key), version);
            if let Some(previous) = previous {
                if version < previous {
                    return Err(format!(
                        "client {index} session {generation}: {} went from version {previous:?} back to \
                         {version:?} (observation {i})",
                        KEYS[key]
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Kills, restarts, partitions and heals from a seeded generator, one action every ~1 s, until `until`:
/// faults cycle through killing the leader, cutting the leader off and cutting off a random server
/// (a minority of 3), from a seeded starting point. Returns the faults injected.
async fn nemesis(ensemble: &mut Ensemble, rng: &mut Rng, until: Instant) -> Vec<String> {
    let mut faults = Vec::new();
    let first = rng.below(3);
    tokio::time::sleep(Duration::from_millis(300 + rng.below(400) as u64)).await;
    while Instant::now() + Duration::from_millis(500) < until {
        let ids = ensemble.ids();
        let leader = ensemble.leader();
        match (first + faults.len() / 2) % 3 {
            0 => {
                let victim = leader.unwrap_or_else(|| ids[rng.below(ids.len())]);
                ensemble.kill(victim).await;
                faults.push(format!("kill {victim} (leader {leader:?})"));
                tokio::time::sleep(Duration::from_millis(700 + rng.below(600) as u64)).await;
                ensemble.restart(victim).await.expect("restart");
                faults.push(format!("restart {victim}"));
            }
            choice => {
                let alone = match (choice, leader) {
                    (1, Some(leader)) => leader,
                    _ => ids[rng.below(ids.len())],
                };
                let rest = ensemble.ids_except(&[alone]);
                ensemble.partition(&[alone], &rest);
                faults.push(format!("partition {alone} from {rest:?} (leader {leader:?})"));
                tokio::time::sleep(Duration::from_millis(700 + rng.below(600) as u64)).await;
                ensemble.heal();
                faults.push("heal".to_owned());
            }
        }
        tokio::time::sleep(Duration::from_millis(700 + rng.below(600) as u64)).await;
    }
    faults
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_synced_reads_are_linearizable_under_faults() {
    let seed = seed();
    // Sessions of 4 s (the default cap is 20 ticks, 2 s) outlive a ~1 s fault plus the re-election.
    let mut ensemble = Ensemble::builder().config("maxSessionTimeout", "8000").start().await.unwrap();
    let start = Instant::now();
    let until = start + RUN_FOR;
    let ids = ensemble.ids();
    let targets: Vec<String> = vec![
        ensemble.client_addr(ids[0]).to_string(),
        ensemble.client_addr(ids[1]).to_string(),
        ensemble.client_addr(ids[2]).to_string(),
        ensemble.connect_string(),
        ensemble.connect_string(),
    ];
    let clients: Vec<_> = targets
        .into_iter()
        .enumerate()
        .map(|(index, target)| tokio::spawn(run_client(index, target, seed, start, until)))
        .collect();
    let mut rng = Rng(seed);
    let faults = nemesis(&mut ensemble, &mut rng, until).await;
    let mut logs = Vec::new();
    for client in clients {
        logs.push(client.await.unwrap());
    }
    ensemble.heal();
    ensemble.wait_for_quorum(WAIT).await.unwrap();
    ensemble.stop().await;

    let history: Vec<Op> = logs.iter().flat_map(|l| l.history.iter().cloned()).collect();
    let answered: usize = logs.iter().map(|l| l.answered).sum();
    let unknown: usize = logs.iter().map(|l| l.unknown).sum();
    let expired: Vec<&String> = logs.iter().flat_map(|l| l.expired.iter()).collect();
    let linearizable = history.iter().filter(|op| op.ret.is_some()).count();
    eprintln!(
        "seed {seed:#x}: {answered} operations answered ({linearizable} in the checked history), {unknown} of \
         unknown outcome; sessions ended: {expired:?}; {} faults: {faults:?}",
        faults.len() / 2
    );
    let checked = Instant::now();
    let verdict = check_registers(&history);
    eprintln!("checked {} operations in {:?}", history.len(), checked.elapsed());
    if let Err(err) = &verdict {
        panic!("seed {seed:#x}: history not linearizable:\n{err}");
    }
    if let Err(err) = check_monotonic(&logs) {
        panic!("seed {seed:#x}: {err}");
    }
    assert!(linearizable > 100, "too few operations completed to mean anything: {linearizable}");
    assert!(faults.len() >= 4, "too few faults injected: {faults:?}");
}

#[test]
fn the_session_check_catches_versions_going_backwards() {
    let log = |seen: Vec<(u32, usize, Option<i32>)>| ClientLog { seen, ..ClientLog::default() };
    check_monotonic(&[log(vec![(1, 0, None), (1, 0, Some(0)), (1, 1, Some(5)), (1, 0, Some(3)), (2, 0, None)])])
        .unwrap();
    assert!(check_monotonic(&[log(vec![(1, 0, Some(2)), (1, 1, Some(0)), (1, 0, Some(1))])]).is_err());
    assert!(check_monotonic(&[log(vec![]), log(vec![(1, 2, Some(0)), (1, 2, None)])]).is_err());
}

/// An in-memory store of versioned registers with ZooKeeper's answers; with `stale` set, reads are
/// served from a snapshot taken at the start (like a server that never applies commits).
struct Store {
    live: HashMap<String, (Vec<u8>, i32)>,
    snapshot: Option<HashMap<String, (Vec<u8>, i32)>>,
}

impl Store {
    fn apply(&mut self, op: &RegisterOp, key: &str) -> RegisterOutput {
        if *op == RegisterOp::Read {
            let reads = self.snapshot.as_ref().unwrap_or(&self.live);
            return match reads.get(key) {
                Some((data, version)) => RegisterOutput::Value(data.clone(), *version),
                None => RegisterOutput::Missing,
            };
        }
        match (op, self.live.get_mut(key)) {
            (RegisterOp::Read, _) => unreachable!("answered above"),
            (RegisterOp::Write(_) | RegisterOp::Cas { .. }, None) => RegisterOutput::Missing,
            (RegisterOp::Write(value), Some(node)) => {
                *node = (value.clone(), node.1 + 1);
                RegisterOutput::Written(node.1)
            }
            (RegisterOp::Cas { expected_version, value }, Some(node)) => {
                if node.1 != *expected_version {
                    return RegisterOutput::BadVersion;
                }
                *node = (value.clone(), node.1 + 1);
                RegisterOutput::Written(node.1)
            }
            (RegisterOp::Create(_), Some(_)) => RegisterOutput::NodeExists,
            (RegisterOp::Create(value), None) => {
                self.live.insert(key.to_owned(), (value.clone(), 0));
                RegisterOutput::Created
            }
        }
    }
}

/// Concurrent clients against a [`Store`], recorded like the ensemble clients.
async fn store_history(stale: bool) -> Vec<Op> {
    let store = Arc::new(Mutex::new(Store { live: HashMap::new(), snapshot: stale.then(HashMap::new) }));
    let start = Instant::now();
    let tasks: Vec<_> = (0..5)
        .map(|index| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut rng = Rng(SEED + index as u64);
                let mut history = Vec::new();
                for n in 0..100 {
                    let key = KEYS[rng.below(KEYS.len())];
                    let value = format!("c{index}-{n}").into_bytes();
                    let op = match rng.below(4) {
                        0 => RegisterOp::Read,
                        1 => RegisterOp::Write(value),
                        2 => RegisterOp::Cas { expected_version: rng.below(4) as i32, value },
                        _ => RegisterOp::Create(value),
                    };
                    let call = nanos(start);
                    tokio::task::yield_now().await;
                    let output = store.lock().unwrap().apply(&op, key);
                    tokio::task::yield_now().await;
                    let input = KeyedOp { key: key.to_owned(), op };
                    history.push(Operation::completed(index, input, call, nanos(start), output));
                }
                history
            })
        })
        .collect();
    let mut history = Vec::new();
    for task in tasks {
        history.extend(task.await.unwrap());
    }
    history
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checker_rejects_a_store_serving_stale_reads() {
    // The honest store passes ...
    check_registers(&store_history(false).await).unwrap();
    // ... the one reading from its initial snapshot does not.
    match check_registers(&store_history(true).await) {
        Err(CheckError::NotLinearizable(counterexample)) => eprintln!("{counterexample}"),
        other => panic!("a stale store was accepted: {other:?}"),
    }
}
