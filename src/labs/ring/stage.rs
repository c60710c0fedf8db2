//! The ring stage: the hash space as a circle, clockwise from twelve o'clock. On the ring (and
//! with bounded loads) each server's virtual nodes are ticks in its colour and the arc each
//! owns is shaded; the other algorithms, which have no ring, show what they have instead:
//! mod-N's and jump's buckets as equal sectors, rendezvous's servers as sectors with the
//! selected key's scores beside, Maglev's lookup table around the circle. Keys are dots in
//! their owner's colour. Beside the circle, one row per server: its keys (or reads) as a bar.
//!
//! After a change of the map the keys that moved fly from their old owner's row to the new
//! one's for a second of virtual time, and the change's count is written above.

use super::hash;
use super::placement::{Algorithm, Placement, Setup};
use super::protocol::{key_name, RingLab};
use super::view::{map, served};
use crate::labs::{ItemView, StageArea, StageSpec};
use crate::sim::world::World;
use crate::viz::colors::{ALERT, NEUTRAL};
use crate::viz::scene::{Align, Pt, Selection, Shape, INK, SELECT};
use crate::viz::trig;
use std::f64::consts::TAU;

pub static STAGES: &[StageSpec] = &[StageSpec {
    id: "ring",
    title: "Ring",
    help: "the hash space as a circle: servers' points and arcs, keys as dots, the load per server",
    beside: false,
}];

/// Servers' colours (Okabe–Ito, darker companions and two more: S1 to S12 differ), strong for
/// ticks and keys.
const STRONG: [&str; 12] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#B8A200", "#5D3A9B",
    "#1B7837", "#8C510A", "#E7298A", "#66A61E",
];
/// The same colours, light, for the arcs.
const TINT: [&str; 12] = [
    "#A6CBE3", "#F5D699", "#99D8C7", "#EBC9DC", "#BBE1F6", "#EEBF99", "#E8DD85", "#C7B8DC",
    "#A9D1B2", "#D7BF9D", "#F5B3D3", "#C4DFA3",
];
const LABEL: &str = "#5b6472";
const FAINT: &str = "#e6e8ec";

/// How long moved keys take to fly to their new owner, in virtual time.
const MOVE_US: u64 = 1_000_000;
/// The most keys drawn as dots (the first ones; the rest are counted).
pub const MAX_DOTS: usize = 10_000;
/// The most moved keys drawn in flight.
const MAX_FLYING: usize = 300;

pub fn colour(server: u32) -> &'static str {
    STRONG[(server as usize + 11) % 12]
}

fn tint(server: u32) -> &'static str {
    TINT[(server as usize + 11) % 12]
}

/// An item: a key (by its index in the key space) or a server.
const SERVER_ITEM: u64 = 1 << 40;

pub fn key_item(index: usize) -> u64 {
    index as u64
}

pub fn server_item(id: u32) -> u64 {
    SERVER_ITEM | id as u64
}

/// `1 key`, `2 keys`.
pub fn plural(n: u64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// Where the circle and the rows go.
#[derive(Clone, Copy, Debug)]
struct Frame {
    centre: Pt,
    radius: f64,
    band: f64,
    /// The rows' box: left, top, width, row height.
    rows: (f64, f64, f64, f64),
    scale: f64,
    narrow: bool,
}

impl Frame {
    fn new(rows: u32, area: &StageArea) -> Frame {
        let k = area.style.scale;
        // A narrow canvas (a phone) puts the header under the view picker, in three lines.
        let narrow = area.w < 560.0 * k;
        let top = if narrow { 76.0 * k } else { 30.0 * k };
        let wide = area.w >= area.h * 1.25;
        let (side, rows_box) = if wide {
            let side = (area.h - top).min(area.w * 0.62);
            let rows_box = (
                side + 12.0 * k,
                top,
                area.w - side - 20.0 * k,
                area.h - top - 6.0 * k,
            );
            (side, rows_box)
        } else {
            // Below the circle, clear of the legend's button in the bottom-left corner.
            // Rows of at least 12 px where they fit, the circle in what is left.
            let rows_h = rows as f64 * 12.0 * k;
            let side = area
                .w
                .min((area.h - top - 40.0 * k - rows_h).max((area.h - top) * 0.4));
            let h = area.h - top - side - 40.0 * k;
            (side, (8.0 * k, top + side + 6.0 * k, area.w - 16.0 * k, h))
        };
        let radius = (side / 2.0 - 40.0 * k).max(10.0);
        let centre = Pt::new(
            if wide { side / 2.0 } else { area.w / 2.0 },
            top + side / 2.0,
        );
        let row_h = (rows_box.3 / rows.max(1) as f64).min(26.0 * k).max(1.0);
        Frame {
            centre,
            radius,
            band: (10.0 * k).min(radius / 4.0),
            rows: (rows_box.0, rows_box.1, rows_box.2.max(10.0), row_h),
            scale: k,
            narrow,
        }
    }

    fn at(&self, angle: f64, r: f64) -> Pt {
        Pt::new(
            self.centre.x + r * trig::sin(angle),
            self.centre.y - r * trig::cos(angle),
        )
    }

    /// The width of the bars' column.
    fn bar_w(&self) -> f64 {
        (self.rows.2 - 175.0 * self.scale).max(10.0)
    }

    /// The middle of row `i`'s bar start.
    fn row_mid(&self, i: usize) -> Pt {
        let (x, y, _, h) = self.rows;
        Pt::new(x + 40.0 * self.scale, y + (i as f64 + 0.5) * h)
    }
}

/// A key's angle on the circle (0 at twelve o'clock, clockwise): where its hash falls on the
/// ring, its slot in Maglev's table, or its place inside its bucket's sector.
fn key_angle(p: &RingLab, c: &super::protocol::Coordinator, h: u64, owner: u32) -> f64 {
    match p.setup.algorithm {
        Algorithm::Ring | Algorithm::Bounded => hash::unit(h) * TAU,
        Algorithm::Maglev => {
            // Inside the key's slot, spread so the keys of one slot do not hide each other.
            let m = c.placement.table.len().max(1) as u64;
            ((h % m) as f64 + 0.1 + 0.8 * hash::unit(h.rotate_left(17))) / m as f64 * TAU
        }
        _ => {
            let n = c.members.len().max(1) as f64;
            let i = c.members.iter().position(|m| m.id == owner).unwrap_or(0) as f64;
            (i + 0.1 + 0.8 * hash::unit(h.rotate_left(17))) / n * TAU
        }
    }
}

/// The rows: every server the world has room for (members, then spares in id order).
fn row_ids(p: &RingLab) -> Vec<u32> {
    (1..=p.capacity()).collect()
}

pub fn shapes(w: &World<RingLab>, area: &StageArea) -> Vec<Shape> {
    let p = &w.proto;
    let c = map(w);
    let f = Frame::new(p.capacity(), area);
    let mut out = Vec::new();
    header(w, &f, &mut out);
    let selected_server = match area.selected {
        Selection::Item(i) if i & SERVER_ITEM != 0 => Some((i & 0xffff_ffff) as u32),
        Selection::Node(n) if n != 0 => Some(n),
        _ => None,
    };
    band(w, &f, selected_server, &mut out);
    dots(w, &f, selected_server, &mut out);
    if w.proto.compare && w.proto.setup.algorithm != Algorithm::ModN {
        beside_mod_n(w, &f, &mut out);
    }
    if let Selection::Item(i) = area.selected {
        if i & SERVER_ITEM == 0 && (i as usize) < c.owners.len() {
            lookup(w, &f, i as usize, &mut out);
        }
    }
    rows(w, &f, area, selected_server, &mut out);
    flying(w, &f, &mut out);
    out
}

fn header(w: &World<RingLab>, f: &Frame, out: &mut Vec<Shape>) {
    let p = &w.proto;
    let c = map(w);
    let k = f.scale;
    let title = match p.setup.algorithm {
        Algorithm::ModN => "mod-N: server hash(key) mod N".to_string(),
        Algorithm::Ring => format!("ring: {} points per server", p.setup.vnodes),
        Algorithm::Jump => "jump hash: bucket ch(key, N)".to_string(),
        Algorithm::Rendezvous => "rendezvous: highest hash(key, server)".to_string(),
        Algorithm::Maglev => format!("Maglev: a table of {} slots", c.placement.table.len()),
        Algorithm::Bounded => format!(
            "bounded loads: at most (1 + {}) × the mean",
            crate::labs::fraction_text(p.setup.eps_ppm)
        ),
    };
    // Right of the page's view picker (top-left), or under it on a narrow canvas.
    let (x, y) = if f.narrow {
        (8.0 * k, 40.0 * k)
    } else {
        (110.0 * k, 10.0 * k)
    };
    out.push(Shape::text(
        Pt::new(x, y),
        title,
        INK,
        12.0 * k,
        Align::Left,
        true,
    ));
    let Some(ch) = c.changes.last() else { return };
    let pct = |x: f64| format!("{}%", crate::sim::time::fixed(x * 100.0, 1));
    let keys = p.keys as f64;
    let salting = ch.what.contains("salted");
    let moved = if salting {
        format!("{}: no key moves; its reads spread", ch.what)
    } else {
        format!(
            "{}: {} moved ({})",
            ch.what,
            plural(ch.moved, "key"),
            pct(ch.moved as f64 / keys)
        )
    };
    let mut against = format!("an even split moves {}", pct(ch.ideal_ppm as f64 / 1e6));
    if p.setup.algorithm != Algorithm::ModN {
        against.push_str(&format!("; mod-N {}", pct(ch.moved_mod_n as f64 / keys)));
    }
    if salting {
        against.clear();
    }
    let colour = if w.now().0 < ch.at_us + MOVE_US {
        ALERT
    } else {
        LABEL
    };
    let lines = if f.narrow || against.is_empty() {
        vec![moved, against]
    } else {
        vec![format!("{moved}; {against}")]
    };
    for (i, line) in lines.into_iter().enumerate() {
        let at = Pt::new(x, y + (14.0 + 13.0 * i as f64) * k);
        out.push(Shape::text(at, line, colour, 11.0 * k, Align::Left, false));
    }
}

/// The shaded band: arcs (ring), sectors (mod-N, jump, rendezvous) or the table (Maglev).
fn band(w: &World<RingLab>, f: &Frame, selected: Option<u32>, out: &mut Vec<Shape>) {
    let c = map(w);
    let pl = &c.placement;
    let width = |id: u32| {
        if selected == Some(id) {
            f.band * 1.8
        } else {
            f.band
        }
    };
    let shade = |id: u32| {
        if selected == Some(id) {
            colour(id)
        } else {
            tint(id)
        }
    };
    let mut arc = |from: f64, to: f64, id: u32| {
        out.push(Shape::Arc {
            c: f.centre,
            r: f.radius,
            start: from,
            sweep: (to - from).max(0.0),
            color: shade(id),
            width: width(id),
        });
    };
    if c.members.is_empty() {
        return;
    }
    match pl.setup.algorithm {
        Algorithm::Ring | Algorithm::Bounded => {
            let pts = &pl.points;
            // Each point owns the arc from the point before it; runs of one owner merge.
            let mut start = hash::unit(pts[pts.len() - 1].0) * TAU - TAU;
            for (i, &(h, m)) in pts.iter().enumerate() {
                let next_same = pts.get(i + 1).is_some_and(|n| n.1 == m);
                if next_same {
                    continue;
                }
                let end = hash::unit(h) * TAU;
                arc(start, end, c.members[m as usize].id);
                start = end;
            }
        }
        Algorithm::Maglev if filling(w).is_some() => {
            // The table filling in, turn by turn, as the population takes its turns.
            let t = &pl.table;
            let order = super::placement::maglev_populate(&pl.maglev_pairs(), pl.setup.table).1;
            let limit = filling(w).unwrap_or(1.0) * t.len() as f64;
            let step = (t.len() / 720).max(1);
            for j in (0..t.len()).step_by(step) {
                if (order[j] as f64) < limit {
                    let a = j as f64 / t.len() as f64 * TAU;
                    let b = (j + step).min(t.len()) as f64 / t.len() as f64 * TAU;
                    arc(a, b, c.members[t[j] as usize].id);
                }
            }
        }
        Algorithm::Maglev => {
            let t = &pl.table;
            let step = (t.len() / 720).max(1);
            let mut run = (0usize, t[0]);
            for j in (step..t.len()).step_by(step).chain([t.len()]) {
                let owner = t.get(j).copied();
                if owner != Some(run.1) {
                    let a = run.0 as f64 / t.len() as f64 * TAU;
                    let b = j as f64 / t.len() as f64 * TAU;
                    arc(a, b, c.members[run.1 as usize].id);
                    if let Some(o) = owner {
                        run = (j, o);
                    }
                }
            }
        }
        _ => {
            let n = c.members.len() as f64;
            for (i, m) in c.members.iter().enumerate() {
                let gap = 0.004;
                arc(
                    i as f64 / n * TAU + gap,
                    (i + 1) as f64 / n * TAU - gap,
                    m.id,
                );
            }
        }
    }
    ticks(w, f, out);
}

/// How far Maglev's table has filled in (0 to 1) while it is being filled: for a second of
/// virtual time after the start and after each change of the map.
fn filling(w: &World<RingLab>) -> Option<f64> {
    let since = map(w).changes.last().map_or(0, |ch| ch.at_us);
    let t = w.now().0.checked_sub(since)?;
    (t < MOVE_US).then(|| t as f64 / MOVE_US as f64)
}

/// Virtual nodes as ticks across the band (ring, bounded loads); sector labels otherwise.
fn ticks(w: &World<RingLab>, f: &Frame, out: &mut Vec<Shape>) {
    let c = map(w);
    let pl = &c.placement;
    let k = f.scale;
    if pl.setup.algorithm.has_ring() {
        let (r0, r1) = (f.radius - f.band * 0.9, f.radius + f.band * 0.9);
        for &(h, m) in &pl.points {
            let a = hash::unit(h) * TAU;
            out.push(Shape::line(
                f.at(a, r0),
                f.at(a, r1),
                colour(c.members[m as usize].id),
                1.2 * k,
                false,
            ));
        }
        return;
    }
    if pl.setup.algorithm == Algorithm::Maglev {
        slot_labels(w, f, out);
        return;
    }
    if c.members.len() > 24 {
        return;
    }
    let n = c.members.len() as f64;
    for (i, m) in c.members.iter().enumerate() {
        let a = (i as f64 + 0.5) / n * TAU;
        out.push(Shape::text(
            f.at(a, f.radius + f.band + 10.0 * k),
            format!("S{}", m.id),
            colour(m.id),
            10.0 * k,
            Align::Center,
            true,
        ));
    }
}

/// A small Maglev table slot by slot: each slot's number and backend.
fn slot_labels(w: &World<RingLab>, f: &Frame, out: &mut Vec<Shape>) {
    let c = map(w);
    let t = &c.placement.table;
    if t.len() > 64 {
        return;
    }
    let k = f.scale;
    let m = t.len() as f64;
    for (j, &owner) in t.iter().enumerate() {
        let a = j as f64 / m * TAU;
        out.push(Shape::line(
            f.at(a, f.radius - f.band),
            f.at(a, f.radius + f.band),
            INK,
            1.0 * k,
            false,
        ));
        let id = c.members[owner as usize].id;
        let mid = (j as f64 + 0.5) / m * TAU;
        out.push(Shape::text(
            f.at(mid, f.radius + f.band + 12.0 * k),
            format!("{j}: S{id}"),
            colour(id),
            10.0 * k,
            Align::Center,
            true,
        ));
    }
}

/// Keys as dots just inside the band, in their owner's colour (only the selected server's in
/// colour while one is selected).
fn dots(w: &World<RingLab>, f: &Frame, selected: Option<u32>, out: &mut Vec<Shape>) {
    let p = &w.proto;
    let c = map(w);
    let ids = p.key_ids(c.salted);
    let r = f.radius - f.band - 5.0 * f.scale;
    let s = 2.4 * f.scale;
    let moving = moving_now(w);
    for (i, &id) in ids.iter().enumerate().take(MAX_DOTS) {
        let owner = c.owners[i];
        let h = hash::key(p.setup.salt, id);
        let a = key_angle(p, c, h, owner);
        let jitter = (h >> 5) % 7;
        let at = f.at(a, r - jitter as f64 * f.scale * 1.4);
        let colour = if moving.is_some_and(|b| b.get(i).is_some_and(|o| *o != owner)) {
            ALERT
        } else if selected.is_some_and(|s| s != owner && c.members.iter().any(|m| m.id == s)) {
            // A selected server's keys stand out; the others' fade.
            FAINT
        } else {
            colour(owner)
        };
        out.push(Shape::rect(
            Pt::new(at.x - s / 2.0, at.y - s / 2.0),
            s,
            s,
            Some(colour),
            None,
            0.0,
        ));
    }
}

/// Inside the ring, the same keys under mod-N: equal sectors for the same servers, keys in
/// their mod-N owner's colour, and (for a second after a change) in the alert colour where the
/// same change moved them under mod-N.
fn beside_mod_n(w: &World<RingLab>, f: &Frame, out: &mut Vec<Shape>) {
    let p = &w.proto;
    let c = map(w);
    let k = f.scale;
    let r = f.radius * 0.55;
    if r < 30.0 * k || c.members.is_empty() {
        return;
    }
    let setup = Setup {
        algorithm: Algorithm::ModN,
        ..p.setup
    };
    let ids: Vec<u64> = p.key_ids(0).into_iter().take(MAX_DOTS).collect();
    let salt = p.setup.salt;
    let owners_under = |ms: &[super::placement::Member]| {
        Placement::new(setup, ms).assign(ids.len() as u64, &|i| hash::key(salt, ids[i as usize]))
    };
    let now = owners_under(&c.members);
    let before = moving_now(w).map(|_| owners_under(&c.before_members));
    let n = c.members.len() as f64;
    for (i, m) in c.members.iter().enumerate() {
        out.push(Shape::Arc {
            c: f.centre,
            r,
            start: i as f64 / n * TAU + 0.004,
            sweep: TAU / n - 0.008,
            color: tint(m.id),
            width: f.band * 0.7,
        });
    }
    let s = 2.0 * k;
    let inner = r - f.band - 3.0 * k;
    for (i, &id) in ids.iter().enumerate() {
        let h = hash::key(salt, id);
        let slot = c.members.iter().position(|m| m.id == now[i]).unwrap_or(0) as f64;
        let a = (slot + 0.1 + 0.8 * hash::unit(h.rotate_left(17))) / n * TAU;
        let at = f.at(a, inner - ((h >> 5) % 5) as f64 * k * 1.3);
        let moved = before.as_ref().is_some_and(|b| b[i] != now[i]);
        let fill = if moved { ALERT } else { colour(now[i]) };
        out.push(Shape::rect(
            Pt::new(at.x - s / 2.0, at.y - s / 2.0),
            s,
            s,
            Some(fill),
            None,
            0.0,
        ));
    }
    out.push(Shape::text(
        Pt::new(f.centre.x, f.centre.y - 6.0 * k),
        "mod-N".into(),
        LABEL,
        10.0 * k,
        Align::Center,
        true,
    ));
    out.push(Shape::text(
        Pt::new(f.centre.x, f.centre.y + 6.0 * k),
        "same keys".into(),
        LABEL,
        10.0 * k,
        Align::Center,
        true,
    ));
}

/// The owners before the change still in flight, if one is.
fn moving_now(w: &World<RingLab>) -> Option<&[u32]> {
    let c = map(w);
    let ch = c.changes.last()?;
    (w.now().0 < ch.at_us + MOVE_US).then_some(())?;
    c.before.as_deref().map(|v| v.as_slice())
}

/// The selected key's lookup: hash to position, the walk clockwise to its owner's point, and
/// its preference list numbered.
fn lookup(w: &World<RingLab>, f: &Frame, index: usize, out: &mut Vec<Shape>) {
    let p = &w.proto;
    let c = map(w);
    let ids = p.key_ids(c.salted);
    let k = f.scale;
    let h = hash::key(p.setup.salt, ids[index]);
    let owner = c.owners[index];
    let a = key_angle(p, c, h, owner);
    out.push(Shape::line(
        f.centre,
        f.at(a, f.radius + f.band + 4.0 * k),
        SELECT,
        2.0 * k,
        false,
    ));
    let dot = f.at(a, f.radius - f.band - 5.0 * k);
    out.push(Shape::Circle {
        c: dot,
        r: 5.0 * k,
        fill: None,
        stroke: Some(SELECT),
        width: 2.0 * k,
        dash: false,
    });
    if p.setup.algorithm.has_ring() {
        // Clockwise from the key to its owner's first point (past full servers, with
        // bounded loads).
        let pl = &c.placement;
        let start = pl.successor(h);
        let len = pl.points.len();
        let hop = (0..len)
            .map(|i| (start + i) % len)
            .find(|&i| c.members[pl.points[i].1 as usize].id == owner)
            .unwrap_or(start);
        let to = hash::unit(pl.points[hop].0) * TAU;
        let sweep = if to >= a { to - a } else { to + TAU - a };
        out.push(Shape::Arc {
            c: f.centre,
            r: f.radius + f.band + 6.0 * k,
            start: a,
            sweep,
            color: SELECT,
            width: 3.0 * k,
        });
    }
}

/// One row per server: its label, its keys as a bar, its reads.
fn rows(
    w: &World<RingLab>,
    f: &Frame,
    area: &StageArea,
    selected: Option<u32>,
    out: &mut Vec<Shape>,
) {
    let p = &w.proto;
    let c = map(w);
    let k = f.scale;
    let (x, y, width, h) = f.rows;
    let reads = served(w);
    // Popular keys: the bars are the reads (the hot server stands out); else the keys.
    let keys_count = c.member_loads();
    let counts = if super::view::counts_requests(p) {
        reads.clone()
    } else {
        keys_count.clone()
    };
    let most = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let pref = selected_preference(w, area);
    let scores = selected_scores(w, area);
    let caps =
        (p.setup.algorithm == Algorithm::Bounded).then(|| c.placement.capacities(p.keys as u64));
    // Bars to the same scale as the capacities, which they may reach.
    let most = caps
        .as_ref()
        .and_then(|c| c.iter().max())
        .map_or(most, |m| most.max(*m as f64));
    let font = (h * 0.62).min(11.0 * k);
    let bar_x = x + 40.0 * k;
    let bar_w = f.bar_w();
    for (row, id) in row_ids(p).into_iter().enumerate() {
        let top = y + row as f64 * h;
        let mid = top + h / 2.0;
        let member = c.members.iter().position(|m| m.id == id);
        let up = w.is_up(id);
        if selected == Some(id) {
            out.push(Shape::rect(
                Pt::new(x, top),
                width,
                h,
                Some(FAINT),
                None,
                0.0,
            ));
        }
        let ink = if member.is_some() && up {
            colour(id)
        } else {
            NEUTRAL
        };
        if font >= 6.0 {
            out.push(Shape::text(
                Pt::new(x, mid),
                format!("S{id}"),
                ink,
                font,
                Align::Left,
                true,
            ));
        }
        let Some(i) = member else {
            if font >= 6.0 {
                out.push(Shape::text(
                    Pt::new(bar_x, mid),
                    if c.ever_members.contains(&id) {
                        "left the ring (a spare)"
                    } else {
                        "spare"
                    }
                    .into(),
                    NEUTRAL,
                    font,
                    Align::Left,
                    false,
                ));
            }
            continue;
        };
        let bw = counts[i] as f64 / most * bar_w;
        let bh = (h * 0.7).max(1.0);
        if let Some(cap) = caps.as_ref().and_then(|c| c.get(i)) {
            let cx = bar_x + *cap as f64 / most * bar_w;
            out.push(Shape::line(
                Pt::new(cx, top),
                Pt::new(cx, top + h),
                ALERT,
                1.5 * k,
                false,
            ));
        }
        out.push(Shape::rect(
            Pt::new(bar_x, mid - bh / 2.0),
            bw.max(1.0),
            bh,
            Some(ink),
            None,
            0.0,
        ));
        if let Some(rank) = pref.iter().position(|s| *s == id) {
            out.push(Shape::text(
                Pt::new(bar_x - 6.0 * k, mid),
                format!("{}", rank + 1),
                SELECT,
                font,
                Align::Right,
                true,
            ));
        }
        if font >= 6.0 {
            let weight = c.members[i].weight;
            let mut text = format!(
                "{} · {}",
                plural(keys_count[i], "key"),
                plural(reads[i], "read")
            );
            if weight != 1 {
                text.push_str(&format!(" · ×{weight}"));
            }
            if let Some(s) = scores.get(i) {
                text.push_str(&format!(" · score {}", crate::sim::time::fixed(*s, 4)));
            }
            if !up {
                text = "crashed · ".to_string() + &text;
            }
            out.push(Shape::text(
                Pt::new(bar_x + bw + 4.0 * k, mid),
                text,
                LABEL,
                font * 0.9,
                Align::Left,
                false,
            ));
        }
    }
}

/// Rendezvous: each member's score for the selected key, in member order.
fn selected_scores(w: &World<RingLab>, area: &StageArea) -> Vec<f64> {
    let p = &w.proto;
    let c = map(w);
    let Selection::Item(i) = area.selected else {
        return Vec::new();
    };
    if p.setup.algorithm != Algorithm::Rendezvous || i & SERVER_ITEM != 0 {
        return Vec::new();
    }
    let Some(&id) = p.key_ids(c.salted).get(i as usize) else {
        return Vec::new();
    };
    let h = hash::key(p.setup.salt, id);
    c.members
        .iter()
        .map(|m| hash::unit(hash::score(p.setup.salt, h, m.id)))
        .collect()
}

/// The selected key's preference list.
fn selected_preference(w: &World<RingLab>, area: &StageArea) -> Vec<u32> {
    let c = map(w);
    match area.selected {
        Selection::Item(i) if i & SERVER_ITEM == 0 && (i as usize) < c.owners.len() => {
            preference(w, i as usize)
        }
        _ => Vec::new(),
    }
}

pub fn preference(w: &World<RingLab>, index: usize) -> Vec<u32> {
    let p = &w.proto;
    let c = map(w);
    let ids = p.key_ids(c.salted);
    let h = hash::key(p.setup.salt, ids[index]);
    c.placement
        .preference(h, p.rf as usize, Some(c.owners[index]))
}

/// Moved keys flying from their old owner's row to the new one's.
fn flying(w: &World<RingLab>, f: &Frame, out: &mut Vec<Shape>) {
    let Some(before) = moving_now(w) else { return };
    let c = map(w);
    let Some(ch) = c.changes.last() else { return };
    let t = (w.now().0.saturating_sub(ch.at_us)) as f64 / MOVE_US as f64;
    let row_of = |id: u32| (id as usize).saturating_sub(1);
    let keys = w.proto.keys as usize;
    let mut drawn = 0;
    for (i, (&a, &b)) in before.iter().zip(c.owners.iter()).take(keys).enumerate() {
        if a == b {
            continue;
        }
        if drawn >= MAX_FLYING {
            break;
        }
        drawn += 1;
        // Spread along the bars, so the stream from row to row shows.
        let dx = ((i * 37) % 41) as f64 / 40.0 * f.bar_w() * 0.3;
        let from = f.row_mid(row_of(a));
        let to = f.row_mid(row_of(b));
        let at = from.lerp(to, t);
        out.push(Shape::Circle {
            c: Pt::new(at.x + dx, at.y),
            r: 2.4 * f.scale,
            fill: Some(colour(b)),
            stroke: Some(INK),
            width: 0.5 * f.scale,
            dash: false,
        });
    }
}

/// The key or server under `p`.
pub fn hit(w: &World<RingLab>, area: &StageArea, p: Pt) -> Option<u64> {
    let lab = &w.proto;
    let c = map(w);
    let f = Frame::new(lab.capacity(), area);
    let (x, y, width, h) = f.rows;
    if p.x >= x && p.x <= x + width && p.y >= y {
        let row = ((p.y - y) / h).floor() as usize;
        return row_ids(lab).get(row).map(|id| server_item(*id));
    }
    let d = p.dist(f.centre);
    if (d - f.radius).abs() > f.band * 1.2 + 24.0 * f.scale {
        return None;
    }
    // The nearest key dot within reach, else the server whose band is there.
    let ids = lab.key_ids(c.salted);
    let r = f.radius - f.band - 5.0 * f.scale;
    let mut best: Option<(f64, usize)> = None;
    for (i, &id) in ids.iter().enumerate().take(MAX_DOTS) {
        let hsh = hash::key(lab.setup.salt, id);
        let jitter = (hsh >> 5) % 7;
        let at = f.at(
            key_angle(lab, c, hsh, c.owners[i]),
            r - jitter as f64 * f.scale * 1.4,
        );
        let dd = at.dist(p);
        if dd <= 6.0 * f.scale && best.is_none_or(|b| dd < b.0) {
            best = Some((dd, i));
        }
    }
    if let Some((_, i)) = best {
        return Some(key_item(i));
    }
    let angle = trig::turn(trig::atan2(p.x - f.centre.x, f.centre.y - p.y));
    band_owner(w, angle).map(server_item)
}

/// The server whose share of the band lies at `angle`.
fn band_owner(w: &World<RingLab>, angle: f64) -> Option<u32> {
    let c = map(w);
    let pl = &c.placement;
    let frac = angle / TAU;
    match pl.setup.algorithm {
        Algorithm::Ring | Algorithm::Bounded => {
            let h = (frac * (u64::MAX as f64)) as u64;
            pl.points
                .get(pl.successor(h))
                .map(|pt| c.members[pt.1 as usize].id)
        }
        Algorithm::Maglev => {
            let j = ((frac * pl.table.len() as f64) as usize).min(pl.table.len().saturating_sub(1));
            pl.table.get(j).map(|&m| c.members[m as usize].id)
        }
        _ => {
            let i =
                ((frac * c.members.len() as f64) as usize).min(c.members.len().saturating_sub(1));
            c.members.get(i).map(|m| m.id)
        }
    }
}

pub fn item_view(w: &World<RingLab>, item: u64) -> Option<ItemView> {
    if item & SERVER_ITEM != 0 {
        return server_view(w, (item & 0xffff_ffff) as u32);
    }
    let p = &w.proto;
    let c = map(w);
    let index = item as usize;
    let ids = p.key_ids(c.salted);
    let id = *ids.get(index)?;
    let h = hash::key(p.setup.salt, id);
    let owner = c.owners[index];
    let pref: Vec<String> = preference(w, index)
        .iter()
        .map(|s| format!("S{s}"))
        .collect();
    let mut lines = vec![
        format!(
            "hash {h:016x}, at {}% of the hash space",
            crate::sim::time::fixed(hash::unit(h) * 100.0, 2)
        ),
        format!("owner S{owner}"),
        format!("preference list: {}", pref.join(", ")),
    ];
    if let Some(cdf) = &p.cdf {
        if (id as u32) < p.keys && id >> 32 == 0 {
            if id == 0 && c.salted > 0 {
                lines.push(format!("salted: its reads go to {} sub-keys", c.salted));
            }
            lines.push(format!(
                "{}% of the reads",
                crate::sim::time::fixed(cdf.share(id as u32) * 100.0, 2)
            ));
        }
    }
    if p.setup.algorithm == Algorithm::Rendezvous {
        for m in &c.members {
            let s = hash::score(p.setup.salt, h, m.id);
            lines.push(format!(
                "score of S{}: {}",
                m.id,
                crate::sim::time::fixed(hash::unit(s), 4)
            ));
        }
    }
    Some(ItemView {
        title: key_name(id),
        lines,
        node: Some(owner),
    })
}

fn server_view(w: &World<RingLab>, id: u32) -> Option<ItemView> {
    let p = &w.proto;
    if id == 0 || id > p.capacity() {
        return None;
    }
    let c = map(w);
    let Some(i) = c.members.iter().position(|m| m.id == id) else {
        return Some(ItemView {
            title: format!("S{id}"),
            lines: vec!["a spare: not in the ring (Add a server brings the next spare in)".into()],
            node: Some(id),
        });
    };
    let keys = c.keys_by_server[id as usize];
    let points = c
        .placement
        .points
        .iter()
        .filter(|pt| pt.1 as usize == i)
        .count();
    // Its fair share: in proportion to its weight where the algorithm weighs servers.
    let weighted = p.setup.algorithm.weighted();
    let w_of = |m: &super::placement::Member| if weighted { m.weight as f64 } else { 1.0 };
    let fair = w_of(&c.members[i]) / c.members.iter().map(w_of).sum::<f64>();
    let weight = if p.setup.algorithm.weighted() {
        format!("weight {}", c.members[i].weight)
    } else {
        format!(
            "weight {} (ignored: {} gives every server one share)",
            c.members[i].weight,
            p.setup.algorithm.name()
        )
    };
    let mut lines = vec![
        weight,
        format!(
            "owns {}: {}% (its fair share is {}%)",
            plural(keys, "key"),
            crate::sim::time::fixed(keys as f64 / p.keys as f64 * 100.0, 1),
            crate::sim::time::fixed(fair * 100.0, 1)
        ),
        format!("served {}", plural(w.state(id).served(), "read")),
    ];
    if p.setup.algorithm.has_ring() {
        lines.insert(1, format!("{points} points on the ring"));
    }
    if p.setup.algorithm == Algorithm::Bounded {
        let cap = c.placement.capacities(p.keys as u64)[i];
        lines.push(format!("capacity {cap} keys"));
    }
    Some(ItemView {
        title: format!("S{id}"),
        lines,
        node: Some(id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::scene::Style;

    fn area(w: f64, h: f64) -> StageArea {
        StageArea {
            w,
            h,
            style: Style::default(),
            selected: Selection::None,
            hover: Selection::None,
        }
    }

    fn world(link: &str) -> World<RingLab> {
        let s = crate::scenario::link::decode(link).unwrap();
        super::super::world(&s).unwrap()
    }

    #[test]
    fn each_server_row_is_hit_and_inspected_as_itself() {
        let w = world("#/ring?n=5&seed=1&spares=2");
        let a = area(900.0, 420.0);
        let f = Frame::new(7, &a);
        for id in 1..=7u32 {
            let at = f.row_mid(id as usize - 1);
            assert_eq!(hit(&w, &a, at), Some(server_item(id)), "S{id}");
            let v = item_view(&w, server_item(id)).unwrap();
            assert_eq!(v.title, format!("S{id}"));
        }
    }

    #[test]
    fn a_key_dot_is_hit_at_its_place() {
        let w = world("#/ring?n=5&seed=1&keys=20");
        let a = area(900.0, 420.0);
        let f = Frame::new(7, &a);
        let c = map(&w);
        for i in 0..20 {
            let h = hash::key(0, i as u64);
            let jitter = (h >> 5) % 7;
            let at = f.at(
                key_angle(&w.proto, c, h, c.owners[i]),
                f.radius - f.band - 5.0 - jitter as f64 * 1.4,
            );
            let got = hit(&w, &a, at).unwrap();
            // Dots may overlap; whichever is hit lies within reach and is a key.
            assert!(got & SERVER_ITEM == 0, "key {i}");
        }
        let v = item_view(&w, key_item(3)).unwrap();
        assert_eq!(v.title, "k3");
        assert_eq!(v.node, Some(c.owners[3]));
    }
}
