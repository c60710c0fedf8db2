//! Helpers shared by the integration tests.
#![allow(dead_code)]

use dsplay::labs;
use dsplay::scenario::link;
use dsplay::sim::Instant;

/// Builds a scenario from a link and runs it to `until_us`.
pub fn run_link(l: &str, until_us: u64) -> Box<dyn labs::Sim> {
    let s = link::decode(l).unwrap_or_else(|e| panic!("{l}: {e}"));
    let mut sim = labs::build(&s).unwrap_or_else(|e| panic!("{l}: {e}"));
    sim.run_until(Instant(until_us));
    sim
}

/// The number of seeds a sweep runs: `DSPLAY_SEEDS`, or a small default.
pub fn seeds(default: u64) -> u64 {
    std::env::var("DSPLAY_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Stage `stage` of `link` drawn at a phone's, a laptop's and a projector's size: each size
/// with the shapes drawn there.
pub fn stage_at_three_sizes(
    link: &str,
    stage: u8,
) -> Vec<(f64, f64, Vec<dsplay::viz::scene::Shape>)> {
    use dsplay::play::frame::{stage_frame, FrameView};
    use dsplay::play::session::Session;
    use dsplay::viz::scene::Style;
    let (s, err) = Session::open(link);
    assert!(err.is_none(), "{err:?}");
    [
        (360.0, 300.0, 1.0),
        (927.0, 393.0, 1.0),
        (1800.0, 700.0, 1.6),
    ]
    .into_iter()
    .map(|(w, h, k)| {
        let mut view = FrameView::sized((w, h), (w, 200.0));
        view.style = Style { scale: k };
        view.stage = stage;
        let shapes = stage_frame(&s, &s.sim().nodes(), &view).expect("a sized canvas");
        (w, h, shapes)
    })
    .collect()
}

/// The texts among `shapes`.
pub fn texts(shapes: &[dsplay::viz::scene::Shape]) -> Vec<&str> {
    use dsplay::viz::scene::Shape;
    shapes
        .iter()
        .filter_map(|sh| match sh {
            Shape::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Whether `sh` stays on a `w` × `h` canvas (a pixel of slack); lines only when `lines`.
pub fn on_canvas(sh: &dsplay::viz::scene::Shape, w: f64, h: f64, lines: bool) -> bool {
    use dsplay::viz::scene::{Pt, Shape};
    let inside = |p: &Pt| p.x >= -1.0 && p.y >= -1.0 && p.x <= w + 1.0 && p.y <= h + 1.0;
    match sh {
        Shape::Rect {
            at, w: rw, h: rh, ..
        } => inside(at) && inside(&Pt::new(at.x + rw, at.y + rh)),
        Shape::Circle { c, r, .. } => {
            inside(&Pt::new(c.x - r, c.y - r)) && inside(&Pt::new(c.x + r, c.y + r))
        }
        Shape::Text { at, .. } => inside(at),
        Shape::Line { a, b, .. } if lines => inside(a) && inside(b),
        _ => true,
    }
}
