//! Leader–learner TCP links (the I/O half of ZooKeeper's `LearnerHandler` and `Learner` sockets).
//!
//! The quorum stream is plain jute `QuorumPacket`s back to back, except that a `SNAP` packet is followed
//! by the raw snapshot body and the `"BenWasHere"` signature. Each link is a reader task that decodes and
//! forwards what arrives as [`LinkEvent`]s into the peer's event loop, and a writer task that drains a
//! queue of encoded bytes (packets, or a snapshot body) to the socket, flushing when the queue runs dry so
//! that a burst of proposals goes out in few writes.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_util::codec::Decoder;
use tracing::{debug, warn};
use zk_proto::{FrameError, Jute, PacketType, QuorumCodec, QuorumPacket};

use crate::persist::{ScanError, SnapSyncScanner};

/// Identifies one link for the life of the process.
pub type LinkId = u64;

/// What a link delivers.
#[derive(Debug)]
pub enum Inbound {
    /// A packet.
    Packet(QuorumPacket),
    /// The snapshot body (signature included) that followed a `SNAP` packet.
    Snapshot(Bytes),
}

/// Events from links to the peer loop.
#[derive(Debug)]
pub enum LinkEvent {
    /// A learner connected to our quorum port.
    Accepted {
        /// Its link.
        link: LinkId,
        /// Where to write to it.
        writer: LinkWriter,
    },
    /// Something arrived.
    Received {
        /// From this link.
        link: LinkId,
        /// What.
        inbound: Inbound,
    },
    /// The link is gone (closed by the peer, an I/O error, or an undecodable stream).
    Closed {
        /// The link.
        link: LinkId,
    },
}

/// The sending side of a link. Dropping every clone closes the socket once the queue is written.
#[derive(Debug, Clone)]
pub struct LinkWriter {
    queue: mpsc::UnboundedSender<Bytes>,
}

impl LinkWriter {
    /// Queues a packet; false if the link is gone.
    pub fn send(&self, packet: &QuorumPacket) -> bool {
        self.queue.send(packet.to_bytes()).is_ok()
    }

    /// Queues raw bytes (a snapshot body right after its `SNAP` packet); false if the link is gone.
    pub fn send_raw(&self, bytes: Bytes) -> bool {
        self.queue.send(bytes).is_ok()
    }
}

/// Limits of one link.
#[derive(Debug, Clone, Copy)]
pub struct LinkLimits {
    /// The largest packet (`jute.maxbuffer` plus room for the packet's own fields).
    pub max_packet: usize,
    /// The largest string or node data inside a snapshot body.
    pub max_field: usize,
    /// The largest snapshot body.
    pub max_snapshot: usize,
}

impl LinkLimits {
    /// Limits derived from `jute.maxbuffer`.
    pub fn from_jute_max_buffer(jute_max_buffer: usize) -> LinkLimits {
        LinkLimits {
            max_packet: jute_max_buffer.saturating_add(1024),
            max_field: jute_max_buffer,
            max_snapshot: usize::MAX / 2,
        }
    }
}

/// Why a link's stream is rejected.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// A malformed or oversized packet, or an I/O error.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A malformed snapshot body.
    #[error("snapshot body: {0}")]
    Snapshot(#[from] ScanError),
}

impl From<std::io::Error> for LinkError {
    fn from(err: std::io::Error) -> LinkError {
        LinkError::Frame(FrameError::from(err))
    }
}

/// Decodes what a leader sends: packets, and after a `SNAP` packet the snapshot body.
#[derive(Debug)]
pub struct LeaderStreamDecoder {
    packets: QuorumCodec,
    limits: LinkLimits,
    snapshot: Option<SnapSyncScanner>,
}

impl LeaderStreamDecoder {
    /// A decoder with these limits.
    pub fn new(limits: LinkLimits) -> LeaderStreamDecoder {
        LeaderStreamDecoder { packets: QuorumCodec::new(limits.max_packet), limits, snapshot: None }
    }
}

impl Decoder for LeaderStreamDecoder {
    type Item = Inbound;
    type Error = LinkError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, LinkError> {
        if let Some(scanner) = &mut self.snapshot {
            return match scanner.scan(src)? {
                Some(len) => {
                    self.snapshot = None;
                    Ok(Some(Inbound::Snapshot(src.split_to(len).freeze())))
                }
                None => Ok(None),
            };
        }
        let Some(packet) = self.packets.decode(src)? else { return Ok(None) };
        if packet.packet_type == PacketType::Snap.code() {
            self.snapshot = Some(SnapSyncScanner::new(self.limits.max_field, self.limits.max_snapshot));
        }
        Ok(Some(Inbound::Packet(packet)))
    }
}

/// Decodes what a learner sends: packets only.
#[derive(Debug)]
struct LearnerStreamDecoder(QuorumCodec);

impl Decoder for LearnerStreamDecoder {
    type Item = Inbound;
    type Error = LinkError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, LinkError> {
        Ok(self.0.decode(src)?.map(Inbound::Packet))
    }
}

/// Accepts learners on the leader's quorum port until `shutdown`, handing each over as
/// [`LinkEvent::Accepted`]. Link ids come from `next_link` onwards.
pub async fn accept_learners(
    listener: TcpListener,
    limits: LinkLimits,
    mut next_link: LinkId,
    events: mpsc::UnboundedSender<LinkEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let link = next_link;
                next_link += 1;
                debug!(link, %peer, "learner connected");
                let writer =
                    spawn_link(stream, link, LearnerStreamDecoder(QuorumCodec::new(limits.max_packet)), &events);
                if events.send(LinkEvent::Accepted { link, writer }).is_err() {
                    return;
                }
            }
            Err(err) => {
                warn!(%err, "accept on the quorum port failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Connects to the leader's quorum port; what arrives comes as events of `link`.
pub async fn connect_to_leader(
    addr: SocketAddr,
    link: LinkId,
    limits: LinkLimits,
    events: &mpsc::UnboundedSender<LinkEvent>,
) -> std::io::Result<LinkWriter> {
    let stream = TcpStream::connect(addr).await?;
    Ok(spawn_link(stream, link, LeaderStreamDecoder::new(limits), events))
}

/// Starts the reader and writer tasks of a connected socket.
fn spawn_link<D>(stream: TcpStream, link: LinkId, decoder: D, events: &mpsc::UnboundedSender<LinkEvent>) -> LinkWriter
where
    D: Decoder<Item = Inbound, Error = LinkError> + Send + 'static,
{
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let (queue, mut outgoing) = mpsc::unbounded_channel::<Bytes>();
    tokio::spawn(async move {
        let mut out = BufWriter::with_capacity(64 * 1024, write);
        while let Some(first) = outgoing.recv().await {
            let mut next = Some(first);
            while let Some(bytes) = next {
                if out.write_all(&bytes).await.is_err() {
                    return;
                }
                next = outgoing.try_recv().ok();
            }
            if out.flush().await.is_err() {
                return;
            }
        }
        let _ = out.shutdown().await;
    });
    let events = events.clone();
    tokio::spawn(async move {
        let (mut read, mut decoder) = (read, decoder);
        let mut buf = BytesMut::with_capacity(64 * 1024);
        'read: loop {
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Some(inbound)) => {
                        if events.send(LinkEvent::Received { link, inbound }).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(err) => {
                        debug!(link, %err, "quorum link closed: bad stream");
                        break 'read;
                    }
                }
            }
            match read.read_buf(&mut buf).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) => {
                    debug!(link, %err, "quorum link closed");
                    break;
                }
            }
        }
        let _ = events.send(LinkEvent::Closed { link });
    });
    LinkWriter { queue }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn packets_and_a_snapshot_cross_a_link() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = LinkLimits::from_jute_max_buffer(0xfffff);
        let (leader_tx, mut leader_rx) = mpsc::unbounded_channel();
        let (_stop, stop_rx) = watch::channel(false);
        tokio::spawn(accept_learners(listener, limits, 100, leader_tx, stop_rx));
        let (learner_tx, mut learner_rx) = mpsc::unbounded_channel();
        let to_leader = connect_to_leader(addr, 1, limits, &learner_tx).await.unwrap();

        assert!(to_leader.send(&QuorumPacket::new(PacketType::FollowerInfo, 5 << 32)));
        let Some(LinkEvent::Accepted { link, writer }) = leader_rx.recv().await else { panic!("no accept") };
        assert_eq!(link, 100);
        match leader_rx.recv().await {
            Some(LinkEvent::Received { link: 100, inbound: Inbound::Packet(p) }) => assert_eq!(p.zxid, 5 << 32),
            other => panic!("{other:?}"),
        }

        let tree = crate::tree::DataTree::new();
        let body = Bytes::from(crate::database::snap_sync_body(&tree, &[(7, 4000)]).unwrap());
        writer.send(&QuorumPacket::new(PacketType::Snap, 9));
        // The body goes out in pieces: the decoder must put it back together.
        writer.send_raw(body.slice(..5));
        writer.send_raw(body.slice(5..));
        writer.send(&QuorumPacket::new(PacketType::NewLeader, 6 << 32));
        let mut got = Vec::new();
        while got.len() < 3 {
            match learner_rx.recv().await {
                Some(LinkEvent::Received { link: 1, inbound }) => got.push(inbound),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(&got[0], Inbound::Packet(p) if p.packet_type == PacketType::Snap.code()));
        assert!(matches!(&got[1], Inbound::Snapshot(b) if *b == body));
        assert!(matches!(&got[2], Inbound::Packet(p) if p.zxid == 6 << 32));

        drop(writer);
        assert!(matches!(learner_rx.recv().await, Some(LinkEvent::Closed { link: 1 })));
    }

    #[test]
    fn a_bad_snapshot_body_fails_the_stream() {
        let mut decoder = LeaderStreamDecoder::new(LinkLimits::from_jute_max_buffer(1024));
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&QuorumPacket::new(PacketType::Snap, 1).to_bytes());
        buf.extend_from_slice(&(-3i32).to_be_bytes());
        assert!(matches!(decoder.decode(&mut buf), Ok(Some(Inbound::Packet(_)))));
        assert!(matches!(decoder.decode(&mut buf), Err(LinkError::Snapshot(_))));
    }
}
