//! Virtual time: integer microseconds, never floating point, never the wall clock.
//!
//! `std::time::Instant` panics on wasm32 and floats drift; every instant in a run is a `u64`
//! count of microseconds since the run began, so runs are exact and portable.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Sub};

/// A point in virtual time, in microseconds since the start of the run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Instant(pub u64);

/// A span of virtual time in microseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Duration(pub u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);
    pub const MAX: Instant = Instant(u64::MAX);

    pub fn as_us(self) -> u64 {
        self.0
    }
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
    pub fn since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0);
    pub const fn from_us(us: u64) -> Self {
        Duration(us)
    }
    pub const fn from_ms(ms: u64) -> Self {
        Duration(ms * 1_000)
    }
    pub const fn from_secs(s: u64) -> Self {
        Duration(s * 1_000_000)
    }
    pub fn as_us(self) -> u64 {
        self.0
    }
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        self.since(other)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

/// Formats microseconds the way links and the UI show them, exactly: whole minutes as `10m`,
/// otherwise seconds or milliseconds with up to three decimals (`1.5s`, `2.25ms`), else `12us`.
pub fn format_us(us: u64) -> String {
    if us == 0 {
        return "0ms".into();
    }
    if us % 60_000_000 == 0 {
        return format!("{}m", us / 60_000_000);
    }
    for (unit, scale) in [("s", 1_000_000u64), ("ms", 1_000)] {
        if us >= scale && us % (scale / 1_000) == 0 {
            let frac = format!("{:03}", (us % scale) / (scale / 1_000));
            let frac = frac.trim_end_matches('0');
            let dot = if frac.is_empty() { "" } else { "." };
            return format!("{}{dot}{frac}{unit}", us / scale);
        }
    }
    format!("{us}us")
}

/// Parses a duration such as `500ms`, `1.5s`, `10m`, `250us`, `2h`. Total: any bad input is an
/// error naming the problem; values above 30 days are refused so arithmetic never overflows.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("duration '{t}' has no unit (use us, ms, s, m or h)"))?;
    let (num, unit) = t.split_at(split);
    let scale: u64 = match unit {
        "us" | "µs" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        _ => {
            return Err(format!(
                "duration '{t}' has unknown unit '{unit}' (use us, ms, s, m or h)"
            ))
        }
    };
    let well_formed =
        !num.is_empty() && num != "." && num.bytes().filter(|b| *b == b'.').count() <= 1;
    let us = match parse_decimal_scaled(num, scale) {
        Some(us) => us,
        None if well_formed => return Err(format!("duration '{t}' is longer than 30 days")),
        None => return Err(format!("duration '{t}' is not a number")),
    };
    if us > MAX_DURATION_US {
        return Err(format!("duration '{t}' is longer than 30 days"));
    }
    Ok(us)
}

/// The longest duration any input may name (30 days).
pub const MAX_DURATION_US: u64 = 30 * 24 * 3_600_000_000;

/// Parses `12`, `1.5`, `.25` exactly as an integer count of `1/scale` units, rounding to
/// nearest. No floats: `0.1s` is exactly 100000us.
pub fn parse_decimal_scaled(num: &str, scale: u64) -> Option<u64> {
    if num.is_empty() || num.len() > 24 || num == "." {
        return None;
    }
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int_v: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut v = int_v.checked_mul(scale)?;
    let mut unit = scale;
    for b in frac.bytes() {
        unit /= 10;
        let digit = (b - b'0') as u64;
        if unit == 0 {
            // Round on the first digit below resolution.
            if digit >= 5 {
                v = v.checked_add(1)?;
            }
            break;
        }
        v = v.checked_add(digit * unit)?;
    }
    Some(v)
}

/// Reads a decimal such as `1.5`, `-0.25`, `2e-3` or `10` as an `f64`, without the standard
/// library's float parser (whose tables are ten kilobytes of the browser download). Up to 15
/// significant digits with a power of ten up to 22 the result is exactly the standard parse's
/// (one correctly rounded division or product of exact values, Clinger's fast path); longer
/// mantissas or larger exponents are read to within a few units in the last place, the same
/// on every platform.
pub fn parse_decimal_f64(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (digits_part, exp_part) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = digits_part.split_once('.').unwrap_or((digits_part, ""));
    let digits_ok = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits_ok(int) || !digits_ok(frac) {
        return None;
    }
    let mut exp: i64 = match exp_part {
        Some(e) => {
            let (sign, e) = match e.strip_prefix('-') {
                Some(r) => (-1, r),
                None => (1, e.strip_prefix('+').unwrap_or(e)),
            };
            if e.is_empty() || e.len() > 4 || !digits_ok(e) {
                return None;
            }
            sign * e.parse::<i64>().ok()?
        }
        None => 0,
    };
    // The significant digits as one integer, the point moved into the exponent.
    let mut mantissa: u64 = 0;
    let mut significant = 0;
    for b in int.bytes().chain(frac.bytes()) {
        if mantissa == 0 && b == b'0' {
            continue;
        }
        if significant < 19 {
            mantissa = mantissa * 10 + (b - b'0') as u64;
            significant += 1;
        } else {
            exp += 1; // digits past 19 only scale
        }
    }
    exp -= frac.len() as i64;
    let value = if mantissa == 0 {
        0.0
    } else if mantissa < (1 << 53) && (-22..=22).contains(&exp) {
        let scale = POW10[exp.unsigned_abs() as usize];
        if exp < 0 {
            mantissa as f64 / scale
        } else {
            mantissa as f64 * scale
        }
    } else {
        if !(-400..=400).contains(&exp) {
            return None;
        }
        mantissa as f64 * libm::pow(10.0, exp as f64)
    };
    value
        .is_finite()
        .then_some(if negative { -value } else { value })
}

/// 10^0 to 10^22, each exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_clock(self.0))
    }
}

/// The virtual clock as people read it: `12.345s` or `3:04.500` past a minute.
pub fn format_clock(us: u64) -> String {
    let ms = us / 1_000;
    if ms < 60_000 {
        format!("{}.{:03}s", ms / 1_000, ms % 1_000)
    } else {
        format!("{}:{:02}.{:03}", ms / 60_000, (ms / 1_000) % 60, ms % 1_000)
    }
}

/// A length of virtual time in a teacher's words: `3h 12m`, `42m 05s`, `12.3s`.
pub fn format_span(us: u64) -> String {
    let s = us / 1_000_000;
    match s {
        0..60 => format!("{}.{}s", s, (us / 100_000) % 10),
        60..3_600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3_600, (s / 60) % 60),
    }
}

/// `v` with `decimals` digits after the point (at most 9), rounded half away from zero:
/// `fixed(171.23, 1)` is `171.2`. The page's figures go through it rather than `{:.1}`, whose
/// exact-decimal machinery costs the download more than everything here.
pub fn fixed(v: f64, decimals: u32) -> String {
    let decimals = decimals.min(9);
    let scale = 10u64.pow(decimals);
    let scaled = (v.abs() * scale as f64).round();
    if v.is_nan() {
        return "NaN".into();
    }
    if !scaled.is_finite() || scaled >= 1e18 {
        // Too large for the integer path: in powers of ten, as `1.5e21` (infinite: `inf`).
        if v.is_infinite() {
            return if v < 0.0 { "-inf".into() } else { "inf".into() };
        }
        let exp = libm::floor(libm::log10(v.abs())) as i32;
        let mantissa = v / libm::pow(10.0, exp as f64);
        let m = fixed(mantissa, 3);
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{exp}");
    }
    let n = scaled as u64;
    let sign = if v < 0.0 && n > 0 { "-" } else { "" };
    let (int, frac) = (n / scale, n % scale);
    if decimals == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = decimals as usize)
    }
}

/// `value` as `{}` writes it: the shortest digits that read back as `value`, never in powers
/// of ten. In the browser the digits come from JavaScript's `Number.toString`
/// (the same shortest digits, sometimes in powers of ten), so the page carries no float
/// formatter of its own.
pub fn shortest(value: f64) -> String {
    #[cfg(all(target_arch = "wasm32", feature = "web"))]
    {
        if value.is_nan() {
            return "NaN".into();
        }
        if value.is_infinite() {
            return if value < 0.0 { "-inf" } else { "inf" }.into();
        }
        let js = js_sys::Number::from(value)
            .to_string_with_radix(10)
            .map(String::from);
        let text = from_js_notation(&js.unwrap_or_default());
        if value == 0.0 && value.is_sign_negative() {
            return format!("-{text}");
        }
        text
    }
    #[cfg(not(all(target_arch = "wasm32", feature = "web")))]
    value.to_string()
}

/// A number as JavaScript writes it (`1.5e-7`, `1e+21`, `12.5`) in plain decimals, as Rust's
/// `{}` writes it (`0.00000015`, `1000000000000000000000`, `12.5`).
#[cfg_attr(not(all(target_arch = "wasm32", feature = "web")), allow(dead_code))]
fn from_js_notation(js: &str) -> String {
    let Some((mantissa, exp)) = js.split_once('e') else {
        return js.to_owned();
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + exp.trim_start_matches('+').parse::<i64>().unwrap_or(0);
    let zeros = |n: i64| "0".repeat(n.max(0) as usize);
    if point >= digits.len() as i64 {
        format!("{sign}{digits}{}", zeros(point - digits.len() as i64))
    } else if point <= 0 {
        format!("{sign}0.{}{digits}", zeros(-point))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What JavaScript's `Number.toString` writes for `v`: the shortest digits, in powers of ten
    /// (`1.5e-7`, `1e+21`) below 1e-6 and from 1e21, else plain.
    fn js_text(v: f64) -> String {
        let a = v.abs();
        if a != 0.0 && !(1e-6..1e21).contains(&a) {
            let e = format!("{v:e}");
            let (m, x) = e.split_once('e').unwrap();
            let x = if x.starts_with('-') {
                x.to_owned()
            } else {
                format!("+{x}")
            };
            format!("{m}e{x}")
        } else {
            v.to_string()
        }
    }

    #[test]
    fn shortest_reads_javascript_notation_as_rust_writes_floats() {
        let mut bits = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..200_000i32 {
            bits = bits
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let v = if i % 2 == 0 {
                f64::from_bits(bits)
            } else {
                // Mostly of everyday size, as a history's values are.
                (bits >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((i % 40) - 20)
            };
            if !v.is_finite() || v == 0.0 {
                continue;
            }
            let v = v.abs();
            let (js, rust) = (js_text(v), v.to_string());
            assert_eq!(from_js_notation(&js), rust, "{js}");
            assert_eq!(from_js_notation(&js_text(-v)), format!("-{rust}"), "{js}");
        }
        assert_eq!(from_js_notation("1e+21"), "1000000000000000000000");
        assert_eq!(from_js_notation("1.5e-7"), "0.00000015");
        assert_eq!(from_js_notation("-2.25e-7"), "-0.000000225");
        assert_eq!(from_js_notation("12.5"), "12.5");
        assert_eq!(shortest(-0.0), "-0");
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(shortest(v), v.to_string());
        }
        assert_eq!(shortest(2.5), "2.5");
    }

    // Within the fast path the reading is exactly the standard parse; outside it, within a
    // few units in the last place; what is not a number is refused.
    #[test]
    fn decimals_read_as_the_standard_parse_reads_them() {
        for t in [
            "1.5",
            "10",
            "0.1",
            "-0.25",
            "2e-3",
            "1E5",
            "235",
            "0",
            "-0",
            "3.14159",
            ".5",
            "5.",
            "123456789012345",
            "0.000001",
            "1e22",
            "7e-22",
            "+4.5",
        ] {
            let ours = parse_decimal_f64(t).unwrap_or_else(|| panic!("{t}"));
            assert_eq!(ours.to_bits(), t.parse::<f64>().unwrap().to_bits(), "{t}");
        }
        for t in [
            "0.30000000000000004",
            "1.7976931348623157e308",
            "123456789.123456789e-5",
        ] {
            let (ours, std) = (parse_decimal_f64(t).unwrap(), t.parse::<f64>().unwrap());
            assert!(((ours - std) / std).abs() < 1e-14, "{t}: {ours} vs {std}");
        }
        for bad in [
            "", ".", "-", "e5", "1e", "1.2.3", "1e+", "x", "1,5", "inf", "NaN", "1e9999",
        ] {
            assert_eq!(parse_decimal_f64(bad), None, "{bad}");
        }
    }

    #[test]
    fn spans_read_in_hours_minutes_and_seconds() {
        assert_eq!(format_span(12_345_678), "12.3s");
        assert_eq!(format_span(2_525_000_000), "42m 05s");
        assert_eq!(format_span(12_044_970_000), "3h 20m");
    }

    #[test]
    fn durations_parse_exactly_in_every_unit() {
        assert_eq!(parse_duration("500ms"), Ok(500_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000));
        assert_eq!(parse_duration("10m"), Ok(600_000_000));
        assert_eq!(parse_duration("250us"), Ok(250));
        assert_eq!(parse_duration("0.1s"), Ok(100_000));
        assert_eq!(parse_duration("1.0005ms"), Ok(1_001));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("NaNs").is_err());
        assert!(parse_duration("1e9s").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("31d").is_err());
        assert!(parse_duration("12").is_err());
    }

    #[test]
    fn formatting_round_trips_through_parsing() {
        for us in [
            1,
            999,
            1_000,
            1_500,
            20_000,
            1_500_000,
            60_000_000,
            1_234_567,
            7_200_000_000,
        ] {
            assert_eq!(parse_duration(&format_us(us)), Ok(us), "{}", format_us(us));
        }
    }

    #[test]
    fn fixed_rounds_to_its_decimals_like_the_formatter_off_ties() {
        for (v, d, want) in [
            (171.23, 1, "171.2"),
            (40_878.7, 0, "40879"),
            (0.0, 2, "0.00"),
            (-12.34567, 3, "-12.346"),
            (-0.0004, 2, "0.00"),
            (99.96, 1, "100.0"),
            (2.5, 0, "3"),
        ] {
            assert_eq!(fixed(v, d), want, "{v} to {d}");
        }
        assert_eq!(fixed(f64::NAN, 1), "NaN");
        assert_eq!(fixed(1e300, 1), "1e300", "too large: in powers of ten");
        assert_eq!(fixed(-2.5e21, 0), "-2.5e21");
        assert_eq!(fixed(f64::INFINITY, 2), "inf");
        // Away from ties (within float error of ...5) it agrees with the standard formatter.
        for i in 0..2_000 {
            let v = (i as f64) * 0.731 - 400.0;
            if ((v.abs() * 10.0).fract() - 0.5).abs() > 1e-6 {
                assert_eq!(fixed(v, 1), format!("{v:.1}"), "{v}");
            }
        }
    }
}
