//! Shapes as a flat buffer, for the paint worker.
//!
//! The animated canvases are painted off the main thread (see `ui::paint`): each frame the
//! shapes computed here in `viz` travel to a worker as one `Float64Array` of numbers and one
//! string (colours and texts, separated by [`SEP`]). This is that encoding;
//! `static/paint-worker.js` reads the same layout, and the tests decode it the same way.
//!
//! Layout: a sequence of records, each an opcode then its fields. Strings are indices into the
//! string table (`-1` for none); booleans are 0 or 1; alignment is 0 left, 1 centre, 2 right.
//!
//! | op | shape  | fields                                  |
//! |----|--------|-----------------------------------------|
//! | 1  | Line   | ax ay bx by color width dash            |
//! | 2  | Arrow  | ax ay bx by color width head            |
//! | 3  | Circle | cx cy r fill stroke width dash          |
//! | 4  | Arc    | cx cy r start sweep color width         |
//! | 5  | Rect   | x y w h fill stroke width               |
//! | 6  | Cross  | cx cy r color width                     |
//! | 7  | Text   | x y text color size align bold          |

use super::scene::{Align, Pt, Shape, ShapeSink};

/// Separates the strings of the table (never part of a colour or of text drawn on a canvas).
pub const SEP: char = '\u{1f}';

const LINE: f64 = 1.0;
const ARROW: f64 = 2.0;
const CIRCLE: f64 = 3.0;
const ARC: f64 = 4.0;
const RECT: f64 = 5.0;
const CROSS: f64 = 6.0;
const TEXT: f64 = 7.0;

/// One frame of one canvas, encoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Encoded {
    pub ops: Vec<f64>,
    /// The string table joined by [`SEP`].
    pub strings: String,
}

struct Table<'a> {
    out: &'a mut String,
    /// Colours already in the table and their indices.
    colors: Vec<(&'static str, f64)>,
    len: usize,
}

impl Table<'_> {
    fn push(&mut self, s: &str) -> f64 {
        if self.len > 0 {
            self.out.push(SEP);
        }
        // A separator inside a string would shift every later index: drop it.
        self.out.extend(s.chars().filter(|c| *c != SEP));
        self.len += 1;
        (self.len - 1) as f64
    }

    /// Colours are few and `'static`: each enters the table once.
    fn color(&mut self, c: &'static str) -> f64 {
        if let Some((_, i)) = self.colors.iter().find(|(k, _)| *k == c) {
            return *i;
        }
        let i = self.push(c);
        self.colors.push((c, i));
        i
    }

    fn opt(&mut self, c: Option<&'static str>) -> f64 {
        c.map_or(-1.0, |c| self.color(c))
    }
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Encodes `shapes` into `out` (cleared first; its buffers are reused between frames).
pub fn encode(shapes: &[Shape], out: &mut Encoded) {
    out.ops.clear();
    out.strings.clear();
    let mut packer = Packer {
        ops: &mut out.ops,
        t: Table {
            out: &mut out.strings,
            colors: Vec::with_capacity(16),
            len: 0,
        },
    };
    for s in shapes {
        s.draw_into(&mut packer);
    }
}

/// The encoder as a [`ShapeSink`]: each shape becomes one record in `ops`, its strings go to
/// the table.
struct Packer<'a> {
    ops: &'a mut Vec<f64>,
    t: Table<'a>,
}

impl ShapeSink for Packer<'_> {
    fn line(&mut self, a: Pt, b: Pt, color: &'static str, width: f64, dash: bool) {
        let c = self.t.color(color);
        self.ops
            .extend([LINE, a.x, a.y, b.x, b.y, c, width, flag(dash)]);
    }

    fn arrow(&mut self, a: Pt, b: Pt, color: &'static str, width: f64, head: f64) {
        let c = self.t.color(color);
        self.ops.extend([ARROW, a.x, a.y, b.x, b.y, c, width, head]);
    }

    fn circle(
        &mut self,
        c: Pt,
        r: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
        dash: bool,
    ) {
        let (f, s) = (self.t.opt(fill), self.t.opt(stroke));
        self.ops
            .extend([CIRCLE, c.x, c.y, r, f, s, width, flag(dash)]);
    }

    fn arc(&mut self, c: Pt, r: f64, start: f64, sweep: f64, color: &'static str, width: f64) {
        let k = self.t.color(color);
        self.ops.extend([ARC, c.x, c.y, r, start, sweep, k, width]);
    }

    fn rect(
        &mut self,
        at: Pt,
        w: f64,
        h: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
    ) {
        let (f, s) = (self.t.opt(fill), self.t.opt(stroke));
        self.ops.extend([RECT, at.x, at.y, w, h, f, s, width]);
    }

    fn cross(&mut self, c: Pt, r: f64, color: &'static str, width: f64) {
        let k = self.t.color(color);
        self.ops.extend([CROSS, c.x, c.y, r, k, width]);
    }

    fn text(
        &mut self,
        at: Pt,
        text: &str,
        color: &'static str,
        size: f64,
        align: Align,
        bold: bool,
    ) {
        let s = self.t.push(text);
        let k = self.t.color(color);
        let al = match align {
            Align::Left => 0.0,
            Align::Center => 1.0,
            Align::Right => 2.0,
        };
        self.ops
            .extend([TEXT, at.x, at.y, s, k, size, al, flag(bold)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a decoded record refers to: the worker's view of a shape (colours as table strings).
    #[derive(Clone, Debug, PartialEq)]
    enum Decoded {
        Line(Pt, Pt, String, f64, bool),
        Arrow(Pt, Pt, String, f64, f64),
        Circle(Pt, f64, Option<String>, Option<String>, f64, bool),
        Arc(Pt, f64, f64, f64, String, f64),
        Rect(Pt, f64, f64, Option<String>, Option<String>, f64),
        Cross(Pt, f64, String, f64),
        Text(Pt, String, String, f64, Align, bool),
    }

    /// Reads an encoded frame back, as the paint worker does; `None` if it is malformed.
    fn decode(e: &Encoded) -> Option<Vec<Decoded>> {
        let table: Vec<&str> = if e.strings.is_empty() {
            Vec::new()
        } else {
            e.strings.split(SEP).collect()
        };
        let s = |x: f64| -> Option<String> {
            table
                .get(usize::try_from(x as i64).ok()?)
                .map(|v| v.to_string())
        };
        let opt = |x: f64| -> Option<Option<String>> {
            if x < 0.0 {
                Some(None)
            } else {
                s(x).map(Some)
            }
        };
        let mut out = Vec::new();
        let o = &e.ops;
        let mut i = 0;
        while i < o.len() {
            let f = |k: usize| o.get(i + k).copied();
            let p = |k: usize| Some(Pt::new(f(k)?, f(k + 1)?));
            let (shape, len) = match f(0)? {
                LINE => (
                    Decoded::Line(p(1)?, p(3)?, s(f(5)?)?, f(6)?, f(7)? != 0.0),
                    8,
                ),
                ARROW => (Decoded::Arrow(p(1)?, p(3)?, s(f(5)?)?, f(6)?, f(7)?), 8),
                CIRCLE => (
                    Decoded::Circle(p(1)?, f(3)?, opt(f(4)?)?, opt(f(5)?)?, f(6)?, f(7)? != 0.0),
                    8,
                ),
                ARC => (
                    Decoded::Arc(p(1)?, f(3)?, f(4)?, f(5)?, s(f(6)?)?, f(7)?),
                    8,
                ),
                RECT => (
                    Decoded::Rect(p(1)?, f(3)?, f(4)?, opt(f(5)?)?, opt(f(6)?)?, f(7)?),
                    8,
                ),
                CROSS => (Decoded::Cross(p(1)?, f(3)?, s(f(4)?)?, f(5)?), 6),
                TEXT => {
                    let al = match f(6)? as i64 {
                        0 => Align::Left,
                        1 => Align::Center,
                        2 => Align::Right,
                        _ => return None,
                    };
                    (
                        Decoded::Text(p(1)?, s(f(3)?)?, s(f(4)?)?, f(5)?, al, f(7)? != 0.0),
                        8,
                    )
                }
                _ => return None,
            };
            out.push(shape);
            i += len;
        }
        Some(out)
    }

    fn expected(s: &Shape) -> Decoded {
        let o = |c: &Option<&str>| c.map(str::to_string);
        match s.clone() {
            Shape::Line {
                a,
                b,
                color,
                width,
                dash,
            } => Decoded::Line(a, b, color.into(), width, dash),
            Shape::Arrow {
                a,
                b,
                color,
                width,
                head,
            } => Decoded::Arrow(a, b, color.into(), width, head),
            Shape::Circle {
                c,
                r,
                fill,
                stroke,
                width,
                dash,
            } => Decoded::Circle(c, r, o(&fill), o(&stroke), width, dash),
            Shape::Arc {
                c,
                r,
                start,
                sweep,
                color,
                width,
            } => Decoded::Arc(c, r, start, sweep, color.into(), width),
            Shape::Rect {
                at,
                w,
                h,
                fill,
                stroke,
                width,
            } => Decoded::Rect(at, w, h, o(&fill), o(&stroke), width),
            Shape::Cross { c, r, color, width } => Decoded::Cross(c, r, color.into(), width),
            Shape::Text {
                at,
                text,
                color,
                size,
                align,
                bold,
            } => Decoded::Text(at, text.replace(SEP, ""), color.into(), size, align, bold),
        }
    }

    fn every_kind() -> Vec<Shape> {
        let (a, b) = (Pt::new(1.5, 2.0), Pt::new(300.25, -4.0));
        vec![
            Shape::Line {
                a,
                b,
                color: "#123456",
                width: 1.5,
                dash: true,
            },
            Shape::Text {
                at: a,
                text: "S1 term 4".into(),
                color: "#123456",
                size: 12.0,
                align: Align::Right,
                bold: true,
            },
            Shape::Arrow {
                a: b,
                b: a,
                color: "#0072B2",
                width: 2.0,
                head: 6.0,
            },
            Shape::Circle {
                c: a,
                r: 9.0,
                fill: None,
                stroke: Some("#0072B2"),
                width: 1.0,
                dash: false,
            },
            Shape::Circle {
                c: b,
                r: 3.0,
                fill: Some("#fff"),
                stroke: None,
                width: 0.0,
                dash: true,
            },
            Shape::Arc {
                c: a,
                r: 20.0,
                start: 0.5,
                sweep: 4.0,
                color: "#D55E00",
                width: 3.0,
            },
            Shape::Rect {
                at: b,
                w: 10.0,
                h: 20.0,
                fill: Some("#eee"),
                stroke: Some("#D55E00"),
                width: 1.0,
            },
            Shape::Cross {
                c: b,
                r: 4.0,
                color: "#D55E00",
                width: 2.0,
            },
            Shape::Text {
                at: b,
                text: format!("odd{SEP}text, with a separator"),
                color: "#000",
                size: 10.0,
                align: Align::Left,
                bold: false,
            },
            Shape::Text {
                at: b,
                text: String::new(),
                color: "#000",
                size: 10.0,
                align: Align::Center,
                bold: false,
            },
        ]
    }

    #[test]
    fn every_shape_survives_the_round_trip() {
        let shapes = every_kind();
        let mut e = Encoded::default();
        encode(&shapes, &mut e);
        let back = decode(&e).expect("decodes");
        let want: Vec<Decoded> = shapes.iter().map(expected).collect();
        assert_eq!(back, want);
        // Colours enter the table once, even after text: 6 colours and 3 texts.
        assert_eq!(e.strings.split(SEP).filter(|s| *s == "#123456").count(), 1);
        assert_eq!(e.strings.split(SEP).count(), 9);
    }

    #[test]
    fn buffers_are_reused_and_cleared() {
        let mut e = Encoded::default();
        encode(&every_kind(), &mut e);
        encode(&every_kind()[..1], &mut e);
        assert_eq!(decode(&e).unwrap().len(), 1);
        encode(&[], &mut e);
        assert!(e.ops.is_empty() && e.strings.is_empty());
        assert_eq!(decode(&e), Some(vec![]));
    }

    #[test]
    fn a_real_diagram_and_topology_round_trip() {
        use crate::play::frame::{diagram_frame, stage_frame, FrameView};
        use crate::play::session::Session;
        let (mut s, _) = Session::open("#/raft?n=5&seed=3&lat=20..80ms&clients=2");
        s.seek(2_000_000);
        let view = FrameView::sized((800.0, 500.0), (1200.0, 260.0));
        let nodes = s.sim().nodes();
        for shapes in [
            stage_frame(&s, &nodes, &view).unwrap(),
            diagram_frame(&s, &nodes, &view).unwrap().0,
        ] {
            assert!(shapes.len() > 20, "a real frame has many shapes");
            let mut e = Encoded::default();
            encode(&shapes, &mut e);
            let want: Vec<Decoded> = shapes.iter().map(expected).collect();
            assert_eq!(decode(&e).unwrap(), want);
        }
    }

    #[test]
    fn malformed_buffers_are_refused() {
        let mut e = Encoded::default();
        encode(&every_kind(), &mut e);
        let mut short = e.clone();
        short.ops.pop();
        assert_eq!(decode(&short), None);
        let mut bad_op = e.clone();
        bad_op.ops[0] = 99.0;
        assert_eq!(decode(&bad_op), None);
        let mut bad_str = e;
        bad_str.ops[5] = 1e9;
        assert_eq!(decode(&bad_str), None);
    }
}
