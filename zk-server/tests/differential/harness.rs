//! The script language of the differential tests and its runner.
//!
//! A [`Script`] is a list of labelled [`Step`]s over numbered session slots. [`run`] executes it against
//! one server and records, per step, everything observed: connect responses, replies (with the
//! notifications that arrived on the same connection before them), notifications collected on
//! request, whether the server closed a connection, four-letter-word answers. The two servers'
//! observations are then normalized ([`super::normalize`]) and compared.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use zk_proto::{ConnectResponse, ErrorCode, ExistsRequest, ReplyHeader, Request, WatcherEvent};
use zk_testkit::raw::Notification;
use zk_testkit::{ConnectOptions, RawClient, Reply};

/// How long a reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// One action of a script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Opens a new session in a slot (any previous connection of the slot is dropped).
    Connect { slot: usize, timeout_ms: i32 },
    /// Drops the slot's TCP connection; the session lives on.
    Disconnect { slot: usize },
    /// Reconnects the slot resuming its session (id and password) with the last zxid it saw;
    /// `bad_password` flips the password bits, `zxid_bump` adds to lastZxidSeen.
    Resume { slot: usize, bad_password: bool, zxid_bump: i64 },
    /// Connects with an explicit handshake (e.g. an unknown session id).
    ConnectWith { slot: usize, options: ConnectOptions },
    /// Sends a request with the slot's next xid and records the reply.
    Call { slot: usize, request: Request },
    /// Sends several requests back to back before reading any reply, then records the replies (and the
    /// notifications between them) in order.
    Pipeline { slot: usize, requests: Vec<Request> },
    /// Connects as the Java client reconnects: the connect request, auth packets and setWatches are
    /// all sent before the connect response is read. Resumes the slot's session when `resume`.
    Primed { slot: usize, resume: bool, auth: Vec<(String, String)>, set_watches: Option<Request> },
    /// Sends a request with a fixed xid (setWatches -8, ...). A setWatches' relative zxid is replaced by
    /// the slot's last seen zxid.
    CallXid { slot: usize, xid: i32, request: Request },
    /// Sends a header with any opcode and arbitrary body bytes and records the reply.
    Raw { slot: usize, op_code: i32, body: Vec<u8> },
    /// Writes bytes as they are (e.g. a bad length prefix); records nothing but what follows.
    Bytes { slot: usize, bytes: Vec<u8> },
    /// Sends an auth packet (xid -4) and records the reply.
    Auth { slot: usize, scheme: String, auth: Vec<u8> },
    /// Records the notifications the slot received so far plus those arriving within `ms`.
    Events { slot: usize, ms: u64 },
    /// Records whether the server closed the slot's connection within `ms` (and any frames before).
    Closed { slot: usize, ms: u64 },
    /// Polls `exists` on a fresh read of `path` until it is gone (or `ms` pass); records which.
    WaitGone { slot: usize, path: String, ms: u64 },
    /// Sends a four-letter word and records its answer, as the normalizer renders it.
    FourLetter { command: String },
    /// Waits.
    Sleep { ms: u64 },
}

/// A labelled list of steps.
#[derive(Debug, Default)]
pub struct Script {
    /// The steps, in order.
    pub steps: Vec<(String, Step)>,
}

impl Script {
    /// Appends a step.
    pub fn step(&mut self, label: impl Into<String>, step: Step) -> &mut Self {
        self.steps.push((label.into(), step));
        self
    }

    /// Opens a new session in `slot`.
    pub fn connect(&mut self, slot: usize) -> &mut Self {
        self.step(format!("connect s{slot}"), Step::Connect { slot, timeout_ms: 30_000 })
    }

    /// A request on `slot`.
    pub fn call(&mut self, label: impl Into<String>, slot: usize, request: Request) -> &mut Self {
        self.step(label, Step::Call { slot, request })
    }

    /// Notifications of `slot` within a short wait.
    pub fn events(&mut self, label: impl Into<String>, slot: usize) -> &mut Self {
        self.step(label, Step::Events { slot, ms: 300 })
    }

    /// Adds digest credentials to `slot`.
    pub fn auth(&mut self, label: impl Into<String>, slot: usize, scheme: &str, auth: &str) -> &mut Self {
        self.step(label, Step::Auth { slot, scheme: scheme.into(), auth: auth.as_bytes().to_vec() })
    }

    /// Whether the server closes `slot`'s connection.
    pub fn closed(&mut self, label: impl Into<String>, slot: usize) -> &mut Self {
        self.step(label, Step::Closed { slot, ms: 2000 })
    }
}

/// Something a step observed.
#[derive(Debug, Clone)]
pub enum Item {
    /// A connect response.
    Connect(ConnectResponse),
    /// A reply.
    Reply(Reply),
    /// A watch notification.
    Notification(ReplyHeader, WatcherEvent),
    /// Whether the server closed the connection.
    Closed(bool),
    /// Text (a four-letter word's answer, a poll result).
    Text(String),
    /// An I/O failure (no reply, connection gone).
    Failed(String),
}

/// What one step observed.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The step's label.
    pub label: String,
    /// Its observations, in order.
    pub items: Vec<Item>,
}

#[derive(Debug, Default)]
struct Slot {
    client: Option<RawClient>,
    session: Option<ConnectResponse>,
    next_xid: i32,
    last_zxid: i64,
}

impl Slot {
    fn xid(&mut self) -> i32 {
        self.next_xid += 1;
        self.next_xid
    }
}

fn notifications(items: &mut Vec<Item>, list: Vec<Notification>) {
    items.extend(list.into_iter().map(|(header, event)| Item::Notification(header, event)));
}

/// Runs `script` against the server at `addr`.
pub async fn run(addr: SocketAddr, script: &Script) -> Vec<Observed> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut out = Vec::new();
    for (label, step) in &script.steps {
        let mut items = Vec::new();
        let slot_index = match step {
            Step::Connect { slot, .. }
            | Step::Disconnect { slot }
            | Step::Resume { slot, .. }
            | Step::ConnectWith { slot, .. }
            | Step::Call { slot, .. }
            | Step::Pipeline { slot, .. }
            | Step::Primed { slot, .. }
            | Step::CallXid { slot, .. }
            | Step::Raw { slot, .. }
            | Step::Bytes { slot, .. }
            | Step::Auth { slot, .. }
            | Step::Events { slot, .. }
            | Step::Closed { slot, .. }
            | Step::WaitGone { slot, .. } => Some(*slot),
            Step::FourLetter { .. } | Step::Sleep { .. } => None,
        };
        if let Some(i) = slot_index {
            while slots.len() <= i {
                slots.push(Slot::default());
            }
        }
        if let Err(err) = execute(addr, step, slot_index.map(|i| &mut slots[i]), &mut items).await {
            // How a closed connection shows (EOF, reset, broken pipe) depends on timing.
            let failure = match err.kind() {
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => {
                    "connection closed".to_owned()
                }
                other => format!("{other:?}"),
            };
            items.push(Item::Failed(failure));
        }
        out.push(Observed { label: label.clone(), items });
    }
    // Close every session the script left open, so that none expires during a later script.
    // (A connection the server closed, e.g. after an error, leaves its session to expire later.)
    for mut slot in slots {
        let Some(session) = slot.session.clone() else { continue };
        if let Some(mut client) = slot.client.take() {
            client.set_timeout(REPLY_TIMEOUT);
            let closed = client.call(slot.next_xid + 1, &Request::CloseSession).await;
            client.disconnect().await;
            if closed.is_ok_and(|reply| reply.op == Some(zk_proto::OpCode::CloseSession)) {
                continue;
            }
        }
        let options = ConnectOptions::resume(&session, slot.last_zxid);
        if let Ok((mut client, response)) = RawClient::connect(addr, &options).await {
            if response.time_out > 0 {
                client.set_timeout(REPLY_TIMEOUT);
                let _ = client.call(1, &Request::CloseSession).await;
            }
            client.disconnect().await;
        }
    }
    out
}

async fn handshake(
    addr: SocketAddr,
    slot: &mut Slot,
    options: &ConnectOptions,
    items: &mut Vec<Item>,
) -> std::io::Result<()> {
    if let Some(old) = slot.client.take() {
        old.disconnect().await;
    }
    let (mut client, response) = RawClient::connect(addr, options).await?;
    client.set_timeout(REPLY_TIMEOUT);
    items.push(Item::Connect(response.clone()));
    if response.time_out > 0 {
        slot.session = Some(response);
    }
    slot.client = Some(client);
    Ok(())
}

async fn execute(addr: SocketAddr, step: &Step, slot: Option<&mut Slot>, items: &mut Vec<Item>) -> std::io::Result<()> {
    let Some(slot) = slot else {
        match step {
            Step::FourLetter { command } => {
                let text = tokio::task::spawn_blocking({
                    let command = command.clone();
                    move || zk_testkit::four_letter(addr, &command, REPLY_TIMEOUT)
                })
                .await
                .map_err(std::io::Error::other)??;
                items.push(Item::Text(text));
            }
            Step::Sleep { ms } => tokio::time::sleep(Duration::from_millis(*ms)).await,
            _ => unreachable!("slot steps have a slot"),
        }
        return Ok(());
    };
    match step {
        Step::Connect { timeout_ms, .. } => {
            let options = ConnectOptions { timeout_ms: *timeout_ms, ..ConnectOptions::default() };
            *slot = Slot::default();
            handshake(addr, slot, &options, items).await?;
        }
        Step::ConnectWith { options, .. } => handshake(addr, slot, options, items).await?,
        Step::Resume { bad_password, zxid_bump, .. } => {
            let session = slot.session.clone().expect("resume of a slot without a session");
            let mut options = ConnectOptions::resume(&session, slot.last_zxid + zxid_bump);
            if *bad_password {
                options.passwd = options.passwd.iter().map(|b| !b).collect::<Bytes>();
            }
            handshake(addr, slot, &options, items).await?;
        }
        Step::Disconnect { .. } => {
            if let Some(client) = slot.client.take() {
                slot.last_zxid = slot.last_zxid.max(client.last_zxid());
                client.disconnect().await;
            }
        }
        Step::Call { request, .. } => {
            let xid = slot.xid();
            let reply = client(slot)?.call(xid, request).await;
            finish(slot, items, reply).await?;
        }
        Step::Pipeline { requests, .. } => {
            for request in requests {
                let xid = slot.xid();
                client(slot)?.send(xid, request).await?;
            }
            for _ in requests {
                let reply = client(slot)?.recv().await;
                finish(slot, items, reply).await?;
            }
        }
        Step::Primed { resume, auth, set_watches, .. } => {
            let mut options = ConnectOptions::default();
            if *resume {
                let session = slot.session.clone().expect("resume of a slot without a session");
                options = ConnectOptions::resume(&session, slot.last_zxid);
            } else {
                *slot = Slot::default();
            }
            if let Some(old) = slot.client.take() {
                old.disconnect().await;
            }
            let mut raw = RawClient::open(addr).await?;
            raw.set_timeout(REPLY_TIMEOUT);
            raw.send_connect(&options.request()).await?;
            for (scheme, credentials) in auth {
                let packet = zk_proto::AuthPacket {
                    auth_type: 0,
                    scheme: scheme.clone(),
                    auth: Bytes::copy_from_slice(credentials.as_bytes()),
                };
                raw.send(zk_proto::xid::AUTH, &Request::Auth(packet)).await?;
            }
            let mut set_watches = set_watches.clone();
            match &mut set_watches {
                Some(Request::SetWatches(w)) => w.relative_zxid = slot.last_zxid,
                Some(Request::SetWatches2(w)) => w.relative_zxid = slot.last_zxid,
                _ => {}
            }
            if let Some(request) = &set_watches {
                raw.send(zk_proto::xid::SET_WATCHES, request).await?;
            }
            let response = raw.recv_connect().await?;
            items.push(Item::Connect(response.clone()));
            if response.time_out > 0 {
                slot.session = Some(response);
            }
            slot.client = Some(raw);
            for _ in 0..auth.len() + usize::from(set_watches.is_some()) {
                let reply = client(slot)?.recv().await;
                finish(slot, items, reply).await?;
            }
        }
        Step::CallXid { xid, request, .. } => {
            let mut request = request.clone();
            match &mut request {
                Request::SetWatches(w) => w.relative_zxid = slot.last_zxid,
                Request::SetWatches2(w) => w.relative_zxid = slot.last_zxid,
                _ => {}
            }
            let reply = client(slot)?.call(*xid, &request).await;
            finish(slot, items, reply).await?;
        }
        Step::Raw { op_code, body, .. } => {
            let xid = slot.xid();
            let client = client(slot)?;
            client.send_raw(xid, *op_code, body).await?;
            let reply = client.recv().await;
            finish(slot, items, reply).await?;
        }
        Step::Auth { scheme, auth, .. } => {
            let reply = client(slot)?.auth(scheme, auth).await;
            finish(slot, items, reply).await?;
        }
        Step::Bytes { bytes, .. } => {
            // The server may hang up before it has read everything (the next step looks at that).
            let _ = client(slot)?.send_bytes(bytes).await;
        }
        Step::Events { ms, .. } => {
            let list = client(slot)?.notifications(Duration::from_millis(*ms)).await?;
            notifications(items, list);
        }
        Step::Closed { ms, .. } => {
            let client = client(slot)?;
            let closed = client.closed_by_server(Duration::from_millis(*ms)).await;
            notifications(items, client.notifications(Duration::ZERO).await.unwrap_or_default());
            while let Ok(reply) = tokio::time::timeout(Duration::ZERO, client.recv()).await {
                match reply {
                    Ok(reply) => items.push(Item::Reply(reply)),
                    Err(_) => break,
                }
            }
            items.push(Item::Closed(closed));
        }
        Step::WaitGone { path, ms, .. } => {
            let deadline = Instant::now() + Duration::from_millis(*ms);
            // Every poll uses the same xid, so that later xids do not depend on how long it took.
            let xid = slot.xid();
            let gone = loop {
                let client = client(slot)?;
                let reply =
                    client.call(xid, &Request::Exists(ExistsRequest { path: path.clone(), watch: false })).await?;
                if reply.header.err == ErrorCode::NoNode.code() {
                    break true;
                }
                if Instant::now() > deadline {
                    break false;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            items.push(Item::Text(format!("{path} gone: {gone}")));
        }
        Step::FourLetter { .. } | Step::Sleep { .. } => unreachable!(),
    }
    Ok(())
}

fn client(slot: &mut Slot) -> std::io::Result<&mut RawClient> {
    slot.client.as_mut().ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotConnected, "no connection"))
}

/// Records the notifications that preceded a reply, then the reply.
async fn finish(slot: &mut Slot, items: &mut Vec<Item>, reply: std::io::Result<Reply>) -> std::io::Result<()> {
    let client = client(slot)?;
    notifications(items, client.notifications(Duration::ZERO).await.unwrap_or_default());
    let reply = reply?;
    let seen = client.last_zxid();
    slot.last_zxid = slot.last_zxid.max(seen);
    items.push(Item::Reply(reply));
    Ok(())
}
