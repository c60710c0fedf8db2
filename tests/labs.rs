//! Every lab in the registry: its default scenario runs, deterministically, without violating a
//! property. Adding a lab to the registry adds it here.

mod common;

use dsplay::labs::{self, REGISTRY};
use dsplay::scenario::Scenario;
use dsplay::sim::Instant;

#[test]
fn every_lab_runs_its_default_scenario_without_violations() {
    for lab in REGISTRY {
        let s = Scenario::default_for(lab);
        let mut a = labs::build(&s).unwrap_or_else(|e| panic!("{}: {e}", lab.id));
        a.run_until(Instant(60_000_000));
        assert!(a.counters().events > 100, "{}: something happened", lab.id);
        for p in a.properties() {
            assert!(
                p.holds,
                "{}: property {} violated at {:?}",
                lab.id, p.name, p.first_violation_us
            );
        }
        let mut b = labs::build(&s).unwrap();
        b.run_until(Instant(60_000_000));
        assert_eq!(a.trace_hash(), b.trace_hash(), "{}: deterministic", lab.id);
        assert!(!a.nodes().is_empty());
    }
}

// The flows lab's properties have teeth: a server with more requests in service than workers is
// caught. We break the protocol by giving the checker a smaller worker count than the servers use.
#[test]
fn flows_worker_bound_catches_an_overloaded_server() {
    use dsplay::labs::flows::Flows;
    use dsplay::labs::LabProtocol;
    use dsplay::sim::{World, WorldConfig};
    let mut cfg = WorldConfig::new(1, 3);
    cfg.clients = 8;
    cfg.client_think = dsplay::sim::Dist::Constant { us: 0 };
    // The "broken" server ignores its worker limit (workers = 64) while the property is
    // evaluated against a limit of 1 by wrapping the check.
    let broken = Flows {
        proc_min_us: 50_000,
        proc_max_us: 50_000,
        workers: 64,
        clients: 8,
        queue: None,
    };
    let mut props = broken.properties();
    props[0].check =
        |w: &World<Flows>| (w.nodes.iter().all(|n| n.state.in_service.len() <= 1)).into();
    let mut w = World::new(broken, cfg, props);
    w.run_until(Instant(1_000_000), &[]);
    let bounded = &w.properties()[0];
    assert!(!bounded.holds, "an overloaded server must be caught");
}

// Servers that are reachable but never answer in time: the liveness property fires after its
// bound. Cutting the clients off instead owes nothing (its precondition fails), so it holds.
#[test]
fn flows_progress_fires_when_requests_never_succeed() {
    let slow = common::run_link(
        "#/flows?n=2&seed=4&clients=2&proc=10..10s&timeout=1s",
        9_000_000,
    );
    let p = slow
        .properties()
        .into_iter()
        .find(|p| p.name == "clients_progress")
        .unwrap();
    assert!(!p.holds, "every request times out for 9 s");
    let cut = common::run_link("#/flows?n=2&seed=4&clients=2&s=1s:part:0.1/2.3", 9_000_000);
    let p = cut
        .properties()
        .into_iter()
        .find(|p| p.name == "clients_progress")
        .unwrap();
    assert!(
        p.holds,
        "clients cut off from every server are owed nothing"
    );
}

// No lab parameter can shadow a key of the link itself (`n`, `seed`, `lat`, ...): the link
// would then mean two things.
#[test]
fn no_lab_parameter_shadows_a_link_key() {
    for lab in dsplay::labs::REGISTRY {
        for p in lab.params {
            assert!(
                !dsplay::scenario::link::RESERVED_KEYS.contains(&p.key),
                "the {} lab's parameter '{}' is a link key",
                lab.id,
                p.key
            );
        }
    }
}

// The choice and fraction kinds read what a person types, write one canonical form, and name
// the parameter by its label when they refuse a value.
#[test]
fn choice_and_fraction_parameters_are_canonical_and_refuse_with_their_label() {
    use dsplay::labs::{ParamKind, ParamSpec};
    let algo = ParamSpec {
        key: "algo",
        label: "Algorithm",
        help: "",
        kind: ParamKind::Choice {
            options: &["ring", "jump", "maglev"],
        },
        default: "ring",
    };
    assert_eq!(algo.canonical("jump"), Ok("jump".into()));
    let err = algo.canonical("modn").unwrap_err();
    assert!(
        err.contains("Algorithm ('algo')") && err.contains("ring, jump, maglev"),
        "{err}"
    );
    let eps = ParamSpec {
        key: "eps",
        label: "Load bound ε",
        help: "",
        kind: ParamKind::Fraction {
            min_ppm: 10_000,
            max_ppm: 1_000_000,
        },
        default: "0.25",
    };
    for (typed, canonical) in [
        ("0.25", "0.25"),
        ("25%", "0.25"),
        (".5", "0.5"),
        ("1", "1"),
        ("1.0", "1"),
    ] {
        assert_eq!(eps.canonical(typed), Ok(canonical.into()), "{typed}");
    }
    for bad in ["0.001", "2", "-0.1", "x", "", "25%%"] {
        let err = eps.canonical(bad).unwrap_err();
        assert!(err.starts_with("Load bound ε ('eps')"), "{bad}: {err}");
    }
    let clients = dsplay::labs::raft::PARAMS
        .iter()
        .find(|p| p.key == "clients")
        .unwrap();
    assert!(clients
        .canonical("99")
        .unwrap_err()
        .starts_with("Clients ('clients')"));
}

// Every message kind a lab sends has a line in its legend (or the engine's), so nothing on
// the canvas goes unexplained: the default scenario and every preset, run for 10 s.
#[test]
fn every_lab_declares_a_legend_entry_for_every_message_kind_it_sends() {
    use dsplay::labs::ENGINE_LEGEND;
    for lab in dsplay::labs::REGISTRY {
        let mut links = vec![dsplay::scenario::link::encode(
            &dsplay::scenario::Scenario::default_for(lab),
        )];
        links.extend(lab.presets.iter().map(|p| p.link.to_string()));
        // PreVote's messages appear only with PreVote on.
        links.push(format!("{}&prevote=1", links[0]));
        for l in links {
            let Ok(s) = dsplay::scenario::link::decode(&l) else {
                continue;
            };
            let mut sim = dsplay::labs::build(&s).unwrap();
            let mut kinds = std::collections::BTreeSet::new();
            for t in 1..=10u64 {
                sim.run_until(dsplay::sim::Instant(t * 1_000_000));
                kinds.extend(
                    sim.records()
                        .into_iter()
                        .filter(|r| r.what == "send")
                        .map(|r| r.text),
                );
            }
            for k in kinds {
                let known = lab
                    .legend
                    .messages
                    .iter()
                    .chain(ENGINE_LEGEND.messages)
                    .any(|(m, _, _)| *m == k);
                assert!(
                    known,
                    "the {} lab sends '{k}' ({l}) but its legend does not say what it is",
                    lab.id
                );
            }
        }
        for (_, colour, _) in lab.legend.messages {
            assert!(
                (*colour as usize) < dsplay::viz::colors::PALETTE.len(),
                "{}",
                lab.id
            );
        }
        for (class, name, _) in lab.legend.roles {
            assert!(
                !name.is_empty() && *class > 0,
                "{}: role classes 1 and up",
                lab.id
            );
        }
    }
}

// Every experiment of every lab runs three trials and reports a summary, a chart with data
// and a JSON object; its parameters have defaults that pass their own checks and the shared
// `trials` and `seed`.
#[test]
fn every_experiment_of_every_lab_runs_three_trials_and_reports() {
    let mut count = 0;
    for (lab, e) in dsplay::labs::experiments() {
        for key in ["trials", "seed"] {
            assert!(e.param(key).is_some(), "{} lacks '{key}'", e.id);
        }
        for p in e.params {
            assert_eq!(
                p.canonical(p.default).as_deref(),
                Ok(p.default),
                "{}: {}",
                e.id,
                p.key
            );
            assert!(
                p.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()),
                "kebab-case: {}",
                p.key
            );
        }
        let values = e.values(&[("trials".into(), "3".into())]).unwrap();
        let mut run = (e.start)(&values).unwrap();
        let mut ran = 0;
        while run.progress().0 < run.progress().1 {
            ran += run.run(1);
        }
        assert_eq!(ran, 3, "{} ({})", e.id, lab.id);
        let r = run.report();
        assert!(!r.summary.is_empty());
        assert!(
            !r.charts.is_empty()
                && r.charts
                    .iter()
                    .all(|c| c.series.iter().any(|s| !s.points.is_empty())),
            "{}",
            e.id
        );
        assert!(r.json.is_object());
        // The page gets the report from the job worker in its wire form: all but the JSON.
        use dsplay::labs::experiment::wire;
        let back = wire::read_report(&wire::report(&r)).unwrap();
        assert_eq!(back.json, serde_json::Value::Null);
        assert_eq!(
            (back.summary, back.charts, back.tables),
            (r.summary.clone(), r.charts.clone(), r.tables.clone()),
            "{}",
            e.id
        );
        assert_eq!(
            wire::read_values(&wire::values(&values)),
            Ok(values.clone())
        );
        count += 1;
    }
    assert!(count > 0);
}

/// Text with the wire's own separators in it, and awkward numbers, come back as they went.
#[test]
fn the_report_wire_keeps_separators_in_text_and_numbers_exact() {
    use dsplay::labs::experiment::{wire, AxisScale, Chart, Report, Series, SeriesStyle};
    use dsplay::viz::{Cell, Panel};
    let tricky = "tab\there\nnew line \\ back\u{1f}unit ✓";
    let r = Report {
        summary: tricky.into(),
        charts: vec![Chart {
            title: tricky.into(),
            x_label: "".into(),
            y_label: "y".into(),
            x_scale: AxisScale::Log,
            y_scale: AxisScale::Auto,
            series: vec![Series {
                name: "s".into(),
                style: SeriesStyle::Bars,
                points: vec![(0.1 + 0.2, -0.0), (f64::MAX, f64::MIN_POSITIVE)],
                reference: true,
                colour: Some(5),
            }],
            caption: tricky.into(),
            cursor_x: Some(1.0 / 3.0),
        }],
        tables: vec![Panel {
            title: "t".into(),
            columns: vec![tricky.into(), "b".into()],
            rows: vec![vec![Cell::styled(tricky, 3), Cell::plain("")]],
            caption: "".into(),
        }],
        links: vec![dsplay::labs::experiment::TrialLink {
            label: tricky.into(),
            link: "#/raft?n=5&seed=1".into(),
        }],
        json: serde_json::Value::Null,
    };
    let back = wire::read_report(&wire::report(&r)).unwrap();
    assert_eq!(back, r);
    assert!(wire::read_report("chart\tno").is_err());
    assert!(
        wire::read_report("series\ta\tline\t0\t").is_err(),
        "a series before any chart"
    );
    assert!(wire::read_report("flag\tx").is_err());
}

/// Every lab's main canvases, the topology and its own stages, keep their shapes inside the
/// canvas at a phone's, a laptop's and a projector's size (presenter scale on the last).
#[test]
fn every_lab_stage_keeps_its_shapes_inside_its_area_at_three_sizes() {
    use dsplay::play::frame::{stage_frame, FrameView};
    use dsplay::play::session::Session;
    use dsplay::viz::scene::{Pt, Shape, Style};
    let sizes = [
        (360.0, 300.0, 1.0),
        (927.0, 393.0, 1.0),
        (1800.0, 700.0, 1.6),
    ];
    for lab in REGISTRY {
        let (s, err) = Session::open(&format!("#/{}?seed=3&t=4s", lab.id));
        assert!(err.is_none(), "{}: {err:?}", lab.id);
        for stage in 0..=lab.stages.len() as u8 {
            for (w, h, k) in sizes {
                let mut view = FrameView::sized((w, h), (w, 200.0));
                view.style = Style { scale: k };
                view.stage = stage;
                let shapes = stage_frame(&s, &s.sim().nodes(), &view).expect("a sized canvas");
                assert!(
                    !shapes.is_empty(),
                    "{} stage {stage} draws something",
                    lab.id
                );
                let inside =
                    |p: &Pt| p.x >= -1.0 && p.y >= -1.0 && p.x <= w + 1.0 && p.y <= h + 1.0;
                for sh in &shapes {
                    let ok = match sh {
                        Shape::Line { a, b, .. } | Shape::Arrow { a, b, .. } => {
                            inside(a) && inside(b)
                        }
                        Shape::Circle { c, r, .. }
                        | Shape::Arc { c, r, .. }
                        | Shape::Cross { c, r, .. } => {
                            inside(&Pt::new(c.x - r, c.y - r)) && inside(&Pt::new(c.x + r, c.y + r))
                        }
                        Shape::Rect {
                            at, w: rw, h: rh, ..
                        } => inside(at) && inside(&Pt::new(at.x + rw, at.y + rh)),
                        Shape::Text { at, .. } => inside(at),
                    };
                    assert!(
                        ok,
                        "{} stage {stage} at {w}x{h}: {sh:?} leaves the canvas",
                        lab.id
                    );
                }
            }
        }
    }
}

/// Every lab with clients charts its operations' latency against virtual time up to the
/// cursor: after scrubbing back, the chart ends at the new cursor and holds only what had
/// happened by then.
#[test]
fn the_latency_chart_follows_the_cursor() {
    use dsplay::viz::chart::SeriesStyle;
    for lab in REGISTRY {
        let s = dsplay::scenario::link::decode(&format!("#/{}?seed=2&clients=2", lab.id)).unwrap();
        let mut sim = labs::build(&s).unwrap();
        sim.run_until(Instant(6_000_000));
        let late = sim.charts();
        let chart = late
            .iter()
            .find(|c| c.title == "Client operations")
            .expect(lab.id);
        assert_eq!(chart.cursor_x, Some(6.0), "{}", lab.id);
        let count =
            |c: &dsplay::viz::chart::Chart| c.series.iter().map(|s| s.points.len()).sum::<usize>();
        let ok = chart
            .series
            .iter()
            .find(|s| s.name == "ok")
            .expect("operations succeed");
        assert!(
            ok.style == SeriesStyle::Dots && ok.points.len() > 5,
            "{}",
            lab.id
        );
        assert!(ok.points.iter().all(|(t, ms)| *t <= 6.0 && *ms >= 0.0));
        sim.seek(Instant(3_000_000));
        let early = sim.charts();
        let chart_early = early
            .iter()
            .find(|c| c.title == "Client operations")
            .unwrap();
        assert_eq!(chart_early.cursor_x, Some(3.0));
        assert!(
            count(chart_early) < count(chart),
            "{}: fewer operations by 3 s",
            lab.id
        );
        assert!(chart_early
            .series
            .iter()
            .all(|s| s.points.iter().all(|(t, _)| *t <= 3.0)));
    }
}

#[test]
fn the_latency_chart_shows_pending_operations_at_their_age() {
    use dsplay::sim::trace::OutcomeKind;
    let ops = vec![
        (1_000_000, Some(1_050_000), Some(OutcomeKind::Ok)),
        (2_000_000, Some(2_400_000), Some(OutcomeKind::Unknown)),
        (3_000_000, None, None),
    ];
    let c = labs::latency_chart(&mut ops.into_iter(), 3_250_000);
    let by = |name: &str| {
        c.series
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.points.clone())
    };
    assert_eq!(by("ok"), Some(vec![(1.0, 50.0)]));
    assert_eq!(by("timed out"), Some(vec![(2.0, 400.0)]));
    assert_eq!(by("pending"), Some(vec![(3.0, 250.0)]));
    assert_eq!(by("failed"), None, "empty series are left out");
    let colour = |name: &str| {
        c.series
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.colour)
    };
    assert_eq!(
        colour("timed out"),
        Some(1),
        "timed out in orange, not by order"
    );
    // No clients: a chart with nothing in it still says where the cursor is.
    let empty = labs::latency_chart(&mut std::iter::empty(), 10);
    assert!(empty.series.is_empty() && empty.cursor_x.is_some());
}
