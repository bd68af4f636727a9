//! What the filesystem under the vault keeps behind its back, and what posbon can do about it.
//!
//! Crypto-erase (`panic`) works only if overwriting a file overwrites the blocks that held
//! it. Copy-on-write filesystems (btrfs, ZFS, bcachefs) and log-structured ones (f2fs,
//! nilfs2) write every change to new blocks and leave the old ones behind, where a forensic
//! examiner can carve them: on btrfs, 26 old copies of a 758-byte key-slot file were found
//! after `panic`, and 20 still opened (issue 11). This module:
//!
//! - names the filesystem a path lives on ([`filesystem_of`], by its `statfs` magic number);
//! - on btrfs, sets the no-copy-on-write attribute (`chattr +C`) on the vault directory
//!   before anything is made in it, so that every file and directory made in it inherits it
//!   and is overwritten in place ([`prepare_private_dir`]); elsewhere it says what cannot be
//!   done ([`erasure_risk`]);
//! - overwrites files with random bytes before removing them ([`shred`]);
//! - sets the access and modification times of the vault's files and directories to one
//!   constant ([`FLAT_TIME`], [`flatten_times`]), so they do not record when the vault was
//!   used, and opens files for reading without updating their access time ([`open_quietly`]).
//!
//! None of this reaches below the filesystem: an SSD's flash translation layer, snapshots
//! taken earlier, and the journal of a journaling filesystem are out of any program's reach
//! (see `threat-model.md`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::crypto;

/// The time every file and directory of the vault is given: 2000-01-01T00:00:00Z, in seconds
/// since the Unix epoch. Not the epoch itself: FAT, exFAT and zip cannot store times before
/// 1980, so a vault copied onto a USB stick would get clamped or refused times.
pub const FLAT_TIME: i64 = 946_684_800;

// statfs magic numbers (Linux `include/uapi/linux/magic.h`, ZFS and bcachefs sources).
const BTRFS_MAGIC: u32 = 0x9123_683E;
const ZFS_MAGIC: u32 = 0x2FC1_2FC1;
const BCACHEFS_MAGIC: u32 = 0xCA45_1A4E;
const F2FS_MAGIC: u32 = 0xF2F5_2010;
const NILFS_MAGIC: u32 = 0x3434;
const EXT4_MAGIC: u32 = 0xEF53; // also ext2 and ext3
const XFS_MAGIC: u32 = 0x5846_5342;
const TMPFS_MAGIC: u32 = 0x0102_1994;
const RAMFS_MAGIC: u32 = 0x8584_58F6;

// Inode attribute flags (`include/uapi/linux/fs.h`), read and written with
// FS_IOC_GETFLAGS / FS_IOC_SETFLAGS like `lsattr` and `chattr`.
const FS_NOCOW_FL: libc::c_int = 0x0080_0000;

/// A file smaller than this may be stored inline in btrfs metadata, which is always
/// copy-on-write whatever the file's attribute says (inline data must fit in one page).
const BTRFS_INLINE_BELOW: u64 = 4096;

/// The filesystem a path lives on, as far as erasure is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filesystem {
    Btrfs,
    Zfs,
    Bcachefs,
    F2fs,
    Nilfs2,
    /// ext2, ext3 or ext4 (they share a magic number).
    Ext4,
    Xfs,
    Tmpfs,
    Ramfs,
    /// Any other, by its magic number.
    Other(u32),
}

/// How a filesystem treats a rewrite of a file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Rewritten blocks are overwritten where they are (ext4, XFS; tmpfs and ramfs in RAM).
    InPlace,
    /// Copy-on-write, except for files with the no-copy-on-write attribute (btrfs).
    CopiesUnlessNocow,
    /// Always written somewhere new, with no per-file way out that posbon uses: ZFS;
    /// bcachefs (its experimental `nocow` option still copies around snapshots and reflinks,
    /// and posbon does not rely on it); the log-structured f2fs and nilfs2.
    AlwaysCopies,
    /// A filesystem posbon knows nothing about (network, FUSE, overlay...).
    Unknown,
}

impl Filesystem {
    fn from_magic(magic: u32) -> Filesystem {
        match magic {
            BTRFS_MAGIC => Filesystem::Btrfs,
            ZFS_MAGIC => Filesystem::Zfs,
            BCACHEFS_MAGIC => Filesystem::Bcachefs,
            F2FS_MAGIC => Filesystem::F2fs,
            NILFS_MAGIC => Filesystem::Nilfs2,
            EXT4_MAGIC => Filesystem::Ext4,
            XFS_MAGIC => Filesystem::Xfs,
            TMPFS_MAGIC => Filesystem::Tmpfs,
            RAMFS_MAGIC => Filesystem::Ramfs,
            other => Filesystem::Other(other),
        }
    }

    pub fn overwrite(self) -> Overwrite {
        match self {
            Filesystem::Btrfs => Overwrite::CopiesUnlessNocow,
            Filesystem::Zfs | Filesystem::Bcachefs | Filesystem::F2fs | Filesystem::Nilfs2 => {
                Overwrite::AlwaysCopies
            }
            Filesystem::Ext4 | Filesystem::Xfs | Filesystem::Tmpfs | Filesystem::Ramfs => {
                Overwrite::InPlace
            }
            Filesystem::Other(_) => Overwrite::Unknown,
        }
    }
}

impl std::fmt::Display for Filesystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filesystem::Btrfs => f.write_str("btrfs"),
            Filesystem::Zfs => f.write_str("ZFS"),
            Filesystem::Bcachefs => f.write_str("bcachefs"),
            Filesystem::F2fs => f.write_str("f2fs"),
            Filesystem::Nilfs2 => f.write_str("nilfs2"),
            Filesystem::Ext4 => f.write_str("ext2/3/4"),
            Filesystem::Xfs => f.write_str("XFS"),
            Filesystem::Tmpfs => f.write_str("tmpfs"),
            Filesystem::Ramfs => f.write_str("ramfs"),
            Filesystem::Other(magic) => write!(f, "a filesystem with magic number {magic:#x}"),
        }
    }
}

fn c_path(path: &Path) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
}

/// The filesystem holding `path` (which must exist).
pub fn filesystem_of(path: &Path) -> io::Result<Filesystem> {
    let c_path = c_path(path)?;
    let mut stats = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: c_path is a valid C string and stats points to writable memory of the right
    // type; statfs fills it entirely when it returns 0.
    let result = unsafe { libc::statfs(c_path.as_ptr(), stats.as_mut_ptr()) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statfs returned 0, so the struct is initialised.
    let stats = unsafe { stats.assume_init() };
    // f_type is a signed word of platform size; the magic numbers are 32-bit patterns
    // (btrfs's has the top bit set), so keep the low 32 bits.
    #[allow(clippy::unnecessary_cast)] // the field's type differs between platforms
    Ok(Filesystem::from_magic(stats.f_type as u32))
}

/// Reads a file's inode attribute flags (what `lsattr` shows).
fn get_flags(file: &File) -> io::Result<libc::c_int> {
    let mut flags: libc::c_int = 0;
    // SAFETY: the descriptor is open for the call's duration and `flags` is a writable int,
    // which is what the kernel writes for FS_IOC_GETFLAGS (despite the `long` in its name).
    let result = unsafe { libc::ioctl(file.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags)
}

fn set_flags(file: &File, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: the descriptor is open for the call's duration and `flags` is a readable int.
    let result = unsafe { libc::ioctl(file.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Opens a file or directory only to read its attributes: never through a symbolic link,
/// never blocking on a FIFO someone planted.
fn open_for_attributes(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Whether `path` has the no-copy-on-write attribute (`lsattr` shows `C`).
pub fn is_nocow(path: &Path) -> io::Result<bool> {
    Ok(get_flags(&open_for_attributes(path)?)? & FS_NOCOW_FL != 0)
}

/// Sets the no-copy-on-write attribute on a directory, and checks that it holds (btrfs
/// ignores it silently in some cases, and refuses it on a directory marked for compression).
fn set_nocow(dir: &Path) -> io::Result<()> {
    let file = open_for_attributes(dir)?;
    let flags = get_flags(&file)?;
    if flags & FS_NOCOW_FL != 0 {
        return Ok(());
    }
    set_flags(&file, flags | FS_NOCOW_FL)?;
    if get_flags(&file)? & FS_NOCOW_FL == 0 {
        return Err(io::Error::other(
            "the filesystem did not keep the attribute",
        ));
    }
    Ok(())
}

/// What [`prepare_private_dir`] could do for the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nocow {
    /// The filesystem overwrites in place; nothing to do.
    NotNeeded,
    /// btrfs: the directory has the no-copy-on-write attribute, which everything made in it
    /// from now on inherits.
    Set,
    /// btrfs, but the attribute could not be set (the reason).
    Failed(String),
    /// The filesystem always writes changes somewhere new; no attribute helps.
    Impossible(Filesystem),
    /// Unknown filesystem, or it could not be asked (the reason).
    Unknown(String),
}

/// Prepares an (empty) directory to hold files that must be erasable: on btrfs, sets the
/// no-copy-on-write attribute, which files and directories made in it afterwards inherit.
/// Files that already hold data keep being copied, so this must run before anything is
/// written in the directory. Never fails: the answer says what could and could not be done.
pub fn prepare_private_dir(dir: &Path) -> Nocow {
    let filesystem = match filesystem_of(dir) {
        Ok(filesystem) => filesystem,
        Err(e) => return Nocow::Unknown(format!("statfs failed: {e}")),
    };
    match filesystem.overwrite() {
        Overwrite::InPlace => Nocow::NotNeeded,
        Overwrite::CopiesUnlessNocow => match set_nocow(dir) {
            Ok(()) => Nocow::Set,
            Err(e) => Nocow::Failed(e.to_string()),
        },
        Overwrite::AlwaysCopies => Nocow::Impossible(filesystem),
        Overwrite::Unknown => Nocow::Unknown(filesystem.to_string()),
    }
}

/// The filesystem `file` (the key-slot file) lives on when overwriting it may leave old
/// copies on the disk, so that `panic` cannot promise erasure; `None` when it is overwritten
/// in place as far as the filesystem goes (or the filesystem is unknown).
pub fn erasure_risk(file: &Path) -> Option<Filesystem> {
    let filesystem = filesystem_of(file).ok()?;
    let protected = match filesystem.overwrite() {
        Overwrite::InPlace | Overwrite::Unknown => true,
        Overwrite::CopiesUnlessNocow => {
            is_nocow(file).unwrap_or(false)
                && fs::metadata(file).is_ok_and(|m| m.len() >= BTRFS_INLINE_BELOW)
        }
        Overwrite::AlwaysCopies => false,
    };
    (!protected).then_some(filesystem)
}

/// Overwrites a regular file with random bytes, waits until that is on disk, then removes
/// it and makes the removal durable. On a copy-on-write filesystem (without the
/// no-copy-on-write attribute) the overwrite lands in new blocks and the old ones survive;
/// on an SSD the drive may keep old blocks internally: this is what a program can do, no more.
///
/// Overwriting is best effort: when it fails (say, a full copy-on-write disk, where even an
/// overwrite needs new space) the file is still removed. An error means the file could not
/// be removed. A symbolic link or anything but a regular file is refused and left alone.
///
/// The file is first renamed to `NAME.shred` (atomic): a kill during the overwrite then
/// leaves a file under that name, never a half-overwritten file under its own name that a
/// reader would take for damaged data. [`finish_shredding`] completes such leftovers.
pub fn shred(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file; not removed", path.display()),
        ));
    }
    let path = &if path.extension().is_some_and(|x| x == SHRED_SUFFIX) {
        path.to_path_buf()
    } else {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".");
        name.push(SHRED_SUFFIX);
        let hidden = path.with_file_name(name);
        fs::rename(path, &hidden)?;
        hidden
    };
    // Best effort by design (see above): removal must not depend on it.
    let _ = overwrite_with_noise(path);
    fs::remove_file(path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        flatten_times(parent)?;
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

const SHRED_SUFFIX: &str = "shred";

/// Shreds every `*.shred` file in `dir`: what a [`shred`] cut short by a crash left behind.
/// Returns how many.
pub fn finish_shredding(dir: &Path) -> io::Result<usize> {
    let mut done = 0;
    for entry in fs::read_dir(dir)?.flatten() {
        let path = entry.path();
        let leftover = path.extension().is_some_and(|x| x == SHRED_SUFFIX)
            && entry.file_type().is_ok_and(|t| t.is_file());
        if leftover && shred(&path).is_ok() {
            done += 1;
        }
    }
    Ok(done)
}

fn overwrite_with_noise(path: &Path) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut left = meta.len();
    let mut noise = vec![0u8; 1 << 16];
    while left > 0 {
        let take = left.min(noise.len() as u64) as usize;
        crypto::fill_random(&mut noise[..take]);
        file.write_all(&noise[..take])?;
        left -= take as u64;
    }
    file.sync_all()
}

fn flat_timespecs() -> [libc::timespec; 2] {
    let flat = libc::timespec {
        tv_sec: FLAT_TIME as libc::time_t,
        tv_nsec: 0,
    };
    [flat, flat]
}

/// Sets the access and modification times of `path` (not following a symbolic link) to
/// [`FLAT_TIME`]. The inode change time (ctime) cannot be set by any program: it still shows
/// when the file last changed.
pub fn flatten_times(path: &Path) -> io::Result<()> {
    let c_path = c_path(path)?;
    let times = flat_timespecs();
    // SAFETY: c_path is a valid C string and `times` two initialised timespecs, as
    // utimensat expects; neither is kept after the call.
    let result = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// [`flatten_times`] for an open file: call it after the last write and before the `fsync`,
/// so the flattened times reach the disk with the data.
pub fn flatten_file_times(file: &File) -> io::Result<()> {
    let times = flat_timespecs();
    // SAFETY: the descriptor is open for the call's duration and `times` holds two
    // initialised timespecs.
    let result = unsafe { libc::futimens(file.as_raw_fd(), times.as_ptr()) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// [`flatten_times`] for `dir` and everything below it, never following symbolic links.
/// The directories are done last, because listing them sets their access time.
pub fn flatten_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            flatten_tree(&path)?;
        } else {
            flatten_times(&path)?;
        }
    }
    flatten_times(dir)
}

/// Opens a file for reading without updating its access time (`O_NOATIME`), so that reading
/// the vault does not record when it was read. `O_NOATIME` is allowed only to the file's
/// owner; for anyone else (root reading another user's vault) the file is opened normally.
pub fn open_quietly(
    path: &Path,
    options: &mut OpenOptions,
    flags: libc::c_int,
) -> io::Result<File> {
    match options.custom_flags(flags | libc::O_NOATIME).open(path) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => options.custom_flags(flags).open(path),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn magic_numbers_name_their_filesystems_and_how_they_overwrite() {
        assert_eq!(Filesystem::from_magic(0x9123_683E), Filesystem::Btrfs);
        assert_eq!(
            Filesystem::from_magic(0x9123_683E).overwrite(),
            Overwrite::CopiesUnlessNocow
        );
        for copies in [ZFS_MAGIC, BCACHEFS_MAGIC, F2FS_MAGIC, NILFS_MAGIC] {
            assert_eq!(
                Filesystem::from_magic(copies).overwrite(),
                Overwrite::AlwaysCopies
            );
        }
        for in_place in [EXT4_MAGIC, XFS_MAGIC, TMPFS_MAGIC, RAMFS_MAGIC] {
            assert_eq!(
                Filesystem::from_magic(in_place).overwrite(),
                Overwrite::InPlace
            );
        }
        assert_eq!(
            Filesystem::from_magic(0x6969).overwrite(),
            Overwrite::Unknown
        );
    }

    #[test]
    fn the_filesystem_of_a_temporary_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let filesystem = filesystem_of(dir.path()).unwrap();
        assert!(!filesystem.to_string().is_empty());
        assert!(filesystem_of(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn shred_overwrites_the_bytes_before_removing_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let secret = vec![0x5Au8; 200_000];
        fs::write(&path, &secret).unwrap();
        // A second name for the same inode shows what the first name's blocks hold after.
        let witness = dir.path().join("witness");
        fs::hard_link(&path, &witness).unwrap();
        shred(&path).unwrap();
        assert!(!path.exists());
        let after = fs::read(&witness).unwrap();
        assert_eq!(after.len(), secret.len());
        let same = after.iter().zip(&secret).filter(|(a, b)| a == b).count();
        assert!(same < 2_000, "{same} bytes unchanged");
    }

    #[test]
    fn shred_refuses_symbolic_links_and_leaves_their_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"keep me").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(shred(&link).is_err());
        assert_eq!(fs::read(&target).unwrap(), b"keep me");
    }

    #[test]
    fn flattened_files_and_directories_carry_the_constant_time() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("file"), b"x").unwrap();
        flatten_tree(dir.path()).unwrap();
        for path in [dir.path().to_path_buf(), sub.clone(), sub.join("file")] {
            let meta = fs::symlink_metadata(&path).unwrap();
            assert_eq!(meta.mtime(), FLAT_TIME, "{}", path.display());
            assert_eq!(meta.atime(), FLAT_TIME, "{}", path.display());
        }
        // Reading quietly leaves the access time alone.
        let mut file = open_quietly(&sub.join("file"), OpenOptions::new().read(true), 0).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).unwrap();
        assert_eq!(fs::metadata(sub.join("file")).unwrap().atime(), FLAT_TIME);
    }
}
