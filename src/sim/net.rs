//! The network model, as data.
//!
//! Every directed link has a state (up or cut) and parameters: a latency distribution, a loss
//! probability, a duplication probability and an optional bandwidth. A default applies to every
//! link; per-link overrides replace it for one direction. Partitions are groups of endpoints:
//! links between different groups are cut in both directions; a one-way cut blocks one
//! direction only. Iteration is over ordered maps so nothing depends on hash order.

use super::rng::Rng;
use super::small_map::{SmallMap, SmallSet};
use super::time::{format_us, parse_decimal_scaled, parse_duration, shortest};
use serde::{Deserialize, Serialize};

/// Identifies a node or a client on the network. Nodes are `0..n`, clients follow.
pub type Endpoint = u32;

/// A latency distribution in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dist {
    /// Always this many microseconds.
    Constant { us: u64 },
    /// Uniform over `[min_us, max_us]`.
    Uniform { min_us: u64, max_us: u64 },
    /// Exponential with this mean.
    Exponential { mean_us: u64 },
    /// Pareto with scale `xm_us` and shape `alpha`.
    Pareto { xm_us: u64, alpha: f64 },
    /// Draw from one component, chosen with the given weights (parts per million, summing to
    /// one million).
    Mix { parts: Vec<(u32, Dist)> },
    /// A fixed delay added to another distribution.
    Shift { by_us: u64, dist: Box<Dist> },
}

/// The longest latency a distribution may produce (one hour); longer samples are clamped so a
/// heavy tail can never stall a run forever.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;
const MAX_DIST_DEPTH: usize = 4;
const MAX_MIX_PARTS: usize = 8;

impl Dist {
    pub fn uniform_ms(min: u64, max: u64) -> Dist {
        Dist::Uniform {
            min_us: min * 1000,
            max_us: max * 1000,
        }
    }

    /// Draws one latency.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        let v = match self {
            Dist::Constant { us } => *us,
            Dist::Uniform { min_us, max_us } => rng.range_inclusive(*min_us, *max_us),
            Dist::Exponential { mean_us } => round_us(rng.exponential(*mean_us as f64)),
            Dist::Pareto { xm_us, alpha } => round_us(rng.pareto(*xm_us as f64, *alpha)),
            Dist::Mix { parts } => {
                let mut pick = rng.range_inclusive(0, 999_999) as u32;
                let mut chosen = parts.last().map(|p| &p.1);
                for (w, d) in parts {
                    if pick < *w {
                        chosen = Some(d);
                        break;
                    }
                    pick -= w;
                }
                chosen.map_or(0, |d| d.sample(rng))
            }
            Dist::Shift { by_us, dist } => by_us.saturating_add(dist.sample(rng)),
        };
        v.min(MAX_LATENCY_US)
    }

    /// The mean in microseconds (for views and tests).
    pub fn mean_us(&self) -> f64 {
        match self {
            Dist::Constant { us } => *us as f64,
            Dist::Uniform { min_us, max_us } => (*min_us as f64 + *max_us as f64) / 2.0,
            Dist::Exponential { mean_us } => *mean_us as f64,
            Dist::Pareto { xm_us, alpha } => {
                if *alpha <= 1.0 {
                    f64::INFINITY
                } else {
                    alpha * *xm_us as f64 / (alpha - 1.0)
                }
            }
            Dist::Mix { parts } => parts
                .iter()
                .map(|(w, d)| *w as f64 / 1e6 * d.mean_us())
                .sum(),
            Dist::Shift { by_us, dist } => *by_us as f64 + dist.mean_us(),
        }
    }

    /// The smallest and a typical largest value, for sliders and the UI.
    pub fn bounds_us(&self) -> (u64, u64) {
        match self {
            Dist::Constant { us } => (*us, *us),
            Dist::Uniform { min_us, max_us } => (*min_us, *max_us),
            _ => (0, (self.mean_us() * 3.0).min(MAX_LATENCY_US as f64) as u64),
        }
    }

    /// The link form: `50ms`, `20..80ms`, `exp(10ms)`, `pareto(235us,10)`,
    /// `mix(0.9122:pareto(235us,10),0.0878:exp(602us))`, `75ms+exp(10ms)`.
    pub fn to_text(&self) -> String {
        match self {
            Dist::Constant { us } => format_us(*us),
            Dist::Uniform { min_us, max_us } => {
                let (a, b) = (format_us(*min_us), format_us(*max_us));
                // Share the unit when both end in the same one: 20..80ms.
                let unit_b = b.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
                let unit_a = a.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
                if unit_a == unit_b {
                    format!("{}..{}", &a[..a.len() - unit_a.len()], b)
                } else {
                    format!("{a}..{b}")
                }
            }
            Dist::Exponential { mean_us } => format!("exp({})", format_us(*mean_us)),
            Dist::Pareto { xm_us, alpha } => {
                format!("pareto({},{})", format_us(*xm_us), shortest(*alpha))
            }
            Dist::Mix { parts } => {
                let inner: Vec<String> = parts
                    .iter()
                    .map(|(w, d)| format!("{}:{}", format_ppm_fraction(*w), d.to_text()))
                    .collect();
                format!("mix({})", inner.join(","))
            }
            Dist::Shift { by_us, dist } => format!("{}+{}", format_us(*by_us), dist.to_text()),
        }
    }

    /// Parses the link form. Total and bounded (depth, parts, magnitudes).
    pub fn parse(text: &str) -> Result<Dist, String> {
        parse_dist(text.trim(), 0)
    }

    /// Checks values a decoded scenario may hold (serde JSON bypasses the text parser).
    pub fn validate(&self, depth: usize) -> Result<(), String> {
        if depth > MAX_DIST_DEPTH {
            return Err("latency distribution nested too deeply".into());
        }
        match self {
            Dist::Constant { us } if *us > MAX_LATENCY_US => {
                Err("latency longer than one hour".into())
            }
            Dist::Uniform { min_us, max_us } if min_us > max_us => {
                Err("latency range has its minimum above its maximum".into())
            }
            Dist::Uniform { max_us, .. } if *max_us > MAX_LATENCY_US => {
                Err("latency longer than one hour".into())
            }
            Dist::Exponential { mean_us } if *mean_us > MAX_LATENCY_US => {
                Err("latency mean longer than one hour".into())
            }
            Dist::Pareto { xm_us, alpha } => {
                if !alpha.is_finite() || *alpha <= 0.0 || *alpha > 1000.0 {
                    Err("Pareto shape must be a number above 0 and at most 1000".into())
                } else if *xm_us > MAX_LATENCY_US {
                    Err("Pareto scale longer than one hour".into())
                } else {
                    Ok(())
                }
            }
            Dist::Mix { parts } => {
                if parts.is_empty() || parts.len() > MAX_MIX_PARTS {
                    return Err(format!("a mixture needs 1 to {MAX_MIX_PARTS} parts"));
                }
                let total: u64 = parts.iter().map(|p| p.0 as u64).sum();
                if total != 1_000_000 {
                    return Err("mixture weights must add up to 1".into());
                }
                parts.iter().try_for_each(|(_, d)| d.validate(depth + 1))
            }
            Dist::Shift { by_us, dist } => {
                if *by_us > MAX_LATENCY_US {
                    return Err("latency shift longer than one hour".into());
                }
                dist.validate(depth + 1)
            }
            _ => Ok(()),
        }
    }
}

fn round_us(v: f64) -> u64 {
    if v.is_finite() && v >= 0.0 {
        (v + 0.5).min(MAX_LATENCY_US as f64) as u64
    } else {
        MAX_LATENCY_US
    }
}

fn format_ppm_fraction(ppm: u32) -> String {
    let mut s = format!("0.{ppm:06}");
    if ppm >= 1_000_000 {
        return "1".into();
    }
    while s.ends_with('0') {
        s.pop();
    }
    s
}

fn parse_dist(t: &str, depth: usize) -> Result<Dist, String> {
    if depth > MAX_DIST_DEPTH {
        return Err("latency distribution nested too deeply".into());
    }
    if t.is_empty() {
        return Err("empty latency".into());
    }
    let d = if let Some(inner) = strip_call(t, "exp") {
        Dist::Exponential {
            mean_us: parse_duration(inner)?,
        }
    } else if let Some(inner) = strip_call(t, "pareto") {
        let (xm, a) = inner
            .split_once(',')
            .ok_or("pareto needs a scale and a shape: pareto(1ms,1.5)")?;
        let alpha = crate::sim::time::parse_decimal_f64(a.trim())
            .ok_or_else(|| format!("Pareto shape '{a}' is not a number"))?;
        Dist::Pareto {
            xm_us: parse_duration(xm)?,
            alpha,
        }
    } else if let Some(inner) = strip_call(t, "mix") {
        let mut parts = Vec::new();
        for part in split_top_level(inner) {
            if parts.len() >= MAX_MIX_PARTS {
                return Err(format!("a mixture has at most {MAX_MIX_PARTS} parts"));
            }
            let (w, d) = part
                .split_once(':')
                .ok_or("each mixture part is weight:distribution")?;
            let w = parse_decimal_scaled(w.trim(), 1_000_000)
                .filter(|w| *w <= 1_000_000)
                .ok_or_else(|| format!("mixture weight '{w}' is not a number from 0 to 1"))?;
            parts.push((w as u32, parse_dist(d.trim(), depth + 1)?));
        }
        Dist::Mix { parts }
    } else if let Some((a, b)) = split_shift(t) {
        Dist::Shift {
            by_us: parse_duration(a)?,
            dist: Box::new(parse_dist(b, depth + 1)?),
        }
    } else if let Some((a, b)) = t.split_once("..") {
        let max_us = parse_duration(b)?;
        // `20..80ms`: a bare lower bound takes the upper bound's unit.
        let a = a.trim();
        let min_us = if a.bytes().all(|c| c.is_ascii_digit() || c == b'.') && !a.is_empty() {
            let unit = b
                .trim()
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
            parse_duration(&format!("{a}{unit}"))?
        } else {
            parse_duration(a)?
        };
        Dist::Uniform { min_us, max_us }
    } else {
        Dist::Constant {
            us: parse_duration(t)?,
        }
    };
    d.validate(depth)?;
    Ok(d)
}

fn strip_call<'a>(t: &'a str, name: &str) -> Option<&'a str> {
    t.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')
}

fn split_shift(t: &str) -> Option<(&str, &str)> {
    let i = t.find('+')?;
    // Only a plain duration may stand before '+'.
    let (a, b) = (&t[..i], &t[i + 1..]);
    if a.contains('(') {
        None
    } else {
        Some((a, b))
    }
}

fn split_top_level(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in t.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&t[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&t[start..]);
    out
}

/// What governs one directed link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkParams {
    pub latency: Dist,
    /// Latency by message kind ([`crate::sim::MessageInfo::kind`]), where it differs from
    /// `latency`: a write request that includes a disk write, say, beside a quick
    /// acknowledgement (the PBS paper's W, A, R and S delays).
    #[serde(default, skip_serializing_if = "SmallMap::is_empty")]
    pub by_kind: SmallMap<String, Dist>,
    /// Probability that a message is lost, in parts per million.
    pub loss_ppm: u32,
    /// Probability that a message is delivered twice, in parts per million.
    pub dup_ppm: u32,
    /// Bytes per second; `None` means unlimited (no queueing delay).
    pub bandwidth_bps: Option<u64>,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            latency: Dist::uniform_ms(20, 80),
            by_kind: SmallMap::new(),
            loss_ppm: 0,
            dup_ppm: 0,
            bandwidth_bps: None,
        }
    }
}

/// One change to link parameters, as a command carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetSetting {
    Latency(Dist),
    LossPpm(u32),
    DupPpm(u32),
    BandwidthBps(Option<u64>),
}

impl LinkParams {
    pub fn apply(&mut self, s: &NetSetting) {
        match s {
            NetSetting::Latency(d) => self.latency = d.clone(),
            NetSetting::LossPpm(p) => self.loss_ppm = *p,
            NetSetting::DupPpm(p) => self.dup_ppm = *p,
            NetSetting::BandwidthBps(b) => self.bandwidth_bps = *b,
        }
    }
}

/// The live network: parameters, cuts and per-link queues.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub default: LinkParams,
    pub overrides: SmallMap<(Endpoint, Endpoint), LinkParams>,
    /// Directed links that drop everything.
    pub cut: SmallSet<(Endpoint, Endpoint)>,
    /// When each directed link's transmitter is next free (bandwidth model).
    busy_until_us: SmallMap<(Endpoint, Endpoint), u64>,
}

/// What the network decided for one message at send time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Arrives at the given time (and, if `Some`, a duplicate arrives at the second time).
    Deliver {
        at_us: u64,
        duplicate_at_us: Option<u64>,
    },
    /// Lost in transit; shown vanishing at the given time.
    Lost { at_us: u64 },
    /// The link is cut: dropped at once.
    Cut,
}

impl Network {
    pub fn new(default: LinkParams) -> Self {
        Network {
            default,
            overrides: SmallMap::new(),
            cut: SmallSet::new(),
            busy_until_us: SmallMap::new(),
        }
    }

    pub fn params(&self, from: Endpoint, to: Endpoint) -> &LinkParams {
        self.overrides.get(&(from, to)).unwrap_or(&self.default)
    }

    pub fn is_cut(&self, from: Endpoint, to: Endpoint) -> bool {
        self.cut.contains(&(from, to))
    }

    /// Decides a message's fate. Draws from the network stream in a fixed order. A message a
    /// node sends itself arrives at once, unless its link to itself has parameters of its own
    /// (a local disk, say).
    pub fn route(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        now_us: u64,
        msg: (u32, &str),
        rng: &mut Rng,
    ) -> Fate {
        let (size_bytes, kind) = msg;
        if from == to && !self.overrides.contains_key(&(from, to)) {
            return Fate::Deliver {
                at_us: now_us,
                duplicate_at_us: None,
            };
        }
        if self.is_cut(from, to) {
            return Fate::Cut;
        }
        let p = self.overrides.get(&(from, to)).unwrap_or(&self.default);
        let latency_of = p
            .by_kind
            .get_by(|k| k.as_str().cmp(kind))
            .unwrap_or(&p.latency);
        let mut depart_us = now_us;
        if let Some(bps) = p.bandwidth_bps.filter(|b| *b > 0) {
            let busy = self.busy_until_us.get_or_insert_with((from, to), || 0);
            let start = (*busy).max(now_us);
            let tx_us = (size_bytes as u64).saturating_mul(1_000_000).div_ceil(bps);
            depart_us = start.saturating_add(tx_us);
            *busy = depart_us;
        }
        let latency = latency_of.sample(rng);
        let lost = rng.chance_ppm(p.loss_ppm);
        let dup = rng.chance_ppm(p.dup_ppm);
        let at_us = depart_us.saturating_add(latency);
        if lost {
            return Fate::Lost {
                at_us: now_us + (at_us - now_us) / 2,
            };
        }
        let duplicate_at_us = if dup {
            Some(depart_us.saturating_add(latency_of.sample(rng)))
        } else {
            None
        };
        Fate::Deliver {
            at_us,
            duplicate_at_us,
        }
    }

    /// Cuts every link between different groups, both ways. Endpoints in no group keep their
    /// links.
    pub fn partition(&mut self, groups: &[Vec<Endpoint>]) {
        let mut cut = Vec::new();
        for (i, a) in groups.iter().enumerate() {
            for (j, b) in groups.iter().enumerate() {
                if i != j {
                    for &x in a {
                        cut.extend(b.iter().filter(|y| **y != x).map(|&y| (x, y)));
                    }
                }
            }
        }
        self.cut.extend(cut);
    }

    pub fn heal_all(&mut self) {
        self.cut.clear();
    }

    /// Can `from` reach `to` directly?
    pub fn connected(&self, from: Endpoint, to: Endpoint) -> bool {
        from == to || !self.is_cut(from, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_text_round_trips() {
        for t in [
            "50ms",
            "20..80ms",
            "1..2s",
            "500us..2ms",
            "exp(10ms)",
            "pareto(235us,10)",
            "mix(0.9122:pareto(235us,10),0.0878:exp(602us))",
            "75ms+exp(10ms)",
        ] {
            let d = Dist::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(d.to_text(), t);
            assert_eq!(Dist::parse(&d.to_text()).unwrap(), d);
        }
    }

    #[test]
    fn bad_latency_texts_are_refused_with_a_reason() {
        for t in [
            "",
            "80..20ms",
            "pareto(1ms,NaN)",
            "pareto(1ms,-2)",
            "mix(0.5:1ms)",
            "exp(ms)",
            "mix(mix(mix(mix(mix(1:1ms)))))",
        ] {
            assert!(Dist::parse(t).is_err(), "{t} should fail");
        }
    }
}
