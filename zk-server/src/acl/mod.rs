//! Access control: auth providers, ACL checks, submitted-ACL fix-up and the ACL cache, as Apache
//! ZooKeeper does them (`ZooKeeperServer.checkACL`, `PrepRequestProcessor.fixupACL`, the providers in
//! `server/auth/`, `FinalRequestProcessor`'s getACL and whoAmI, `ReferenceCountedACLCache`).
//!
//! Everything that reads ids or ACLs from the network is total: malformed input is rejected with an
//! [`ErrorCode`](zk_proto::ErrorCode) or simply fails to match, never panics.

mod auth_info;
mod check;
pub mod digest;
mod fixup;
#[cfg(test)]
mod fuzz_tests;
mod get_acl;
pub mod ip;
mod principal;
mod provider;

pub use auth_info::AuthInfo;

pub use get_acl::mask_digest_ids;
pub use provider::{AuthConfig, Provider};
