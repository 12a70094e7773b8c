//! Hand-built txn entries for the tests.

use bytes::Bytes;
use zk_proto::{
    Acl, CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateTtlTxn, CreateTxn, DeleteTxn, ErrorTxn, Id,
    MultiTxn, OpCode, SetAclTxn, SetDataTxn, TxnBody, TxnEntry, TxnHeader,
};

/// The time of zxid 0; txn `z` happens at `T0 + z`.
pub const T0: i64 = 1_700_000_000_000;

/// A txn entry with the header ZooKeeper's leader would write.
pub fn entry(client: i64, zxid: i64, op: OpCode, body: TxnBody) -> TxnEntry {
    TxnEntry {
        header: TxnHeader { client_id: client, cxid: 1, zxid, time: T0 + zxid, op_code: op.code() },
        body,
        digest: None,
    }
}

pub fn data(bytes: &[u8]) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(bytes))
}

pub fn digest_acl() -> Vec<Acl> {
    vec![Acl::new(zk_proto::perms::ALL, Id::new("digest", "u:p"))]
}

pub fn create(path: &str, data: Option<Bytes>, acl: Vec<Acl>, ephemeral: bool, parent_c_version: i32) -> TxnBody {
    TxnBody::Create(CreateTxn { path: path.into(), data, acl, ephemeral, parent_c_version })
}

pub fn create_container(path: &str, data: Option<Bytes>, parent_c_version: i32) -> TxnBody {
    TxnBody::CreateContainer(CreateContainerTxn { path: path.into(), data, acl: Acl::open_unsafe(), parent_c_version })
}

pub fn create_ttl(path: &str, data: Option<Bytes>, parent_c_version: i32, ttl: i64) -> TxnBody {
    TxnBody::CreateTtl(CreateTtlTxn { path: path.into(), data, acl: Acl::open_unsafe(), parent_c_version, ttl })
}

pub fn delete(path: &str) -> TxnBody {
    TxnBody::Delete(DeleteTxn { path: path.into() })
}

pub fn set_data(path: &str, data: Option<Bytes>, version: i32) -> TxnBody {
    TxnBody::SetData(SetDataTxn { path: path.into(), data, version })
}

pub fn set_acl(path: &str, acl: Vec<Acl>, version: i32) -> TxnBody {
    TxnBody::SetAcl(SetAclTxn { path: path.into(), acl, version })
}

pub fn check(path: &str, version: i32) -> TxnBody {
    TxnBody::Check(CheckVersionTxn { path: path.into(), version })
}

pub fn error(code: i32) -> TxnBody {
    TxnBody::Error(ErrorTxn { err: code })
}

pub fn close_session(paths: &[&str]) -> TxnBody {
    TxnBody::CloseSession(Some(CloseSessionTxn { paths2_delete: paths.iter().map(|p| p.to_string()).collect() }))
}

/// A multi of `(sub-op type, body)` pairs.
pub fn multi(subs: Vec<(OpCode, TxnBody)>) -> TxnBody {
    TxnBody::Multi(MultiTxn { txns: subs.iter().map(|(op, body)| body.to_sub_txn(*op)).collect() })
}
