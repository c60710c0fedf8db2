//! Benchmarks of the linearizability checker on Porcupine's test data: the whole known-answer
//! suite (103 etcd register logs, one of them empty, and 6 key-value histories), the etcd logs alone, and the two
//! largest key-value histories (c50-ok, 1,712 operations; c50-bad, 2,024 operations).
//!
//! Histories are read and parsed once, outside the timed loop. The data lives in
//! `$DSPLAY_REFDATA` (default `../shared/refdata` next to the crate root); without it the
//! benchmarks are skipped with a message.

use criterion::{criterion_group, criterion_main, Criterion};
use dsplay::check::{check, parse_history, Format, History, Model, Verdict};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

/// A parsed history and the model to check it against.
struct Case {
    name: String,
    history: History,
    model: Model,
}

fn porcupine_dir() -> Option<PathBuf> {
    let root = std::env::var_os("DSPLAY_REFDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/refdata"));
    let dir = root.join("porcupine/test_data");
    if dir.is_dir() {
        return Some(dir);
    }
    println!(
        "reference data not found at {}: skipping the checker benchmarks",
        root.display()
    );
    None
}

fn load_cases(dir: &std::path::Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = ["jepsen", "kv"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).expect("data directory"))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let kv = path.parent().is_some_and(|parent| parent.ends_with("kv"));
            let (format, model) = if kv {
                (Format::PorcupineKv, Model::kv())
            } else {
                (Format::PorcupineEtcd, Model::cas_register())
            };
            let text = std::fs::read_to_string(&path).expect("history file");
            let history = parse_history(&text, format).expect("a valid history");
            Case {
                name,
                history,
                model,
            }
        })
        .collect()
}

fn check_all<'a>(cases: impl Iterator<Item = &'a Case>) -> usize {
    cases
        .map(|case| check(black_box(&case.history), &case.model).expect("checkable"))
        .filter(|result| result.verdict == Verdict::Linearizable)
        .count()
}

fn bench_checker(c: &mut Criterion) {
    let Some(dir) = porcupine_dir() else { return };
    let cases = load_cases(&dir);
    let named = |name: &str| {
        cases
            .iter()
            .find(|case| case.name == name)
            .expect("history")
    };
    let mut group = c.benchmark_group("porcupine");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("whole suite (109 histories)", |b| {
        // 23 etcd logs, 3 kv histories and the empty etcd_095 are linearizable.
        b.iter(|| assert_eq!(check_all(cases.iter()), 27))
    });
    group.bench_function("etcd logs (103)", |b| {
        b.iter(|| check_all(cases.iter().filter(|case| case.name.starts_with("etcd"))))
    });
    group.bench_function("kv c50-ok (1712 ops)", |b| {
        b.iter(|| check(black_box(&named("c50-ok").history), &Model::kv()))
    });
    group.bench_function("kv c50-bad (2024 ops)", |b| {
        b.iter(|| check(black_box(&named("c50-bad").history), &Model::kv()))
    });
    group.finish();
}

criterion_group!(benches, bench_checker);
criterion_main!(benches);
