//! Reading histories written by other tools.
//!
//! | format | what it reads |
//! |---|---|
//! | `jepsen-edn` | Jepsen/Knossos operation maps, one per line or as one vector: `{:type :invoke, :f :write, :value 3, :process 0, :time 123}` |
//! | `porcupine-etcd` | the Jepsen etcd logs in Porcupine's test data: `INFO  jepsen.util - 3 :invoke :cas [1 4]` (tab separated) |
//! | `porcupine-kv` | Porcupine's key-value histories: `{:process 0, :type :ok, :f :get, :key "5", :value "x"}` |
//! | `json` | our own [`History`] as JSON (or a bare array of operations) |
//!
//! Every importer is total and bounded: malformed input gives an [`ImportError`] naming the line
//! and the problem, never a panic; at most [`MAX_OPERATIONS`] operations are read, and the
//! line-oriented formats refuse lines longer than [`MAX_LINE_BYTES`].
//!
//! Times: Jepsen logs list events in the order they happened. Events are stamped one virtual
//! microsecond apart in file order; an EDN `:time` (nanoseconds) is used instead when present,
//! converted to microseconds and nudged forward where needed so file order is kept strictly.
//!
//! Semantics follow the tools that wrote the data:
//! - `:info` (Jepsen's "outcome unknown") leaves the operation pending to the end of the history,
//!   as Porcupine's tests do and Knossos does.
//! - `jepsen-edn` treats `:fail` as "did not happen" (Knossos).
//! - `porcupine-etcd` treats `:fail :cas` as a compare-and-set whose comparison failed (a
//!   completed operation that saw a different value), `:fail :read` as a read that did not
//!   happen, and ignores other `:fail` lines as Porcupine does, leaving the operation pending.
//! - `porcupine-kv` likewise leaves `:fail` and `:info` operations pending.
//!
//! One deliberate difference from Porcupine's test harness: it completes a pending key-value
//! `get` with the output "" at the end of the history; here a pending get is simply unknown.
//! Porcupine's data has no pending gets, so verdicts agree.

use super::edn::{Edn, EdnError, Reader};
#[cfg(not(target_arch = "wasm32"))]
use super::history::TxnOp;
use super::history::{History, Input, Operation, Output, Status, Value};
use super::model::ModelKind;
use crate::sim::small_map::SmallMap;
use std::fmt;
use std::str::FromStr;

/// The most operations an importer reads.
pub const MAX_OPERATIONS: usize = 1_000_000;

/// The longest line the line-oriented formats accept, in bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    JepsenEdn,
    PorcupineEtcd,
    PorcupineKv,
    Json,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 4] = [
        Format::JepsenEdn,
        Format::PorcupineEtcd,
        Format::PorcupineKv,
        Format::Json,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::JepsenEdn => "jepsen-edn",
            Format::PorcupineEtcd => "porcupine-etcd",
            Format::PorcupineKv => "porcupine-kv",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.name() == text)
            .ok_or_else(|| {
                format!(
                    "unknown format {text:?}; expected one of jepsen-edn, porcupine-etcd, \
                 porcupine-kv, json"
                )
            })
    }
}

/// Why a history could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// The 1-based line of the problem, when it has one.
    pub line: Option<usize>,
    pub message: String,
}

impl ImportError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        ImportError {
            line: Some(line),
            message: message.into(),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<EdnError> for ImportError {
    fn from(error: EdnError) -> Self {
        ImportError::at(error.line, error.message)
    }
}

/// How a Jepsen register read that returned nil is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NilReads {
    /// As Knossos's register models read it: nil is an unknown read, which matches any state
    /// (so it constrains nothing, and the checker sets it aside).
    Any,
    /// As a value: the register held nil (it was never written).
    Literal,
}

impl std::str::FromStr for NilReads {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "any" => Ok(NilReads::Any),
            "literal" => Ok(NilReads::Literal),
            other => Err(format!(
                "'{other}' is not a reading of nil reads: any or literal"
            )),
        }
    }
}

/// Reads a history in `format`, Jepsen's nil reads as Knossos reads them ([`NilReads::Any`]).
pub fn parse_history(text: &str, format: Format) -> Result<History, ImportError> {
    parse_history_with(text, format, NilReads::Any)
}

/// Reads a history in `format`; `nil_reads` says how a `jepsen-edn` register read of nil is
/// read (the other formats read nil as a value, as the tools that write them do).
pub fn parse_history_with(
    text: &str,
    format: Format,
    nil_reads: NilReads,
) -> Result<History, ImportError> {
    match format {
        Format::JepsenEdn => {
            // A single top-level vector or list may legitimately sit on one long line.
            if !text.trim_start().starts_with(['[', '(']) {
                check_line_lengths(text)?;
            }
            let edn = EdnReading {
                fail_means: FailMeans::DidNotHappen,
                keys_required: false,
                nil_matches_any: nil_reads == NilReads::Any,
            };
            parse_edn(text, edn)
        }
        Format::PorcupineKv => {
            check_line_lengths(text)?;
            let edn = EdnReading {
                fail_means: FailMeans::Unknown,
                keys_required: true,
                nil_matches_any: false,
            };
            parse_edn(text, edn)
        }
        Format::PorcupineEtcd => {
            check_line_lengths(text)?;
            parse_etcd(text)
        }
        Format::Json => parse_json(text),
    }
}

fn check_line_lengths(text: &str) -> Result<(), ImportError> {
    match text
        .split('\n')
        .position(|line| line.len() > MAX_LINE_BYTES)
    {
        None => Ok(()),
        Some(index) => Err(ImportError::at(
            index + 1,
            format!("the line is longer than {MAX_LINE_BYTES} bytes"),
        )),
    }
}

/// What a `:fail` completion means in a format.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FailMeans {
    /// Knossos: the operation did not take effect.
    DidNotHappen,
    /// Porcupine's harness ignores the line, so the operation stays pending.
    Unknown,
}

/// Turns invocation and completion events into operations.
struct Recorder {
    history: History,
    /// Each client's open invocation: its index and its `:f`.
    open: SmallMap<u32, (usize, String)>,
    last_us: Option<u64>,
}

impl Recorder {
    fn new() -> Self {
        Recorder {
            history: History::new(),
            open: SmallMap::new(),
            last_us: None,
        }
    }

    /// The time of the next event: `time_us` if given, but always after the previous event.
    fn stamp(&mut self, time_us: Option<u64>) -> u64 {
        let next = match (self.last_us, time_us) {
            (None, time) => time.unwrap_or(0),
            (Some(last), Some(time)) => time.max(last.saturating_add(1)),
            (Some(last), None) => last.saturating_add(1),
        };
        self.last_us = Some(next);
        next
    }

    fn invoke(
        &mut self,
        line: usize,
        client: u32,
        f: &str,
        input: Input,
        call_us: u64,
    ) -> Result<(), ImportError> {
        if self.history.len() >= MAX_OPERATIONS {
            return Err(ImportError::at(
                line,
                format!("more than {MAX_OPERATIONS} operations"),
            ));
        }
        if let Some((index, _)) = self.open.get(&client) {
            let message = format!(
                "process {client} invokes again before operation {index} (its previous \
                 invocation) completed"
            );
            return Err(ImportError::at(line, message));
        }
        let index = self.history.len();
        self.history
            .push(Operation::new(index as u64, client, input, call_us));
        self.open.insert(client, (index, f.to_owned()));
        Ok(())
    }

    /// Closes `client`'s open invocation, which must have the same `:f`, and returns its index.
    fn close(&mut self, line: usize, client: u32, f: &str) -> Result<usize, ImportError> {
        let Some((index, invoked_f)) = self.open.remove(&client) else {
            let message = format!("process {client} completes :{f} with no open invocation");
            return Err(ImportError::at(line, message));
        };
        if invoked_f != f {
            let message = format!("process {client} invoked :{invoked_f} but this completes :{f}");
            return Err(ImportError::at(line, message));
        }
        Ok(index)
    }

    fn operation(&mut self, index: usize) -> &mut Operation {
        &mut self.history.operations[index]
    }

    fn complete(&mut self, index: usize, output: Output, return_us: u64) {
        let operation = self.operation(index);
        operation.output = output;
        operation.return_us = Some(return_us);
        operation.status = Status::Ok;
    }

    fn fail(&mut self, index: usize, return_us: u64) {
        let operation = self.operation(index);
        operation.return_us = Some(return_us);
        operation.status = Status::Fail;
    }

    /// Operations still open at the end stay pending ([`Status::Unknown`], no return time).
    fn finish(self) -> History {
        self.history
    }
}

/// How an EDN history's events are read.
#[derive(Clone, Copy)]
struct EdnReading {
    fail_means: FailMeans,
    keys_required: bool,
    /// A register read of nil matches any state (Knossos).
    nil_matches_any: bool,
}

fn parse_edn(text: &str, how: EdnReading) -> Result<History, ImportError> {
    let mut recorder = Recorder::new();
    let mut reader = Reader::new(text);
    while let Some(item) = reader.next_item() {
        let (line, map) = item?;
        edn_event(&mut recorder, line, &map, how)?;
    }
    Ok(recorder.finish())
}

fn edn_event(
    recorder: &mut Recorder,
    line: usize,
    map: &Edn,
    how: EdnReading,
) -> Result<(), ImportError> {
    let EdnReading {
        fail_means,
        keys_required,
        nil_matches_any,
    } = how;
    if !map.is_map() {
        let message = format!("expected an operation map, found {}", map.brief());
        return Err(ImportError::at(line, message));
    }
    let Some(client) = edn_process(line, map.get("process"))? else {
        return Ok(()); // the nemesis or another non-client process
    };
    let kind = edn_keyword(line, map, "type")?;
    let f = edn_keyword(line, map, "f")?;
    let time_us = edn_time_us(line, map.get("time"))?;
    let at_us = recorder.stamp(time_us);
    let value = map.get("value");
    match kind {
        "invoke" => {
            let input = edn_input(line, f, map.get("key"), value)?;
            if keys_required && input.key().is_none() {
                return Err(ImportError::at(line, "a key-value operation needs a :key"));
            }
            recorder.invoke(line, client, f, input, at_us)
        }
        "ok" => {
            let index = recorder.close(line, client, f)?;
            let input = &recorder.history.operations[index].input;
            let output = edn_output(line, input, value)?;
            if nil_matches_any && *input == Input::Read && output == Output::Read(None) {
                // Knossos: a read of nil matches any state. A read changes nothing, so one
                // that matches anything constrains nothing: it is set aside, as a read that
                // did not happen.
                recorder.fail(index, at_us);
            } else {
                recorder.complete(index, output, at_us);
            }
            Ok(())
        }
        "fail" => {
            let index = recorder.close(line, client, f)?;
            if fail_means == FailMeans::DidNotHappen {
                recorder.fail(index, at_us);
            }
            Ok(())
        }
        "info" => recorder.close(line, client, f).map(|_| ()),
        other => Err(ImportError::at(
            line,
            format!("unknown :type :{other}; expected :invoke, :ok, :fail or :info"),
        )),
    }
}

/// The client of an event: `None` for non-client processes such as `:nemesis`.
fn edn_process(line: usize, process: Option<&Edn>) -> Result<Option<u32>, ImportError> {
    match process {
        Some(Edn::Int(number)) => u32::try_from(*number).map(Some).map_err(|_| {
            ImportError::at(
                line,
                format!(":process {number} is not a valid client number"),
            )
        }),
        Some(Edn::Keyword(_) | Edn::Symbol(_) | Edn::Str(_)) => Ok(None),
        Some(other) => Err(ImportError::at(
            line,
            format!(":process must be a number, not {}", other.brief()),
        )),
        None => Err(ImportError::at(line, "the operation has no :process")),
    }
}

fn edn_keyword<'e>(line: usize, map: &'e Edn, name: &str) -> Result<&'e str, ImportError> {
    match map.get(name) {
        Some(Edn::Keyword(keyword)) => Ok(keyword),
        Some(other) => Err(ImportError::at(
            line,
            format!(":{name} must be a keyword, not {}", other.brief()),
        )),
        None => Err(ImportError::at(
            line,
            format!("the operation has no :{name}"),
        )),
    }
}

/// Jepsen's `:time` is in nanoseconds since the test began.
fn edn_time_us(line: usize, time: Option<&Edn>) -> Result<Option<u64>, ImportError> {
    const NANOS_PER_MICRO: u64 = 1_000;
    match time {
        None | Some(Edn::Nil) => Ok(None),
        Some(Edn::Int(nanos)) => u64::try_from(*nanos)
            .map(|nanos| Some(nanos / NANOS_PER_MICRO))
            .map_err(|_| ImportError::at(line, ":time must not be negative")),
        Some(other) => Err(ImportError::at(
            line,
            format!(
                ":time must be an integer (nanoseconds), not {}",
                other.brief()
            ),
        )),
    }
}

fn edn_input(
    line: usize,
    f: &str,
    key: Option<&Edn>,
    value: Option<&Edn>,
) -> Result<Input, ImportError> {
    let key = match key {
        None | Some(Edn::Nil) => None,
        Some(Edn::Str(key)) => Some(key.clone()),
        Some(Edn::Int(key)) => Some(key.to_string()),
        Some(other) => {
            let message = format!(":key must be a string or a number, not {}", other.brief());
            return Err(ImportError::at(line, message));
        }
    };
    match (f, key) {
        ("read" | "get", None) => Ok(Input::Read),
        ("read" | "get", Some(key)) => Ok(Input::Get { key }),
        ("write" | "put", None) => Ok(Input::Write {
            value: edn_value(line, f, value)?,
        }),
        ("write" | "put", Some(key)) => Ok(Input::Put {
            key,
            value: edn_value(line, f, value)?,
        }),
        ("append", Some(key)) => Ok(Input::Append {
            key,
            value: edn_value(line, f, value)?,
        }),
        ("append", None) => Err(ImportError::at(line, ":append needs a :key")),
        ("cas", None) => edn_cas(line, value),
        ("cas", Some(_)) => Err(ImportError::at(
            line,
            "compare-and-set on a key is not supported",
        )),
        #[cfg(not(target_arch = "wasm32"))]
        ("acquire", _) => Ok(Input::Acquire),
        #[cfg(not(target_arch = "wasm32"))]
        ("release", _) => Ok(Input::Release),
        #[cfg(not(target_arch = "wasm32"))]
        ("dequeue", _) => Ok(Input::Dequeue),
        #[cfg(not(target_arch = "wasm32"))]
        ("enqueue", _) => Ok(Input::Enqueue {
            value: edn_value(line, f, value)?,
        }),
        #[cfg(not(target_arch = "wasm32"))]
        ("add", _) => Ok(Input::Add {
            value: edn_value(line, f, value)?,
        }),
        #[cfg(not(target_arch = "wasm32"))]
        ("txn", _) => Ok(Input::Txn {
            ops: edn_txn(line, value)?,
        }),
        (other, _) => Err(ImportError::at(
            line,
            format!(
                "no model knows :f :{other}; the models are {}",
                ModelKind::list()
            ),
        )),
    }
}

/// Knossos's transaction form: `[[:r 1 nil] [:w 2 3]]` (also `:read` and `:write`).
#[cfg(not(target_arch = "wasm32"))]
fn edn_txn(line: usize, value: Option<&Edn>) -> Result<Vec<TxnOp>, ImportError> {
    let bad = |what: &str| {
        let message =
            format!(":txn needs a :value of [f key value] steps, as [[:r 1 nil] [:w 2 3]]; {what}");
        ImportError::at(line, message)
    };
    let Some(Edn::Vector(steps) | Edn::List(steps)) = value else {
        return Err(bad("this is not a vector"));
    };
    let step = |step: &Edn| {
        let (Edn::Vector(parts) | Edn::List(parts)) = step else {
            return Err(bad(&format!("a step is {}", step.brief())));
        };
        let write = match parts.first() {
            Some(Edn::Keyword(f)) if f == "r" || f == "read" => false,
            Some(Edn::Keyword(f)) if f == "w" || f == "write" => true,
            _ => return Err(bad("a step's f is not :r or :w")),
        };
        let key = match parts.get(1) {
            Some(Edn::Int(key)) => key.to_string(),
            Some(Edn::Str(key) | Edn::Keyword(key)) => key.clone(),
            _ => return Err(bad("a step's key is not a number, string or keyword")),
        };
        let value = match parts.get(2) {
            None | Some(Edn::Nil) if !write => None,
            other => Some(edn_value(line, "txn", other)?),
        };
        Ok(TxnOp { write, key, value })
    };
    steps.iter().map(step).collect()
}

fn edn_value(line: usize, f: &str, value: Option<&Edn>) -> Result<Value, ImportError> {
    match value {
        Some(Edn::Int(number)) => Ok(Value::from(*number)),
        Some(Edn::Str(text)) => Ok(Value::from(text.as_str())),
        Some(other) => Err(ImportError::at(
            line,
            format!(
                ":{f} needs a number or string :value, not {}",
                other.brief()
            ),
        )),
        None => Err(ImportError::at(line, format!(":{f} needs a :value"))),
    }
}

fn edn_cas(line: usize, value: Option<&Edn>) -> Result<Input, ImportError> {
    match value {
        Some(Edn::Vector(pair) | Edn::List(pair)) if pair.len() == 2 => Ok(Input::Cas {
            expected: edn_value(line, "cas", pair.first())?,
            new: edn_value(line, "cas", pair.get(1))?,
        }),
        _ => Err(ImportError::at(
            line,
            ":cas needs a :value of the form [expected new]",
        )),
    }
}

fn edn_output(line: usize, input: &Input, value: Option<&Edn>) -> Result<Output, ImportError> {
    match (input, value) {
        #[cfg(not(target_arch = "wasm32"))]
        (Input::Read, Some(Edn::Vector(items) | Edn::Set(items) | Edn::List(items))) => {
            let values = items.iter().map(|item| edn_value(line, "read", Some(item)));
            Ok(Output::Set(values.collect::<Result<_, _>>()?))
        }
        #[cfg(not(target_arch = "wasm32"))]
        (Input::Dequeue, _) => edn_read(line, value),
        (Input::Read | Input::Get { .. }, _) => edn_read(line, value),
        #[cfg(not(target_arch = "wasm32"))]
        (Input::Txn { ops }, _) => {
            let done = edn_txn(line, value)?;
            if done.len() != ops.len() || done.iter().zip(ops).any(|(a, b)| a.write != b.write) {
                return Err(ImportError::at(
                    line,
                    "the completed :txn has other steps than the invoked one",
                ));
            }
            let read = done.into_iter().map(|op| op.value.filter(|_| !op.write));
            Ok(Output::Txn(read.collect()))
        }
        (Input::Cas { .. }, _) => Ok(Output::Cas(true)),
        _ => Ok(Output::None),
    }
}

fn edn_read(line: usize, value: Option<&Edn>) -> Result<Output, ImportError> {
    match value {
        None | Some(Edn::Nil) => Ok(Output::Read(None)),
        Some(Edn::Int(number)) => Ok(Output::value(*number)),
        Some(Edn::Str(text)) => Ok(Output::value(text.as_str())),
        Some(other) => Err(ImportError::at(
            line,
            format!(
                "a read must return nil, a number or a string, not {}",
                other.brief()
            ),
        )),
    }
}

/// Porcupine's etcd logs: `INFO  jepsen.util - <process> <:type> <:f> <value>`, tab or space
/// separated. Other log lines (and non-client processes such as `:nemesis`) are skipped.
fn parse_etcd(text: &str) -> Result<History, ImportError> {
    let mut recorder = Recorder::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let mut words = raw.split_whitespace();
        let prefix = (words.next(), words.next(), words.next());
        if prefix != (Some("INFO"), Some("jepsen.util"), Some("-")) {
            continue;
        }
        let Some(process) = words.next() else {
            continue;
        };
        if process.starts_with(':') {
            continue;
        }
        let client: u32 = process
            .parse()
            .map_err(|_| ImportError::at(line, format!("bad process number {process:?}")))?;
        let (Some(kind), Some(f)) = (words.next(), words.next()) else {
            return Err(ImportError::at(
                line,
                "expected a :type and an :f after the process",
            ));
        };
        let value = etcd_value(line, &words.collect::<Vec<_>>().join(" "))?;
        let at_us = recorder.stamp(None);
        etcd_event(&mut recorder, line, client, kind, f, &value, at_us)?;
    }
    Ok(recorder.finish())
}

fn etcd_value(line: usize, text: &str) -> Result<Edn, ImportError> {
    Reader::read_one(text)
        .map_err(|error| ImportError::at(line, format!("{} in the value {text:?}", error.message)))
}

fn etcd_event(
    recorder: &mut Recorder,
    line: usize,
    client: u32,
    kind: &str,
    f: &str,
    value: &Edn,
    at_us: u64,
) -> Result<(), ImportError> {
    let f_name = f.strip_prefix(':').unwrap_or(f);
    match (kind, f_name) {
        (":invoke", "read" | "write" | "cas") => {
            let input = edn_input(line, f_name, None, Some(value))?;
            recorder.invoke(line, client, f_name, input, at_us)
        }
        (":ok", "read" | "write" | "cas") => {
            let index = recorder.close(line, client, f_name)?;
            let input = &recorder.history.operations[index].input;
            let output = edn_output(line, input, Some(value))?;
            recorder.complete(index, output, at_us);
            Ok(())
        }
        (":fail", "cas") => {
            let index = recorder.close(line, client, f_name)?;
            recorder.complete(index, Output::Cas(false), at_us);
            Ok(())
        }
        (":fail", "read") => {
            let index = recorder.close(line, client, f_name)?;
            recorder.fail(index, at_us);
            Ok(())
        }
        (":info" | ":fail", "read" | "write" | "cas") => {
            recorder.close(line, client, f_name).map(|_| ())
        }
        _ => Err(ImportError::at(
            line,
            format!(
                "unrecognised operation {kind} {f}; expected :invoke, :ok, :fail or :info \
                     of :read, :write or :cas"
            ),
        )),
    }
}

/// Our own JSON: a [`History`] (`{"operations": [...]}`) or a bare array of operations.
fn parse_json(text: &str) -> Result<History, ImportError> {
    let json = super::json::parse(text).map_err(|error| ImportError {
        line: Some(error.line),
        message: error.message,
    })?;
    let history = super::json_history::history(&json)
        .map_err(|(line, message)| ImportError::at(line, message))?;
    if history.len() > MAX_OPERATIONS {
        let message = format!(
            "{} operations; the limit is {MAX_OPERATIONS}",
            history.len()
        );
        return Err(ImportError {
            line: None,
            message,
        });
    }
    history.validate().map_err(|error| ImportError {
        line: None,
        message: error.to_string(),
    })?;
    Ok(history)
}
