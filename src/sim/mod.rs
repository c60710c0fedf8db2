//! The deterministic simulation engine.
//!
//! A run is a function of (protocol configuration, world configuration, seed, script). Time is
//! virtual ([`time`]), randomness comes from named streams of one seeded generator ([`rng`]),
//! the network is data ([`net`]), clients retry and arrive as [`client`] says, protocols
//! are pure state machines ([`process`]), the world
//! runs them ([`world`]), interventions are commands ([`command`]), every happening is a trace
//! record with a stable hash ([`trace`]) whose events carry Lamport and vector clocks at any
//! cursor ([`clocks`]), labs declare properties checked as the run goes
//! ([`property`]), and [`keyframe`] makes seeking back in time cheap and exact, with
//! [`chunked`] vectors that keyframes share instead of copying. A run either moves on or
//! says why it cannot ([`world::INSTANT_EVENT_BUDGET`]).

pub mod chunked;
pub mod client;
pub mod clocks;
pub mod command;
pub mod keyframe;
pub mod net;
pub mod order;
pub mod process;
pub mod property;
pub mod queue;
pub mod rng;
pub mod small_map;
pub mod time;
pub mod trace;
pub mod world;

pub use command::{Action, Command};
pub use keyframe::Run;
pub use net::{Dist, Endpoint, LinkParams, NetSetting};
pub use process::{ClientRequest, Ctx, Effect, MessageInfo, NodeId, Out, Protocol, ReplyClass};
pub use property::{PropKind, PropState, Property, Verdict};
pub use rng::{Rng, Stream};
pub use time::{Duration, Instant};
pub use trace::{Counters, DropReason, OutcomeKind, Record, RecordKind, Trace};
pub use world::{Flight, HistoryOp, StepInfo, Wire, WireOf, World, WorldConfig};
