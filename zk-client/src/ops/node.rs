//! Single-node reads and writes: delete, exists, get_data, set_data, check.

use bytes::Bytes;
use tracing::instrument;
use zk_proto::{DeleteRequest, ExistsRequest, GetDataRequest, Request, Response, SetDataRequest, Stat};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::ops::unexpected;
use crate::watcher::OneshotWatcher;
use crate::watches::WatchKind;

impl Client {
    /// Deletes a node. `version` `None` deletes whatever the version; `Some(v)` fails with
    /// [`Error::BadVersion`] unless the data version is `v`.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// client.delete("/a", None).await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.delete", level = "debug", skip(self))]
    pub async fn delete(&self, path: &str, version: Option<i32>) -> Result<()> {
        let path = self.server_path(path)?;
        self.call(Request::Delete(DeleteRequest { path, version: version.unwrap_or(-1) })).await.map(drop)
    }

    /// The node's stat, or `None` if it does not exist.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// if let Some(stat) = client.exists("/a").await? {
    ///     println!("version {}", stat.version);
    /// }
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.exists", level = "debug", skip(self))]
    pub async fn exists(&self, path: &str) -> Result<Option<Stat>> {
        let path = self.server_path(path)?;
        match self.call(Request::Exists(ExistsRequest { path, watch: false })).await {
            Ok(Response::Exists(r)) => Ok(Some(r.stat)),
            Ok(other) => Err(unexpected(other)),
            Err(Error::NoNode) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Like [`Client::exists`], and leaves a watch: it fires on the node's creation (if missing), or on
    /// its data change or deletion.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (stat, watcher) = client.exists_and_watch("/leader").await?;
    /// if stat.is_none() {
    ///     let event = watcher.await; // NodeCreated
    /// }
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.exists", level = "debug", skip(self))]
    pub async fn exists_and_watch(&self, path: &str) -> Result<(Option<Stat>, OneshotWatcher)> {
        let path = self.server_path(path)?;
        let request = Request::Exists(ExistsRequest { path: path.clone(), watch: true });
        // An exists on a missing node fails with NoNode yet still sets a watch: keep the watcher.
        match self.call_watched(request, WatchKind::Data, path).await {
            (Ok(Response::Exists(r)), watcher) => Ok((Some(r.stat), watcher)),
            (Err(Error::NoNode), watcher) => Ok((None, watcher)),
            (Ok(other), _) => Err(unexpected(other)),
            (Err(err), _) => Err(err),
        }
    }

    /// The node's data and stat.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (data, stat) = client.get_data("/config").await?;
    /// println!("{} bytes, version {}", data.len(), stat.version);
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_data", level = "debug", skip(self))]
    pub async fn get_data(&self, path: &str) -> Result<(Bytes, Stat)> {
        let path = self.server_path(path)?;
        match self.call(Request::GetData(GetDataRequest { path, watch: false })).await? {
            Response::GetData(r) => Ok((r.data.unwrap_or_default(), r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// Like [`Client::get_data`], and leaves a watch that fires on the next data change or deletion.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (data, _stat, watcher) = client.get_data_and_watch("/config").await?;
    /// let event = watcher.await; // NodeDataChanged or NodeDeleted
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_data", level = "debug", skip(self))]
    pub async fn get_data_and_watch(&self, path: &str) -> Result<(Bytes, Stat, OneshotWatcher)> {
        let path = self.server_path(path)?;
        let request = Request::GetData(GetDataRequest { path: path.clone(), watch: true });
        match self.call_watched(request, WatchKind::Data, path).await {
            (Ok(Response::GetData(r)), watcher) => Ok((r.data.unwrap_or_default(), r.stat, watcher)),
            (Ok(other), _) => Err(unexpected(other)),
            (Err(err), _) => Err(err),
        }
    }

    /// Replaces the node's data, returning the new stat. `version` as for [`Client::delete`].
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let stat = client.set_data("/config", b"v2", Some(1)).await?;
    /// assert_eq!(stat.version, 2);
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.set_data", level = "debug", skip(self, data))]
    pub async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat> {
        let path = self.server_path(path)?;
        let request = Request::SetData(SetDataRequest {
            path,
            data: Some(Bytes::copy_from_slice(data)),
            version: version.unwrap_or(-1),
        });
        match self.call(request).await? {
            Response::SetData(r) => Ok(r.stat),
            other => Err(unexpected(other)),
        }
    }

    /// Checks that the node's data version is `version` (as a one-op multi, which every server
    /// version supports). Fails with [`Error::BadVersion`] or [`Error::NoNode`].
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// client.check("/config", 3).await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.check", level = "debug", skip(self))]
    pub async fn check(&self, path: &str, version: i32) -> Result<()> {
        match self.multi().check(path, version).commit().await {
            Ok(_) => Ok(()),
            Err(Error::MultiFailed { source, .. }) => Err(*source),
            Err(err) => Err(err),
        }
    }
}
