//! What comes in from the server: the ConnectResponse, notifications, auth replies and replies
//! matched against the in-flight queue.

use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::{debug, warn};
use zk_proto::{xid, ConnectResponse, EventType, Jute, KeeperState, OpCode, ReplyHeader, Response, WatcherEvent};

use super::{Output, Phase, Session};
use crate::error::Error;
use crate::state::SessionState;
use crate::watcher::WatchedEvent;
use crate::watches::WatchKind;

impl Session {
    pub(super) fn handle_frame(&mut self, mut frame: Bytes, now: Instant) {
        if let Phase::Handshaking { .. } = self.phase {
            match ConnectResponse::decode(&mut frame) {
                Ok(response) => self.handshake_done(response, now),
                Err(err) => {
                    warn!(%err, "malformed ConnectResponse");
                    self.lose("malformed ConnectResponse");
                }
            }
            return;
        }
        let header = match ReplyHeader::decode(&mut frame) {
            Ok(header) => header,
            Err(err) => {
                warn!(%err, "malformed reply header");
                return self.lose("malformed reply header");
            }
        };
        match header.xid {
            xid::NOTIFICATION => self.notification(header, frame),
            xid::PING => {}
            xid::AUTH => {
                let id = self.pending_auths.pop_front().flatten();
                if header.err == 0 {
                    self.complete(id, Ok(Response::Auth));
                } else {
                    warn!(err = header.err, "authentication failed");
                    self.complete(id, Err(Error::AuthFailed));
                    self.terminate(SessionState::AuthFailed);
                }
            }
            _ => self.reply(header, frame, now),
        }
    }

    fn handshake_done(&mut self, response: ConnectResponse, now: Instant) {
        if response.time_out <= 0 {
            warn!(session_id = self.session_id, "session expired");
            return self.terminate(SessionState::Expired);
        }
        self.session_id = response.session_id;
        self.password = response.passwd;
        self.negotiated = Duration::from_millis(response.time_out as u64);
        self.phase = Phase::Connected;
        self.last_recv = now;
        self.heard_at = now;
        let read_only = response.read_only == Some(true);
        self.seen_rw |= !read_only;
        debug!(session_id = self.session_id, timeout = ?self.negotiated, read_only, "session established");
        self.set_state(if read_only { SessionState::ConnectedReadOnly } else { SessionState::Connected });
        while let Some(queued) = self.queued.pop_front() {
            self.send(queued, now);
        }
    }

    fn notification(&mut self, header: ReplyHeader, mut frame: Bytes) {
        let event = match WatcherEvent::decode(&mut frame) {
            Ok(event) => event,
            Err(err) => {
                warn!(%err, "malformed notification");
                return self.lose("malformed notification");
            }
        };
        let Ok(event_type) = EventType::try_from(event.event_type) else {
            warn!(event_type = event.event_type, "notification of unknown type ignored");
            return;
        };
        debug!(%event_type, path = %event.path, zxid = header.zxid, "notification");
        for (watcher, done) in self.watches.dispatch(event_type, &event.path) {
            let event = WatchedEvent {
                event_type,
                state: KeeperState::SyncConnected,
                path: event.path.clone(),
                zxid: header.zxid,
            };
            self.outputs.push_back(Output::Watch { watcher, event, done });
        }
    }

    fn reply(&mut self, header: ReplyHeader, mut frame: Bytes, now: Instant) {
        let Some(pending) = self.pending.pop_front() else {
            warn!(xid = header.xid, "reply with no request in flight");
            return self.lose("unexpected reply");
        };
        if pending.xid != header.xid {
            warn!(expected = pending.xid, got = header.xid, "reply out of order");
            self.pending.push_front(pending);
            return self.lose("reply out of order");
        }
        if header.zxid > 0 {
            self.last_zxid = self.last_zxid.max(header.zxid);
        }
        let result = if header.err != 0 {
            Err(Error::from_code(header.err))
        } else {
            match Response::decode(pending.op, &mut frame) {
                Ok(response) => Ok(response),
                Err(err) => {
                    pending.span.in_scope(|| warn!(%err, "malformed reply body"));
                    self.pending.push_front(pending);
                    return self.lose("malformed reply");
                }
            }
        };
        pending.span.in_scope(|| debug!(xid = header.xid, zxid = header.zxid, err = header.err, "reply"));
        if let Some(watch) = pending.watch {
            let id = watch.id;
            let registered = match (&result, pending.op) {
                (Ok(_), _) => Some(watch.kind),
                (Err(Error::NoNode), OpCode::Exists) => Some(WatchKind::Exist),
                _ => None,
            };
            match registered {
                Some(kind) => {
                    self.watches.add(id, kind, watch.path);
                    if self.cancelled.remove(&id) {
                        // Its caller gave up before the reply: undo at once (server side too).
                        self.unwatch(id, now);
                        self.outputs.push_back(Output::Unregistered(id));
                    }
                }
                None => {
                    self.cancelled.remove(&id);
                    self.outputs.push_back(Output::Unregistered(id));
                }
            }
        }
        if let (Some((path, watcher_type)), Ok(_)) = (pending.remove, &result) {
            for (watcher, event_type) in self.watches.remove_path(&path, watcher_type) {
                let event =
                    WatchedEvent { event_type, state: KeeperState::SyncConnected, path: path.clone(), zxid: -1 };
                self.outputs.push_back(Output::Watch { watcher, event, done: true });
            }
        }
        if pending.id.is_none() {
            if let Err(err) = &result {
                debug!(op = %pending.op, %err, "internal request failed");
            }
        }
        let closed = pending.op == OpCode::CloseSession;
        self.complete(pending.id, result);
        if closed {
            self.terminate(SessionState::Closed);
        }
    }
}
