//! Writing a file the user asked for (an extracted attachment, a backup) so that it appears
//! whole or not at all: never half-written under its name, never as a visible partial file
//! left by a crash or a `kill -9`.
//!
//! On Linux the data goes into an unnamed file (`O_TMPFILE`) in the target's directory, which
//! vanishes by itself if posbon dies; only once complete and synced is it given a name and
//! renamed over the target. Where the filesystem has no `O_TMPFILE`, a hidden named file is
//! used instead and removed on error.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::words;
use crate::{crypto, disk};

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn cannot_write(path: &Path) -> String {
    words::with("cannot-write", &[("path", &path.display().to_string())])
}

fn hidden_name(out: &Path) -> PathBuf {
    parent_of(out).join(format!(
        ".posbon-write-{}",
        hex::encode(crypto::random_array::<8>())
    ))
}

/// Makes a rename durable: the directory entry is on disk once its directory is synced.
pub fn sync_parent(path: &Path) -> Result<()> {
    let parent = parent_of(path);
    File::open(parent)
        .and_then(|d| d.sync_all())
        .with_context(|| words::with("cannot-sync", &[("path", &parent.display().to_string())]))
}

/// Gives an unnamed `O_TMPFILE` file the name `name`.
fn link_unnamed(file: &File, name: &Path) -> io::Result<()> {
    let proc_path = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .expect("no NUL in a /proc path");
    let target = std::ffi::CString::new(name.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the file name"))?;
    // SAFETY: both are valid C strings; linkat does not keep the pointers.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            proc_path.as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes `out` through `fill`; the file appears under `out` only when `fill` succeeded and
/// the data is on disk.
pub fn write_whole<T>(out: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
    let unnamed = OpenOptions::new()
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(parent_of(out));
    let (file, named) = match unnamed {
        Ok(file) => (file, None),
        Err(_) => {
            let hidden = hidden_name(out);
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&hidden)
                .with_context(|| cannot_write(&hidden))?;
            (file, Some(hidden))
        }
    };
    let result = (|| -> Result<T> {
        // Sent to the disk as it is written, so that the sync below waits for little.
        let mut writer = io::BufWriter::with_capacity(1 << 20, disk::Writeback::new(&file));
        let value = fill(&mut writer)?;
        writer.flush()?;
        drop(writer);
        file.sync_all()?;
        let temp = match &named {
            Some(hidden) => hidden.clone(),
            None => {
                let temp = hidden_name(out);
                link_unnamed(&file, &temp).with_context(|| cannot_write(out))?;
                temp
            }
        };
        if let Err(e) = fs::rename(&temp, out) {
            let _ = fs::remove_file(&temp);
            return Err(e).with_context(|| cannot_write(out));
        }
        sync_parent(out)?;
        Ok(value)
    })();
    if result.is_err()
        && let Some(hidden) = &named
    {
        let _ = fs::remove_file(hidden);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_nothing_and_a_good_one_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.bin");
        let failed: Result<()> = write_whole(&out, |w| {
            w.write_all(b"partial plaintext")?;
            anyhow::bail!("tampered chunk")
        });
        assert!(failed.is_err());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file, hidden or not"
        );
        fs::write(&out, b"old").unwrap();
        write_whole(&out, |w| Ok(w.write_all(b"new")?)).unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
