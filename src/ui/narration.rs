//! The narration line along the foot of the stage: what the run last did, in words, from its
//! own records ([`crate::play::narrate`]). `n` or the Narration button switches it off and on.

use super::dom::{el, memo, El};
use super::Shell;
use crate::play::narrate;

/// The line, rebuilt only when the newest record worth saying changes.
pub fn view(shell: Shell) -> impl Fn() -> Option<El> {
    let at = memo(move || {
        shell.tick.get();
        let on = shell.narration.get();
        (on, shell.with(narrate::latest_seq).flatten())
    });
    move || {
        let (on, seq) = at.get();
        seq.filter(|_| on)?;
        let text = super::dom::untracked(|| shell.with(narrate::session_line).flatten())?;
        Some(
            el("p")
                .class("narration")
                .attr("data-testid", "narration")
                .text(&text),
        )
    }
}

/// Switches the line off or on.
pub fn toggle(shell: Shell) {
    shell.narration.update(|n| *n = !*n);
}
