//! Sine, cosine and arc tangent for drawing only.
//!
//! In the browser these are the page's own `Math` functions: a drawing needs no bit-exact
//! angle, and Rust's software versions (with their argument reduction) add about 8 KB to the
//! download. Natively they are the standard library's. The simulations never call them: their
//! results must be the same on every platform.

#[cfg(all(target_arch = "wasm32", feature = "web"))]
mod imp {
    pub fn sin(x: f64) -> f64 {
        js_sys::Math::sin(x)
    }
    pub fn cos(x: f64) -> f64 {
        js_sys::Math::cos(x)
    }
    pub fn atan2(y: f64, x: f64) -> f64 {
        js_sys::Math::atan2(y, x)
    }
}

#[cfg(not(all(target_arch = "wasm32", feature = "web")))]
mod imp {
    pub fn sin(x: f64) -> f64 {
        x.sin()
    }
    pub fn cos(x: f64) -> f64 {
        x.cos()
    }
    pub fn atan2(y: f64, x: f64) -> f64 {
        y.atan2(x)
    }
}

pub use imp::{atan2, cos, sin};

/// `angle` brought into `0..TAU` (as `rem_euclid` does, without its software `fmod`).
pub fn turn(angle: f64) -> f64 {
    use std::f64::consts::TAU;
    let a = angle - TAU * (angle / TAU).floor();
    if a >= TAU {
        0.0
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    #[test]
    fn turn_brings_angles_into_one_turn() {
        for a in [-7.0, -TAU, -0.5, 0.0, 0.5, TAU, 3.0 * TAU + 1.0] {
            let t = turn(a);
            assert!((0.0..TAU).contains(&t), "{a} gave {t}");
            assert!((sin(t) - sin(a)).abs() < 1e-9 && (cos(t) - cos(a)).abs() < 1e-9);
        }
    }
}
