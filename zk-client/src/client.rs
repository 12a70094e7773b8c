//! [`Client`], the cheap-to-clone handle, and [`ClientBuilder`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream_shim::UnboundedStream;
use tracing::Span;
use zk_proto::{Request, Response};

use crate::connect_string::{Chroot, ConnectString};
use crate::connection::{Command, Driver, ReconnectPolicy, SessionInfo};
use crate::error::{Error, Result};
use crate::path::validate_path;
use crate::session::{Session, SessionConfig, WatchRegistration};
use crate::state::SessionState;
use crate::transport::Connector;
use crate::watcher::{OneshotWatcher, PersistentWatcher, WatchSink};
use crate::watches::WatchKind;

/// A ZooKeeper client: a handle to one session and the task that keeps its connection.
///
/// `Client` is a cheap [`Clone`]; clones share the session, its connection and its watches. Requests
/// from all clones are pipelined on the one connection and complete in submission order. When the last
/// clone is dropped the session is closed.
///
/// The connection is re-established automatically (jittered exponential backoff over the shuffled
/// hosts) as long as the session lives. Requests in flight when a connection breaks fail with
/// [`Error::ConnectionLoss`]; requests submitted while disconnected wait for the next connection.
///
/// ```no_run
/// use zk_client::{Client, CreateOptions};
///
/// # async fn demo() -> zk_client::Result<()> {
/// let client = Client::connect("127.0.0.1:2181/app").await?;
/// let (path, _stat) = client.create("/job-", b"payload", &CreateOptions::ephemeral_sequential()).await?;
/// let (data, stat) = client.get_data(&path).await?;
/// assert_eq!(&data[..], b"payload");
/// client.set_data(&path, b"done", Some(stat.version)).await?;
/// client.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    commands: mpsc::UnboundedSender<Command>,
    unwatch: mpsc::UnboundedSender<u64>,
    ids: AtomicU64,
    chroot: Chroot,
    info: watch::Receiver<SessionInfo>,
    request_timeout: Option<Duration>,
}

impl Client {
    /// A builder with every option.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Connects with default options (see [`ClientBuilder`]) and waits for the session.
    pub async fn connect(connect_string: &str) -> Result<Client> {
        ClientBuilder::default().connect(connect_string).await
    }

    /// The session id (0 before the first connection).
    pub fn session_id(&self) -> i64 {
        self.inner.info.borrow().session_id
    }

    /// The session password, to resume the session elsewhere with
    /// [`ClientBuilder::with_session`].
    pub fn session_password(&self) -> Bytes {
        self.inner.info.borrow().password.clone()
    }

    /// The session timeout the server granted.
    pub fn session_timeout(&self) -> Duration {
        self.inner.info.borrow().timeout
    }

    /// The current session state.
    pub fn state(&self) -> SessionState {
        self.inner.info.borrow().state
    }

    /// Every session state change from now on, starting with the current state. The stream ends after
    /// a terminal state ([`SessionState::is_terminal`]).
    ///
    /// ```no_run
    /// use futures::StreamExt;
    ///
    /// # async fn demo(client: zk_client::Client) {
    /// let mut states = client.state_stream();
    /// while let Some(state) = states.next().await {
    ///     println!("session is now {state}");
    /// }
    /// # }
    /// ```
    pub fn state_stream(&self) -> impl Stream<Item = SessionState> + Send + Unpin + 'static {
        let (tx, rx) = mpsc::unbounded_channel();
        if self.inner.commands.send(Command::Subscribe(tx)).is_err() {
            // The task is gone: the stream is empty (after the last state).
            let (tx, rx) = mpsc::unbounded_channel();
            let _ = tx.send(self.state());
            return UnboundedStream(rx);
        }
        UnboundedStream(rx)
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.inner.ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Validates a client path and maps it to the server path.
    pub(crate) fn server_path(&self, path: &str) -> Result<String> {
        validate_path(path, false)?;
        Ok(self.inner.chroot.to_server(path))
    }

    /// Validates a create path (sequential creates may end in `/`) and maps it.
    pub(crate) fn server_create_path(&self, path: &str, sequential: bool) -> Result<String> {
        validate_path(path, sequential)?;
        Ok(self.inner.chroot.to_server(path))
    }

    /// Maps a `getEphemerals` prefix (a plain string prefix, not validated as a path).
    pub(crate) fn server_prefix(&self, prefix: &str) -> String {
        match (self.inner.chroot.to_server("/"), prefix) {
            (root, "/") if root != "/" => format!("{root}/"),
            (root, _) if root == "/" => prefix.to_owned(),
            (root, _) => format!("{root}{prefix}"),
        }
    }

    /// Maps a server path back under the chroot.
    pub(crate) fn client_path(&self, path: &str) -> String {
        self.inner.chroot.to_client(path)
    }

    /// Sends a request and waits for its reply.
    pub(crate) async fn call(&self, request: Request) -> Result<Response> {
        let (reply, rx) = oneshot::channel();
        let id = self.next_id();
        let span = Span::current();
        self.send(Command::Submit { id, request, watch: None, reply, span })?;
        self.wait(rx).await
    }

    /// Sends a request that sets a one-shot watch of `kind` on `server_path`.
    pub(crate) async fn call_watched(
        &self,
        request: Request,
        kind: WatchKind,
        server_path: String,
    ) -> (Result<Response>, OneshotWatcher) {
        let (reply, rx) = oneshot::channel();
        let (sink, events) = oneshot::channel();
        let id = self.next_id();
        let watcher_id = self.next_id();
        let watch = WatchRegistration { id: watcher_id, kind, path: server_path };
        let watcher = OneshotWatcher::new(watcher_id, events, self.inner.unwatch.clone());
        let span = Span::current();
        if let Err(err) =
            self.send(Command::Submit { id, request, watch: Some((watch, WatchSink::Oneshot(sink))), reply, span })
        {
            return (Err(err), watcher);
        }
        (self.wait(rx).await, watcher)
    }

    /// Sends an `addWatch` and returns the stream its events go to.
    pub(crate) async fn call_persistent(
        &self,
        request: Request,
        kind: WatchKind,
        server_path: String,
    ) -> Result<PersistentWatcher> {
        let (reply, rx) = oneshot::channel();
        let (sink, events) = mpsc::unbounded_channel();
        let id = self.next_id();
        let watcher_id = self.next_id();
        let watch = WatchRegistration { id: watcher_id, kind, path: server_path };
        let watcher = PersistentWatcher::new(watcher_id, events, self.inner.unwatch.clone());
        let span = Span::current();
        self.send(Command::Submit { id, request, watch: Some((watch, WatchSink::Stream(sink))), reply, span })?;
        self.wait(rx).await?;
        Ok(watcher)
    }

    pub(crate) async fn call_auth(&self, scheme: String, auth: Bytes) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        let id = self.next_id();
        self.send(Command::AddAuth { id, scheme, auth, reply })?;
        self.wait(rx).await.map(drop)
    }

    pub(crate) async fn call_close(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        let id = self.next_id();
        self.send(Command::Close { id, reply })?;
        match rx.await {
            Ok(result) => result.map(drop),
            Err(_) => Ok(()),
        }
    }

    fn send(&self, command: Command) -> Result<()> {
        self.inner.commands.send(command).map_err(|_| Error::Closed)
    }

    async fn wait(&self, rx: oneshot::Receiver<Result<Response>>) -> Result<Response> {
        let result = match self.inner.request_timeout {
            Some(limit) => tokio::time::timeout(limit, rx).await.map_err(|_| Error::Timeout)?,
            None => rx.await,
        };
        result.unwrap_or(Err(Error::Closed))
    }
}

/// Options for a [`Client`].
///
/// | option | default |
/// |---|---|
/// | session timeout | 10 s (the server clamps it to its min/max) |
/// | connect timeout per host | session timeout / number of hosts, at most 10 s |
/// | wait for the first session in `connect` | session timeout × 2 |
/// | read-only servers allowed | no |
/// | request timeout | none |
/// | reconnect backoff | 10 ms doubling to 2 s, jittered |
/// | TLS | off |
/// | expire locally after the session timeout without a server | yes |
///
/// ```no_run
/// use std::time::Duration;
/// use zk_client::Client;
///
/// # async fn demo() -> zk_client::Result<()> {
/// let client = Client::builder()
///     .with_session_timeout(Duration::from_secs(6))
///     .with_auth("digest", b"alice:secret")
///     .with_read_only(true)
///     .connect("zk1:2181,zk2:2181,zk3:2181/app")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    session_timeout: Duration,
    connect_timeout: Option<Duration>,
    establish_timeout: Option<Duration>,
    read_only: bool,
    auth: Vec<(String, Bytes)>,
    session: Option<(i64, Bytes)>,
    request_timeout: Option<Duration>,
    min_backoff: Duration,
    max_backoff: Duration,
    shuffle: bool,
    local_expiry: bool,
    connector: Connector,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            session_timeout: Duration::from_secs(10),
            connect_timeout: None,
            establish_timeout: None,
            read_only: false,
            auth: Vec::new(),
            session: None,
            request_timeout: None,
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(2),
            shuffle: true,
            local_expiry: true,
            connector: Connector::default(),
        }
    }
}

impl ClientBuilder {
    /// The session timeout to ask for.
    pub fn with_session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// How long one connection attempt (TCP connect, then the handshake) may take.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long [`ClientBuilder::connect`] waits for the first session before failing with
    /// [`Error::Timeout`].
    pub fn with_establish_timeout(mut self, timeout: Duration) -> Self {
        self.establish_timeout = Some(timeout);
        self
    }

    /// Accept read-only servers (a partitioned minority); writes then fail with `NotReadOnly`.
    pub fn with_read_only(mut self, allowed: bool) -> Self {
        self.read_only = allowed;
        self
    }

    /// Credentials sent on every connection (e.g. `("digest", b"user:password")`).
    pub fn with_auth(mut self, scheme: &str, auth: &[u8]) -> Self {
        self.auth.push((scheme.to_owned(), Bytes::copy_from_slice(auth)));
        self
    }

    /// Resume a known session instead of creating one (see [`Client::session_id`] and
    /// [`Client::session_password`]).
    pub fn with_session(mut self, session_id: i64, password: &[u8]) -> Self {
        self.session = Some((session_id, Bytes::copy_from_slice(password)));
        self
    }

    /// Fail any request not answered within `timeout` with [`Error::Timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// The reconnect backoff range (exponential with jitter between the two).
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    /// Connect with TLS (ZooKeeper's `secureClientPort`), using this rustls config: its roots verify
    /// the servers, whose certificates must name the host (DNS name or IP) of the connect string.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use zk_client::{rustls, Client};
    ///
    /// # async fn demo(roots: rustls::RootCertStore) -> zk_client::Result<()> {
    /// let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
    ///     .with_safe_default_protocol_versions()
    ///     .expect("TLS 1.2 and 1.3")
    ///     .with_root_certificates(roots)
    ///     .with_no_client_auth();
    /// let client = Client::builder().with_tls(Arc::new(tls)).connect("zk1:2281").await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, config: std::sync::Arc<tokio_rustls::rustls::ClientConfig>) -> Self {
        self.connector.tls = Some(config);
        self
    }

    /// Whether to declare the session [`SessionState::Expired`] once no server has answered for the
    /// negotiated session timeout (default true). The servers expire a session they have not heard
    /// from for that long, so this only reports early what a reconnect would find; and the client
    /// stops trying, so the session is certainly gone. With `false` the client stays
    /// [`SessionState::Disconnected`] until a server tells it (the Java client's behaviour).
    pub fn with_local_expiry(mut self, enabled: bool) -> Self {
        self.local_expiry = enabled;
        self
    }

    /// Whether to shuffle the hosts before cycling through them (default true).
    pub fn with_shuffled_hosts(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Starts the client and waits until its session is established.
    ///
    /// Fails with [`Error::Timeout`] if no server gives a session in time, [`Error::SessionExpired`]
    /// when resuming a dead session, [`Error::AuthFailed`] if the credentials are rejected.
    pub async fn connect(self, connect_string: &str) -> Result<Client> {
        let client = self.start(connect_string)?;
        let establish = self.establish_timeout.unwrap_or(self.session_timeout * 2);
        let mut info = client.inner.info.clone();
        let wait = async {
            loop {
                let state = info.borrow_and_update().state;
                match state {
                    SessionState::Connected | SessionState::ConnectedReadOnly => return Ok(()),
                    SessionState::Expired => return Err(Error::SessionExpired),
                    SessionState::AuthFailed => return Err(Error::AuthFailed),
                    SessionState::Closed => return Err(Error::Closed),
                    SessionState::Connecting | SessionState::Disconnected => {}
                }
                if info.changed().await.is_err() {
                    return Err(Error::Closed);
                }
            }
        };
        match tokio::time::timeout(establish, wait).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(err),
            Err(_) => return Err(Error::Timeout),
        }
        if !self.auth.is_empty() {
            // The server answers credentials as it reads them, so one round trip after the handshake
            // is enough to know they were accepted.
            match client.exists("/").await {
                Ok(_) => {}
                Err(err) if err.is_terminal() => return Err(err),
                Err(_) => {}
            }
        }
        Ok(client)
    }

    /// Starts the client without waiting: requests wait for the first connection. Must be called from
    /// within a Tokio runtime (the connection task is spawned on it).
    pub fn start(&self, connect_string: &str) -> Result<Client> {
        let parsed: ConnectString = connect_string.parse()?;
        let mut hosts = parsed.hosts().to_vec();
        if self.shuffle {
            fastrand::shuffle(&mut hosts);
        }
        let connect_timeout =
            self.connect_timeout.unwrap_or(default_connect_timeout(self.session_timeout, hosts.len()));
        let (session_id, password) = self.session.clone().unwrap_or_default();
        let config = SessionConfig {
            session_timeout: self.session_timeout,
            connect_timeout,
            read_only: self.read_only,
            session_id,
            password: password.clone(),
            max_frame: zk_proto::DEFAULT_MAX_FRAME,
            local_expiry: self.local_expiry,
        };
        let mut session = Session::new(config, Instant::now());
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (unwatch_tx, unwatch) = mpsc::unbounded_channel();
        for (i, (scheme, auth)) in self.auth.iter().enumerate() {
            // Builder credentials have no caller waiting: their ids are never answered.
            session.add_auth(u64::MAX - 1 - i as u64, scheme.clone(), auth.clone(), Instant::now());
        }
        let (info_tx, info) = watch::channel(SessionInfo {
            state: SessionState::Connecting,
            session_id,
            password,
            timeout: self.session_timeout,
        });
        let chroot = Chroot::new(parsed.chroot());
        let driver = Driver {
            session,
            hosts,
            policy: ReconnectPolicy { connect_timeout, min_backoff: self.min_backoff, max_backoff: self.max_backoff },
            chroot: chroot.clone(),
            commands,
            unwatch,
            info: info_tx,
            commands_open: true,
            replies: HashMap::new(),
            sinks: HashMap::new(),
            subscribers: Vec::new(),
            out: BytesMut::new(),
            next_host: 0,
            connector: self.connector.clone(),
        };
        tokio::spawn(driver.run());
        Ok(Client {
            inner: Arc::new(Inner {
                commands: commands_tx,
                unwatch: unwatch_tx,
                ids: AtomicU64::new(1),
                chroot,
                info,
                request_timeout: self.request_timeout,
            }),
        })
    }
}

/// The Java client's per-host connect timeout (session timeout / number of hosts), capped at 10 s: a
/// handshake normally takes milliseconds, and one stuck on a single host must not eat the session.
fn default_connect_timeout(session_timeout: Duration, hosts: usize) -> Duration {
    (session_timeout / hosts.max(1) as u32).min(Duration::from_secs(10))
}

/// A tiny adapter: an unbounded receiver as a [`Stream`] (avoids a `tokio-stream` dependency).
mod tokio_stream_shim {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures::Stream;
    use tokio::sync::mpsc;

    #[derive(Debug)]
    pub(crate) struct UnboundedStream<T>(pub(crate) mpsc::UnboundedReceiver<T>);

    impl<T> Stream for UnboundedStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}
