//! The watcher's durable state: subjects (keys, counters, plans, schedule state), the queue of
//! actions the escalation produced, one-time invites, and the watcher's own signing key.
//!
//! Subjects and queue live in one `sled` database and change together in one transaction, so
//! a step is marked fired exactly when its action is queued: after a crash it is neither lost
//! nor repeated. Every change is flushed to disk before it is acknowledged. Invites are small
//! files, so that `posbon watch invite` works while the daemon holds the database.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};

use super::contacts::Directory;
use super::outbox::{Delivery, DeliveryState};
use super::plan::Plan;
use super::schedule::{Emitted, State};

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
    #[error("the watcher's data is damaged: {0}")]
    Damaged(String),
    #[error(
        "the watcher's data directory is in use by another process (is `posbon watch serve` running?)"
    )]
    InUse,
    #[error(transparent)]
    DiskFull(#[from] crate::disk::DiskFull),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
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
}

/// A download link for a released bundle (stored under the token's hash).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DownloadEntry {
    pub subject: String,
    pub bundle: String,
    pub contact: String,
    pub uses_left: u32,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneInvite {
    /// SHA-256 (hex) of the token.
    pub hash: String,
    pub expires_ms: i64,
    /// Made by a duress request: the phone it sets up only raises silent alarms.
    pub duress: bool,
}

/// The plan and pause a coerced client was told it set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuressView {
    pub plan: Option<Plan>,
    pub paused_until_ms: Option<i64>,
    #[serde(default)]
    pub directory: Option<Directory>,
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
            shown.state.paused_until_ms = view.paused_until_ms;
            shown.directory = view.directory.clone().unwrap_or_default();
        }
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

pub struct Store {
    db: sled::Db,
    subjects: sled::Tree,
    queue: sled::Tree,
    /// Phone device id → subject id.
    phones: sled::Tree,
    /// Deliveries not yet accepted, by delivery key.
    outbox: sled::Tree,
    /// Deliveries accepted, or given up by an operator, by (when, delivery key): the latest
    /// are read from the end without reading the rest.
    delivered: sled::Tree,
    /// Acknowledgement links, by the token's SHA-256 (hex).
    acks: sled::Tree,
    /// Bundle download links, by the token's SHA-256 (hex).
    downloads: sled::Tree,
    /// The database directory, for free-space checks before writing.
    path: PathBuf,
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

impl Store {
    pub fn open(data: &Path) -> Result<Self, StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data)
            .map_err(|e| io(data, e))?;
        crate::disk::ensure_room(&data.join("db"), crate::disk::TO_OPEN)?;
        let db = sled::Config::new()
            .path(data.join("db"))
            .flush_every_ms(None)
            .open()
            .map_err(|e| match e {
                sled::Error::Io(ref io_error)
                    if io_error.kind() == std::io::ErrorKind::WouldBlock =>
                {
                    StoreError::InUse
                }
                sled::Error::Io(ref io_error) if io_error.to_string().contains("lock") => {
                    StoreError::InUse
                }
                other => other.into(),
            })?;
        let subjects = db.open_tree("subjects")?;
        let queue = db.open_tree("queue")?;
        let phones = db.open_tree("phones")?;
        let outbox = db.open_tree("outbox")?;
        let delivered = db.open_tree("delivered")?;
        let acks = db.open_tree("acks")?;
        let downloads = db.open_tree("downloads")?;
        Ok(Store {
            path: data.join("db"),
            downloads,
            db,
            subjects,
            queue,
            phones,
            outbox,
            delivered,
            acks,
        })
    }

    pub fn subjects(&self) -> Result<Vec<Subject>, StoreError> {
        self.subjects
            .iter()
            .values()
            .map(|v| parse(&v?, "subject"))
            .collect()
    }

    pub fn subject(&self, id: &str) -> Result<Option<Subject>, StoreError> {
        self.subjects
            .get(id.as_bytes())?
            .map(|v| parse(&v, "subject"))
            .transpose()
    }

    /// Stores `subject` and queues `actions`, atomically; durable after the next [`Store::flush`].
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
        use sled::Transactional;
        self.room()?;
        let record = json(subject);
        // The common case (a check-in with nothing to queue) is one insert, atomic by itself;
        // sled transactions cost more than the rest of a check-in together.
        let mappings_present = subject
            .phones
            .iter()
            .map(|p| self.phones.contains_key(p.id.as_bytes()))
            .collect::<Result<Vec<bool>, _>>()?
            .into_iter()
            .all(|present| present);
        if actions.is_empty() && outgoing.is_empty() && mappings_present {
            self.subjects.insert(subject.id.as_bytes(), record)?;
            return Ok(());
        }
        let queued: Vec<(u64, Vec<u8>)> = actions
            .iter()
            .map(|emitted| -> Result<_, StoreError> {
                let entry = QueuedAction {
                    subject: subject.id.clone(),
                    name: subject.name.clone(),
                    emitted: emitted.clone(),
                    queued_ms: now_ms,
                };
                Ok((self.db.generate_id()?, json(&entry)))
            })
            .collect::<Result<_, _>>()?;
        let deliveries: Vec<(&str, Vec<u8>)> = outgoing
            .deliveries
            .iter()
            .map(|d| (d.key.as_str(), json(d)))
            .collect();
        let acks: Vec<(&str, Vec<u8>)> = outgoing
            .acks
            .iter()
            .map(|(hash, entry)| (hash.as_str(), json(entry)))
            .chain(
                outgoing
                    .downloads
                    .iter()
                    .map(|(hash, entry)| (hash.as_str(), json(entry))),
            )
            .collect();
        let download_count = outgoing.downloads.len();
        (
            &self.subjects,
            &self.queue,
            &self.phones,
            &self.outbox,
            &self.acks,
            &self.downloads,
        )
            .transaction(|(subjects, queue, phones, outbox, ack_tree, downloads)| {
                subjects.insert(subject.id.as_bytes(), record.as_slice())?;
                for phone in &subject.phones {
                    phones.insert(phone.id.as_bytes(), subject.id.as_bytes())?;
                }
                for (seq, entry) in &queued {
                    queue.insert(&seq.to_be_bytes(), entry.as_slice())?;
                }
                for (key, delivery) in &deliveries {
                    outbox.insert(key.as_bytes(), delivery.as_slice())?;
                }
                let (ack_rows, download_rows) = acks.split_at(acks.len() - download_count);
                for (hash, entry) in ack_rows {
                    ack_tree.insert(hash.as_bytes(), entry.as_slice())?;
                }
                for (hash, entry) in download_rows {
                    downloads.insert(hash.as_bytes(), entry.as_slice())?;
                }
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| {
                StoreError::Db(format!("{e:?}"))
            })?;
        Ok(())
    }

    /// Refuses to write when the disk is nearly full: sled does not survive running out.
    fn room(&self) -> Result<(), StoreError> {
        Ok(crate::disk::ensure_room(&self.path, crate::disk::TO_WRITE)?)
    }

    /// Waits until everything committed so far is on disk. Called outside the watcher's lock,
    /// so that requests arriving together share one fsync (group commit).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// A group-commit handle for flushing without holding the store.
    pub fn flusher(&self) -> Flusher {
        Flusher::new(self.db.clone())
    }

    /// The subject a phone belongs to.
    pub fn phone_owner(&self, device_id: &str) -> Result<Option<Subject>, StoreError> {
        match self.phones.get(device_id.as_bytes())? {
            Some(subject) => self.subject(&String::from_utf8_lossy(&subject)),
            None => Ok(None),
        }
    }

    /// Every delivery not yet accepted.
    pub fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        self.outbox_view().pending(usize::MAX)
    }

    /// Deliveries accepted or given up, newest first, at most `limit`.
    pub fn delivered(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.outbox_view().delivered(limit)
    }

    /// A handle for reading the outbox without holding the watcher's lock (sled trees are
    /// safe to read from any thread).
    pub fn outbox_view(&self) -> OutboxView {
        OutboxView {
            outbox: self.outbox.clone(),
            delivered: self.delivered.clone(),
        }
    }

    pub fn delivered_count(&self) -> usize {
        self.delivered.len()
    }

    /// Stores a pending delivery's new state; moves it out of the outbox once it is settled.
    pub fn update_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.update_deliveries(std::slice::from_ref(delivery))
    }

    /// [`Store::update_delivery`] for many, in one transaction. A delivery no longer in the
    /// outbox (an operator gave up on it meanwhile) is left as it is.
    pub fn update_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        use sled::Transactional;
        self.room()?;
        // (outbox key, record, still pending, key in `delivered`)
        type Row<'a> = (&'a [u8], Vec<u8>, bool, Vec<u8>);
        let records: Vec<Row> = deliveries
            .iter()
            .map(|d| {
                let settled_ms = match d.state {
                    DeliveryState::Delivered { at_ms } | DeliveryState::GivenUp { at_ms } => at_ms,
                    DeliveryState::Pending => 0,
                };
                (
                    d.key.as_bytes(),
                    json(d),
                    d.is_pending(),
                    settled_key(d.key.as_bytes(), settled_ms),
                )
            })
            .collect();
        (&self.outbox, &self.delivered)
            .transaction(|(outbox, delivered)| {
                for (key, record, pending, settled) in &records {
                    if *pending {
                        if outbox.get(key)?.is_some() {
                            outbox.insert(*key, record.as_slice())?;
                        }
                    } else if outbox.remove(*key)?.is_some() {
                        delivered.insert(settled.as_slice(), record.as_slice())?;
                    }
                }
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| {
                StoreError::Db(format!("{e:?}"))
            })?;
        Ok(())
    }

    /// The pending delivery with this key.
    pub fn pending_delivery(&self, key: &str) -> Result<Option<Delivery>, StoreError> {
        self.outbox
            .get(key.as_bytes())?
            .map(|v| parse(&v, "outbox"))
            .transpose()
    }

    pub fn download(&self, hash: &str) -> Result<Option<DownloadEntry>, StoreError> {
        self.downloads
            .get(hash.as_bytes())?
            .map(|v| parse(&v, "download"))
            .transpose()
    }

    pub fn set_download(&self, hash: &str, entry: &DownloadEntry) -> Result<(), StoreError> {
        self.room()?;
        self.downloads.insert(hash.as_bytes(), json(entry))?;
        Ok(())
    }

    pub fn ack(&self, hash: &str) -> Result<Option<AckEntry>, StoreError> {
        self.acks
            .get(hash.as_bytes())?
            .map(|v| parse(&v, "ack"))
            .transpose()
    }

    /// Marks an acknowledgement and queues the notices to the others, atomically.
    pub fn commit_ack(
        &self,
        hash: &str,
        entry: &AckEntry,
        outgoing: &Outgoing,
    ) -> Result<(), StoreError> {
        use sled::Transactional;
        self.room()?;
        let record = json(entry);
        let deliveries: Vec<(&str, Vec<u8>)> = outgoing
            .deliveries
            .iter()
            .map(|d| (d.key.as_str(), json(d)))
            .collect();
        (&self.acks, &self.outbox)
            .transaction(|(acks, outbox)| {
                acks.insert(hash.as_bytes(), record.as_slice())?;
                for (key, delivery) in &deliveries {
                    outbox.insert(key.as_bytes(), delivery.as_slice())?;
                }
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| {
                StoreError::Db(format!("{e:?}"))
            })?;
        Ok(())
    }

    /// Every queued action, oldest first.
    pub fn queued(&self) -> Result<Vec<QueuedAction>, StoreError> {
        self.queue
            .iter()
            .values()
            .map(|v| parse(&v?, "queue"))
            .collect()
    }
}

/// The outbox, read-only, apart from the watcher's lock.
pub struct OutboxView {
    outbox: sled::Tree,
    delivered: sled::Tree,
}

impl OutboxView {
    /// Pending deliveries, at most `limit`.
    pub fn pending(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.outbox
            .iter()
            .values()
            .take(limit)
            .map(|v| parse(&v?, "outbox"))
            .collect()
    }

    /// Settled deliveries, newest first, at most `limit`.
    pub fn delivered(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.delivered
            .iter()
            .values()
            .rev()
            .take(limit)
            .map(|v| parse(&v?, "delivered"))
            .collect()
    }
}

fn settled_key(key: &[u8], at_ms: i64) -> Vec<u8> {
    let mut out = (at_ms.max(0) as u64).to_be_bytes().to_vec();
    out.extend_from_slice(key);
    out
}

/// Group commit: makes everything committed before a call durable, with at most one fsync in
/// flight; callers that arrive while one runs share the next. Usable from any thread.
#[derive(Clone)]
pub struct Flusher(std::sync::Arc<GroupCommit>);

pub struct GroupCommit {
    db: sled::Db,
    state: std::sync::Mutex<Tickets>,
    done: std::sync::Condvar,
}

#[derive(Default)]
struct Tickets {
    /// The next ticket to hand out; a ticket marks "everything committed before this call".
    next: u64,
    /// Every ticket below this is on disk.
    durable: u64,
    flushing: bool,
}

impl Flusher {
    fn new(db: sled::Db) -> Self {
        Flusher(std::sync::Arc::new(GroupCommit {
            db,
            state: std::sync::Mutex::new(Tickets::default()),
            done: std::sync::Condvar::new(),
        }))
    }

    /// Returns once everything committed before this call is on disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        let gc = &self.0;
        let lock = || gc.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut tickets = lock();
        let mine = tickets.next;
        tickets.next += 1;
        loop {
            if tickets.durable > mine {
                return Ok(());
            }
            if tickets.flushing {
                tickets = gc.done.wait(tickets).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // Lead a flush covering every ticket handed out so far.
            tickets.flushing = true;
            let target = tickets.next;
            drop(tickets);
            let result = gc.db.flush();
            tickets = lock();
            tickets.flushing = false;
            if result.is_ok() {
                tickets.durable = tickets.durable.max(target);
            }
            gc.done.notify_all();
            result?;
        }
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

/// Loads the watcher's signing key from `DATA/watcher.key`, creating it on first use.
pub fn watcher_key(data: &Path) -> Result<Ed25519KeyPair, StoreError> {
    let path = data.join("watcher.key");
    if !path.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data)
            .map_err(|e| io(data, e))?;
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| StoreError::Damaged("cannot generate a key".into()))?;
        let temp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| io(&temp, e))?;
        file.write_all(pkcs8.as_ref())
            .and_then(|_| file.sync_all())
            .map_err(|e| io(&temp, e))?;
        // A hard link only succeeds if no key exists yet: two processes starting at once
        // (the daemon and `watch invite`) end up with the same key.
        let linked = fs::hard_link(&temp, &path);
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&path, e)),
        }
        File::open(data)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(data, e))?;
    }
    let bytes = zeroize::Zeroizing::new(fs::read(&path).map_err(|e| io(&path, e))?);
    Ed25519KeyPair::from_pkcs8(&bytes)
        .map_err(|_| StoreError::Damaged(format!("{} is not an Ed25519 key", path.display())))
}
