//! The dependency rule of docs/architecture.md, checked on the sources: every module imports
//! only from modules in lower layers (so never from one above it, nor round a circle), and
//! no source file holds much more than 600 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top. A module may import from modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    // Leaves: the table model, lake keys, and small utilities.
    &[
        "table",
        "lake",
        "secret",
        "durable",
        "shutdown",
        "testing",
        "progress",
        "schedule",
        "text_table",
        "privacy",
    ],
    // The configuration: deserialized and validated, nothing resolved.
    &["config"],
    // What every AWS client shares (timeouts, error lines).
    &["aws"],
    // The data path: sources and formats, then stores, then catalogs.
    &["source", "encode"],
    &["store"],
    &["lease", "catalog"],
    // What a process's jobs share, then the jobs, then the daemon that schedules them.
    &["context"],
    &["jobs"],
    &["daemon"],
];

/// The longest a source file may be (about 600 lines, as the project rule says).
const MAX_LINES: usize = 650;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/jobs/extract/table.rs` → `jobs`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a file names through `crate::`.
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

#[test]
fn imports_follow_the_layers_and_files_stay_small() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, mods)| mods.iter().map(move |m| (*m, i)))
        .collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        let lines = text.lines().count();
        if lines > MAX_LINES {
            violations.push(format!("{rel}: {lines} lines (more than {MAX_LINES})"));
        }
        let module = module_of(&src, file);
        if module == "main" || module == "lib" {
            continue;
        }
        let Some(&own) = layer.get(module.as_str()) else {
            violations.push(format!(
                "{rel}: module {module} has no layer in tests/architecture.rs (and docs/architecture.md)"
            ));
            continue;
        };
        for imported in imports(&text) {
            if imported == module {
                continue;
            }
            match layer.get(imported.as_str()) {
                Some(&theirs) if theirs < own => {}
                Some(_) => violations.push(format!(
                    "{rel}: {module} imports crate::{imported}, which is not in a lower layer"
                )),
                None => violations.push(format!(
                    "{rel}: crate::{imported} is not a module with a layer"
                )),
            }
        }
    }
    assert!(violations.is_empty(), "\n{}", violations.join("\n"));
}

#[test]
fn the_import_scanner_sees_every_form() {
    let found = imports(
        "use crate::{config::Config, table};\nuse crate::store::Store;\nlet x = crate::lake::escape(y);",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["config", "lake", "store", "table"]
    );
}
