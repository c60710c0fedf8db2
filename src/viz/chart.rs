//! Charts as data, and the one function that turns a chart into shapes.
//!
//! A [`Chart`] (title, axes, linear or log, series drawn as lines, steps, dots or bars, a
//! caption, reference series such as a paper's curve, an optional cursor) is what a lab's
//! experiment or panel returns; [`plot`] lays it out in a box of CSS pixels as [`Shape`]s, which
//! the page's one painter draws. The command line prints the same chart's series as JSON.

use super::colors::{NEUTRAL, PALETTE};
use super::scene::{Align, Pt, Shape, Style};
use super::Within;
use crate::sim::time::fixed;
use serde::Serialize;

/// How an axis maps values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisScale {
    Linear,
    /// Base-10 logarithmic (linear if a value is not positive).
    Log,
    /// Linear, or logarithmic when the values span more than [`LOG_RATIO`].
    Auto,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesStyle {
    Line,
    /// A cumulative staircase: flat, then up at each point.
    Steps,
    Dots,
    Bars,
}

/// One series of points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub style: SeriesStyle,
    pub points: Vec<(f64, f64)>,
    /// Published data to compare with (a paper's curve), drawn as such.
    pub reference: bool,
    /// The palette colour its meaning has (an index into [`PALETTE`]: failures in the
    /// alert colour, say); `None` takes the next colour in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour: Option<u8>,
}

/// A chart as data: the page draws it, the command line prints its series with `--json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: AxisScale,
    pub y_scale: AxisScale,
    pub series: Vec<Series>,
    pub caption: String,
    /// A vertical marker at this x (a time series' current virtual time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor_x: Option<f64>,
}

/// How values map onto an axis as drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear,
    /// Base-10 logarithmic; the domain is positive.
    Log,
}

/// A value axis mapped onto a pixel range (`px0` for `lo`, `px1` for `hi`; `px1 < px0` for a
/// y axis that grows upwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub scale: Scale,
    pub lo: f64,
    pub hi: f64,
    pub px0: f64,
    pub px1: f64,
}

impl Axis {
    /// The pixel position of `v`, clamped to the axis.
    pub fn map(&self, v: f64) -> f64 {
        let (a, b, x) = match self.scale {
            Scale::Linear => (self.lo, self.hi, v),
            Scale::Log => (
                self.lo.max(f64::MIN_POSITIVE).log10(),
                self.hi.max(f64::MIN_POSITIVE).log10(),
                v.max(f64::MIN_POSITIVE).log10(),
            ),
        };
        let f = if b > a { (x - a) / (b - a) } else { 0.5 };
        let f = if f.is_finite() {
            f.within(0.0, 1.0)
        } else {
            0.0
        };
        self.px0 + (self.px1 - self.px0) * f
    }
}

/// A tick: its pixel position along the axis and its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub px: f64,
    pub label: String,
}

/// A laid-out chart: its axes, plotting area and shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    pub x: Axis,
    pub y: Axis,
    /// The plotting area: left, top, right, bottom.
    pub area: (f64, f64, f64, f64),
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    pub shapes: Vec<Shape>,
}

/// Margins around the plotting area (before presenter scaling): room for tick labels, the
/// axis titles and the legend.
pub const MARGIN_LEFT: f64 = 34.0;
pub const MARGIN_RIGHT: f64 = 10.0;
pub const MARGIN_TOP: f64 = 22.0;
pub const MARGIN_BOTTOM: f64 = 34.0;

/// A domain spanning more than this ratio (max / min) is drawn on a log scale by
/// [`AxisScale::Auto`].
pub const LOG_RATIO: f64 = 20.0;

const GRID: &str = "#e6e8ec";
const LABEL: &str = "#5b6472";
const INK: &str = "#1f2328";
/// The outline of reference dots (a dark orange, so they read on white and on the line).
const DOT_EDGE: &str = "#5a3d00";

/// The finite values of one coordinate of every series.
fn values(chart: &Chart, pick: fn(&(f64, f64)) -> f64) -> impl Iterator<Item = f64> + '_ {
    chart
        .series
        .iter()
        .flat_map(move |s| s.points.iter().map(pick))
        .filter(|v| v.is_finite())
}

/// A domain `[lo, hi]` of the values, widened to round numbers, and the scale it is drawn on.
fn domain(vals: impl Iterator<Item = f64>, scale: AxisScale, from_zero: bool) -> (Scale, f64, f64) {
    let (mut lo, mut hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let log = match scale {
        AxisScale::Linear => false,
        AxisScale::Log => lo > 0.0,
        AxisScale::Auto => lo > 0.0 && hi / lo > LOG_RATIO,
    };
    if log {
        let lo = libm::pow(10.0, lo.log10().floor());
        let hi = libm::pow(10.0, hi.log10().ceil()).max(lo * 10.0);
        return (Scale::Log, lo, hi);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    if lo >= 0.0 && hi <= 1.0 && from_zero {
        return (Scale::Linear, 0.0, 1.0);
    }
    let step = nice_step((hi - lo).max(hi.abs() * 0.05).max(1e-9), 10);
    let lo = (lo / step).floor() * step;
    let hi = ((hi / step).ceil() * step).max(lo + step);
    (Scale::Linear, lo, hi)
}

/// Where the outermost bars end: half the bars' closest spacing (or half a unit for one bar)
/// beyond the first and last, so no bar lies half outside the plot.
fn bar_ends(chart: &Chart) -> Vec<f64> {
    let mut xs: Vec<f64> = chart
        .series
        .iter()
        .filter(|s| s.style == SeriesStyle::Bars)
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|x| x.is_finite())
        .collect();
    if xs.is_empty() {
        return Vec::new();
    }
    crate::sim::order::sort_by(&mut xs, |a, b| a.total_cmp(b));
    let gap = xs
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    let half = if gap.is_finite() { gap / 2.0 } else { 0.5 };
    vec![xs[0] - half, xs[xs.len() - 1] + half]
}

/// Lays `chart` out in a `w`×`h` CSS-pixel box, type and lines sized by `style`.
pub fn plot(chart: &Chart, w: f64, h: f64, style: Style) -> Plot {
    let k = style.scale;
    let from_zero = chart
        .series
        .iter()
        .any(|s| matches!(s.style, SeriesStyle::Steps | SeriesStyle::Bars));
    let (xs, xlo, xhi) = domain(
        values(chart, |p| p.0)
            .chain(chart.cursor_x.filter(|c| c.is_finite()))
            .chain(bar_ends(chart)),
        chart.x_scale,
        false,
    );
    let (ys, ylo, yhi) = domain(values(chart, |p| p.1), chart.y_scale, from_zero);
    // A legend too wide to sit beside the y axis's title takes lines of its own above the plot.
    let lines = legend_lines(chart, w, style);
    let wraps = lines.len() > 1 || legend_wraps(chart, w, style);
    let extra = if wraps { lines.len().max(1) } else { 0 };
    let legend_line = extra as f64 * style.font(11.0) * 1.4;
    let (left, top) = (MARGIN_LEFT * k, MARGIN_TOP * k + legend_line);
    let right = (w - MARGIN_RIGHT * k).max(left + 1.0);
    let bottom = (h - MARGIN_BOTTOM * k).max(top + 1.0);
    let x = Axis {
        scale: xs,
        lo: xlo,
        hi: xhi,
        px0: left,
        px1: right,
    };
    let y = Axis {
        scale: ys,
        lo: ylo,
        hi: yhi,
        px0: bottom,
        px1: top,
    };
    let x_ticks = x_ticks(&x, (right - left) / k);
    let y_ticks = y_ticks(&y);
    let mut p = Plot {
        x,
        y,
        area: (left, top, right, bottom),
        x_ticks,
        y_ticks,
        shapes: Vec::new(),
    };
    frame(&mut p, chart, style);
    for (s, colour) in chart.series.iter().zip(series_colours(chart)) {
        draw_series(&mut p, s, colour, style);
    }
    if let Some(c) = chart.cursor_x.filter(|c| c.is_finite()) {
        let px = p.x.map(c);
        p.shapes.push(Shape::line(
            Pt::new(px, top),
            Pt::new(px, bottom),
            NEUTRAL,
            style.line(1.0),
            true,
        ));
    }
    legend(&mut p, chart, style, wraps, &lines);
    p
}

/// Grid, axis lines, tick labels and axis titles.
fn frame(p: &mut Plot, chart: &Chart, style: Style) {
    let (left, top, right, bottom) = p.area;
    let font = style.font(11.0);
    let thin = style.line(1.0);
    for t in &p.x_ticks {
        let x = t.px.round() + 0.5;
        p.shapes.push(Shape::line(
            Pt::new(x, top),
            Pt::new(x, bottom),
            GRID,
            thin,
            false,
        ));
    }
    for t in &p.y_ticks {
        let y = t.px.round() + 0.5;
        p.shapes.push(Shape::line(
            Pt::new(left, y),
            Pt::new(right, y),
            GRID,
            thin,
            false,
        ));
    }
    let corner = Pt::new(left + 0.5, bottom + 0.5);
    p.shapes.push(Shape::line(
        Pt::new(left + 0.5, top),
        corner,
        NEUTRAL,
        thin,
        false,
    ));
    p.shapes.push(Shape::line(
        corner,
        Pt::new(right, bottom + 0.5),
        NEUTRAL,
        thin,
        false,
    ));
    for t in &p.x_ticks {
        let at = Pt::new(t.px, bottom + font * 0.4 + font / 2.0);
        // A label at the right edge ends there rather than running off the canvas.
        let half = t.label.chars().count() as f64 * font * 0.29;
        let align = if t.px + half > right + MARGIN_RIGHT * style.scale {
            Align::Right
        } else {
            Align::Center
        };
        p.shapes
            .push(Shape::text(at, t.label.clone(), LABEL, font, align, false));
    }
    let title = if p.x.scale == Scale::Log {
        format!("{} (log scale)", chart.x_label)
    } else {
        chart.x_label.clone()
    };
    let at = Pt::new((left + right) / 2.0, bottom + font * 1.65 + font / 2.0);
    p.shapes
        .push(Shape::text(at, title, LABEL, font, Align::Center, false));
    for t in &p.y_ticks {
        let at = Pt::new(left - font * 0.4, t.px);
        p.shapes.push(Shape::text(
            at,
            t.label.clone(),
            LABEL,
            font,
            Align::Right,
            false,
        ));
    }
    let at = Pt::new(4.0, font * 0.75);
    p.shapes.push(Shape::text(
        at,
        chart.y_label.clone(),
        LABEL,
        font,
        Align::Left,
        false,
    ));
}

fn draw_series(p: &mut Plot, s: &Series, colour: &'static str, style: Style) {
    let pts = s
        .points
        .iter()
        .filter(|q| q.0.is_finite() && q.1.is_finite());
    let thick = style.line(2.0);
    match s.style {
        SeriesStyle::Line => {
            let px: Vec<Pt> = pts.map(|&(a, b)| Pt::new(p.x.map(a), p.y.map(b))).collect();
            for w in px.windows(2) {
                p.shapes.push(Shape::line(w[0], w[1], colour, thick, false));
            }
        }
        SeriesStyle::Steps => {
            let stairs = staircase(&s.points, &p.x, &p.y);
            for w in stairs.windows(2) {
                let (a, b) = (Pt::new(w[0].0, w[0].1), Pt::new(w[1].0, w[1].1));
                p.shapes.push(Shape::line(a, b, colour, thick, false));
            }
        }
        SeriesStyle::Dots => {
            for &(a, b) in pts {
                let c = Pt::new(p.x.map(a), p.y.map(b));
                p.shapes.push(dot(c, colour, style, s.reference));
            }
        }
        SeriesStyle::Bars => {
            let pts: Vec<(f64, f64)> = pts.copied().collect();
            let gap = pts
                .windows(2)
                .map(|w| (p.x.map(w[1].0) - p.x.map(w[0].0)).abs())
                .fold(f64::INFINITY, f64::min);
            let bw = if gap.is_finite() {
                gap * 0.8
            } else {
                12.0 * style.scale
            }
            .max(1.0);
            let base = p.y.map(p.y.lo.max(0.0));
            for (a, b) in pts {
                let (cx, top) = (p.x.map(a), p.y.map(b));
                p.shapes.push(Shape::Rect {
                    at: Pt::new(cx - bw / 2.0, top.min(base)),
                    w: bw,
                    h: (base - top).abs(),
                    fill: Some(colour),
                    stroke: None,
                    width: 0.0,
                });
            }
        }
    }
}

/// A dot: a reference point large and outlined (a handful, to compare against), a measured
/// one small (there may be thousands).
fn dot(c: Pt, colour: &'static str, style: Style, reference: bool) -> Shape {
    let (r, stroke) = if reference {
        (4.0, Some(DOT_EDGE))
    } else {
        (2.5, None)
    };
    Shape::Circle {
        c,
        r: r * style.scale,
        fill: Some(colour),
        stroke,
        width: style.line(1.0),
        dash: false,
    }
}

/// One entry per series along the top right: a sample of how it is drawn, and its name (a long
/// name is cut to its first two words).
/// The legend's entries: each series' colour and its name cut to two words.
fn legend_entries(chart: &Chart) -> Vec<(&Series, &'static str, String)> {
    chart
        .series
        .iter()
        .zip(series_colours(chart))
        .map(|(s, c)| {
            (
                s,
                c,
                s.name.split(' ').take(2).collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

/// How wide a text is taken to be (a generous estimate for the canvas font).
fn text_w(text: &str, font: f64) -> f64 {
    text.chars().count() as f64 * font * 0.58
}

/// Whether the legend, right-aligned, would run into the y axis's title on a `w`-wide chart.
fn legend_wraps(chart: &Chart, w: f64, style: Style) -> bool {
    let font = style.font(11.0);
    let width: f64 = legend_entries(chart)
        .iter()
        .map(|(_, _, name)| text_w(name, font) + font * 2.8)
        .sum();
    let right = w - MARGIN_RIGHT * style.scale;
    right - width < 4.0 + text_w(&chart.y_label, font) + font
}

/// The legend's entries (indices) line by line, each line as wide as the plot allows.
fn legend_lines(chart: &Chart, w: f64, style: Style) -> Vec<Vec<usize>> {
    let font = style.font(11.0);
    let room = w - (MARGIN_LEFT + MARGIN_RIGHT) * style.scale;
    let mut lines: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0.0;
    for (i, (_, _, name)) in legend_entries(chart).iter().enumerate() {
        let width = text_w(name, font) + font * 2.8;
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && used + width > room {
            lines.push(vec![i]);
            used = width;
        } else {
            line.push(i);
            used += width;
        }
    }
    lines
}

/// One entry per series along the top right (on lines of their own when `wraps`): a sample
/// of how it is drawn, and its name.
fn legend(p: &mut Plot, chart: &Chart, style: Style, wraps: bool, lines: &[Vec<usize>]) {
    let font = style.font(11.0);
    let entries = legend_entries(chart);
    for (row, line) in lines.iter().enumerate() {
        let y = if wraps {
            font * (2.2 + 1.4 * row as f64)
        } else {
            font * 0.9
        };
        let picked: Vec<_> = line.iter().map(|&i| entries[i].clone()).collect();
        legend_line(p, picked, style, y);
    }
}

fn legend_line(p: &mut Plot, entries: Vec<(&Series, &'static str, String)>, style: Style, y: f64) {
    let font = style.font(11.0);
    let sample = font * 1.5;
    let mut x = p.area.2;
    for (s, colour, name) in entries.into_iter().rev() {
        x -= text_w(&name, font);
        p.shapes.push(Shape::text(
            Pt::new(x, y),
            name,
            INK,
            font,
            Align::Left,
            false,
        ));
        x -= sample + font * 0.3;
        let (a, b) = (Pt::new(x, y), Pt::new(x + sample, y));
        p.shapes.push(match s.style {
            SeriesStyle::Dots => dot(a.lerp(b, 0.5), colour, style, s.reference),
            _ => Shape::line(a, b, colour, style.line(2.0), false),
        });
        x -= font;
    }
}

/// Each series' colour: reference data in orange, the others blue, green, purple, ... in order.
fn series_colours(chart: &Chart) -> Vec<&'static str> {
    let mut ours = 0;
    chart
        .series
        .iter()
        .map(|s| {
            if let Some(c) = s.colour {
                PALETTE[c as usize % PALETTE.len()]
            } else if s.reference {
                PALETTE[1]
            } else {
                ours += 1;
                PALETTE[[0, 2, 3, 4, 5][(ours - 1) % 5]]
            }
        })
        .collect()
}

/// Ticks up the y axis: quarters on a 0–1 axis, round steps otherwise, decades on a log axis.
fn y_ticks(y: &Axis) -> Vec<Tick> {
    let values: Vec<f64> = match y.scale {
        Scale::Log => {
            let (a, b) = (y.lo.log10().round() as i32, y.hi.log10().round() as i32);
            (a..=b).map(|e| 10f64.powi(e)).collect()
        }
        Scale::Linear if y.lo == 0.0 && y.hi == 1.0 => vec![0.0, 0.25, 0.5, 0.75, 1.0],
        Scale::Linear => {
            let step = nice_step(y.hi - y.lo, 4);
            let first = (y.lo / step).ceil() as i64;
            let last = (y.hi / step + 1e-9).floor() as i64;
            (first..=last).map(|i| i as f64 * step).collect()
        }
    };
    values
        .into_iter()
        .map(|v| Tick {
            px: y.map(v),
            label: fmt_tick(v),
        })
        .collect()
}

/// The CDF as a staircase (flat, then up at each sample), with samples that fall in the same
/// pixel column merged so ten thousand samples stay a few hundred points.
pub fn staircase(ours: &[(f64, f64)], x: &Axis, y: &Axis) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    let mut prev_f = 0.0;
    for &(v, f) in ours.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
        let px = x.map(v);
        let (y0, y1) = (y.map(prev_f), y.map(f));
        match pts.last_mut() {
            Some(last) if (last.0 - px).abs() < 1.0 => last.1 = y1,
            _ => {
                pts.push((px, y0));
                pts.push((px, y1));
            }
        }
        prev_f = f;
    }
    if let Some(&(_, y_end)) = pts.last() {
        // Carry the last level to the right edge.
        pts.push((x.px1, y_end));
    }
    pts
}

/// Ticks along the x axis: powers of ten (with 2 and 5 when few decades show) on a log axis,
/// round steps on a linear one; at most about one label per 40 px.
pub fn x_ticks(x: &Axis, width_px: f64) -> Vec<Tick> {
    let max_ticks = ((width_px / 40.0).floor() as usize).clamp(2, 10);
    let values: Vec<f64> = match x.scale {
        Scale::Log => {
            let (a, b) = (x.lo.log10().floor() as i32, x.hi.log10().ceil() as i32);
            let decades = (b - a).max(1) as usize;
            let mults: &[f64] = if decades * 3 <= max_ticks {
                &[1.0, 2.0, 5.0]
            } else {
                &[1.0]
            };
            let every = decades.div_ceil(max_ticks).max(1);
            (a..=b)
                .enumerate()
                .filter(|(i, _)| i % every == 0)
                .flat_map(|(_, e)| mults.iter().map(move |m| m * 10f64.powi(e)))
                .filter(|v| *v >= x.lo * 0.999 && *v <= x.hi * 1.001)
                .collect()
        }
        Scale::Linear => {
            let step = nice_step(x.hi - x.lo, max_ticks.min(6));
            let first = (x.lo / step).ceil() as i64;
            let last = (x.hi / step + 1e-9).floor() as i64;
            (first..=last).map(|i| i as f64 * step).collect()
        }
    };
    values
        .into_iter()
        .map(|v| Tick {
            px: x.map(v),
            label: fmt_tick(v),
        })
        .collect()
}

/// A round step (1, 2 or 5 times a power of ten) giving about `target` intervals over `span`.
pub fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span.abs().max(1e-12) / target.max(1) as f64;
    let mag = libm::pow(10.0, raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// `150`, `2k`, `500k`: short tick labels in milliseconds.
pub fn fmt_tick(v: f64) -> String {
    if v >= 1_000_000.0 && (v / 1_000_000.0).fract() == 0.0 {
        format!("{}M", (v / 1_000_000.0) as i64)
    } else if v >= 1_000.0 && (v / 1_000.0).fract() == 0.0 {
        format!("{}k", (v / 1_000.0) as i64)
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        (v as i64).to_string()
    } else {
        let s = fixed(v, 2);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Milliseconds for tables: one decimal below 1000, whole numbers above.
pub fn fmt_ms(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v.abs() < 1_000.0 {
        fixed(v, 1)
    } else {
        fixed(v, 0)
    }
}

/// `min`, `p10`, `median`, `p99.9`, `max`.
pub fn quantile_name(q: f64) -> String {
    if q <= 0.0 {
        "min".into()
    } else if q >= 1.0 {
        "max".into()
    } else if (q - 0.5).abs() < 1e-9 {
        "median".into()
    } else {
        let p = q * 100.0;
        if (p - p.round()).abs() < 1e-9 {
            format!("p{}", p.round() as i64)
        } else {
            format!("p{}", fixed(p, 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecdf(xs: &[f64]) -> Vec<(f64, f64)> {
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, x)| (*x, (i + 1) as f64 / n))
            .collect()
    }

    /// A CDF chart like the election experiment's: ours as steps, the paper's as dots.
    fn cdf(ours: &[f64], paper: &[(f64, f64)], x_scale: AxisScale) -> Chart {
        Chart {
            title: "t".into(),
            x_label: "ms".into(),
            y_label: "fraction".into(),
            x_scale,
            y_scale: AxisScale::Linear,
            series: vec![
                Series {
                    name: "dsplay".into(),
                    style: SeriesStyle::Steps,
                    points: ecdf(ours),
                    reference: false,
                    colour: None,
                },
                Series {
                    name: "the paper (Figure 16)".into(),
                    style: SeriesStyle::Dots,
                    points: paper.to_vec(),
                    reference: true,
                    colour: None,
                },
            ],
            caption: String::new(),
            cursor_x: None,
        }
    }

    fn inside(p: &Plot, w: f64, h: f64) -> bool {
        let ok = |q: Pt| q.x >= -0.5 && q.y >= -0.5 && q.x <= w + 0.5 && q.y <= h + 0.5;
        p.shapes.iter().all(|s| match s {
            Shape::Line { a, b, .. } => ok(*a) && ok(*b),
            Shape::Circle { c, .. } => ok(*c),
            Shape::Rect {
                at, w: rw, h: rh, ..
            } => ok(*at) && ok(Pt::new(at.x + rw, at.y + rh)),
            Shape::Text { at, .. } => ok(*at),
            _ => true,
        })
    }

    #[test]
    fn auto_is_linear_over_a_narrow_range_and_logarithmic_over_a_wide_one() {
        let p = plot(
            &cdf(
                &[100.0, 150.0, 300.0],
                &[(90.0, 0.0), (600.0, 1.0)],
                AxisScale::Auto,
            ),
            300.0,
            200.0,
            Style::default(),
        );
        assert_eq!(p.x.scale, Scale::Linear);
        assert!(p.x.lo <= 90.0 && p.x.hi >= 600.0, "{:?}", p.x);
        let p = plot(
            &cdf(
                &[100.0, 5_000.0],
                &[(86.0, 0.0), (8_231.4, 1.0)],
                AxisScale::Auto,
            ),
            300.0,
            200.0,
            Style::default(),
        );
        assert_eq!(p.x.scale, Scale::Log);
        assert_eq!((p.x.lo, p.x.hi), (10.0, 10_000.0));
        // A declared scale is kept; a log axis with a value at zero falls back to linear.
        let p = plot(
            &cdf(&[100.0, 150.0], &[], AxisScale::Log),
            300.0,
            200.0,
            Style::default(),
        );
        assert_eq!(p.x.scale, Scale::Log);
        let p = plot(
            &cdf(&[0.0, 150.0], &[], AxisScale::Log),
            300.0,
            200.0,
            Style::default(),
        );
        assert_eq!(p.x.scale, Scale::Linear);
    }

    #[test]
    fn axes_map_their_ends_to_the_plot_area_and_clamp_outside() {
        let x = Axis {
            scale: Scale::Log,
            lo: 10.0,
            hi: 1_000.0,
            px0: 0.0,
            px1: 200.0,
        };
        assert_eq!(x.map(10.0), 0.0);
        assert!((x.map(100.0) - 100.0).abs() < 1e-9);
        assert_eq!(x.map(1e9), 200.0);
        assert_eq!(x.map(0.0), 0.0);
        let y = Axis {
            scale: Scale::Linear,
            lo: 0.0,
            hi: 1.0,
            px0: 180.0,
            px1: 20.0,
        };
        assert_eq!(y.map(0.0), 180.0);
        assert_eq!(y.map(1.0), 20.0);
        assert_eq!(y.map(0.5), 100.0);
        assert_eq!(y.map(f64::NAN), 180.0);
    }

    #[test]
    fn the_staircase_rises_monotonically_to_the_top_and_runs_to_the_right_edge() {
        let xs: Vec<f64> = (1..=10_000).map(|i| 100.0 + (i as f64) * 0.02).collect();
        let p = plot(
            &cdf(&xs, &[], AxisScale::Auto),
            300.0,
            200.0,
            Style::default(),
        );
        let line = staircase(&ecdf(&xs), &p.x, &p.y);
        assert!(line.len() < 1_000, "merged to {} points", line.len());
        for w in line.windows(2) {
            assert!(w[1].0 >= w[0].0 - 1e-9, "x never goes back");
            assert!(
                w[1].1 <= w[0].1 + 1e-9,
                "y (downwards in pixels) never falls"
            );
        }
        let (_, top, right, bottom) = p.area;
        assert_eq!(line.first().unwrap().1, bottom);
        assert_eq!(*line.last().unwrap(), (right, top));
        // Drawn as that many lines in our colour, and no more.
        let ours = p.shapes.iter().filter(|s| matches!(s, Shape::Line { color, width, .. } if *color == PALETTE[0] && *width > 1.5)).count();
        assert_eq!(
            ours,
            line.len() - 1 + 1,
            "the staircase and the legend's sample"
        );
    }

    #[test]
    fn reference_dots_sit_at_their_value_and_fraction() {
        let p = plot(
            &cdf(&[], &[(171.2, 0.5), (244.0, 0.9)], AxisScale::Auto),
            300.0,
            200.0,
            Style::default(),
        );
        let dots: Vec<Pt> = p
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Circle {
                    c, fill: Some(f), ..
                } if *f == PALETTE[1] => Some(*c),
                _ => None,
            })
            .collect();
        // Two dots and the legend's sample.
        assert_eq!(dots.len(), 3);
        assert_eq!(dots[0], Pt::new(p.x.map(171.2), p.y.map(0.5)));
        assert_eq!(dots[1], Pt::new(p.x.map(244.0), p.y.map(0.9)));
    }

    #[test]
    fn ticks_are_round_in_range_and_not_crowded() {
        let p = plot(
            &cdf(&[92.7, 603.3], &[], AxisScale::Auto),
            300.0,
            200.0,
            Style::default(),
        );
        let labels: Vec<&str> = p.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert!(labels.len() >= 3 && labels.len() <= 7, "{labels:?}");
        for t in &p.x_ticks {
            assert!(t.px >= p.area.0 - 1e-9 && t.px <= p.area.2 + 1e-9);
        }
        let p = plot(
            &cdf(&[9_864.7, 527_964.3], &[], AxisScale::Auto),
            300.0,
            200.0,
            Style::default(),
        );
        let labels: Vec<&str> = p.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["1k", "10k", "100k", "1M"]);
        let labels: Vec<&str> = p.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "0.25", "0.5", "0.75", "1"]);
    }

    #[test]
    fn every_style_stays_inside_its_box_at_three_sizes() {
        let mut c = cdf(&[92.7, 150.0, 603.3], &[(100.0, 0.5)], AxisScale::Auto);
        c.series.push(Series {
            name: "rate".into(),
            style: SeriesStyle::Bars,
            points: vec![(100.0, 0.2), (200.0, 0.7), (300.0, 0.4)],
            reference: false,
            colour: None,
        });
        c.series.push(Series {
            name: "load".into(),
            style: SeriesStyle::Line,
            points: vec![(100.0, 0.1), (600.0, 0.9)],
            reference: false,
            colour: None,
        });
        c.cursor_x = Some(250.0);
        for (w, h, k) in [
            (320.0, 160.0, 1.0),
            (480.0, 200.0, 1.0),
            (900.0, 320.0, 1.6),
        ] {
            let p = plot(&c, w, h, Style { scale: k });
            assert!(inside(&p, w, h), "{w}x{h}");
            let dashed = p
                .shapes
                .iter()
                .filter(|s| matches!(s, Shape::Line { dash: true, .. }))
                .count();
            assert_eq!(dashed, 1, "the cursor");
            let bars = p
                .shapes
                .iter()
                .filter(|s| matches!(s, Shape::Rect { .. }))
                .count();
            assert_eq!(bars, 3);
        }
    }

    #[test]
    fn empty_and_degenerate_input_give_a_usable_chart() {
        let p = plot(&cdf(&[], &[], AxisScale::Auto), 0.0, 0.0, Style::default());
        assert!(p.x.hi > p.x.lo && p.y.hi > p.y.lo);
        let p = plot(
            &cdf(&[150.0, 150.0], &[(f64::NAN, 1.0)], AxisScale::Auto),
            300.0,
            200.0,
            Style::default(),
        );
        assert!(p.x.hi > p.x.lo);
        assert!(p.shapes.iter().all(|s| match s {
            Shape::Line { a, b, .. } =>
                a.x.is_finite() && a.y.is_finite() && b.x.is_finite() && b.y.is_finite(),
            Shape::Circle { c, .. } => c.x.is_finite() && c.y.is_finite(),
            _ => true,
        }));
    }

    #[test]
    fn the_legend_moves_below_the_axis_title_when_they_would_meet() {
        let c = cdf(&[100.0, 200.0], &[(150.0, 0.5)], AxisScale::Auto);
        let y_of = |p: &Plot, t: &str| {
            p.shapes.iter().find_map(|s| match s {
                Shape::Text { at, text, .. } if text == t => Some(at.y),
                _ => None,
            })
        };
        let wide = plot(&c, 600.0, 200.0, Style::default());
        let narrow = plot(&c, 200.0, 200.0, Style::default());
        let title = y_of(&wide, "fraction").unwrap();
        assert!(
            y_of(&wide, "dsplay").unwrap() - title < 5.0,
            "side by side when wide"
        );
        assert!(
            y_of(&narrow, "dsplay").unwrap() - title > 10.0,
            "a line below when narrow"
        );
    }

    #[test]
    fn a_series_with_a_colour_of_its_own_keeps_it() {
        let mut c = cdf(&[], &[], AxisScale::Linear);
        c.series = vec![Series {
            name: "timed out".into(),
            style: SeriesStyle::Dots,
            points: vec![(1.0, 2.0)],
            reference: false,
            colour: Some(5),
        }];
        let p = plot(&c, 300.0, 200.0, Style::default());
        let fills: Vec<&str> = p
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Circle { fill: Some(f), .. } => Some(*f),
                _ => None,
            })
            .collect();
        assert_eq!(
            fills,
            [PALETTE[5], PALETTE[5]],
            "the dot and its legend sample"
        );
    }

    #[test]
    fn labels_read_well() {
        assert_eq!(fmt_tick(150.0), "150");
        assert_eq!(fmt_tick(2_000.0), "2k");
        assert_eq!(fmt_tick(0.5), "0.5");
        assert_eq!(fmt_tick(0.25), "0.25");
        assert_eq!(fmt_ms(171.23), "171.2");
        assert_eq!(fmt_ms(40_878.7), "40879");
        assert_eq!(quantile_name(0.999), "p99.9");
        assert_eq!(quantile_name(0.0), "min");
        assert_eq!(nice_step(510.0, 5), 200.0);
        assert_eq!(nice_step(100.0, 5), 20.0);
    }
}
