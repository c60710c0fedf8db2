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
use std::collections::BTreeMap;

/// Parameter values by key, in their canonical text ([`ParamSpec::canonical`]).
pub type Values = BTreeMap<String, String>;

/// One experiment a lab offers.
pub struct ExperimentSpec {
    /// The command-line name, e.g. `raft-election`.
    pub id: &'static str,
    pub title: &'static str,
    /// What it measures and how, in a sentence or two.
    pub summary: &'static str,
    /// Its parameters; `trials` and `seed` among them.
    pub params: &'static [ParamSpec],
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

/// What an experiment reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// One line for people.
    pub summary: String,
    pub charts: Vec<Chart>,
    /// Tables beside the charts (ours against the paper's figures).
    pub tables: Vec<crate::viz::Panel>,
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
        let mut out: Values = self
            .params
            .iter()
            .map(|p| (p.key.to_string(), p.default.to_string()))
            .collect();
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
pub fn expand_lists(given: &[(String, String)]) -> Result<Vec<Vec<(String, String)>>, String> {
    let lists: Vec<usize> = given
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| v.contains(','))
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
