//! Client histories: what each client asked for, what it was told, and when.
//!
//! A [`History`] is a list of [`Operation`]s, one per client request. Each operation records its
//! input (read, write, compare-and-set, or a key-value get, put or append), the output the client
//! saw, the virtual times at which it was invoked and answered, and how it ended:
//!
//! - [`Status::Ok`]: it completed and took effect exactly once, between its call and its return.
//! - [`Status::Fail`]: it definitely did not take effect; the checker ignores it.
//! - [`Status::Unknown`]: the client gave up waiting (a timeout, Jepsen's `:info`). It may have
//!   taken effect at any instant after its call, even long after the client stopped waiting, or
//!   never. Its output is unknown, so the checker treats its return time as +infinity and may
//!   also leave it out.
//!
//! Simulated labs build histories with [`History::invoke`] when a client sends a request and
//! [`History::complete`], [`History::fail`] or nothing (pending) when it hears back.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value stored in a register or under a key.
///
/// Values are text: Porcupine's etcd histories use integers and nil, its key-value histories use
/// strings, and both compare only for equality, so integers are kept as their decimal text. The
/// JSON form accepts a string or an integer and writes a string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "ValueRepr", into = "String")]
pub struct Value(String);

/// The forms a value may take in JSON input.
#[derive(Deserialize)]
#[serde(untagged)]
enum ValueRepr {
    Text(String),
    Int(i64),
}

impl From<ValueRepr> for Value {
    fn from(repr: ValueRepr) -> Self {
        match repr {
            ValueRepr::Text(text) => Value(text),
            ValueRepr::Int(number) => Value(number.to_string()),
        }
    }
}

impl From<Value> for String {
    fn from(value: Value) -> Self {
        value.0
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value(text)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value(text.to_owned())
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value(number.to_string())
    }
}

impl Value {
    /// The value's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a client asked for.
///
/// `Read`, `Write` and `Cas` act on a single register; `Get`, `Put` and `Append` act on one key
/// of a key-value map, and operations on different keys are independent. `Acquire` and
/// `Release` act on a mutex, `Enqueue` and `Dequeue` on a FIFO queue, `Add` (and a `Read` that
/// returns [`Output::Set`]) on a set, and `Txn` on several registers at once.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// Read the register.
    Read,
    /// Overwrite the register.
    Write { value: Value },
    /// Set the register to `new` if it currently holds `expected`.
    Cas { expected: Value, new: Value },
    /// Read one key; a missing key reads as the empty string.
    Get { key: String },
    /// Overwrite one key.
    Put { key: String, value: Value },
    /// Append text to one key's value.
    Append { key: String, value: Value },
    /// Take the mutex; legal only while nobody holds it.
    #[cfg(not(target_arch = "wasm32"))]
    Acquire,
    /// Give the mutex back; legal only while it is held.
    #[cfg(not(target_arch = "wasm32"))]
    Release,
    /// Put a value at the back of the queue.
    #[cfg(not(target_arch = "wasm32"))]
    Enqueue { value: Value },
    /// Take the value at the front of the queue (the output says which).
    #[cfg(not(target_arch = "wasm32"))]
    Dequeue,
    /// Add an element to the set.
    #[cfg(not(target_arch = "wasm32"))]
    Add { value: Value },
    /// Read and write several registers at once, in order (Knossos's `:txn`).
    #[cfg(not(target_arch = "wasm32"))]
    Txn { ops: Vec<TxnOp> },
}

/// One step of a transaction: a read (`value` is what it expects, `None` for unknown) or a
/// write of `value` to register `key`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxnOp {
    pub write: bool,
    pub key: String,
    #[serde(default)]
    pub value: Option<Value>,
}

impl Input {
    /// A register read.
    pub fn read() -> Self {
        Input::Read
    }

    /// A register write.
    pub fn write(value: impl Into<Value>) -> Self {
        Input::Write {
            value: value.into(),
        }
    }

    /// A register compare-and-set.
    pub fn cas(expected: impl Into<Value>, new: impl Into<Value>) -> Self {
        Input::Cas {
            expected: expected.into(),
            new: new.into(),
        }
    }

    /// A key-value get.
    pub fn get(key: impl Into<String>) -> Self {
        Input::Get { key: key.into() }
    }

    /// A key-value put.
    pub fn put(key: impl Into<String>, value: impl Into<Value>) -> Self {
        Input::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    /// A key-value append.
    pub fn append(key: impl Into<String>, value: impl Into<Value>) -> Self {
        Input::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The key a key-value operation acts on; `None` for register operations.
    pub fn key(&self) -> Option<&str> {
        match self {
            Input::Get { key } | Input::Put { key, .. } | Input::Append { key, .. } => Some(key),
            _ => None,
        }
    }

    /// Whether the operation only observes state (a read, a get, a transaction of reads).
    pub fn is_read_only(&self) -> bool {
        match self {
            Input::Read | Input::Get { .. } => true,
            #[cfg(not(target_arch = "wasm32"))]
            Input::Txn { ops } => ops.iter().all(|op| !op.write),
            _ => false,
        }
    }

    /// Jepsen's name for the operation (its `:f`).
    pub fn f(&self) -> &'static str {
        match self {
            Input::Read => "read",
            Input::Write { .. } => "write",
            Input::Cas { .. } => "cas",
            Input::Get { .. } => "get",
            Input::Put { .. } => "put",
            Input::Append { .. } => "append",
            #[cfg(not(target_arch = "wasm32"))]
            Input::Acquire => "acquire",
            #[cfg(not(target_arch = "wasm32"))]
            Input::Release => "release",
            #[cfg(not(target_arch = "wasm32"))]
            Input::Enqueue { .. } => "enqueue",
            #[cfg(not(target_arch = "wasm32"))]
            Input::Dequeue => "dequeue",
            #[cfg(not(target_arch = "wasm32"))]
            Input::Add { .. } => "add",
            #[cfg(not(target_arch = "wasm32"))]
            Input::Txn { .. } => "txn",
        }
    }
}

/// What a client was told.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// Nothing worth checking: writes, puts, appends, and operations that failed or are pending.
    #[default]
    None,
    /// What a read or get returned; `None` is nil (never written, or a missing key).
    Read(Option<Value>),
    /// Whether a compare-and-set swapped (`false`: the comparison failed, nothing changed).
    Cas(bool),
    /// The whole set, as a read of a set returned it.
    #[cfg(not(target_arch = "wasm32"))]
    Set(Vec<Value>),
    /// What each step of a transaction read, in order (`None` for writes and unknown reads).
    #[cfg(not(target_arch = "wasm32"))]
    Txn(Vec<Option<Value>>),
}

impl Output {
    /// A read that saw `value`.
    pub fn value(value: impl Into<Value>) -> Self {
        Output::Read(Some(value.into()))
    }

    /// A read that saw nil.
    pub fn nil() -> Self {
        Output::Read(None)
    }
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Completed: took effect once, between call and return.
    Ok,
    /// Definitely did not take effect.
    Fail,
    /// Timed out or still in flight: may take effect at any time after the call, or never.
    Unknown,
}

/// One client request and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// The caller's identifier, reported back unchanged. Importers and [`History::invoke`]
    /// number operations 0, 1, 2, ... in invocation order.
    pub id: u64,
    /// The client (Jepsen's process) that issued it.
    pub client: u32,
    /// What was asked.
    pub input: Input,
    /// What was answered; ignored unless the status is [`Status::Ok`].
    #[serde(default)]
    pub output: Output,
    /// When the client sent the request, in virtual microseconds.
    pub call_us: u64,
    /// When the client heard back; `None` while pending. Ignored for [`Status::Unknown`].
    #[serde(default)]
    pub return_us: Option<u64>,
    /// How it ended.
    pub status: Status,
}

impl Operation {
    /// A request sent at `call_us` with no answer yet (status [`Status::Unknown`]).
    pub fn new(id: u64, client: u32, input: Input, call_us: u64) -> Self {
        Operation {
            id,
            client,
            input,
            output: Output::None,
            call_us,
            return_us: None,
            status: Status::Unknown,
        }
    }

    /// This operation, completed with `output` at `return_us`.
    pub fn ok(mut self, output: Output, return_us: u64) -> Self {
        self.output = output;
        self.return_us = Some(return_us);
        self.status = Status::Ok;
        self
    }

    /// This operation, known not to have taken effect, answered at `return_us`.
    pub fn fail(mut self, return_us: u64) -> Self {
        self.return_us = Some(return_us);
        self.status = Status::Fail;
        self
    }

    /// A short human description, e.g. `write(3)`, `read() -> nil`, `cas(1, 2) -> fail`,
    /// `get(x) -> "ab"`; unknown outcomes end in `-> ?`.
    pub fn describe(&self) -> String {
        let call = describe_input(&self.input);
        match self.status {
            Status::Fail => format!("{call} failed"),
            Status::Unknown => format!("{call} -> ?"),
            Status::Ok => match &self.output {
                Output::None => call,
                Output::Read(value) => format!("{call} -> {}", describe_read(&self.input, value)),
                Output::Cas(true) => format!("{call} -> ok"),
                Output::Cas(false) => format!("{call} -> fail"),
                #[cfg(not(target_arch = "wasm32"))]
                Output::Set(values) => format!("{call} -> #{{{}}}", join(values.iter())),
                #[cfg(not(target_arch = "wasm32"))]
                Output::Txn(read) => format!("{call} -> {}", describe_txn(&self.input, read)),
            },
        }
    }
}

fn describe_input(input: &Input) -> String {
    match input {
        Input::Read => "read()".to_owned(),
        Input::Write { value } => format!("write({value})"),
        Input::Cas { expected, new } => format!("cas({expected}, {new})"),
        Input::Get { key } => format!("get({key})"),
        Input::Put { key, value } => format!("put({key}, {value:?})", value = value.as_str()),
        Input::Append { key, value } => {
            format!("append({key}, {value:?})", value = value.as_str())
        }
        #[cfg(not(target_arch = "wasm32"))]
        Input::Enqueue { value } | Input::Add { value } => format!("{}({value})", input.f()),
        #[cfg(not(target_arch = "wasm32"))]
        Input::Txn { .. } => format!("txn{}", describe_txn(input, &[])),
        #[cfg(not(target_arch = "wasm32"))]
        _ => format!("{}()", input.f()),
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn join<T: fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A transaction as Knossos writes it, `[[:r x 1] [:w y 2]]`, with the values `read` saw.
#[cfg(not(target_arch = "wasm32"))]
fn describe_txn(input: &Input, read: &[Option<Value>]) -> String {
    let Input::Txn { ops } = input else {
        return String::new();
    };
    let step = |(index, op): (usize, &TxnOp)| {
        let value = read.get(index).cloned().flatten().or(op.value.clone());
        let value = value.map_or("nil".to_owned(), |value| value.to_string());
        format!("[:{} {} {value}]", if op.write { "w" } else { "r" }, op.key)
    };
    format!("[{}]", join(ops.iter().enumerate().map(step)))
}

fn describe_read(input: &Input, value: &Option<Value>) -> String {
    match (input, value) {
        (_, None) => "nil".to_owned(),
        // Key-value values are free text, so quote them to make empty strings and spaces visible.
        (Input::Get { .. }, Some(value)) => format!("{:?}", value.as_str()),
        (_, Some(value)) => value.to_string(),
    }
}

/// A client history: every operation, in any order (the checker orders them by time).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub operations: Vec<Operation>,
}

/// A history that cannot be checked as given. Positions are indices into
/// [`History::operations`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryError {
    /// The index names no operation.
    NoSuchOperation { index: usize },
    /// A completed operation has no return time.
    MissingReturn { index: usize },
    /// An operation returned before it was called.
    ReturnBeforeCall {
        index: usize,
        call_us: u64,
        return_us: u64,
    },
    /// A completed operation's output does not fit its input (e.g. a write that returned a value).
    OutputMismatch {
        index: usize,
        input: String,
        output: String,
    },
    /// The chosen model does not support this operation.
    UnsupportedOperation {
        index: usize,
        operation: String,
        model: &'static str,
    },
    /// The key-value model has no single starting value.
    InitialValueNotSupported { model: &'static str },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::NoSuchOperation { index } => write!(f, "there is no operation {index}"),
            HistoryError::MissingReturn { index } => {
                write!(f, "operation {index} is ok but has no return time")
            }
            HistoryError::ReturnBeforeCall {
                index,
                call_us,
                return_us,
            } => write!(
                f,
                "operation {index} returns at {return_us} us, before its call at {call_us} us"
            ),
            HistoryError::OutputMismatch {
                index,
                input,
                output,
            } => {
                write!(f, "operation {index}: a {input} cannot return {output}")
            }
            HistoryError::UnsupportedOperation {
                index,
                operation,
                model,
            } => write!(
                f,
                "operation {index} is {operation}, which the {model} model does not support"
            ),
            HistoryError::InitialValueNotSupported { model } => {
                write!(
                    f,
                    "the {model} model has no initial value (keys start empty)"
                )
            }
        }
    }
}

impl std::error::Error for HistoryError {}

impl From<Vec<Operation>> for History {
    fn from(operations: Vec<Operation>) -> Self {
        History { operations }
    }
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }

    /// The number of operations (of every status).
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Appends an operation as given and returns its index.
    pub fn push(&mut self, operation: Operation) -> usize {
        self.operations.push(operation);
        self.operations.len() - 1
    }

    /// Records that `client` sent `input` at `call_us`; the operation stays pending until
    /// [`History::complete`] or [`History::fail`]. Its id is its index, which is returned.
    pub fn invoke(&mut self, client: u32, input: Input, call_us: u64) -> usize {
        let index = self.operations.len();
        self.push(Operation::new(index as u64, client, input, call_us))
    }

    /// Records that operation `index` completed with `output` at `return_us`.
    pub fn complete(
        &mut self,
        index: usize,
        output: Output,
        return_us: u64,
    ) -> Result<(), HistoryError> {
        let operation = self.operation_mut(index)?;
        operation.output = output;
        operation.return_us = Some(return_us);
        operation.status = Status::Ok;
        Ok(())
    }

    /// Records that operation `index` definitely did not take effect (answered at `return_us`).
    pub fn fail(&mut self, index: usize, return_us: u64) -> Result<(), HistoryError> {
        let operation = self.operation_mut(index)?;
        operation.return_us = Some(return_us);
        operation.status = Status::Fail;
        Ok(())
    }

    fn operation_mut(&mut self, index: usize) -> Result<&mut Operation, HistoryError> {
        self.operations
            .get_mut(index)
            .ok_or(HistoryError::NoSuchOperation { index })
    }

    /// Checks what every model needs: ok operations have a return time not before their call,
    /// and their output fits their input.
    pub fn validate(&self) -> Result<(), HistoryError> {
        self.operations
            .iter()
            .enumerate()
            .try_for_each(|(index, op)| validate_one(index, op))
    }
}

fn validate_one(index: usize, op: &Operation) -> Result<(), HistoryError> {
    if let Some(return_us) = op.return_us {
        if return_us < op.call_us && op.status != Status::Unknown {
            return Err(HistoryError::ReturnBeforeCall {
                index,
                call_us: op.call_us,
                return_us,
            });
        }
    }
    if op.status != Status::Ok {
        return Ok(());
    }
    if op.return_us.is_none() {
        return Err(HistoryError::MissingReturn { index });
    }
    let fits = match (&op.input, &op.output) {
        (Input::Read | Input::Get { .. }, Output::Read(_)) => true,
        (Input::Cas { .. }, Output::Cas(_)) => true,
        #[cfg(not(target_arch = "wasm32"))]
        (Input::Read, Output::Set(_)) | (Input::Dequeue, Output::Read(_)) => true,
        #[cfg(not(target_arch = "wasm32"))]
        (Input::Txn { ops }, Output::Txn(read)) => read.len() == ops.len(),
        #[cfg(not(target_arch = "wasm32"))]
        (Input::Dequeue | Input::Txn { .. }, _) => false,
        (Input::Read | Input::Get { .. } | Input::Cas { .. }, _) => false,
        (_, output) => *output == Output::None,
    };
    if fits {
        return Ok(());
    }
    Err(HistoryError::OutputMismatch {
        index,
        input: describe_input(&op.input),
        output: format!("{:?}", op.output),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_accept_integers_and_strings_in_json_and_write_strings() {
        let values: Vec<Value> = serde_json::from_str(r#"[3, "x", -7]"#).unwrap();
        assert_eq!(
            values,
            vec![Value::from(3), Value::from("x"), Value::from(-7)]
        );
        assert_eq!(serde_json::to_string(&values).unwrap(), r#"["3","x","-7"]"#);
    }

    #[test]
    fn invoke_then_complete_builds_an_ok_operation() {
        let mut history = History::new();
        let write = history.invoke(2, Input::write(5), 10);
        history.complete(write, Output::None, 20).unwrap();
        let op = &history.operations[write];
        assert_eq!(
            (op.id, op.client, op.status, op.return_us),
            (0, 2, Status::Ok, Some(20))
        );
        assert_eq!(
            history.complete(9, Output::None, 1),
            Err(HistoryError::NoSuchOperation { index: 9 })
        );
    }

    #[test]
    fn validation_names_the_first_bad_operation() {
        let history = History::from(vec![
            Operation::new(0, 0, Input::write(1), 0).ok(Output::None, 5),
            Operation::new(1, 0, Input::read(), 10).ok(Output::Cas(true), 12),
        ]);
        assert!(matches!(
            history.validate(),
            Err(HistoryError::OutputMismatch { index: 1, .. })
        ));
        let backwards = History::from(vec![Operation::new(0, 0, Input::read(), 9).fail(3)]);
        assert!(matches!(
            backwards.validate(),
            Err(HistoryError::ReturnBeforeCall { index: 0, .. })
        ));
    }

    #[test]
    fn descriptions_are_short_and_show_outcomes() {
        let read = Operation::new(0, 0, Input::read(), 0).ok(Output::nil(), 1);
        assert_eq!(read.describe(), "read() -> nil");
        let cas = Operation::new(1, 0, Input::cas(1, 2), 0).ok(Output::Cas(false), 1);
        assert_eq!(cas.describe(), "cas(1, 2) -> fail");
        let get = Operation::new(2, 0, Input::get("k"), 0).ok(Output::value(""), 1);
        assert_eq!(get.describe(), "get(k) -> \"\"");
        assert_eq!(
            Operation::new(3, 0, Input::write(4), 0).describe(),
            "write(4) -> ?"
        );
    }
}
