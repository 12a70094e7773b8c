//! Read requests, answered from the committed tree (ZooKeeper's `FinalRequestProcessor` read cases):
//! ACL checks, watch registration and the reply body.

use zk_proto::{
    perms, AddWatchMode, ErrorCode, ErrorResponse, ExistsResponse, GetAclResponse, GetAllChildrenNumberResponse,
    GetChildren2Response, GetChildrenResponse, GetDataResponse, GetEphemeralsResponse, MultiOp, MultiResponse,
    OpResult, Request, Response, SyncResponse, WatcherType, WhoAmIResponse,
};

use crate::acl::{mask_digest_ids, AuthConfig};
use crate::net::ConnId;
use bytes::Bytes;

use crate::tree::DataTree;
use crate::watch::WatchManager;

/// Everything a read needs besides the request.
#[derive(Debug)]
pub struct ReadContext<'a> {
    /// The committed tree.
    pub tree: &'a DataTree,
    /// Where watches are registered.
    pub watches: &'a mut WatchManager<ConnId>,
    /// The asking connection (watches belong to it).
    pub conn: ConnId,
    /// The requesting session.
    pub session_id: i64,
    /// The connection's authenticated ids.
    pub ids: &'a [zk_proto::Id],
    /// ACL settings.
    pub auth: &'a AuthConfig,
}

impl ReadContext<'_> {
    fn check(&self, path: &str, perm: i32) -> Result<(), ErrorCode> {
        let acl = self.tree.acl(path).ok_or(ErrorCode::NoNode)?;
        self.auth.check_acl(&acl, self.ids, perm)
    }

    fn get_data(&mut self, path: &str, watch: bool) -> Result<GetDataResponse, ErrorCode> {
        let node = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        self.check(path, perms::READ)?;
        let response = GetDataResponse { data: node.data().map(Bytes::copy_from_slice), stat: node.stat() };
        if watch {
            self.watches.add_data_watch(path, self.conn);
        }
        Ok(response)
    }

    fn get_children(&mut self, path: &str, watch: bool) -> Result<(Vec<String>, zk_proto::Stat), ErrorCode> {
        let node = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        self.check(path, perms::READ)?;
        let children = self.tree.children(path).into_iter().flatten().map(str::to_owned).collect();
        if watch {
            self.watches.add_child_watch(path, self.conn);
        }
        Ok((children, node.stat()))
    }
}

/// Answers a read request. `Err` is the error code of the reply.
pub fn read(ctx: &mut ReadContext<'_>, request: &Request) -> Result<Response, ErrorCode> {
    Ok(match request {
        Request::Exists(r) => {
            if r.path.contains('\0') {
                return Err(ErrorCode::BadArguments);
            }
            match ctx.tree.get(&r.path) {
                Some(node) => {
                    let stat = node.stat();
                    if r.watch {
                        ctx.watches.add_data_watch(&r.path, ctx.conn);
                    }
                    Response::Exists(ExistsResponse { stat })
                }
                None => {
                    // A watch on a missing node waits for its creation.
                    if r.watch {
                        ctx.watches.add_exist_watch(&r.path, ctx.conn);
                    }
                    return Err(ErrorCode::NoNode);
                }
            }
        }
        Request::GetData(r) => Response::GetData(ctx.get_data(&r.path, r.watch)?),
        Request::GetChildren(r) => {
            Response::GetChildren(GetChildrenResponse { children: ctx.get_children(&r.path, r.watch)?.0 })
        }
        Request::GetChildren2(r) => {
            let (children, stat) = ctx.get_children(&r.path, r.watch)?;
            Response::GetChildren2(GetChildren2Response { children, stat })
        }
        Request::GetAcl(r) => {
            let node = ctx.tree.get(&r.path).ok_or(ErrorCode::NoNode)?;
            ctx.check(&r.path, perms::READ | perms::ADMIN)?;
            let acl = ctx.tree.acl(&r.path).ok_or(ErrorCode::NoNode)?;
            // Without ADMIN, digest hashes are hidden.
            let acl = match ctx.check(&r.path, perms::ADMIN) {
                Ok(()) => acl.to_vec(),
                Err(_) => mask_digest_ids(&acl),
            };
            Response::GetAcl(GetAclResponse { acl, stat: node.stat() })
        }
        Request::GetAllChildrenNumber(r) => {
            ctx.tree.get(&r.path).ok_or(ErrorCode::NoNode)?;
            ctx.check(&r.path, perms::READ)?;
            let total_number = ctx.tree.get_all_children_number(&r.path);
            Response::GetAllChildrenNumber(GetAllChildrenNumberResponse { total_number })
        }
        Request::GetEphemerals(r) => {
            let prefix = r.prefix_path.trim();
            let all = prefix.is_empty() || prefix == "/";
            let ephemerals = ctx
                .tree
                .ephemerals(ctx.session_id)
                .filter(|path| all || path.starts_with(r.prefix_path.as_str()))
                .map(str::to_owned)
                .collect();
            Response::GetEphemerals(GetEphemeralsResponse { ephemerals })
        }
        Request::MultiRead(multi) => {
            let mut results = Vec::with_capacity(multi.ops.len());
            for op in &multi.ops {
                let result = match op {
                    MultiOp::GetData(r) => ctx.get_data(&r.path, false).map(OpResult::GetData),
                    MultiOp::GetChildren(r) => ctx
                        .get_children(&r.path, false)
                        .map(|(children, _)| OpResult::GetChildren(GetChildrenResponse { children })),
                    // ZooKeeper rejects the whole request ("Invalid type of readOp").
                    _ => return Err(ErrorCode::MarshallingError),
                };
                results.push(result.unwrap_or_else(|err| OpResult::Error(err.code())));
            }
            Response::MultiRead(MultiResponse { results })
        }
        Request::Sync(r) => Response::Sync(SyncResponse { path: r.path.clone() }),
        Request::AddWatch(r) => {
            let mode = AddWatchMode::try_from(r.mode).map_err(|_| ErrorCode::MarshallingError)?;
            ctx.watches.add_persistent_watch(&r.path, ctx.conn, mode);
            Response::AddWatch(ErrorResponse { err: 0 })
        }
        Request::CheckWatches(r) => {
            let kind = WatcherType::try_from(r.watcher_type).map_err(|_| ErrorCode::MarshallingError)?;
            if !ctx.watches.check_watches(&r.path, ctx.conn, kind) {
                return Err(ErrorCode::NoWatcher);
            }
            Response::CheckWatches
        }
        Request::RemoveWatches(r) => {
            let kind = WatcherType::try_from(r.watcher_type).map_err(|_| ErrorCode::MarshallingError)?;
            if !ctx.watches.remove_watches(&r.path, ctx.conn, kind) {
                return Err(ErrorCode::NoWatcher);
            }
            Response::RemoveWatches
        }
        Request::Ping => Response::Ping,
        other => {
            tracing::warn!(op = %other.op_code(), "not a read request");
            return Err(ErrorCode::MarshallingError);
        }
    })
}

/// The `whoAmI` reply for a connection's ids.
pub fn who_am_i(auth: &AuthConfig, ids: &[zk_proto::Id]) -> Response {
    let auth_info = crate::acl::AuthInfo::from_ids(ids.iter().cloned());
    Response::WhoAmI(WhoAmIResponse { client_info: auth_info.who_am_i(auth) })
}
