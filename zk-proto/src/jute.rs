//! Jute, ZooKeeper's binary serialization: big-endian primitives, length-prefixed strings and buffers,
//! count-prefixed vectors, and records as their fields back to back.
//!
//! Decoding reads from a [`Bytes`] so that buffers are zero-copy slices of the frame. Every length read
//! from the wire is checked against the bytes actually present before anything is allocated, and every
//! vector is allocated once at its final size, so what a decoder allocates is bounded by the bytes it
//! was given; the crate docs state the bound.
//!
//! Strings (`ustring`) decode leniently: each malformed UTF-8 sequence becomes U+FFFD, exactly as Java's
//! `new String(bytes, UTF_8)` in jute's `readString` does, so a server answers for the path as
//! ZooKeeper reads it (a missing node, or a malformed path) rather than dropping the connection, and
//! differential tests against ZooKeeper see the same text. No jute decoder rejects malformed UTF-8:
//! [`DecodeError::InvalidUtf8`] comes only from the election handshake (see there).

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::DecodeError;

/// A type with a jute encoding.
pub trait Jute: Sized {
    /// The fewest bytes any value of this type occupies on the wire (bounds vector pre-allocation).
    const MIN_LEN: usize;

    /// Appends the encoding of `self` to `buf`.
    fn encode<B: BufMut>(&self, buf: &mut B);

    /// Reads one value from the front of `buf`, advancing it.
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError>;

    /// The exact number of bytes [`Jute::encode`] writes.
    fn encoded_len(&self) -> usize;

    /// Encodes `self` into a fresh buffer of exactly the right size.
    fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut buf);
        buf.freeze()
    }

    /// Decodes a value that must span all of `bytes` (trailing bytes are an error).
    fn from_bytes(mut bytes: Bytes) -> Result<Self, DecodeError> {
        let value = Self::decode(&mut bytes)?;
        if bytes.has_remaining() {
            return Err(DecodeError::TrailingBytes(bytes.remaining()));
        }
        Ok(value)
    }
}

/// Takes the next `N` bytes of `buf` (the big-endian primitives), reading them in place.
#[inline]
fn take<const N: usize>(buf: &mut Bytes) -> Result<[u8; N], DecodeError> {
    let bytes = *buf.first_chunk::<N>().ok_or(DecodeError::UnexpectedEof)?;
    buf.advance(N);
    Ok(bytes)
}

/// Reads a jute length prefix. Returns `None` for the null marker `-1`; any other negative value, or a
/// length larger than what remains in `buf`, is an error.
fn read_len(buf: &mut Bytes, unit: usize) -> Result<Option<usize>, DecodeError> {
    let len = i32::decode(buf)?;
    check_len(len, unit, buf.remaining())
}

/// Checks a length prefix `len` counting units of `unit` bytes against the `remaining` bytes after it.
#[inline]
pub(crate) fn check_len(len: i32, unit: usize, remaining: usize) -> Result<Option<usize>, DecodeError> {
    if len == -1 {
        return Ok(None);
    }
    if len < 0 {
        return Err(DecodeError::InvalidLength(len));
    }
    let len = len as usize;
    // Every element takes at least `unit` bytes, so a count the remaining bytes cannot hold is a lie.
    if len.saturating_mul(unit.max(1)) > remaining {
        return Err(DecodeError::UnexpectedEof);
    }
    Ok(Some(len))
}

fn write_len<B: BufMut>(buf: &mut B, len: usize) {
    // A value longer than i32::MAX cannot be framed; jute has no way to express it.
    buf.put_i32(i32::try_from(len).expect("jute value longer than i32::MAX"));
}

impl Jute for bool {
    const MIN_LEN: usize = 1;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(u8::from(*self));
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        // ZooKeeper's reader treats any non-zero byte as true.
        Ok(take::<1>(buf)? != [0])
    }
    fn encoded_len(&self) -> usize {
        1
    }
}

impl Jute for i32 {
    const MIN_LEN: usize = 4;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_i32(*self);
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        take(buf).map(i32::from_be_bytes)
    }
    fn encoded_len(&self) -> usize {
        4
    }
}

impl Jute for i64 {
    const MIN_LEN: usize = 8;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_i64(*self);
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        take(buf).map(i64::from_be_bytes)
    }
    fn encoded_len(&self) -> usize {
        8
    }
}

/// `ustring`. A null string (`-1`) decodes as the empty string; use `Option<String>` where null matters.
impl Jute for String {
    const MIN_LEN: usize = 4;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        write_len(buf, self.len());
        buf.put_slice(self.as_bytes());
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(Option::<String>::decode(buf)?.unwrap_or_default())
    }
    fn encoded_len(&self) -> usize {
        4 + self.len()
    }
}

/// `buffer`. A null buffer (`-1`) decodes as empty; use `Option<Bytes>` where null matters.
impl Jute for Bytes {
    const MIN_LEN: usize = 4;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        write_len(buf, self.len());
        buf.put_slice(self);
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(Option::<Bytes>::decode(buf)?.unwrap_or_default())
    }
    fn encoded_len(&self) -> usize {
        4 + self.len()
    }
}

/// `vector<T>`. A null vector (`-1`) decodes as empty; use `Option<Vec<T>>` where null matters.
impl<T: Jute> Jute for Vec<T> {
    const MIN_LEN: usize = 4;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        write_len(buf, self.len());
        for item in self {
            item.encode(buf);
        }
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(Option::<Vec<T>>::decode(buf)?.unwrap_or_default())
    }
    fn encoded_len(&self) -> usize {
        4 + self.iter().map(Jute::encoded_len).sum::<usize>()
    }
}

/// Values that jute can encode as null (a `-1` length): strings, buffers and vectors.
pub trait Nullable: Jute {
    /// Decodes the value that follows a non-null length prefix of `len`.
    fn decode_body(len: usize, buf: &mut Bytes) -> Result<Self, DecodeError>;
    /// The size of one unit the length counts (1 byte for strings and buffers, one element for vectors).
    const UNIT: usize;
}

impl Nullable for String {
    const UNIT: usize = 1;
    /// Malformed UTF-8 decodes with U+FFFD replacements, as Java's `new String(bytes, UTF_8)` in jute's
    /// `readString` does: a server then answers for the path as it reads (a missing node, or a
    /// malformed path), not with a decoding failure.
    fn decode_body(len: usize, buf: &mut Bytes) -> Result<Self, DecodeError> {
        let text = utf8_lossy(&buf[..len]);
        buf.advance(len);
        Ok(text)
    }
}

/// `bytes` as text with U+FFFD for each malformed sequence, exactly as [`String::from_utf8_lossy`] gives
/// it, but allocated once at its final length (at most 3 bytes per input byte).
fn utf8_lossy(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let replaced = |invalid: &[u8]| if invalid.is_empty() { 0 } else { char::REPLACEMENT_CHARACTER.len_utf8() };
    let len = bytes.utf8_chunks().map(|chunk| chunk.valid().len() + replaced(chunk.invalid())).sum();
    let mut text = String::with_capacity(len);
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    text
}

impl Nullable for Bytes {
    const UNIT: usize = 1;
    fn decode_body(len: usize, buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(buf.split_to(len))
    }
}

impl<T: Jute> Nullable for Vec<T> {
    const UNIT: usize = T::MIN_LEN;
    fn decode_body(len: usize, buf: &mut Bytes) -> Result<Self, DecodeError> {
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(T::decode(buf)?);
        }
        Ok(items)
    }
}

/// A nullable string, buffer or vector: `None` is the `-1` length.
impl<T: Nullable> Jute for Option<T> {
    const MIN_LEN: usize = 4;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        match self {
            Some(value) => value.encode(buf),
            None => buf.put_i32(-1),
        }
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        match read_len(buf, T::UNIT)? {
            Some(len) => T::decode_body(len, buf).map(Some),
            None => Ok(None),
        }
    }
    fn encoded_len(&self) -> usize {
        self.as_ref().map_or(4, Jute::encoded_len)
    }
}

/// Declares a jute record: a struct whose encoding is its fields in declaration order.
///
/// With the `arbitrary` feature the record also gets a proptest [`proptest::arbitrary::Arbitrary`]
/// implementation built from its fields' strategies.
macro_rules! jute_record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $crate::Jute for $name {
            const MIN_LEN: usize = 0 $( + <$ty as $crate::Jute>::MIN_LEN )*;
            fn encode<B: ::bytes::BufMut>(&self, buf: &mut B) {
                $( $crate::Jute::encode(&self.$field, buf); )*
            }
            fn decode(buf: &mut ::bytes::Bytes) -> ::core::result::Result<Self, $crate::DecodeError> {
                Ok(Self { $( $field: $crate::Jute::decode(buf)?, )* })
            }
            fn encoded_len(&self) -> usize {
                0 $( + $crate::Jute::encoded_len(&self.$field) )*
            }
        }

        impl $crate::skip::Skip for $name {
            fn skip(buf: &mut &[u8]) -> ::core::option::Option<()> {
                $( <$ty as $crate::skip::Skip>::skip(buf)?; )*
                Some(())
            }
        }

        #[cfg(feature = "arbitrary")]
        impl $crate::arbitrary::JuteStrategy for $name {
            fn strategy() -> ::proptest::strategy::BoxedStrategy<Self> {
                use ::proptest::strategy::Strategy as _;
                $crate::arbitrary::fields!($( $ty ),*)
                    .prop_map(|$crate::arbitrary::fields_pat!($( $field ),*)| Self { $( $field, )* })
                    .boxed()
            }
        }
    };
}
pub(crate) use jute_record;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_are_big_endian() {
        assert_eq!(&0x0102_0304i32.to_bytes()[..], &[1, 2, 3, 4]);
        assert_eq!(&(-2i64).to_bytes()[..], &[0xff; 7].iter().copied().chain([0xfe]).collect::<Vec<_>>()[..]);
        assert_eq!(&true.to_bytes()[..], &[1]);
    }

    #[test]
    fn null_and_empty_are_distinct() {
        assert_eq!(&Option::<String>::None.to_bytes()[..], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(&Some(String::new()).to_bytes()[..], &[0, 0, 0, 0]);
        assert_eq!(Option::<Bytes>::from_bytes(Bytes::from_static(&[0xff; 4])), Ok(None));
        // Non-nullable fields read null as empty, as ZooKeeper's servers effectively do.
        assert_eq!(String::from_bytes(Bytes::from_static(&[0xff; 4])), Ok(String::new()));
    }

    #[test]
    fn any_nonzero_byte_is_true() {
        assert_eq!(bool::from_bytes(Bytes::from_static(&[7])), Ok(true));
    }

    #[test]
    fn hostile_lengths_are_rejected_before_allocating() {
        let huge = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, b'a']);
        assert_eq!(String::from_bytes(huge.clone()), Err(DecodeError::UnexpectedEof));
        assert_eq!(Vec::<i64>::from_bytes(huge), Err(DecodeError::UnexpectedEof));
        let negative = Bytes::from_static(&[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(Bytes::from_bytes(negative), Err(DecodeError::InvalidLength(-2)));
    }

    #[test]
    fn invalid_utf8_decodes_leniently_as_java_does() {
        let bad = Bytes::from_static(&[0, 0, 0, 2, 0xc3, 0x28]);
        assert_eq!(String::from_bytes(bad), Ok("\u{fffd}(".to_owned()));
        let good = Bytes::from_static(&[0, 0, 0, 2, 0xc3, 0xa9]);
        assert_eq!(String::from_bytes(good), Ok("é".to_owned()));
    }

    /// Bytes rich in UTF-8 lead and continuation bytes, so that sequences are often nearly valid.
    fn utf8ish() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        proptest::collection::vec(prop_oneof![any::<u8>(), 0x80u8..0xc0, 0xc2u8..0xf5, Just(b'/')], 0..48)
    }

    proptest::proptest! {
        #[test]
        fn lossy_decoding_is_from_utf8_lossy_at_its_exact_size(raw in utf8ish()) {
            let text = utf8_lossy(&raw);
            proptest::prop_assert_eq!(&text, &String::from_utf8_lossy(&raw));
            proptest::prop_assert_eq!(text.capacity(), text.len());
        }
    }

    #[test]
    fn truncated_primitives_are_errors() {
        assert_eq!(i64::from_bytes(Bytes::from_static(&[1, 2, 3])), Err(DecodeError::UnexpectedEof));
        assert_eq!(i32::from_bytes(Bytes::from_static(&[1, 2, 3, 4, 5])), Err(DecodeError::TrailingBytes(1)));
    }
}
