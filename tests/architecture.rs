//! The layout that `docs/architecture.md` promises, checked on the source itself: every
//! import points down the layers (faces, the two sides, what they share, the vault, the
//! base); the journalist's side and the watcher's server never import each other; no import
//! circle joins two top-level modules or two files of different modules; the command line
//! and the local app stay faces (no `ring`, database or HTTP client in them); and no source file is over 800
//! lines. A change that breaks one fails here with the files that break it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path (`["watch", "service"]`), and the file that holds it.
type Module = Vec<String>;

/// The layer of each top-level module: an import may only point at the same layer or lower.
const LAYERS: &[(&str, u8)] = &[
    ("cli", 4),
    ("app", 4),
    ("switch", 3),
    ("watch", 3),
    ("alert", 2),
    ("lang", 2),
    ("plan", 2),
    ("protocol", 2),
    ("release", 2),
    ("route", 2),
    ("vault", 1),
    ("crypto", 0),
    ("disk", 0),
    ("fsprotect", 0),
    ("secret", 0),
];

const LONGEST_FILE: usize = 800;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

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

/// Every module of the crate, by path, with its file.
fn modules() -> BTreeMap<Module, PathBuf> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut modules = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap().with_extension("");
        let mut path: Module = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(
            path.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            path.pop();
        }
        modules.insert(path, file);
    }
    modules
}

/// The code of a file without comments and without its inline test module: what it
/// imports to do its job.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The deepest module that `path` names.
fn resolve(modules: &BTreeMap<Module, PathBuf>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|candidate| modules.contains_key(candidate))
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The modules each module names through `crate::` or `super::` paths, `use` groups included.
fn imports(modules: &BTreeMap<Module, PathBuf>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, file) in modules {
        let code = code_of(file);
        let found = edges.entry(module.clone()).or_default();
        for anchor in ["crate::", "super::"] {
            for (at, _) in code.match_indices(anchor) {
                if code[..at].ends_with(is_ident_char) || code[..at].ends_with("::") {
                    continue;
                }
                let mut base: Module = if anchor == "crate::" {
                    Vec::new()
                } else {
                    module[..module.len().saturating_sub(1)].to_vec()
                };
                let mut tail = &code[at + anchor.len()..];
                while anchor == "super::"
                    && let Some(after) = tail.strip_prefix("super::")
                {
                    base.pop();
                    tail = after;
                }
                let mut path = base;
                loop {
                    let name: String = tail.chars().take_while(|&c| is_ident_char(c)).collect();
                    if name.is_empty() {
                        break;
                    }
                    path.push(name.clone());
                    tail = &tail[name.len()..];
                    match tail.strip_prefix("::") {
                        Some(after) => tail = after,
                        None => break,
                    }
                }
                // `use crate::a::{b, c::d}`: each item of the group.
                if let Some(group) = tail.strip_prefix('{') {
                    let group = &group[..group.find('}').unwrap_or(group.len())];
                    for item in group.split(',') {
                        let mut item_path = path.clone();
                        item_path.extend(
                            item.trim()
                                .split("::")
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty() && s.chars().all(is_ident_char)),
                        );
                        if let Some(target) = resolve(modules, &item_path) {
                            found.insert(target);
                        }
                    }
                }
                if let Some(target) = resolve(modules, &path) {
                    found.insert(target);
                }
            }
        }
        found.remove(module);
    }
    edges
}

/// Whether one module holds the other (a file and its own submodules are one module).
fn related(a: &Module, b: &Module) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// The strongly connected groups of more than one node (Tarjan).
fn circles<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    struct Walk<'a, N: Ord> {
        edges: &'a BTreeMap<N, BTreeSet<N>>,
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        on_stack: BTreeSet<N>,
        found: Vec<Vec<N>>,
    }
    fn visit<N: Ord + Clone>(walk: &mut Walk<'_, N>, node: &N) {
        let n = walk.index.len();
        walk.index.insert(node.clone(), n);
        walk.low.insert(node.clone(), n);
        walk.stack.push(node.clone());
        walk.on_stack.insert(node.clone());
        for next in walk.edges.get(node).into_iter().flatten() {
            if !walk.index.contains_key(next) {
                visit(walk, next);
                let low = walk.low[node].min(walk.low[next]);
                walk.low.insert(node.clone(), low);
            } else if walk.on_stack.contains(next) {
                let low = walk.low[node].min(walk.index[next]);
                walk.low.insert(node.clone(), low);
            }
        }
        if walk.low[node] == walk.index[node] {
            let mut group = Vec::new();
            loop {
                let member = walk.stack.pop().unwrap();
                walk.on_stack.remove(&member);
                group.push(member.clone());
                if &member == node {
                    break;
                }
            }
            if group.len() > 1 {
                walk.found.push(group);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !walk.index.contains_key(node) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

fn top_level_imports() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in imports(&modules) {
        let Some(from_top) = from.first() else {
            continue;
        };
        for target in targets {
            if let Some(to_top) = target.first()
                && to_top != from_top
            {
                top.entry(from_top.clone())
                    .or_default()
                    .insert(to_top.clone());
            }
        }
    }
    top
}

#[test]
fn every_import_points_down_the_layers() {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let top = top_level_imports();
    let mut wrong = Vec::new();
    for (from, targets) in &top {
        let from_layer = *layer
            .get(from.as_str())
            .unwrap_or_else(|| panic!("the new top-level module {from} needs a layer here"));
        for to in targets {
            let to_layer = layer[to.as_str()];
            if to_layer > from_layer {
                wrong.push(format!(
                    "{from} (layer {from_layer}) imports {to} (layer {to_layer})"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "imports pointing up: {wrong:#?}");
    // The two sides meet only in what they share.
    for (a, b) in [("switch", "watch"), ("watch", "switch")] {
        assert!(
            !top.get(a).is_some_and(|t| t.contains(b)),
            "{a} imports {b}: the journalist's side and the server share only protocol, plan, alert, release, route and lang"
        );
    }
    // The layers are told apart at all: the faces use the library, the library not the faces.
    assert!(top["cli"].contains("switch") && top["cli"].contains("vault"));
    assert!(top.values().all(|targets| !targets.contains("cli")));
}

#[test]
fn no_import_circle_joins_two_top_level_modules() {
    let found = circles(&top_level_imports());
    assert!(found.is_empty(), "top-level modules in a circle: {found:?}");
}

#[test]
fn no_import_circle_joins_files_of_different_modules() {
    let modules = modules();
    let edges: BTreeMap<Module, BTreeSet<Module>> = imports(&modules)
        .into_iter()
        .map(|(from, targets)| {
            let targets = targets.into_iter().filter(|t| !related(&from, t)).collect();
            (from, targets)
        })
        .collect();
    let found: Vec<Vec<String>> = circles(&edges)
        .into_iter()
        .map(|group| group.iter().map(|m| m.join("::")).collect())
        .collect();
    assert!(found.is_empty(), "files in an import circle: {found:?}");
    // The walk sees real imports: the check-in path is there.
    assert!(
        edges[&vec!["switch".to_string(), "requests".to_string()]]
            .contains(&vec!["switch".to_string(), "watchers".to_string()])
    );
}

#[test]
fn the_faces_are_faces_only() {
    let modules = modules();
    let mut found = Vec::new();
    for (module, file) in &modules {
        if !matches!(module.first().map(String::as_str), Some("cli" | "app")) {
            continue;
        }
        let code = code_of(file);
        for crate_name in ["ring::", "sled::", "rusqlite::", "reqwest::"] {
            let named = code
                .match_indices(crate_name)
                .any(|(at, _)| !code[..at].ends_with(is_ident_char) && !code[..at].ends_with("::"));
            if named {
                found.push(format!("{} uses {crate_name}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn no_source_file_is_over_800_lines() {
    let too_long: Vec<String> = modules()
        .values()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            (lines > LONGEST_FILE).then(|| format!("{}: {lines} lines", file.display()))
        })
        .collect();
    assert!(too_long.is_empty(), "split by concern: {too_long:#?}");
}
