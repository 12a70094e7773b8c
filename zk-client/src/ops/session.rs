//! Session-level operations: sync, auth, whoAmI, config, close.

use bytes::Bytes;
use tracing::instrument;
use zk_proto::{ClientInfo, GetDataRequest, ReconfigRequest, Request, Response, Stat, SyncRequest};

use crate::client::Client;
use crate::error::Result;
use crate::ops::unexpected;
use crate::watcher::OneshotWatcher;
use crate::watches::WatchKind;

/// The znode holding the ensemble configuration (never under a chroot).
const CONFIG_NODE: &str = "/zookeeper/config";

impl Client {
    /// Waits until the server this client is connected to has caught up with the leader, so a
    /// following read sees every write committed before the sync.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// client.sync("/").await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.sync", level = "debug", skip(self))]
    pub async fn sync(&self, path: &str) -> Result<()> {
        let path = self.server_path(path)?;
        match self.call(Request::Sync(SyncRequest { path })).await? {
            Response::Sync(_) => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Adds credentials to the session (e.g. `("digest", b"user:password")`). They are also replayed on
    /// every reconnect. A rejected credential ends the session with [`SessionState::AuthFailed`].
    ///
    /// [`SessionState::AuthFailed`]: crate::SessionState::AuthFailed
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// client.add_auth("digest", b"alice:secret").await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.add_auth", level = "debug", skip(self, auth))]
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()> {
        self.call_auth(scheme.to_owned(), Bytes::copy_from_slice(auth)).await
    }

    /// The identities this session is authenticated as.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// for who in client.who_am_i().await? {
    ///     println!("{}:{}", who.auth_scheme, who.user);
    /// }
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.who_am_i", level = "debug", skip(self))]
    pub async fn who_am_i(&self) -> Result<Vec<ClientInfo>> {
        match self.call(Request::WhoAmI).await? {
            Response::WhoAmI(r) => Ok(r.client_info),
            other => Err(unexpected(other)),
        }
    }

    /// The ensemble configuration (`/zookeeper/config`, outside any chroot) and its stat.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (config, _stat) = client.get_config().await?;
    /// println!("{}", String::from_utf8_lossy(&config));
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.get_config", level = "debug", skip(self))]
    pub async fn get_config(&self) -> Result<(Bytes, Stat)> {
        let request = Request::GetData(GetDataRequest { path: CONFIG_NODE.into(), watch: false });
        match self.call(request).await? {
            Response::GetData(r) => Ok((r.data.unwrap_or_default(), r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// Like [`Client::get_config`], and watches the configuration for the next change.
    #[instrument(name = "zk.get_config", level = "debug", skip(self))]
    pub async fn get_config_and_watch(&self) -> Result<(Bytes, Stat, OneshotWatcher)> {
        let request = Request::GetData(GetDataRequest { path: CONFIG_NODE.into(), watch: true });
        match self.call_watched(request, WatchKind::Data, CONFIG_NODE.into()).await {
            (Ok(Response::GetData(r)), watcher) => Ok((r.data.unwrap_or_default(), r.stat, watcher)),
            (Ok(other), _) => Err(unexpected(other)),
            (Err(err), _) => Err(err),
        }
    }

    /// Changes the ensemble membership: incrementally (`joining` specs such as
    /// `server.4=host:2888:3888;2181`, `leaving` server ids, comma separated) or wholesale
    /// (`new_members`). `from_config` is the expected current config version (`None`: any). Returns the
    /// new config. Fails with [`Error::ReconfigDisabled`](crate::Error::ReconfigDisabled) unless the
    /// ensemble enables it.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// let (config, _stat) = client.reconfig(Some("server.4=10.0.0.4:2888:3888;2181"), None, None, None).await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.reconfig", level = "debug", skip(self))]
    pub async fn reconfig(
        &self,
        joining: Option<&str>,
        leaving: Option<&str>,
        new_members: Option<&str>,
        from_config: Option<i64>,
    ) -> Result<(Bytes, Stat)> {
        let request = Request::Reconfig(ReconfigRequest {
            joining_servers: joining.map(str::to_owned),
            leaving_servers: leaving.map(str::to_owned),
            new_members: new_members.map(str::to_owned),
            cur_config_id: from_config.unwrap_or(-1),
        });
        match self.call(request).await? {
            Response::Reconfig(r) => Ok((r.data.unwrap_or_default(), r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// Closes the session: its ephemeral nodes are deleted and every watcher gets a final `Closed`
    /// event. Every clone of this client is closed with it. Closing twice is fine.
    ///
    /// ```no_run
    /// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
    /// client.close().await?;
    /// # Ok(()) }
    /// ```
    #[instrument(name = "zk.close", level = "debug", skip(self))]
    pub async fn close(&self) -> Result<()> {
        self.call_close().await
    }
}
