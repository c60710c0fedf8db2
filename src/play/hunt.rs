//! The page's hunt for a counterexample: the seeds of a sweep ([`super::sweep`]) handed out in
//! order to a pool of workers, their judgements gathered, and the first seed in seed order that
//! breaks a property chosen, whatever the pool's size, then shrunk and opened.
//!
//! The page keeps a [`Hunt`]; a worker answers the lines [`judge_request`] and
//! [`shrink_request`] write with [`answer`] (the page answers them itself where no worker
//! starts):
//!
//! ```text
//! page → worker   judge <hunt> <k> <faults> <until_us>\n<link>
//!                 shrink <hunt> <k> <faults> <until_us> <property>\n<link>
//! worker → page   judged <hunt> <k> <events> <at_us> <property, or - when none broke>
//!                 shrunk <hunt> <at_us> <interventions before> <after>\n<link>
//!                 error <hunt> <why>
//! ```

use super::sweep::{self, Faults};
use crate::scenario::link;

/// A property broken on seed `k` of a hunt, at `at_us`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub k: u64,
    pub property: String,
    pub at_us: u64,
}

/// How a hunt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The first seed, in seed order, that broke a property.
    Broken(Broken),
    /// Every seed planned ran and none broke a property.
    Clean,
}

/// The page's side of a hunt: which seeds are out, which came back, what broke.
#[derive(Clone, Debug, Default)]
pub struct Hunt {
    pub planned: u64,
    /// Seeds judged, and the events they made.
    pub done: u64,
    pub events: u64,
    /// Seeds judged that broke a property.
    pub broken: u64,
    next: u64,
    pending: Vec<u64>,
    first: Option<Broken>,
}

impl Hunt {
    pub fn new(planned: u64) -> Hunt {
        Hunt {
            planned,
            ..Hunt::default()
        }
    }

    /// The next seed to hand out: none once all are out, or once a seed broke a property
    /// (only the seeds before it can still come first).
    pub fn next_seed(&mut self) -> Option<u64> {
        if self.next >= self.planned || self.first.is_some() {
            return None;
        }
        self.pending.push(self.next);
        self.next += 1;
        Some(self.next - 1)
    }

    /// Seed `k` was judged. A seed not out (or judged twice) is ignored.
    pub fn judged(&mut self, k: u64, events: u64, broke: Option<(String, u64)>) {
        let Some(i) = self.pending.iter().position(|&p| p == k) else {
            return;
        };
        self.pending.swap_remove(i);
        self.done += 1;
        self.events += events;
        let Some((property, at_us)) = broke else {
            return;
        };
        self.broken += 1;
        if self.first.as_ref().is_none_or(|f| k < f.k) {
            self.first = Some(Broken { k, property, at_us });
        }
    }

    /// The hunt's end, once it is decided: a broken seed with every earlier seed judged, or
    /// every seed judged.
    pub fn outcome(&self) -> Option<Outcome> {
        match &self.first {
            Some(f) if self.pending.iter().all(|&p| p > f.k) => Some(Outcome::Broken(f.clone())),
            None if self.next >= self.planned && self.pending.is_empty() => Some(Outcome::Clean),
            _ => None,
        }
    }
}

/// A fault profile's name in links and requests (`dsplay sweep --faults`).
pub fn faults_name(f: Faults) -> &'static str {
    match f {
        Faults::None => "none",
        Faults::Light => "light",
        Faults::Default => "default",
        Faults::Heavy => "heavy",
    }
}

/// Asks a worker to judge seed `k` of a hunt of `link`.
pub fn judge_request(hunt: u64, k: u64, faults: Faults, until_us: u64, link: &str) -> String {
    let faults = faults_name(faults);
    format!("judge {hunt} {k} {faults} {until_us}\n{link}")
}

/// Asks a worker to shrink seed `k`'s run, which broke `property`.
pub fn shrink_request(
    hunt: u64,
    k: u64,
    faults: Faults,
    until_us: u64,
    property: &str,
    link: &str,
) -> String {
    let faults = faults_name(faults);
    format!("shrink {hunt} {k} {faults} {until_us} {property}\n{link}")
}

/// A worker's answer to a `judge` or `shrink` line; `None` for any other line (the job
/// worker's other requests), or one whose hunt number does not read.
pub fn answer(line: &str) -> Option<String> {
    let (head, link) = line.split_once('\n')?;
    let mut words = head.split(' ');
    let word = words.next().filter(|w| ["judge", "shrink"].contains(w))?;
    let hunt: u64 = words.next()?.parse().ok()?;
    let asked = (|| {
        let k: u64 = words.next().and_then(|k| k.parse().ok()).ok_or("no seed")?;
        let faults: Faults = words.next().unwrap_or_default().parse()?;
        let until_us: u64 = words
            .next()
            .and_then(|t| t.parse().ok())
            .ok_or("no horizon")?;
        let base = link::decode(link).map_err(|e| e.to_string())?;
        let run = sweep::faulty_run(&base, k, faults, until_us);
        if word == "shrink" {
            let property = words.next().ok_or("no property")?;
            let v = sweep::violation(run.seed, &run, property, until_us);
            let (at, before, after) = (v.at_us, v.script_before, v.script_after);
            return Ok(format!("shrunk {hunt} {at} {before} {after}\n{}", v.link));
        }
        let j = sweep::judge(&run, sweep::heal_at_us(until_us), until_us)?;
        let (property, at_us) = j.broken.unwrap_or(("-".into(), 0));
        Ok(format!("judged {hunt} {k} {} {at_us} {property}", j.events))
    })();
    Some(asked.unwrap_or_else(|e: String| format!("error {hunt} {e}")))
}

/// What a worker said, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Judged {
        k: u64,
        events: u64,
        broke: Option<(String, u64)>,
    },
    Shrunk {
        at_us: u64,
        before: usize,
        after: usize,
        link: String,
    },
    Error(String),
}

/// Reads a worker's line: its hunt and what it says; `None` for a line of another kind.
pub fn read_answer(line: &str) -> Option<(u64, Answer)> {
    let (head, link) = line.split_once('\n').unwrap_or((line, ""));
    let (word, rest) = head.split_once(' ')?;
    let (hunt, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let hunt: u64 = hunt.parse().ok()?;
    let mut n = rest.split(' ');
    let mut num = || n.next().and_then(|x| x.parse::<u64>().ok());
    let answer = match word {
        "judged" => {
            let (k, events, at_us) = (num()?, num()?, num()?);
            let property = rest.split(' ').nth(3)?;
            let broke = (property != "-").then(|| (property.to_string(), at_us));
            Answer::Judged { k, events, broke }
        }
        "shrunk" => Answer::Shrunk {
            at_us: num()?,
            before: num()? as usize,
            after: num()? as usize,
            link: link.to_string(),
        },
        "error" => Answer::Error(rest.to_string()),
        _ => return None,
    };
    Some((hunt, answer))
}
