//! The space-time (Lamport) diagram: one row per node and client, time running to the right,
//! an arrow per message from its send to its delivery, a cross where one was dropped, marks
//! for timers, crashes, notes, interventions and property violations.
//!
//! Pure, like [`super::scene`]: it turns trace records into [`Shape`]s for a window of virtual
//! time and returns the message segments so a click can select the message under the pointer.

use super::colors::{ALERT, NEUTRAL, PALETTE};
use super::scene::{char_width, seg_dist, Align, Pt, Shape, Style, FAINT, INK, SELECT};
use super::Within;
use crate::sim::clocks::{ClockLabels, Order, WindowClocks};
use crate::sim::small_map::SmallMap;
use crate::sim::time::format_us;
use crate::sim::trace::RecordView;
use std::borrow::Cow;

/// Message ids are small sequential integers: a multiplicative hash spreads them well and
/// costs a fraction of the default SipHash (this map is rebuilt every frame).
/// Message ids to what is known of them, the first entry for an id kept: a sorted vector
/// searched by halves (no hash table in the page for two lookups a message).
struct IdMap<V>(Vec<(u64, V)>);

impl<V: Copy> IdMap<V> {
    fn new(mut entries: Vec<(u64, V)>) -> IdMap<V> {
        crate::sim::order::sort_by_key(&mut entries, |e| e.0);
        entries.dedup_by_key(|e| e.0);
        IdMap(entries)
    }
    fn get(&self, id: &u64) -> Option<V> {
        let i = self.0.binary_search_by_key(id, |e| e.0).ok()?;
        Some(self.0[i].1)
    }
}

/// A message drawn in the diagram, for hit testing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub msg: u64,
    pub a: Pt,
    pub b: Pt,
}

/// What the diagram shows.
pub struct DiagramInput<'a> {
    pub records: &'a [RecordView],
    /// Row labels for the nodes (`S0`, ...); clients are labelled `C0`, ...
    pub node_labels: &'a [String],
    pub clients: u32,
    pub now_us: u64,
    /// The visible span of virtual time.
    pub span_us: u64,
    pub selected_msg: Option<u64>,
}

/// The visible window `[t0, t1]` for a cursor: the cursor stays at 85% of the width once the run
/// is longer than the span, so the diagram scrolls with it.
pub fn window(now_us: u64, span_us: u64) -> (u64, u64) {
    let span = span_us.max(1_000);
    let lead = span * 85 / 100;
    let t0 = now_us.saturating_sub(lead);
    (t0, t0 + span)
}

struct Geom {
    left: f64,
    right: f64,
    t0: u64,
    t1: u64,
    rows: Vec<f64>,
}

impl Geom {
    fn x(&self, t: u64) -> f64 {
        let f = (t as f64 - self.t0 as f64) / (self.t1 - self.t0).max(1) as f64;
        self.left + f * (self.right - self.left)
    }
    fn y(&self, e: u32) -> Option<f64> {
        self.rows.get(e as usize).copied()
    }
    fn at(&self, e: u32, t: u64) -> Option<Pt> {
        Some(Pt::new(self.x(t), self.y(e)?))
    }
}

/// The row of every endpoint: nodes get full rows, clients half rows (there may be many).
fn rows(n: u32, clients: u32, top: f64, bottom: f64) -> Vec<f64> {
    let weight = n as f64 + 0.5 * clients as f64;
    let unit = (bottom - top) / weight.max(1.0);
    let mut y = top;
    let mut out = Vec::with_capacity((n + clients) as usize);
    for e in 0..n + clients {
        let h = if e < n { unit } else { unit * 0.5 };
        out.push(y + h / 2.0);
        y += h;
    }
    out
}

/// Where the diagram puts its rows and its window of time, for a canvas `w` by `h`.
fn geom(input: &DiagramInput, w: f64, h: f64, style: Style) -> Geom {
    let n = input.node_labels.len() as u32;
    let (t0, t1) = window(input.now_us, input.span_us);
    let font = style.font(11.0);
    // Room for the longest label ("S10", "coord").
    let longest = input
        .node_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    Geom {
        left: style.font(34f64.max(longest as f64 * 7.0 + 6.0)),
        right: w - 8.0,
        t0,
        t1,
        rows: rows(n, input.clients, font * 1.6, h - font * 1.8),
    }
}

/// The diagram's shapes and the message segments under them.
pub fn diagram(input: &DiagramInput, w: f64, h: f64, style: Style) -> (Vec<Shape>, Vec<Segment>) {
    let n = input.node_labels.len() as u32;
    let font = style.font(11.0);
    let g = geom(input, w, h, style);
    let scan = Scan::new(&g, input.records);
    let mut out = Vec::with_capacity(scan.i1 - scan.i0 + scan.sends.len() + 64);
    let mut segs = Vec::new();
    axes(&g, input, n, h, style, &mut out);
    marks(&g, input, &scan, h, style, &mut out);
    messages(&g, input, &scan, style, &mut out, &mut segs);
    let cx = g.x(input.now_us);
    out.push(Shape::Line {
        a: Pt::new(cx, font * 0.6),
        b: Pt::new(cx, h - font * 1.6),
        color: SELECT,
        width: style.line(2.0),
        dash: false,
    });
    (out, segs)
}

/// A lifeline is split where its length passes the last multiple of this (px): the part
/// before stays the same from frame to frame while the cursor moves, so that the paint worker,
/// which paints again only what changed, repaints the short part that grew and not the whole
/// diagram left of the cursor.
const LIFELINE_STEP_PX: f64 = 64.0;

/// A node's line from `a` to the cursor at `end_x`, in two pieces (one path, so no seam).
fn lifeline(a: Pt, end_x: f64, color: &'static str, width: f64, out: &mut Vec<Shape>) {
    let split = (end_x / LIFELINE_STEP_PX).floor() * LIFELINE_STEP_PX;
    let line = |from: f64, to: f64| Shape::Line {
        a: Pt::new(from, a.y),
        b: Pt::new(to, a.y),
        color,
        width,
        dash: false,
    };
    if split > a.x && split < end_x {
        out.push(line(a.x, split));
        out.push(line(split, end_x));
    } else {
        out.push(line(a.x, end_x));
    }
}

fn axes(g: &Geom, input: &DiagramInput, n: u32, h: f64, style: Style, out: &mut Vec<Shape>) {
    let font = style.font(11.0);
    let end = g.x(input.now_us).min(g.right);
    // Rows closer than a line of text are labelled every `every`-th (the first and last always).
    let gap = match g.rows.as_slice() {
        [a, b, ..] => (b - a).abs(),
        _ => font,
    };
    let every = (font * 0.9 / gap.max(0.1)).ceil().max(1.0) as usize;
    let last = g.rows.len().saturating_sub(1);
    for (e, &y) in g.rows.iter().enumerate() {
        let labelled = e % every == 0 || e == last;
        let e = e as u32;
        let label = if e < n {
            input.node_labels[e as usize].clone()
        } else {
            format!("C{}", e - n)
        };
        let client = e >= n;
        let colour = if client { FAINT } else { NEUTRAL };
        lifeline(Pt::new(g.left, y), end, colour, style.line(1.0), out);
        let size = if client { font * 0.8 } else { font };
        if !labelled {
            continue;
        }
        out.push(Shape::Text {
            at: Pt::new(g.left - 6.0, y),
            text: label,
            color: INK,
            size,
            align: Align::Right,
            bold: !client,
        });
    }
    // Time ticks: a round step giving about six labels.
    let span = g.t1 - g.t0;
    let step = nice_step(span / 6);
    let mut t = g.t0.div_ceil(step) * step;
    while t <= g.t1 {
        let x = g.x(t);
        out.push(Shape::Line {
            a: Pt::new(x, h - font * 1.6),
            b: Pt::new(x, h - font * 1.2),
            color: NEUTRAL,
            width: 1.0,
            dash: false,
        });
        out.push(Shape::Text {
            at: Pt::new(x, h - font * 0.6),
            text: format_us(t),
            color: INK,
            size: font * 0.9,
            align: Align::Center,
            bold: false,
        });
        t += step;
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw` microseconds (and at least 1 ms).
pub fn nice_step(raw: u64) -> u64 {
    let mut base = 1_000u64;
    loop {
        for m in [1, 2, 5] {
            if base * m >= raw {
                return base * m;
            }
        }
        base = base.saturating_mul(10);
        if base >= 1 << 60 {
            return base;
        }
    }
}

/// One pass over the records up to the window's end (they are in time order), collecting what
/// the marks and arrows need from before the window: frames stay cheap with a full record cache.
struct Scan<'a> {
    /// The records inside the window: `records[i0..i1]`.
    i0: usize,
    i1: usize,
    /// Crashes and restarts before the window (for nodes already down when it starts).
    faults: Vec<&'a RecordView>,
    /// Duplicated copies (recorded when the original is sent): (copy, original).
    copies: Vec<(u64, u64)>,
    /// The sends whose path reaches into the window, in record order.
    sends: Vec<&'a RecordView>,
    /// The originals of `copies`.
    originals: IdMap<&'a RecordView>,
    /// The earliest of `sends` and `originals` (ends are looked up from there on).
    earliest: u64,
}

impl<'a> Scan<'a> {
    fn new(g: &Geom, recs: &'a [RecordView]) -> Scan<'a> {
        let i0 = recs.partition_point(|r| r.at_us < g.t0);
        let i1 = recs.partition_point(|r| r.at_us <= g.t1);
        let mut scan = Scan {
            i0,
            i1,
            faults: Vec::new(),
            copies: Vec::new(),
            sends: Vec::new(),
            originals: IdMap(Vec::new()),
            earliest: g.t0,
        };
        for (i, r) in recs[..i1].iter().enumerate() {
            match (r.what, r.msg) {
                ("crash" | "restart", _) if i < i0 => scan.faults.push(r),
                ("duplicate", Some(m)) => {
                    if let Some(copy) = r.text.strip_prefix("copy #").and_then(|c| c.parse().ok()) {
                        scan.copies.push((copy, m));
                    }
                }
                ("send", Some(_)) => {
                    let arrive = r.arrive_us.unwrap_or(r.at_us);
                    let reach = if r.lost {
                        arrive.saturating_add(arrive.saturating_sub(r.at_us))
                    } else {
                        arrive
                    };
                    if r.at_us >= g.t0 || reach >= g.t0 {
                        scan.sends.push(r);
                        scan.earliest = scan.earliest.min(r.at_us);
                    }
                }
                _ => {}
            }
        }
        if !scan.copies.is_empty() {
            let mut wanted: Vec<u64> = scan.copies.iter().map(|(_, orig)| *orig).collect();
            crate::sim::order::sort_by_key(&mut wanted, |&m| m);
            let mut originals = Vec::new();
            for r in &recs[..i1] {
                if let ("send", Some(m)) = (r.what, r.msg) {
                    if wanted.binary_search(&m).is_ok() {
                        originals.push((m, r));
                        scan.earliest = scan.earliest.min(r.at_us);
                    }
                }
            }
            scan.originals = IdMap::new(originals);
        }
        scan
    }
}

fn marks(g: &Geom, input: &DiagramInput, scan: &Scan, h: f64, style: Style, out: &mut Vec<Shape>) {
    let font = style.font(11.0);
    let visible = |t: u64| t >= g.t0 && t <= g.t1;
    let mut down: SmallMap<u32, u64> = SmallMap::new();
    // Nodes down when the window starts (nothing before it is drawn).
    for r in &scan.faults {
        if let Some(node) = r.node {
            if r.what == "crash" {
                down.insert(node, r.at_us);
            } else {
                down.remove(&node);
            }
        }
    }
    let window = &input.records[scan.i0..scan.i1];
    let mut labels = Vec::new();
    for r in window {
        match r.what {
            "crash" => {
                if let Some(node) = r.node {
                    down.insert(node, r.at_us);
                    if let (true, Some(p)) = (visible(r.at_us), g.at(node, r.at_us)) {
                        out.push(Shape::Cross {
                            c: p,
                            r: style.line(6.0),
                            color: ALERT,
                            width: style.line(2.5),
                        });
                    }
                }
            }
            "restart" => {
                if let Some(node) = r.node {
                    if let Some(from) = down.remove(&node) {
                        downtime(g, node, from, r.at_us, style, out);
                    }
                    if let (true, Some(p)) = (visible(r.at_us), g.at(node, r.at_us)) {
                        out.push(Shape::Circle {
                            c: p,
                            r: style.line(4.0),
                            fill: Some(PALETTE[2]),
                            stroke: None,
                            width: 0.0,
                            dash: false,
                        });
                    }
                }
            }
            "timer" if visible(r.at_us) => {
                if let Some(p) = r.node.and_then(|node| g.at(node, r.at_us)) {
                    out.push(Shape::Circle {
                        c: p,
                        r: style.line(2.5),
                        fill: Some(PALETTE[0]),
                        stroke: None,
                        width: 0.0,
                        dash: false,
                    });
                }
            }
            "note" if visible(r.at_us) => {
                if let Some((node, p)) = r.node.and_then(|e| Some((e, g.at(e, r.at_us)?))) {
                    out.push(Shape::Circle {
                        c: p,
                        r: style.line(3.5),
                        fill: Some(PALETTE[1]),
                        stroke: Some(INK),
                        width: 1.0,
                        dash: false,
                    });
                    labels.push(Label {
                        lane: node,
                        at: Pt::new(p.x + 4.0, p.y - font * 0.8),
                        text: Cow::Borrowed(&r.text),
                        max_chars: 28,
                        color: INK,
                        size: font * 0.9,
                        bold: false,
                    });
                }
            }
            "command" | "violation" if visible(r.at_us) => {
                let x = g.x(r.at_us);
                let colour = if r.what == "violation" { ALERT } else { INK };
                out.push(Shape::Line {
                    a: Pt::new(x, font * 1.2),
                    b: Pt::new(x, h - font * 1.6),
                    color: colour,
                    width: style.line(1.5),
                    dash: true,
                });
                labels.push(Label {
                    lane: TOP_LANE,
                    at: Pt::new(x + 3.0, font * 0.7),
                    text: if r.what == "violation" {
                        Cow::Owned(format!("✗ {}", r.text))
                    } else {
                        Cow::Owned(command_words(&r.text, input.node_labels))
                    },
                    max_chars: 30,
                    color: colour,
                    size: font * 0.9,
                    bold: true,
                });
            }
            _ => {}
        }
    }
    for (node, from) in down {
        downtime(g, node, from, input.now_us, style, out);
    }
    place_labels(labels, g.right + 6.0, out);
}

/// A recorded command (`1.2s:part:0.1/2.3.4`) in words (`partition S0 S1 | S2 S3 S4`); the
/// text as it is if it does not read as a command.
pub fn command_words(text: &str, node_labels: &[String]) -> String {
    match crate::sim::command::Command::parse(text) {
        Ok(c) => c.action.describe(|e| match node_labels.get(e as usize) {
            Some(l) => l.clone(),
            None => format!("C{}", e as usize - node_labels.len()),
        }),
        Err(_) => text.to_string(),
    }
}

/// The lane of the labels along the top edge (interventions, violations); note labels run
/// along their node's row.
const TOP_LANE: u32 = u32::MAX;
/// A label shorter than this many characters says nothing: it is left out.
const MIN_LABEL_CHARS: usize = 6;

/// A text label waiting for a place: left-aligned at `at`, in `lane`.
struct Label<'a> {
    lane: u32,
    at: Pt,
    text: Cow<'a, str>,
    max_chars: usize,
    color: &'static str,
    size: f64,
    bold: bool,
}

/// Places labels so that none overlaps another in its lane: the newest (rightmost) first, each
/// older one shortened (with "…") to end before the next, or left out if too little of it would
/// fit. The marks stay; their full text is in the inspector and the log.
fn place_labels(mut labels: Vec<Label>, right: f64, out: &mut Vec<Shape>) {
    // By lane, then right to left; at one instant the later record first (reversed, then a
    // stable sort).
    labels.reverse();
    crate::sim::order::sort_by(&mut labels, |a, b| {
        a.lane.cmp(&b.lane).then(b.at.x.total_cmp(&a.at.x))
    });
    let gap = 6.0;
    let mut lane = None;
    let mut limit = right;
    for l in &labels {
        if lane != Some(l.lane) {
            lane = Some(l.lane);
            limit = right;
        }
        let room = ((limit - gap - l.at.x) / char_width(l.size, l.bold)).floor();
        let fits = if room > 0.0 { room as usize } else { 0 };
        let chars = l.text.chars().count().min(l.max_chars).min(fits);
        if chars < MIN_LABEL_CHARS.min(l.text.chars().count()) || chars == 0 {
            continue;
        }
        limit = l.at.x;
        out.push(Shape::Text {
            at: l.at,
            text: clip(&l.text, chars),
            color: l.color,
            size: l.size,
            align: Align::Left,
            bold: l.bold,
        });
    }
}

fn downtime(g: &Geom, node: u32, from: u64, to: u64, style: Style, out: &mut Vec<Shape>) {
    let (from, to) = (from.max(g.t0), to.min(g.t1));
    if from >= to {
        return;
    }
    if let (Some(a), Some(b)) = (g.at(node, from), g.at(node, to)) {
        out.push(Shape::Line {
            a,
            b,
            color: ALERT,
            width: style.line(3.0),
            dash: true,
        });
    }
}

fn messages(
    g: &Geom,
    input: &DiagramInput,
    scan: &Scan,
    style: Style,
    out: &mut Vec<Shape>,
    segs: &mut Vec<Segment>,
) {
    // How each message ended: delivered (false) or dropped (true), and when. Only messages
    // sent from `scan.earliest` on can show, so their ends come after it.
    let recs = input.records;
    let k = recs[..scan.i0].partition_point(|r| r.at_us < scan.earliest);
    let ends = IdMap::new(
        recs[k..]
            .iter()
            .filter_map(|r| match (r.what, r.msg) {
                ("deliver", Some(m)) => Some((m, (r.at_us, false))),
                ("drop", Some(m)) => Some((m, (r.at_us, true))),
                _ => None,
            })
            .collect(),
    );
    let first = out.len();
    for r in &scan.sends {
        let id = r.msg.unwrap_or(0);
        message(g, input, r, id, ends.get(&id), style, out, segs);
    }
    // Duplicated copies: an arrow from the original send to the copy's delivery.
    for (copy, orig) in &scan.copies {
        if let Some(r) = scan.originals.get(orig) {
            message(g, input, r, *copy, ends.get(copy), style, out, segs);
        }
    }
    super::scene::group_by_colour(&mut out[first..]);
}

#[allow(clippy::too_many_arguments)]
fn message(
    g: &Geom,
    input: &DiagramInput,
    r: &RecordView,
    id: u64,
    end: Option<(u64, bool)>,
    style: Style,
    out: &mut Vec<Shape>,
    segs: &mut Vec<Segment>,
) {
    let (Some(from), Some(to)) = (r.from, r.to) else {
        return;
    };
    let arrive = r.arrive_us.unwrap_or(r.at_us);
    let (end_us, dropped, done) = match end {
        Some((t, d)) => (t, d, true),
        None if arrive <= input.now_us => (arrive, false, true),
        None => (input.now_us, false, false),
    };
    if r.at_us > g.t1 || end_us < g.t0 {
        return;
    }
    let (Some(a), Some(b_full)) = (
        g.at(from, r.at_us),
        g.at(
            to,
            if r.lost {
                arrive + (arrive - r.at_us)
            } else {
                arrive
            },
        ),
    ) else {
        return;
    };
    // The point reached at `end_us` along the straight path from send to planned arrival.
    let span = b_full.x - a.x;
    let f = if span.abs() < 1e-9 {
        1.0
    } else {
        ((g.x(end_us) - a.x) / span).within(0.0, 1.0)
    };
    let b = a.lerp(b_full, if dropped || !done { f } else { 1.0 });
    // A message sent before the window starts enters from its left edge, not over the labels.
    if b.x < g.left {
        return;
    }
    let a = if a.x < g.left {
        a.lerp(b, (g.left - a.x) / (b.x - a.x))
    } else {
        a
    };
    let selected = input.selected_msg == Some(id);
    let colour = if selected { SELECT } else { r.colour };
    // 1 px lines take the rasteriser's fast hairline path: thousands of arrows stay cheap.
    let width = style.line(if selected { 2.5 } else { 1.0 });
    if dropped {
        out.push(Shape::Line {
            a,
            b,
            color: colour,
            width,
            dash: false,
        });
        out.push(Shape::Cross {
            c: b,
            r: style.line(4.0),
            color: ALERT,
            width: style.line(2.0),
        });
    } else if done {
        out.push(Shape::Arrow {
            a,
            b,
            color: colour,
            width,
            head: style.line(6.0),
        });
    } else {
        // Still travelling: a line without a head (solid: dashes are slow to rasterise).
        out.push(Shape::Line {
            a,
            b,
            color: colour,
            width,
            dash: false,
        });
    }
    segs.push(Segment { msg: id, a, b });
}

/// The message whose segment passes within reach of `p`.
pub fn hit_segment(segs: &[Segment], p: Pt) -> Option<u64> {
    segs.iter()
        .map(|s| (s.msg, seg_dist(s.a, s.b, p).0))
        .filter(|(_, d)| *d <= 5.0)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(m, _)| m)
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

/// What the diagram shows of the logical clocks ([`crate::sim::clocks`]), over its shapes.
pub struct ClockOverlay<'a> {
    pub clocks: &'a WindowClocks,
    /// Each event labelled with its Lamport timestamp or vector clock, or neither.
    pub labels: Option<ClockLabels>,
    /// The selected event (its record's sequence number): its causal past and future are
    /// ringed in their colours, the events concurrent with it faintly.
    pub selected: Option<u64>,
}

/// The colours of an event's relation to the selected one (the selection itself is
/// [`SELECT`], the concurrent [`FAINT`]).
pub const CAUSAL_PAST: &str = PALETTE[2];
pub const CAUSAL_FUTURE: &str = PALETTE[1];

/// The clocks' marks for the events in view: labels along each row (shortened or left out
/// where they would overlap, as notes are) and rings by relation to the selected event. Drawn
/// after [`diagram`], with the same input and size.
pub fn clock_overlay(
    input: &DiagramInput,
    overlay: &ClockOverlay,
    w: f64,
    h: f64,
    style: Style,
) -> Vec<Shape> {
    let g = geom(input, w, h, style);
    let font = style.font(11.0);
    let c = overlay.clocks;
    let selected = overlay.selected.and_then(|seq| c.index_of(seq));
    let mut out = Vec::new();
    let mut labels = Vec::new();
    for (i, st) in c.stamps().iter().enumerate() {
        if st.at_us < g.t0 || st.at_us > g.t1.min(input.now_us) {
            continue;
        }
        let Some(p) = g.at(st.process, st.at_us) else {
            continue;
        };
        if let Some(sel) = selected {
            let (color, width) = match c.order(i, sel) {
                Order::Same => (SELECT, 2.5),
                Order::Before => (CAUSAL_PAST, 2.0),
                Order::After => (CAUSAL_FUTURE, 2.0),
                Order::Concurrent => (FAINT, 1.0),
            };
            out.push(Shape::Circle {
                c: p,
                r: style.line(5.0),
                fill: None,
                stroke: Some(color),
                width: style.line(width),
                dash: false,
            });
        }
        if let Some(kind) = overlay.labels {
            labels.push(Label {
                lane: st.process,
                at: Pt::new(p.x + 2.0, p.y + font * 0.8),
                text: Cow::Owned(kind.label(c, i)),
                max_chars: 40,
                color: INK,
                size: font * 0.8,
                bold: Some(i) == selected,
            });
        }
    }
    place_labels(labels, g.right + 6.0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    /// The diagram's messages the slow, obvious way: every send in the cache, with its end
    /// looked up among all records.
    fn naive_segments(g: &Geom, input: &DiagramInput, style: Style) -> Vec<(u64, i64, i64)> {
        let mut ends: HashMap<u64, (u64, bool)> = HashMap::new();
        let mut copies = Vec::new();
        for r in input.records {
            match (r.what, r.msg) {
                ("deliver", Some(m)) => {
                    ends.entry(m).or_insert((r.at_us, false));
                }
                ("drop", Some(m)) => {
                    ends.entry(m).or_insert((r.at_us, true));
                }
                ("duplicate", Some(m)) => {
                    if let Some(c) = r.text.strip_prefix("copy #").and_then(|c| c.parse().ok()) {
                        copies.push((c, m));
                    }
                }
                _ => {}
            }
        }
        let (mut out, mut segs) = (Vec::new(), Vec::new());
        let sends: Vec<&RecordView> = input.records.iter().filter(|r| r.what == "send").collect();
        for r in &sends {
            let id = r.msg.unwrap();
            message(
                g,
                input,
                r,
                id,
                ends.get(&id).copied(),
                style,
                &mut out,
                &mut segs,
            );
        }
        for (copy, orig) in copies {
            if let Some(r) = sends.iter().find(|r| r.msg == Some(orig)) {
                message(
                    g,
                    input,
                    r,
                    copy,
                    ends.get(&copy).copied(),
                    style,
                    &mut out,
                    &mut segs,
                );
            }
        }
        let mut v: Vec<_> = segs
            .iter()
            .map(|s| (s.msg, (s.b.x * 100.0) as i64, (s.b.y * 100.0) as i64))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn the_windowed_scan_draws_exactly_the_messages_a_full_scan_draws() {
        use crate::labs;
        use crate::scenario::link;
        // Loss, duplication and long, varied latencies: messages cross the window's left edge.
        let sc = link::decode(
            "#/raft?n=5&seed=9&lat=20..400ms&loss=10%&dup=10%&clients=3&s=2s:crash:0;4s:restart:0",
        )
        .unwrap();
        let mut sim = labs::build(&sc).unwrap();
        let style = Style { scale: 1.0 };
        let mut checked = 0;
        for step in 1..=12u64 {
            let now = step * 500_000;
            sim.run_until(crate::sim::time::Instant(now));
            let records = sim.records();
            let labels: Vec<String> = sim.nodes().into_iter().map(|n| n.label).collect();
            for span in [250_000, 1_000_000, 5_000_000] {
                let input = DiagramInput {
                    records: &records,
                    node_labels: &labels,
                    clients: sim.clients(),
                    now_us: now,
                    span_us: span,
                    selected_msg: None,
                };
                let (shapes, segs) = diagram(&input, 1000.0, 300.0, style);
                // S0 is down from 2 s to 4 s: its line is dashed even in a window that starts
                // after the crash (known only from before the window).
                let downtime = shapes
                    .iter()
                    .any(|s| matches!(s, Shape::Line { color, dash: true, .. } if *color == ALERT));
                let (w0, w1) = window(now, span);
                assert_eq!(
                    downtime,
                    w0 < 4_000_000 && now.min(w1) > 2_000_000,
                    "now {now} span {span}"
                );
                let mut fast: Vec<_> = segs
                    .iter()
                    .map(|s| (s.msg, (s.b.x * 100.0) as i64, (s.b.y * 100.0) as i64))
                    .collect();
                fast.sort_unstable();
                let (t0, t1) = window(now, span);
                let font = style.font(11.0);
                let g = Geom {
                    left: style.font(34.0),
                    right: 1000.0 - 8.0,
                    t0,
                    t1,
                    rows: rows(5, sim.clients(), font * 1.6, 300.0 - font * 1.8),
                };
                assert_eq!(
                    fast,
                    naive_segments(&g, &input, style),
                    "now {now} span {span}"
                );
                checked += fast.len();
            }
        }
        assert!(checked > 500, "the run drew {checked} segments");
    }

    fn rec(seq: u64, at_us: u64, what: &'static str, msg: Option<u64>) -> RecordView {
        RecordView {
            seq,
            at_us,
            what,
            msg,
            from: Some(0),
            to: Some(1),
            node: Some(0),
            arrive_us: None,
            lost: false,
            text: "client request".into(),
            colour: super::super::colors::PALETTE[4],
        }
    }

    #[test]
    fn labels_never_overlap_in_a_lane_and_the_newest_is_whole() {
        let labels = vec!["S0".to_string(), "S1".to_string()];
        let mut records = Vec::new();
        let mut put = |at_ms: u64, what: &'static str, node: u32, text: &str| {
            let mut r = rec(records.len() as u64, at_ms * 1_000, what, None);
            r.node = Some(node);
            r.text = text.into();
            records.push(r);
        };
        // Three notes on S0 a few pixels apart, one on S1 among them, and interventions and a
        // violation close together along the top.
        put(100, "note", 0, "election for term 5 timed out");
        put(100, "command", 0, "partition 0|1");
        put(105, "command", 0, "heal");
        put(110, "note", 0, "stood for term 6");
        put(115, "note", 1, "became follower in term 6");
        put(120, "note", 0, "became leader in term 6");
        put(400, "note", 0, "committed index 3");
        put(402, "violation", 0, "Election Safety");
        let input = DiagramInput {
            records: &records,
            node_labels: &labels,
            clients: 0,
            now_us: 500_000,
            span_us: 1_000_000,
            selected_msg: None,
        };
        // Presenter mode (larger type) on a wider canvas, as on a projector.
        for (scale, w) in [(1.0, 600.0), (1.6, 1000.0)] {
            let style = Style { scale };
            let h = 200.0;
            let (shapes, _) = diagram(&input, w, h, style);
            let left = style.font(34.0);
            // Labels: text right of the row names and above the time axis.
            let mut lanes: BTreeMap<i64, Vec<(f64, f64, String)>> = BTreeMap::new();
            for sh in &shapes {
                if let Shape::Text {
                    at,
                    text,
                    size,
                    bold,
                    ..
                } = sh
                {
                    if at.x > left && at.y < h - style.font(11.0) * 1.8 {
                        let width = text.chars().count() as f64 * char_width(*size, *bold);
                        lanes.entry((at.y * 10.0) as i64).or_default().push((
                            at.x,
                            at.x + width,
                            text.clone(),
                        ));
                    }
                }
            }
            for (y, lane) in &mut lanes {
                crate::sim::order::sort_by(lane, |a, b| a.0.total_cmp(&b.0));
                for pair in lane.windows(2) {
                    assert!(
                        pair[0].1 <= pair[1].0,
                        "scale {scale}, lane y {y}: '{}' runs into '{}'",
                        pair[0].2,
                        pair[1].2
                    );
                }
                for l in lane.iter() {
                    assert!(l.1 <= w, "'{}' runs off the canvas", l.2);
                }
            }
            let texts: Vec<&str> = lanes.values().flatten().map(|l| l.2.as_str()).collect();
            for whole in [
                "became leader in term 6",
                "became follower in term 6",
                "committed index 3",
                "✗ Election Safety",
            ] {
                assert!(
                    texts.contains(&whole),
                    "scale {scale}: '{whole}' in {texts:?}"
                );
            }
            // Older labels squeezed out or shortened, never drawn over.
            assert!(
                !texts.contains(&"election for term 5 timed out"),
                "scale {scale}: {texts:?}"
            );
        }
    }

    #[test]
    fn recorded_commands_read_as_words() {
        let labels: Vec<String> = (0..5).map(|i| format!("S{i}")).collect();
        for (text, words) in [
            ("1199.999ms:part:0.3.4/1.2", "partition S0 S3 S4 | S1 S2"),
            ("3716.499ms:cut:0-1", "cut S0–S1"),
            ("2s:cut:1>0", "cut S1→S0"),
            ("3s:heal", "heal all"),
            ("4s:crash:2", "crash S2"),
            ("5s:restart:2", "restart S2"),
            ("6s:drop:812", "drop message #812"),
            ("7s:set:loss=5%", "set loss=5%"),
            ("8s:part:0.1.5/2.3.4", "partition S0 S1 C0 | S2 S3 S4"),
            ("8s:op:1@2:put x 1", "C1 asks S2: put x 1"),
            ("not a command", "not a command"),
        ] {
            assert_eq!(command_words(text, &labels), words, "{text}");
        }
    }

    #[test]
    fn the_window_keeps_the_cursor_in_view() {
        assert_eq!(window(0, 1_000_000), (0, 1_000_000));
        let (t0, t1) = window(5_000_000, 1_000_000);
        assert!(t0 < 5_000_000 && 5_000_000 < t1);
        assert_eq!(t1 - t0, 1_000_000);
    }

    #[test]
    fn nice_steps_are_round() {
        assert_eq!(nice_step(0), 1_000);
        assert_eq!(nice_step(1_500), 2_000);
        assert_eq!(nice_step(160_000), 200_000);
        assert_eq!(nice_step(3_000_000), 5_000_000);
    }

    #[test]
    fn a_delivered_message_is_an_arrow_and_a_dropped_one_ends_in_a_cross() {
        let labels = vec!["S0".to_string(), "S1".to_string()];
        let mut s1 = rec(1, 0, "send", Some(1));
        s1.arrive_us = Some(50_000);
        let d1 = rec(2, 50_000, "deliver", Some(1));
        let mut s2 = rec(3, 10_000, "send", Some(2));
        s2.arrive_us = Some(30_000);
        s2.lost = true;
        let x2 = rec(4, 30_000, "drop", Some(2));
        let records = vec![s1, d1, s2, x2];
        let input = DiagramInput {
            records: &records,
            node_labels: &labels,
            clients: 0,
            now_us: 100_000,
            span_us: 1_000_000,
            selected_msg: Some(1),
        };
        let (shapes, segs) = diagram(&input, 600.0, 200.0, Style::default());
        assert_eq!(
            shapes
                .iter()
                .filter(|s| matches!(s, Shape::Arrow { color, .. } if *color == SELECT))
                .count(),
            1
        );
        assert_eq!(
            shapes
                .iter()
                .filter(|s| matches!(s, Shape::Cross { .. }))
                .count(),
            1
        );
        assert_eq!(segs.len(), 2);
        let lost = segs.iter().find(|s| s.msg == 2).unwrap();
        // A lost message stops half way between the rows.
        let rows = rows(2, 0, 11.0 * 1.6, 200.0 - 11.0 * 1.8);
        assert!((lost.b.y - (rows[0] + rows[1]) / 2.0).abs() < 1e-6);
        let mid = segs[0].a.lerp(segs[0].b, 0.5);
        assert_eq!(hit_segment(&segs, mid), Some(segs[0].msg));
    }

    #[test]
    fn a_message_in_flight_is_drawn_up_to_the_cursor() {
        let labels = vec!["S0".to_string(), "S1".to_string()];
        let mut s = rec(1, 0, "send", Some(7));
        s.arrive_us = Some(100_000);
        let records = vec![s];
        let input = DiagramInput {
            records: &records,
            node_labels: &labels,
            clients: 0,
            now_us: 50_000,
            span_us: 1_000_000,
            selected_msg: None,
        };
        let (_, segs) = diagram(&input, 600.0, 200.0, Style::default());
        let g_mid_y = (segs[0].a.y + rows(2, 0, 11.0 * 1.6, 200.0 - 11.0 * 1.8)[1]) / 2.0;
        assert!(
            (segs[0].b.y - g_mid_y).abs() < 1e-6,
            "half way at half time"
        );
    }

    #[test]
    fn a_message_sent_before_the_window_enters_from_its_left_edge() {
        let labels = vec!["S0".to_string(), "S1".to_string()];
        let mut s = rec(1, 0, "send", Some(3));
        s.arrive_us = Some(2_000_000);
        let d = rec(2, 2_000_000, "deliver", Some(3));
        let records = vec![s, d];
        let input = DiagramInput {
            records: &records,
            node_labels: &labels,
            clients: 0,
            now_us: 2_500_000,
            span_us: 1_000_000,
            selected_msg: None,
        };
        let (_, segs) = diagram(&input, 600.0, 200.0, Style::default());
        assert_eq!(segs.len(), 1);
        assert!(
            (segs[0].a.x - Style::default().font(34.0)).abs() < 1e-6,
            "clipped to the plot's left edge"
        );
    }

    // The selected event is ringed once, every other event in view by its relation to it
    // (past, future or concurrent, as the vector clocks say), and labels are vector clocks.
    #[test]
    fn the_clock_overlay_rings_each_event_by_its_relation_to_the_selected_one() {
        use crate::labs;
        use crate::scenario::link;
        let sc = link::decode("#/raft?n=3&seed=2&clients=1&think=50ms&clocks=vector").unwrap();
        let mut sim = labs::build(&sc).unwrap();
        sim.run_until(crate::sim::time::Instant(1_500_000));
        let (records, clocks) = (sim.records(), sim.logical_clocks().unwrap());
        let labels: Vec<String> = sim.nodes().into_iter().map(|n| n.label).collect();
        let input = DiagramInput {
            records: &records,
            node_labels: &labels,
            clients: sim.clients(),
            now_us: 1_500_000,
            span_us: 1_000_000,
            selected_msg: None,
        };
        let (t0, _) = window(1_500_000, 1_000_000);
        let shown: Vec<usize> = (0..clocks.len())
            .filter(|i| clocks.stamps()[*i].at_us >= t0)
            .collect();
        let sel = shown[shown.len() / 2];
        let overlay = ClockOverlay {
            clocks: &clocks,
            labels: Some(ClockLabels::Vector),
            selected: Some(clocks.stamps()[sel].seq),
        };
        let shapes = clock_overlay(&input, &overlay, 1000.0, 300.0, Style { scale: 1.0 });
        let ring = |colour: &str| {
            shapes
                .iter()
                .filter(|s| matches!(s, Shape::Circle { stroke: Some(c), .. } if *c == colour))
                .count()
        };
        let count = |o: Order| shown.iter().filter(|i| clocks.order(**i, sel) == o).count();
        assert_eq!(ring(SELECT), 1);
        assert_eq!(ring(CAUSAL_PAST), count(Order::Before));
        assert_eq!(ring(CAUSAL_FUTURE), count(Order::After));
        assert_eq!(ring(FAINT), count(Order::Concurrent));
        assert!(count(Order::Before) > 0 && count(Order::After) > 0);
        let texts = shapes.iter().filter_map(|s| match s {
            Shape::Text { text, .. } => Some(text),
            _ => None,
        });
        assert!(texts.clone().count() > 0);
        assert!(texts.clone().all(|t| t.starts_with('[')));
    }
}
