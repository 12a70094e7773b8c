//! ACL reads and writes.

use tracing::instrument;
use zk_proto::{Acl, GetAclRequest, Request, Response, SetAclRequest, Stat};

use crate::client::Client;
use crate::error::Result;
use crate::ops::unexpected;

impl Client {
    /// The node's ACL and stat.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (acl, stat) = client.get_acl("/a").await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_acl", level = "debug", skip(self))]
    pub async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        let path = self.server_path(path)?;
        match self.call(Request::GetAcl(GetAclRequest { path })).await? {
            Response::GetAcl(r) => Ok((r.acl, r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// Replaces the node's ACL, returning the new stat. `version` (the ACL version, `aversion`)
    /// `None` means any.
    ///
    /// ```no_run
    /// use zk_client::Acl;
    ///
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let stat = client.set_acl("/a", &Acl::read_unsafe(), None).await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.set_acl", level = "debug", skip(self, acl))]
    pub async fn set_acl(&self, path: &str, acl: &[Acl], version: Option<i32>) -> Result<Stat> {
        let path = self.server_path(path)?;
        let request = Request::SetAcl(SetAclRequest { path, acl: acl.to_vec(), version: version.unwrap_or(-1) });
        match self.call(request).await? {
            Response::SetAcl(r) => Ok(r.stat),
            other => Err(unexpected(other)),
        }
    }
}
