//! Request and reply bodies dispatched by opcode: what follows a `RequestHeader` or `ReplyHeader`.
//!
//! [`Request`] and [`Response`] have one variant per opcode, so a reply decodes exactly given the
//! opcode of the request it answers (the client remembers it by xid).

use bytes::{BufMut, Bytes};

use crate::error::DecodeError;
use crate::jute::Jute;
use crate::multi::{MultiRequest, MultiResponse};
use crate::node_ops::*;
use crate::opcode::OpCode;
use crate::session_ops::{AuthPacket, GetSaslRequest, ReconfigRequest, SetSaslResponse, WhoAmIResponse};
use crate::watch_ops::{
    AddWatchRequest, CheckWatchesRequest, ErrorResponse, RemoveWatchesRequest, SetWatches, SetWatches2,
};

/// Declares an enum with one variant per opcode, each with an optional body record.
macro_rules! op_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident $( ( $ty:ty ) )? = $op:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant $( ($ty) )?, )*
        }

        impl $name {
            /// The opcode this body belongs to.
            pub fn op_code(&self) -> OpCode {
                match self { $( op_enum!(@pat $name $variant $($ty)?) => OpCode::$op, )* }
            }

            /// Decodes the body of an `op` message from `buf`.
            ///
            /// Trailing bytes are left in `buf` (ZooKeeper ignores them, e.g. the body a Java server
            /// appends to some error replies).
            pub fn decode(op: OpCode, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match op {
                    $( OpCode::$op => Ok(op_enum!(@decode $name $variant buf $($ty)?)), )*
                    #[allow(unreachable_patterns)]
                    other => Err(DecodeError::UnknownOpCode(other.code())),
                }
            }

            /// Appends the body (not the header) to `buf`.
            pub fn encode<B: BufMut>(&self, buf: &mut B) {
                match self { $( op_enum!(@bind $name $variant body $($ty)?) => op_enum!(@encode body buf $($ty)?), )* }
            }

            /// The encoded body length.
            pub fn encoded_len(&self) -> usize {
                match self { $( op_enum!(@bind $name $variant body $($ty)?) => op_enum!(@len body $($ty)?), )* }
            }
        }

        #[cfg(feature = "arbitrary")]
        impl $crate::arbitrary::JuteStrategy for $name {
            fn strategy() -> ::proptest::strategy::BoxedStrategy<Self> {
                use ::proptest::strategy::Strategy as _;
                let variants: Vec<::proptest::strategy::BoxedStrategy<Self>> = vec![
                    $( op_enum!(@strategy $name $variant $($ty)?), )*
                ];
                ::proptest::strategy::Union::new(variants).boxed()
            }
        }
    };
    (@pat $name:ident $variant:ident $ty:ty) => { $name::$variant(_) };
    (@pat $name:ident $variant:ident) => { $name::$variant };
    (@decode $name:ident $variant:ident $buf:ident $ty:ty) => { $name::$variant(<$ty as Jute>::decode($buf)?) };
    (@decode $name:ident $variant:ident $buf:ident) => { $name::$variant };
    (@bind $name:ident $variant:ident $body:ident $ty:ty) => { $name::$variant($body) };
    (@bind $name:ident $variant:ident $body:ident) => { $name::$variant };
    (@encode $body:ident $buf:ident $ty:ty) => { $body.encode($buf) };
    (@encode $body:ident $buf:ident) => { () };
    (@len $body:ident $ty:ty) => { $body.encoded_len() };
    (@len $body:ident) => { 0 };
    (@strategy $name:ident $variant:ident $ty:ty) => {
        $crate::arbitrary::any_jute::<$ty>().prop_map($name::$variant).boxed()
    };
    (@strategy $name:ident $variant:ident) => { ::proptest::strategy::Just($name::$variant).boxed() };
}

op_enum! {
    /// The body of a client request, one variant per opcode.
    pub enum Request {
        /// `create`.
        Create(CreateRequest) = Create,
        /// `create2`.
        Create2(CreateRequest) = Create2,
        /// `createContainer`.
        CreateContainer(CreateRequest) = CreateContainer,
        /// `createTTL`.
        CreateTtl(CreateTtlRequest) = CreateTtl,
        /// `delete`.
        Delete(DeleteRequest) = Delete,
        /// `deleteContainer` (internal).
        DeleteContainer(DeleteContainerRequest) = DeleteContainer,
        /// `exists`.
        Exists(ExistsRequest) = Exists,
        /// `getData`.
        GetData(GetDataRequest) = GetData,
        /// `setData`.
        SetData(SetDataRequest) = SetData,
        /// `getACL`.
        GetAcl(GetAclRequest) = GetAcl,
        /// `setACL`.
        SetAcl(SetAclRequest) = SetAcl,
        /// `getChildren`.
        GetChildren(GetChildrenRequest) = GetChildren,
        /// `getChildren2`.
        GetChildren2(GetChildren2Request) = GetChildren2,
        /// `sync`.
        Sync(SyncRequest) = Sync,
        /// `ping` (no body).
        Ping = Ping,
        /// `check` (standalone).
        Check(CheckVersionRequest) = Check,
        /// `multi`.
        Multi(MultiRequest) = Multi,
        /// `multiRead`.
        MultiRead(MultiRequest) = MultiRead,
        /// `reconfig`.
        Reconfig(ReconfigRequest) = Reconfig,
        /// `checkWatches`.
        CheckWatches(CheckWatchesRequest) = CheckWatches,
        /// `removeWatches`.
        RemoveWatches(RemoveWatchesRequest) = RemoveWatches,
        /// `auth`.
        Auth(AuthPacket) = Auth,
        /// `setWatches`.
        SetWatches(SetWatches) = SetWatches,
        /// `setWatches2`.
        SetWatches2(SetWatches2) = SetWatches2,
        /// `sasl`.
        Sasl(GetSaslRequest) = Sasl,
        /// `getEphemerals`.
        GetEphemerals(GetEphemeralsRequest) = GetEphemerals,
        /// `getAllChildrenNumber`.
        GetAllChildrenNumber(GetAllChildrenNumberRequest) = GetAllChildrenNumber,
        /// `addWatch`.
        AddWatch(AddWatchRequest) = AddWatch,
        /// `whoAmI` (no body).
        WhoAmI = WhoAmI,
        /// `closeSession` (no body).
        CloseSession = CloseSession,
    }
}

op_enum! {
    /// The body of a successful reply, one variant per request opcode.
    pub enum Response {
        /// `create`.
        Create(CreateResponse) = Create,
        /// `create2`.
        Create2(Create2Response) = Create2,
        /// `createContainer`.
        CreateContainer(Create2Response) = CreateContainer,
        /// `createTTL`.
        CreateTtl(Create2Response) = CreateTtl,
        /// `delete` (no body).
        Delete = Delete,
        /// `deleteContainer` (no body).
        DeleteContainer = DeleteContainer,
        /// `exists`.
        Exists(ExistsResponse) = Exists,
        /// `getData`.
        GetData(GetDataResponse) = GetData,
        /// `setData`.
        SetData(SetDataResponse) = SetData,
        /// `getACL`.
        GetAcl(GetAclResponse) = GetAcl,
        /// `setACL`.
        SetAcl(SetAclResponse) = SetAcl,
        /// `getChildren`.
        GetChildren(GetChildrenResponse) = GetChildren,
        /// `getChildren2`.
        GetChildren2(GetChildren2Response) = GetChildren2,
        /// `sync`.
        Sync(SyncResponse) = Sync,
        /// `ping` (no body).
        Ping = Ping,
        /// Standalone `check`: the node's stat.
        Check(SetDataResponse) = Check,
        /// `multi`.
        Multi(MultiResponse) = Multi,
        /// `multiRead`.
        MultiRead(MultiResponse) = MultiRead,
        /// `reconfig`: the new config as data of `/zookeeper/config`.
        Reconfig(GetDataResponse) = Reconfig,
        /// `checkWatches` (no body).
        CheckWatches = CheckWatches,
        /// `removeWatches` (no body).
        RemoveWatches = RemoveWatches,
        /// `auth` (no body).
        Auth = Auth,
        /// `setWatches` (no body).
        SetWatches = SetWatches,
        /// `setWatches2` (no body).
        SetWatches2 = SetWatches2,
        /// `sasl`.
        Sasl(SetSaslResponse) = Sasl,
        /// `getEphemerals`.
        GetEphemerals(GetEphemeralsResponse) = GetEphemerals,
        /// `getAllChildrenNumber`.
        GetAllChildrenNumber(GetAllChildrenNumberResponse) = GetAllChildrenNumber,
        /// `addWatch`: an [`ErrorResponse`] holding 0.
        AddWatch(ErrorResponse) = AddWatch,
        /// `whoAmI`.
        WhoAmI(WhoAmIResponse) = WhoAmI,
        /// `closeSession` (no body).
        CloseSession = CloseSession,
    }
}

impl Request {
    /// Decodes a request body given the raw opcode from its header.
    pub fn decode_raw(op_code: i32, buf: &mut Bytes) -> Result<Self, DecodeError> {
        let op = OpCode::try_from(op_code).map_err(DecodeError::UnknownOpCode)?;
        Request::decode(op, buf)
    }

    /// The path the request names, if it names one.
    pub fn path(&self) -> Option<&str> {
        Some(match self {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => &r.path,
            Request::CreateTtl(r) => &r.path,
            Request::Delete(r) => &r.path,
            Request::DeleteContainer(r) => &r.path,
            Request::Exists(r) => &r.path,
            Request::GetData(r) => &r.path,
            Request::SetData(r) => &r.path,
            Request::GetAcl(r) => &r.path,
            Request::SetAcl(r) => &r.path,
            Request::GetChildren(r) => &r.path,
            Request::GetChildren2(r) => &r.path,
            Request::Sync(r) => &r.path,
            Request::Check(r) => &r.path,
            Request::CheckWatches(r) => &r.path,
            Request::RemoveWatches(r) => &r.path,
            Request::GetEphemerals(r) => &r.prefix_path,
            Request::GetAllChildrenNumber(r) => &r.path,
            Request::AddWatch(r) => &r.path,
            _ => return None,
        })
    }
}
