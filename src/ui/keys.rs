//! The keyboard (and presenter remotes, which send arrows, space and page keys).

use super::Shell;
use crate::viz::scene::Selection;
use crate::viz::session::SPEEDS;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Installs the page-wide shortcuts; removed when the app unmounts.
pub fn install(shell: Shell) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let key = ev.key();
        if in_control(&ev, &key) {
            return;
        }
        let handled = match key.as_str() {
            " " | "k" => {
                shell.update(|s| {
                    let on = !s.playing;
                    s.play(on)
                });
                true
            }
            "ArrowRight" | "PageDown" => {
                shell.update(|s| s.step_forward());
                true
            }
            "ArrowLeft" | "PageUp" => {
                shell.update(|s| s.step_back());
                true
            }
            "]" => {
                shell.update(|s| s.set_speed((s.speed_ix + 1).min(SPEEDS.len() - 1)));
                true
            }
            "[" => {
                shell.update(|s| s.set_speed(s.speed_ix.saturating_sub(1)));
                true
            }
            "?" => {
                shell.help.update(|h| *h = !*h);
                true
            }
            "p" => {
                shell.presenter.update(|p| *p = !*p);
                shell.changed();
                true
            }
            "Escape" => {
                shell.help.set(false);
                shell.menu.set(None);
                shell.update(|s| s.selection = Selection::None);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
}

/// Keys typed into a form control belong to it (a focused button keeps space and enter).
fn in_control(ev: &web_sys::KeyboardEvent, key: &str) -> bool {
    if key == "Escape" {
        return false;
    }
    let Some(el) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    match el.tag_name().as_str() {
        "INPUT" | "SELECT" | "TEXTAREA" => true,
        "BUTTON" => key == " " || key == "Enter",
        _ => false,
    }
}
