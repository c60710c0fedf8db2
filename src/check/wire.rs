//! A compact text form of [`CheckResult`], in which the browser's job worker sends a check's
//! result back to the page (see `ui/jobs.rs`). One line per part, fields separated by tabs:
//!
//! ```text
//! result  <verdict> <operations> <partitions> <steps> <stopped>
//! order   <key> <op> <op> ...          one per linearization
//! counter <key> <state> <offending> <op> <op> ...
//! ```
//!
//! Verdicts and stop reasons are their snake-case names (`-` for no stop reason); a key or a
//! state is `-` for none, otherwise `=` and the text with `\`, tab and newline escaped.
//! Reading is total: malformed text is an error naming the line, never a panic.

use super::checker::{CheckResult, Counterexample, Linearization, StopReason, Verdict};

const VERDICTS: [(Verdict, &str); 3] = [
    (Verdict::Linearizable, "linearizable"),
    (Verdict::NotLinearizable, "not_linearizable"),
    (Verdict::Unknown, "unknown"),
];

const STOPS: [(StopReason, &str); 3] = [
    (StopReason::StepBudget, "step_budget"),
    (StopReason::MemoryBudget, "memory_budget"),
    (StopReason::Cancelled, "cancelled"),
];

/// `result` as text.
pub fn result_text(result: &CheckResult) -> String {
    let name = |v| {
        VERDICTS
            .iter()
            .find(|(x, _)| *x == v)
            .map_or("", |(_, n)| n)
    };
    let stop = result
        .stopped
        .and_then(|s| STOPS.iter().find(|(x, _)| *x == s))
        .map_or("-", |(_, n)| n);
    let mut out = format!(
        "result\t{}\t{}\t{}\t{}\t{stop}",
        name(result.verdict),
        result.operations,
        result.partitions,
        result.steps
    );
    for l in &result.linearizations {
        out.push_str(&format!("\norder\t{}{}", text(&l.key), ops(&l.order)));
    }
    if let Some(c) = &result.counterexample {
        out.push_str(&format!(
            "\ncounter\t{}\t{}\t{}{}",
            text(&c.key),
            text(&c.state_after_prefix),
            c.offending_op,
            ops(&c.longest_prefix)
        ));
    }
    out
}

/// Reads [`result_text`]'s form back.
pub fn read_result(wire: &str) -> Result<CheckResult, String> {
    let mut lines = wire.split('\n');
    let head: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let [word, verdict, operations, partitions, steps, stop] = head[..] else {
        return Err("the result line is missing or short".into());
    };
    if word != "result" {
        return Err(format!("'{word}' where the result line should be"));
    }
    let mut result = CheckResult {
        verdict: VERDICTS
            .iter()
            .find(|(_, n)| *n == verdict)
            .ok_or(format!("no verdict '{verdict}'"))?
            .0,
        operations: number(operations)?,
        partitions: number(partitions)?,
        steps: number(steps)?,
        stopped: match stop {
            "-" => None,
            s => Some(
                STOPS
                    .iter()
                    .find(|(_, n)| *n == s)
                    .ok_or(format!("no stop '{s}'"))?
                    .0,
            ),
        },
        linearizations: Vec::new(),
        counterexample: None,
    };
    for line in lines {
        read_part(&mut result, line).map_err(|e| format!("{e} in '{}'", short(line)))?;
    }
    Ok(result)
}

/// Reads one `order` or `counter` line into `result`.
fn read_part(result: &mut CheckResult, line: &str) -> Result<(), String> {
    let mut f = line.split('\t');
    let mut field = || f.next().ok_or("a short line".to_string());
    match field()? {
        "order" => {
            let key = read_text(field()?)?;
            let order = read_ops(f)?;
            result.linearizations.push(Linearization { key, order });
        }
        "counter" => {
            let key = read_text(field()?)?;
            let state_after_prefix = read_text(field()?)?;
            let offending_op = number(field()?)?;
            let longest_prefix = read_ops(f)?;
            result.counterexample = Some(Counterexample {
                key,
                longest_prefix,
                state_after_prefix,
                offending_op,
            });
        }
        w => return Err(format!("no part '{w}'")),
    }
    Ok(())
}

fn ops(order: &[usize]) -> String {
    order.iter().map(|op| format!("\t{op}")).collect()
}

fn read_ops<'a>(fields: impl Iterator<Item = &'a str>) -> Result<Vec<usize>, String> {
    fields.map(number).collect()
}

fn number<T: std::str::FromStr>(t: &str) -> Result<T, String> {
    t.parse()
        .map_err(|_| format!("'{}' is not a number", short(t)))
}

/// The start of `t`, for messages.
fn short(t: &str) -> String {
    t.chars().take(40).collect()
}

fn text(t: &Option<String>) -> String {
    let Some(t) = t else { return "-".into() };
    let mut out = String::with_capacity(t.len() + 1);
    out.push('=');
    for c in t.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn read_text(t: &str) -> Result<Option<String>, String> {
    if t == "-" {
        return Ok(None);
    }
    let t = t
        .strip_prefix('=')
        .ok_or(format!("'{}' is not a text", short(t)))?;
    let mut out = String::with_capacity(t.len());
    let mut chars = t.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('t') => '\t',
            Some('n') => '\n',
            Some('\\') => '\\',
            _ => return Err("a broken escape".into()),
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(verdict: Verdict) -> CheckResult {
        CheckResult {
            verdict,
            operations: 7,
            partitions: 2,
            steps: 1234,
            stopped: None,
            linearizations: Vec::new(),
            counterexample: None,
        }
    }

    /// Every variant comes back equal, including keys and states that hold the separators.
    #[test]
    fn check_results_round_trip_through_the_wire_form() {
        let mut yes = base(Verdict::Linearizable);
        yes.linearizations = vec![
            Linearization {
                key: Some("a\tb\\c\nd".into()),
                order: vec![0, 2, 1],
            },
            Linearization {
                key: None,
                order: Vec::new(),
            },
        ];
        let mut no = base(Verdict::NotLinearizable);
        no.linearizations = vec![Linearization {
            key: Some(String::new()),
            order: vec![3],
        }];
        no.counterexample = Some(Counterexample {
            key: Some("x".into()),
            longest_prefix: vec![4, 5],
            state_after_prefix: Some("-".into()),
            offending_op: 6,
        });
        let mut nil_state = no.clone();
        nil_state
            .counterexample
            .as_mut()
            .unwrap()
            .state_after_prefix = None;
        let mut unknown = base(Verdict::Unknown);
        for stop in [
            StopReason::StepBudget,
            StopReason::MemoryBudget,
            StopReason::Cancelled,
        ] {
            unknown.stopped = Some(stop);
            assert_eq!(read_result(&result_text(&unknown)), Ok(unknown.clone()));
        }
        for r in [yes, no, nil_state] {
            assert_eq!(read_result(&result_text(&r)), Ok(r.clone()));
        }
    }

    /// Broken text of every kind is an error, never a panic or a made-up result.
    #[test]
    fn malformed_wire_text_is_an_error() {
        let good = result_text(&base(Verdict::Linearizable));
        for bad in [
            "",
            "result",
            "result\tlinearizable\t1\t1",
            "outcome\tlinearizable\t1\t1\t1\t-",
            "result\tmaybe\t1\t1\t1\t-",
            "result\tunknown\t1\t1\t1\ttired",
            "result\tlinearizable\t-1\t1\t1\t-",
            "result\tlinearizable\t1\t1\t1\t-\torder",
            &format!("{good}\norder"),
            &format!("{good}\norder\tkey\t1"),
            &format!("{good}\norder\t=k\\q\t1"),
            &format!("{good}\norder\t-\t1\tx"),
            &format!("{good}\ncounter\t-\t-"),
            &format!("{good}\ncounter\t-\t-\tnine"),
            &format!("{good}\nwitness\t-"),
            &format!("{good}\n"),
        ] {
            assert!(read_result(bad).is_err(), "{bad:?} was read");
        }
        assert!(read_result(&good).is_ok());
    }
}
