//! The page: header, topology stage, side panel, space-time diagram, timeline, help overlay.

use super::clock::{self, Canvases};
use super::diagram::diagram;
use super::dom::{self, el, event_value, listen_window, memo, El};
use super::side::side;
use super::stage::stage;
use super::timeline::timeline;
use super::{hook, keys, Shell};
use crate::labs::{self, REGISTRY};
use crate::play::session::Session;
use crate::scenario::{link, Scenario};

fn window() -> web_sys::Window {
    web_sys::window().expect("the page has a window")
}

/// The whole playground. Opens the scenario in the address bar (or the first lab's default),
/// starts the display clock and installs the keyboard and the test hook.
pub fn app() -> El {
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
    let opened = link::decode(&hash).ok();
    let has_cursor = opened.as_ref().is_some_and(|s| s.cursor_us.is_some());
    let opening = session.opening.as_ref().map(|o| o.progress());
    let shell = Shell::new(session);
    shell.opening.set(opening);
    // A newcomer without a link lands on the gallery; the run behind it waits.
    let landing = hash.trim_start_matches('#').is_empty();
    shell.gallery.set(landing);
    // A shared paused moment opens paused; otherwise play, unless the user asked for less motion.
    shell
        .session
        .update_value(|s| s.play(error.is_none() && !has_cursor && !reduced_motion && !landing));
    if let Some(why) = shell.with(|s| s.stall()).flatten() {
        shell
            .notice
            .set(Some(format!("Opened, and paused: {why}.")));
    }
    shell.notice.set(error.map(|e| {
        format!("This link could not be opened: {e}. Showing the default scenario instead.")
    }));

    // A lesson's link names its step: it opens where the steps before it end, as Next does.
    let step = opened.filter(|s| s.lesson.is_some() && s.cursor_us.is_none());
    if let Some(k) = step.and_then(|s| s.step).filter(|&k| k > 1) {
        super::lesson::go(shell, k as usize);
    }

    dom::own(Box::new(Retire(shell)));
    let canvases = Canvases::default();
    clock::start(shell, canvases);
    keys::install(shell);
    hook::install(shell, canvases);
    follow_hash_changes(shell);

    let data = move |f: fn(&Session) -> String| {
        move || {
            shell.tick.get();
            shell.with(f)
        }
    };
    el("div")
        .attr("id", "dsplay")
        .class("app")
        .class_when("presenter", move || shell.presenter.get())
        .class_when("panels-open", move || shell.presenter_panels.get())
        .class_when("gallery-open", move || shell.gallery.get())
        .class_when("embed", move || {
            shell.edits.get();
            shell.with(|s| s.base_embed()).unwrap_or(false)
        })
        .attr_with(
            "data-trace-hash",
            data(|s| format!("{:016x}", s.sim().trace_hash())),
        )
        .attr_with("data-now-us", data(|s| s.now_us().to_string()))
        .attr_with("data-playing", data(|s| s.playing.to_string()))
        .attr_with("data-lab", data(|s| s.lab().id.to_string()))
        .child(header(shell))
        .child(
            el("main")
                .class("main")
                // Over the stage, so that nothing a notice says moves or resizes the canvases.
                .child(
                    el("div")
                        .class("overlays")
                        .dynamic_by(
                            move || shell.opening.get().is_some(),
                            move |on| on.then(|| opening_view(shell)),
                        )
                        .dynamic(move || notice_view(shell))
                        .dynamic(super::lesson::lesson_view(shell))
                        .dynamic_by(
                            move || super::lesson::blank(shell),
                            |on| on.then(|| el("div").class("blank")),
                        ),
                )
                .dynamic(super::narration::view(shell))
                .dynamic_by(
                    move || shell.gallery.get(),
                    move |on| on.then(|| super::gallery::gallery(shell)),
                )
                .child(open_full(shell))
                .child(stage(shell, canvases.topo))
                .child(side(shell))
                .child(diagram(shell, canvases.diagram)),
        )
        .child(timeline(shell))
        .dynamic(move || help_view(shell))
        .dynamic(move || super::share::share_view(shell))
}

/// In an embedded view: the same run in a page of its own, in a new tab.
fn open_full(shell: Shell) -> El {
    el("a")
        .class("open-full")
        .attr("target", "_blank")
        .attr("rel", "noopener")
        .attr_with("href", move || {
            shell.tick.get();
            shell.with(|s| {
                let mut sc = s.scenario();
                sc.embed = false;
                sc.cursor_us = Some(s.now_us()).filter(|&t| t > 0);
                link::encode(&sc)
            })
        })
        .text("Open in dsplay \u{2197}")
}

/// Takes the shell down with the view (a test's mount, say): reads give nothing, the clock
/// stops.
struct Retire(Shell);

impl Drop for Retire {
    fn drop(&mut self) {
        self.0.retire();
    }
}

/// Loads a link typed or pasted into the address bar (our own `replaceState` fires no event).
fn follow_hash_changes(shell: Shell) {
    listen_window("hashchange", move |_| {
        let hash = window().location().hash().unwrap_or_default();
        if shell.with(|s| s.link() == hash).unwrap_or(true) {
            return;
        }
        shell.gallery.set(false);
        match link::decode(&hash) {
            // As a page opened at this link would: playing, unless it names a moment.
            Ok(s) => shell.try_update(|x| {
                x.load(&s)?;
                x.play(s.cursor_us.is_none());
                Ok(())
            }),
            Err(e) => shell
                .notice
                .set(Some(format!("This link could not be opened: {e}"))),
        }
    });
}

/// A run of a deliberately broken variant of the protocol says so, plainly, on every view.
/// A memo, like the lab's: the banner changes only when the variant does, not on every tick.
fn broken_banner(shell: Shell) -> impl Fn() -> Option<El> {
    let variant = memo(move || {
        shell.tick.get();
        shell
            .with(|s| labs::variant_of(s.lab(), s.base()))
            .flatten()
    });
    move || {
        let v = variant.get()?;
        let text = format!(
            "Deliberately broken: {} (it should break {})",
            v.mistake, v.breaks
        );
        Some(
            el("span")
                .class("broken")
                .attr("role", "status")
                .text(&text),
        )
    }
}

/// The header: lab picker, presets, share, presenter mode and help.
fn header(shell: Shell) -> El {
    // A memo: the lab select and the preset list change only when the lab does. Setting a
    // form control, even to the value it has, makes the browser re-check the page's forms
    // (a forced layout), which the clock's ticks must not cause several times a second.
    let lab = memo(move || {
        shell.tick.get();
        shell.with(|s| s.lab().id).unwrap_or_default()
    });
    let pick_lab = move |ev: web_sys::Event| {
        if let Some(lab) = labs::find(&event_value(&ev)) {
            // A lab picked from the menu opens as a preset does: playing.
            shell.try_update(|s| {
                s.load(&Scenario::default_for(lab))?;
                s.play(true);
                Ok(())
            });
            shell.notice.set(None);
        }
    };
    let lab_value = lab.clone();
    let presets = move || {
        let lab = labs::find(lab.get()).map_or(&[][..], |l| l.presets);
        let options = lab.iter().map(|p| {
            el("option")
                .attr("value", p.link)
                .attr("title", p.description)
                .text(p.name)
        });
        std::iter::once(el("option").attr("value", "").text("Presets…"))
            .chain(options)
            .collect::<Vec<_>>()
    };
    el("header")
        .class("bar")
        .child(
            el("h1")
                .class("brand")
                .attr("title", "The Distributed Systems Playground")
                .text("dsplay"),
        )
        .child(
            el("label")
                .class("field")
                .child(el("span").class("sr").text("Lab"))
                .child(
                    el("select")
                        .attr("aria-label", "Lab")
                        .on("change", pick_lab)
                        .children(REGISTRY.iter().map(|l| {
                            el("option")
                                .attr("value", l.id)
                                .attr("title", l.summary)
                                .text(l.title)
                        }))
                        .prop_with("value", move || lab_value.get().into()),
                ),
        )
        .child(
            el("select")
                .class("presets")
                .attr("aria-label", "Scenario presets")
                .on("change", move |ev| pick_preset(shell, ev))
                .dynamic(presets),
        )
        .child(
            el("button")
                .class("btn gallery-btn")
                .attr("aria-label", "Gallery of lessons and presets")
                .attr(
                    "title",
                    "Every lab's lessons and presets, each with a picture of its run",
                )
                .attr_with("aria-pressed", move || {
                    Some(shell.gallery.get().to_string())
                })
                .on("click", move |_| shell.gallery.update(|g| *g = !*g))
                .text("Gallery"),
        )
        .child(el("span").class("spacer"))
        .dynamic(broken_banner(shell))
        .child(
            el("button")
                .class("btn share-btn")
                .attr("aria-label", "Share this run: a link, a QR code, exports")
                .attr(
                    "title",
                    "Share this run: a link from the start or at this moment, a QR code, exports",
                )
                .on("click", move |_| super::share::open(shell))
                .text("Share"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Presenter mode")
                .attr(
                    "title",
                    "Presenter mode (p): the stage fills the screen, in large type and thick lines",
                )
                .attr_with("aria-pressed", move || {
                    Some(shell.presenter.get().to_string())
                })
                .on("click", move |_| {
                    shell.presenter.update(|p| *p = !*p);
                    shell.changed();
                })
                .text("Presenter"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Narration")
                .attr(
                    "title",
                    "Narration (n): what the run last did, in words, along the foot of the stage",
                )
                .attr_with("aria-pressed", move || {
                    Some(shell.narration.get().to_string())
                })
                .on("click", move |_| super::narration::toggle(shell))
                .text("Narration"),
        )
        .child(
            el("button")
                .class("btn only-presenter")
                .attr("aria-label", "Show the panels")
                .attr(
                    "title",
                    "The inspector, controls, experiments and history, over the stage",
                )
                .attr_with("aria-pressed", move || {
                    Some(shell.presenter_panels.get().to_string())
                })
                .on("click", move |_| {
                    shell.presenter_panels.update(|p| *p = !*p);
                    shell.changed();
                })
                .text("Panels"),
        )
        .child(
            el("button")
                .class("btn only-presenter")
                .attr("aria-label", "Full screen")
                .attr("title", "Full screen (F); Esc leaves it")
                .on("click", |_| toggle_full_screen())
                .text("Full screen"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Help and keyboard shortcuts")
                .attr("title", "Help (?)")
                .on("click", move |_| shell.help.update(|h| *h = !*h))
                .text("?"),
        )
}

/// Fills the screen with the page, or leaves full screen.
pub fn toggle_full_screen() {
    let doc = window().document();
    let Some(doc) = doc else { return };
    if doc.fullscreen_element().is_some() {
        doc.exit_fullscreen();
    } else if let Some(root) = doc.document_element() {
        let _ = root.request_fullscreen();
    }
}

/// Loads the picked preset, plays it and says in the overlay which one it is.
fn pick_preset(shell: Shell, ev: web_sys::Event) {
    let value = event_value(&ev);
    if let Some(target) = ev.target() {
        let _ = js_sys::Reflect::set(&target, &"value".into(), &"".into());
    }
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
}

/// A link being opened in the background: how far its replay has come, and a way to stop it.
/// It lies over the stage and moves nothing; its text and bar follow the replay.
fn opening_view(shell: Shell) -> El {
    let cancel = move |_| {
        shell.opening.set(None);
        let _ = shell.update(|s| {
            s.apply(crate::play::session::Change::CancelOpen)
                .map(|_| ())
        });
        shell.inform("Opening the link was cancelled: the run stays where it is.".into());
    };
    let text = move || {
        let (done_us, target_us, events) = shell.opening.get().unwrap_or_default();
        format!(
            "Opening the link: replaying its run, {} of {} ({} events so far)",
            crate::sim::time::format_span(done_us),
            crate::sim::time::format_span(target_us),
            crate::labs::count_text(events),
        )
    };
    let percent = move || {
        let (done_us, target_us, _) = shell.opening.get()?;
        let percent = (done_us as f64 / target_us.max(1) as f64 * 100.0).min(100.0);
        Some(crate::sim::time::fixed(percent, 0))
    };
    el("div")
        .class("opening")
        .attr("role", "status")
        .attr("aria-live", "polite")
        .child(el("span").class("opening-text").text_with(text))
        .child(
            el("progress")
                .attr("max", "100")
                .attr_with("value", percent)
                .attr("aria-label", "Replayed"),
        )
        .child(
            el("button")
                .class("btn small")
                .on("click", cancel)
                .text("Cancel"),
        )
}

/// A dismissible message: a bad link, a refused action, a violation.
fn notice_view(shell: Shell) -> Option<El> {
    let text = shell.notice.get()?;
    Some(
        el("div")
            .class("notice")
            .attr("role", "alert")
            .child(el("span").class("notice-text").text(&text))
            .child(
                el("button")
                    .class("btn small")
                    .attr("aria-label", "Dismiss message")
                    .on("click", move |_| shell.notice.set(None))
                    .text("×"),
            ),
    )
}

/// A dialog over the page: `body` with a Close button; a click outside closes it too.
pub fn dialog(label: &str, close_label: &str, body: El, close: impl Fn() + Copy + 'static) -> El {
    let body = body.on("click", |ev| ev.stop_propagation()).child(
        el("button")
            .class("btn")
            .attr("aria-label", close_label)
            .on("click", move |_| close())
            .text("Close"),
    );
    el("div")
        .class("overlay")
        .attr("role", "dialog")
        .attr("aria-modal", "true")
        .attr("aria-label", label)
        .on("click", move |_| close())
        .child(body)
}

/// The help overlay: what the views show, the gestures and the keys.
fn help_view(shell: Shell) -> Option<El> {
    if !shell.help.get() {
        return None;
    }
    let li = |t: &str| el("li").text(t);
    let key = |keys: &[&str], what: &str| {
        let dt = keys.iter().enumerate().fold(el("dt"), |dt, (i, k)| {
            let dt = if i > 0 { dt.text(" ") } else { dt };
            dt.child(el("kbd").text(k))
        });
        vec![dt, el("dd").text(what)]
    };
    let keys = [
        key(&["Space"], "play / pause"),
        key(&["→"], "step to the next event"),
        key(&["←"], "step back one event"),
        key(&["[", "]"], "slower / faster"),
        key(&["p"], "presenter mode"),
        key(&["n"], "narration on or off"),
        key(&["F"], "full screen"),
        key(&["Esc"], "close, clear the selection"),
        key(&["?"], "this help"),
    ];
    let help = el("div")
        .class("help")
        .child(el("h2").text("How to use the playground"))
        .child(el("p").text("Every node runs the real protocol; messages move in virtual time. Everything you do is recorded in the link, so the address bar always reproduces this exact run."))
        .child(el("h3").text("On the topology"))
        .child(el("ul").children([
            li("Click a node or a message to inspect it; right-click a node for crash / restart."),
            li("Drag a line across the circle of nodes to split them into two partitions."),
            li("Click a link to cut or heal it; shift-click near one end to cut only the messages going towards that end."),
        ]))
        .child(el("h3").text("Keys"))
        .child(el("dl").class("keys").children(keys.into_iter().flatten()))
        .child(el("p").class("muted").text("Colours follow the Okabe–Ito palette, safe for colour-blind viewers. Crossed, dashed lines are cut links; a cross is a dropped message."))
        ;
    Some(dialog("Help", "Close help", help, move || {
        shell.help.set(false)
    }))
}
