//! What a run is: lab, parameters, seed, script of interventions and an optional cursor.
//!
//! A scenario is everything needed to reproduce a run exactly. It has a JSON form (serde, the
//! same the `dsplay` tool reads and writes) and a URL-fragment form ([`link`]) that keeps the
//! common parameters readable. Both are validated by [`Scenario::validate`]: bad input becomes a
//! [`ScenarioError`] that names the problem.

pub mod link;

use crate::labs;
use crate::sim::client::ClientPolicy;
use crate::sim::command::Command;
use crate::sim::net::LinkParams;
use crate::sim::small_map::SmallMap;
use crate::sim::time::MAX_DURATION_US;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The scenario format this release writes. Every earlier version keeps decoding.
pub const FORMAT_VERSION: u32 = 1;
/// The speed a lab without its own plays at (1×).
pub const DEFAULT_SPEED: usize = 6;
/// The most commands a script may hold.
pub const MAX_SCRIPT: usize = 2_000;
/// The most nodes any lab may have.
pub const MAX_NODES: u32 = 64;

/// The speeds the display clock offers, slowest first. Down to 0.01×, at which a single
/// message can be followed (RaftScope opens at 1/100×).
pub const SPEEDS: [f64; 13] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0,
];
/// Each speed of [`SPEEDS`] as a link writes it (`speed=0.1`).
pub const SPEED_TEXTS: [&str; 13] = [
    "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2", "5", "10", "25", "50", "100",
];

/// The index in [`SPEEDS`] of a speed written `0.1`, `0.1x` or `0.1×`.
pub fn speed_index(text: &str) -> Result<usize, String> {
    let bare = text.trim_end_matches(['x', '×']);
    SPEED_TEXTS.iter().position(|t| *t == bare).ok_or_else(|| {
        format!(
            "speed '{}' is not one of {}",
            clip(text),
            SPEED_TEXTS.join(", ")
        )
    })
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub version: u32,
    pub lab: String,
    /// Number of nodes.
    pub n: u32,
    pub seed: u64,
    /// The network settings every link starts with.
    pub net: LinkParams,
    /// How clients retry and when their operations arrive (link keys `retry`, `backoff`,
    /// `attempts`, `budget`, `arrivals`), for every lab with clients. Left out at its default.
    #[serde(default, skip_serializing_if = "ClientPolicy::is_default")]
    pub client_policy: ClientPolicy,
    /// The lab's own parameters, in canonical text form, keyed by their link keys.
    #[serde(default)]
    pub params: SmallMap<String, String>,
    #[serde(default)]
    pub script: Vec<Command>,
    /// Where the run was paused, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_us: Option<u64>,
    /// The main canvas shown, when it is one of the lab's own stages rather than the topology
    /// (link key `view`). It changes what is drawn, never the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// Shown inside another page (link key `embed=1`): the main view alone with play and the
    /// scrub bar. It changes how the page looks, never the run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub embed: bool,
    /// The guided lesson shown over the run, by its id among the lab's lessons (link key
    /// `lesson`), and its step, counted from 1 (link key `step`; 1 if left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    /// The speed the run plays at, one of [`SPEED_TEXTS`] (link key `speed`); left out, the
    /// lab's own opening speed ([`labs::Lab::speed`]). It changes how fast the run is shown,
    /// never the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<String>,
    /// The logical clocks labelled on the space-time diagram, `lamport` or `vector` (link
    /// key `clocks`; left out, none). It changes what is drawn, never the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clocks: Option<String>,
    /// The seed of the "which happened first?" question asked over the diagram (link key
    /// `quiz`; left out, none is asked). It changes what is asked, never the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiz: Option<u64>,
}

/// Why a scenario or link was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ScenarioError {}

impl From<String> for ScenarioError {
    fn from(s: String) -> Self {
        ScenarioError(s)
    }
}

impl Scenario {
    /// A lab's default scenario.
    pub fn default_for(lab: &labs::Lab) -> Scenario {
        Scenario {
            version: FORMAT_VERSION,
            lab: lab.id.to_string(),
            n: lab.nodes_default,
            seed: 1,
            net: LinkParams::default(),
            client_policy: ClientPolicy::default(),
            params: {
                // Inserted one by one: collecting would compile a sort just for this.
                let mut params = SmallMap::new();
                for p in lab.params.iter().filter(|p| !lab.quiet.contains(&p.key)) {
                    let v = p
                        .canonical(p.default)
                        .unwrap_or_else(|_| p.default.to_string());
                    params.insert(p.key.to_string(), v);
                }
                params
            },
            script: Vec::new(),
            cursor_us: None,
            view: None,
            embed: false,
            lesson: None,
            step: None,
            speed: None,
            clocks: None,
            quiz: None,
        }
    }

    /// The index in [`SPEEDS`] this scenario plays at: its own speed, else its lab's.
    pub fn speed_ix(&self) -> usize {
        let own = self.speed.as_deref().and_then(|t| speed_index(t).ok());
        let lab = || labs::find(&self.lab).and_then(|l| speed_index(l.speed).ok());
        own.or_else(lab).unwrap_or(DEFAULT_SPEED)
    }

    /// The lesson and step a link names exist in the lab.
    fn check_lesson(&self, lab: &labs::Lab) -> Result<(), ScenarioError> {
        match (&self.lesson, self.step) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(ScenarioError(
                "a step needs a lesson: add lesson=<id> to the link".into(),
            )),
            (Some(id), step) => {
                let l = labs::lesson::find(lab, id).map_err(ScenarioError)?;
                match step {
                    Some(k) if k == 0 || k as usize > l.steps.len() => Err(ScenarioError(format!(
                        "the lesson '{}' has steps 1 to {}, not {k}",
                        l.id,
                        l.steps.len()
                    ))),
                    _ => Ok(()),
                }
            }
        }
    }

    /// The value of a lab parameter (the default if unset).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str).or_else(|| {
            labs::find(&self.lab)
                .and_then(|l| l.param(key))
                .map(|p| p.default)
        })
    }

    /// Checks every field against the lab and the limits. Total.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.version == 0 || self.version > FORMAT_VERSION {
            return Err(ScenarioError(format!(
                "unknown scenario version {} (this release reads 1 to {FORMAT_VERSION})",
                self.version
            )));
        }
        let lab = labs::find(&self.lab).ok_or_else(|| ScenarioError(unknown_lab(&self.lab)))?;
        if self.n < lab.nodes_min || self.n > lab.nodes_max {
            return Err(ScenarioError(format!(
                "the {} lab takes {} to {} nodes, not {}",
                lab.id, lab.nodes_min, lab.nodes_max, self.n
            )));
        }
        self.check_lesson(lab)?;
        self.net.latency.validate(0).map_err(ScenarioError)?;
        for (kind, d) in self.net.by_kind.iter() {
            d.validate(0)
                .map_err(|e| ScenarioError(format!("the latency of {}: {e}", clip(kind))))?;
        }
        for (what, ppm) in [
            ("loss", self.net.loss_ppm),
            ("duplication", self.net.dup_ppm),
        ] {
            if ppm > 1_000_000 {
                return Err(ScenarioError(format!("{what} must be from 0% to 100%")));
            }
        }
        self.client_policy
            .validate()
            .map_err(|e| ScenarioError(format!("client settings: {e}")))?;
        for (k, v) in &self.params {
            let spec = lab.param(k).ok_or_else(|| {
                ScenarioError(format!("the {} lab has no parameter '{}'", lab.id, clip(k)))
            })?;
            spec.canonical(v).map_err(ScenarioError)?;
        }
        self.validate_script()?;
        if self.cursor_us.is_some_and(|c| c > MAX_DURATION_US) {
            return Err(ScenarioError("the cursor time is beyond 30 days".into()));
        }
        Ok(())
    }

    fn validate_script(&self) -> Result<(), ScenarioError> {
        // How many clients the lab runs for this scenario (they are endpoints after the nodes).
        let lab_clients = |s: &Scenario| labs::find(&s.lab).map_or(0, |l| (l.clients)(s));
        let nodes = labs::find(&self.lab).map_or(self.n, |l| (l.world_nodes)(self));
        if self.script.len() > MAX_SCRIPT {
            return Err(ScenarioError(format!(
                "the script has {} commands; the limit is {MAX_SCRIPT}",
                self.script.len()
            )));
        }
        let mut last = 0;
        for c in &self.script {
            let text = c.to_text();
            if c.at_us > MAX_DURATION_US {
                return Err(ScenarioError(format!(
                    "command '{}' is beyond 30 days",
                    clip(&text)
                )));
            }
            if c.at_us < last {
                return Err(ScenarioError(format!(
                    "command '{}' is out of time order",
                    clip(&text)
                )));
            }
            last = c.at_us;
            // Nodes are 0..n and clients follow on the network (n..n+clients): network commands
            // may name either; crash, restart and operations name nodes only.
            let clients = lab_clients(self);
            let nodes_only = matches!(
                c.action,
                crate::sim::Action::Crash { .. }
                    | crate::sim::Action::Restart { .. }
                    | crate::sim::Action::ClientOp { .. }
                    | crate::sim::Action::Lab { .. }
            );
            if let crate::sim::Action::Lab { verb, node } = &c.action {
                if let Some(lab) = labs::find(&self.lab) {
                    lab.check_verb(verb, *node)
                        .map_err(|e| ScenarioError(format!("command '{}': {e}", clip(&text))))?;
                }
            }
            let limit = if nodes_only { nodes } else { nodes + clients };
            if let Some(e) = c.action.endpoints().into_iter().find(|e| *e >= limit) {
                return Err(ScenarioError(format!(
                    "command '{}' names node {e}, but there are {} nodes{}",
                    clip(&text),
                    nodes,
                    if nodes_only || clients == 0 {
                        String::new()
                    } else {
                        format!(" and {clients} clients")
                    }
                )));
            }
            if let crate::sim::Action::ClientOp { client, .. } = &c.action {
                let clients = lab_clients(self);
                if *client >= clients {
                    return Err(ScenarioError(format!(
                        "command '{}' names client {client}, but there are {clients} clients",
                        clip(&text)
                    )));
                }
            }
            if let crate::sim::Action::Set {
                setting: crate::sim::NetSetting::Latency(d),
                ..
            } = &c.action
            {
                d.validate(0)
                    .map_err(|e| ScenarioError(format!("command '{}': {e}", clip(&text))))?;
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads the JSON form (at most 4 MiB), then validates it.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > 4 << 20 {
            return Err(ScenarioError(
                "the scenario file is larger than 4 MiB".into(),
            ));
        }
        let s: Scenario = serde_json::from_str(text)
            .map_err(|e| ScenarioError(format!("not a dsplay scenario: {e}")))?;
        s.validate()?;
        s.check_builds()?;
        Ok(s)
    }

    /// Builds the lab once, which checks what only the lab knows (its client operations).
    pub fn check_builds(&self) -> Result<(), ScenarioError> {
        let lab = labs::find(&self.lab).ok_or_else(|| ScenarioError(unknown_lab(&self.lab)))?;
        (lab.build)(self).map(|_| ()).map_err(ScenarioError)
    }
}

pub(crate) fn unknown_lab(id: &str) -> String {
    let known: Vec<&str> = labs::REGISTRY.iter().map(|l| l.id).collect();
    format!("unknown lab '{}' (labs: {})", clip(id), known.join(", "))
}

pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}
