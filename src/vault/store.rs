//! All access to the vault's `sled` database goes through here, so that the storage engine can
//! be replaced in one place.
//!
//! Durability is explicit: every write returns only after `sled` has flushed it to disk, so a
//! write reported as done survives `kill -9` and power loss (as far as the disk honours fsync).
//! Keys are random record ids or fixed labels; values are always ciphertext made by the caller.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use super::error::{Result, VaultError};

pub struct Store {
    db: sled::Db,
    path: std::path::PathBuf,
}

fn store_error(error: sled::Error) -> VaultError {
    match error {
        sled::Error::Corruption { .. } => {
            VaultError::Damaged("the database files are corrupt".into())
        }
        sled::Error::Io(io) => VaultError::Store(format!("I/O error: {io}")),
        other => VaultError::Store(other.to_string()),
    }
}

/// Runs a database call, turning a panic inside `sled` (which it does on some corrupt files)
/// into a "damaged" error instead of a crash with a backtrace.
fn guarded<T>(what: &str, call: impl FnOnce() -> sled::Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(result) => result.map_err(store_error),
        Err(_) => Err(VaultError::Damaged(format!(
            "the database files are corrupt ({what} failed)"
        ))),
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        crate::disk::ensure_room(path, crate::disk::TO_OPEN)?;
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(64 * 1024 * 1024)
            // We flush after every write ourselves; no timer needed.
            .flush_every_ms(None);
        let db = guarded("opening", || config.open())?;
        Ok(Store {
            db,
            path: path.to_path_buf(),
        })
    }

    fn tree(&self, name: &str) -> Result<sled::Tree> {
        guarded("opening a tree", || self.db.open_tree(name))
    }

    fn flush(&self) -> Result<()> {
        guarded("flushing", || self.db.flush()).map(drop)
    }

    /// Stores `value` under `key` and returns once it is on disk.
    pub fn put(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<()> {
        crate::disk::ensure_room(&self.path, crate::disk::TO_WRITE)?;
        let tree = self.tree(tree)?;
        guarded("writing", || tree.insert(key, value))?;
        self.flush()
    }

    pub fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let tree = self.tree(tree)?;
        Ok(guarded("reading", || tree.get(key))?.map(|v| v.to_vec()))
    }

    /// Removes `key` and returns once the removal is on disk.
    pub fn remove(&self, tree: &str, key: &[u8]) -> Result<()> {
        crate::disk::ensure_room(&self.path, crate::disk::TO_WRITE)?;
        let tree = self.tree(tree)?;
        guarded("removing", || tree.remove(key))?;
        self.flush()
    }

    /// The names of every tree in the database.
    pub fn tree_names(&self) -> Result<Vec<String>> {
        Ok(self
            .db
            .tree_names()
            .into_iter()
            .map(|name| String::from_utf8_lossy(&name).into_owned())
            .collect())
    }

    /// Every key in `tree`, in order.
    pub fn keys(&self, tree: &str) -> Result<Vec<Vec<u8>>> {
        let tree = self.tree(tree)?;
        guarded("listing", || {
            tree.iter().keys().map(|k| k.map(|k| k.to_vec())).collect()
        })
    }

    /// Every entry in `tree`, in key order.
    pub fn entries(&self, tree: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let tree = self.tree(tree)?;
        guarded("listing", || {
            tree.iter()
                .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect()
        })
    }
}
