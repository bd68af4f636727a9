//! The views of a vault and how they are linked: the real view, its decoy (opened by the
//! duress passphrase) and the decoy's decoy, each made alike and given the same shape from
//! the start, so a raw copy cannot tell which exist or have been used. Also handing out
//! key-slot pools in vaults made before pools, and retiring decoys so a crash never leaves
//! a view without one.

use std::fs;
use std::path::Path;

use super::meta::{get_meta, put_meta, put_meta_json};
use super::slots::SlotTable;
use super::store::Store;
use super::{
    Event, Key32, RETIRING, Result, SlotKind, Space, Vault, VaultError, create_private_dir, crypto,
    fsprotect, identity, meta, record, slots,
};

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
pub(super) fn init_decoys(
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
pub(super) fn decoy_pools(rest: &[usize]) -> Vec<Vec<usize>> {
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
pub(super) fn chaff_name(key: &Key32) -> [u8; 16] {
    meta::meta_name(key, "records-chaff")
}

/// Gives a view the entries every view has from the start, whatever is later used: an
/// event log and a chaff row in its records tree. Without them, the first duress use (which
/// writes the real view's event log) or the decoy's first record would show in a raw copy
/// as a new row or a new tree. Does nothing where they exist.
pub(super) fn give_uniform_shape(store: &Store, space: &Space, key: &Key32) -> Result<()> {
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

impl Vault {
    /// The decoy view's key and space (the real view keeps the key sealed).
    pub(super) fn decoy(&self) -> Result<Option<(Key32, Space)>> {
        let Some(bytes) = get_meta(&self.store, &self.space, &self.key, "decoy-key")? else {
            return Ok(None);
        };
        let key = Key32::from_slice(bytes.expose())
            .ok_or_else(|| VaultError::Damaged("decoy key length".into()))?;
        let space = Space::for_key(&self.dir, &key);
        Ok(Some((key, space)))
    }

    /// The decoy, the decoy's decoy, and so on: every view this one can reach.
    pub(super) fn decoy_chain(&self) -> Result<Vec<(Key32, Space)>> {
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
    pub(super) fn reset_decoy(&self, old: &[(Key32, Space)]) -> Result<()> {
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
    pub(super) fn finish_retiring(&self) -> Result<()> {
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
    pub(super) fn give_pools(&self) -> Result<()> {
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
}
