//! Layout and shapes for the topology view: where every node, client, link and message is at a
//! given virtual instant, and what lies under the pointer.
//!
//! Pure: the browser painter (`ui::paint`) only draws the [`Shape`]s computed here, so the
//! geometry — message interpolation, hit testing, splitting the circle of nodes by a dragged line — is
//! tested natively. Coordinates are CSS pixels; the painter scales for the device pixel ratio.

use super::colors::{for_role, ALERT, NEUTRAL};
use super::trig;
use super::Within;
use super::{MsgView, NodeView};
use crate::sim::trace::RecordView;

/// Text and outlines.
pub const INK: &str = "#1f2328";
/// Healthy links and quiet lines.
pub const FAINT: &str = "#c9ced6";
/// Selection highlight (Okabe–Ito blue).
pub const SELECT: &str = "#0072B2";
pub const PAPER: &str = "#ffffff";
const CRASHED_FILL: &str = "#eceef1";

/// A point in CSS pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
}

impl Pt {
    pub fn new(x: f64, y: f64) -> Pt {
        Pt { x, y }
    }
    pub fn lerp(self, to: Pt, f: f64) -> Pt {
        Pt::new(self.x + (to.x - self.x) * f, self.y + (to.y - self.y) * f)
    }
    pub fn dist(self, o: Pt) -> f64 {
        ((self.x - o.x).powi(2) + (self.y - o.y).powi(2)).sqrt()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// One thing to draw. Colours are CSS colour strings from [`super::colors`] or this module.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Line {
        a: Pt,
        b: Pt,
        color: &'static str,
        width: f64,
        dash: bool,
    },
    /// A line with an arrow head at `b`.
    Arrow {
        a: Pt,
        b: Pt,
        color: &'static str,
        width: f64,
        head: f64,
    },
    Circle {
        c: Pt,
        r: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
        dash: bool,
    },
    /// An arc from `start` sweeping `sweep` radians clockwise (0 = twelve o'clock).
    Arc {
        c: Pt,
        r: f64,
        start: f64,
        sweep: f64,
        color: &'static str,
        width: f64,
    },
    Rect {
        at: Pt,
        w: f64,
        h: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
    },
    Cross {
        c: Pt,
        r: f64,
        color: &'static str,
        width: f64,
    },
    Text {
        at: Pt,
        text: String,
        color: &'static str,
        size: f64,
        align: Align,
        bold: bool,
    },
}

impl Shape {
    /// The same shape moved by `(dx, dy)`: a part of a canvas drawn in its own coordinates.
    pub fn shifted(mut self, dx: f64, dy: f64) -> Shape {
        let by = |p: &mut Pt| *p = Pt::new(p.x + dx, p.y + dy);
        match &mut self {
            Shape::Line { a, b, .. } | Shape::Arrow { a, b, .. } => {
                by(a);
                by(b);
            }
            Shape::Circle { c, .. } | Shape::Arc { c, .. } | Shape::Cross { c, .. } => by(c),
            Shape::Rect { at, .. } | Shape::Text { at, .. } => by(at),
        }
        self
    }

    /// A straight line (dashed when `dash`).
    pub fn line(a: Pt, b: Pt, color: &'static str, width: f64, dash: bool) -> Shape {
        Shape::Line {
            a,
            b,
            color,
            width,
            dash,
        }
    }

    /// Text at `at` (vertically centred on it).
    pub fn text(
        at: Pt,
        text: String,
        color: &'static str,
        size: f64,
        align: Align,
        bold: bool,
    ) -> Shape {
        Shape::Text {
            at,
            text,
            color,
            size,
            align,
            bold,
        }
    }

    /// A rectangle from its top-left corner.
    pub fn rect(
        at: Pt,
        w: f64,
        h: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
    ) -> Shape {
        Shape::Rect {
            at,
            w,
            h,
            fill,
            stroke,
            width,
        }
    }
}

/// What shapes are drawn into: one method per kind of [`Shape`], taking its fields. The canvas
/// painter (`ui::paint`) and the paint worker's encoder ([`super::packed`]) are sinks; they
/// receive shapes through [`Shape::draw_into`], the one place that matches over the kinds.
pub trait ShapeSink {
    fn line(&mut self, a: Pt, b: Pt, color: &'static str, width: f64, dash: bool);
    /// A line with an arrow head at `b`.
    fn arrow(&mut self, a: Pt, b: Pt, color: &'static str, width: f64, head: f64);
    fn circle(
        &mut self,
        c: Pt,
        r: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
        dash: bool,
    );
    /// An arc from `start` sweeping `sweep` radians clockwise (0 = twelve o'clock).
    fn arc(&mut self, c: Pt, r: f64, start: f64, sweep: f64, color: &'static str, width: f64);
    fn rect(
        &mut self,
        at: Pt,
        w: f64,
        h: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
    );
    fn cross(&mut self, c: Pt, r: f64, color: &'static str, width: f64);
    fn text(
        &mut self,
        at: Pt,
        text: &str,
        color: &'static str,
        size: f64,
        align: Align,
        bold: bool,
    );
}

impl Shape {
    /// Hands this shape to `sink` as a call of the method for its kind.
    pub fn draw_into(&self, sink: &mut dyn ShapeSink) {
        match *self {
            Shape::Line {
                a,
                b,
                color,
                width,
                dash,
            } => sink.line(a, b, color, width, dash),
            Shape::Arrow {
                a,
                b,
                color,
                width,
                head,
            } => sink.arrow(a, b, color, width, head),
            Shape::Circle {
                c,
                r,
                fill,
                stroke,
                width,
                dash,
            } => sink.circle(c, r, fill, stroke, width, dash),
            Shape::Arc {
                c,
                r,
                start,
                sweep,
                color,
                width,
            } => sink.arc(c, r, start, sweep, color, width),
            Shape::Rect {
                at,
                w,
                h,
                fill,
                stroke,
                width,
            } => sink.rect(at, w, h, fill, stroke, width),
            Shape::Cross { c, r, color, width } => sink.cross(c, r, color, width),
            Shape::Text {
                at,
                ref text,
                color,
                size,
                align,
                bold,
            } => sink.text(at, text, color, size, align, bold),
        }
    }
}

/// The width a character of `size` px takes at most on average in the canvas font (a generous
/// estimate: labels must not touch).
pub fn char_width(size: f64, bold: bool) -> f64 {
    size * if bold { 0.65 } else { 0.58 }
}

/// Where and how a lab's own stage is drawn (`crate::labs::LabProtocol::stage`): the canvas's CSS size, presenter scale, the cursor
/// and what is selected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageArea {
    pub w: f64,
    pub h: f64,
    pub style: Style,
    pub selected: Selection,
    pub hover: Selection,
}

/// Sizes that change with presenter mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    /// 1.0 normally; larger in presenter mode (thicker lines, larger type).
    pub scale: f64,
}

impl Default for Style {
    fn default() -> Self {
        Style { scale: 1.0 }
    }
}

impl Style {
    pub fn font(&self, px: f64) -> f64 {
        px * self.scale
    }
    pub fn line(&self, px: f64) -> f64 {
        px * libm::pow(self.scale, 1.3)
    }
}

/// Where the nodes (on a circle) and the clients (small squares outside it) sit.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub nodes: Vec<Pt>,
    pub clients: Vec<Pt>,
    pub node_r: f64,
    pub client_half: f64,
    pub center: Pt,
    pub radius: f64,
}

impl Layout {
    /// Nodes evenly on a circle starting at twelve o'clock, clients on an outer arc offset by
    /// half a step so they do not hide behind nodes.
    pub fn circle(n: u32, clients: u32, w: f64, h: f64, style: Style) -> Layout {
        let center = Pt::new(w / 2.0, h / 2.0);
        let half = (w.min(h) / 2.0).max(40.0);
        let outer = if clients > 0 { 0.84 } else { 0.0 };
        let radius = if n <= 1 {
            0.0
        } else {
            half * if clients > 0 { 0.6 } else { 0.76 }
        };
        let step = std::f64::consts::TAU / n.max(1) as f64;
        let nodes: Vec<Pt> = (0..n)
            .map(|i| on_circle(center, radius, i as f64 * step))
            .collect();
        let spacing = if n <= 1 {
            half
        } else {
            radius * step.min(std::f64::consts::PI)
        };
        // Many nodes (a ring of 64 servers) get small circles rather than overlapping ones.
        let node_r = (spacing * 0.32)
            .max((spacing * 0.45).min(9.0))
            .within(4.0, 30.0 * style.scale.sqrt());
        let cstep = std::f64::consts::TAU / clients.max(1) as f64;
        let cradius = half * outer;
        let client_list: Vec<Pt> = (0..clients)
            .map(|i| on_circle(center, cradius, (i as f64 + 0.5) * cstep))
            .collect();
        let client_half = (cradius * cstep * 0.2).within(3.5, 8.0 * style.scale.sqrt());
        Layout {
            nodes,
            clients: client_list,
            node_r,
            client_half,
            center,
            radius,
        }
    }

    /// The position of endpoint `e` (nodes first, then clients).
    pub fn pos(&self, e: u32) -> Option<Pt> {
        let e = e as usize;
        self.nodes
            .get(e)
            .or_else(|| {
                e.checked_sub(self.nodes.len())
                    .and_then(|c| self.clients.get(c))
            })
            .copied()
    }

    /// Radius of an endpoint's shape, for hit tests and where arrows start.
    pub fn size(&self, e: u32) -> f64 {
        if (e as usize) < self.nodes.len() {
            self.node_r
        } else {
            self.client_half * 1.4
        }
    }
}

fn on_circle(c: Pt, r: f64, angle: f64) -> Pt {
    Pt::new(c.x + r * trig::sin(angle), c.y - r * trig::cos(angle))
}

/// How far along its path a message is at `now_us` (0 at the sender, 1 at the receiver). A lost
/// message vanishes at its `arrive_us`, half way along.
pub fn msg_fraction(m: &MsgView, now_us: u64) -> f64 {
    let span = m.arrive_us.saturating_sub(m.sent_us) as f64;
    if span <= 0.0 {
        return if m.lost { 0.5 } else { 1.0 };
    }
    let f = (now_us.saturating_sub(m.sent_us) as f64 / span).within(0.0, 1.0);
    if m.lost {
        f * 0.5
    } else {
        f
    }
}

/// Where a message is drawn at `now_us`.
pub fn msg_pos(layout: &Layout, m: &MsgView, now_us: u64) -> Option<Pt> {
    let (a, b) = (layout.pos(m.from)?, layout.pos(m.to)?);
    Some(a.lerp(b, msg_fraction(m, now_us)))
}

/// A recent drop, drawn as a fading cross where it happened.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropMark {
    pub from: u32,
    pub to: u32,
    /// Where along the path (0 = sender).
    pub frac: f64,
    /// 0 = just happened, 1 = about to fade out.
    pub age: f64,
}

/// Drops in `(now - fade_us, now]`, placed where the message was when it was dropped.
pub fn drop_marks(records: &[RecordView], now_us: u64, fade_us: u64) -> Vec<DropMark> {
    let since = now_us.saturating_sub(fade_us.max(1));
    let start = records.partition_point(|r| r.at_us <= since);
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate().skip(start) {
        if r.at_us > now_us || r.what != "drop" {
            continue;
        }
        let (Some(from), Some(to), Some(id)) = (r.from, r.to, r.msg) else {
            continue;
        };
        let frac = send_fraction(&records[..i], id, r.at_us);
        let age = (now_us - r.at_us) as f64 / fade_us.max(1) as f64;
        out.push(DropMark {
            from,
            to,
            frac,
            age: age.within(0.0, 1.0),
        });
    }
    out
}

fn send_fraction(records: &[RecordView], id: u64, at_us: u64) -> f64 {
    // The send is earlier in the trace, usually shortly before the drop.
    let send = records
        .iter()
        .rev()
        .find(|r| r.what == "send" && r.msg == Some(id));
    match send.and_then(|s| Some((s.at_us, s.arrive_us?, s.lost))) {
        Some((sent, arrive, lost)) => {
            let span = arrive.saturating_sub(sent) as f64;
            if span <= 0.0 {
                return 0.12;
            }
            let f = at_us.saturating_sub(sent) as f64 / span;
            (if lost { f * 0.5 } else { f }).within(0.12, 0.88)
        }
        None => 0.5,
    }
}

/// What is highlighted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    #[default]
    None,
    Node(u32),
    Msg(u64),
    /// One of the lab's own things on its stage (an entry of a log, a key on a ring), by the
    /// id the lab gives it.
    Item(u64),
}

/// Everything the topology view shows at one instant.
pub struct TopologyInput<'a> {
    pub nodes: &'a [NodeView],
    pub clients: u32,
    pub msgs: &'a [MsgView],
    /// Directed links that are cut.
    pub cuts: &'a [(u32, u32)],
    pub drops: &'a [DropMark],
    pub now_us: u64,
    pub selected: Selection,
    pub hover: Selection,
    /// The partition line being dragged.
    pub drag: Option<(Pt, Pt)>,
    /// What a lesson's step points at: these nodes, and messages of this kind.
    pub focus: Focus<'a>,
}

/// What a lesson's step points at on the topology, ringed in the focus colour.
#[derive(Clone, Copy, Debug, Default)]
pub struct Focus<'a> {
    pub nodes: &'a [u32],
    pub kind: Option<&'a str>,
}

/// The ring around what a lesson points at: the page's focus colour (a node's ring is dashed,
/// unlike any role's).
pub const FOCUS: &str = "#E69F00";

/// The topology view's shapes, back to front: links, cut marks, messages, drops, nodes,
/// clients, the partition line.
pub fn topology(layout: &Layout, input: &TopologyInput, style: Style) -> Vec<Shape> {
    let mut out = Vec::with_capacity(64 + input.msgs.len() + input.nodes.len() * 6);
    links(layout, input, style, &mut out);
    let first_msg = out.len();
    let mut selected_dot = None;
    let mut focused = Vec::new();
    for m in input.msgs {
        let Some(p) = msg_pos(layout, m, input.now_us) else {
            continue;
        };
        if input.focus.kind == Some(m.kind) {
            focused.push(Shape::Circle {
                c: p,
                r: style.line(9.0),
                fill: None,
                stroke: Some(FOCUS),
                width: style.line(2.5),
                dash: false,
            });
        }
        if input.selected == Selection::Msg(m.id) {
            selected_dot = Some(Shape::Circle {
                c: p,
                r: style.line(6.5),
                fill: Some(m.colour),
                stroke: Some(INK),
                width: style.line(2.0),
                dash: false,
            });
            continue;
        }
        out.push(Shape::Circle {
            c: p,
            r: style.line(4.5),
            fill: Some(m.colour),
            stroke: None,
            width: 0.0,
            dash: false,
        });
    }
    group_by_colour(&mut out[first_msg..]);
    out.extend(focused);
    out.extend(selected_dot);
    for d in input.drops {
        let (Some(a), Some(b)) = (layout.pos(d.from), layout.pos(d.to)) else {
            continue;
        };
        let r = style.line(6.0) * (1.0 - 0.4 * d.age);
        out.push(Shape::Cross {
            c: a.lerp(b, d.frac),
            r,
            color: ALERT,
            width: style.line(2.5),
        });
    }
    // The width a label under a node has before it meets its neighbour's.
    let n = layout.nodes.len();
    let room = if n > 1 {
        2.0 * layout.radius * trig::sin(std::f64::consts::PI / n as f64)
    } else {
        f64::INFINITY
    };
    for (i, nv) in input.nodes.iter().enumerate() {
        if let Some(&c) = layout.nodes.get(i) {
            node(c, layout.node_r, room, nv, input, style, &mut out);
        }
    }
    for (i, &c) in layout.clients.iter().enumerate() {
        let e = input.nodes.len() as u32 + i as u32;
        let h = layout.client_half;
        let hot = input.selected == Selection::Node(e) || input.hover == Selection::Node(e);
        out.push(Shape::Rect {
            at: Pt::new(c.x - h, c.y - h),
            w: 2.0 * h,
            h: 2.0 * h,
            fill: Some(if hot { SELECT } else { NEUTRAL }),
            stroke: None,
            width: 0.0,
        });
        // The client's name just outside its square, away from the circle.
        let (dx, dy) = (c.x - layout.center.x, c.y - layout.center.y);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let off = h + style.font(9.0);
        out.push(Shape::Text {
            at: Pt::new(c.x + dx / len * off, c.y + dy / len * off),
            text: format!("C{i}"),
            color: NEUTRAL,
            size: style.font(10.0),
            align: Align::Center,
            bold: false,
        });
    }
    if let Some((a, b)) = input.drag {
        out.push(Shape::Line {
            a,
            b,
            color: ALERT,
            width: style.line(2.5),
            dash: true,
        });
    }
    out
}

fn links(layout: &Layout, input: &TopologyInput, style: Style, out: &mut Vec<Shape>) {
    let n = layout.nodes.len();
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (layout.nodes[i], layout.nodes[j]);
            let ij = input.cuts.contains(&(i as u32, j as u32));
            let ji = input.cuts.contains(&(j as u32, i as u32));
            if !ij && !ji {
                out.push(Shape::Line {
                    a,
                    b,
                    color: FAINT,
                    width: style.line(1.0),
                    dash: false,
                });
                continue;
            }
            out.push(Shape::Line {
                a,
                b,
                color: ALERT,
                width: style.line(1.6),
                dash: true,
            });
            // A cross near the receiving end of each cut direction (the middle if both).
            let marks: Vec<f64> = match (ij, ji) {
                (true, true) => vec![0.5],
                (true, false) => vec![0.68],
                _ => vec![0.32],
            };
            for f in marks {
                out.push(Shape::Cross {
                    c: a.lerp(b, f),
                    r: style.line(5.0),
                    color: ALERT,
                    width: style.line(2.2),
                });
            }
        }
    }
}

fn node(
    c: Pt,
    r: f64,
    room: f64,
    nv: &NodeView,
    input: &TopologyInput,
    style: Style,
    out: &mut Vec<Shape>,
) {
    let colour = if nv.up {
        for_role(nv.role_class)
    } else {
        NEUTRAL
    };
    if input.focus.nodes.contains(&nv.id) {
        out.push(Shape::Circle {
            c,
            r: r + style.line(10.0),
            fill: None,
            stroke: Some(FOCUS),
            width: style.line(4.0),
            dash: true,
        });
    }
    let sel = input.selected == Selection::Node(nv.id);
    if sel || input.hover == Selection::Node(nv.id) {
        let w = style.line(if sel { 3.0 } else { 1.5 });
        out.push(Shape::Circle {
            c,
            r: r + style.line(6.0),
            fill: None,
            stroke: Some(SELECT),
            width: w,
            dash: false,
        });
    }
    out.push(Shape::Circle {
        c,
        r,
        fill: Some(if nv.up { PAPER } else { CRASHED_FILL }),
        stroke: Some(colour),
        width: style.line(if nv.up { 4.0 } else { 2.0 }),
        dash: !nv.up,
    });
    if let (Some(f), true) = (nv.timer_fraction, nv.up) {
        let f = f.within(0.0, 1.0) as f64;
        out.push(Shape::Arc {
            c,
            r: r + style.line(3.5),
            start: 0.0,
            sweep: f * std::f64::consts::TAU,
            color: INK,
            width: style.line(1.5),
        });
    }
    let size = (r * 0.62).within(9.0, style.font(18.0));
    // A circle too small for its label is left unlabelled (the inspector names it).
    if r >= 8.0 {
        out.push(Shape::Text {
            at: c,
            text: nv.label.clone(),
            color: INK,
            size,
            align: Align::Center,
            bold: true,
        });
    }
    if !nv.up {
        out.push(Shape::Cross {
            c,
            r: r * 0.75,
            color: ALERT,
            width: style.line(2.5),
        });
    }
    let role = if nv.up {
        nv.role.clone()
    } else {
        "crashed".to_string()
    };
    let size = style.font(11.0);
    // Role text needs room beside the neighbours: a crowded circle goes without.
    if !role.is_empty() && room >= size * 3.5 {
        // "follower, term 2" on one line if it fits beside the neighbours, else on two.
        let wide = role.chars().count() as f64 * char_width(size, false);
        let lines: Vec<&str> = match role.split_once(", ") {
            Some((a, b)) if wide > room * 0.9 => vec![a, b],
            _ => vec![role.as_str()],
        };
        for (k, line) in lines.into_iter().enumerate() {
            out.push(Shape::Text {
                at: Pt::new(c.x, c.y + r + size * (1.0 + 1.15 * k as f64)),
                text: line.to_string(),
                color: INK,
                size,
                align: Align::Center,
                bold: false,
            });
        }
    }
}

/// The colour a shape is drawn in.
pub fn colour_of(s: &Shape) -> &'static str {
    match s {
        Shape::Line { color, .. }
        | Shape::Arrow { color, .. }
        | Shape::Arc { color, .. }
        | Shape::Cross { color, .. }
        | Shape::Text { color, .. } => color,
        Shape::Circle { fill, stroke, .. } | Shape::Rect { fill, stroke, .. } => {
            fill.or(*stroke).unwrap_or("")
        }
    }
}

/// Reorders shapes whose drawing order does not matter so that equal colours are adjacent:
/// the painter then draws each colour in one path (hundreds of messages, a few calls).
pub fn group_by_colour(shapes: &mut [Shape]) {
    crate::sim::order::sort_by_key(shapes, colour_of);
}

/// The node or client under `p`, if any.
pub fn hit_endpoint(layout: &Layout, p: Pt) -> Option<u32> {
    let slack = 4.0;
    let n = layout.nodes.len() as u32;
    let node = (0..n).find(|&i| layout.nodes[i as usize].dist(p) <= layout.node_r + slack);
    node.or_else(|| {
        (0..layout.clients.len() as u32)
            .find(|&i| layout.clients[i as usize].dist(p) <= layout.client_half * 1.5 + slack)
            .map(|i| n + i)
    })
}

/// The message dot nearest `p` within reach. A dot under a node or a client (a message just
/// sent or about to arrive) cannot be seen, so it cannot be picked: a click there is the node's.
pub fn hit_message(
    layout: &Layout,
    msgs: &[MsgView],
    now_us: u64,
    p: Pt,
    style: Style,
) -> Option<u64> {
    let reach = style.line(4.5) + 5.0;
    let hidden = |q: Pt| {
        layout.nodes.iter().any(|c| c.dist(q) < layout.node_r)
            || layout
                .clients
                .iter()
                .any(|c| c.dist(q) < layout.client_half)
    };
    msgs.iter()
        .filter_map(|m| Some((m.id, msg_pos(layout, m, now_us)?)))
        .filter(|(_, q)| !hidden(*q))
        .map(|(id, q)| (id, q.dist(p)))
        .filter(|(_, d)| *d <= reach)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id)
}

/// The node-to-node link under `p` (away from the nodes themselves): `(a, b)` with `a < b`, and
/// the end nearer to `p`.
pub fn hit_link(layout: &Layout, p: Pt) -> Option<(u32, u32, u32)> {
    let n = layout.nodes.len();
    let mut best: Option<(f64, u32, u32, u32)> = None;
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (layout.nodes[i], layout.nodes[j]);
            let (d, t) = seg_dist(a, b, p);
            let len = a.dist(b).max(1.0);
            let clear = (layout.node_r + 4.0) / len;
            if d <= 6.0 && t > clear && t < 1.0 - clear && best.is_none_or(|b| d < b.0) {
                let near = if t < 0.5 { i } else { j } as u32;
                best = Some((d, i as u32, j as u32, near));
            }
        }
    }
    best.map(|(_, a, b, near)| (a, b, near))
}

/// Distance from `p` to the segment `ab`, and where along it the nearest point is (0..1).
pub fn seg_dist(a: Pt, b: Pt, p: Pt) -> (f64, f64) {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return (a.dist(p), 0.0);
    }
    let t = (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).within(0.0, 1.0);
    (a.lerp(b, t).dist(p), t)
}

/// Splits the nodes by the line through `a` and `b`: the two sides, each sorted, or `None` if the
/// line is too short or leaves every node on one side.
pub fn split_by_line(layout: &Layout, a: Pt, b: Pt) -> Option<[Vec<u32>; 2]> {
    if a.dist(b) < 12.0 {
        return None;
    }
    let mut sides = [Vec::new(), Vec::new()];
    for (i, p) in layout.nodes.iter().enumerate() {
        let cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
        sides[usize::from(cross < 0.0)].push(i as u32);
    }
    if sides[0].is_empty() || sides[1].is_empty() {
        return None;
    }
    Some(sides)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(from: u32, to: u32, sent_us: u64, arrive_us: u64, lost: bool) -> MsgView {
        MsgView {
            id: 1,
            from,
            to,
            sent_us,
            arrive_us,
            kind: "client request",
            colour: super::super::colors::PALETTE[4],
            lost,
        }
    }

    #[test]
    fn messages_move_linearly_from_sender_to_receiver_in_virtual_time() {
        let m = msg(0, 1, 1_000, 3_000, false);
        assert_eq!(msg_fraction(&m, 1_000), 0.0);
        assert_eq!(msg_fraction(&m, 2_000), 0.5);
        assert_eq!(msg_fraction(&m, 3_000), 1.0);
        assert_eq!(msg_fraction(&m, 9_000), 1.0, "never past the receiver");
        assert_eq!(msg_fraction(&m, 0), 0.0, "never behind the sender");
    }

    #[test]
    fn lost_messages_vanish_half_way() {
        // For a lost message arrive_us is when it vanishes, which is half way along the path.
        let m = msg(0, 1, 0, 2_000, true);
        assert_eq!(msg_fraction(&m, 1_000), 0.25);
        assert_eq!(msg_fraction(&m, 2_000), 0.5);
    }

    #[test]
    fn layout_puts_nodes_on_a_circle_and_clients_outside_it() {
        let l = Layout::circle(5, 3, 400.0, 300.0, Style::default());
        assert_eq!(l.nodes.len(), 5);
        assert_eq!(l.clients.len(), 3);
        for p in &l.nodes {
            assert!((p.dist(l.center) - l.radius).abs() < 1e-9);
        }
        for c in &l.clients {
            assert!(c.dist(l.center) > l.radius + l.node_r);
        }
        assert_eq!(l.pos(6), Some(l.clients[1]));
        assert_eq!(l.pos(8), None);
    }

    #[test]
    fn a_single_node_sits_in_the_middle() {
        let l = Layout::circle(1, 0, 200.0, 200.0, Style::default());
        assert_eq!(l.nodes[0], l.center);
    }

    #[test]
    fn hit_tests_find_nodes_clients_links_and_messages() {
        let l = Layout::circle(4, 2, 400.0, 400.0, Style::default());
        assert_eq!(hit_endpoint(&l, l.nodes[2]), Some(2));
        assert_eq!(hit_endpoint(&l, l.clients[1]), Some(5));
        assert_eq!(hit_endpoint(&l, l.center), None);
        let mid = l.nodes[0].lerp(l.nodes[1], 0.3);
        assert_eq!(hit_link(&l, mid), Some((0, 1, 0)));
        let m = MsgView {
            id: 42,
            ..msg(0, 2, 0, 100, false)
        };
        let p = msg_pos(&l, &m, 50).unwrap();
        assert_eq!(
            hit_message(&l, std::slice::from_ref(&m), 50, p, Style::default()),
            Some(42)
        );
        // Just sent, the dot is under its node: a click there picks the node, not the message.
        let under = msg_pos(&l, &m, 1).unwrap();
        assert!(
            under.dist(l.nodes[0]) < l.node_r,
            "the dot starts under node 0"
        );
        assert_eq!(
            hit_message(
                &l,
                std::slice::from_ref(&m),
                1,
                l.nodes[0],
                Style::default()
            ),
            None
        );
        assert_eq!(hit_message(&l, &[m], 1, under, Style::default()), None);
    }

    #[test]
    fn a_line_across_the_circle_splits_the_nodes_in_two() {
        let l = Layout::circle(4, 0, 400.0, 400.0, Style::default());
        // Node 0 is at the top, 1 right, 2 bottom, 3 left: a horizontal line splits {0} and {2}
        // from each other with 1 and 3 on the line's... a diagonal is clearer: top-left to
        // bottom-right separates {0,1} (upper right) from {2,3}.
        let sides = split_by_line(&l, Pt::new(0.0, 0.0), Pt::new(400.0, 400.0)).unwrap();
        let mut all: Vec<u32> = sides.concat();
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3]);
        assert!(sides.iter().any(|s| s == &vec![0, 1]) && sides.iter().any(|s| s == &vec![2, 3]));
        assert_eq!(
            split_by_line(&l, Pt::new(0.0, 0.0), Pt::new(400.0, 0.0)),
            None,
            "all on one side"
        );
        assert_eq!(
            split_by_line(&l, Pt::new(10.0, 10.0), Pt::new(12.0, 12.0)),
            None,
            "too short"
        );
    }

    #[test]
    fn drops_are_marked_where_the_message_was_and_fade() {
        let send = RecordView {
            seq: 1,
            at_us: 0,
            what: "send",
            msg: Some(9),
            from: Some(0),
            to: Some(1),
            node: None,
            arrive_us: Some(1_000),
            lost: true,
            text: "x".into(),
            colour: "",
        };
        let drop = RecordView {
            seq: 2,
            at_us: 1_000,
            what: "drop",
            arrive_us: None,
            lost: false,
            ..send.clone()
        };
        let recs = vec![send, drop];
        let marks = drop_marks(&recs, 1_500, 1_000);
        assert_eq!(marks.len(), 1);
        assert!((marks[0].frac - 0.5).abs() < 1e-9);
        assert!((marks[0].age - 0.5).abs() < 1e-9);
        assert!(drop_marks(&recs, 5_000, 1_000).is_empty(), "faded out");
    }

    #[test]
    fn cut_links_are_drawn_in_the_alert_colour() {
        let l = Layout::circle(3, 0, 300.0, 300.0, Style::default());
        let nodes: Vec<NodeView> = (0..3)
            .map(|id| NodeView {
                id,
                up: true,
                ..Default::default()
            })
            .collect();
        let input = TopologyInput {
            nodes: &nodes,
            clients: 0,
            msgs: &[],
            cuts: &[(0, 1), (1, 0)],
            drops: &[],
            now_us: 0,
            selected: Selection::None,
            hover: Selection::None,
            drag: None,
            focus: Focus::default(),
        };
        let shapes = topology(&l, &input, Style::default());
        let cut = shapes
            .iter()
            .filter(|s| matches!(s, Shape::Line { color, dash: true, .. } if *color == ALERT))
            .count();
        assert_eq!(cut, 1);
    }
}
