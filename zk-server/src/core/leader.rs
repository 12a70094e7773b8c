//! The leader's side of the ensemble: requests learners forward, and the sessions they report.

use bytes::{Buf, Bytes};
use tracing::{debug, warn};
use zk_proto::{ErrorCode, Id, OpCode, Request};

use super::{Now, Origin, ServerCore};
use crate::prep::{self, PrepContext};

impl ServerCore {
    /// A learner's forwarded request (a REQUEST packet, `LearnerHandler` → `submitLearnerRequest`):
    /// prepared exactly like a local write, against the speculative tree, with `authinfo` as the
    /// requester's ids for ACL checks, and proposed ([`super::Output::Persist`]); a write that fails
    /// becomes an error txn, as in `PrepRequestProcessor`. Nothing is answered here: the learner holding
    /// the connection replies when it applies the txn.
    ///
    /// `createSession` (-10) carries the negotiated timeout as its body: the session is tracked from
    /// now on by this leader (`LeaderSessionTracker.trackSession`), which alone expires sessions in an
    /// ensemble. A write of a session this leader does not know or that is closing fails with
    /// `SessionExpired` (`checkSession`). `sync` is Zab's business (`Leader.processSync`) and reads are
    /// never forwarded: both are ignored here. Ignored too on a server that is not the leader.
    pub fn remote_request(
        &mut self,
        session_id: i64,
        cxid: i32,
        op_code: i32,
        mut body: Bytes,
        authinfo: Vec<Id>,
        now: Now,
    ) {
        if self.config.role != super::Role::Leader {
            warn!(role = self.config.role.mode(), "forwarded request on a server that is not the leader; ignored");
            return;
        }
        let op = match OpCode::try_from(op_code) {
            Ok(op) if op.is_write() => op,
            Ok(op) => {
                debug!(%op, "forwarded request without a txn (sync or read); ignored");
                return;
            }
            Err(unknown) => {
                warn!(op = unknown, "forwarded request with an unknown opcode; ignored");
                return;
            }
        };
        let prepared = if op == OpCode::CreateSession {
            // `request.request.getInt()`: a body too short to hold it fails the request.
            if body.remaining() < 4 {
                prep::error(ErrorCode::MarshallingError)
            } else {
                let timeout = body.get_i32();
                self.sessions.track_session(session_id, timeout, now.mono_ms);
                prep::create_session(timeout)
            }
        } else {
            self.prepare_remote(session_id, op, &mut body, &authinfo, now)
        };
        if prepared.op_code == OpCode::CloseSession {
            self.sessions.set_closing(session_id);
        }
        self.propose(session_id, cxid, prepared, Origin::Learner, now);
    }

    /// Prepares a forwarded write other than `createSession`.
    fn prepare_remote(
        &mut self,
        session_id: i64,
        op: OpCode,
        body: &mut Bytes,
        authinfo: &[Id],
        now: Now,
    ) -> prep::Prepared {
        let request = match Request::decode(op, body) {
            Ok(request) => request,
            Err(err) => {
                debug!(%err, "malformed forwarded request body");
                return prep::error(ErrorCode::MarshallingError);
            }
        };
        // `checkSession`, which `PrepRequestProcessor` skips for closeSession (the expirer issues
        // those without owning the session).
        if op != OpCode::CloseSession && self.sessions.get(session_id).is_none_or(|s| s.closing) {
            return prep::error(ErrorCode::SessionExpired);
        }
        let ctx = PrepContext {
            auth: &self.config.auth,
            ids: authinfo,
            session_id,
            extended_types: self.config.extended_types,
            reconfig_enabled: self.config.reconfig_enabled,
            enforce_quota: self.config.enforce_quota,
            ensemble: Self::reconfig_context(&self.membership, self.config.role, &self.in_flight, self.last_zxid),
        };
        let zxid = self.last_zxid + 1;
        self.spec
            .with(&self.tree, |tree| prep::prepare_request(tree, &ctx, zxid, now.wall_ms, &request))
            .unwrap_or_else(prep::error)
    }

    /// Session activity learners report in their PING replies (`LearnerHandler` → `ZooKeeperServer.touch`):
    /// each `(session, timeout)` is touched as if its client had sent a request here.
    pub fn touch_sessions(&mut self, sessions: &[(i64, i32)], now: Now) {
        for &(session_id, timeout) in sessions {
            if !self.sessions.touch_with_timeout(session_id, timeout, now.mono_ms) {
                debug!(session = format_args!("{session_id:#x}"), "touch of an unknown or closing session");
            }
        }
    }

    /// The answer to a learner's REVALIDATE (`LearnerMaster.revalidateSession` →
    /// `checkIfValidGlobalSession`): whether the session is alive; a valid session is touched with the
    /// reconnecting client's `timeout`.
    pub fn revalidate(&mut self, session_id: i64, timeout: i32, now: Now) -> bool {
        let valid = self.sessions.touch_with_timeout(session_id, timeout, now.mono_ms);
        debug!(session = format_args!("{session_id:#x}"), valid, "revalidation");
        valid
    }
}
