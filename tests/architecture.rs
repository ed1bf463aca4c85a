//! The layout is the architecture: each module may use only the modules that
//! docs/architecture.md's table lets it. This test reads every `crate::…` path
//! in each module's source (test modules apart) and fails on a dependency the
//! table does not allow, unless it is one of the known exceptions listed here,
//! each of which is to be removed. It also fails when an exception is gone
//! (so the list only shrinks) and when the table in the docs says otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → what it may use (as docs/architecture.md says).
const MAY_USE: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("clock", &[]),
    ("store", &["domain"]),
    ("demo", &["domain"]),
    ("report", &["domain"]),
    ("config", &["domain"]),
    ("logfile", &["domain", "store"]),
    ("sync", &["domain", "store", "clock"]),
    ("replica", &["domain", "store", "sync", "clock"]),
    ("import", &["domain", "replica", "store"]),
    ("link", &["domain", "store", "sync", "replica", "clock"]),
    ("hub", &["domain", "store", "sync", "clock"]),
    (
        "tui",
        &[
            "domain", "replica", "report", "config", "store", "sync", "link", "clock", "logfile",
        ],
    ),
];

/// Upward dependencies tolerated for a while (none today), each to be removed:
/// the test fails when one listed is gone, so the list only shrinks.
const KNOWN_EXCEPTIONS: &[(&str, &str, &str)] = &[];

fn sources(root: &Path, module: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let file = root.join(format!("{module}.rs"));
    if file.exists() {
        out.push(file);
    }
    let mut dirs = vec![root.join(module)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

/// The top-level modules a file's code names as `crate::name` (its test module apart).
fn used(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).expect("read source");
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

#[test]
fn every_module_uses_only_what_the_architecture_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed: BTreeMap<&str, BTreeSet<&str>> = MAY_USE
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let mut found_exceptions = BTreeSet::new();
    let mut upward = Vec::new();
    for (module, deps) in &allowed {
        for file in sources(&root, module) {
            for dep in used(&file) {
                if dep == *module || deps.contains(dep.as_str()) {
                    continue;
                }
                if KNOWN_EXCEPTIONS
                    .iter()
                    .any(|(from, to, _)| from == module && *to == dep)
                {
                    found_exceptions.insert((module.to_string(), dep));
                    continue;
                }
                upward.push(format!(
                    "{} uses crate::{dep}, which `{module}` may not use",
                    file.strip_prefix(&root).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "dependencies against docs/architecture.md:\n{}",
        upward.join("\n")
    );
    for (from, to, why) in KNOWN_EXCEPTIONS {
        assert!(
            found_exceptions.contains(&(from.to_string(), to.to_string())),
            "{from} no longer uses {to} ({why}): take it off KNOWN_EXCEPTIONS"
        );
    }
}

#[test]
fn the_table_in_the_docs_says_the_same() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .expect("docs/architecture.md");
    let mut table = BTreeMap::new();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        let name = cells[0]
            .trim()
            .trim_matches('`')
            .trim_end_matches('/')
            .trim_end_matches(".rs");
        let deps: BTreeSet<String> = match cells.last().map(|c| c.trim()) {
            Some("—") | None => BTreeSet::new(),
            // Modules only: the domain's row also names its crates.
            Some(list) => list
                .split(", ")
                .filter(|d| MAY_USE.iter().any(|(m, _)| m == d))
                .map(str::to_string)
                .collect(),
        };
        table.insert(name.to_string(), deps);
    }
    for (module, deps) in MAY_USE {
        let said = table
            .get(*module)
            .unwrap_or_else(|| panic!("docs/architecture.md has no row for {module}"));
        let here: BTreeSet<String> = deps.iter().map(|d| d.to_string()).collect();
        assert_eq!(said, &here, "the docs' \"may use\" for {module}");
    }
}
