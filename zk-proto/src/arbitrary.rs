//! Proptest strategies for every jute type and record (feature `arbitrary`).
//!
//! Records declared with the crate's record macro get a [`JuteStrategy`] implementation built from
//! their fields, so round-trip properties cover every record without hand-written generators.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

/// A proptest strategy for a jute value.
pub trait JuteStrategy: Sized + std::fmt::Debug {
    /// A strategy producing arbitrary values of this type.
    fn strategy() -> BoxedStrategy<Self>;
}

/// The strategy for `T`.
pub fn any_jute<T: JuteStrategy>() -> BoxedStrategy<T> {
    T::strategy()
}

impl JuteStrategy for bool {
    fn strategy() -> BoxedStrategy<Self> {
        any::<bool>().boxed()
    }
}

impl JuteStrategy for i32 {
    fn strategy() -> BoxedStrategy<Self> {
        any::<i32>().boxed()
    }
}

impl JuteStrategy for i64 {
    fn strategy() -> BoxedStrategy<Self> {
        any::<i64>().boxed()
    }
}

impl JuteStrategy for String {
    fn strategy() -> BoxedStrategy<Self> {
        // Mostly path-like text, sometimes any Unicode.
        prop_oneof![3 => "(/[a-z0-9_.-]{0,8}){0,4}", 1 => any::<String>()].boxed()
    }
}

impl JuteStrategy for Bytes {
    fn strategy() -> BoxedStrategy<Self> {
        vec(any::<u8>(), 0..64).prop_map(Bytes::from).boxed()
    }
}

impl<T: JuteStrategy + 'static> JuteStrategy for Vec<T> {
    fn strategy() -> BoxedStrategy<Self> {
        vec(T::strategy(), 0..6).boxed()
    }
}

impl<T: JuteStrategy + 'static> JuteStrategy for Option<T> {
    fn strategy() -> BoxedStrategy<Self> {
        proptest::option::of(T::strategy()).boxed()
    }
}

/// Nested pairs of field strategies (avoids proptest's tuple-arity limit).
macro_rules! fields {
    () => { ::proptest::strategy::Just(()) };
    ($ty:ty $(, $rest:ty)*) => {
        ($crate::arbitrary::any_jute::<$ty>(), $crate::arbitrary::fields!($($rest),*))
    };
}
pub(crate) use fields;

/// The pattern matching [`fields!`]'s nested pairs.
macro_rules! fields_pat {
    () => { () };
    ($field:ident $(, $rest:ident)*) => { ($field, $crate::arbitrary::fields_pat!($($rest),*)) };
}
pub(crate) use fields_pat;
