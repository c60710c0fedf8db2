//! How pub/sub mode looks: roles, figures, the topic table and the stage (producers, the
//! broker's partitions drawn as logs with each group's committed offset, consumers with the
//! partitions they own, and the messages between them).

use super::protocol::Flows;
use super::pubsub::{self, PsBroker, PsConsumer, PsProducer, PsRole, PubSubConfig, BROKER};
use super::queue_stage::{flights, Layout, INK};
use super::queue_view::{CLASS_BROKER, CLASS_CONSUMER, CLASS_PRODUCER};
use crate::labs::{Metric, StageArea};
use crate::sim::world::World;
use crate::viz::colors::{for_role, NEUTRAL, PALETTE};
use crate::viz::scene::{Align, Pt, Shape};
use crate::viz::{Cell, NodeView, Panel, Within};

type Look = (String, &'static str, u8, Vec<String>);

fn consumer_label(q: &PubSubConfig, id: u32) -> String {
    q.label(id)
}

pub fn node_view(q: &PubSubConfig, w: &World<Flows>, id: u32) -> NodeView {
    let up = w.is_up(id);
    let (label, role, class, lines) = match &w.state(id).pubsub {
        Some(PsRole::Producer(p)) => producer(q, id, p),
        Some(PsRole::Broker(b)) => broker(b),
        Some(PsRole::Consumer(c)) => consumer(q, w, id, c),
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

fn producer(q: &PubSubConfig, id: u32, p: &PsProducer) -> Look {
    let lines = vec![
        format!("published {} of {}", p.next_seq, q.messages),
        format!("{} awaiting ack", p.pending.len()),
    ];
    let index = q.producer_index(id).unwrap_or(0);
    (format!("P{index}"), "producer", CLASS_PRODUCER, lines)
}

fn broker(b: &PsBroker) -> Look {
    let records: usize = b.logs.iter().map(Vec::len).sum();
    let mut lines = vec![format!("{} partitions, {records} records", b.logs.len())];
    for (g, group) in b.groups.iter().enumerate() {
        lines.push(format!(
            "group {}: {} members, assignment {}",
            pubsub::group_letter(g as u32),
            group.members.len(),
            group.version
        ));
    }
    ("B".into(), "broker", CLASS_BROKER, lines)
}

fn owned_text(c: &PsConsumer) -> String {
    let parts: Vec<String> = c.held.iter().map(|h| format!("p{}", h.partition)).collect();
    match parts.is_empty() {
        true => "owns none".into(),
        false => format!("owns {}", parts.join(" ")),
    }
}

fn consumer(q: &PubSubConfig, w: &World<Flows>, id: u32, c: &PsConsumer) -> Look {
    let processed: u32 = c.times.iter().map(|t| *t as u32).sum();
    let lease = match w.now().0 < c.lease_until_us {
        true => "lease held",
        false => "no lease: paused",
    };
    let mut lines = vec![
        owned_text(c),
        format!("{processed} processed"),
        lease.to_string(),
    ];
    for h in &c.held {
        lines.push(format!(
            "p{} at offset {}, {} in hand (grant {})",
            h.partition,
            h.position,
            h.in_hand.len(),
            h.epoch
        ));
    }
    (consumer_label(q, id), "consumer", CLASS_CONSUMER, lines)
}

const GROUP_KEYS: [[&str; 3]; 3] = [
    ["group_a_consumed", "group_a_lag", "group_a_redeliveries"],
    ["group_b_consumed", "group_b_lag", "group_b_redeliveries"],
    ["group_c_consumed", "group_c_lag", "group_c_redeliveries"],
];
const GROUP_LABELS: [[&str; 3]; 3] = [
    [
        "group A: messages consumed",
        "group A: lag (records not committed)",
        "group A: redeliveries",
    ],
    [
        "group B: messages consumed",
        "group B: lag (records not committed)",
        "group B: redeliveries",
    ],
    [
        "group C: messages consumed",
        "group C: lag (records not committed)",
        "group C: redeliveries",
    ],
];

/// The counters the page always shows, the same as `dsplay run --json` prints.
pub fn metrics(w: &World<Flows>) -> Vec<Metric> {
    let (published, groups) = pubsub::tally(w);
    let redeliveries: u64 = groups.iter().map(|g| g.redeliveries).sum();
    let mut m = vec![
        Metric::new("messages_published", "messages published", published as f64),
        Metric::new(
            "redeliveries",
            "redeliveries (all groups)",
            redeliveries as f64,
        ),
    ];
    for (g, t) in groups.iter().enumerate().take(3) {
        let values = [t.consumed, t.lag, t.redeliveries];
        for k in 0..3 {
            m.push(Metric::new(
                GROUP_KEYS[g][k],
                GROUP_LABELS[g][k],
                values[k] as f64,
            ));
        }
    }
    m
}

/// The topic: per partition, its log's length and each group's owner and committed offset.
pub fn panels(q: &PubSubConfig, w: &World<Flows>) -> Vec<Panel> {
    let Some((_, b)) = pubsub::parts(w) else {
        return Vec::new();
    };
    let mut columns = vec!["partition".to_string(), "records".to_string()];
    for g in 0..q.groups {
        let letter = pubsub::group_letter(g);
        columns.push(format!("{letter} owner"));
        columns.push(format!("{letter} committed"));
    }
    let rows = (0..q.partitions as usize)
        .map(|p| {
            let mut row = vec![
                Cell::plain(format!("p{p}")),
                Cell::plain(b.logs[p].len().to_string()),
            ];
            for group in &b.groups {
                let part = &group.parts[p];
                let owner = match (part.owner, part.revoke) {
                    (Some(o), None) => Cell::plain(consumer_label(q, o)),
                    (Some(o), Some(_)) => {
                        Cell::styled(format!("{} (revoking)", consumer_label(q, o)), 2)
                    }
                    (None, _) => Cell::styled("none", 5),
                };
                row.push(owner);
                row.push(Cell::plain(part.committed.to_string()));
            }
            row
        })
        .collect();
    vec![Panel {
        title: "Topic".into(),
        columns,
        rows,
        caption: "Each group reads every partition; a partition has one owner in each group, \
                  which commits the offset it has reached with its heartbeats."
            .into(),
    }]
}

// ----- the stage -------------------------------------------------------------------------

/// Node `id`'s column and the centre of its box (the broker fills the middle column).
fn place(q: &PubSubConfig, g: &Layout, id: u32) -> (u32, Pt) {
    match (q.producer_index(id), q.consumer_of(id)) {
        (Some(p), _) => (0, g.slot(0, p, q.producers)),
        (_, Some((grp, i))) => {
            let count = q.groups * q.consumers;
            (2, g.slot(2, grp * q.consumers + i, count))
        }
        _ => (1, Pt::new(g.col_w * 1.5, (g.top + broker_bottom(g)) / 2.0)),
    }
}

fn broker_bottom(g: &Layout) -> f64 {
    g.bottom - g.box_h.min(40.0 * g.k)
}

fn box_h(q: &PubSubConfig, g: &Layout, col: u32) -> f64 {
    match col {
        1 => broker_bottom(g) - g.top,
        0 => g
            .box_h
            .min((g.bottom - g.top) / q.producers.max(1) as f64 * 0.8),
        _ => g
            .box_h
            .min((g.bottom - g.top) / (q.groups * q.consumers).max(1) as f64 * 0.85),
    }
}

/// The stage's shapes.
pub fn shapes(w: &World<Flows>, area: &StageArea) -> Vec<Shape> {
    let g = Layout::new(area);
    let mut out = Vec::new();
    let Some(q) = w.proto.pubsub.as_deref() else {
        let at = Pt::new(area.w / 2.0, area.h / 2.0);
        let text = "This view shows pubsub mode (mode=pubsub)".to_string();
        out.push(Shape::text(at, text, INK, 14.0 * g.k, Align::Center, false));
        return out;
    };
    for id in 0..q.nodes().min(w.n()) {
        node_box(q, w, &g, id, &mut out);
    }
    if let Some((_, b)) = pubsub::parts(w) {
        logs(q, &g, b, &mut out);
    }
    counters(w, &g, area, &mut out);
    flights(w, &|id| place(q, &g, id).1, g.k, &mut out);
    out
}

fn node_box(q: &PubSubConfig, w: &World<Flows>, g: &Layout, id: u32, out: &mut Vec<Shape>) {
    let (col, c) = place(q, g, id);
    let (bw, bh) = (g.box_w(col), box_h(q, g, col));
    let v = node_view(q, w, id);
    let stroke = if v.up {
        for_role(v.role_class)
    } else {
        NEUTRAL
    };
    let at = Pt::new(c.x - bw / 2.0, c.y - bh / 2.0);
    out.push(Shape::rect(at, bw, bh, None, Some(stroke), 2.0 * g.k));
    let font = (bh * 0.3).within(8.0 * g.k, 14.0 * g.k);
    let title = match col {
        1 => format!("{} {}", v.label, v.role),
        _ => format!(
            "{} {}",
            v.label,
            v.lines.first().cloned().unwrap_or_default()
        ),
    };
    let title = match v.up {
        true => title,
        false => format!("{} crashed", v.label),
    };
    let title_at = Pt::new(at.x + 4.0 * g.k, at.y + font * 0.8);
    out.push(Shape::text(title_at, title, INK, font, Align::Left, true));
}

/// Each partition a row of cells by offset (the tail that fits), each group's committed
/// offset a tick in its colour, and each group's lag on the right.
fn logs(q: &PubSubConfig, g: &Layout, b: &PsBroker, out: &mut Vec<Shape>) {
    let (_, c) = place(q, g, BROKER);
    let (bw, bh) = (g.box_w(1), box_h(q, g, 1));
    let head = (bh * 0.12).within(10.0 * g.k, 22.0 * g.k);
    let row_h = ((bh - head) / q.partitions.max(1) as f64).min(40.0 * g.k);
    let cell = (row_h * 0.6).within(3.0 * g.k, 18.0 * g.k);
    let left = c.x - bw / 2.0 + 4.0 * g.k;
    let label_w = 22.0 * g.k;
    let lag_w = 14.0 * g.k * q.groups as f64;
    let fits = ((bw - 8.0 * g.k - label_w - lag_w) / cell).floor().max(1.0) as usize;
    let font = (row_h * 0.4).within(7.0 * g.k, 13.0 * g.k);
    for (p, log) in b.logs.iter().enumerate() {
        let y = c.y - bh / 2.0 + head + row_h * p as f64 + (row_h - cell) / 2.0;
        let label_at = Pt::new(left, y + cell / 2.0);
        out.push(Shape::text(
            label_at,
            format!("p{p}"),
            INK,
            font,
            Align::Left,
            true,
        ));
        let start = log.len().saturating_sub(fits);
        let committed = |o: usize| {
            b.groups
                .iter()
                .filter(|gr| gr.parts[p].committed as usize > o)
                .count()
        };
        for o in start..log.len() {
            let fill = match committed(o) {
                0 => NEUTRAL,
                k if k == b.groups.len() => PALETTE[2],
                _ => PALETTE[1],
            };
            let at = Pt::new(left + label_w + (o - start) as f64 * cell, y);
            out.push(Shape::rect(at, cell - 1.0, cell, Some(fill), None, 0.0));
        }
        for (k, group) in b.groups.iter().enumerate() {
            let offset = group.parts[p].committed as usize;
            if offset >= start && offset <= start + fits {
                let x = left + label_w + (offset - start) as f64 * cell - 0.5;
                let (a, z) = (Pt::new(x, y - 2.0 * g.k), Pt::new(x, y + cell + 2.0 * g.k));
                out.push(Shape::line(a, z, group_colour(k), 2.0 * g.k, false));
            }
            let lag = log.len().saturating_sub(offset);
            let lag_at = Pt::new(
                left + bw - 8.0 * g.k - lag_w + 14.0 * g.k * k as f64,
                y + cell / 2.0,
            );
            out.push(Shape::text(
                lag_at,
                lag.to_string(),
                group_colour(k),
                font,
                Align::Left,
                true,
            ));
        }
    }
}

/// Group `k`'s colour (its committed-offset ticks and lag).
fn group_colour(k: usize) -> &'static str {
    [PALETTE[0], PALETTE[5], PALETTE[3]][k % 3]
}

/// The counters always on show below the broker: published, and per group consumed, lag and
/// redeliveries (the same figures as `dsplay run --json`'s).
fn counters(w: &World<Flows>, g: &Layout, area: &StageArea, out: &mut Vec<Shape>) {
    let (published, groups) = pubsub::tally(w);
    let mut line = format!("published {published}");
    for (k, t) in groups.iter().enumerate() {
        line.push_str(&format!(
            " · {}: consumed {}, lag {}, redelivered {}",
            pubsub::group_letter(k as u32),
            t.consumed,
            t.lag,
            t.redeliveries
        ));
    }
    let font = (area.w / (line.chars().count() as f64 * 0.6)).within(6.0 * g.k, 14.0 * g.k);
    let at = Pt::new(
        area.w / 2.0,
        (broker_bottom(g) + g.bottom) / 2.0 + font * 0.4,
    );
    out.push(Shape::text(at, line, INK, font, Align::Center, true));
}

/// The node whose box is under `p`, as the stage's item (its id).
pub fn hit(w: &World<Flows>, area: &StageArea, p: Pt) -> Option<u64> {
    let q = w.proto.pubsub.as_deref()?;
    let g = Layout::new(area);
    (0..q.nodes().min(w.n())).find_map(|id| {
        let (col, c) = place(q, &g, id);
        let inside =
            (p.x - c.x).abs() <= g.box_w(col) / 2.0 && (p.y - c.y).abs() <= box_h(q, &g, col) / 2.0;
        inside.then_some(id as u64)
    })
}
