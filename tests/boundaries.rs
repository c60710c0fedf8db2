//! The layout's promise: the shell loops over the registry. Nothing under `src/ui/`,
//! `src/viz/` or `src/bin/` imports a lab's module or compares against a lab's id as a string
//! literal (outside `#[cfg(test)]` code, which may open any lab's links), so adding a lab is one
//! folder and one registry line.

use std::path::Path;

/// The non-test code of a file: everything before its first `#[cfg(test)]`, comments left out.
fn shipped_code(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Where a file names a lab: `labs::<id>` paths and `"<id>"` literals.
fn lab_mentions(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for lab in dsplay::labs::REGISTRY {
        for needle in [format!("labs::{}", lab.id), format!("\"{}\"", lab.id)] {
            if code.contains(&needle) {
                found.push(needle);
            }
        }
    }
    found
}

#[test]
fn the_shell_names_no_lab() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in ["ui", "viz", "bin"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 10, "the shell's files were found: {files:?}");
    let mut offences = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        for m in lab_mentions(&shipped_code(&text)) {
            offences.push(format!("{} names a lab: {m}", f.display()));
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

// The check itself has teeth: the hard-wirings the shell had are caught.
#[test]
fn the_check_catches_an_import_and_a_lab_id_comparison() {
    let wired = "use crate::labs::raft::experiment::ElectionExperiment;\n\
                 fn f(lab: &str) -> bool { lab == \"raft\" }\n\
                 #[cfg(test)]\nmod tests { const L: &str = \"flows\"; }\n";
    let found = lab_mentions(&shipped_code(wired));
    assert_eq!(
        found,
        vec!["labs::raft".to_string(), "\"raft\"".to_string()]
    );
    assert!(lab_mentions(&shipped_code("// labs::raft in a comment\n")).is_empty());
}
