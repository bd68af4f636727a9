//! The key-slot file: the vault key, wrapped by a fixed number of equal-looking slots.
//!
//! The file is fixed-size and overwritten in place (never replaced by rename), so that
//! destroying a slot really overwrites the bytes that held it: that is what makes `panic` a
//! crypto-erase. Layout (all integers big-endian; see `docs/format.md`):
//!
//! ```text
//! offset size
//!      0    8  magic "POSBONVK"
//!      8    2  format version (2; version 1 files are still read)
//!     10    1  KDF algorithm (1 = Argon2id v1.3)
//!     11    1  reserved, zero
//!     12    4  KDF memory cost, KiB
//!     16    4  KDF time cost (passes)
//!     20    4  KDF parallelism
//!     24   32  KDF salt, random
//!     56   62  the vault's capture recipient, an `age1...` string (write-only adds)
//!    118  608  8 slots of 76 bytes: nonce(12) || ChaCha20-Poly1305(kind || key || zeros)(48+16)
//!    726 7434  version 2 only: random padding
//!  len-32   32  SHA-256 of everything before it, to tell accidental damage from a wrong passphrase
//! ```
//!
//! Version 2 (8192 bytes) differs from version 1 (758 bytes) only by the padding. A file
//! that small is stored inside btrfs's metadata, which is copy-on-write whatever the file's
//! attributes say, so every rewrite left an old copy of the slots on the disk (issue 11); at
//! 8 KiB the file has its own data blocks, overwritten in place under `chattr +C`. The padding
//! is random so that transparent compression cannot shrink the file back to an inline size.
//!
//! Unused slots hold random bytes; without a key they cannot be told from used ones, so the
//! file does not reveal whether a duress passphrase or a recovery key exists.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};

use crate::crypto::{self, AuthFailed};
use crate::fsprotect;
use crate::secret::{Key32, Passphrase};

use super::error::{Result, VaultError};
use super::notice::Notice;

pub const MAGIC: &[u8; 8] = b"POSBONVK";
pub const FORMAT_VERSION: u16 = 2;
pub const SLOT_COUNT: usize = 8;
const SLOT_PLAINTEXT_LEN: usize = 48;
pub const SLOT_LEN: usize = SLOT_PLAINTEXT_LEN + crypto::SEAL_OVERHEAD;
const RECIPIENT_LEN: usize = 62;
const SALT_OFFSET: usize = 24;
const RECIPIENT_OFFSET: usize = 56;
const SLOTS_OFFSET: usize = RECIPIENT_OFFSET + RECIPIENT_LEN;
const SLOTS_END: usize = SLOTS_OFFSET + SLOT_COUNT * SLOT_LEN;
const CHECKSUM_LEN: usize = 32;
/// Length of a version 1 file: the fields and the checksum, nothing else.
pub const V1_FILE_LEN: usize = SLOTS_END + CHECKSUM_LEN;
/// Length of a version 2 file: twice a 4 KiB page, so never stored inline by btrfs (which
/// inlines only files smaller than a page, and by default up to 2048 bytes).
pub const FILE_LEN: usize = 8192;
// Larger than a page even on 4 KiB-page machines with room to spare; a smaller file could be
// stored inline again.
const _: () = assert!(FILE_LEN >= 2 * 4096 && FILE_LEN > V1_FILE_LEN);

/// What a slot unlocks, stored inside the slot's ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SlotKind {
    /// The journalist's passphrase: opens the real vault.
    Passphrase = 1,
    /// The recovery key: opens the real vault.
    Recovery = 2,
    /// The duress passphrase: opens the decoy vault.
    Duress = 3,
}

impl SlotKind {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(SlotKind::Passphrase),
            2 => Some(SlotKind::Recovery),
            3 => Some(SlotKind::Duress),
            _ => None,
        }
    }
}

/// Cost of the passphrase KDF. Stored in the file, so a vault keeps the cost it was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl KdfParams {
    /// About one second on the 2-core reference machine (see `docs/performance.md`).
    pub const INTERACTIVE: KdfParams = KdfParams {
        memory_kib: 256 * 1024,
        passes: 5,
        lanes: 1,
    };

    /// Cheap parameters for tests only (`init --insecure-fast-kdf`): trivially brute-forced.
    pub const INSECURE_FAST: KdfParams = KdfParams {
        memory_kib: 8 * 1024,
        passes: 1,
        lanes: 1,
    };

    fn argon2(&self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.passes, self.lanes, Some(32))
            .map_err(|e| VaultError::Damaged(format!("key slots name unusable KDF costs ({e})")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Refuses costs that would exhaust memory or hang for hours when a damaged or hostile
    /// file names them.
    fn check_sane(&self) -> Result<()> {
        let sane = (8..=4 * 1024 * 1024).contains(&self.memory_kib)
            && (1..=64).contains(&self.passes)
            && (1..=16).contains(&self.lanes);
        if sane {
            Ok(())
        } else {
            Err(VaultError::Damaged(
                "key slots name unreasonable KDF costs".into(),
            ))
        }
    }
}

/// The parsed key-slot file.
pub struct KeySlots {
    /// The whole file: `V1_FILE_LEN` or `FILE_LEN` bytes, the checksum in the last 32.
    bytes: Vec<u8>,
    /// False when the checksum did not match: the slots are still tried (a torn write may
    /// have spared the one that matters), but a failure is then reported as damage.
    checksum_ok: bool,
}

/// The key-slot file held under an exclusive lock for one read-modify-write, so that `panic`
/// and a concurrent slot change cannot undo each other.
pub struct LockedSlots {
    file: File,
    path: std::path::PathBuf,
    pub slots: KeySlots,
}

impl LockedSlots {
    /// Opens and locks the file (waiting for another holder, who keeps it only milliseconds).
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = fsprotect::open_quietly(
            path,
            OpenOptions::new().read(true).write(true),
            libc::O_NOFOLLOW,
        )
        .map_err(|e| VaultError::io(path, e))?;
        file.lock().map_err(|e| VaultError::io(path, e))?;
        let mut data = Vec::with_capacity(FILE_LEN);
        file.read_to_end(&mut data)
            .map_err(|e| VaultError::io(path, e))?;
        let slots = KeySlots::parse(path, &data)?;
        Ok(LockedSlots {
            file,
            path: path.to_path_buf(),
            slots,
        })
    }

    /// Writes the slots back in place and waits until they are on disk. The file's times are
    /// set to the constant first, so they do not tell when the slots last changed.
    pub fn write(&mut self) -> Result<()> {
        let path = &self.path;
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(&self.slots.bytes[..]))
            .and_then(|_| fsprotect::flatten_file_times(&self.file))
            .and_then(|_| self.file.sync_all())
            .map_err(|e| VaultError::io(path, e))
    }
}

/// Rewrites a version 1 key-slot file as version 2, in place and under the lock, after an
/// unlock. Done at the first unlock rather than at the next slot change, which may never
/// come: every rewrite of a version 1 file on btrfs leaves another old copy of the slots.
/// A file whose checksum failed is left alone, so that damage is not sealed in as valid.
///
/// Returns a notice for the journalist when the rewrite failed; the vault still opens, and
/// the rewrite is tried again at the next unlock.
pub fn upgrade_in_place(path: &Path) -> Option<Notice> {
    let upgrade = || -> Result<()> {
        let mut locked = LockedSlots::open(path)?;
        if locked.slots.version() >= FORMAT_VERSION || !locked.slots.checksum_ok() {
            return Ok(());
        }
        locked.slots.upgrade();
        locked.write()
    };
    upgrade()
        .err()
        .map(|e| Notice::SlotUpgradeFailed(e.to_string()))
}

/// What an unlock of the vault in `dir` does to its key-slot file, as notices for the
/// journalist: a version 1 file is rewritten as version 2 ([`upgrade_in_place`]), and a
/// vault on a filesystem that keeps old copies is warned about ([`erasure_warning`]).
pub fn after_unlock(dir: &Path) -> Vec<Notice> {
    let path = dir.join(super::KEYSLOTS_FILE);
    upgrade_in_place(&path)
        .into_iter()
        .chain(erasure_warning(dir))
        .collect()
}

/// The warning for the journalist when the vault in `dir` is on a filesystem where `panic`
/// cannot promise to destroy the key slots (see [`fsprotect::erasure_risk`]).
pub fn erasure_warning(dir: &Path) -> Option<Notice> {
    fsprotect::erasure_risk(&dir.join(super::KEYSLOTS_FILE)).map(Notice::KeepsOldCopies)
}

impl KeySlots {
    /// A new file with random salt, the given recipient and every slot random.
    pub fn new(kdf: KdfParams, capture_recipient: &str) -> Result<Self> {
        if capture_recipient.len() != RECIPIENT_LEN || !capture_recipient.starts_with("age1") {
            return Err(VaultError::Invalid(
                "capture recipient has an unexpected form".into(),
            ));
        }
        let mut bytes = vec![0u8; FILE_LEN];
        bytes[..8].copy_from_slice(MAGIC);
        bytes[8..10].copy_from_slice(&FORMAT_VERSION.to_be_bytes());
        bytes[10] = 1;
        bytes[12..16].copy_from_slice(&kdf.memory_kib.to_be_bytes());
        bytes[16..20].copy_from_slice(&kdf.passes.to_be_bytes());
        bytes[20..24].copy_from_slice(&kdf.lanes.to_be_bytes());
        crypto::fill_random(&mut bytes[SALT_OFFSET..SALT_OFFSET + 32]);
        bytes[RECIPIENT_OFFSET..SLOTS_OFFSET].copy_from_slice(capture_recipient.as_bytes());
        // The slots and the padding after them: random.
        crypto::fill_random(&mut bytes[SLOTS_OFFSET..FILE_LEN - CHECKSUM_LEN]);
        let mut slots = KeySlots {
            bytes,
            checksum_ok: true,
        };
        slots.update_checksum();
        Ok(slots)
    }

    /// Parses the file's bytes, telling a newer format and damage apart.
    pub fn parse(path: &Path, data: &[u8]) -> Result<Self> {
        if data.len() < 10 || &data[..8] != MAGIC {
            return Err(VaultError::Damaged(format!(
                "{} is not a posbon key-slot file",
                path.display()
            )));
        }
        let version = u16::from_be_bytes([data[8], data[9]]);
        if version > FORMAT_VERSION {
            return Err(VaultError::NewerFormat {
                path: path.to_path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let expected_len = if version >= 2 { FILE_LEN } else { V1_FILE_LEN };
        if data.len() != expected_len {
            return Err(VaultError::Damaged(format!(
                "{} has {} bytes, expected {expected_len} (truncated?)",
                path.display(),
                data.len()
            )));
        }
        let mut slots = KeySlots {
            bytes: data.to_vec(),
            checksum_ok: true,
        };
        let (body, sum) = slots.bytes.split_at(slots.checksum_offset());
        slots.checksum_ok = ring::digest::digest(&ring::digest::SHA256, body).as_ref() == sum;
        if slots.bytes[10] != 1 {
            return Err(VaultError::Damaged("unknown KDF algorithm".into()));
        }
        slots.kdf().check_sane()?;
        Ok(slots)
    }

    pub fn read(path: &Path) -> Result<Self> {
        let mut data = Vec::with_capacity(FILE_LEN);
        fsprotect::open_quietly(path, OpenOptions::new().read(true), 0)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map_err(|e| VaultError::io(path, e))?;
        Self::parse(path, &data)
    }

    /// Writes a new key-slot file (at vault creation) and waits until it is on disk.
    pub fn write_new(&self, path: &Path) -> Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| VaultError::io(path, e))?;
        file.write_all(&self.bytes[..])
            .and_then(|_| fsprotect::flatten_file_times(&file))
            .and_then(|_| file.sync_all())
            .map_err(|e| VaultError::io(path, e))
    }

    /// The format version the file was read or made with.
    pub fn version(&self) -> u16 {
        u16::from_be_bytes([self.bytes[8], self.bytes[9]])
    }

    /// Turns a version 1 file into version 2: the same fields and slots, then random padding.
    fn upgrade(&mut self) {
        if self.version() >= 2 {
            return;
        }
        let mut bytes = vec![0u8; FILE_LEN];
        bytes[..SLOTS_END].copy_from_slice(&self.bytes[..SLOTS_END]);
        bytes[8..10].copy_from_slice(&2u16.to_be_bytes());
        crypto::fill_random(&mut bytes[SLOTS_END..FILE_LEN - CHECKSUM_LEN]);
        self.bytes = bytes;
        self.update_checksum();
    }

    /// Where the checksum starts: the last 32 bytes, in both versions.
    fn checksum_offset(&self) -> usize {
        self.bytes.len() - CHECKSUM_LEN
    }

    /// Whether the checksum matched when the file was read.
    pub fn checksum_ok(&self) -> bool {
        self.checksum_ok
    }

    /// The damage to report when no slot opened and the checksum did not match.
    pub fn checksum_damage(path: &Path) -> VaultError {
        VaultError::Damaged(format!(
            "{} fails its checksum: the key slots were damaged",
            path.display()
        ))
    }

    fn update_checksum(&mut self) {
        let at = self.checksum_offset();
        let sum = ring::digest::digest(&ring::digest::SHA256, &self.bytes[..at]);
        self.bytes[at..].copy_from_slice(sum.as_ref());
    }

    pub fn kdf(&self) -> KdfParams {
        let word = |at: usize| u32::from_be_bytes(self.bytes[at..at + 4].try_into().unwrap());
        KdfParams {
            memory_kib: word(12),
            passes: word(16),
            lanes: word(20),
        }
    }

    pub fn salt(&self) -> &[u8] {
        &self.bytes[SALT_OFFSET..SALT_OFFSET + 32]
    }

    pub fn capture_recipient(&self) -> Result<String> {
        let text = std::str::from_utf8(&self.bytes[RECIPIENT_OFFSET..SLOTS_OFFSET])
            .map_err(|_| VaultError::Damaged("capture recipient is not text".into()))?;
        Ok(text.to_string())
    }

    /// The key-encryption key for a passphrase (the slow, memory-hard step).
    pub fn passphrase_kek(&self, passphrase: &Passphrase) -> Result<Key32> {
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        self.kdf()
            .argon2()?
            .hash_password_into(passphrase.expose().as_bytes(), self.salt(), &mut out[..])
            .map_err(|e| VaultError::Invalid(format!("passphrase cannot be used: {e}")))?;
        Ok(Key32::from_bytes(*out))
    }

    /// The key-encryption key for a recovery key. The recovery key is 256 random bits, so a
    /// fast KDF is enough.
    pub fn recovery_kek(&self, recovery_key: &str) -> Key32 {
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        crypto::hkdf_into(
            recovery_key.trim().as_bytes(),
            self.salt(),
            b"posbon/v1/recovery",
            &mut out[..],
        );
        Key32::from_bytes(*out)
    }

    fn slot_aad(index: usize) -> [u8; 15] {
        let mut aad = *b"posbon/v1/slot\0";
        aad[14] = index as u8;
        aad
    }

    fn slot_bytes(&self, index: usize) -> &[u8] {
        let start = SLOTS_OFFSET + index * SLOT_LEN;
        &self.bytes[start..start + SLOT_LEN]
    }

    /// Tries `kek` against every slot; returns the first that opens.
    pub fn open_with(&self, kek: &Key32) -> Option<(usize, SlotKind, Key32)> {
        (0..SLOT_COUNT).find_map(|index| {
            let plain = crypto::open(kek, &Self::slot_aad(index), self.slot_bytes(index))
                .map_err(|AuthFailed| ())
                .ok()?;
            let kind = SlotKind::from_byte(plain.expose()[0])?;
            let key = Key32::from_slice(&plain.expose()[1..33])?;
            Some((index, kind, key))
        })
    }

    /// Fills slot `index` with `vault_key` wrapped under `kek`.
    pub fn set_slot(&mut self, index: usize, kek: &Key32, kind: SlotKind, vault_key: &Key32) {
        let mut plain = zeroize::Zeroizing::new([0u8; SLOT_PLAINTEXT_LEN]);
        plain[0] = kind as u8;
        plain[1..33].copy_from_slice(vault_key.expose());
        let sealed = crypto::seal(kek, &Self::slot_aad(index), &plain[..]);
        let start = SLOTS_OFFSET + index * SLOT_LEN;
        self.bytes[start..start + SLOT_LEN].copy_from_slice(&sealed);
        self.update_checksum();
    }

    /// Overwrites slot `index` with random bytes: whatever it held can no longer be opened.
    pub fn erase_slot(&mut self, index: usize) {
        let start = SLOTS_OFFSET + index * SLOT_LEN;
        crypto::fill_random(&mut self.bytes[start..start + SLOT_LEN]);
        self.update_checksum();
    }

    /// Overwrites the salt and every slot (and the padding) with random bytes (panic).
    pub fn erase_all(&mut self) {
        crypto::fill_random(&mut self.bytes[SALT_OFFSET..SALT_OFFSET + 32]);
        let end = self.checksum_offset();
        crypto::fill_random(&mut self.bytes[SLOTS_OFFSET..end]);
        self.update_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient() -> String {
        "age1".to_string() + &"q".repeat(58)
    }

    #[test]
    fn each_kek_opens_only_its_own_slot() {
        let mut slots = KeySlots::new(KdfParams::INSECURE_FAST, &recipient()).unwrap();
        let real = crypto::random_key();
        let decoy = crypto::random_key();
        let pass_kek = slots
            .passphrase_kek(&Passphrase::new("correct horse".into()))
            .unwrap();
        let duress_kek = slots
            .passphrase_kek(&Passphrase::new("duress".into()))
            .unwrap();
        slots.set_slot(2, &pass_kek, SlotKind::Passphrase, &real);
        slots.set_slot(5, &duress_kek, SlotKind::Duress, &decoy);

        let (index, kind, key) = slots.open_with(&pass_kek).unwrap();
        assert_eq!((index, kind), (2, SlotKind::Passphrase));
        assert_eq!(key.expose(), real.expose());
        let (index, kind, key) = slots.open_with(&duress_kek).unwrap();
        assert_eq!((index, kind), (5, SlotKind::Duress));
        assert_eq!(key.expose(), decoy.expose());
        let wrong = slots
            .passphrase_kek(&Passphrase::new("wrong".into()))
            .unwrap();
        assert!(slots.open_with(&wrong).is_none());
    }

    #[test]
    fn erased_slots_no_longer_open_and_file_still_parses() {
        let mut slots = KeySlots::new(KdfParams::INSECURE_FAST, &recipient()).unwrap();
        let kek = slots.passphrase_kek(&Passphrase::new("p".into())).unwrap();
        slots.set_slot(0, &kek, SlotKind::Passphrase, &crypto::random_key());
        slots.erase_all();
        let reparsed = KeySlots::parse(Path::new("k"), &slots.bytes[..]).unwrap();
        assert!(reparsed.checksum_ok());
        let kek_after = reparsed
            .passphrase_kek(&Passphrase::new("p".into()))
            .unwrap();
        assert!(reparsed.open_with(&kek_after).is_none());
    }

    #[test]
    fn damage_newer_version_and_truncation_are_told_apart() {
        let slots = KeySlots::new(KdfParams::INSECURE_FAST, &recipient()).unwrap();
        let mut flipped = slots.bytes.to_vec();
        flipped[200] ^= 0x80;
        assert!(
            !KeySlots::parse(Path::new("k"), &flipped)
                .unwrap()
                .checksum_ok()
        );
        assert!(matches!(
            KeySlots::parse(Path::new("k"), &slots.bytes[..300]),
            Err(VaultError::Damaged(_))
        ));
        let mut newer = slots.bytes.to_vec();
        newer[9] = 3;
        assert!(matches!(
            KeySlots::parse(Path::new("k"), &newer),
            Err(VaultError::NewerFormat { found: 3, .. })
        ));
    }

    /// A version 1 file as posbon wrote it before version 2: the same fields and slots, the
    /// checksum right after the slots.
    fn as_version_1(slots: &KeySlots) -> Vec<u8> {
        let mut v1 = slots.bytes[..SLOTS_END].to_vec();
        v1[8..10].copy_from_slice(&1u16.to_be_bytes());
        let sum = ring::digest::digest(&ring::digest::SHA256, &v1);
        v1.extend_from_slice(sum.as_ref());
        v1
    }

    #[test]
    fn new_files_are_version_2_and_too_large_to_be_stored_inline() {
        let slots = KeySlots::new(KdfParams::INSECURE_FAST, &recipient()).unwrap();
        assert_eq!(slots.version(), 2);
        assert_eq!(slots.bytes.len(), FILE_LEN);
        // Random padding (so compression cannot shrink the file back to an inline size).
        let other = KeySlots::new(KdfParams::INSECURE_FAST, &recipient()).unwrap();
        let padding = SLOTS_END..FILE_LEN - CHECKSUM_LEN;
        let same = slots.bytes[padding.clone()]
            .iter()
            .zip(&other.bytes[padding.clone()])
            .filter(|(a, b)| a == b)
            .count();
        assert!(same < padding.len() / 50, "{same} equal padding bytes");
    }

    #[test]
    fn version_1_files_still_open_and_upgrade_to_version_2_with_every_slot() {
        let mut slots = KeySlots::new(KdfParams::INSECURE_FAST, &recipient()).unwrap();
        let key = crypto::random_key();
        let kek = slots.passphrase_kek(&Passphrase::new("p".into())).unwrap();
        slots.set_slot(3, &kek, SlotKind::Passphrase, &key);
        let v1 = as_version_1(&slots);
        assert_eq!(v1.len(), V1_FILE_LEN);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyslots");
        std::fs::write(&path, &v1).unwrap();
        let read = KeySlots::read(&path).unwrap();
        assert!(read.checksum_ok());
        assert_eq!(read.version(), 1);
        let (index, _, opened) = read.open_with(&kek).unwrap();
        assert_eq!((index, opened.expose()), (3, key.expose()));

        assert_eq!(upgrade_in_place(&path), None);
        let upgraded = KeySlots::read(&path).unwrap();
        assert!(upgraded.checksum_ok());
        assert_eq!(upgraded.version(), 2);
        assert_eq!(upgraded.bytes.len(), FILE_LEN);
        assert_eq!(upgraded.salt(), read.salt());
        assert_eq!(&upgraded.bytes[..8], MAGIC);
        assert_eq!(&upgraded.bytes[10..SLOTS_END], &read.bytes[10..SLOTS_END]);
        let (_, _, opened) = upgraded.open_with(&kek).unwrap();
        assert_eq!(opened.expose(), key.expose());
        // Upgrading again changes nothing.
        let before = std::fs::read(&path).unwrap();
        assert_eq!(upgrade_in_place(&path), None);
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_damaged_version_1_file_is_not_upgraded() {
        let slots = KeySlots::new(KdfParams::INSECURE_FAST, &recipient()).unwrap();
        let mut v1 = as_version_1(&slots);
        v1[300] ^= 1;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyslots");
        std::fs::write(&path, &v1).unwrap();
        assert_eq!(upgrade_in_place(&path), None);
        assert_eq!(std::fs::read(&path).unwrap(), v1);
    }
}
