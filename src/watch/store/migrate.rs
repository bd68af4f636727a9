//! The one-time import of a posbon 0.1 store (sled 0.34, in `DATA/db/`) into SQLite.
//!
//! Safe against a kill at any moment. The old directory is first renamed to
//! `DATA/db.importing` (so that it is never mistaken for a store still in use), then every
//! entry, and a marker row saying the import is complete, go into SQLite in one transaction,
//! checked entry by entry, byte for byte, before it commits. Only after that commit is the old
//! directory removed. So a restart finds one of:
//!
//! - `db/`, no marker: nothing happened yet; import.
//! - `db.importing/`, no marker: the copy did not commit; import again from there.
//! - `db.importing/` and the marker: the copy committed; finish removing the old directory.
//!
//! `db/` together with the marker never comes from an interrupted import (the rename happens
//! before the commit): it is an old store put back by hand, and it is refused, not deleted.

use std::fs::{self, File};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use tracing::{info, warn};

use super::{StoreError, TABLES, io, put};

/// Where posbon 0.1 kept its sled database, in the data directory.
const SLED_DIR: &str = "db";
/// The same, renamed while it is imported.
const IMPORTING_DIR: &str = "db.importing";
/// The `meta` row that says the import committed.
const MARKER: &str = "imported-from-sled";
/// sled's own tree, unused by posbon 0.1 (it kept everything in named trees).
const SLED_DEFAULT_TREE: &[u8] = b"__sled__default";

/// Every entry of every tree, in key order: (table, [(key, value)]).
type Entries = Vec<(&'static str, Vec<(Vec<u8>, Vec<u8>)>)>;

/// Imports the posbon 0.1 store in `data`, if there is one; a no-op otherwise.
pub(super) fn import_sled(data: &Path, conn: &Connection) -> Result<(), StoreError> {
    let old = data.join(SLED_DIR);
    let importing = data.join(IMPORTING_DIR);
    let imported = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [MARKER], |row| {
            row.get::<_, String>(0)
        })
        .optional()?
        .is_some();
    let mut entries = None;
    if old.exists() {
        if imported || importing.exists() {
            return Err(StoreError::Import {
                path: old,
                reason: format!(
                    "this watcher already imported a posbon 0.1 store into {}; move {SLED_DIR} \
                     out of the data directory (to import it, put it alone in an empty one)",
                    super::DATABASE_FILE
                ),
            });
        }
        if !tables_empty(conn)? {
            return Err(newer_store_beside(&old));
        }
        // Read while sled holds its own lock, so a posbon 0.1 daemon still running on this
        // directory is noticed (InUse) before anything is renamed under it.
        entries = Some(read_sled(&old)?);
        rename(data, &old, &importing)?;
    }
    if !importing.exists() {
        return Ok(());
    }
    if !imported {
        let entries = match entries {
            Some(entries) => entries,
            None => read_sled(&importing)?,
        };
        copy(&importing, conn, &entries)?;
    }
    fs::remove_dir_all(&importing).map_err(|e| io(&importing, e))?;
    sync_dir(data)
}

/// Copies `entries` and the marker in one transaction, checked before it commits.
fn copy(importing: &Path, conn: &Connection, entries: &Entries) -> Result<(), StoreError> {
    let failed = |reason: String| StoreError::Import {
        path: importing.to_path_buf(),
        reason,
    };
    crate::disk::ensure_room(importing, crate::disk::TO_WRITE)?;
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    if !tables_empty(&tx)? {
        return Err(newer_store_beside(importing));
    }
    let mut total = 0;
    for (table, rows) in entries {
        for (key, value) in rows {
            put(&tx, table, key, value)?;
        }
        total += rows.len();
    }
    // Checked inside the transaction: a difference rolls it all back, and the old store
    // stays the one to import.
    for (table, rows) in entries {
        let count: i64 = tx.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })?;
        if usize::try_from(count).ok() != Some(rows.len()) {
            return Err(failed(format!(
                "{table}: {} entries in sled, {count} after the copy",
                rows.len()
            )));
        }
        let mut select = tx.prepare(&format!("SELECT value FROM {table} WHERE key = ?1"))?;
        for (key, value) in rows {
            let copied: Option<Vec<u8>> = select.query_row([key], |row| row.get(0)).optional()?;
            if copied.as_ref() != Some(value) {
                return Err(failed(format!(
                    "{table}: the entry {} differs after the copy",
                    hex::encode(key)
                )));
            }
        }
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        [
            MARKER,
            &format!("{total} entries, at {} ms", crate::vault::now()),
        ],
    )?;
    tx.commit()?;
    info!(
        entries = total,
        "imported the posbon 0.1 watcher store into SQLite"
    );
    Ok(())
}

/// Whether the SQLite store holds nothing yet (an import never adds to a store in use).
fn tables_empty(conn: &Connection) -> Result<bool, StoreError> {
    for table in TABLES {
        let any: bool = conn.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {table})"),
            [],
            |row| row.get(0),
        )?;
        if any {
            return Ok(false);
        }
    }
    Ok(true)
}

fn newer_store_beside(old: &Path) -> StoreError {
    StoreError::Import {
        path: old.to_path_buf(),
        reason: format!(
            "{} beside it already holds a store in use; move one of the two out of the data \
             directory",
            super::DATABASE_FILE
        ),
    }
}

/// Every entry of the sled store in `dir`. sled is closed again when this returns.
fn read_sled(dir: &Path) -> Result<Entries, StoreError> {
    let failed = |reason: String| StoreError::Import {
        path: dir.to_path_buf(),
        reason,
    };
    crate::disk::ensure_room(dir, crate::disk::TO_OPEN)?;
    // sled panics on some damage; that must be an error here, not a watcher that dies at
    // every start.
    let read = std::panic::catch_unwind(|| -> Result<Entries, StoreError> {
        let db = open_sled(dir)?;
        let sled_error = |e: sled::Error| failed(e.to_string());
        let names = db.tree_names();
        for name in &names {
            let known = TABLES.iter().any(|t| t.as_bytes() == name.as_ref());
            let empty = if name.as_ref() == SLED_DEFAULT_TREE {
                db.is_empty()
            } else {
                db.open_tree(name).map_err(sled_error)?.is_empty()
            };
            if !known && !empty {
                return Err(failed(format!(
                    "it holds entries in a tree posbon does not know ({})",
                    String::from_utf8_lossy(name)
                )));
            }
        }
        let mut entries = Entries::new();
        for table in TABLES {
            // A tree never written is not created here: nothing is written to the old store.
            let rows = if names.iter().any(|n| n.as_ref() == table.as_bytes()) {
                db.open_tree(table)
                    .map_err(sled_error)?
                    .iter()
                    .map(|item| item.map(|(k, v)| (k.to_vec(), v.to_vec())))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sled_error)?
            } else {
                Vec::new()
            };
            entries.push((table, rows));
        }
        Ok(entries)
    });
    read.unwrap_or_else(|_| Err(failed("sled failed while reading it (a panic)".into())))
}

/// Opens sled as posbon 0.1 did. A snapshot that sled was writing when it was killed
/// (`snap.*.generating`) makes it refuse to open (sled issues 1527, 1533); such files are only
/// a faster start, the log holds the data, so they are moved aside and the open is retried.
fn open_sled(dir: &Path) -> Result<sled::Db, StoreError> {
    let open = || sled::Config::new().path(dir).flush_every_ms(None).open();
    let first = match open() {
        Ok(db) => return Ok(db),
        Err(e) => e,
    };
    if is_lock_error(&first) {
        return Err(StoreError::InUse);
    }
    let moved = move_aside_unfinished_snapshots(dir)?;
    if moved == 0 {
        return Err(StoreError::Import {
            path: dir.to_path_buf(),
            reason: first.to_string(),
        });
    }
    warn!(
        files = moved,
        "sled refused its store ({first}); moved aside the snapshot it was writing when it was \
         stopped, and tried again"
    );
    open().map_err(|e| {
        if is_lock_error(&e) {
            StoreError::InUse
        } else {
            StoreError::Import {
                path: dir.to_path_buf(),
                reason: e.to_string(),
            }
        }
    })
}

/// sled reports a lock held by another process as an I/O error.
fn is_lock_error(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(e)
        if e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("lock"))
}

/// Renames every `snap.*.generating` in `dir` to `moved-aside.snap.*.generating` (a name
/// sled does not read); returns how many.
fn move_aside_unfinished_snapshots(dir: &Path) -> Result<usize, StoreError> {
    let mut moved = 0;
    for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let to = dir.join(format!("moved-aside.{name}"));
            fs::rename(entry.path(), &to).map_err(|e| io(&to, e))?;
            moved += 1;
        }
    }
    if moved > 0 {
        sync_dir(dir)?;
    }
    Ok(moved)
}

fn rename(data: &Path, from: &Path, to: &Path) -> Result<(), StoreError> {
    fs::rename(from, to).map_err(|e| io(to, e))?;
    sync_dir(data)
}

/// Makes a rename or removal in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

/// Clears the lawyers' public keys (`age_recipients`) from every stored subject's contacts,
/// real and pretend. Watchers before this version kept them, though they never use them: a
/// copy of the disk told who the bundles are sealed for, and gave a forger the key to seal
/// a forged bundle to. Run at every open; writes only the subjects that still hold one.
pub(super) fn forget_age_recipients(conn: &Connection) -> Result<(), StoreError> {
    let rows: Vec<(Vec<u8>, Vec<u8>)> = conn
        .prepare("SELECT key, value FROM subjects")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut changed = Vec::new();
    for (key, value) in rows {
        let Ok(mut subject) = serde_json::from_slice::<serde_json::Value>(&value) else {
            // Left for the reader to report as damaged, with its own words.
            continue;
        };
        let mut cleared = false;
        for pointer in ["/directory/contacts", "/duress_view/directory/contacts"] {
            let Some(contacts) = subject.pointer_mut(pointer).and_then(|c| c.as_array_mut()) else {
                continue;
            };
            for contact in contacts {
                if contact
                    .get("age_recipients")
                    .and_then(|r| r.as_array())
                    .is_some_and(|r| !r.is_empty())
                {
                    contact["age_recipients"] = serde_json::Value::Array(Vec::new());
                    cleared = true;
                }
            }
        }
        if cleared {
            let bytes = serde_json::to_vec(&subject)
                .map_err(|e| StoreError::Damaged(format!("a subject entry: {e}")))?;
            changed.push((key, bytes));
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    for (key, value) in &changed {
        put(&tx, "subjects", key, value)?;
    }
    tx.commit()?;
    // The old pages are overwritten (secure_delete); the write-ahead log may still hold
    // copies of them until a checkpoint empties it.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    info!(
        subjects = changed.len(),
        "lawyers' public keys cleared from stored contacts (a watcher never uses them)"
    );
    Ok(())
}
