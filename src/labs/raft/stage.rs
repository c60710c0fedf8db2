//! The Raft lab's own stage, "Logs": one row per server, one box per log entry (the newest that
//! fit), coloured by its term, filled once the server knows it is committed, outlined in the
//! alert colour where it disagrees with the current leader's log (the leader will overwrite
//! it). Select an entry to inspect it; the topology then highlights its server.

use super::protocol::{Raft, Role};
use super::view::current_leader;
use crate::labs::{ItemView, StageArea, StageSpec};
use crate::sim::world::World;
use crate::viz::colors::{for_role, ALERT, NEUTRAL, PALETTE};
use crate::viz::scene::{Align, Pt, Selection, Shape};
use crate::viz::Within;

pub static STAGES: &[StageSpec] = &[StageSpec {
    id: "logs",
    title: "Logs",
    help: "each server's log, entry by entry: the term it was made in, filled once committed",
    beside: true,
}];

const INK: &str = "#1f2328";
const LABEL: &str = "#5b6472";
const GRID: &str = "#e6e8ec";

/// Where rows and columns go on a canvas of a given size.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Grid {
    /// The first and last index shown.
    first: u64,
    last: u64,
    left: f64,
    top: f64,
    col_w: f64,
    row_h: f64,
    scale: f64,
}

impl Grid {
    fn new(w: &World<Raft>, area: &StageArea) -> Grid {
        let k = area.style.scale;
        let (left, top, pad) = (96.0 * k, 26.0 * k, 8.0 * k);
        let col_w = 34.0 * k;
        let fit = (((area.w - left - pad) / col_w).floor().max(1.0)) as u64;
        let last = (0..w.n())
            .map(|i| w.state(i).log.last_index())
            .max()
            .unwrap_or(0);
        let first = last.saturating_sub(fit - 1).max(1);
        let rows = w.n().max(1) as f64;
        let row_h = ((area.h - top - pad) / rows).within(1.0, 44.0 * k);
        Grid {
            first,
            last,
            left,
            top,
            col_w,
            row_h,
            scale: k,
        }
    }

    /// The box of entry `index` in row `server`: top-left corner, width, height.
    fn cell(&self, server: u32, index: u64) -> (Pt, f64, f64) {
        let gap = 3.0 * self.scale;
        let x = self.left + (index - self.first) as f64 * self.col_w;
        let y = self.top + server as f64 * self.row_h;
        (
            Pt::new(x + gap / 2.0, y + gap / 2.0),
            self.col_w - gap,
            self.row_h - gap,
        )
    }
}

/// An entry as a selectable item: its server and index.
pub fn item_id(server: u32, index: u64) -> u64 {
    ((server as u64) << 40) | (index & ((1 << 40) - 1))
}

fn item_parts(id: u64) -> (u32, u64) {
    ((id >> 40) as u32, id & ((1 << 40) - 1))
}

/// The term's colour (the roles' colours stay for the servers).
fn term_colour(term: u64) -> &'static str {
    PALETTE[[0, 1, 2, 3, 4][(term % 5) as usize]]
}

/// The stage's shapes.
pub fn shapes(w: &World<Raft>, area: &StageArea) -> Vec<Shape> {
    let g = Grid::new(w, area);
    let k = g.scale;
    let mut out = Vec::new();
    let leader = current_leader(w).map(|l| &w.state(l).log);
    let font = (11.0 * k).min(g.row_h * 0.6);
    for i in g.first..=g.last.max(g.first) {
        let x = g.left + (i - g.first) as f64 * g.col_w + g.col_w / 2.0;
        out.push(Shape::text(
            Pt::new(x, g.top / 2.0),
            i.to_string(),
            LABEL,
            font,
            Align::Center,
            false,
        ));
    }
    for id in 0..w.n() {
        let st = w.state(id);
        let up = w.is_up(id);
        let y = g.top + id as f64 * g.row_h;
        let role = if up { st.role.name() } else { "crashed" };
        let colour = match (up, st.role) {
            (false, _) => NEUTRAL,
            (true, Role::Leader) => for_role(super::view::CLASS_LEADER),
            (true, Role::Follower) => LABEL,
            (true, _) => for_role(super::view::CLASS_CANDIDATE),
        };
        let mid = y + g.row_h / 2.0;
        out.push(Shape::text(
            Pt::new(4.0 * k, mid),
            format!("S{id}"),
            INK,
            font,
            Align::Left,
            true,
        ));
        out.push(Shape::text(
            Pt::new(26.0 * k, mid),
            role.to_string(),
            colour,
            font * 0.9,
            Align::Left,
            false,
        ));
        let rule = y + g.row_h - 0.5;
        out.push(Shape::Line {
            a: Pt::new(g.left, rule),
            b: Pt::new(area.w - 8.0 * k, rule),
            color: GRID,
            width: 1.0,
            dash: false,
        });
        for i in g.first..=st.log.last_index() {
            let Some(e) = st.log.entry(i) else { continue };
            let (at, bw, bh) = g.cell(id, i);
            let c = term_colour(e.term);
            let committed = i <= st.commit_index;
            let conflict = leader.is_some_and(|l| l.term_at(i) != Some(e.term));
            let (stroke, width) = if conflict {
                (ALERT, 2.5 * k)
            } else {
                (c, 1.5 * k)
            };
            out.push(Shape::rect(
                at,
                bw,
                bh,
                committed.then_some(c),
                Some(stroke),
                width,
            ));
            let ink = if committed { "#ffffff" } else { INK };
            let centre = Pt::new(at.x + bw / 2.0, at.y + bh / 2.0);
            out.push(Shape::text(
                centre,
                e.term.to_string(),
                ink,
                font,
                Align::Center,
                true,
            ));
            let item = Selection::Item(item_id(id, i));
            if area.selected == item || area.hover == item {
                let pad = 2.0 * k;
                let outline = Pt::new(at.x - pad, at.y - pad);
                out.push(Shape::rect(
                    outline,
                    bw + 2.0 * pad,
                    bh + 2.0 * pad,
                    None,
                    Some(INK),
                    2.0 * k,
                ));
            }
        }
    }
    out
}

/// The entry under `p`.
pub fn hit(w: &World<Raft>, area: &StageArea, p: Pt) -> Option<u64> {
    let g = Grid::new(w, area);
    if p.x < g.left || p.y < g.top {
        return None;
    }
    let server = ((p.y - g.top) / g.row_h).floor() as u32;
    let index = g.first + ((p.x - g.left) / g.col_w).floor() as u64;
    (server < w.n() && w.state(server).log.entry(index).is_some()).then(|| item_id(server, index))
}

/// What the inspector says of an entry.
pub fn item_view(w: &World<Raft>, id: u64) -> Option<ItemView> {
    let (server, index) = item_parts(id);
    if server >= w.n() {
        return None;
    }
    let st = w.state(server);
    let e = st.log.entry(index)?;
    let leader = current_leader(w);
    let mut lines = vec![
        format!("made by the leader of term {}", e.term),
        format!("command: {}", e.cmd.op.text()),
        if index <= st.commit_index {
            format!(
                "committed (S{server}'s commit index is {})",
                st.commit_index
            )
        } else {
            format!(
                "not yet committed on S{server} (its commit index is {})",
                st.commit_index
            )
        },
    ];
    if let Some(l) = leader {
        if w.state(l).log.term_at(index) != Some(e.term) {
            lines.push(format!(
                "disagrees with the leader S{l}'s log: S{l} will overwrite it"
            ));
        }
    }
    Some(ItemView {
        title: format!("S{server} · entry {index}"),
        lines,
        node: Some(server),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Instant;
    use crate::viz::scene::Style;

    fn running() -> World<Raft> {
        let s = crate::scenario::link::decode("#/raft?n=5&seed=3&clients=2").unwrap();
        let mut w = super::super::world(&s).unwrap();
        w.run_until(Instant(4_000_000), &[]);
        w
    }

    fn area(w: f64, h: f64) -> StageArea {
        StageArea {
            w,
            h,
            style: Style::default(),
            selected: Selection::None,
            hover: Selection::None,
        }
    }

    #[test]
    fn each_drawn_entry_is_hit_at_its_centre_and_inspected_as_itself() {
        let w = running();
        let a = area(900.0, 380.0);
        let g = Grid::new(&w, &a);
        assert!(g.last >= 3, "the clients' commands are in the logs: {g:?}");
        let mut seen = 0;
        for server in 0..w.n() {
            for i in g.first..=w.state(server).log.last_index() {
                let (at, bw, bh) = g.cell(server, i);
                let centre = Pt::new(at.x + bw / 2.0, at.y + bh / 2.0);
                assert_eq!(hit(&w, &a, centre), Some(item_id(server, i)));
                let v = item_view(&w, item_id(server, i)).unwrap();
                assert_eq!(v.title, format!("S{server} · entry {i}"));
                assert_eq!(v.node, Some(server));
                seen += 1;
            }
        }
        assert!(seen > 5);
        assert_eq!(
            hit(&w, &a, Pt::new(5.0, 5.0)),
            None,
            "the header is not an entry"
        );
        assert_eq!(item_view(&w, item_id(9, 1)), None, "no such server");
    }

    #[test]
    fn committed_entries_are_filled_and_the_selection_is_outlined() {
        let w = running();
        let mut a = area(900.0, 380.0);
        let filled = |shapes: &[Shape]| {
            shapes
                .iter()
                .filter(|s| matches!(s, Shape::Rect { fill: Some(_), .. }))
                .count()
        };
        let committed: u64 = (0..w.n())
            .map(|i| {
                let st = w.state(i);
                st.commit_index.min(st.log.last_index())
            })
            .sum();
        let plain = shapes(&w, &a);
        assert_eq!(filled(&plain) as u64, committed);
        a.selected = Selection::Item(item_id(0, 1));
        assert_eq!(shapes(&w, &a).len(), plain.len() + 1, "one outline");
    }
}
