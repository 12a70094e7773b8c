//! Random scripts: seeded sequences of requests from three sessions over a small tree, so that the
//! two servers are compared on combinations no hand-written script spells out (versions that are
//! sometimes right, ACLs that later deny, watches left behind by a request that failed, multis whose
//! third op fails, sessions closing with ephemerals and watches in place, connections dropping and
//! coming back with setWatches, requests pipelined behind writes, ...).
//!
//! The tree is `/<root>` with children and grandchildren named `a`, `b`, `c` (40 paths), and nodes
//! under them named `s-` plus a sequence number. Session 2 is authenticated as a digest user, so
//! digest and `auth` ACLs deny the other two. The generator knows nothing of the servers' state:
//! every request is drawn at random, and the interesting cases come from the mix of hits and misses.
//! Containers and TTL nodes are left out (their reaping is timed, so the two runs could differ by
//! when a step happens to run); the hand-written scripts cover them.
//!
//! Requests whose answer differs between ZooKeeper 3.8 and 3.9 by design are not drawn: a multi's
//! create2 sub-op and checkWatches (see `ACCEPTED` in differential.rs), and a session's second kind of
//! watch on a path where it holds a one-shot or persistent one (3.8 keeps one mode per session and
//! path, so a one-shot data watch turns a persistent recursive watch into a one-shot one; 3.9 keeps
//! both, ZOOKEEPER-4466), nor removeWatches of one kind where the session asked for another.

use std::collections::HashMap;

use rand::rngs::ChaCha8Rng;
use rand::{RngExt as _, SeedableRng as _};
use zk_proto::{perms, Acl, Id, MultiOp, Request};

use super::harness::{Script, Step};
use super::ops::*;

/// Sessions (slots) the script uses.
const SESSIONS: usize = 3;
/// The slot authenticated as [`USER`].
const AUTHENTICATED: usize = 2;
/// The digest credentials of [`AUTHENTICATED`].
const USER: &str = "rand:pw";
/// The names of the tree's nodes at each level under the root.
const NAMES: [&str; 3] = ["a", "b", "c"];

/// A script of `steps` random requests drawn with `seed`, under `/rnd<seed>`.
pub fn random(seed: u64, steps: usize) -> Script {
    script(seed, steps, 0)
}

/// The script that goes on after [`random`] with the same seed, once the servers have restarted: new
/// sessions read the whole tree first (what the servers recovered), then more random requests
/// under the same root.
pub fn continued(seed: u64, steps: usize) -> Script {
    script(seed, steps, 1)
}

/// Part `part` of the random scripts of `seed`.
fn script(seed: u64, steps: usize, part: u64) -> Script {
    let mut g = Generator {
        rng: ChaCha8Rng::seed_from_u64(seed.wrapping_add(part << 32)),
        root: format!("/rnd{seed}"),
        watch_kinds: vec![HashMap::new(); SESSIONS],
    };
    let mut s = Script::default();
    for slot in 0..SESSIONS {
        s.connect(slot);
    }
    s.auth("addauth", AUTHENTICATED, "digest", USER);
    if part == 0 {
        s.call(format!("create {}", g.root), 0, mk(&g.root, b"root"));
    } else {
        for slot in 0..SESSIONS {
            s.call(format!("recovered tree s{slot}"), slot, g.tree_snapshot());
        }
        s.call("recovered ephemerals", AUTHENTICATED, ephemerals(&g.root));
    }
    for i in 0..steps {
        g.step(&mut s, i);
    }
    // A last write under the root, for the watches still in place.
    let probe = format!("{}/probe{part}", g.root);
    s.call("final create", AUTHENTICATED, mk(&probe, b""));
    for slot in 0..SESSIONS {
        s.call(format!("final events s{slot}"), slot, g.events_marker());
    }
    for slot in 0..SESSIONS {
        s.call(format!("final tree s{slot}"), slot, g.tree_snapshot());
    }
    s
}

/// The kind of watch a session asked for on a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WatchKind {
    /// One-shot data, exist or child watches.
    OneShot,
    /// `addWatch` in this mode (0 persistent, 1 persistent recursive).
    Persistent(i32),
}

struct Generator {
    rng: ChaCha8Rng,
    root: String,
    /// Per session, the kind of watch it asked for on each path (whether or not the watch has
    /// fired since: the generator does not know).
    watch_kinds: Vec<HashMap<String, WatchKind>>,
}

impl Generator {
    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())].clone()
    }

    /// A path of the tree: the root (rarely), a child or a grandchild, now and then one level deeper.
    fn path(&mut self) -> String {
        let depth = self.pick(&[0, 1, 1, 1, 2, 2, 2, 2, 3]);
        let mut path = self.root.clone();
        for _ in 0..depth {
            path.push('/');
            path.push_str(self.pick(&NAMES));
        }
        path
    }

    fn data(&mut self) -> Vec<u8> {
        match self.rng.random_range(0..4) {
            0 => Vec::new(),
            1 => b"x".to_vec(),
            2 => format!("v{}", self.rng.random_range(0..1000)).into_bytes(),
            _ => vec![b'd'; 300],
        }
    }

    /// Mostly "any version", otherwise a small one that is sometimes right.
    fn version(&mut self) -> i32 {
        if self.chance(55) {
            -1
        } else {
            self.rng.random_range(0..4)
        }
    }

    /// Persistent or ephemeral; now and then sequential (under the path plus `/s-`).
    fn create_target(&mut self) -> (String, i32) {
        let flags = self.pick(&[0, 0, 0, 1, 1, 2, 3, 3]);
        let mut path = self.path();
        if flags & 2 != 0 {
            path.push_str("/s-");
        }
        (path, flags)
    }

    /// An ACL and its name for the step's label.
    fn acl(&mut self) -> (Vec<Acl>, &'static str) {
        let user = digest_id(USER);
        match self.rng.random_range(0..6) {
            0 | 1 => (open(), "open"),
            2 => (vec![Acl::new(perms::READ, Id::anyone())], "read-only"),
            3 => (vec![Acl::new(perms::ALL, user), Acl::new(perms::READ, Id::anyone())], "user, others read"),
            4 => (vec![Acl::new(perms::ALL, Id::auth_ids())], "auth"),
            _ => (vec![Acl::new(perms::READ | perms::CREATE | perms::DELETE, Id::anyone())], "no write"),
        }
    }

    fn sub_op(&mut self) -> MultiOp {
        match self.rng.random_range(0..4) {
            0 => {
                let (path, flags) = self.create_target();
                let data = self.data();
                m_create(&path, &data, flags)
            }
            1 => {
                let (path, version) = (self.path(), self.version());
                m_delete(&path, version)
            }
            2 => {
                let (path, data, version) = (self.path(), self.data(), self.version());
                m_set(&path, &data, version)
            }
            _ => {
                let (path, version) = (self.path(), self.version());
                m_check(&path, version)
            }
        }
    }

    /// A read whose reply comes after every notification already due to the session (a server sends
    /// a session's notifications before the replies that follow the change): the notifications are
    /// recorded before it, wherever the servers' timing puts them.
    fn events_marker(&self) -> Request {
        exists(&self.root, false)
    }

    /// A request that reads the whole tree as far as `multiRead` can: every path's data and children.
    fn tree_snapshot(&self) -> Request {
        let mut ops = Vec::new();
        let mut paths = vec![self.root.clone()];
        for a in NAMES {
            paths.push(format!("{}/{a}", self.root));
            for b in NAMES {
                paths.push(format!("{}/{a}/{b}", self.root));
            }
        }
        for path in &paths {
            ops.push(m_get(path));
            ops.push(m_children(path));
        }
        multi_read(ops)
    }

    /// The connection of `slot` drops (its watches with it) and comes back to the same session, as a
    /// client reconnects: resume, `addauth` again, and `setWatches` for some paths, which fire at once
    /// for what changed since the last zxid the session saw. Before it comes back, other sessions
    /// may write.
    fn resume(&mut self, s: &mut Script, i: usize, slot: usize) {
        s.step(format!("#{i} disconnect s{slot}"), Step::Disconnect { slot });
        for j in 0..self.rng.random_range(0..3) {
            let (path, data) = (self.path(), self.data());
            let other = (slot + 1 + j % (SESSIONS - 1)) % SESSIONS;
            s.call(format!("#{i} s{other} setData {path} while s{slot} is away"), other, set_data(&path, &data, -1));
        }
        s.step(format!("#{i} resume s{slot}"), Step::Resume { slot, bad_password: false, zxid_bump: 0 });
        if slot == AUTHENTICATED {
            s.auth(format!("#{i} addauth after resume"), slot, "digest", USER);
        }
        let mut lists: [Vec<String>; 3] = Default::default();
        for list in &mut lists {
            for _ in 0..self.rng.random_range(0..3) {
                let path = self.path();
                if self.may_watch(slot, &path, WatchKind::OneShot) && !list.contains(&path) {
                    list.push(path);
                }
            }
        }
        let [data, exist, child] = lists.each_ref().map(|list| list.iter().map(String::as_str).collect::<Vec<_>>());
        let request = set_watches(&data, &exist, &child);
        s.step(format!("#{i} setWatches s{slot}"), Step::CallXid { slot, xid: zk_proto::xid::SET_WATCHES, request });
    }

    /// Whether `slot` may ask for a watch of `kind` on `path`, which it then holds.
    fn may_watch(&mut self, slot: usize, path: &str, kind: WatchKind) -> bool {
        let held = self.watch_kinds[slot].entry(path.to_string()).or_insert(kind);
        *held == kind
    }

    /// One step of the script: mostly a request, otherwise reading notifications, a pipeline, a
    /// reconnect or a new session.
    fn step(&mut self, s: &mut Script, i: usize) {
        let slot = self.rng.random_range(0..SESSIONS);
        match self.rng.random_range(0..100) {
            0..=89 => {
                if let Some((label, request)) = self.request(slot) {
                    s.call(format!("#{i} s{slot} {label}"), slot, request);
                }
            }
            90..=93 => {
                s.call(format!("#{i} events s{slot}"), slot, self.events_marker());
            }
            94..=95 => {
                // Requests sent back to back: each must see the session's earlier writes, and the
                // replies (with the notifications between them) come in order.
                let requests: Vec<Request> =
                    (0..self.rng.random_range(2..=4)).filter_map(|_| self.request(slot)).map(|(_, r)| r).collect();
                s.step(format!("#{i} s{slot} pipeline of {}", requests.len()), Step::Pipeline { slot, requests });
            }
            96..=97 => self.resume(s, i, slot),
            _ => {
                // The session ends (its ephemerals go, its watches with it) and a new one takes the slot.
                s.call(format!("#{i} closeSession s{slot}"), slot, Request::CloseSession);
                self.watch_kinds[slot].clear();
                s.connect(slot);
                if slot == AUTHENTICATED {
                    s.auth(format!("#{i} addauth again"), slot, "digest", USER);
                }
            }
        }
    }

    /// A random request of `slot` and its label; `None` when the one drawn is not allowed (a
    /// second kind of watch on a path).
    fn request(&mut self, slot: usize) -> Option<(String, Request)> {
        let watch = self.chance(30);
        Some(match self.rng.random_range(0..90) {
            0..=19 => {
                let (path, flags) = self.create_target();
                let (data, (acl, acl_name)) =
                    (self.data(), if self.chance(20) { self.acl() } else { (open(), "open") });
                let request =
                    if self.chance(30) { create2(&path, &data, acl, flags) } else { create(&path, &data, acl, flags) };
                (format!("create {path} flags {flags} acl {acl_name}"), request)
            }
            20..=31 => {
                let (path, version) = (self.path(), self.version());
                (format!("delete {path} v{version}"), delete(&path, version))
            }
            32..=43 => {
                let (path, data, version) = (self.path(), self.data(), self.version());
                (format!("setData {path} v{version}"), set_data(&path, &data, version))
            }
            44..=51 => {
                let path = self.path();
                let watch = watch && self.may_watch(slot, &path, WatchKind::OneShot);
                (format!("getData {path} watch {watch}"), get_data(&path, watch))
            }
            52..=58 => {
                let path = self.path();
                let watch = watch && self.may_watch(slot, &path, WatchKind::OneShot);
                (format!("exists {path} watch {watch}"), exists(&path, watch))
            }
            59..=65 => {
                let path = self.path();
                let watch = watch && self.may_watch(slot, &path, WatchKind::OneShot);
                let request = if self.chance(50) { children(&path, watch) } else { children2(&path, watch) };
                (format!("getChildren {path} watch {watch}"), request)
            }
            66..=73 => {
                let count = self.rng.random_range(1..=4);
                let ops = (0..count).map(|_| self.sub_op()).collect();
                (format!("multi of {count}"), multi(ops))
            }
            74..=76 => {
                let ops = (0..self.rng.random_range(1..=3))
                    .map(|_| {
                        let path = self.path();
                        if self.chance(50) {
                            m_get(&path)
                        } else {
                            m_children(&path)
                        }
                    })
                    .collect();
                ("multiRead".to_string(), multi_read(ops))
            }
            77..=80 => {
                let (path, (acl, acl_name), version) = (self.path(), self.acl(), self.version());
                (format!("setACL {path} {acl_name} v{version}"), set_acl(&path, acl, version))
            }
            81..=82 => {
                let path = self.path();
                (format!("getACL {path}"), get_acl(&path))
            }
            83..=84 => {
                let (path, mode) = (self.path(), self.rng.random_range(0..2));
                if !self.may_watch(slot, &path, WatchKind::Persistent(mode)) {
                    return None;
                }
                (format!("addWatch {path} mode {mode}"), add_watch(&path, mode))
            }
            85..=86 => {
                let path = self.path();
                // Children (1) and Data (2) name one-shot watches; Any (3) every kind.
                let kind = match self.watch_kinds[slot].get(&path) {
                    Some(WatchKind::Persistent(_)) => 3,
                    _ => self.rng.random_range(1..=3),
                };
                (format!("removeWatches {path} type {kind}"), remove_watches(&path, kind))
            }
            87 => {
                let path = self.path();
                (format!("getAllChildrenNumber {path}"), all_children(&path))
            }
            88 => ("getEphemerals".to_string(), ephemerals(&self.root)),
            _ => {
                let path = self.path();
                (format!("sync {path}"), sync(&path))
            }
        })
    }
}
