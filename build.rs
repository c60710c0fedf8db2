//! Prepares the workers' scripts for embedding in the browser build: comments, indentation and
//! the spaces next to punctuation are dropped (the readable sources are
//! `static/paint-worker.js` and `static/job-worker.js`).

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in ["paint-worker", "job-worker"] {
        let src = format!("static/{name}.js");
        println!("cargo:rerun-if-changed={src}");
        let text = std::fs::read_to_string(&src).expect("the worker scripts are readable");
        let small: String = text
            .lines()
            .map(squeeze)
            .filter(|l| !l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect();
        let out = std::path::Path::new(&out_dir).join(format!("{name}.min.js"));
        std::fs::write(out, small).expect("OUT_DIR is writable");
    }
}

/// One line without its comment and without the spaces a JavaScript engine does not need
/// (those beside punctuation), strings and templates kept as they are. Lines stay lines (no
/// semicolon is ever inferred differently), and the scripts use no regular-expression
/// literals or block comments, which this does not know.
fn squeeze(line: &str) -> String {
    let chars: Vec<char> = line.trim().chars().collect();
    let mut out = String::with_capacity(chars.len());
    // What is open: quotes (' " `) and, inside a template, `${` or a brace within it ('{').
    let mut open: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match open.last().copied() {
            None | Some('{') => match c {
                '/' if next == Some('/') => break,
                '\'' | '"' | '`' => open.push(c),
                '{' if !open.is_empty() => open.push(c),
                '}' if !open.is_empty() => {
                    open.pop();
                }
                ' ' if !keeps_space(out.chars().last(), next) => {
                    i += 1;
                    continue;
                }
                _ => {}
            },
            Some(quote) => {
                if c == '\\' {
                    out.push(c);
                    out.extend(next);
                    i += 2;
                    continue;
                }
                if c == quote {
                    open.pop();
                } else if quote == '`' && c == '$' && next == Some('{') {
                    open.push('{');
                    out.push_str("${");
                    i += 2;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    out.trim_end().to_string()
}

/// Whether a space between `before` and `after` is needed: between two words, and between
/// two pluses or two minuses (`a - -b`).
fn keeps_space(before: Option<char>, after: Option<char>) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    (word(before) && word(after))
        || matches!(
            (before, after),
            (Some('+'), Some('+')) | (Some('-'), Some('-'))
        )
}
