//! Listing: children (with stat and watch), descendant count, the session's ephemerals.

use tracing::instrument;
use zk_proto::{GetAllChildrenNumberRequest, GetChildren2Request, GetEphemeralsRequest, Request, Response, Stat};

use crate::client::Client;
use crate::error::Result;
use crate::ops::unexpected;
use crate::watcher::OneshotWatcher;
use crate::watches::WatchKind;

impl Client {
    /// The names (not paths) of the node's children, in no particular order.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let mut children = client.get_children("/").await?;
    /// children.sort();
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_children", level = "debug", skip(self))]
    pub async fn get_children(&self, path: &str) -> Result<Vec<String>> {
        self.get_children_and_stat(path).await.map(|(children, _)| children)
    }

    /// The node's children and its stat.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (children, stat) = client.get_children_and_stat("/").await?;
    /// assert_eq!(children.len(), stat.num_children as usize);
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_children", level = "debug", skip(self))]
    pub async fn get_children_and_stat(&self, path: &str) -> Result<(Vec<String>, Stat)> {
        let path = self.server_path(path)?;
        match self.call(Request::GetChildren2(GetChildren2Request { path, watch: false })).await? {
            Response::GetChildren2(r) => Ok((r.children, r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// Like [`Client::get_children_and_stat`], and leaves a watch that fires when a child is created
    /// or deleted (`NodeChildrenChanged`) or the node is deleted.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (children, _stat, watcher) = client.get_children_and_watch("/workers").await?;
    /// let event = watcher.await;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_children", level = "debug", skip(self))]
    pub async fn get_children_and_watch(&self, path: &str) -> Result<(Vec<String>, Stat, OneshotWatcher)> {
        let path = self.server_path(path)?;
        let request = Request::GetChildren2(GetChildren2Request { path: path.clone(), watch: true });
        match self.call_watched(request, WatchKind::Child, path).await {
            (Ok(Response::GetChildren2(r)), watcher) => Ok((r.children, r.stat, watcher)),
            (Ok(other), _) => Err(unexpected(other)),
            (Err(err), _) => Err(err),
        }
    }

    /// The number of descendants of the node, recursively (not counting the node itself).
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let n = client.get_all_children_number("/app").await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_all_children_number", level = "debug", skip(self))]
    pub async fn get_all_children_number(&self, path: &str) -> Result<i32> {
        let path = self.server_path(path)?;
        match self.call(Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path })).await? {
            Response::GetAllChildrenNumber(r) => Ok(r.total_number),
            other => Err(unexpected(other)),
        }
    }

    /// This session's ephemeral nodes whose path starts with `prefix` (a plain string prefix under the
    /// chroot; `"/"` lists them all). Paths are relative to the chroot.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let mine = client.get_ephemerals("/").await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_ephemerals", level = "debug", skip(self))]
    pub async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>> {
        if !prefix.starts_with('/') {
            return Err(crate::Error::InvalidArgument(format!("prefix {prefix:?} must start with /")));
        }
        let prefix_path = self.server_prefix(prefix);
        match self.call(Request::GetEphemerals(GetEphemeralsRequest { prefix_path })).await? {
            Response::GetEphemerals(r) => Ok(r.ephemerals.iter().map(|p| self.client_path(p)).collect()),
            other => Err(unexpected(other)),
        }
    }
}
