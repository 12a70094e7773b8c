use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::*;

type Op = Operation<KeyedOp, RegisterOutput>;

fn key(op: RegisterOp) -> KeyedOp {
    KeyedOp { key: "/k".to_owned(), op }
}

fn done(client: usize, op: RegisterOp, call: u64, ret: u64, output: RegisterOutput) -> Op {
    Operation::completed(client, key(op), call, ret, output)
}

fn read(client: usize, call: u64, ret: u64, value: &str, version: i32) -> Op {
    done(client, RegisterOp::Read, call, ret, RegisterOutput::Value(value.as_bytes().to_vec(), version))
}

fn write(client: usize, call: u64, ret: u64, value: &str, version: i32) -> Op {
    done(client, RegisterOp::Write(value.as_bytes().to_vec()), call, ret, RegisterOutput::Written(version))
}

fn create(client: usize, call: u64, ret: u64, value: &str) -> Op {
    done(client, RegisterOp::Create(value.as_bytes().to_vec()), call, ret, RegisterOutput::Created)
}

fn cas(client: usize, call: u64, ret: u64, expected_version: i32, value: &str, output: RegisterOutput) -> Op {
    done(client, RegisterOp::Cas { expected_version, value: value.as_bytes().to_vec() }, call, ret, output)
}

fn rejected(history: &[Op]) -> Counterexample {
    match check_registers(history) {
        Err(CheckError::NotLinearizable(c)) => c,
        other => panic!("expected a counterexample, got {other:?}"),
    }
}

#[test]
fn sequential_and_concurrent_histories_are_accepted() {
    // A read concurrent with a write may see either value.
    let history = vec![
        create(0, 0, 1, "a"),
        write(0, 2, 10, "b", 1),
        read(1, 3, 4, "a", 0),
        read(2, 5, 6, "b", 1),
        read(1, 11, 12, "b", 1),
    ];
    check_registers(&history).unwrap();
    // Racing creates: one wins, the other sees NODEEXISTS; reads before the node exists see NONODE.
    let history = vec![
        done(0, RegisterOp::Read, 0, 1, RegisterOutput::Missing),
        create(1, 2, 5, "x"),
        done(2, RegisterOp::Create(b"y".to_vec()), 3, 4, RegisterOutput::NodeExists),
        cas(0, 6, 7, 0, "z", RegisterOutput::Written(1)),
        cas(2, 6, 8, 0, "w", RegisterOutput::BadVersion),
        done(1, RegisterOp::Write(b"v".to_vec()), 6, 8, RegisterOutput::Written(2)),
        read(0, 9, 10, "v", 2),
    ];
    check_registers(&history).unwrap();
    check_registers(&[]).unwrap();
}

#[test]
fn unknown_outcomes_may_take_effect_late_or_never() {
    let base = vec![create(0, 0, 1, "a")];
    // A write whose connection broke, never observed: it never took effect.
    let mut history = base.clone();
    history.push(Operation::unknown(1, key(RegisterOp::Write(b"lost".to_vec())), 2));
    history.push(read(0, 3, 4, "a", 0));
    check_registers(&history).unwrap();
    // ... or observed long after its call: it took effect in between.
    history.push(read(0, 100, 101, "lost", 1));
    check_registers(&history).unwrap();
    // But not before it was called.
    let history = vec![
        create(0, 0, 1, "a"),
        read(0, 2, 3, "late", 1),
        Operation::unknown(1, key(RegisterOp::Write(b"late".to_vec())), 4),
    ];
    let c = rejected(&history);
    assert!(c.stuck.contains("\"late\" at version 1"), "{c}");
    // Once observed, its effect stays: a later read of the old value is stale.
    let mut history = base;
    history.push(Operation::unknown(1, key(RegisterOp::Write(b"b".to_vec())), 2));
    history.push(read(0, 5, 6, "b", 1));
    history.push(read(2, 7, 8, "a", 0));
    rejected(&history);
}

#[test]
fn stale_read_after_a_completed_write_is_rejected() {
    let history = vec![create(0, 0, 1, "a"), write(1, 2, 3, "b", 1), read(2, 4, 5, "a", 0)];
    let c = rejected(&history);
    assert_eq!(c.partition, "\"/k\"");
    assert!(c.stuck.contains("read"), "{c}");
    assert_eq!(c.linearized.len(), 2, "{c}");
    assert_eq!(c.state, "\"b\" at version 1");
    let text = c.to_string();
    assert!(text.contains("cannot linearize next"), "{text}");
    // The same read overlapping the write is fine.
    let history = vec![create(0, 0, 1, "a"), write(1, 2, 5, "b", 1), read(2, 4, 6, "a", 0)];
    check_registers(&history).unwrap();
}

#[test]
fn lost_write_is_rejected() {
    // Two concurrent writes answered versions 1 and 2, so the one that got 2 must be what follows.
    let history = vec![create(0, 0, 1, "a"), write(1, 2, 5, "b", 1), write(2, 3, 6, "c", 2), read(0, 7, 8, "b", 2)];
    rejected(&history);
    // Two writes both answered version 1: one of them was overwritten without a version bump.
    let history = vec![create(0, 0, 1, "a"), write(1, 2, 5, "b", 1), write(2, 3, 6, "c", 1)];
    rejected(&history);
}

#[test]
fn cas_succeeding_twice_on_one_version_is_rejected() {
    let history = vec![
        create(0, 0, 1, "a"),
        cas(1, 2, 5, 0, "b", RegisterOutput::Written(1)),
        cas(2, 3, 6, 0, "c", RegisterOutput::Written(1)),
    ];
    rejected(&history);
    // A failed CAS must have seen another version.
    let history = vec![create(0, 0, 1, "a"), cas(1, 2, 3, 0, "b", RegisterOutput::BadVersion)];
    rejected(&history);
}

#[test]
fn keys_are_checked_independently() {
    let mut other = create(1, 0, 1, "x");
    other.input.key = "/other".to_owned();
    let mut history = vec![create(0, 0, 1, "a"), other];
    // "/other" exists but "/k" was never written past version 0.
    history.push(read(0, 2, 3, "a", 0));
    check_registers(&history).unwrap();
    history.push(write(0, 4, 5, "b", 1));
    let mut stale = read(1, 6, 7, "x", 0);
    stale.input.key = "/other".to_owned();
    history.push(stale);
    check_registers(&history).unwrap();
    history.push(read(1, 8, 9, "a", 0));
    assert_eq!(rejected(&history).partition, "\"/k\"");
}

#[test]
fn budget_bounds_the_search() {
    let history = vec![create(0, 0, 1, "a"), write(1, 2, 3, "b", 1), read(2, 4, 5, "a", 0)];
    let err = check_partitioned(&RegisterModel, &history, |op: &KeyedOp| op.key.clone(), 2).unwrap_err();
    assert!(matches!(err, CheckError::BudgetExhausted { steps: 2, .. }), "{err}");
}

/// One generated operation: which key, which kind, and whether its answer is lost (and, if so,
/// whether it took effect).
#[derive(Debug, Clone)]
struct Planned {
    key: usize,
    kind: u8,
    expected_version: i32,
    lost: Option<bool>,
    spread_before: u64,
    spread_after: u64,
}

/// Operations of which about one in `1 + answered / 2` has a lost answer.
fn planned(answered: u32) -> impl Strategy<Value = Planned> {
    (
        0usize..3,
        0u8..4,
        0i32..4,
        prop_oneof![answered => Just(None), 1 => Just(Some(true)), 1 => Just(Some(false))],
        0u64..40,
        0u64..40,
    )
        .prop_map(|(key, kind, expected_version, lost, spread_before, spread_after)| Planned {
            key,
            kind,
            expected_version,
            lost,
            spread_before,
            spread_after,
        })
}

/// Runs `plan` through the model one operation at a time; operation `i` takes effect at time
/// `100 + 10 i` and its interval is widened around that point, so the history overlaps but stays
/// consistent with real time. Operations whose answer is lost either take effect or not at all.
fn sequential_history(plan: &[Planned]) -> Vec<Op> {
    let mut states: Vec<RegisterState> = vec![RegisterState(None); 3];
    let mut history = Vec::new();
    for (i, p) in plan.iter().enumerate() {
        let value = format!("v{i}").into_bytes();
        let op = match p.kind {
            0 => RegisterOp::Read,
            1 => RegisterOp::Write(value),
            2 => RegisterOp::Cas { expected_version: p.expected_version, value },
            _ => RegisterOp::Create(value),
        };
        let input = KeyedOp { key: format!("/k{}", p.key), op };
        let point = 100 + 10 * i as u64;
        let call = point - p.spread_before;
        let state = &mut states[p.key];
        match p.lost {
            None => {
                let output = [
                    RegisterOutput::Missing,
                    RegisterOutput::BadVersion,
                    RegisterOutput::NodeExists,
                    RegisterOutput::Created,
                ]
                .into_iter()
                .chain((0..=i as i32).map(RegisterOutput::Written))
                .chain(state.0.iter().map(|(d, v)| RegisterOutput::Value(d.clone(), *v)))
                .find(|o| RegisterModel.step(state, &input, Some(o)).is_some())
                .expect("some output is legal");
                *state = RegisterModel.step(state, &input, Some(&output)).expect("legal");
                history.push(Operation::completed(i % 5, input, call, point + p.spread_after, output));
            }
            Some(took_effect) => {
                if took_effect {
                    *state = RegisterModel.step(state, &input, None).expect("unknown outcomes always apply");
                }
                history.push(Operation::unknown(i % 5, input, call));
            }
        }
    }
    history
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn histories_of_sequential_runs_are_accepted(plan in prop::collection::vec(planned(8), 0..120)) {
        let history = sequential_history(&plan);
        prop_assert!(check_registers(&history).is_ok(), "{:?}", check_registers(&history));
    }

    #[test]
    fn a_changed_read_is_caught_when_it_cannot_be_explained(plan in prop::collection::vec(planned(8), 1..60)) {
        // Without lost answers or overlap, a read reporting a version nobody wrote is rejected.
        let plan: Vec<Planned> =
            plan.into_iter().map(|p| Planned { lost: None, spread_before: 0, spread_after: 0, ..p }).collect();
        let mut history = sequential_history(&plan);
        let at = 200 + 10 * history.len() as u64;
        let input = KeyedOp { key: "/k0".to_owned(), op: RegisterOp::Read };
        history.push(Operation::completed(0, input, at, at + 1, RegisterOutput::Value(b"never".to_vec(), 99)));
        prop_assert!(matches!(check_registers(&history), Err(CheckError::NotLinearizable(_))));
    }
}

#[test]
fn thousands_of_overlapping_operations_check_quickly() {
    // About 30 lost answers, as many as a few seconds of faults against an ensemble produce: the
    // search is exponential in the unknown-outcome writes pending at once in the worst case.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let plan = prop::collection::vec(planned(200), 3000).new_tree(&mut runner).unwrap().current();
    let history = sequential_history(&plan);
    let started = std::time::Instant::now();
    check_registers(&history).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
}
