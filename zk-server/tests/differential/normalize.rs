//! Normalization of observations so that two servers' runs compare equal when they behave alike.
//!
//! - zxids (reply headers, `czxid`, `mzxid`, `pzxid`) become their rank among every zxid the run saw,
//!   so only their order and equalities are compared;
//! - times: `ctime` becomes 1 when plausible (within the run's wall-clock window), `mtime` becomes 1
//!   when plausible and not before `ctime` (other values are kept, so they show up as differences);
//! - session ids (connect responses, `ephemeralOwner`) become 1, 2, ... in order of appearance;
//!   passwords are reduced to their length;
//! - the zxid of a notification header is dropped: zk-server sends the triggering zxid (3.9) where
//!   ZooKeeper 3.8 sends -1;
//! - child lists and ephemeral lists are sorted (their order is unspecified);
//! - four-letter answers: `ruok` as is, `srvr` as its line names plus the `Mode` and `Node count`
//!   lines.
//!
//! Everything else is kept exactly.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use zk_proto::{ErrorCode, OpResult, Response, Stat};

use super::harness::{Item, Observed};

/// A normalized step: its label and one line per observation.
pub type Lines = (String, Vec<String>);

/// The zxids, sessions and time window of one run.
struct Context {
    zxid_rank: HashMap<i64, i64>,
    sessions: HashMap<i64, i64>,
    window: (i64, i64),
}

fn stats_mut(body: &mut Response) -> Vec<&mut Stat> {
    match body {
        Response::Create2(r) | Response::CreateContainer(r) | Response::CreateTtl(r) => vec![&mut r.stat],
        Response::Exists(r) => vec![&mut r.stat],
        Response::GetData(r) | Response::Reconfig(r) => vec![&mut r.stat],
        Response::SetData(r) | Response::Check(r) => vec![&mut r.stat],
        Response::GetAcl(r) => vec![&mut r.stat],
        Response::SetAcl(r) => vec![&mut r.stat],
        Response::GetChildren2(r) => vec![&mut r.stat],
        Response::Multi(r) | Response::MultiRead(r) => r
            .results
            .iter_mut()
            .filter_map(|result| match result {
                OpResult::Create2(r) => Some(&mut r.stat),
                OpResult::SetData(r) => Some(&mut r.stat),
                OpResult::GetData(r) => Some(&mut r.stat),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn sort_lists(body: &mut Response) {
    match body {
        Response::GetChildren(r) => r.children.sort(),
        Response::GetChildren2(r) => r.children.sort(),
        Response::GetEphemerals(r) => r.ephemerals.sort(),
        Response::Multi(r) | Response::MultiRead(r) => {
            for result in &mut r.results {
                if let OpResult::GetChildren(r) = result {
                    r.children.sort();
                }
            }
        }
        _ => {}
    }
}

impl Context {
    fn new(run: &[Observed], window: (i64, i64)) -> Context {
        let mut zxids = BTreeSet::new();
        let mut sessions = HashMap::new();
        for item in run.iter().flat_map(|o| &o.items) {
            match item {
                Item::Connect(c) if c.session_id != 0 => {
                    let next = sessions.len() as i64 + 1;
                    sessions.entry(c.session_id).or_insert(next);
                }
                Item::Reply(reply) => {
                    zxids.insert(reply.header.zxid);
                    if let Some(mut body) = reply.body.clone() {
                        for stat in stats_mut(&mut body) {
                            zxids.extend([stat.czxid, stat.mzxid, stat.pzxid]);
                        }
                    }
                }
                _ => {}
            }
        }
        let zxid_rank = zxids.into_iter().filter(|&z| z > 0).enumerate().map(|(i, z)| (z, i as i64 + 1)).collect();
        Context { zxid_rank, sessions, window }
    }

    fn zxid(&self, zxid: i64) -> i64 {
        if zxid <= 0 {
            zxid
        } else {
            self.zxid_rank[&zxid]
        }
    }

    fn plausible(&self, time: i64) -> bool {
        (self.window.0..=self.window.1).contains(&time)
    }

    fn stat(&self, stat: &mut Stat) {
        stat.czxid = self.zxid(stat.czxid);
        stat.mzxid = self.zxid(stat.mzxid);
        stat.pzxid = self.zxid(stat.pzxid);
        if self.plausible(stat.mtime) && stat.mtime >= stat.ctime {
            stat.mtime = 1;
        }
        if self.plausible(stat.ctime) {
            stat.ctime = 1;
        }
        if let Some(&alias) = self.sessions.get(&stat.ephemeral_owner) {
            stat.ephemeral_owner = alias;
        }
    }

    fn item(&self, item: &Item) -> String {
        match item {
            Item::Connect(c) => {
                let mut c = c.clone();
                c.session_id = self.sessions.get(&c.session_id).copied().unwrap_or(c.session_id);
                let passwd_len = c.passwd.len();
                c.passwd = Bytes::new();
                format!("connect {c:?} passwd_len={passwd_len}")
            }
            Item::Reply(reply) => {
                let mut header = reply.header.clone();
                header.zxid = self.zxid(header.zxid);
                let err = ErrorCode::try_from(header.err).map_or_else(|e| e.to_string(), |e| e.name().to_owned());
                let op = reply.op.map_or("?", |op| op.name());
                let mut line = format!("reply xid={} zxid={} err={err} op={op}", header.xid, header.zxid);
                if let Some(body) = &reply.body {
                    let mut body = body.clone();
                    for stat in stats_mut(&mut body) {
                        self.stat(stat);
                    }
                    sort_lists(&mut body);
                    line.push_str(&format!(" body={body:?}"));
                }
                if let Some(err) = &reply.decode_error {
                    line.push_str(&format!(" undecodable({err}) raw={:?}", reply.raw_body));
                }
                line
            }
            Item::Notification(header, event) => {
                format!("notification xid={} err={} {event:?}", header.xid, header.err)
            }
            Item::Closed(closed) => format!("closed by server: {closed}"),
            Item::Text(text) => four_letter(text),
            Item::Failed(kind) => format!("failed: {kind}"),
        }
    }
}

fn four_letter(text: &str) -> String {
    if text.starts_with("Zookeeper version:") {
        let lines: Vec<String> = text
            .lines()
            .map(|line| {
                if line.starts_with("Mode:") || line.starts_with("Node count:") {
                    line.to_owned()
                } else {
                    line.split(':').next().unwrap_or("").to_owned()
                }
            })
            .collect();
        return format!("srvr {lines:?}");
    }
    format!("text {text:?}")
}

/// Normalizes one run. `window` is the wall-clock span (ms) the run took place in.
pub fn normalize(run: &[Observed], window: (i64, i64)) -> Vec<Lines> {
    let context = Context::new(run, window);
    run.iter().map(|o| (o.label.clone(), o.items.iter().map(|item| context.item(item)).collect())).collect()
}
