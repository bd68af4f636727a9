//! Moving a vault of posbon 0.1 (a sled database in `db/`) into the current store, at the
//! first unlock, without losing anything to a crash on the way.
//!
//! The order is what keeps it safe: the new store is built beside the old database, which is
//! only read; a marker row is written once every value is in and has been counted; only then
//! are the old files overwritten and removed. A kill before the marker leaves the old files
//! as they were, and the next unlock starts the migration again from them (the half-built
//! store is discarded). A kill after the marker leaves a complete store, and the next unlock
//! finishes removing the old files.
//!
//! Values are re-sealed under the new per-value keys as they are copied, so no ciphertext
//! sealed directly with the view's key enters the new store, with one exception: a view
//! cannot read another view's values, so a 0.1 vault first opened with the duress
//! passphrase keeps the real view's values as they were (table `legacy`) until the real
//! passphrase opens it and converts them.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::crypto;
use crate::secret::Key32;

use super::Space;
use super::error::{Result, VaultError};
use super::meta::{get_meta, meta_aad, put_meta};
use super::record::{Record, RecordId};
use super::store::Store;

pub(super) const LEGACY_DB_DIR: &str = "db";
const MIGRATED_NOTE: &str = "migrated-from";
/// Written first into a store the migration builds: such a store may be discarded and
/// built again if the migration is cut short.
const MIGRATING_NOTE: &str = "migrating-from";

/// Opens the vault's store, migrating a posbon 0.1 database first if there is one.
pub(super) fn open_store(dir: &Path, key: &Key32) -> Result<Store> {
    let legacy = dir.join(LEGACY_DB_DIR);
    if !legacy.is_dir() {
        let store = Store::open(dir)?;
        convert_kept(&store, dir, key)?;
        return Ok(store);
    }
    if Store::exists(dir) {
        let store = Store::open(dir)?;
        if store.format_note(MIGRATED_NOTE)?.is_some() {
            remove_legacy(&legacy)?;
            return Ok(store);
        }
        // Only a store this migration started, or one still empty (a kill right after it
        // was made), may be discarded: anything else holds the journalist's data, and a
        // `db/` directory planted beside it must not be a way to erase it.
        if store.format_note(MIGRATING_NOTE)?.is_none() && !store.is_empty()? {
            return Err(VaultError::Damaged(format!(
                "an old posbon 0.1 database ({}) lies beside this vault's current store, which \
                 was not made from it; nothing was changed. Move {} out of the vault directory",
                legacy.display(),
                legacy.display()
            )));
        }
    }
    super::remove_store_files(dir)?;
    let store = Store::create(dir)?;
    store.set_format_note(MIGRATING_NOTE, "posbon 0.1 (sled)")?;
    copy_from_sled(&legacy, &store, dir, key)?;
    give_all_views_their_shape(&store, dir, key)?;
    store.set_format_note(MIGRATED_NOTE, "posbon 0.1 (sled)")?;
    super::sync_dir(dir)?;
    remove_legacy(&legacy)?;
    Ok(store)
}

fn sled_error(what: &str, e: impl std::fmt::Display) -> VaultError {
    VaultError::Damaged(format!(
        "the posbon 0.1 database could not be read while moving it to the new format ({what}: {e}); nothing was changed"
    ))
}

/// Opens the old database. sled refuses to open after a kill during its snapshot left a
/// `snap.*.generating` file behind (sled issues 1527 and 1533): that file is a half-written
/// snapshot, never the only copy of anything, so it is set aside and the open retried.
fn open_sled(legacy: &Path) -> Result<sled::Db> {
    let open = || {
        catch_unwind(AssertUnwindSafe(|| {
            sled::Config::new().path(legacy).flush_every_ms(None).open()
        }))
    };
    if let Ok(Ok(db)) = open() {
        return Ok(db);
    }
    let entries = fs::read_dir(legacy).map_err(|e| VaultError::io(legacy, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let aside = legacy.join(format!("set-aside.{name}"));
            fs::rename(entry.path(), &aside).map_err(|e| VaultError::io(&aside, e))?;
        }
    }
    match open() {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(sled_error("opening", e)),
        Err(_) => Err(sled_error("opening", "sled panicked")),
    }
}

type Tree = Vec<(Vec<u8>, Vec<u8>)>;

fn read_tree(db: &sled::Db, name: &[u8]) -> Result<Tree> {
    let tree = db.open_tree(name).map_err(|e| sled_error("a tree", e))?;
    tree.iter()
        .map(|item| {
            item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(|e| sled_error("a value", e))
        })
        .collect()
}

fn legacy_meta(key: &Key32, label: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    let padded = crypto::open(key, &meta_aad(label), sealed).ok()?;
    crypto::unpad(padded.expose()).map(<[u8]>::to_vec)
}

/// Re-seals one view's 0.1 values into the new store; returns how many.
fn copy_view(
    store: &Store,
    space: &Space,
    key: &Key32,
    records: &Tree,
    meta: &Tree,
) -> Result<usize> {
    for (label, sealed) in meta {
        let label_text = std::str::from_utf8(label)
            .map_err(|_| VaultError::Damaged("a 0.1 metadata label is not text".into()))?;
        let value = legacy_meta(key, label_text, sealed).ok_or_else(|| {
            VaultError::Damaged(format!(
                "the vault's {label_text} entry does not authenticate; nothing was changed"
            ))
        })?;
        let value = zeroize::Zeroizing::new(value);
        put_meta(store, space, key, label_text, &value)?;
    }
    for (id, sealed) in records {
        let id = RecordId(
            id.as_slice()
                .try_into()
                .map_err(|_| VaultError::Damaged("a 0.1 record id has the wrong length".into()))?,
        );
        match Record::open(key, &id, sealed) {
            Ok(record) => store.put(key, &space.records, &id.0, |entry_key| {
                record.seal(entry_key, &id)
            })?,
            // A record that was already damaged stays damaged, and is still named by
            // `vault check`: its bytes are kept, under a key that cannot open them.
            Err(_) => store.put(key, &space.records, &id.0, |_| Ok(sealed.clone()))?,
        }
    }
    Ok(records.len() + meta.len())
}

fn copy_from_sled(legacy: &Path, store: &Store, dir: &Path, key: &Key32) -> Result<()> {
    let db = open_sled(legacy)?;
    let own = Space::for_key(dir, key);
    let own_meta = read_tree(&db, own.meta.as_bytes())?;
    let own_records = read_tree(&db, own.records.as_bytes())?;
    let mut copied = copy_view(store, &own, key, &own_records, &own_meta)?;
    let mut readable = vec![own.meta.clone(), own.records.clone()];

    // A view that has a decoy (the real one, in 0.1) copies the decoy's values too; one
    // without (the 0.1 decoy) is given a decoy of its own, as every view now has.
    {
        match get_meta(store, &own, key, "decoy-key")? {
            Some(bytes) => {
                let decoy_key = Key32::from_slice(bytes.expose())
                    .ok_or_else(|| VaultError::Damaged("decoy key length".into()))?;
                let decoy = Space::for_key(dir, &decoy_key);
                let decoy_meta = read_tree(&db, decoy.meta.as_bytes())?;
                let decoy_records = read_tree(&db, decoy.records.as_bytes())?;
                copied += copy_view(store, &decoy, &decoy_key, &decoy_records, &decoy_meta)?;
                readable.push(decoy.meta.clone());
                readable.push(decoy.records.clone());
            }
            None => super::views::init_decoys(store, dir, &own, key, &[Vec::new()])?,
        }
    }

    // Values of a view this key cannot read are kept as they were, for their owner.
    let mut kept = 0;
    for name in db.tree_names() {
        let name_text = String::from_utf8_lossy(&name).into_owned();
        if name_text.starts_with("__sled") || readable.contains(&name_text) {
            continue;
        }
        for (entry, value) in read_tree(&db, &name)? {
            store.put_legacy(&name_text, &entry, &value)?;
            kept += 1;
        }
    }

    // Counted before the old files may go: every value is in the new store.
    let in_store: usize = readable
        .iter()
        .map(|tree| store.names(tree).map(|n| n.len()))
        .sum::<Result<usize>>()?;
    let mut kept_in_store = 0;
    for name in db.tree_names() {
        kept_in_store += store.legacy_entries(&String::from_utf8_lossy(&name))?.len();
    }
    if in_store < copied || kept_in_store != kept {
        return Err(VaultError::Damaged(format!(
            "moving the vault to the new format copied {} of {} values; the old files were kept",
            in_store.min(copied) + kept_in_store.min(kept),
            copied + kept
        )));
    }
    Ok(())
}

/// Gives the migrated views the entries a vault made by `init` has.
fn give_all_views_their_shape(store: &Store, dir: &Path, key: &Key32) -> Result<()> {
    let own = Space::for_key(dir, key);
    super::views::give_uniform_shape(store, &own, key)?;
    if let Some(bytes) = get_meta(store, &own, key, "decoy-key")? {
        let decoy_key = Key32::from_slice(bytes.expose())
            .ok_or_else(|| VaultError::Damaged("decoy key length".into()))?;
        super::views::give_uniform_shape(store, &Space::for_key(dir, &decoy_key), &decoy_key)?;
    }
    Ok(())
}

/// Converts values kept from a 0.1 migration done under another view, once their owner (the
/// real view, which can also read the decoy) opens the vault.
fn convert_kept(store: &Store, dir: &Path, key: &Key32) -> Result<()> {
    let own = Space::for_key(dir, key);
    let meta = store.legacy_entries(&own.meta)?;
    let records = store.legacy_entries(&own.records)?;
    if meta.is_empty() && records.is_empty() {
        return Ok(());
    }
    copy_view(store, &own, key, &records, &meta)?;
    for (name, _) in meta {
        store.remove_legacy(&own.meta, &name)?;
    }
    for (name, _) in records {
        store.remove_legacy(&own.records, &name)?;
    }
    if get_meta(store, &own, key, "decoy-key")?.is_none() {
        super::views::init_decoys(store, dir, &own, key, &[Vec::new()])?;
    }
    Ok(())
}

/// Overwrites every file of the old database with random bytes, then removes it: sled's
/// files still hold old versions of records sealed with the vault key itself.
fn remove_legacy(legacy: &Path) -> Result<()> {
    let mut stack = vec![legacy.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| VaultError::io(&dir, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| VaultError::io(&path, e))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                crate::fsprotect::shred(&path).map_err(|e| VaultError::io(&path, e))?;
            }
        }
    }
    fs::remove_dir_all(legacy).map_err(|e| VaultError::io(legacy, e))?;
    if let Some(parent) = legacy.parent() {
        super::sync_dir(parent)?;
    }
    Ok(())
}
