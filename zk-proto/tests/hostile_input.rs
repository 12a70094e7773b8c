//! Hostile bytes: arbitrary input to every decoder never panics, always ends in a value or a typed
//! error, and never allocates more than a small constant factor of the input it was given.
//!
//! A counting global allocator measures the bytes allocated by the decoding thread; the bound is the
//! crate's documented one (`common/counting_alloc.rs`), whose worst cases `allocation_bound.rs` builds.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use tokio_util::codec::Decoder;
use zk_proto::*;

use counting_alloc::{allocated_by, bound, SLACK};

/// Runs `decode` on `input`, asserting the allocation bound; returns whether it produced a value.
fn bounded<T>(input: &[u8], decode: impl FnOnce(Bytes) -> Result<T, DecodeError>) -> Result<bool, TestCaseError> {
    let bytes = Bytes::copy_from_slice(input);
    let (result, used) = allocated_by(|| decode(bytes));
    prop_assert!(used <= bound(input.len()), "allocated {} bytes for {} input bytes", used, input.len());
    Ok(result.is_ok())
}

/// `len` bytes from a xorshift generator seeded with `seed`: all random, or (`ints`) mostly the bytes
/// of small and extreme big-endian ints (0, 1, 0x7f, 0xff), which hit length fields more often.
///
/// Expanding a seed keeps generation cheap: proptest's per-byte strategies spend far longer building
/// 512-byte vectors in a debug build than the decoders spend on them. A failure still shrinks, to
/// prefixes (the bytes of a shorter `len` are a prefix) and smaller seeds, and is reported with the bytes.
fn expand(seed: u64, len: usize, ints: bool) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let byte = (state >> 32) as u8;
            match (ints, state % 5) {
                (true, 0) => 0,
                (true, 1) => 0xff,
                (true, 2) => 0x7f,
                (true, 3) => 1,
                _ => byte,
            }
        })
        .collect()
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (any::<u64>(), 0usize..512).prop_map(|(seed, len)| expand(seed, len, false)),
        (any::<u64>(), 0usize..256).prop_map(|(seed, len)| expand(seed, len, true)),
    ]
}

macro_rules! decode_all_records {
    ($input:expr; $($ty:ty),* $(,)?) => {{
        $( bounded($input, <$ty>::from_bytes)?; )*
    }};
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_record_decoder_survives_arbitrary_bytes(input in any_input()) {
        decode_all_records!(&input;
            String, Bytes, Id, Acl, Stat, StatPersisted, ClientInfo, ConnectRequest, ConnectResponse, RequestHeader,
            ReplyHeader, MultiHeader, AuthPacket, WatcherEvent, ErrorResponse, SetWatches, SetWatches2,
            AddWatchRequest, CheckWatchesRequest, RemoveWatchesRequest, CreateRequest, CreateTtlRequest,
            CreateResponse, Create2Response, DeleteRequest, DeleteContainerRequest, ExistsRequest, ExistsResponse,
            GetDataRequest, GetDataResponse, SetDataRequest, SetDataResponse, GetAclRequest, GetAclResponse,
            SetAclRequest, SetAclResponse, GetChildrenRequest, GetChildrenResponse, GetChildren2Request,
            GetChildren2Response, SyncRequest, SyncResponse, CheckVersionRequest, ReconfigRequest,
            GetSaslRequest, SetSaslRequest, SetSaslResponse, GetEphemeralsRequest, GetEphemeralsResponse,
            GetAllChildrenNumberRequest, GetAllChildrenNumberResponse, WhoAmIResponse, GetMaxChildrenRequest,
            GetMaxChildrenResponse, SetMaxChildrenRequest, MultiRequest, MultiResponse,
            TxnHeader, TxnDigest, TxnEntry, CreateTxn, CreateTxnV0, CreateTtlTxn, CreateContainerTxn, DeleteTxn,
            SetDataTxn, CheckVersionTxn, SetAclTxn, CreateSessionTxn, CloseSessionTxn, ErrorTxn, Txn, MultiTxn,
            SetMaxChildrenTxn, QuorumPacket, LearnerInfo, QuorumAuthPacket, FileHeader, Notification,
            InitialMessage,
        );
    }

    #[test]
    fn request_and_response_bodies_survive_arbitrary_bytes(op in -12i32..110, input in any_input()) {
        bounded(&input, |mut b| Request::decode_raw(op, &mut b))?;
        if let Ok(op) = OpCode::try_from(op) {
            bounded(&input, |mut b| Response::decode(op, &mut b))?;
        }
    }

    #[test]
    fn txn_bodies_survive_arbitrary_bytes(op in -12i32..110, input in any_input()) {
        bounded(&input, |mut b| TxnBody::decode(op, &mut b))?;
        bounded(&input, |data| Txn { op_code: op, data }.body())?;
    }

    #[test]
    fn frame_decoder_survives_arbitrary_bytes(input in any_input(), max in 0usize..1024) {
        let mut codec = FrameCodec::new(max);
        let mut buf = BytesMut::from(&input[..]);
        let (oversized, used) = allocated_by(|| {
            let mut oversized = false;
            while let Ok(Some(frame)) = codec.decode(&mut buf) {
                oversized |= frame.len() > max;
            }
            oversized
        });
        prop_assert!(!oversized);
        // The decoder reserves room for a frame whose length it has read, up to `max`, and nothing else.
        prop_assert!(used <= max + SLACK, "frame decoder allocated {} bytes", used);
    }

    #[test]
    fn quorum_stream_decoder_survives_arbitrary_bytes(input in any_input()) {
        let mut codec = QuorumCodec::new(256);
        let mut buf = BytesMut::from(&input[..]);
        let ((), used) = allocated_by(|| while let Ok(Some(_)) = codec.decode(&mut buf) {});
        prop_assert!(used <= bound(input.len()), "quorum decoder allocated {} bytes", used);
    }
}

/// Each kind of bad input maps to its own typed error, which a server turns into "close this connection".
#[test]
fn bad_input_gets_typed_errors() {
    // Truncated: a GetDataRequest cut inside its path.
    let full = GetDataRequest { path: "/abc".into(), watch: true }.to_bytes();
    assert_eq!(GetDataRequest::from_bytes(full.slice(..6)), Err(DecodeError::UnexpectedEof));
    // Negative length other than the null marker.
    let negative = Bytes::from_static(&[0xff, 0xff, 0xff, 0xf0, 0]);
    assert_eq!(GetDataRequest::from_bytes(negative), Err(DecodeError::InvalidLength(-16)));
    // Oversized length: far more than the frame holds.
    let oversized = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, b'/', 0]);
    assert_eq!(GetDataRequest::from_bytes(oversized), Err(DecodeError::UnexpectedEof));
    // Oversized frame.
    let mut frame = BytesMut::from(&[0x00, 0x10, 0x00, 0x00][..]);
    assert!(matches!(
        FrameCodec::default().decode(&mut frame),
        Err(FrameError::Decode(DecodeError::FrameLength { len: 0x100000, max: DEFAULT_MAX_FRAME }))
    ));
    // Unknown opcode, top level and inside a multi.
    assert_eq!(Request::decode_raw(55, &mut Bytes::new()), Err(DecodeError::UnknownOpCode(55)));
    let mut multi = BytesMut::new();
    MultiHeader { op_code: OpCode::Sync.code(), done: false, err: -1 }.encode(&mut multi);
    assert_eq!(MultiRequest::from_bytes(multi.freeze()), Err(DecodeError::UnknownOpCode(OpCode::Sync.code())));
    // Invalid UTF-8 in a path decodes with replacement characters (Java's lenient decoding).
    let bad_utf8 = Bytes::from_static(&[0, 0, 0, 2, 0xff, 0xfe, 1]);
    let decoded = GetDataRequest::from_bytes(bad_utf8).unwrap();
    assert_eq!((decoded.path.as_str(), decoded.watch), ("\u{fffd}\u{fffd}", true));
}
