//! A linearizability checker for recorded client histories, in the style of Knossos and Porcupine.
//!
//! A history is a list of [`Operation`]s: what a client asked for, when it asked (`call`), and, when
//! it got an answer, when and what (`ret`). [`check`] decides whether some total order of the
//! operations (a linearization) both respects real time (an operation that returned before another
//! was called comes first) and is a legal run of a sequential [`Model`].
//!
//! The search is Wing & Gong's, with Lowe's "just-in-time linearization" and memoization as in
//! Porcupine ("Faster linearizability checking via P-compositionality", Horn & Kroening): the call and
//! return entries sorted by time form a doubly linked list; the checker linearizes the first pending
//! call it can (answered calls before unknown-outcome ones), lifting it (and its return) out of the
//! list, and backtracks when it reaches a return whose call it has not linearized. A cache of (set of linearized operations, model state) pairs
//! prunes every configuration already explored. [`check_partitioned`] splits a history by key first
//! (P-compositionality): independent keys are checked separately, so thousands of operations on a few
//! keys check in milliseconds.
//!
//! An operation whose outcome is unknown (the connection broke while it was in flight, the client's
//! own timeout fired, the session expired) has no return: it may have taken effect at any point after
//! its call, or never. Following Porcupine, its return time is +infinity; and since an operation that
//! is linearized after every answered one can no longer be observed, the search succeeds as soon as
//! every answered operation is linearized.
//!
//! [`register`] holds the model of ZooKeeper znodes used by the ensemble tests: independent versioned
//! registers read with `getData`, written with `setData` (optionally conditional on the version) and
//! created with `create`.

pub mod register;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::Hash;

pub use register::{check_registers, KeyedOp, RegisterModel, RegisterOp, RegisterOutput, RegisterState};

/// A sequential specification: the states an object goes through and which outputs each operation
/// may produce from a state.
pub trait Model {
    /// The object's state. Hashed and compared by the checker's cache.
    type State: Clone + Eq + Hash + fmt::Debug;
    /// What a client asks for.
    type Input: fmt::Debug;
    /// What the object answers.
    type Output: fmt::Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies `input` to `state`. With `Some(output)` (an answered operation), returns the next
    /// state if the object may answer `output` from `state`, `None` if it may not. With `None` (an
    /// operation whose outcome is unknown), returns the state after the operation takes effect here.
    fn step(&self, state: &Self::State, input: &Self::Input, output: Option<&Self::Output>) -> Option<Self::State>;
}

/// One operation of a history. Times are in any monotonic unit (the ensemble tests use nanoseconds
/// since the test started, from [`std::time::Instant`]); what matters is their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client (process) that ran it; only used in descriptions.
    pub client: usize,
    /// What was asked.
    pub input: I,
    /// When it was called (taken before the request was sent).
    pub call: u64,
    /// When it returned (taken after the reply arrived) and what it returned; `None` when the
    /// outcome is unknown.
    pub ret: Option<(u64, O)>,
}

impl<I, O> Operation<I, O> {
    /// An operation that returned `output` at `ret`.
    pub fn completed(client: usize, input: I, call: u64, ret: u64, output: O) -> Self {
        Operation { client, input, call, ret: Some((ret, output)) }
    }

    /// An operation whose outcome is unknown (it may take effect at any time after `call`, or never).
    pub fn unknown(client: usize, input: I, call: u64) -> Self {
        Operation { client, input, call, ret: None }
    }
}

impl<I: fmt::Debug, O: fmt::Debug> fmt::Display for Operation<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ret {
            Some((ret, output)) => {
                write!(f, "client {} {:?} -> {:?} [{}, {}]", self.client, self.input, output, self.call, ret)
            }
            None => write!(f, "client {} {:?} -> ? [{}, +inf)", self.client, self.input, self.call),
        }
    }
}

/// Why [`check`] did not accept a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// No linearization exists.
    NotLinearizable(Counterexample),
    /// The search explored `steps` configurations of partition `partition` without deciding.
    BudgetExhausted {
        /// The partition (key) being checked, as text.
        partition: String,
        /// Configurations explored.
        steps: u64,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::NotLinearizable(c) => write!(f, "{c}"),
            CheckError::BudgetExhausted { partition, steps } => {
                write!(f, "partition {partition}: undecided after {steps} search steps")
            }
        }
    }
}

impl std::error::Error for CheckError {}

/// The evidence that a history is not linearizable: the longest prefix the search could linearize,
/// the state it leads to, and the operation that then had to come next (its return was reached) but
/// cannot be applied there, nor after any other pending operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counterexample {
    /// The partition (key) of the history, as text (empty for [`check`]).
    pub partition: String,
    /// The longest partial linearization found, operations as text, in order.
    pub linearized: Vec<String>,
    /// The model state after it.
    pub state: String,
    /// The operation whose return was reached before it could be linearized.
    pub stuck: String,
    /// The other operations that were pending (called, not linearized) at that point.
    pub pending: Vec<String>,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "not linearizable (partition {:?})", self.partition)?;
        writeln!(f, "longest linearizable prefix ({} operations):", self.linearized.len())?;
        for op in &self.linearized {
            writeln!(f, "  {op}")?;
        }
        writeln!(f, "state after it: {}", self.state)?;
        writeln!(f, "cannot linearize next: {}", self.stuck)?;
        if !self.pending.is_empty() {
            writeln!(f, "other pending operations:")?;
            for op in &self.pending {
                writeln!(f, "  {op}")?;
            }
        }
        Ok(())
    }
}

/// An operation of a history checked against model `M`.
type OpRef<'a, M> = &'a Operation<<M as Model>::Input, <M as Model>::Output>;

/// Default search budget of [`check`] per partition (configurations explored).
pub const DEFAULT_BUDGET: u64 = 50_000_000;

/// Checks that `history` is linearizable with respect to `model` (one partition; see
/// [`check_partitioned`] for keyed objects).
pub fn check<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> Result<(), CheckError> {
    let all: Vec<OpRef<'_, M>> = history.iter().collect();
    check_refs(model, &all, String::new(), DEFAULT_BUDGET)
}

/// Checks each partition of `history` (operations with the same `key_of`) separately: a history of
/// independent objects is linearizable iff each object's sub-history is (P-compositionality). Stops
/// at the first partition that fails. `budget` bounds the search steps per partition.
pub fn check_partitioned<M, K>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    key_of: impl Fn(&M::Input) -> K,
    budget: u64,
) -> Result<(), CheckError>
where
    M: Model,
    K: Ord + fmt::Debug,
{
    let mut partitions: BTreeMap<K, Vec<OpRef<'_, M>>> = BTreeMap::new();
    for op in history {
        partitions.entry(key_of(&op.input)).or_default().push(op);
    }
    for (key, ops) in partitions {
        check_refs(model, &ops, format!("{key:?}"), budget)?;
    }
    Ok(())
}

const NIL: usize = usize::MAX;
const HEAD: usize = 0;

/// The call/return entries of one partition as a doubly linked list with a sentinel head (node 0).
/// Node `1 + 2i` is the call of operation `i`, node `2 + 2i` its return; an operation whose outcome
/// is unknown has no return in the list (it would be at +infinity, after every other entry).
struct Entries {
    next: Vec<usize>,
    prev: Vec<usize>,
    returned: Vec<bool>,
}

impl Entries {
    fn new<I, O>(ops: &[&Operation<I, O>]) -> Entries {
        // (time, returns after calls at equal times, node)
        let mut order: Vec<(u64, u8, usize)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            order.push((op.call, 0, 1 + 2 * i));
            if let Some((ret, _)) = &op.ret {
                order.push(((*ret).max(op.call), 1, 2 + 2 * i));
            }
        }
        order.sort_unstable();
        let n = ops.len() * 2 + 1;
        let (mut next, mut prev) = (vec![NIL; n], vec![NIL; n]);
        let mut last = HEAD;
        for (_, _, node) in order {
            next[last] = node;
            prev[node] = last;
            last = node;
        }
        Entries { next, prev, returned: ops.iter().map(|op| op.ret.is_some()).collect() }
    }

    /// Removes the call `node` and its return.
    fn lift(&mut self, call: usize) {
        let nodes: &[usize] = if self.returned[op_of(call)] { &[call, call + 1] } else { &[call] };
        for &node in nodes {
            let (p, n) = (self.prev[node], self.next[node]);
            self.next[p] = n;
            if n != NIL {
                self.prev[n] = p;
            }
        }
    }

    /// Puts back what [`Self::lift`] removed (the latest lift first).
    fn unlift(&mut self, call: usize) {
        let nodes: &[usize] = if self.returned[op_of(call)] { &[call + 1, call] } else { &[call] };
        for &node in nodes {
            let (p, n) = (self.prev[node], self.next[node]);
            self.next[p] = node;
            if n != NIL {
                self.prev[n] = node;
            }
        }
    }
}

fn is_call(node: usize) -> bool {
    node % 2 == 1
}

fn op_of(node: usize) -> usize {
    (node - 1) / 2
}

/// A fixed-size set of operation indices.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Bitset(Vec<u64>);

impl Bitset {
    fn new(n: usize) -> Bitset {
        Bitset(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

fn check_refs<M: Model>(model: &M, ops: &[OpRef<'_, M>], partition: String, budget: u64) -> Result<(), CheckError> {
    let mut entries = Entries::new(ops);
    let mut state = model.init();
    let mut linearized = Bitset::new(ops.len());
    let mut cache: HashSet<(Bitset, M::State)> = HashSet::new();
    // (call node linearized, state before it, whether it was tried among the unknown-outcome calls)
    let mut stack: Vec<(usize, M::State, bool)> = Vec::new();
    let mut answered_left = ops.iter().filter(|op| op.ret.is_some()).count();
    let mut deepest: Option<Counterexample> = None;
    let mut steps: u64 = 0;
    // The candidates at each point are the calls before the first return. Answered calls are tried
    // first; calls of unknown outcome only once the answered ones are stuck (they are needed only to
    // explain what an answered operation saw), which keeps their never-returning calls from being
    // tried everywhere.
    let mut unknown_phase = false;
    let mut entry = entries.next[HEAD];
    while answered_left > 0 {
        steps += 1;
        if steps > budget {
            return Err(CheckError::BudgetExhausted { partition, steps: budget });
        }
        if entry != NIL && is_call(entry) {
            let i = op_of(entry);
            let op = ops[i];
            if op.ret.is_none() != unknown_phase {
                entry = entries.next[entry];
                continue;
            }
            let output = op.ret.as_ref().map(|(_, o)| o);
            // An unknown-outcome operation that would change nothing here is skipped: taking effect
            // here is then the same as never taking effect, which stays possible while it is pending.
            let next_state = model.step(&state, &op.input, output).filter(|s| output.is_some() || *s != state);
            if let Some(next_state) = next_state {
                let mut next_linearized = linearized.clone();
                next_linearized.set(i);
                if cache.insert((next_linearized.clone(), next_state.clone())) {
                    stack.push((entry, std::mem::replace(&mut state, next_state), unknown_phase));
                    unknown_phase = false;
                    linearized = next_linearized;
                    entries.lift(entry);
                    if op.ret.is_some() {
                        answered_left -= 1;
                    }
                    entry = entries.next[HEAD];
                    continue;
                }
            }
            entry = entries.next[entry];
            continue;
        }
        // A return whose call is not linearized: try the unknown-outcome calls, then backtrack.
        if !unknown_phase {
            unknown_phase = true;
            entry = entries.next[HEAD];
            continue;
        }
        if entry != NIL && deepest.as_ref().is_none_or(|d| stack.len() > d.linearized.len()) {
            deepest = Some(describe::<M>(ops, &entries, &stack, &state, entry, &partition));
        }
        let Some((call, previous, phase)) = stack.pop() else {
            let counterexample = deepest.unwrap_or_else(|| Counterexample {
                partition,
                linearized: Vec::new(),
                state: format!("{state:?}"),
                stuck: String::from("(none)"),
                pending: Vec::new(),
            });
            return Err(CheckError::NotLinearizable(counterexample));
        };
        let i = op_of(call);
        state = previous;
        linearized.clear(i);
        if ops[i].ret.is_some() {
            answered_left += 1;
        }
        entries.unlift(call);
        unknown_phase = phase;
        entry = entries.next[call];
    }
    Ok(())
}

fn describe<M: Model>(
    ops: &[OpRef<'_, M>],
    entries: &Entries,
    stack: &[(usize, M::State, bool)],
    state: &M::State,
    stuck_return: usize,
    partition: &str,
) -> Counterexample {
    let stuck = op_of(stuck_return);
    let mut pending = Vec::new();
    let mut node = entries.next[HEAD];
    while node != NIL && node != stuck_return {
        if is_call(node) && op_of(node) != stuck {
            pending.push(ops[op_of(node)].to_string());
        }
        node = entries.next[node];
    }
    Counterexample {
        partition: partition.to_owned(),
        linearized: stack.iter().map(|(call, _, _)| ops[op_of(*call)].to_string()).collect(),
        state: format!("{state:?}"),
        stuck: ops[stuck].to_string(),
        pending,
    }
}

#[cfg(test)]
mod tests;
