//! tarjim: a batch pipeline that turns a night's Arabic news into English briefings.
//!
//! The modules are listed in the order the data flows through them: configuration, reading
//! articles, cleaning, chunking, translating through a backend (with a persistent cache), and
//! rendering the outputs. `main.rs` is a thin shell around [`pipeline::run`].

pub mod cli;
pub mod settings;

pub mod article;
pub mod chunk;
pub mod decode;
pub mod normalize;

pub mod backend;
pub mod cache;
pub mod prompt;
pub mod stage;
pub mod structured;

pub mod fidelity;
pub mod names;
pub mod translate;

pub mod english;
pub mod summarize;

pub mod brief;
pub mod pipeline;
pub mod progress;
pub mod record;

pub mod eval;

pub mod fsutil;
pub mod lock;
pub mod model;
pub mod render;

/// The modules' dependencies go one way: no module reaches, through `crate::` paths, a module
/// that reaches it back. A cycle makes two modules one (neither can change without the other),
/// so a change that adds one fails here, naming the modules and the files that close it.
#[cfg(test)]
mod layering {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Top-level module -> the top-level modules its files name as `crate::<module>`, with
    /// the first file that does.
    fn imports() -> BTreeMap<String, BTreeMap<String, String>> {
        fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        files.sort();
        let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for file in files {
            let relative = file.strip_prefix(&src).expect("under src");
            let first = relative.components().next().expect("a component");
            let module = first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if module == "main" || module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("read");
            let targets = graph.entry(module.clone()).or_default();
            for (at, _) in text.match_indices("crate::") {
                let name: String = text[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    targets
                        .entry(name)
                        .or_insert_with(|| relative.display().to_string());
                }
            }
        }
        graph
    }

    #[test]
    fn module_dependencies_have_no_cycles() {
        let graph = imports();
        assert!(graph.len() > 20, "found only {:?}", graph.keys());
        // Depth-first search from every module; a module met again on the current path
        // closes a cycle.
        fn visit(
            module: &str,
            graph: &BTreeMap<String, BTreeMap<String, String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Result<(), String> {
            if let Some(start) = path.iter().position(|m| m == module) {
                let cycle: Vec<String> = path[start..]
                    .iter()
                    .zip(path[start..].iter().skip(1).chain([&path[start]]))
                    .map(|(from, to)| format!("{from} -> {to} ({})", graph[from.as_str()][to]))
                    .collect();
                return Err(cycle.join(", "));
            }
            if !done.insert(module.to_string()) {
                return Ok(());
            }
            path.push(module.to_string());
            for target in graph.get(module).into_iter().flat_map(BTreeMap::keys) {
                visit(target, graph, path, done)?;
            }
            path.pop();
            Ok(())
        }
        let mut done = BTreeSet::new();
        for module in graph.keys() {
            if let Err(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
                panic!("import cycle: {cycle}");
            }
        }
    }
}
