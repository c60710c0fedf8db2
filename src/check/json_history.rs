//! Our own JSON history format, read from [`json`](super::json) values.
//!
//! The format is the one `serde_json` writes for [`History`] (`{"operations": [...]}`) or a bare
//! array of [`Operation`]s: inputs and outputs externally tagged in snake case (`"read"`,
//! `{"write": {"value": "3"}}`, `{"read": null}`), values strings or integers, unknown members
//! ignored. Errors name the line of the value at fault.

use super::history::{History, Input, Operation, Output, Status, Value};
use super::json::{Json, JsonValue};

/// A shape error: the line of the value at fault and what is wrong.
pub(crate) type ShapeError = (usize, String);

type Result<T> = std::result::Result<T, ShapeError>;

fn wrong<T>(json: &Json, expected: &str) -> Result<T> {
    Err((
        json.line,
        format!("expected {expected}, found {}", json.kind()),
    ))
}

/// The operations of a history document.
pub(crate) fn history(json: &Json) -> Result<History> {
    let list = match &json.value {
        JsonValue::Array(_) => json,
        JsonValue::Object(_) => match Fields::of(json, "a history")?.take("operations") {
            Some(list) => list,
            None => return Err((json.line, "missing field `operations`".into())),
        },
        _ => {
            return wrong(
                json,
                "an object with \"operations\" or an array of operations",
            )
        }
    };
    let JsonValue::Array(items) = &list.value else {
        return wrong(list, "an array of operations");
    };
    let operations = items.iter().map(operation).collect::<Result<Vec<_>>>()?;
    Ok(History::from(operations))
}

/// An object's members, looked up by name; a name given twice is an error.
struct Fields<'a> {
    json: &'a Json,
    members: &'a [(String, Json)],
}

impl<'a> Fields<'a> {
    fn of(json: &'a Json, what: &str) -> Result<Self> {
        let JsonValue::Object(members) = &json.value else {
            return wrong(json, what);
        };
        if let Some(dup) =
            (1..members.len()).find(|&i| members[..i].iter().any(|m| m.0 == members[i].0))
        {
            return Err((
                members[dup].1.line,
                format!("duplicate field `{}`", members[dup].0),
            ));
        }
        Ok(Fields { json, members })
    }

    fn take(&self, name: &str) -> Option<&'a Json> {
        self.members.iter().find(|m| m.0 == name).map(|m| &m.1)
    }

    fn need(&self, name: &str) -> Result<&'a Json> {
        self.take(name)
            .ok_or_else(|| (self.json.line, format!("missing field `{name}`")))
    }
}

fn integer<T: std::str::FromStr>(json: &Json, what: &str) -> Result<T> {
    match &json.value {
        JsonValue::Number(text) => text.parse().or_else(|_| wrong(json, what)),
        _ => wrong(json, what),
    }
}

fn text(json: &Json) -> Result<String> {
    match &json.value {
        JsonValue::Str(text) => Ok(text.clone()),
        _ => wrong(json, "a string"),
    }
}

/// A value: a string, or an integer kept as its decimal text.
fn value(json: &Json) -> Result<Value> {
    match &json.value {
        JsonValue::Str(text) => Ok(Value::from(text.as_str())),
        JsonValue::Number(_) => integer::<i64>(json, "a string or an integer").map(Value::from),
        _ => wrong(json, "a string or an integer"),
    }
}

fn optional_value(json: &Json) -> Result<Option<Value>> {
    match json.value {
        JsonValue::Null => Ok(None),
        _ => value(json).map(Some),
    }
}

fn operation(json: &Json) -> Result<Operation> {
    let fields = Fields::of(json, "an operation (an object)")?;
    let return_us = match fields.take("return_us") {
        Some(Json {
            value: JsonValue::Null,
            ..
        })
        | None => None,
        Some(at) => Some(integer(at, "a time in microseconds")?),
    };
    Ok(Operation {
        id: integer(fields.need("id")?, "an operation id (a whole number)")?,
        client: integer(fields.need("client")?, "a client number")?,
        input: input(fields.need("input")?)?,
        output: fields.take("output").map_or(Ok(Output::None), output)?,
        call_us: integer(fields.need("call_us")?, "a time in microseconds")?,
        return_us,
        status: status(fields.need("status")?)?,
    })
}

fn status(json: &Json) -> Result<Status> {
    match text(json)?.as_str() {
        "ok" => Ok(Status::Ok),
        "fail" => Ok(Status::Fail),
        "unknown" => Ok(Status::Unknown),
        other => Err((
            json.line,
            format!("unknown status `{other}`; expected ok, fail or unknown"),
        )),
    }
}

/// An externally tagged variant: a bare name, or an object with one member.
fn variant(json: &Json) -> Result<(String, Option<&Json>)> {
    match &json.value {
        JsonValue::Str(name) => Ok((name.clone(), None)),
        JsonValue::Object(members) if members.len() == 1 => {
            Ok((members[0].0.clone(), Some(&members[0].1)))
        }
        _ => wrong(json, "a name or an object with one member"),
    }
}

fn input(json: &Json) -> Result<Input> {
    let (name, body) = variant(json)?;
    let unit = |input: Input| match body {
        None
        | Some(Json {
            value: JsonValue::Null,
            ..
        }) => Ok(input),
        Some(body) => wrong(body, &format!("nothing after `{name}`")),
    };
    let field = |key: &str| match body {
        Some(body) => Fields::of(body, &format!("the fields of `{name}`"))?.need(key),
        None => Err((json.line, format!("`{name}` needs its fields"))),
    };
    match name.as_str() {
        "read" => unit(Input::Read),
        "write" => Ok(Input::write(value(field("value")?)?)),
        "cas" => Ok(Input::cas(
            value(field("expected")?)?,
            value(field("new")?)?,
        )),
        "get" => Ok(Input::get(text(field("key")?)?)),
        "put" => Ok(Input::put(text(field("key")?)?, value(field("value")?)?)),
        "append" => Ok(Input::append(text(field("key")?)?, value(field("value")?)?)),
        #[cfg(not(target_arch = "wasm32"))]
        _ => lists::input(&name, body, json),
        #[cfg(target_arch = "wasm32")]
        _ => Err((json.line, format!("unknown input `{name}`"))),
    }
}

fn output(json: &Json) -> Result<Output> {
    let (name, body) = variant(json)?;
    match (name.as_str(), body) {
        ("none", None) => Ok(Output::None),
        ("none", Some(body)) if body.value == JsonValue::Null => Ok(Output::None),
        ("read", Some(body)) => optional_value(body).map(Output::Read),
        (
            "cas",
            Some(Json {
                value: JsonValue::Bool(swapped),
                ..
            }),
        ) => Ok(Output::Cas(*swapped)),
        #[cfg(not(target_arch = "wasm32"))]
        (_, body) => lists::output(&name, body, json),
        #[cfg(target_arch = "wasm32")]
        _ => Err((json.line, format!("unknown output `{name}`"))),
    }
}

/// The inputs and outputs of the models the browser does not check (mutex, queue, set,
/// transactions).
#[cfg(not(target_arch = "wasm32"))]
mod lists {
    use super::*;
    use crate::check::history::TxnOp;

    pub(super) fn input(name: &str, body: Option<&Json>, json: &Json) -> Result<Input> {
        let field = |key: &str| match body {
            Some(body) => Fields::of(body, &format!("the fields of `{name}`"))?.need(key),
            None => Err((json.line, format!("`{name}` needs its fields"))),
        };
        let body = body.filter(|body| body.value != JsonValue::Null);
        match (name, body) {
            ("acquire", None) => Ok(Input::Acquire),
            ("release", None) => Ok(Input::Release),
            ("dequeue", None) => Ok(Input::Dequeue),
            ("enqueue", Some(_)) => Ok(Input::Enqueue {
                value: value(field("value")?)?,
            }),
            ("add", Some(_)) => Ok(Input::Add {
                value: value(field("value")?)?,
            }),
            ("txn", Some(_)) => txn_ops(field("ops")?).map(|ops| Input::Txn { ops }),
            _ => Err((json.line, format!("unknown input `{name}`"))),
        }
    }

    fn txn_ops(json: &Json) -> Result<Vec<TxnOp>> {
        let JsonValue::Array(items) = &json.value else {
            return wrong(json, "an array of transaction steps");
        };
        let step = |item: &Json| {
            let fields = Fields::of(item, "a transaction step (an object)")?;
            let write = match fields.need("write")? {
                Json {
                    value: JsonValue::Bool(write),
                    ..
                } => *write,
                other => return wrong(other, "true or false"),
            };
            let value = fields.take("value").map_or(Ok(None), optional_value)?;
            let key = text(fields.need("key")?)?;
            Ok(TxnOp { write, key, value })
        };
        items.iter().map(step).collect()
    }

    pub(super) fn output(name: &str, body: Option<&Json>, json: &Json) -> Result<Output> {
        let Some(Json {
            value: JsonValue::Array(items),
            ..
        }) = body
        else {
            return Err((json.line, format!("unknown output `{name}`")));
        };
        match name {
            "set" => items
                .iter()
                .map(value)
                .collect::<Result<_>>()
                .map(Output::Set),
            "txn" => items
                .iter()
                .map(optional_value)
                .collect::<Result<_>>()
                .map(Output::Txn),
            _ => Err((json.line, format!("unknown output `{name}`"))),
        }
    }
}
