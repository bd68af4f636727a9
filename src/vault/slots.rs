//! Key-slot management of an open vault: changing the passphrase, the recovery key and the
//! duress passphrase, each as a safe-to-interrupt sequence over the key-slot file and the
//! sealed tables of which slots are in use.
//!
//! Every view (the one the passphrase opens, its decoy, the decoy's decoy) owns a fixed
//! *pool* of the file's slots, handed out when the vault was made, and keeps its own table of
//! which of them are live. A view changes only slots of its own pool and of its decoy's (the
//! duress passphrase is its decoy's passphrase), so no view needs to know whether another
//! view exists above it: the decoy does everything the real vault does, with the same code
//! and the same kinds of slots (issue 11).

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::secret::{Key32, Passphrase};

use super::error::{Refusal, Result, VaultError};
use super::keyslots::{self, KeySlots, SLOT_COUNT, SlotKind};
use super::meta::{get_meta_json, put_meta_json};
use super::store::Store;
use super::{Space, Vault, identity};

/// The slots one view owns and uses; every other slot belongs to another view or is free.
#[derive(Serialize, Deserialize, Default, Clone)]
pub(super) struct SlotTable {
    /// Live slots of this view (its passphrase, its recovery key).
    pub(super) used: Vec<(usize, SlotKind)>,
    /// The slots this view may write. `None` in tables written by posbon 0.1 and 0.2, before
    /// pools; the real view gives every view its pool at its first unlock (`give_pools`).
    #[serde(default)]
    pub(super) pool: Option<Vec<usize>>,
    /// The slot a change is writing, named before it is written and moved to `used` once it
    /// is on disk. A change cut short leaves it here, where the next change reuses it: with
    /// pools of three, two kills in a row must not use up the spare slots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pending: Option<usize>,
}

/// Pool sizes of the views made at `init`: the real view, its decoy, the decoy's decoy. Each
/// holds a passphrase, a recovery key and a spare (a change writes the new slot before the
/// old one is overwritten); the last view has no decoy and no room for a recovery key.
pub(super) const POOL_SIZES: [usize; 3] = [3, 3, 2];
const _: () = assert!(POOL_SIZES[0] + POOL_SIZES[1] + POOL_SIZES[2] == SLOT_COUNT);

pub(super) fn table_of(store: &Store, space: &Space, key: &Key32) -> Result<SlotTable> {
    Ok(get_meta_json(store, space, key, "slots")?.unwrap_or_default())
}

pub(super) fn save_table_of(
    store: &Store,
    space: &Space,
    key: &Key32,
    table: &SlotTable,
) -> Result<()> {
    put_meta_json(store, space, key, "slots", table)
}

/// A free slot of the view's own pool.
fn free_slot(table: &SlotTable) -> Result<usize> {
    let used: Vec<usize> = table.used.iter().map(|(i, _)| *i).collect();
    let free: Vec<usize> = table
        .pool
        .iter()
        .flatten()
        .copied()
        .filter(|i| !used.contains(i))
        .collect();
    if free.is_empty() {
        return Err(VaultError::NoFreeSlot);
    }
    Ok(free[crypto::random_array::<1>()[0] as usize % free.len()])
}

/// A view of the vault other than the open one (the open one's decoy).
pub(super) struct Other<'a> {
    pub(super) key: &'a Key32,
    pub(super) space: &'a Space,
}

impl Vault {
    fn read_slots(&self) -> Result<KeySlots> {
        KeySlots::read(&self.slots_path)
    }

    fn slot_table(&self) -> Result<SlotTable> {
        table_of(&self.store, &self.space, &self.key)
    }

    fn save_slot_table(&self, table: &SlotTable) -> Result<()> {
        save_table_of(&self.store, &self.space, &self.key, table)
    }

    /// Locks the key-slot file for a change whose key-encryption key was derived with
    /// `salt_seen`; refuses if the salt changed meanwhile (a `panic` ran).
    fn lock_slots(&self, salt_seen: &[u8]) -> Result<keyslots::LockedSlots> {
        let locked = keyslots::LockedSlots::open(&self.slots_path)?;
        if locked.slots.salt() != salt_seen {
            return Err(Refusal::KeysChanged.into());
        }
        Ok(locked)
    }

    /// Puts `owner`'s key wrapped under `kek` into a free slot of `owner`'s pool, then
    /// retires `owner`'s slots of that kind it replaces. The order keeps every step safe to
    /// interrupt: the table names the new slot as pending before it is written and as used
    /// once it is, and the old slots leave the table only after they are overwritten, so no
    /// live slot is lost, and a slot left pending by a kill is taken again by the next change.
    fn replace_slots(
        &self,
        owner: Other<'_>,
        kind: SlotKind,
        kek: &Key32,
        salt_seen: &[u8],
    ) -> Result<()> {
        let mut locked = self.lock_slots(salt_seen)?;
        let mut table = table_of(&self.store, owner.space, owner.key)?;
        let mut previous = slot_indices(&table, kind);
        let index = match table.pending {
            Some(pending) if !table.used.iter().any(|(i, _)| *i == pending) => pending,
            _ => match free_slot(&table) {
                Ok(index) => index,
                // Every slot of the pool is listed: a change was cut short after writing its
                // slot and before retiring the one it replaced, so two of this kind are
                // listed. The newest (never acknowledged) is taken, never the one this
                // session was opened with.
                Err(VaultError::NoFreeSlot) => {
                    let own =
                        crate::secret::constant_time_eq(owner.key.expose(), self.key.expose());
                    let reusable = previous
                        .iter()
                        .rev()
                        .find(|i| !(own && **i == self.unlocked_slot))
                        .copied();
                    match reusable {
                        Some(index) if previous.len() > 1 => {
                            table.used.retain(|(i, _)| *i != index);
                            index
                        }
                        _ => return Err(VaultError::NoFreeSlot),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        previous.retain(|i| *i != index);
        table.pending = Some(index);
        save_table_of(&self.store, owner.space, owner.key, &table)?;
        locked.slots.set_slot(index, kek, kind, owner.key);
        locked.write()?;
        table.used.push((index, kind));
        table.pending = None;
        save_table_of(&self.store, owner.space, owner.key, &table)?;
        if !previous.is_empty() {
            for old in &previous {
                locked.slots.erase_slot(*old);
            }
            locked.write()?;
            table.used.retain(|(i, _)| !previous.contains(i));
            save_table_of(&self.store, owner.space, owner.key, &table)?;
        }
        Ok(())
    }

    fn own(&self) -> Other<'_> {
        Other {
            key: &self.key,
            space: &self.space,
        }
    }

    /// Replaces the passphrase. The data is not re-encrypted: only the key slot changes.
    /// The same for every view, so the person who forced a duress unlock sees a vault that
    /// behaves normally.
    pub fn change_passphrase(&mut self, new: &Passphrase) -> Result<()> {
        if new.is_empty() {
            return Err(Refusal::EmptyNewPassphrase.into());
        }
        let slots = self.read_slots()?;
        let kek = slots.passphrase_kek(new)?;
        let table = self.slot_table()?;
        if let Some((index, _, key)) = slots.open_with(&kek)
            && index != self.unlocked_slot
        {
            // The same change, cut short by a crash after the new slot was written: the
            // journalist who runs it again must be able to finish it. A slot that opens with
            // the new passphrase to this view's own key can only have been written by such a
            // change (no other view knows this key), listed yet or not: it is adopted.
            let interrupted_change =
                crate::secret::constant_time_eq(key.expose(), self.key.expose());
            if !interrupted_change {
                return Err(Refusal::PassphraseInUse.into());
            }
            if !slot_indices(&table, SlotKind::Passphrase).contains(&index) {
                let mut table = table;
                table.used.retain(|(i, _)| *i != index);
                table.used.push((index, SlotKind::Passphrase));
                if table.pending == Some(index) {
                    table.pending = None;
                }
                self.save_slot_table(&table)?;
            }
            return self.keep_only_passphrase_slot(index, slots.salt());
        }
        if table.pool.is_none() {
            // A view whose pool the real view has not handed out yet (a vault made by an
            // older posbon, opened first with the duress passphrase): its one slot is
            // rewritten in place, as those versions did.
            let mut locked = self.lock_slots(slots.salt())?;
            locked
                .slots
                .set_slot(self.unlocked_slot, &kek, SlotKind::Passphrase, &self.key);
            return locked.write();
        }
        self.replace_slots(self.own(), SlotKind::Passphrase, &kek, slots.salt())
    }

    /// Retires every passphrase slot but `keep` (overwritten first, then dropped from the
    /// table, as in [`Self::replace_slots`]).
    fn keep_only_passphrase_slot(&self, keep: usize, salt_seen: &[u8]) -> Result<()> {
        let mut locked = self.lock_slots(salt_seen)?;
        let mut table = self.slot_table()?;
        let retired: Vec<usize> = slot_indices(&table, SlotKind::Passphrase)
            .into_iter()
            .filter(|index| *index != keep)
            .collect();
        for index in &retired {
            locked.slots.erase_slot(*index);
        }
        locked.write()?;
        table.used.retain(|(index, _)| !retired.contains(index));
        self.save_slot_table(&table)
    }

    /// Adds a recovery key (replacing any earlier one) and returns it, to be shown once,
    /// with its public age recipient.
    pub fn add_recovery_key(&mut self) -> Result<(Passphrase, String)> {
        let (text, identity) = identity::generate();
        let slots = self.read_slots()?;
        let kek = slots.recovery_kek(text.expose());
        self.replace_slots(self.own(), SlotKind::Recovery, &kek, slots.salt())?;
        Ok((text, identity.to_public().to_string()))
    }

    /// Sets (or replaces) the duress passphrase: the passphrase of this view's decoy.
    pub fn set_duress(&mut self, duress: &Passphrase) -> Result<()> {
        if duress.is_empty() {
            return Err(Refusal::EmptyDuressPassphrase.into());
        }
        let (decoy_key, decoy_space) = self
            .decoy()?
            .ok_or_else(|| VaultError::Damaged("the decoy key is missing".into()))?;
        let slots = self.read_slots()?;
        let kek = slots.passphrase_kek(duress)?;
        if let Some((_, _, key)) = slots.open_with(&kek) {
            if crate::secret::constant_time_eq(key.expose(), self.key.expose()) {
                return Err(Refusal::DuressSameAsReal.into());
            }
            if !crate::secret::constant_time_eq(key.expose(), decoy_key.expose()) {
                return Err(Refusal::PassphraseInUse.into());
            }
        }
        self.replace_slots(
            Other {
                key: &decoy_key,
                space: &decoy_space,
            },
            SlotKind::Passphrase,
            &kek,
            slots.salt(),
        )
    }

    /// Removes the duress passphrase and empties the decoy: every slot that led into it is
    /// overwritten, its records, settings and attachments are destroyed, and a fresh decoy
    /// takes its place, so the vault looks as if no duress passphrase had ever been set.
    pub fn remove_duress(&mut self) -> Result<bool> {
        let Some((decoy_key, decoy_space)) = self.decoy()? else {
            return Ok(false);
        };
        let mut own = self.slot_table()?;
        // A duress slot still listed the 0.2 way (in this view's table, before the pools were
        // handed out) is the decoy's too.
        let listed_here = slot_indices(&own, SlotKind::Duress);
        let decoy_table = table_of(&self.store, &decoy_space, &decoy_key)?;
        if decoy_table.used.is_empty() && listed_here.is_empty() {
            return Ok(false);
        }
        let chain = self.decoy_chain()?;
        // Never a slot this view lists as its own (its passphrase, its recovery key), even if
        // a damaged table named it for a decoy too.
        let mine: Vec<usize> = own
            .used
            .iter()
            .filter(|(_, k)| *k != SlotKind::Duress)
            .map(|(i, _)| *i)
            .collect();
        let mut locked = keyslots::LockedSlots::open(&self.slots_path)?;
        let mut erase = listed_here.clone();
        for (key, space) in &chain {
            let table = table_of(&self.store, space, key)?;
            erase.extend(table.pool.iter().flatten());
            erase.extend(table.used.iter().map(|(i, _)| *i));
        }
        for index in erase.iter().filter(|i| !mine.contains(i)) {
            locked.slots.erase_slot(*index);
        }
        locked.write()?;
        if !listed_here.is_empty() {
            own.used.retain(|(_, k)| *k != SlotKind::Duress);
            self.save_slot_table(&own)?;
        }
        self.reset_decoy(&chain)?;
        Ok(true)
    }

    /// Removes the recovery key.
    pub fn remove_recovery_key(&mut self) -> Result<bool> {
        let mut table = self.slot_table()?;
        let indices = slot_indices(&table, SlotKind::Recovery);
        if indices.is_empty() {
            return Ok(false);
        }
        let mut locked = keyslots::LockedSlots::open(&self.slots_path)?;
        for index in &indices {
            locked.slots.erase_slot(*index);
        }
        locked.write()?;
        table.used.retain(|(_, k)| *k != SlotKind::Recovery);
        self.save_slot_table(&table)?;
        Ok(true)
    }

    /// Which optional slots are set: (recovery key, duress passphrase), read from this
    /// view's table and its decoy's, the same way in every view.
    pub fn slot_summary(&self) -> Result<(bool, bool)> {
        let table = self.slot_table()?;
        let duress = match self.decoy()? {
            Some((key, space)) => !table_of(&self.store, &space, &key)?.used.is_empty(),
            None => false,
        };
        // A duress slot listed the 0.2 way, before the pools were handed out, counts too.
        let duress = duress || !slot_indices(&table, SlotKind::Duress).is_empty();
        Ok((!slot_indices(&table, SlotKind::Recovery).is_empty(), duress))
    }
}

fn slot_indices(table: &SlotTable, kind: SlotKind) -> Vec<usize> {
    table
        .used
        .iter()
        .filter(|(_, k)| *k == kind)
        .map(|(i, _)| *i)
        .collect()
}

/// Every slot index in a random order: the pools handed out at `init`, so that the position
/// of a slot says nothing about whose it is.
pub(super) fn shuffled_slots() -> Vec<usize> {
    let mut all: Vec<usize> = (0..SLOT_COUNT).collect();
    let random = crypto::random_array::<{ 4 * SLOT_COUNT }>();
    for i in (1..all.len()).rev() {
        let word = u32::from_be_bytes(random[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        let j = word as usize % (i + 1);
        all.swap(i, j);
    }
    all
}
