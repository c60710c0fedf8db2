//! Queue mode's own stage: producers on the left, the broker in the middle with its log drawn
//! as cells by offset (coloured by status), consumers on the right, and the messages in
//! flight between them.

use super::protocol::Flows;
use super::queue::{Role, Status, BROKER};
use crate::labs::{StageArea, StageSpec};
use crate::sim::world::World;
use crate::viz::colors::{for_role, ALERT, NEUTRAL, PALETTE};
use crate::viz::scene::{Align, Pt, Shape};
use crate::viz::Within;

pub static STAGES: &[StageSpec] = &[
    StageSpec {
        id: "queue",
        title: "Queue",
        help: "queue mode: producers, the broker's log by offset, consumers and the messages between them",
        beside: false,
    },
    #[cfg(not(target_arch = "wasm32"))]
    StageSpec {
        id: "topic",
        title: "Topic",
        help: "pubsub mode: producers, the broker's partitions as logs with each group's committed offset, consumers with the partitions they own",
        beside: false,
    },
];

pub(super) const INK: &str = "#1f2328";

/// Where the three columns and their boxes go.
pub(super) struct Layout {
    pub k: f64,
    pub top: f64,
    pub bottom: f64,
    pub col_w: f64,
    pub box_h: f64,
}

impl Layout {
    pub fn new(area: &StageArea) -> Layout {
        let k = area.style.scale;
        // Below the view picker; room for the legend's button at the bottom.
        let (top, bottom) = (44.0 * k, area.h - 36.0 * k);
        let col_w = area.w / 3.0;
        let box_h = ((bottom - top) / 4.0).within(12.0 * k, 70.0 * k);
        Layout {
            k,
            top,
            bottom,
            col_w,
            box_h,
        }
    }

    /// The centre of the `i`-th of `count` boxes in column `col`.
    pub fn slot(&self, col: u32, i: u32, count: u32) -> Pt {
        let step = (self.bottom - self.top) / count.max(1) as f64;
        Pt::new(
            self.col_w * (col as f64 + 0.5),
            self.top + step * (i as f64 + 0.5),
        )
    }

    pub fn box_w(&self, col: u32) -> f64 {
        self.col_w * if col == 1 { 0.92 } else { 0.7 }
    }
}

/// The stage's shapes.
pub fn shapes(w: &World<Flows>, area: &StageArea) -> Vec<Shape> {
    let g = Layout::new(area);
    let mut out = Vec::new();
    let Some(q) = w.proto.queue.as_deref() else {
        let at = Pt::new(area.w / 2.0, area.h / 2.0);
        let text = "This view shows queue mode (mode=queue)".to_string();
        out.push(Shape::text(at, text, INK, 14.0 * g.k, Align::Center, false));
        return out;
    };
    counters(w, &g, area, &mut out);
    for id in 0..q.nodes().min(w.n()) {
        node_box(w, &g, id, &mut out);
    }
    if let Some(Role::Broker(b)) = &w.state(BROKER).role {
        log_cells(&g, &b.log, &mut out);
    }
    flights(w, &|id| place(w, &g, id).1, g.k, &mut out);
    out
}

/// The delivery counters, always on show below the boxes (a preset's caption covers the top): what a learner compares across
/// the semantics (the same figures as the side panel's and `dsplay run --json`'s).
fn counters(w: &World<Flows>, g: &Layout, area: &StageArea, out: &mut Vec<Shape>) {
    let t = super::queue::tally(w);
    let lines = [
        format!(
            "sent {} · delivered {} · lost {}",
            t.sent, t.delivered, t.lost
        ),
        format!(
            "duplicate deliveries {} · duplicate effects {}",
            t.duplicate_deliveries, t.duplicate_effects
        ),
    ];
    let font = (area.w / 40.0).within(10.0 * g.k, 16.0 * g.k);
    let below = g.slot(1, 0, 1).y + g.box_h / 2.0 + font * 1.8;
    for (i, line) in lines.into_iter().enumerate() {
        let at = Pt::new(area.w / 2.0, below + font * 1.4 * i as f64);
        out.push(Shape::text(at, line, INK, font, Align::Center, true));
    }
}

/// The node whose box is under `p`, as the stage's item (its id).
pub fn hit(w: &World<Flows>, area: &StageArea, p: Pt) -> Option<u64> {
    let q = w.proto.queue.as_deref()?;
    let g = Layout::new(area);
    (0..q.nodes().min(w.n())).find_map(|id| {
        let (col, c) = place(w, &g, id);
        let inside = (p.x - c.x).abs() <= g.box_w(col) / 2.0 && (p.y - c.y).abs() <= g.box_h / 2.0;
        inside.then_some(id as u64)
    })
}

/// What the inspector says of a box: its node, whose actions (crash, restart) it offers.
pub fn item_view(w: &World<Flows>, item: u64) -> Option<crate::labs::ItemView> {
    let id = u32::try_from(item).ok().filter(|&id| id < w.n())?;
    if w.proto.queue.is_none() && !w.proto.is_pubsub() {
        return None;
    }
    let v = crate::labs::LabProtocol::node_view(&w.proto, w, id);
    let role = if v.up { v.role } else { "crashed".into() };
    Some(crate::labs::ItemView {
        title: format!("{} {role}", v.label),
        lines: v.lines,
        node: Some(id),
    })
}

/// Node `id`'s column, place and colour class.
fn place(w: &World<Flows>, g: &Layout, id: u32) -> (u32, Pt) {
    let q = w.proto.queue.as_deref();
    let (producers, consumers) = q.map_or((1, 1), |q| (q.producers, q.consumers));
    match (q.and_then(|q| q.producer_index(id)), id) {
        (_, BROKER) => (1, g.slot(1, 0, 1)),
        (Some(p), _) => (0, g.slot(0, p, producers)),
        (None, _) => (2, g.slot(2, id - 1 - producers, consumers)),
    }
}

fn node_box(w: &World<Flows>, g: &Layout, id: u32, out: &mut Vec<Shape>) {
    let (col, c) = place(w, g, id);
    let (bw, bh) = (g.box_w(col), g.box_h);
    let v = crate::labs::LabProtocol::node_view(&w.proto, w, id);
    let stroke = if v.up {
        for_role(v.role_class)
    } else {
        NEUTRAL
    };
    let at = Pt::new(c.x - bw / 2.0, c.y - bh / 2.0);
    out.push(Shape::rect(at, bw, bh, None, Some(stroke), 2.0 * g.k));
    let font = (bh * 0.3).within(9.0 * g.k, 15.0 * g.k);
    let title = format!("{} {}", v.label, v.role);
    let title_at = Pt::new(at.x + 4.0 * g.k, at.y + font * 0.8);
    out.push(Shape::text(title_at, title, INK, font, Align::Left, true));
    if col != 1 {
        let line = v.lines.get(col as usize / 2).cloned().unwrap_or_default();
        let line_at = Pt::new(at.x + 4.0 * g.k, at.y + bh - font * 0.8);
        out.push(Shape::text(
            line_at,
            line,
            INK,
            font * 0.85,
            Align::Left,
            false,
        ));
    }
}

/// The tail of the broker's log that fits in its box: one cell per offset.
fn log_cells(g: &Layout, log: &[super::queue::Entry], out: &mut Vec<Shape>) {
    let c = g.slot(1, 0, 1);
    let (bw, bh) = (g.box_w(1), g.box_h);
    let cell = (bh * 0.4).within(6.0 * g.k, 22.0 * g.k);
    let fits = ((bw - 8.0 * g.k) / cell).floor().max(1.0) as usize;
    let start = log.len().saturating_sub(fits);
    let y = c.y + bh / 2.0 - cell - 3.0 * g.k;
    let left = c.x - bw / 2.0 + 4.0 * g.k;
    for (i, e) in log[start..].iter().enumerate() {
        let fill = match e.status {
            Status::Ready => NEUTRAL,
            Status::Sent { .. } => PALETTE[1],
            Status::Acked => PALETTE[2],
            Status::GaveUp => ALERT,
        };
        let at = Pt::new(left + i as f64 * cell, y);
        out.push(Shape::rect(at, cell - 1.0, cell, Some(fill), None, 0.0));
        let offset = start + i;
        if offset % 5 == 0 && cell >= 12.0 * g.k {
            let label_at = Pt::new(at.x, y - cell * 0.5);
            let text = offset.to_string();
            out.push(Shape::text(
                label_at,
                text,
                INK,
                cell * 0.55,
                Align::Left,
                false,
            ));
        }
    }
}

/// Each message in flight as a dot on the way between its two boxes (`place`: a node's box).
pub(super) fn flights(w: &World<Flows>, place: &dyn Fn(u32) -> Pt, k: f64, out: &mut Vec<Shape>) {
    let now = w.now().0;
    let n = w.n();
    for f in w.flights_unordered().filter(|f| f.from < n && f.to < n) {
        let (a, b) = (place(f.from), place(f.to));
        let span = f.arrive_us.saturating_sub(f.sent_us).max(1) as f64;
        let t = (now.saturating_sub(f.sent_us) as f64 / span).within(0.0, 1.0);
        let colour = crate::labs::kind_colour(f.wire.kind());
        out.push(Shape::Circle {
            c: a.lerp(b, t),
            r: 4.0 * k,
            fill: Some(colour),
            stroke: None,
            width: 0.0,
            dash: false,
        });
    }
}
