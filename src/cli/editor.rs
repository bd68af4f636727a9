//! Editing a body in `$VISUAL`/`$EDITOR` without plaintext touching a disk.
//!
//! The text goes into a private directory on a RAM-backed filesystem (`$XDG_RUNTIME_DIR` or
//! `/dev/shm`, checked to really be tmpfs or ramfs), mode 0700/0600. When the editor exits,
//! or fails, or the user presses Ctrl-C or closes the terminal, the file is overwritten with
//! zeros and removed, and the directory with it; scratch left by a killed edit is swept at the
//! next edit. Without such a filesystem editing is refused. (tmpfs pages can be swapped out
//! under memory pressure: a machine with encrypted or no swap closes that gap.)

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

/// The signals that would otherwise end posbon before it wipes the scratch file: Ctrl-C, the
/// terminal closing, a polite kill, Ctrl-\\.
const CAUGHT: [libc::c_int; 4] = [libc::SIGINT, libc::SIGHUP, libc::SIGTERM, libc::SIGQUIT];

/// Removes scratch directories of this user left by an edit that was killed outright
/// (`kill -9` or a power cut of a RAM disk leaves nothing, but a kill does).
fn sweep_stale(base: &Path) {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name.to_string_lossy().starts_with("posbon-edit-")
            && entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if ours {
            drop(Scratch {
                file: entry.path().join("body.txt"),
                dir: entry.path(),
            });
        }
    }
}

/// Lets the user edit `initial` in their editor and returns the result.
pub fn edit(initial: &str) -> Result<Zeroizing<String>> {
    let Some(base) = ram_dir() else {
        bail!(
            "no RAM-backed directory (tmpfs) is available for editing, and plaintext must not touch the disk; \
             give the body on stdin or with --body-file instead"
        );
    };
    sweep_stale(&base);
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
    // Ctrl-C or a closing terminal reaches the editor and us alike; we catch them (not ignore
    // them, which the editor would inherit) so that the scratch file is always wiped.
    let previous: Vec<libc::sighandler_t> = CAUGHT
        .iter()
        // SAFETY: installing a handler that does nothing is async-signal-safe.
        .map(|signal| unsafe {
            libc::signal(*signal, ignore_signal as *const () as libc::sighandler_t)
        })
        .collect();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("posbon-editor")
        .arg(&scratch.file)
        .status();
    for (signal, handler) in CAUGHT.iter().zip(previous) {
        // SAFETY: restores the handler that was there before.
        unsafe { libc::signal(*signal, handler) };
    }
    let status = status.with_context(|| format!("cannot start the editor {editor:?}"))?;
    if !status.success() {
        bail!("the editor exited with {status}; nothing was saved");
    }
    let bytes = Zeroizing::new(fs::read(&scratch.file)?);
    let text = std::str::from_utf8(&bytes).context("the edited text is not UTF-8")?;
    Ok(Zeroizing::new(text.to_string()))
}
