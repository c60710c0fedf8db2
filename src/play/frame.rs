//! One frame of the two animated canvases (topology and space-time diagram): the shapes a
//! session shows at its cursor, given what the page around it decides (sizes, pixel ratio,
//! presenter scale, diagram window, selection, hover, a partition line being dragged).
//!
//! The page builds frames here when it paints itself; the paint worker builds the same frames
//! from its replica of the session, with the page's [`FrameView`] sent over as numbers.

use super::session::{Change, Session};
use crate::labs::lesson::Highlight;
use crate::viz::scene::{
    drop_marks, topology, Focus, Layout, Pt, Selection, Shape, Style, TopologyInput,
};
use crate::viz::spacetime::{diagram, DiagramInput, Segment};
use crate::viz::NodeView;

/// How long a drop stays marked on the topology, in wall-clock ms (scaled by the speed).
pub const DROP_FADE_MS: f64 = 700.0;

/// What the page decides about a frame, beyond the session itself.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameView {
    /// CSS pixel sizes of the two canvases.
    pub topo: (f64, f64),
    pub diagram: (f64, f64),
    pub dpr: f64,
    pub style: Style,
    /// The diagram's visible span.
    pub span_us: u64,
    /// The display speed (drop marks fade in wall-clock time).
    pub speed: f64,
    pub selection: Selection,
    pub hover: Selection,
    /// A partition line being dragged across the topology.
    pub drag: Option<(Pt, Pt)>,
    /// The main canvas: 0 the topology, k the lab's stage k - 1 ([`crate::labs::Lab::stages`]).
    pub stage: u8,
}

/// How many numbers [`FrameView::encode`] writes.
pub const FRAME_VIEW_LEN: usize = 18;

fn sel_code(s: Selection) -> [f64; 2] {
    match s {
        Selection::None => [0.0, 0.0],
        Selection::Node(n) => [1.0, n as f64],
        Selection::Msg(m) => [2.0, m as f64],
        Selection::Item(i) => [3.0, i as f64],
    }
}

fn sel_decode(kind: f64, id: f64) -> Option<Selection> {
    // Message ids stay far below 2^53, so they survive an f64.
    let whole = |v: f64| (v.is_finite() && v >= 0.0 && v.fract() == 0.0).then_some(v);
    Some(match kind as u8 {
        0 => Selection::None,
        1 => Selection::Node(u32::try_from(whole(id)? as u64).ok()?),
        2 => Selection::Msg(whole(id)? as u64),
        3 => Selection::Item(whole(id)? as u64),
        _ => return None,
    })
}

impl FrameView {
    /// A view with canvases of these CSS sizes at pixel ratio 1, a one-second diagram window
    /// and speed 1×, nothing selected: what tests and benchmarks draw.
    pub fn sized(topo: (f64, f64), diagram: (f64, f64)) -> FrameView {
        FrameView {
            topo,
            diagram,
            dpr: 1.0,
            span_us: 1_000_000,
            speed: 1.0,
            ..FrameView::default()
        }
    }

    /// The view as numbers, for a message to the paint worker.
    pub fn encode(&self) -> [f64; FRAME_VIEW_LEN] {
        let [sk, si] = sel_code(self.selection);
        let [hk, hi] = sel_code(self.hover);
        let (d, a, b) = match self.drag {
            Some((a, b)) => (1.0, a, b),
            None => (0.0, Pt::default(), Pt::default()),
        };
        [
            self.topo.0,
            self.topo.1,
            self.diagram.0,
            self.diagram.1,
            self.dpr,
            self.style.scale,
            self.span_us as f64,
            self.speed,
            sk,
            si,
            hk,
            hi,
            d,
            a.x,
            a.y,
            b.x,
            b.y,
            self.stage as f64,
        ]
    }

    /// The numbers as one line of text: each number's bits in hex (exact, and cheap to read
    /// back), separated by spaces.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(FRAME_VIEW_LEN * 17);
        for (i, v) in self.encode().iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&format!("{:x}", v.to_bits()));
        }
        out
    }

    /// Reads [`FrameView::to_text`] back; `None` if it is not a view.
    pub fn parse(text: &str) -> Option<FrameView> {
        let v: Vec<f64> = text
            .split(' ')
            .map(|h| u64::from_str_radix(h, 16).map(f64::from_bits))
            .collect::<Result<_, _>>()
            .ok()?;
        FrameView::decode(&v)
    }

    /// Reads [`FrameView::encode`]'s numbers back; `None` if they are not a view.
    pub fn decode(v: &[f64]) -> Option<FrameView> {
        if v.len() != FRAME_VIEW_LEN || v.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let size = |w: f64, h: f64| (w >= 0.0 && h >= 0.0).then_some((w, h));
        Some(FrameView {
            topo: size(v[0], v[1])?,
            diagram: size(v[2], v[3])?,
            dpr: (v[4] > 0.0).then_some(v[4])?,
            style: Style {
                scale: (v[5] > 0.0).then_some(v[5])?,
            },
            span_us: (v[6] >= 1.0).then_some(v[6] as u64)?,
            speed: (v[7] > 0.0).then_some(v[7])?,
            selection: sel_decode(v[8], v[9])?,
            hover: sel_decode(v[10], v[11])?,
            drag: (v[12] != 0.0).then_some((Pt::new(v[13], v[14]), Pt::new(v[15], v[16]))),
            stage: (v[17] >= 0.0 && v[17] <= 255.0 && v[17].fract() == 0.0)
                .then_some(v[17] as u8)?,
        })
    }
}

/// Where the topology's nodes and clients sit (also for hit tests); `None` while the canvas
/// has no size.
pub fn layout(s: &Session, v: &FrameView) -> Option<Layout> {
    let (w, h) = v.topo;
    let w = beside(s, v).map_or(w, |(_, left)| left);
    (w >= 2.0 && h >= 2.0).then(|| Layout::circle(s.sim().n(), s.sim().clients(), w, h, v.style))
}

/// On a wide topology canvas, the lab's stage drawn beside the servers ([`StageSpec::beside`],
/// the Raft logs as RaftScope keeps them): its index in the lab's stages and where it starts
/// (the servers' circle takes the canvas to its left). `None` when the lab has no such stage
/// or the canvas is too narrow for both.
///
/// [`StageSpec::beside`]: crate::labs::StageSpec::beside
pub fn beside(s: &Session, v: &FrameView) -> Option<(usize, f64)> {
    let (w, h) = v.topo;
    let ix = s.lab().stages.iter().position(|st| st.beside)?;
    let left = (h * 1.15).max(w * 0.42);
    (w >= 1.6 * h && w - left >= 360.0 * v.style.scale).then_some((ix, left))
}

/// The main canvas at the cursor: the topology, or the lab's own stage the view names; `None`
/// while the canvas has no size.
pub fn stage_frame(s: &Session, nodes: &[NodeView], v: &FrameView) -> Option<Vec<Shape>> {
    if v.stage > 0 {
        let area = stage_area(v, 0.0)?;
        return Some(s.sim().stage(v.stage as usize - 1, &area));
    }
    topology_frame(s, nodes, v)
}

/// Where a lab's stage is drawn: the canvas from `left` on (0 for the lab's own view, the
/// logs' left edge for a stage beside the servers); `None` while the canvas has no size.
pub fn stage_area(v: &FrameView, left: f64) -> Option<crate::viz::scene::StageArea> {
    let (w, h) = (v.topo.0 - left, v.topo.1);
    (w >= 2.0 && h >= 2.0).then_some(crate::viz::scene::StageArea {
        w,
        h,
        style: v.style,
        selected: v.selection,
        hover: v.hover,
    })
}

/// The node-and-link topology at the cursor.
fn topology_frame(s: &Session, nodes: &[NodeView], v: &FrameView) -> Option<Vec<Shape>> {
    let layout = layout(s, v)?;
    let sim = s.sim();
    let (msgs, cuts) = (sim.in_flight(), sim.cut_links());
    let now = s.now_us();
    let fade_us = (DROP_FADE_MS * 1_000.0 * v.speed) as u64;
    let drops = drop_marks(s.records(), now, fade_us);
    // A lab's item selected on its stage highlights the node it belongs to.
    let as_node = |sel: Selection| match sel {
        Selection::Item(i) => sim
            .item_view(i)
            .and_then(|it| it.node)
            .map_or(Selection::None, Selection::Node),
        other => other,
    };
    let input = TopologyInput {
        nodes,
        clients: sim.clients(),
        msgs: &msgs,
        cuts: &cuts,
        drops: &drops,
        now_us: now,
        selected: as_node(v.selection),
        hover: as_node(v.hover),
        drag: v.drag,
        focus: lesson_focus(s),
    };
    let mut shapes = topology(&layout, &input, v.style);
    if let Some((ix, left)) = beside(s, v) {
        if let Some(area) = stage_area(v, left) {
            let beside = sim.stage(ix, &area);
            shapes.extend(beside.into_iter().map(|sh| sh.shifted(left, 0.0)));
        }
    }
    Some(shapes)
}

/// What the step of the lesson the link names points at.
fn lesson_highlight(s: &Session) -> Option<&'static Highlight> {
    let b = s.base();
    let l = crate::labs::lesson::find(s.lab(), b.lesson.as_deref()?).ok()?;
    let step = l.steps.get(b.step.unwrap_or(1).max(1) as usize - 1)?;
    Some(&step.highlight)
}

/// The panel (by its title) the step of the lesson the link names points at.
pub fn lesson_panel(s: &Session) -> Option<&'static str> {
    match lesson_highlight(s)? {
        Highlight::Panel(title) => Some(title),
        _ => None,
    }
}

/// What the step of the lesson the link names points at on the topology.
pub fn lesson_focus(s: &Session) -> Focus<'static> {
    match lesson_highlight(s) {
        Some(Highlight::Nodes(nodes)) => Focus { nodes, kind: None },
        Some(Highlight::Kind(kind)) => Focus {
            nodes: &[],
            kind: Some(kind),
        },
        _ => Focus::default(),
    }
}

/// The space-time diagram around the cursor and its message segments (for hit tests); `None`
/// while the canvas has no size.
pub fn diagram_frame(
    s: &Session,
    nodes: &[NodeView],
    v: &FrameView,
) -> Option<(Vec<Shape>, Vec<Segment>)> {
    let (w, h) = v.diagram;
    if w < 2.0 || h < 2.0 {
        return None;
    }
    let labels: Vec<String> = nodes.iter().map(|n| n.label.clone()).collect();
    let selected_msg = match v.selection {
        Selection::Msg(m) => Some(m),
        _ => None,
    };
    let input = DiagramInput {
        records: s.records(),
        node_labels: &labels,
        clients: s.sim().clients(),
        now_us: s.now_us(),
        span_us: v.span_us,
        selected_msg,
    };
    Some(diagram(&input, w, h, v.style))
}

/// Where a session stands, as a replica must stand too: `<now µs> <event count> <trace hash>`.
pub fn standing(s: &Session) -> String {
    format!(
        "{} {} {:016x}",
        s.now_us(),
        s.sim().counters().events,
        s.sim().trace_hash()
    )
}

/// The message that brings a replica up to `s` after `ops`, one line each:
///
/// ```text
/// <now µs> <event count> <trace hash>   where the session stands after the changes (standing)
/// view <numbers>                        the page's view, when it changed (FrameView::to_text)
/// <op>                                  each change, oldest first (Change::to_text)
/// ```
pub fn replica_message(s: &Session, view: Option<&FrameView>, ops: &[Change]) -> String {
    let mut msg = standing(s);
    if let Some(v) = view {
        msg.push_str("\nview ");
        msg.push_str(&v.to_text());
    }
    for op in ops {
        msg.push('\n');
        msg.push_str(&op.to_text());
    }
    msg
}

/// A replica of a session, kept equal to it by [`replica_message`]s (the paint worker's copy).
#[derive(Default)]
pub struct Replica {
    pub session: Option<Session>,
    pub view: Option<FrameView>,
}

impl Replica {
    /// Makes the changes in `msg` and checks that the replica then stands where the page's
    /// session does. An error means the replica can no longer be trusted.
    pub fn follow(&mut self, msg: &str) -> Result<(), String> {
        let mut lines = msg.split('\n');
        let want = lines.next().unwrap_or_default();
        for line in lines {
            if let Some(v) = line.strip_prefix("view ") {
                self.view = Some(FrameView::parse(v).ok_or("a view that does not read")?);
                continue;
            }
            let op = Change::parse(line)?;
            match (&mut self.session, op) {
                (Some(s), op) => {
                    s.apply(op).map_err(|e| format!("'{line}' failed: {e}"))?;
                }
                (None, Change::Load(scenario)) => {
                    self.session = Some(Session::from_scenario(&scenario)?)
                }
                (None, _) => return Err("the first change must load a scenario".into()),
            }
        }
        let have = self.session.as_ref().map(standing).unwrap_or_default();
        if want != have {
            return Err(format!(
                "the replica stands at '{have}' (µs, events, hash), the page at '{want}'"
            ));
        }
        Ok(())
    }

    /// Replays more of the scenario the page is opening, `slice_events` at a time while
    /// `more()` says so, so that the page's [`Change::Opened`] finds it (nearly) ready. A refusal
    /// waits for the page's [`Change::CancelOpen`].
    pub fn work_on_opening(&mut self, slice_events: u64, mut more: impl FnMut() -> bool) {
        let Some(s) = &mut self.session else {
            return;
        };
        while more() {
            if !matches!(s.work_on_opening(slice_events), Some(Ok(false))) {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The role texts under the Raft lab's nodes ("follower, term 2") never run into their
    /// neighbours': with nine nodes they break onto two lines.
    #[test]
    fn node_labels_fit_beside_their_neighbours() {
        use crate::viz::scene::char_width;
        use crate::viz::scene::Shape;
        for (n, two_lines) in [(5, false), (9, true)] {
            let (s, _) = Session::open(&format!("#/raft?n={n}&seed=1&clients=1&t=3s"));
            let view = FrameView::sized((927.0, 393.0), (927.0, 237.0));
            let shapes = stage_frame(&s, &s.sim().nodes(), &view).unwrap();
            let roles: Vec<(f64, f64, f64, String)> = shapes
                .iter()
                .filter_map(|sh| match sh {
                    Shape::Text {
                        at,
                        text,
                        size,
                        bold,
                        ..
                    } if text.contains("term")
                        || text.contains("follower")
                        || text.contains("leader") =>
                    {
                        let w = text.chars().count() as f64 * char_width(*size, *bold);
                        Some((at.x - w / 2.0, at.x + w / 2.0, at.y, text.clone()))
                    }
                    _ => None,
                })
                .collect();
            assert!(roles.len() >= n, "{n} nodes: {roles:?}");
            assert_eq!(
                roles.iter().any(|r| r.3 == "term 2" || r.3 == "term 1"),
                two_lines,
                "{n} nodes: {roles:?}"
            );
            for (i, a) in roles.iter().enumerate() {
                for b in &roles[i + 1..] {
                    let same_line = (a.2 - b.2).abs() < 11.0;
                    assert!(
                        !same_line || a.1 <= b.0 || b.1 <= a.0,
                        "{n} nodes: '{}' runs into '{}'",
                        a.3,
                        b.3
                    );
                }
            }
        }
    }

    /// A page session played with interventions, and a replica fed its messages; `lose`
    /// drops the n-th message's changes on the way. Returns the first error the replica
    /// reports, and how many frames it followed.
    fn follow_a_run(lose: Option<usize>) -> (Option<String>, usize) {
        let (mut page, _) = Session::open("#/raft?n=5&seed=2&lat=20..80ms&loss=3%&clients=1");
        let mut replica = Replica::default();
        let mut ops = page.start_journal();
        let view = FrameView::sized((600.0, 400.0), (600.0, 200.0));
        page.play(true);
        for frame in 0..240 {
            match frame {
                50 => page
                    .act(crate::sim::command::Action::Crash { node: 0 })
                    .unwrap(),
                90 => page.seek(page.now_us() / 2),
                91 => page.play(true),
                120 => page.step_forward(),
                121 => page.play(true),
                160 => page.set_seed(5).unwrap(),
                _ => {}
            }
            page.advance(16.7);
            ops.extend(page.drain_journal());
            if lose == Some(frame) {
                ops.clear();
            }
            let msg = replica_message(&page, (frame == 0).then_some(&view), &ops);
            ops.clear();
            if let Err(e) = replica.follow(&msg) {
                return (Some(e), frame);
            }
        }
        let r = replica.session.as_ref().unwrap();
        assert_eq!(r.records(), page.records());
        assert_eq!(replica.view, Some(view));
        (None, 240)
    }

    #[test]
    fn a_replica_follows_the_page_messages_frame_by_frame() {
        assert_eq!(follow_a_run(None), (None, 240));
    }

    #[test]
    fn a_replica_that_misses_a_message_says_so_at_once() {
        for lost in [30, 50, 90, 160] {
            let (err, at) = follow_a_run(Some(lost));
            let err = err.unwrap_or_else(|| panic!("losing frame {lost} went unnoticed"));
            assert_eq!(at, lost, "noticed at frame {at}: {err}");
            assert!(err.contains("the replica stands at"), "{err}");
        }
    }

    #[test]
    fn replica_messages_that_do_not_read_are_refused() {
        let mut r = Replica::default();
        assert!(
            r.follow("0 0 0000000000000000\nrun 5").is_err(),
            "no scenario yet"
        );
        let mut r = Replica::default();
        assert!(r.follow("0 0 0\nview 1 2").is_err());
        let mut r = Replica::default();
        assert!(r.follow("0 0 0\nfly away").is_err());
    }

    #[test]
    fn a_frame_view_survives_its_numbers() {
        let views = [
            FrameView {
                topo: (800.0, 400.0),
                diagram: (800.0, 260.0),
                dpr: 2.0,
                style: Style { scale: 1.6 },
                span_us: 1_000_000,
                speed: 0.25,
                selection: Selection::Msg(1 << 40),
                hover: Selection::Node(4),
                drag: Some((Pt::new(1.5, 2.0), Pt::new(300.0, 200.25))),
                stage: 0,
            },
            FrameView {
                dpr: 1.5,
                span_us: 250_000,
                speed: 2.0,
                selection: Selection::Item((3 << 40) | 17),
                stage: 1,
                ..FrameView::default()
            },
            FrameView {
                dpr: 1.0,
                span_us: 100_000,
                speed: 1.0,
                ..FrameView::default()
            },
        ];
        for v in views {
            assert_eq!(FrameView::decode(&v.encode()), Some(v));
            assert_eq!(FrameView::parse(&v.to_text()), Some(v), "{}", v.to_text());
        }
        assert_eq!(FrameView::parse(""), None);
        assert_eq!(FrameView::parse("1 2 x"), None);
    }

    #[test]
    fn numbers_that_are_not_a_view_are_refused() {
        let good = FrameView {
            dpr: 1.0,
            span_us: 1_000,
            speed: 1.0,
            ..FrameView::default()
        }
        .encode();
        assert!(FrameView::decode(&good).is_some());
        assert!(FrameView::decode(&good[..5]).is_none());
        for (i, bad) in [
            (4, 0.0),
            (6, 0.0),
            (7, -1.0),
            (8, 7.0),
            (0, f64::NAN),
            (0, -3.0),
        ] {
            let mut v = good;
            v[i] = bad;
            assert!(FrameView::decode(&v).is_none(), "slot {i} = {bad}");
        }
        let mut v = good;
        v[8] = 1.0;
        v[9] = 1.5;
        assert!(FrameView::decode(&v).is_none(), "a node id must be whole");
    }
}
