//! A macro for the protocol's integer-coded enums (opcodes, error codes, event types, ...).

/// Declares a `#[repr(i32)]` enum with `code()`, `TryFrom<i32>` (failing with the unknown value) and
/// `Display` as ZooKeeper's own name.
macro_rules! int_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr => $text:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(i32)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value on the wire.
            pub const fn code(self) -> i32 {
                self as i32
            }

            /// ZooKeeper's name for this value.
            pub const fn name(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }
        }

        impl ::core::convert::TryFrom<i32> for $name {
            type Error = i32;
            fn try_from(code: i32) -> ::core::result::Result<Self, i32> {
                match code {
                    $( x if x == $value => Ok($name::$variant), )*
                    other => Err(other),
                }
            }
        }

        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                value.code()
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
pub(crate) use int_enum;
