//! The geometry of a cumulative-distribution chart: our samples' empirical CDF as a staircase
//! line and a reference's quantiles as markers, on shared axes.
//!
//! Used by the Raft election experiment panel to draw "dsplay" beside the paper's Figure 16.
//! Pure: CSS pixels in, points and tick labels out; the browser only strokes them.

/// How values map onto an axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear,
    /// Base-10 logarithmic; the domain must be positive.
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
            f.clamp(0.0, 1.0)
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

/// A reference quantile drawn as a marker.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub y: f64,
    /// E.g. `p90 = 207.5 ms`, for a tooltip or a test.
    pub label: String,
}

/// Everything the chart draws.
#[derive(Clone, Debug, PartialEq)]
pub struct CdfChart {
    pub x: Axis,
    pub y: Axis,
    /// The plotting area: left, top, right, bottom.
    pub area: (f64, f64, f64, f64),
    /// Our samples' CDF as a staircase polyline.
    pub line: Vec<(f64, f64)>,
    pub markers: Vec<Marker>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
}

/// Margins around the plotting area: room for tick labels and the axis titles.
pub const MARGIN_LEFT: f64 = 34.0;
pub const MARGIN_RIGHT: f64 = 10.0;
pub const MARGIN_TOP: f64 = 22.0;
pub const MARGIN_BOTTOM: f64 = 34.0;

/// A domain spanning more than this ratio (max / min) is drawn on a log scale.
pub const LOG_RATIO: f64 = 20.0;

/// Lays out the chart in a `w`×`h` CSS-pixel box. `ours` is an empirical CDF (sorted
/// `(value, fraction ≤ value)` points, as an experiment's measured series gives); `reference` is
/// `(quantile, value)` pairs. Either may be empty; non-finite values are ignored.
pub fn chart(ours: &[(f64, f64)], reference: &[(f64, f64)], w: f64, h: f64) -> CdfChart {
    let values = ours
        .iter()
        .map(|p| p.0)
        .chain(reference.iter().map(|p| p.1))
        .filter(|v| v.is_finite() && *v >= 0.0);
    let (mut lo, mut hi) = values.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let scale = if lo > 0.0 && hi / lo > LOG_RATIO {
        Scale::Log
    } else {
        Scale::Linear
    };
    let (lo, hi) = match scale {
        Scale::Log => (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil()),
        ),
        Scale::Linear => {
            let step = nice_step((hi - lo).max(hi * 0.05).max(1e-9), 10);
            let lo = (lo / step).floor() * step;
            let hi = ((hi / step).ceil() * step).max(lo + step);
            (lo, hi)
        }
    };
    let (left, top) = (MARGIN_LEFT, MARGIN_TOP);
    let right = (w - MARGIN_RIGHT).max(left + 1.0);
    let bottom = (h - MARGIN_BOTTOM).max(top + 1.0);
    let x = Axis {
        scale,
        lo,
        hi,
        px0: left,
        px1: right,
    };
    let y = Axis {
        scale: Scale::Linear,
        lo: 0.0,
        hi: 1.0,
        px0: bottom,
        px1: top,
    };
    CdfChart {
        x,
        y,
        area: (left, top, right, bottom),
        line: staircase(ours, &x, &y),
        markers: reference
            .iter()
            .filter(|(q, v)| q.is_finite() && v.is_finite())
            .map(|&(q, v)| Marker {
                x: x.map(v),
                y: y.map(q),
                label: format!("{} = {} ms", quantile_name(q), fmt_ms(v)),
            })
            .collect(),
        x_ticks: x_ticks(&x, right - left),
        y_ticks: [0.0, 0.25, 0.5, 0.75, 1.0]
            .into_iter()
            .map(|f| Tick {
                px: y.map(f),
                label: format!("{}", f),
            })
            .collect(),
    }
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
    let mag = 10f64.powf(raw.log10().floor());
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
        format!("{}M", v / 1_000_000.0)
    } else if v >= 1_000.0 && (v / 1_000.0).fract() == 0.0 {
        format!("{}k", v / 1_000.0)
    } else if v.fract() == 0.0 {
        format!("{v}")
    } else {
        format!("{v:.1}")
    }
}

/// Milliseconds for tables: one decimal below 1000, whole numbers above.
pub fn fmt_ms(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v.abs() < 1_000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
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
            format!("p{}", p.round())
        } else {
            format!("p{:.1}", p)
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

    #[test]
    fn a_narrow_range_is_linear_and_a_wide_one_is_logarithmic() {
        let c = chart(
            &ecdf(&[100.0, 150.0, 300.0]),
            &[(0.0, 90.0), (1.0, 600.0)],
            300.0,
            200.0,
        );
        assert_eq!(c.x.scale, Scale::Linear);
        assert!(c.x.lo <= 90.0 && c.x.hi >= 600.0, "{:?}", c.x);
        let c = chart(
            &ecdf(&[100.0, 5_000.0]),
            &[(0.0, 86.0), (1.0, 8_231.4)],
            300.0,
            200.0,
        );
        assert_eq!(c.x.scale, Scale::Log);
        assert_eq!((c.x.lo, c.x.hi), (10.0, 10_000.0));
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
        let c = chart(&ecdf(&xs), &[], 300.0, 200.0);
        assert!(c.line.len() < 1_000, "merged to {} points", c.line.len());
        for w in c.line.windows(2) {
            assert!(w[1].0 >= w[0].0 - 1e-9, "x never goes back");
            assert!(
                w[1].1 <= w[0].1 + 1e-9,
                "y (downwards in pixels) never falls"
            );
        }
        let (_, top, right, bottom) = c.area;
        assert_eq!(c.line.first().unwrap().1, bottom);
        assert_eq!(*c.line.last().unwrap(), (right, top));
    }

    #[test]
    fn markers_sit_at_their_quantile_and_value() {
        let c = chart(&[], &[(0.5, 171.2), (0.9, 244.0)], 300.0, 200.0);
        assert_eq!(c.markers.len(), 2);
        assert_eq!(c.markers[0].y, c.y.map(0.5));
        assert_eq!(c.markers[0].x, c.x.map(171.2));
        assert_eq!(c.markers[0].label, "median = 171.2 ms");
        assert_eq!(c.markers[1].label, "p90 = 244.0 ms");
        assert!(c.line.is_empty());
    }

    #[test]
    fn ticks_are_round_in_range_and_not_crowded() {
        let c = chart(&ecdf(&[92.7, 603.3]), &[], 300.0, 200.0);
        let labels: Vec<&str> = c.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert!(labels.len() >= 3 && labels.len() <= 7, "{labels:?}");
        for t in &c.x_ticks {
            assert!(t.px >= c.area.0 - 1e-9 && t.px <= c.area.2 + 1e-9);
        }
        let c = chart(&ecdf(&[9_864.7, 527_964.3]), &[], 300.0, 200.0);
        let labels: Vec<&str> = c.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["1k", "10k", "100k", "1M"]);
        assert_eq!(c.y_ticks.len(), 5);
        assert_eq!(c.y_ticks[4].label, "1");
    }

    #[test]
    fn empty_and_degenerate_input_give_a_usable_chart() {
        let c = chart(&[], &[], 0.0, 0.0);
        assert!(c.line.is_empty() && c.markers.is_empty());
        assert!(c.x.hi > c.x.lo);
        let c = chart(&ecdf(&[150.0, 150.0]), &[(f64::NAN, 1.0)], 300.0, 200.0);
        assert!(c.x.hi > c.x.lo);
        assert!(c.markers.is_empty());
        assert!(c.line.iter().all(|p| p.0.is_finite() && p.1.is_finite()));
    }

    #[test]
    fn labels_read_well() {
        assert_eq!(fmt_tick(150.0), "150");
        assert_eq!(fmt_tick(2_000.0), "2k");
        assert_eq!(fmt_tick(0.5), "0.5");
        assert_eq!(fmt_ms(171.23), "171.2");
        assert_eq!(fmt_ms(40_878.7), "40879");
        assert_eq!(quantile_name(0.999), "p99.9");
        assert_eq!(quantile_name(0.0), "min");
        assert_eq!(nice_step(510.0, 5), 200.0);
        assert_eq!(nice_step(100.0, 5), 20.0);
    }
}
