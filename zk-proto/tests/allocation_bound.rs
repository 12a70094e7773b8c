//! The decoding allocation bound on its worst cases: inputs shaped to make a decoder allocate as much as
//! possible per input byte (long chains of the smallest multi sub-ops and sub-results, vectors of empty
//! strings, ids and ACLs, replacement-character expansion of malformed UTF-8, and vector counts that
//! claim every remaining byte before the input ends). Each must stay within the crate's documented bound,
//! `FACTOR * input + SLACK` bytes in total.
//!
//! Random bytes (`hostile_input.rs`) almost never build such chains, so they are written out here.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::Decoder;
use zk_proto::*;

use counting_alloc::{allocated_by, bound};

/// Elements per vector or chain: enough that per-element costs dominate the constant slack, and just past
/// a power of two, the worst length for a vector that grows by doubling.
const N: usize = 1025;

/// One decoded worst case.
struct Measured {
    name: &'static str,
    input: usize,
    allocated: usize,
    outcome: Result<(), DecodeError>,
}

impl Measured {
    fn factor(&self) -> f64 {
        self.allocated as f64 / self.input as f64
    }
}

/// Decodes `input` with `decode` and records what it allocated.
fn measure<T>(name: &'static str, input: Bytes, decode: impl FnOnce(Bytes) -> Result<T, DecodeError>) -> Measured {
    let len = input.len();
    let (outcome, allocated) = allocated_by(|| decode(input).map(drop));
    Measured { name, input: len, allocated, outcome }
}

/// [`measure`] for the quorum stream decoder reading `packet` from its read buffer.
fn quorum_stream(name: &'static str, packet: QuorumPacket) -> Measured {
    let mut buf = BytesMut::from(&packet.to_bytes()[..]);
    let input = buf.len();
    let (outcome, allocated) = allocated_by(|| match QuorumCodec::new(input).decode(&mut buf) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(DecodeError::UnexpectedEof),
        Err(FrameError::Decode(e)) => Err(e),
        Err(e) => panic!("{name}: {e}"),
    });
    Measured { name, input, allocated, outcome }
}

/// [`measure`] for a whole record of type `T`.
fn record<T: Jute>(name: &'static str, input: Bytes) -> Measured {
    measure(name, input, T::from_bytes)
}

fn empty_strings() -> Vec<String> {
    vec![String::new(); N]
}

fn empty_acls() -> Vec<Acl> {
    vec![Acl::new(0, Id::new("", "")); N]
}

fn txn_header(op: OpCode) -> TxnHeader {
    TxnHeader { client_id: 1, cxid: 2, zxid: 3, time: 4, op_code: op.code() }
}

fn concat(parts: &[&[u8]]) -> Bytes {
    Bytes::from(parts.concat())
}

/// A `GetChildrenResponse` of `n` one-byte names that are not UTF-8 (each becomes U+FFFD, 3 bytes).
fn invalid_names(n: usize) -> BytesMut {
    let mut wire = BytesMut::new();
    wire.put_i32(n as i32);
    for _ in 0..n {
        wire.put_i32(1);
        wire.put_u8(0xff);
    }
    wire
}

fn multi_cases() -> Vec<Measured> {
    let get_data = MultiOp::GetData(GetDataRequest { path: String::new(), watch: false });
    let get_children = MultiOp::GetChildren(GetChildrenRequest { path: String::new(), watch: false });
    let delete = MultiOp::Delete(DeleteRequest { path: String::new(), version: -1 });
    let check = MultiOp::Check(CheckVersionRequest { path: String::new(), version: -1 });
    let create = MultiOp::Create(CreateRequest { path: String::new(), data: None, acl: vec![], flags: 0 });
    let request = |op: MultiOp| MultiRequest { ops: vec![op; N] }.to_bytes();
    let response = |result: OpResult| MultiResponse { results: vec![result; N] }.to_bytes();

    let mut truncated = response(OpResult::Delete).to_vec();
    truncated.truncate(truncated.len() - 5);
    let mut unknown_tail = response(OpResult::Delete).to_vec();
    unknown_tail.truncate(unknown_tail.len() - MultiHeader::MIN_LEN);
    MultiHeader { op_code: 55, done: false, err: 0 }.encode(&mut unknown_tail);

    vec![
        record::<MultiRequest>("multi: getData, empty paths", request(get_data.clone())),
        record::<MultiRequest>("multi: getChildren, empty paths", request(get_children)),
        record::<MultiRequest>("multi: delete, empty paths", request(delete)),
        record::<MultiRequest>("multi: check, empty paths", request(check)),
        record::<MultiRequest>("multi: create, empty", request(create)),
        record::<MultiRequest>(
            "multi: one create with empty ACLs",
            MultiRequest {
                ops: vec![MultiOp::Create(CreateRequest {
                    path: String::new(),
                    data: None,
                    acl: empty_acls(),
                    flags: 0,
                })],
            }
            .to_bytes(),
        ),
        measure("Request multiRead: getData", request(get_data), |mut b| Request::decode(OpCode::MultiRead, &mut b)),
        record::<MultiResponse>("multi reply: delete", response(OpResult::Delete)),
        record::<MultiResponse>("multi reply: check", response(OpResult::Check)),
        record::<MultiResponse>("multi reply: error", response(OpResult::Error(-101))),
        record::<MultiResponse>(
            "multi reply: getChildren, none",
            response(OpResult::GetChildren(GetChildrenResponse { children: vec![] })),
        ),
        record::<MultiResponse>(
            "multi reply: getChildren, one empty",
            response(OpResult::GetChildren(GetChildrenResponse { children: vec![String::new()] })),
        ),
        record::<MultiResponse>(
            "multi reply: create, empty path",
            response(OpResult::Create(CreateResponse { path: String::new() })),
        ),
        measure("Response multi: delete", response(OpResult::Delete), |mut b| Response::decode(OpCode::Multi, &mut b)),
        record::<MultiResponse>("multi reply: delete, truncated", Bytes::from(truncated)),
        record::<MultiResponse>("multi reply: delete, unknown last op", Bytes::from(unknown_tail)),
    ]
}

fn vector_cases() -> Vec<Measured> {
    let ids = || vec![Id::new("", ""); N];
    let client_infos = vec![ClientInfo { auth_scheme: String::new(), user: String::new() }; N];
    let watches2 = SetWatches2 {
        relative_zxid: 0,
        data_watches: empty_strings(),
        exist_watches: empty_strings(),
        child_watches: empty_strings(),
        persistent_watches: empty_strings(),
        persistent_recursive_watches: empty_strings(),
    };
    let watches = SetWatches {
        relative_zxid: 0,
        data_watches: empty_strings(),
        exist_watches: empty_strings(),
        child_watches: empty_strings(),
    };
    let acl_request = CreateRequest { path: String::new(), data: None, acl: empty_acls(), flags: 0 };

    vec![
        record::<GetChildrenResponse>(
            "getChildren reply: empty names",
            GetChildrenResponse { children: empty_strings() }.to_bytes(),
        ),
        record::<GetChildren2Response>(
            "getChildren2 reply: empty names",
            GetChildren2Response { children: empty_strings(), stat: Stat::default() }.to_bytes(),
        ),
        record::<GetEphemeralsResponse>(
            "getEphemerals reply: empty paths",
            GetEphemeralsResponse { ephemerals: empty_strings() }.to_bytes(),
        ),
        record::<SetWatches>("setWatches: empty paths", watches.to_bytes()),
        record::<SetWatches2>("setWatches2: empty paths", watches2.to_bytes()),
        record::<WhoAmIResponse>("whoAmI reply: empty infos", WhoAmIResponse { client_info: client_infos }.to_bytes()),
        record::<CreateRequest>("create: empty ACLs", acl_request.to_bytes()),
        record::<CreateTtlRequest>(
            "createTTL: empty ACLs",
            CreateTtlRequest { path: String::new(), data: None, acl: empty_acls(), flags: 0, ttl: 1 }.to_bytes(),
        ),
        record::<SetAclRequest>(
            "setACL: empty ACLs",
            SetAclRequest { path: String::new(), acl: empty_acls(), version: 0 }.to_bytes(),
        ),
        record::<GetAclResponse>(
            "getACL reply: empty ACLs",
            GetAclResponse { acl: empty_acls(), stat: Stat::default() }.to_bytes(),
        ),
        record::<QuorumPacket>(
            "quorum packet: empty auth ids",
            QuorumPacket { packet_type: 1, zxid: 0, data: None, authinfo: Some(ids()) }.to_bytes(),
        ),
        quorum_stream(
            "quorum stream: empty auth ids",
            QuorumPacket { packet_type: 1, zxid: 0, data: None, authinfo: Some(ids()) },
        ),
    ]
}

fn txn_cases() -> Vec<Measured> {
    let create =
        CreateTxn { path: String::new(), data: None, acl: empty_acls(), ephemeral: false, parent_c_version: 0 };
    let v0 = CreateTxnV0 { path: String::new(), data: None, acl: empty_acls(), ephemeral: false };
    let close = CloseSessionTxn { paths2_delete: empty_strings() };
    let multi = MultiTxn { txns: vec![Txn { op_code: OpCode::Delete.code(), data: Bytes::new() }; N] };
    let digest = TxnDigest { version: 2, tree_digest: 0 }.to_bytes();
    let entry = |op: OpCode, body: Bytes| concat(&[&txn_header(op).to_bytes(), &body, &digest]);
    vec![
        record::<CreateTxn>("CreateTxn: empty ACLs", create.to_bytes()),
        record::<CreateTxnV0>("CreateTxnV0: empty ACLs", v0.to_bytes()),
        record::<CreateTtlTxn>(
            "CreateTtlTxn: empty ACLs",
            CreateTtlTxn { path: String::new(), data: None, acl: empty_acls(), parent_c_version: 0, ttl: 1 }.to_bytes(),
        ),
        record::<CreateContainerTxn>(
            "CreateContainerTxn: empty ACLs",
            CreateContainerTxn { path: String::new(), data: None, acl: empty_acls(), parent_c_version: 0 }.to_bytes(),
        ),
        record::<SetAclTxn>(
            "SetAclTxn: empty ACLs",
            SetAclTxn { path: String::new(), acl: empty_acls(), version: 0 }.to_bytes(),
        ),
        record::<CloseSessionTxn>("CloseSessionTxn: empty paths", close.to_bytes()),
        record::<MultiTxn>("MultiTxn: empty sub-txns", multi.to_bytes()),
        record::<TxnEntry>("txn entry: create, empty ACLs", entry(OpCode::Create, create.to_bytes())),
        record::<TxnEntry>(
            "txn entry: V0 create, empty ACLs",
            concat(&[&txn_header(OpCode::Create).to_bytes(), &v0.to_bytes()]),
        ),
        record::<TxnEntry>("txn entry: closeSession, empty paths", entry(OpCode::CloseSession, close.to_bytes())),
        record::<TxnEntry>("txn entry: multi, empty sub-txns", entry(OpCode::Multi, multi.to_bytes())),
        measure("sub-txn: closeSession, empty paths", close.to_bytes(), |data| {
            Txn { op_code: OpCode::CloseSession.code(), data }.body()
        }),
    ]
}

fn string_cases() -> Vec<Measured> {
    let mut long_invalid = BytesMut::new();
    long_invalid.put_i32(N as i32);
    long_invalid.put_bytes(0xff, N);
    long_invalid.put_u8(1);

    // A count claiming every remaining byte (4 per name), then names until the input ends.
    let mut lying = invalid_names(N);
    let claimed = (lying.len() - 4) / 4;
    lying[..4].copy_from_slice(&(claimed as i32).to_be_bytes());

    // The same with a count of ACLs (12 bytes each at least), whose ids are malformed UTF-8.
    let mut lying_acls = BytesMut::new();
    lying_acls.put_i32(0);
    for _ in 0..N {
        lying_acls.put_i32(perms::ALL);
        for _ in 0..2 {
            lying_acls.put_i32(1);
            lying_acls.put_u8(0xff);
        }
    }
    let claimed = (lying_acls.len() - 4) / 12;
    lying_acls[..4].copy_from_slice(&(claimed as i32).to_be_bytes());

    vec![
        record::<GetChildrenResponse>("getChildren reply: 1-byte malformed names", invalid_names(N).freeze()),
        record::<GetDataRequest>("getData: long malformed path", long_invalid.freeze()),
        record::<GetChildrenResponse>("getChildren reply: lying count, malformed names", lying.freeze()),
        record::<GetAclResponse>("getACL reply: lying count, malformed ids", lying_acls.freeze()),
    ]
}

/// The vector elements with the most memory per wire byte: each element's size must fit the bound on its
/// smallest encoding alone (a larger variant added to [`OpResult`] or [`MultiOp`] would break it).
#[test]
fn vector_elements_fit_the_bound() {
    let smallest_multi_entry = MultiHeader::MIN_LEN;
    let elements = [
        ("OpResult (delete / check result)", std::mem::size_of::<OpResult>(), smallest_multi_entry),
        (
            "MultiOp (getData / getChildren)",
            std::mem::size_of::<MultiOp>(),
            smallest_multi_entry + GetDataRequest::MIN_LEN,
        ),
        ("String", std::mem::size_of::<String>(), String::MIN_LEN),
        ("Id", std::mem::size_of::<Id>(), Id::MIN_LEN),
        ("Acl", std::mem::size_of::<Acl>(), Acl::MIN_LEN),
        ("ClientInfo", std::mem::size_of::<ClientInfo>(), ClientInfo::MIN_LEN),
        ("Txn", std::mem::size_of::<Txn>(), Txn::MIN_LEN),
    ];
    for (name, size, wire) in elements {
        assert!(size <= counting_alloc::FACTOR * wire, "{name}: {size} bytes for {wire} wire bytes");
    }
}

/// Well-formed cases must decode (so the shape is really exercised); the malformed ones must fail.
fn expected_ok(name: &str) -> bool {
    !name.contains("truncated") && !name.contains("unknown") && !name.contains("lying")
}

#[test]
fn worst_cases_stay_within_the_documented_bound() {
    let cases: Vec<Measured> =
        [multi_cases(), vector_cases(), txn_cases(), string_cases()].into_iter().flatten().collect();
    let table: String = cases
        .iter()
        .map(|m| {
            format!(
                "{:<52} {:>7} B in {:>9} B allocated {:>6.2}x {}\n",
                m.name,
                m.input,
                m.allocated,
                m.factor(),
                if m.outcome.is_ok() { "ok" } else { "error" }
            )
        })
        .collect();
    eprintln!("{table}");
    for m in &cases {
        assert_eq!(m.outcome.is_ok(), expected_ok(m.name), "{}: {:?}\n{table}", m.name, m.outcome);
        assert!(m.allocated <= bound(m.input), "{} over the bound\n{table}", m.name);
    }
}
