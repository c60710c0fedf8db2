//! Property tests of the checker:
//!
//! - a history produced by running operations one at a time, each given an interval around its
//!   instant (so real time is respected), is always linearizable, and the linearization the
//!   checker returns replays correctly;
//! - adding a read of a value that was never written makes any history not linearizable;
//! - the order of operations in the input vector does not change the verdict;
//! - on small random histories the checker agrees with brute force over every order.

use dsplay::check::{
    check, verify_order, History, Input, Model, ModelKind, Operation, Output, Status, Verdict,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// One step of a workload, before it is run.
#[derive(Clone, Debug)]
enum Step {
    Read,
    Write(u8),
    Cas(u8, u8),
    Get(u8),
    Put(u8, u8),
    Append(u8, u8),
}

/// How an operation of the sequential run is reported.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    Ok,
    /// Timed out: took effect, but the client never heard.
    Unknown,
    /// Reported failed: did not take effect (it is not run).
    Fail,
}

fn step_for(kind: ModelKind) -> BoxedStrategy<Step> {
    let value = 0u8..4;
    let key = 0u8..3;
    match kind {
        ModelKind::Register => prop_oneof![Just(Step::Read), value.prop_map(Step::Write)].boxed(),
        ModelKind::CasRegister => prop_oneof![
            Just(Step::Read),
            value.clone().prop_map(Step::Write),
            (value.clone(), value).prop_map(|(a, b)| Step::Cas(a, b)),
        ]
        .boxed(),
        ModelKind::Kv => prop_oneof![
            key.clone().prop_map(Step::Get),
            (key.clone(), value.clone()).prop_map(|(k, v)| Step::Put(k, v)),
            (key, value).prop_map(|(k, v)| Step::Append(k, v)),
        ]
        .boxed(),
    }
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![8 => Just(Outcome::Ok), 1 => Just(Outcome::Unknown), 1 => Just(Outcome::Fail)]
}

/// The sequential object the workload runs against.
#[derive(Default)]
struct Object {
    register: Option<String>,
    map: BTreeMap<String, String>,
}

impl Object {
    /// Runs `step` and returns the input and what the client would be told.
    fn run(&mut self, step: &Step, apply: bool) -> (Input, Output) {
        let key = |k: &u8| format!("k{k}");
        match step {
            Step::Read => (
                Input::read(),
                Output::Read(self.register.clone().map(Into::into)),
            ),
            Step::Write(v) => {
                if apply {
                    self.register = Some(v.to_string());
                }
                (Input::write(i64::from(*v)), Output::None)
            }
            Step::Cas(from, to) => {
                let swapped = self.register.as_deref() == Some(from.to_string().as_str());
                if swapped && apply {
                    self.register = Some(to.to_string());
                }
                (
                    Input::cas(i64::from(*from), i64::from(*to)),
                    Output::Cas(swapped),
                )
            }
            Step::Get(k) => {
                let value = self.map.get(&key(k)).cloned().unwrap_or_default();
                (Input::get(key(k)), Output::value(value))
            }
            Step::Put(k, v) => {
                if apply {
                    self.map.insert(key(k), format!("<{v}>"));
                }
                (Input::put(key(k), format!("<{v}>")), Output::None)
            }
            Step::Append(k, v) => {
                if apply {
                    self.map
                        .entry(key(k))
                        .or_default()
                        .push_str(&format!("<{v}>"));
                }
                (Input::append(key(k), format!("<{v}>")), Output::None)
            }
        }
    }
}

/// Runs the steps one at a time; step `i` takes effect at instant `10 * i + 5` and its client
/// sees an interval that contains that instant, stretched by up to `slack_us` on each side, so
/// intervals overlap at random but real time is respected.
fn sequential_history(steps: &[(Step, Outcome, u64, u64)]) -> History {
    let mut object = Object::default();
    let mut history = History::new();
    for (i, (step, outcome, before_us, after_us)) in steps.iter().enumerate() {
        let instant_us = 10 * i as u64 + 5;
        let apply = !matches!(outcome, Outcome::Fail);
        let (input, output) = object.run(step, apply);
        let call_us = instant_us.saturating_sub(*before_us);
        let op = Operation::new(i as u64, i as u32 % 5, input, call_us);
        history.push(match outcome {
            Outcome::Ok => op.ok(output, instant_us + after_us),
            Outcome::Unknown => op,
            Outcome::Fail => op.fail(instant_us + after_us),
        });
    }
    history
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Long runs fill many 64-bit words of the linearized set, which exercises the windowed
    /// bitsets' bookkeeping as the search advances and backtracks across word boundaries.
    /// (No pending operations here: refuting a read behind many of them means trying every
    /// subset of them, which is exponential for this algorithm.)
    #[test]
    fn long_sequential_runs_are_linearizable_and_one_bad_read_is_found(
        (kind, steps) in any_kind().prop_flat_map(|kind| {
            let settled = prop_oneof![9 => Just(Outcome::Ok), 1 => Just(Outcome::Fail)];
            let step = (step_for(kind), settled, 0u64..60, 0u64..60);
            (Just(kind), prop::collection::vec(step, 150..400))
        }),
        position in any::<prop::sample::Index>(),
    ) {
        let mut history = sequential_history(&steps);
        let model = model_for(kind);
        let result = check(&history, &model).unwrap();
        prop_assert_eq!(result.verdict, Verdict::Linearizable);
        for linearization in &result.linearizations {
            prop_assert_eq!(verify_order(&history, &model, &linearization.order), Ok(()));
        }
        // A read late in the run that sees a value nobody wrote.
        let index = position.index(steps.len());
        let instant_us = 10 * index as u64 + 5;
        let mut bad = impossible_read(kind, instant_us + 5);
        bad.call_us = instant_us.saturating_sub(5);
        history.push(bad);
        let result = check(&history, &model).unwrap();
        prop_assert_eq!(result.verdict, Verdict::NotLinearizable);
        let prefix = result.counterexample.unwrap().longest_prefix;
        prop_assert_eq!(verify_order(&history, &model, &prefix), Ok(()));
    }
}

fn model_for(kind: ModelKind) -> Model {
    Model::new(kind, None)
}

fn workload(
    kind: ModelKind,
    max_len: usize,
) -> impl Strategy<Value = Vec<(Step, Outcome, u64, u64)>> {
    prop::collection::vec((step_for(kind), outcome(), 0u64..60, 0u64..60), 0..max_len)
}

fn any_kind() -> impl Strategy<Value = ModelKind> {
    prop_oneof![
        Just(ModelKind::Register),
        Just(ModelKind::CasRegister),
        Just(ModelKind::Kv)
    ]
}

/// A completed read of a value no write ever produces, overlapping everything.
fn impossible_read(kind: ModelKind, end_us: u64) -> Operation {
    let (input, output) = match kind {
        ModelKind::Kv => (Input::get("k0"), Output::value("never written")),
        _ => (Input::read(), Output::value("never written")),
    };
    Operation::new(999, 7, input, 0).ok(output, end_us)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sequential_runs_with_overlapping_intervals_are_linearizable(
        (kind, steps) in any_kind().prop_flat_map(|kind| (Just(kind), workload(kind, 40)))
    ) {
        let history = sequential_history(&steps);
        let model = model_for(kind);
        let result = check(&history, &model).unwrap();
        prop_assert_eq!(result.verdict, Verdict::Linearizable);
        for linearization in &result.linearizations {
            prop_assert_eq!(verify_order(&history, &model, &linearization.order), Ok(()));
        }
    }

    #[test]
    fn a_read_of_a_value_never_written_is_never_linearizable(
        (kind, steps) in any_kind().prop_flat_map(|kind| (Just(kind), workload(kind, 30))),
        position in 0usize..31,
    ) {
        let mut history = sequential_history(&steps);
        let end_us = 10 * steps.len() as u64 + 100;
        let position = position.min(history.len());
        history.operations.insert(position, impossible_read(kind, end_us));
        let model = model_for(kind);
        let result = check(&history, &model).unwrap();
        prop_assert_eq!(result.verdict, Verdict::NotLinearizable);
        let counterexample = result.counterexample.unwrap();
        prop_assert_eq!(verify_order(&history, &model, &counterexample.longest_prefix), Ok(()));
    }

    #[test]
    fn the_order_of_operations_in_the_input_does_not_change_the_verdict(
        (kind, steps) in any_kind().prop_flat_map(|kind| (Just(kind), workload(kind, 30))),
        corrupt in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut history = sequential_history(&steps);
        if corrupt {
            history.push(impossible_read(kind, 10 * steps.len() as u64 + 100));
        }
        let model = model_for(kind);
        let before = check(&history, &model).unwrap().verdict;
        shuffle(&mut history.operations, seed);
        prop_assert_eq!(check(&history, &model).unwrap().verdict, before);
    }

    #[test]
    fn perturbed_sequential_runs_agree_with_brute_force(
        (kind, steps) in any_kind().prop_flat_map(|kind| (Just(kind), workload(kind, 8))),
        victim in any::<prop::sample::Index>(),
        replacement in 0u8..4,
        perturb in any::<bool>(),
    ) {
        // Wide intervals make most operations concurrent, so the search's first choices are
        // often wrong and it must backtrack; changing one output makes many cases illegal.
        let mut history = sequential_history(&steps);
        if perturb && !history.is_empty() {
            let op = &mut history.operations[victim.index(steps.len())];
            op.output = match (&op.input, &op.output) {
                (Input::Read, _) => Output::value(i64::from(replacement)),
                (Input::Get { .. }, _) => Output::value(format!("<{replacement}>")),
                (Input::Cas { .. }, Output::Cas(swapped)) => Output::Cas(!swapped),
                (_, output) => output.clone(),
            };
        }
        let model = model_for(kind);
        let expected = if brute_force(&history, &model) {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        prop_assert_eq!(check(&history, &model).unwrap().verdict, expected);
    }

    #[test]
    fn small_random_histories_agree_with_brute_force(
        (kind, ops) in any_kind().prop_flat_map(|kind| (Just(kind), random_ops(kind)))
    ) {
        let history = History::from(ops);
        let model = model_for(kind);
        let result = check(&history, &model).unwrap();
        let expected = if brute_force(&history, &model) {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        prop_assert_eq!(result.verdict, expected);
    }
}

/// A Fisher-Yates shuffle driven by SplitMix64, so a failing case reproduces from its seed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let j = ((z ^ (z >> 31)) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// Up to six operations with arbitrary intervals, outputs and statuses: mostly not
/// linearizable, which is what brute force is good for.
fn random_ops(kind: ModelKind) -> impl Strategy<Value = Vec<Operation>> {
    let op = (
        step_for(kind),
        0u64..30,
        0u64..30,
        0u8..4,
        any::<bool>(),
        outcome(),
    );
    prop::collection::vec(op, 0..6).prop_map(move |ops| {
        ops.into_iter()
            .enumerate()
            .map(|(i, (step, call_us, length_us, seen, swapped, outcome))| {
                let mut object = Object::default();
                let (input, _) = object.run(&step, false);
                let output = match &input {
                    Input::Read | Input::Get { .. } if seen == 0 => Output::nil(),
                    Input::Read => Output::value(i64::from(seen)),
                    Input::Get { .. } => Output::value(format!("<{seen}>")),
                    Input::Cas { .. } => Output::Cas(swapped),
                    _ => Output::None,
                };
                let op = Operation::new(i as u64, i as u32, input, call_us);
                match outcome {
                    Outcome::Ok => op.ok(output, call_us + length_us),
                    Outcome::Unknown => op,
                    Outcome::Fail => op.fail(call_us + length_us),
                }
            })
            .collect::<Vec<_>>()
    })
}

/// Linearizable iff some order of all completed operations plus some of the pending ones
/// replays correctly (`verify_order`), tried exhaustively.
fn brute_force(history: &History, model: &Model) -> bool {
    let ops = &history.operations;
    let completed: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].status == Status::Ok)
        .collect();
    let pending: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].status == Status::Unknown)
        .collect();
    (0u32..1 << pending.len()).any(|mask| {
        let mut chosen = completed.clone();
        chosen.extend(
            pending
                .iter()
                .enumerate()
                .filter(|(bit, _)| mask & 1 << bit != 0)
                .map(|(_, &i)| i),
        );
        any_permutation(&mut chosen, 0, &|order| {
            verify_order(history, model, order).is_ok()
        })
    })
}

fn any_permutation(items: &mut Vec<usize>, from: usize, accept: &dyn Fn(&[usize]) -> bool) -> bool {
    if from == items.len() {
        return accept(items);
    }
    (from..items.len()).any(|i| {
        items.swap(from, i);
        let found = any_permutation(items, from + 1, accept);
        items.swap(from, i);
        found
    })
}
