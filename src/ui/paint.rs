//! The thin painter: draws [`Shape`]s on a 2D canvas, sharp at any device pixel ratio.
//!
//! Everything about *where* things go is decided in `viz`; this file only turns shapes into
//! canvas calls.

use crate::viz::scene::{Align, Shape};
use std::f64::consts::{FRAC_PI_2, TAU};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Gets the 2D context and sizes the backing store to `w`×`h` CSS pixels at `dpr`.
pub fn prepare(
    canvas: &HtmlCanvasElement,
    w: f64,
    h: f64,
    dpr: f64,
) -> Option<CanvasRenderingContext2d> {
    let (bw, bh) = (
        (w * dpr).round().max(1.0) as u32,
        (h * dpr).round().max(1.0) as u32,
    );
    if canvas.width() != bw {
        canvas.set_width(bw);
    }
    if canvas.height() != bh {
        canvas.set_height(bh);
    }
    let ctx = canvas
        .get_context("2d")
        .ok()??
        .dyn_into::<CanvasRenderingContext2d>()
        .ok()?;
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, w, h);
    Some(ctx)
}

/// The style of the path being built: consecutive shapes with the same style share one path
/// and one `stroke()` / `fill()` call (thousands of arrows in the diagram stay cheap).
#[derive(Clone, Copy, PartialEq)]
enum Batch {
    None,
    Stroke {
        color: &'static str,
        width: f64,
        dash: bool,
    },
    Fill {
        color: &'static str,
    },
}

struct Painter<'a> {
    ctx: &'a CanvasRenderingContext2d,
    batch: Batch,
    dash_on: bool,
    solid: js_sys::Array,
    dashed: js_sys::Array,
    font: String,
}

impl Painter<'_> {
    /// Makes `b` the current batch, finishing the previous one if it differs.
    fn batch(&mut self, b: Batch) {
        if self.batch == b {
            return;
        }
        self.flush();
        match b {
            Batch::Stroke { dash, .. } => self.set_dash(dash),
            Batch::Fill { .. } | Batch::None => {}
        }
        if b != Batch::None {
            self.ctx.begin_path();
        }
        self.batch = b;
    }

    fn flush(&mut self) {
        match self.batch {
            Batch::None => {}
            Batch::Stroke { color, width, .. } => {
                self.ctx.set_stroke_style_str(color);
                self.ctx.set_line_width(width);
                self.ctx.stroke();
            }
            Batch::Fill { color } => {
                self.ctx.set_fill_style_str(color);
                self.ctx.fill();
            }
        }
        self.batch = Batch::None;
    }

    fn set_dash(&mut self, on: bool) {
        if on != self.dash_on {
            let _ = self
                .ctx
                .set_line_dash(if on { &self.dashed } else { &self.solid });
            self.dash_on = on;
        }
    }

    fn shape(&mut self, s: &Shape) {
        let ctx = self.ctx;
        match s {
            Shape::Line {
                a,
                b,
                color,
                width,
                dash,
            } => {
                self.batch(Batch::Stroke {
                    color,
                    width: *width,
                    dash: *dash,
                });
                ctx.move_to(a.x, a.y);
                ctx.line_to(b.x, b.y);
            }
            Shape::Arrow {
                a,
                b,
                color,
                width,
                head,
            } => {
                self.batch(Batch::Stroke {
                    color,
                    width: *width,
                    dash: false,
                });
                ctx.move_to(a.x, a.y);
                ctx.line_to(b.x, b.y);
                let ang = (b.y - a.y).atan2(b.x - a.x);
                // The head is two short strokes in the same path: no separate fill pass.
                ctx.move_to(
                    b.x - head * (ang - 0.45).cos(),
                    b.y - head * (ang - 0.45).sin(),
                );
                ctx.line_to(b.x, b.y);
                ctx.line_to(
                    b.x - head * (ang + 0.45).cos(),
                    b.y - head * (ang + 0.45).sin(),
                );
            }
            Shape::Cross { c, r, color, width } => {
                self.batch(Batch::Stroke {
                    color,
                    width: *width,
                    dash: false,
                });
                ctx.move_to(c.x - r, c.y - r);
                ctx.line_to(c.x + r, c.y + r);
                ctx.move_to(c.x + r, c.y - r);
                ctx.line_to(c.x - r, c.y + r);
            }
            Shape::Circle {
                c,
                r,
                fill: Some(f),
                stroke: None,
                ..
            } => {
                self.batch(Batch::Fill { color: f });
                ctx.move_to(c.x + r.max(0.0), c.y);
                let _ = ctx.arc(c.x, c.y, r.max(0.0), 0.0, TAU);
            }
            Shape::Circle {
                c,
                r,
                fill,
                stroke,
                width,
                dash,
            } => {
                self.flush();
                self.set_dash(*dash);
                ctx.begin_path();
                let _ = ctx.arc(c.x, c.y, r.max(0.0), 0.0, TAU);
                if let Some(f) = fill {
                    ctx.set_fill_style_str(f);
                    ctx.fill();
                }
                if let Some(sc) = stroke {
                    ctx.set_stroke_style_str(sc);
                    ctx.set_line_width(*width);
                    ctx.stroke();
                }
            }
            Shape::Arc {
                c,
                r,
                start,
                sweep,
                color,
                width,
            } => {
                self.batch(Batch::Stroke {
                    color,
                    width: *width,
                    dash: false,
                });
                let s0 = start - FRAC_PI_2;
                ctx.move_to(c.x + r * s0.cos(), c.y + r * s0.sin());
                let _ = ctx.arc(c.x, c.y, r.max(0.0), s0, s0 + sweep);
            }
            Shape::Rect {
                at,
                w,
                h,
                fill,
                stroke,
                width,
            } => {
                self.flush();
                self.set_dash(false);
                if let Some(f) = fill {
                    ctx.set_fill_style_str(f);
                    ctx.fill_rect(at.x, at.y, *w, *h);
                }
                if let Some(sc) = stroke {
                    ctx.set_stroke_style_str(sc);
                    ctx.set_line_width(*width);
                    ctx.stroke_rect(at.x, at.y, *w, *h);
                }
            }
            Shape::Text {
                at,
                text,
                color,
                size,
                align,
                bold,
            } => {
                self.flush();
                let f = format!(
                    "{}{:.1}px system-ui, -apple-system, 'Segoe UI', sans-serif",
                    if *bold { "600 " } else { "" },
                    size
                );
                if f != self.font {
                    ctx.set_font(&f);
                    self.font = f;
                }
                ctx.set_text_align(match align {
                    Align::Left => "left",
                    Align::Center => "center",
                    Align::Right => "right",
                });
                ctx.set_fill_style_str(color);
                let _ = ctx.fill_text(text, at.x, at.y);
            }
        }
    }
}

/// Draws the shapes in order (consecutive shapes of one style in one path).
pub fn draw(ctx: &CanvasRenderingContext2d, shapes: &[Shape]) {
    ctx.set_line_cap("butt");
    ctx.set_line_join("miter");
    ctx.set_text_baseline("middle");
    let mut p = Painter {
        ctx,
        batch: Batch::None,
        dash_on: false,
        solid: js_sys::Array::new(),
        dashed: js_sys::Array::of2(&JsValue::from_f64(6.0), &JsValue::from_f64(4.0)),
        font: String::new(),
    };
    let _ = ctx.set_line_dash(&p.solid);
    for s in shapes {
        p.shape(s);
    }
    p.flush();
    let _ = ctx.set_line_dash(&p.solid);
}
