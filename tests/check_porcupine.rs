//! The Porcupine known-answer suite: every history in Porcupine's test data gets the verdict
//! Porcupine's own tests expect (`porcupine/expected_results.csv`), the importers read the
//! operation counts the CSV lists, and every witness the checker gives is confirmed by replaying
//! it (`verify_order`), independently of the search.
//!
//! The data lives outside the crate: `$DSPLAY_REFDATA`, or `../shared/refdata` next to the crate
//! root. Without it the suite says so and skips rather than fails.

use dsplay::check::{
    check, parse_history, verify_order, CheckResult, Format, History, Input, Model, Status, Verdict,
};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn porcupine_dir() -> Option<PathBuf> {
    let root = std::env::var_os("DSPLAY_REFDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/refdata"));
    let dir = root.join("porcupine");
    if dir.join("expected_results.csv").is_file() {
        return Some(dir);
    }
    println!(
        "reference data not found at {}: skipping the Porcupine known-answer suite",
        root.display()
    );
    None
}

/// One row of `expected_results.csv`.
#[derive(Debug)]
struct Expected {
    file: String,
    /// `None` for the empty etcd_095 (the cluster never started).
    linearizable: Option<bool>,
    ops_invoked: usize,
    reads: usize,
    writes: usize,
    cas_or_appends: usize,
    ok_and_fail_completions: usize,
    info: usize,
    processes: usize,
    keys: Option<usize>,
}

/// The CSV quotes its verdict column (which once contains quotes), so read the file name from
/// the left and the nine counts from the right.
fn parse_expected(line: &str) -> Expected {
    let file = line.split(',').next().unwrap().to_owned();
    let linearizable = if line.contains(",\"linearizable\",") {
        Some(true)
    } else if line.contains(",\"NOT linearizable\",") {
        Some(false)
    } else {
        None
    };
    let counts: Vec<&str> = line.rsplit(',').take(9).collect();
    let count = |from_right: usize| counts[from_right].parse::<usize>().unwrap();
    Expected {
        file,
        linearizable,
        ops_invoked: count(8),
        reads: count(7),
        writes: count(6),
        cas_or_appends: count(5),
        ok_and_fail_completions: count(4) + count(3),
        info: count(2),
        processes: count(1),
        keys: counts[0].parse().ok(),
    }
}

fn format_and_model(file: &str) -> (Format, Model) {
    if file.starts_with("kv/") {
        (Format::PorcupineKv, Model::kv())
    } else {
        (Format::PorcupineEtcd, Model::cas_register())
    }
}

fn load(dir: &std::path::Path, expected: &Expected) -> History {
    let path = dir.join("test_data").join(&expected.file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (format, _) = format_and_model(&expected.file);
    parse_history(&text, format).unwrap_or_else(|e| panic!("{}: {e}", expected.file))
}

/// What the importer read, in the CSV's terms; mismatches are returned as text.
fn count_mismatches(history: &History, expected: &Expected) -> Vec<String> {
    let ops = &history.operations;
    let count = |pred: &dyn Fn(&Input) -> bool| ops.iter().filter(|op| pred(&op.input)).count();
    let status = |status: Status| ops.iter().filter(|op| op.status == status).count();
    let clients: BTreeSet<u32> = ops.iter().map(|op| op.client).collect();
    let keys: BTreeSet<&str> = ops.iter().filter_map(|op| op.input.key()).collect();
    let actual = [
        ("operations", ops.len(), expected.ops_invoked),
        (
            "reads",
            count(&|i| matches!(i, Input::Read | Input::Get { .. })),
            expected.reads,
        ),
        (
            "writes",
            count(&|i| matches!(i, Input::Write { .. } | Input::Put { .. })),
            expected.writes,
        ),
        (
            "cas/appends",
            count(&|i| matches!(i, Input::Cas { .. } | Input::Append { .. })),
            expected.cas_or_appends,
        ),
        (
            "ok+fail",
            status(Status::Ok) + status(Status::Fail),
            expected.ok_and_fail_completions,
        ),
        ("info", status(Status::Unknown), expected.info),
        ("processes", clients.len(), expected.processes),
    ];
    let mut mismatches: Vec<String> = actual
        .iter()
        .filter(|(_, got, want)| got != want)
        .map(|(what, got, want)| format!("{}: {what} {got}, expected {want}", expected.file))
        .collect();
    if let Some(want) = expected.keys.filter(|_| expected.file.starts_with("kv/")) {
        if keys.len() != want {
            mismatches.push(format!(
                "{}: keys {}, expected {want}",
                expected.file,
                keys.len()
            ));
        }
    }
    mismatches
}

/// Replays the checker's witness: a full linearization per key, or the longest prefix.
fn witness_problems(
    history: &History,
    model: &Model,
    result: &CheckResult,
    file: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    for linearization in &result.linearizations {
        if let Err(error) = verify_order(history, model, &linearization.order) {
            problems.push(format!(
                "{file}: linearization of {:?}: {error}",
                linearization.key
            ));
        }
        let placed: BTreeSet<usize> = linearization.order.iter().copied().collect();
        let key = linearization.key.as_deref();
        let missing = history.operations.iter().enumerate().find(|(index, op)| {
            op.status == Status::Ok && op.input.key() == key && !placed.contains(index)
        });
        if let Some((index, _)) = missing {
            problems.push(format!(
                "{file}: linearization leaves out completed operation {index}"
            ));
        }
    }
    if let Some(counterexample) = &result.counterexample {
        if let Err(error) = verify_order(history, model, &counterexample.longest_prefix) {
            problems.push(format!("{file}: longest prefix: {error}"));
        }
        if counterexample
            .longest_prefix
            .contains(&counterexample.offending_op)
        {
            problems.push(format!("{file}: the offending operation is in the prefix"));
        }
        let offending = &history.operations[counterexample.offending_op];
        if offending.status != Status::Ok || offending.input.key() != counterexample.key.as_deref()
        {
            problems.push(format!(
                "{file}: the offending operation is not a completed one on the key"
            ));
        }
        // At the deepest point nothing can change the state before the offending operation
        // must take effect, so placing it right after the prefix must break the replay there.
        let mut extended = counterexample.longest_prefix.clone();
        extended.push(counterexample.offending_op);
        match verify_order(history, model, &extended) {
            Err(error) if error.position == extended.len() - 1 => {}
            other => problems.push(format!(
                "{file}: prefix + offending operation gives {other:?}"
            )),
        }
    }
    problems
}

#[test]
fn porcupine_histories_get_the_verdicts_porcupine_expects() {
    let Some(dir) = porcupine_dir() else { return };
    let csv = std::fs::read_to_string(dir.join("expected_results.csv")).unwrap();
    let rows: Vec<Expected> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(parse_expected)
        .collect();
    let mut problems = Vec::new();
    let (mut linearizable, mut not_linearizable, mut empty) = (0, 0, 0);
    for expected in &rows {
        let history = load(&dir, expected);
        problems.extend(count_mismatches(&history, expected));
        let (_, model) = format_and_model(&expected.file);
        let result = check(&history, &model).unwrap_or_else(|e| panic!("{}: {e}", expected.file));
        problems.extend(witness_problems(&history, &model, &result, &expected.file));
        match expected.linearizable {
            None => {
                empty += 1;
                assert!(history.is_empty(), "{} should be empty", expected.file);
                assert_eq!(
                    result.verdict,
                    Verdict::Linearizable,
                    "an empty history is linearizable"
                );
            }
            Some(want) => {
                let got = result.is_linearizable();
                if got != Some(want) {
                    problems.push(format!(
                        "{}: verdict {got:?}, expected {want}",
                        expected.file
                    ));
                }
                if got == Some(true) {
                    linearizable += 1
                } else {
                    not_linearizable += 1
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // 23 etcd logs + 3 kv "-ok" are linearizable; 79 etcd logs + 3 kv "-bad" are not.
    assert_eq!((linearizable, not_linearizable, empty), (26, 82, 1));
}

#[test]
fn every_porcupine_data_file_is_listed_in_expected_results() {
    let Some(dir) = porcupine_dir() else { return };
    let csv = std::fs::read_to_string(dir.join("expected_results.csv")).unwrap();
    let listed: BTreeSet<String> = csv
        .lines()
        .skip(1)
        .map(|l| parse_expected(l).file)
        .collect();
    let mut on_disk = BTreeSet::new();
    for sub in ["jepsen", "kv"] {
        for entry in std::fs::read_dir(dir.join("test_data").join(sub)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            on_disk.insert(format!("{sub}/{name}"));
        }
    }
    assert_eq!(on_disk, listed);
    assert_eq!(on_disk.len(), 103 + 6);
}

#[test]
fn the_kv_bad_histories_name_a_key_and_a_read_that_cannot_be_placed() {
    let Some(dir) = porcupine_dir() else { return };
    for name in ["c01-bad", "c10-bad", "c50-bad"] {
        let text = std::fs::read_to_string(dir.join(format!("test_data/kv/{name}.txt"))).unwrap();
        let history = parse_history(&text, Format::PorcupineKv).unwrap();
        let result = check(&history, &Model::kv()).unwrap();
        let counterexample = result.counterexample.expect("a counterexample");
        assert!(counterexample.key.is_some(), "{name}");
        // Puts and appends are always legal; only a get can fail to fit.
        let offending = &history.operations[counterexample.offending_op];
        assert!(
            matches!(offending.input, Input::Get { .. }),
            "{name}: {offending:?}"
        );
    }
}
