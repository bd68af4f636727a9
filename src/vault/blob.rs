//! Encrypted attachment blobs: a file of any size streamed through in constant memory.
//!
//! Each blob is one file under the vault's `blobs/` directory with its own random
//! AES-256-GCM key (kept in the sealed record that owns it). The plaintext is cut into 64 KiB
//! chunks sealed in the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015): the
//! nonce is a chunk counter plus a "last chunk" flag, so chunks cannot be reordered, dropped,
//! or the stream cut short without detection. Chunks are sealed on every core in batches.
//! The file is padded (Padmé) with keyed pseudo-random bytes, so its size shows only a
//! rounded size of the attachment. Layout in `docs/format.md`.
//!
//! Blob files and their directories carry the constant time of [`fsprotect::FLAT_TIME`], so
//! they do not tell when an attachment was added, and removed blobs are overwritten first
//! ([`remove_blob`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::crypto::{self, TAG_LEN};
use crate::secret::Key32;
use crate::{disk, fsprotect};

pub const CHUNK_LEN: usize = 64 * 1024;
const SEALED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;
const MAGIC: &[u8; 8] = b"POSBONAT";
const HEADER_LEN: usize = 16;
/// Chunks handled per batch (4 MiB); up to [`Batch::IN_FLIGHT`] batches in flight.
const BATCH_CHUNKS: usize = 64;

const FLAG_MIDDLE: u8 = 0;
const FLAG_LAST: u8 = 1;
const FLAG_PADDING: u8 = 2;

/// Why a blob could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("its encrypted file is missing")]
    Missing,
    #[error("chunk {0} does not authenticate")]
    ChunkFails(u64),
    #[error("its encrypted file is truncated")]
    Truncated,
    #[error("its encrypted file has an unknown header")]
    BadHeader,
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// What [`write_blob`] stored.
pub struct WrittenBlob {
    pub blob_id: String,
    pub key: Key32,
    pub size: u64,
}

fn cipher(key: &Key32) -> LessSafeKey {
    LessSafeKey::new(
        UnboundKey::new(&aead::AES_256_GCM, key.expose()).expect("a 32-byte key is valid"),
    )
}

fn nonce(counter: u64, flag: u8) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[3..11].copy_from_slice(&counter.to_be_bytes());
    bytes[11] = flag;
    Nonce::assume_unique_for_key(bytes)
}

fn aad(blob_id: &str) -> Vec<u8> {
    let mut aad = b"posbon/v1/blob/".to_vec();
    aad.extend_from_slice(blob_id.as_bytes());
    aad
}

/// Length of the meaningful part of a blob holding `size` plaintext bytes.
fn ciphertext_len(size: u64) -> u64 {
    let full = size / CHUNK_LEN as u64;
    let rest = size % CHUNK_LEN as u64;
    HEADER_LEN as u64 + full * SEALED_CHUNK_LEN as u64 + rest + TAG_LEN as u64
}

fn header() -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(MAGIC);
    header[8] = 1; // format version
    header[9] = 1; // AES-256-GCM
    header[12..16].copy_from_slice(&(CHUNK_LEN as u32).to_be_bytes());
    header
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_full(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Runs `work` over `items` on every core, keeping their order.
fn in_parallel<T: Send>(items: &mut [T], work: impl Fn(&mut T) + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < 2 {
        items.iter_mut().for_each(&work);
        return;
    }
    let per_thread = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for part in items.chunks_mut(per_thread) {
            let work = &work;
            scope.spawn(move || part.iter_mut().for_each(work));
        }
    });
}

/// Encrypts everything `input` yields into a new blob file in `dir`, and returns once the
/// file is on disk under its final name.
pub fn write_blob(dir: &Path, input: &mut dyn Read) -> io::Result<WrittenBlob> {
    fs::create_dir_all(dir)?;
    let blob_id = hex::encode(crypto::random_array::<16>());
    let key = crypto::random_key();
    let cipher = cipher(&key);
    let aad = aad(&blob_id);
    let temp_path = dir.join(format!("{blob_id}.tmp"));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp_path)?;
    let result = (|| {
        let mut out = disk::Writeback::new(&file);
        out.write_all(&header())?;
        let size = seal_stream(input, &cipher, &aad, &mut out)?;
        write_padding(&mut out, &cipher, &aad, ciphertext_len(size))?;
        fsprotect::flatten_file_times(&file)?;
        file.sync_all()?;
        Ok(size)
    })();
    drop(file);
    let size = match result {
        Ok(size) => size,
        Err(e) => {
            let _ = fsprotect::shred(&temp_path);
            return Err(e);
        }
    };
    fs::rename(&temp_path, dir.join(&blob_id))?;
    // The rename changed the directory's times; its parent's too when `dir` was just made.
    fsprotect::flatten_times(dir)?;
    if let Some(parent) = dir.parent() {
        fsprotect::flatten_times(parent)?;
    }
    File::open(dir)?.sync_all()?;
    Ok(WrittenBlob { blob_id, key, size })
}

/// A batch as it lies on disk: up to [`BATCH_CHUNKS`] sealed chunks back to back. Its
/// memory is touched only as far as it is used (a small attachment costs a few pages, not
/// 4 MiB) and zeroized when dropped: a batch cut short by an error may still hold
/// plaintext, and an extracted one holds nothing else.
struct Batch(Vec<u8>);

impl Batch {
    /// Batches in flight at once on each side of a pipeline.
    const IN_FLIGHT: usize = 3;

    fn new() -> Batch {
        Batch(Vec::with_capacity(BATCH_CHUNKS * SEALED_CHUNK_LEN))
    }

    /// Its first `len` bytes, `len` at most a full batch.
    fn first(&mut self, len: usize) -> &mut [u8] {
        if self.0.len() < len {
            self.0.resize(len, 0);
        }
        &mut self.0[..len]
    }

    /// A batch taken back from `returned`, or a new one while fewer than [`Self::IN_FLIGHT`]
    /// exist; `None` once the other side has gone.
    fn next(made: &mut usize, returned: &mpsc::Receiver<Batch>) -> Option<Batch> {
        if let Ok(batch) = returned.try_recv() {
            return Some(batch);
        }
        if *made < Self::IN_FLIGHT {
            *made += 1;
            return Some(Batch::new());
        }
        returned.recv().ok()
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0[..]);
    }
}

/// Reads `input` in batches, seals each batch's chunks on every core and writes them to
/// `out`; a second thread writes one batch while the next is read and sealed. Returns the
/// plaintext size.
fn seal_stream(
    input: &mut dyn Read,
    cipher: &LessSafeKey,
    aad: &[u8],
    out: &mut (dyn Write + Send),
) -> io::Result<u64> {
    let (full_tx, full_rx) = mpsc::sync_channel::<(Batch, usize)>(1);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Batch>(Batch::IN_FLIGHT);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<()> {
            for (buf, len) in full_rx {
                out.write_all(&buf.0[..len])?;
                // The sealing side may have finished and gone: nothing left to hand back.
                let _ = empty_tx.send(buf);
            }
            Ok(())
        });
        let mut made = 0;
        let sealed = (|| -> io::Result<u64> {
            let mut counter = 0u64;
            let mut size = 0u64;
            loop {
                // When the writer has failed it drops its ends: stop, and report its error.
                let Some(mut buf) = Batch::next(&mut made, &empty_rx) else {
                    return Ok(size);
                };
                // Fill a batch; a chunk shorter than CHUNK_LEN is the last one.
                let mut filled = 0;
                let mut finished = false;
                while filled < BATCH_CHUNKS * SEALED_CHUNK_LEN && !finished {
                    let slot = &mut buf.first(filled + SEALED_CHUNK_LEN)[filled..];
                    let n = read_full(input, &mut slot[..CHUNK_LEN])?;
                    size += n as u64;
                    finished = n < CHUNK_LEN;
                    filled += n + TAG_LEN;
                }
                let mut chunks: Vec<(u64, &mut [u8])> = buf.0[..filled]
                    .chunks_mut(SEALED_CHUNK_LEN)
                    .map(|chunk| {
                        counter += 1;
                        (counter - 1, chunk)
                    })
                    .collect();
                let last_counter = if finished { counter - 1 } else { u64::MAX };
                in_parallel(&mut chunks, |(index, chunk)| {
                    let flag = if *index == last_counter {
                        FLAG_LAST
                    } else {
                        FLAG_MIDDLE
                    };
                    let (plain, tag_space) = chunk.split_at_mut(chunk.len() - TAG_LEN);
                    let tag = cipher
                        .seal_in_place_separate_tag(nonce(*index, flag), Aad::from(aad), plain)
                        .expect("chunks are far below the AEAD's size limit");
                    tag_space.copy_from_slice(tag.as_ref());
                });
                drop(chunks);
                if full_tx.send((buf, filled)).is_err() || finished {
                    return Ok(size);
                }
            }
        })();
        drop(full_tx);
        let written = writer.join().expect("the blob writer does not panic");
        written.and(sealed)
    })
}

/// Pads the file from `written` bytes up to its Padmé length with bytes that look random:
/// AES-GCM output of zeros under a nonce space no chunk uses.
fn write_padding(
    file: &mut dyn Write,
    cipher: &LessSafeKey,
    aad: &[u8],
    written: u64,
) -> io::Result<()> {
    let mut remaining = crypto::padme(written) - written;
    let mut counter = 0u64;
    while remaining > 0 {
        let take = remaining.min(1 << 20) as usize;
        let mut buf = vec![0u8; take];
        // Only the keystream-encrypted zeros are wanted; the tag is discarded.
        let _tag = cipher
            .seal_in_place_separate_tag(nonce(counter, FLAG_PADDING), Aad::from(aad), &mut buf)
            .expect("padding pieces are small");
        file.write_all(&buf)?;
        remaining -= take as u64;
        counter += 1;
    }
    Ok(())
}

pub fn blob_path(dir: &Path, blob_id: &str) -> PathBuf {
    dir.join(blob_id)
}

/// Removes a blob that no record needs any more, overwriting it with random bytes first
/// (see [`fsprotect::shred`] for what that can and cannot promise). Its key, in an older
/// version of the sealed record, may survive in the database; the ciphertext it opened does not.
pub fn remove_blob(dir: &Path, blob_id: &str) -> io::Result<()> {
    fsprotect::shred(&blob_path(dir, blob_id))
}

/// Decrypts a blob of `size` plaintext bytes into `output`, checking every chunk of a batch
/// before any of its bytes are written out. A second thread reads and opens the batches, so
/// that the caller's thread only writes.
pub fn read_blob(
    dir: &Path,
    blob_id: &str,
    key: &Key32,
    size: u64,
    output: &mut dyn Write,
) -> Result<(), BlobError> {
    let path = blob_path(dir, blob_id);
    // Without touching the access time: reading an attachment leaves no date behind.
    let mut file = match fsprotect::open_quietly(&path, OpenOptions::new().read(true), 0) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobError::Missing),
        Err(e) => return Err(e.into()),
    };
    let mut head = [0u8; HEADER_LEN];
    if read_full(&mut file, &mut head)? < HEADER_LEN {
        return Err(BlobError::Truncated);
    }
    if head != header() {
        return Err(BlobError::BadHeader);
    }
    let cipher = cipher(key);
    let aad = aad(blob_id);
    let chunk_count = size / CHUNK_LEN as u64 + 1;
    let (full_tx, full_rx) = mpsc::sync_channel::<Result<(Batch, usize), BlobError>>(1);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Batch>(Batch::IN_FLIGHT);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut made = 0;
            let mut remaining = ciphertext_len(size) - HEADER_LEN as u64;
            let mut next = 0u64;
            while remaining > 0 {
                // The writing side drops its ends when writing fails.
                let Some(mut buf) = Batch::next(&mut made, &empty_rx) else {
                    return;
                };
                let want = remaining.min((BATCH_CHUNKS * SEALED_CHUNK_LEN) as u64) as usize;
                remaining -= want as u64;
                let opened = match read_full(&mut file, buf.first(want)) {
                    Ok(n) if n == want => {
                        open_batch(&cipher, &aad, buf.first(want), &mut next, chunk_count)
                    }
                    Ok(_) => Err(BlobError::Truncated),
                    Err(e) => Err(e.into()),
                };
                let failed = opened.is_err();
                if full_tx.send(opened.map(|()| (buf, want))).is_err() || failed {
                    return;
                }
            }
        });
        // Owned here, so that an early return drops it and the reading side, if it waits
        // for a buffer back, stops instead of keeping the scope open.
        let empty_tx = empty_tx;
        for opened in full_rx {
            let (buf, len) = opened?;
            let mut plain: Vec<io::IoSlice> = buf.0[..len]
                .chunks(SEALED_CHUNK_LEN)
                .map(|chunk| io::IoSlice::new(&chunk[..chunk.len() - TAG_LEN]))
                .collect();
            disk::write_all_vectored(output, &mut plain)?;
            drop(plain);
            // The reading side is gone once it has read everything.
            let _ = empty_tx.send(buf);
        }
        Ok(())
    })
}

/// Opens, on every core, the sealed chunks lying back to back in `batch`, the first of them
/// numbered `next`; advances `next` past them.
fn open_batch(
    cipher: &LessSafeKey,
    aad: &[u8],
    batch: &mut [u8],
    next: &mut u64,
    chunk_count: u64,
) -> Result<(), BlobError> {
    let mut chunks: Vec<(u64, &mut [u8], bool)> = batch
        .chunks_mut(SEALED_CHUNK_LEN)
        .map(|chunk| {
            *next += 1;
            (*next - 1, chunk, false)
        })
        .collect();
    in_parallel(&mut chunks, |(index, chunk, ok)| {
        let flag = if *index == chunk_count - 1 {
            FLAG_LAST
        } else {
            FLAG_MIDDLE
        };
        *ok = cipher
            .open_in_place(nonce(*index, flag), Aad::from(aad), chunk)
            .is_ok();
    });
    match chunks.iter().find(|(_, _, ok)| !ok) {
        Some((index, _, _)) => Err(BlobError::ChunkFails(*index)),
        None => Ok(()),
    }
}

/// Checks that a blob decrypts and authenticates completely, without writing plaintext out.
pub fn verify_blob(dir: &Path, blob_id: &str, key: &Key32, size: u64) -> Result<(), BlobError> {
    read_blob(dir, blob_id, key, size, &mut io::sink())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(len: usize) {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let written = write_blob(dir.path(), &mut &data[..]).unwrap();
        assert_eq!(written.size, len as u64);
        let mut out = Vec::new();
        read_blob(
            dir.path(),
            &written.blob_id,
            &written.key,
            written.size,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, data);
        let on_disk = fs::metadata(dir.path().join(&written.blob_id))
            .unwrap()
            .len();
        assert_eq!(on_disk, crypto::padme(ciphertext_len(len as u64)));
    }

    #[test]
    fn blobs_round_trip_at_chunk_boundaries() {
        for len in [
            0,
            1,
            CHUNK_LEN - 1,
            CHUNK_LEN,
            CHUNK_LEN + 1,
            3 * CHUNK_LEN,
            70 * CHUNK_LEN + 5,
        ] {
            round_trip(len);
        }
    }

    #[test]
    fn blob_files_carry_the_constant_time_and_removal_shreds_them() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("space");
        let w = write_blob(&blobs, &mut &[1u8; 5000][..]).unwrap();
        let path = blob_path(&blobs, &w.blob_id);
        for p in [&path, &blobs, &dir.path().to_path_buf()] {
            assert_eq!(fs::metadata(p).unwrap().mtime(), fsprotect::FLAT_TIME);
        }
        verify_blob(&blobs, &w.blob_id, &w.key, w.size).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().atime(), fsprotect::FLAT_TIME);

        let witness = dir.path().join("witness");
        fs::hard_link(&path, &witness).unwrap();
        let before = fs::read(&witness).unwrap();
        remove_blob(&blobs, &w.blob_id).unwrap();
        assert!(matches!(
            verify_blob(&blobs, &w.blob_id, &w.key, w.size),
            Err(BlobError::Missing)
        ));
        assert_ne!(fs::read(&witness).unwrap(), before);
        assert_eq!(fs::metadata(&blobs).unwrap().mtime(), fsprotect::FLAT_TIME);
    }

    #[test]
    fn flipped_reordered_or_cut_blobs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = vec![7u8; 3 * CHUNK_LEN + 10];
        let w = write_blob(dir.path(), &mut &data[..]).unwrap();
        let path = dir.path().join(&w.blob_id);
        let original = fs::read(&path).unwrap();

        let mut flipped = original.clone();
        flipped[HEADER_LEN + SEALED_CHUNK_LEN + 5] ^= 1;
        fs::write(&path, &flipped).unwrap();
        let err = verify_blob(dir.path(), &w.blob_id, &w.key, w.size).unwrap_err();
        assert!(matches!(err, BlobError::ChunkFails(1)), "{err}");

        let mut swapped = original.clone();
        let (a, b) = (HEADER_LEN, HEADER_LEN + SEALED_CHUNK_LEN);
        let first = original[a..b].to_vec();
        swapped[a..b].copy_from_slice(&original[b..b + SEALED_CHUNK_LEN]);
        swapped[b..b + SEALED_CHUNK_LEN].copy_from_slice(&first);
        fs::write(&path, &swapped).unwrap();
        assert!(verify_blob(dir.path(), &w.blob_id, &w.key, w.size).is_err());

        fs::write(&path, &original[..HEADER_LEN + SEALED_CHUNK_LEN]).unwrap();
        let err = verify_blob(dir.path(), &w.blob_id, &w.key, w.size).unwrap_err();
        assert!(matches!(err, BlobError::Truncated), "{err}");

        // Claiming a shorter size (dropping the tail) fails: the new last chunk lacks its flag.
        fs::write(&path, &original).unwrap();
        assert!(verify_blob(dir.path(), &w.blob_id, &w.key, 2 * CHUNK_LEN as u64 + 10).is_err());
        verify_blob(dir.path(), &w.blob_id, &w.key, w.size).unwrap();
    }
}
