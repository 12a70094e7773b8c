//! Txn records: what the leader logs and replicates for every write (`org.apache.zookeeper.txn`).
//!
//! A serialized txn entry (a PROPOSAL's data and a txn log record) is `TxnHeader ‖ body ‖ [TxnDigest]`;
//! [`TxnEntry`] encodes and decodes that whole unit.

use bytes::{Buf, BufMut, Bytes};

use crate::acl::Acl;
use crate::error::DecodeError;
use crate::jute::{jute_record, Jute};
use crate::opcode::OpCode;

jute_record! {
    /// The header of every txn.
    pub struct TxnHeader {
        /// The session that issued the request.
        pub client_id: i64,
        /// The request's xid.
        pub cxid: i32,
        /// The txn's zxid.
        pub zxid: i64,
        /// The leader's wall clock (ms) when the txn was created.
        pub time: i64,
        /// An [`OpCode`] code (the body type).
        pub op_code: i32,
    }
}

jute_record! {
    /// The data tree digest after applying a txn.
    pub struct TxnDigest {
        /// The digest version ([`TxnDigest::VERSION`]).
        pub version: i32,
        /// The tree digest.
        pub tree_digest: i64,
    }
}

impl TxnDigest {
    /// The digest version ZooKeeper writes (`DigestCalculator.DIGEST_VERSION`).
    pub const VERSION: i32 = 2;
}

jute_record! {
    /// `create` / `create2`.
    pub struct CreateTxn {
        /// The created path.
        pub path: String,
        /// The data.
        pub data: Option<Bytes>,
        /// The ACL.
        pub acl: Vec<Acl>,
        /// Whether the node is ephemeral (owned by the txn's session).
        pub ephemeral: bool,
        /// The parent's cversion after the create.
        pub parent_c_version: i32,
    }
}

jute_record! {
    /// A create txn from before parentCVersion existed (legacy logs). [`TxnBody::decode`] reads a
    /// `create` body in this form as a [`CreateTxn`] (see its `From` conversion).
    pub struct CreateTxnV0 {
        /// The created path.
        pub path: String,
        /// The data.
        pub data: Option<Bytes>,
        /// The ACL.
        pub acl: Vec<Acl>,
        /// Whether the node is ephemeral.
        pub ephemeral: bool,
    }
}

/// A legacy create as ZooKeeper upgrades it: `parent_c_version` -1, which tells the tree to use the
/// parent's cversion + 1 when the txn is applied.
impl From<CreateTxnV0> for CreateTxn {
    fn from(v0: CreateTxnV0) -> CreateTxn {
        CreateTxn { path: v0.path, data: v0.data, acl: v0.acl, ephemeral: v0.ephemeral, parent_c_version: -1 }
    }
}

impl CreateTxn {
    /// Decodes a `create` body as ZooKeeper's `SerializeUtils.deserializeTxn` does: a body that ends
    /// before `parentCVersion` (fewer than 4 bytes left after `ephemeral`) is a [`CreateTxnV0`], read as
    /// `CreateTxn::from(v0)`.
    fn decode_or_v0(buf: &mut Bytes) -> Result<CreateTxn, DecodeError> {
        let v0 = CreateTxnV0::decode(buf)?;
        if buf.remaining() < i32::MIN_LEN {
            return Ok(v0.into());
        }
        let parent_c_version = i32::decode(buf)?;
        Ok(CreateTxn { parent_c_version, ..v0.into() })
    }
}

jute_record! {
    /// `createTTL`.
    pub struct CreateTtlTxn {
        /// The created path.
        pub path: String,
        /// The data.
        pub data: Option<Bytes>,
        /// The ACL.
        pub acl: Vec<Acl>,
        /// The parent's cversion after the create.
        pub parent_c_version: i32,
        /// The TTL in ms.
        pub ttl: i64,
    }
}

jute_record! {
    /// `createContainer`.
    pub struct CreateContainerTxn {
        /// The created path.
        pub path: String,
        /// The data.
        pub data: Option<Bytes>,
        /// The ACL.
        pub acl: Vec<Acl>,
        /// The parent's cversion after the create.
        pub parent_c_version: i32,
    }
}

jute_record! {
    /// `delete` / `deleteContainer`.
    pub struct DeleteTxn {
        /// The deleted path.
        pub path: String,
    }
}

jute_record! {
    /// `setData` (and `reconfig`, which writes `/zookeeper/config`).
    pub struct SetDataTxn {
        /// The node.
        pub path: String,
        /// The new data.
        pub data: Option<Bytes>,
        /// The new data version.
        pub version: i32,
    }
}

jute_record! {
    /// `check` inside a multi.
    pub struct CheckVersionTxn {
        /// The node.
        pub path: String,
        /// The checked version.
        pub version: i32,
    }
}

jute_record! {
    /// `setACL`.
    pub struct SetAclTxn {
        /// The node.
        pub path: String,
        /// The new ACL.
        pub acl: Vec<Acl>,
        /// The new ACL version.
        pub version: i32,
    }
}

jute_record! {
    /// `createSession`.
    pub struct CreateSessionTxn {
        /// The negotiated timeout in ms.
        pub time_out: i32,
    }
}

jute_record! {
    /// `closeSession`: the session's ephemerals, deleted when it is applied.
    pub struct CloseSessionTxn {
        /// Paths to delete.
        pub paths2_delete: Vec<String>,
    }
}

jute_record! {
    /// A failed write (or multi sub-op).
    pub struct ErrorTxn {
        /// The error code.
        pub err: i32,
    }
}

jute_record! {
    /// One sub-txn of a multi: its type and serialized body.
    pub struct Txn {
        /// An [`OpCode`] code.
        pub op_code: i32,
        /// The serialized body record.
        pub data: Bytes,
    }
}

jute_record! {
    /// `multi`: the sub-txns, applied atomically.
    pub struct MultiTxn {
        /// The sub-txns.
        pub txns: Vec<Txn>,
    }
}

jute_record! {
    /// `setMaxChildren` (legacy).
    pub struct SetMaxChildrenTxn {
        /// The node.
        pub path: String,
        /// The limit.
        pub max: i32,
    }
}

/// A txn body, typed by the header's opcode.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TxnBody {
    /// `create` / `create2`.
    Create(CreateTxn),
    /// `createTTL`.
    CreateTtl(CreateTtlTxn),
    /// `createContainer`.
    CreateContainer(CreateContainerTxn),
    /// `delete` / `deleteContainer`.
    Delete(DeleteTxn),
    /// `setData` / `reconfig`.
    SetData(SetDataTxn),
    /// `check` (inside a multi).
    Check(CheckVersionTxn),
    /// `setACL`.
    SetAcl(SetAclTxn),
    /// `createSession`.
    CreateSession(CreateSessionTxn),
    /// `closeSession`. `None`: no body, as written before ZooKeeper 3.6 and by servers running with
    /// `zookeeper.closeSessionTxn.enabled=false`.
    CloseSession(Option<CloseSessionTxn>),
    /// `error`.
    Error(ErrorTxn),
    /// `multi`.
    Multi(MultiTxn),
}

impl TxnBody {
    /// Decodes the body of a txn of type `op_code`.
    ///
    /// As in ZooKeeper's `SerializeUtils.deserializeTxn`, a `create` body too short for
    /// `parentCVersion` is a legacy [`CreateTxnV0`], decoded as a [`CreateTxn`] with `parent_c_version`
    /// -1 (so it re-encodes in the current form). Multi sub-txns ([`Txn::body`]) are read the same way;
    /// ZooKeeper reads those strictly, but never wrote them in the legacy form.
    ///
    /// An empty `closeSession` body is `CloseSession(None)`; a body-less one followed by a digest is
    /// told apart by [`TxnEntry`], which sees the whole entry.
    pub fn decode(op_code: i32, buf: &mut Bytes) -> Result<TxnBody, DecodeError> {
        let op = OpCode::try_from(op_code).map_err(DecodeError::UnknownOpCode)?;
        Ok(match op {
            OpCode::Create => TxnBody::Create(CreateTxn::decode_or_v0(buf)?),
            OpCode::Create2 => TxnBody::Create(Jute::decode(buf)?),
            OpCode::CreateTtl => TxnBody::CreateTtl(Jute::decode(buf)?),
            OpCode::CreateContainer => TxnBody::CreateContainer(Jute::decode(buf)?),
            OpCode::Delete | OpCode::DeleteContainer => TxnBody::Delete(Jute::decode(buf)?),
            OpCode::SetData | OpCode::Reconfig => TxnBody::SetData(Jute::decode(buf)?),
            OpCode::Check => TxnBody::Check(Jute::decode(buf)?),
            OpCode::SetAcl => TxnBody::SetAcl(Jute::decode(buf)?),
            OpCode::CreateSession => TxnBody::CreateSession(Jute::decode(buf)?),
            OpCode::CloseSession if !buf.has_remaining() => TxnBody::CloseSession(None),
            OpCode::CloseSession => TxnBody::CloseSession(Some(Jute::decode(buf)?)),
            OpCode::Error => TxnBody::Error(Jute::decode(buf)?),
            OpCode::Multi => TxnBody::Multi(Jute::decode(buf)?),
            other => return Err(DecodeError::UnknownOpCode(other.code())),
        })
    }

    /// Appends the body record.
    pub fn encode<B: BufMut>(&self, buf: &mut B) {
        match self {
            TxnBody::Create(t) => t.encode(buf),
            TxnBody::CreateTtl(t) => t.encode(buf),
            TxnBody::CreateContainer(t) => t.encode(buf),
            TxnBody::Delete(t) => t.encode(buf),
            TxnBody::SetData(t) => t.encode(buf),
            TxnBody::Check(t) => t.encode(buf),
            TxnBody::SetAcl(t) => t.encode(buf),
            TxnBody::CreateSession(t) => t.encode(buf),
            TxnBody::CloseSession(t) => t.iter().for_each(|t| t.encode(buf)),
            TxnBody::Error(t) => t.encode(buf),
            TxnBody::Multi(t) => t.encode(buf),
        }
    }

    /// The encoded length of the body record.
    pub fn encoded_len(&self) -> usize {
        match self {
            TxnBody::Create(t) => t.encoded_len(),
            TxnBody::CreateTtl(t) => t.encoded_len(),
            TxnBody::CreateContainer(t) => t.encoded_len(),
            TxnBody::Delete(t) => t.encoded_len(),
            TxnBody::SetData(t) => t.encoded_len(),
            TxnBody::Check(t) => t.encoded_len(),
            TxnBody::SetAcl(t) => t.encoded_len(),
            TxnBody::CreateSession(t) => t.encoded_len(),
            TxnBody::CloseSession(t) => t.as_ref().map_or(0, Jute::encoded_len),
            TxnBody::Error(t) => t.encoded_len(),
            TxnBody::Multi(t) => t.encoded_len(),
        }
    }

    /// The usual txn type of this body. Some bodies serve several types (a `Create` body is also
    /// `create2`'s, a `SetData` body also `reconfig`'s, a `Delete` body also `deleteContainer`'s); this
    /// gives the first of them.
    pub fn op_code(&self) -> OpCode {
        match self {
            TxnBody::Create(_) => OpCode::Create,
            TxnBody::CreateTtl(_) => OpCode::CreateTtl,
            TxnBody::CreateContainer(_) => OpCode::CreateContainer,
            TxnBody::Delete(_) => OpCode::Delete,
            TxnBody::SetData(_) => OpCode::SetData,
            TxnBody::Check(_) => OpCode::Check,
            TxnBody::SetAcl(_) => OpCode::SetAcl,
            TxnBody::CreateSession(_) => OpCode::CreateSession,
            TxnBody::CloseSession(_) => OpCode::CloseSession,
            TxnBody::Error(_) => OpCode::Error,
            TxnBody::Multi(_) => OpCode::Multi,
        }
    }

    /// Wraps this body as a multi sub-txn of type `op_code`.
    pub fn to_sub_txn(&self, op_code: OpCode) -> Txn {
        let mut data = bytes::BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut data);
        Txn { op_code: op_code.code(), data: data.freeze() }
    }
}

impl Txn {
    /// Decodes this sub-txn's body.
    pub fn body(&self) -> Result<TxnBody, DecodeError> {
        let mut data = self.data.clone();
        let body = TxnBody::decode(self.op_code, &mut data)?;
        if data.has_remaining() {
            return Err(DecodeError::TrailingBytes(data.remaining()));
        }
        Ok(body)
    }
}

/// Whether what follows a `closeSession` header is a digest and no body. ZooKeeper 3.9 with
/// `zookeeper.closeSessionTxn.enabled=false` logs closeSession as header and digest only, and its reader
/// knows that from the same setting, not from the bytes. The bytes are unambiguous all the same: a
/// [`CloseSessionTxn`] that is 12 bytes long and starts with a count of [`TxnDigest::VERSION`] (2) holds
/// two empty paths, and ZooKeeper's paths are never empty.
fn is_digest_only(rest: &Bytes) -> bool {
    rest.len() == TxnDigest::MIN_LEN && rest[..4] == TxnDigest::VERSION.to_be_bytes()
}

/// One serialized txn: header, body and the optional digest (present when digests are enabled).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TxnEntry {
    /// The header.
    pub header: TxnHeader,
    /// The body, typed by `header.op_code`.
    pub body: TxnBody,
    /// The tree digest after this txn.
    pub digest: Option<TxnDigest>,
}

impl Jute for TxnEntry {
    const MIN_LEN: usize = TxnHeader::MIN_LEN;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.header.encode(buf);
        self.body.encode(buf);
        if let Some(digest) = &self.digest {
            digest.encode(buf);
        }
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let header = TxnHeader::decode(buf)?;
        let body = if header.op_code == OpCode::CloseSession.code() && is_digest_only(buf) {
            TxnBody::CloseSession(None)
        } else {
            TxnBody::decode(header.op_code, buf)?
        };
        // Readers tolerate a missing digest (digest.enabled=false or an older writer).
        let digest = if buf.has_remaining() { Some(TxnDigest::decode(buf)?) } else { None };
        Ok(TxnEntry { header, body, digest })
    }
    fn encoded_len(&self) -> usize {
        self.header.encoded_len() + self.body.encoded_len() + self.digest.as_ref().map_or(0, Jute::encoded_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Acl;

    #[test]
    fn entry_round_trips_with_and_without_digest() {
        let header = TxnHeader { client_id: 7, cxid: 3, zxid: 0x1_0000_0005, time: 1_700_000_000_000, op_code: 1 };
        let body = TxnBody::Create(CreateTxn {
            path: "/a".into(),
            data: Some(Bytes::from_static(b"x")),
            acl: Acl::open_unsafe(),
            ephemeral: false,
            parent_c_version: 1,
        });
        for digest in [None, Some(TxnDigest { version: 2, tree_digest: -5 })] {
            let entry = TxnEntry { header: header.clone(), body: body.clone(), digest };
            assert_eq!(TxnEntry::from_bytes(entry.to_bytes()), Ok(entry));
        }
    }

    #[test]
    fn close_session_without_body_is_accepted() {
        let header = TxnHeader { client_id: 7, cxid: 0, zxid: 9, time: 0, op_code: OpCode::CloseSession.code() };
        let entry = TxnEntry::from_bytes(header.to_bytes()).unwrap();
        assert_eq!(entry.body, TxnBody::CloseSession(None));
    }

    #[test]
    fn close_session_with_a_digest_and_no_body_is_told_apart() {
        let header = TxnHeader { client_id: 7, cxid: 0, zxid: 9, time: 0, op_code: OpCode::CloseSession.code() };
        let digest = TxnDigest { version: TxnDigest::VERSION, tree_digest: 0 };
        let digest_only =
            TxnEntry { header: header.clone(), body: TxnBody::CloseSession(None), digest: Some(digest.clone()) };
        assert_eq!(TxnEntry::from_bytes(digest_only.to_bytes()), Ok(digest_only));
        // The one body of the same shape, two empty paths and no digest, reads as a digest: ZooKeeper never
        // writes it (its paths are absolute).
        let empty_paths = CloseSessionTxn { paths2_delete: vec![String::new(), String::new()] };
        let wire = [header.to_bytes(), empty_paths.to_bytes()].concat();
        let entry = TxnEntry::from_bytes(wire.into()).unwrap();
        assert_eq!(
            (entry.body, entry.digest),
            (TxnBody::CloseSession(None), Some(TxnDigest { version: 2, tree_digest: 0 }))
        );
        // A body whose count is not the digest version is a body, with or without a digest.
        let body = TxnBody::CloseSession(Some(CloseSessionTxn { paths2_delete: vec!["/e".into()] }));
        for digest in [None, Some(digest)] {
            let entry = TxnEntry { header: header.clone(), body: body.clone(), digest };
            assert_eq!(TxnEntry::from_bytes(entry.to_bytes()), Ok(entry));
        }
    }

    #[test]
    fn legacy_create_bodies_decode_as_create_with_unknown_parent_cversion() {
        let v0 = CreateTxnV0 { path: "/a".into(), data: None, acl: Acl::open_unsafe(), ephemeral: true };
        let expected = TxnBody::Create(CreateTxn {
            path: "/a".into(),
            data: None,
            acl: Acl::open_unsafe(),
            ephemeral: true,
            parent_c_version: -1,
        });
        let header = TxnHeader { client_id: 7, cxid: 1, zxid: 2, time: 3, op_code: OpCode::Create.code() };
        let entry = TxnEntry::from_bytes([header.to_bytes(), v0.to_bytes()].concat().into()).unwrap();
        assert_eq!((&entry.body, entry.digest), (&expected, None));
        // Only `create` has a legacy form, as in ZooKeeper: a short `create2` body is truncated.
        assert_eq!(TxnBody::decode(OpCode::Create2.code(), &mut v0.to_bytes()), Err(DecodeError::UnexpectedEof));
        // A body cut anywhere else is still an error.
        let mut cut = v0.to_bytes().slice(..v0.encoded_len() - 1);
        assert_eq!(TxnBody::decode(OpCode::Create.code(), &mut cut), Err(DecodeError::UnexpectedEof));
    }

    #[test]
    fn multi_sub_txns_decode_their_bodies() {
        let delete = TxnBody::Delete(DeleteTxn { path: "/gone".into() });
        let multi = MultiTxn { txns: vec![delete.to_sub_txn(OpCode::Delete)] };
        assert_eq!(multi.txns[0].body(), Ok(delete));
        let bogus = Txn { op_code: 55, data: Bytes::new() };
        assert_eq!(bogus.body(), Err(DecodeError::UnknownOpCode(55)));
    }
}

#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use super::*;
    use crate::arbitrary::{any_jute, JuteStrategy};
    use proptest::prelude::*;

    impl JuteStrategy for TxnBody {
        fn strategy() -> BoxedStrategy<Self> {
            prop_oneof![
                any_jute().prop_map(TxnBody::Create),
                any_jute().prop_map(TxnBody::CreateTtl),
                any_jute().prop_map(TxnBody::CreateContainer),
                any_jute().prop_map(TxnBody::Delete),
                any_jute().prop_map(TxnBody::SetData),
                any_jute().prop_map(TxnBody::Check),
                any_jute().prop_map(TxnBody::SetAcl),
                any_jute().prop_map(TxnBody::CreateSession),
                any_jute().prop_map(TxnBody::CloseSession),
                any_jute().prop_map(TxnBody::Error),
                any_jute().prop_map(TxnBody::Multi),
            ]
            .boxed()
        }
    }

    impl JuteStrategy for TxnEntry {
        fn strategy() -> BoxedStrategy<Self> {
            (any_jute::<TxnHeader>(), any_jute::<TxnBody>(), any_jute::<Option<TxnDigest>>())
                .prop_map(|(mut header, mut body, mut digest)| {
                    header.op_code = body.op_code().code();
                    match &mut body {
                        // A body-less closeSession's digest is recognised by its version.
                        TxnBody::CloseSession(None) => {
                            digest.iter_mut().for_each(|digest| digest.version = TxnDigest::VERSION)
                        }
                        // ZooKeeper's paths are absolute; two empty ones would read as a digest.
                        TxnBody::CloseSession(Some(txn)) => {
                            txn.paths2_delete.iter_mut().filter(|p| !p.starts_with('/')).for_each(|p| p.insert(0, '/'))
                        }
                        _ => {}
                    }
                    TxnEntry { header, body, digest }
                })
                .boxed()
        }
    }
}
