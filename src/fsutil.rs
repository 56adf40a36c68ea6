//! Writing files people read: atomically, and never outside the output folder; and setting
//! bytes aside on disk for the rest of a run ([`Spill`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

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

/// Bytes set aside on disk for the rest of the run, so that a night of 100,000 articles need
/// not hold all its text in memory: an unnamed temporary file, which the system removes when
/// the process ends, however it ends.
#[derive(Debug)]
pub struct Spill {
    /// The file and where the next bytes go.
    file: Mutex<(File, u64)>,
}

/// Where [`Spill::put`] put some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    offset: u64,
    length: u64,
}

impl Spill {
    /// A spill file in `folder` (it never has a name there).
    pub fn new_in(folder: &Path) -> std::io::Result<Spill> {
        let file = tempfile::tempfile_in(folder)?;
        Ok(Spill {
            file: Mutex::new((file, 0)),
        })
    }

    pub fn put(&self, bytes: &[u8]) -> std::io::Result<Span> {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let (file, end) = &mut *guard;
        file.seek(SeekFrom::Start(*end))?;
        file.write_all(bytes)?;
        let span = Span {
            offset: *end,
            length: bytes.len() as u64,
        };
        *end += span.length;
        Ok(span)
    }

    pub fn get(&self, span: Span) -> std::io::Result<Vec<u8>> {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let (file, _) = &mut *guard;
        file.seek(SeekFrom::Start(span.offset))?;
        let mut bytes = vec![0; span.length as usize];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }
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

    #[test]
    fn spilled_bytes_come_back_and_leave_no_file() {
        let folder = tempfile::tempdir().unwrap();
        let spill = Spill::new_in(folder.path()).unwrap();
        let first = spill.put("مرحبا".as_bytes()).unwrap();
        let second = spill.put(b"second").unwrap();
        assert_eq!(spill.get(second).unwrap(), b"second");
        assert_eq!(spill.get(first).unwrap(), "مرحبا".as_bytes());
        assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
        assert!(Spill::new_in(&folder.path().join("missing")).is_err());
    }
}
