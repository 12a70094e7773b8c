//! The model of ZooKeeper znodes for [`super::check`]: a map of independent versioned registers, each
//! a znode's data and `Stat.version` (`DataTree` in the Java server), or missing.
//!
//! - `getData` ([`RegisterOp::Read`]) returns the data and version, or `NONODE`.
//! - `setData(path, data, -1)` ([`RegisterOp::Write`]) sets the data and bumps the version, returning
//!   the new version; `NONODE` when the node is missing.
//! - `setData(path, data, expected)` ([`RegisterOp::Cas`]) does the same only when the version is
//!   `expected`, else fails with `BADVERSION` (the check of `PrepRequestProcessor.checkAndIncVersion`).
//! - `create(path, data)` ([`RegisterOp::Create`]) makes the node with version 0, or fails with
//!   `NODEEXISTS`.
//!
//! Nodes are never deleted in these histories, so versions only grow.

use std::fmt;

use super::{check_partitioned, CheckError, Model, Operation, DEFAULT_BUDGET};

/// An operation on one znode.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    /// `getData`.
    Read,
    /// `setData` with version -1.
    Write(Vec<u8>),
    /// `setData` with an expected version.
    Cas {
        /// The version the node must have.
        expected_version: i32,
        /// The new data.
        value: Vec<u8>,
    },
    /// `create` (persistent).
    Create(Vec<u8>),
}

/// What a znode operation returned.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum RegisterOutput {
    /// `getData` found the node with this data and version.
    Value(Vec<u8>, i32),
    /// `NONODE`: the node does not exist (for any operation but `create`).
    Missing,
    /// `setData` succeeded; the node's new version.
    Written(i32),
    /// `BADVERSION`.
    BadVersion,
    /// `create` succeeded.
    Created,
    /// `NODEEXISTS`.
    NodeExists,
}

/// An operation on the znode `key`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyedOp {
    /// The znode's path.
    pub key: String,
    /// The operation.
    pub op: RegisterOp,
}

/// A znode's data and version, or `None` when it does not exist.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct RegisterState(pub Option<(Vec<u8>, i32)>);

/// The sequential specification of one znode (histories of several znodes are partitioned by key
/// first; see [`check_registers`]). Every node starts missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type State = RegisterState;
    type Input = KeyedOp;
    type Output = RegisterOutput;

    fn init(&self) -> RegisterState {
        RegisterState(None)
    }

    fn step(&self, state: &RegisterState, input: &KeyedOp, output: Option<&RegisterOutput>) -> Option<RegisterState> {
        // What the operation does from `state`: its answer and the state after it.
        let (answer, after) = match (&input.op, &state.0) {
            (RegisterOp::Read, Some((data, version))) => {
                (RegisterOutput::Value(data.clone(), *version), state.0.clone())
            }
            (RegisterOp::Read, None) => (RegisterOutput::Missing, None),
            (RegisterOp::Write(_) | RegisterOp::Cas { .. }, None) => (RegisterOutput::Missing, None),
            (RegisterOp::Write(value), Some((_, version))) => {
                (RegisterOutput::Written(version + 1), Some((value.clone(), version + 1)))
            }
            (RegisterOp::Cas { expected_version, value }, Some((_, version))) => {
                if expected_version == version {
                    (RegisterOutput::Written(version + 1), Some((value.clone(), version + 1)))
                } else {
                    (RegisterOutput::BadVersion, state.0.clone())
                }
            }
            (RegisterOp::Create(value), None) => (RegisterOutput::Created, Some((value.clone(), 0))),
            (RegisterOp::Create(_), Some(_)) => (RegisterOutput::NodeExists, state.0.clone()),
        };
        match output {
            None => Some(RegisterState(after)),
            Some(output) if *output == answer => Some(RegisterState(after)),
            Some(_) => None,
        }
    }
}

/// Checks a history of znode operations: each znode's sub-history must be linearizable with respect
/// to [`RegisterModel`].
pub fn check_registers(history: &[Operation<KeyedOp, RegisterOutput>]) -> Result<(), CheckError> {
    check_partitioned(&RegisterModel, history, |op: &KeyedOp| op.key.clone(), DEFAULT_BUDGET)
}

/// Data as text when it is printable UTF-8, else as bytes.
struct Data<'a>(&'a [u8]);

impl fmt::Debug for Data<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(self.0) {
            Ok(text) if text.chars().all(|c| !c.is_control()) => write!(f, "{text:?}"),
            _ => write!(f, "{:?}", self.0),
        }
    }
}

impl fmt::Debug for RegisterOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterOp::Read => write!(f, "read"),
            RegisterOp::Write(value) => write!(f, "write({:?})", Data(value)),
            RegisterOp::Cas { expected_version, value } => {
                write!(f, "cas(version {expected_version}, {:?})", Data(value))
            }
            RegisterOp::Create(value) => write!(f, "create({:?})", Data(value)),
        }
    }
}

impl fmt::Debug for RegisterOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterOutput::Value(value, version) => write!(f, "{:?} at version {version}", Data(value)),
            RegisterOutput::Missing => write!(f, "NONODE"),
            RegisterOutput::Written(version) => write!(f, "ok, version {version}"),
            RegisterOutput::BadVersion => write!(f, "BADVERSION"),
            RegisterOutput::Created => write!(f, "created"),
            RegisterOutput::NodeExists => write!(f, "NODEEXISTS"),
        }
    }
}

impl fmt::Debug for RegisterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some((data, version)) => write!(f, "{:?} at version {version}", Data(data)),
            None => write!(f, "missing"),
        }
    }
}

impl fmt::Debug for KeyedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.key, self.op)
    }
}
