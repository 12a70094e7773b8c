//! Replies to committed writes and watch notifications.

use zk_proto::{
    xid, Create2Response, CreateResponse, ErrorCode, KeeperState, MultiResponse, OpCode, OpResult as WireResult,
    ReplyHeader, Response, SetAclResponse, SetDataResponse, TxnEntry, WatcherEvent,
};

use super::conn::{Conn, Pending};
use super::{Now, ServerCore};
use crate::net::ConnId;
use crate::tree::{ApplyOutcome, OpResult};

/// Sends watch notifications `(zxid, event)` on a connection.
pub(super) fn send_events(conn: &mut Conn, events: impl IntoIterator<Item = (i64, WatcherEvent)>) {
    for (zxid, event) in events {
        let header = ReplyHeader { xid: xid::NOTIFICATION, zxid, err: 0 };
        let mut frame = bytes::BytesMut::new();
        zk_proto::Jute::encode(&header, &mut frame);
        zk_proto::Jute::encode(&event, &mut frame);
        conn.send_frame(frame.freeze());
    }
}

/// Answers a `sasl` request when no SASL mechanism is configured: OK with a null token (a `-1` buffer
/// length), as ZooKeeper's `processSasl` does when the connection has no SASL server.
pub(super) fn send_null_sasl_token(conn: &mut Conn, xid: i32) {
    let mut frame = bytes::BytesMut::new();
    zk_proto::Jute::encode(&ReplyHeader { xid, zxid: 0, err: 0 }, &mut frame);
    zk_proto::Jute::encode(&None::<bytes::Bytes>, &mut frame);
    conn.send_frame(frame.freeze());
}

/// The wire result of one (sub-)op of a committed multi.
fn multi_result(op: &OpResult, sub_op: i32) -> WireResult {
    match op {
        OpResult::Created { path, .. } if sub_op == OpCode::Create.code() => {
            WireResult::Create(CreateResponse { path: path.clone() })
        }
        OpResult::Created { path, stat } => {
            WireResult::Create2(Create2Response { path: path.clone(), stat: stat.clone() })
        }
        OpResult::Deleted { .. } => WireResult::Delete,
        OpResult::DataSet { stat, .. } => WireResult::SetData(SetDataResponse { stat: stat.clone() }),
        OpResult::Checked { .. } => WireResult::Check,
        other => WireResult::Error(other.err().code()),
    }
}

/// The reply body of a committed write (`None` for ops without one).
fn write_response(entry: &TxnEntry, outcome: &ApplyOutcome, tree: &crate::tree::DataTree) -> Option<Response> {
    let op = OpCode::try_from(entry.header.op_code).ok()?;
    Some(match (&outcome.result, op) {
        (OpResult::Created { path, .. }, OpCode::Create) => Response::Create(CreateResponse { path: path.clone() }),
        (OpResult::Created { path, stat }, OpCode::Create2) => {
            Response::Create2(Create2Response { path: path.clone(), stat: stat.clone() })
        }
        (OpResult::Created { path, stat }, OpCode::CreateContainer) => {
            Response::CreateContainer(Create2Response { path: path.clone(), stat: stat.clone() })
        }
        (OpResult::Created { path, stat }, OpCode::CreateTtl) => {
            Response::CreateTtl(Create2Response { path: path.clone(), stat: stat.clone() })
        }
        // `FinalRequestProcessor`: the new config and the stat of `/zookeeper/config`.
        (OpResult::DataSet { stat, .. }, OpCode::Reconfig) => {
            let data = match &entry.body {
                zk_proto::TxnBody::SetData(txn) => txn.data.clone(),
                _ => None,
            };
            Response::Reconfig(zk_proto::GetDataResponse { data, stat: stat.clone() })
        }
        (OpResult::DataSet { stat, .. }, _) => Response::SetData(SetDataResponse { stat: stat.clone() }),
        (OpResult::AclSet { stat, .. }, _) => Response::SetAcl(SetAclResponse { stat: stat.clone() }),
        (OpResult::Checked { path }, _) => {
            Response::Check(SetDataResponse { stat: tree.stat(path).unwrap_or_default() })
        }
        (OpResult::Multi(results), _) => {
            let sub_ops = match &entry.body {
                zk_proto::TxnBody::Multi(multi) => multi.txns.iter().map(|t| t.op_code).collect(),
                _ => Vec::new(),
            };
            let failed = results.iter().any(|r| r.err() != ErrorCode::Ok);
            let results = results
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    if failed {
                        WireResult::Error(r.err().code())
                    } else {
                        multi_result(r, sub_ops.get(i).copied().unwrap_or(0))
                    }
                })
                .collect();
            Response::Multi(MultiResponse { results })
        }
        _ => return None,
    })
}

impl ServerCore {
    /// Notifies every watcher a committed txn triggered, in ZooKeeper's order. A watcher without READ
    /// on the node an event is about does not get it (its one-shot watch is used up all the same), as
    /// in ZooKeeper since 3.9.2 and 3.8.4 (CVE-2024-23944; Debian patches it into 3.8.0).
    pub(super) fn fire_watches(&mut self, outcome: &ApplyOutcome, zxid: i64) {
        for trigger in &outcome.triggers {
            for (conn_id, event) in self.watches.trigger(&trigger.path, trigger.event) {
                if let Some(conn) = self.conns.get_mut(&conn_id) {
                    if self.config.auth.check_acl(&trigger.acl, conn.auth.ids(), zk_proto::perms::READ).is_err() {
                        tracing::trace!(conn = conn_id, path = %trigger.path, "event filtered by ACL");
                        continue;
                    }
                    debug_assert_eq!(event.state, KeeperState::SyncConnected.code());
                    send_events(conn, [(zxid, event)]);
                    self.stats.watch_events += 1;
                }
            }
        }
    }

    /// Answers the write at the head of a connection's queue.
    pub(super) fn reply_to_write(
        &mut self,
        conn_id: ConnId,
        xid: i32,
        received_ms: i64,
        entry: &TxnEntry,
        outcome: &ApplyOutcome,
        now: Now,
    ) {
        let Some(conn) = self.conns.get_mut(&conn_id) else { return };
        match conn.pending.pop_front() {
            Some(Pending::Write { zxid }) if zxid == entry.header.zxid => {}
            Some(Pending::Forwarded { cxid, .. }) if cxid == entry.header.cxid => {}
            other => {
                tracing::error!(?other, zxid = entry.header.zxid, "reply out of order; closing connection");
                conn.close();
                return;
            }
        }
        let zxid = entry.header.zxid;
        // A failed multi still answers OK with per-op errors; other failures answer the error alone.
        let is_multi = entry.header.op_code == OpCode::Multi.code();
        let err = if is_multi { ErrorCode::Ok } else { outcome.err };
        let body = if err == ErrorCode::Ok { write_response(entry, outcome, &self.tree) } else { None };
        conn.send(&ReplyHeader { xid, zxid, err: err.code() }, body.as_ref());
        let op = OpCode::try_from(entry.header.op_code).map_or("UNKN", super::stats::op_name);
        conn.record_reply(op, xid, zxid, received_ms, now.mono_ms);
        self.stats.record_latency(now.mono_ms - received_ms);
        self.stats.packets_sent += 1;
    }
}
