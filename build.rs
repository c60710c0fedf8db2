//! Prepares the paint worker's script for embedding in the browser build: whole-line comments
//! and indentation are dropped (the readable source is `static/paint-worker.js`).

fn main() {
    let src = "static/paint-worker.js";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).expect("static/paint-worker.js is readable");
    let small: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("paint-worker.min.js");
    std::fs::write(out, small).expect("OUT_DIR is writable");
}
