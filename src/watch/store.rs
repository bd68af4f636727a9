//! The watcher's durable state: subjects (keys, counters, plans, schedule state), the queue of
//! actions the escalation produced, the outbox, one-time invites, and the watcher's own
//! signing key.
//!
//! Subjects, queue and outbox live in one SQLite database (`DATA/store.sqlite`, write-ahead
//! log, `synchronous=FULL`) and change together in one transaction, so a step is marked fired
//! exactly when its action is queued: after a crash it is neither lost nor repeated. A commit
//! is on disk when it returns, so every change is durable before it is acknowledged. One
//! process at a time has the store open (an flock on `DATA/lock`); the others are told it is
//! in use. Invites are small files, so that `posbon watch invite` works while the daemon
//! holds the database.
//!
//! posbon 0.1 kept this state in sled (`DATA/db/`); [`Store::open`] imports such a store
//! once (see `migrate`), because sled can lose a whole database to a crash at the wrong
//! moment.

mod migrate;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ring::signature::Ed25519KeyPair;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::outbox::{Delivery, DeliveryState};
use crate::plan::Plan;
use crate::plan::schedule::{Emitted, State};
use crate::protocol::contacts::Directory;

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
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

/// A journalist known to this watcher.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subject {
    pub id: String,
    pub name: String,
    /// Raw Ed25519 public keys.
    pub device_key: Vec<u8>,
    pub duress_key: Vec<u8>,
    /// The highest request counter accepted; anything not above it is a replay.
    pub counter: u64,
    pub plan: Option<Plan>,
    pub state: State,
    pub enrolled_ms: i64,
    #[serde(default)]
    pub phones: Vec<super::phone::Phone>,
    /// One-time phone enrolment links not used yet.
    #[serde(default)]
    pub phone_invites: Vec<PhoneInvite>,
    /// What requests signed with the duress key asked to change (and were told happened).
    #[serde(default)]
    pub duress_view: Option<DuressView>,
    /// Who the alerts go to, and the journalist's instructions to them.
    #[serde(default)]
    pub directory: Directory,
    /// The id of the last ladder alert sent.
    #[serde(default)]
    pub last_alert: Option<String>,
    /// (contact, alert id) of every ladder alert sent since the last all-clear: who must
    /// hear the all-clear, and which alerts it ends for them.
    #[serde(default)]
    pub alerted: Vec<(String, String)>,
    /// The cycle that a duress check-in started, so its alerts can say so.
    #[serde(default)]
    pub duress_cycle: Option<u64>,
    /// When the last silent duress alert went out (the moment its request names), so that
    /// one coercion episode alerts once; cleared by a real check-in.
    #[serde(default)]
    pub duress_alerted_ms: Option<i64>,
    /// Sealed release bundles held for this subject (the files are in `DATA/bundles/`).
    #[serde(default)]
    pub bundles: Vec<BundleMeta>,
    /// Bundles the duress key "stored": their descriptions only (the files are never kept
    /// and never released), shown back to the duress key so that the decoy's `release
    /// check` agrees with what it sealed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duress_bundles: Vec<BundleMeta>,
    /// When a request signed with the duress key, or the phone's duress PIN, was last
    /// accepted: shown to the real key only, so the journalist learns of an episode later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duress_seen_ms: Option<i64>,
    /// Events a request emitted whose alerts are not built yet: they are built after the
    /// answer (see `Watcher::stage_deferred`), so that a duress answer costs what a real one
    /// does. Stored with the change, so a crash before the alerts are built loses nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unstaged: Vec<Emitted>,
}

/// A bundle this watcher holds (and cannot read).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BundleMeta {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub recipients: Vec<String>,
    pub stored_ms: i64,
    /// The journalist's version of this bundle (increasing per id; 0 from clients before
    /// versions). The release alert states it, so lawyers can compare watchers.
    #[serde(default)]
    pub version: u64,
    /// When it was first released (download links made for it), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_ms: Option<i64>,
    /// Until when its download links work: until then it is frozen (neither replaced nor
    /// removed), so the links serve exactly what the signed alert names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_until_ms: Option<i64>,
}

impl BundleMeta {
    /// `Some((released, until))` while its download links still work.
    pub fn frozen(&self, now_ms: i64) -> Option<(i64, i64)> {
        match (self.released_ms, self.released_until_ms) {
            (Some(at), Some(until)) if until > now_ms => Some((at, until)),
            _ => None,
        }
    }
}

/// A download link for a released bundle (stored under the token's hash, never the token).
/// Not limited in uses: the file is useless without the lawyer's key, and a count would let
/// whoever sees the link use it up before the lawyer does. Only time ends it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DownloadEntry {
    pub subject: String,
    pub bundle: String,
    pub contact: String,
    pub expires_ms: i64,
    /// The SHA-256 the alert named: the link serves that file or nothing.
    #[serde(default)]
    pub sha256: String,
    /// The kind of channel the link went out on (`email`, `webhook`...), for the notice.
    #[serde(default)]
    pub channel: String,
    /// Downloads through this link so far.
    #[serde(default)]
    pub downloads: u32,
    /// Downloads not yet reported to the contact (see `Watcher::download`).
    #[serde(default)]
    pub unreported: u32,
    /// When the first of them happened.
    #[serde(default)]
    pub unreported_since_ms: Option<i64>,
    /// When the contact was last told of a download through this link.
    #[serde(default)]
    pub reported_ms: Option<i64>,
    /// How many times they were told (the notices come ever less often).
    #[serde(default)]
    pub notices: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneInvite {
    /// SHA-256 (hex) of the token.
    pub hash: String,
    pub expires_ms: i64,
    /// Made by a duress request: the phone it sets up only raises silent alarms.
    pub duress: bool,
}

/// The pretend world: the plan, pause and contacts a coerced client was told it set, and
/// the schedule they run on (see `watch::pretend`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuressView {
    pub plan: Option<Plan>,
    /// Kept equal to `state.paused_until_ms`; views stored before `state` have only this.
    pub paused_until_ms: Option<i64>,
    #[serde(default)]
    pub directory: Option<Directory>,
    /// The pretend schedule: its own cycle, check-ins, pause and fired steps, so that what
    /// the coerced side is shown can only be what the pretend plan allows. `None` in views
    /// stored before it was kept: the real state (with the view's pause) stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// When the first duress change made this view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
}

impl DuressView {
    /// The pretend schedule state, given the real one (for views stored before it was kept).
    pub fn schedule(&self, real: &State) -> State {
        self.state.clone().unwrap_or_else(|| State {
            paused_until_ms: self.paused_until_ms,
            ..real.clone()
        })
    }
}

impl Subject {
    /// A journalist just enrolled with these keys: no plan, no contacts, nothing sent yet.
    /// The one place a subject is made, so that a new field is set in one place.
    pub fn enrolled(
        id: String,
        name: String,
        device_key: Vec<u8>,
        duress_key: Vec<u8>,
        enrolled_ms: i64,
    ) -> Subject {
        Subject {
            id,
            name,
            device_key,
            duress_key,
            counter: 0,
            plan: None,
            state: State::default(),
            enrolled_ms,
            phones: Vec::new(),
            phone_invites: Vec::new(),
            duress_view: None,
            directory: Directory::default(),
            last_alert: None,
            alerted: Vec::new(),
            duress_cycle: None,
            duress_alerted_ms: None,
            bundles: Vec::new(),
            duress_bundles: Vec::new(),
            duress_seen_ms: None,
            unstaged: Vec::new(),
        }
    }

    /// The subject as requests signed with the duress key must see it. The contacts are
    /// never the real ones: the decoy vault starts with none, and a coercer must learn
    /// nothing of who would be alerted.
    pub fn with_duress_view(&self) -> Subject {
        let mut shown = self.clone();
        shown.directory = Directory::default();
        // Whether bundles exist, or go out on duress, is nothing a coercer may learn.
        shown.bundles.clear();
        if let Some(plan) = &mut shown.plan {
            plan.release_on_duress = false;
        }
        if let Some(view) = &self.duress_view {
            shown.plan = view.plan.clone();
            shown.state = view.schedule(&self.state);
            shown.directory = view.directory.clone().unwrap_or_default();
        }
        shown.bundles = self.duress_bundles.clone();
        shown
    }
}

/// One action the escalation produced, waiting to be carried out (alert delivery drains it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueuedAction {
    pub subject: String,
    pub name: String,
    pub emitted: Emitted,
    pub queued_ms: i64,
}

/// An acknowledgement link of one contact for one alert (stored under the token's hash).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AckEntry {
    pub subject: String,
    pub alert_id: String,
    pub contact: String,
    /// The other contacts who received the same alert: they are told of the acknowledgement.
    pub others: Vec<String>,
    pub acked_ms: Option<i64>,
    /// The hashes of the same contact's links for the same alert on their other channels:
    /// one acknowledgement, whichever link it came through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub siblings: Vec<String>,
    /// The kind of channel this link went out on (`email`, `webhook`...).
    #[serde(default)]
    pub channel: String,
    /// The kind of channel of the link the acknowledgement came through (this one's or a
    /// sibling's), once it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_via: Option<String>,
    /// When the link stops working and is deleted (none on links from before expiry
    /// times: the sweep gives them one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
}

/// What the sweep of expired links does with one (see [`Store::sweep`]).
pub enum Sweep {
    Keep,
    Delete,
    /// Store this value instead.
    Rewrite(Vec<u8>),
}

/// What a change sends out, committed together with it.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub deliveries: Vec<Delivery>,
    /// (token hash, entry).
    pub acks: Vec<(String, AckEntry)>,
    /// (token hash, entry).
    pub downloads: Vec<(String, DownloadEntry)>,
}

impl Outgoing {
    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty() && self.acks.is_empty() && self.downloads.is_empty()
    }

    pub fn extend(&mut self, other: Outgoing) {
        self.deliveries.extend(other.deliveries);
        self.acks.extend(other.acks);
        self.downloads.extend(other.downloads);
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invite {
    pub name: String,
    pub created_ms: i64,
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

/// The schema this code writes; `PRAGMA user_version` holds it.
const SCHEMA_VERSION: i64 = 1;

pub struct Store {
    conn: rusqlite::Connection,
    /// A second connection, for reading the outbox apart from the watcher's lock.
    reader: Arc<Mutex<rusqlite::Connection>>,
    /// The database file, for free-space checks before writing.
    path: PathBuf,
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
    // returns, even on power loss. secure_delete: what is deleted is overwritten, not left in
    // free pages. No foreign keys: tables refer to each other only through record contents.
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
        migrate::import_sled(data, &conn)?;
        migrate::forget_age_recipients(&conn)?;
        let reader = connect(&path)?;
        reader.execute_batch("PRAGMA query_only=ON;")?;
        Ok(Store {
            conn,
            reader: Arc::new(Mutex::new(reader)),
            path,
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
    fn room(&self) -> Result<(), StoreError> {
        Ok(crate::disk::ensure_room(&self.path, crate::disk::TO_WRITE)?)
    }

    /// Everything committed so far is on disk: each commit is (synchronous=FULL). Kept so
    /// that callers still mark where they rely on durability.
    pub fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// A handle for the same, usable without holding the store.
    pub fn flusher(&self) -> Flusher {
        Flusher(())
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

    /// Every delivery not yet accepted.
    pub fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        pending(&self.conn, usize::MAX)
    }

    /// Deliveries accepted or given up, newest first, at most `limit`.
    pub fn delivered(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        delivered(&self.conn, limit)
    }

    /// A handle for reading the outbox without holding the watcher's lock (it has its own
    /// connection, and sees what was committed).
    pub fn outbox_view(&self) -> OutboxView {
        OutboxView {
            reader: Arc::clone(&self.reader),
        }
    }

    /// Stores a pending delivery's new state; moves it out of the outbox once it is settled.
    pub fn update_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.update_deliveries(std::slice::from_ref(delivery))
    }

    /// [`Store::update_delivery`] for many, in one transaction. A delivery no longer in the
    /// outbox (an operator gave up on it meanwhile) is left as it is.
    pub fn update_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        self.room()?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for d in deliveries {
            let key = d.key.as_bytes();
            let record = json(d);
            let settled_ms = match d.state {
                DeliveryState::Delivered { at_ms } | DeliveryState::GivenUp { at_ms } => at_ms,
                DeliveryState::Pending => {
                    tx.prepare_cached("UPDATE outbox SET value = ?2 WHERE key = ?1")?
                        .execute(params![key, record])?;
                    continue;
                }
            };
            let removed = tx
                .prepare_cached("DELETE FROM outbox WHERE key = ?1")?
                .execute([key])?;
            if removed > 0 {
                put(&tx, "delivered", &settled_key(key, settled_ms), &record)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The pending delivery with this key.
    pub fn pending_delivery(&self, key: &str) -> Result<Option<Delivery>, StoreError> {
        self.get("outbox", key.as_bytes())?
            .map(|v| parse(&v, "outbox"))
            .transpose()
    }

    pub fn download(&self, hash: &str) -> Result<Option<DownloadEntry>, StoreError> {
        self.get("downloads", hash.as_bytes())?
            .map(|v| parse(&v, "download"))
            .transpose()
    }

    /// Stores a download link's entry and the notice of a download, atomically.
    pub fn commit_download(
        &self,
        hash: &str,
        entry: &DownloadEntry,
        outgoing: &Outgoing,
    ) -> Result<(), StoreError> {
        self.room()?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        put(&tx, "downloads", hash.as_bytes(), &json(entry))?;
        for delivery in &outgoing.deliveries {
            put(&tx, "outbox", delivery.key.as_bytes(), &json(delivery))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Download links with downloads not yet reported to their contact: (hash, entry).
    pub fn unreported_downloads(&self) -> Result<Vec<(String, DownloadEntry)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT key, value FROM downloads")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, value) = row?;
            let entry: DownloadEntry = parse(&value, "download")?;
            if entry.unreported > 0 {
                out.push((String::from_utf8_lossy(&key).into_owned(), entry));
            }
        }
        Ok(out)
    }

    pub fn ack(&self, hash: &str) -> Result<Option<AckEntry>, StoreError> {
        self.get("acks", hash.as_bytes())?
            .map(|v| parse(&v, "ack"))
            .transpose()
    }

    /// Marks an acknowledgement and queues the notices to the others, atomically.
    /// `entries`: the link confirmed and its siblings, all marked.
    pub fn commit_ack(
        &self,
        entries: &[(String, AckEntry)],
        outgoing: &Outgoing,
    ) -> Result<(), StoreError> {
        self.room()?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for (hash, entry) in entries {
            put(&tx, "acks", hash.as_bytes(), &json(entry))?;
        }
        for delivery in &outgoing.deliveries {
            put(&tx, "outbox", delivery.key.as_bytes(), &json(delivery))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Looks at up to `limit` entries of `table` (`acks` or `downloads`) after the key
    /// `after`, in key order, and keeps, deletes or rewrites each as `decide` says, in one
    /// transaction. Returns the last key looked at (`None` once the table's end is reached),
    /// how many were looked at, and how many deleted.
    pub fn sweep(
        &self,
        table: &'static str,
        after: &[u8],
        limit: usize,
        mut decide: impl FnMut(&[u8]) -> Result<Sweep, StoreError>,
    ) -> Result<(Option<Vec<u8>>, usize, usize), StoreError> {
        assert!(
            table == "acks" || table == "downloads",
            "only links are swept"
        );
        let rows: Vec<(Vec<u8>, Vec<u8>)> = {
            let mut statement = self.conn.prepare_cached(&format!(
                "SELECT key, value FROM {table} WHERE key > ?1 ORDER BY key LIMIT ?2"
            ))?;
            let rows = statement.query_map(params![after, limit as i64], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut changes = Vec::new();
        for (key, value) in &rows {
            match decide(value)? {
                Sweep::Keep => {}
                change => changes.push((key, change)),
            }
        }
        let mut deleted = 0;
        if !changes.is_empty() {
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            for (key, change) in changes {
                match change {
                    Sweep::Delete => {
                        deleted += tx
                            .prepare_cached(&format!("DELETE FROM {table} WHERE key = ?1"))?
                            .execute(params![key])?;
                    }
                    Sweep::Rewrite(value) => put(&tx, table, key, &value)?,
                    Sweep::Keep => {}
                }
            }
            tx.commit()?;
        }
        let last = (rows.len() >= limit.max(1))
            .then(|| rows.last().map(|(key, _)| key.clone()))
            .flatten();
        Ok((last, rows.len(), deleted))
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

/// SQLite takes a signed limit; `usize::MAX` means all.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn pending(conn: &rusqlite::Connection, limit: usize) -> Result<Vec<Delivery>, StoreError> {
    values(
        conn,
        "SELECT value FROM outbox ORDER BY key LIMIT ?1",
        [sql_limit(limit)],
    )?
    .iter()
    .map(|v| parse(v, "outbox"))
    .collect()
}

fn delivered(conn: &rusqlite::Connection, limit: usize) -> Result<Vec<Delivery>, StoreError> {
    // Keys start with the time settled, so the latest are read from the end of the index
    // without reading the rest.
    values(
        conn,
        "SELECT value FROM delivered ORDER BY key DESC LIMIT ?1",
        [sql_limit(limit)],
    )?
    .iter()
    .map(|v| parse(v, "delivered"))
    .collect()
}

/// The outbox, read-only, apart from the watcher's lock.
pub struct OutboxView {
    reader: Arc<Mutex<rusqlite::Connection>>,
}

impl OutboxView {
    fn reader(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        // Reads leave nothing half-done behind a panic.
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pending deliveries, at most `limit`.
    pub fn pending(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        pending(&self.reader(), limit)
    }

    /// Settled deliveries, newest first, at most `limit`.
    pub fn delivered(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        delivered(&self.reader(), limit)
    }

    /// How many subjects are enrolled (for the metrics, which count them apart from the
    /// watcher's lock like the outbox).
    pub fn subject_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .reader()
            .query_row("SELECT COUNT(*) FROM subjects", [], |row| row.get(0))?;
        Ok(n.max(0) as u64)
    }
}

fn settled_key(key: &[u8], at_ms: i64) -> Vec<u8> {
    let mut out = (at_ms.max(0) as u64).to_be_bytes().to_vec();
    out.extend_from_slice(key);
    out
}

/// Makes everything committed before a call durable, from any thread, without the store.
/// With SQLite at synchronous=FULL every commit already is, so there is nothing left to do;
/// the handle stays so that the places that rely on durability say so (and a group commit
/// can come back here without touching them).
#[derive(Clone)]
pub struct Flusher(());

impl Flusher {
    /// Returns once everything committed before this call is on disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The one-time invites waiting in `DATA/invites/`.
pub struct Invites {
    dir: PathBuf,
}

/// Invite codes are typed by people: 20 random bytes as groups of hex digits.
pub fn new_invite_code() -> String {
    let hex = hex::encode(crate::crypto::random_array::<10>());
    hex.as_bytes()
        .chunks(5)
        .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

fn code_hash(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        normalised.as_bytes(),
    ))
}

impl Invites {
    pub fn new(data: &Path) -> Self {
        Invites {
            dir: data.join("invites"),
        }
    }

    /// Creates an invite for `name` and returns its code. Only the code's hash is stored.
    pub fn create(&self, name: &str, now_ms: i64) -> Result<String, StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| io(&self.dir, e))?;
        let code = new_invite_code();
        let path = self.dir.join(code_hash(&code));
        let temp = path.with_extension("tmp");
        let invite = Invite {
            name: name.to_string(),
            created_ms: now_ms,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| io(&temp, e))?;
        file.write_all(&json(&invite))
            .and_then(|_| file.sync_all())
            .map_err(|e| io(&temp, e))?;
        fs::rename(&temp, &path).map_err(|e| io(&path, e))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&self.dir, e))?;
        Ok(code)
    }

    /// The invite for `code`, if it exists (and was not used).
    pub fn peek(&self, code: &str) -> Result<Option<Invite>, StoreError> {
        let path = self.dir.join(code_hash(code));
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(parse(&bytes, "invite")?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// Uses up the invite for `code`, durably: a used code never comes back after a crash.
    pub fn remove(&self, code: &str) -> Result<(), StoreError> {
        let path = self.dir.join(code_hash(code));
        fs::remove_file(&path).map_err(|e| io(&path, e))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&self.dir, e))
    }
}

/// The key download and acknowledgement tokens are derived under (`DATA/link.key`, 32
/// random bytes, made on first use). Tokens are made from it when a delivery is sent and
/// never stored: the database keeps only their SHA-256, so a copy of the database alone
/// cannot spend a link. Losing the file only kills the links of deliveries still pending.
pub fn link_key(data: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>, StoreError> {
    let path = data.join("link.key");
    if !path.exists() {
        let key = zeroize::Zeroizing::new(crate::crypto::random_array::<32>());
        create_key_file_once(data, &path, key.as_ref())?;
    }
    let bytes = zeroize::Zeroizing::new(fs::read(&path).map_err(|e| io(&path, e))?);
    if bytes.len() != 32 {
        return Err(StoreError::Damaged(format!(
            "{} is not a 32-byte key",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Writes `key` to `path` (0600, in `data`, 0700) unless a key is there already, durably.
/// A hard link only succeeds if no key exists yet: two processes starting at once (the
/// daemon and `watch invite`) end up with the same key, the first one's.
fn create_key_file_once(data: &Path, path: &Path, key: &[u8]) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data)
        .map_err(|e| io(data, e))?;
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| io(&temp, e))?;
    file.write_all(key)
        .and_then(|_| file.sync_all())
        .map_err(|e| io(&temp, e))?;
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(path, e)),
    }
    File::open(data)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(data, e))
}

/// Loads the watcher's signing key from `DATA/watcher.key`, creating it on first use.
pub fn watcher_key(data: &Path) -> Result<Ed25519KeyPair, StoreError> {
    let path = data.join("watcher.key");
    if !path.exists() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| StoreError::Damaged("cannot generate a key".into()))?;
        create_key_file_once(data, &path, pkcs8.as_ref())?;
    }
    let bytes = zeroize::Zeroizing::new(fs::read(&path).map_err(|e| io(&path, e))?);
    Ed25519KeyPair::from_pkcs8(&bytes)
        .map_err(|_| StoreError::Damaged(format!("{} is not an Ed25519 key", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

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
