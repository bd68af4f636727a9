//! All access to the vault's database goes through here: SQLite (`vault.db`) for the sealed
//! values, and the [`keyring`](super::keyring) for the key that sealed each one.
//!
//! SQLite was chosen to replace sled 0.34, which lost whole vaults to a kill during its
//! snapshot: SQLite's crash safety is the most tested of any embedded store (its own suites
//! crash it millions of times), and its file format is documented and stable.
//!
//! Durability is explicit: the database runs in WAL mode with `synchronous=FULL`, so a
//! committed change is on disk before the call returns; the cell holding a value's key is
//! written and synced before the value's row is committed, and the cell of a replaced or
//! removed value is scrubbed (and synced) after. A crash anywhere in between leaves at worst
//! an unreferenced cell, which the next open scrubs.
//!
//! Rows are `(tree, name, cell, value)`: the tree is a name derived from the owning view's
//! key, the name a random record id or a keyed hash of a setting's label, the value always
//! ciphertext made by the caller with the key this module hands it. Nothing in a row is
//! readable without the view's key.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::crypto;
use crate::secret::Key32;

use super::error::{Result, VaultError};
use super::keyring::Keyring;

pub const DB_FILE: &str = "vault.db";
pub const KEYS_FILE: &str = "keys";
/// Files SQLite keeps beside the database in WAL mode.
pub const DB_SIDE_FILES: &[&str] = &["vault.db-wal", "vault.db-shm", "vault.db-journal"];

const CLOSED: &str = "the database is closed";

/// A stored value and the key it was sealed with. `key` is `None` when the value's cell does
/// not open: the value was tampered with, or its key was destroyed.
pub struct Entry {
    pub key: Option<Key32>,
    pub value: Vec<u8>,
}

pub struct Store {
    /// `None` only while the store is being dropped.
    inner: Mutex<Option<Inner>>,
    dir: PathBuf,
}

struct Inner {
    db: Connection,
    keys: Keyring,
    /// Cells no row names, kept as random bytes.
    free: Vec<u64>,
}

fn db_error(error: rusqlite::Error) -> VaultError {
    use rusqlite::ErrorCode;
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                VaultError::Damaged("the database file is corrupt".into())
            }
            ErrorCode::DiskFull => VaultError::Store("the disk is full".into()),
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen => {
                VaultError::Store(format!(
                    "the database cannot be opened for writing: {error}"
                ))
            }
            _ => VaultError::Store(error.to_string()),
        },
        _ => VaultError::Store(error.to_string()),
    }
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS entry (
        tree  TEXT    NOT NULL,
        name  BLOB    NOT NULL,
        cell  INTEGER NOT NULL UNIQUE,
        value BLOB    NOT NULL,
        PRIMARY KEY (tree, name)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS legacy (
        tree  TEXT NOT NULL,
        name  BLOB NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (tree, name)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS format (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
";

fn connect(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let db = Connection::open_with_flags(path, flags).map_err(db_error)?;
    // secure_delete: freed pages are zeroed, a second line of defence behind the keyring.
    db.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = ON;",
    )
    .map_err(db_error)?;
    db.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db_error)?;
    db.execute_batch(SCHEMA).map_err(db_error)?;
    Ok(db)
}

impl Store {
    /// True when `dir` holds this store's files.
    pub fn exists(dir: &Path) -> bool {
        dir.join(DB_FILE).exists() && dir.join(KEYS_FILE).exists()
    }

    /// Makes a new, empty store in `dir` (whose files must not exist).
    pub fn create(dir: &Path) -> Result<Self> {
        crate::disk::ensure_room(dir, crate::disk::TO_OPEN)?;
        let keys = Keyring::create(&dir.join(KEYS_FILE))?;
        let db = connect(&dir.join(DB_FILE), true)?;
        let free = (0..keys.cells()).collect();
        Ok(Store {
            inner: Mutex::new(Some(Inner { db, keys, free })),
            dir: dir.to_path_buf(),
        })
    }

    /// Opens the store in `dir` and scrubs every cell no row names (left by a crash).
    pub fn open(dir: &Path) -> Result<Self> {
        crate::disk::ensure_room(dir, crate::disk::TO_OPEN)?;
        if !Self::exists(dir) {
            return Err(VaultError::Damaged(format!(
                "the database ({DB_FILE} and {KEYS_FILE}) is missing from {}",
                dir.display()
            )));
        }
        let keys = Keyring::open(&dir.join(KEYS_FILE))?;
        let db = connect(&dir.join(DB_FILE), false)?;
        let used: HashSet<u64> = {
            let mut statement = db.prepare("SELECT cell FROM entry").map_err(db_error)?;
            let cells = statement
                .query_map([], |row| row.get::<_, i64>(0))
                .map_err(db_error)?;
            let mut used = HashSet::new();
            for cell in cells {
                used.insert(cell.map_err(db_error)? as u64);
            }
            used
        };
        let free: Vec<u64> = (0..keys.cells()).filter(|c| !used.contains(c)).collect();
        keys.scrub(&free)?;
        Ok(Store {
            inner: Mutex::new(Some(Inner { db, keys, free })),
            dir: dir.to_path_buf(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Inner>> {
        // A panic while holding the lock cannot leave the store half-changed: every change
        // is one SQLite transaction, and cells are scrubbed at the next open.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets the times of the store's files to the constant that says nothing (see
    /// `fsprotect`), after a write changed them.
    fn flatten_times(&self) {
        for name in [DB_FILE, KEYS_FILE].iter().chain(DB_SIDE_FILES) {
            let _ = crate::fsprotect::flatten_times(&self.dir.join(name));
        }
        let _ = crate::fsprotect::flatten_times(&self.dir);
    }

    /// Stores a value under `(tree, name)`, sealed by `seal` with a fresh key that is
    /// wrapped under `view_key`, and returns once it is on disk. The key of any value it
    /// replaces is destroyed before this returns.
    pub fn put(
        &self,
        view_key: &Key32,
        tree: &str,
        name: &[u8],
        seal: impl FnOnce(&Key32) -> Result<Vec<u8>>,
    ) -> Result<()> {
        crate::disk::ensure_room(&self.dir, crate::disk::TO_WRITE)?;
        let mut guard = self.lock();
        let inner = guard.as_mut().ok_or(VaultError::Store(CLOSED.into()))?;
        let cell = inner.take_free_cell()?;
        let entry_key = crypto::random_key();
        let stored = match inner.keys.store(cell, view_key, tree, name, &entry_key) {
            Ok(()) => {
                seal(&entry_key).and_then(|sealed| inner.commit_put(tree, name, cell, &sealed))
            }
            Err(e) => Err(e),
        };
        match stored {
            Ok(replaced) => {
                if let Some(old) = replaced {
                    inner.keys.scrub(&[old])?;
                    inner.free.push(old);
                }
                drop(guard);
                self.flatten_times();
                Ok(())
            }
            Err(e) => {
                // Best effort: the next open scrubs the cell anyway.
                let _ = inner.keys.scrub(&[cell]);
                inner.free.push(cell);
                Err(e)
            }
        }
    }

    pub fn get(&self, view_key: &Key32, tree: &str, name: &[u8]) -> Result<Option<Entry>> {
        let guard = self.lock();
        let inner = guard.as_ref().ok_or(VaultError::Store(CLOSED.into()))?;
        let row: Option<(i64, Vec<u8>)> = inner
            .db
            .query_row(
                "SELECT cell, value FROM entry WHERE tree = ?1 AND name = ?2",
                params![tree, name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(db_error)?;
        Ok(row.map(|(cell, value)| Entry {
            key: inner.keys.load(cell as u64, view_key, tree, name),
            value,
        }))
    }

    /// Removes `(tree, name)`; once this returns, the value's key is destroyed on disk.
    /// Returns whether there was such a value.
    pub fn remove(&self, tree: &str, name: &[u8]) -> Result<bool> {
        crate::disk::ensure_room(&self.dir, crate::disk::TO_WRITE)?;
        let mut guard = self.lock();
        let inner = guard.as_mut().ok_or(VaultError::Store(CLOSED.into()))?;
        let transaction = inner.db.transaction().map_err(db_error)?;
        let Some(cell) = cell_of(&transaction, tree, name)? else {
            return Ok(false);
        };
        transaction
            .execute(
                "DELETE FROM entry WHERE tree = ?1 AND name = ?2",
                params![tree, name],
            )
            .map_err(db_error)?;
        transaction.commit().map_err(db_error)?;
        inner.keys.scrub(&[cell])?;
        inner.free.push(cell);
        drop(guard);
        self.flatten_times();
        Ok(true)
    }

    /// Removes every value of `tree` at once, destroying their keys. Returns how many.
    pub fn remove_tree(&self, tree: &str) -> Result<usize> {
        let mut guard = self.lock();
        let inner = guard.as_mut().ok_or(VaultError::Store(CLOSED.into()))?;
        let transaction = inner.db.transaction().map_err(db_error)?;
        let cells = {
            let mut statement = transaction
                .prepare("SELECT cell FROM entry WHERE tree = ?1")
                .map_err(db_error)?;
            let rows = statement
                .query_map(params![tree], |row| row.get::<_, i64>(0))
                .map_err(db_error)?;
            rows.map(|c| c.map(|c| c as u64))
                .collect::<rusqlite::Result<Vec<u64>>>()
                .map_err(db_error)?
        };
        transaction
            .execute("DELETE FROM entry WHERE tree = ?1", params![tree])
            .map_err(db_error)?;
        transaction.commit().map_err(db_error)?;
        inner.keys.scrub(&cells)?;
        inner.free.extend(&cells);
        drop(guard);
        self.flatten_times();
        Ok(cells.len())
    }

    /// Runs `call` on the open database; the one place that turns its errors into ours.
    fn with_db<T>(&self, call: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let guard = self.lock();
        let inner = guard.as_ref().ok_or(VaultError::Store(CLOSED.into()))?;
        call(&inner.db).map_err(db_error)
    }

    /// Every row `sql` selects with `args`, each made by `row`.
    fn select<T>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        self.with_db(|db| db.prepare(sql)?.query_map(args, row)?.collect())
    }

    /// The names in `tree`, in order.
    pub fn names(&self, tree: &str) -> Result<Vec<Vec<u8>>> {
        self.select(
            "SELECT name FROM entry WHERE tree = ?1 ORDER BY name",
            params![tree],
            |row| row.get(0),
        )
    }

    /// Calls `each` with every value in `tree`, in name order, and the key its cell gives
    /// (`None` when the cell does not open). The key is one locked buffer, reused.
    pub fn for_each_entry(
        &self,
        view_key: &Key32,
        tree: &str,
        mut each: impl FnMut(&[u8], Option<&Key32>, &[u8]),
    ) -> Result<()> {
        let guard = self.lock();
        let inner = guard.as_ref().ok_or(VaultError::Store(CLOSED.into()))?;
        let cells = inner.keys.snapshot()?;
        let mut statement = inner
            .db
            .prepare("SELECT name, cell, value FROM entry WHERE tree = ?1 ORDER BY name")
            .map_err(db_error)?;
        let mut rows = statement.query(params![tree]).map_err(db_error)?;
        let mut key = Key32::from_bytes([0; 32]);
        while let Some(row) = rows.next().map_err(db_error)? {
            let name = row
                .get_ref(0)
                .and_then(|v| Ok(v.as_blob()?))
                .map_err(db_error)?;
            let cell: i64 = row.get(1).map_err(db_error)?;
            let value = row
                .get_ref(2)
                .and_then(|v| Ok(v.as_blob()?))
                .map_err(db_error)?;
            let opened = cells.load_into(cell as u64, view_key, tree, name, &mut key);
            each(name, opened.then_some(&key), value);
        }
        Ok(())
    }

    /// Every tree that has at least one value.
    pub fn trees(&self) -> Result<Vec<String>> {
        self.select("SELECT DISTINCT tree FROM entry ORDER BY tree", [], |row| {
            row.get(0)
        })
    }

    /// Keeps a value of posbon 0.1 that the view doing the migration could not read (it
    /// belongs to another view), as it was, until its owner opens the vault.
    pub fn put_legacy(&self, tree: &str, name: &[u8], value: &[u8]) -> Result<()> {
        self.with_db(|db| {
            db.execute(
                "INSERT OR REPLACE INTO legacy (tree, name, value) VALUES (?1, ?2, ?3)",
                params![tree, name, value],
            )
            .map(drop)
        })
    }

    /// The kept 0.1 values of `tree`.
    pub fn legacy_entries(&self, tree: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.select(
            "SELECT name, value FROM legacy WHERE tree = ?1 ORDER BY name",
            params![tree],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    pub fn remove_legacy(&self, tree: &str, name: &[u8]) -> Result<()> {
        self.with_db(|db| {
            db.execute(
                "DELETE FROM legacy WHERE tree = ?1 AND name = ?2",
                params![tree, name],
            )
            .map(drop)
        })
    }

    /// True when no value of any view is stored (not even a kept 0.1 value).
    pub fn is_empty(&self) -> Result<bool> {
        let rows: i64 = self.with_db(|db| {
            db.query_row(
                "SELECT (SELECT COUNT(*) FROM entry) + (SELECT COUNT(*) FROM legacy)",
                [],
                |row| row.get(0),
            )
        })?;
        Ok(rows == 0)
    }

    /// A note about the store itself (such as "migrated from"), never anything secret.
    pub fn format_note(&self, key: &str) -> Result<Option<String>> {
        self.with_db(|db| {
            db.query_row(
                "SELECT value FROM format WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
        })
    }

    pub fn set_format_note(&self, key: &str, value: &str) -> Result<()> {
        self.with_db(|db| {
            db.execute(
                "INSERT OR REPLACE INTO format (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map(drop)
        })
    }
}

impl Drop for Store {
    /// Closes the database first (SQLite checkpoints its log and removes it then), so that
    /// the times flattened afterwards are the last ones the files get.
    fn drop(&mut self) {
        let inner = self
            .inner
            .get_mut()
            .map(Option::take)
            .unwrap_or_else(|poisoned| poisoned.into_inner().take());
        drop(inner);
        self.flatten_times();
    }
}

impl Inner {
    /// A random free cell (so a cell's position says nothing about when it was written),
    /// growing the keyring when none is left.
    fn take_free_cell(&mut self) -> Result<u64> {
        if self.free.is_empty() {
            let first = self.keys.cells();
            self.keys.grow()?;
            self.free.extend(first..self.keys.cells());
        }
        let bytes = crypto::random_array::<8>();
        let pick = (u64::from_be_bytes(bytes) % self.free.len() as u64) as usize;
        Ok(self.free.swap_remove(pick))
    }

    /// Commits the row, returning the cell of the value it replaced.
    fn commit_put(
        &mut self,
        tree: &str,
        name: &[u8],
        cell: u64,
        sealed: &[u8],
    ) -> Result<Option<u64>> {
        let transaction = self.db.transaction().map_err(db_error)?;
        let old = cell_of(&transaction, tree, name)?;
        transaction
            .execute(
                "INSERT OR REPLACE INTO entry (tree, name, cell, value) VALUES (?1, ?2, ?3, ?4)",
                params![tree, name, cell as i64, sealed],
            )
            .map_err(db_error)?;
        transaction.commit().map_err(db_error)?;
        Ok(old)
    }
}

/// The cell of the value stored under `(tree, name)`, if there is one.
fn cell_of(db: &Connection, tree: &str, name: &[u8]) -> Result<Option<u64>> {
    db.query_row(
        "SELECT cell FROM entry WHERE tree = ?1 AND name = ?2",
        params![tree, name],
        |row| row.get::<_, i64>(0),
    )
    .optional()
    .map(|cell| cell.map(|c| c as u64))
    .map_err(db_error)
}
