//! Whole-cluster scenarios of the Raft lab: elections from a cold start, client traffic and
//! its answers, CheckQuorum, determinism and scrubbing, views, and link parameters.

use dsplay::labs::raft::kv::{Applied, Kv};
use dsplay::labs::raft::view::{log_panel, STYLE_COMMITTED, STYLE_CONFLICT};
use dsplay::labs::raft::{self, Raft, RaftReply, Role, LAB, PRESETS};
use dsplay::labs::LabProtocol;
use dsplay::scenario::Scenario;
use dsplay::sim::time::Instant;
use dsplay::sim::{OutcomeKind, Run, World};

const S: u64 = 1_000_000;

fn world(link: &str) -> (World<Raft>, Scenario) {
    let s = Scenario::from_link(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    (raft::world(&s).unwrap(), s)
}

fn run(link: &str, until_us: u64) -> World<Raft> {
    let (mut w, s) = world(link);
    w.run_until(Instant(until_us), &s.script);
    w
}

fn leaders(w: &World<Raft>) -> Vec<u32> {
    (0..w.n())
        .filter(|&i| w.is_up(i) && w.state(i).role == Role::Leader)
        .collect()
}

// Section 5.2: from a cold start, every cluster size elects exactly one leader, and every
// server ends up in its term knowing who it is.
#[test]
fn raft_5_2_a_cold_cluster_elects_exactly_one_leader_that_everyone_follows() {
    for n in 3..=9 {
        for seed in 1..=4 {
            let w = run(&format!("#/raft?n={n}&seed={seed}&clients=0"), 3 * S);
            let l = leaders(&w);
            assert_eq!(l.len(), 1, "n={n} seed={seed}: leaders {l:?}");
            let t = w.state(l[0]).current_term;
            for i in 0..n {
                assert_eq!(
                    (w.state(i).current_term, w.state(i).leader),
                    (t, Some(l[0])),
                    "n={n} seed={seed} S{i}"
                );
            }
        }
    }
}

// The registry builds the lab from its default scenario, and sixty virtual seconds of client
// traffic keep every property (the registry-wide test does the same for every lab).
#[test]
fn raft_default_scenario_runs_a_minute_through_the_registry_without_violations() {
    let mut sim = dsplay::labs::build(&Scenario::default_for(&LAB)).unwrap();
    assert!(!sim.run_until(Instant(60 * S)));
    assert!(
        sim.properties()
            .iter()
            .all(|p| p.holds && p.violations == 0),
        "{:?}",
        sim.properties()
    );
    let ok = sim
        .history()
        .iter()
        .filter(|h| h.outcome == Some(OutcomeKind::Ok))
        .count();
    assert!(ok > 100, "{ok} operations completed");
    let leaders: Vec<String> = sim
        .nodes()
        .iter()
        .filter(|v| v.role.starts_with("leader, term "))
        .map(|v| v.role.clone())
        .collect();
    assert_eq!(leaders.len(), 1, "{leaders:?}");
    assert_eq!(sim.panels().len(), 2);
}

/// Checks every successful answer against a replay of the committed log: the entry at the
/// answered index is that operation, and a read answers what the log says it read.
fn answers_match_the_log(w: &World<Raft>) -> usize {
    let (l, st) = (0..w.n())
        .map(|i| (i, w.state(i)))
        .max_by_key(|(_, s)| s.commit_index)
        .unwrap();
    let mut kv = Kv::default();
    let mut results = vec![None];
    for i in 1..=st.commit_index {
        results.push(Some(kv.apply(&st.log.entry(i).unwrap().cmd)));
    }
    let mut indices = std::collections::BTreeSet::new();
    let mut checked = 0;
    for h in w
        .history()
        .iter()
        .filter(|h| h.outcome == Some(OutcomeKind::Ok))
    {
        let Some(RaftReply::Done { index, value }) = &h.reply else {
            panic!("op {} ok without Done", h.id)
        };
        assert!(
            indices.insert(*index),
            "two operations answered with index {index}"
        );
        let Some(e) = st.log.entry(*index) else {
            continue;
        };
        if *index > st.commit_index {
            continue;
        }
        assert_eq!(e.cmd.op, h.op, "S{l} index {index}");
        assert_eq!(
            results[*index as usize],
            Some(Applied::Done(value.clone())),
            "index {index}"
        );
        checked += 1;
    }
    checked
}

// Sections 5.3 and 8: clients are redirected to the leader, each request is applied once (even
// when the network duplicates it), and every answer, reads included, is what the committed log
// gives at that index.
#[test]
fn raft_client_answers_come_from_the_committed_log_exactly_once() {
    for link in [
        "#/raft?n=5&seed=2&clients=3&think=50ms",
        "#/raft?n=5&seed=3&clients=3&think=50ms&lat=5..120ms&dup=20%&loss=5%",
        PRESETS[2].link,
    ] {
        let w = run(link, 20 * S);
        let checked = answers_match_the_log(&w);
        assert!(checked > 10, "{link}: only {checked} answers checked");
        assert!(w.properties().iter().all(|p| p.violations == 0), "{link}");
    }
}

// Thesis 6.2: with CheckQuorum a leader cut off in a minority steps down within about an
// election timeout, instead of taking requests it can never commit.
#[test]
fn raft_check_quorum_makes_a_leader_in_a_minority_step_down() {
    let link = PRESETS[2].link.replace("#/raft?", "#/raft?checkquorum=1&");
    let (mut w, s) = world(&link);
    w.run_until(Instant(2 * S), &s.script);
    assert_eq!(leaders(&w), vec![2]);
    w.run_until(
        Instant(2 * S + 2 * w.proto.election_timeout_max_us),
        &s.script,
    );
    assert_ne!(
        w.state(2).role,
        Role::Leader,
        "the cut-off leader stepped down"
    );
    w.run_until(Instant(9 * S), &s.script);
    assert!(w.properties().iter().all(|p| p.violations == 0));
}

// Same scenario, same trace: through the Sim interface twice, and after scrubbing back.
#[test]
fn raft_runs_are_deterministic_and_scrubbing_back_is_exact() {
    let s = Scenario::from_link(PRESETS[2].link).unwrap();
    let hash = |t: u64| {
        let mut sim = dsplay::labs::build(&s).unwrap();
        sim.run_until(Instant(t));
        sim.trace_hash()
    };
    assert_eq!(hash(8 * S), hash(8 * S));
    let (w, _) = world(PRESETS[2].link);
    let mut r = Run::new(w, s.script.clone());
    r.run_until(Instant(5 * S));
    let states: Vec<_> = (0..5).map(|i| r.world().state(i).clone()).collect();
    let hash5 = r.world().trace_hash();
    r.run_until(Instant(9 * S));
    r.seek(Instant(5 * S));
    assert_eq!(r.world().trace_hash(), hash5);
    assert_eq!(
        (0..5)
            .map(|i| r.world().state(i).clone())
            .collect::<Vec<_>>(),
        states
    );
}

// The view: roles and their classes, the lines, the draining election timer, and the log panel
// marking committed entries and the stale leader's entries the new leader will overwrite.
#[test]
fn raft_views_show_roles_timers_and_conflicting_entries() {
    let (mut w, s) = world(PRESETS[2].link);
    w.run_until(Instant(5 * S), &s.script);
    let l = leaders(&w).into_iter().find(|&l| l != 2).unwrap();
    let v = w.proto.node_view(&w, l);
    let term = w.state(l).current_term;
    assert_eq!(
        (v.role.as_str(), v.role_class, v.timer_fraction),
        (format!("leader, term {term}").as_str(), 3, None)
    );
    assert_eq!(v.lines[0], format!("term {}", w.state(l).current_term));
    let follower = (0..5).find(|&i| w.state(i).role == Role::Follower).unwrap();
    let f = w.proto.node_view(&w, follower);
    assert_eq!(
        (f.role.as_str(), f.role_class),
        (
            format!("follower, term {}", w.state(follower).current_term).as_str(),
            1
        )
    );
    let fr = f.timer_fraction.expect("a follower's election timer");
    assert!((0.0..=1.0).contains(&fr));
    assert!(
        f.lines.iter().any(|x| x.starts_with("log length"))
            && f.lines.iter().any(|x| x.starts_with("commit index"))
    );

    let p = log_panel(&w);
    assert_eq!(p.rows.len(), 5);
    assert_eq!(p.columns.len(), p.rows[0].len());
    let stale_row = &p.rows[2];
    assert!(
        stale_row.iter().any(|c| c.style == STYLE_CONFLICT),
        "S2's stale entries are marked: {stale_row:?}"
    );
    assert!(p.rows[l as usize]
        .iter()
        .any(|c| c.style == STYLE_COMMITTED));
    assert!(p.rows[l as usize].iter().all(|c| c.style != STYLE_CONFLICT));

    w.crash(0);
    let c = w.proto.node_view(&w, 0);
    assert_eq!(
        (c.role.as_str(), c.role_class, c.up, c.timer_fraction),
        ("crashed", 0, false, None)
    );
}

// Link parameters are checked and bad ones refused with a reason; bugs cannot be set by links.
#[test]
fn raft_link_parameters_are_validated() {
    let s = Scenario::from_link(
        "#/raft?n=7&et=50..100ms&hb=20ms&prevote=1&checkquorum=1&clients=3&think=1s",
    )
    .unwrap();
    let cfg = raft::config(&s).unwrap();
    assert_eq!(
        (
            cfg.election_timeout_min_us,
            cfg.election_timeout_max_us,
            cfg.heartbeat_us
        ),
        (50_000, 100_000, 20_000)
    );
    assert!(cfg.prevote && cfg.check_quorum && cfg.bug.is_none());
    for bad in [
        "#/raft?n=2",
        "#/raft?n=10",
        "#/raft?prevote=2",
        "#/raft?et=fast",
        "#/raft?bug=1",
        "#/raft?clients=99",
    ] {
        assert!(Scenario::from_link(bad).is_err(), "{bad} should be refused");
    }
    // Operations the lab cannot parse, and clients it does not have, are refused when the link
    // is read or at the latest when the lab is built.
    for bad in [
        "#/raft?s=1s:op:0@1:del%20x",
        "#/raft?clients=1&s=1s:op:3@1:get%20x",
    ] {
        let refused = Scenario::from_link(bad)
            .map(|s| dsplay::labs::build(&s).is_err())
            .unwrap_or(true);
        assert!(refused, "{bad} should be refused");
    }
}

// The default scenario is already canonical: its link decodes back to exactly it.
#[test]
fn raft_default_scenario_survives_the_link_round_trip() {
    let s = Scenario::default_for(&LAB);
    assert_eq!(Scenario::from_link(&s.to_link()), Ok(s));
}

/// A violation the settings force is said to be theirs, not Raft's: an election timeout
/// shorter than a round trip elects no leader, and the report says why in the paper's terms;
/// with the paper's timeouts nothing is blamed on the settings.
#[test]
fn a_timeout_shorter_than_a_round_trip_is_blamed_for_no_leader() {
    let report = |link: &str| {
        let (s, why) = dsplay::play::session::Session::open(link);
        assert!(why.is_none(), "{why:?}");
        s.sim()
            .properties()
            .into_iter()
            .find(|p| p.name == "leader_elected")
            .unwrap()
    };
    let short = report("#/raft?n=5&seed=1&lat=20..80ms&et=1ms..2ms&t=3s");
    assert!(short.violations > 0);
    let cause = short.cause.expect("the settings are named");
    assert!(cause.starts_with("The election timeout (1ms..2ms) is shorter than a round trip on these links (about 100ms)"), "{cause}");
    let paper = report("#/raft?n=5&seed=1&lat=20..80ms&t=3s");
    assert_eq!((paper.violations, paper.cause), (0, None));
    // A timeout longer than a round trip is not blamed, whatever the run does.
    let slow = report("#/raft?n=5&seed=1&lat=20..80ms&et=120ms..130ms&loss=60%&t=10s");
    assert_eq!(slow.cause, None, "{slow:?}");
}

/// On a wide canvas the Raft logs are drawn beside the servers, as RaftScope keeps them, and
/// the servers' circle keeps to the left of them; a narrow canvas (a phone) shows the servers
/// alone. Hit-testing follows the same split.
#[test]
fn the_logs_stay_beside_the_servers_on_a_wide_canvas() {
    use dsplay::play::frame::{beside, layout, stage_frame, FrameView};
    use dsplay::viz::scene::Shape;
    let (s, why) = dsplay::play::session::Session::open("#/raft?n=5&seed=1&lat=20..80ms&t=3s");
    assert!(why.is_none(), "{why:?}");
    let wide = FrameView::sized((925.0, 390.0), (925.0, 200.0));
    let (_, left) = beside(&s, &wide).expect("a laptop's stage has room for the logs");
    let shapes = stage_frame(&s, &s.sim().nodes(), &wide).unwrap();
    let cells = shapes
        .iter()
        .filter(|sh| matches!(sh, Shape::Rect { at, .. } if at.x >= left))
        .count();
    assert!(
        cells >= 5 * 6,
        "every server's six entries drawn beside: {cells}"
    );
    let circle = layout(&s, &wide).unwrap();
    assert!(
        circle.nodes.iter().all(|p| p.x < left),
        "the servers stay left of the logs"
    );
    let narrow = FrameView::sized((370.0, 390.0), (370.0, 200.0));
    assert!(beside(&s, &narrow).is_none());
    let alone = stage_frame(&s, &s.sim().nodes(), &narrow).unwrap();
    assert!(alone.len() < shapes.len() - 30);
}
