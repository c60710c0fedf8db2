//! The link: a scenario in the URL fragment.
//!
//! `#/flows?n=3&seed=7&lat=20..80ms&loss=2%&dup=0%&rate=5&s=1s:crash:2;3s:restart:2&t=4.5s`
//!
//! Common parameters stay readable (`n`, `seed`, `lat`, `loss`, `dup`, `bw`), lab parameters use
//! their own keys, `s` carries the script (commands in their compact form, separated by `;`), and
//! `t` the paused cursor. `v` names the format version and may be left out for version 1.
//!
//! Decoding is total and bounded: the length is capped before anything is parsed, every number
//! is range-checked, and each failure names the problem. Every released link format keeps
//! decoding (the golden links in `tests/links.rs`).

use super::{clip, unknown_lab, Scenario, ScenarioError, FORMAT_VERSION, MAX_NODES, MAX_SCRIPT};
use crate::labs;
use crate::sim::client::{ClientPolicy, CLIENT_KEYS};
use crate::sim::command::{format_percent, parse_bandwidth, parse_percent, Command};
use crate::sim::net::{Dist, LinkParams};
use crate::sim::small_map::SmallMap;
use crate::sim::time::{format_us, parse_duration};

/// The longest link accepted, in bytes.
pub const MAX_LINK_LEN: usize = 64 * 1024;
const MAX_KEYS: usize = 64;

/// Writes a scenario as a link fragment (starting with `#/`).
pub fn encode(s: &Scenario) -> String {
    let mut parts: Vec<String> = Vec::new();
    if s.version != 1 {
        parts.push(format!("v={}", s.version));
    }
    parts.push(format!("n={}", s.n));
    parts.push(format!("seed={}", s.seed));
    parts.push(format!("lat={}", escape(&s.net.latency.to_text())));
    parts.push(format!("loss={}", format_percent(s.net.loss_ppm)));
    parts.push(format!("dup={}", format_percent(s.net.dup_ppm)));
    if let Some(b) = s.net.bandwidth_bps {
        parts.push(format!("bw={b}Bps"));
    }
    let clients_default = ClientPolicy::default();
    for key in CLIENT_KEYS {
        let v = s.client_policy.text(key);
        if v != clients_default.text(key) {
            parts.push(format!("{key}={}", escape(&v)));
        }
    }
    for (k, v) in &s.params {
        parts.push(format!("{}={}", escape(k), escape(v)));
    }
    if !s.script.is_empty() {
        let cmds: Vec<String> = s.script.iter().map(|c| escape(&c.to_text())).collect();
        parts.push(format!("s={}", cmds.join(";")));
    }
    if let Some(t) = s.cursor_us {
        parts.push(format!("t={}", format_us(t)));
    }
    if let Some(v) = &s.view {
        parts.push(format!("view={}", escape(v)));
    }
    if s.embed {
        parts.push("embed=1".into());
    }
    if let Some(l) = &s.lesson {
        parts.push(format!("lesson={}", escape(l)));
    }
    if let Some(k) = s.step {
        parts.push(format!("step={k}"));
    }
    if let Some(v) = &s.speed {
        parts.push(format!("speed={v}"));
    }
    if let Some(c) = &s.clocks {
        parts.push(format!("clocks={}", escape(c)));
    }
    if let Some(q) = s.quiz {
        parts.push(format!("quiz={q}"));
    }
    format!("#/{}?{}", s.lab, parts.join("&"))
}

/// Reads a link: a whole URL, a fragment (`#/lab?...`) or the part after `#`.
pub fn decode(link: &str) -> Result<Scenario, ScenarioError> {
    let err = |m: String| Err(ScenarioError(m));
    if link.len() > MAX_LINK_LEN {
        return err(format!(
            "the link is {} bytes long; the limit is {MAX_LINK_LEN}",
            link.len()
        ));
    }
    let frag = match link.find('#') {
        Some(i) => &link[i + 1..],
        None => link,
    };
    let frag = frag.trim();
    if frag.is_empty() {
        return err("the link is empty: it should look like #/flows?n=3&seed=7".into());
    }
    let frag = frag.strip_prefix('/').unwrap_or(frag);
    let (lab_id, query) = match frag.split_once('?') {
        Some((l, q)) => (l, q),
        None => (frag, ""),
    };
    let lab_id = unescape(lab_id).map_err(ScenarioError)?;
    let lab = labs::find(&lab_id).ok_or_else(|| ScenarioError(unknown_lab(&lab_id)))?;
    let pairs = split_query(query)?;

    let mut s = Scenario::default_for(lab);
    let version = match pairs.get("v") {
        Some(v) => v
            .parse::<u32>()
            .map_err(|_| ScenarioError(format!("version '{}' is not a number", clip(v))))?,
        None => 1,
    };
    if version == 0 || version > FORMAT_VERSION {
        return err(format!(
            "unknown link version {version}: this release reads versions 1 to {FORMAT_VERSION}"
        ));
    }
    s.version = version;
    for (key, value) in &pairs {
        apply_pair(&mut s, lab, key, value)?;
    }
    s.validate()?;
    s.check_builds()?;
    Ok(s)
}

/// The link keys of the scenario itself, the client settings' among them
/// ([`crate::sim::client::CLIENT_KEYS`]); no lab parameter may use one (a test checks it).
pub const RESERVED_KEYS: &[&str] = &[
    "v", "n", "seed", "lat", "loss", "dup", "bw", "s", "t", "view", "embed", "retry", "backoff",
    "attempts", "budget", "arrivals", "lesson", "step", "speed", "clocks", "quiz",
];

fn apply_pair(
    s: &mut Scenario,
    lab: &labs::Lab,
    key: &str,
    value: &str,
) -> Result<(), ScenarioError> {
    let e = |m: String| ScenarioError(m);
    match key {
        "v" => {}
        "n" => {
            let n: u64 = value.parse().map_err(|_| {
                e(format!(
                    "node count '{}' is not a whole number",
                    clip(value)
                ))
            })?;
            if n > MAX_NODES as u64 || n < lab.nodes_min as u64 || n > lab.nodes_max as u64 {
                return Err(e(format!(
                    "the {} lab takes {} to {} nodes, not {}",
                    lab.id,
                    lab.nodes_min,
                    lab.nodes_max,
                    clip(value)
                )));
            }
            s.n = n as u32;
        }
        "seed" => {
            s.seed = value.parse().map_err(|_| {
                e(format!(
                    "seed '{}' must be a whole number from 0 to 2^64-1",
                    clip(value)
                ))
            })?;
        }
        "lat" => s.net.latency = Dist::parse(value).map_err(|m| e(format!("latency: {m}")))?,
        "loss" => s.net.loss_ppm = parse_percent(value).map_err(|m| e(format!("loss: {m}")))?,
        "dup" => s.net.dup_ppm = parse_percent(value).map_err(|m| e(format!("dup: {m}")))?,
        "bw" => s.net.bandwidth_bps = parse_bandwidth(value).map_err(|m| e(format!("bw: {m}")))?,
        "s" => s.script = parse_script(value)?,
        "retry" | "backoff" | "attempts" | "budget" | "arrivals" => {
            s.client_policy.set(key, value).map_err(e)?
        }
        "t" => {
            s.cursor_us = Some(parse_duration(value).map_err(|m| e(format!("cursor time: {m}")))?)
        }
        "lesson" => s.lesson = Some(value.to_string()),
        "speed" => {
            let ix = super::speed_index(value).map_err(e)?;
            // The lab's own speed is left out, as a link without `speed` plays at it.
            s.speed = (super::SPEED_TEXTS[ix] != lab.speed).then(|| super::SPEED_TEXTS[ix].into());
        }
        "step" => {
            s.step = Some(value.parse().map_err(|_| {
                e(format!(
                    "step '{}' must be a whole number, counted from 1",
                    clip(value)
                ))
            })?)
        }
        "clocks" => {
            let labels = crate::sim::clocks::ClockLabels::parse(value).map_err(e)?;
            s.clocks = Some(labels.text().to_string());
        }
        "quiz" => {
            s.quiz = Some(value.parse().map_err(|_| {
                e(format!(
                    "quiz '{}' must be a whole number from 0 to 2^64-1 (the question's seed)",
                    clip(value)
                ))
            })?)
        }
        "embed" => {
            s.embed = match value {
                "1" => true,
                "0" => false,
                _ => return Err(e(format!("embed is 1 or 0, not '{}'", clip(value)))),
            }
        }
        "view" => {
            // The topology is every lab's default: a link names only another view.
            s.view = (lab.stage_index(value).map_err(e)? > 0).then(|| value.to_string());
        }
        _ => {
            let spec = lab.param(key).ok_or_else(|| {
                e(format!(
                    "the {} lab has no parameter '{}'",
                    lab.id,
                    clip(key)
                ))
            })?;
            let v = spec.canonical(value).map_err(e)?;
            // A quiet parameter at its default is left out, as its links always had it (the
            // defaults leave it out, and a key appears once).
            if !lab.quiet.contains(&spec.key)
                || spec.canonical(spec.default).ok() != Some(v.clone())
            {
                s.params.insert(key.to_string(), v);
            }
        }
    }
    Ok(())
}

/// Splits `a=1&b=2`, percent-decoding keys and values; refuses duplicates.
fn split_query(query: &str) -> Result<SmallMap<String, String>, ScenarioError> {
    let mut out = SmallMap::new();
    if query.is_empty() {
        return Ok(out);
    }
    for (i, pair) in query.split('&').enumerate() {
        if i >= MAX_KEYS {
            return Err(ScenarioError(format!(
                "the link has more than {MAX_KEYS} parameters"
            )));
        }
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| ScenarioError(format!("'{}' must be key=value", clip(pair))))?;
        let k = unescape(k).map_err(ScenarioError)?;
        if k != "s" && v.len() > 1024 {
            return Err(ScenarioError(format!(
                "the value of '{}' is longer than 1024 characters",
                clip(&k)
            )));
        }
        // The script is split on raw ';' before unescaping, so it stays escaped here.
        let v = if k == "s" {
            v.to_string()
        } else {
            unescape(v).map_err(ScenarioError)?
        };
        if out.insert(k.clone(), v).is_some() {
            return Err(ScenarioError(format!(
                "'{}' appears twice in the link",
                clip(&k)
            )));
        }
    }
    Ok(out)
}

fn parse_script(value: &str) -> Result<Vec<Command>, ScenarioError> {
    let mut script = Vec::new();
    for item in value.split(';') {
        if item.is_empty() {
            continue;
        }
        if script.len() >= MAX_SCRIPT {
            return Err(ScenarioError(format!(
                "the script has more than {MAX_SCRIPT} commands"
            )));
        }
        let text = unescape(item).map_err(ScenarioError)?;
        script.push(Command::parse(&text).map_err(ScenarioError)?);
    }
    Ok(script)
}

/// Characters kept as they are in a fragment value; everything else is `%XX`.
fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:@/!$'()*+,=".contains(&b)
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        // A percent sign ending a value (`loss=2%`) stays readable; decoding keeps it literal.
        if keep(b) || (b == b'%' && i + 1 == bytes.len()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decoding that refuses malformed escapes and invalid UTF-8. A `%` that ends the value
/// is a literal percent sign, so `loss=2%` reads as people write it.
pub fn unescape(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 1 == bytes.len() => {
                out.push(b'%');
                i += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .ok_or_else(|| format!("bad percent-encoding at the end of '{}'", clip(s)))?;
                let h = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        format!(
                            "bad percent-encoding '%{}' in '{}'",
                            String::from_utf8_lossy(hex),
                            clip(s)
                        )
                    })?;
                out.push(h);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("'{}' is not valid UTF-8 once decoded", clip(s)))
}

/// The link of a lab's default scenario.
pub fn default_link(lab: &labs::Lab) -> String {
    encode(&Scenario::default_for(lab))
}

impl Scenario {
    pub fn to_link(&self) -> String {
        encode(self)
    }
    pub fn from_link(link: &str) -> Result<Scenario, ScenarioError> {
        decode(link)
    }
}

// The default network, written out so tests can compare against it.
pub fn default_net() -> LinkParams {
    LinkParams::default()
}
