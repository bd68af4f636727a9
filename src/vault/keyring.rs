//! The per-entry keys of the vault's database, one fixed-size cell each, in a file that is
//! only ever overwritten in place: what makes "deleted" mean gone.
//!
//! Every value in the database (a record, a setting) is sealed with its own random key. That
//! key lives here, in a 64-byte cell, wrapped under the key of the view (real or decoy) that
//! owns the value. Deleting or replacing a value overwrites its cell with random bytes, in
//! place, after the database has committed the change. From then on, the old ciphertext,
//! wherever the database engine, its write-ahead log or the filesystem left copies of it, can
//! no longer be decrypted by any passphrase, recovery key or duress passphrase: the key that
//! sealed it no longer exists. Overwriting in place is what the file is for; the database
//! itself gives no such promise, because SQLite (like every journaled store) copies pages.
//!
//! A cell that no database row names is free. Free cells are kept as random bytes, so used
//! and free cells look alike and the file says nothing about how many entries are live. A
//! crash between writing a cell and committing its row, or between committing a deletion and
//! scrubbing its cell, leaves a cell that no row names but that may still hold a key; opening
//! the store scrubs every free cell, so such a leftover survives only until the next open.
//!
//! Cells are aligned to 64 bytes, so one cell never straddles a disk sector: a cell is written
//! whole or not at all by a crash (process kill or power loss on a disk with atomic sectors).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::crypto;
use crate::secret::Key32;

use super::error::{Result, VaultError};

/// Bytes per cell: a 12-byte nonce, the 32-byte key sealed with ChaCha20-Poly1305 (16-byte
/// tag), and 4 random bytes of filler.
pub const CELL_LEN: usize = 64;
const WRAPPED_LEN: usize = 12 + 32 + 16;
/// The file grows by this many cells at a time (64 KiB), filled with random bytes. The first
/// size is also well above the size up to which btrfs stores a file inside its metadata
/// (where no-copy-on-write does not apply).
pub const GROWTH_CELLS: u64 = 1024;

pub struct Keyring {
    file: File,
    path: PathBuf,
    cells: u64,
}

/// What binds a cell to the one entry it serves, so that cells cannot be swapped between
/// entries or views.
fn cell_aad(cell: u64, tree: &str, name: &[u8]) -> Vec<u8> {
    let mut aad = b"posbon/v2/cell/".to_vec();
    aad.extend_from_slice(&cell.to_be_bytes());
    aad.extend_from_slice(&(tree.len() as u32).to_be_bytes());
    aad.extend_from_slice(tree.as_bytes());
    aad.extend_from_slice(name);
    aad
}

fn noise(cells: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; cells as usize * CELL_LEN];
    crypto::fill_random(&mut bytes);
    bytes
}

impl Keyring {
    /// Creates the cell file at `path`, full of random cells, durably.
    pub fn create(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| VaultError::io(path, e))?;
        let mut ring = Keyring {
            file,
            path: path.to_path_buf(),
            cells: 0,
        };
        ring.grow()?;
        Ok(ring)
    }

    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| VaultError::io(path, e))?;
        let len = file.metadata().map_err(|e| VaultError::io(path, e))?.len();
        // A growth cut short by a crash may leave a partial cell at the end: it never held a
        // key (growth writes only noise), and the next growth writes over it.
        Ok(Keyring {
            file,
            path: path.to_path_buf(),
            cells: len / CELL_LEN as u64,
        })
    }

    pub fn cells(&self) -> u64 {
        self.cells
    }

    fn io(&self, e: std::io::Error) -> VaultError {
        VaultError::io(&self.path, e)
    }

    fn sync(&self) -> Result<()> {
        self.file.sync_data().map_err(|e| self.io(e))
    }

    /// Adds `GROWTH_CELLS` random cells at the end, durably.
    pub fn grow(&mut self) -> Result<()> {
        crate::disk::ensure_room(&self.path, crate::disk::TO_WRITE)?;
        let offset = self.cells * CELL_LEN as u64;
        self.file
            .write_all_at(&noise(GROWTH_CELLS), offset)
            .map_err(|e| self.io(e))?;
        self.file.sync_all().map_err(|e| self.io(e))?;
        self.cells += GROWTH_CELLS;
        Ok(())
    }

    /// Wraps `entry_key` under `view_key` into `cell` and returns once it is on disk.
    pub fn store(
        &self,
        cell: u64,
        view_key: &Key32,
        tree: &str,
        name: &[u8],
        entry_key: &Key32,
    ) -> Result<()> {
        let mut bytes = crypto::seal(view_key, &cell_aad(cell, tree, name), entry_key.expose());
        debug_assert_eq!(bytes.len(), WRAPPED_LEN);
        bytes.extend_from_slice(&crypto::random_array::<{ CELL_LEN - WRAPPED_LEN }>());
        self.file
            .write_all_at(&bytes, cell * CELL_LEN as u64)
            .map_err(|e| self.io(e))?;
        self.sync()
    }

    /// The key in `cell` if it opens under `view_key` for this entry; `None` if it does not
    /// (overwritten, tampered with, or not this view's).
    pub fn load(&self, cell: u64, view_key: &Key32, tree: &str, name: &[u8]) -> Option<Key32> {
        if cell >= self.cells {
            return None;
        }
        let mut bytes = [0u8; CELL_LEN];
        self.file
            .read_exact_at(&mut bytes, cell * CELL_LEN as u64)
            .ok()?;
        let mut key = Key32::from_bytes([0; 32]);
        unwrap_cell(&bytes, cell, view_key, tree, name, &mut key).then_some(key)
    }

    /// Every cell at once, for reading many entries (a listing) with one read.
    pub fn snapshot(&self) -> Result<Cells> {
        let mut bytes = vec![0u8; self.cells as usize * CELL_LEN];
        self.file
            .read_exact_at(&mut bytes, 0)
            .map_err(|e| self.io(e))?;
        Ok(Cells(bytes))
    }

    /// Overwrites each of `cells` with random bytes, in place, and returns once that is on
    /// disk. Whatever key they held is gone.
    pub fn scrub(&self, cells: &[u64]) -> Result<()> {
        if cells.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<u64> = cells.iter().copied().filter(|c| *c < self.cells).collect();
        sorted.sort_unstable();
        sorted.dedup();
        // Neighbouring cells are written in one call: scrubbing every free cell at open is
        // then a few large writes, not thousands of small ones.
        let mut start = 0;
        while start < sorted.len() {
            let mut end = start + 1;
            while end < sorted.len() && sorted[end] == sorted[end - 1] + 1 {
                end += 1;
            }
            let run = (end - start) as u64;
            self.file
                .write_all_at(&noise(run), sorted[start] * CELL_LEN as u64)
                .map_err(|e| self.io(e))?;
            start = end;
        }
        self.sync()
    }
}

/// A copy of the cell file, read at once (the wrapped keys in it are still sealed).
pub struct Cells(Vec<u8>);

impl Cells {
    /// Unwraps the key in `cell` into `out`; false if it does not open for this entry.
    pub fn load_into(
        &self,
        cell: u64,
        view_key: &Key32,
        tree: &str,
        name: &[u8],
        out: &mut Key32,
    ) -> bool {
        let Some(start) = usize::try_from(cell)
            .ok()
            .and_then(|c| c.checked_mul(CELL_LEN))
        else {
            return false;
        };
        match self.0.get(start..start + CELL_LEN) {
            Some(bytes) => unwrap_cell(bytes, cell, view_key, tree, name, out),
            None => false,
        }
    }
}

fn unwrap_cell(
    bytes: &[u8],
    cell: u64,
    view_key: &Key32,
    tree: &str,
    name: &[u8],
    out: &mut Key32,
) -> bool {
    crypto::open_key_into(
        view_key,
        &cell_aad(cell, tree, name),
        &bytes[..WRAPPED_LEN],
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_opens_only_for_its_entry_and_view_and_not_after_a_scrub() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let ring = Keyring::create(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            GROWTH_CELLS * CELL_LEN as u64
        );
        let view = crypto::random_key();
        let other_view = crypto::random_key();
        let entry = crypto::random_key();
        ring.store(7, &view, "tree", b"name", &entry).unwrap();
        let ring = Keyring::open(&path).unwrap();
        assert_eq!(
            ring.load(7, &view, "tree", b"name").unwrap().expose(),
            entry.expose()
        );
        assert!(ring.load(7, &other_view, "tree", b"name").is_none());
        assert!(ring.load(7, &view, "tree", b"other").is_none());
        assert!(ring.load(7, &view, "other", b"name").is_none());
        assert!(ring.load(8, &view, "tree", b"name").is_none());
        assert!(ring.load(u64::MAX / 64, &view, "tree", b"name").is_none());
        ring.scrub(&[7, 8, 9, 100]).unwrap();
        assert!(ring.load(7, &view, "tree", b"name").is_none());
    }

    #[test]
    fn a_partial_cell_left_by_an_interrupted_growth_is_ignored_then_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        drop(Keyring::create(&path).unwrap());
        let file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all_at(&[1u8; 10], GROWTH_CELLS * CELL_LEN as u64)
            .unwrap();
        let mut ring = Keyring::open(&path).unwrap();
        assert_eq!(ring.cells(), GROWTH_CELLS);
        ring.grow().unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            2 * GROWTH_CELLS * CELL_LEN as u64
        );
    }
}
