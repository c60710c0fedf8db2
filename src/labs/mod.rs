//! The labs and their registry.
//!
//! A lab is a protocol ([`crate::sim::Protocol`]) plus what makes it teachable: parameters with
//! ranges and defaults, properties, presets and a pure view. [`REGISTRY`] lists every lab; it
//! feeds the UI's lab picker, the `dsplay labs` command and a test that runs every lab, so
//! adding a lab here adds it everywhere.

pub mod experiment;
pub mod flows;
pub mod lesson;
pub mod quorum;
pub mod raft;
pub mod resilience;
pub mod ring;

use crate::scenario::Scenario;
use crate::sim::command::Action;
use crate::sim::keyframe::Replay;
use crate::sim::process::Protocol;
use crate::sim::property::PropKind;
use crate::sim::time::{format_us, parse_duration, Instant};
use crate::sim::trace::{Counters, OutcomeKind, Record, RecordKind};
use crate::sim::world::Core;
use crate::sim::world::{HistoryOp, StepInfo, World, WorldConfig};
use crate::sim::Run;
use crate::viz::scene::{Pt, Shape};
use crate::viz::{MsgView, NodeView, Panel};
use serde::Serialize;
use std::collections::VecDeque;

/// What kind of value a lab parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ParamKind {
    Int {
        min: i64,
        max: i64,
    },
    Duration {
        min_us: u64,
        max_us: u64,
    },
    /// `150..300ms`.
    DurationRange {
        min_us: u64,
        max_us: u64,
    },
    Bool,
    /// One of named options (shown as a select), such as an algorithm.
    Choice {
        options: &'static [&'static str],
    },
    /// A decimal fraction in a range, in parts per million (`0.25` or `25%` in a link; shown
    /// as a slider with its value), such as a bounded-load ε.
    Fraction {
        min_ppm: u32,
        max_ppm: u32,
    },
    /// Text of a form the lab reads itself (a key distribution such as `zipf:0.99`): its
    /// reader checks a value and gives its canonical text; `form` says what it takes.
    Text {
        #[serde(skip)]
        canonical: Canonical,
        form: &'static str,
    },
}

/// A lab's reader of a [`ParamKind::Text`] value: the value's canonical text, or what is wrong.
#[derive(Clone, Copy)]
pub struct Canonical(pub fn(&str) -> Result<String, String>);

impl PartialEq for Canonical {
    fn eq(&self, other: &Canonical) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl Eq for Canonical {}

impl std::fmt::Debug for Canonical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Canonical")
    }
}

impl Default for Canonical {
    fn default() -> Canonical {
        Canonical(|v| Ok(v.to_string()))
    }
}

impl ParamKind {
    /// The values it takes, for a listing: `3 to 9`, `1ms to 10s`, `one of ring, jump`.
    pub fn range_text(&self) -> String {
        match *self {
            ParamKind::Int { min, max } => format!("{min} to {max}"),
            ParamKind::Duration { min_us, max_us }
            | ParamKind::DurationRange { min_us, max_us } => {
                format!("{} to {}", format_us(min_us), format_us(max_us))
            }
            ParamKind::Bool => "0 or 1".into(),
            ParamKind::Choice { options } => format!("one of {}", options.join(", ")),
            ParamKind::Fraction { min_ppm, max_ppm } => {
                format!("{} to {}", fraction_text(min_ppm), fraction_text(max_ppm))
            }
            ParamKind::Text { form, .. } => form.to_string(),
        }
    }
}

/// One lab parameter: its link key, label, range and default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ParamSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub kind: ParamKind,
    pub default: &'static str,
}

impl ParamSpec {
    /// Checks a value and returns its canonical text (so equal values give equal links).
    /// Errors name the parameter by its label, with its link key.
    pub fn canonical(&self, value: &str) -> Result<String, String> {
        let name = format!("{} ('{}')", self.label, self.key);
        match self.kind {
            ParamKind::Int { min, max } => {
                let v: i64 = value
                    .parse()
                    .map_err(|_| format!("{name} must be a whole number, not '{}'", clip(value)))?;
                if v < min || v > max {
                    return Err(format!("{name} must be between {min} and {max}, not {v}"));
                }
                Ok(v.to_string())
            }
            ParamKind::Duration { min_us, max_us } => {
                let v = parse_duration(value).map_err(|e| format!("{name}: {e}"))?;
                if v < min_us || v > max_us {
                    return Err(format!(
                        "{name} must be between {} and {}",
                        format_us(min_us),
                        format_us(max_us)
                    ));
                }
                Ok(format_us(v))
            }
            ParamKind::DurationRange { min_us, max_us } => {
                let (lo, hi) = parse_range(value).map_err(|e| format!("{name}: {e}"))?;
                if lo < min_us || hi > max_us {
                    return Err(format!(
                        "{name} must lie between {} and {}",
                        format_us(min_us),
                        format_us(max_us)
                    ));
                }
                Ok(crate::sim::net::Dist::Uniform {
                    min_us: lo,
                    max_us: hi,
                }
                .to_text())
            }
            ParamKind::Bool => match value {
                "1" | "true" | "on" => Ok("1".into()),
                "0" | "false" | "off" => Ok("0".into()),
                _ => Err(format!("{name} must be 1 or 0, not '{}'", clip(value))),
            },
            ParamKind::Choice { options } => options
                .iter()
                .find(|o| **o == value)
                .map(|o| o.to_string())
                .ok_or_else(|| {
                    format!(
                        "{name} must be one of {}, not '{}'",
                        options.join(", "),
                        clip(value)
                    )
                }),
            ParamKind::Fraction { min_ppm, max_ppm } => {
                let ppm = parse_fraction_ppm(value).ok_or_else(|| {
                    format!(
                        "{name} must be a fraction such as 0.25 or 25%, not '{}'",
                        clip(value)
                    )
                })?;
                if ppm < min_ppm || ppm > max_ppm {
                    return Err(format!(
                        "{name} must be between {} and {}",
                        fraction_text(min_ppm),
                        fraction_text(max_ppm)
                    ));
                }
                Ok(fraction_text(ppm))
            }
            ParamKind::Text { canonical, .. } => {
                (canonical.0)(value).map_err(|e| format!("{name}: {e}"))
            }
        }
    }
}

/// Reads `0.25` or `25%` (at most six decimal places of the fraction) as parts per million.
pub fn parse_fraction_ppm(text: &str) -> Option<u32> {
    let (num, scale) = match text.strip_suffix('%') {
        Some(p) => (p, 10_000),
        None => (text, 1_000_000),
    };
    let v = crate::sim::time::parse_decimal_scaled(num, scale)?;
    u32::try_from(v).ok()
}

/// A fraction in its canonical link form: `0.25`, `1`, `0.000001`.
pub fn fraction_text(ppm: u32) -> String {
    let whole = ppm / 1_000_000;
    let frac = ppm % 1_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Parses `150..300ms` (a bare lower bound takes the upper bound's unit).
pub fn parse_range(value: &str) -> Result<(u64, u64), String> {
    match crate::sim::net::Dist::parse(value)? {
        crate::sim::net::Dist::Uniform { min_us, max_us } => Ok((min_us, max_us)),
        crate::sim::net::Dist::Constant { us } => Ok((us, us)),
        _ => Err(format!(
            "'{}' is not a range such as 150..300ms",
            clip(value)
        )),
    }
}

/// A named scenario a teacher can open with one click.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    /// The link fragment, e.g. `#/raft?n=5&...`.
    pub link: &'static str,
}

/// A deliberately broken version of a lab's protocol, for hunting counterexamples
/// (`dsplay sweep`): chosen with the lab's `variant` parameter, so a broken run is a link like
/// any other, and the page marks it plainly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// The `variant` parameter's value.
    pub id: &'static str,
    /// The mistake, in one line.
    pub mistake: &'static str,
    /// The property it should break.
    pub breaks: &'static str,
    /// Settings under which the correct protocol keeps that property, to hunt in: a link
    /// without the variant (`dsplay sweep` of it with `&variant=<id>` finds the mistake).
    pub hunt: &'static str,
}

/// A lab's `variant` parameter: `none` (the protocol as described) or one of `options`, the
/// ids of its [`Variant`]s; `help` says what `none` is.
pub const fn variant_param(help: &'static str, options: &'static [&'static str]) -> ParamSpec {
    ParamSpec {
        key: "variant",
        label: "Variant",
        help,
        kind: ParamKind::Choice { options },
        default: "none",
    }
}

/// The deliberately broken variant a scenario runs, if any.
pub fn variant_of(lab: &Lab, s: &Scenario) -> Option<&'static Variant> {
    let id = s.param("variant")?;
    lab.variants.iter().find(|v| v.id == id)
}

/// One of a lab's own interventions: a script command `do:<name>` (every node) or
/// `do:<name>@<node>`, shown as a button and reached from the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Verb {
    /// Its name in the script: lowercase letters and '-'.
    pub name: &'static str,
    /// The button's words.
    pub label: &'static str,
    pub help: &'static str,
    /// Done to one node (the selected one), or to all.
    pub on_node: bool,
    /// Its key on the keyboard, if any.
    pub key: Option<char>,
}

impl Lab {
    /// Checks a lab action against the lab's verbs; the message names what is wrong.
    pub fn check_verb(&self, verb: &str, node: Option<u32>) -> Result<&'static Verb, String> {
        let v = self.verbs.iter().find(|v| v.name == verb).ok_or_else(|| {
            let names: Vec<&str> = self.verbs.iter().map(|v| v.name).collect();
            format!(
                "the {} lab has no action '{verb}'{}",
                self.id,
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" (it has {})", names.join(", "))
                }
            )
        })?;
        match (v.on_node, node) {
            (true, None) => Err(format!("'{verb}' is done to one node: do:{verb}@<node>")),
            (false, Some(_)) => Err(format!("'{verb}' is done to every node: do:{verb}")),
            _ => Ok(v),
        }
    }
}

/// What the colours on a lab's canvases mean, one line each: the legend the page shows.
/// Message colours come from their kind ([`kind_colour`]), role colours from
/// the node's role class; a test checks that every message kind a lab sends is here.
pub struct Legend {
    /// The lab's message kinds (`MessageInfo::kind`), the palette colour each is drawn in
    /// (an index into [`crate::viz::colors::PALETTE`]; a request and its answer may share
    /// one, the arrow tells them apart) and what each does.
    pub messages: &'static [(&'static str, u8, &'static str)],
    /// Node role classes (`NodeView::role_class`), their name and meaning.
    pub roles: &'static [(u8, &'static str, &'static str)],
}

/// What the engine itself draws in every lab: client traffic and what happens to messages.
pub static ENGINE_LEGEND: Legend = Legend {
    messages: &[
        (
            "client request",
            4,
            "a client asks a server to do something",
        ),
        ("client reply", 2, "the server's answer to a client"),
    ],
    roles: &[(
        0,
        "crashed",
        "a node that is down (it lost its volatile state)",
    )],
};

/// The colour a message kind is drawn in: the one its lab's legend gives it, else one derived
/// from the name, so the same kind is always the same colour.
pub fn kind_colour(kind: &str) -> &'static str {
    use crate::viz::colors::PALETTE;
    match message_colour(kind) {
        Some(c) => PALETTE[c as usize % PALETTE.len()],
        None => {
            let h = kind
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
            PALETTE[(h % 6) as usize]
        }
    }
}

/// The palette colour a legend gives a message kind (the engine's or a lab's), if one does.
pub fn message_colour(kind: &str) -> Option<u8> {
    REGISTRY
        .iter()
        .map(|l| &l.legend)
        .chain([&ENGINE_LEGEND])
        .flat_map(|l| l.messages.iter())
        .find(|(k, _, _)| *k == kind)
        .map(|(_, c, _)| *c)
}

/// A registry entry.
pub struct Lab {
    pub id: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub nodes_min: u32,
    pub nodes_max: u32,
    pub nodes_default: u32,
    pub params: &'static [ParamSpec],
    /// Parameters a link leaves out while they are at their default: those added after the
    /// lab's links were first shared, so that those links keep their canonical form.
    pub quiet: &'static [&'static str],
    pub presets: &'static [Preset],
    /// Guided lessons over the lab's scenarios (`lesson=<id>&step=<k>` in a link); empty for
    /// a lab without.
    pub lessons: &'static [lesson::Lesson],
    /// The speed its runs play at when a link names none, one of
    /// [`crate::scenario::SPEED_TEXTS`]: slow enough that one message can be followed across
    /// the stage.
    pub speed: &'static str,
    pub legend: Legend,
    /// The experiments it offers ([`experiment`]).
    pub experiments: &'static [&'static experiment::ExperimentSpec],
    /// Its own interventions ([`Verb`]).
    pub verbs: &'static [Verb],
    /// Whether the page offers a parameter or a verb (by key or name) for this scenario: a
    /// lab with modes hides what a mode does not use ([`always_shown`] shows everything). The
    /// link keeps every value either way.
    pub shown: fn(&Scenario, &str) -> bool,
    /// Main canvases it draws itself, besides the node topology ([`StageSpec`]).
    pub stages: &'static [StageSpec],
    /// Deliberately broken versions of its protocol ([`Variant`]); with any, the lab has a
    /// `variant` parameter whose choices are `none` and their ids.
    pub variants: &'static [Variant],
    /// A request a person can send to a chosen server ("send a request to this server"),
    /// in the lab's operation text; `None` when its clients cannot be asked by hand.
    pub sample_request: Option<&'static str>,
    /// How many client processes a scenario of this lab runs (they follow the nodes on the
    /// network, as endpoints `n..n+clients`).
    pub clients: fn(&Scenario) -> u32,
    /// How many nodes a scenario's world has: the link's `n` ([`link_nodes`]), or more for a
    /// lab with nodes beside its `n` (a coordinator, servers standing by to join). Commands
    /// name nodes `0..world_nodes` and clients after them.
    pub world_nodes: fn(&Scenario) -> u32,
    /// Builds a running simulation from a validated scenario.
    pub build: fn(&Scenario) -> Result<Box<dyn Sim>, String>,
}

impl Lab {
    pub fn param(&self, key: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.key == key)
    }

    /// The stage a link's `view=` names: 0 for the topology, k for `stages[k - 1]`.
    pub fn stage_index(&self, id: &str) -> Result<u8, String> {
        if id == TOPOLOGY_STAGE {
            return Ok(0);
        }
        match self.stages.iter().position(|s| s.id == id) {
            Some(i) => Ok(i as u8 + 1),
            None => {
                let known: Vec<&str> = std::iter::once(TOPOLOGY_STAGE)
                    .chain(self.stages.iter().map(|s| s.id))
                    .collect();
                Err(format!(
                    "the {} lab has no view '{}' (it has {})",
                    self.id,
                    clip(id),
                    known.join(", ")
                ))
            }
        }
    }
}

/// The view every lab has: nodes and clients on a circle, links and messages in flight.
pub const TOPOLOGY_STAGE: &str = "topology";

/// A main canvas a lab draws itself (a hash ring, the servers' logs), chosen by the link's
/// `view=<id>`. The lab's [`LabProtocol::stage`] draws it; [`LabProtocol::stage_hit`] finds
/// what is under the pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StageSpec {
    pub id: &'static str,
    /// The view's name in the picker.
    pub title: &'static str,
    /// One line: what it shows.
    pub help: &'static str,
    /// Also drawn beside the topology when its canvas is wide (the Raft logs beside the
    /// servers, as RaftScope keeps them); one stage of a lab at most.
    pub beside: bool,
}

pub use crate::viz::scene::StageArea;

/// What the inspector shows of a lab's item: a title and lines of state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemView {
    pub title: String,
    pub lines: Vec<String>,
    /// The node it belongs to, highlighted in the topology and the diagram.
    pub node: Option<u32>,
}

/// Every lab, in menu order.
///
/// The resilience lab runs on the command line only for now: its 29 KB (gzipped) do not fit
/// in the page's 400 KB download budget beside the other labs.
pub static REGISTRY: &[&Lab] = &[
    &flows::LAB,
    &raft::LAB,
    &ring::LAB,
    &quorum::LAB,
    #[cfg(not(target_arch = "wasm32"))]
    &resilience::LAB,
];

/// Every parameter and verb is offered.
pub fn always_shown(_s: &Scenario, _key: &str) -> bool {
    true
}

pub fn find(id: &str) -> Option<&'static Lab> {
    REGISTRY.iter().copied().find(|l| l.id == id)
}

/// Every experiment of every lab, with its lab, in menu order.
pub fn experiments() -> impl Iterator<Item = (&'static Lab, &'static experiment::ExperimentSpec)> {
    REGISTRY
        .iter()
        .flat_map(|l| l.experiments.iter().map(move |e| (*l, *e)))
}

/// The experiment with this id, in any lab.
pub fn find_experiment(id: &str) -> Option<&'static experiment::ExperimentSpec> {
    experiments().map(|(_, e)| e).find(|e| e.id == id)
}

/// A figure about a run, the same on the page and in `dsplay run --json` (`metrics`): so that
/// what a learner reads off the page can be checked on the command line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metric {
    /// The JSON key, snake_case with the unit last (`commit_index`, `latency_ms_mean`).
    pub key: &'static str,
    pub label: &'static str,
    pub value: f64,
}

impl Metric {
    pub fn new(key: &'static str, label: &'static str, value: f64) -> Metric {
        Metric { key, label, value }
    }

    /// The value as the page shows it: whole numbers without decimals, fractions below one
    /// with three (0.912 of the keys), others with two.
    pub fn value_text(&self) -> String {
        if self.value.fract() == 0.0 && self.value.abs() < 1e15 {
            format!("{}", self.value as i64)
        } else if self.value.abs() < 1.0 {
            crate::sim::time::fixed(self.value, 3)
        } else {
            crate::sim::time::fixed(self.value, 2)
        }
    }
}

/// The most operations the latency chart shows (the latest ones; the caller keeps to it).
pub const LATENCY_CHART_OPS: usize = 2_000;

/// Each client operation's latency against the virtual time it was called, up to the cursor
/// `now_us`: completed ones by outcome, pending ones at their age so far (a stalled cluster
/// shows as a rising line of pending dots). Taken as `dyn` so every lab shares one copy.
pub fn latency_chart(
    ops: &mut dyn Iterator<Item = (u64, Option<u64>, Option<OutcomeKind>)>,
    now_us: u64,
) -> crate::viz::chart::Chart {
    use crate::viz::chart::{AxisScale, Chart, Series, SeriesStyle};
    // Each outcome in its meaning's colour: ok blue, failed vermillion (the alert colour),
    // timed out orange, pending purple.
    let names = [("ok", 0), ("failed", 5), ("timed out", 1), ("pending", 3)];
    let mut points: [Vec<(f64, f64)>; 4] = Default::default();
    let s = |us: u64| us as f64 / 1e6;
    let ms = |us: u64| us as f64 / 1e3;
    for (invoke, complete, outcome) in ops {
        let (k, end) = match (outcome, complete) {
            (Some(OutcomeKind::Ok), Some(c)) => (0, c),
            (Some(OutcomeKind::Fail), Some(c)) => (1, c),
            (Some(OutcomeKind::Unknown), Some(c)) => (2, c),
            _ => (3, now_us),
        };
        points[k].push((s(invoke), ms(end.saturating_sub(invoke))));
    }
    let series = names
        .iter()
        .zip(points)
        .filter(|(_, p)| !p.is_empty())
        .map(|((name, colour), p)| Series {
            name: (*name).into(),
            style: SeriesStyle::Dots,
            points: p,
            reference: false,
            colour: Some(*colour),
        })
        .collect();
    Chart {
        title: "Client operations".into(),
        x_label: "virtual time of the call (s)".into(),
        y_label: "latency (ms)".into(),
        x_scale: AxisScale::Linear,
        y_scale: AxisScale::Auto,
        series,
        caption: "Each dot is one operation, from its call to its reply; pending ones show \
                  their age at the cursor (the dashed line)."
            .into(),
        cursor_x: Some(s(now_us)),
    }
}

/// The figures every lab with clients has: operations by outcome over the whole run.
fn client_metrics(core: &Core) -> Vec<Metric> {
    if core.cfg.clients == 0 {
        return Vec::new();
    }
    let c = core.counters();
    let mut m = vec![
        Metric::new("client_ops_ok", "client operations ok", c.ops_ok as f64),
        Metric::new(
            "client_ops_failed",
            "client operations failed",
            c.ops_failed as f64,
        ),
        Metric::new(
            "client_ops_unknown",
            "client operations with unknown outcome (timed out)",
            c.ops_unknown as f64,
        ),
    ];
    if core.cfg.client_policy.retries() {
        let retries = core.client_retries() as f64;
        m.push(Metric::new(
            "client_retries",
            "client retries sent",
            retries,
        ));
    }
    if core.cfg.client_policy.arrival_rate_mhz > 0 {
        let away = core.arrivals_turned_away() as f64;
        m.push(Metric::new(
            "client_arrivals_turned_away",
            "operations turned away (backlog full)",
            away,
        ));
    }
    m
}

/// A property's status for reports and the UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PropReport {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: PropKind,
    pub holds: bool,
    pub violations: u32,
    pub first_violation_us: Option<u64>,
    /// For `Eventually`: since when it has been owed and not yet true (for judging a run, not
    /// shown).
    #[serde(skip)]
    pub pending_since_us: Option<u64>,
    /// Why a violation follows from the run's settings rather than from the protocol, in the
    /// domain's words ([`LabProtocol::settings_cause`]); only for a violated property.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

pub use crate::sim::trace::RecordView;

/// A client operation in lab-independent form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpView {
    pub id: u64,
    pub client: u32,
    pub node: u32,
    pub op: String,
    pub invoke_us: u64,
    pub complete_us: Option<u64>,
    pub outcome: Option<OutcomeKind>,
    pub reply: Option<String>,
}

/// A running lab, as the UI and the command line see it (object safe: labs differ in type).
pub trait Sim {
    fn lab(&self) -> &'static Lab;
    fn n(&self) -> u32;
    fn clients(&self) -> u32;
    fn now(&self) -> Instant;
    fn horizon(&self) -> Instant;
    /// When the next event or command is due.
    fn next_due(&self) -> Option<Instant>;
    fn step(&mut self) -> Option<StepInfo>;
    /// Runs to `t`; true if a property was violated on the way.
    fn run_until(&mut self, t: Instant) -> bool;
    /// Runs to `t`, but at most `max_events` events; returns whether it got there (or could
    /// go no further: a stalled run) and whether a property was violated on the way.
    fn run_until_within(&mut self, t: Instant, max_events: u64) -> (bool, bool);
    fn seek(&mut self, t: Instant);
    /// Records and applies an intervention at the current instant (a branch if in the past).
    fn act(&mut self, action: Action) -> Result<(), String>;
    fn script(&self) -> &[crate::sim::Command];
    fn counters(&self) -> Counters;
    fn trace_hash(&self) -> u64;
    fn properties(&self) -> Vec<PropReport>;
    fn nodes(&self) -> Vec<NodeView>;
    fn in_flight(&self) -> Vec<MsgView>;
    /// The key fields of a message still in flight or in the trace window.
    fn describe_message(&self, id: u64) -> Option<String>;
    fn records(&self) -> Vec<RecordView>;
    fn records_since(&self, seq: u64) -> Vec<RecordView>;
    /// The Lamport timestamp and vector clock of every event in the trace window
    /// ([`crate::sim::clocks`]); `None` if the run keeps no clocks.
    fn logical_clocks(&self) -> Option<crate::sim::clocks::WindowClocks>;
    /// Keeps no logical clocks from here on: for a run that never shows its diagram (a
    /// sweep's), which they would slow by a tenth or more.
    fn forget_clocks(&mut self);
    fn panels(&self) -> Vec<Panel>;
    /// Figures about the run: the client operations by outcome, then the lab's own.
    fn metrics(&self) -> Vec<Metric>;
    /// The lab's stage `ix` (an index into [`Lab::stages`]) at the cursor.
    fn stage(&self, ix: usize, area: &StageArea) -> Vec<Shape>;
    /// The lab's item under `p` on stage `ix`.
    fn stage_hit(&self, ix: usize, area: &StageArea, p: Pt) -> Option<u64>;
    /// What the inspector shows of a lab's item.
    fn item_view(&self, item: u64) -> Option<ItemView>;
    fn history(&self) -> Vec<OpView>;
    /// Charts beside the canvas (time series end at the cursor): every lab with clients gets
    /// its operations' latency over time; a lab may add its own ([`LabProtocol::charts`]).
    fn charts(&self) -> Vec<crate::viz::chart::Chart>;
    fn cut_links(&self) -> Vec<(u32, u32)>;
    fn keyframes(&self) -> usize;
    /// Whether the run's clients leave time between operations over the whole script (the
    /// pace rule, [`check_client_pace`]).
    fn check_pace(&self) -> Result<(), String>;
    /// Why the run stopped at one instant, if it did ([`crate::sim::world::Stall`]).
    fn stall(&self) -> Option<String>;
    /// The client history in the checker's terms, with the model to check it against; `None`
    /// when the lab's operations are not a checkable object, or when early operations have been
    /// dropped from a long run (checking a suffix alone could give a wrong verdict).
    fn check_history(&self) -> Option<(crate::check::History, crate::check::ModelKind)>;
}

/// The least expected time a client's loop (think, request, any service time, reply) may take
/// while clients run. A loop of no time never lets the clock move, and loops much faster than
/// this make more events than a run can replay while a class waits; the labs refuse such
/// settings where they are made (a link, a field, a slider), naming them.
pub const MIN_CLIENT_LOOP_US: u64 = 1_000;

/// The most events any replay of a run may take: opening a link, `dsplay run` (unless told
/// otherwise), an experiment's trial. About 40 hours of the Raft lab with five servers and two
/// clients, and half a minute of replay in a browser; a link further into a busier run is
/// refused with a message that says how far it reaches.
pub const REPLAY_EVENT_BUDGET: u64 = 40_000_000;

/// Why a run cannot be replayed to `target_us`: it passed the replay budget of `budget`
/// events at `reached_us`, before it got there.
pub fn too_far_to_replay(target_us: u64, reached_us: u64, budget: u64) -> String {
    use crate::sim::time::format_span;
    format!(
        "it is too far into its run to replay: it names the moment {} into the run, and a \
         replay stops after {} events, which this run has made by {}. Share an earlier \
         moment, or replay it with the dsplay command",
        format_span(target_us),
        count_text(budget),
        format_span(reached_us),
    )
}

/// `40 million`, `250,000`.
pub fn count_text(n: u64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        return format!("{} million", n / 1_000_000);
    }
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The pace rule: clients, if any, must leave time between their operations (see
/// [`MIN_CLIENT_LOOP_US`]). `latency_us` is the mean latency of the fastest link the run can
/// have; `service` a time every request also spends, with its name (a processing time).
pub fn check_client_pace(
    clients: u32,
    think: &crate::sim::Dist,
    latency_us: f64,
    service: Option<(&str, u64)>,
) -> Result<(), String> {
    let service_us = service.map_or(0, |(_, us)| us);
    let loop_us = think.mean_us() + 2.0 * latency_us + service_us as f64;
    if clients == 0 || loop_us >= MIN_CLIENT_LOOP_US as f64 {
        return Ok(());
    }
    let mut parts = vec![
        format!("think time {}", format_us(think.mean_us() as u64)),
        format!("latency {} each way", format_us(latency_us as u64)),
    ];
    let mut names = vec!["the think time".to_string(), "the latency".to_string()];
    if let Some((name, us)) = service {
        parts.push(format!("{name} {}", format_us(us)));
        names.push(format!("the {name}"));
    }
    Err(format!(
        "clients would have no time between operations: {} add up to less than {} a round \
         trip, so the run could not move on. Give {} more time",
        join_words(&parts, "and"),
        format_us(MIN_CLIENT_LOOP_US),
        join_words(&names, "or"),
    ))
}

/// `a, b and c`.
fn join_words(words: &[String], last: &str) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., end] => format!("{} {last} {end}", init.join(", ")),
    }
}

/// The mean latency of the fastest link a run can have: its base setting, and every latency
/// that its script sets, on all links or on one.
pub fn fastest_latency_us(base: &crate::sim::Dist, script: &[crate::sim::Command]) -> f64 {
    script
        .iter()
        .filter_map(|c| match &c.action {
            Action::Set {
                setting: crate::sim::NetSetting::Latency(d),
                ..
            } => Some(d.mean_us()),
            _ => None,
        })
        .fold(base.mean_us(), f64::min)
}

/// What a protocol adds to become a lab: its view, properties and workload setup.
pub trait LabProtocol: Protocol {
    fn lab() -> &'static Lab;
    /// A time every client request also spends at the server, with its name, for the pace rule
    /// ([`check_client_pace`]).
    fn client_service_floor(&self) -> Option<(&'static str, u64)> {
        None
    }
    /// The properties every run of this configuration checks: the one list both the registry
    /// and `build` use.
    fn properties(&self) -> Vec<crate::sim::Property<Self>>;
    /// How one node looks.
    fn node_view(&self, world: &World<Self>, id: u32) -> NodeView;
    /// Why a violation of `property` follows from this run's settings rather than from the
    /// protocol (a timeout shorter than a round trip), in the domain's words; `None` when
    /// nothing in the settings explains it.
    fn settings_cause(&self, _world: &World<Self>, _property: &str) -> Option<String> {
        None
    }
    /// Panels beside the canvas.
    fn panels(&self, _world: &World<Self>) -> Vec<Panel> {
        Vec::new()
    }
    /// The lab's own figures about the run (besides the client operations every lab reports).
    fn metrics(&self, _world: &World<Self>) -> Vec<Metric> {
        Vec::new()
    }
    /// Charts of the lab's own (a time series puts its cursor at `world.now()`).
    fn charts(&self, _world: &World<Self>) -> Vec<crate::viz::chart::Chart> {
        Vec::new()
    }
    /// Stage `ix` of [`Lab::stages`] at the cursor, as shapes inside `area`.
    fn stage(&self, _world: &World<Self>, _ix: usize, _area: &StageArea) -> Vec<Shape> {
        Vec::new()
    }
    /// The item of stage `ix` under point `p` (CSS px within the canvas).
    fn stage_hit(
        &self,
        _world: &World<Self>,
        _ix: usize,
        _area: &StageArea,
        _p: Pt,
    ) -> Option<u64> {
        None
    }
    /// What the inspector shows of an item; `None` once it no longer exists.
    fn item_view(&self, _world: &World<Self>, _item: u64) -> Option<ItemView> {
        None
    }
    fn op_text(&self, op: &Self::Op) -> String {
        format!("{op:?}")
    }
    /// The object the clients use, if the linearizability checker can check it.
    fn check_model(&self) -> Option<crate::check::ModelKind> {
        None
    }
    /// An operation as the checker sees it (only called when `check_model` is `Some`).
    fn check_input(&self, _op: &Self::Op) -> crate::check::Input {
        crate::check::Input::Read
    }
    /// What a successful reply told the client.
    fn check_output(&self, _op: &Self::Op, _reply: &Self::Reply) -> crate::check::Output {
        crate::check::Output::None
    }
}

/// A lab parameter's value in a scenario: the one set, or its spec's default (each default is
/// written once, in the lab's `ParamSpec`).
pub fn param<'a>(s: &'a Scenario, key: &str) -> Result<&'a str, String> {
    s.param(key)
        .ok_or_else(|| format!("the {} lab has no parameter '{key}'", s.lab))
}

/// The world of most labs: the link's `n` nodes.
pub fn link_nodes(s: &Scenario) -> u32 {
    s.n
}

/// The client count of a lab whose parameter `clients` sets it.
pub fn clients_param(s: &Scenario) -> u32 {
    param_u32(s, "clients").unwrap_or(0)
}

/// A whole-number lab parameter.
pub fn param_u32(s: &Scenario, key: &str) -> Result<u32, String> {
    let v = param(s, key)?;
    v.parse()
        .map_err(|_| format!("'{key}' must be a whole number, not '{v}'"))
}

/// Refuses a script that names a client the scenario does not run.
pub fn check_script_clients(s: &Scenario, clients: u32) -> Result<(), String> {
    match s.script.iter().find_map(|c| match &c.action {
        Action::ClientOp { client, .. } if *client >= clients => Some(*client),
        _ => None,
    }) {
        Some(c) => Err(format!(
            "the script names client {c}, but there are {clients} clients"
        )),
        None => Ok(()),
    }
}

/// Builds the engine configuration shared by every lab from a scenario.
pub fn world_config(s: &Scenario) -> WorldConfig {
    let mut cfg = WorldConfig::new(s.n, s.seed);
    cfg.net = s.net.clone();
    cfg.client_policy = s.client_policy.clone();
    cfg.logical_clocks = s.clocks.is_some();
    cfg
}

/// Checks that every scripted client operation parses for this protocol.
pub fn validate_ops<P: Protocol>(proto: &P, s: &Scenario) -> Result<(), String> {
    for c in &s.script {
        if let Action::ClientOp { op, .. } = &c.action {
            proto
                .parse_op(op)
                .map_err(|e| format!("command '{}': {e}", c.to_text()))?;
        }
    }
    Ok(())
}

impl<P: LabProtocol> Sim for Run<P> {
    fn lab(&self) -> &'static Lab {
        P::lab()
    }
    fn n(&self) -> u32 {
        self.core().n()
    }
    fn clients(&self) -> u32 {
        self.core().cfg.clients
    }
    fn now(&self) -> Instant {
        Replay::now(self)
    }
    fn horizon(&self) -> Instant {
        Replay::horizon(self)
    }
    fn next_due(&self) -> Option<Instant> {
        next_due(self)
    }
    fn step(&mut self) -> Option<StepInfo> {
        Replay::step(self)
    }
    fn run_until(&mut self, t: Instant) -> bool {
        Replay::run_until(self, t)
    }
    fn run_until_within(&mut self, t: Instant, max_events: u64) -> (bool, bool) {
        Replay::run_until_within(self, t, max_events)
    }
    fn seek(&mut self, t: Instant) {
        Replay::seek(self, t)
    }
    fn act(&mut self, action: Action) -> Result<(), String> {
        let w = self.world();
        let parse_op = |op: &str| w.proto.parse_op(op).map(drop);
        check_action(P::lab(), &w.cfg, &action, &parse_op)?;
        if let Action::Set {
            setting: crate::sim::NetSetting::Latency(d),
            ..
        } = &action
        {
            pace_with(self, Some(d.mean_us()))?;
        }
        check_script_room(self.script())?;
        Replay::act(self, action);
        Ok(())
    }
    fn script(&self) -> &[crate::sim::Command] {
        Replay::script(self)
    }
    fn counters(&self) -> Counters {
        self.core().counters()
    }
    fn trace_hash(&self) -> u64 {
        self.core().trace_hash()
    }
    fn properties(&self) -> Vec<PropReport> {
        let w = self.world();
        let mut defs = w
            .property_defs()
            .iter()
            .map(|d| (d.name, d.description, d.kind));
        let mut reports = prop_reports(&mut defs, w.properties());
        for r in reports.iter_mut().filter(|r| r.violations > 0 || !r.holds) {
            r.cause = w.proto.settings_cause(w, r.name);
        }
        reports
    }
    fn nodes(&self) -> Vec<NodeView> {
        let w = self.world();
        (0..w.n()).map(|i| w.proto.node_view(w, i)).collect()
    }
    fn in_flight(&self) -> Vec<MsgView> {
        let mut flights = self.world().flights_unordered().map(|f| MsgView {
            id: f.id,
            from: f.from,
            to: f.to,
            sent_us: f.sent_us,
            arrive_us: f.arrive_us,
            kind: f.wire.kind(),
            colour: "",
            lost: f.lost,
        });
        msg_views(&mut flights)
    }
    fn describe_message(&self, id: u64) -> Option<String> {
        let w = self.world();
        if let Some(f) = w.flight(id) {
            return Some(f.wire.summary());
        }
        w.sent_message(id).map(|c| c.summary())
    }
    fn records(&self) -> Vec<RecordView> {
        self.records_since(0)
    }
    fn records_since(&self, seq: u64) -> Vec<RecordView> {
        record_views(self.core().trace.window(), seq)
    }
    fn logical_clocks(&self) -> Option<crate::sim::clocks::WindowClocks> {
        // The page keeps no clocks yet (sim::trace), so it has none to show.
        #[cfg(target_arch = "wasm32")]
        return None;
        #[cfg(not(target_arch = "wasm32"))]
        crate::sim::clocks::WindowClocks::of(&self.core().trace)
    }
    fn forget_clocks(&mut self) {
        crate::sim::keyframe::Replay::forget_clocks(self);
    }
    fn panels(&self) -> Vec<Panel> {
        let w = self.world();
        w.proto.panels(w)
    }
    fn stage(&self, ix: usize, area: &StageArea) -> Vec<Shape> {
        let w = self.world();
        w.proto.stage(w, ix, area)
    }
    fn stage_hit(&self, ix: usize, area: &StageArea, p: Pt) -> Option<u64> {
        let w = self.world();
        w.proto.stage_hit(w, ix, area, p)
    }
    fn item_view(&self, item: u64) -> Option<ItemView> {
        let w = self.world();
        w.proto.item_view(w, item)
    }
    fn metrics(&self) -> Vec<Metric> {
        let w = self.world();
        let mut m = client_metrics(w);
        m.extend(w.proto.metrics(w));
        m
    }
    fn history(&self) -> Vec<OpView> {
        let w = self.world();
        w.history().iter().map(|h| op_view(&w.proto, h)).collect()
    }
    fn charts(&self) -> Vec<crate::viz::chart::Chart> {
        let w = self.world();
        let h = w.history();
        let mut ops = h
            .iter()
            .skip(h.len().saturating_sub(LATENCY_CHART_OPS))
            .map(|h| (h.invoke_us, h.complete_us, h.outcome));
        let mut charts = client_charts(w, &mut ops);
        charts.extend(w.proto.charts(w));
        charts
    }
    fn cut_links(&self) -> Vec<(u32, u32)> {
        cut_links(self.core())
    }
    fn keyframes(&self) -> usize {
        self.keyframe_count()
    }
    fn check_pace(&self) -> Result<(), String> {
        pace_with(self, None)
    }
    fn stall(&self) -> Option<String> {
        self.core().stall().map(|s| s.reason())
    }
    fn check_history(&self) -> Option<(crate::check::History, crate::check::ModelKind)> {
        let w = self.world();
        let model = w.proto.check_model()?;
        if w.history_dropped() > 0 {
            return None;
        }
        Some((to_check_history(w), model))
    }
}

// The parts of the `Sim` glue that need no protocol, compiled once for every lab.

fn next_due(run: &Replay) -> Option<Instant> {
    run.core().next_due_us(run.script()).map(Instant)
}

fn cut_links(core: &Core) -> Vec<(u32, u32)> {
    core.net.cut.iter().copied().collect()
}

/// Each property's status, from its definition (name, description, kind) and its state.
fn prop_reports(
    defs: &mut dyn Iterator<Item = (&'static str, &'static str, PropKind)>,
    states: &[crate::sim::PropState],
) -> Vec<PropReport> {
    defs.zip(states)
        .map(|((name, description, kind), s)| PropReport {
            name,
            description,
            kind,
            holds: s.holds,
            violations: s.violations,
            first_violation_us: s.first_violation_us,
            pending_since_us: s.pending_since_us(),
            cause: None,
        })
        .collect()
}

/// The messages in flight, oldest first, each in its kind's colour.
fn msg_views(flights: &mut dyn Iterator<Item = MsgView>) -> Vec<MsgView> {
    let mut v: Vec<MsgView> = flights.collect();
    crate::sim::order::sort_by_key(&mut v, |m| m.id);
    for m in &mut v {
        m.colour = kind_colour(m.kind);
    }
    v
}

/// The chart every lab with clients has: its operations' latency up to the cursor.
fn client_charts(
    core: &Core,
    ops: &mut dyn Iterator<Item = (u64, Option<u64>, Option<OutcomeKind>)>,
) -> Vec<crate::viz::chart::Chart> {
    if core.cfg.clients == 0 {
        return Vec::new();
    }
    vec![latency_chart(ops, core.now().0)]
}

/// Whether a lab's run of `cfg` can carry out `action`: its nodes, clients and verb exist and
/// its operation parses (`parse_op`, the protocol's parser).
fn check_action(
    lab: &Lab,
    cfg: &WorldConfig,
    action: &Action,
    parse_op: &dyn Fn(&str) -> Result<(), String>,
) -> Result<(), String> {
    let (n, clients) = (cfg.n, cfg.clients);
    if let Some(e) = action.endpoints().into_iter().find(|e| *e >= n + clients) {
        return Err(format!("there is no node {e}"));
    }
    if let Action::Lab { verb, node } = action {
        lab.check_verb(verb, *node)?;
    }
    if let Action::ClientOp { client, op, .. } = action {
        if *client >= clients {
            return Err(format!("there is no client {client}"));
        }
        parse_op(op)?;
    }
    Ok(())
}

/// Whether the script has room for one more command.
fn check_script_room(script: &[crate::sim::Command]) -> Result<(), String> {
    if script.len() >= crate::scenario::MAX_SCRIPT {
        return Err(format!(
            "the script is full ({} commands)",
            crate::scenario::MAX_SCRIPT
        ));
    }
    Ok(())
}

/// The pace rule for a run: over its script, its links' own latencies and, when an
/// intervention is about to set one, `new_latency_us` (mean) as well.
fn pace_with<P: LabProtocol>(run: &Run<P>, new_latency_us: Option<f64>) -> Result<(), String> {
    let w = run.world();
    let floor = w.proto.client_service_floor();
    pace_rule(&w.net, &w.cfg, run.script(), new_latency_us, floor)
}

/// [`pace_with`] for any protocol, given its service floor.
fn pace_rule(
    net: &crate::sim::net::Network,
    cfg: &WorldConfig,
    script: &[crate::sim::Command],
    new_latency_us: Option<f64>,
    floor: Option<(&'static str, u64)>,
) -> Result<(), String> {
    let latency = net
        .overrides
        .values()
        .map(|l| l.latency.mean_us())
        .chain(new_latency_us)
        .fold(fastest_latency_us(&net.default.latency, script), f64::min);
    // Open-loop clients wait between arrivals, not between operations.
    let gap = cfg.client_policy.arrival_mean_gap_us(cfg.clients);
    let gap = gap.map(|us| crate::sim::Dist::Constant { us });
    check_client_pace(
        cfg.clients,
        gap.as_ref().unwrap_or(&cfg.client_think),
        latency,
        floor,
    )
}

/// Converts a world's client history for the checker: ok operations with what they were told,
/// failed ones as failed, timed-out and pending ones as unknown.
pub fn to_check_history<P: LabProtocol>(w: &World<P>) -> crate::check::History {
    let mut h = crate::check::History::new();
    for op in w.history().iter() {
        let i = h.invoke(op.client, w.proto.check_input(&op.op), op.invoke_us);
        // Indices come from `invoke` just above, so these cannot fail.
        let _ = match (op.outcome, op.complete_us, &op.reply) {
            (Some(OutcomeKind::Ok), Some(t), Some(r)) => {
                h.complete(i, w.proto.check_output(&op.op, r), t)
            }
            (Some(OutcomeKind::Fail), Some(t), _) => h.fail(i, t),
            _ => Ok(()),
        };
    }
    h
}

fn op_view<P: LabProtocol>(p: &P, h: &HistoryOp<P::Op, P::Reply>) -> OpView {
    OpView {
        id: h.id,
        client: h.client,
        node: h.node,
        op: p.op_text(&h.op),
        invoke_us: h.invoke_us,
        complete_us: h.complete_us,
        outcome: h.outcome,
        reply: h.reply.as_ref().map(|r| format!("{r:?}")),
    }
}

/// The window's records from sequence number `seq` on, in protocol-independent form.
fn record_views(window: &VecDeque<Record>, seq: u64) -> Vec<RecordView> {
    let start = window.partition_point(|r| r.seq < seq);
    window.range(start..).map(record_view).collect()
}

fn record_view(r: &Record) -> RecordView {
    let mut v = RecordView {
        seq: r.seq,
        at_us: r.at_us,
        what: "",
        msg: None,
        from: None,
        to: None,
        node: None,
        arrive_us: None,
        lost: false,
        text: String::new(),
        colour: "",
    };
    match &r.kind {
        RecordKind::Send {
            msg,
            from,
            to,
            kind,
            arrive_us,
            lost,
        } => {
            (v.what, v.msg, v.from, v.to, v.arrive_us, v.lost) = (
                "send",
                Some(*msg),
                Some(*from),
                Some(*to),
                Some(*arrive_us),
                *lost,
            );
            v.text = kind.to_string();
            v.colour = kind_colour(kind);
        }
        RecordKind::Deliver { msg, from, to } => {
            (v.what, v.msg, v.from, v.to) = ("deliver", Some(*msg), Some(*from), Some(*to))
        }
        RecordKind::Drop {
            msg,
            from,
            to,
            reason,
        } => {
            (v.what, v.msg, v.from, v.to) = ("drop", Some(*msg), Some(*from), Some(*to));
            v.text = format!("{reason:?}").to_ascii_lowercase();
        }
        RecordKind::Duplicate { msg, copy } => {
            (v.what, v.msg) = ("duplicate", Some(*msg));
            v.text = format!("copy #{copy}");
        }
        RecordKind::Timer { node, name } => {
            (v.what, v.node, v.text) = ("timer", Some(*node), name.to_string())
        }
        RecordKind::Crash { node } => (v.what, v.node) = ("crash", Some(*node)),
        RecordKind::Restart { node } => (v.what, v.node) = ("restart", Some(*node)),
        RecordKind::Invoke { op, client, node } => {
            (v.what, v.from, v.to, v.msg) = ("invoke", Some(*client), Some(*node), Some(*op));
        }
        RecordKind::Complete {
            op,
            client,
            outcome,
        } => {
            (v.what, v.from, v.msg) = ("complete", Some(*client), Some(*op));
            v.text = format!("{outcome:?}").to_ascii_lowercase();
        }
        RecordKind::Note { node, text } => {
            (v.what, v.node, v.text) = ("note", Some(*node), text.clone())
        }
        RecordKind::Command { text } => (v.what, v.text) = ("command", text.clone()),
        RecordKind::Violation { property } => {
            (v.what, v.text) = ("violation", property.to_string())
        }
    }
    v
}

/// Builds any lab's simulation from a scenario: looks the lab up and checks the scenario first.
pub fn build(s: &Scenario) -> Result<Box<dyn Sim>, String> {
    let sim = build_unpaced(s)?;
    sim.check_pace()?;
    Ok(sim)
}

/// Builds a scenario's simulation without the pace rule (for a caller that checks it itself).
pub fn build_unpaced(s: &Scenario) -> Result<Box<dyn Sim>, String> {
    let lab = find(&s.lab).ok_or_else(|| format!("unknown lab '{}'", s.lab))?;
    s.validate().map_err(|e| e.to_string())?;
    (lab.build)(s)
}
