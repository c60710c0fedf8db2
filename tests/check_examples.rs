//! Tiny hand-built histories with known verdicts: the classic examples of what linearizability
//! allows and forbids, one property per test.

use dsplay::check::{
    check, check_with, timeline, verify_order, CheckOptions, History, HistoryError, Input, Model,
    Operation, Output, Status, StopReason, Value, Verdict,
};

/// A completed operation by `client` over `call_us..=return_us`.
fn ok(client: u32, input: Input, output: Output, call_us: u64, return_us: u64) -> Operation {
    Operation::new(0, client, input, call_us).ok(output, return_us)
}

/// Numbers the operations 0, 1, 2, ... so ids match indices.
fn history(operations: Vec<Operation>) -> History {
    let operations = operations
        .into_iter()
        .enumerate()
        .map(|(index, op)| Operation {
            id: index as u64,
            ..op
        })
        .collect();
    History { operations }
}

fn verdict(history: &History, model: &Model) -> Verdict {
    check(history, model).unwrap().verdict
}

#[test]
fn a_stale_read_after_a_completed_write_is_not_linearizable() {
    // The write returned at 10; a read called at 20 must see it.
    let h = history(vec![
        ok(0, Input::write(1), Output::None, 0, 10),
        ok(1, Input::read(), Output::nil(), 20, 30),
    ]);
    let result = check(&h, &Model::register()).unwrap();
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    let counterexample = result.counterexample.unwrap();
    assert_eq!(counterexample.longest_prefix, vec![0]);
    assert_eq!(counterexample.offending_op, 1);
    assert_eq!(counterexample.state_after_prefix.as_deref(), Some("1"));
}

#[test]
fn a_read_concurrent_with_a_write_may_see_either_value() {
    for seen in [Output::value(1), Output::nil()] {
        let h = history(vec![
            ok(0, Input::write(1), Output::None, 0, 10),
            ok(1, Input::read(), seen.clone(), 5, 15),
        ]);
        assert_eq!(
            verdict(&h, &Model::register()),
            Verdict::Linearizable,
            "{seen:?}"
        );
    }
}

#[test]
fn operations_that_only_touch_count_as_concurrent() {
    // The read is called at the very instant the write returns: either order is allowed.
    let h = history(vec![
        ok(0, Input::write(1), Output::None, 0, 10),
        ok(1, Input::read(), Output::nil(), 10, 20),
    ]);
    assert_eq!(verdict(&h, &Model::register()), Verdict::Linearizable);
}

#[test]
fn an_unknown_write_that_later_becomes_visible_is_linearizable() {
    // The client timed out, but the write took effect long after: a later read sees it.
    let h = history(vec![
        Operation::new(0, 0, Input::write(1), 0),
        ok(1, Input::read(), Output::nil(), 10, 20),
        ok(1, Input::read(), Output::value(1), 50, 60),
    ]);
    assert_eq!(verdict(&h, &Model::register()), Verdict::Linearizable);
}

#[test]
fn an_unknown_write_takes_effect_at_most_once() {
    // Once a read has seen the unknown write's value, the register cannot go back to nil.
    let h = history(vec![
        Operation::new(0, 0, Input::write(1), 0),
        ok(1, Input::read(), Output::value(1), 10, 20),
        ok(1, Input::read(), Output::nil(), 30, 40),
    ]);
    assert_eq!(verdict(&h, &Model::register()), Verdict::NotLinearizable);
}

#[test]
fn a_failed_write_never_takes_effect() {
    let failed = Operation::new(0, 0, Input::write(1), 0).fail(10);
    let nothing = history(vec![
        failed.clone(),
        ok(1, Input::read(), Output::nil(), 20, 30),
    ]);
    assert_eq!(verdict(&nothing, &Model::register()), Verdict::Linearizable);
    let seen = history(vec![failed, ok(1, Input::read(), Output::value(1), 20, 30)]);
    assert_eq!(verdict(&seen, &Model::register()), Verdict::NotLinearizable);
}

#[test]
fn the_register_examples_of_mit_6824_quiz_2_2017() {
    // Porcupine's TestRegisterModel, from 6.824's 2017 quiz 2, section VII; the register starts at 0.
    let model = Model::register().with_initial(0);
    let allowed = history(vec![
        ok(0, Input::write(100), Output::None, 0, 100),
        ok(1, Input::read(), Output::value(100), 25, 75),
        ok(2, Input::read(), Output::value(0), 30, 60),
    ]);
    assert_eq!(verdict(&allowed, &model), Verdict::Linearizable);
    let forbidden = history(vec![
        ok(0, Input::write(200), Output::None, 0, 100),
        ok(1, Input::read(), Output::value(200), 10, 30),
        ok(2, Input::read(), Output::value(0), 40, 90),
    ]);
    assert_eq!(verdict(&forbidden, &model), Verdict::NotLinearizable);
}

#[test]
fn the_initial_value_is_what_an_unwritten_register_reads() {
    let h = history(vec![ok(0, Input::read(), Output::value(5), 0, 10)]);
    assert_eq!(
        verdict(&h, &Model::register().with_initial(5)),
        Verdict::Linearizable
    );
    assert_eq!(verdict(&h, &Model::register()), Verdict::NotLinearizable);
    let nil = history(vec![ok(0, Input::read(), Output::nil(), 0, 10)]);
    assert_eq!(verdict(&nil, &Model::register()), Verdict::Linearizable);
    // An empty string is a value, not nil.
    assert_eq!(
        verdict(&nil, &Model::register().with_initial("")),
        Verdict::NotLinearizable
    );
}

#[test]
fn compare_and_set_succeeds_once_and_a_failed_comparison_is_an_observation() {
    let model = Model::cas_register().with_initial(0);
    let twice = history(vec![
        ok(0, Input::cas(0, 1), Output::Cas(true), 0, 10),
        ok(1, Input::cas(0, 2), Output::Cas(true), 20, 30),
    ]);
    assert_eq!(verdict(&twice, &model), Verdict::NotLinearizable);
    let once = history(vec![
        ok(0, Input::cas(0, 1), Output::Cas(true), 0, 10),
        ok(1, Input::cas(0, 2), Output::Cas(false), 20, 30),
        ok(2, Input::read(), Output::value(1), 40, 50),
    ]);
    assert_eq!(verdict(&once, &model), Verdict::Linearizable);
    // A comparison cannot fail while the register holds the expected value.
    let wrongly_failed = history(vec![ok(0, Input::cas(0, 1), Output::Cas(false), 0, 10)]);
    assert_eq!(verdict(&wrongly_failed, &model), Verdict::NotLinearizable);
}

#[test]
fn an_unknown_compare_and_set_may_or_may_not_have_swapped() {
    let model = Model::cas_register().with_initial(0);
    for seen in [0, 1] {
        let h = history(vec![
            Operation::new(0, 0, Input::cas(0, 1), 0),
            ok(1, Input::read(), Output::value(seen), 20, 30),
        ]);
        assert_eq!(verdict(&h, &model), Verdict::Linearizable, "read {seen}");
    }
}

#[test]
fn key_value_appends_concatenate_and_keys_are_independent() {
    let h = history(vec![
        ok(0, Input::put("x", "a"), Output::None, 0, 10),
        ok(0, Input::append("x", "b"), Output::None, 20, 30),
        ok(1, Input::append("y", "c"), Output::None, 0, 40),
        ok(1, Input::get("x"), Output::value("ab"), 50, 60),
        ok(2, Input::get("y"), Output::value("c"), 50, 60),
        ok(2, Input::get("z"), Output::value(""), 70, 80),
        ok(2, Input::get("w"), Output::nil(), 90, 95),
    ]);
    let result = check(&h, &Model::kv()).unwrap();
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(result.partitions, 4);
    let keys: Vec<_> = result
        .linearizations
        .iter()
        .map(|l| l.key.clone().unwrap())
        .collect();
    assert_eq!(keys, ["w", "x", "y", "z"]);
}

#[test]
fn a_key_value_read_out_of_order_names_its_key() {
    let h = history(vec![
        ok(0, Input::append("x", "a"), Output::None, 0, 10),
        ok(0, Input::append("x", "b"), Output::None, 20, 30),
        ok(1, Input::get("x"), Output::value("ba"), 40, 50),
        ok(1, Input::get("y"), Output::value(""), 40, 50),
    ]);
    let result = check(&h, &Model::kv()).unwrap();
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    let counterexample = result.counterexample.unwrap();
    assert_eq!(counterexample.key.as_deref(), Some("x"));
    assert_eq!(counterexample.longest_prefix, vec![0, 1]);
    assert_eq!(counterexample.state_after_prefix.as_deref(), Some("ab"));
    assert_eq!(counterexample.offending_op, 2);
}

#[test]
fn the_same_string_built_by_different_appends_is_the_same_state() {
    // "ab" + "c" and "a" + "bc" are one value, as is a put of "abc".
    let h = history(vec![
        ok(0, Input::append("k", "ab"), Output::None, 0, 10),
        ok(0, Input::append("k", "c"), Output::None, 20, 30),
        ok(1, Input::get("k"), Output::value("abc"), 40, 50),
        ok(1, Input::put("k", "a"), Output::None, 60, 70),
        ok(1, Input::append("k", "bc"), Output::None, 80, 90),
        ok(2, Input::get("k"), Output::value("abc"), 100, 110),
    ]);
    assert_eq!(verdict(&h, &Model::kv()), Verdict::Linearizable);
}

#[test]
fn the_cache_tells_apart_states_reached_by_different_orders() {
    // The search first tries write(2) then write(1), which leaves 1 and fails the read; the same
    // set of writes in the other order leaves 2, so it must not be skipped as already explored.
    let h = history(vec![
        ok(0, Input::write(2), Output::None, 0, 10),
        ok(1, Input::write(1), Output::None, 1, 10),
        ok(2, Input::read(), Output::value(2), 20, 30),
    ]);
    let result = check(&h, &Model::register()).unwrap();
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(result.linearizations[0].order, vec![1, 0, 2]);
}

#[test]
fn a_write_of_the_value_already_there_is_not_a_mere_observation() {
    // Found by the long property test: the search may take put(<2>) while the key already holds
    // <2>, where it changes nothing; but the only valid order puts it after put(<1>), where it
    // does. Only reads and failed comparisons may be taken eagerly.
    let h = history(vec![
        ok(0, Input::put("k", "<2>"), Output::None, 0, 14),
        ok(1, Input::put("k", "<1>"), Output::None, 13, 51),
        ok(2, Input::get("k"), Output::value("<1>"), 9, 42),
        ok(3, Input::get("k"), Output::value("<1>"), 35, 63),
        ok(4, Input::put("k", "<2>"), Output::None, 10, 53),
        ok(5, Input::append("k", "<2>"), Output::None, 43, 85),
        ok(6, Input::get("k"), Output::value("<2><2>"), 42, 89),
    ]);
    let result = check(&h, &Model::kv()).unwrap();
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(
        verify_order(&h, &Model::kv(), &result.linearizations[0].order),
        Ok(())
    );
}

#[test]
fn a_pending_read_constrains_nothing() {
    let h = history(vec![
        ok(0, Input::write(1), Output::None, 0, 10),
        Operation::new(0, 1, Input::read(), 5),
    ]);
    let result = check(&h, &Model::register()).unwrap();
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(result.linearizations[0].order, vec![0]);
}

#[test]
fn an_empty_history_is_linearizable() {
    for model in [Model::register(), Model::cas_register(), Model::kv()] {
        assert_eq!(verdict(&History::new(), &model), Verdict::Linearizable);
    }
}

/// Many writes of distinct values, all concurrent, then a read of a value none of them wrote:
/// a search that has to try every order before giving up.
fn hard_history(writes: u64) -> History {
    let mut ops: Vec<Operation> = (0..writes)
        .map(|i| ok(i as u32, Input::write(i as i64), Output::None, 0, 100))
        .collect();
    ops.push(ok(99, Input::read(), Output::value(-1), 200, 300));
    history(ops)
}

#[test]
fn the_step_budget_gives_an_unknown_verdict_instead_of_hanging() {
    let options = CheckOptions {
        max_steps: 10,
        ..CheckOptions::default()
    };
    let result = check_with(&hard_history(12), &Model::register(), &options).unwrap();
    assert_eq!(result.verdict, Verdict::Unknown);
    assert_eq!(result.stopped, Some(StopReason::StepBudget));
    assert_eq!(result.steps, 10);
    assert_eq!(result.is_linearizable(), None);
}

#[test]
fn the_memory_budget_and_the_cancel_callback_also_stop_the_search() {
    let tiny = CheckOptions {
        max_cache_bytes: 1024,
        ..CheckOptions::default()
    };
    let result = check_with(&hard_history(16), &Model::register(), &tiny).unwrap();
    assert_eq!(result.stopped, Some(StopReason::MemoryBudget));
    let calls = std::cell::Cell::new(0);
    let cancel = || {
        calls.set(calls.get() + 1);
        true
    };
    let cancelled = CheckOptions {
        cancel: Some(&cancel),
        ..CheckOptions::default()
    };
    let result = check_with(&hard_history(16), &Model::register(), &cancelled).unwrap();
    assert_eq!(result.stopped, Some(StopReason::Cancelled));
    assert_eq!(calls.get(), 1);
}

#[test]
fn memoisation_refutes_many_concurrent_writes_quickly() {
    // 14 concurrent writes have 14! (about 87 billion) orders; with the cache the search visits
    // each (set of writes done, last value) once: 14 * 2^13 configurations.
    let result = check(&hard_history(14), &Model::register()).unwrap();
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    assert!(result.steps < 5_000_000, "{} steps", result.steps);
}

#[test]
fn histories_that_do_not_fit_the_model_are_errors_not_verdicts() {
    let cas = history(vec![ok(0, Input::cas(1, 2), Output::Cas(true), 0, 1)]);
    let error = check(&cas, &Model::register()).unwrap_err();
    assert!(
        matches!(error, HistoryError::UnsupportedOperation { index: 0, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("register model"));
    let put = history(vec![ok(0, Input::put("k", "v"), Output::None, 0, 1)]);
    assert!(check(&put, &Model::cas_register()).is_err());
    assert!(check(&History::new(), &Model::kv().with_initial("x")).is_err());
    let no_return = History::from(vec![Operation {
        status: Status::Ok,
        ..Operation::new(0, 0, Input::read(), 0)
    }]);
    assert_eq!(
        check(&no_return, &Model::register()),
        Err(HistoryError::MissingReturn { index: 0 })
    );
}

#[test]
fn the_same_history_always_gets_the_same_result_and_it_round_trips_through_json() {
    let h = hard_history(8);
    let first = check(&h, &Model::register()).unwrap();
    let second = check(&h, &Model::register()).unwrap();
    assert_eq!(first, second);
    let json = serde_json::to_string(&first).unwrap();
    assert_eq!(
        serde_json::from_str::<dsplay::check::CheckResult>(&json).unwrap(),
        first
    );
    assert!(json.contains("\"verdict\":\"not_linearizable\""));
    let counterexample = first.counterexample.unwrap();
    assert!(verify_order(&h, &Model::register(), &counterexample.longest_prefix).is_ok());
}

#[test]
fn a_proposed_order_is_checked_step_by_step() {
    let h = history(vec![
        ok(0, Input::write(1), Output::None, 0, 10),
        ok(1, Input::write(2), Output::None, 0, 10),
        ok(2, Input::read(), Output::value(2), 20, 30),
    ]);
    let model = Model::register();
    assert!(verify_order(&h, &model, &[0, 1, 2]).is_ok());
    let error = verify_order(&h, &model, &[1, 0, 2]).unwrap_err();
    assert_eq!((error.position, error.op), (2, 2));
    // The read was called after both writes returned, so it cannot go first.
    let error = verify_order(&h, &model, &[2, 0, 1]).unwrap_err();
    assert_eq!(error.position, 0);
    // Leaving out a write that returned before the read was called is not a valid prefix.
    assert!(verify_order(&h, &model, &[1, 2]).is_err());
}

#[test]
fn the_timeline_has_a_lane_per_client_and_marks_the_witness() {
    let h = history(vec![
        ok(3, Input::write(1), Output::None, 0, 10),
        ok(1, Input::read(), Output::nil(), 20, 30),
        Operation::new(0, 3, Input::write(2), 40),
    ]);
    let result = check(&h, &Model::register()).unwrap();
    let lanes = timeline(&h, Some(&result));
    assert_eq!((lanes.start_us, lanes.end_us), (0, 40));
    let clients: Vec<u32> = lanes.lanes.iter().map(|lane| lane.client).collect();
    assert_eq!(clients, [1, 3]);
    let read = &lanes.lanes[0].bars[0];
    assert!(read.offending);
    assert_eq!((read.label.as_str(), read.order), ("read() -> nil", None));
    let write = &lanes.lanes[1].bars[0];
    assert_eq!((write.order, write.offending), (Some(0), false));
    let pending = &lanes.lanes[1].bars[1];
    assert!(pending.pending);
    assert_eq!((pending.call_us, pending.return_us), (40, 40));
    assert_eq!(pending.label, "write(2) -> ?");
    let json = serde_json::to_value(&lanes).unwrap();
    assert_eq!(json["lanes"][0]["bars"][0]["offending"], true);
    assert_eq!(timeline(&h, None).lanes[1].bars[0].order, None);
    assert_eq!(Value::from(7).as_str(), "7");
}
