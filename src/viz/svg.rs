//! Shapes as an SVG document: the space-time diagram exported for slides and handouts, drawn
//! from the same shapes the canvas paints.

use super::scene::{Align, Pt, Shape, ShapeSink};
use super::trig;
use crate::sim::time::fixed;
use std::f64::consts::FRAC_PI_2;
use std::fmt::Write;

/// An SVG document of `w` × `h` CSS pixels on a white ground, holding `shapes` in order.
pub fn document(shapes: &[Shape], w: f64, h: f64) -> String {
    let mut s = Svg(String::new());
    let (w, h) = (num(w), num(h));
    let _ = write!(
        s.0,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"
    );
    for shape in shapes {
        shape.draw_into(&mut s);
    }
    s.0.push_str("</svg>\n");
    s.0
}

/// A number as SVG takes it: at most two decimals, no exponent.
fn num(v: f64) -> String {
    let t = fixed(if v.is_finite() { v } else { 0.0 }, 2);
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t.is_empty() || t == "-" {
        "0".into()
    } else {
        t.into()
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn paint(fill: Option<&str>, stroke: Option<&str>, width: f64) -> String {
    format!(
        "fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"",
        fill.unwrap_or("none"),
        stroke.unwrap_or("none"),
        num(width)
    )
}

struct Svg(String);

impl Svg {
    fn path(&mut self, d: &str, color: &str, width: f64, dash: bool) {
        let dash = if dash {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let _ = write!(
            self.0,
            "<path d=\"{d}\" {} stroke-linecap=\"round\"{dash}/>",
            paint(None, Some(color), width)
        );
    }
}

fn pt(p: Pt) -> String {
    format!("{} {}", num(p.x), num(p.y))
}

impl ShapeSink for Svg {
    fn line(&mut self, a: Pt, b: Pt, color: &'static str, width: f64, dash: bool) {
        self.path(&format!("M{}L{}", pt(a), pt(b)), color, width, dash);
    }

    fn arrow(&mut self, a: Pt, b: Pt, color: &'static str, width: f64, head: f64) {
        let ang = trig::atan2(b.y - a.y, b.x - a.x);
        let wing = |turn: f64| {
            Pt::new(
                b.x - head * trig::cos(ang + turn),
                b.y - head * trig::sin(ang + turn),
            )
        };
        let d = format!(
            "M{}L{}M{}L{}L{}",
            pt(a),
            pt(b),
            pt(wing(-0.45)),
            pt(b),
            pt(wing(0.45))
        );
        self.path(&d, color, width, false);
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
        let dash = if dash {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let _ = write!(
            self.0,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {}{dash}/>",
            num(c.x),
            num(c.y),
            num(r.max(0.0)),
            paint(fill, stroke, width)
        );
    }

    fn arc(&mut self, c: Pt, r: f64, start: f64, sweep: f64, color: &'static str, width: f64) {
        let at = |a: f64| {
            Pt::new(
                c.x + r * trig::cos(a - FRAC_PI_2),
                c.y + r * trig::sin(a - FRAC_PI_2),
            )
        };
        // A sweep of a whole turn or more is drawn as two halves (one arc cannot close).
        let sweep = sweep.clamp(0.0, std::f64::consts::TAU - 1e-6);
        let large = u8::from(sweep > std::f64::consts::PI);
        let d = format!(
            "M{}A{} {} 0 {large} 1 {}",
            pt(at(start)),
            num(r),
            num(r),
            pt(at(start + sweep))
        );
        self.path(&d, color, width, false);
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
        let _ = write!(
            self.0,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {}/>",
            num(at.x),
            num(at.y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            paint(fill, stroke, width)
        );
    }

    fn cross(&mut self, c: Pt, r: f64, color: &'static str, width: f64) {
        let d = format!(
            "M{}L{}M{}L{}",
            pt(Pt::new(c.x - r, c.y - r)),
            pt(Pt::new(c.x + r, c.y + r)),
            pt(Pt::new(c.x + r, c.y - r)),
            pt(Pt::new(c.x - r, c.y + r))
        );
        self.path(&d, color, width, false);
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
        let anchor = match align {
            Align::Left => "start",
            Align::Center => "middle",
            Align::Right => "end",
        };
        let weight = if bold { " font-weight=\"600\"" } else { "" };
        let _ = write!(
            self.0,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{color}\" text-anchor=\"{anchor}\" \
             dominant-baseline=\"central\"{weight}>{}</text>",
            num(at.x),
            num(at.y),
            num(size),
            escape(text)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_becomes_one_element_and_text_is_escaped() {
        let shapes = vec![
            Shape::line(Pt::new(0.0, 0.0), Pt::new(10.0, 5.5), "#000000", 1.0, true),
            Shape::rect(Pt::new(1.0, 2.0), 3.0, 4.0, Some("#0072B2"), None, 1.0),
            Shape::text(
                Pt::new(5.0, 5.0),
                "a < b & \"c\"".into(),
                "#1f2328",
                12.0,
                Align::Center,
                true,
            ),
            Shape::Circle {
                c: Pt::new(3.0, 3.0),
                r: 2.0,
                fill: Some("#D55E00"),
                stroke: None,
                width: 1.0,
                dash: false,
            },
        ];
        let svg = document(&shapes, 200.0, 100.5);
        assert!(svg.starts_with(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"200\" height=\"100.5\""
        ));
        assert!(svg.contains("<path d=\"M0 0L10 5.5\""));
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.contains("<rect x=\"1\" y=\"2\" width=\"3\" height=\"4\" fill=\"#0072B2\""));
        assert!(svg.contains(">a &lt; b &amp; &quot;c&quot;</text>"));
        assert!(svg.contains("<circle cx=\"3\" cy=\"3\" r=\"2\" fill=\"#D55E00\""));
        assert_eq!(
            svg.matches('<').count(),
            2 + 1 + shapes.len() + 1,
            "svg, ground, shapes, close"
        );
        assert!(svg.ends_with("</svg>\n"));
    }

    #[test]
    fn numbers_are_plain_decimals() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.004), "0");
        assert_eq!(num(2.345), "2.35");
        assert_eq!(num(f64::NAN), "0");
    }
}
