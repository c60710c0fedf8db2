//! Experiments as the registry lists them: many trials of one question, run in chunks (so a
//! page can show progress and cancel), reported as a summary, charts as data and one JSON
//! object. A lab lists its experiments in [`super::Lab::experiments`]; `dsplay experiment`
//! and the page run any of them the same way.
//!
//! Parameters are declared as lab parameters are ([`ParamSpec`]), with kebab-case keys and the
//! unit last (`timeout-ms`); every experiment has `trials` and `seed`. On the command line
//! `--key value` is the same as `--set key=value`; a value may be a list (`3,5,7`), and the
//! experiment then runs once per value.

use super::{ParamKind, ParamSpec};
use serde::Serialize;

/// Every experiment's seed.
pub const SEED_PARAM: ParamSpec = ParamSpec {
    key: "seed",
    label: "Experiment seed",
    help: "Trial k runs with a seed derived from this one and k",
    kind: ParamKind::Int {
        min: 0,
        max: i64::MAX,
    },
    default: "1",
};

/// Trial `trial`'s seed, derived from an experiment's seed (splitmix64 of the two), so trials
/// are independent and each can be rerun alone.
pub fn trial_seed(seed: u64, trial: u32) -> u64 {
    let mut z = seed ^ (trial as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Parameter values by key, in their canonical text ([`ParamSpec::canonical`]).
pub type Values = crate::sim::small_map::SmallMap<String, String>;

/// One experiment a lab offers.
pub struct ExperimentSpec {
    /// The command-line name, e.g. `raft-election`.
    pub id: &'static str,
    pub title: &'static str,
    /// What it measures and how, in a sentence or two.
    pub summary: &'static str,
    /// Its parameters; `trials` and `seed` among them.
    pub params: &'static [ParamSpec],
    /// Parameters whose one value may hold commas (a list of times, `exp:2,1`): the command
    /// line does not split them into one run per value.
    pub lists: &'static [&'static str],
    /// Starts a run with checked values (every parameter present).
    pub start: fn(&Values) -> Result<Box<dyn Trials>, String>,
}

/// A run of an experiment, advanced a few trials at a time.
pub trait Trials {
    /// Runs up to `k` more trials; returns how many ran.
    fn run(&mut self, k: u32) -> u32;
    /// Trials done and planned.
    fn progress(&self) -> (u32, u32);
    /// What the trials so far show.
    fn report(&self) -> Report;
}

/// What an experiment reports. The job worker sends it to the page in its wire form
/// ([`Report::to_wire`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// One line for people.
    pub summary: String,
    pub charts: Vec<Chart>,
    /// Tables beside the charts (ours against the paper's figures).
    pub tables: Vec<crate::viz::Panel>,
    /// Trials worth watching, each as a link to the lab's run (when a trial is a run of the
    /// lab, within its ranges): the median one, the slowest, ...
    pub links: Vec<TrialLink>,
    /// The figures, for tools.
    pub json: serde_json::Value,
}

pub use crate::viz::chart::{AxisScale, Chart, Series, SeriesStyle};

impl ExperimentSpec {
    pub fn param(&self, key: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.key == key)
    }

    /// Checks `given` (key and text as typed) against the parameters, filling in defaults.
    /// A key ending in `-ms` takes bare numbers as milliseconds.
    pub fn values(&self, given: &[(String, String)]) -> Result<Values, String> {
        // Inserted one by one: collecting into the map would bring in a sort of its own.
        let mut out = Values::new();
        for p in self.params {
            out.insert(p.key.to_string(), p.default.to_string());
        }
        for (key, text) in given {
            let spec = self.param(key).ok_or_else(|| {
                let keys: Vec<&str> = self.params.iter().map(|p| p.key).collect();
                format!(
                    "{} has no parameter '{key}' (it takes {})",
                    self.id,
                    keys.join(", ")
                )
            })?;
            out.insert(key.clone(), spec.canonical(&with_unit(spec, text))?);
        }
        Ok(out)
    }

    /// Runs every trial at once (the command line; tests).
    pub fn run_all(&self, values: &Values) -> Result<Report, String> {
        let mut trials = (self.start)(values)?;
        while trials.run(64) > 0 {}
        Ok(trials.report())
    }
}

/// `150..300` means milliseconds for a key such as `timeout-ms`.
fn with_unit(spec: &ParamSpec, text: &str) -> String {
    let timed = matches!(
        spec.kind,
        ParamKind::Duration { .. } | ParamKind::DurationRange { .. }
    );
    let bare = text.ends_with(|c: char| c.is_ascii_digit());
    if timed && bare && spec.key.ends_with("-ms") {
        format!("{text}ms")
    } else {
        text.to_string()
    }
}

/// Splits `--key value`, `--key=value` and `--set key=value` arguments into (key, text)
/// pairs, leaving `--json` and `--list` to the caller.
pub fn parse_args(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(flag) = a.strip_prefix("--") else {
            return Err(format!("'{a}' is not a --key value pair"));
        };
        let (key, value) = match flag.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => {
                let v = it
                    .next()
                    .ok_or_else(|| format!("--{flag} needs a value"))?
                    .clone();
                (flag.to_string(), v)
            }
        };
        if key == "set" {
            let (k, v) = value
                .split_once('=')
                .ok_or_else(|| format!("--set takes key=value, not '{value}'"))?;
            out.push((k.to_string(), v.to_string()));
        } else {
            out.push((key, value));
        }
    }
    Ok(out)
}

/// The runs a list of values asks for: one per value of the (at most one) parameter given as
/// a list, `3,5,7`; a range such as `150..300` is one value.
pub fn expand_lists(
    given: &[(String, String)],
    whole: &[&str],
) -> Result<Vec<Vec<(String, String)>>, String> {
    let lists: Vec<usize> = given
        .iter()
        .enumerate()
        .filter(|(_, (k, v))| v.contains(',') && !whole.contains(&k.as_str()))
        .map(|(i, _)| i)
        .collect();
    match lists.as_slice() {
        [] => Ok(vec![given.to_vec()]),
        [i] => Ok(given[*i]
            .1
            .split(',')
            .map(|v| {
                let mut one = given.to_vec();
                one[*i].1 = v.trim().to_string();
                one
            })
            .collect()),
        _ => Err("only one parameter may be a list of values".into()),
    }
}
/// A report's JSON, built by `f` for the command line and the tests. The page never shows it
/// (the job worker does not even send it), so the browser build leaves the JSON machinery
/// out: there `f` is not called and the report's `json` is null.
pub fn report_json(f: impl FnOnce() -> serde_json::Value) -> serde_json::Value {
    #[cfg(not(target_arch = "wasm32"))]
    {
        f()
    }
    #[cfg(target_arch = "wasm32")]
    {
        drop(f);
        serde_json::Value::Null
    }
}

/// One trial as a link to the lab's run of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrialLink {
    /// What it is: `trial 17: 1.2 s, term 4 (the slowest)`.
    pub label: String,
    pub link: String,
}

/// The wire form of reports and values, between the page and the job worker: lines of
/// tab-separated fields; text escaped (`\\`, `\t`, `\n`, `\u` for the unit separator);
/// numbers as the hex of their bits (exact, and cheap to read). A report's `json` is not sent
/// (the page shows the rest).
///
/// ```text
/// summary <text>
/// chart   <title> <x label> <y label> <x scale> <y scale> <caption> <cursor or ->
/// series  <name> <style> <reference 0|1> <colour or -> <x,y x,y ...>   (of the chart above)
/// table   <title> <caption> <column␟column...>
/// row     <text␟style> <text␟style> ...                       (of the table above it)
/// link    <label> <link>
/// ```
pub mod wire {
    use super::{AxisScale, Chart, Report, Series, SeriesStyle, TrialLink, Values};
    use crate::viz::{Cell, Panel};

    const UNIT: char = '\u{1f}';

    fn esc(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                UNIT => out.push_str("\\u"),
                c => out.push(c),
            }
        }
        out
    }

    fn unesc(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('u') => out.push(UNIT),
                Some(o) => out.push(o),
                None => {}
            }
        }
        out
    }

    fn num(v: f64) -> String {
        format!("{:x}", v.to_bits())
    }

    fn read_num(t: &str) -> Result<f64, String> {
        u64::from_str_radix(t, 16)
            .map(f64::from_bits)
            .map_err(|_| format!("'{t}' is not a number"))
    }

    fn scale_name(s: AxisScale) -> &'static str {
        match s {
            AxisScale::Linear => "linear",
            AxisScale::Log => "log",
            AxisScale::Auto => "auto",
        }
    }

    fn read_scale(t: &str) -> Result<AxisScale, String> {
        match t {
            "linear" => Ok(AxisScale::Linear),
            "log" => Ok(AxisScale::Log),
            "auto" => Ok(AxisScale::Auto),
            _ => Err(format!("no axis scale '{t}'")),
        }
    }

    const STYLES: [(SeriesStyle, &str); 4] = [
        (SeriesStyle::Line, "line"),
        (SeriesStyle::Steps, "steps"),
        (SeriesStyle::Dots, "dots"),
        (SeriesStyle::Bars, "bars"),
    ];

    /// The report as lines.
    pub fn report(r: &Report) -> String {
        let mut out = format!("summary\t{}", esc(&r.summary));
        for c in &r.charts {
            let cursor = c.cursor_x.map_or("-".into(), num);
            let fields = [&c.title, &c.x_label, &c.y_label]
                .map(|t| esc(t))
                .join("\t");
            out.push_str(&format!(
                "\nchart\t{fields}\t{}\t{}\t{}\t{cursor}",
                scale_name(c.x_scale),
                scale_name(c.y_scale),
                esc(&c.caption)
            ));
            for s in &c.series {
                let style = STYLES
                    .iter()
                    .find(|(k, _)| *k == s.style)
                    .map_or("line", |x| x.1);
                let pts: Vec<String> = s
                    .points
                    .iter()
                    .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
                    .collect();
                let colour = s.colour.map_or("-".to_string(), |c| c.to_string());
                out.push_str(&format!(
                    "\nseries\t{}\t{style}\t{}\t{colour}\t{}",
                    esc(&s.name),
                    u8::from(s.reference),
                    pts.join(" ")
                ));
            }
        }
        for t in &r.tables {
            let cols: Vec<String> = t.columns.iter().map(|c| esc(c)).collect();
            let unit = UNIT.to_string();
            out.push_str(&format!(
                "\ntable\t{}\t{}\t{}",
                esc(&t.title),
                esc(&t.caption),
                cols.join(&unit)
            ));
            for row in &t.rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| format!("{}{UNIT}{}", esc(&c.text), c.style))
                    .collect();
                out.push_str(&format!("\nrow\t{}", cells.join("\t")));
            }
        }
        for l in &r.links {
            out.push_str(&format!("\nlink\t{}\t{}", esc(&l.label), esc(&l.link)));
        }
        out
    }

    /// Reads [`report`]'s lines back (its `json` is null).
    pub fn read_report(text: &str) -> Result<Report, String> {
        let mut r = Report {
            summary: String::new(),
            charts: Vec::new(),
            tables: Vec::new(),
            links: Vec::new(),
            json: serde_json::Value::Null,
        };
        for line in text.split('\n') {
            let f: Vec<&str> = line.split('\t').collect();
            let field = |i: usize| f.get(i).copied().ok_or(format!("a short line: '{line}'"));
            match f[0] {
                "summary" => r.summary = unesc(field(1)?),
                "chart" => r.charts.push(Chart {
                    title: unesc(field(1)?),
                    x_label: unesc(field(2)?),
                    y_label: unesc(field(3)?),
                    x_scale: read_scale(field(4)?)?,
                    y_scale: read_scale(field(5)?)?,
                    caption: unesc(field(6)?),
                    cursor_x: match field(7)? {
                        "-" => None,
                        t => Some(read_num(t)?),
                    },
                    series: Vec::new(),
                }),
                "series" => {
                    let style = field(2)?;
                    let style = STYLES
                        .iter()
                        .find(|(_, n)| *n == style)
                        .ok_or(format!("no series style '{style}'"))?
                        .0;
                    let mut points = Vec::new();
                    let colour = match field(4)? {
                        "-" => None,
                        c => Some(c.parse::<u8>().map_err(|_| format!("no colour '{c}'"))?),
                    };
                    for p in field(5)?.split(' ').filter(|p| !p.is_empty()) {
                        let (x, y) = p.split_once(',').ok_or(format!("'{p}' is not a point"))?;
                        points.push((read_num(x)?, read_num(y)?));
                    }
                    let chart = r.charts.last_mut().ok_or("a series before any chart")?;
                    chart.series.push(Series {
                        name: unesc(field(1)?),
                        style,
                        reference: field(3)? == "1",
                        points,
                        colour,
                    });
                }
                "table" => r.tables.push(Panel {
                    title: unesc(field(1)?),
                    caption: unesc(field(2)?),
                    columns: field(3)?.split(UNIT).map(unesc).collect(),
                    rows: Vec::new(),
                }),
                "row" => {
                    let mut row = Vec::new();
                    for cell in &f[1..] {
                        let (text, style) = cell.rsplit_once(UNIT).unwrap_or((cell, "0"));
                        row.push(Cell {
                            text: unesc(text),
                            style: style.parse().unwrap_or(0),
                        });
                    }
                    let table = r.tables.last_mut().ok_or("a row before any table")?;
                    table.rows.push(row);
                }
                "link" => r.links.push(TrialLink {
                    label: unesc(field(1)?),
                    link: unesc(field(2)?),
                }),
                other => return Err(format!("a line of an unknown kind '{}'", other)),
            }
        }
        Ok(r)
    }

    /// Values as lines of `key<TAB>value`.
    pub fn values(v: &Values) -> String {
        let lines: Vec<String> = v
            .iter()
            .map(|(k, x)| format!("{}\t{}", esc(k), esc(x)))
            .collect();
        lines.join("\n")
    }

    pub fn read_values(text: &str) -> Result<Values, String> {
        let mut v = Values::new();
        for line in text.split('\n').filter(|l| !l.is_empty()) {
            let (k, x) = line
                .split_once('\t')
                .ok_or(format!("'{line}' has no value"))?;
            v.insert(unesc(k), unesc(x));
        }
        Ok(v)
    }
}
