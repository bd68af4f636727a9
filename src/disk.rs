//! Free space, checked before the databases are opened or written. The vault's `sled` store
//! does not survive running out of disk (a write that fails half-way can leave its log
//! unreadable), so posbon refuses to write below a margin, with a clear error, instead of
//! finding out. The watcher's SQLite store would roll back a transaction that does not fit;
//! it is checked the same way, so that a full disk gives the same clear error everywhere.

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
}
