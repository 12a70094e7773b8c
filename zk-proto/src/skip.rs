//! Skipping encoded values without decoding them: how a multi, whose sub-ops have no count prefix, is
//! counted before it is decoded into a vector allocated once at its exact length.

use bytes::Bytes;

use crate::jute::{check_len, Jute, Nullable};

/// Walks over one encoded value without building it, accepting exactly the bytes [`Jute::decode`]
/// accepts. A sequence without a count prefix (a multi's sub-ops) is counted this way first, so that it
/// can be decoded into a vector allocated once at its exact length.
pub(crate) trait Skip {
    /// Advances `buf` past one value; `None` if the bytes do not hold a whole, well-formed one.
    fn skip(buf: &mut &[u8]) -> Option<()>;
}

/// Advances `buf` by `n` bytes, if it has them.
fn skip_bytes(buf: &mut &[u8], n: usize) -> Option<()> {
    *buf = buf.get(n..)?;
    Some(())
}

/// A length prefix, checked as decoding checks it: `Some(None)` for null, `None` where decoding fails.
fn skip_len(buf: &mut &[u8], unit: usize) -> Option<Option<usize>> {
    let (prefix, rest) = buf.split_first_chunk::<4>()?;
    *buf = rest;
    check_len(i32::from_be_bytes(*prefix), unit, buf.len()).ok()
}

impl Skip for bool {
    fn skip(buf: &mut &[u8]) -> Option<()> {
        skip_bytes(buf, 1)
    }
}

impl Skip for i32 {
    fn skip(buf: &mut &[u8]) -> Option<()> {
        skip_bytes(buf, 4)
    }
}

impl Skip for i64 {
    fn skip(buf: &mut &[u8]) -> Option<()> {
        skip_bytes(buf, 8)
    }
}

/// The body of a nullable value after its length prefix.
pub(crate) trait SkipBody: Nullable {
    /// Advances `buf` past a body of `len` units.
    fn skip_body(len: usize, buf: &mut &[u8]) -> Option<()>;
}

impl SkipBody for String {
    fn skip_body(len: usize, buf: &mut &[u8]) -> Option<()> {
        skip_bytes(buf, len)
    }
}

impl SkipBody for Bytes {
    fn skip_body(len: usize, buf: &mut &[u8]) -> Option<()> {
        skip_bytes(buf, len)
    }
}

impl<T: Jute + Skip> SkipBody for Vec<T> {
    fn skip_body(len: usize, buf: &mut &[u8]) -> Option<()> {
        (0..len).try_for_each(|_| T::skip(buf))
    }
}

impl<T: SkipBody> Skip for Option<T> {
    fn skip(buf: &mut &[u8]) -> Option<()> {
        match skip_len(buf, T::UNIT)? {
            Some(len) => T::skip_body(len, buf),
            None => Some(()),
        }
    }
}

impl Skip for String {
    fn skip(buf: &mut &[u8]) -> Option<()> {
        Option::<String>::skip(buf)
    }
}

impl Skip for Bytes {
    fn skip(buf: &mut &[u8]) -> Option<()> {
        Option::<Bytes>::skip(buf)
    }
}

impl<T: Jute + Skip> Skip for Vec<T> {
    fn skip(buf: &mut &[u8]) -> Option<()> {
        Option::<Vec<T>>::skip(buf)
    }
}

#[cfg(all(test, feature = "arbitrary"))]
mod tests {
    use super::*;
    use crate::arbitrary::any_jute;
    use crate::*;
    use proptest::prelude::*;

    /// How many bytes skipping and decoding consume from `wire` (`None`: they fail); they must agree.
    fn agree<T: Jute + Skip>(wire: &[u8]) -> Result<(), TestCaseError> {
        let mut rest = wire;
        let skipped = T::skip(&mut rest).map(|()| wire.len() - rest.len());
        let mut buf = Bytes::copy_from_slice(wire);
        let decoded = T::decode(&mut buf).ok().map(|_| wire.len() - buf.len());
        prop_assert_eq!(skipped, decoded);
        Ok(())
    }

    macro_rules! skip_agrees_with_decode {
        ($($name:ident: $ty:ty),* $(,)?) => {
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(64))]
                $(
                    #[test]
                    fn $name(value in any_jute::<$ty>(), cut in any::<prop::sample::Index>(), noise in prop::collection::vec(any::<u8>(), 0..48)) {
                        let wire = value.to_bytes();
                        agree::<$ty>(&wire)?;
                        agree::<$ty>(&wire[..cut.index(wire.len() + 1)])?;
                        agree::<$ty>(&noise)?;
                    }
                )*
            }
        };
    }

    // Every body a multi counts by skipping.
    skip_agrees_with_decode! {
        create_request: CreateRequest, create_ttl_request: CreateTtlRequest, delete_request: DeleteRequest,
        set_data_request: SetDataRequest, check_version_request: CheckVersionRequest,
        get_children_request: GetChildrenRequest, get_data_request: GetDataRequest,
        create_response: CreateResponse, create2_response: Create2Response, set_data_response: SetDataResponse,
        get_children_response: GetChildrenResponse, get_data_response: GetDataResponse,
        error_response: ErrorResponse, quorum_packet: QuorumPacket,
    }
}
