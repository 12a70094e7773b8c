//! The connection task: the thin tokio shell around the sans-IO [`Session`]. It owns the socket and
//! the timers, picks servers, backs off between attempts, and routes the session's outputs to the
//! waiting callers and watchers. It makes no protocol decisions of its own.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, debug_span, Instrument, Span};
use zk_proto::{Request, Response};

use crate::connect_string::Chroot;
use crate::error::Error;
use crate::rw_probe::{is_read_write, MAX_PROBE_INTERVAL, MIN_PROBE_INTERVAL};
use crate::session::{Output, RequestId, Session, WatchRegistration};
use crate::state::SessionState;
use crate::transport::{Connector, Transport};
use crate::watcher::WatchSink;
use crate::watches::WatcherId;

/// At most this many queued commands are taken in one turn of the connection loop.
const COMMAND_BATCH: usize = 1024;

/// Where a finished request's result goes.
pub(crate) type Reply = oneshot::Sender<Result<Response, Error>>;

/// What a `Client` asks of its connection task.
#[derive(Debug)]
pub(crate) enum Command {
    Submit { id: RequestId, request: Request, watch: Option<(WatchRegistration, WatchSink)>, reply: Reply, span: Span },
    AddAuth { id: RequestId, scheme: String, auth: Bytes, reply: Reply },
    Close { id: RequestId, reply: Reply },
    Subscribe(mpsc::UnboundedSender<SessionState>),
}

/// What the task publishes about the session.
#[derive(Debug, Clone)]
pub(crate) struct SessionInfo {
    pub(crate) state: SessionState,
    pub(crate) session_id: i64,
    pub(crate) password: Bytes,
    pub(crate) timeout: Duration,
}

/// Reconnect policy.
#[derive(Debug, Clone)]
pub(crate) struct ReconnectPolicy {
    pub(crate) connect_timeout: Duration,
    pub(crate) min_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

impl ReconnectPolicy {
    fn backoff(&self) -> impl Iterator<Item = Duration> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_backoff)
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
    }
}

// Short-lived values on the task's stack: boxing the command would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Wake<T> {
    Done(T),
    Timer,
    Command(Option<Command>),
    Unwatch(WatcherId),
}

#[allow(clippy::large_enum_variant)]
enum IoWake {
    Read(std::io::Result<usize>),
    Wrote(std::io::Result<usize>),
    Timer,
    Command(Option<Command>),
    Unwatch(WatcherId),
    Probe(Option<usize>),
}

/// While connected to a read-only server: probes the other hosts, one at a time at growing
/// intervals, for one in read-write mode.
struct RwSearch {
    current: usize,
    candidate: usize,
    interval: Duration,
    probe: Option<Pin<Box<dyn Future<Output = Option<usize>> + Send>>>,
}

impl RwSearch {
    fn new(current: usize, hosts: usize) -> RwSearch {
        RwSearch { current, candidate: (current + 1) % hosts.max(1), interval: MIN_PROBE_INTERVAL, probe: None }
    }

    /// Resolves to `Some(host index)` when a probe finds a read-write server, `None` when one probe
    /// fails; never while no probe is due (not read-only, or a single host). Cancel-safe: a dropped
    /// wait leaves the probe running for the next call.
    async fn wait(&mut self, read_only: bool, hosts: &[String], timeout: Duration) -> Option<usize> {
        if !read_only || hosts.len() < 2 {
            self.probe = None;
            self.interval = MIN_PROBE_INTERVAL;
            return std::future::pending().await;
        }
        let probe = self.probe.get_or_insert_with(|| {
            if self.candidate == self.current {
                self.candidate = (self.candidate + 1) % hosts.len();
            }
            let (index, host, delay) = (self.candidate, hosts[self.candidate].clone(), self.interval);
            self.candidate = (self.candidate + 1) % hosts.len();
            self.interval = (self.interval * 2).min(MAX_PROBE_INTERVAL);
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                is_read_write(host, timeout).await.then_some(index)
            })
        });
        let found = probe.await;
        self.probe = None;
        found
    }
}

/// The connection task.
#[derive(Debug)]
pub(crate) struct Driver {
    pub(crate) session: Session,
    pub(crate) hosts: Vec<String>,
    pub(crate) policy: ReconnectPolicy,
    pub(crate) chroot: Chroot,
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) unwatch: mpsc::UnboundedReceiver<WatcherId>,
    pub(crate) info: watch::Sender<SessionInfo>,
    pub(crate) commands_open: bool,
    pub(crate) replies: HashMap<RequestId, Reply>,
    pub(crate) sinks: HashMap<WatcherId, WatchSink>,
    pub(crate) subscribers: Vec<mpsc::UnboundedSender<SessionState>>,
    pub(crate) out: BytesMut,
    pub(crate) next_host: usize,
    pub(crate) connector: Connector,
}

impl Driver {
    /// Runs the session to its end, then answers late commands until every handle is gone.
    pub(crate) async fn run(mut self) {
        let mut delays = self.policy.backoff();
        while !self.session.is_over() {
            let current = self.next_host % self.hosts.len();
            let host = self.hosts[current].clone();
            self.next_host = current + 1;
            let span = debug_span!("zk.connection", %host, session_id = self.session.session_id());
            let connector = self.connector.clone();
            let connect = async move { connector.connect(&host, self.policy.connect_timeout).await };
            match self.wait(connect.instrument(span.clone())).await {
                None => break,
                Some(Ok(transport)) => {
                    let established = match transport {
                        Transport::Plain(stream) => self.serve(stream, current).instrument(span).await,
                        #[cfg(feature = "tls")]
                        Transport::Tls(stream) => self.serve(*stream, current).instrument(span).await,
                    };
                    if established {
                        delays = self.policy.backoff();
                        continue;
                    }
                }
                Some(Err(err)) => span.in_scope(|| debug!(%err, "connect failed")),
            }
            if self.session.is_over() {
                break;
            }
            let delay = delays.next().unwrap_or(self.policy.max_backoff);
            if self.wait(tokio::time::sleep(delay)).await.is_none() {
                break;
            }
        }
        // The session is over: late requests get its terminal error.
        while let Some(command) = self.commands.recv().await {
            self.command(Some(command));
            self.drain();
        }
    }

    /// Waits for `fut` while serving commands; `None` if the session ended meanwhile.
    async fn wait<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        let mut fut = std::pin::pin!(fut);
        loop {
            if self.session.is_over() {
                return None;
            }
            let deadline = self.session.poll_timeout();
            let timer = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let wake = tokio::select! {
                out = &mut fut => Wake::Done(out),
                () = timer => Wake::Timer,
                cmd = self.commands.recv(), if self.commands_open => Wake::Command(cmd),
                Some(id) = self.unwatch.recv() => Wake::Unwatch(id),
            };
            match wake {
                Wake::Done(out) => return Some(out),
                Wake::Timer => self.session.handle_timeout(Instant::now()),
                Wake::Command(cmd) => self.command(cmd),
                Wake::Unwatch(id) => self.unwatched(id),
            }
            self.drain();
        }
    }

    /// Serves one connection until the session lets go of it. Returns whether a session was
    /// established on it.
    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: S, current: usize) -> bool {
        let (mut rd, mut wr) = tokio::io::split(stream);
        self.session.transport_connected(Instant::now());
        self.drain();
        let mut established = false;
        let mut rbuf = BytesMut::with_capacity(64 * 1024);
        let mut rw_search = RwSearch::new(current, self.hosts.len());
        while self.session.wants_transport() {
            let deadline = self.session.poll_timeout();
            let timer = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let read_only = self.session.state() == SessionState::ConnectedReadOnly;
            let wake = tokio::select! {
                r = rd.read_buf(&mut rbuf) => IoWake::Read(r),
                r = wr.write_buf(&mut self.out), if !self.out.is_empty() => IoWake::Wrote(r),
                cmd = self.commands.recv(), if self.commands_open => IoWake::Command(cmd),
                Some(id) = self.unwatch.recv() => IoWake::Unwatch(id),
                () = timer => IoWake::Timer,
                found = rw_search.wait(read_only, &self.hosts, self.policy.connect_timeout) => IoWake::Probe(found),
            };
            let now = Instant::now();
            match wake {
                IoWake::Read(Ok(0)) => {
                    debug!("server closed the connection");
                    self.session.transport_lost(now);
                }
                IoWake::Read(Ok(_)) => {
                    self.session.receive(&rbuf, now);
                    rbuf.clear();
                }
                IoWake::Read(Err(err)) | IoWake::Wrote(Err(err)) => {
                    debug!(%err, "connection failed");
                    self.session.transport_lost(now);
                }
                IoWake::Wrote(Ok(_)) => {}
                IoWake::Timer => self.session.handle_timeout(now),
                IoWake::Probe(None) => {}
                IoWake::Probe(Some(host)) => {
                    debug!(host = %self.hosts[host], "read-write server found; leaving the read-only one");
                    self.next_host = host;
                    self.session.transport_lost(now);
                }
                IoWake::Command(cmd) => {
                    self.command(cmd);
                    self.queued_commands();
                }
                IoWake::Unwatch(id) => self.unwatched(id),
            }
            self.drain();
            established |= self.session.state().is_connected();
        }
        // Best effort: let a final closeSession reach the server.
        if !self.out.is_empty() {
            let _ = tokio::time::timeout(Duration::from_millis(100), wr.write_all_buf(&mut self.out)).await;
        }
        self.out.clear();
        established
    }

    fn command(&mut self, command: Option<Command>) {
        let now = Instant::now();
        match command {
            Some(Command::Submit { id, request, watch, reply, span }) => {
                self.replies.insert(id, reply);
                let watch = watch.map(|(registration, sink)| {
                    self.sinks.insert(registration.id, sink);
                    registration
                });
                self.session.submit(id, request, watch, span, now);
            }
            Some(Command::AddAuth { id, scheme, auth, reply }) => {
                self.replies.insert(id, reply);
                self.session.add_auth(id, scheme, auth, now);
            }
            Some(Command::Close { id, reply }) => {
                self.replies.insert(id, reply);
                self.session.close(id, now);
            }
            Some(Command::Subscribe(tx)) => {
                if tx.send(self.session.state()).is_ok() {
                    self.subscribers.push(tx);
                }
            }
            None => {
                // Every Client handle is gone: close the session.
                self.commands_open = false;
                self.session.close(RequestId::MAX, now);
            }
        }
    }

    /// Takes the commands already queued (up to a batch), so that a burst of pipelined requests is
    /// encoded into one buffer and goes out in one write instead of one write (and one loop turn) each.
    fn queued_commands(&mut self) {
        for _ in 0..COMMAND_BATCH {
            if !self.commands_open {
                return;
            }
            match self.commands.try_recv() {
                Ok(command) => self.command(Some(command)),
                // Empty, or every handle gone: the next `recv` reports the latter.
                Err(_) => return,
            }
        }
    }

    fn unwatched(&mut self, id: WatcherId) {
        self.sinks.remove(&id);
        self.session.unwatch(id, Instant::now());
    }

    /// Moves the session's outputs to the socket buffer, callers, watchers and subscribers.
    fn drain(&mut self) {
        while let Some(bytes) = self.session.poll_transmit() {
            self.out.extend_from_slice(&bytes);
        }
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Completed { id, result } => {
                    if let Some(reply) = self.replies.remove(&id) {
                        let _ = reply.send(result);
                    }
                }
                Output::Watch { watcher, mut event, done } => {
                    event.path = self.chroot.to_client(&event.path);
                    let oneshot = matches!(self.sinks.get(&watcher), Some(WatchSink::Oneshot(_)));
                    if done || oneshot {
                        match self.sinks.remove(&watcher) {
                            Some(WatchSink::Oneshot(tx)) => drop(tx.send(event)),
                            Some(WatchSink::Stream(tx)) => drop(tx.send(event)),
                            None => {}
                        }
                    } else if let Some(WatchSink::Stream(tx)) = self.sinks.get(&watcher) {
                        let _ = tx.send(event);
                    }
                }
                Output::Unregistered(watcher) => {
                    self.sinks.remove(&watcher);
                }
                Output::State(state) => {
                    debug!(%state, "session state");
                    self.info.send_replace(SessionInfo {
                        state,
                        session_id: self.session.session_id(),
                        password: self.session.password().clone(),
                        timeout: self.session.negotiated_timeout(),
                    });
                    self.subscribers.retain(|tx| tx.send(state).is_ok());
                }
                // `serve` stops as soon as the session no longer wants a transport.
                Output::Disconnect => {}
            }
        }
        if self.session.is_over() {
            // Nothing more will be delivered: release every caller still waiting.
            self.sinks.clear();
            self.subscribers.clear();
        }
    }
}
