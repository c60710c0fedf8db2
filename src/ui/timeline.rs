//! The timeline: play / pause, step, speed, skip idle time, the scrub bar with markers for
//! interventions and violations, and the virtual clock.

use super::{clock_text, Shell};
use crate::viz::session::SPEEDS;
use leptos::prelude::*;

/// The scrub bar never shows less than this much time (so the first second is not a blur).
const MIN_BAR_US: u64 = 1_000_000;

/// The transport controls and scrub bar at the bottom of the page.
#[component]
pub fn Timeline() -> impl IntoView {
    let shell = expect_context::<Shell>();
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
    let bar_max = move || {
        shell.tick.get();
        shell
            .with(|s| s.horizon_us().max(s.now_us()).max(MIN_BAR_US))
            .unwrap_or(MIN_BAR_US)
    };
    let now = move || {
        shell.tick.get();
        shell.with(|s| s.now_us()).unwrap_or(0)
    };
    let scrub = move |ev: leptos::ev::Event| {
        let v = crate::sim::time::parse_decimal_f64(&event_target_value(&ev)).unwrap_or(0.0);
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
    let speed_ix = move || {
        shell.edits.get();
        shell.with(|s| s.speed_ix).unwrap_or(3)
    };
    let set_speed = move |ev: leptos::ev::Event| {
        let ix: usize = event_target_value(&ev).parse().unwrap_or(3);
        shell.update(|s| s.set_speed(ix));
    };
    let skip = move || {
        shell.edits.get();
        shell.with(|s| s.skip_idle).unwrap_or(false)
    };
    view! {
        <footer class="timeline" aria-label="Timeline">
            <div class="transport">
                <button class="btn icon" aria-label="Step back one event" title="Step back one event (←)" on:click=move |_| { shell.update(|s| s.step_back()); }><svg viewBox="0 0 16 16" aria-hidden="true"><path d="M2 2h2.5v12H2zM14 2v12L5 8z"/></svg></button>
                <button
                    class="btn icon play"
                    aria-label=move || if playing() { "Pause" } else { "Play" }
                    title="Play / pause (space)"
                    aria-pressed=move || playing().to_string()
                    on:click=toggle
                >
                    <svg viewBox="0 0 16 16" aria-hidden="true">
                        <path d=move || if playing() { "M3 2h3.5v12H3zM9.5 2H13v12H9.5z" } else { "M3 1.5v13L14 8z" }/>
                    </svg>
                </button>
                <button class="btn icon" aria-label="Step to the next event" title="Step to the next event (→)" on:click=move |_| { shell.update(|s| s.step_forward()); }><svg viewBox="0 0 16 16" aria-hidden="true"><path d="M11.5 2H14v12h-2.5zM2 2v12l9-6z"/></svg></button>
                <select class="speed" aria-label="Speed" title="Speed ([ and ])" prop:value=move || speed_ix().to_string() on:change=set_speed>
                    {SPEEDS.iter().enumerate().map(|(i, v)| view! { <option value=i.to_string()>{format!("{v}×")}</option> }).collect_view()}
                </select>
                <label class="check" title="Jump over stretches where nothing is in flight">
                    <input
                        type="checkbox"
                        aria-label="Skip idle time"
                        prop:checked=skip
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            shell.update(|s| s.skip_idle = on);
                        }
                    />
                    "skip idle"
                </label>
                <output class="clock" aria-label="Virtual time" aria-live="off">{move || clock_text(now())}</output>
            </div>
            <div class="scrub">
                <Markers/>
                <input
                    type="range"
                    class="scrubber"
                    aria-label="Time cursor"
                    min="0"
                    step="1000"
                    prop:max=move || bar_max().to_string()
                    prop:value=move || now().to_string()
                    on:input=scrub
                />
            </div>
        </footer>
    }
}

/// Ticks above the scrub bar: interventions (commands in the script) and property violations.
/// The list is rebuilt only when it changes; positions follow the growing bar.
#[component]
fn Markers() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let marks = Memo::new(move |_| {
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
    let bar_max = Memo::new(move |_| {
        shell.tick.get();
        shell
            .with(|s| s.horizon_us().max(s.now_us()).max(MIN_BAR_US))
            .unwrap_or(MIN_BAR_US)
    });
    view! {
        <div class="markers" aria-hidden="true">
            {move || marks.get().into_iter().map(|(at, bad, title)| {
                let class = if bad { "mark violation" } else { "mark command" };
                let left = move || format!("left:{:.3}%", (at as f64 / bar_max.get() as f64 * 100.0).min(100.0));
                view! { <span class=class title=title style=left></span> }
            }).collect_view()}
        </div>
    }
}
