//! How clients behave past one request: when their operations arrive, whether and when they
//! retry one that timed out, and how many retries they may spend.
//!
//! Retries wait a backoff between attempts, in the variants of Marc Brooker's "Exponential
//! Backoff and Jitter" (AWS Architecture Blog), for the `k`-th retry (`k = 0` first) with
//! `exp = min(cap, base * 2^k)`: fixed waits `base`; exponential waits `exp`; full jitter a
//! uniform draw from `[0, exp]`; equal jitter `exp/2` plus a draw from `[0, exp/2]`;
//! decorrelated `min(cap, uniform(base, 3 * previous wait))`. A retry budget (the shape of
//! Finagle's and tower's) is a token bucket per client: each new operation deposits a fraction
//! of a retry, each retry withdraws a whole one, so retries stay a bounded share of the traffic
//! when a service is down. Every attempt of an operation carries the same idempotency key.
//!
//! Arrivals are closed-loop (a client thinks, then issues its next operation once the last one
//! ended) or open-loop: operations arrive as a Poisson process whatever the service does, and
//! a client busy with one keeps the next ones waiting in its backlog.
//!
//! The defaults (no retries, closed loop) are the engine's behaviour from before retries, so
//! links that do not name these settings replay as they always did.

use super::command::{format_percent, parse_percent};
use super::rng::Rng;
use super::time::{format_us, parse_decimal_scaled, parse_duration};
use serde::{Deserialize, Serialize};

/// How long a client waits before retrying.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backoff {
    /// No retries: a timed-out operation's outcome is unknown.
    #[default]
    None,
    Fixed,
    Exponential,
    FullJitter,
    EqualJitter,
    Decorrelated,
}

/// Each backoff with its link name.
pub const BACKOFFS: [(Backoff, &str); 6] = [
    (Backoff::None, "none"),
    (Backoff::Fixed, "fixed"),
    (Backoff::Exponential, "exponential"),
    (Backoff::FullJitter, "full-jitter"),
    (Backoff::EqualJitter, "equal-jitter"),
    (Backoff::Decorrelated, "decorrelated"),
];

/// The link keys of the client settings, shared by every lab with clients.
pub const CLIENT_KEYS: [&str; 5] = ["retry", "backoff", "attempts", "budget", "arrivals"];

/// The most attempts an operation may make, the first one included.
pub const ATTEMPTS_MAX: u32 = 10;
/// The longest backoff base and cap.
pub const BACKOFF_MAX_US: u64 = 600_000_000;
/// The highest open-loop arrival rate, operations a second over all clients.
pub const ARRIVAL_RATE_MAX_PER_S: u64 = 1_000;
/// Operations a busy open-loop client keeps waiting; later arrivals are turned away.
pub const BACKLOG_MAX: u32 = 64;

/// The client settings of a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientPolicy {
    pub retry: Backoff,
    pub backoff_base_us: u64,
    pub backoff_cap_us: u64,
    /// Attempts per operation, the first one included.
    pub attempts_max: u32,
    /// Retries a client may make per new operation, in parts per million (a token bucket);
    /// `None`: as many as the attempts allow.
    pub budget_ppm: Option<u32>,
    /// Open-loop arrivals over all clients, in thousandths of an operation a second; 0: closed
    /// loop (think time between operations).
    pub arrival_rate_mhz: u64,
}

impl Default for ClientPolicy {
    fn default() -> Self {
        ClientPolicy {
            retry: Backoff::None,
            backoff_base_us: 100_000,
            backoff_cap_us: 5_000_000,
            attempts_max: 3,
            budget_ppm: None,
            arrival_rate_mhz: 0,
        }
    }
}

impl ClientPolicy {
    pub fn is_default(&self) -> bool {
        *self == ClientPolicy::default()
    }

    /// Whether a timed-out operation may be tried again.
    pub fn retries(&self) -> bool {
        self.retry != Backoff::None && self.attempts_max > 1
    }

    /// The wait before retry `k` (0 for the first), after a previous wait of `prev_us` (the
    /// decorrelated variant's memory; the base before the first retry).
    pub fn backoff_us(&self, k: u32, prev_us: u64, rng: &mut Rng) -> u64 {
        let (base, cap) = (self.backoff_base_us, self.backoff_cap_us);
        let exp = if k < 64 && base <= cap >> k {
            base << k
        } else {
            cap
        };
        match self.retry {
            Backoff::None => 0,
            Backoff::Fixed => base,
            Backoff::Exponential => exp,
            Backoff::FullJitter => rng.range_inclusive(0, exp),
            Backoff::EqualJitter => exp / 2 + rng.range_inclusive(0, exp / 2),
            Backoff::Decorrelated => {
                let hi = prev_us.max(base).saturating_mul(3);
                rng.range_inclusive(base, hi).min(cap)
            }
        }
    }

    /// The wait before a client's next open-loop arrival (at least 1 µs, so arrivals never
    /// pile up at one instant); `None` in a closed loop.
    pub fn arrival_gap_us(&self, clients: u32, rng: &mut Rng) -> Option<u64> {
        let mean_us = self.arrival_mean_gap_us(clients)?;
        Some((rng.exponential(mean_us as f64) as u64).max(1))
    }

    /// A client's mean wait between open-loop arrivals; `None` in a closed loop.
    pub fn arrival_mean_gap_us(&self, clients: u32) -> Option<u64> {
        (self.arrival_rate_mhz > 0)
            .then(|| clients.max(1) as u64 * 1_000_000_000 / self.arrival_rate_mhz)
    }

    /// A setting's link text.
    pub fn text(&self, key: &str) -> String {
        match key {
            "retry" => backoff_name(self.retry).to_string(),
            "backoff" => format!(
                "{}..{}",
                format_us(self.backoff_base_us),
                format_us(self.backoff_cap_us)
            ),
            "attempts" => self.attempts_max.to_string(),
            "budget" => self.budget_ppm.map_or("off".into(), format_percent),
            "arrivals" => match self.arrival_rate_mhz {
                0 => "closed".into(),
                r => format!("poisson:{}/s", rate_text(r)),
            },
            _ => String::new(),
        }
    }

    /// Sets one setting from its link text; an error names the key and what it takes.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        const _: () = assert!(ATTEMPTS_MAX == 10, "the error below names the limit");
        let fail = |what: &str| {
            format!(
                "{key}: '{}' is not {what}",
                crate::scenario::clip(value.trim())
            )
        };
        let v = value.trim();
        match key {
            "retry" => {
                self.retry = BACKOFFS
                    .iter()
                    .find(|(_, n)| *n == v)
                    .map(|(b, _)| *b)
                    .ok_or_else(|| {
                        fail("one of none, fixed, exponential, full-jitter, equal-jitter, decorrelated")
                    })?;
            }
            "backoff" => {
                (self.backoff_base_us, self.backoff_cap_us) =
                    parse_backoff(v).ok_or_else(|| fail("a base..cap such as 100ms..5s"))?;
            }
            "attempts" => {
                self.attempts_max = v
                    .parse()
                    .ok()
                    .filter(|a| (1..=ATTEMPTS_MAX).contains(a))
                    .ok_or_else(|| fail("a whole number from 1 to 10"))?;
            }
            "budget" => {
                self.budget_ppm = match v {
                    "off" => None,
                    _ => Some(parse_percent(v).map_err(|_| fail("off or 0% to 100%"))?),
                };
            }
            "arrivals" => {
                self.arrival_rate_mhz =
                    parse_arrivals(v).ok_or_else(|| fail("closed or poisson:R/s, R up to 1000"))?;
            }
            _ => return Err(format!("'{key}' is not a client setting")),
        }
        Ok(())
    }

    /// Checks values a decoded scenario may hold (its JSON bypasses the text form): every
    /// setting must read back from its own text.
    pub fn validate(&self) -> Result<(), String> {
        let mut again = ClientPolicy::default();
        for key in CLIENT_KEYS {
            again.set(key, &self.text(key))?;
        }
        if again != *self {
            return Err("the client settings are out of range".into());
        }
        Ok(())
    }
}

pub fn backoff_name(b: Backoff) -> &'static str {
    BACKOFFS
        .iter()
        .find(|(x, _)| *x == b)
        .map_or("none", |(_, n)| n)
}

/// `100ms..5s`: a base and a cap at least as long, each at most ten minutes.
fn parse_backoff(v: &str) -> Option<(u64, u64)> {
    let (base, cap) = v.split_once("..")?;
    let base = parse_duration(base).ok()?;
    let cap = parse_duration(cap).ok()?;
    (base <= cap && cap <= BACKOFF_MAX_US).then_some((base, cap))
}

/// `closed` (0) or `poisson:20/s` (`/s` optional) in thousandths of an operation a second.
fn parse_arrivals(v: &str) -> Option<u64> {
    if v == "closed" {
        return Some(0);
    }
    let rate = v.strip_prefix("poisson:")?;
    let rate = rate.strip_suffix("/s").unwrap_or(rate);
    parse_decimal_scaled(rate, 1_000).filter(|r| (1..=ARRIVAL_RATE_MAX_PER_S * 1_000).contains(r))
}

/// Thousandths as a decimal: `20`, `0.5`, `2.125`.
fn rate_text(mhz: u64) -> String {
    let (whole, frac) = (mhz / 1_000, mhz % 1_000);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:03}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// A client's retry budget: tokens in millionths of a retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryBudget {
    tokens_ppm: u64,
}

/// A budget starts with one retry in hand and saves up at most ten.
const BUDGET_START_PPM: u64 = 1_000_000;
const BUDGET_MAX_PPM: u64 = 10_000_000;

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            tokens_ppm: BUDGET_START_PPM,
        }
    }
}

impl RetryBudget {
    /// A new operation earns `ppm` millionths of a retry.
    pub fn deposit(&mut self, ppm: u32) {
        self.tokens_ppm = (self.tokens_ppm + ppm as u64).min(BUDGET_MAX_PPM);
    }
    /// Spends one retry, if the bucket holds one.
    pub fn withdraw(&mut self) -> bool {
        let ok = self.tokens_ppm >= 1_000_000;
        if ok {
            self.tokens_ppm -= 1_000_000;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every setting's text reads back to the same setting, so links round-trip.
    #[test]
    fn every_client_setting_reads_back_from_its_text() {
        let p = ClientPolicy {
            retry: Backoff::Decorrelated,
            backoff_base_us: 50_000,
            backoff_cap_us: 2_500_000,
            attempts_max: 7,
            budget_ppm: Some(125_000),
            arrival_rate_mhz: 2_125,
        };
        let mut q = ClientPolicy::default();
        for key in CLIENT_KEYS {
            q.set(key, &p.text(key)).unwrap();
        }
        assert_eq!(q, p);
        assert!(p.validate().is_ok());
    }
}
