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

#[cfg(test)]
mod tests {
    use super::*;

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
}
