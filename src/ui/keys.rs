//! The keyboard (and presenter remotes, which send arrows, space and page keys).

use super::dom::listen_window;
use super::Shell;
use crate::play::session::SPEEDS;
use crate::viz::scene::Selection;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;

/// Installs the page-wide shortcuts; removed when the app unmounts.
pub fn install(shell: Shell) {
    // Whether the focused control was last reached with the pointer (a click or tap) rather
    // than the keyboard (Tab). Browsers' :focus-visible cannot tell: it turns on at the first
    // key pressed, space included.
    let by_pointer = Rc::new(Cell::new(false));
    let pointer = by_pointer.clone();
    listen_window("pointerdown", move |_| pointer.set(true));
    listen_window("keydown", move |ev| {
        let Some(ev) = ev.dyn_ref::<web_sys::KeyboardEvent>() else {
            return;
        };
        let key = ev.key();
        if key == "Tab" {
            by_pointer.set(false);
        }
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        if in_control(ev, &key, !by_pointer.get()) {
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
            "PageDown" | "." if super::lesson::step_by(shell, 1) => true,
            "PageUp" if super::lesson::step_by(shell, -1) => true,
            "b" if super::lesson::toggle_blank(shell) => true,
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
            "n" => {
                super::narration::toggle(shell);
                true
            }
            "F" => {
                super::app::toggle_full_screen();
                true
            }
            k if lab_key(shell, k).is_some() => {
                if let Some(v) = lab_key(shell, k) {
                    shell.lab_verb(v, None);
                }
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
}

/// The lab's action on key `k`, if it has one.
fn lab_key(shell: Shell, k: &str) -> Option<&'static crate::labs::Verb> {
    let mut chars = k.chars();
    let c = chars.next().filter(|_| chars.next().is_none())?;
    shell
        .with(|s| s.lab().verbs.iter().find(|v| v.key == Some(c)))
        .flatten()
}

/// Keys typed into a form control belong to it. A button, checkbox, slider or menu reached by
/// the keyboard keeps space and enter (space presses it); one the pointer last clicked does not:
/// a teacher who clicks "Presenter" or "Heal all" and then presses space means play or pause,
/// not a second press of that button.
fn in_control(ev: &web_sys::KeyboardEvent, key: &str, by_keyboard: bool) -> bool {
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
        "INPUT" => {
            let kind = el.get_attribute("type").unwrap_or_default();
            match kind.as_str() {
                "checkbox" | "radio" | "range" | "button" => {
                    // A slider keeps the keys that move it; space and enter belong to a
                    // keyboard-focused control.
                    (kind == "range"
                        && (key.starts_with("Arrow")
                            || matches!(key, "PageUp" | "PageDown" | "Home" | "End")))
                        || ((key == " " || key == "Enter") && by_keyboard)
                }
                _ => true,
            }
        }
        "TEXTAREA" => true,
        "SELECT" => key != " " || by_keyboard,
        "BUTTON" => (key == " " || key == "Enter") && by_keyboard,
        _ => false,
    }
}
