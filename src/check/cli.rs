//! `dsplay check <history>`: read a history file, check it, and say what was found.

use super::checker::{check, CheckOptions, CheckResult, Counterexample, Verdict};
use super::guarantees::{check_guarantees, GuaranteeVerdict, Guarantees};
use super::history::{History, Value};
use super::import::{parse_history_with, Format, NilReads};
use super::model::{Model, ModelKind};
use super::session::Guarantee;
use serde_json::json;
use std::io::Read;
use std::path::Path;

/// The largest history file the CLI reads, in bytes.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// What `dsplay check` prints and what it found.
#[derive(Clone, Debug)]
pub struct CliReport {
    /// The text to print (human or JSON).
    pub text: String,
    /// The verdict, so the caller can choose an exit status.
    pub verdict: Verdict,
    pub result: CheckResult,
}

/// Checks the history in `path` and returns the text to print (without a final newline), or an
/// error message naming the bad input. `initial` sets a register's starting value (unwritten,
/// nil, without it). `json` selects machine-readable output: `linearizable` (true, false, or
/// null when the budget ran out), `operations`, `elapsed_ms`, and when not linearizable
/// `witness` (the operation that cannot be placed) and `longest_prefix` (its length).
/// `clock` reads the caller's clock in milliseconds (any origin) to report the time taken: the
/// checker itself never reads a clock, so the core stays free of wall time.
pub fn run_cli(
    path: &Path,
    format: Format,
    model: ModelKind,
    initial: Option<String>,
    json: bool,
    clock: &dyn Fn() -> f64,
) -> Result<String, String> {
    run_cli_with(path, format, model, initial, NilReads::Any, json, clock)
}

/// [`run_cli`] with Jepsen's nil reads read as `nil_reads` says (the default is
/// [`NilReads::Any`], as Knossos reads them).
pub fn run_cli_with(
    path: &Path,
    format: Format,
    model: ModelKind,
    initial: Option<String>,
    nil_reads: NilReads,
    json: bool,
    clock: &dyn Fn() -> f64,
) -> Result<String, String> {
    let options = CliOptions {
        format,
        model,
        initial,
        nil_reads,
        json,
        guarantees: false,
    };
    run_cli_options(path, &options, clock).map(|report| report.text)
}

/// Everything `dsplay check` is told besides the file.
#[derive(Clone, Debug)]
pub struct CliOptions {
    pub format: Format,
    pub model: ModelKind,
    /// A register's starting value (unwritten, nil, without it).
    pub initial: Option<String>,
    pub nil_reads: NilReads,
    pub json: bool,
    /// Also check the weaker guarantees (sequential consistency, the session guarantees).
    pub guarantees: bool,
}

/// [`run_cli`] with every option. With `guarantees`, JSON output adds `guarantees` (each of
/// `sequential`, `read_your_writes`, `monotonic_reads`, `monotonic_writes`,
/// `writes_follow_reads` true, false or null; the session guarantees only for the register
/// and key-value models) and `guarantee_witnesses` (the first operation breaking each one that
/// is false), and text output a line per guarantee.
pub fn run_cli_options(
    path: &Path,
    options: &CliOptions,
    clock: &dyn Fn() -> f64,
) -> Result<CliReport, String> {
    run_report(path, options, clock)
}

/// [`run_cli`], also returning the verdict and the full result.
pub fn run_cli_report(
    path: &Path,
    format: Format,
    model: ModelKind,
    initial: Option<String>,
    json: bool,
    clock: &dyn Fn() -> f64,
) -> Result<CliReport, String> {
    let options = CliOptions {
        format,
        model,
        initial,
        nil_reads: NilReads::Any,
        json,
        guarantees: false,
    };
    run_report(path, &options, clock)
}

fn run_report(
    path: &Path,
    options: &CliOptions,
    clock: &dyn Fn() -> f64,
) -> Result<CliReport, String> {
    let started = clock();
    let shown = path.display();
    let text = read_input(path)?;
    let history = parse_history_with(&text, options.format, options.nil_reads)
        .map_err(|error| format!("{shown}: {error}"))?;
    let model = Model::new(options.model, options.initial.clone().map(Value::from));
    let result = check(&history, &model).map_err(|error| format!("{shown}: {error}"))?;
    let guarantees = options
        .guarantees
        .then(|| {
            let linearizable = result.is_linearizable();
            check_guarantees(&history, &model, &CheckOptions::default(), linearizable)
        })
        .transpose()
        .map_err(|error| format!("{shown}: {error}"))?;
    let elapsed_ms = (clock() - started).max(0.0);
    let text = if options.json {
        let mut report = report_json(&history, &model, options.format, &result, elapsed_ms);
        if let Some(guarantees) = &guarantees {
            add_guarantees_json(&mut report, &history, guarantees);
        }
        // Serialising a `serde_json::Value` cannot fail; fall back to compact output regardless.
        serde_json::to_string_pretty(&report).unwrap_or_else(|_| report.to_string())
    } else {
        let text = render_text(&history, &model, &result, elapsed_ms);
        match &guarantees {
            Some(guarantees) => format!("{text}\n{}", guarantees_text(&history, guarantees)),
            None => text,
        }
    };
    Ok(CliReport {
        text,
        verdict: result.verdict,
        result,
    })
}

fn read_input(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let file =
        std::fs::File::open(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read {shown}: {error}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "{shown} is larger than the limit of {MAX_INPUT_BYTES} bytes"
        ));
    }
    String::from_utf8(bytes).map_err(|error| {
        let at = error.utf8_error().valid_up_to();
        format!("{shown} is not UTF-8 text (bad byte at offset {at})")
    })
}

fn report_json(
    history: &History,
    model: &Model,
    format: Format,
    result: &CheckResult,
    elapsed_ms: f64,
) -> serde_json::Value {
    // Three decimals (microseconds) are as much as a wall-clock reading means.
    let elapsed_ms = (elapsed_ms * 1e3).round() / 1e3;
    let mut report = json!({
        "linearizable": result.is_linearizable(),
        "verdict": result.verdict,
        "operations": result.operations,
        "partitions": result.partitions,
        "steps": result.steps,
        "elapsed_ms": elapsed_ms,
        "model": model.kind,
        "format": format.name(),
    });
    if let Some(counterexample) = &result.counterexample {
        report["longest_prefix"] = json!(counterexample.longest_prefix.len());
        report["state_after_prefix"] = json!(counterexample.state_after_prefix);
        report["key"] = json!(counterexample.key);
        report["witness"] = witness_json(history, counterexample.offending_op);
    }
    if let Some(stopped) = result.stopped {
        report["reason"] = json!(stopped.describe());
    }
    report
}

/// Each guarantee checked, by its JSON name, strongest first.
fn named(guarantees: &Guarantees) -> Vec<(&'static str, &'static str, &GuaranteeVerdict)> {
    let mut all = vec![(
        "sequential",
        "sequentially consistent",
        &guarantees.sequential,
    )];
    if let Some(session) = &guarantees.session {
        let each = Guarantee::ALL.iter().zip(session);
        all.extend(each.map(|(g, verdict)| (g.key(), g.name(), verdict)));
    }
    all
}

fn add_guarantees_json(report: &mut serde_json::Value, history: &History, guarantees: &Guarantees) {
    let mut kept = serde_json::Map::new();
    let mut witnesses = serde_json::Map::new();
    for (key, _, verdict) in named(guarantees) {
        kept.insert(key.to_owned(), json!(verdict.kept));
        if let Some(index) = verdict.witness {
            witnesses.insert(key.to_owned(), witness_json(history, index));
        }
    }
    report["guarantees"] = kept.into();
    report["guarantee_witnesses"] = witnesses.into();
    if let Some(stopped) = guarantees.stopped {
        report["guarantees_reason"] = json!(stopped.describe());
    }
}

fn guarantees_text(history: &History, guarantees: &Guarantees) -> String {
    let line = |(_, name, verdict): (&str, &str, &GuaranteeVerdict)| match verdict.kept {
        Some(true) => format!("{name}: yes"),
        None => format!("{name}: unknown"),
        Some(false) => {
            let witness = verdict.witness.and_then(|index| {
                let op = history.operations.get(index)?;
                Some(format!(
                    " (first broken by operation {index}: client {} {})",
                    op.client,
                    op.describe()
                ))
            });
            format!("{name}: NO{}", witness.unwrap_or_default())
        }
    };
    let lines: Vec<String> = named(guarantees).into_iter().map(line).collect();
    lines.join("\n")
}

/// The operation that cannot be placed: its fields, its index and a description.
fn witness_json(history: &History, index: usize) -> serde_json::Value {
    let Some(operation) = history.operations.get(index) else {
        return json!({ "index": index });
    };
    let mut witness = serde_json::to_value(operation).unwrap_or_else(|_| json!({}));
    witness["index"] = json!(index);
    witness["description"] = json!(operation.describe());
    witness
}

fn render_text(history: &History, model: &Model, result: &CheckResult, elapsed_ms: f64) -> String {
    let keys = match model.kind {
        ModelKind::Kv => format!(
            " on {} {}",
            result.partitions,
            plural(result.partitions as u64, "key")
        ),
        _ => String::new(),
    };
    let elapsed = format!(" in {elapsed_ms:.1} ms");
    let summary = format!(
        "{} {}{keys} checked{elapsed} ({} search {})",
        result.operations,
        plural(result.operations as u64, "operation"),
        result.steps,
        plural(result.steps, "step"),
    );
    match (result.verdict, &result.counterexample) {
        (Verdict::Linearizable, _) => format!("linearizable: {summary}"),
        (Verdict::NotLinearizable, Some(counterexample)) => {
            let explanation = explain(history, model, counterexample);
            format!("NOT linearizable: {summary}\n{explanation}")
        }
        _ => {
            let reason = result
                .stopped
                .map_or("the search stopped", |stopped| stopped.describe());
            format!("unknown: {reason} before a verdict; {summary}")
        }
    }
}

fn explain(history: &History, model: &Model, counterexample: &Counterexample) -> String {
    let prefix_len = counterexample.longest_prefix.len();
    let (object, value) = match (&counterexample.key, &counterexample.state_after_prefix) {
        (Some(key), Some(value)) => (format!("key {key:?}"), format!("holds {value:?}")),
        (Some(key), None) => (format!("key {key:?}"), "is empty".to_owned()),
        (None, Some(value)) => match model.kind {
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Mutex => ("the mutex".to_owned(), format!("is {value}")),
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Queue => ("the queue".to_owned(), format!("holds {value}")),
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::Set => ("the set".to_owned(), format!("is {value}")),
            #[cfg(not(target_arch = "wasm32"))]
            ModelKind::MultiRegister => ("the registers".to_owned(), format!("hold {value}")),
            _ => ("the register".to_owned(), format!("holds {value}")),
        },
        (None, None) => ("the register".to_owned(), "is unwritten (nil)".to_owned()),
    };
    let start = match (&model.initial, &counterexample.key) {
        (Some(initial), None) => format!(" (starting from {initial})"),
        _ => String::new(),
    };
    let mut text = format!(
        "The longest linearizable prefix{start} has {prefix_len} {}; after it {object} {value}.",
        plural(prefix_len as u64, "operation"),
    );
    let index = counterexample.offending_op;
    if let Some(op) = history.operations.get(index) {
        let returned = op.return_us.map_or("never returned".to_owned(), |us| {
            format!("returned at {us} us")
        });
        text.push_str(&format!(
            "\nOperation {index} (id {}) cannot be placed after it: client {} {}, called at {} \
             us, {returned}.",
            op.id,
            op.client,
            op.describe(),
            op.call_us,
        ));
    }
    text
}

fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        noun.to_owned()
    } else {
        format!("{noun}s")
    }
}
