//! Scrubbing: a run with keyframes, so seeking anywhere is exact and quick.
//!
//! As the run advances, a clone of the world is kept at regular virtual intervals. Seeking back
//! restores the nearest earlier keyframe and replays to the target, which gives exactly the
//! state a fresh run to that instant would have (a property test checks it). Acting in the past
//! truncates the script after that instant, records the new command there, and drops the
//! keyframes beyond it: a branch, so the link stays true. Keyframes are thinned as a run grows,
//! so memory stays bounded however long a class plays.

use super::command::Command;
use super::process::Protocol;
use super::time::Instant;
use super::world::{StepInfo, World};

/// The most keyframes kept; past this, every other one is dropped and the interval doubles.
pub const MAX_KEYFRAMES: usize = 96;
/// The first keyframe interval (1 s of virtual time).
pub const FIRST_INTERVAL_US: u64 = 1_000_000;
/// A keyframe also waits for this many events since the last one, so busy runs do not spend
/// their time cloning worlds while a seek still replays a bounded amount.
pub const MIN_EVENTS_BETWEEN: u64 = 50_000;

/// A world, its script and its keyframes.
#[derive(Clone, Debug)]
pub struct Run<P: Protocol> {
    world: World<P>,
    script: Vec<Command>,
    /// Sorted by time; the first is the world at time zero and is never dropped.
    keyframes: Vec<World<P>>,
    interval_us: u64,
    /// The furthest time this run has reached (the end of the scrub bar).
    horizon_us: u64,
    /// The last grid point passed without taking a keyframe.
    skip_to_us: u64,
}

impl<P: Protocol> Run<P> {
    pub fn new(world: World<P>, script: Vec<Command>) -> Self {
        Run {
            keyframes: vec![world.clone()],
            world,
            script,
            interval_us: FIRST_INTERVAL_US,
            horizon_us: 0,
            skip_to_us: 0,
        }
    }

    pub fn world(&self) -> &World<P> {
        &self.world
    }
    pub fn script(&self) -> &[Command] {
        &self.script
    }
    pub fn now(&self) -> Instant {
        self.world.now()
    }
    pub fn horizon(&self) -> Instant {
        Instant(self.horizon_us.max(self.world.now().0))
    }
    pub fn keyframe_count(&self) -> usize {
        self.keyframes.len()
    }

    fn last_keyframe_us(&self) -> u64 {
        self.keyframes.last().map_or(0, |k| k.now().0)
    }

    /// Runs forward to `t`, keeping keyframes on the way. Returns true if a property was violated.
    pub fn run_until(&mut self, t: Instant) -> bool {
        let mut violated = false;
        loop {
            let from = self.last_keyframe_us().max(self.skip_to_us);
            let next_kf = (from / self.interval_us + 1) * self.interval_us;
            if next_kf > t.0 {
                break;
            }
            violated |= self.world.run_until(Instant(next_kf), &self.script);
            let events_since = self
                .world
                .counters()
                .events
                .saturating_sub(self.keyframes.last().map_or(0, |k| k.counters().events));
            if self.world.now().0 > self.last_keyframe_us() && events_since >= MIN_EVENTS_BETWEEN {
                self.push_keyframe();
            } else if events_since < MIN_EVENTS_BETWEEN {
                // Quiet stretch: no keyframe at this grid point; look at the next one.
                self.skip_to_us = next_kf;
            }
        }
        violated |= self.world.run_until(t, &self.script);
        self.horizon_us = self.horizon_us.max(self.world.now().0);
        violated
    }

    fn push_keyframe(&mut self) {
        self.keyframes.push(self.world.clone());
        if self.keyframes.len() > MAX_KEYFRAMES {
            self.interval_us *= 2;
            let interval = self.interval_us;
            let mut i = 0;
            self.keyframes.retain(|k| {
                i += 1;
                i == 1 || k.now().0 % interval == 0
            });
        }
    }

    /// Processes one event or command (keyframes kept as time passes).
    pub fn step(&mut self) -> Option<StepInfo> {
        let due = self.world.next_due_us(&self.script)?;
        // Take any keyframe the step would pass, so keyframes stay on their grid.
        if due > self.world.now().0 {
            self.run_until(Instant(due.saturating_sub(1)).max(self.world.now()));
        }
        let info = self.world.step(&self.script);
        self.horizon_us = self.horizon_us.max(self.world.now().0);
        info
    }

    /// Moves to exactly the state of a fresh run to `t`.
    pub fn seek(&mut self, t: Instant) {
        if t < self.world.now() {
            let k = self
                .keyframes
                .iter()
                .rposition(|k| k.now() <= t)
                .unwrap_or(0);
            self.world = self.keyframes[k].clone();
        }
        self.run_until(t);
    }

    /// Records `cmd` at the current instant, truncating any later script (a branch) and
    /// applying it now.
    pub fn act(&mut self, action: super::command::Action) -> bool {
        let t = self.world.now();
        self.script.retain(|c| c.at_us <= t.0);
        self.keyframes.retain(|k| k.now() <= t);
        self.skip_to_us = self.skip_to_us.min(t.0);
        self.horizon_us = t.0;
        self.script.push(Command::new(t.0, action));
        self.run_until(t)
    }

    /// Replaces the script (a loaded link) and seeks back to `t` from the start.
    pub fn reset_to(&mut self, t: Instant) {
        self.keyframes.truncate(1);
        self.interval_us = FIRST_INTERVAL_US;
        self.world = self.keyframes[0].clone();
        self.horizon_us = 0;
        self.skip_to_us = 0;
        self.run_until(t);
    }
}
