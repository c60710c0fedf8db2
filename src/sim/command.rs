//! Interventions: timestamped commands the engine applies.
//!
//! The UI never mutates a world directly. "cut {0,1}|{2,3,4}", "crash 3", "set loss 5%" and
//! "client put x=1 at node 2" become commands appended to the scenario's script, so a session
//! is seed + parameters + script, which is exactly what a link carries.
//!
//! The compact text form (used in links) is `TIME:VERB[:ARGS]`:
//! `1.2s:part:0.1/2.3.4`, `2s:cut:0>1` (one way), `2s:cut:0-1` (both ways), `3s:heal:0-1`,
//! `3s:heal`, `4s:crash:2`, `5s:restart:2`, `6s:drop:812`, `7s:set:loss=5%`,
//! `7s:set:0>1:lat=50ms`, `8s:op:0@2:put x 1` (client 0 asks node 2).

use super::net::{Dist, Endpoint, NetSetting};
use super::time::{format_us, parse_duration};
use serde::{Deserialize, Serialize};

/// Limits a decoded command may not exceed.
pub const MAX_GROUPS: usize = 16;
pub const MAX_OP_TEXT: usize = 200;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Split the endpoints into groups; links between groups are cut both ways.
    Partition {
        groups: Vec<Vec<Endpoint>>,
    },
    CutLink {
        from: Endpoint,
        to: Endpoint,
        both_ways: bool,
    },
    HealLink {
        from: Endpoint,
        to: Endpoint,
        both_ways: bool,
    },
    HealAll,
    Crash {
        node: u32,
    },
    Restart {
        node: u32,
    },
    /// Drop one message in flight, by its trace id.
    DropMessage {
        id: u64,
    },
    /// Change a network setting for every link, or for one directed link.
    Set {
        link: Option<(Endpoint, Endpoint)>,
        setting: NetSetting,
    },
    /// Client `client` invokes `op` (in the lab's own text form) at node `node`.
    ClientOp {
        client: u32,
        node: u32,
        op: String,
    },
    /// One of the lab's own interventions (`Lab::verbs`), at one node or at every node:
    /// `do:timeout@2`, `do:align`. The lab checks the name; the protocol carries it out.
    Lab {
        verb: String,
        node: Option<u32>,
    },
}

/// The longest name of a lab's verb.
pub const MAX_VERB_NAME: usize = 24;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub at_us: u64,
    #[serde(flatten)]
    pub action: Action,
}

impl Command {
    pub fn new(at_us: u64, action: Action) -> Self {
        Command { at_us, action }
    }

    /// The compact text form.
    pub fn to_text(&self) -> String {
        format!("{}:{}", format_us(self.at_us), self.action.to_text())
    }

    /// Parses the compact form. Total; errors name the problem.
    pub fn parse(text: &str) -> Result<Command, String> {
        let no_time = || {
            format!(
                "command '{}' has no time (write it as TIME:VERB, e.g. 1s:crash:2)",
                clip(text)
            )
        };
        let (t, rest) = text.split_once(':').ok_or_else(no_time)?;
        if !t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
            return Err(no_time());
        }
        let at_us = parse_duration(t).map_err(|e| format!("command '{}': {e}", clip(text)))?;
        let action = Action::parse(rest).map_err(|e| format!("command '{}': {e}", clip(text)))?;
        Ok(Command { at_us, action })
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

impl Action {
    pub fn to_text(&self) -> String {
        match self {
            Action::Partition { groups } => {
                let g: Vec<String> = groups
                    .iter()
                    .map(|g| {
                        g.iter()
                            .map(|e| e.to_string())
                            .collect::<Vec<_>>()
                            .join(".")
                    })
                    .collect();
                format!("part:{}", g.join("/"))
            }
            Action::CutLink {
                from,
                to,
                both_ways,
            } => format!("cut:{}", link_text(*from, *to, *both_ways)),
            Action::HealLink {
                from,
                to,
                both_ways,
            } => format!("heal:{}", link_text(*from, *to, *both_ways)),
            Action::HealAll => "heal".into(),
            Action::Crash { node } => format!("crash:{node}"),
            Action::Restart { node } => format!("restart:{node}"),
            Action::DropMessage { id } => format!("drop:{id}"),
            Action::Set { link, setting } => {
                let s = setting_text(setting);
                match link {
                    Some((a, b)) => format!("set:{}:{s}", link_text(*a, *b, false)),
                    None => format!("set:{s}"),
                }
            }
            Action::ClientOp { client, node, op } => format!("op:{client}@{node}:{op}"),
            Action::Lab {
                verb,
                node: Some(n),
            } => format!("do:{verb}@{n}"),
            Action::Lab { verb, node: None } => format!("do:{verb}"),
        }
    }

    /// Words for people (diagram labels, marker tips): `partition S0 S3 S4 | S1 S2`,
    /// `cut S0→S1`, `crash S2`. `name` names an endpoint (`S0`, or `C0` for a client).
    pub fn describe(&self, name: impl Fn(Endpoint) -> String) -> String {
        let link = |a: Endpoint, b: Endpoint, both: bool| {
            format!("{}{}{}", name(a), if both { "–" } else { "→" }, name(b))
        };
        match self {
            Action::Partition { groups } => {
                let g: Vec<String> = groups
                    .iter()
                    .map(|g| g.iter().map(|e| name(*e)).collect::<Vec<_>>().join(" "))
                    .collect();
                format!("partition {}", g.join(" | "))
            }
            Action::CutLink {
                from,
                to,
                both_ways,
            } => format!("cut {}", link(*from, *to, *both_ways)),
            Action::HealLink {
                from,
                to,
                both_ways,
            } => format!("heal {}", link(*from, *to, *both_ways)),
            Action::HealAll => "heal all".into(),
            Action::Crash { node } => format!("crash {}", name(*node)),
            Action::Restart { node } => format!("restart {}", name(*node)),
            Action::DropMessage { id } => format!("drop message #{id}"),
            Action::Set { link: l, setting } => {
                let s = setting_text(setting);
                match l {
                    Some((a, b)) => format!("set {} {s}", link(*a, *b, false)),
                    None => format!("set {s}"),
                }
            }
            Action::ClientOp { client, node, op } => {
                format!("C{client} asks {}: {op}", name(*node))
            }
            Action::Lab { verb, node } => match node {
                Some(n) => format!("{verb} {}", name(*n)),
                None => verb.clone(),
            },
        }
    }

    pub fn parse(text: &str) -> Result<Action, String> {
        let (verb, args) = match text.split_once(':') {
            Some((v, a)) => (v, Some(a)),
            None => (text, None),
        };
        fn need(a: Option<&str>) -> Result<&str, String> {
            a.ok_or_else(|| "this command needs arguments".to_string())
        }
        Ok(match verb {
            "part" => {
                let a = need(args)?;
                let mut groups = Vec::new();
                for g in a.split('/') {
                    if groups.len() >= MAX_GROUPS {
                        return Err(format!("a partition has at most {MAX_GROUPS} groups"));
                    }
                    let ids: Result<Vec<Endpoint>, String> =
                        g.split('.').map(parse_endpoint).collect();
                    groups.push(ids?);
                }
                if groups.len() < 2 {
                    return Err("a partition needs at least two groups".into());
                }
                Action::Partition { groups }
            }
            "cut" => {
                let (from, to, both_ways) = parse_link(need(args)?)?;
                Action::CutLink {
                    from,
                    to,
                    both_ways,
                }
            }
            "heal" => match args {
                None => Action::HealAll,
                Some(a) => {
                    let (from, to, both_ways) = parse_link(a)?;
                    Action::HealLink {
                        from,
                        to,
                        both_ways,
                    }
                }
            },
            "crash" => Action::Crash {
                node: parse_endpoint(need(args)?)?,
            },
            "restart" => Action::Restart {
                node: parse_endpoint(need(args)?)?,
            },
            "drop" => {
                let a = need(args)?;
                Action::DropMessage {
                    id: a
                        .parse()
                        .map_err(|_| format!("message id '{a}' is not a number"))?,
                }
            }
            "set" => {
                let a = need(args)?;
                match a.split_once(':') {
                    Some((l, s)) if !l.contains('=') => {
                        let (from, to, both) = parse_link(l)?;
                        if both {
                            return Err("a per-link setting names one direction: 0>1".into());
                        }
                        Action::Set {
                            link: Some((from, to)),
                            setting: parse_setting(s)?,
                        }
                    }
                    _ => Action::Set {
                        link: None,
                        setting: parse_setting(a)?,
                    },
                }
            }
            "op" => {
                let a = need(args)?;
                let (who, op) = a
                    .split_once(':')
                    .ok_or("an operation is op:CLIENT@NODE:TEXT")?;
                let (c, n) = who
                    .split_once('@')
                    .ok_or("an operation is op:CLIENT@NODE:TEXT")?;
                if op.len() > MAX_OP_TEXT {
                    return Err(format!(
                        "operation text longer than {MAX_OP_TEXT} characters"
                    ));
                }
                Action::ClientOp {
                    client: parse_endpoint(c)?,
                    node: parse_endpoint(n)?,
                    op: op.to_string(),
                }
            }
            "do" => {
                let a = need(args)?;
                let (name, node) = match a.split_once('@') {
                    Some((v, n)) => (v, Some(parse_endpoint(n)?)),
                    None => (a, None),
                };
                let well_formed = !name.is_empty()
                    && name.len() <= MAX_VERB_NAME
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
                if !well_formed {
                    return Err(format!(
                        "'{}' is not a lab action's name (lowercase letters and '-')",
                        clip(name)
                    ));
                }
                Action::Lab {
                    verb: name.to_string(),
                    node,
                }
            }
            _ => return Err(format!("unknown command '{}'", clip(verb))),
        })
    }

    /// The endpoints this action names, for range checks against the scenario.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        match self {
            Action::Partition { groups } => groups.iter().flatten().copied().collect(),
            Action::CutLink { from, to, .. } | Action::HealLink { from, to, .. } => {
                vec![*from, *to]
            }
            Action::Crash { node } | Action::Restart { node } => vec![*node],
            Action::Set {
                link: Some((a, b)), ..
            } => vec![*a, *b],
            Action::ClientOp { node, .. }
            | Action::Lab {
                node: Some(node), ..
            } => vec![*node],
            _ => vec![],
        }
    }
}

fn link_text(from: Endpoint, to: Endpoint, both: bool) -> String {
    format!("{from}{}{to}", if both { "-" } else { ">" })
}

fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    s.parse::<u32>()
        .ok()
        .filter(|v| *v < 10_000)
        .ok_or_else(|| format!("'{}' is not a node number", clip(s)))
}

fn parse_link(s: &str) -> Result<(Endpoint, Endpoint, bool), String> {
    if let Some((a, b)) = s.split_once('>') {
        return Ok((parse_endpoint(a)?, parse_endpoint(b)?, false));
    }
    if let Some((a, b)) = s.split_once('-') {
        return Ok((parse_endpoint(a)?, parse_endpoint(b)?, true));
    }
    Err(format!(
        "link '{}' must be A>B (one way) or A-B (both ways)",
        clip(s)
    ))
}

/// `loss=5%`, `dup=1%`, `lat=20..80ms`, `bw=1MBps` / `bw=off`.
pub fn setting_text(s: &NetSetting) -> String {
    match s {
        NetSetting::Latency(d) => format!("lat={}", d.to_text()),
        NetSetting::LossPpm(p) => format!("loss={}", format_percent(*p)),
        NetSetting::DupPpm(p) => format!("dup={}", format_percent(*p)),
        NetSetting::BandwidthBps(None) => "bw=off".into(),
        NetSetting::BandwidthBps(Some(b)) => format!("bw={b}Bps"),
    }
}

pub fn parse_setting(s: &str) -> Result<NetSetting, String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("setting '{}' must be key=value", clip(s)))?;
    Ok(match k {
        "lat" => NetSetting::Latency(Dist::parse(v)?),
        "loss" => NetSetting::LossPpm(parse_percent(v)?),
        "dup" => NetSetting::DupPpm(parse_percent(v)?),
        "bw" => NetSetting::BandwidthBps(parse_bandwidth(v)?),
        _ => {
            return Err(format!(
                "unknown setting '{}' (lat, loss, dup or bw)",
                clip(k)
            ))
        }
    })
}

/// `2%` or `0.5%` as parts per million, 0 to 100%.
pub fn parse_percent(v: &str) -> Result<u32, String> {
    let num = v
        .strip_suffix('%')
        .ok_or_else(|| format!("'{}' must be a percentage such as 2%", clip(v)))?;
    super::time::parse_decimal_scaled(num, 10_000)
        .filter(|p| *p <= 1_000_000)
        .map(|p| p as u32)
        .ok_or_else(|| format!("'{}' must be a percentage from 0% to 100%", clip(v)))
}

pub fn format_percent(ppm: u32) -> String {
    let whole = ppm / 10_000;
    let frac = ppm % 10_000;
    if frac == 0 {
        format!("{whole}%")
    } else {
        let mut f = format!("{frac:04}");
        while f.ends_with('0') {
            f.pop();
        }
        format!("{whole}.{f}%")
    }
}

/// `off`, `125000Bps`, `1MBps`, `10kBps` (bytes per second).
pub fn parse_bandwidth(v: &str) -> Result<Option<u64>, String> {
    if v == "off" {
        return Ok(None);
    }
    let (num, scale) = if let Some(n) = v.strip_suffix("MBps") {
        (n, 1_000_000)
    } else if let Some(n) = v.strip_suffix("kBps") {
        (n, 1_000)
    } else if let Some(n) = v.strip_suffix("Bps") {
        (n, 1)
    } else {
        return Err(format!(
            "bandwidth '{}' must be off or a rate such as 1MBps",
            clip(v)
        ));
    };
    let bps = super::time::parse_decimal_scaled(num, scale)
        .filter(|b| (1..=1_000_000_000_000).contains(b))
        .ok_or_else(|| format!("bandwidth '{}' must be between 1Bps and 1TBps", clip(v)))?;
    Ok(Some(bps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_round_trips_through_text() {
        for t in [
            "1.2s:part:0.1/2.3.4",
            "2s:cut:0>1",
            "2s:cut:0-1",
            "3s:heal:0-1",
            "3s:heal",
            "4s:crash:2",
            "5s:restart:2",
            "6s:drop:812",
            "7s:set:loss=5%",
            "7s:set:dup=0.25%",
            "7s:set:0>1:lat=50ms",
            "7s:set:bw=1000Bps",
            "8s:op:0@2:put x 1",
        ] {
            let c = Command::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(c.to_text(), t);
        }
    }

    #[test]
    fn percentages_are_exact_and_bounded() {
        assert_eq!(parse_percent("2%"), Ok(20_000));
        assert_eq!(parse_percent("0.5%"), Ok(5_000));
        assert_eq!(parse_percent("100%"), Ok(1_000_000));
        assert!(parse_percent("101%").is_err());
        assert!(parse_percent("-1%").is_err());
        assert!(parse_percent("NaN%").is_err());
        assert!(parse_percent("2").is_err());
    }
}
