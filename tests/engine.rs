//! The engine's promises: the network model's statistics, cuts, crashes, clients and scrubbing.

mod common;

use dsplay::sim::net::{Dist, LinkParams, Network};
use dsplay::sim::rng::{Rng, Stream};
use dsplay::sim::trace::{DropReason, RecordKind};
use dsplay::sim::{
    Action, ClientRequest, Command, Ctx, Duration, Instant, MessageInfo, NodeId, Out, Protocol,
    Run, World, WorldConfig,
};

/// A test protocol: every node broadcasts a numbered ping every 10 ms. `sent` is volatile;
/// `boots` is durable and counts restarts.
#[derive(Clone, Debug)]
struct Pinger;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Ping(u64);

impl MessageInfo for Ping {
    fn kind(&self) -> &'static str {
        "ping"
    }
    fn summary(&self) -> String {
        format!("ping {}", self.0)
    }
    fn size_bytes(&self) -> u32 {
        1000
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct PingState {
    sent: u64,
    received: u64,
    boots: u64,
}

impl Protocol for Pinger {
    type Msg = Ping;
    type Timer = ();
    type State = PingState;
    type Op = u64;
    type Reply = u64;

    fn init(&self, _id: NodeId, _n: u32) -> PingState {
        PingState::default()
    }
    fn on_start(&self, st: &mut PingState, _ctx: &Ctx, out: &mut Out<Self>) {
        st.boots += 1;
        out.set_timer((), Duration::from_ms(10), Duration::from_ms(10));
    }
    fn on_message(
        &self,
        st: &mut PingState,
        _ctx: &Ctx,
        _from: NodeId,
        _msg: Ping,
        _out: &mut Out<Self>,
    ) {
        st.received += 1;
    }
    fn on_timer(&self, st: &mut PingState, ctx: &Ctx, _t: (), out: &mut Out<Self>) {
        st.sent += 1;
        out.broadcast(ctx, Ping(st.sent));
        out.set_timer((), Duration::from_ms(10), Duration::from_ms(10));
    }
    fn on_client(
        &self,
        _st: &mut PingState,
        _ctx: &Ctx,
        req: ClientRequest<u64>,
        out: &mut Out<Self>,
    ) {
        out.reply(&req, req.op);
    }
    fn recover(&self, _id: NodeId, _n: u32, crashed: &PingState) -> PingState {
        PingState {
            boots: crashed.boots,
            ..PingState::default()
        }
    }
    fn parse_op(&self, text: &str) -> Result<u64, String> {
        text.parse().map_err(|_| "not a number".into())
    }
    fn timer_name(&self, _t: &()) -> &'static str {
        "tick"
    }
}

fn pinger_world(n: u32, seed: u64, net: LinkParams) -> World<Pinger> {
    let mut cfg = WorldConfig::new(n, seed);
    cfg.net = net;
    World::new(Pinger, cfg, vec![])
}

fn run(w: &mut World<Pinger>, script: &[Command], until_ms: u64) {
    w.run_until(Instant(until_ms * 1000), script);
}

/// Wilson-free check: `count` of `trials` is within 5 standard deviations of `p`.
fn assert_binomial(count: u64, trials: u64, p: f64, what: &str) {
    let mean = trials as f64 * p;
    let sd = (trials as f64 * p * (1.0 - p)).sqrt();
    let z = (count as f64 - mean) / sd;
    assert!(
        z.abs() < 5.0,
        "{what}: {count} of {trials}, expected about {mean:.0} (z = {z:.2})"
    );
}

// Loss and duplication happen at their configured rates (binomial confidence interval).
#[test]
fn loss_and_duplication_rates_match_their_probabilities() {
    let net = LinkParams {
        latency: Dist::uniform_ms(1, 5),
        loss_ppm: 50_000,
        dup_ppm: 20_000,
        ..LinkParams::default()
    };
    let mut w = pinger_world(4, 11, net);
    run(&mut w, &[], 30_000);
    let c = w.counters();
    assert!(c.sent > 30_000, "enough messages: {}", c.sent);
    let lost = w.trace.counters().dropped;
    assert_binomial(lost, c.sent, 0.05, "losses");
    assert_binomial(c.duplicated, c.sent - lost, 0.02, "duplicates");
}

// Latency samples match each distribution's mean within a confidence interval.
#[test]
fn latency_samples_match_their_distribution_means() {
    let dists = [
        Dist::Constant { us: 5_000 },
        Dist::Uniform {
            min_us: 20_000,
            max_us: 80_000,
        },
        Dist::Exponential { mean_us: 10_000 },
        Dist::Pareto {
            xm_us: 1_000,
            alpha: 3.0,
        },
        Dist::parse("mix(0.9122:pareto(235us,10),0.0878:exp(602us))").unwrap(),
        Dist::parse("75ms+exp(10ms)").unwrap(),
    ];
    for d in dists {
        let mut rng = Rng::new(5, Stream::Network);
        let k = 200_000;
        let samples: Vec<f64> = (0..k).map(|_| d.sample(&mut rng) as f64).collect();
        let mean = samples.iter().sum::<f64>() / k as f64;
        let var = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / k as f64;
        let se = (var / k as f64).sqrt().max(0.5);
        let expected = d.mean_us();
        // Rounding to whole microseconds shifts the mean by at most 0.5 us.
        assert!(
            (mean - expected).abs() < 5.0 * se + 0.5,
            "{}: mean {mean:.1}, expected {expected:.1}",
            d.to_text()
        );
    }
}

// A partition: no message is delivered across a cut, in either direction.
#[test]
fn no_message_crosses_a_cut() {
    let mut w = pinger_world(5, 3, LinkParams::default());
    let script = vec![
        Command::new(
            1_000_000,
            Action::Partition {
                groups: vec![vec![0, 1], vec![2, 3, 4]],
            },
        ),
        Command::new(3_000_000, Action::HealAll),
    ];
    let side = |e: u32| e < 2;
    let mut crossed_before = 0;
    let mut t = 0;
    while t < 4_000_000 {
        t += 100_000;
        w.run_until(Instant(t), &script);
        for r in w.trace.window() {
            if let RecordKind::Deliver { from, to, .. } = r.kind {
                let crosses = side(from) != side(to);
                if crosses && (1_000_000..=3_000_000).contains(&r.at_us) {
                    panic!(
                        "message {from}->{to} delivered across the cut at {}us",
                        r.at_us
                    );
                }
                if crosses && r.at_us < 1_000_000 {
                    crossed_before += 1;
                }
            }
        }
    }
    assert!(crossed_before > 0, "messages did cross before the cut");
    let cut_drops = w
        .trace
        .window()
        .iter()
        .filter(|r| {
            matches!(
                r.kind,
                RecordKind::Drop {
                    reason: DropReason::Cut,
                    ..
                }
            )
        })
        .count();
    assert!(cut_drops > 0 || w.counters().dropped > 0);
}

// A one-way cut blocks one direction only.
#[test]
fn a_one_way_cut_blocks_one_direction_only() {
    let mut w = pinger_world(2, 9, LinkParams::default());
    let script = vec![Command::new(
        0,
        Action::CutLink {
            from: 0,
            to: 1,
            both_ways: false,
        },
    )];
    run(&mut w, &script, 2_000);
    assert_eq!(w.state(1).received, 0, "0 -> 1 is cut");
    assert!(
        w.state(0).received > 150,
        "1 -> 0 still flows: {}",
        w.state(0).received
    );
}

// A crashed node sends nothing, receives nothing, and comes back with only its durable state.
#[test]
fn a_crashed_node_sends_nothing_and_loses_volatile_state() {
    let mut w = pinger_world(3, 4, LinkParams::default());
    let script = vec![
        Command::new(500_000, Action::Crash { node: 2 }),
        Command::new(1_500_000, Action::Restart { node: 2 }),
    ];
    run(&mut w, &script, 1_000);
    assert!(!w.is_up(2));
    let sends_while_down = w
        .trace
        .window()
        .iter()
        .filter(|r| r.at_us > 500_000)
        .filter(|r| {
            matches!(
                r.kind,
                RecordKind::Send { from: 2, .. } | RecordKind::Deliver { to: 2, .. }
            )
        })
        .count();
    assert_eq!(sends_while_down, 0);
    run(&mut w, &script, 1_500);
    assert!(w.is_up(2));
    assert_eq!(w.state(2).boots, 2, "durable count survives");
    assert_eq!(w.state(2).sent, 0, "volatile counter is gone");
}

// Bandwidth: back-to-back messages queue behind each other on a slow link.
#[test]
fn a_slow_link_queues_messages() {
    let mut net = Network::new(LinkParams {
        latency: Dist::Constant { us: 1_000 },
        loss_ppm: 0,
        dup_ppm: 0,
        bandwidth_bps: Some(100_000),
        ..LinkParams::default()
    });
    let mut rng = Rng::new(1, Stream::Network);
    // 1000 bytes at 100 kB/s = 10 ms each.
    let arrivals: Vec<_> = (0..3)
        .map(|_| net.route(0, 1, 0, (1000, "ping"), &mut rng))
        .collect();
    use dsplay::sim::net::Fate::Deliver;
    let times: Vec<u64> = arrivals
        .iter()
        .map(|f| {
            if let Deliver { at_us, .. } = f {
                *at_us
            } else {
                0
            }
        })
        .collect();
    assert_eq!(times, vec![11_000, 21_000, 31_000]);
}

// Client operations are invoked, answered and recorded with their times.
#[test]
fn client_operations_are_recorded_as_a_history() {
    let mut cfg = WorldConfig::new(2, 1);
    cfg.clients = 1;
    let mut w = World::new(Pinger, cfg, vec![]);
    let script = vec![
        Command::new(
            100_000,
            Action::ClientOp {
                client: 0,
                node: 1,
                op: "42".into(),
            },
        ),
        Command::new(100_000, Action::Crash { node: 0 }),
        Command::new(
            200_000,
            Action::ClientOp {
                client: 0,
                node: 0,
                op: "7".into(),
            },
        ),
    ];
    w.run_until(Instant(3_000_000), &script);
    let h: Vec<_> = w.history().iter().collect();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].op, 42);
    assert_eq!(h[0].reply, Some(42));
    assert!(h[0].complete_us.unwrap() > h[0].invoke_us);
    // Node 0 is down: the client times out and cannot know whether it took effect.
    assert_eq!(h[1].outcome, Some(dsplay::sim::OutcomeKind::Unknown));
    // It waited for the first to finish (one operation at a time per client), then timed out.
    assert!(h[1].invoke_us >= h[0].complete_us.unwrap());
    assert_eq!(h[1].complete_us, Some(h[1].invoke_us + 1_000_000));
}

// Latency by message kind, and a node's link to itself: instant unless it has parameters.
#[test]
fn latency_can_differ_by_message_kind_and_a_self_link_can_have_one() {
    use dsplay::sim::net::Fate;
    let mut p = LinkParams {
        latency: Dist::Constant { us: 1_000 },
        ..LinkParams::default()
    };
    p.by_kind
        .insert("write".into(), Dist::Constant { us: 7_000 });
    let mut net = Network::new(p.clone());
    let mut rng = Rng::new(1, Stream::Network);
    let at = |f: Fate| match f {
        Fate::Deliver { at_us, .. } => at_us,
        other => panic!("{other:?}"),
    };
    assert_eq!(at(net.route(0, 1, 0, (64, "write"), &mut rng)), 7_000);
    assert_eq!(at(net.route(0, 1, 0, (64, "ack"), &mut rng)), 1_000);
    assert_eq!(at(net.route(2, 2, 0, (64, "write"), &mut rng)), 0);
    net.overrides.insert((2, 2), p);
    assert_eq!(at(net.route(2, 2, 0, (64, "write"), &mut rng)), 7_000);
}

// The event queue: equal times pop in the order they were scheduled.
#[test]
fn equal_times_pop_in_scheduling_order() {
    let mut w = pinger_world(
        4,
        2,
        LinkParams {
            latency: Dist::Constant { us: 1000 },
            ..LinkParams::default()
        },
    );
    run(&mut w, &[], 15);
    // All four nodes tick at 10 ms exactly: their timer records are in node order.
    let ticks: Vec<u32> = w
        .trace
        .window()
        .iter()
        .filter_map(|r| {
            if let RecordKind::Timer { node, .. } = r.kind {
                Some(node)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(ticks, vec![0, 1, 2, 3]);
}

// Dropping one given message in flight.
#[test]
fn a_message_can_be_dropped_in_flight() {
    let mut w = pinger_world(
        2,
        2,
        LinkParams {
            latency: Dist::Constant { us: 5_000 },
            ..LinkParams::default()
        },
    );
    run(&mut w, &[], 11);
    let id = w.flights().next().expect("a ping in flight").id;
    let script = vec![Command::new(11_000, Action::DropMessage { id })];
    w.run_until(Instant(20_000), &script);
    let dropped = w.trace.window().iter().any(|r| {
        matches!(r.kind, RecordKind::Drop { msg, reason: DropReason::Intervention, .. } if msg == id)
    });
    let delivered = w
        .trace
        .window()
        .iter()
        .any(|r| matches!(r.kind, RecordKind::Deliver { msg, .. } if msg == id));
    assert!(dropped && !delivered);
}

mod seek {
    use super::*;
    use proptest::prelude::*;

    fn make() -> Run<Pinger> {
        let net = LinkParams {
            latency: Dist::uniform_ms(1, 30),
            loss_ppm: 20_000,
            dup_ppm: 10_000,
            ..LinkParams::default()
        };
        let script = vec![
            Command::new(700_000, Action::Crash { node: 1 }),
            Command::new(
                1_300_000,
                Action::Partition {
                    groups: vec![vec![0], vec![1, 2]],
                },
            ),
            Command::new(2_100_000, Action::Restart { node: 1 }),
            Command::new(3_500_000, Action::HealAll),
        ];
        Run::new(pinger_world(3, 21, net), script)
    }

    fn fingerprint(r: &Run<Pinger>) -> (u64, u64, Vec<PingState>, Vec<bool>) {
        let w = r.world();
        (
            w.now().0,
            w.trace_hash(),
            w.nodes.iter().map(|n| n.state.clone()).collect(),
            w.nodes.iter().map(|n| n.up).collect(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        // Scrubbing: seeking anywhere, from anywhere, gives exactly a fresh run to that instant.
        #[test]
        fn seek_equals_a_fresh_run(first in 0u64..6_000_000, target in 0u64..6_000_000) {
            let mut r = make();
            r.run_until(Instant(first));
            r.seek(Instant(target));
            let mut fresh = make();
            fresh.run_until(Instant(target));
            prop_assert_eq!(fingerprint(&r), fingerprint(&fresh));
        }
    }

    // Acting in the past branches: the later script is dropped and the link stays true.
    #[test]
    fn acting_after_scrubbing_back_branches_the_script() {
        let mut r = make();
        r.run_until(Instant(5_000_000));
        r.seek(Instant(1_000_000));
        r.act(Action::Crash { node: 2 });
        assert_eq!(
            r.script().len(),
            2,
            "commands after 1 s are gone, the new one is recorded"
        );
        r.run_until(Instant(4_000_000));
        let mut replay = Run::new(make().world().clone(), r.script().to_vec());
        replay.run_until(Instant(4_000_000));
        assert_eq!(fingerprint(&r), fingerprint(&replay));
    }

    // Long runs keep a bounded number of keyframes.
    #[test]
    fn keyframes_stay_bounded_in_a_long_run() {
        let mut r = make();
        r.run_until(Instant(600_000_000));
        assert!(r.keyframe_count() <= dsplay::sim::keyframe::MAX_KEYFRAMES);
        assert!(r.world().trace.window().len() <= dsplay::sim::trace::DEFAULT_WINDOW);
    }
}
