//! The crate's modules form no cycle: each top-level module of `src/` uses only itself and the
//! modules before it in the dependency order that the crate docs (`src/lib.rs`) state.
//!
//! A reference is any `crate::name` or `$crate::name` outside comments, in a file's non-test
//! code (everything before its first `#[cfg(test)]`, and not the test-only files). Names that
//! `lib.rs` re-exports at the root (`crate::Float`) count as the module they come from.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// The top-level modules in the order the crate docs state (`//! Dependency order: a → b …`).
fn declared_order(lib: &str) -> Vec<String> {
    let line = lib
        .lines()
        .find_map(|l| l.strip_prefix("//! Dependency order:"))
        .expect("lib.rs docs state the dependency order");
    line.split('→').map(|m| m.trim().trim_matches('`').to_string()).collect()
}

/// Every top-level module `lib.rs` declares.
fn declared_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("pub mod ").or_else(|| l.strip_prefix("mod ")))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// Root re-exports: `pub use module::{A, B};` → A and B belong to `module`.
fn root_names(lib: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let flat = lib.replace('\n', " ");
    for stmt in flat.split(';') {
        // attributes first (`#[cfg(feature = "std")] pub use …`)
        let mut stmt = stmt.trim();
        while stmt.starts_with("#[") {
            let Some(end) = stmt.find(']') else { break };
            stmt = stmt[end + 1..].trim_start();
        }
        let Some(rest) = stmt.strip_prefix("pub use ") else { continue };
        let Some((module, items)) = rest.split_once("::") else { continue };
        if module.trim() == "crate" {
            continue; // the prelude's re-exports of re-exports
        }
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            names.insert(item.to_string(), module.trim().to_string());
        }
    }
    names
}

/// The identifiers that follow `crate::` or `$crate::` in non-comment code.
fn references(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let before = &rest[..i];
            let is_path = before.is_empty()
                || before.ends_with(|c: char| !(c.is_alphanumeric() || c == '_'))
                || before.ends_with('$');
            let name: String =
                after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if is_path && !name.is_empty() {
                found.push(name.clone());
            } else if is_path && after.starts_with('{') {
                // `use crate::{A, b::C}`: every first segment
                let group = after[1..].split('}').next().unwrap_or("");
                for item in group.split(',') {
                    let first = item.trim().split("::").next().unwrap_or("").trim();
                    if !first.is_empty() {
                        found.push(first.to_string());
                    }
                }
            }
            rest = after;
        }
    }
    found
}

/// The code of a file without its test-only parts: a `#[cfg(test)]` declaration of a module in
/// another file (`mod naive;`) is skipped, and at a `#[cfg(test)]` item with a body (the
/// `mod tests { … }` that closes a file, a test helper) the rest of the file is dropped.
fn non_test_code(text: &str) -> String {
    let mut kept = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            match lines.peek() {
                Some(next) if next.trim().ends_with(';') => {
                    lines.next();
                    continue;
                }
                _ => break,
            }
        }
        kept.push(line);
    }
    kept.join("\n")
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_use_only_modules_declared_before_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let order = declared_order(&lib);
    let mut stated = order.clone();
    stated.push("testing".to_string()); // test-only
    stated.sort();
    let mut declared = declared_modules(&lib);
    declared.sort();
    assert_eq!(stated, declared, "the stated order must name every module lib.rs declares");
    let rank: HashMap<&str, usize> =
        order.iter().enumerate().map(|(i, m)| (m.as_str(), i)).collect();
    let mut roots = root_names(&lib);
    assert_eq!(roots.get("Float").map(String::as_str), Some("element"));

    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // `#[macro_export]` macros live at the root: they count as the module that defines them
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
        let text = fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(name) = line.trim().strip_prefix("macro_rules! ") else { continue };
            let exported =
                lines[i.saturating_sub(4)..i].iter().any(|l| l.trim() == "#[macro_export]");
            if exported {
                roots.insert(name.trim_end_matches(" {").to_string(), top.clone());
            }
        }
    }
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_string();
        let test_only = ["tests.rs", "naive.rs", "grid.rs"]
            .iter()
            .any(|n| rel.file_name().is_some_and(|f| f == *n))
            || top == "testing";
        if top == "lib" || test_only {
            continue;
        }
        let Some(&mine) = rank.get(top.as_str()) else {
            panic!("{} is not under a module declared in lib.rs", rel.display());
        };
        let text = fs::read_to_string(&file).unwrap();
        for name in references(&non_test_code(&text)) {
            let module = roots.get(&name).cloned().unwrap_or(name.clone());
            if name == "prelude" {
                violations.push(format!(
                    "{}: uses crate::{name} (a user-facing re-export)",
                    rel.display()
                ));
                continue;
            }
            match rank.get(module.as_str()) {
                Some(&theirs) if theirs > mine => violations.push(format!(
                    "{} (module `{top}`) uses crate::{name} of module `{module}`, declared after it",
                    rel.display()
                )),
                Some(_) => {}
                None => violations.push(format!(
                    "{}: crate::{name} is neither a module nor a root re-export",
                    rel.display()
                )),
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} references found: is the parser broken?");
    assert!(violations.is_empty(), "dependency order {order:?} broken:\n{}", violations.join("\n"));
}
