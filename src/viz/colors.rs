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

/// The colour of a role class (0 = neutral).
pub fn for_role(class: u8) -> &'static str {
    match class {
        0 => NEUTRAL,
        c => PALETTE[(c as usize - 1) % PALETTE.len()],
    }
}
