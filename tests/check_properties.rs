//! Property tests of the checker:
//!
//! - a history produced by running operations one at a time, each given an interval around its
//!   instant (so real time is respected), is always linearizable, and the linearization the
//!   checker returns replays correctly;
//! - adding a read of a value that was never written makes any history not linearizable;
//! - the order of operations in the input vector does not change the verdict;
//! - on small random histories the checker agrees with brute force over every order;
//! - for every model, a linearizable history is sequentially consistent, a sequentially
//!   consistent one keeps the session guarantees (register and key-value models), and
//!   neither verdict changes when the operations are reordered in the file.

use dsplay::check::{
    check, check_guarantees, check_sequential, verify_order, CheckOptions, History, Input, Model,
    ModelKind, Operation, Output, Status, TxnOp, Verdict,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One step of a workload, before it is run.
#[derive(Clone, Debug)]
enum Step {
    Read,
    Write(u8),
    Cas(u8, u8),
    Get(u8),
    Put(u8, u8),
    Append(u8, u8),
    Acquire,
    Release,
    Enqueue(u8),
    Dequeue,
    Add(u8),
    ReadSet,
    /// (writes, key, value) steps.
    Txn(Vec<(bool, u8, u8)>),
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
        ModelKind::Mutex => prop_oneof![Just(Step::Acquire), Just(Step::Release)].boxed(),
        ModelKind::Queue => prop_oneof![value.prop_map(Step::Enqueue), Just(Step::Dequeue)].boxed(),
        ModelKind::Set => prop_oneof![value.prop_map(Step::Add), Just(Step::ReadSet)].boxed(),
        _ => prop::collection::vec((any::<bool>(), key, value), 1..4)
            .prop_map(Step::Txn)
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
    held: bool,
    queue: VecDeque<String>,
    set: BTreeSet<String>,
}

impl Object {
    /// Whether the model allows `step` now (a mutex refuses a second holder and a release
    /// while free: such a step is reported failed).
    fn allows(&self, step: &Step) -> bool {
        match step {
            Step::Acquire => !self.held,
            Step::Release => self.held,
            _ => true,
        }
    }

    /// Runs `step` and returns the input and what the client would be told.
    fn run(&mut self, step: &Step, apply: bool) -> (Input, Output) {
        let key = |k: &u8| format!("k{k}");
        match step {
            Step::Acquire | Step::Release => {
                let acquire = matches!(step, Step::Acquire);
                if apply {
                    self.held = acquire;
                }
                let input = if acquire {
                    Input::Acquire
                } else {
                    Input::Release
                };
                (input, Output::None)
            }
            Step::Enqueue(v) => {
                if apply {
                    self.queue.push_back(v.to_string());
                }
                (
                    Input::Enqueue {
                        value: i64::from(*v).into(),
                    },
                    Output::None,
                )
            }
            Step::Dequeue => {
                let front = self.queue.front().cloned();
                if apply {
                    self.queue.pop_front();
                }
                (Input::Dequeue, Output::Read(front.map(Into::into)))
            }
            Step::Add(v) => {
                if apply {
                    self.set.insert(v.to_string());
                }
                (
                    Input::Add {
                        value: i64::from(*v).into(),
                    },
                    Output::None,
                )
            }
            Step::ReadSet => {
                let seen = self.set.iter().map(|v| v.as_str().into()).collect();
                (Input::Read, Output::Set(seen))
            }
            Step::Txn(steps) => self.run_txn(steps, apply),
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

impl Object {
    fn run_txn(&mut self, steps: &[(bool, u8, u8)], apply: bool) -> (Input, Output) {
        let mut registers = self.map.clone();
        let mut ops = Vec::new();
        let mut read = Vec::new();
        for &(write, k, v) in steps {
            let key = format!("k{k}");
            if write {
                registers.insert(key.clone(), v.to_string());
                ops.push(TxnOp {
                    write,
                    key,
                    value: Some(i64::from(v).into()),
                });
                read.push(None);
            } else {
                read.push(registers.get(&key).map(|v| v.as_str().into()));
                ops.push(TxnOp {
                    write,
                    key,
                    value: None,
                });
            }
        }
        if apply {
            self.map = registers;
        }
        (Input::Txn { ops }, Output::Txn(read))
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
        let outcome = if object.allows(step) {
            outcome
        } else {
            &Outcome::Fail
        };
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

/// The longest workload a property runs on `kind`. Concurrent enqueues leave the queue in
/// any of their orders, and the search tells those states apart until dequeues settle them
/// (queues are the hard case of linearizability), so queue runs are kept shorter.
fn max_steps(kind: ModelKind) -> usize {
    if kind == ModelKind::Queue {
        16
    } else {
        40
    }
}

/// Every model.
fn every_kind() -> impl Strategy<Value = ModelKind> {
    prop::sample::select(ModelKind::ALL.to_vec())
}

/// The models with a read that can see a value never written.
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
        (kind, steps) in every_kind().prop_flat_map(|kind| (Just(kind), workload(kind, max_steps(kind))))
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
        (kind, ops) in every_kind().prop_flat_map(|kind| (Just(kind), random_ops(kind)))
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
                    Input::Read if kind == ModelKind::Set => {
                        Output::Set((1..seen).map(|v| i64::from(v).into()).collect())
                    }
                    Input::Read | Input::Get { .. } | Input::Dequeue if seen == 0 => Output::nil(),
                    Input::Read | Input::Dequeue => Output::value(i64::from(seen)),
                    Input::Get { .. } => Output::value(format!("<{seen}>")),
                    Input::Cas { .. } => Output::Cas(swapped),
                    Input::Txn { ops } => Output::Txn(
                        ops.iter()
                            .map(|op| (!op.write && swapped).then(|| i64::from(seen).into()))
                            .collect(),
                    ),
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

/// The weaker guarantees as `check_guarantees` reports them, with the sequential search run
/// even when the history is linearizable (so the implication is tested, not assumed).
fn weaker(history: &History, model: &Model) -> (Option<bool>, Option<Vec<Option<bool>>>) {
    let options = CheckOptions::default();
    let (sequential, _) = check_sequential(history, model, &options).unwrap();
    let guarantees = check_guarantees(history, model, &options, None).unwrap();
    assert_eq!(guarantees.sequential.kept, sequential.kept);
    let session = guarantees
        .session
        .map(|s| s.iter().map(|v| v.kept).collect());
    (sequential.kept, session)
}

/// The session guarantees judged on the history alone, without the shortcut that a
/// sequentially consistent history keeps them all.
fn session_alone(history: &History, model: &Model) -> Option<Vec<Option<bool>>> {
    // Sequential consistency cannot settle anything with no steps to search.
    let options = CheckOptions {
        max_steps: 0,
        ..CheckOptions::default()
    };
    let guarantees = check_guarantees(history, model, &options, None).unwrap();
    guarantees
        .session
        .map(|s| s.iter().map(|v| v.kept).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Linearizable implies sequentially consistent (checked by its own search), and
    /// sequentially consistent implies every session guarantee: the session check, run on
    /// its own, never finds a break in a sequentially consistent history.
    #[test]
    fn linearizable_implies_sequential_implies_the_session_guarantees(
        (kind, ops) in every_kind().prop_flat_map(|kind| {
            let perturbed = (random_ops(kind), workload(kind, 12));
            (Just(kind), perturbed)
        }),
        sequential_run in any::<bool>(),
    ) {
        let model = model_for(kind);
        let history = if sequential_run { sequential_history(&ops.1) } else { History::from(ops.0) };
        let linearizable = check(&history, &model).unwrap().verdict == Verdict::Linearizable;
        let (sequential, _) = weaker(&history, &model);
        if linearizable {
            prop_assert_eq!(sequential, Some(true));
        }
        if sequential == Some(true) {
            if let Some(session) = session_alone(&history, &model) {
                prop_assert!(session.iter().all(|kept| *kept != Some(false)), "{:?}", session);
            }
        }
    }

    /// Operations listed in another order (concurrent ones swapped in the file) get the same
    /// verdicts on every guarantee.
    #[test]
    fn the_order_in_the_file_does_not_change_the_weaker_verdicts(
        (kind, ops) in every_kind().prop_flat_map(|kind| (Just(kind), random_ops(kind))),
        seed in any::<u64>(),
    ) {
        let model = model_for(kind);
        let history = History::from(ops);
        let before = (weaker(&history, &model), session_alone(&history, &model));
        let mut shuffled = history.clone();
        shuffle(&mut shuffled.operations, seed);
        let after = (weaker(&shuffled, &model), session_alone(&shuffled, &model));
        prop_assert_eq!(before, after);
    }

    /// On small histories sequential consistency agrees with brute force over every order
    /// that keeps each client's own order.
    #[test]
    fn sequential_consistency_agrees_with_brute_force(
        (kind, ops) in every_kind().prop_flat_map(|kind| (Just(kind), random_ops(kind))),
        clients in 1u32..4,
    ) {
        let mut history = History::from(ops);
        for op in &mut history.operations {
            op.client %= clients;
        }
        // A client's operations follow one another.
        let mut end_us = BTreeMap::new();
        for op in &mut history.operations {
            let end = end_us.entry(op.client).or_insert(0u64);
            let length = op.return_us.map_or(0, |r| r - op.call_us);
            op.call_us = op.call_us.max(*end + 1);
            if let Some(ret) = &mut op.return_us {
                *ret = op.call_us + length;
            }
            *end = op.return_us.unwrap_or(u64::MAX / 2);
        }
        history.operations.retain(|op| op.call_us < u64::MAX / 4);
        let model = model_for(kind);
        let (sequential, _) = weaker(&history, &model);
        prop_assert_eq!(sequential, Some(brute_force_sequential(&history, &model)));
    }
}

/// Sequentially consistent iff some interleaving of the clients' operations (completed ones,
/// and any of the pending ones), each client's in call order, replays correctly with real
/// time ignored.
fn brute_force_sequential(history: &History, model: &Model) -> bool {
    let ops = &history.operations;
    let pending: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].status == Status::Unknown)
        .collect();
    (0u32..1 << pending.len()).any(|mask| {
        let chosen: Vec<usize> = (0..ops.len())
            .filter(|&i| match ops[i].status {
                Status::Ok => true,
                Status::Fail => false,
                Status::Unknown => mask & 1 << pending.iter().position(|&p| p == i).unwrap() != 0,
            })
            .collect();
        // Without real time: every operation called at 0 and returning at the end.
        let mut timeless = history.clone();
        for op in &mut timeless.operations {
            op.call_us = 0;
            op.return_us = op.return_us.map(|_| 1);
        }
        let mut order = chosen.clone();
        any_permutation(&mut order, 0, &|order| {
            let keeps_clients = order.iter().enumerate().all(|(a, &i)| {
                order[a + 1..].iter().all(|&j| {
                    ops[i].client != ops[j].client || (ops[i].call_us, i) < (ops[j].call_us, j)
                })
            });
            keeps_clients && verify_order(&timeless, model, order).is_ok()
        })
    })
}
