//! Payments: a request that must take effect once, over a network that loses answers.
//!
//! A client asks a server to charge a payment. The server charges it when its processing is
//! done and answers; when the answer is slow or lost, the client times out and, with a retry
//! policy, sends the payment again. A server that takes every request at face value charges a
//! retried payment twice. With idempotency keys (every attempt of one payment carries the
//! same key) the server keeps a table, key → stored result: a retry whose key is in the table
//! gets the stored answer and is not charged again; one whose key is still being processed is
//! dropped, since the first attempt's answer will serve it. An entry expires a TTL after its
//! result was stored, so a retry that comes later than that is charged again: the TTL must
//! cover the clients' whole retry window. The table and the charges are kept in the server's
//! database and survive a crash; a payment being processed at the crash was never charged, so
//! its entry goes.
//!
//! The ledger counts, for every payment (by key), how often it was charged: it is what the
//! property `no_double_charge` and the figures read.

use super::protocol::{Flows, FlowsMode, Op, Reply, ServerState};
use crate::labs::{Metric, ParamKind, ParamSpec, Preset};
use crate::scenario::Scenario;
use crate::sim::chunked::Chunked;
use crate::sim::process::{ClientRequest, Ctx, Out};
use crate::sim::property::{PropKind, Property, Verdict};
use crate::sim::time::format_us;
use crate::sim::world::World;
use crate::sim::Endpoint;
use crate::viz::{Cell, Panel};

pub const IDEM: ParamSpec = ParamSpec {
    key: "idem",
    label: "Idempotency keys",
    help: "The server remembers each payment's key and answers a retry with the stored result",
    kind: ParamKind::Bool,
    default: "1",
};

pub const TTL: ParamSpec = ParamSpec {
    key: "ttl",
    label: "Key lifetime (s)",
    help: "How long the server keeps a payment's key and result after charging it",
    kind: ParamKind::Int { min: 0, max: 60 },
    default: "30",
};

/// The settings only payments use, which the page offers in that mode alone.
pub fn shown(s: &Scenario, key: &str) -> bool {
    !matches!(key, "idem" | "ttl") || s.param("mode") == Some("payment")
}

const RETRYING: &str = "#/flows?n=1&seed=4&lat=20..80ms&loss=20%&dup=0%&retry=exponential&\
                        attempts=4&proc=20..200ms&timeout=300ms&mode=payment";

pub const NO_KEYS: Preset = Preset {
    name: "Payments retried without keys",
    description: "20% of messages are lost and clients retry: without idempotency keys, a \
                  payment whose answer was lost is charged again",
    link: "#/flows?n=1&seed=4&lat=20..80ms&loss=20%&dup=0%&retry=exponential&attempts=4&\
           proc=20..200ms&timeout=300ms&mode=payment&idem=0",
};

pub const WITH_KEYS: Preset = Preset {
    name: "Payments with idempotency keys",
    description: "The same retries; the server answers each retry from its table of keys, so \
                  no payment is charged twice",
    link: RETRYING,
};

pub const SHORT_TTL: Preset = Preset {
    name: "Keys that expire too soon",
    description: "Keys live 1 s, less than the clients' retry window: a retry that comes after \
                  its key expired is charged again",
    link: "#/flows?n=1&seed=2&lat=20..80ms&loss=30%&dup=0%&retry=exponential&attempts=5&\
           backoff=500ms..5s&proc=20..200ms&timeout=1s&mode=payment&ttl=1",
};

/// A payment's key in a server's table, and what its charge answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEntry {
    pub key: u64,
    pub client: Endpoint,
    /// The stored answer; `None` while the payment is being processed.
    pub result: Option<Reply>,
    /// When the entry expires (once its result is stored).
    pub expires_us: u64,
}

/// A server's payment database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payments {
    /// The idempotency table, oldest first.
    pub table: Vec<KeyEntry>,
    /// Times each payment was charged, by key.
    pub ledger: Chunked<u8>,
    pub charges: u64,
    /// Charges of a payment already charged.
    pub charged_again: u64,
}

/// The most keys a table holds; the oldest go first.
const TABLE_MAX: usize = 1_024;

impl Payments {
    fn forget_expired(&mut self, now_us: u64) {
        self.table
            .retain(|e| e.result.is_none() || e.expires_us > now_us);
        if self.table.len() > TABLE_MAX {
            self.table.drain(..self.table.len() - TABLE_MAX);
        }
    }

    /// Charges payment `key`, counting a second charge of it.
    fn charge(&mut self, key: u64) {
        let i = key as usize;
        while self.ledger.len() <= i {
            self.ledger.push(0);
        }
        if let Some(times) = self.ledger.get_mut(i) {
            *times = times.saturating_add(1);
            if *times > 1 {
                self.charged_again += 1;
            }
        }
        self.charges += 1;
    }
}

impl Flows {
    /// A payment request arrived: answered from the table, dropped while its key is being
    /// processed, or taken on (true).
    pub(super) fn admit_payment(
        &self,
        st: &mut ServerState,
        ctx: &Ctx,
        req: &ClientRequest<Op>,
        out: &mut Out<Self>,
    ) -> bool {
        let pay = &mut st.payments;
        pay.forget_expired(ctx.now.0);
        if !self.idem {
            return true;
        }
        match pay.table.iter().find(|e| e.key == req.key) {
            Some(KeyEntry {
                result: Some(r), ..
            }) => {
                out.reply(req, r.clone());
                out.note(format!("key {}: stored result, not charged again", req.key));
                false
            }
            Some(_) => false,
            None => {
                pay.table.push(KeyEntry {
                    key: req.key,
                    client: req.client,
                    result: None,
                    expires_us: 0,
                });
                true
            }
        }
    }

    /// A payment's processing is done: it is charged, and its key stores the answer.
    pub(super) fn charge(&self, st: &mut ServerState, ctx: &Ctx, req: &ClientRequest<Op>) {
        let pay = &mut st.payments;
        pay.charge(req.key);
        let ttl_us = self.ttl_s as u64 * 1_000_000;
        if let Some(e) = pay.table.iter_mut().find(|e| e.key == req.key) {
            e.result = Some(Reply {
                value: req.op.value,
            });
            e.expires_us = ctx.now.0.saturating_add(ttl_us);
        }
    }

    /// What survives a crash: the database, without the keys of payments never charged.
    pub(super) fn recover_payments(&self, crashed: &ServerState) -> Payments {
        let mut pay = crashed.payments.clone();
        pay.table.retain(|e| e.result.is_some());
        pay
    }
}

pub fn properties() -> Vec<Property<Flows>> {
    vec![Property {
        name: "no_double_charge",
        description: "No payment is charged more than once, however often it is sent",
        kind: PropKind::Always,
        check: no_double_charge,
    }]
}

fn charged_again(w: &World<Flows>) -> u64 {
    (0..w.n()).map(|i| w.state(i).payments.charged_again).sum()
}

fn no_double_charge(w: &World<Flows>) -> Verdict {
    (charged_again(w) == 0).into()
}

pub fn metrics(w: &World<Flows>) -> Vec<Metric> {
    if w.proto.mode != FlowsMode::Payment {
        return Vec::new();
    }
    let charges: u64 = (0..w.n()).map(|i| w.state(i).payments.charges).sum();
    let keys: usize = (0..w.n()).map(|i| w.state(i).payments.table.len()).sum();
    vec![
        Metric::new("payments_charged", "charges made", charges as f64),
        Metric::new(
            "payments_charged_twice",
            "charges of a payment already charged",
            charged_again(w) as f64,
        ),
        Metric::new("idempotency_keys", "keys in the tables", keys as f64),
    ]
}

/// The most keys a panel lists (the newest).
const PANEL_KEYS: usize = 12;

/// Each server's idempotency table at the cursor: key, client, stored result, time left.
pub fn panels(w: &World<Flows>) -> Vec<Panel> {
    if w.proto.mode != FlowsMode::Payment || !w.proto.idem {
        return Vec::new();
    }
    let now = w.now().0;
    (0..w.n())
        .map(|id| {
            let table = &w.state(id).payments.table;
            let rows = table
                .iter()
                .rev()
                .take(PANEL_KEYS)
                .map(|e| key_row(w, e, now))
                .collect();
            Panel {
                title: format!("Idempotency keys at S{id}"),
                columns: ["key", "client", "result", "expires in"]
                    .map(String::from)
                    .to_vec(),
                rows,
                caption: format!("{} keys held, newest first", table.len()),
            }
        })
        .collect()
}

fn key_row(w: &World<Flows>, e: &KeyEntry, now_us: u64) -> Vec<Cell> {
    let (result, left) = match &e.result {
        None => ("processing".to_string(), String::new()),
        Some(r) if e.expires_us > now_us => (
            format!("paid {}", r.value),
            format_us(e.expires_us - now_us),
        ),
        Some(r) => (format!("paid {}", r.value), "expired".into()),
    };
    let client = format!("C{}", e.client.saturating_sub(w.n()));
    [e.key.to_string(), client, result, left]
        .map(Cell::plain)
        .to_vec()
}
