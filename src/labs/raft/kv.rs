//! The replicated state machine: a small key-value map.
//!
//! Operations are `put k v`, `get k` and `append k v` (append concatenates text, as the
//! checker's key-value model does). Reads go through the log like writes, so every operation is
//! linearizable. The map also keeps a session table, the last operation applied per client with
//! its result (section 8 of the Raft paper, thesis section 6.3): a request the network delivered
//! twice is applied once, and a client's retry of an operation already applied (the same
//! idempotency key, a new request) is answered with the stored result, not applied again.

use crate::sim::net::Endpoint;
use crate::sim::rng::Rng;
use crate::sim::small_map::SmallMap;

/// A client operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    Put { key: String, value: String },
    Get { key: String },
    Append { key: String, value: String },
}

impl KvOp {
    /// The text form `parse` reads: `put x 1`, `get x`, `append x a`.
    pub fn text(&self) -> String {
        match self {
            KvOp::Put { key, value } => format!("put {key} {value}"),
            KvOp::Get { key } => format!("get {key}"),
            KvOp::Append { key, value } => format!("append {key} {value}"),
        }
    }

    /// A few characters for a log cell: `x=1`, `x?`, `x+=a`.
    pub fn short(&self) -> String {
        match self {
            KvOp::Put { key, value } => format!("{key}={value}"),
            KvOp::Get { key } => format!("{key}?"),
            KvOp::Append { key, value } => format!("{key}+={value}"),
        }
    }

    /// Parses `put k v`, `get k`, `append k v` (also `put k=v`). Total; errors say what is
    /// expected.
    pub fn parse(text: &str) -> Result<KvOp, String> {
        let clip: String = text.chars().take(40).collect();
        let words: Vec<&str> = text.split_whitespace().collect();
        let bad = || {
            format!("a Raft operation is 'put KEY VALUE', 'get KEY' or 'append KEY VALUE', not '{clip}'")
        };
        let word_ok = |w: &str| {
            !w.is_empty() && w.len() <= 32 && w.chars().all(|c| c.is_ascii_graphic() && c != ';')
        };
        let (verb, rest) = words.split_first().ok_or_else(bad)?;
        let (key, value) = match rest {
            [k] if k.contains('=') && *verb != "get" => k
                .split_once('=')
                .map(|(a, b)| (a, Some(b)))
                .ok_or_else(bad)?,
            [k] => (*k, None),
            [k, v] => (*k, Some(*v)),
            _ => return Err(bad()),
        };
        if !word_ok(key) || value.is_some_and(|v| !word_ok(v)) {
            return Err(bad());
        }
        let (key, value) = (key.to_string(), value.map(str::to_string));
        match (verb.to_ascii_lowercase().as_str(), value) {
            ("put", Some(value)) => Ok(KvOp::Put { key, value }),
            ("append", Some(value)) => Ok(KvOp::Append { key, value }),
            ("get", None) => Ok(KvOp::Get { key }),
            _ => Err(bad()),
        }
    }
}

/// Who asked for a command, so the leader can answer and the session table can deduplicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub client: Endpoint,
    pub request_id: u64,
    /// The idempotency key of the client's logical operation, shared by its retries.
    pub key: u64,
}

/// The trace hashes the request alone: a request is one attempt of one operation, so its id
/// settles the key, and the traces of runs recorded before keys keep their hashes.
impl std::hash::Hash for Origin {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.client.hash(h);
        self.request_id.hash(h);
    }
}

/// A client's last operation applied: its key, the request that carried it, and its result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Session {
    pub key: u64,
    pub request_id: u64,
    pub result: Option<String>,
}

/// What a log entry carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cmd {
    pub op: KvOp,
    /// `None` for entries made outside a client request (tests, the election experiment).
    pub origin: Option<Origin>,
}

impl Cmd {
    pub fn internal(op: KvOp) -> Self {
        Cmd { op, origin: None }
    }
}

/// The state machine: the map and the session table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kv {
    pub data: SmallMap<String, String>,
    /// The last operation applied per client endpoint.
    pub sessions: SmallMap<Endpoint, Session>,
}

/// The result of applying one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Took effect; a `get` returns the value (`None`: the key is missing).
    Done(Option<String>),
    /// A request already applied (a network duplicate), or an older operation: no effect, no
    /// reply.
    Duplicate,
    /// A retry of the client's last operation, already applied: no effect; answered with the
    /// stored result.
    Retried(Option<String>),
}

impl Kv {
    pub fn apply(&mut self, cmd: &Cmd) -> Applied {
        if let Some(last) = cmd
            .origin
            .and_then(|o| self.sessions.get(&o.client).map(|l| (o, l)))
        {
            let (o, last) = last;
            if o.key < last.key || o.request_id == last.request_id {
                return Applied::Duplicate;
            }
            if o.key == last.key {
                return Applied::Retried(last.result.clone());
            }
        }
        let result = match &cmd.op {
            KvOp::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                None
            }
            KvOp::Append { key, value } => {
                self.data
                    .get_or_insert_with(key.clone(), String::new)
                    .push_str(value);
                None
            }
            KvOp::Get { key } => self.data.get(key).cloned(),
        };
        if let Some(o) = cmd.origin {
            let session = Session {
                key: o.key,
                request_id: o.request_id,
                result: result.clone(),
            };
            self.sessions.insert(o.client, session);
        }
        Applied::Done(result)
    }
}

/// The workload keys.
pub const KEYS: [&str; 3] = ["x", "y", "z"];

/// The `seq`-th operation of client `client`: 40% gets, 30% puts, 30% appends over a few keys.
/// Values are unique tokens (`b7`: client 1, seventh operation) so a checker can tell every
/// write apart, even inside a concatenated append.
pub fn workload_op(client: u32, seq: u64, rng: &mut Rng) -> KvOp {
    let key = KEYS[rng.index(KEYS.len())].to_string();
    let letter = (b'a' + (client % 26) as u8) as char;
    let value = format!("{letter}{seq}");
    match rng.range_inclusive(0, 9) {
        0..=3 => KvOp::Get { key },
        4..=6 => KvOp::Put { key, value },
        _ => KvOp::Append { key, value },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_parse_and_print_back() {
        for t in ["put x 1", "get x", "append y ab"] {
            assert_eq!(KvOp::parse(t).map(|o| o.text()), Ok(t.to_string()));
        }
        assert_eq!(
            KvOp::parse("put x=3"),
            Ok(KvOp::Put {
                key: "x".into(),
                value: "3".into()
            })
        );
        for bad in [
            "",
            "put x",
            "get",
            "get x 1",
            "del x",
            "put x 1 2",
            "put x;y 1",
        ] {
            assert!(KvOp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_duplicated_request_is_applied_once() {
        let mut kv = Kv::default();
        let cmd = Cmd {
            op: KvOp::Append {
                key: "x".into(),
                value: "a".into(),
            },
            origin: Some(Origin {
                client: 5,
                request_id: 3,
                key: 7,
            }),
        };
        assert_eq!(kv.apply(&cmd), Applied::Done(None));
        assert_eq!(kv.apply(&cmd), Applied::Duplicate);
        assert_eq!(kv.data.get("x").map(String::as_str), Some("a"));
    }

    #[test]
    fn a_retried_operation_is_answered_from_the_session_and_applied_once() {
        let mut kv = Kv::default();
        let cmd = |op: &str, request_id, key| Cmd {
            op: KvOp::parse(op).unwrap(),
            origin: Some(Origin {
                client: 5,
                request_id,
                key,
            }),
        };
        assert_eq!(kv.apply(&cmd("append x a", 3, 7)), Applied::Done(None));
        // The retry of operation 7 (request 4) is not applied again.
        assert_eq!(kv.apply(&cmd("append x a", 4, 7)), Applied::Retried(None));
        assert_eq!(kv.data.get("x").map(String::as_str), Some("a"));
        assert_eq!(
            kv.apply(&cmd("get x", 5, 8)),
            Applied::Done(Some("a".into()))
        );
        // A get's retry answers what the get read, even after a later write.
        let other = Cmd {
            origin: Some(Origin {
                client: 6,
                request_id: 9,
                key: 9,
            }),
            ..cmd("put x b", 0, 0)
        };
        assert_eq!(kv.apply(&other), Applied::Done(None));
        assert_eq!(
            kv.apply(&cmd("get x", 6, 8)),
            Applied::Retried(Some("a".into()))
        );
        // An older operation arriving late is not applied.
        assert_eq!(kv.apply(&cmd("append x c", 2, 6)), Applied::Duplicate);
        assert_eq!(kv.data.get("x").map(String::as_str), Some("b"));
    }
}
