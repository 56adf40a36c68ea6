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
pub mod batch;
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
pub mod hint;
pub mod lock;
pub mod memory;
pub mod model;
pub mod render;

/// The modules' dependencies go one way, down the layers that ARCHITECTURE.md lists: a module
/// uses (through `crate::` paths) only modules below its own layer, so there can be no cycle
/// (which makes two modules one: neither can change without the other). A change that adds an
/// upward or sideways import fails here, naming the modules and the file.
#[cfg(test)]
mod layering {
    use std::collections::BTreeMap;
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

    /// The layers of ARCHITECTURE.md's `text` block after the `layers` marker, top first.
    fn layers() -> Vec<Vec<String>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md");
        let text = std::fs::read_to_string(&path).expect("read ARCHITECTURE.md");
        let after = text
            .split("<!-- layers:")
            .nth(1)
            .expect("ARCHITECTURE.md has a <!-- layers: --> marker");
        let block = after
            .split("```text\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("a ```text block after the marker");
        block
            .lines()
            .map(|line| line.split_whitespace().map(String::from).collect())
            .filter(|layer: &Vec<String>| !layer.is_empty())
            .collect()
    }

    /// Every import that does not go strictly down the layers, and every module the layers
    /// do not list, as messages.
    fn violations(
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        layers: &[Vec<String>],
    ) -> Vec<String> {
        let depth: BTreeMap<&str, usize> = layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| layer.iter().map(move |m| (m.as_str(), i)))
            .collect();
        let mut found = Vec::new();
        for (module, targets) in graph {
            let Some(&from) = depth.get(module.as_str()) else {
                found.push(format!("{module} is not in ARCHITECTURE.md's layers"));
                continue;
            };
            for (target, file) in targets {
                match depth.get(target.as_str()) {
                    Some(&to) if to > from => {}
                    Some(_) => found.push(format!(
                        "{module} uses {target} ({file}), which is not below it"
                    )),
                    None => found.push(format!("{target} is not in ARCHITECTURE.md's layers")),
                }
            }
        }
        found
    }

    #[test]
    fn modules_only_use_the_layers_below() {
        let graph = imports();
        assert!(graph.len() > 20, "found only {:?}", graph.keys());
        let found = violations(&graph, &layers());
        assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
    }

    /// The check itself: one of the cycles the code once had (backend <-> settings) and an
    /// import up the layers are both caught.
    #[test]
    fn the_layering_check_catches_a_cycle_and_an_upward_import() {
        let edge = |from: &str, to: &str| (from.to_string(), to.to_string());
        let graph_of = |edges: &[(String, String)]| {
            let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            for (from, to) in edges {
                graph.entry(to.clone()).or_default();
                graph
                    .entry(from.clone())
                    .or_default()
                    .insert(to.clone(), format!("src/{from}.rs"));
            }
            graph
        };
        let layers = vec![
            vec!["pipeline".to_string()],
            vec!["settings".to_string()],
            vec!["backend".to_string()],
        ];
        let cycle = graph_of(&[edge("settings", "backend"), edge("backend", "settings")]);
        assert_eq!(
            violations(&cycle, &layers),
            vec!["backend uses settings (src/backend.rs), which is not below it"]
        );
        let upward = graph_of(&[edge("backend", "pipeline")]);
        assert_eq!(violations(&upward, &layers).len(), 1);
        let unlisted = graph_of(&[edge("pipeline", "render")]);
        assert_eq!(
            violations(&unlisted, &layers),
            vec!["render is not in ARCHITECTURE.md's layers"; 2]
        );
        let fine = graph_of(&[edge("pipeline", "settings"), edge("settings", "backend")]);
        assert!(violations(&fine, &layers).is_empty());
    }
}
