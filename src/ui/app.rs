//! The page: header, topology stage, side panel, space-time diagram, timeline, help overlay.

use super::clock::{self, Canvases};
use super::diagram::Diagram;
use super::side::Side;
use super::stage::Stage;
use super::timeline::Timeline;
use super::{hook, keys, Shell};
use crate::labs::{self, REGISTRY};
use crate::scenario::{link, Scenario};
use crate::viz::session::Session;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

/// The whole playground. Opens the scenario in the address bar (or the first lab's default),
/// starts the display clock and installs the keyboard and the test hook.
#[component]
pub fn App() -> impl IntoView {
    let hash = window().location().hash().unwrap_or_default();
    let (session, error) = if hash.trim_start_matches('#').is_empty() {
        (Session::default_for(REGISTRY[0]), None)
    } else {
        Session::open_in_background(&hash)
    };
    let reduced_motion = window()
        .match_media("(prefers-reduced-motion: reduce)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches());
    let has_cursor = link::decode(&hash).is_ok_and(|s| s.cursor_us.is_some());
    let opening = session.opening.as_ref().map(|o| o.progress());
    let shell = Shell::new(session);
    shell.opening.set(opening);
    // A shared paused moment opens paused; otherwise play, unless the user asked for less motion.
    shell
        .session
        .update_value(|s| s.play(error.is_none() && !has_cursor && !reduced_motion));
    if let Some(why) = shell.with(|s| s.stall()).flatten() {
        shell
            .notice
            .set(Some(format!("Opened, and paused: {why}.")));
    }
    shell.notice.set(error.map(|e| {
        format!("This link could not be opened: {e}. Showing the default scenario instead.")
    }));
    provide_context(shell);

    let canvases = Canvases {
        topo: NodeRef::new(),
        diagram: NodeRef::new(),
    };
    clock::start(shell, canvases);
    keys::install(shell);
    hook::install(shell, canvases);
    follow_hash_changes(shell);

    let data_hash = move || {
        shell.tick.get();
        shell
            .with(|s| format!("{:016x}", s.sim().trace_hash()))
            .unwrap_or_default()
    };
    let data_now = move || {
        shell.tick.get();
        shell.with(|s| s.now_us().to_string()).unwrap_or_default()
    };
    let data_playing = move || {
        shell.tick.get();
        shell.with(|s| s.playing.to_string()).unwrap_or_default()
    };
    let data_lab = move || {
        shell.tick.get();
        shell.with(|s| s.lab().id).unwrap_or_default()
    };
    view! {
        <div
            id="dsplay"
            class="app"
            class:presenter=move || shell.presenter.get()
            data-trace-hash=data_hash
            data-now-us=data_now
            data-playing=data_playing
            data-lab=data_lab
        >
            <Header/>
            <main class="main">
                // Over the stage, so that nothing a notice says moves or resizes the canvases.
                <div class="overlays">
                    <Opening/>
                    <Notice/>
                </div>
                <Stage canvas=canvases.topo/>
                <Side/>
                <Diagram canvas=canvases.diagram/>
            </main>
            <Timeline/>
            <Help/>
        </div>
    }
}

/// Loads a link typed or pasted into the address bar (our own `replaceState` fires no event).
fn follow_hash_changes(shell: Shell) {
    let handle = window_event_listener(leptos::ev::hashchange, move |_| {
        let hash = window().location().hash().unwrap_or_default();
        if shell.with(|s| s.link() == hash).unwrap_or(true) {
            return;
        }
        match link::decode(&hash) {
            Ok(s) => shell.try_update(|x| x.load(&s)),
            Err(e) => shell
                .notice
                .set(Some(format!("This link could not be opened: {e}"))),
        }
    });
    on_cleanup(move || handle.remove());
}

/// The header: lab picker, presets, share, presenter mode and help.
#[component]
fn Header() -> impl IntoView {
    let shell = expect_context::<Shell>();
    // A memo: the lab select and the preset list change only when the lab does. Setting a
    // form control, even to the value it has, makes the browser re-check the page's forms
    // (a forced layout), which the clock's ticks must not cause several times a second.
    let lab = Memo::new(move |_| {
        shell.tick.get();
        shell.with(|s| s.lab().id).unwrap_or_default()
    });
    let lab_id = move || lab.get();
    let pick_lab = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        if let Some(lab) = labs::find(&id) {
            shell.try_update(|s| s.load(&Scenario::default_for(lab)));
            shell.notice.set(None);
        }
    };
    let presets = move || labs::find(lab.get()).map_or(&[][..], |l| l.presets);
    let pick_preset = move |ev: leptos::ev::Event| {
        let target = event_target::<web_sys::HtmlSelectElement>(&ev);
        let value = target.value();
        target.set_value("");
        match link::decode(&value) {
            Ok(s) => {
                shell.try_update(|x| {
                    x.load(&s)?;
                    x.play(true);
                    Ok(())
                });
                // The caption says which preset is loaded and what to watch for.
                let preset =
                    labs::find(&s.lab).and_then(|l| l.presets.iter().find(|p| p.link == value));
                if let Some(p) = preset {
                    shell
                        .notice
                        .set(Some(format!("{}: {}.", p.name, p.description)));
                }
            }
            Err(e) => shell.notice.set(Some(e.0)),
        }
    };
    let share = move |_| share(shell);
    view! {
        <header class="bar">
            <h1 class="brand" title="The Distributed Systems Playground">"dsplay"</h1>
            <label class="field">
                <span class="sr">"Lab"</span>
                <select aria-label="Lab" on:change=pick_lab prop:value=lab_id>
                    {REGISTRY.iter().map(|l| view! { <option value=l.id title=l.summary>{l.title}</option> }).collect_view()}
                </select>
            </label>
            <select class="presets" aria-label="Scenario presets" on:change=pick_preset>
                <option value="">"Presets…"</option>
                {move || presets().iter().map(|p| view! { <option value=p.link title=p.description>{p.name}</option> }).collect_view()}
            </select>
            <span class="spacer"></span>
            <button class="btn" aria-label="Copy a link to this exact run" title="Copy a link to this exact run" on:click=share>"Share"</button>
            <button
                class="btn"
                aria-label="Presenter mode"
                title="Presenter mode: larger type and thicker lines"
                aria-pressed=move || shell.presenter.get().to_string()
                on:click=move |_| {
                    shell.presenter.update(|p| *p = !*p);
                    shell.changed();
                }
            >
                "Presenter"
            </button>
            <button class="btn" aria-label="Help and keyboard shortcuts" title="Help (?)" on:click=move |_| shell.help.update(|h| *h = !*h)>"?"</button>
        </header>
    }
}

/// Copies the link to this exact moment (the cursor included) and says so.
fn share(shell: Shell) {
    let Some((link, events)) = shell.with(|s| {
        let mut sc = s.scenario();
        sc.cursor_us = Some(s.now_us());
        (link::encode(&sc), s.sim().counters().events)
    }) else {
        return;
    };
    if events > crate::labs::REPLAY_EVENT_BUDGET {
        // Handing out a link that will be refused helps nobody: say so first.
        shell.notice.set(Some(format!(
            "This moment is too far into the run to share: a link reopens at most {} events \
             of a run, and this one has made {} so far. Share an earlier moment, or the run \
             from the start.",
            crate::labs::count_text(crate::labs::REPLAY_EVENT_BUDGET),
            crate::labs::count_text(events),
        )));
        return;
    }
    let loc = window().location();
    let base = format!(
        "{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default()
    );
    let url = format!("{base}{link}");
    // Without clipboard permission the promise rejects: the notice still shows the link.
    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
    let _ = window()
        .navigator()
        .clipboard()
        .write_text(&url)
        .catch(&ignore);
    ignore.forget();
    shell.inform(format!("Link copied: {url}"));
}

/// A link being opened in the background: how far its replay has come, and a way to stop it.
/// It lies over the stage and moves nothing.
#[component]
fn Opening() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let cancel = move |_| {
        shell.opening.set(None);
        let _ = shell.update(|s| s.apply(crate::viz::session::Op::CancelOpen).map(|_| ()));
        shell.inform("Opening the link was cancelled: the run stays where it is.".into());
    };
    move || {
        shell.opening.get().map(|(done_us, target_us, events)| {
            let percent = (done_us as f64 / target_us.max(1) as f64 * 100.0).min(100.0);
            let text = format!(
                "Opening the link: replaying its run, {} of {} ({} events so far)",
                crate::sim::time::format_span(done_us),
                crate::sim::time::format_span(target_us),
                crate::labs::count_text(events),
            );
            view! {
                <div class="opening" role="status" aria-live="polite">
                    <span class="opening-text">{text}</span>
                    <progress max="100" value=format!("{percent:.0}") aria-label="Replayed"></progress>
                    <button class="btn small" on:click=cancel>"Cancel"</button>
                </div>
            }
        })
    }
}

/// A dismissible message: a bad link, a refused action, a violation.
#[component]
fn Notice() -> impl IntoView {
    let shell = expect_context::<Shell>();
    move || {
        shell.notice.get().map(|text| {
            view! {
                <div class="notice" role="alert">
                    <span class="notice-text">{text}</span>
                    <button class="btn small" aria-label="Dismiss message" on:click=move |_| shell.notice.set(None)>"×"</button>
                </div>
            }
        })
    }
}

/// The help overlay: what the views show, the gestures and the keys.
#[component]
fn Help() -> impl IntoView {
    let shell = expect_context::<Shell>();
    move || {
        shell.help.get().then(|| {
            view! {
                <div class="overlay" role="dialog" aria-modal="true" aria-label="Help" on:click=move |_| shell.help.set(false)>
                    <div class="help" on:click=|ev| ev.stop_propagation()>
                        <h2>"How to use the playground"</h2>
                        <p>"Every node runs the real protocol; messages move in virtual time. Everything you do is recorded in the link, so the address bar always reproduces this exact run."</p>
                        <h3>"On the topology"</h3>
                        <ul>
                            <li>"Click a node or a message to inspect it; right-click a node for crash / restart."</li>
                            <li>"Drag a line across the ring to split the nodes into two partitions."</li>
                            <li>"Click a link to cut or heal it; shift-click near one end to cut only the messages going towards that end."</li>
                        </ul>
                        <h3>"Keys"</h3>
                        <dl class="keys">
                            <dt><kbd>"Space"</kbd></dt><dd>"play / pause"</dd>
                            <dt><kbd>"→"</kbd></dt><dd>"step to the next event"</dd>
                            <dt><kbd>"←"</kbd></dt><dd>"step back one event"</dd>
                            <dt><kbd>"["</kbd>" "<kbd>"]"</kbd></dt><dd>"slower / faster"</dd>
                            <dt><kbd>"p"</kbd></dt><dd>"presenter mode"</dd>
                            <dt><kbd>"Esc"</kbd></dt><dd>"close, clear the selection"</dd>
                            <dt><kbd>"?"</kbd></dt><dd>"this help"</dd>
                        </dl>
                        <p class="muted">"Colours follow the Okabe–Ito palette, safe for colour-blind viewers. Crossed, dashed lines are cut links; a cross is a dropped message."</p>
                        <button class="btn" aria-label="Close help" on:click=move |_| shell.help.set(false)>"Close"</button>
                    </div>
                </div>
            }
        })
    }
}
