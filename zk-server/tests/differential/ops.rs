//! Short constructors for the requests the scripts send.

use bytes::Bytes;
use zk_proto::*;

/// `world:anyone` with every permission.
pub fn open() -> Vec<Acl> {
    Acl::open_unsafe()
}

/// A digest id for `user:password`, as `DigestAuthenticationProvider.generateDigest` makes it.
pub fn digest_id(user_password: &str) -> Id {
    use base64::Engine as _;
    use sha1::Digest as _;
    let (user, _) = user_password.split_once(':').expect("user:password");
    let hash = sha1::Sha1::digest(user_password.as_bytes());
    Id::new("digest", format!("{user}:{}", base64::engine::general_purpose::STANDARD.encode(hash)))
}

fn data(bytes: &[u8]) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(bytes))
}

fn create_request(path: &str, value: &[u8], acl: Vec<Acl>, flags: i32) -> CreateRequest {
    CreateRequest { path: path.into(), data: data(value), acl, flags }
}

/// `create` (op 1).
pub fn create(path: &str, value: &[u8], acl: Vec<Acl>, flags: i32) -> Request {
    Request::Create(create_request(path, value, acl, flags))
}

/// `create` of an open persistent node.
pub fn mk(path: &str, value: &[u8]) -> Request {
    create(path, value, open(), 0)
}

/// `create2` (op 15).
pub fn create2(path: &str, value: &[u8], acl: Vec<Acl>, flags: i32) -> Request {
    Request::Create2(create_request(path, value, acl, flags))
}

/// `createContainer` (op 19).
pub fn create_container(path: &str, flags: i32) -> Request {
    Request::CreateContainer(create_request(path, b"", open(), flags))
}

/// `createTTL` (op 21).
pub fn create_ttl(path: &str, flags: i32, ttl: i64) -> Request {
    Request::CreateTtl(CreateTtlRequest { path: path.into(), data: data(b"t"), acl: open(), flags, ttl })
}

/// `delete`.
pub fn delete(path: &str, version: i32) -> Request {
    Request::Delete(DeleteRequest { path: path.into(), version })
}

/// `exists`.
pub fn exists(path: &str, watch: bool) -> Request {
    Request::Exists(ExistsRequest { path: path.into(), watch })
}

/// `getData`.
pub fn get_data(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest { path: path.into(), watch })
}

/// `setData`.
pub fn set_data(path: &str, value: &[u8], version: i32) -> Request {
    Request::SetData(SetDataRequest { path: path.into(), data: data(value), version })
}

/// `getACL`.
pub fn get_acl(path: &str) -> Request {
    Request::GetAcl(GetAclRequest { path: path.into() })
}

/// `setACL`.
pub fn set_acl(path: &str, acl: Vec<Acl>, version: i32) -> Request {
    Request::SetAcl(SetAclRequest { path: path.into(), acl, version })
}

/// `getChildren`.
pub fn children(path: &str, watch: bool) -> Request {
    Request::GetChildren(GetChildrenRequest { path: path.into(), watch })
}

/// `getChildren2`.
pub fn children2(path: &str, watch: bool) -> Request {
    Request::GetChildren2(GetChildren2Request { path: path.into(), watch })
}

/// `sync`.
pub fn sync(path: &str) -> Request {
    Request::Sync(SyncRequest { path: path.into() })
}

/// `multi`.
pub fn multi(ops: Vec<MultiOp>) -> Request {
    Request::Multi(MultiRequest { ops })
}

/// `multiRead`.
pub fn multi_read(ops: Vec<MultiOp>) -> Request {
    Request::MultiRead(MultiRequest { ops })
}

/// Multi sub-op `create`.
pub fn m_create(path: &str, value: &[u8], flags: i32) -> MultiOp {
    MultiOp::Create(create_request(path, value, open(), flags))
}

/// Multi sub-op `create2`.
pub fn m_create2(path: &str, value: &[u8], flags: i32) -> MultiOp {
    MultiOp::Create2(create_request(path, value, open(), flags))
}

/// Multi sub-op `delete`.
pub fn m_delete(path: &str, version: i32) -> MultiOp {
    MultiOp::Delete(DeleteRequest { path: path.into(), version })
}

/// Multi sub-op `setData`.
pub fn m_set(path: &str, value: &[u8], version: i32) -> MultiOp {
    MultiOp::SetData(SetDataRequest { path: path.into(), data: data(value), version })
}

/// Multi sub-op `check`.
pub fn m_check(path: &str, version: i32) -> MultiOp {
    MultiOp::Check(CheckVersionRequest { path: path.into(), version })
}

/// Multi sub-op `getData`.
pub fn m_get(path: &str) -> MultiOp {
    MultiOp::GetData(GetDataRequest { path: path.into(), watch: false })
}

/// Multi sub-op `getChildren`.
pub fn m_children(path: &str) -> MultiOp {
    MultiOp::GetChildren(GetChildrenRequest { path: path.into(), watch: false })
}

/// `getEphemerals`.
pub fn ephemerals(prefix: &str) -> Request {
    Request::GetEphemerals(GetEphemeralsRequest { prefix_path: prefix.into() })
}

/// `getAllChildrenNumber`.
pub fn all_children(path: &str) -> Request {
    Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: path.into() })
}

/// `addWatch`.
pub fn add_watch(path: &str, mode: i32) -> Request {
    Request::AddWatch(AddWatchRequest { path: path.into(), mode })
}

/// `checkWatches`.
pub fn check_watches(path: &str, watcher_type: i32) -> Request {
    Request::CheckWatches(CheckWatchesRequest { path: path.into(), watcher_type })
}

/// `removeWatches`.
pub fn remove_watches(path: &str, watcher_type: i32) -> Request {
    Request::RemoveWatches(RemoveWatchesRequest { path: path.into(), watcher_type })
}

fn strings(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

/// `setWatches` (xid -8); the runner fills in the slot's last seen zxid.
pub fn set_watches(data: &[&str], exist: &[&str], child: &[&str]) -> Request {
    Request::SetWatches(SetWatches {
        relative_zxid: 0,
        data_watches: strings(data),
        exist_watches: strings(exist),
        child_watches: strings(child),
    })
}

/// `setWatches2` (xid -8) with persistent and persistent recursive watches; the runner fills in the
/// slot's last seen zxid.
pub fn set_watches2(data: &[&str], persistent: &[&str], recursive: &[&str]) -> Request {
    Request::SetWatches2(SetWatches2 {
        relative_zxid: 0,
        data_watches: strings(data),
        exist_watches: Vec::new(),
        child_watches: Vec::new(),
        persistent_watches: strings(persistent),
        persistent_recursive_watches: strings(recursive),
    })
}
