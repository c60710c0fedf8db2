//! The mutex, queue, set and multi-register models, read as Knossos writes their histories,
//! and the weaker guarantees: for each model a hand-made refutation names the operation that
//! breaks it, and each session guarantee has a history that breaks it alone.

use dsplay::check::{
    check, check_guarantees, parse_history, verify_order, CheckOptions, Format, History, Input,
    Model, ModelKind, Operation, Output, TxnOp, Verdict,
};

/// Reads a Jepsen EDN history.
fn edn(text: &str) -> History {
    parse_history(text, Format::JepsenEdn).unwrap()
}

/// The operation that cannot be placed, as its description; the witness order is replayed
/// independently of the search.
fn refuted_by(history: &History, kind: ModelKind) -> String {
    let model = Model::new(kind, None);
    let result = check(history, &model).unwrap();
    assert_eq!(result.verdict, Verdict::NotLinearizable, "{history:?}");
    let counterexample = result.counterexample.unwrap();
    assert_eq!(
        verify_order(history, &model, &counterexample.longest_prefix),
        Ok(())
    );
    history.operations[counterexample.offending_op].describe()
}

// Knossos's mutex: a second acquire while the first holder has not released cannot be placed.
#[test]
fn two_holders_of_a_mutex_are_refuted_at_the_second_acquire() {
    let history = edn("[{:process 0, :type :invoke, :f :acquire, :value nil}
         {:process 0, :type :ok, :f :acquire, :value nil}
         {:process 1, :type :invoke, :f :acquire, :value nil}
         {:process 1, :type :ok, :f :acquire, :value nil}]");
    assert_eq!(refuted_by(&history, ModelKind::Mutex), "acquire()");
    assert_eq!(
        check(&history, &Model::new(ModelKind::Mutex, None))
            .unwrap()
            .counterexample
            .unwrap()
            .offending_op,
        1
    );
    // Released in between, the same two acquires are fine.
    let released = edn("{:process 0, :type :invoke, :f :acquire}
         {:process 0, :type :ok, :f :acquire}
         {:process 0, :type :invoke, :f :release}
         {:process 0, :type :ok, :f :release}
         {:process 1, :type :invoke, :f :acquire}
         {:process 1, :type :ok, :f :acquire}");
    let result = check(&released, &Model::new(ModelKind::Mutex, None)).unwrap();
    assert_eq!(result.verdict, Verdict::Linearizable);
}

// FIFO: a dequeue of a value never enqueued is refuted at that dequeue; dequeuing out of order
// is too, and in order is not.
#[test]
fn a_dequeue_of_a_value_never_enqueued_is_refuted_at_the_dequeue() {
    let queue = |first: i64, second: i64| {
        edn(&format!(
            "{{:process 0, :type :invoke, :f :enqueue, :value 1}}
             {{:process 0, :type :ok, :f :enqueue, :value 1}}
             {{:process 0, :type :invoke, :f :enqueue, :value 2}}
             {{:process 0, :type :ok, :f :enqueue, :value 2}}
             {{:process 1, :type :invoke, :f :dequeue, :value nil}}
             {{:process 1, :type :ok, :f :dequeue, :value {first}}}
             {{:process 1, :type :invoke, :f :dequeue, :value nil}}
             {{:process 1, :type :ok, :f :dequeue, :value {second}}}"
        ))
    };
    assert_eq!(refuted_by(&queue(1, 9), ModelKind::Queue), "dequeue() -> 9");
    assert_eq!(refuted_by(&queue(2, 1), ModelKind::Queue), "dequeue() -> 2");
    let model = Model::new(ModelKind::Queue, None);
    assert_eq!(
        check(&queue(1, 2), &model).unwrap().verdict,
        Verdict::Linearizable
    );
}

// A read of the whole set must see every add that completed before it began.
#[test]
fn a_set_read_missing_an_added_element_is_refuted_at_the_read() {
    let history = edn("{:process 0, :type :invoke, :f :add, :value 1}
         {:process 0, :type :ok, :f :add, :value 1}
         {:process 0, :type :invoke, :f :add, :value 2}
         {:process 0, :type :ok, :f :add, :value 2}
         {:process 1, :type :invoke, :f :read, :value nil}
         {:process 1, :type :ok, :f :read, :value #{1}}");
    assert_eq!(refuted_by(&history, ModelKind::Set), "read() -> #{1}");
    let whole = edn("{:process 0, :type :invoke, :f :add, :value 1}
         {:process 0, :type :ok, :f :add, :value 1}
         {:process 1, :type :invoke, :f :read, :value nil}
         {:process 1, :type :ok, :f :read, :value [1]}");
    let result = check(&whole, &Model::new(ModelKind::Set, None)).unwrap();
    assert_eq!(result.verdict, Verdict::Linearizable);
}

// A transaction that sees one of another transaction's writes but not the other saw a torn
// write; nil reads in a transaction match anything, as in Knossos.
#[test]
fn a_transaction_reading_a_torn_write_is_refuted_at_that_transaction() {
    let history = edn(
        "{:process 0, :type :invoke, :f :txn, :value [[:w :x 0] [:w :y 0]]}
         {:process 0, :type :ok, :f :txn, :value [[:w :x 0] [:w :y 0]]}
         {:process 0, :type :invoke, :f :txn, :value [[:w :x 1] [:w :y 1]]}
         {:process 0, :type :ok, :f :txn, :value [[:w :x 1] [:w :y 1]]}
         {:process 1, :type :invoke, :f :txn, :value [[:r :x nil] [:r :y nil]]}
         {:process 1, :type :ok, :f :txn, :value [[:r :x 1] [:r :y 0]]}
         {:process 2, :type :invoke, :f :txn, :value [[:r :x nil] [:r :y nil]]}
         {:process 2, :type :ok, :f :txn, :value [[:r :x 1] [:r :y nil]]}",
    );
    assert_eq!(
        refuted_by(&history, ModelKind::MultiRegister),
        "txn[[:r x nil] [:r y nil]] -> [[:r x 1] [:r y 0]]"
    );
    let mut whole = history.clone();
    whole.operations.remove(2);
    let result = check(&whole, &Model::new(ModelKind::MultiRegister, None)).unwrap();
    assert_eq!(result.verdict, Verdict::Linearizable);
}

// An operation no model knows is refused with its name and the models that exist.
#[test]
fn an_operation_no_model_knows_is_named_with_the_models_that_exist() {
    let error = parse_history(
        "{:process 0, :type :invoke, :f :dequeue-all, :value nil}",
        Format::JepsenEdn,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains(":dequeue-all"), "{error}");
    for kind in ModelKind::ALL {
        assert!(error.contains(kind.name()), "{error}");
    }
    // A known operation on the wrong model is refused by the model.
    let queue = edn("{:process 0, :type :invoke, :f :enqueue, :value 1}");
    let error = check(&queue, &Model::register()).unwrap_err().to_string();
    assert!(
        error.contains("enqueue(1)") && error.contains("register"),
        "{error}"
    );
}

// Malformed transaction forms get a message naming the line, not a panic.
#[test]
fn malformed_transactions_are_refused_with_their_line() {
    for bad in [
        "{:process 0, :type :invoke, :f :txn, :value 3}",
        "{:process 0, :type :invoke, :f :txn, :value [[:x 1 2]]}",
        "{:process 0, :type :invoke, :f :txn, :value [[:w 1]]}",
        "{:process 0, :type :invoke, :f :txn, :value [[:r 1 nil]]}\n{:process 0, :type :ok, :f :txn, :value [[:w 1 2]]}",
    ] {
        let error = parse_history(bad, Format::JepsenEdn).unwrap_err();
        assert!(error.line.is_some(), "{bad}: {error}");
    }
}

/// A register history of one or two clients: (client, input, output), one after another.
fn sequence(ops: &[(u32, Input, Output)]) -> History {
    let ops = ops.iter().enumerate().map(|(i, (client, input, output))| {
        let at = 10 * i as u64;
        Operation::new(i as u64, *client, input.clone(), at).ok(output.clone(), at + 5)
    });
    History::from(ops.collect::<Vec<_>>())
}

fn w(client: u32, v: i64) -> (u32, Input, Output) {
    (client, Input::write(v), Output::None)
}

fn r(client: u32, v: Option<i64>) -> (u32, Input, Output) {
    let output = v.map_or(Output::nil(), Output::value);
    (client, Input::read(), output)
}

/// Which session guarantees `history` keeps on its own (sequential consistency given no steps,
/// so it settles nothing), and the witness of each broken one.
fn session_verdicts(history: &History) -> Vec<(Option<bool>, Option<usize>)> {
    let options = CheckOptions {
        max_steps: 0,
        ..CheckOptions::default()
    };
    let guarantees = check_guarantees(history, &Model::register(), &options, None).unwrap();
    let session = guarantees.session.unwrap();
    session.iter().map(|v| (v.kept, v.witness)).collect()
}

// Each session guarantee has a history that breaks it and keeps the others, and its witness
// is the operation that breaks it (Terry et al.'s four guarantees, one client's session).
#[test]
fn each_session_guarantee_is_broken_by_its_own_history_at_the_breaking_operation() {
    let (t, f) = (Some(true), Some(false));
    // Read your writes: client 0 writes 1 and then reads the initial nil.
    let ryw = sequence(&[w(0, 1), r(0, None)]);
    assert_eq!(
        session_verdicts(&ryw),
        vec![(f, Some(1)), (t, None), (t, None), (t, None)]
    );
    // Monotonic reads: clients 1 and 2 see writes 1 and 2 in opposite orders, so no single
    // order of versions lets both read monotonically. Seen through reads, client 0's writes
    // are out of order for one of them as well.
    let mr = sequence(&[
        w(0, 1),
        w(0, 2),
        r(1, Some(1)),
        r(1, Some(2)),
        r(2, Some(2)),
        r(2, Some(1)),
    ]);
    assert_eq!(
        session_verdicts(&mr),
        vec![(t, None), (f, Some(5)), (f, Some(5)), (t, None)]
    );
    // Monotonic writes: client 0 writes 1 then 2, and client 1 sees 2 and then 1. Alone, that
    // client's reads could be monotonic (if 2 were older than 1).
    let mw = sequence(&[w(0, 1), w(0, 2), r(1, Some(2)), r(1, Some(1))]);
    assert_eq!(
        session_verdicts(&mw),
        vec![(t, None), (t, None), (f, Some(3)), (t, None)]
    );
    // Writes follow reads: client 1 reads 1 and then writes 2, client 0 reads 2 and then
    // writes 1: each write must follow the other.
    let wfr = sequence(&[r(1, Some(1)), w(1, 2), r(0, Some(2)), w(0, 1)]);
    assert_eq!(
        session_verdicts(&wfr),
        vec![(t, None), (t, None), (t, None), (f, Some(3))]
    );
    // A history that keeps everything.
    let fine = sequence(&[w(0, 1), r(0, Some(1)), w(1, 2), r(0, Some(2))]);
    assert!(session_verdicts(&fine).iter().all(|v| *v == (t, None)));
}

// Values written twice make a read's version ambiguous: no break found is then "unknown".
#[test]
fn a_read_of_a_value_written_twice_leaves_the_session_guarantees_unknown() {
    let history = sequence(&[w(0, 1), w(1, 1), r(0, Some(1))]);
    assert!(session_verdicts(&history).iter().all(|v| v.0.is_none()));
}

// Sequential consistency drops real time but keeps each client's order.
#[test]
fn sequential_consistency_keeps_client_order_but_not_real_time() {
    let options = CheckOptions::default();
    let register = Model::register();
    // A stale read by another client: not linearizable, but sequentially consistent.
    let stale = sequence(&[w(0, 1), w(0, 2), r(1, Some(1))]);
    assert_eq!(
        check(&stale, &register).unwrap().verdict,
        Verdict::NotLinearizable
    );
    let guarantees = check_guarantees(&stale, &register, &options, Some(false)).unwrap();
    assert_eq!(guarantees.sequential.kept, Some(true));
    // The writer itself reading its older value breaks its own order.
    let own = sequence(&[w(0, 1), w(0, 2), r(0, Some(1))]);
    let guarantees = check_guarantees(&own, &register, &options, Some(false)).unwrap();
    assert_eq!(guarantees.sequential.kept, Some(false));
    assert_eq!(guarantees.sequential.witness, Some(2));
    // Queues too: a second client may dequeue an element enqueued "later" in real time.
    let queue = edn("{:process 0, :type :invoke, :f :dequeue}
         {:process 0, :type :ok, :f :dequeue, :value 5}
         {:process 1, :type :invoke, :f :enqueue, :value 5}
         {:process 1, :type :ok, :f :enqueue, :value 5}");
    let model = Model::new(ModelKind::Queue, None);
    assert_eq!(
        check(&queue, &model).unwrap().verdict,
        Verdict::NotLinearizable
    );
    let guarantees = check_guarantees(&queue, &model, &options, Some(false)).unwrap();
    assert_eq!(guarantees.sequential.kept, Some(true));
    assert!(guarantees.session.is_none());
}

// Knossos's reading of nil reads, and a top-level list: a nil read before any write matches
// any state (linearizable), while read literally it is a read of the unwritten register,
// which after a completed write is not.
#[test]
fn a_top_level_list_with_nil_reads_before_and_after_a_write_reads_as_knossos_does() {
    let text = "({:process 1, :type :invoke, :f :read, :value nil}
         {:process 1, :type :ok, :f :read, :value nil}
         {:process 0, :type :invoke, :f :write, :value 1}
         {:process 0, :type :ok, :f :write, :value 1}
         {:process 1, :type :invoke, :f :read, :value nil}
         {:process 1, :type :ok, :f :read, :value nil})";
    let any = parse_history(text, Format::JepsenEdn).unwrap();
    assert_eq!(any.len(), 3);
    assert_eq!(
        check(&any, &Model::register()).unwrap().verdict,
        Verdict::Linearizable
    );
    let literal = dsplay::check::parse_history_with(
        text,
        Format::JepsenEdn,
        dsplay::check::NilReads::Literal,
    )
    .unwrap();
    let result = check(&literal, &Model::register()).unwrap();
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    assert_eq!(result.counterexample.unwrap().offending_op, 2);
    // The first nil read alone, before any write, is fine read literally too.
    let mut first = literal.clone();
    first.operations.truncate(2);
    assert_eq!(
        check(&first, &Model::register()).unwrap().verdict,
        Verdict::Linearizable
    );
}

// The transaction form round-trips through our JSON.
#[test]
fn transactions_round_trip_through_json() {
    let ops = vec![
        TxnOp {
            write: true,
            key: "x".into(),
            value: Some(1.into()),
        },
        TxnOp {
            write: false,
            key: "y".into(),
            value: None,
        },
    ];
    let history =
        History::from(vec![Operation::new(0, 0, Input::Txn { ops }, 0)
            .ok(Output::Txn(vec![None, Some(2.into())]), 5)]);
    let json = serde_json::to_string(&history).unwrap();
    let back = parse_history(&json, Format::Json).unwrap();
    assert_eq!(back, history);
}

// The panel's line: the strongest guarantee on the spectrum, and the breaking operation of
// each weaker one that fails.
#[test]
fn the_strongest_guarantee_kept_walks_down_the_spectrum() {
    let options = CheckOptions::default();
    let register = Model::register();
    let strongest = |history: &History| {
        let linearizable = check(history, &register).unwrap().is_linearizable();
        let guarantees = check_guarantees(history, &register, &options, linearizable).unwrap();
        (
            guarantees.strongest(linearizable),
            guarantees.failures(history),
        )
    };
    let fine = sequence(&[w(0, 1), r(1, Some(1))]);
    assert_eq!(strongest(&fine), ("linearizable".to_owned(), vec![]));
    let stale = sequence(&[w(0, 1), w(0, 2), r(1, Some(1))]);
    assert_eq!(strongest(&stale).0, "sequentially consistent");
    // Client 1 reads 2 and then 1 while client 0 wrote 1 then 2: not sequential, and it
    // breaks monotonic writes, but it could still read its own writes (it wrote none).
    let reordered = sequence(&[w(0, 1), w(0, 2), r(1, Some(2)), r(1, Some(1))]);
    let (kept, failures) = strongest(&reordered);
    assert_eq!(
        kept,
        "read your writes, monotonic reads, writes follow reads"
    );
    assert_eq!(
        failures,
        vec![
            "sequential consistency: first broken by operation 3, read() -> 1 by C1".to_owned(),
            "monotonic writes: first broken by operation 3, read() -> 1 by C1".to_owned(),
        ]
    );
}

// A client whose operations overlap (threads sharing a process number) is taken as several
// sessions, each a chain of operations that follow one another; otherwise a linearizable
// history could fail sequential consistency (found by the property tests).
#[test]
fn a_client_with_overlapping_operations_counts_as_several_sessions() {
    let history = History::from(vec![
        Operation::new(0, 0, Input::read(), 5).ok(Output::nil(), 5),
        Operation::new(1, 1, Input::write(0), 15).ok(Output::None, 15),
        Operation::new(2, 0, Input::read(), 4).ok(Output::value(0), 55),
    ]);
    let register = Model::new(ModelKind::Register, None);
    assert_eq!(
        check(&history, &register).unwrap().verdict,
        Verdict::Linearizable
    );
    let guarantees = check_guarantees(&history, &register, &CheckOptions::default(), None).unwrap();
    assert_eq!(guarantees.sequential.kept, Some(true));
}
