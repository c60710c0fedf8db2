//! Every lab's guided lessons: their links run, every step's condition is reached within the
//! lesson's run (so the captions are true of it), every prediction's answer is what the run
//! shows, and the link keys `lesson` and `step` round-trip or say what is wrong.

use dsplay::labs::lesson::{self, Then, Until};
use dsplay::labs::{self, REGISTRY};
use dsplay::scenario::link;

#[test]
fn every_lab_has_at_least_three_lessons_with_unique_ids() {
    for lab in REGISTRY {
        assert!(
            lab.lessons.len() >= 3,
            "{}: {} lessons",
            lab.id,
            lab.lessons.len()
        );
        for (i, l) in lab.lessons.iter().enumerate() {
            assert!(
                lab.lessons[..i].iter().all(|o| o.id != l.id),
                "{}: lesson id {} twice",
                lab.id,
                l.id
            );
            assert!(!l.steps.is_empty() && !l.title.is_empty() && !l.description.is_empty());
            for (k, s) in l.steps.iter().enumerate() {
                assert!(!s.caption.is_empty(), "{}/{} step {}", lab.id, l.id, k + 1);
                if let Then::Ask(a) = &s.then {
                    assert!(a.choices.len() >= 2 && a.answer < a.choices.len());
                    assert!(!a.question.is_empty() && !a.shows.is_empty());
                }
            }
        }
    }
}

#[test]
fn every_lesson_reaches_every_step_in_order_within_its_run() {
    for lab in REGISTRY {
        for l in lab.lessons {
            let s = link::decode(l.link).unwrap_or_else(|e| panic!("{}/{}: {e}", lab.id, l.id));
            assert_eq!(s.lab, lab.id, "{}: its link opens its own lab", l.id);
            let mut sim = labs::build(&s).unwrap_or_else(|e| panic!("{}/{}: {e}", lab.id, l.id));
            let mut last = 0;
            for (k, step) in l.steps.iter().enumerate() {
                let reached = lesson::play(sim.as_mut(), step.until(), l.length_us);
                assert!(
                    reached,
                    "{}/{} step {} ({:?}) is not reached by {} us (the run is at {} us)",
                    lab.id,
                    l.id,
                    k + 1,
                    step.until(),
                    l.length_us,
                    sim.now().0
                );
                // A figure or condition still holds where the step ends.
                if matches!(step.until(), Until::Metric { .. } | Until::Cond { .. }) {
                    assert!(lesson::holds(sim.as_ref(), step.until()));
                }
                assert!(sim.now().0 >= last);
                last = sim.now().0;
            }
        }
    }
}

#[test]
fn a_prediction_is_not_shown_before_its_question_is_asked() {
    // Each question's reveal is a change the run makes after the question: a condition that
    // held already where the question is asked would show nothing.
    for lab in REGISTRY {
        for l in lab.lessons {
            let s = link::decode(l.link).unwrap();
            let mut sim = labs::build(&s).unwrap();
            for (k, step) in l.steps.iter().enumerate() {
                if let Then::Ask(a) = &step.then {
                    if !matches!(a.reveal, Until::Event { .. } | Until::At(_)) {
                        assert!(
                            !lesson::holds(sim.as_ref(), &a.reveal) || k == 0 && sim.now().0 == 0,
                            "{}/{} step {}: the answer shows before the question",
                            lab.id,
                            l.id,
                            k + 1
                        );
                    }
                }
                lesson::play(sim.as_mut(), step.until(), l.length_us);
            }
        }
    }
}

#[test]
fn lesson_and_step_round_trip_in_links() {
    for lab in REGISTRY {
        for l in lab.lessons {
            for k in 1..=l.steps.len() {
                let text = format!("{}&lesson={}&step={k}", l.link, l.id);
                let s = link::decode(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(s.lesson.as_deref(), Some(l.id));
                assert_eq!(s.step, Some(k as u32));
                let again = link::encode(&s);
                assert!(
                    again.contains(&format!("lesson={}&step={k}", l.id)),
                    "{again}"
                );
                assert_eq!(link::decode(&again).unwrap(), s);
            }
        }
    }
    assert!(link::RESERVED_KEYS.contains(&"lesson") && link::RESERVED_KEYS.contains(&"step"));
}

#[test]
fn bad_lessons_and_steps_say_what_is_wrong() {
    let base = "#/raft?n=5&seed=1";
    let err = |q: &str| link::decode(&format!("{base}&{q}")).unwrap_err().0;
    let e = err("lesson=nope");
    assert!(
        e.contains("no lesson 'nope'") && e.contains("why-terms"),
        "{e}"
    );
    let e = err("lesson=why-terms&step=0");
    assert!(e.contains("steps 1 to 4, not 0"), "{e}");
    let e = err("lesson=why-terms&step=99");
    assert!(e.contains("steps 1 to 4, not 99"), "{e}");
    let e = err("lesson=why-terms&step=two");
    assert!(e.contains("step 'two' must be a whole number"), "{e}");
    let e = err("step=2");
    assert!(e.contains("a step needs a lesson"), "{e}");
    // A lesson of another lab is not this lab's.
    let e = err("lesson=hot-key");
    assert!(e.contains("the raft lab has no lesson 'hot-key'"), "{e}");
}

#[test]
fn dsplay_lessons_lists_every_lesson_and_preset_with_a_link_that_decodes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dsplay"))
        .args(["lessons", "--json"])
        .output()
        .expect("run dsplay");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = v.as_array().expect("a list");
    let lessons: usize = REGISTRY.iter().map(|l| l.lessons.len()).sum();
    let presets: usize = REGISTRY.iter().map(|l| l.presets.len()).sum();
    assert_eq!(rows.len(), lessons + presets);
    let mut seen = 0;
    for r in rows {
        let (lab, kind) = (r["lab"].as_str().unwrap(), r["kind"].as_str().unwrap());
        let s = link::decode(r["link"].as_str().unwrap()).expect("the link decodes");
        assert_eq!(s.lab, lab);
        assert!(!r["title"].as_str().unwrap().is_empty());
        match kind {
            "lesson" => {
                seen += 1;
                assert_eq!(s.step, Some(1));
                assert!(s.lesson.is_some());
            }
            _ => assert_eq!(kind, "preset"),
        }
    }
    assert_eq!(seen, lessons);
}

/// What each step points at exists where the step opens: its nodes are ringed on the topology
/// (one dashed ring in the focus colour each), its message kind is one the lab's legend names,
/// and its panel is one of the lab's stages or a panel the run shows then.
#[test]
fn every_steps_highlight_points_at_something_on_the_page() {
    use dsplay::labs::lesson::Highlight;
    use dsplay::play::frame::{lesson_focus, lesson_panel, stage_frame, FrameView};
    use dsplay::play::session::Session;
    use dsplay::viz::scene::{Shape, FOCUS};
    for lab in REGISTRY {
        for l in lab.lessons {
            for (k, step) in l.steps.iter().enumerate() {
                let at = format!("{}&lesson={}&step={}", l.link, l.id, k + 1);
                let (s, why) = Session::open(&at);
                assert!(why.is_none(), "{at}: {why:?}");
                let focus = lesson_focus(&s);
                match &step.highlight {
                    Highlight::None => assert!(focus.nodes.is_empty() && focus.kind.is_none()),
                    Highlight::Nodes(nodes) => {
                        assert_eq!(focus.nodes, *nodes, "{at}");
                        let view = FrameView::sized((800.0, 600.0), (800.0, 200.0));
                        let shapes = stage_frame(&s, &s.sim().nodes(), &view).unwrap();
                        let rings = shapes.iter().filter(|sh| {
                            matches!(sh, Shape::Circle { stroke: Some(c), dash: true, .. } if *c == FOCUS)
                        });
                        assert_eq!(rings.count(), nodes.len(), "{at}: a ring per node");
                    }
                    Highlight::Kind(kind) => {
                        assert_eq!(focus.kind, Some(*kind));
                        let named = lab.legend.messages.iter().any(|(m, _, _)| m == kind);
                        assert!(named, "{at}: {kind} is not in the {} legend", lab.id);
                    }
                    Highlight::Panel(title) => {
                        assert_eq!(lesson_panel(&s), Some(*title));
                        let stage = lab.stages.iter().any(|st| st.id == *title);
                        let panel = s.sim().panels().iter().any(|p| p.title == *title);
                        assert!(stage || panel, "{at}: no stage or panel {title}");
                    }
                }
            }
        }
    }
}
