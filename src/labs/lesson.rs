//! Guided lessons: a lab's scenario with steps, kept as data in the lab's folder
//! (`src/labs/<lab>/lessons.rs`) and listed from its registry entry ([`super::Lab::lessons`]).
//!
//! Each step has a caption (plain text), an optional highlight, and either plays the run on
//! until something happens ([`Until`]) or asks the learner to predict what will happen
//! ([`Ask`]), whose answer the run then shows by playing on until its `reveal`. Every step
//! ends when its condition holds, so playing a lesson is deterministic: `tests/lessons.rs`
//! checks every condition is reached within the lesson's run, so captions are true of it.

use super::Sim;
use crate::sim::time::Instant;

/// A guided walk through one scenario.
#[derive(Debug)]
pub struct Lesson {
    /// Its link key (`lesson=<id>`), unique within its lab.
    pub id: &'static str,
    pub title: &'static str,
    /// One line, for the gallery.
    pub description: &'static str,
    /// The scenario the lesson plays (one of the lab's links, often a preset's).
    pub link: &'static str,
    /// How long its run lasts at most, in microseconds: every step ends before.
    pub length_us: u64,
    pub steps: &'static [Step],
}

/// One step of a lesson.
#[derive(Debug)]
pub struct Step {
    /// Plain text, shown as text (never as HTML).
    pub caption: &'static str,
    pub highlight: Highlight,
    pub then: Then,
}

/// What a step points at.
#[derive(Debug)]
pub enum Highlight {
    None,
    /// These nodes (by id).
    Nodes(&'static [u32]),
    /// Messages of this kind (a legend name).
    Kind(&'static str),
    /// A panel or stage, by its title or stage id.
    Panel(&'static str),
}

/// How a step ends.
#[derive(Debug)]
pub enum Then {
    /// The run plays on until this happens.
    Play(Until),
    /// The run waits for a prediction, then plays on to show the answer.
    Ask(Ask),
}

/// A prediction question.
#[derive(Debug)]
pub struct Ask {
    pub question: &'static str,
    pub choices: &'static [&'static str],
    /// The index of the right choice.
    pub answer: usize,
    /// What the run shows, said once it has been shown.
    pub shows: &'static str,
    /// Played on to after the answer: reaching it shows the right choice is right.
    pub reveal: Until,
}

/// A condition a run reaches.
#[derive(Debug)]
pub enum Until {
    /// Virtual time, in microseconds.
    At(u64),
    /// A record of this kind (`send`, `note`, `crash`, `complete`, ...) whose text contains
    /// `text` (a message kind, a note).
    Event {
        what: &'static str,
        text: &'static str,
    },
    /// A figure of the run ([`super::Metric`] key) at least (`above`) or at most this value.
    Metric {
        key: &'static str,
        above: bool,
        value: f64,
    },
    /// A condition of the lab's own, named for people ("a leader is elected").
    Cond {
        name: &'static str,
        holds: fn(&dyn Sim) -> bool,
    },
}

impl Step {
    /// What ends the step.
    pub fn until(&self) -> &Until {
        match &self.then {
            Then::Play(u) => u,
            Then::Ask(a) => &a.reveal,
        }
    }
}

/// How far [`play`] looks ahead between checks of a figure or a lab's condition.
const SLICE_US: u64 = 10_000;

/// Plays `sim` on until `until` holds or the time `end` (µs) passes; true if it holds.
pub fn play(sim: &mut dyn Sim, until: &Until, end: u64) -> bool {
    match until {
        Until::At(t) => {
            sim.run_until(Instant((*t).min(end)));
            *t <= end
        }
        Until::Event { what, text } => {
            let mut seq = sim.records().last().map_or(0, |r| r.seq + 1);
            loop {
                if sim.next_due().is_none_or(|t| t.0 > end) || sim.step().is_none() {
                    return false;
                }
                for r in sim.records_since(seq) {
                    seq = r.seq + 1;
                    if r.what == *what && r.text.contains(text) {
                        return true;
                    }
                }
            }
        }
        _ => loop {
            if holds(sim, until) {
                return true;
            }
            let now = sim.now().0;
            if now >= end {
                return false;
            }
            sim.run_until(Instant((now + SLICE_US).min(end)));
        },
    }
}

/// Whether a figure or a lab's condition holds now (a time or an event: whether it passed).
pub fn holds(sim: &dyn Sim, until: &Until) -> bool {
    match until {
        Until::At(t) => sim.now().0 >= *t,
        Until::Event { .. } => false,
        Until::Metric { key, above, value } => {
            metric(sim, key).is_some_and(|v| if *above { v >= *value } else { v <= *value })
        }
        Until::Cond { holds, .. } => holds(sim),
    }
}

/// A lesson of a lab, by its id, or a message naming the ones it has.
pub fn find(lab: &super::Lab, id: &str) -> Result<&'static Lesson, String> {
    lab.lessons.iter().find(|l| l.id == id).ok_or_else(|| {
        let ids: Vec<&str> = lab.lessons.iter().map(|l| l.id).collect();
        match ids.is_empty() {
            true => format!("the {} lab has no lessons", lab.id),
            false => format!(
                "the {} lab has no lesson '{}'; its lessons are {}",
                lab.id,
                super::clip(id),
                ids.join(", ")
            ),
        }
    })
}

/// A figure of the run now, by its key.
pub fn metric(sim: &dyn Sim, key: &str) -> Option<f64> {
    sim.metrics().iter().find(|m| m.key == key).map(|m| m.value)
}
