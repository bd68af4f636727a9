//! The watcher's durable state: subjects (keys, counters, plans, schedule state), the queue of
//! actions the escalation produced, the outbox, one-time invites, and the watcher's own
//! signing key.
//!
//! Subjects, queue and outbox live in one SQLite database (`DATA/store.sqlite`, write-ahead
//! log) and change together in one transaction, so a step is marked fired exactly when its
//! action is queued: after a crash it is neither lost nor repeated. A commit returns once its
//! bytes are in the log (they survive the process being killed); [`Store::flush`] or a
//! [`Flusher`] then fsyncs the log, one fsync for every commit made meanwhile (a group
//! commit, see `sync`), and nothing is acknowledged, sent or acted upon before that returns,
//! so every change is durable, power loss included, before anyone hears of it. One process
//! at a time has the store open (an flock on `DATA/lock`); the others are told it is in use. Invites are small files, so that `posbon watch invite` works while the daemon
//! holds the database.
//!
//! posbon 0.1 kept this state in sled (`DATA/db/`); [`Store::open`] imports such a store
//! once (see `migrate`), because sled can lose a whole database to a crash at the wrong
//! moment.
//!
//! This file opens the database and commits subjects with what their changes queue and send.
//! The records themselves are in `records`; the outbox's tables and read-only view in
//! `deliveries`; link entries and their sweep in `links`; the files beside the database in
//! `invites` and `keys`; forgetting a journalist, and the read-only look at the subjects,
//! in `removal`; each subject's bounded log of events, for `posbon history`, in `history`.

mod deliveries;
mod history;
mod invites;
mod keys;
mod links;
mod migrate;
mod records;
mod removal;
mod sync;

pub use deliveries::OutboxView;
pub use history::{HISTORY_DAYS, HISTORY_MAX, HistoryRecord};
pub use invites::{Invite, Invites, new_invite_code};
pub use keys::{link_key, watcher_key};
pub use links::Sweep;
pub use records::{
    AckEntry, BundleMeta, DURESS_ALARMS_KEPT, DownloadEntry, DuressAlarm, DuressView, Outgoing,
    PhoneInvite, QueuedAction, Subject,
};
pub use removal::{LeaveBlock, Removal, RemovalRequests, read_subjects};

use std::cell::Cell;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::plan::schedule::Emitted;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the watcher's data directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the watcher's database failed: {0}")]
    Db(String),
    #[error(
        "cannot import the posbon 0.1 store in {path}: {reason} (its entries were left as they were)"
    )]
    Import { path: PathBuf, reason: String },
    #[error("the watcher's data is damaged: {0}")]
    Damaged(String),
    #[error(
        "the watcher's data directory is in use by another process (is `posbon watch serve` running?)"
    )]
    InUse,
    #[error(transparent)]
    DiskFull(#[from] crate::disk::DiskFull),
    #[error(
        "the watcher's write-ahead log {path} could not be synced ({reason}); nothing written since is known to be on disk: restart the watcher"
    )]
    NotDurable { path: PathBuf, reason: String },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

/// Where the store lives in the data directory.
pub const DATABASE_FILE: &str = "store.sqlite";
/// Held (flock) by the one process that has the store open.
const LOCK_FILE: &str = "lock";

/// The tables, one per kind of record, each `(key BLOB PRIMARY KEY, value BLOB)`. The names
/// and the bytes in them are those of posbon 0.1's sled trees, so importing one is a copy.
const TABLES: [&str; 7] = [
    "subjects",  // subject id → Subject (JSON)
    "queue",     // sequence number (u64, big-endian) → QueuedAction
    "phones",    // phone device id → subject id
    "outbox",    // delivery key → Delivery not yet accepted
    "delivered", // (when settled, big-endian ms; delivery key) → Delivery accepted or given up
    "acks",      // SHA-256 (hex) of an acknowledgement token → AckEntry
    "downloads", // SHA-256 (hex) of a download token → DownloadEntry
];

/// A subject's public keys, read from its record alone: serde skips the other fields
/// without building them.
#[derive(Deserialize)]
pub struct SubjectKeys {
    pub device_key: Vec<u8>,
    pub duress_key: Vec<u8>,
}

/// Free space beyond [`crate::disk::TO_WRITE`] that lets writes skip the check for a while.
const ROOMY: u64 = 256 * 1024 * 1024;
/// How long they skip it.
const ROOM_CHECK_EVERY: Duration = Duration::from_secs(1);

/// The schema this code writes; `PRAGMA user_version` holds it.
const SCHEMA_VERSION: i64 = 1;

pub struct Store {
    conn: rusqlite::Connection,
    /// A second connection, for reading the outbox apart from the watcher's lock.
    reader: Arc<Mutex<rusqlite::Connection>>,
    /// The database file, for free-space checks before writing.
    path: PathBuf,
    /// Syncs of the write-ahead log, shared by every commit made before them.
    sync: Arc<sync::WalSync>,
    /// Until when writes may skip the free-space check (see [`Store::room`]).
    roomy_until: Cell<Option<Instant>>,
    /// The flock that keeps a second process out; released when the store is dropped (or
    /// the process dies, however it dies). The last field, so it outlives the connections.
    _lock: File,
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("watcher records always serialise")
}

fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Damaged(format!("a {what} entry: {e}")))
}

/// Takes the data directory's lock without waiting: a second process gets [`StoreError::InUse`].
fn lock(data: &Path) -> Result<File, StoreError> {
    use std::os::fd::AsRawFd;
    let path = data.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| io(&path, e))?;
    // SAFETY: flock on a descriptor this function owns; no memory is involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let error = std::io::Error::last_os_error();
        return Err(match error.kind() {
            std::io::ErrorKind::WouldBlock => StoreError::InUse,
            _ => io(&path, error),
        });
    }
    Ok(file)
}

/// Opens a connection with the settings every use of the database needs.
fn connect(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open(path)?;
    // Another connection of this process may be writing (the outbox reader waits for it).
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL: a commit appends to one file, and readers do not wait for the writer.
    // synchronous=FULL: the WAL is fsynced at every commit, so a commit is durable when it
    // returns, even on power loss. That holds while the store is opened (schema, imports);
    // `Store::open` then lowers the writer to NORMAL and syncs the log itself, once for many
    // commits (see `sync`). secure_delete: what is deleted is overwritten, not left in free
    // pages. No foreign keys: tables refer to each other only through record contents.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Db(format!(
            "{} cannot use a write-ahead log (journal mode {mode})",
            path.display()
        )));
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;")?;
    Ok(conn)
}

/// Creates the tables in a new database; refuses a schema newer than this code knows.
fn create_schema(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Damaged(format!(
            "the database was written by a newer posbon (schema {version}); upgrade posbon"
        )));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    for table in TABLES {
        tx.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {table} \
             (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;"
        ))?;
    }
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS meta \
         (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
         PRAGMA user_version = {SCHEMA_VERSION};"
    ))?;
    tx.commit()?;
    Ok(())
}

impl Store {
    /// Opens (or creates) the store in the data directory `data`, importing a posbon 0.1
    /// store (sled, in `DATA/db/`) first if one is there.
    pub fn open(data: &Path) -> Result<Self, StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data)
            .map_err(|e| io(data, e))?;
        let path = data.join(DATABASE_FILE);
        crate::disk::ensure_room(&path, crate::disk::TO_OPEN)?;
        let lock = lock(data)?;
        // Made here so that it is private from the start: SQLite gives its WAL and shared
        // memory files the mode of the database file.
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        let conn = connect(&path)?;
        conn.set_prepared_statement_cache_capacity(32);
        create_schema(&conn)?;
        history::create(&conn)?;
        migrate::import_sled(data, &conn)?;
        migrate::forget_age_recipients(&conn)?;
        let reader = connect(&path)?;
        reader.execute_batch("PRAGMA query_only=ON;")?;
        // From here on a commit is not synced by SQLite but by `flush`, which every change
        // that is acknowledged or acted upon waits for (see `sync`). Checkpoints still sync
        // the log before they copy it, at NORMAL as at FULL.
        let sync = Arc::new(sync::WalSync::open(&path)?);
        conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
        Ok(Store {
            conn,
            reader: Arc::new(Mutex::new(reader)),
            path,
            sync,
            roomy_until: Cell::new(None),
            _lock: lock,
        })
    }

    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT value FROM {table} WHERE key = ?1"))?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    pub fn subjects(&self) -> Result<Vec<Subject>, StoreError> {
        values(&self.conn, "SELECT value FROM subjects ORDER BY key", [])?
            .iter()
            .map(|v| parse(v, "subject"))
            .collect()
    }

    pub fn subject(&self, id: &str) -> Result<Option<Subject>, StoreError> {
        self.get("subjects", id.as_bytes())?
            .map(|v| parse(&v, "subject"))
            .transpose()
    }

    /// Stores `subject` and queues `actions`, atomically and durably.
    pub fn commit(
        &self,
        subject: &Subject,
        actions: &[Emitted],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.commit_with(subject, actions, &Outgoing::default(), now_ms)
    }

    /// [`Store::commit`], and the deliveries and acknowledgement links the change sends out,
    /// in the same transaction: a step is fired exactly when its alerts are in the outbox.
    pub fn commit_with(
        &self,
        subject: &Subject,
        actions: &[Emitted],
        outgoing: &Outgoing,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.room()?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        put(&tx, "subjects", subject.id.as_bytes(), &json(subject))?;
        for phone in &subject.phones {
            put(&tx, "phones", phone.id.as_bytes(), subject.id.as_bytes())?;
        }
        if !actions.is_empty() {
            // Sequence numbers only grow, so the queue reads oldest first.
            let last: Option<Vec<u8>> = tx
                .prepare_cached("SELECT key FROM queue ORDER BY key DESC LIMIT 1")?
                .query_row([], |row| row.get(0))
                .optional()?;
            let first = match last {
                Some(key) => sequence(&key)?.checked_add(1).ok_or_else(|| {
                    StoreError::Damaged("the queue's sequence numbers ran out".into())
                })?,
                None => 0,
            };
            for (seq, emitted) in (first..).zip(actions) {
                let entry = QueuedAction {
                    subject: subject.id.clone(),
                    name: subject.name.clone(),
                    emitted: emitted.clone(),
                    queued_ms: now_ms,
                };
                put(&tx, "queue", &seq.to_be_bytes(), &json(&entry))?;
            }
        }
        for delivery in &outgoing.deliveries {
            put(&tx, "outbox", delivery.key.as_bytes(), &json(delivery))?;
        }
        for (hash, entry) in &outgoing.acks {
            put(&tx, "acks", hash.as_bytes(), &json(entry))?;
        }
        for (hash, entry) in &outgoing.downloads {
            put(&tx, "downloads", hash.as_bytes(), &json(entry))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Refuses to write when the disk is nearly full, with an error that says so, before a
    /// request is half carried out.
    ///
    /// A `statvfs` (and a `stat`) per check-in was a measurable part of its cost, so when a
    /// check finds far more room than the margin ([`ROOMY`] above it), the writes of the
    /// next [`ROOM_CHECK_EVERY`] skip it: in a second nothing the watcher writes comes near
    /// that much (the log is checkpointed every few MiB; four 32 MiB bundle uploads at once
    /// are the most). Closer to full, every write is checked, as before.
    fn room(&self) -> Result<(), StoreError> {
        let now = Instant::now();
        if self.roomy_until.get().is_some_and(|until| now < until) {
            return Ok(());
        }
        if crate::disk::free_bytes(&self.path)
            .is_ok_and(|free| free >= crate::disk::TO_WRITE.saturating_add(ROOMY))
        {
            self.roomy_until.set(Some(now + ROOM_CHECK_EVERY));
            return Ok(());
        }
        self.roomy_until.set(None);
        Ok(crate::disk::ensure_room(&self.path, crate::disk::TO_WRITE)?)
    }

    /// A subject's two public keys (device, duress), read without the rest of its record:
    /// what a request's signatures are checked against before the store is locked again.
    pub fn subject_keys(&self, id: &str) -> Result<Option<SubjectKeys>, StoreError> {
        self.get("subjects", id.as_bytes())?
            .map(|v| parse(&v, "subject"))
            .transpose()
    }

    /// Returns once everything committed before the call is on disk. A commit alone
    /// survives the process being killed, not power loss: nothing may be acknowledged, sent
    /// or acted upon because of a commit before a flush that follows it has returned.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.sync.flush()
    }

    /// A handle for the same, usable without holding the store: commit under the store's
    /// lock, release it, then flush, so that others commit while the disk syncs and one
    /// sync covers them all.
    pub fn flusher(&self) -> Flusher {
        Flusher(self.sync.clone())
    }

    /// Forgets which subject a removed phone belonged to. Called after the subject without
    /// it is committed: should it not happen (a crash between), the entry left behind leads
    /// to a subject that no longer lists the phone, which refuses it all the same.
    pub fn forget_phone(&self, device_id: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM phones WHERE key = ?1")?
            .execute(params![device_id.as_bytes()])?;
        Ok(())
    }

    /// The subject a phone belongs to.
    pub fn phone_owner(&self, device_id: &str) -> Result<Option<Subject>, StoreError> {
        match self.get("phones", device_id.as_bytes())? {
            Some(subject) => self.subject(&String::from_utf8_lossy(&subject)),
            None => Ok(None),
        }
    }

    /// Every queued action, oldest first.
    pub fn queued(&self) -> Result<Vec<QueuedAction>, StoreError> {
        values(&self.conn, "SELECT value FROM queue ORDER BY key", [])?
            .iter()
            .map(|v| parse(v, "queue"))
            .collect()
    }
}

/// Inserts or replaces one entry (the keys are always bound as BLOBs, as imported from sled).
fn put(
    conn: &rusqlite::Connection,
    table: &str,
    key: &[u8],
    value: &[u8],
) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} (key, value) VALUES (?1, ?2)"
    ))?
    .execute(params![key, value])?;
    Ok(())
}

/// The `value` column of every row `sql` selects.
fn values(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, |row| row.get::<_, Vec<u8>>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A queue key back to its sequence number.
fn sequence(key: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = key
        .try_into()
        .map_err(|_| StoreError::Damaged("a queue key is not 8 bytes".into()))?;
    Ok(u64::from_be_bytes(bytes))
}

/// Makes everything committed before a call durable, from any thread, without the store:
/// one sync of the write-ahead log at a time, shared by everyone who arrived while the one
/// before it ran (see `sync`).
#[derive(Clone)]
pub struct Flusher(Arc<sync::WalSync>);

impl Flusher {
    /// Returns once everything committed before this call is on disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;
    use crate::watch::outbox::DeliveryState;

    /// A copy of a real posbon 0.1 watcher data directory (tests/fixtures/watcher-0.1).
    fn old_watcher() -> (tempfile::TempDir, PathBuf) {
        let temp = tempfile::tempdir().unwrap();
        let data = temp.path().join("watcher");
        copy_dir(&fixture().join("data"), &data);
        (temp, data)
    }

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/watcher-0.1")
    }

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &to.join(entry.file_name()));
            } else {
                fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    }

    fn expected() -> serde_json::Value {
        serde_json::from_slice(&fs::read(fixture().join("expected.json")).unwrap()).unwrap()
    }

    /// What the store holds, in the fixture's `expected.json` form.
    fn contents(store: &Store) -> serde_json::Value {
        serde_json::json!({
            "subjects": store.subjects().unwrap(),
            "queued": store.queued().unwrap(),
            "pending": store.pending().unwrap(),
            "delivered": store.delivered(usize::MAX).unwrap(),
        })
    }

    fn step(cycle: u64) -> Emitted {
        Emitted::Step {
            action: Action::AlertTier(1),
            cycle,
            due_ms: 1,
            deadline_ms: 1,
        }
    }

    #[test]
    fn a_second_open_is_refused_while_the_store_is_open() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::open(temp.path()).unwrap();
        assert!(matches!(Store::open(temp.path()), Err(StoreError::InUse)));
        drop(store);
        Store::open(temp.path()).unwrap();
    }

    #[test]
    fn a_commit_is_there_after_reopening_with_the_queue_oldest_first() {
        let temp = tempfile::tempdir().unwrap();
        let mut subject = Subject::enrolled("s1".into(), "N".into(), vec![1], vec![2], 5);
        {
            let store = Store::open(temp.path()).unwrap();
            subject.counter = 7;
            store.commit(&subject, &[step(1), step(2)], 10).unwrap();
            subject.counter = 8;
            store.commit(&subject, &[step(3)], 11).unwrap();
        }
        let store = Store::open(temp.path()).unwrap();
        assert_eq!(store.subject("s1").unwrap().unwrap().counter, 8);
        assert!(store.subject("s2").unwrap().is_none());
        let cycles: Vec<_> = store
            .queued()
            .unwrap()
            .into_iter()
            .map(|a| match a.emitted {
                Emitted::Step { cycle, .. } => cycle,
                _ => 0,
            })
            .collect();
        assert_eq!(cycles, [1, 2, 3]);
    }

    #[test]
    fn commits_flushed_from_many_threads_at_once_are_all_there_after_reopening() {
        let temp = tempfile::tempdir().unwrap();
        let store = Arc::new(Mutex::new(Store::open(temp.path()).unwrap()));
        let flusher = store.lock().unwrap().flusher();
        let syncs_before = store.lock().unwrap().sync.completed();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (store, flusher) = (store.clone(), flusher.clone());
                std::thread::spawn(move || {
                    let mut flushed = Vec::new();
                    for i in 0..40 {
                        let id = format!("s{t}-{i}");
                        let mut subject =
                            Subject::enrolled(id.clone(), "N".into(), vec![1], vec![2], 5);
                        subject.counter = i;
                        // As the watcher does: commit under the lock, release it, flush.
                        store
                            .lock()
                            .unwrap()
                            .commit(&subject, &[step(i)], 10)
                            .unwrap();
                        flusher.flush().unwrap();
                        flushed.push(id);
                    }
                    flushed
                })
            })
            .collect();
        let flushed: Vec<String> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let store = Arc::into_inner(store).unwrap().into_inner().unwrap();
        let syncs = store.sync.completed() - syncs_before;
        assert!((1..=320).contains(&syncs), "{syncs} syncs for 320 flushes");
        drop(store);
        let store = Store::open(temp.path()).unwrap();
        for id in &flushed {
            assert!(store.subject(id).unwrap().is_some(), "{id} is lost");
        }
        assert_eq!(flushed.len(), 320);
        assert_eq!(store.queued().unwrap().len(), 320);
    }

    #[test]
    fn the_writer_commits_at_normal_and_a_flush_syncs_what_it_committed() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::open(temp.path()).unwrap();
        // 1 = NORMAL: the commit is synced by the flush, not by SQLite.
        let level: i64 = store
            .conn
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        assert_eq!(level, 1);
        let subject = Subject::enrolled("s1".into(), "N".into(), vec![1], vec![2], 5);
        let before = store.sync.completed();
        store.commit(&subject, &[], 6).unwrap();
        store.flush().unwrap();
        assert_eq!(store.sync.completed(), before + 1);
        // The log the flush syncs is the one SQLite writes to.
        let wal = temp.path().join(format!("{DATABASE_FILE}-wal"));
        assert!(fs::metadata(&wal).unwrap().len() > 0);
    }

    #[test]
    fn a_settled_delivery_leaves_the_outbox_and_a_late_update_does_not_bring_it_back() {
        let (_temp, data) = old_watcher();
        let store = Store::open(&data).unwrap();
        let mut pending = store.pending().unwrap();
        assert_eq!(pending.len(), 2);
        let mut first = pending.remove(0);
        first.state = DeliveryState::Delivered { at_ms: 100 };
        store.update_delivery(&first).unwrap();
        let view = store.outbox_view();
        assert_eq!(view.pending(10).unwrap().len(), 1);
        assert_eq!(view.delivered(10).unwrap(), vec![first.clone()]);
        // Settled already: a late update does not bring it back.
        first.state = DeliveryState::Pending;
        store.update_delivery(&first).unwrap();
        assert_eq!(store.pending().unwrap().len(), 1);
        assert_eq!(store.pending_delivery(&first.key).unwrap(), None);
    }

    #[test]
    fn a_0_1_store_is_imported_byte_for_byte_and_its_directory_removed() {
        let (_temp, data) = old_watcher();
        let store = Store::open(&data).unwrap();
        assert_eq!(contents(&store), expected());
        assert!(!data.join("db").exists());
        assert!(!data.join("db.importing").exists());
        drop(store);
        let store = Store::open(&data).unwrap();
        assert_eq!(contents(&store), expected());
    }

    #[test]
    fn an_import_killed_before_its_commit_is_done_again() {
        let (_temp, data) = old_watcher();
        // The state right after the rename, before the copy committed.
        fs::rename(data.join("db"), data.join("db.importing")).unwrap();
        let store = Store::open(&data).unwrap();
        assert_eq!(contents(&store), expected());
        assert!(!data.join("db.importing").exists());
    }

    #[test]
    fn an_import_killed_after_its_commit_only_removes_the_old_directory() {
        let (_temp, data) = old_watcher();
        drop(Store::open(&data).unwrap());
        // The state right after the commit, before the removal: a second copy would double
        // the queue.
        copy_dir(&fixture().join("data/db"), &data.join("db.importing"));
        let store = Store::open(&data).unwrap();
        assert_eq!(contents(&store), expected());
        assert!(!data.join("db.importing").exists());
    }

    #[test]
    fn an_old_store_put_back_beside_an_imported_one_is_refused_not_deleted() {
        let (_temp, data) = old_watcher();
        drop(Store::open(&data).unwrap());
        copy_dir(&fixture().join("data/db"), &data.join("db"));
        let refused = Store::open(&data).err().unwrap();
        assert!(matches!(refused, StoreError::Import { .. }), "{refused}");
        assert!(data.join("db/db").exists());
    }

    #[test]
    fn an_old_store_beside_a_store_in_use_is_refused_before_anything_is_renamed() {
        let temp = tempfile::tempdir().unwrap();
        let data = temp.path().join("watcher");
        let subject = Subject::enrolled("s1".into(), "N".into(), vec![1], vec![2], 5);
        Store::open(&data)
            .unwrap()
            .commit(&subject, &[], 6)
            .unwrap();
        copy_dir(&fixture().join("data/db"), &data.join("db"));
        let refused = Store::open(&data).err().unwrap();
        assert!(matches!(refused, StoreError::Import { .. }), "{refused}");
        assert!(data.join("db/db").exists() && !data.join("db.importing").exists());
        fs::remove_dir_all(data.join("db")).unwrap();
        assert_eq!(Store::open(&data).unwrap().subjects().unwrap().len(), 1);
    }

    #[test]
    fn an_unfinished_sled_snapshot_is_moved_aside_and_the_import_goes_on() {
        let (_temp, data) = old_watcher();
        let unfinished = "snap.FFFFFFFFFFFFFFFF.generating";
        fs::write(data.join("db").join(unfinished), b"half a snapshot").unwrap();
        // The sled bug this works around: with that file, sled refuses its own store.
        let probe = tempfile::tempdir().unwrap();
        copy_dir(&data.join("db"), probe.path());
        assert!(sled::Config::new().path(probe.path()).open().is_err());
        let store = Store::open(&data).unwrap();
        assert_eq!(contents(&store), expected());
    }

    #[test]
    fn a_0_1_daemon_still_running_keeps_its_store() {
        let (_temp, data) = old_watcher();
        let running = sled::Config::new()
            .path(data.join("db"))
            .flush_every_ms(None)
            .open()
            .unwrap();
        assert!(matches!(Store::open(&data), Err(StoreError::InUse)));
        assert!(data.join("db/db").exists());
        drop(running);
        let store = Store::open(&data).unwrap();
        assert_eq!(contents(&store), expected());
    }
}
