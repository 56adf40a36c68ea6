//! Writing files people read: atomically, and never outside the output folder.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to write {name:?}: the name would leave the output folder {root}")]
    Escapes { name: String, root: PathBuf },
}

/// Write `contents` to `path` through a temporary file in the same folder and a rename, so a
/// reader (or a killed process) never sees a half-written file. There is deliberately no fsync:
/// outputs are rebuilt from the cache in seconds, and an fsync per file made a run of many
/// small articles disk-bound.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let wrap = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let folder = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(wrap)?;
    let mut file = tempfile::NamedTempFile::new_in(folder).map_err(wrap)?;
    file.write_all(contents).map_err(wrap)?;
    // Temporary files are created private (0600); outputs are for people to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(wrap)?;
    }
    file.persist(path).map_err(|error| wrap(error.error))?;
    Ok(())
}

/// Remove temporary files a killed run left in `folder` (the `.tmp*` files of
/// [`write_atomic`]); best effort.
pub fn remove_stale_temporaries(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let is_temporary = entry.file_name().to_string_lossy().starts_with(".tmp");
        if is_temporary && entry.file_type().is_ok_and(|kind| kind.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `root/name`, refusing names that are absolute or climb out with `..`.
pub fn join_inside(root: &Path, name: &str) -> Result<PathBuf, WriteError> {
    let relative = Path::new(name);
    let safe = !name.is_empty()
        && relative
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
    if !safe {
        return Err(WriteError::Escapes {
            name: name.to_string(),
            root: root.to_path_buf(),
        });
    }
    Ok(root.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_root() {
        let root = Path::new("/out");
        assert_eq!(
            join_inside(root, "articles/a.md").unwrap(),
            Path::new("/out/articles/a.md")
        );
        for bad in ["../x", "/etc/passwd", "a/../../x", "", "./a"] {
            assert!(join_inside(root, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stale_temporaries_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".tmpAbC123"), "half").unwrap();
        std::fs::write(dir.path().join("a.json"), "{}").unwrap();
        remove_stale_temporaries(dir.path());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("a.json")]);
    }

    #[test]
    fn atomic_write_replaces_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
