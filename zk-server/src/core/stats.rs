//! Server-wide statistics (`srvr`, `stat`, `mntr`).

use zk_proto::OpCode;

/// Counters and latency figures since start (or the last `srst`).
#[derive(Debug, Clone, Default)]
pub struct ServerStats {
    /// When counting started (monotonic ms).
    pub start_ms: i64,
    /// Requests received.
    pub packets_received: u64,
    /// Replies sent.
    pub packets_sent: u64,
    /// Connections that completed a handshake attempt.
    pub connections_accepted: u64,
    /// Sessions resumed on a new connection.
    pub revalidations: u64,
    /// Failed auth packets.
    pub auth_failures: u64,
    /// Txns committed.
    pub commits: u64,
    /// Watch notifications sent.
    pub watch_events: u64,
    /// Sessions expired.
    pub expired_sessions: u64,
    /// Sizes of the txns proposed as leader (`Leader.getProposalStats`).
    pub proposal_sizes: BufferStats,
    min_latency_ms: Option<i64>,
    max_latency_ms: i64,
    total_latency_ms: i64,
    latency_count: u64,
}

impl ServerStats {
    /// Fresh statistics starting at `now_ms`.
    pub fn new(now_ms: i64) -> ServerStats {
        ServerStats { start_ms: now_ms, ..ServerStats::default() }
    }

    /// Records one request's latency.
    pub fn record_latency(&mut self, latency_ms: i64) {
        let latency = latency_ms.max(0);
        self.min_latency_ms = Some(self.min_latency_ms.map_or(latency, |m| m.min(latency)));
        self.max_latency_ms = self.max_latency_ms.max(latency);
        self.total_latency_ms += latency;
        self.latency_count += 1;
    }

    /// Minimum latency (0 before any request), as ZooKeeper reports it.
    pub fn min_latency(&self) -> i64 {
        self.min_latency_ms.unwrap_or(0)
    }

    /// Maximum latency.
    pub fn max_latency(&self) -> i64 {
        self.max_latency_ms
    }

    /// Average latency in ms.
    pub fn avg_latency(&self) -> f64 {
        if self.latency_count == 0 {
            0.0
        } else {
            self.total_latency_ms as f64 / self.latency_count as f64
        }
    }

    /// Resets the counters (`srst`), keeping the start time.
    pub fn reset(&mut self, now_ms: i64) {
        *self = ServerStats::new(now_ms);
    }
}

/// ZooKeeper's `BufferStats`: the last, smallest and largest of a series of sizes, each -1 before the
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferStats {
    /// The last size.
    pub last: i64,
    /// The smallest size.
    pub min: i64,
    /// The largest size.
    pub max: i64,
}

impl Default for BufferStats {
    fn default() -> BufferStats {
        BufferStats { last: -1, min: -1, max: -1 }
    }
}

impl BufferStats {
    /// Records one size (`setLastBufferSize`).
    pub fn record(&mut self, size: i64) {
        self.last = size;
        if self.min == -1 || size < self.min {
            self.min = size;
        }
        self.max = self.max.max(size);
    }
}

impl std::fmt::Display for BufferStats {
    /// `last/min/max`, as `BufferStats.toString`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.last, self.min, self.max)
    }
}

/// ZooKeeper's four-letter name of an operation, as `cons` shows it (`lop=`).
pub fn op_name(op: OpCode) -> &'static str {
    match op {
        OpCode::Create | OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => "CREA",
        OpCode::Delete | OpCode::DeleteContainer => "DELE",
        OpCode::Exists => "EXIS",
        OpCode::GetData => "GETD",
        OpCode::SetData => "SETD",
        OpCode::GetAcl => "GETA",
        OpCode::SetAcl => "SETA",
        OpCode::GetChildren | OpCode::GetChildren2 => "GETC",
        OpCode::GetAllChildrenNumber => "GETACN",
        OpCode::Sync => "SYNC",
        OpCode::Ping => "PING",
        OpCode::Check => "CHEC",
        OpCode::Multi => "MULT",
        OpCode::MultiRead => "MLTR",
        OpCode::Reconfig => "RECO",
        OpCode::CheckWatches => "CHKW",
        OpCode::RemoveWatches => "REMW",
        OpCode::SetWatches | OpCode::SetWatches2 => "SETW",
        OpCode::GetEphemerals => "GETE",
        OpCode::AddWatch => "ADDW",
        OpCode::WhoAmI => "HOMI",
        OpCode::CreateSession => "SESS",
        OpCode::CloseSession => "CLOS",
        OpCode::Auth | OpCode::Sasl | OpCode::Notification | OpCode::Error => "NA",
    }
}
