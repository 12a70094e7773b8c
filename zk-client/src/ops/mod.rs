//! The operations, as `impl Client` blocks grouped by family.

mod acl;
mod children;
mod create;
mod node;
mod session;
mod watch;

pub use create::CreateOptions;

use crate::error::Error;

/// A reply variant that does not match the request: the session decodes replies by the request's
/// opcode, so this cannot happen unless the codec is broken. Reported, never a panic.
pub(crate) fn unexpected(response: zk_proto::Response) -> Error {
    tracing::error!(?response, "reply of the wrong type");
    Error::MarshallingError
}
