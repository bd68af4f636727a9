//! Group commit: one fsync of the write-ahead log makes every commit made before it durable,
//! so concurrent requests share it instead of paying for one each.
//!
//! The writing connection runs at `synchronous=NORMAL`: a commit appends its frames to
//! `store.sqlite-wal` with `write()` and returns without syncing. A kill -9 then loses
//! nothing (the bytes are in the kernel's page cache, which survives the process), but power
//! loss may. SQLite documents NORMAL in WAL mode as consistent but not durable: a commit may
//! roll back after power loss, never half-apply (<https://sqlite.org/pragma.html#pragma_synchronous>,
//! <https://sqlite.org/wal.html>). Durability is then a sync of the log, made here, after
//! the store lock is released:
//!
//! - Recovery replays the log from its start up to the last commit frame whose cumulative
//!   checksum and salts match (<https://sqlite.org/fileformat2.html#walformat>). The log
//!   only grows between restarts, so once every byte written so far is on disk, every
//!   commit made so far is recovered; `fdatasync` also covers the file's growing size.
//! - A checkpoint copies frames into the database file and may then start the log again
//!   from its beginning (same file, new salts). At NORMAL SQLite syncs the log before a
//!   checkpoint and the database file after it, so frames a checkpoint has taken are on disk
//!   already; frames of a restarted log are synced here like any others, and until they are,
//!   their new salts keep recovery from mixing them with the old header's frames.
//! - Only the file's contents matter, so the sync goes through a descriptor of our own on
//!   the same file. SQLite holds no POSIX locks on the log (its locks are on the database
//!   file and on `-shm`), so opening and closing one does not drop them. SQLite deletes the
//!   log only when the last connection closes, which a [`Store`](super::Store) never does
//!   while it is open; should the file at the path still differ from the one held (a new
//!   inode), it is opened again, and the directory synced so that the new name is on disk.
//!
//! One sync runs at a time. A caller arriving while one runs cannot know whether that one
//! started before or after its own commit, so it waits for the next, which then covers
//! everyone who arrived meanwhile: under load, one fsync serves a whole batch.
//!
//! After a failed sync nothing written since the last good one is known to be on disk
//! (Linux may drop the dirty pages and report the error once), and a hole in the log would
//! cut off every commit after it at recovery. So the failure stays: every later flush fails
//! too, every request that changes something is refused as unavailable, and the operator is
//! told to restart the watcher.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use super::StoreError;

/// The write-ahead log of one database, and the syncs made of it.
pub(super) struct WalSync {
    wal: PathBuf,
    dir: PathBuf,
    state: Mutex<SyncState>,
    finished: Condvar,
}

struct SyncState {
    /// Syncs begun so far (the running one, if any, is number `started`).
    started: u64,
    /// The number of the last sync that succeeded; every earlier one succeeded too.
    completed: u64,
    running: bool,
    /// The log, held open between syncs (taken out while a sync runs).
    held: Option<Held>,
    /// Why a sync failed, once one has: nothing is known to be durable after that.
    failed: Option<String>,
}

struct Held {
    file: File,
    dev: u64,
    ino: u64,
}

impl WalSync {
    /// For the database at `database`, whose log exists (the connection opened it): opens
    /// the log and syncs the directory, so that its name survives power loss too.
    pub(super) fn open(database: &Path) -> Result<Self, StoreError> {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        let dir = database
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let sync = WalSync {
            wal,
            dir,
            state: Mutex::new(SyncState {
                started: 0,
                completed: 0,
                running: false,
                held: None,
                failed: None,
            }),
            finished: Condvar::new(),
        };
        let held = sync.open_log().map_err(|e| sync.error(e))?;
        sync.lock().held = Some(held);
        Ok(sync)
    }

    fn lock(&self) -> MutexGuard<'_, SyncState> {
        // The state is a few counters, consistent after every assignment: a panic elsewhere
        // while holding it leaves nothing half done.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns once everything committed before the call is on disk.
    pub(super) fn flush(&self) -> Result<(), StoreError> {
        let mut state = self.lock();
        // A sync running now may have begun before the caller's commit: only the next one
        // to begin is sure to cover it.
        let wanted = state.started + 1;
        loop {
            if let Some(reason) = &state.failed {
                return Err(StoreError::NotDurable {
                    path: self.wal.clone(),
                    reason: reason.clone(),
                });
            }
            if state.completed >= wanted {
                return Ok(());
            }
            if state.running {
                state = self.finished.wait(state).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            state.running = true;
            state.started += 1;
            let number = state.started;
            let held = state.held.take();
            drop(state);
            let result = self.sync(held);
            state = self.lock();
            state.running = false;
            match result {
                Ok(held) => {
                    state.held = Some(held);
                    state.completed = number;
                }
                Err(e) => {
                    tracing::error!(
                        log = %self.wal.display(),
                        error = %e,
                        "the write-ahead log could not be synced; no change is acknowledged until the watcher is restarted"
                    );
                    state.failed = Some(e.to_string());
                }
            }
            self.finished.notify_all();
        }
    }

    /// How many syncs have completed (for tests: a flush makes it advance).
    #[cfg(test)]
    pub(super) fn completed(&self) -> u64 {
        self.lock().completed
    }

    /// Syncs the log, opening it again first if the path now names another file.
    fn sync(&self, held: Option<Held>) -> std::io::Result<Held> {
        let now = std::fs::metadata(&self.wal)?;
        let held = match held {
            Some(held) if held.dev == now.dev() && held.ino == now.ino() => held,
            _ => self.open_log()?,
        };
        held.file.sync_data()?;
        Ok(held)
    }

    /// Opens the log and makes its directory entry durable.
    fn open_log(&self) -> std::io::Result<Held> {
        // Read-only is enough: fsync needs no write access, and this handle never writes.
        let file = File::open(&self.wal)?;
        let meta = file.metadata()?;
        File::open(&self.dir)?.sync_all()?;
        Ok(Held {
            file,
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    fn error(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.wal.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A stand-in database path whose log is a plain file.
    fn log_beside(dir: &Path) -> PathBuf {
        let database = dir.join("db");
        std::fs::write(dir.join("db-wal"), b"frames").unwrap();
        database
    }

    #[test]
    fn a_flush_waits_for_a_sync_that_began_after_it_was_called() {
        let temp = tempfile::tempdir().unwrap();
        let sync = Arc::new(WalSync::open(&log_beside(temp.path())).unwrap());
        assert_eq!(sync.completed(), 0);
        sync.flush().unwrap();
        assert_eq!(sync.completed(), 1);
        sync.flush().unwrap();
        assert_eq!(sync.completed(), 2, "every flush syncs anew");
        // Many at once: each returns only after a sync that began after its call, and they
        // share syncs rather than each making one.
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let sync = sync.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let begun = sync.lock().started;
                        sync.flush().unwrap();
                        assert!(sync.completed() > begun);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(sync.completed() <= 2 + 8 * 50);
    }

    #[test]
    fn a_log_replaced_under_the_same_name_is_opened_again() {
        let temp = tempfile::tempdir().unwrap();
        let sync = WalSync::open(&log_beside(temp.path())).unwrap();
        let first = sync.lock().held.as_ref().unwrap().ino;
        let new = temp.path().join("new");
        std::fs::write(&new, b"other frames").unwrap();
        std::fs::rename(&new, temp.path().join("db-wal")).unwrap();
        sync.flush().unwrap();
        let now = std::fs::metadata(temp.path().join("db-wal")).unwrap().ino();
        let held = sync.lock().held.as_ref().unwrap().ino;
        assert_ne!(held, first);
        assert_eq!(held, now);
    }

    #[test]
    fn after_a_failed_sync_no_flush_succeeds() {
        let temp = tempfile::tempdir().unwrap();
        let database = log_beside(temp.path());
        let sync = WalSync::open(&database).unwrap();
        std::fs::remove_file(temp.path().join("db-wal")).unwrap();
        assert!(matches!(sync.flush(), Err(StoreError::NotDurable { .. })));
        // Even with a log back in place: what was written before the failure may be gone.
        log_beside(temp.path());
        assert!(matches!(sync.flush(), Err(StoreError::NotDurable { .. })));
    }
}
