//! Prepares the workers' scripts for embedding in the browser build: whole-line comments and
//! indentation are dropped (the readable sources are `static/paint-worker.js` and
//! `static/job-worker.js`).

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in ["paint-worker", "job-worker"] {
        let src = format!("static/{name}.js");
        println!("cargo:rerun-if-changed={src}");
        let text = std::fs::read_to_string(&src).expect("the worker scripts are readable");
        let small: String = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .map(|l| format!("{l}\n"))
            .collect();
        let out = std::path::Path::new(&out_dir).join(format!("{name}.min.js"));
        std::fs::write(out, small).expect("OUT_DIR is writable");
    }
}
