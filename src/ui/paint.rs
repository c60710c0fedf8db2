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

/// Draws the shapes in order.
pub fn draw(ctx: &CanvasRenderingContext2d, shapes: &[Shape]) {
    let solid = js_sys::Array::new();
    let dashed = js_sys::Array::of2(&JsValue::from_f64(6.0), &JsValue::from_f64(4.0));
    let mut dash_on = false;
    let mut font = String::new();
    ctx.set_line_cap("round");
    ctx.set_text_baseline("middle");
    let mut set_dash = |on: bool| {
        if on != dash_on {
            let _ = ctx.set_line_dash(if on { &dashed } else { &solid });
            dash_on = on;
        }
    };
    for s in shapes {
        match s {
            Shape::Line {
                a,
                b,
                color,
                width,
                dash,
            } => {
                set_dash(*dash);
                ctx.begin_path();
                ctx.move_to(a.x, a.y);
                ctx.line_to(b.x, b.y);
                stroke(ctx, color, *width);
            }
            Shape::Arrow {
                a,
                b,
                color,
                width,
                head,
            } => {
                set_dash(false);
                ctx.begin_path();
                ctx.move_to(a.x, a.y);
                ctx.line_to(b.x, b.y);
                stroke(ctx, color, *width);
                let ang = (b.y - a.y).atan2(b.x - a.x);
                ctx.begin_path();
                ctx.move_to(b.x, b.y);
                ctx.line_to(
                    b.x - head * (ang - 0.4).cos(),
                    b.y - head * (ang - 0.4).sin(),
                );
                ctx.line_to(
                    b.x - head * (ang + 0.4).cos(),
                    b.y - head * (ang + 0.4).sin(),
                );
                ctx.close_path();
                ctx.set_fill_style_str(color);
                ctx.fill();
            }
            Shape::Circle {
                c,
                r,
                fill,
                stroke: st,
                width,
                dash,
            } => {
                set_dash(*dash);
                ctx.begin_path();
                let _ = ctx.arc(c.x, c.y, r.max(0.0), 0.0, TAU);
                if let Some(f) = fill {
                    ctx.set_fill_style_str(f);
                    ctx.fill();
                }
                if let Some(sc) = st {
                    stroke(ctx, sc, *width);
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
                set_dash(false);
                ctx.begin_path();
                let s0 = start - FRAC_PI_2;
                let _ = ctx.arc(c.x, c.y, r.max(0.0), s0, s0 + sweep);
                stroke(ctx, color, *width);
            }
            Shape::Rect {
                at,
                w,
                h,
                fill,
                stroke: st,
                width,
            } => {
                set_dash(false);
                if let Some(f) = fill {
                    ctx.set_fill_style_str(f);
                    ctx.fill_rect(at.x, at.y, *w, *h);
                }
                if let Some(sc) = st {
                    ctx.set_stroke_style_str(sc);
                    ctx.set_line_width(*width);
                    ctx.stroke_rect(at.x, at.y, *w, *h);
                }
            }
            Shape::Cross { c, r, color, width } => {
                set_dash(false);
                ctx.begin_path();
                ctx.move_to(c.x - r, c.y - r);
                ctx.line_to(c.x + r, c.y + r);
                ctx.move_to(c.x + r, c.y - r);
                ctx.line_to(c.x - r, c.y + r);
                stroke(ctx, color, *width);
            }
            Shape::Text {
                at,
                text,
                color,
                size,
                align,
                bold,
            } => {
                let f = format!(
                    "{}{:.1}px system-ui, -apple-system, 'Segoe UI', sans-serif",
                    if *bold { "600 " } else { "" },
                    size
                );
                if f != font {
                    ctx.set_font(&f);
                    font = f;
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
    let _ = ctx.set_line_dash(&solid);
}

fn stroke(ctx: &CanvasRenderingContext2d, color: &str, width: f64) {
    ctx.set_stroke_style_str(color);
    ctx.set_line_width(width);
    ctx.stroke();
}
