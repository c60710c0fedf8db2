//! Saved scenarios in the share dialog: save this run under a name, and open, rename or delete
//! what was saved before. Entries live in the browser's local storage
//! ([`crate::play::saved`]); one that cannot be read is reported and can be removed, and never
//! stops the rest from listing.

use super::dom::{el, El};
use super::Shell;
use crate::play::saved::{list, new_key, Saved};
use crate::scenario::link;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Every entry of the storage, as (key, text).
fn entries(s: &web_sys::Storage) -> Vec<(String, String)> {
    let n = s.length().unwrap_or(0);
    (0..n)
        .filter_map(|i| s.key(i).ok().flatten())
        .filter_map(|k| s.get_item(&k).ok().flatten().map(|v| (k, v)))
        .collect()
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Saves the run (from the start, with its interventions) under `name`.
fn save(shell: Shell, name: &str) {
    let Some(s) = storage() else {
        shell.inform(
            "This browser keeps no storage for this page (private mode?): nothing was saved."
                .into(),
        );
        return;
    };
    let Some(link_text) = shell.with(|x| {
        let mut sc = x.scenario();
        sc.cursor_us = None;
        link::encode(&sc)
    }) else {
        return;
    };
    let taken: Vec<String> = entries(&s).into_iter().map(|e| e.0).collect();
    let entry = Saved::new(new_key(now_ms(), &taken), name, link_text, now_ms());
    match s.set_item(&entry.key, &entry.text()) {
        Ok(()) => shell.inform(format!(
            "Saved as \u{201c}{}\u{201d} in this browser.",
            entry.name
        )),
        Err(_) => shell.inform("The browser's storage is full: nothing was saved.".into()),
    }
    shell.saved.update(|v| *v += 1);
}

fn remove(shell: Shell, key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
    shell.saved.update(|v| *v += 1);
}

fn rename(shell: Shell, entry: &Saved) {
    let Some(w) = web_sys::window() else { return };
    let Ok(Some(name)) = w.prompt_with_message_and_default("A new name", &entry.name) else {
        return;
    };
    let renamed = Saved::new(entry.key.clone(), &name, entry.link.clone(), entry.saved_ms);
    if let Some(s) = storage() {
        let _ = s.set_item(&renamed.key, &renamed.text());
    }
    shell.saved.update(|v| *v += 1);
}

fn open(shell: Shell, entry: &Saved) {
    match link::decode(&entry.link) {
        Ok(sc) => {
            shell.share.set(false);
            shell.try_update(|x| x.load(&sc));
        }
        Err(e) => shell.inform(format!("This saved scenario cannot be opened: {}.", e.0)),
    }
}

/// The section: a name and a Save button, then every saved scenario.
pub fn section(shell: Shell) -> El {
    shell.saved.get();
    let (good, bad) = storage().map(|s| list(entries(&s))).unwrap_or_default();
    let name_input = el("input")
        .attr("type", "text")
        .attr("aria-label", "Name of the scenario to save")
        .attr("placeholder", "A name for this scenario")
        .attr("maxlength", "120");
    let input: web_sys::HtmlInputElement =
        wasm_bindgen::JsCast::unchecked_into(name_input.0.clone());
    let mut section = el("div")
        .class("saved")
        .child(el("h3").text("Saved in this browser"))
        .child(
            el("div").class("share-link").child(name_input).child(
                el("button")
                    .class("btn")
                    .attr("aria-label", "Save this scenario in this browser")
                    .on("click", move |_| save(shell, &input.value()))
                    .text("Save"),
            ),
        );
    if good.is_empty() && bad.is_empty() {
        section = section.child(el("p").class("muted small").text("Nothing saved yet."));
    }
    let rows = good.into_iter().map(|entry| saved_row(shell, entry));
    let broken = bad
        .into_iter()
        .map(|(key, why)| broken_row(shell, key, why));
    section.child(el("ul").class("saved-list").children(rows.chain(broken)))
}

fn saved_row(shell: Shell, entry: Saved) -> El {
    let (e1, e2, key) = (entry.clone(), entry.clone(), entry.key.clone());
    let button = |label: &str, aria: String| {
        el("button")
            .class("btn small")
            .attr("aria-label", &aria)
            .text(label)
    };
    el("li")
        .child(
            el("span")
                .class("saved-name")
                .attr("title", &entry.link)
                .text(&entry.name),
        )
        .child(
            button("Open", format!("Open {}", entry.name)).on("click", move |_| open(shell, &e1)),
        )
        .child(
            button("Rename", format!("Rename {}", entry.name))
                .on("click", move |_| rename(shell, &e2)),
        )
        .child(
            button("Delete", format!("Delete {}", entry.name))
                .on("click", move |_| remove(shell, &key)),
        )
}

fn broken_row(shell: Shell, key: String, why: String) -> El {
    let k = key.clone();
    el("li")
        .class("broken")
        .child(el("span").class("saved-name").text(&format!(
            "Skipped an entry that cannot be read ({key}): {why}"
        )))
        .child(
            el("button")
                .class("btn small")
                .attr("aria-label", &format!("Remove the unreadable entry {key}"))
                .on("click", move |_| remove(shell, &k))
                .text("Remove"),
        )
}
