//! The pure drawing model: what a lab shows, as data.
//!
//! Labs describe nodes, messages and panels with these types; [`scene`] lays them out and
//! computes shapes for a given instant; the browser painter in `ui/` only draws the shapes.
//! Everything here is plain Rust and tested natively.

pub mod chart;
pub mod colors;
pub mod optimeline;
pub mod packed;
pub mod qr;
pub mod scene;
pub mod spacetime;
pub mod svg;
pub mod trig;

use serde::Serialize;

/// A number held to a range, as `clamp` holds it (NaN stays NaN; bounds out of order panic),
/// without `clamp`'s panic message, which prints the bounds with the float formatter and so
/// brings the formatter into the page.
pub trait Within: Sized {
    fn within(self, lo: Self, hi: Self) -> Self;
}

macro_rules! within_for {
    ($($t:ty),*) => {$(
        impl Within for $t {
            fn within(self, lo: $t, hi: $t) -> $t {
                assert!(lo <= hi, "a range's low end is above its high end");
                if self < lo {
                    lo
                } else if self > hi {
                    hi
                } else {
                    self
                }
            }
        }
    )*};
}
within_for!(f32, f64);

/// How a node looks, as its lab describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeView {
    pub id: u32,
    /// Large text on the node ("S1").
    pub label: String,
    /// Role name shown under the label ("leader", "follower"); also picks the colour.
    pub role: String,
    /// Index into the role palette (0 = neutral).
    pub role_class: u8,
    /// Extra lines for the inspector and hover ("term 4", "voted for S2").
    pub lines: Vec<String>,
    /// A draining arc around the node, 1.0 = just armed, 0.0 = about to fire (e.g. the election timer).
    pub timer_fraction: Option<f32>,
    pub up: bool,
}

/// A message in flight, for drawing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MsgView {
    pub id: u64,
    pub from: u32,
    pub to: u32,
    pub sent_us: u64,
    pub arrive_us: u64,
    pub kind: &'static str,
    /// The colour its lab's legend gives the kind (a CSS colour).
    pub colour: &'static str,
    /// Vanishes half-way (lost).
    pub lost: bool,
}

/// A table a lab shows beside the canvas (a Raft log, a ring's key ownership).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Panel {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// A sentence under the table.
    pub caption: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cell {
    pub text: String,
    /// 0 = plain; other values are lab-defined highlights mapped to palette colours.
    pub style: u8,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            style: 0,
        }
    }
    pub fn styled(text: impl Into<String>, style: u8) -> Self {
        Cell {
            text: text.into(),
            style,
        }
    }
}

#[cfg(test)]
mod within_tests {
    use super::Within;

    #[test]
    fn within_holds_a_number_as_clamp_does() {
        for x in [
            -3.0,
            -0.0,
            0.0,
            0.25,
            1.0,
            7.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(
                x.within(0.0, 1.0).to_bits(),
                x.clamp(0.0, 1.0).to_bits(),
                "{x}"
            );
            assert_eq!(
                (x as f32).within(-1.0, 2.0),
                (x as f32).clamp(-1.0, 2.0),
                "{x}"
            );
        }
        assert!(f64::NAN.within(0.0, 1.0).is_nan());
        assert!(std::panic::catch_unwind(|| 0.5f64.within(1.0, 0.0)).is_err());
    }
}
