//! The geometry of the operation timeline: one lane per client, a box per operation from its
//! call to its return, laid out from a [`crate::check::Timeline`].
//!
//! Pure: CSS pixels out, hit tests in; the browser panel only paints the boxes. A long history
//! is bounded: at most `max_ops` operations are laid out (the last ones, or a window around the
//! operation that could not be placed), so painting stays cheap however long the run.

use super::colors::{ALERT, NEUTRAL, PALETTE};
use super::scene::{Align, Pt, Shape};
use super::Within;
use crate::check::{Status, Timeline};
use crate::sim::time::format_us;

/// Width of the lane labels on the left.
pub const LEFT: f64 = 30.0;
pub const RIGHT: f64 = 8.0;
/// Room for the time ticks on top.
pub const TOP: f64 = 16.0;
pub const BOTTOM: f64 = 4.0;
/// Height of one row of boxes.
pub const ROW: f64 = 20.0;
/// Space between lanes.
pub const LANE_GAP: f64 = 4.0;
/// Overlapping operations of one client (a pending one runs to the end) stack in at most this
/// many rows; beyond it they overlap in the last row.
pub const MAX_SUBROWS: usize = 3;
/// Boxes are at least this wide, so an instant operation stays visible and clickable.
pub const MIN_BOX: f64 = 3.0;

/// A client's lane.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneRow {
    pub client: u32,
    pub label: String,
    pub y: f64,
    pub h: f64,
}

/// One operation's box.
#[derive(Clone, Debug, PartialEq)]
pub struct OpBox {
    /// Index into `History::operations`.
    pub op: usize,
    pub x0: f64,
    pub x1: f64,
    pub y: f64,
    pub h: f64,
    pub pending: bool,
    pub failed: bool,
    pub offending: bool,
    /// 1-based position in the witness order, when it has one.
    pub order: Option<usize>,
    /// Whether the order number fits inside the box.
    pub show_order: bool,
}

/// The laid-out timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct OpLayout {
    pub width: f64,
    pub height: f64,
    pub start_us: u64,
    pub end_us: u64,
    pub lanes: Vec<LaneRow>,
    pub boxes: Vec<OpBox>,
    /// Time ticks: x and label.
    pub ticks: Vec<(f64, String)>,
    /// Operations left out to keep the drawing bounded.
    pub hidden: usize,
}

impl OpLayout {
    /// The x of a virtual instant (clamped to the drawing).
    pub fn x_of(&self, t_us: u64) -> f64 {
        x_of(self.start_us, self.end_us, self.width, t_us)
    }
}

fn x_of(start: u64, end: u64, width: f64, t: u64) -> f64 {
    let right = (width - RIGHT).max(LEFT + 1.0);
    let span = end.saturating_sub(start).max(1) as f64;
    let f = (t.clamp(start, end.max(start)) - start) as f64 / span;
    LEFT + (right - LEFT) * f
}

/// Lays out `t` in a box `width` CSS pixels wide (the height follows from the lanes), keeping at
/// most `max_ops` operations.
pub fn layout(t: &Timeline, width: f64, max_ops: usize) -> OpLayout {
    // Every bar, in call order, to choose the window.
    let mut all: Vec<(u64, usize, usize, usize)> = t
        .lanes
        .iter()
        .enumerate()
        .flat_map(|(li, lane)| {
            lane.bars
                .iter()
                .enumerate()
                .map(move |(bi, b)| (b.call_us, b.op, li, bi))
        })
        .collect();
    crate::sim::order::sort_by(&mut all, Ord::cmp);
    let n = all.len();
    let keep = max_ops.max(1).min(n);
    let mut first = n - keep;
    if let Some(off) = all
        .iter()
        .position(|&(_, _, li, bi)| t.lanes[li].bars[bi].offending)
    {
        if off < first {
            // Centre the window on the operation that could not be placed.
            first = off.saturating_sub(keep / 2).min(n - keep);
        }
    }
    let window = &all[first..first + keep];
    let start_us = window.first().map_or(t.start_us, |w| w.0);
    let end_us = window
        .iter()
        .map(|&(_, _, li, bi)| t.lanes[li].bars[bi].return_us)
        .max()
        .unwrap_or(t.end_us)
        .max(start_us);
    let mut kept: Vec<Vec<usize>> = vec![Vec::new(); t.lanes.len()];
    for &(_, _, li, bi) in window {
        kept[li].push(bi);
    }
    let mut lanes = Vec::new();
    let mut boxes = Vec::new();
    let mut y = TOP;
    for (li, lane) in t.lanes.iter().enumerate() {
        if kept[li].is_empty() {
            continue;
        }
        crate::sim::order::sort_by_key(&mut kept[li], |&bi| {
            (lane.bars[bi].call_us, lane.bars[bi].op)
        });
        // Greedy packing into sub-rows: each box goes in the first row free at its start.
        let mut row_ends: Vec<f64> = Vec::new();
        let mut lane_boxes = Vec::new();
        for &bi in &kept[li] {
            let b = &lane.bars[bi];
            let x0 = x_of(start_us, end_us, width, b.call_us);
            let x1 = x_of(start_us, end_us, width, b.return_us).max(x0 + MIN_BOX);
            let row = match row_ends.iter().position(|&e| e <= x0) {
                Some(r) => r,
                None if row_ends.len() < MAX_SUBROWS => {
                    row_ends.push(f64::NEG_INFINITY);
                    row_ends.len() - 1
                }
                None => MAX_SUBROWS - 1,
            };
            row_ends[row] = row_ends[row].max(x1 + 1.0);
            let order = b.order.map(|o| o + 1);
            let digits = order.map_or(0, |o| o.to_string().len()) as f64;
            lane_boxes.push((row, b.op, x0, x1, b, order, digits));
        }
        let rows = row_ends.len().max(1);
        let h = rows as f64 * ROW;
        for (row, op, x0, x1, b, order, digits) in lane_boxes {
            boxes.push(OpBox {
                op,
                x0,
                x1,
                y: y + row as f64 * ROW + 2.0,
                h: ROW - 4.0,
                pending: b.pending,
                failed: b.status == Status::Fail,
                offending: b.offending,
                order,
                show_order: order.is_some() && x1 - x0 >= digits * 7.0 + 4.0,
            });
        }
        lanes.push(LaneRow {
            client: lane.client,
            label: format!("C{}", lane.client),
            y,
            h,
        });
        y += h + LANE_GAP;
    }
    let height = (y - LANE_GAP).max(TOP + ROW) + BOTTOM;
    let ticks = ticks(start_us, end_us, width);
    OpLayout {
        width,
        height,
        start_us,
        end_us,
        lanes,
        boxes,
        ticks,
        hidden: n - keep,
    }
}

/// Round time ticks, at most about one per 70 px.
fn ticks(start: u64, end: u64, width: f64) -> Vec<(f64, String)> {
    let span = end.saturating_sub(start);
    if span == 0 {
        return vec![(x_of(start, end, width, start), format_us(start))];
    }
    let target = ((width - LEFT - RIGHT) / 70.0).floor().within(1.0, 8.0) as usize;
    let step = (super::chart::nice_step(span as f64, target).round() as u64).max(1);
    let first = start.div_ceil(step);
    let last = end / step;
    (first..=last)
        .map(|i| {
            let t = i * step;
            (x_of(start, end, width, t), format_us(t))
        })
        .collect()
}

/// The operation under the point (x, y), preferring the topmost-drawn (last) box; a few pixels
/// of slack so narrow boxes can be clicked.
pub fn hit(l: &OpLayout, x: f64, y: f64) -> Option<usize> {
    let slack = 3.0;
    l.boxes
        .iter()
        .rev()
        .filter(|b| y >= b.y - 1.0 && y <= b.y + b.h + 1.0)
        .filter(|b| x >= b.x0 - slack && x <= b.x1 + slack)
        // Prefer a box that truly contains x over one only within the slack.
        .min_by_key(|b| if x >= b.x0 && x <= b.x1 { 0 } else { 1 })
        .map(|b| b.op)
}

const GRID: &str = "#e6e8ec";
const LANE_RULE: &str = "#eef0f3";
const LABEL: &str = "#5b6472";
const INK: &str = "#1f2328";
const HATCH: &str = "rgba(0, 114, 178, 0.35)";

/// The laid-out timeline as shapes, in its own CSS pixels (the page scales them in presenter
/// mode): time ticks and grid, lane labels and rules, a box per operation (pending ones
/// hatched and dashed, the offending one in the alert colour), the selected one outlined.
pub fn shapes(l: &OpLayout, selected: Option<usize>) -> Vec<Shape> {
    let mut out = Vec::new();
    let h = l.height.max(40.0);
    for (x, _) in &l.ticks {
        let x = x.round() + 0.5;
        out.push(Shape::line(
            Pt::new(x, TOP - 2.0),
            Pt::new(x, h),
            GRID,
            1.0,
            false,
        ));
    }
    for (i, (x, label)) in l.ticks.iter().enumerate() {
        let align = if i == 0 && *x < LEFT + 12.0 {
            Align::Left
        } else if *x > l.width - 20.0 {
            Align::Right
        } else {
            Align::Center
        };
        out.push(Shape::text(
            Pt::new(*x, TOP - 8.5),
            label.clone(),
            LABEL,
            10.0,
            align,
            false,
        ));
    }
    for lane in &l.lanes {
        let at = Pt::new(4.0, lane.y + ROW / 2.0);
        out.push(Shape::text(
            at,
            lane.label.clone(),
            INK,
            11.0,
            Align::Left,
            true,
        ));
        let y = lane.y + lane.h + 1.5;
        out.push(Shape::line(
            Pt::new(LEFT, y),
            Pt::new(l.width - RIGHT, y),
            LANE_RULE,
            1.0,
            false,
        ));
    }
    for b in &l.boxes {
        op_box(&mut out, b, selected == Some(b.op));
    }
    out
}

fn op_box(out: &mut Vec<Shape>, b: &OpBox, selected: bool) {
    let (x, y, w, h) = (b.x0, b.y, b.x1 - b.x0, b.h);
    let (fill, stroke) = if b.offending {
        (ALERT, "#6b2a00")
    } else if b.failed {
        ("#e3e5e9", NEUTRAL)
    } else if b.pending {
        ("#dfe9f2", PALETTE[0])
    } else {
        (PALETTE[0], "#004a75")
    };
    out.push(Shape::Rect {
        at: Pt::new(x, y),
        w,
        h,
        fill: Some(fill),
        stroke: None,
        width: 0.0,
    });
    if b.pending && !b.offending {
        hatch(out, x, y, w, h);
    }
    let width = if b.offending { 2.0 } else { 1.0 };
    let (x0, y0, x1, y1) = (x + 0.5, y + 0.5, x + w.max(1.5) - 0.5, y + h.max(1.5) - 0.5);
    let corners = [
        Pt::new(x0, y0),
        Pt::new(x1, y0),
        Pt::new(x1, y1),
        Pt::new(x0, y1),
    ];
    for i in 0..4 {
        out.push(Shape::line(
            corners[i],
            corners[(i + 1) % 4],
            stroke,
            width,
            b.pending,
        ));
    }
    if selected {
        out.push(Shape::Rect {
            at: Pt::new(x - 1.5, y - 1.5),
            w: w + 3.0,
            h: h + 3.0,
            fill: None,
            stroke: Some(INK),
            width: 2.0,
        });
    }
    if let (true, Some(o)) = (b.show_order, b.order) {
        let on_dark = !(b.pending || b.failed) || b.offending;
        let colour = if on_dark { "#ffffff" } else { INK };
        let at = Pt::new(x + w / 2.0, y + h / 2.0 + 0.5);
        out.push(Shape::text(
            at,
            o.to_string(),
            colour,
            10.0,
            Align::Center,
            true,
        ));
    }
}

/// Diagonal stripes over a pending operation's box, each cut to the box.
fn hatch(out: &mut Vec<Shape>, x: f64, y: f64, w: f64, h: f64) {
    if h <= 0.0 || w <= 0.0 {
        return;
    }
    let mut s = x - h;
    while s < x + w {
        // The stripe runs from (s, y + h) to (s + h, y); keep the part with x inside the box.
        let t0 = ((x - s) / h).within(0.0, 1.0);
        let t1 = ((x + w - s) / h).within(0.0, 1.0);
        if t1 > t0 {
            let at = |t: f64| Pt::new(s + t * h, y + h - t * h);
            out.push(Shape::line(at(t0), at(t1), HATCH, 1.0, false));
        }
        s += 6.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check, timeline, History, Input, Model, Output};

    /// Two clients: C0 writes 1 then 2; C1 reads 1 after the second write finished (stale).
    fn stale_read() -> History {
        let mut h = History::new();
        let w1 = h.invoke(0, Input::write(1), 0);
        h.complete(w1, Output::None, 10).unwrap();
        let w2 = h.invoke(0, Input::write(2), 20);
        h.complete(w2, Output::None, 30).unwrap();
        let r = h.invoke(1, Input::read(), 40);
        h.complete(r, Output::value(1), 50).unwrap();
        h
    }

    #[test]
    fn one_lane_per_client_and_boxes_span_call_to_return() {
        let h = stale_read();
        let l = layout(&timeline(&h, None), 400.0, 500);
        assert_eq!(l.lanes.len(), 2);
        assert_eq!(l.lanes[0].label, "C0");
        assert_eq!(l.boxes.len(), 3);
        assert_eq!((l.start_us, l.end_us), (0, 50));
        let b0 = &l.boxes[0];
        assert_eq!(b0.x0, LEFT);
        assert!((b0.x1 - l.x_of(10)).abs() < 1e-9);
        let last = l.boxes.iter().find(|b| b.op == 2).unwrap();
        assert_eq!(last.x1, 400.0 - RIGHT);
        assert!(last.y > b0.y, "C1's lane is below C0's");
        assert_eq!(l.hidden, 0);
        assert!(l.height >= last.y + last.h);
    }

    #[test]
    fn the_offending_operation_and_the_witness_order_are_marked() {
        let h = stale_read();
        let r = check(&h, &Model::register()).unwrap();
        assert_eq!(r.is_linearizable(), Some(false));
        let l = layout(&timeline(&h, Some(&r)), 400.0, 500);
        let off: Vec<usize> = l
            .boxes
            .iter()
            .filter(|b| b.offending)
            .map(|b| b.op)
            .collect();
        assert_eq!(off.len(), 1);
        let ordered: Vec<_> = l.boxes.iter().filter_map(|b| b.order).collect();
        assert!(!ordered.is_empty());
        assert!(ordered.iter().all(|&o| o >= 1), "orders are 1-based");
    }

    #[test]
    fn a_pending_operation_runs_to_the_end_in_its_own_row() {
        let mut h = History::new();
        let a = h.invoke(0, Input::write(1), 0); // never answered
        let b = h.invoke(0, Input::read(), 10);
        h.complete(b, Output::value(1), 20).unwrap();
        let _ = a;
        let l = layout(&timeline(&h, None), 300.0, 500);
        let pa = l.boxes.iter().find(|x| x.op == 0).unwrap();
        let pb = l.boxes.iter().find(|x| x.op == 1).unwrap();
        assert!(pa.pending);
        assert_eq!(pa.x1, 300.0 - RIGHT);
        assert_ne!(pa.y, pb.y, "overlapping boxes of one client stack");
        assert_eq!(l.lanes[0].h, 2.0 * ROW);
    }

    #[test]
    fn long_histories_are_bounded_to_the_last_operations() {
        let mut h = History::new();
        for i in 0..2_000u64 {
            let op = h.invoke((i % 3) as u32, Input::write(i as i64), i * 10);
            h.complete(op, Output::None, i * 10 + 5).unwrap();
        }
        let l = layout(&timeline(&h, None), 300.0, 500);
        assert_eq!(l.boxes.len(), 500);
        assert_eq!(l.hidden, 1_500);
        assert_eq!(l.start_us, 1_500 * 10);
        assert!(l.boxes.iter().all(|b| b.op >= 1_500));
        assert!(l.boxes.iter().all(|b| b.x1 - b.x0 >= MIN_BOX - 1e-9));
        assert!(l.ticks.len() >= 2 && l.ticks.len() <= 8, "{:?}", l.ticks);
    }

    #[test]
    fn an_early_offending_operation_stays_in_the_window() {
        let mut h = History::new();
        let w = h.invoke(0, Input::write(1), 0);
        h.complete(w, Output::None, 5).unwrap();
        let r = h.invoke(1, Input::read(), 10);
        h.complete(r, Output::value(7), 15).unwrap(); // never written
        for i in 0..1_000u64 {
            let op = h.invoke(2, Input::write(1), 100 + i * 10);
            h.complete(op, Output::None, 105 + i * 10).unwrap();
        }
        let res = check(&h, &Model::register()).unwrap();
        let l = layout(&timeline(&h, Some(&res)), 300.0, 100);
        assert_eq!(l.boxes.len(), 100);
        assert!(l.boxes.iter().any(|b| b.offending));
    }

    #[test]
    fn clicks_find_the_box_under_the_pointer() {
        let h = stale_read();
        let l = layout(&timeline(&h, None), 400.0, 500);
        for b in &l.boxes {
            let (x, y) = ((b.x0 + b.x1) / 2.0, b.y + b.h / 2.0);
            assert_eq!(hit(&l, x, y), Some(b.op));
        }
        assert_eq!(hit(&l, 2.0, 2.0), None);
        let empty = layout(&timeline(&History::new(), None), 400.0, 500);
        assert!(empty.boxes.is_empty() && empty.lanes.is_empty());
        assert_eq!(hit(&empty, 100.0, 30.0), None);
    }

    #[test]
    fn shapes_mark_pending_offending_and_selected_boxes_and_stay_in_the_drawing() {
        let h = stale_read();
        let r = check(&h, &Model::register()).unwrap();
        let l = layout(&timeline(&h, Some(&r)), 400.0, 100);
        let plain = shapes(&l, None);
        let chosen = shapes(&l, Some(l.boxes[0].op));
        assert_eq!(
            chosen.len(),
            plain.len() + 1,
            "one outline for the selection"
        );
        let alert = plain
            .iter()
            .filter(|s| matches!(s, Shape::Rect { fill: Some(f), .. } if *f == ALERT))
            .count();
        assert_eq!(alert, l.boxes.iter().filter(|b| b.offending).count());
        for s in &plain {
            if let Shape::Line { a, b, .. } = s {
                for p in [a, b] {
                    assert!(
                        p.x >= 0.0
                            && p.x <= l.width + 0.5
                            && p.y >= 0.0
                            && p.y <= l.height.max(40.0) + 0.5
                    );
                }
            }
        }
        // Hatching stays inside its box.
        let mut out = Vec::new();
        hatch(&mut out, 10.0, 20.0, 30.0, 12.0);
        assert!(!out.is_empty());
        for s in &out {
            if let Shape::Line { a, b, .. } = s {
                for p in [a, b] {
                    assert!(
                        p.x >= 10.0 - 1e-9
                            && p.x <= 40.0 + 1e-9
                            && p.y >= 20.0 - 1e-9
                            && p.y <= 32.0 + 1e-9
                    );
                }
            }
        }
    }
}
