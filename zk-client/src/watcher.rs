//! Watch handles: [`OneshotWatcher`] (a future) and [`PersistentWatcher`] (a stream).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::{mpsc, oneshot};
use zk_proto::{EventType, KeeperState};

use crate::watches::WatcherId;

/// A watch notification, or the last word a watcher gets when its session ends.
///
/// Node events carry `state` [`KeeperState::SyncConnected`], the node's path (relative to the client's
/// chroot) and the zxid of the change that triggered them (-1 when the server does not know it, e.g.
/// for events raised while re-registering watches after a reconnect). When the session expires or is
/// closed, every watcher receives one event with `event_type` [`EventType::None`] and `state`
/// [`KeeperState::Expired`], [`KeeperState::AuthFailed`] or [`KeeperState::Closed`].
///
/// Connection loss is not an event: watchers survive reconnects (they are re-registered, and what
/// changed meanwhile fires then). Follow [`Client::state_stream`](crate::Client::state_stream) for
/// the connection itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    /// What happened.
    pub event_type: EventType,
    /// The session state the event was raised in.
    pub state: KeeperState,
    /// The node (empty for session events).
    pub path: String,
    /// The zxid of the triggering change, or -1.
    pub zxid: i64,
}

impl WatchedEvent {
    /// Whether this is the final event of a session that ended (expired, auth failed, closed).
    pub fn is_session_end(&self) -> bool {
        self.event_type == EventType::None
    }

    pub(crate) fn closed() -> WatchedEvent {
        WatchedEvent { event_type: EventType::None, state: KeeperState::Closed, path: String::new(), zxid: -1 }
    }
}

/// The handle a driver keeps to deliver events to a watcher.
#[derive(Debug)]
pub(crate) enum WatchSink {
    Oneshot(oneshot::Sender<WatchedEvent>),
    Stream(mpsc::UnboundedSender<WatchedEvent>),
}

/// Unregisters a watcher when its handle is dropped.
#[derive(Debug)]
struct DropGuard {
    id: WatcherId,
    unwatch: mpsc::UnboundedSender<WatcherId>,
    armed: bool,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.unwatch.send(self.id);
        }
    }
}

/// A one-shot watch, set by a read such as [`Client::get_data_and_watch`](crate::Client::get_data_and_watch).
///
/// Await it to get the single event that fires it. Dropping it before then unregisters it locally (the
/// server-side one-shot watch is left to fire into the void, as in the Java client).
///
/// ```no_run
/// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
/// let (_data, _stat, watcher) = client.get_data_and_watch("/config").await?;
/// let event = watcher.await;
/// println!("{:?} on {}", event.event_type, event.path);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a watcher does nothing unless awaited"]
pub struct OneshotWatcher {
    rx: oneshot::Receiver<WatchedEvent>,
    guard: DropGuard,
}

impl OneshotWatcher {
    pub(crate) fn new(
        id: WatcherId,
        rx: oneshot::Receiver<WatchedEvent>,
        unwatch: mpsc::UnboundedSender<WatcherId>,
    ) -> Self {
        OneshotWatcher { rx, guard: DropGuard { id, unwatch, armed: true } }
    }
}

impl Future for OneshotWatcher {
    type Output = WatchedEvent;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WatchedEvent> {
        let this = &mut *self;
        match Pin::new(&mut this.rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                this.guard.armed = false;
                Poll::Ready(result.unwrap_or_else(|_| WatchedEvent::closed()))
            }
        }
    }
}

/// A persistent (optionally recursive) watch, from [`Client::watch`](crate::Client::watch): a
/// [`Stream`] of every matching event, until the session ends (the stream then yields the final
/// session event and ends). Dropping it removes the watch, from the server too when it was the last
/// one on its path.
///
/// ```no_run
/// use futures::StreamExt;
/// use zk_client::AddWatchMode;
///
/// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
/// let mut events = client.watch("/app", AddWatchMode::PersistentRecursive).await?;
/// while let Some(event) = events.next().await {
///     println!("{:?} on {}", event.event_type, event.path);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a watcher does nothing unless polled"]
pub struct PersistentWatcher {
    rx: mpsc::UnboundedReceiver<WatchedEvent>,
    _guard: DropGuard,
}

impl PersistentWatcher {
    pub(crate) fn new(
        id: WatcherId,
        rx: mpsc::UnboundedReceiver<WatchedEvent>,
        unwatch: mpsc::UnboundedSender<WatcherId>,
    ) -> Self {
        PersistentWatcher { rx, _guard: DropGuard { id, unwatch, armed: true } }
    }
}

impl Stream for PersistentWatcher {
    type Item = WatchedEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WatchedEvent>> {
        self.rx.poll_recv(cx)
    }
}
