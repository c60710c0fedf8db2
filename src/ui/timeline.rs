//! The timeline: play / pause, step, speed, skip idle time, the scrub bar with markers for
//! interventions and violations, and the virtual clock.

use super::dom::{el, event_checked, event_value, memo, El};
use super::{clock_text, Shell};
use crate::play::session::SPEEDS;

/// The scrub bar never shows less than this much time (so the first second is not a blur).
const MIN_BAR_US: u64 = 1_000_000;

/// An element of the SVG namespace (the transport icons).
fn svg(tag: &str) -> El {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .expect("the page has a document");
    El(doc
        .create_element_ns(Some("http://www.w3.org/2000/svg"), tag)
        .expect("a valid element name"))
}

/// A 16×16 transport icon with one path.
fn icon(d: &str) -> El {
    svg("svg")
        .attr("viewBox", "0 0 16 16")
        .attr("aria-hidden", "true")
        .child(svg("path").attr("d", d))
}

/// The transport controls and scrub bar at the bottom of the page.
pub fn timeline(shell: Shell) -> El {
    let transport = transport(shell);
    let scrub_bar = scrub_bar(shell);
    el("footer")
        .class("timeline")
        .attr("aria-label", "Timeline")
        .child(transport)
        .child(scrub_bar)
}

/// The virtual instant of the cursor (follows `shell.tick`).
fn now_us(shell: Shell) -> u64 {
    shell.tick.get();
    shell.with(|s| s.now_us()).unwrap_or(0)
}

/// The time the scrub bar spans: the run's horizon, or the cursor if it is past it, and never
/// less than [`MIN_BAR_US`] (follows `shell.tick`).
fn bar_max_us(shell: Shell) -> u64 {
    shell.tick.get();
    shell
        .with(|s| s.horizon_us().max(s.now_us()).max(MIN_BAR_US))
        .unwrap_or(MIN_BAR_US)
}

/// The transport: step back, play / pause, step forward, the speed, skipping idle time and
/// the virtual clock.
fn transport(shell: Shell) -> El {
    el("div")
        .class("transport")
        .child(
            el("button")
                .class("btn icon")
                .attr("aria-label", "Step back one event")
                .attr("title", "Step back one event (←)")
                .on("click", move |_| {
                    shell.update(|s| s.step_back());
                })
                .child(icon("M2 2h2.5v12H2zM14 2v12L5 8z")),
        )
        .child(play_button(shell))
        .child(
            el("button")
                .class("btn icon")
                .attr("aria-label", "Step to the next event")
                .attr("title", "Step to the next event (→)")
                .on("click", move |_| {
                    shell.update(|s| s.step_forward());
                })
                .child(icon("M11.5 2H14v12h-2.5zM2 2v12l9-6z")),
        )
        .child(speed_select(shell))
        .child(skip_idle(shell))
        .child(
            el("output")
                .class("clock")
                .attr("aria-label", "Virtual time")
                .attr("aria-live", "off")
                .text_with(move || clock_text(now_us(shell))),
        )
}

/// The play / pause button: its label, pressed state and icon follow whether the run plays.
fn play_button(shell: Shell) -> El {
    let playing = move || {
        shell.tick.get();
        shell.with(|s| s.playing).unwrap_or(false)
    };
    let toggle = move |_| {
        shell.update(|s| {
            let on = !s.playing;
            s.play(on)
        });
    };
    el("button")
        .class("btn icon play")
        .attr_with("aria-label", move || {
            Some(if playing() { "Pause" } else { "Play" }.to_string())
        })
        .attr("title", "Play / pause (space)")
        .attr_with("aria-pressed", move || Some(playing().to_string()))
        .on("click", toggle)
        .child(
            svg("svg")
                .attr("viewBox", "0 0 16 16")
                .attr("aria-hidden", "true")
                .child(svg("path").attr_with("d", move || {
                    Some(
                        if playing() {
                            "M3 2h3.5v12H3zM9.5 2H13v12H9.5z"
                        } else {
                            "M3 1.5v13L14 8z"
                        }
                        .to_string(),
                    )
                })),
        )
}

/// The speed picker, one option per entry of [`SPEEDS`] (follows `shell.edits`).
fn speed_select(shell: Shell) -> El {
    let speed_ix = move || {
        shell.edits.get();
        shell
            .with(|s| s.speed_ix)
            .unwrap_or(crate::play::session::DEFAULT_SPEED)
    };
    let set_speed = move |ev: web_sys::Event| {
        let ix: usize = event_value(&ev).parse().unwrap_or(3);
        shell.update(|s| s.set_speed(ix));
    };
    el("select")
        .class("speed")
        .attr("aria-label", "Speed")
        .attr("title", "Speed ([ and ])")
        .on("change", set_speed)
        .children(SPEEDS.iter().enumerate().map(|(i, v)| {
            el("option")
                .attr("value", &i.to_string())
                .text(&format!("{}×", crate::sim::time::shortest(*v)))
        }))
        // After the options, so that the first value set picks one of them.
        .prop_with("value", move || speed_ix().to_string().into())
}

/// The "skip idle" checkbox (follows `shell.edits`).
fn skip_idle(shell: Shell) -> El {
    let skip = move || {
        shell.edits.get();
        shell.with(|s| s.skip_idle).unwrap_or(false)
    };
    el("label")
        .class("check")
        .attr("title", "Jump over stretches where nothing is in flight")
        .child(
            el("input")
                .attr("type", "checkbox")
                .attr("aria-label", "Skip idle time")
                .prop_with("checked", move || skip().into())
                .on("change", move |ev| {
                    let on = event_checked(&ev);
                    shell.update(|s| s.skip_idle = on);
                }),
        )
        .text("skip idle")
}

/// The scrub bar: the markers above a range over virtual time that follows the cursor;
/// moving it pauses the run and seeks.
fn scrub_bar(shell: Shell) -> El {
    let scrub = move |ev: web_sys::Event| {
        let v = crate::sim::time::parse_decimal_f64(&event_value(&ev)).unwrap_or(0.0);
        let t = if v.is_finite() && v > 0.0 {
            v as u64
        } else {
            0
        };
        shell.update(|s| {
            s.play(false);
            s.seek(t)
        });
    };
    el("div").class("scrub").child(markers(shell)).child(
        el("input")
            .attr("type", "range")
            .class("scrubber")
            .attr("aria-label", "Time cursor")
            .attr("min", "0")
            .attr("step", "1000")
            // The maximum first: a value past the old maximum would be clamped to it.
            .prop_with("max", move || bar_max_us(shell).to_string().into())
            .prop_with("value", move || now_us(shell).to_string().into())
            .on("input", scrub),
    )
}

/// Ticks above the scrub bar: interventions (commands in the script) and property violations.
/// The list is rebuilt only when it changes; positions follow the growing bar.
fn markers(shell: Shell) -> El {
    let marks = memo(move || {
        shell.tick.get();
        shell
            .with(|s| {
                let n = s.sim().n();
                let mut v: Vec<(u64, bool, String)> = s
                    .sim()
                    .script()
                    .iter()
                    .map(|c| {
                        let words = c.action.describe(|e| {
                            if e < n {
                                format!("S{e}")
                            } else {
                                format!("C{}", e - n)
                            }
                        });
                        (c.at_us, false, format!("{}: {words}", clock_text(c.at_us)))
                    })
                    .collect();
                v.extend(
                    s.violation_times()
                        .map(|t| (t, true, format!("property violated at {}", clock_text(t)))),
                );
                v
            })
            .unwrap_or_default()
    });
    let bar_max = memo(move || bar_max_us(shell));
    el("div")
        .class("markers")
        .attr("aria-hidden", "true")
        .dynamic(move || {
            marks
                .get()
                .into_iter()
                .map(|(at, bad, title)| {
                    let class = if bad {
                        "mark violation"
                    } else {
                        "mark command"
                    };
                    let bar_max = bar_max.clone();
                    let left = move || {
                        let percent = (at as f64 / bar_max.get() as f64 * 100.0).min(100.0);
                        format!("left:{}%", crate::sim::time::fixed(percent, 3))
                    };
                    el("span")
                        .class(class)
                        .attr("title", &title)
                        .attr_with("style", move || Some(left()))
                })
                .collect::<Vec<El>>()
        })
}
