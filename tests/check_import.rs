//! The history importers: what each format means, and that malformed input is an error naming
//! its line, never a panic.

use dsplay::check::{
    check, parse_history, Format, History, ImportError, Input, Model, Operation, Output, Status,
    Verdict, MAX_LINE_BYTES,
};
use proptest::prelude::*;

fn parse(text: &str, format: Format) -> History {
    parse_history(text, format).unwrap_or_else(|error| panic!("{error}"))
}

fn error_line(text: &str, format: Format) -> Option<usize> {
    match parse_history(text, format) {
        Ok(history) => panic!("expected an error, got {history:?}"),
        Err(ImportError { line, .. }) => line,
    }
}

#[test]
fn jepsen_edn_lines_become_operations_in_invocation_order() {
    let text = r#"
{:type :invoke, :f :write, :value 3, :process 0, :time 1000}
{:type :invoke, :f :read, :value nil, :process 1, :time 2000}
{:type :info, :f :start, :value nil, :process :nemesis, :time 2500}
{:type :ok, :f :write, :value 3, :process 0, :time 3000}
{:type :ok, :f :read, :value 3, :process 1, :time 3000}
{:type :invoke, :f :cas, :value [3 4], :process 0, :time 5000}
{:type :fail, :f :cas, :value [3 4], :process 0, :time 6000}
{:type :invoke, :f :write, :value 9, :process 2, :time 7000}
{:type :info, :f :write, :value 9, :process 2, :time 8000}
{:type :invoke, :f :read, :process 3, :time 9000}
"#;
    let history = parse(text, Format::JepsenEdn);
    let ops = &history.operations;
    assert_eq!(ops.len(), 5);
    assert_eq!(
        ops[0],
        Operation::new(0, 0, Input::write(3), 1).ok(Output::None, 3)
    );
    // Two events in the same microsecond keep their file order.
    assert_eq!(
        ops[1],
        Operation::new(1, 1, Input::read(), 2).ok(Output::value(3), 4)
    );
    assert_eq!(ops[2], Operation::new(2, 0, Input::cas(3, 4), 5).fail(6));
    assert_eq!((ops[3].status, ops[3].return_us), (Status::Unknown, None));
    assert_eq!((ops[4].status, ops[4].call_us), (Status::Unknown, 9));
    assert_eq!(
        check(&history, &Model::cas_register()).unwrap().verdict,
        Verdict::Linearizable
    );
}

#[test]
fn jepsen_edn_also_reads_one_vector_of_maps_and_key_value_operations() {
    let text = r#"[{:process 0 :type :invoke :f :put :key "x" :value "a"}
 {:process 0 :type :ok :f :put :key "x" :value "a"}
 #jepsen.history.Op{:process 1, :type :invoke, :f :get, :key "x", :value nil}
 {:process 1 :type :ok :f :get :key "x" :value "a"}]"#;
    let history = parse(text, Format::JepsenEdn);
    assert_eq!(history.operations[0].input, Input::put("x", "a"));
    assert_eq!(history.operations[1].output, Output::value("a"));
    // Without times, events are one microsecond apart in file order.
    assert_eq!(
        (
            history.operations[1].call_us,
            history.operations[1].return_us
        ),
        (2, Some(3))
    );
    assert_eq!(
        check(&history, &Model::kv()).unwrap().verdict,
        Verdict::Linearizable
    );
}

#[test]
fn porcupine_etcd_logs_follow_porcupines_parser() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:invoke\t:cas\t[1 4]
INFO  jepsen.util - 2\t:invoke\t:write\t7
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.core - some other log line
INFO  jepsen.util - 0\t:ok\t:read\tnil
INFO  jepsen.util - 1\t:fail\t:cas\t[1 4]
INFO  jepsen.util - 2\t:info\t:write\t:timed-out
INFO  jepsen.util - 3     :invoke :read   nil
INFO  jepsen.util - 3     :fail   :read   :timed-out
INFO  jepsen.util - 4\t:invoke\t:cas\t[7 8]
";
    let history = parse(text, Format::PorcupineEtcd);
    let ops = &history.operations;
    assert_eq!(ops.len(), 5);
    assert_eq!(
        ops[0],
        Operation::new(0, 0, Input::read(), 0).ok(Output::nil(), 3)
    );
    // A failed compare-and-set completed: it saw a value other than 1.
    assert_eq!(
        ops[1],
        Operation::new(1, 1, Input::cas(1, 4), 1).ok(Output::Cas(false), 4)
    );
    // :info leaves the write pending to the end, as does an invocation never answered.
    assert_eq!((ops[2].status, ops[2].return_us), (Status::Unknown, None));
    assert_eq!(ops[3].status, Status::Fail);
    assert_eq!(ops[4].status, Status::Unknown);
    assert_eq!(
        check(&history, &Model::cas_register()).unwrap().verdict,
        Verdict::Linearizable
    );
}

#[test]
fn porcupine_kv_logs_leave_failed_and_unknown_operations_pending() {
    let text = r#"{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :put, :key "1", :value "z"}
{:process 1, :type :fail, :f :put, :key "1", :value "z"}
{:process 0, :type :invoke, :f :get, :key "0", :value nil}
{:process 0, :type :ok, :f :get, :key "0", :value "x 0 0 y"}
{:process 2, :type :invoke, :f :get, :key "1", :value nil}
{:process 2, :type :ok, :f :get, :key "1", :value "z"}
"#;
    let history = parse(text, Format::PorcupineKv);
    assert_eq!(history.operations[0].input, Input::append("0", "x 0 0 y"));
    assert_eq!(history.operations[1].status, Status::Unknown);
    // The "failed" put may still have happened, so reading its value is allowed.
    assert_eq!(
        check(&history, &Model::kv()).unwrap().verdict,
        Verdict::Linearizable
    );
    // Under Jepsen's own semantics a :fail did not happen, so the same read is impossible.
    let jepsen = parse(text, Format::JepsenEdn);
    assert_eq!(jepsen.operations[1].status, Status::Fail);
    assert_eq!(
        check(&jepsen, &Model::kv()).unwrap().verdict,
        Verdict::NotLinearizable
    );
}

#[test]
fn our_json_round_trips_and_accepts_a_bare_array_and_integer_values() {
    let mut history = History::new();
    let write = history.invoke(0, Input::write(3), 10);
    history.complete(write, Output::None, 20).unwrap();
    let read = history.invoke(1, Input::get("k"), 15);
    history.fail(read, 25).unwrap();
    history.invoke(2, Input::cas(1, 2), 30);
    let json = serde_json::to_string_pretty(&history).unwrap();
    assert_eq!(parse(&json, Format::Json), history);
    let bare = r#"[{"id": 0, "client": 4, "input": {"write": {"value": 5}}, "call_us": 1,
                    "return_us": 2, "status": "ok"},
                   {"id": 1, "client": 4, "input": "read", "output": {"read": 5}, "call_us": 3,
                    "return_us": 4, "status": "ok"}]"#;
    let parsed = parse(bare, Format::Json);
    assert_eq!(parsed.operations[0].input, Input::write(5));
    assert_eq!(parsed.operations[1].output, Output::value(5));
}

#[test]
fn malformed_edn_names_the_line() {
    let good = "{:process 0, :type :invoke, :f :read, :value nil}\n";
    let cases: Vec<(String, usize)> = vec![
        (
            format!("{good}{{:process 0, :type :ok, :f :read, :value nil"),
            2,
        ),
        (
            format!("{good}{{:process 0, :type :ok, :f :write, :value 1}}"),
            2,
        ),
        (format!("{good}{good}"), 2),
        ("{:process 0, :type :ok, :f :read, :value 1}".to_owned(), 1),
        ("{:process 0, :type :invoke, :f :frobnicate}".to_owned(), 1),
        ("{:process 0, :type :start, :f :read}".to_owned(), 1),
        ("{:process -1, :type :invoke, :f :read}".to_owned(), 1),
        ("{:process 0, :f :read}".to_owned(), 1),
        ("{:type :invoke, :f :read}".to_owned(), 1),
        ("{:process 0, :type :invoke, :f :write}".to_owned(), 1),
        (
            "{:process 0, :type :invoke, :f :write, :value [1]}".to_owned(),
            1,
        ),
        (
            "{:process 0, :type :invoke, :f :cas, :value [1 2 3]}".to_owned(),
            1,
        ),
        (
            "{:process 0, :type :invoke, :f :append, :value \"a\"}".to_owned(),
            1,
        ),
        (
            "{:process 0, :type :invoke, :f :read, :time -5}".to_owned(),
            1,
        ),
        ("\n\n[1 2]".to_owned(), 3),
        ("\n:just-a-keyword".to_owned(), 2),
        (format!("{good}{good}\n  }}"), 2),
    ];
    for (text, line) in cases {
        assert_eq!(error_line(&text, Format::JepsenEdn), Some(line), "{text:?}");
    }
}

#[test]
fn malformed_porcupine_logs_name_the_line() {
    let etcd_cases = [
        (
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - x\t:ok\t:read\tnil",
            2,
        ),
        ("INFO  jepsen.util - 0\t:ok\t:read\tnil", 1),
        ("INFO  jepsen.util - 0\t:invoke\t:write\t[1", 1),
        ("INFO  jepsen.util - 0\t:invoke\t:write\tnil", 1),
        ("INFO  jepsen.util - 0\t:invoke", 1),
        ("INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2] extra", 1),
        ("\n\nINFO  jepsen.util - 0\t:weird\t:read\tnil", 3),
    ];
    for (text, line) in etcd_cases {
        assert_eq!(
            error_line(text, Format::PorcupineEtcd),
            Some(line),
            "{text:?}"
        );
    }
    let kv = "{:process 0, :type :invoke, :f :get, :value nil}";
    assert_eq!(error_line(kv, Format::PorcupineKv), Some(1));
    let register_op = "{:process 0, :type :invoke, :f :cas, :value [1 2]}";
    assert_eq!(error_line(register_op, Format::PorcupineKv), Some(1));
}

#[test]
fn malformed_json_names_the_line_or_the_operation() {
    let broken = "{\"operations\": [\n  {\"id\": 0,\n   \"client\": \"zero\"}]}";
    let error = parse_history(broken, Format::Json).unwrap_err();
    assert_eq!(error.line, Some(3), "{error}");
    let backwards = r#"[{"id": 0, "client": 0, "input": "read", "output": {"read": null},
                        "call_us": 9, "return_us": 3, "status": "ok"}]"#;
    let error = parse_history(backwards, Format::Json).unwrap_err();
    assert!(error.to_string().contains("operation 0"), "{error}");
}

#[test]
fn overlong_lines_are_refused() {
    let long = format!(
        "INFO  jepsen.util - 0\t:invoke\t:write\t{}",
        "1".repeat(MAX_LINE_BYTES)
    );
    let text = format!("INFO  jepsen.util - 1\t:invoke\t:read\tnil\n{long}");
    let error = parse_history(&text, Format::PorcupineEtcd).unwrap_err();
    assert_eq!(error.line, Some(2));
    assert!(error.to_string().contains("longer than"));
    // A Jepsen vector on one long line is normal and accepted.
    let pairs: String = (0..1000)
        .map(|p| format!("{{:process {p}, :type :invoke, :f :read}} {{:process {p}, :type :ok, :f :read, :value nil}} "))
        .collect();
    let vector = format!("[{pairs}]");
    assert!(vector.len() > MAX_LINE_BYTES);
    assert_eq!(parse(&vector, Format::JepsenEdn).len(), 1000);
}

#[test]
fn format_names_parse_and_unknown_ones_are_explained() {
    for format in Format::ALL {
        assert_eq!(format.name().parse::<Format>(), Ok(format));
        assert_eq!(format.to_string(), format.name());
    }
    let error = "edn".parse::<Format>().unwrap_err();
    assert!(error.contains("jepsen-edn"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any text at all gives a history or an error, never a panic.
    #[test]
    fn importers_are_total_on_arbitrary_text(text in "(?s).{0,200}") {
        for format in Format::ALL {
            let _ = parse_history(&text, format);
        }
    }

    /// Text built from the formats' own pieces reaches deeper into the parsers.
    #[test]
    fn importers_are_total_on_near_miss_text(
        pieces in prop::collection::vec(prop_oneof![
            Just("{"), Just("}"), Just("["), Just("]"), Just(":process 0 "), Just(":type :invoke "),
            Just(":type :ok "), Just(":f :cas "), Just(":f :read "), Just(":value [1 2] "),
            Just(":value nil "), Just(":key \"k\" "), Just("\"\\u00"), Just("\n"), Just("#_"),
            Just("INFO  jepsen.util - 0\t"), Just(":invoke\t:write\t3"), Just(":ok\t:cas\t[1"),
            Just("{\"id\": 0,"), Just("\"input\": \"read\""), Just("99999999999999999999"),
        ], 0..40)
    ) {
        let text: String = pieces.concat();
        for format in Format::ALL {
            let _ = parse_history(&text, format);
        }
    }
}

// Knossos's histories are sometimes one top-level EDN list rather than a vector or lines.
#[test]
fn jepsen_edn_reads_a_top_level_list() {
    let text = "({:process 0, :type :invoke, :f :write, :value 1}\n {:process 0, :type :ok, :f :write, :value 1}\n {:process 1, :type :invoke, :f :read}\n {:process 1, :type :ok, :f :read, :value 1})";
    let history = parse(text, Format::JepsenEdn);
    assert_eq!(history.operations.len(), 2);
    assert_eq!(history.operations[1].output, Output::value(1));
    let unclosed = parse_history("({:process 0, :type :invoke, :f :read}", Format::JepsenEdn);
    let message = unclosed.unwrap_err().to_string();
    assert!(
        message.contains("top-level list is missing its closing )"),
        "{message}"
    );
}

// Knossos's register models read a nil read as matching any state; `--nil-reads literal` reads
// it as the register holding nil. A nil read after a completed write tells them apart.
#[test]
fn nil_reads_match_any_state_as_knossos_reads_them_unless_read_literally() {
    use dsplay::check::{parse_history_with, NilReads};
    let after_write = "{:process 0, :type :invoke, :f :write, :value 1, :time 1000}
{:process 0, :type :ok, :f :write, :value 1, :time 2000}
{:process 1, :type :invoke, :f :read, :time 3000}
{:process 1, :type :ok, :f :read, :value nil, :time 4000}
";
    let verdict = |text: &str, nil: NilReads| {
        let h = parse_history_with(text, Format::JepsenEdn, nil).unwrap();
        check(&h, &Model::register()).unwrap().verdict
    };
    assert_eq!(verdict(after_write, NilReads::Any), Verdict::Linearizable);
    assert_eq!(
        verdict(after_write, NilReads::Literal),
        Verdict::NotLinearizable
    );
    // Before any write both readings agree: the register starts as nil.
    let before_write = "{:process 1, :type :invoke, :f :read, :time 1000}
{:process 1, :type :ok, :f :read, :value nil, :time 2000}
{:process 0, :type :invoke, :f :write, :value 1, :time 3000}
{:process 0, :type :ok, :f :write, :value 1, :time 4000}
";
    assert_eq!(verdict(before_write, NilReads::Any), Verdict::Linearizable);
    assert_eq!(
        verdict(before_write, NilReads::Literal),
        Verdict::Linearizable
    );
    // A read of a value still counts under either reading.
    let wrong = after_write.replace(":value nil", ":value 2");
    assert_eq!(verdict(&wrong, NilReads::Any), Verdict::NotLinearizable);
    // Porcupine's key-value histories keep nil as a value (a missing key).
    assert_eq!("literal".parse::<NilReads>(), Ok(NilReads::Literal));
    assert!("maybe".parse::<NilReads>().is_err());
}

// An operation no model knows is refused with its name and the models there are.
#[test]
fn an_unknown_operation_names_itself_and_the_models() {
    let text = "{:process 0, :type :invoke, :f :dequeue-all}\n";
    let message = parse_history(text, Format::JepsenEdn)
        .unwrap_err()
        .to_string();
    assert!(message.contains(":f :dequeue-all"), "{message}");
    assert!(
        message.contains("cas-register") && message.contains("kv"),
        "{message}"
    );
}

/// Operations over every input and output the JSON format has, with odd values and keys.
fn any_operation() -> impl Strategy<Value = Operation> {
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        "(?s).{0,6}",
        Just("\u{1F600}\"\\\n".to_string()),
    ];
    let input = prop_oneof![
        Just(Input::read()),
        value.clone().prop_map(Input::write),
        (value.clone(), value.clone()).prop_map(|(a, b)| Input::cas(a, b)),
        "[a-z\u{e9}]{0,3}".prop_map(Input::get),
        ("[a-z]{0,3}", value.clone()).prop_map(|(k, v)| Input::put(k, v)),
        ("[a-z]{0,3}", value.clone()).prop_map(|(k, v)| Input::append(k, v)),
        Just(Input::Dequeue),
        value
            .clone()
            .prop_map(|v| Input::Enqueue { value: v.into() }),
    ];
    let output = prop_oneof![
        Just(Output::None),
        prop::option::of(value.clone()).prop_map(|v| Output::Read(v.map(Into::into))),
        any::<bool>().prop_map(Output::Cas),
        prop::collection::vec(value.clone(), 0..3)
            .prop_map(|v| Output::Set(v.into_iter().map(Into::into).collect())),
    ];
    let status = prop_oneof![Just(Status::Ok), Just(Status::Fail), Just(Status::Unknown)];
    (
        any::<u64>(),
        any::<u32>(),
        input,
        output,
        0..1_000u64,
        prop::option::of(0..1_000u64),
        status,
    )
        .prop_map(|(id, client, input, output, call_us, back_us, status)| {
            let mut op = Operation {
                id,
                client,
                input,
                output,
                call_us,
                return_us: back_us.map(|b| call_us + b),
                status,
            };
            // An output that does not fit its input is a failed operation's (never checked).
            if History::from(vec![op.clone()]).validate().is_err() {
                op.status = Status::Fail;
            }
            op
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// The history reader reads every history serde_json writes, compact or pretty, as it was.
    #[test]
    fn json_reader_reads_what_serde_json_writes(ops in prop::collection::vec(any_operation(), 0..6)) {
        let history = History::from(ops);
        for text in [serde_json::to_string(&history).unwrap(), serde_json::to_string_pretty(&history).unwrap()] {
            prop_assert_eq!(&parse(&text, Format::Json), &history);
        }
    }

    /// On near misses (a written history with one byte cut, doubled or swapped) our reader and
    /// serde_json's accept and refuse the same texts, and read the same history when they accept.
    #[test]
    fn json_reader_agrees_with_serde_json_on_near_misses(
        ops in prop::collection::vec(any_operation(), 1..3),
        at in any::<prop::sample::Index>(),
        edit in 0..4u8,
        byte in prop_oneof![Just(b'"'), Just(b','), Just(b':'), Just(b'}'), Just(b'-'), Just(b'0'), Just(b'n'), Just(b'.'), Just(b'e')],
    ) {
        let mut bytes = serde_json::to_string(&History::from(ops)).unwrap().into_bytes();
        let i = at.index(bytes.len());
        match edit {
            0 => { bytes.remove(i); }
            1 => { let b = bytes[i]; bytes.insert(i, b); }
            2 => bytes[i] = byte,
            _ => bytes.insert(i, byte),
        }
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
        let ours = parse_history(&text, Format::Json).ok();
        let theirs = serde_json::from_str::<History>(&text).ok().filter(|h| h.validate().is_ok());
        prop_assert_eq!(ours, theirs, "{}", text);
    }
}
