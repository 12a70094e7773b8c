//! Persistent watches and watch removal.

use tracing::instrument;
use zk_proto::{AddWatchMode, AddWatchRequest, RemoveWatchesRequest, Request, WatcherType};

use crate::client::Client;
use crate::error::Result;
use crate::watcher::PersistentWatcher;
use crate::watches::WatchKind;

impl Client {
    /// Adds a persistent watch on `path` (which need not exist): every `NodeCreated`, `NodeDeleted`,
    /// `NodeDataChanged` and `NodeChildrenChanged` on the node ([`AddWatchMode::Persistent`]), or every
    /// create, delete and data change on the node and all its descendants
    /// ([`AddWatchMode::PersistentRecursive`]). The watch survives reconnects; dropping the stream
    /// removes it.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use zk_client::AddWatchMode;
    ///
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let mut events = client.watch("/services", AddWatchMode::PersistentRecursive).await?;
    /// let first = events.next().await;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.watch", level = "debug", skip(self))]
    pub async fn watch(&self, path: &str, mode: AddWatchMode) -> Result<PersistentWatcher> {
        let path = self.server_path(path)?;
        let kind = match mode {
            AddWatchMode::Persistent => WatchKind::Persistent,
            AddWatchMode::PersistentRecursive => WatchKind::PersistentRecursive,
        };
        let request = Request::AddWatch(AddWatchRequest { path: path.clone(), mode: mode.code() });
        self.call_persistent(request, kind, path).await
    }

    /// Removes this session's watches of `watcher_type` on `path`, on the server and locally. Each
    /// local watcher removed gets a `DataWatchRemoved`, `ChildWatchRemoved` or
    /// `PersistentWatchRemoved` event. Fails with [`Error::NoWatcher`](crate::Error::NoWatcher) if the
    /// server had none.
    ///
    /// ```no_run
    /// use zk_client::WatcherType;
    ///
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// client.remove_watches("/config", WatcherType::Any).await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.remove_watches", level = "debug", skip(self))]
    pub async fn remove_watches(&self, path: &str, watcher_type: WatcherType) -> Result<()> {
        let path = self.server_path(path)?;
        let request = Request::RemoveWatches(RemoveWatchesRequest { path, watcher_type: watcher_type.code() });
        self.call(request).await.map(drop)
    }
}
