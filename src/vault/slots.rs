//! Key-slot management of an open vault: changing the passphrase, the recovery key and the
//! duress passphrase, each as a safe-to-interrupt sequence over the key-slot file and the
//! sealed table of which slots are in use.

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::secret::{Key32, Passphrase};

use super::error::{Result, VaultError};
use super::keyslots::{self, KeySlots, SLOT_COUNT, SlotKind};
use super::meta::{get_meta_json, put_meta_json};
use super::{Mode, Vault, identity};

/// The slots this vault key knows about; any other slot is free (random bytes).
#[derive(Serialize, Deserialize, Default)]
pub(super) struct SlotTable {
    pub(super) used: Vec<(usize, SlotKind)>,
}

impl Vault {
    fn read_slots(&self) -> Result<KeySlots> {
        KeySlots::read(&self.slots_path)
    }

    fn slot_table(&self) -> Result<SlotTable> {
        Ok(get_meta_json(&self.store, &self.space, &self.key, "slots")?.unwrap_or_default())
    }

    fn save_slot_table(&self, table: &SlotTable) -> Result<()> {
        put_meta_json(&self.store, &self.space, &self.key, "slots", table)
    }

    fn free_slot(&self, table: &SlotTable) -> Result<usize> {
        let used: Vec<usize> = table.used.iter().map(|(i, _)| *i).collect();
        if used.len() >= SLOT_COUNT {
            return Err(VaultError::NoFreeSlot);
        }
        Ok(random_slot_index(&used))
    }

    /// Locks the key-slot file for a change whose key-encryption key was derived with
    /// `salt_seen`; refuses if the salt changed meanwhile (a `panic` ran).
    fn lock_slots(&self, salt_seen: &[u8]) -> Result<keyslots::LockedSlots> {
        let locked = keyslots::LockedSlots::open(&self.slots_path)?;
        if locked.slots.salt() != salt_seen {
            return Err(VaultError::Invalid(
                "the vault's keys changed while this command ran (was `posbon panic` used?); nothing was changed".into(),
            ));
        }
        Ok(locked)
    }

    /// Puts `key` wrapped under `kek` into a free slot of `kind`, then retires the slots of
    /// that kind it replaces. The order keeps every step safe to interrupt: the table names
    /// the new slot before it is written, and the old slots leave the table only after they
    /// are overwritten, so the table never misses a live slot and no live slot is lost.
    fn replace_slots(
        &self,
        kind: SlotKind,
        kek: &Key32,
        salt_seen: &[u8],
        key: &Key32,
    ) -> Result<()> {
        let mut locked = self.lock_slots(salt_seen)?;
        let mut table = self.slot_table()?;
        let previous = slot_indices(&table, kind);
        let index = self.free_slot(&table)?;
        table.used.push((index, kind));
        self.save_slot_table(&table)?;
        locked.slots.set_slot(index, kek, kind, key);
        locked.write()?;
        if !previous.is_empty() {
            for old in &previous {
                locked.slots.erase_slot(*old);
            }
            locked.write()?;
            table.used.retain(|(i, _)| !previous.contains(i));
            self.save_slot_table(&table)?;
        }
        Ok(())
    }

    /// Replaces the passphrase. The data is not re-encrypted: only the key slot changes.
    ///
    /// Under duress this changes the duress passphrase in place, exactly as the real change
    /// would look: the person who forced the unlock sees a vault that behaves normally.
    pub fn change_passphrase(&mut self, new: &Passphrase) -> Result<()> {
        if new.is_empty() {
            return Err(VaultError::Invalid("the new passphrase is empty".into()));
        }
        let slots = self.read_slots()?;
        let kek = slots.passphrase_kek(new)?;
        if let Some((index, kind, key)) = slots.open_with(&kek)
            && index != self.unlocked_slot
        {
            // The same change, cut short by a crash after the new slot was written: the
            // journalist who runs it again must be able to finish it.
            let interrupted_change = self.mode == Mode::Real
                && kind == SlotKind::Passphrase
                && crate::secret::constant_time_eq(key.expose(), self.key.expose())
                && slot_indices(&self.slot_table()?, SlotKind::Passphrase).contains(&index);
            if !interrupted_change {
                return Err(VaultError::Invalid(
                    "that passphrase is already in use for this vault; choose another".into(),
                ));
            }
            return self.keep_only_passphrase_slot(index, slots.salt());
        }
        match self.mode {
            Mode::Real => self.replace_slots(SlotKind::Passphrase, &kek, slots.salt(), &self.key),
            Mode::Duress => {
                let mut locked = self.lock_slots(slots.salt())?;
                locked
                    .slots
                    .set_slot(self.unlocked_slot, &kek, SlotKind::Duress, &self.key);
                locked.write()
            }
        }
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
        self.require_real()?;
        let (text, identity) = identity::generate();
        let slots = self.read_slots()?;
        let kek = slots.recovery_kek(text.expose());
        self.replace_slots(SlotKind::Recovery, &kek, slots.salt(), &self.key)?;
        Ok((text, identity.to_public().to_string()))
    }

    /// Sets (or replaces) the duress passphrase. Opening with it shows the decoy vault.
    pub fn set_duress(&mut self, duress: &Passphrase) -> Result<()> {
        self.require_real()?;
        if duress.is_empty() {
            return Err(VaultError::Invalid("the duress passphrase is empty".into()));
        }
        let slots = self.read_slots()?;
        let kek = slots.passphrase_kek(duress)?;
        if let Some((_, SlotKind::Passphrase | SlotKind::Recovery, _)) = slots.open_with(&kek) {
            return Err(VaultError::Invalid(
                "the duress passphrase must differ from the real passphrase".into(),
            ));
        }
        // The decoy exists from `init` (or from the migration of an older vault); its
        // contents stay when only the duress passphrase changes.
        if self.decoy()?.is_none() {
            super::init_decoy(&self.store, &self.dir, &self.space, &self.key)?;
        }
        let (decoy_key, _) = self
            .decoy()?
            .ok_or_else(|| VaultError::Damaged("the decoy key is missing".into()))?;
        self.replace_slots(SlotKind::Duress, &kek, slots.salt(), &decoy_key)
    }

    /// Removes the duress passphrase and empties the decoy: its records, settings and
    /// attachments are destroyed and a fresh decoy takes its place, so the vault looks as if
    /// no duress passphrase had ever been set.
    pub fn remove_duress(&mut self) -> Result<bool> {
        let removed = self.remove_slots_of(SlotKind::Duress)?;
        if removed {
            self.reset_decoy()?;
        }
        Ok(removed)
    }

    /// Removes the recovery key.
    pub fn remove_recovery_key(&mut self) -> Result<bool> {
        self.remove_slots_of(SlotKind::Recovery)
    }

    fn remove_slots_of(&mut self, kind: SlotKind) -> Result<bool> {
        self.require_real()?;
        let mut table = self.slot_table()?;
        let indices = slot_indices(&table, kind);
        if indices.is_empty() {
            return Ok(false);
        }
        let mut locked = keyslots::LockedSlots::open(&self.slots_path)?;
        for index in &indices {
            locked.slots.erase_slot(*index);
        }
        locked.write()?;
        table.used.retain(|(_, k)| *k != kind);
        self.save_slot_table(&table)?;
        Ok(true)
    }

    /// Which optional slots are set: (recovery key, duress passphrase). A duress session
    /// answers like a vault that has neither.
    pub fn slot_summary(&self) -> Result<(bool, bool)> {
        if self.mode == Mode::Duress {
            return Ok((false, false));
        }
        let table = self.slot_table()?;
        Ok((
            !slot_indices(&table, SlotKind::Recovery).is_empty(),
            !slot_indices(&table, SlotKind::Duress).is_empty(),
        ))
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

/// A random free slot index, so that the position of a slot says nothing about its kind.
pub(super) fn random_slot_index(used: &[usize]) -> usize {
    let free: Vec<usize> = (0..SLOT_COUNT).filter(|i| !used.contains(i)).collect();
    let pick = crypto::random_array::<1>()[0] as usize % free.len();
    free[pick]
}
