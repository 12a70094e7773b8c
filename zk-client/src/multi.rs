//! `multi` (atomic writes) and `multi_read` (batched reads), as builders with typed results.

use bytes::Bytes;
use tracing::instrument;
use zk_proto::{
    CheckVersionRequest, DeleteRequest, GetChildrenRequest, GetDataRequest, MultiOp, MultiRequest, OpResult, Request,
    Response, SetDataRequest, Stat,
};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::ops::{unexpected, CreateOptions};

/// The result of one operation of a successful [`Client::multi`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiResult {
    /// A create: the actual path (relative to the chroot) and the new node's stat.
    Create {
        /// The created path.
        path: String,
        /// Its stat.
        stat: Stat,
    },
    /// A delete.
    Delete,
    /// A set_data: the new stat.
    SetData {
        /// The node's new stat.
        stat: Stat,
    },
    /// A check.
    Check,
}

/// The result of one read of a [`Client::multi_read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiReadResult {
    /// A get_data.
    Data {
        /// The data.
        data: Bytes,
        /// The stat.
        stat: Stat,
    },
    /// A get_children.
    Children {
        /// The child names.
        children: Vec<String>,
    },
}

/// The ops a builder collected, or the first error met while adding them (reported at commit).
#[derive(Debug, Default)]
struct OpList {
    ops: Vec<MultiOp>,
    error: Option<Error>,
}

impl OpList {
    fn push(&mut self, op: Result<MultiOp>) {
        match op {
            Ok(op) => self.ops.push(op),
            Err(err) => {
                self.error.get_or_insert(err);
            }
        }
    }

    /// The request to send: the first error if any, `None` when there is nothing to send.
    fn into_request(self) -> Result<Option<MultiRequest>> {
        match self.error {
            Some(err) => Err(err),
            None if self.ops.is_empty() => Ok(None),
            None => Ok(Some(MultiRequest { ops: self.ops })),
        }
    }
}

/// Builds an atomic multi: either every operation applies, or none does.
///
/// ```no_run
/// use zk_client::{CreateOptions, MultiResult};
///
/// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
/// let results = client
///     .multi()
///     .check("/lock", 0)
///     .create("/jobs/job-", b"x", &CreateOptions::persistent_sequential())
///     .set_data("/counter", b"7", Some(6))
///     .delete("/stale", None)
///     .commit()
///     .await?;
/// let MultiResult::Create { path, .. } = &results[1] else { unreachable!() };
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a multi does nothing until committed"]
pub struct MultiBuilder<'a> {
    client: &'a Client,
    ops: OpList,
}

impl<'a> MultiBuilder<'a> {
    fn push(mut self, op: Result<MultiOp>) -> Self {
        self.ops.push(op);
        self
    }

    /// Adds a create (any mode; results in [`MultiResult::Create`]).
    pub fn create(self, path: &str, data: &[u8], options: &CreateOptions) -> Self {
        let op = self
            .client
            .server_create_path(path, options.mode().is_sequential())
            .and_then(|server_path| options.to_op(server_path, data));
        self.push(op)
    }

    /// Adds a delete (`version` `None`: any).
    pub fn delete(self, path: &str, version: Option<i32>) -> Self {
        let op = self
            .client
            .server_path(path)
            .map(|path| MultiOp::Delete(DeleteRequest { path, version: version.unwrap_or(-1) }));
        self.push(op)
    }

    /// Adds a set_data (`version` `None`: any).
    pub fn set_data(self, path: &str, data: &[u8], version: Option<i32>) -> Self {
        let op = self.client.server_path(path).map(|path| {
            MultiOp::SetData(SetDataRequest {
                path,
                data: Some(Bytes::copy_from_slice(data)),
                version: version.unwrap_or(-1),
            })
        });
        self.push(op)
    }

    /// Adds a version check: the multi fails unless the node's data version is `version`.
    pub fn check(self, path: &str, version: i32) -> Self {
        let op = self.client.server_path(path).map(|path| MultiOp::Check(CheckVersionRequest { path, version }));
        self.push(op)
    }

    /// Sends the multi. On success, one result per operation in order; if any operation fails,
    /// [`Error::MultiFailed`] names the first failing one and nothing was applied.
    #[instrument(name = "zk.multi", level = "debug", skip(self), fields(ops = self.ops.ops.len()))]
    pub async fn commit(self) -> Result<Vec<MultiResult>> {
        let Some(request) = self.ops.into_request()? else { return Ok(Vec::new()) };
        let response = self.client.call(Request::Multi(request)).await?;
        let Response::Multi(response) = response else { return Err(unexpected(response)) };
        if let Some(index) = response.results.iter().position(|r| !matches!(r.err(), 0 | -2)) {
            let code = response.results[index].err();
            return Err(Error::MultiFailed { index, source: Box::new(Error::from_code(code)) });
        }
        response
            .results
            .into_iter()
            .map(|result| match result {
                OpResult::Create(r) => {
                    Ok(MultiResult::Create { path: self.client.client_path(&r.path), stat: Stat::default() })
                }
                OpResult::Create2(r) => {
                    Ok(MultiResult::Create { path: self.client.client_path(&r.path), stat: r.stat })
                }
                OpResult::Delete => Ok(MultiResult::Delete),
                OpResult::SetData(r) => Ok(MultiResult::SetData { stat: r.stat }),
                OpResult::Check => Ok(MultiResult::Check),
                OpResult::GetChildren(_) | OpResult::GetData(_) | OpResult::Error(_) => Err(Error::MarshallingError),
            })
            .collect()
    }
}

/// Builds a batched read: each read succeeds or fails on its own.
///
/// ```no_run
/// use zk_client::MultiReadResult;
///
/// # async fn demo(client: zk_client::Client) -> zk_client::Result<()> {
/// let results = client.multi_read().get_data("/a").get_children("/").commit().await?;
/// if let Ok(MultiReadResult::Data { data, .. }) = &results[0] {
///     println!("{} bytes", data.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a multi_read does nothing until committed"]
pub struct MultiReadBuilder<'a> {
    client: &'a Client,
    ops: OpList,
}

impl<'a> MultiReadBuilder<'a> {
    fn push(mut self, op: Result<MultiOp>) -> Self {
        self.ops.push(op);
        self
    }

    /// Adds a get_data.
    pub fn get_data(self, path: &str) -> Self {
        let op = self.client.server_path(path).map(|path| MultiOp::GetData(GetDataRequest { path, watch: false }));
        self.push(op)
    }

    /// Adds a get_children.
    pub fn get_children(self, path: &str) -> Self {
        let op =
            self.client.server_path(path).map(|path| MultiOp::GetChildren(GetChildrenRequest { path, watch: false }));
        self.push(op)
    }

    /// Sends the reads; one result per read, in order.
    #[instrument(name = "zk.multi_read", level = "debug", skip(self), fields(ops = self.ops.ops.len()))]
    pub async fn commit(self) -> Result<Vec<Result<MultiReadResult>>> {
        let Some(request) = self.ops.into_request()? else { return Ok(Vec::new()) };
        let response = self.client.call(Request::MultiRead(request)).await?;
        let Response::MultiRead(response) = response else { return Err(unexpected(response)) };
        Ok(response
            .results
            .into_iter()
            .map(|result| match result {
                OpResult::GetData(r) => Ok(MultiReadResult::Data { data: r.data.unwrap_or_default(), stat: r.stat }),
                OpResult::GetChildren(r) => Ok(MultiReadResult::Children { children: r.children }),
                OpResult::Error(code) => Err(Error::from_code(code)),
                _ => Err(Error::MarshallingError),
            })
            .collect())
    }
}

impl Client {
    /// Starts an atomic multi (see [`MultiBuilder`]).
    pub fn multi(&self) -> MultiBuilder<'_> {
        MultiBuilder { client: self, ops: OpList::default() }
    }

    /// Starts a batched read (see [`MultiReadBuilder`]).
    pub fn multi_read(&self) -> MultiReadBuilder<'_> {
        MultiReadBuilder { client: self, ops: OpList::default() }
    }
}
