//! The sans-IO session state machine.
//!
//! [`Session`] owns everything a ZooKeeper session is — the handshake, xids, the in-flight queue, pings,
//! the watch table, the last zxid seen, credentials to replay — and nothing that does I/O: no socket,
//! no clock, no task. Its driver (the connection task in `connection.rs`, or a unit test) feeds it
//! inputs, each stamped with `now`:
//!
//! * [`Session::transport_connected`] / [`Session::transport_lost`]: a connection came up or died;
//! * [`Session::receive`]: bytes read from the connection;
//! * [`Session::handle_timeout`]: the deadline from [`Session::poll_timeout`] passed;
//! * [`Session::submit`], [`Session::add_auth`], [`Session::unwatch`], [`Session::close`]: commands;
//!
//! and pulls outputs: [`Session::poll_transmit`] (bytes to write), [`Session::poll_output`]
//! (completions, watch events, state changes, "drop the connection") and [`Session::poll_timeout`].

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;
use tracing::{debug, warn, Span};
use zk_proto::{
    write_frame, xid, AuthPacket, ConnectRequest, EventType, FrameCodec, Jute, KeeperState, OpCode,
    RemoveWatchesRequest, Request, RequestHeader, Response, WatcherType,
};

use crate::error::Error;
use crate::state::SessionState;
use crate::watcher::WatchedEvent;
use crate::watches::{WatchKind, WatchRegistry, WatcherId};

mod inbound;
#[cfg(test)]
mod tests;

/// Identifies one submitted request (chosen by the caller of [`Session::submit`]).
pub(crate) type RequestId = u64;

/// The Java client pings at least this often, whatever the timeout.
const MAX_PING_INTERVAL: Duration = Duration::from_secs(10);

/// Fixed parameters of a session.
#[derive(Debug, Clone)]
pub(crate) struct SessionConfig {
    /// The requested session timeout.
    pub(crate) session_timeout: Duration,
    /// How long the handshake may take once the transport is up (until the `ConnectResponse`).
    pub(crate) connect_timeout: Duration,
    /// Accept read-only servers.
    pub(crate) read_only: bool,
    /// A session to resume (0: new session).
    pub(crate) session_id: i64,
    /// Its password.
    pub(crate) password: Bytes,
    /// Largest frame accepted or sent.
    pub(crate) max_frame: usize,
    /// Declare the session expired after the session timeout without any server.
    pub(crate) local_expiry: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            session_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            read_only: false,
            session_id: 0,
            password: Bytes::new(),
            max_frame: zk_proto::DEFAULT_MAX_FRAME,
            local_expiry: true,
        }
    }
}

/// A watch to register if (and when) the request that sets it succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WatchRegistration {
    pub(crate) id: WatcherId,
    pub(crate) kind: WatchKind,
    /// Server path.
    pub(crate) path: String,
}

/// Something the driver must act on.
#[derive(Debug)]
pub(crate) enum Output {
    /// A request finished.
    Completed { id: RequestId, result: Result<Response, Error> },
    /// Deliver `event` to `watcher`; `done` means the watcher will get nothing more.
    Watch { watcher: WatcherId, event: WatchedEvent, done: bool },
    /// The session state changed.
    State(SessionState),
    /// The watch a request carried was not registered (the request failed): drop its watcher.
    Unregistered(WatcherId),
    /// Close the transport (the session gave up on this connection).
    Disconnect,
}

#[derive(Debug)]
struct Queued {
    id: Option<RequestId>,
    request: Request,
    watch: Option<WatchRegistration>,
    span: Span,
}

#[derive(Debug)]
struct Pending {
    xid: i32,
    op: OpCode,
    id: Option<RequestId>,
    watch: Option<WatchRegistration>,
    /// For a user `removeWatches`: the local watchers to remove on success.
    remove: Option<(String, WatcherType)>,
    span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No transport.
    Idle,
    /// ConnectRequest sent, waiting for the ConnectResponse.
    Handshaking { deadline: Instant },
    /// Serving requests.
    Connected,
    /// Expired, auth failed or closed: nothing more happens.
    Over,
}

/// The session state machine. See the module docs.
#[derive(Debug)]
pub(crate) struct Session {
    config: SessionConfig,
    state: SessionState,
    phase: Phase,
    session_id: i64,
    password: Bytes,
    negotiated: Duration,
    last_zxid: i64,
    next_xid: i32,
    codec: FrameCodec,
    inbuf: BytesMut,
    outbuf: BytesMut,
    queued: VecDeque<Queued>,
    pending: VecDeque<Pending>,
    /// Credentials replayed on every connection; the id is the caller still waiting for the first reply.
    auths: Vec<(AuthPacket, Option<RequestId>)>,
    pending_auths: VecDeque<Option<RequestId>>,
    /// Whether a read-write server has accepted this session (a session from a read-only server is
    /// not resumed elsewhere).
    seen_rw: bool,
    /// Later `close` calls waiting for the first one.
    close_waiters: Vec<RequestId>,
    /// Watchers dropped before the request that sets them was answered.
    cancelled: HashSet<WatcherId>,
    /// The id of a pending `close`.
    closing: Option<RequestId>,
    watches: WatchRegistry,
    outputs: VecDeque<Output>,
    last_send: Instant,
    last_recv: Instant,
    /// When a server serving this session was last heard from.
    heard_at: Instant,
}

impl Session {
    /// A session that has not connected yet.
    pub(crate) fn new(config: SessionConfig, now: Instant) -> Session {
        Session {
            seen_rw: config.session_id != 0,
            session_id: config.session_id,
            password: config.password.clone(),
            negotiated: config.session_timeout,
            codec: FrameCodec::new(config.max_frame),
            config,
            state: SessionState::Connecting,
            phase: Phase::Idle,
            last_zxid: 0,
            next_xid: 1,
            inbuf: BytesMut::new(),
            outbuf: BytesMut::new(),
            queued: VecDeque::new(),
            pending: VecDeque::new(),
            auths: Vec::new(),
            pending_auths: VecDeque::new(),
            closing: None,
            cancelled: HashSet::new(),
            close_waiters: Vec::new(),
            watches: WatchRegistry::default(),
            outputs: VecDeque::new(),
            last_send: now,
            last_recv: now,
            heard_at: now,
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> SessionState {
        self.state
    }

    /// The session id (0 before the first handshake).
    pub(crate) fn session_id(&self) -> i64 {
        self.session_id
    }

    /// The session password.
    pub(crate) fn password(&self) -> &Bytes {
        &self.password
    }

    /// The timeout the server granted (the requested one before the first handshake).
    pub(crate) fn negotiated_timeout(&self) -> Duration {
        self.negotiated
    }

    /// The highest zxid seen in a reply.
    #[cfg(test)]
    pub(crate) fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// Whether the session is over (no more I/O will happen).
    pub(crate) fn is_over(&self) -> bool {
        self.phase == Phase::Over
    }

    /// Whether the driver should have a transport open (false while idle or over).
    pub(crate) fn wants_transport(&self) -> bool {
        matches!(self.phase, Phase::Handshaking { .. } | Phase::Connected)
    }

    /// Whether watcher `id` is registered.
    #[cfg(test)]
    pub(crate) fn has_watcher(&self, id: WatcherId) -> bool {
        self.watches.contains(id)
    }

    // ----- inputs -----

    /// A transport to a server is up: queue the handshake (ConnectRequest, credentials, SetWatches).
    pub(crate) fn transport_connected(&mut self, now: Instant) {
        if self.phase != Phase::Idle {
            warn!(phase = ?self.phase, "transport_connected while not idle; ignored");
            return;
        }
        self.inbuf.clear();
        self.outbuf.clear();
        // A session only ever seen by read-only servers is local to one of them: a read-write server
        // would not know it, so ask for a new session (as the Java client does).
        let session_id = if self.seen_rw { self.session_id } else { 0 };
        let connect = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid,
            time_out: i32::try_from(self.config.session_timeout.as_millis()).unwrap_or(i32::MAX),
            session_id,
            passwd: if session_id == 0 { Bytes::from_static(&[0; 16]) } else { self.password.clone() },
            read_only: Some(self.config.read_only),
        };
        let max = self.config.max_frame;
        // A ConnectRequest is a few dozen bytes: it always fits.
        let _ = write_frame(&mut self.outbuf, max, |buf| connect.encode(buf));
        for (packet, id) in &mut self.auths {
            let header = RequestHeader { xid: xid::AUTH, op_code: OpCode::Auth.code() };
            if write_frame(&mut self.outbuf, max, |buf| {
                header.encode(buf);
                packet.encode(buf);
            })
            .is_ok()
            {
                self.pending_auths.push_back(id.take());
            }
        }
        for request in self.watches.set_watches(self.last_zxid) {
            let header = RequestHeader { xid: xid::SET_WATCHES, op_code: request.op_code().code() };
            if write_frame(&mut self.outbuf, max, |buf| {
                header.encode(buf);
                request.encode(buf);
            })
            .is_ok()
            {
                self.pending.push_back(Pending {
                    xid: xid::SET_WATCHES,
                    op: request.op_code(),
                    id: None,
                    watch: None,
                    remove: None,
                    span: Span::none(),
                });
            }
        }
        self.phase = Phase::Handshaking { deadline: now + self.config.connect_timeout };
        self.last_send = now;
        self.last_recv = now;
        debug!(session_id = self.session_id, last_zxid = self.last_zxid, "handshake sent");
    }

    /// The transport died (read error, EOF, write error, or connect failure after `transport_connected`).
    pub(crate) fn transport_lost(&mut self, _now: Instant) {
        if self.wants_transport() {
            self.lose("transport lost");
        }
    }

    /// Bytes arrived on the transport.
    pub(crate) fn receive(&mut self, data: &[u8], now: Instant) {
        if !self.wants_transport() {
            return;
        }
        self.last_recv = now;
        if self.phase == Phase::Connected {
            self.heard_at = now;
        }
        self.inbuf.extend_from_slice(data);
        while self.wants_transport() {
            match self.codec.decode(&mut self.inbuf) {
                Ok(Some(frame)) => self.handle_frame(frame, now),
                Ok(None) => break,
                Err(err) => {
                    warn!(%err, "bad frame from server");
                    self.lose("bad frame");
                }
            }
        }
    }

    /// Time passed: check the handshake deadline, the read timeout, and send a ping when idle.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if let Some(expiry) = self.local_expiry() {
            if now >= expiry {
                warn!(
                    session_id = self.session_id,
                    timeout = ?self.negotiated,
                    "no server heard from for the session timeout: the session is expired"
                );
                return self.terminate(SessionState::Expired);
            }
        }
        match self.phase {
            Phase::Handshaking { deadline } if now >= deadline => {
                warn!("no ConnectResponse within the connect timeout");
                self.lose("connect timeout");
            }
            Phase::Connected => {
                if now >= self.last_recv + self.read_timeout() {
                    warn!(read_timeout = ?self.read_timeout(), "server silent for the read timeout");
                    self.lose("read timeout");
                } else if now >= self.last_send + self.ping_interval() {
                    let header = RequestHeader { xid: xid::PING, op_code: OpCode::Ping.code() };
                    let _ = write_frame(&mut self.outbuf, self.config.max_frame, |buf| header.encode(buf));
                    self.last_send = now;
                }
            }
            _ => {}
        }
    }

    /// Submits a request. `watch` is registered when the reply is a success (for `exists` on a missing
    /// node: as an exist watch). The reply comes out as [`Output::Completed`] with the same `id`.
    pub(crate) fn submit(
        &mut self,
        id: RequestId,
        request: Request,
        watch: Option<WatchRegistration>,
        span: Span,
        now: Instant,
    ) {
        if let Some(err) = self.refusal() {
            self.fail(Some(id), watch, err);
            return;
        }
        let queued = Queued { id: Some(id), request, watch, span };
        if self.phase == Phase::Connected {
            self.send(queued, now);
        } else {
            self.queued.push_back(queued);
        }
    }

    /// Adds credentials: sent now if connected, and again on every later connection.
    pub(crate) fn add_auth(&mut self, id: RequestId, scheme: String, auth: Bytes, now: Instant) {
        if let Some(err) = self.refusal() {
            self.complete(Some(id), Err(err));
            return;
        }
        let packet = AuthPacket { auth_type: 0, scheme, auth };
        if self.phase == Phase::Connected {
            let header = RequestHeader { xid: xid::AUTH, op_code: OpCode::Auth.code() };
            match write_frame(&mut self.outbuf, self.config.max_frame, |buf| {
                header.encode(buf);
                packet.encode(buf);
            }) {
                Ok(()) => {
                    self.last_send = now;
                    self.pending_auths.push_back(Some(id));
                    self.auths.push((packet, None));
                }
                Err(_) => self.complete(Some(id), Err(Error::InvalidArgument("auth packet too large".into()))),
            }
        } else {
            self.auths.push((packet, Some(id)));
        }
    }

    /// A local watcher went away. When it was the last persistent watcher on its path, the server-side
    /// watch is removed too.
    pub(crate) fn unwatch(&mut self, watcher: WatcherId, now: Instant) {
        let Some((kind, path, last)) = self.watches.remove(watcher) else {
            // Not registered (yet): its request may still be in flight or queued.
            if self.wants_transport() || !self.queued.is_empty() {
                self.cancelled.insert(watcher);
            }
            return;
        };
        if !last || kind.is_oneshot() || self.phase != Phase::Connected || self.closing.is_some() {
            return;
        }
        // `Any` when nothing else is watched there: ZooKeeper before 3.9 rejects the persistent types
        // in removeWatches. Otherwise the specific type, so the other watches stay (on an old server
        // that fails and the stray events are dropped locally).
        let watcher_type = if !self.watches.is_watched(&path) {
            WatcherType::Any
        } else if kind == WatchKind::Persistent {
            WatcherType::Persistent
        } else {
            WatcherType::PersistentRecursive
        };
        let request = Request::RemoveWatches(RemoveWatchesRequest { path, watcher_type: watcher_type.code() });
        self.send(Queued { id: None, request, watch: None, span: Span::none() }, now);
    }

    /// Closes the session: a `closeSession` request if connected, else at once. `id` completes when done.
    pub(crate) fn close(&mut self, id: RequestId, now: Instant) {
        match self.phase {
            Phase::Over => {
                let result = if self.state == SessionState::Closed {
                    Ok(Response::CloseSession)
                } else {
                    Err(self.terminal_error())
                };
                self.complete(Some(id), result);
            }
            Phase::Connected if self.closing.is_none() => {
                self.send(
                    Queued { id: Some(id), request: Request::CloseSession, watch: None, span: Span::current() },
                    now,
                );
                self.closing = Some(id);
            }
            // Already closing: answered with the first close.
            Phase::Connected => self.close_waiters.push(id),
            Phase::Idle | Phase::Handshaking { .. } => {
                self.terminate(SessionState::Closed);
                self.complete(Some(id), Ok(Response::CloseSession));
            }
        }
    }

    // ----- outputs -----

    /// Bytes to write to the transport.
    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.outbuf.is_empty() {
            None
        } else {
            Some(self.outbuf.split().freeze())
        }
    }

    /// The next completion, watch event, state change or disconnect order.
    pub(crate) fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Session::handle_timeout`] must be called next.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let io = match self.phase {
            Phase::Handshaking { deadline } => Some(deadline),
            Phase::Connected => Some((self.last_recv + self.read_timeout()).min(self.last_send + self.ping_interval())),
            Phase::Idle | Phase::Over => None,
        };
        match (io, self.local_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- internals -----

    /// While disconnected: when the session is certainly expired on the servers, none of which has
    /// answered for the negotiated timeout (the servers expire it after that long without hearing
    /// from the client, and the client stops trying at that point).
    ///
    /// Only checked between connection attempts: a handshake in progress may still find the session
    /// alive (a restarted server, or a new leader, gives every session a fresh timeout).
    fn local_expiry(&self) -> Option<Instant> {
        let disconnected = self.state == SessionState::Disconnected && self.phase == Phase::Idle;
        (self.config.local_expiry && disconnected).then(|| self.heard_at + self.negotiated)
    }

    /// The Java client's read timeout: 2/3 of the negotiated session timeout.
    fn read_timeout(&self) -> Duration {
        self.negotiated * 2 / 3
    }

    /// Ping after half the read timeout without sending (a third of the session timeout), at most 10 s.
    fn ping_interval(&self) -> Duration {
        (self.read_timeout() / 2).min(MAX_PING_INTERVAL)
    }

    fn refusal(&self) -> Option<Error> {
        if self.phase == Phase::Over {
            Some(self.terminal_error())
        } else if self.closing.is_some() {
            Some(Error::Closed)
        } else {
            None
        }
    }

    fn terminal_error(&self) -> Error {
        match self.state {
            SessionState::Expired => Error::SessionExpired,
            SessionState::AuthFailed => Error::AuthFailed,
            _ => Error::Closed,
        }
    }

    fn next_xid(&mut self) -> i32 {
        let xid = self.next_xid;
        self.next_xid = if xid == i32::MAX { 1 } else { xid + 1 };
        xid
    }

    fn send(&mut self, queued: Queued, now: Instant) {
        let Queued { id, request, watch, span } = queued;
        let xid = self.next_xid();
        let op = request.op_code();
        let header = RequestHeader { xid, op_code: op.code() };
        if let Err(err) = write_frame(&mut self.outbuf, self.config.max_frame, |buf| {
            header.encode(buf);
            request.encode(buf);
        }) {
            self.fail(id, watch, Error::InvalidArgument(format!("request too large: {err}")));
            return;
        }
        span.in_scope(|| debug!(xid, %op, "sent"));
        let remove = match (&request, id) {
            (Request::RemoveWatches(r), Some(_)) => {
                WatcherType::try_from(r.watcher_type).ok().map(|t| (r.path.clone(), t))
            }
            _ => None,
        };
        self.last_send = now;
        self.pending.push_back(Pending { xid, op, id, watch, remove, span });
    }

    fn fail(&mut self, id: Option<RequestId>, watch: Option<WatchRegistration>, err: Error) {
        if let Some(watch) = watch {
            self.cancelled.remove(&watch.id);
            self.outputs.push_back(Output::Unregistered(watch.id));
        }
        self.complete(id, Err(err));
    }

    fn complete(&mut self, id: Option<RequestId>, result: Result<Response, Error>) {
        if let Some(id) = id {
            self.outputs.push_back(Output::Completed { id, result });
        }
    }

    fn set_state(&mut self, state: SessionState) {
        if self.state != state {
            self.state = state;
            self.outputs.push_back(Output::State(state));
        }
    }

    /// Drops the current connection; the session lives on (requests in flight fail with ConnectionLoss).
    fn lose(&mut self, reason: &str) {
        if self.closing.is_some() {
            return self.terminate(SessionState::Closed);
        }
        debug!(reason, in_flight = self.pending.len(), "connection lost");
        self.phase = Phase::Idle;
        self.inbuf.clear();
        self.outbuf.clear();
        for pending in std::mem::take(&mut self.pending) {
            self.fail(pending.id, pending.watch, Error::ConnectionLoss);
        }
        for id in std::mem::take(&mut self.pending_auths) {
            self.complete(id, Err(Error::ConnectionLoss));
        }
        if self.state.is_connected() {
            self.set_state(SessionState::Disconnected);
        }
        self.outputs.push_back(Output::Disconnect);
    }

    /// Ends the session for good: everything waiting fails, every watcher gets a last session event.
    fn terminate(&mut self, state: SessionState) {
        if self.phase == Phase::Over {
            return;
        }
        self.phase = Phase::Over;
        self.state = state;
        let err = self.terminal_error();
        self.inbuf.clear();
        self.outbuf.clear();
        self.closing = None;
        for pending in std::mem::take(&mut self.pending) {
            if pending.op == OpCode::CloseSession && state == SessionState::Closed {
                self.complete(pending.id, Ok(Response::CloseSession));
            } else {
                self.fail(pending.id, pending.watch, err.clone());
            }
        }
        for queued in std::mem::take(&mut self.queued) {
            self.fail(queued.id, queued.watch, err.clone());
        }
        for id in std::mem::take(&mut self.close_waiters) {
            let result = if state == SessionState::Closed { Ok(Response::CloseSession) } else { Err(err.clone()) };
            self.complete(Some(id), result);
        }
        for id in std::mem::take(&mut self.pending_auths) {
            self.complete(id, Err(err.clone()));
        }
        for (_, id) in std::mem::take(&mut self.auths) {
            self.complete(id, Err(err.clone()));
        }
        let keeper_state = match state {
            SessionState::Expired => KeeperState::Expired,
            SessionState::AuthFailed => KeeperState::AuthFailed,
            _ => KeeperState::Closed,
        };
        for watcher in self.watches.drain() {
            let event =
                WatchedEvent { event_type: EventType::None, state: keeper_state, path: String::new(), zxid: -1 };
            self.outputs.push_back(Output::Watch { watcher, event, done: true });
        }
        self.outputs.push_back(Output::State(state));
        self.outputs.push_back(Output::Disconnect);
    }
}
