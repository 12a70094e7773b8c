//! Timed work: session expiry and reaping of empty containers and expired TTL nodes.

use tracing::info;
use zk_proto::{DeleteContainerRequest, NodeKind, Request};

use super::{Now, Origin, ServerCore};
use crate::prep::{self, PrepContext};

impl ServerCore {
    /// When [`ServerCore::tick`] should run next (monotonic ms).
    pub fn next_tick(&self) -> i64 {
        if self.restart_expiry {
            return 0;
        }
        if self.config.role.is_learner() {
            return self.next_container_check_ms;
        }
        if self.is_read_only() {
            return self.next_local_expiry();
        }
        self.sessions.next_expiry_time().min(self.next_container_check_ms)
    }

    /// Expires sessions whose time has passed and reaps containers and TTL nodes when due.
    ///
    /// Only a standalone server or a leader does either (`SessionTrackerImpl` and `ContainerManager`
    /// run there alone); on a learner a tick does nothing, and on a read-only server it expires the
    /// sessions local to it.
    pub fn tick(&mut self, now: Now) {
        if self.restart_expiry {
            // A new role: every session gets its full timeout from now.
            self.restart_expiry = false;
            self.sessions = crate::session::SessionTracker::restore(
                self.config.tick_time,
                self.sessions.next_session_id(),
                self.sessions.sessions_with_timeouts(),
                now.mono_ms,
            );
        }
        if self.is_read_only() {
            self.expire_local_sessions(now);
            return;
        }
        if self.config.role.is_learner() {
            if now.mono_ms >= self.next_container_check_ms {
                self.next_container_check_ms = now.mono_ms + self.config.container_check_interval_ms;
            }
            return;
        }
        for session_id in self.sessions.expire(now.mono_ms) {
            info!(session = format_args!("{session_id:#x}"), "session expired");
            self.stats.expired_sessions += 1;
            let prepared = self.spec.with(&self.tree, |tree| prep::close_session(tree, session_id));
            self.propose(session_id, 0, prepared, Origin::Internal, now);
        }
        if now.mono_ms >= self.next_container_check_ms {
            self.next_container_check_ms = now.mono_ms + self.config.container_check_interval_ms;
            self.reap_containers(now);
        }
    }

    /// `ContainerManager.checkContainers`: deletes empty containers that once had children and
    /// childless TTL nodes not modified within their TTL, at most `container_max_per_minute` per run.
    fn reap_containers(&mut self, now: Now) {
        let mut candidates: Vec<String> = Vec::new();
        for path in self.tree.containers() {
            if let Some(node) = self.tree.get(path) {
                if node.num_children() == 0 && node.stat_persisted().cversion > 0 {
                    candidates.push(path.to_owned());
                }
            }
        }
        for path in self.tree.ttl_nodes() {
            if let Some(node) = self.tree.get(path) {
                if let NodeKind::Ttl(ttl) = node.kind() {
                    if node.num_children() == 0 && now.wall_ms - node.stat_persisted().mtime > ttl {
                        candidates.push(path.to_owned());
                    }
                }
            }
        }
        candidates.truncate(self.config.container_max_per_minute);
        let auth = self.config.auth.clone();
        for path in candidates {
            let request = Request::DeleteContainer(DeleteContainerRequest { path });
            let ctx = PrepContext {
                auth: &auth,
                ids: &[],
                session_id: 0,
                extended_types: self.config.extended_types,
                reconfig_enabled: false,
                enforce_quota: false,
                ensemble: None,
            };
            // Another write may have changed the node since: then the delete fails harmlessly.
            if let Ok(prepared) = self.spec.with(&self.tree, |tree| prep::prepare(tree, &ctx, &request)) {
                self.propose(0, 0, prepared, Origin::Internal, now);
            }
        }
    }
}
