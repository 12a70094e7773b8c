//! `create` in all its modes.

use std::time::Duration;

use bytes::Bytes;
use tracing::instrument;
use zk_proto::{Acl, CreateMode, CreateRequest, CreateTtlRequest, MultiOp, Request, Response, Stat, MAX_TTL};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::ops::unexpected;

/// How to create a node: its [`CreateMode`], ACL and (for TTL modes) TTL.
///
/// ```
/// use std::time::Duration;
/// use zk_client::{Acl, CreateMode, CreateOptions};
///
/// let opts = CreateOptions::new(CreateMode::PersistentWithTtl)
///     .with_ttl(Duration::from_secs(60))
///     .with_acl(Acl::read_unsafe());
/// assert_eq!(opts.mode(), CreateMode::PersistentWithTtl);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateOptions {
    mode: CreateMode,
    acl: Vec<Acl>,
    ttl: Option<Duration>,
}

impl CreateOptions {
    /// Options for `mode` with the open ACL (`world:anyone`, all permissions).
    pub fn new(mode: CreateMode) -> CreateOptions {
        CreateOptions { mode, acl: Acl::open_unsafe(), ttl: None }
    }

    /// A persistent node with the open ACL.
    pub fn persistent() -> CreateOptions {
        CreateOptions::new(CreateMode::Persistent)
    }

    /// An ephemeral node with the open ACL.
    pub fn ephemeral() -> CreateOptions {
        CreateOptions::new(CreateMode::Ephemeral)
    }

    /// A persistent sequential node with the open ACL.
    pub fn persistent_sequential() -> CreateOptions {
        CreateOptions::new(CreateMode::PersistentSequential)
    }

    /// An ephemeral sequential node with the open ACL.
    pub fn ephemeral_sequential() -> CreateOptions {
        CreateOptions::new(CreateMode::EphemeralSequential)
    }

    /// A container node with the open ACL.
    pub fn container() -> CreateOptions {
        CreateOptions::new(CreateMode::Container)
    }

    /// A persistent node deleted by the server once childless and unmodified for `ttl`.
    pub fn ttl(ttl: Duration) -> CreateOptions {
        CreateOptions::new(CreateMode::PersistentWithTtl).with_ttl(ttl)
    }

    /// Replaces the ACL.
    pub fn with_acl(mut self, acl: Vec<Acl>) -> CreateOptions {
        self.acl = acl;
        self
    }

    /// Sets the TTL (TTL modes only).
    pub fn with_ttl(mut self, ttl: Duration) -> CreateOptions {
        self.ttl = Some(ttl);
        self
    }

    /// The mode.
    pub fn mode(&self) -> CreateMode {
        self.mode
    }

    /// The ACL.
    pub fn acl(&self) -> &[Acl] {
        &self.acl
    }

    /// Builds the create sub-op (create2, createContainer or createTTL, all answering path and stat).
    pub(crate) fn to_op(&self, server_path: String, data: &[u8]) -> Result<MultiOp> {
        let data = Some(Bytes::copy_from_slice(data));
        let flags = self.mode.code();
        let acl = self.acl.clone();
        match (self.mode.is_ttl(), self.ttl) {
            (true, Some(ttl)) => {
                let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
                if !(1..=MAX_TTL).contains(&ttl) {
                    return Err(Error::InvalidArgument(format!("TTL {ttl} ms outside 1..={MAX_TTL}")));
                }
                Ok(MultiOp::CreateTtl(CreateTtlRequest { path: server_path, data, acl, flags, ttl }))
            }
            (true, None) => Err(Error::InvalidArgument(format!("{} needs a TTL", self.mode))),
            (false, Some(_)) => Err(Error::InvalidArgument(format!("{} takes no TTL", self.mode))),
            (false, None) if self.mode.is_container() => {
                Ok(MultiOp::CreateContainer(CreateRequest { path: server_path, data, acl, flags }))
            }
            (false, None) => Ok(MultiOp::Create2(CreateRequest { path: server_path, data, acl, flags })),
        }
    }
}

impl Client {
    /// Creates a node, returning its actual path (with the sequence suffix for sequential modes,
    /// relative to the chroot) and its stat.
    ///
    /// ```no_run
    /// use zk_client::CreateOptions;
    ///
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (path, stat) = client.create("/queue/item-", b"x", &CreateOptions::persistent_sequential()).await?;
    /// assert!(path.starts_with("/queue/item-"));
    /// assert_eq!(stat.version, 0);
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.create", level = "debug", skip(self, data, options), fields(mode = %options.mode()))]
    pub async fn create(&self, path: &str, data: &[u8], options: &CreateOptions) -> Result<(String, Stat)> {
        let server_path = self.server_create_path(path, options.mode().is_sequential())?;
        let request = match options.to_op(server_path, data)? {
            MultiOp::CreateTtl(r) => Request::CreateTtl(r),
            MultiOp::CreateContainer(r) => Request::CreateContainer(r),
            MultiOp::Create2(r) => Request::Create2(r),
            _ => return Err(Error::InvalidArgument("unsupported create".into())),
        };
        match self.call(request).await? {
            Response::Create2(r) | Response::CreateContainer(r) | Response::CreateTtl(r) => {
                Ok((self.client_path(&r.path), r.stat))
            }
            other => Err(unexpected(other)),
        }
    }
}
