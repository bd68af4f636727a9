//! Free space, checked before the databases are opened or written. The vault's `sled` store
//! does not survive running out of disk (a write that fails half-way can leave its log
//! unreadable), so posbon refuses to write below a margin, with a clear error, instead of
//! finding out. The watcher's SQLite store would roll back a transaction that does not fit;
//! it is checked the same way, so that a full disk gives the same clear error everywhere.
//!
//! Also [`Writeback`]: large files (attachments, extracted files) sent to the disk while
//! they are being made, so that their final fsync finds little left to write.

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Free space needed to open a database (recovery may write a little).
pub const TO_OPEN: u64 = 2 * 1024 * 1024;
/// Free space needed before a write.
pub const TO_WRITE: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the disk holding {path} is full ({free_kib} KiB free; posbon needs {needed_kib} KiB to write safely): free some space and try again; nothing was changed"
)]
pub struct DiskFull {
    pub path: String,
    pub free_kib: u64,
    pub needed_kib: u64,
}

/// Bytes available to this user on the file system holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("a path with a NUL byte"))?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: c_path is a valid C string and stats points to writable memory of the right
    // type; statvfs fills it entirely when it returns 0.
    let result = unsafe { libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so the struct is initialised.
    let stats = unsafe { stats.assume_init() };
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Ok((stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64))
}

/// Fails with [`DiskFull`] when less than `needed` bytes are free where `path` lives (the
/// nearest existing ancestor of `path`). An unreadable file system passes: the write itself
/// then reports the real error.
pub fn ensure_room(path: &Path, needed: u64) -> Result<(), DiskFull> {
    let mut probe = path;
    while !probe.exists() {
        match probe.parent() {
            Some(parent) => probe = parent,
            None => return Ok(()),
        }
    }
    match free_bytes(probe) {
        Ok(free) if free < needed => Err(DiskFull {
            path: path.display().to_string(),
            free_kib: free / 1024,
            needed_kib: needed / 1024,
        }),
        _ => Ok(()),
    }
}

/// Bytes written between two requests to start writing them out.
const WRITEBACK_STEP: u64 = 8 << 20;

/// Writes a file from its start, and has the kernel start sending each [`WRITEBACK_STEP`]
/// bytes to the disk as soon as they are written.
///
/// Linux keeps written bytes in memory until a tenth of RAM is dirty or 30 seconds have
/// passed, so a file that is made and then fsynced (as `dd conv=fsync` does) leaves the disk
/// idle while it is being made, and the fsync waits for all of it. Here the disk writes
/// while the next bytes are being encrypted, and the fsync waits only for the last few MiB.
/// It is only a hint (`sync_file_range` with `SYNC_FILE_RANGE_WRITE`, which waits for
/// nothing and promises nothing): durability still comes from the fsync, which the caller
/// makes as before.
pub struct Writeback<'f> {
    file: &'f File,
    written: u64,
    started: u64,
}

impl<'f> Writeback<'f> {
    /// For `file`, opened empty (or positioned at its start).
    pub fn new(file: &'f File) -> Self {
        Writeback {
            file,
            written: 0,
            started: 0,
        }
    }

    fn advance(&mut self, n: usize) {
        self.written += n as u64;
        if self.written - self.started >= WRITEBACK_STEP {
            // SAFETY: a plain system call on a descriptor `self.file` keeps open; errors are
            // ignored on purpose, the caller's fsync reports any that matter.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    self.started as libc::off64_t,
                    (self.written - self.started) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
            self.started = self.written;
        }
    }
}

impl Write for Writeback<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&*self.file).write(buf)?;
        self.advance(n);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let n = (&*self.file).write_vectored(bufs)?;
        self.advance(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `write_all` for pieces that go out one after the other (one `writev` when it takes them
/// all, as files do).
pub fn write_all_vectored(out: &mut dyn Write, mut pieces: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut pieces, 0);
    while !pieces.is_empty() {
        match out.write_vectored(pieces) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut pieces, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_read_and_compared() {
        let temp = tempfile::tempdir().unwrap();
        assert!(free_bytes(temp.path()).unwrap() > 0);
        ensure_room(&temp.path().join("not/yet/there"), 1).unwrap();
        let full = ensure_room(temp.path(), u64::MAX).unwrap_err();
        assert!(full.to_string().contains("is full"));
    }

    #[test]
    fn writeback_and_vectored_writes_write_every_byte_in_order() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("out");
        let file = File::create(&path).unwrap();
        let big = vec![7u8; (WRITEBACK_STEP + 5) as usize];
        let mut out = Writeback::new(&file);
        out.write_all(b"head").unwrap();
        write_all_vectored(
            &mut out,
            &mut [IoSlice::new(&big), IoSlice::new(b""), IoSlice::new(b"tail")],
        )
        .unwrap();
        let mut expected = b"head".to_vec();
        expected.extend_from_slice(&big);
        expected.extend_from_slice(b"tail");
        assert!(std::fs::read(&path).unwrap() == expected);
    }
}
