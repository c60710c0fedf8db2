//! The replication lab's own stage, "Replicas": one row per key, one box per replica with the
//! versions it holds (outlined in the alert colour when it is behind the newest), the
//! operations coordinators are waiting on with one dot per acknowledgement or reply they need
//! (filled as they arrive), and the latest reads, a stale one flagged with the write it
//! missed. Select a key to follow it alone.

use super::consistency::{judge, Entry};
use super::protocol::{merge, stamp_text, Phase, Quorum, Reply, Versioned};
use super::view::seconds;
use crate::labs::{ItemView, StageArea, StageSpec};
use crate::sim::world::World;
use crate::viz::colors::{for_role, ALERT, NEUTRAL};
use crate::viz::scene::{Align, Pt, Selection, Shape};
use crate::viz::Within;

pub static STAGES: &[StageSpec] = &[StageSpec {
    id: "replicas",
    title: "Replicas",
    help: "each key's replicas with the versions they hold, the acknowledgements coordinators wait for, and the latest reads, stale ones flagged",
    beside: false,
}];

const INK: &str = "#1f2328";
const LABEL: &str = "#5b6472";

/// The most keys the stage shows (the rest are in the Replicas panel's table).
const STAGE_KEYS: u32 = 6;
/// The latest reads listed under the grid, one line each.
const READS_SHOWN: usize = 4;
const READ_LINE_PX: f64 = 20.0;

/// Where the rows and boxes go.
struct Grid {
    left: f64,
    top: f64,
    col_w: f64,
    row_h: f64,
    scale: f64,
    keys: Vec<u32>,
    /// Where the list of reads starts.
    reads_top: f64,
}

impl Grid {
    fn new(w: &World<Quorum>, area: &StageArea) -> Grid {
        let k = area.style.scale;
        let keys = shown_keys(w, area.selected);
        let columns = replicas_of(w, 0).len().max(1) as f64;
        // Below the view picker, in the canvas's top-left corner.
        let (left, top) = (56.0 * k, 44.0 * k);
        // The reads' lines, and room for the legend's button at the bottom.
        let reads_h = (READS_SHOWN as f64 + 1.0) * READ_LINE_PX * k + 36.0 * k;
        let col_w = ((area.w - left - 8.0 * k) / columns).within(48.0 * k, 220.0 * k);
        let rows = keys.len().max(1) as f64;
        let row_h = ((area.h - top - reads_h) / rows).within(40.0 * k, 150.0 * k);
        Grid {
            left,
            top,
            col_w,
            row_h,
            scale: k,
            reads_top: top + rows * row_h + 6.0 * k,
            keys,
        }
    }

    /// The box of the `col`-th replica in row `row`: top-left corner, width, height (the
    /// lower part of the row holds the coordinators' waits).
    fn cell(&self, row: usize, col: usize) -> (Pt, f64, f64) {
        let gap = 4.0 * self.scale;
        let x = self.left + col as f64 * self.col_w;
        let y = self.top + row as f64 * self.row_h;
        let h = (self.row_h * 0.62).within(32.0 * self.scale, 96.0 * self.scale);
        (
            Pt::new(x + gap / 2.0, y + gap / 2.0),
            self.col_w - gap,
            h - gap,
        )
    }
}

fn shown_keys(w: &World<Quorum>, selected: Selection) -> Vec<u32> {
    match selected {
        Selection::Item(k) if k < w.proto.keys as u64 => vec![k as u32],
        _ => (0..w.proto.keys.min(STAGE_KEYS)).collect(),
    }
}

/// The nodes that keep `key`: its N replicas, or every node in leader mode (by id).
fn replicas_of(w: &World<Quorum>, key: u32) -> Vec<u32> {
    match w.proto.leader_mode {
        true => (0..w.n()).collect(),
        false => w.proto.replicas(key).to_vec(),
    }
}

/// What each replica of `key` holds, and the newest versions among them.
fn holdings(w: &World<Quorum>, key: u32) -> (Vec<(u32, Vec<Versioned>)>, Vec<Versioned>) {
    let held: Vec<(u32, Vec<Versioned>)> = replicas_of(w, key)
        .into_iter()
        .map(|n| (n, w.state(n).store.get(&key).cloned().unwrap_or_default()))
        .collect();
    let mut newest = Vec::new();
    for v in held.iter().flat_map(|h| &h.1) {
        merge(w.proto.vectors, &mut newest, *v);
    }
    if let Some(l) = super::consistency::current_leader(w).filter(|_| w.proto.leader_mode) {
        newest = w.state(l).store.get(&key).cloned().unwrap_or_default();
    }
    (held, newest)
}

/// A wait a coordinator is in for `key`: who, what, how many answers it has and needs.
struct Waiting {
    node: u32,
    what: String,
    heard: usize,
    needed: usize,
}

fn waits(w: &World<Quorum>, key: u32) -> Vec<Waiting> {
    let q = &w.proto;
    let mut out = Vec::new();
    for node in (0..w.n()).filter(|&n| w.is_up(n)) {
        let st = w.state(node);
        for p in st
            .pending
            .values()
            .filter(|p| !p.done && p.req.op.key() == key)
        {
            let (word, needed) = match p.phase {
                Phase::Writing => ("acks", q.w),
                Phase::WritingBack => ("write-back acks", q.w),
                Phase::Reading => ("replies", q.r),
                Phase::ReadingContext => ("context replies", q.r),
                Phase::Forwarding => ("answer from the leader", 1),
            };
            out.push(Waiting {
                node,
                what: format!("{}: {word}", p.req.op.text()),
                heard: p.heard.len(),
                needed: needed as usize,
            });
        }
        let need = q.followers_needed();
        for wt in st.repl.waits.iter().filter(|_| need > 0) {
            let Some(e) = st.repl.log.get(wt.index as usize).filter(|e| e.key == key) else {
                continue;
            };
            let heard = st.repl.matched.iter().filter(|&&m| m > wt.index).count();
            out.push(Waiting {
                node,
                what: format!("put k{key} {}: follower acks", e.value),
                heard,
                needed: need,
            });
        }
    }
    out
}

/// The stage's shapes.
pub fn shapes(w: &World<Quorum>, area: &StageArea) -> Vec<Shape> {
    let g = Grid::new(w, area);
    let mut out = Vec::new();
    for (row, &key) in g.keys.iter().enumerate() {
        key_row(w, area, &g, (row, key), &mut out);
    }
    reads(w, &g, &mut out);
    out
}

fn key_row(
    w: &World<Quorum>,
    area: &StageArea,
    g: &Grid,
    (row, key): (usize, u32),
    out: &mut Vec<Shape>,
) {
    let k = g.scale;
    let font = (g.cell(row, 0).2 * 0.22).within(11.0 * k, 18.0 * k);
    let y = g.top + row as f64 * g.row_h;
    out.push(Shape::text(
        Pt::new(8.0 * k, y + g.cell(row, 0).2 / 2.0),
        format!("k{key}"),
        INK,
        font,
        Align::Left,
        true,
    ));
    let (held, newest) = holdings(w, key);
    for (col, (node, versions)) in held.iter().enumerate() {
        let (at, bw, bh) = g.cell(row, col);
        let behind = *versions != newest;
        let up = w.is_up(*node);
        let stroke = match (up, behind) {
            (false, _) => NEUTRAL,
            (true, true) => ALERT,
            (true, false) => LABEL,
        };
        let width = if behind { 2.5 * k } else { 1.0 * k };
        out.push(Shape::rect(at, bw, bh, None, Some(stroke), width));
        let leads = w.proto.leader_mode && w.state(*node).repl.is_leader(*node);
        let label = match (up, leads) {
            (false, _) => format!("S{node} down"),
            (true, true) => format!("S{node} leads epoch {}", w.state(*node).repl.epoch),
            (true, false) => format!("S{node}"),
        };
        out.push(Shape::text(
            Pt::new(at.x + 5.0 * k, at.y + font * 0.7),
            label,
            LABEL,
            font * 0.8,
            Align::Left,
            false,
        ));
        let value = super::protocol::Sib::of(versions).text();
        let value = if versions.is_empty() {
            "—".to_string()
        } else {
            value
        };
        out.push(Shape::text(
            Pt::new(at.x + bw / 2.0, at.y + bh * 0.52),
            value,
            INK,
            font * 1.5,
            Align::Center,
            true,
        ));
        if let Some(v) = versions.last() {
            let stamp = stamp_text(v.stamp);
            out.push(Shape::text(
                Pt::new(at.x + bw / 2.0, at.y + bh - font * 0.6),
                stamp,
                LABEL,
                font * 0.75,
                Align::Center,
                false,
            ));
        }
    }
    if area.selected == Selection::Item(key as u64) || area.hover == Selection::Item(key as u64) {
        let (at, _, bh) = g.cell(row, 0);
        let wide = g.col_w * held.len() as f64;
        out.push(Shape::rect(
            Pt::new(at.x - 3.0 * k, at.y - 3.0 * k),
            wide + 2.0 * k,
            bh + 6.0 * k,
            None,
            Some(INK),
            2.0 * k,
        ));
    }
    waits_line(w, g, (row, key), out);
}

/// The coordinators' waits for a key, under its replicas: one dot per answer needed.
fn waits_line(w: &World<Quorum>, g: &Grid, (row, key): (usize, u32), out: &mut Vec<Shape>) {
    let k = g.scale;
    let (at, _, bh) = g.cell(row, 0);
    let mut x = at.x;
    let y = at.y + bh + 12.0 * k;
    if y + 6.0 * k > g.top + (row + 1) as f64 * g.row_h {
        return;
    }
    let busy = for_role(super::view::CLASS_BUSY);
    for wt in waits(w, key).into_iter().take(3) {
        let text = format!("S{} {}", wt.node, wt.what);
        let text_w = crate::viz::scene::char_width(12.0 * k, false) * text.chars().count() as f64;
        out.push(Shape::text(
            Pt::new(x, y),
            text,
            busy,
            12.0 * k,
            Align::Left,
            false,
        ));
        x += text_w + 6.0 * k;
        for i in 0..wt.needed.min(9) {
            let fill = (i < wt.heard).then_some(busy);
            let c = Pt::new(x + 4.0 * k, y);
            out.push(Shape::Circle {
                c,
                r: 4.0 * k,
                fill,
                stroke: Some(busy),
                width: 1.5 * k,
                dash: false,
            });
            x += 11.0 * k;
        }
        x += 14.0 * k;
    }
}

/// The latest completed reads of the keys shown, a stale one in the alert colour with the
/// write it missed.
fn reads(w: &World<Quorum>, g: &Grid, out: &mut Vec<Shape>) {
    let k = g.scale;
    let j = judge(w);
    let recent: Vec<&Entry> = w
        .history()
        .iter()
        .rev()
        .filter(|h| g.keys.contains(&h.op.key()))
        .filter(|h| matches!(h.reply, Some(Reply::Value { .. })) && h.complete_us.is_some())
        .take(READS_SHOWN)
        .collect();
    let title = if recent.is_empty() {
        "No read has returned yet"
    } else {
        "Latest reads"
    };
    out.push(Shape::text(
        Pt::new(4.0 * k, g.reads_top + 8.0 * k),
        title.into(),
        LABEL,
        13.0 * k,
        Align::Left,
        true,
    ));
    for (i, h) in recent.iter().enumerate() {
        let stale = j.stale.iter().find(|s| std::ptr::eq(s.read, *h));
        let got = match h.reply {
            Some(Reply::Value { got }) => got.text(),
            _ => String::new(),
        };
        let at = seconds(h.complete_us.unwrap_or(0));
        let mut text = format!(
            "C{} {} through S{} = {got} at {at}",
            h.client,
            h.op.text(),
            h.node
        );
        let colour = match stale {
            Some(s) => {
                text.push_str(&format!(
                    "  stale: missed {} ({})",
                    s.missed.value,
                    stamp_text(s.missed.stamp)
                ));
                ALERT
            }
            None => INK,
        };
        let y = g.reads_top + (i as f64 + 1.5) * READ_LINE_PX * k;
        out.push(Shape::text(
            Pt::new(4.0 * k, y),
            text,
            colour,
            13.0 * k,
            Align::Left,
            stale.is_some(),
        ));
    }
}

/// The key whose row is under `p`.
pub fn hit(w: &World<Quorum>, area: &StageArea, p: Pt) -> Option<u64> {
    let g = Grid::new(w, area);
    if p.y < g.top || p.y >= g.reads_top {
        return None;
    }
    let row = ((p.y - g.top) / g.row_h).floor() as usize;
    g.keys.get(row).map(|&k| k as u64)
}

/// What the inspector says of a key.
pub fn item_view(w: &World<Quorum>, item: u64) -> Option<ItemView> {
    let key = u32::try_from(item).ok().filter(|&k| k < w.proto.keys)?;
    let (held, newest) = holdings(w, key);
    let mut lines: Vec<String> = held
        .iter()
        .map(|(n, v)| {
            let behind = if *v != newest { " (behind)" } else { "" };
            format!("S{n}: {}{behind}", super::view::versions_text(v))
        })
        .collect();
    lines.extend(waits(w, key).iter().map(|wt| {
        format!(
            "S{} waits: {}, {} of {}",
            wt.node,
            wt.what,
            wt.heard.min(wt.needed),
            wt.needed
        )
    }));
    let stale = judge(w)
        .stale
        .iter()
        .filter(|s| s.read.op.key() == key)
        .count();
    lines.push(format!("stale reads of k{key} so far: {stale}"));
    Some(ItemView {
        title: format!("k{key}"),
        lines,
        node: held.first().map(|h| h.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Instant;
    use crate::viz::scene::Style;

    fn run(link: &str, until_us: u64) -> World<Quorum> {
        let s = crate::scenario::link::decode(link).unwrap();
        let mut w = super::super::world(&s).unwrap();
        w.run_until(Instant(until_us), &s.script);
        w
    }

    fn area(selected: Selection) -> StageArea {
        StageArea {
            w: 900.0,
            h: 420.0,
            style: Style::default(),
            selected,
            hover: Selection::None,
        }
    }

    fn texts(shapes: &[Shape], colour: &str) -> Vec<String> {
        shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text { text, color, .. } if *color == colour => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_stale_read_is_flagged_with_the_write_it_missed_and_the_replica_behind_outlined() {
        let link = super::super::PRESETS[0].link;
        let first = judge(&run(link, 3_000_000)).stale[0]
            .read
            .complete_us
            .unwrap();
        // The moment the stale read returns.
        let w = run(link, first);
        let shapes = shapes(&w, &area(Selection::None));
        let flagged = texts(&shapes, ALERT);
        assert!(
            flagged.iter().any(|t| t.contains("stale: missed")),
            "{flagged:?}"
        );
        let behind = shapes
            .iter()
            .filter(|s| matches!(s, Shape::Rect { stroke: Some(c), .. } if *c == ALERT))
            .count();
        let (held, newest) = holdings(&w, 0);
        assert_eq!(behind, held.iter().filter(|h| h.1 != newest).count());
    }

    #[test]
    fn a_coordinator_waiting_for_acks_shows_one_dot_per_ack_it_needs() {
        // C0's write of 7 through S0 waits for W = 2 of k0's replicas; S0's messages to two
        // of them take 500 ms.
        let w = run(super::super::PRESETS[1].link, 50_000);
        let wt = waits(&w, 0);
        assert_eq!(wt.len(), 1, "one write in progress");
        assert_eq!((wt[0].node, wt[0].needed), (0, 2));
        let dots = |s: &[Shape], filled: bool| {
            s.iter()
                .filter(|s| matches!(s, Shape::Circle { fill, .. } if fill.is_some() == filled))
                .count()
        };
        let s = shapes(&w, &area(Selection::None));
        assert_eq!(dots(&s, true), wt[0].heard);
        assert_eq!(dots(&s, false), 2 - wt[0].heard);
    }

    #[test]
    fn each_key_row_is_hit_and_inspected_and_a_selected_key_is_shown_alone() {
        let w = run("#/quorum?n=5&seed=2&keys=3&clients=2", 2_000_000);
        let a = area(Selection::None);
        let g = Grid::new(&w, &a);
        for (row, &key) in g.keys.iter().enumerate() {
            let (at, bw, bh) = g.cell(row, 0);
            let centre = Pt::new(at.x + bw / 2.0, at.y + bh / 2.0);
            assert_eq!(hit(&w, &a, centre), Some(key as u64));
            assert_eq!(item_view(&w, key as u64).unwrap().title, format!("k{key}"));
        }
        assert_eq!(item_view(&w, 9), None, "no such key");
        assert_eq!(Grid::new(&w, &area(Selection::Item(2))).keys, vec![2]);
    }

    #[test]
    fn leader_mode_shows_every_node_and_the_leaders_wait_for_followers() {
        let w = run("#/quorum?n=3&seed=1&lat=10ms&mode=leader&sync=sync&clients=1&think=1h&s=0s:set:0>2:lat=300ms;10ms:op:0@0:put%20k0%207", 100_000);
        assert_eq!(replicas_of(&w, 0), vec![0, 1, 2]);
        let wt = waits(&w, 0);
        assert_eq!(wt.len(), 1);
        assert_eq!((wt[0].needed, wt[0].heard), (2, 1), "S1 has it, S2 not yet");
    }
}
