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
//! This file opens and creates vaults and holds the record, attachment, integrity and inbox
//! operations; `slots` changes key slots, `meta` seals small per-view values.
//!
//! A vault holds several *views*, each with its own key and storage space (named by keyed
//! hashes, so they cannot be told apart on disk): the one the passphrase or recovery key
//! opens, its decoy (opened by the duress passphrase), and the decoy's decoy. Every view is
//! made and run by the same code; none knows whether a view above it exists, so the decoy
//! answers every command as a real vault does (the watcher alone tells the keys apart).

pub mod backup;
pub mod blob;
pub mod capture;
pub mod error;
pub mod identity;
pub mod keyring;
pub mod keyslots;
mod meta;
mod migrate;
pub mod record;
mod slots;
pub mod store;

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::fsprotect;
use crate::secret::{Key32, Passphrase};

pub use error::{Result, VaultError};
use keyslots::{KdfParams, KeySlots, SlotKind};
use meta::{get_meta, get_meta_json, put_meta, put_meta_json};
pub use record::{Attachment, Kind, Record, RecordId};
use slots::SlotTable;
use store::Store;

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
    notices: Vec<String>,
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

/// Opens a stored record with the key its cell gave; a missing key is tampering (or a
/// destroyed key), named by the record.
fn open_record(id: &RecordId, entry: &store::Entry) -> Result<Record> {
    match &entry.key {
        Some(key) => Record::open(key, id, &entry.value),
        None => Err(VaultError::TamperedRecord { id: id.to_string() }),
    }
}

/// Makes a new view: its key, capture identity, slot table (with `pool`, the key slots it
/// may use) and the entries every view has; returns its key. The caller links it in.
fn make_view(store: &Store, dir: &Path, pool: Option<Vec<usize>>) -> Result<Key32> {
    let key = crypto::random_key();
    let space = Space::for_key(dir, &key);
    let (identity, _) = identity::generate();
    put_meta(
        store,
        &space,
        &key,
        "identity",
        identity.expose().as_bytes(),
    )?;
    slots::save_table_of(
        store,
        &space,
        &key,
        &SlotTable {
            used: Vec::new(),
            pool,
            pending: None,
        },
    )?;
    give_uniform_shape(store, &space, &key)?;
    create_private_dir(&space.blobs)?;
    Ok(key)
}

/// Gives the view `(parent_space, parent_key)` a chain of decoys, one per pool in `pools`
/// (the decoy, the decoy's decoy, ...), and links each to its parent through its sealed
/// `decoy-key`. The last view's `decoy-key` leads nowhere: the slots have run out. Made from
/// the deepest up, so every `decoy-key` written names a view that exists.
fn init_decoys(
    store: &Store,
    dir: &Path,
    parent_space: &Space,
    parent_key: &Key32,
    pools: &[Vec<usize>],
) -> Result<()> {
    let mut below = crypto::random_key();
    for pool in pools.iter().rev() {
        let key = make_view(store, dir, Some(pool.clone()))?;
        put_meta(
            store,
            &Space::for_key(dir, &key),
            &key,
            "decoy-key",
            below.expose(),
        )?;
        below = key;
    }
    put_meta(store, parent_space, parent_key, "decoy-key", below.expose())
}

/// The pools of the views below the real one, from what is left after its own.
fn decoy_pools(rest: &[usize]) -> Vec<Vec<usize>> {
    let mut pools = Vec::new();
    let mut at = 0;
    for size in &slots::POOL_SIZES[1..] {
        let end = (at + size).min(rest.len());
        pools.push(rest[at..end].to_vec());
        at = end;
    }
    pools
}

/// The name of a view's chaff record: keyed, so it looks like any record id.
fn chaff_name(key: &Key32) -> [u8; 16] {
    meta::meta_name(key, "records-chaff")
}

/// Gives a view the entries every view has from the start, whatever is later used: an
/// event log and a chaff row in its records tree. Without them, the first duress use (which
/// writes the real view's event log) or the decoy's first record would show in a raw copy
/// as a new row or a new tree. Does nothing where they exist.
fn give_uniform_shape(store: &Store, space: &Space, key: &Key32) -> Result<()> {
    if get_meta(store, space, key, "events")?.is_none() {
        put_meta_json(store, space, key, "events", &Vec::<Event>::new())?;
    }
    if get_meta(store, space, key, RETIRING)?.is_none() {
        put_meta(store, space, key, RETIRING, &[])?;
    }
    // A decoy made by posbon 0.1 had no capture identity; every view now has one, and
    // imports what is sealed to it like any other.
    if get_meta(store, space, key, "identity")?.is_none() {
        let (identity, _) = identity::generate();
        put_meta(store, space, key, "identity", identity.expose().as_bytes())?;
    }
    let chaff = chaff_name(key);
    if store.get(key, &space.records, &chaff)?.is_none() {
        store.put(key, &space.records, &chaff, |entry_key| {
            let padded = crypto::pad(&[], record::MIN_SEALED_PLAINTEXT);
            Ok(crypto::seal(entry_key, b"posbon/v2/chaff", padded.expose()))
        })?;
    }
    Ok(())
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
            return Err(VaultError::Invalid("the passphrase is empty".into()));
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
                return Err(VaultError::Invalid(format!(
                    "{} is not empty; choose a new directory for the vault",
                    dir.display()
                )));
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
            vault.notices.push(
                "the key-slot file failed its checksum but your slot opened; run `posbon passwd` to rewrite it"
                    .into(),
            );
        }
        vault.notices.extend(keyslots::after_unlock(dir));
        // Neither may keep the journalist out: damage here is told, and `vault check` names it.
        if let Err(e) = vault.give_pools().and_then(|()| vault.finish_retiring()) {
            vault.notices.push(format!(
                "the vault's key-slot tables could not be updated: {e}"
            ));
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
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    // ----- records -----

    /// Stores a new record and returns its id once it is on disk.
    pub fn add(&self, record: &Record) -> Result<RecordId> {
        let id = RecordId::random();
        self.put(&id, record)?;
        Ok(id)
    }

    /// Stores `record` under `id` (new or replacing), durably.
    pub fn put(&self, id: &RecordId, record: &Record) -> Result<()> {
        self.store
            .put(&self.key, &self.space.records, &id.0, |entry_key| {
                record.seal(entry_key, id)
            })
    }

    pub fn get(&self, id: &RecordId) -> Result<Record> {
        let entry = self
            .store
            .get(&self.key, &self.space.records, &id.0)?
            .ok_or_else(|| VaultError::NoSuchRecord(id.to_string()))?;
        open_record(id, &entry)
    }

    /// Finds the one record whose id starts with `prefix` (at least 4 hex digits).
    pub fn resolve(&self, prefix: &str) -> Result<RecordId> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.len() < 4 || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(VaultError::Invalid(format!(
                "{prefix:?} is not a record id (ids are hex, give at least 4 digits)"
            )));
        }
        let mut found = None;
        let chaff = chaff_name(&self.key);
        for key in self.store.names(&self.space.records)? {
            if key == chaff {
                continue;
            }
            if hex::encode(&key).starts_with(&prefix) {
                if found.is_some() {
                    return Err(VaultError::AmbiguousId(prefix));
                }
                found = Some(key);
            }
        }
        let key = found.ok_or(VaultError::NoSuchRecord(prefix))?;
        Ok(RecordId(key.try_into().map_err(|_| {
            VaultError::Damaged("a record key has the wrong length".into())
        })?))
    }

    /// Every record that opens, oldest first, plus an error for each that does not.
    pub fn records(&self) -> Result<Listing> {
        let mut good = Vec::new();
        let mut damaged = Vec::new();
        let chaff = chaff_name(&self.key);
        self.store
            .for_each_entry(&self.key, &self.space.records, |name, key, value| {
                if name == chaff {
                    return;
                }
                let Ok(raw) = <[u8; 16]>::try_from(name) else {
                    damaged.push(VaultError::Damaged(format!(
                        "an entry with a malformed id ({} bytes)",
                        name.len()
                    )));
                    return;
                };
                let id = RecordId(raw);
                let opened = match key {
                    Some(key) => Record::open(key, &id, value),
                    None => Err(VaultError::TamperedRecord { id: id.to_string() }),
                };
                match opened {
                    Ok(record) => good.push((id, record)),
                    Err(e) => damaged.push(e),
                }
            })?;
        good.sort_by_key(|(id, r)| (r.created, *id));
        Ok(Listing {
            records: good,
            damaged,
        })
    }

    /// Records matching every word of `words`, plus the damaged ones that could not be searched.
    pub fn search(&self, words: &[String]) -> Result<Listing> {
        let words = record::search_words(words);
        let mut listing = self.records()?;
        listing.records.retain(|(_, r)| r.matches(&words));
        Ok(listing)
    }

    /// Deletes a record and its attachments.
    pub fn remove(&self, id: &RecordId) -> Result<()> {
        let record = self.get(id);
        self.store.remove(&self.space.records, &id.0)?;
        if let Ok(record) = record {
            for attachment in &record.attachments {
                let _ = blob::remove_blob(&self.space.blobs, &attachment.blob);
            }
        }
        Ok(())
    }

    // ----- attachments -----

    /// Streams `input` into an encrypted attachment named `name` on record `id`.
    pub fn attach(&self, id: &RecordId, name: &str, input: &mut dyn Read) -> Result<u64> {
        validate_attachment_name(name)?;
        let mut record = self.get(id)?;
        if record.attachment(name).is_some() {
            return Err(VaultError::DuplicateAttachment {
                id: id.to_string(),
                name: name.to_string(),
            });
        }
        let written = blob::write_blob(&self.space.blobs, input)
            .map_err(|e| VaultError::io(&self.space.blobs, e))?;
        record.attachments.push(Attachment {
            name: name.to_string(),
            size: written.size,
            blob: written.blob_id.clone(),
            key: hex::encode(written.key.expose()),
            added: now(),
        });
        record.updated = now();
        if let Err(e) = self.put(id, &record) {
            let _ = blob::remove_blob(&self.space.blobs, &written.blob_id);
            return Err(e);
        }
        Ok(written.size)
    }

    /// Decrypts attachment `name` of record `id` into `output`.
    pub fn extract(&self, id: &RecordId, name: &str, output: &mut dyn Write) -> Result<()> {
        let record = self.get(id)?;
        let attachment = record
            .attachment(name)
            .ok_or_else(|| VaultError::NoSuchAttachment {
                id: id.to_string(),
                name: name.to_string(),
            })?;
        self.read_attachment(id, attachment, output)
    }

    fn read_attachment(
        &self,
        id: &RecordId,
        attachment: &Attachment,
        output: &mut dyn Write,
    ) -> Result<()> {
        let key = attachment.key()?;
        blob::read_blob(
            &self.space.blobs,
            &attachment.blob,
            &key,
            attachment.size,
            output,
        )
        .map_err(|e| match e {
            blob::BlobError::Io(io) => VaultError::io(&self.space.blobs, io),
            other => VaultError::TamperedAttachment {
                id: id.to_string(),
                name: attachment.name.clone(),
                why: match other {
                    blob::BlobError::Missing => "its encrypted file is missing",
                    blob::BlobError::Truncated => "its encrypted file is truncated",
                    blob::BlobError::BadHeader => "its encrypted file has a wrong header",
                    _ => "a chunk does not authenticate",
                },
            },
        })
    }

    /// Removes attachment `name` from record `id`.
    pub fn detach(&self, id: &RecordId, name: &str) -> Result<()> {
        let mut record = self.get(id)?;
        let position = record
            .attachments
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| VaultError::NoSuchAttachment {
                id: id.to_string(),
                name: name.to_string(),
            })?;
        let removed = record.attachments.remove(position);
        record.updated = now();
        self.put(id, &record)?;
        let _ = blob::remove_blob(&self.space.blobs, &removed.blob);
        Ok(())
    }

    /// The decoy view's key and space (the real view keeps the key sealed).
    fn decoy(&self) -> Result<Option<(Key32, Space)>> {
        let Some(bytes) = get_meta(&self.store, &self.space, &self.key, "decoy-key")? else {
            return Ok(None);
        };
        let key = Key32::from_slice(bytes.expose())
            .ok_or_else(|| VaultError::Damaged("decoy key length".into()))?;
        let space = Space::for_key(&self.dir, &key);
        Ok(Some((key, space)))
    }

    /// The decoy, the decoy's decoy, and so on: every view this one can reach.
    fn decoy_chain(&self) -> Result<Vec<(Key32, Space)>> {
        let mut chain: Vec<(Key32, Space)> = Vec::new();
        let mut at_key = Key32::from_slice(self.key.expose()).expect("32 bytes");
        while chain.len() < slots::POOL_SIZES.len() {
            let at_space = Space::for_key(&self.dir, &at_key);
            let Some(bytes) = get_meta(&self.store, &at_space, &at_key, "decoy-key")? else {
                break;
            };
            let key = Key32::from_slice(bytes.expose())
                .ok_or_else(|| VaultError::Damaged("decoy key length".into()))?;
            let space = Space::for_key(&self.dir, &key);
            // The last view's decoy-key leads nowhere.
            if get_meta(&self.store, &space, &key, "slots")?.is_none() {
                break;
            }
            at_key = Key32::from_slice(key.expose()).expect("32 bytes");
            chain.push((key, space));
        }
        Ok(chain)
    }

    /// Replaces the decoys in `old` (this view's chain) by fresh, empty ones with the same
    /// pools, then destroys the old ones. The old keys are noted in this view's sealed
    /// `retiring` list before the new decoy is linked in, so a crash at any point leaves
    /// either the old decoy in place or a list that the next unlock finishes destroying.
    fn reset_decoy(&self, old: &[(Key32, Space)]) -> Result<()> {
        let mut pools = Vec::new();
        let mut retiring = zeroize::Zeroizing::new(Vec::new());
        for (key, space) in old {
            pools.push(
                slots::table_of(&self.store, space, key)?
                    .pool
                    .unwrap_or_default(),
            );
            retiring.extend_from_slice(key.expose());
        }
        put_meta(&self.store, &self.space, &self.key, RETIRING, &retiring)?;
        init_decoys(&self.store, &self.dir, &self.space, &self.key, &pools)?;
        self.finish_retiring()?;
        Ok(())
    }

    /// Destroys the decoys named in this view's `retiring` list (a reset cut short). If the
    /// reset was cut short before the new decoy was linked in (this view's `decoy-key` still
    /// names a retiring view), new decoys with the old pools are made and linked first, so
    /// the view is never left without a decoy.
    fn finish_retiring(&self) -> Result<()> {
        let Some(list) = get_meta(&self.store, &self.space, &self.key, RETIRING)? else {
            return Ok(());
        };
        if list.expose().is_empty() {
            return Ok(());
        }
        let mut retiring = Vec::new();
        for bytes in list.expose().chunks(32) {
            retiring.push(
                Key32::from_slice(bytes)
                    .ok_or_else(|| VaultError::Damaged("a retired key's length".into()))?,
            );
        }
        let linked = get_meta(&self.store, &self.space, &self.key, "decoy-key")?;
        let still_linked = linked.is_some_and(|current| {
            retiring
                .iter()
                .any(|k| crate::secret::constant_time_eq(k.expose(), current.expose()))
        });
        if still_linked {
            let mut pools = Vec::new();
            for key in &retiring {
                let space = Space::for_key(&self.dir, key);
                pools.push(
                    slots::table_of(&self.store, &space, key)?
                        .pool
                        .unwrap_or_default(),
                );
            }
            init_decoys(&self.store, &self.dir, &self.space, &self.key, &pools)?;
        }
        for key in &retiring {
            self.destroy_space(&Space::for_key(&self.dir, key))?;
        }
        put_meta(&self.store, &self.space, &self.key, RETIRING, &[])
    }

    /// Gives every view its pool of key slots, once, in a vault made by posbon 0.1 or 0.2
    /// (whose tables had none): only the view whose table names the slot that opened it
    /// knows which slots are taken, so only it hands them out. Until then a decoy opened
    /// first changes its passphrase in place and has no room for a recovery key.
    fn give_pools(&self) -> Result<()> {
        let mut table = slots::table_of(&self.store, &self.space, &self.key)?;
        if table.pool.is_some() || !table.used.iter().any(|(i, _)| *i == self.unlocked_slot) {
            return Ok(());
        }
        let Some((decoy_key, decoy_space)) = self.decoy()? else {
            return Ok(());
        };
        // The decoy's decoy: one made by an older migration, or none yet.
        let below = get_meta(&self.store, &decoy_space, &decoy_key, "decoy-key")?
            .and_then(|bytes| Key32::from_slice(bytes.expose()))
            .filter(|key| {
                let space = Space::for_key(&self.dir, key);
                matches!(get_meta(&self.store, &space, key, "slots"), Ok(Some(_)))
            });
        let mut decoy_table = slots::table_of(&self.store, &decoy_space, &decoy_key)?;
        let last_table = match &below {
            Some(key) => Some(slots::table_of(
                &self.store,
                &Space::for_key(&self.dir, key),
                key,
            )?),
            None => None,
        };
        // Pools a hand-out cut short by a crash already gave are kept: a second draw could
        // give a slot the decoy has written since to this view.
        let kept_last_pool = last_table
            .as_ref()
            .and_then(|t| t.pool.clone())
            .filter(|p| !p.is_empty());
        let duress: Vec<usize> = table
            .used
            .iter()
            .filter(|(_, k)| *k == SlotKind::Duress)
            .map(|(i, _)| *i)
            .collect();
        let mut taken: Vec<usize> = table.used.iter().map(|(i, _)| *i).collect();
        taken.extend(decoy_table.used.iter().map(|(i, _)| *i));
        taken.extend(decoy_table.pool.iter().flatten());
        if let Some(last) = &last_table {
            taken.extend(last.used.iter().map(|(i, _)| *i));
        }
        taken.extend(kept_last_pool.iter().flatten());
        let mut free = slots::shuffled_slots();
        free.retain(|i| !taken.contains(i));
        let mut take = |have: &mut Vec<usize>, size: usize| {
            while have.len() < size
                && let Some(i) = free.pop()
            {
                have.push(i);
            }
        };
        table.used.retain(|(_, k)| *k != SlotKind::Duress);
        let mut own_pool: Vec<usize> = table.used.iter().map(|(i, _)| *i).collect();
        let decoy_pool = match decoy_table.pool.clone() {
            Some(pool) => pool,
            None => {
                let mut pool = duress.clone();
                take(&mut pool, slots::POOL_SIZES[1]);
                pool
            }
        };
        let last_pool = match kept_last_pool {
            Some(pool) => pool,
            None => {
                let mut pool = Vec::new();
                take(&mut pool, slots::POOL_SIZES[2]);
                pool
            }
        };
        take(&mut own_pool, slots::POOL_SIZES[0]);

        match below {
            Some(key) => {
                let space = Space::for_key(&self.dir, &key);
                let mut last = last_table.unwrap_or_default();
                last.pool = Some(last_pool);
                slots::save_table_of(&self.store, &space, &key, &last)?;
            }
            None => init_decoys(
                &self.store,
                &self.dir,
                &decoy_space,
                &decoy_key,
                &[last_pool],
            )?,
        }
        for index in duress {
            if !decoy_table.used.iter().any(|(i, _)| *i == index) {
                decoy_table.used.push((index, SlotKind::Passphrase));
            }
        }
        decoy_table.pool = Some(decoy_pool);
        slots::save_table_of(&self.store, &decoy_space, &decoy_key, &decoy_table)?;
        give_uniform_shape(&self.store, &decoy_space, &decoy_key)?;
        table.pool = Some(own_pool);
        // Last: a table with a pool is what says the hand-out is done.
        slots::save_table_of(&self.store, &self.space, &self.key, &table)
    }

    /// Removes every row and attachment file of `space`.
    fn destroy_space(&self, space: &Space) -> Result<()> {
        self.store.remove_tree(&space.records)?;
        self.store.remove_tree(&space.meta)?;
        if fs::symlink_metadata(&space.blobs).is_ok_and(|m| m.is_dir()) {
            let entries =
                fs::read_dir(&space.blobs).map_err(|e| VaultError::io(&space.blobs, e))?;
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_file()) {
                    let path = entry.path();
                    fsprotect::shred(&path).map_err(|e| VaultError::io(&path, e))?;
                }
            }
            fs::remove_dir_all(&space.blobs).map_err(|e| VaultError::io(&space.blobs, e))?;
        }
        Ok(())
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
            self.notices.push(format!(
                "captured items could not be imported and stay in the inbox: {e}"
            ));
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
            self.notices.push(format!(
                "imported {} captured item(s) into the vault",
                report.imported
            ));
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
                let when = jiff::Timestamp::from_millisecond(event.at)
                    .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default();
                self.notices.push(format!(
                    "WARNING: the duress passphrase was used to open this vault at {when}"
                ));
            }
            events.push(event);
            put_meta_json(&self.store, &self.space, &self.key, "events", &events)?;
        }
        Ok(())
    }
}

pub(crate) fn validate_attachment_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 255
        || name.contains(['/', '\0'])
        || name == "."
        || name == ".."
    {
        return Err(VaultError::Invalid(format!(
            "{name:?} cannot be an attachment name (no slashes, at most 255 bytes)"
        )));
    }
    Ok(())
}
