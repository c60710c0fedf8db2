//! How queue mode looks: roles, the counters always on screen, the broker's log.

use super::protocol::Flows;
use super::queue::{tally, Broker, Consumer, Producer, QueueConfig, Role, Status};
use crate::labs::Metric;
use crate::sim::world::World;
use crate::viz::{Cell, NodeView, Panel};

pub const CLASS_PRODUCER: u8 = 3;
pub const CLASS_BROKER: u8 = 4;
pub const CLASS_CONSUMER: u8 = 5;

pub static MESSAGES: &[(&str, u8, &str)] = &[
    ("publish", 2, "a producer hands a message to the broker"),
    ("publish ack", 2, "the broker has it in its log"),
    (
        "delivery",
        0,
        "the broker delivers a message to its consumer",
    ),
    ("delivery ack", 0, "the consumer acknowledges a delivery"),
    #[cfg(not(target_arch = "wasm32"))]
    (
        "heartbeat",
        5,
        "pubsub: a consumer is alive, and commits the offsets it has reached",
    ),
    #[cfg(not(target_arch = "wasm32"))]
    (
        "assignment",
        5,
        "pubsub: the partitions the broker gives a consumer (the answer to a heartbeat)",
    ),
    #[cfg(not(target_arch = "wasm32"))]
    (
        "fetch",
        0,
        "pubsub: a consumer asks for a partition's records",
    ),
    #[cfg(not(target_arch = "wasm32"))]
    ("records", 0, "pubsub: the records from an offset on"),
];

pub fn node_view(q: &QueueConfig, w: &World<Flows>, id: u32) -> NodeView {
    let up = w.is_up(id);
    let (label, role, class, lines) = match &w.state(id).role {
        Some(Role::Producer(p)) => producer(q, id, p),
        Some(Role::Broker(b)) => broker(b),
        Some(Role::Consumer(c)) => consumer(q, id, c),
        None => (format!("S{id}"), "idle", 1, Vec::new()),
    };
    NodeView {
        id,
        label,
        role: if up { role.into() } else { "crashed".into() },
        role_class: class,
        lines,
        timer_fraction: None,
        up,
    }
}

type Look = (String, &'static str, u8, Vec<String>);

fn producer(q: &QueueConfig, id: u32, p: &Producer) -> Look {
    let committed = p.committed.iter().filter(|c| **c).count();
    let what = if q.outbox {
        "in the outbox"
    } else {
        "awaiting ack"
    };
    let lines = vec![
        format!("committed {committed} of {}", q.messages),
        format!("{} {what}", p.pending.len()),
        match p.tx {
            Some(s) => format!("transaction open for message {}", s),
            None => "no open transaction".into(),
        },
    ];
    let index = q.producer_index(id).unwrap_or(0);
    (format!("P{index}"), "producer", CLASS_PRODUCER, lines)
}

fn broker(b: &Broker) -> Look {
    let count = |f: fn(&Status) -> bool| b.log.iter().filter(|e| f(&e.status)).count();
    let lines = vec![
        format!("log of {} messages", b.log.len()),
        format!("{} waiting", count(|s| *s == Status::Ready)),
        format!(
            "{} awaiting ack",
            count(|s| matches!(s, Status::Sent { .. }))
        ),
        format!("{} acknowledged", count(|s| *s == Status::Acked)),
    ];
    ("B".into(), "broker", CLASS_BROKER, lines)
}

fn consumer(q: &QueueConfig, id: u32, c: &Consumer) -> Look {
    let applied: u32 = c.effects.iter().sum();
    let lines = vec![
        format!("processing {}", c.working.len()),
        format!("{applied} effects applied"),
    ];
    let index = q.consumer_index(id).unwrap_or(0);
    (format!("C{index}"), "consumer", CLASS_CONSUMER, lines)
}

/// The counters the page always shows, the same as `dsplay run --json` prints.
pub fn metrics(w: &World<Flows>) -> Vec<Metric> {
    let t = tally(w);
    let m = |k, l, v: u64| Metric::new(k, l, v as f64);
    vec![
        m("messages_sent", "messages sent", t.sent),
        m("messages_delivered", "messages delivered", t.delivered),
        m("messages_processed", "messages processed", t.processed),
        m("messages_lost", "messages lost", t.lost),
        m(
            "duplicate_deliveries",
            "duplicate deliveries",
            t.duplicate_deliveries,
        ),
        m(
            "duplicate_effects",
            "duplicate effects",
            t.duplicate_effects,
        ),
        m("phantom_messages", "phantom messages", t.phantom),
    ]
}

/// The broker's log, newest last (the most recent rows).
pub fn panels(q: &QueueConfig, w: &World<Flows>) -> Vec<Panel> {
    let Some(Role::Broker(b)) = &w.state(super::queue::BROKER).role else {
        return Vec::new();
    };
    let start = b.log.len().saturating_sub(12);
    let rows = (start..b.log.len())
        .map(|o| {
            let e = &b.log[o];
            let (status, style) = match e.status {
                Status::Ready => ("waiting", 0),
                Status::Sent { .. } => ("awaiting ack", 2),
                Status::Acked => ("acknowledged", 1),
                Status::GaveUp => ("given up", 5),
            };
            vec![
                Cell::plain(o.to_string()),
                Cell::plain(e.id.to_string()),
                Cell::plain(format!("C{}", o as u32 % q.consumers)),
                Cell::styled(status, style),
                Cell::plain(e.deliveries.to_string()),
            ]
        })
        .collect();
    vec![Panel {
        title: "Broker log".into(),
        columns: ["offset", "message", "consumer", "status", "deliveries"]
            .map(String::from)
            .to_vec(),
        rows,
        caption: "Exactly-once here is effectively-once: at-least-once delivery, and a consumer \
                  that records processed ids in the transaction of the effect."
            .into(),
    }]
}
