//! One run at a time per cache and per output folder.
//!
//! Two runs on the same cache send every request twice and race on the same output files, and
//! a scheduler that starts tonight's run while yesterday's is still going does exactly that. A
//! run holds an exclusive advisory lock (`flock`) on a small file beside the cache and another in
//! the output folder; the operating system releases both when the process ends, however it ends,
//! so a killed run never leaves a stale lock behind. The files hold the holder's pid, so that
//! the second run can say which process it is waiting for.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Locks held for the life of a run; dropping it releases them.
#[derive(Debug)]
pub struct RunLock {
    _files: Vec<File>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}: another tarjim run{} is using it; wait for it to finish, or stop it", .path.display(), holder(.pid))]
    Busy { path: PathBuf, pid: Option<u32> },
    #[error("{}: cannot take the run lock: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn holder(pid: &Option<u32>) -> String {
    pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
}

/// The lock file guarding `cache` (a database file): `<cache>.lock`.
pub fn cache_lock_path(cache: &Path) -> PathBuf {
    let mut name = cache.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The lock file guarding an output folder.
pub fn output_lock_path(out: &Path) -> PathBuf {
    out.join(".tarjim.lock")
}

/// Take every lock in `paths` (creating the files and their folders), or fail on the first
/// one another process holds.
pub fn acquire(paths: &[PathBuf]) -> Result<RunLock, LockError> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        files.push(acquire_one(path)?);
    }
    Ok(RunLock { _files: files })
}

fn acquire_one(path: &Path) -> Result<File, LockError> {
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let pid = file
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| text.trim().parse().ok());
            return Err(LockError::Busy {
                path: path.to_path_buf(),
                pid,
            });
        }
        Err(TryLockError::Error(source)) => return Err(io(source)),
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_and_dropping_releases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/run.lock");
        let first = acquire(std::slice::from_ref(&path)).unwrap();
        let error = acquire(std::slice::from_ref(&path)).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(&format!("(pid {})", std::process::id())),
            "{message}"
        );
        assert!(message.contains("run.lock"), "{message}");
        drop(first);
        acquire(&[path]).unwrap();
    }

    #[test]
    fn the_cache_lock_sits_beside_the_cache() {
        assert_eq!(
            cache_lock_path(Path::new("/x/cache.sqlite")),
            PathBuf::from("/x/cache.sqlite.lock")
        );
    }
}
