//! The persistent result cache: one SQLite database in WAL mode.
//!
//! The key is a SHA-256 digest of everything that changes an answer: a schema version, the
//! stage, the backend's identity (kind, endpoint, model, generation parameters), the prompt
//! templates' text and the input text. Each result is committed on its own as soon as it
//! arrives, so a run killed at any moment loses nothing it had received, and SQLite's journal
//! keeps the file consistent. Only successful, checked results are ever stored.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::backend::{Completion, Stage};

/// Bump when the meaning of stored values changes; old entries then simply stop matching.
const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
#[error("cache database {path}: {source}")]
pub struct CacheError {
    pub path: PathBuf,
    #[source]
    pub source: rusqlite::Error,
}

/// What a cache key is made of; hashed, never stored in clear.
#[derive(Clone, Copy, serde::Serialize)]
pub struct KeyParts<'a> {
    pub stage: Stage,
    pub backend: &'a serde_json::Value,
    pub templates: &'a [&'a str],
    pub input: &'a str,
}

impl KeyParts<'_> {
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(format!("tarjim-cache-v{SCHEMA_VERSION}\0"));
        hasher.update(serde_json::to_vec(self).unwrap_or_default());
        hex::encode(hasher.finalize())
    }
}

/// One row of the name table (`tarjim glossary list`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredName {
    /// The folded Arabic form, without attached prefixes.
    pub key: String,
    /// The Arabic as an article wrote it when the name was first stored.
    pub arabic: String,
    pub english: String,
    pub kind: String,
    /// Reviewed by a person (`tarjim glossary accept`).
    pub accepted: bool,
    /// Runs that used it.
    pub runs: u64,
    pub first_seen: String,
    pub last_seen: String,
}

/// Counts for `tarjim cache stats`.
#[derive(Debug, serde::Serialize)]
pub struct CacheStats {
    pub path: PathBuf,
    pub entries: u64,
    pub bytes: u64,
    pub by_stage: Vec<(String, u64)>,
}

pub struct Cache {
    path: PathBuf,
    connection: Mutex<Connection>,
}

/// A cached answer, and why it cannot be used when it cannot.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    pub completion: Completion,
    /// Set for an answer stored as unusable (see [`Cache::put_invalid`]).
    pub invalid: Option<String>,
}

/// Caches written before unusable answers were stored lack the `invalid` column.
fn add_invalid_column(connection: &Connection) -> rusqlite::Result<()> {
    let has_column = connection
        .prepare("SELECT 1 FROM pragma_table_info('results') WHERE name = 'invalid'")?
        .exists([])?;
    if !has_column {
        connection.execute_batch("ALTER TABLE results ADD COLUMN invalid TEXT")?;
    }
    Ok(())
}

impl Cache {
    /// Open (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        let wrap = |source| CacheError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .map_err(|error| wrap(rusqlite::Error::ToSqlConversionFailure(Box::new(error))))?;
        }
        let connection = Connection::open(path).map_err(wrap)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(wrap)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 CREATE TABLE IF NOT EXISTS results (
                     key TEXT PRIMARY KEY,
                     stage TEXT NOT NULL,
                     backend TEXT NOT NULL,
                     text TEXT NOT NULL,
                     prompt_tokens INTEGER NOT NULL,
                     completion_tokens INTEGER NOT NULL,
                     created_at TEXT NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS names (
                     key TEXT PRIMARY KEY,
                     arabic TEXT NOT NULL,
                     english TEXT NOT NULL,
                     kind TEXT NOT NULL,
                     accepted INTEGER NOT NULL DEFAULT 0,
                     runs INTEGER NOT NULL DEFAULT 1,
                     first_seen TEXT NOT NULL,
                     last_seen TEXT NOT NULL
                 );",
            )
            .map_err(wrap)?;
        add_invalid_column(&connection).map_err(wrap)?;
        Ok(Cache {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn wrap(&self, source: rusqlite::Error) -> CacheError {
        CacheError {
            path: self.path.clone(),
            source,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent; keep going.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, key: &str) -> Result<Option<Cached>, CacheError> {
        self.lock()
            .prepare_cached(
                "SELECT text, prompt_tokens, completion_tokens, invalid FROM results WHERE key = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![key], |row| {
                        Ok(Cached {
                            completion: Completion {
                                text: row.get(0)?,
                                prompt_tokens: row.get::<_, i64>(1)?.max(0) as u64,
                                prompt_tokens_reused: 0,
                                completion_tokens: row.get::<_, i64>(2)?.max(0) as u64,
                            },
                            invalid: row.get(3)?,
                        })
                    })
                    .optional()
            })
            .map_err(|error| self.wrap(error))
    }

    /// Store one good result; committed before this returns.
    pub fn put(
        &self,
        key: &str,
        stage: Stage,
        backend: &str,
        completion: &Completion,
    ) -> Result<(), CacheError> {
        self.store(key, stage, backend, completion, None)
    }

    /// Store an answer that was paid for but cannot be used (empty, not valid JSON for its
    /// schema), with the reason: a rerun then knows the answer without paying for it again.
    pub fn put_invalid(
        &self,
        key: &str,
        stage: Stage,
        backend: &str,
        completion: &Completion,
        problem: &str,
    ) -> Result<(), CacheError> {
        self.store(key, stage, backend, completion, Some(problem))
    }

    fn store(
        &self,
        key: &str,
        stage: Stage,
        backend: &str,
        completion: &Completion,
        invalid: Option<&str>,
    ) -> Result<(), CacheError> {
        self.lock()
            .prepare_cached(
                "INSERT OR REPLACE INTO results
                 (key, stage, backend, text, prompt_tokens, completion_tokens, created_at, invalid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    key,
                    stage.as_str(),
                    backend,
                    completion.text,
                    completion.prompt_tokens.min(i64::MAX as u64) as i64,
                    completion.completion_tokens.min(i64::MAX as u64) as i64,
                    chrono::Utc::now().to_rfc3339(),
                    invalid,
                ])
            })
            .map(|_| ())
            .map_err(|error| self.wrap(error))
    }

    pub fn stats(&self) -> Result<CacheStats, CacheError> {
        let connection = self.lock();
        let query = || -> rusqlite::Result<CacheStats> {
            let entries: i64 =
                connection.query_row("SELECT COUNT(*) FROM results", [], |row| row.get(0))?;
            let mut statement = connection
                .prepare("SELECT stage, COUNT(*) FROM results GROUP BY stage ORDER BY stage")?;
            let by_stage = statement
                .query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u64)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let bytes = ["", "-wal"]
                .iter()
                .filter_map(|suffix| {
                    std::fs::metadata(format!("{}{suffix}", self.path.display())).ok()
                })
                .map(|meta| meta.len())
                .sum();
            Ok(CacheStats {
                path: self.path.clone(),
                entries: entries as u64,
                bytes,
                by_stage,
            })
        };
        query().map_err(|error| self.wrap(error))
    }

    /// The run's name table, kept across nights: every name the names stage chose, by key.
    pub fn names(&self) -> Result<Vec<StoredName>, CacheError> {
        let connection = self.lock();
        let query = || -> rusqlite::Result<Vec<StoredName>> {
            let mut statement = connection.prepare(
                "SELECT key, arabic, english, kind, accepted, runs, first_seen, last_seen
                 FROM names ORDER BY accepted DESC, runs DESC, key",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(StoredName {
                    key: row.get(0)?,
                    arabic: row.get(1)?,
                    english: row.get(2)?,
                    kind: row.get(3)?,
                    accepted: row.get::<_, i64>(4)? != 0,
                    runs: row.get::<_, i64>(5)?.max(0) as u64,
                    first_seen: row.get(6)?,
                    last_seen: row.get(7)?,
                })
            })?;
            rows.collect()
        };
        query().map_err(|error| self.wrap(error))
    }

    /// Record that this run used `english` for the name `key`: a new name is stored as
    /// proposed; a known one keeps its English and counts one more run.
    pub fn record_name(
        &self,
        key: &str,
        arabic: &str,
        english: &str,
        kind: &str,
    ) -> Result<(), CacheError> {
        let now = chrono::Utc::now().to_rfc3339();
        self.lock()
            .execute(
                "INSERT INTO names (key, arabic, english, kind, accepted, runs, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, 0, 1, ?5, ?5)
                 ON CONFLICT(key) DO UPDATE SET runs = runs + 1, last_seen = ?5",
                params![key, arabic, english, kind, now],
            )
            .map(|_| ())
            .map_err(|error| self.wrap(error))
    }

    /// Mark the name whose key or Arabic is `name` as reviewed, optionally correcting its
    /// English or kind; false when there is no such name.
    pub fn accept_name(
        &self,
        name: &str,
        english: Option<&str>,
        kind: Option<&str>,
    ) -> Result<bool, CacheError> {
        let changed = self
            .lock()
            .execute(
                "UPDATE names SET accepted = 1,
                     english = COALESCE(?2, english), kind = COALESCE(?3, kind)
                 WHERE key = ?1 OR arabic = ?1",
                params![name, english, kind],
            )
            .map_err(|error| self.wrap(error))?;
        Ok(changed > 0)
    }

    /// Remove every entry; returns how many there were.
    pub fn clear(&self) -> Result<u64, CacheError> {
        let connection = self.lock();
        let removed = connection
            .execute("DELETE FROM results", [])
            .map_err(|error| self.wrap(error))?;
        connection
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
            .map_err(|error| self.wrap(error))?;
        Ok(removed as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion(text: &str) -> Completion {
        Completion {
            text: text.into(),
            prompt_tokens: 5,
            prompt_tokens_reused: 0,
            completion_tokens: 2,
        }
    }

    #[test]
    fn results_survive_reopening_and_clear_empties() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/cache.sqlite");
        let cache = Cache::open(&path).unwrap();
        assert_eq!(cache.get("k").unwrap(), None);
        cache
            .put("k", Stage::Translate, "mock", &completion("hello"))
            .unwrap();
        drop(cache);

        let cache = Cache::open(&path).unwrap();
        assert_eq!(
            cache.get("k").unwrap().map(|cached| cached.completion),
            Some(completion("hello"))
        );
        let stats = cache.stats().unwrap();
        assert_eq!(stats.entries, 1);
        assert_eq!(stats.by_stage, vec![("translate".to_string(), 1)]);
        assert_eq!(cache.clear().unwrap(), 1);
        assert_eq!(cache.get("k").unwrap(), None);
    }

    #[test]
    fn unusable_answers_are_stored_with_their_reason_and_old_caches_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite");
        // A cache written before the `invalid` column existed.
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE results (key TEXT PRIMARY KEY, stage TEXT NOT NULL,
                 backend TEXT NOT NULL, text TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
                 completion_tokens INTEGER NOT NULL, created_at TEXT NOT NULL);
                 INSERT INTO results VALUES ('old', 'translate', 'mock', 'hi', 1, 1, 'then');",
            )
            .unwrap();
        let cache = Cache::open(&path).unwrap();
        assert_eq!(cache.get("old").unwrap().unwrap().invalid, None);
        cache
            .put_invalid(
                "k",
                Stage::Summarize,
                "mock",
                &completion("not json"),
                "expected an object",
            )
            .unwrap();
        let cached = cache.get("k").unwrap().unwrap();
        assert_eq!(cached.completion, completion("not json"));
        assert_eq!(cached.invalid.as_deref(), Some("expected an object"));
        // A good answer for the same key replaces the unusable one.
        cache
            .put("k", Stage::Summarize, "mock", &completion("{}"))
            .unwrap();
        assert_eq!(cache.get("k").unwrap().unwrap().invalid, None);
    }

    #[test]
    fn every_part_of_the_key_matters() {
        let backend = serde_json::json!({"model": "a"});
        let other_backend = serde_json::json!({"model": "b"});
        let base = KeyParts {
            stage: Stage::Translate,
            backend: &backend,
            templates: &["t"],
            input: "x",
        };
        let variants = [
            KeyParts {
                stage: Stage::Summarize,
                ..base
            },
            KeyParts {
                backend: &other_backend,
                ..base
            },
            KeyParts {
                templates: &["t2"],
                ..base
            },
            KeyParts { input: "y", ..base },
        ];
        for variant in variants {
            assert_ne!(variant.digest(), base.digest());
        }
        assert_eq!(base.digest(), KeyParts { ..base }.digest());
    }
}
