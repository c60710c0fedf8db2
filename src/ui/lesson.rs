//! The lesson overlay over the stage: the caption (as text), step k of n, previous and next,
//! a prediction's choices, taking over the run and returning to the lesson. Each step opens
//! the run paused where the steps before it end, computed by playing the lesson natively.

use super::dom::{el, memo, El};
use super::Shell;
use crate::labs::lesson::{self, Then};
use crate::labs::{self, lesson::Lesson};
use std::cell::Cell;

thread_local! {
    /// The choice picked at this step, if any.
    static ANSWER: Cell<Option<usize>> = const { Cell::new(None) };
    /// The learner took over the run: the overlay shrinks to a "Return to lesson" button.
    static AWAY: Cell<bool> = const { Cell::new(false) };
    /// The screen is blanked (`b`).
    static BLANK: Cell<bool> = const { Cell::new(false) };
}

/// The lesson and step (from 1) the run's link names.
fn current(shell: Shell) -> Option<(&'static Lesson, usize)> {
    shell
        .with(|s| {
            let b = s.base();
            let l = lesson::find(s.lab(), b.lesson.as_deref()?).ok()?;
            Some((l, (b.step.unwrap_or(1) as usize).max(1).min(l.steps.len())))
        })
        .flatten()
}

/// Opens step `k` (from 1): the run paused where the steps before it end.
pub fn go(shell: Shell, k: usize) -> bool {
    let Some((l, _)) = current(shell) else {
        return false;
    };
    let k = k.max(1).min(l.steps.len());
    let Some(mut s) = shell.with(|x| x.scenario()) else {
        return false;
    };
    s.cursor_us = None;
    let Ok(mut sim) = labs::build(&s) else {
        return false;
    };
    for st in &l.steps[..k - 1] {
        lesson::play(sim.as_mut(), st.until(), l.length_us);
    }
    s.step = Some(k as u32);
    s.cursor_us = Some(sim.now().0).filter(|t| *t > 0);
    ANSWER.set(None);
    AWAY.set(false);
    shell.try_update(|x| x.load(&s));
    shell.changed();
    true
}

/// Moves `by` steps inside a lesson; false outside one (the key keeps its other meaning).
pub fn step_by(shell: Shell, by: isize) -> bool {
    match current(shell) {
        Some((_, k)) if !AWAY.get() => go(shell, (k as isize + by).max(1) as usize),
        _ => false,
    }
}

fn btn(label: &str, f: impl Fn() + 'static) -> El {
    el("button")
        .class("btn small")
        .on("click", move |_| f())
        .text(label)
}

/// The overlay, while the link names a lesson.
pub fn lesson_view(shell: Shell) -> impl Fn() -> Option<El> {
    let at = memo(move || {
        shell.tick.get();
        current(shell).map(|(l, k)| (l.id, k, ANSWER.get(), AWAY.get()))
    });
    move || {
        let (_, k, answer, away) = at.get()?;
        let (l, _) = current(shell)?;
        let take_over = move || {
            AWAY.set(true);
            shell.changed();
        };
        if away {
            return Some(
                el("div")
                    .class("lesson away")
                    .attr("data-testid", "lesson")
                    .child(btn("Return to lesson", move || {
                        go(shell, k);
                    })),
            );
        }
        let step = &l.steps[k - 1];
        let mut card = el("div")
            .class("lesson")
            .attr("data-testid", "lesson")
            .attr("role", "region")
            .attr("aria-label", "Lesson")
            .child(el("p").class("muted small").text(&format!(
                "{} · step {k} of {}",
                l.title,
                l.steps.len()
            )))
            .child(el("p").class("lesson-caption").text(step.caption));
        if let Then::Ask(a) = &step.then {
            card = card.child(el("p").class("lesson-q").text(a.question));
            for (i, c) in a.choices.iter().enumerate() {
                let mark = match answer {
                    Some(_) if i == a.answer => "✓ ",
                    Some(p) if p == i => "✗ ",
                    _ => "",
                };
                card = card.child(btn(&format!("{mark}{c}"), move || {
                    ANSWER.set(Some(i));
                    shell.changed();
                }));
            }
            if answer.is_some() {
                card = card.child(el("p").class("lesson-shows").text(a.shows));
            }
        }
        Some(
            card.child(
                el("div")
                    .class("row")
                    .child(btn("Previous", move || {
                        go(shell, k.saturating_sub(1));
                    }))
                    .child(btn("Next step", move || {
                        go(shell, k + 1);
                    }))
                    .child(btn("Take over", take_over)),
            ),
        )
    }
}

/// Whether the screen is blanked (`b` inside a lesson, as slide software does).
pub fn blank(shell: Shell) -> bool {
    shell.tick.get();
    BLANK.get()
}

/// `b`: blanks or unblanks the screen inside a lesson; false outside one.
pub fn toggle_blank(shell: Shell) -> bool {
    if current(shell).is_none() && !BLANK.get() {
        return false;
    }
    BLANK.set(!BLANK.get());
    shell.changed();
    true
}
