//! Queue mode's experiments. Each trial is a run of the lab (an ordinary link, which opens the
//! trial in the page), run until every message has settled.
//!
//! - `delivery`: one producer, one consumer, a lossy network: what each delivery semantics
//!   loses and duplicates.
//! - `outbox`: the producer crashes in the middle of some of its dual writes (after the state
//!   write began, before both the commit and the send are done): without the outbox some
//!   committed messages are lost and some rolled-back ones are sent anyway; with it, none.

use super::queue::{tally, Role, Tally};
use crate::labs::experiment::{
    report_json, trial_seed, AxisScale, Chart, ExperimentSpec, Report, Series, SeriesStyle,
    TrialLink, Trials, Values, SEED_PARAM,
};
use crate::labs::{ParamKind, ParamSpec};
use crate::scenario::{link, Scenario, MAX_SCRIPT};
use crate::sim::command::{Action, Command};
use crate::sim::rng::{Rng, Stream};
use crate::sim::World;

const MESSAGES_PARAM: ParamSpec = ParamSpec {
    key: "messages",
    label: "Messages",
    help: "Messages the producer sends in each trial",
    // Each trial is a link of the lab, within its ranges.
    kind: ParamKind::Int { min: 1, max: 1_000 },
    default: "200",
};

const TRIALS_PARAM: ParamSpec = ParamSpec {
    key: "trials",
    label: "Trials",
    help: "How many runs to add up",
    kind: ParamKind::Int { min: 1, max: 1_000 },
    default: "5",
};

const fn fraction(
    key: &'static str,
    label: &'static str,
    help: &'static str,
    max_ppm: u32,
) -> ParamSpec {
    ParamSpec {
        key,
        label,
        help,
        kind: ParamKind::Fraction {
            min_ppm: 0,
            max_ppm,
        },
        default: "0.1",
    }
}

pub static DELIVERY: ExperimentSpec = ExperimentSpec {
    id: "delivery",
    title: "Delivery semantics under loss",
    summary: "A producer sends messages through a broker to a consumer over a lossy network: \
              how many are lost, delivered twice, applied twice.",
    params: &[
        ParamSpec {
            key: "semantics",
            label: "Delivery",
            help: "When the consumer acknowledges, and whether it deduplicates",
            kind: ParamKind::Choice {
                options: super::queue::Semantics::NAMES,
            },
            default: "at-least-once",
        },
        // At-least-once retries until an ack gets through: a total loss would never end.
        fraction(
            "loss",
            "Loss",
            "The share of messages the network drops",
            900_000,
        ),
        MESSAGES_PARAM,
        TRIALS_PARAM,
        SEED_PARAM,
    ],
    lists: &[],
    start: start_delivery,
};

pub static OUTBOX: ExperimentSpec = ExperimentSpec {
    id: "outbox",
    title: "Crashes during the dual write",
    summary: "The producer crashes while writing its state and sending its message: without \
              the outbox committed messages are lost and rolled-back ones sent; with it, none.",
    params: &[
        fraction(
            "crash-rate",
            "Crash rate",
            "The share of messages during whose write the producer crashes",
            1_000_000,
        ),
        MESSAGES_PARAM,
        ParamSpec {
            key: "outbox",
            label: "Outbox",
            help: "on: state and message in one transaction; off: written and sent separately",
            kind: ParamKind::Choice {
                options: &["off", "on"],
            },
            default: "off",
        },
        TRIALS_PARAM,
        SEED_PARAM,
    ],
    lists: &[],
    start: start_outbox,
};

/// How long an injected crash keeps the producer down.
const DOWN_US: u64 = 100_000;

/// One trial: what the observer counted once every message settled, and its link.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub tally: Tally,
    pub crashes: u32,
    pub link: Option<String>,
}

struct Run {
    base: Scenario,
    seed: u64,
    trials: u32,
    crash_ppm: u32,
    done: Vec<Outcome>,
    /// The outbox experiment's setting; `None` for the delivery experiment.
    outbox: Option<bool>,
}

fn get<'a>(v: &'a Values, k: &str) -> &'a str {
    v.get(k).map(String::as_str).unwrap_or_default()
}

fn whole(v: &Values, k: &str) -> Result<u64, String> {
    get(v, k)
        .parse::<u64>()
        .map_err(|_| format!("'{k}' must be a whole number"))
}

fn ppm(v: &Values, k: &str) -> Result<u32, String> {
    crate::labs::parse_fraction_ppm(get(v, k))
        .ok_or_else(|| format!("'{k}' must be a fraction such as 0.1 or 10%"))
}

/// The lab's queue mode with these settings, one producer and one consumer.
fn base(params: &[(&str, &str)], loss_ppm: u32) -> Result<Scenario, String> {
    let mut s = Scenario::default_for(&super::LAB);
    s.n = 1;
    s.net.loss_ppm = loss_ppm;
    s.params.insert("mode".into(), "queue".into());
    for (k, v) in params {
        s.params.insert(k.to_string(), v.to_string());
    }
    s.validate().map_err(|e| e.0)?;
    Ok(s)
}

fn start_delivery(v: &Values) -> Result<Box<dyn Trials>, String> {
    let params = [
        ("semantics", get(v, "semantics")),
        ("messages", get(v, "messages")),
        ("every", "20ms"),
        ("workers", "8"),
        ("outbox", "on"),
    ];
    start(v, base(&params, ppm(v, "loss")?)?, 0, None)
}

fn start_outbox(v: &Values) -> Result<Box<dyn Trials>, String> {
    let params = [
        ("semantics", "exactly-once"),
        ("messages", get(v, "messages")),
        ("every", "50ms"),
        ("outbox", get(v, "outbox")),
    ];
    let outbox = get(v, "outbox") == "on";
    start(v, base(&params, 0)?, ppm(v, "crash-rate")?, Some(outbox))
}

fn start(
    v: &Values,
    base: Scenario,
    crash_ppm: u32,
    outbox: Option<bool>,
) -> Result<Box<dyn Trials>, String> {
    Ok(Box::new(Run {
        base,
        seed: whole(v, "seed")?,
        trials: whole(v, "trials")? as u32,
        crash_ppm,
        done: Vec::new(),
        outbox,
    }))
}

/// Runs a trial to the end: until nothing is left to do, or a generous cap. With `crash_ppm`,
/// each of the producer's transactions is, with that chance, cut by a crash at a moment drawn
/// within its processing time, and the producer restarts `DOWN_US` later.
pub fn run_trial(s: &Scenario, crash_ppm: u32) -> Result<Outcome, String> {
    let mut w: World<super::Flows> = super::world_unchecked(s)?;
    let q = w.proto.queue.clone().ok_or("not queue mode")?;
    let cap_us = q.every_us * q.messages as u64 + 600_000_000;
    let mut rng = Rng::new(s.seed, Stream::Faults);
    let (mut script, mut decided, mut crashes) = (Vec::new(), 0, 0);
    loop {
        let now = w.now().0;
        if let Some(Role::Producer(p)) = &w.state(1).role {
            match p.tx {
                Some(seq) if seq >= decided && w.is_up(1) => {
                    decided = seq + 1;
                    if rng.chance_ppm(crash_ppm) {
                        let at = now + rng.range_inclusive(0, q.work_max_us);
                        script.push(Command::new(at, Action::Crash { node: 1 }));
                        script.push(Command::new(at + DOWN_US, Action::Restart { node: 1 }));
                        crashes += 1;
                    }
                }
                _ => {}
            }
        }
        if now > cap_us || w.step(&script).is_none() {
            break;
        }
    }
    let mut trial = s.clone();
    trial.script = script;
    let fits = trial.script.len() <= MAX_SCRIPT;
    Ok(Outcome {
        tally: tally(&w),
        crashes,
        link: fits.then(|| link::encode(&trial)),
    })
}

impl Trials for Run {
    fn run(&mut self, k: u32) -> u32 {
        let start = self.done.len() as u32;
        let end = start.saturating_add(k).min(self.trials);
        for t in start..end {
            let mut s = self.base.clone();
            s.seed = trial_seed(self.seed, t);
            // The scenario was validated when the experiment started.
            if let Ok(o) = run_trial(&s, self.crash_ppm) {
                self.done.push(o);
            }
        }
        end - start
    }

    fn progress(&self) -> (u32, u32) {
        (self.done.len() as u32, self.trials)
    }

    fn report(&self) -> Report {
        let mut t = Tally::default();
        let mut crashes = 0;
        for o in &self.done {
            add(&mut t, &o.tally);
            crashes += o.crashes;
        }
        match self.outbox {
            Some(on) => outbox_report(self, on, &t, crashes),
            None => delivery_report(self, &t),
        }
    }
}

/// A figure of a trial's tally, with its name and palette colour.
type Figure = (&'static str, u8, fn(&Tally) -> u64);

impl Run {
    /// Each trial's figures, side by side.
    fn chart(&self, figures: &[Figure]) -> Chart {
        let series = figures
            .iter()
            .map(|(name, colour, f)| Series {
                name: (*name).into(),
                style: SeriesStyle::Dots,
                points: (self.done.iter().enumerate())
                    .map(|(i, o)| (i as f64, f(&o.tally) as f64))
                    .collect(),
                reference: false,
                colour: Some(*colour),
            })
            .collect();
        Chart {
            title: "Per trial".into(),
            x_label: "trial".into(),
            y_label: "messages".into(),
            x_scale: AxisScale::Linear,
            y_scale: AxisScale::Linear,
            series,
            caption: "Open a trial below to watch it.".into(),
            cursor_x: None,
        }
    }

    fn links(&self) -> Vec<TrialLink> {
        self.done
            .iter()
            .enumerate()
            .take(3)
            .filter_map(|(i, o)| {
                let t = &o.tally;
                Some(TrialLink {
                    label: format!(
                        "trial {i}: {} lost, {} duplicate effects, {} phantom",
                        t.lost, t.duplicate_effects, t.phantom
                    ),
                    link: o.link.clone()?,
                })
            })
            .collect()
    }
}

fn add(sum: &mut Tally, t: &Tally) {
    sum.sent += t.sent;
    sum.committed += t.committed;
    sum.delivered += t.delivered;
    sum.duplicate_deliveries += t.duplicate_deliveries;
    sum.processed += t.processed;
    sum.duplicate_effects += t.duplicate_effects;
    sum.lost += t.lost;
    sum.phantom += t.phantom;
}

fn delivery_report(r: &Run, t: &Tally) -> Report {
    let semantics = r.base.param("semantics").unwrap_or_default().to_string();
    let loss = crate::labs::fraction_text(r.base.net.loss_ppm);
    let summary = format!(
        "{semantics}, loss {loss}, {} trials: sent {}, processed_unique {}, lost {}, \
         duplicate_deliveries {}, duplicate_effects {}",
        r.done.len(),
        t.sent,
        t.processed,
        t.lost,
        t.duplicate_deliveries,
        t.duplicate_effects
    );
    Report {
        summary,
        tables: Vec::new(),
        links: r.links(),
        charts: vec![r.chart(&[
            ("lost", 5, |t| t.lost),
            ("duplicate deliveries", 4, |t| t.duplicate_deliveries),
            ("duplicate effects", 1, |t| t.duplicate_effects),
        ])],
        json: report_json(|| {
            serde_json::json!({
                "semantics": semantics,
                "loss": r.base.net.loss_ppm as f64 / 1e6,
                "trials": r.done.len(),
                "sent": t.sent,
                "processed_unique": t.processed,
                "lost": t.lost,
                "duplicate_deliveries": t.duplicate_deliveries,
                "duplicate_effects": t.duplicate_effects,
            })
        }),
    }
}

fn outbox_report(r: &Run, on: bool, t: &Tally, crashes: u32) -> Report {
    let outbox = if on { "on" } else { "off" };
    let summary = format!(
        "outbox {outbox}, crash rate {}, {} trials, {crashes} crashes: lost_messages {}, \
         phantom_messages {} (of {} committed)",
        crate::labs::fraction_text(r.crash_ppm),
        r.done.len(),
        t.lost,
        t.phantom,
        t.committed
    );
    Report {
        summary,
        tables: Vec::new(),
        links: r.links(),
        charts: vec![r.chart(&[("lost", 5, |t| t.lost), ("phantom", 3, |t| t.phantom)])],
        json: report_json(|| {
            serde_json::json!({
                "outbox": outbox,
                "crash_rate": r.crash_ppm as f64 / 1e6,
                "trials": r.done.len(),
                "crashes": crashes,
                "committed": t.committed,
                "sent": t.sent,
                "lost_messages": t.lost,
                "phantom_messages": t.phantom,
            })
        }),
    }
}
