//! The vault: an encrypted local store for sources, drafts and case notes, with attachments.
//!
//! A vault is a directory (layout in `docs/format.md`):
//!
//! ```text
//! keyslots   the vault key wrapped by 8 equal-looking slots (see `keyslots`)
//! vault.db   SQLite database: sealed records and sealed metadata under random or keyed names
//! keys       one key cell per sealed value, overwritten in place on deletion (see `keyring`)
//! blobs/     encrypted attachment files (see `blob`)
//! inbox/     write-only captures, age-encrypted to the vault's capture recipient
//! lock       held while a process has the vault open
//! ```
//!
//! This file creates and opens vaults and holds the integrity check and the inbox import;
//! `contents` reads and changes records and attachments, `views` makes and links the views
//! (below), `slots` changes key slots, `meta` seals small per-view values, `notice` is what
//! an unlock tells the journalist.
//!
//! A vault holds several *views*, each with its own key and storage space (named by keyed
//! hashes, so they cannot be told apart on disk): the one the passphrase or recovery key
//! opens, its decoy (opened by the duress passphrase), and the decoy's decoy. Every view is
//! made and run by the same code; none knows whether a view above it exists, so the decoy
//! answers every command as a real vault does (the watcher alone tells the keys apart).

pub mod backup;
pub mod blob;
pub mod capture;
mod contents;
pub mod error;
pub mod identity;
pub mod keyring;
pub mod keyslots;
mod meta;
mod migrate;
pub mod notice;
pub mod record;
mod slots;
pub mod store;
mod views;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::fsprotect;
use crate::secret::{Key32, Passphrase};

pub use error::{Refusal, Result, VaultError};
use keyslots::{KdfParams, KeySlots, SlotKind};
use meta::{get_meta, get_meta_json, put_meta, put_meta_json};
pub use notice::Notice;
pub use record::{Attachment, Kind, Record, RecordId};
use slots::SlotTable;
use store::Store;
use views::{decoy_pools, give_uniform_shape, init_decoys};

const KEYSLOTS_FILE: &str = "keyslots";
const LOCK_FILE: &str = "lock";
/// Where posbon 0.1 kept its sled database; migrated and removed at the first unlock.
const LEGACY_DB_DIR: &str = migrate::LEGACY_DB_DIR;
const BLOBS_DIR: &str = "blobs";
/// A view's sealed list of the keys of decoys it replaced and has not finished destroying.
const RETIRING: &str = "retiring";
pub(crate) const INBOX_DIR: &str = "inbox";
/// The names a vault directory may contain; `init` refuses a directory holding anything else.
const OWN_NAMES: &[&str] = &[
    KEYSLOTS_FILE,
    LOCK_FILE,
    store::DB_FILE,
    store::DB_SIDE_FILES[0],
    store::DB_SIDE_FILES[1],
    store::DB_SIDE_FILES[2],
    store::KEYS_FILE,
    LEGACY_DB_DIR,
    BLOBS_DIR,
    INBOX_DIR,
];
/// Left behind when a creation was interrupted just before the key slots were in place.
const UNFINISHED_KEYSLOTS: &str = "keyslots.new";

/// How to unlock.
pub enum Unlock<'a> {
    Passphrase(&'a Passphrase),
    /// An `AGE-SECRET-KEY-1...` recovery key.
    RecoveryKey(&'a Passphrase),
}

/// Something that happened to the vault that the journalist should hear about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Event {
    /// The id of the sealed inbox entry that carried it, so a re-import is not counted twice.
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    pub what: EventKind,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The vault was opened with the duress passphrase.
    DuressUnlock,
}

/// Where one key's data lives: tree names and blob directory derived from the key.
struct Space {
    records: String,
    meta: String,
    blobs: PathBuf,
}

impl Space {
    fn for_key(dir: &Path, key: &Key32) -> Self {
        Space {
            records: format!("r{}", crypto::keyed_name(key, "records")),
            meta: format!("m{}", crypto::keyed_name(key, "meta")),
            blobs: dir.join(BLOBS_DIR).join(crypto::keyed_name(key, "blobs")),
        }
    }
}

/// The result of `Vault::check`.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub records_ok: usize,
    pub attachments_ok: usize,
    /// Each damaged record or attachment, as a sentence naming it.
    pub damaged: Vec<String>,
    /// Encrypted files no record refers to (left by an interrupted attach), removed.
    pub orphans_removed: usize,
}

/// Records that opened, and the damage met on the way (the rest stay readable).
pub struct Listing {
    pub records: Vec<(RecordId, Record)>,
    pub damaged: Vec<VaultError>,
}

/// An unlocked vault.
pub struct Vault {
    dir: PathBuf,
    store: Store,
    key: Key32,
    space: Space,
    slots_path: PathBuf,
    /// The slot that opened this session.
    unlocked_slot: usize,
    notices: Vec<Notice>,
    // Held for the vault's lifetime: the OS lock that keeps a second process out.
    _lock: File,
}

/// Now, in Unix milliseconds: the unit of every time the vault stores (fine enough to keep
/// records in the order they were made).
pub fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub(crate) fn sync_dir(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|e| VaultError::io(path, e))
}

/// Creates `path` (and parents) as private directories.
pub(crate) fn create_private_dir(path: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| VaultError::io(path, e))
}

fn take_lock(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| VaultError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(VaultError::InUse(dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(VaultError::io(&path, e)),
    }
}

/// Refuses a vault whose own files were replaced by symbolic links: following one could write
/// plaintext exports or keys somewhere the journalist never chose.
fn refuse_planted_links(dir: &Path) -> Result<()> {
    for name in OWN_NAMES {
        let path = dir.join(name);
        if let Ok(meta) = fs::symlink_metadata(&path)
            && meta.file_type().is_symlink()
        {
            return Err(VaultError::Damaged(format!(
                "{} is a symbolic link; a vault's files must be its own (was it tampered with?)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Panic on a key-slot file that does not parse: overwrite all of it, in place, with random
/// bytes. Whatever it held is gone.
fn overwrite_with_noise(path: &Path) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| VaultError::io(path, e))?;
    file.lock().map_err(|e| VaultError::io(path, e))?;
    let len = file.metadata().map_err(|e| VaultError::io(path, e))?.len() as usize;
    let mut noise = vec![0u8; len.max(keyslots::FILE_LEN)];
    crypto::fill_random(&mut noise);
    file.write_all(&noise)
        .and_then(|_| file.sync_all())
        .map_err(|e| VaultError::io(path, e))
}

/// Removes the database files of an interrupted creation or migration.
fn remove_store_files(dir: &Path) -> Result<()> {
    for name in [store::DB_FILE, store::KEYS_FILE]
        .iter()
        .chain(store::DB_SIDE_FILES)
    {
        let path = dir.join(name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(VaultError::io(&path, e)),
        }
    }
    Ok(())
}

/// True when `dir` holds a vault.
pub fn exists(dir: &Path) -> bool {
    dir.join(KEYSLOTS_FILE).exists()
}

/// Destroys every key slot at once (crypto-erase): the vault can no longer be opened by
/// anyone, with any passphrase or recovery key. Needs no passphrase and ignores the lock,
/// because it must work in seconds while someone else holds the laptop.
pub fn panic_erase(dir: &Path) -> Result<()> {
    let path = dir.join(KEYSLOTS_FILE);
    if !path.exists() {
        return Err(VaultError::NotFound(dir.to_path_buf()));
    }
    refuse_planted_links(dir)?;
    // The lock waits for a concurrent slot change (held for milliseconds), so that change
    // cannot write the old slots back over the erased ones.
    let mut locked = match keyslots::LockedSlots::open(&path) {
        Ok(locked) => locked,
        Err(VaultError::Damaged(_) | VaultError::NewerFormat { .. }) => {
            return overwrite_with_noise(&path);
        }
        Err(e) => return Err(e),
    };
    locked.slots.erase_all();
    locked.write()?;
    let written = KeySlots::read(&path)?;
    if written.salt() != locked.slots.salt() {
        return Err(VaultError::Damaged(
            "the key slots could not be confirmed erased; run panic again".into(),
        ));
    }
    Ok(())
}

impl Vault {
    /// Creates a new vault in `dir` (made if missing; it must be empty or hold only a vault
    /// creation that was interrupted before it finished).
    pub fn create(dir: &Path, passphrase: &Passphrase, kdf: KdfParams) -> Result<()> {
        if passphrase.is_empty() {
            return Err(Refusal::EmptyPassphrase.into());
        }
        if exists(dir) {
            return Err(VaultError::AlreadyExists(dir.to_path_buf()));
        }
        create_private_dir(dir)?;
        refuse_planted_links(dir)?;
        let entries = fs::read_dir(dir).map_err(|e| VaultError::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| VaultError::io(dir, e))?;
            let name = entry.file_name();
            if !OWN_NAMES.iter().any(|own| name == *own) && name != UNFINISHED_KEYSLOTS {
                return Err(Refusal::DirNotEmpty(dir.to_path_buf()).into());
            }
        }
        fsprotect::prepare_private_dir(dir);
        let _lock = take_lock(dir)?;
        // Leftovers of an interrupted creation hold nothing readable (no key slots were
        // written): start clean.
        remove_store_files(dir)?;
        for leftover in [LEGACY_DB_DIR, BLOBS_DIR, INBOX_DIR] {
            let path = dir.join(leftover);
            if path.exists() {
                fs::remove_dir_all(&path).map_err(|e| VaultError::io(&path, e))?;
            }
        }
        let (identity_text, identity) = identity::generate();
        let mut slots = KeySlots::new(kdf, &identity.to_public().to_string())?;
        let vault_key = crypto::random_key();
        let kek = slots.passphrase_kek(passphrase)?;
        let order = slots::shuffled_slots();
        let (own_pool, rest) = order.split_at(slots::POOL_SIZES[0]);
        let slot = own_pool[0];
        slots.set_slot(slot, &kek, SlotKind::Passphrase, &vault_key);

        let store = Store::create(dir)?;
        let space = Space::for_key(dir, &vault_key);
        put_meta(
            &store,
            &space,
            &vault_key,
            "identity",
            identity_text.expose().as_bytes(),
        )?;
        let table = SlotTable {
            used: vec![(slot, SlotKind::Passphrase)],
            pool: Some(own_pool.to_vec()),
            pending: None,
        };
        slots::save_table_of(&store, &space, &vault_key, &table)?;
        give_uniform_shape(&store, &space, &vault_key)?;
        create_private_dir(&space.blobs)?;
        // Every vault has its decoys from the start, so that setting a duress passphrase
        // later changes nothing a raw copy of the vault can show, and the decoy has a decoy
        // of its own, as the real view does.
        init_decoys(&store, dir, &space, &vault_key, &decoy_pools(rest))?;
        create_private_dir(&dir.join(INBOX_DIR))?;
        drop(store);

        // The key-slot file is written last: its presence is what makes the vault exist.
        let temp = dir.join(UNFINISHED_KEYSLOTS);
        let _ = fs::remove_file(&temp);
        slots.write_new(&temp)?;
        fs::rename(&temp, dir.join(KEYSLOTS_FILE)).map_err(|e| VaultError::io(dir, e))?;
        fsprotect::flatten_tree(dir).map_err(|e| VaultError::io(dir, e))?;
        sync_dir(dir)
    }

    /// Opens the vault in `dir`.
    pub fn open(dir: &Path, unlock: Unlock<'_>) -> Result<Vault> {
        let slots_path = dir.join(KEYSLOTS_FILE);
        if !slots_path.exists() {
            return Err(VaultError::NotFound(dir.to_path_buf()));
        }
        refuse_planted_links(dir)?;
        let lock = take_lock(dir)?;
        let slots = KeySlots::read(&slots_path)?;
        let kek = match unlock {
            Unlock::Passphrase(passphrase) => slots.passphrase_kek(passphrase)?,
            Unlock::RecoveryKey(recovery) => slots.recovery_kek(recovery.expose()),
        };
        let Some((unlocked_slot, kind, key)) = slots.open_with(&kek) else {
            return Err(if slots.checksum_ok() {
                VaultError::WrongPassphrase
            } else {
                KeySlots::checksum_damage(&slots_path)
            });
        };
        if kind == SlotKind::Duress {
            // Written by posbon 0.1 and 0.2, whose slots said which one was the decoy's:
            // rewritten as the plain passphrase slot every view now has.
            let mut locked = keyslots::LockedSlots::open(&slots_path)?;
            if locked.slots.salt() == slots.salt() {
                locked
                    .slots
                    .set_slot(unlocked_slot, &kek, SlotKind::Passphrase, &key);
                locked.write()?;
            }
        }
        let store = migrate::open_store(dir, &key)?;
        let space = Space::for_key(dir, &key);
        if fs::symlink_metadata(&space.blobs).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(VaultError::Damaged(format!(
                "{} is a symbolic link; a vault's files must be its own (was it tampered with?)",
                space.blobs.display()
            )));
        }
        let mut vault = Vault {
            dir: dir.to_path_buf(),
            store,
            key,
            space,
            slots_path,
            unlocked_slot,
            notices: Vec::new(),
            _lock: lock,
        };
        if !slots.checksum_ok() {
            vault.notices.push(Notice::SlotChecksum);
        }
        vault.notices.extend(keyslots::after_unlock(dir));
        // Neither may keep the journalist out: damage here is told, and `vault check` names it.
        if let Err(e) = vault.give_pools().and_then(|()| vault.finish_retiring()) {
            vault.notices.push(Notice::SlotTablesFailed(e.to_string()));
        }
        // Every view imports what it can read; a capture sealed for another view is left
        // for it without a word, so the inbox behaves the same under every passphrase.
        vault.import_inbox()?;
        Ok(vault)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Things the journalist should be told after opening (imported captures, duress use).
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Finishes what a crash cut short in this view: attachment files whose shredding
    /// stopped half-way, decoys whose destruction was not finished. Rows and directories of
    /// other views are never touched: this view cannot know whose they are.
    fn finish_interrupted(&self) -> Result<usize> {
        self.finish_retiring()?;
        let mut finished = 0;
        if fs::symlink_metadata(&self.space.blobs).is_ok_and(|m| m.is_dir()) {
            finished += fsprotect::finish_shredding(&self.space.blobs).unwrap_or(0);
            let _ = fsprotect::flatten_times(&self.space.blobs);
        }
        // Listing the directory set its access time.
        let _ = fsprotect::flatten_times(&self.dir.join(BLOBS_DIR));
        Ok(finished)
    }

    // ----- integrity -----

    /// Decrypts and authenticates every record and attachment; names each damaged one and
    /// removes encrypted files that no record refers to.
    pub fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport {
            orphans_removed: self.finish_interrupted()?,
            ..CheckReport::default()
        };
        let Listing { records, damaged } = self.records()?;
        report
            .damaged
            .extend(damaged.iter().map(ToString::to_string));
        let mut referenced = std::collections::HashSet::new();
        for (id, record) in &records {
            report.records_ok += 1;
            for attachment in &record.attachments {
                referenced.insert(attachment.blob.clone());
                match self.read_attachment(id, attachment, &mut std::io::sink()) {
                    Ok(()) => report.attachments_ok += 1,
                    Err(e) => report.damaged.push(e.to_string()),
                }
            }
        }
        // A damaged record may still own blobs: only collect orphans when everything opened.
        // Only regular files named like blobs are touched, never through a symbolic link.
        let blobs_dir_is_real = fs::symlink_metadata(&self.space.blobs).is_ok_and(|m| m.is_dir());
        if report.damaged.is_empty()
            && blobs_dir_is_real
            && let Ok(entries) = fs::read_dir(&self.space.blobs)
        {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let stem = name.strip_suffix(".tmp").unwrap_or(&name);
                let blob_named = stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit());
                let regular = entry.file_type().is_ok_and(|t| t.is_file());
                let orphan = name.ends_with(".tmp") || !referenced.contains(&name);
                if blob_named && regular && orphan && fsprotect::shred(&entry.path()).is_ok() {
                    report.orphans_removed += 1;
                }
            }
            let _ = fsprotect::flatten_times(&self.space.blobs);
        }
        Ok(report)
    }

    // ----- write-only captures and events -----

    /// Events recorded for the journalist (such as a duress unlock), oldest first.
    pub fn events(&self) -> Result<Vec<Event>> {
        Ok(get_meta_json(&self.store, &self.space, &self.key, "events")?.unwrap_or_default())
    }

    /// Imports what was captured without unlocking: notes and files become records, events
    /// are added to the event log. Each capture is stored durably before its inbox file is
    /// removed; a capture imported twice after a crash lands on the same record id.
    ///
    /// A failure here never keeps the vault closed: captured items stay in the inbox and the
    /// journalist is told why.
    fn import_inbox(&mut self) -> Result<()> {
        if let Err(e) = self.try_import_inbox() {
            self.notices.push(Notice::InboxFailed(e.to_string()));
        }
        Ok(())
    }

    fn try_import_inbox(&mut self) -> Result<()> {
        let identity_text = get_meta(&self.store, &self.space, &self.key, "identity")?
            .ok_or_else(|| VaultError::Damaged("the capture identity is missing".into()))?;
        let identity_text = std::str::from_utf8(identity_text.expose())
            .map_err(|_| VaultError::Damaged("the capture identity is not text".into()))?;
        let identity = identity::parse(identity_text)
            .ok_or_else(|| VaultError::Damaged("the capture identity does not parse".into()))?;
        let report = capture::import_all(self, &identity)?;
        if report.imported > 0 {
            self.notices.push(Notice::CapturesImported(report.imported));
        }
        for failure in report.failed {
            self.notices.push(failure);
        }
        Ok(())
    }

    /// The record id a capture becomes: keyed, so that whoever writes into the inbox cannot
    /// aim a capture at an existing record, yet stable, so a re-import lands on the same id.
    pub(crate) fn capture_record_id(&self, capture_id: &RecordId) -> RecordId {
        let mut id = [0u8; 16];
        crypto::hkdf_into(
            self.key.expose(),
            b"posbon/v1/capture",
            &capture_id.0,
            &mut id,
        );
        RecordId(id)
    }

    pub(crate) fn add_event(&mut self, event: Event) -> Result<()> {
        let mut events: Vec<Event> =
            get_meta_json(&self.store, &self.space, &self.key, "events")?.unwrap_or_default();
        if !events.iter().any(|known| known.id == event.id) {
            if event.what == EventKind::DuressUnlock {
                self.notices.push(Notice::DuressUsed { at_ms: event.at });
            }
            events.push(event);
            put_meta_json(&self.store, &self.space, &self.key, "events", &events)?;
        }
        Ok(())
    }
}
