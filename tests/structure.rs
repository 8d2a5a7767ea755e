//! The code's shape, checked: no import cycle between the library's modules, no function over
//! 150 lines, no raw x86-64 relocation type outside `arch/` (the report's names aside), and no
//! `cfg(target_arch)` outside the modules that hide the platform (`par`, `clock`, `demangle`, `wasm`).
//! docs/design.md says why each holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a library file belongs to (None: lib.rs and the binary).
fn module_of(p: &Path) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = p.strip_prefix(&root).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let m = first.trim_end_matches(".rs").to_string();
    (m != "lib" && m != "bin").then_some(m)
}

/// The code of a file without its comments (line comments only; the crate has no block comments).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_import_cycle_between_modules() {
    let files = sources();
    let mods: BTreeSet<String> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (p, text) in &files {
        let Some(m) = module_of(p) else { continue };
        let entry = deps.entry(m.clone()).or_default();
        let c = code(text);
        for (i, _) in c.match_indices("crate::") {
            let name: String = c[i + 7..]
                .chars()
                .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
                .collect();
            if name != m && mods.contains(&name) {
                entry.insert(name);
            }
        }
    }
    // A module reaches itself through its dependencies only if there is a cycle.
    for start in deps.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(&String, Vec<&String>)> = vec![(start, vec![start])];
        while let Some((m, path)) = stack.pop() {
            for d in deps.get(m).into_iter().flatten() {
                if d == start {
                    let mut cycle: Vec<&str> = path.iter().map(|s| s.as_str()).collect();
                    cycle.push(start);
                    panic!("import cycle: {}", cycle.join(" -> "));
                }
                if seen.insert(d.clone()) {
                    let mut p = path.clone();
                    p.push(d);
                    stack.push((d, p));
                }
            }
        }
    }
}

#[test]
fn no_function_over_150_lines() {
    let mut long = Vec::new();
    for (p, text) in sources() {
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let indent = &l[..l.len() - t.len()];
            let t = t
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub(super) ")
                .trim_start_matches("pub ")
                .trim_start_matches("const ")
                .trim_start_matches("unsafe ");
            if !t.starts_with("fn ") || l.trim_end().ends_with(';') {
                continue;
            }
            let close = format!("{indent}}}");
            if let Some(n) = lines[i + 1..].iter().position(|x| *x == close) {
                if n + 2 > 150 {
                    long.push(format!("{}:{} ({} lines)", p.display(), i + 1, n + 2));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over 150 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn x86_64_relocation_types_only_under_arch() {
    let mut found = Vec::new();
    for (p, text) in sources() {
        let s = p.to_string_lossy();
        if s.contains("/src/arch/") || s.ends_with("/report.rs") {
            continue;
        }
        for (i, l) in code(&text).lines().enumerate() {
            if l.contains("R_X86_64_") {
                found.push(format!("{}:{}", p.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "R_X86_64_ outside arch/:\n{}",
        found.join("\n")
    );
}

#[test]
fn platform_cfg_only_where_the_platform_is_hidden() {
    let mut found = Vec::new();
    for (p, text) in sources() {
        let s = p.to_string_lossy();
        let allowed = [
            "/src/par.rs",
            "/src/clock.rs",
            "/src/demangle.rs",
            "/src/wasm.rs",
            "/src/bin/",
        ];
        if allowed.iter().any(|a| s.contains(a)) {
            continue;
        }
        for (i, l) in code(&text).lines().enumerate() {
            if l.contains("target_arch") {
                found.push(format!("{}:{}", p.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "cfg(target_arch) in a phase:\n{}",
        found.join("\n")
    );
}
