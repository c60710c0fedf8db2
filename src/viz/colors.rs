//! A colour-blind-safe palette (Okabe & Ito), used for roles and message kinds.

/// Okabe–Ito: distinguishable under the common colour-vision deficiencies.
pub const PALETTE: [&str; 8] = [
    "#0072B2", // blue
    "#E69F00", // orange
    "#009E73", // bluish green
    "#CC79A7", // reddish purple
    "#56B4E9", // sky blue
    "#D55E00", // vermillion
    "#F0E442", // yellow
    "#000000", // black
];

/// Neutral grey for idle things and crashed nodes.
pub const NEUTRAL: &str = "#8a8f98";
/// Drops and violations.
pub const ALERT: &str = "#D55E00";

/// A stable colour for a message kind: the one its lab's legend gives it, else one derived
/// from the name, so the same kind is always the same colour.
pub fn for_kind(kind: &str) -> &'static str {
    match crate::labs::message_colour(kind) {
        Some(c) => PALETTE[c as usize % PALETTE.len()],
        None => {
            let h = kind
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
            PALETTE[(h % 6) as usize]
        }
    }
}

/// The colour of a role class (0 = neutral).
pub fn for_role(class: u8) -> &'static str {
    match class {
        0 => NEUTRAL,
        c => PALETTE[(c as usize - 1) % PALETTE.len()],
    }
}
