//! `dsplay`: the playground's engine on the command line, for teachers preparing material and
//! for reproducible experiments.
//!
//! Every error goes to stderr with exit status 2 and a message naming the bad input; nothing
//! panics (a panic hook turns an internal error into a message too).

use clap::{Parser, Subcommand};
use dsplay::labs;
use dsplay::scenario::{link, Scenario};
use dsplay::sim::time::{format_clock, parse_duration, Instant};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "dsplay",
    version,
    about = "The Distributed Systems Playground on the command line"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario (a link such as '#/flows?n=3&seed=7' or a scenario JSON file) and summarise it.
    Run {
        /// A link, or the path of a scenario JSON file.
        scenario: String,
        /// How long to run in virtual time (e.g. 500ms, 60s, 10m). Default: the link's cursor, or 60s.
        #[arg(long, allow_hyphen_values = true)]
        until: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// The most events to replay before giving up (a run past it is refused with a
        /// message). Default: 40000000, the same budget the playground opens links within.
        #[arg(long, value_name = "N")]
        max_events: Option<u64>,
    },
    /// Hunt for counterexamples: run many seeds of a link, each with faults drawn from its
    /// seed, check every property (and linearizability, where the lab's clients keep a
    /// checkable history), and print each failure shrunk to a small link.
    #[command(
        after_help = "Example: dsplay sweep '#/raft?n=5&seed=1' --seeds 200 --faults heavy --json"
    )]
    Sweep {
        /// A link, or the path of a scenario JSON file.
        scenario: String,
        /// How many seeds to run (seed k is derived from the link's seed and k).
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// none, light, default or heavy.
        #[arg(long, default_value = "default")]
        faults: String,
        /// Threads to run seeds on (default: every core). The result does not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// How long each run lasts in virtual time; faults stop after two thirds of it.
        #[arg(long, default_value = "30s", allow_hyphen_values = true)]
        until: String,
        #[arg(long)]
        json: bool,
    },
    /// Encode or decode links.
    Link {
        #[command(subcommand)]
        op: LinkCmd,
    },
    /// List every lesson and preset with its link, for a handout (`--json`: objects with
    /// `lab`, `kind` (`lesson` or `preset`), `title` and `link`).
    Lessons {
        #[arg(long)]
        json: bool,
    },
    /// List the labs with their parameters and defaults.
    Labs {
        #[arg(long)]
        json: bool,
    },
    /// Check a client history for linearizability (and, with --guarantees, the weaker
    /// guarantees it keeps).
    Check {
        /// The history file.
        file: PathBuf,
        /// jepsen-edn, porcupine-etcd, porcupine-kv or json.
        #[arg(long)]
        format: String,
        /// register (read, write), cas-register (read, write, cas), kv (get, put, append),
        /// mutex (acquire, release), queue (enqueue, dequeue: FIFO), set (add, read) or
        /// multi-register (txn).
        #[arg(long)]
        model: String,
        /// A register's starting value (default: unwritten, nil).
        #[arg(long)]
        initial: Option<String>,
        /// How a jepsen-edn register read of nil is read: any (as Knossos's register models
        /// read it: an unknown read, matching any state) or literal (the register held nil).
        /// Other formats read nil as a value.
        #[arg(long, default_value = "any")]
        nil_reads: String,
        /// Also check sequential consistency (every model) and the four session guarantees
        /// (register and kv models): read your writes, monotonic reads, monotonic writes,
        /// writes follow reads.
        #[arg(long)]
        guarantees: bool,
        #[arg(long)]
        json: bool,
    },
    /// Run an experiment of a lab: `--list` lists them; parameters are `--key value`,
    /// `--key=value` or `--set key=value`; a list of values (`3,5,7`) runs once per value.
    #[command(
        after_help = "Example: dsplay experiment raft-election --nodes 5 --timeout-ms 150..300 --trials 1000 --json"
    )]
    Experiment {
        /// The experiment (see --list).
        id: Option<String>,
        /// List every experiment with its parameters.
        #[arg(long)]
        list: bool,
        /// Print JSON (with a list of values, an array with one object per value).
        #[arg(long)]
        json: bool,
        /// The experiment's parameters, e.g. --trials 1000 --seed 2.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "PARAMS")]
        params: Vec<String>,
    },
}

#[derive(Subcommand)]
enum LinkCmd {
    /// Print a link's scenario as JSON.
    Decode { link: String },
    /// Print the link of a scenario JSON file.
    Encode { file: PathBuf },
}

fn main() -> ExitCode {
    // Internal errors become a plain message, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("dsplay: internal error: {info}");
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli.cmd) {
        Ok(text) => {
            // A reader that stops early (`dsplay labs | head`) closes the pipe: that is no
            // error of ours, and the exit is quiet.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{text}").and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("dsplay: could not write the output: {e}");
                    ExitCode::from(1)
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(msg) => {
            eprintln!("dsplay: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cmd: Cmd) -> Result<String, String> {
    match cmd {
        Cmd::Run {
            scenario,
            until,
            json,
            max_events,
        } => run_scenario(&scenario, until.as_deref(), json, max_events),
        Cmd::Sweep {
            scenario,
            seeds,
            faults,
            jobs,
            until,
            json,
        } => sweep(&scenario, seeds, &faults, jobs, &until, json),
        Cmd::Link {
            op: LinkCmd::Decode { link },
        } => {
            let s = link::decode(&link).map_err(|e| format!("bad link: {e}"))?;
            Ok(s.to_json())
        }
        Cmd::Link {
            op: LinkCmd::Encode { file },
        } => {
            let s = read_scenario_file(&file)?;
            Ok(link::encode(&s))
        }
        Cmd::Labs { json } => Ok(list_labs(json)),
        Cmd::Lessons { json } => Ok(list_lessons(json)),
        Cmd::Check {
            file,
            format,
            model,
            initial,
            nil_reads,
            guarantees,
            json,
        } => check(
            &file, &format, &model, initial, &nil_reads, guarantees, json,
        ),
        Cmd::Experiment {
            id,
            list,
            json,
            params,
        } => experiment(id, list, json, params),
    }
}

fn read_scenario_file(path: &std::path::Path) -> Result<Scenario, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    if meta.len() > 4 << 20 {
        return Err(format!("'{}' is larger than 4 MiB", path.display()));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
    Scenario::from_json(&text).map_err(|e| format!("'{}': {e}", path.display()))
}

/// A link if it looks like one (`#`, `/lab?`, `lab?`), otherwise a file.
fn load_scenario(arg: &str) -> Result<Scenario, String> {
    let looks_like_link =
        arg.contains('#') || arg.contains('?') || labs::find(arg.trim_start_matches('/')).is_some();
    if looks_like_link || !std::path::Path::new(arg).exists() {
        if !looks_like_link {
            return Err(format!(
                "'{arg}' is neither a link (like '#/flows?n=3') nor a file that exists"
            ));
        }
        return link::decode(arg).map_err(|e| format!("bad link: {e}"));
    }
    read_scenario_file(std::path::Path::new(arg))
}

fn run_scenario(
    arg: &str,
    until: Option<&str>,
    json: bool,
    max_events: Option<u64>,
) -> Result<String, String> {
    let s = load_scenario(arg)?;
    let until_us = match until {
        Some(u) => parse_duration(u).map_err(|e| format!("--until: {e}"))?,
        None => s.cursor_us.unwrap_or(60_000_000),
    };
    let mut sim = labs::build(&s)?;
    let budget = max_events.unwrap_or(labs::REPLAY_EVENT_BUDGET);
    let (reached, _) = sim.run_until_within(Instant(until_us), budget);
    if !reached {
        return Err(format!(
            "the run made {} events by {} of virtual time, before {}; raise --max-events to \
             replay further",
            labs::count_text(budget),
            dsplay::sim::time::format_span(sim.now().0),
            dsplay::sim::time::format_span(until_us),
        ));
    }
    let stalled = sim.stall();
    let c = sim.counters();
    let props = sim.properties();
    // Labs whose clients use a checkable object get a linearizability verdict too.
    let linearizable = sim.check_history().map(|(h, kind)| {
        let model = dsplay::check::Model::new(kind, None);
        match dsplay::check::check(&h, &model).map(|r| r.verdict) {
            Ok(dsplay::check::Verdict::Linearizable) => Some(true),
            Ok(dsplay::check::Verdict::NotLinearizable) => Some(false),
            _ => None,
        }
    });
    if json {
        let v = json!({
            "lab": s.lab,
            "seed": s.seed,
            "link": link::encode(&s),
            "virtual_time_us": sim.now().0,
            "events": c.events,
            "messages": { "sent": c.sent, "delivered": c.delivered, "dropped": c.dropped, "duplicated": c.duplicated },
            "client_ops": sim.history().len(),
            "linearizable": linearizable.flatten(),
            "trace_hash": format!("{:016x}", sim.trace_hash()),
            "stalled": stalled,
            "metrics": sim.metrics().iter().map(|m| (m.key.to_string(), json!(m.value))).collect::<serde_json::Map<_, _>>(),
            "properties": props.iter().map(|p| json!({
                "name": p.name, "holds": p.holds, "violations": p.violations,
                "first_violation_us": p.first_violation_us,
            })).collect::<Vec<_>>(),
        });
        return Ok(serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    let mut out = format!(
        "{} (seed {}) ran to {}\n  events {}, messages sent {}, delivered {}, dropped {}, duplicated {}\n  client operations {}\n  trace hash {:016x}\n",
        s.lab,
        s.seed,
        format_clock(sim.now().0),
        c.events,
        c.sent,
        c.delivered,
        c.dropped,
        c.duplicated,
        sim.history().len(),
        sim.trace_hash()
    );
    match linearizable {
        Some(Some(v)) => out.push_str(&format!(
            "  client history linearizable: {}\n",
            if v { "yes" } else { "NO" }
        )),
        Some(None) => {
            out.push_str("  client history linearizable: unknown (check budget ran out)\n")
        }
        None => {}
    }
    if let Some(why) = &stalled {
        out.push_str(&format!("  stopped early: {why}\n"));
    }
    out.push_str("  properties:\n");
    for p in props {
        let status = if p.holds {
            "holds".to_string()
        } else {
            format!(
                "VIOLATED {}x, first at {}",
                p.violations,
                format_clock(p.first_violation_us.unwrap_or(0))
            )
        };
        out.push_str(&format!("    {:<28} {}\n", p.name, status));
        if let Some(cause) = &p.cause {
            out.push_str(&format!("      from the settings: {cause}\n"));
        }
    }
    Ok(out.trim_end().to_string())
}

/// The most seeds one sweep runs.
const MAX_SWEEP_SEEDS: u64 = 10_000_000;

fn sweep(
    arg: &str,
    seeds: u64,
    faults: &str,
    jobs: Option<usize>,
    until: &str,
    json: bool,
) -> Result<String, String> {
    use dsplay::play::sweep;
    let s = load_scenario(arg)?;
    let faults: sweep::Faults = faults.parse().map_err(|e| format!("--faults: {e}"))?;
    let until_us = parse_duration(until).map_err(|e| format!("--until: {e}"))?;
    if seeds == 0 || seeds > MAX_SWEEP_SEEDS {
        return Err(format!(
            "--seeds: between 1 and {MAX_SWEEP_SEEDS}, not {seeds}"
        ));
    }
    if until_us < 1_000 {
        return Err("--until: at least 1ms".into());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = std::time::Instant::now();
    let report = sweep::sweep(&s, seeds, faults, jobs.unwrap_or(cores), until_us)?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if json {
        let v = json!({
            "seeds": report.seeds,
            "violations": report.violations.iter().map(|v| json!({
                "seed": v.seed, "property": v.property, "at_us": v.at_us, "link": v.link,
                "original_link": v.original_link,
                "interventions": {"original": v.script_before, "shrunk": v.script_after},
                "shrunk": v.shrunk,
            })).collect::<Vec<_>>(),
            "events": report.events,
            "unfinished_seeds": report.unfinished,
            "elapsed_ms": elapsed_ms,
        });
        return Ok(serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    Ok(sweep_text(&report, elapsed_ms))
}

fn sweep_text(report: &dsplay::play::sweep::SweepReport, elapsed_ms: u64) -> String {
    let mut out = format!(
        "{} seeds, {} events in {} ms: {} violation{}\n",
        report.seeds,
        report.events,
        elapsed_ms,
        report.violations.len(),
        if report.violations.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if report.unfinished > 0 {
        out.push_str(&format!(
            "{} seeds made too many events to finish and were judged as far as they got\n",
            report.unfinished
        ));
    }
    for v in &report.violations {
        out.push_str(&format!(
            "seed {}: {} broken at {}\n  {}\n",
            v.seed,
            v.property,
            format_clock(v.at_us),
            v.link
        ));
        if v.shrunk {
            out.push_str(&format!(
                "  shrunk from {} to {} interventions; as drawn: {}\n",
                v.script_before, v.script_after, v.original_link
            ));
        }
    }
    out.trim_end().to_string()
}

/// Every lab's lessons (their links open at step 1) and presets, in registry order.
fn list_lessons(json: bool) -> String {
    let mut rows: Vec<(&str, &str, &str, String)> = Vec::new();
    for l in labs::REGISTRY {
        for x in l.lessons {
            let link = format!("{}&lesson={}&step=1", x.link, x.id);
            rows.push((l.id, "lesson", x.title, link));
        }
        for p in l.presets {
            rows.push((l.id, "preset", p.name, p.link.to_string()));
        }
    }
    if json {
        let v: Vec<_> = rows
            .iter()
            .map(|(lab, kind, title, link)| {
                json!({ "lab": lab, "kind": kind, "title": title, "link": link })
            })
            .collect();
        return serde_json::to_string_pretty(&v).unwrap_or_default();
    }
    let lines: Vec<String> = rows
        .iter()
        .map(|(lab, kind, title, link)| format!("{lab:<7} {kind:<7} {title}\n        {link}"))
        .collect();
    lines.join("\n")
}

fn list_labs(json: bool) -> String {
    if json {
        let v: Vec<_> = labs::REGISTRY
            .iter()
            .map(|l| {
                json!({
                    "id": l.id, "title": l.title, "summary": l.summary,
                    "nodes": { "min": l.nodes_min, "max": l.nodes_max, "default": l.nodes_default },
                    "params": l.params, "presets": l.presets,
                    "views": std::iter::once(labs::TOPOLOGY_STAGE)
                        .chain(l.stages.iter().map(|s| s.id))
                        .collect::<Vec<_>>(),
                    "default_link": link::default_link(l),
                    "variants": l.variants.iter().map(|v| json!({
                        "id": v.id, "mistake": v.mistake, "breaks": v.breaks,
                        "hunt": format!("{}&variant={}", v.hunt, v.id),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return serde_json::to_string_pretty(&v).unwrap_or_default();
    }
    let mut out = String::new();
    for l in labs::REGISTRY {
        out.push_str(&format!("{} — {}\n  {}\n", l.id, l.title, l.summary));
        out.push_str(&format!(
            "  n        nodes, {} to {} (default {})\n",
            l.nodes_min, l.nodes_max, l.nodes_default
        ));
        out.push_str("  seed     random seed (default 1)\n  lat      latency (default 20..80ms)\n  loss     loss rate (default 0%)\n  dup      duplication rate (default 0%)\n");
        for p in l.params {
            let range = p.kind.range_text();
            out.push_str(&format!(
                "  {:<8} {}, {} (default {})\n",
                p.key,
                p.label.to_lowercase(),
                range,
                p.default
            ));
        }
        for st in l.stages {
            out.push_str(&format!("  view     {}: {}\n", st.id, st.help));
        }
        out.push_str(&format!("  default link: {}\n", link::default_link(l)));
        for pr in l.presets {
            out.push_str(&format!("  preset: {} — {}\n", pr.name, pr.link));
        }
        for v in l.variants {
            out.push_str(&format!(
                "  variant: {} — {}; breaks {}; hunt it: dsplay sweep '{}&variant={}'\n",
                v.id, v.mistake, v.breaks, v.hunt, v.id
            ));
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}

fn check(
    file: &std::path::Path,
    format: &str,
    model: &str,
    initial: Option<String>,
    nil_reads: &str,
    guarantees: bool,
    json: bool,
) -> Result<String, String> {
    let options = dsplay::check::CliOptions {
        format: format.parse().map_err(|e| format!("--format: {e}"))?,
        model: model.parse().map_err(|e| format!("--model: {e}"))?,
        initial,
        nil_reads: nil_reads.parse().map_err(|e| format!("--nil-reads: {e}"))?,
        json,
        guarantees,
    };
    // The time taken is reported from here: the core never reads the wall clock.
    let started = std::time::Instant::now();
    let clock = || started.elapsed().as_secs_f64() * 1e3;
    dsplay::check::run_cli_options(file, &options, &clock).map(|report| report.text)
}

fn experiment(
    id: Option<String>,
    list: bool,
    json: bool,
    mut params: Vec<String>,
) -> Result<String, String> {
    // Flags written after the parameters reach here among them.
    let json = json || take_flag(&mut params, "--json");
    let list = list || take_flag(&mut params, "--list");
    if list {
        return Ok(list_experiments(json));
    }
    let id = id.ok_or("name an experiment (dsplay experiment --list lists them)")?;
    let spec = labs::find_experiment(&id).ok_or_else(|| {
        let ids: Vec<&str> = labs::experiments().map(|(_, e)| e.id).collect();
        format!(
            "there is no experiment '{id}' (there are: {})",
            ids.join(", ")
        )
    })?;
    let given = dsplay::labs::experiment::parse_args(&params)?;
    let runs = dsplay::labs::experiment::expand_lists(&given, spec.lists)?;
    let mut reports = Vec::new();
    for run in &runs {
        let values = spec.values(run)?;
        reports.push((values.clone(), spec.run_all(&values)?));
    }
    if json {
        let v = match reports.as_slice() {
            [(_, one)] => one.json.clone(),
            many => json!(many
                .iter()
                .map(|(values, r)| json!({ "params": values, "result": r.json }))
                .collect::<Vec<_>>()),
        };
        return serde_json::to_string_pretty(&v).map_err(|e| e.to_string());
    }
    // The summary, then the trials worth watching as links (where trials are runs of the lab).
    Ok(reports
        .iter()
        .map(|(_, r)| {
            let links = r
                .links
                .iter()
                .map(|l| format!("\n  {}: {}", l.label, l.link));
            std::iter::once(r.summary.clone())
                .chain(links)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Removes every `flag` from `args`; returns whether there was one.
fn take_flag(args: &mut Vec<String>, flag: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != flag);
    args.len() != before
}

fn list_experiments(json: bool) -> String {
    if json {
        let v: Vec<_> = labs::experiments()
            .map(|(lab, e)| {
                json!({ "id": e.id, "lab": lab.id, "title": e.title, "summary": e.summary, "params": e.params })
            })
            .collect();
        return serde_json::to_string_pretty(&v).unwrap_or_default();
    }
    let mut out = String::new();
    for (lab, e) in labs::experiments() {
        out.push_str(&format!(
            "{} ({} lab) — {}\n  {}\n",
            e.id, lab.id, e.title, e.summary
        ));
        for p in e.params {
            out.push_str(&format!(
                "  --{:<12} {}, {} (default {})\n",
                p.key,
                p.label.to_lowercase(),
                p.kind.range_text(),
                p.default
            ));
        }
    }
    out.trim_end().to_string()
}
