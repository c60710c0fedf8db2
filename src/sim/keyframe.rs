//! Scrubbing: a run with keyframes, so seeking anywhere is exact and quick.
//!
//! A keyframe is a snapshot of the world ([`World::snapshot`]). Seeking restores the latest
//! keyframe at or before the target (forwards too, when that one lies ahead of the cursor) and
//! replays to the target, which gives exactly the state a fresh run to that instant would have
//! (a property test checks it). Acting in the past truncates the script after that instant,
//! records the new command there, and drops the keyframes beyond it: a branch, so the link stays
//! true.
//!
//! Keyframes are spaced by *events*, not by virtual time, because replay costs events: a busy
//! stretch and a quiet one cost the same to cross. Two sets are kept:
//!
//! - the **spine**, at least [`SPINE_SPACING_EVENTS`] apart, at most [`SPINE_KEYFRAMES`] of
//!   them: when it is full every other one is dropped and the spacing doubles, so a run of any
//!   length keeps a bounded number, evenly spread, and a seek anywhere replays at most two
//!   spacings;
//! - **local** keyframes, every [`LOCAL_SPACING_EVENTS`] along whatever was last run or
//!   replayed, the newest [`LOCAL_KEYFRAMES`] of them: scrubbing back and forth near the cursor
//!   or the live edge replays only a few thousand events.
//!
//! A snapshot leaves out the trace window (about half of a world's size). After a replay from
//! a keyframe the window holds the records made since; when that is fewer than a fresh run would
//! hold, the seek starts again from an earlier keyframe, so the window is always exact.
//! Memory is therefore bounded by the number of keyframes times a world without its window,
//! whatever the length of the run (plus what the protocol's own state grows by, such as a
//! Raft log, whose full chunks all keyframes share).

use super::command::Command;
use super::process::Protocol;
use super::time::Instant;
use super::world::{Core, StepInfo, World};
use std::any::Any;
use std::marker::PhantomData;

/// The most spine keyframes kept (the first, at time zero, included).
pub const SPINE_KEYFRAMES: usize = 48;
/// The first spacing of the spine, in events; it doubles each time the spine fills.
pub const SPINE_SPACING_EVENTS: u64 = 25_000;
/// The spacing of local keyframes, in events.
pub const LOCAL_SPACING_EVENTS: u64 = 6_000;
/// The most local keyframes kept (the newest).
pub const LOCAL_KEYFRAMES: usize = 10;
/// The most keyframes a run holds at once.
pub const MAX_KEYFRAMES: usize = SPINE_KEYFRAMES + LOCAL_KEYFRAMES;

/// What keyframing needs of a world, whatever its protocol. Object safe, so that the
/// keyframe and replay machinery below is compiled once for every lab, not once per protocol.
pub trait Replayable: Any {
    fn now(&self) -> Instant;
    /// Events handled so far: keyframes are spaced by them.
    fn events(&self) -> u64;
    /// A keyframe of this world ([`World::snapshot`]).
    fn snapshot(&self) -> Box<dyn Replayable>;
    /// A whole copy: a keyframe restored.
    fn restore(&self) -> Box<dyn Replayable>;
    fn step(&mut self, script: &[Command]) -> Option<StepInfo>;
    fn run_until_within(&mut self, t: Instant, script: &[Command], max: u64) -> (bool, bool);
    fn window_is_complete(&self) -> bool;
    /// Keeps no logical clocks from here on ([`super::trace::Trace::forget_clocks`]).
    fn forget_clocks(&mut self);
    /// The part of the world that does not depend on the protocol.
    fn core(&self) -> &Core;
    fn as_any(&self) -> &dyn Any;
}

impl<P: Protocol> Replayable for World<P> {
    fn now(&self) -> Instant {
        Core::now(self)
    }
    fn events(&self) -> u64 {
        Core::counters(self).events
    }
    fn snapshot(&self) -> Box<dyn Replayable> {
        Box::new(World::snapshot(self))
    }
    fn restore(&self) -> Box<dyn Replayable> {
        Box::new(self.clone())
    }
    fn step(&mut self, script: &[Command]) -> Option<StepInfo> {
        World::step(self, script)
    }
    fn run_until_within(&mut self, t: Instant, script: &[Command], max: u64) -> (bool, bool) {
        World::run_until_within(self, t, script, max)
    }
    fn window_is_complete(&self) -> bool {
        self.trace.window_is_complete()
    }
    fn forget_clocks(&mut self) {
        self.trace.forget_clocks();
    }
    fn core(&self) -> &Core {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A world of protocol `P`, its script and its keyframes.
pub struct Run<P: Protocol> {
    replay: Replay,
    protocol: PhantomData<P>,
}

impl<P: Protocol> Run<P> {
    pub fn new(world: World<P>, script: Vec<Command>) -> Self {
        Run {
            replay: Replay::new(Box::new(world), script),
            protocol: PhantomData,
        }
    }

    pub fn world(&self) -> &World<P> {
        // `new` is the only way in, and it takes a `World<P>`; keyframes are copies of it.
        self.replay
            .world
            .as_any()
            .downcast_ref()
            .expect("a run's world is of its own protocol")
    }
}

impl<P: Protocol> std::ops::Deref for Run<P> {
    type Target = Replay;
    fn deref(&self) -> &Replay {
        &self.replay
    }
}

impl<P: Protocol> std::ops::DerefMut for Run<P> {
    fn deref_mut(&mut self) -> &mut Replay {
        &mut self.replay
    }
}

/// The keyframes and replay of a run, whatever its protocol.
pub struct Replay {
    world: Box<dyn Replayable>,
    script: Vec<Command>,
    /// Sorted by time; the first is the world at time zero and is never dropped.
    spine: Vec<Box<dyn Replayable>>,
    spine_spacing_events: u64,
    /// The newest local keyframes, oldest first (not sorted by time: seeks jump about).
    local: Vec<Box<dyn Replayable>>,
    /// The furthest time this run has reached (the end of the scrub bar).
    horizon_us: u64,
    /// The event count at which a keyframe may next be due ([`Replay::plan_keyframe`]).
    keyframe_due_events: u64,
}

impl Replay {
    fn new(world: Box<dyn Replayable>, script: Vec<Command>) -> Self {
        let mut run = Replay {
            spine: vec![world.snapshot()],
            world,
            script,
            spine_spacing_events: SPINE_SPACING_EVENTS,
            local: Vec::new(),
            horizon_us: 0,
            keyframe_due_events: 0,
        };
        run.plan_keyframe();
        run
    }

    pub fn script(&self) -> &[Command] {
        &self.script
    }
    /// The part of the world that does not depend on the protocol.
    pub fn core(&self) -> &Core {
        self.world.core()
    }
    pub fn now(&self) -> Instant {
        self.world.now()
    }
    pub fn horizon(&self) -> Instant {
        Instant(self.horizon_us.max(self.world.now().0))
    }
    pub fn keyframe_count(&self) -> usize {
        self.spine.len() + self.local.len()
    }
    /// The instants and event counts of the spine's keyframes, oldest first.
    pub fn keyframe_marks(&self) -> Vec<(u64, u64)> {
        self.spine.iter().map(|k| (k.now().0, k.events())).collect()
    }

    /// Events since the newest keyframe at or before the world's position (of the spine alone,
    /// or of either set).
    fn events_since_keyframe(&self, spine_only: bool) -> u64 {
        let now = self.world.events();
        let latest = |ks: &[Box<dyn Replayable>]| {
            ks.iter()
                .map(|k| k.events())
                .filter(|e| *e <= now)
                .max()
                .unwrap_or(0)
        };
        let mut last = latest(&self.spine);
        if !spine_only {
            last = last.max(latest(&self.local));
        }
        now - last
    }

    /// Whether the world has gone past the spine's last keyframe (the spine grows only there).
    fn beyond_spine(&self) -> bool {
        self.spine
            .last()
            .is_none_or(|k| k.events() < self.world.events())
    }

    /// Runs forward to `t`, keeping keyframes on the way. Returns true if a property was violated.
    pub fn run_until(&mut self, t: Instant) -> bool {
        self.run_until_within(t, u64::MAX).1
    }

    /// Runs forward to `t`, but at most `max_events` events. Returns whether it got there (or
    /// could go no further, a stalled run) and whether a property was violated on the way.
    pub fn run_until_within(&mut self, t: Instant, max_events: u64) -> (bool, bool) {
        let start = self.world.events();
        let mut violated = false;
        let reached = loop {
            let now = self.world.events();
            let used = now - start;
            if used >= max_events {
                break false;
            }
            if now >= self.keyframe_due_events {
                self.keep_keyframe();
            }
            let chunk = (self.keyframe_due_events - now)
                .min(max_events - used)
                .max(1);
            let (reached, v) = self.world.run_until_within(t, &self.script, chunk);
            violated |= v;
            if reached {
                break true;
            }
        };
        self.horizon_us = self.horizon_us.max(self.world.now().0);
        (reached, violated)
    }

    /// Works out when the next keyframe is due: the spine's spacing past its last keyframe (only
    /// beyond the spine's end), or the local spacing past the newest keyframe behind the world.
    fn plan_keyframe(&mut self) {
        let spine_due = if self.beyond_spine() {
            self.spine_spacing_events
                .saturating_sub(self.events_since_keyframe(true))
        } else {
            u64::MAX
        };
        let local_due = LOCAL_SPACING_EVENTS.saturating_sub(self.events_since_keyframe(false));
        self.keyframe_due_events = self
            .world
            .events()
            .saturating_add(spine_due.min(local_due))
            .max(self.world.events() + 1);
    }

    /// Keeps a keyframe of the world as it stands: on the spine when the spine's spacing has
    /// passed and the world is beyond the spine's end, else as a local one.
    fn keep_keyframe(&mut self) {
        if self.beyond_spine() && self.events_since_keyframe(true) >= self.spine_spacing_events {
            self.spine.push(self.world.snapshot());
            if self.spine.len() > SPINE_KEYFRAMES {
                self.spine_spacing_events *= 2;
                let mut i = 0;
                self.spine.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
            }
        } else if self.events_since_keyframe(false) >= LOCAL_SPACING_EVENTS {
            if self.local.len() >= LOCAL_KEYFRAMES {
                self.local.remove(0);
            }
            self.local.push(self.world.snapshot());
        }
        self.plan_keyframe();
    }

    /// Processes one event or command (keyframes kept as time passes).
    pub fn step(&mut self) -> Option<StepInfo> {
        // A run played event by event (the page's frames) keeps keyframes like any other.
        if self.world.events() >= self.keyframe_due_events {
            self.keep_keyframe();
        }
        let info = self.world.step(&self.script);
        self.horizon_us = self.horizon_us.max(self.world.now().0);
        info
    }

    /// The latest keyframe at or before `t` whose event count is below `below_events`.
    fn keyframe_before(&self, t: Instant, below_events: u64) -> Option<&dyn Replayable> {
        self.spine
            .iter()
            .chain(&self.local)
            .filter(|k| k.now() <= t && k.events() < below_events)
            .max_by_key(|k| k.events())
            .map(|k| &**k)
    }

    /// Moves to exactly the state of a fresh run to `t`.
    pub fn seek(&mut self, t: Instant) {
        let here = self.world.events();
        let mut below = u64::MAX;
        while let Some(k) = self.keyframe_before(t, below) {
            // Only restore a keyframe that saves replay: one behind the target while the world
            // is past it, or one ahead of the world.
            let restore = t < self.world.now() || k.events() > here || below != u64::MAX;
            if !restore {
                break;
            }
            let from = k.events();
            self.world = k.restore();
            self.plan_keyframe();
            self.run_until(t);
            if self.world.window_is_complete() {
                return;
            }
            // The keyframe was too close to the target to refill the trace window.
            below = from;
        }
        self.run_until(t);
    }

    /// Records `cmd` at the current instant, truncating any later script (a branch) and
    /// applying it now.
    pub fn act(&mut self, action: super::command::Action) -> bool {
        let t = self.world.now();
        self.script.retain(|c| c.at_us <= t.0);
        self.spine.retain(|k| k.now() <= t);
        self.local.retain(|k| k.now() <= t);
        self.horizon_us = t.0;
        self.script.push(Command::new(t.0, action));
        self.plan_keyframe();
        self.run_until(t)
    }

    /// Keeps no logical clocks, in the world or its keyframes: for runs that never show their
    /// diagram (sweeps, hunts), which the clocks would slow by a tenth or more.
    pub fn forget_clocks(&mut self) {
        self.world.forget_clocks();
        for k in self.spine.iter_mut().chain(&mut self.local) {
            k.forget_clocks();
        }
    }

    /// Replaces the script (a loaded link) and seeks back to `t` from the start.
    pub fn reset_to(&mut self, t: Instant) {
        self.spine.truncate(1);
        self.local.clear();
        self.spine_spacing_events = SPINE_SPACING_EVENTS;
        self.world = self.spine[0].restore();
        self.horizon_us = 0;
        self.plan_keyframe();
        self.run_until(t);
    }
}
