//! `multi` and `multiRead`: a sequence of (header, record) pairs ended by a "done" header.

use bytes::{BufMut, Bytes};

use crate::error::DecodeError;
use crate::jute::{jute_record, Jute};
use crate::node_ops::{
    CheckVersionRequest, Create2Response, CreateRequest, CreateResponse, CreateTtlRequest, DeleteRequest,
    GetChildrenRequest, GetChildrenResponse, GetDataRequest, GetDataResponse, SetDataRequest, SetDataResponse,
};
use crate::opcode::OpCode;
use crate::skip::Skip;
use crate::watch_ops::ErrorResponse;

jute_record! {
    /// The header before each multi sub-op and sub-result, and the terminator.
    pub struct MultiHeader {
        /// The sub-op's [`OpCode`], or -1 (error result / terminator).
        pub op_code: i32,
        /// True only on the terminator.
        pub done: bool,
        /// -1 on requests; the sub-result's error code on responses.
        pub err: i32,
    }
}

const END: MultiHeader = MultiHeader { op_code: -1, done: true, err: -1 };

/// Reads a [`MultiHeader`] from a slice (for counting; see [`count_entries`]).
fn read_header(buf: &mut &[u8]) -> Option<MultiHeader> {
    let (op, rest) = buf.split_first_chunk::<4>()?;
    let (&done, rest) = rest.split_first()?;
    let (err, rest) = rest.split_first_chunk::<4>()?;
    *buf = rest;
    Some(MultiHeader { op_code: i32::from_be_bytes(*op), done: done != 0, err: i32::from_be_bytes(*err) })
}

/// The number of well-formed (header, body) entries at the front of `buf`, up to the terminator or to the
/// first entry that would not decode. Decoding into a vector of this capacity never reallocates, and a
/// vector of hostile entries costs one slot per entry actually present (growth by doubling would
/// allocate up to four slots per entry in total).
fn count_entries(mut buf: &[u8], skip_body: impl Fn(&MultiHeader, &mut &[u8]) -> Option<()>) -> usize {
    let mut count = 0;
    while let Some(header) = read_header(&mut buf) {
        if header.done || skip_body(&header, &mut buf).is_none() {
            break;
        }
        count += 1;
    }
    count
}

/// One operation of a `multi` (writes) or `multiRead` (reads).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MultiOp {
    /// `create` (result: [`OpResult::Create`]).
    Create(CreateRequest),
    /// `create2` (result: [`OpResult::Create2`]).
    Create2(CreateRequest),
    /// `createContainer`.
    CreateContainer(CreateRequest),
    /// `createTTL`.
    CreateTtl(CreateTtlRequest),
    /// `delete`.
    Delete(DeleteRequest),
    /// `setData`.
    SetData(SetDataRequest),
    /// `check`: fail the multi unless the version matches.
    Check(CheckVersionRequest),
    /// `getChildren` (multiRead only).
    GetChildren(GetChildrenRequest),
    /// `getData` (multiRead only).
    GetData(GetDataRequest),
}

impl MultiOp {
    /// The sub-op's opcode.
    pub fn op_code(&self) -> OpCode {
        match self {
            MultiOp::Create(_) => OpCode::Create,
            MultiOp::Create2(_) => OpCode::Create2,
            MultiOp::CreateContainer(_) => OpCode::CreateContainer,
            MultiOp::CreateTtl(_) => OpCode::CreateTtl,
            MultiOp::Delete(_) => OpCode::Delete,
            MultiOp::SetData(_) => OpCode::SetData,
            MultiOp::Check(_) => OpCode::Check,
            MultiOp::GetChildren(_) => OpCode::GetChildren,
            MultiOp::GetData(_) => OpCode::GetData,
        }
    }

    /// The path the sub-op acts on.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => &r.path,
            MultiOp::CreateTtl(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
            MultiOp::GetData(r) => &r.path,
        }
    }

    /// Whether this is a read (allowed only in `multiRead`).
    pub fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetChildren(_) | MultiOp::GetData(_))
    }

    fn encode_body<B: BufMut>(&self, buf: &mut B) {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => r.encode(buf),
            MultiOp::CreateTtl(r) => r.encode(buf),
            MultiOp::Delete(r) => r.encode(buf),
            MultiOp::SetData(r) => r.encode(buf),
            MultiOp::Check(r) => r.encode(buf),
            MultiOp::GetChildren(r) => r.encode(buf),
            MultiOp::GetData(r) => r.encode(buf),
        }
    }

    fn body_len(&self) -> usize {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => r.encoded_len(),
            MultiOp::CreateTtl(r) => r.encoded_len(),
            MultiOp::Delete(r) => r.encoded_len(),
            MultiOp::SetData(r) => r.encoded_len(),
            MultiOp::Check(r) => r.encoded_len(),
            MultiOp::GetChildren(r) => r.encoded_len(),
            MultiOp::GetData(r) => r.encoded_len(),
        }
    }

    /// Skips what [`MultiOp::decode_body`] decodes.
    fn skip_body(header: &MultiHeader, buf: &mut &[u8]) -> Option<()> {
        match OpCode::try_from(header.op_code).ok()? {
            OpCode::Create | OpCode::Create2 | OpCode::CreateContainer => CreateRequest::skip(buf),
            OpCode::CreateTtl => CreateTtlRequest::skip(buf),
            OpCode::Delete => DeleteRequest::skip(buf),
            OpCode::SetData => SetDataRequest::skip(buf),
            OpCode::Check => CheckVersionRequest::skip(buf),
            OpCode::GetChildren => GetChildrenRequest::skip(buf),
            OpCode::GetData => GetDataRequest::skip(buf),
            _ => None,
        }
    }

    fn decode_body(op_code: i32, buf: &mut Bytes) -> Result<MultiOp, DecodeError> {
        let op = OpCode::try_from(op_code).map_err(DecodeError::UnknownOpCode)?;
        Ok(match op {
            OpCode::Create => MultiOp::Create(Jute::decode(buf)?),
            OpCode::Create2 => MultiOp::Create2(Jute::decode(buf)?),
            OpCode::CreateContainer => MultiOp::CreateContainer(Jute::decode(buf)?),
            OpCode::CreateTtl => MultiOp::CreateTtl(Jute::decode(buf)?),
            OpCode::Delete => MultiOp::Delete(Jute::decode(buf)?),
            OpCode::SetData => MultiOp::SetData(Jute::decode(buf)?),
            OpCode::Check => MultiOp::Check(Jute::decode(buf)?),
            OpCode::GetChildren => MultiOp::GetChildren(Jute::decode(buf)?),
            OpCode::GetData => MultiOp::GetData(Jute::decode(buf)?),
            other => return Err(DecodeError::UnknownOpCode(other.code())),
        })
    }
}

/// The body of a `multi` (op 14) or `multiRead` (op 22) request (`MultiOperationRecord`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct MultiRequest {
    /// The operations, in order.
    pub ops: Vec<MultiOp>,
}

impl Jute for MultiRequest {
    const MIN_LEN: usize = MultiHeader::MIN_LEN;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        for op in &self.ops {
            MultiHeader { op_code: op.op_code().code(), done: false, err: -1 }.encode(buf);
            op.encode_body(buf);
        }
        END.encode(buf);
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let mut ops = Vec::with_capacity(count_entries(buf, MultiOp::skip_body));
        loop {
            let header = MultiHeader::decode(buf)?;
            if header.done {
                return Ok(MultiRequest { ops });
            }
            ops.push(MultiOp::decode_body(header.op_code, buf)?);
        }
    }
    fn encoded_len(&self) -> usize {
        self.ops.iter().map(|op| MultiHeader::MIN_LEN + op.body_len()).sum::<usize>() + MultiHeader::MIN_LEN
    }
}

/// The result of one sub-op of a multi.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OpResult {
    /// A `create` succeeded.
    Create(CreateResponse),
    /// A `create2`, `createContainer` or `createTTL` succeeded.
    Create2(Create2Response),
    /// A `delete` succeeded.
    Delete,
    /// A `check` succeeded.
    Check,
    /// A `setData` succeeded.
    SetData(SetDataResponse),
    /// A `getChildren` succeeded (multiRead).
    GetChildren(GetChildrenResponse),
    /// A `getData` succeeded (multiRead).
    GetData(GetDataResponse),
    /// The sub-op failed with this error code (0 for ops before the failing one of a failed write multi,
    /// -2 for ops after it).
    Error(i32),
}

impl OpResult {
    fn header(&self) -> MultiHeader {
        let (op, err) = match self {
            OpResult::Create(_) => (OpCode::Create, 0),
            OpResult::Create2(_) => (OpCode::Create2, 0),
            OpResult::Delete => (OpCode::Delete, 0),
            OpResult::Check => (OpCode::Check, 0),
            OpResult::SetData(_) => (OpCode::SetData, 0),
            OpResult::GetChildren(_) => (OpCode::GetChildren, 0),
            OpResult::GetData(_) => (OpCode::GetData, 0),
            OpResult::Error(err) => (OpCode::Error, *err),
        };
        MultiHeader { op_code: op.code(), done: false, err }
    }

    fn encode_body<B: BufMut>(&self, buf: &mut B) {
        match self {
            OpResult::Create(r) => r.encode(buf),
            OpResult::Create2(r) => r.encode(buf),
            OpResult::Delete | OpResult::Check => {}
            OpResult::SetData(r) => r.encode(buf),
            OpResult::GetChildren(r) => r.encode(buf),
            OpResult::GetData(r) => r.encode(buf),
            OpResult::Error(err) => ErrorResponse { err: *err }.encode(buf),
        }
    }

    fn body_len(&self) -> usize {
        match self {
            OpResult::Create(r) => r.encoded_len(),
            OpResult::Create2(r) => r.encoded_len(),
            OpResult::Delete | OpResult::Check => 0,
            OpResult::SetData(r) => r.encoded_len(),
            OpResult::GetChildren(r) => r.encoded_len(),
            OpResult::GetData(r) => r.encoded_len(),
            OpResult::Error(_) => 4,
        }
    }

    /// Skips what [`OpResult::decode_body`] decodes.
    fn skip_body(header: &MultiHeader, buf: &mut &[u8]) -> Option<()> {
        match OpCode::try_from(header.op_code).ok()? {
            OpCode::Create => CreateResponse::skip(buf),
            OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => Create2Response::skip(buf),
            OpCode::Delete | OpCode::DeleteContainer | OpCode::Check => Some(()),
            OpCode::SetData => SetDataResponse::skip(buf),
            OpCode::GetChildren => GetChildrenResponse::skip(buf),
            OpCode::GetData => GetDataResponse::skip(buf),
            OpCode::Error => ErrorResponse::skip(buf),
            _ => None,
        }
    }

    fn decode_body(header: &MultiHeader, buf: &mut Bytes) -> Result<OpResult, DecodeError> {
        let op = OpCode::try_from(header.op_code).map_err(DecodeError::UnknownOpCode)?;
        Ok(match op {
            OpCode::Create => OpResult::Create(Jute::decode(buf)?),
            OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => OpResult::Create2(Jute::decode(buf)?),
            OpCode::Delete | OpCode::DeleteContainer => OpResult::Delete,
            OpCode::Check => OpResult::Check,
            OpCode::SetData => OpResult::SetData(Jute::decode(buf)?),
            OpCode::GetChildren => OpResult::GetChildren(Jute::decode(buf)?),
            OpCode::GetData => OpResult::GetData(Jute::decode(buf)?),
            // The body repeats the header's code; the header is authoritative, as in ZooKeeper.
            OpCode::Error => {
                ErrorResponse::decode(buf)?;
                OpResult::Error(header.err)
            }
            other => return Err(DecodeError::UnknownOpCode(other.code())),
        })
    }

    /// The error code of this result (0 on success).
    pub fn err(&self) -> i32 {
        match self {
            OpResult::Error(err) => *err,
            _ => 0,
        }
    }
}

/// The body of a `multi` / `multiRead` reply.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct MultiResponse {
    /// One result per requested op, in order.
    pub results: Vec<OpResult>,
}

impl MultiResponse {
    /// The first non-zero sub-result error (how a client reports a failed atomic multi).
    pub fn first_error(&self) -> Option<i32> {
        self.results.iter().map(OpResult::err).find(|&err| err != 0)
    }
}

impl Jute for MultiResponse {
    const MIN_LEN: usize = MultiHeader::MIN_LEN;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        for result in &self.results {
            result.header().encode(buf);
            result.encode_body(buf);
        }
        END.encode(buf);
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let mut results = Vec::with_capacity(count_entries(buf, OpResult::skip_body));
        loop {
            let header = MultiHeader::decode(buf)?;
            if header.done {
                return Ok(MultiResponse { results });
            }
            results.push(OpResult::decode_body(&header, buf)?);
        }
    }
    fn encoded_len(&self) -> usize {
        self.results.iter().map(|r| MultiHeader::MIN_LEN + r.body_len()).sum::<usize>() + MultiHeader::MIN_LEN
    }
}

#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use super::*;
    use crate::arbitrary::{any_jute, JuteStrategy};
    use proptest::prelude::*;

    impl JuteStrategy for MultiOp {
        fn strategy() -> BoxedStrategy<Self> {
            prop_oneof![
                any_jute().prop_map(MultiOp::Create),
                any_jute().prop_map(MultiOp::Create2),
                any_jute().prop_map(MultiOp::CreateContainer),
                any_jute().prop_map(MultiOp::CreateTtl),
                any_jute().prop_map(MultiOp::Delete),
                any_jute().prop_map(MultiOp::SetData),
                any_jute().prop_map(MultiOp::Check),
                any_jute().prop_map(MultiOp::GetChildren),
                any_jute().prop_map(MultiOp::GetData),
            ]
            .boxed()
        }
    }

    impl JuteStrategy for MultiRequest {
        fn strategy() -> BoxedStrategy<Self> {
            any_jute().prop_map(|ops| MultiRequest { ops }).boxed()
        }
    }

    impl JuteStrategy for OpResult {
        fn strategy() -> BoxedStrategy<Self> {
            prop_oneof![
                any_jute().prop_map(OpResult::Create),
                any_jute().prop_map(OpResult::Create2),
                Just(OpResult::Delete),
                Just(OpResult::Check),
                any_jute().prop_map(OpResult::SetData),
                any_jute().prop_map(OpResult::GetChildren),
                any_jute().prop_map(OpResult::GetData),
                any::<i32>().prop_map(OpResult::Error),
            ]
            .boxed()
        }
    }

    impl JuteStrategy for MultiResponse {
        fn strategy() -> BoxedStrategy<Self> {
            any_jute().prop_map(|results| MultiResponse { results }).boxed()
        }
    }
}
