//! Editing a body in `$VISUAL`/`$EDITOR` without plaintext touching a disk.
//!
//! The text goes into a private directory on a RAM-backed filesystem (`$XDG_RUNTIME_DIR` or
//! `/dev/shm`, checked to really be tmpfs or ramfs), mode 0700/0600. When the editor exits,
//! or fails, or the user presses Ctrl-C, the file is overwritten with zeros and removed, and
//! the directory with it. Without such a filesystem editing is refused.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::crypto;

const TMPFS_MAGIC: i64 = 0x0102_1994;
const RAMFS_MAGIC: i64 = 0x8584_58f6;

fn is_ram_backed(path: &Path) -> bool {
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: statfs writes into a zeroed struct we own; the path is a valid C string.
    unsafe {
        let mut stat: libc::statfs = std::mem::zeroed();
        if libc::statfs(c_path.as_ptr(), &mut stat) != 0 {
            return false;
        }
        let kind = stat.f_type as i64;
        kind == TMPFS_MAGIC || kind == RAMFS_MAGIC
    }
}

/// The RAM-backed directory to edit in, if this machine has one.
pub fn ram_dir() -> Option<PathBuf> {
    let candidates = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/dev/shm")]);
    candidates
        .into_iter()
        .find(|p| p.is_dir() && is_ram_backed(p))
}

/// Removes the editing directory however the edit ends, overwriting the file first.
struct Scratch {
    dir: PathBuf,
    file: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(meta) = fs::metadata(&self.file)
            && let Ok(mut f) = OpenOptions::new().write(true).open(&self.file)
        {
            let zeros = vec![0u8; meta.len() as usize];
            let _ = f.write_all(&zeros);
            let _ = f.sync_all();
        }
        // Editors leave swap and backup files (.body.txt.swp, body.txt~) next to the file.
        let _ = fs::remove_dir_all(&self.dir);
    }
}

extern "C" fn ignore_signal(_: libc::c_int) {}

/// Lets the user edit `initial` in their editor and returns the result.
pub fn edit(initial: &str) -> Result<Zeroizing<String>> {
    let Some(base) = ram_dir() else {
        bail!(
            "no RAM-backed directory (tmpfs) is available for editing, and plaintext must not touch the disk; \
             give the body on stdin or with --body-file instead"
        );
    };
    let dir = base.join(format!(
        "posbon-edit-{}",
        hex::encode(crypto::random_array::<8>())
    ));
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let scratch = Scratch {
        file: dir.join("body.txt"),
        dir,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&scratch.file)?;
    file.write_all(initial.as_bytes())?;
    drop(file);

    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_string());
    // Ctrl-C reaches the editor and us alike; we catch it (not ignore it, which the editor
    // would inherit) so that the scratch file is always wiped.
    // SAFETY: installing a handler that does nothing is async-signal-safe.
    let previous = unsafe {
        libc::signal(
            libc::SIGINT,
            ignore_signal as *const () as libc::sighandler_t,
        )
    };
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("posbon-editor")
        .arg(&scratch.file)
        .status();
    // SAFETY: restores the handler that was there before.
    unsafe { libc::signal(libc::SIGINT, previous) };
    let status = status.with_context(|| format!("cannot start the editor {editor:?}"))?;
    if !status.success() {
        bail!("the editor exited with {status}; nothing was saved");
    }
    let bytes = Zeroizing::new(fs::read(&scratch.file)?);
    let text = std::str::from_utf8(&bytes).context("the edited text is not UTF-8")?;
    Ok(Zeroizing::new(text.to_string()))
}
