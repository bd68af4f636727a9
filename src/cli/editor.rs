//! Editing a body in `$VISUAL`/`$EDITOR` without plaintext touching a disk.
//!
//! The text goes into a private directory on a RAM-backed filesystem (`$XDG_RUNTIME_DIR` or
//! `/dev/shm`, checked to really be tmpfs or ramfs), mode 0700/0600. When the editor exits,
//! or fails, or the user presses Ctrl-C or closes the terminal, every file in it is overwritten
//! with zeros and removed, and the directory with it; scratch left by a killed edit is swept at
//! the next edit. Without such a filesystem editing is refused. (tmpfs pages can be swapped out
//! under memory pressure: a machine with encrypted or no swap closes that gap.)
//!
//! The file is not the only place an editor writes what is typed: vim keeps registers in
//! `~/.viminfo`, Neovim in its ShaDa file, nano its search history, and swap, backup, undo and
//! auto-save files go wherever the editor's configuration says (a forensic examination found
//! an edited source's text in `~/.viminfo`). So the editor runs with `HOME`, the XDG
//! directories and `TMPDIR` inside the scratch directory, wiped with it; and the editors we
//! know (vim, Neovim, nano, Emacs) are also told on their command line to keep no such files,
//! which wins over any configuration they read. The price: the editor starts without the
//! user's own configuration.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use super::words;
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

/// Removes the editing directory however the edit ends, overwriting its files first.
struct Scratch {
    dir: PathBuf,
    file: PathBuf,
}

/// Overwrites every regular file below `dir` with zeros. Symbolic links are not followed: an
/// editor (or someone else) could have left one pointing at a file that is not ours.
fn zero_files_below(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            zero_files_below(&path);
        } else if meta.is_file()
            && let Ok(mut f) = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
        {
            let zeros = vec![0u8; meta.len() as usize];
            let _ = f.write_all(&zeros);
            let _ = f.sync_all();
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // The body, and whatever the editor left beside it or in its home: swap and backup
        // files (.body.txt.swp, body.txt~), history, undo and auto-save files.
        zero_files_below(&self.dir);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The editors whose own records of what was typed we know how to switch off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Vim,
    Neovim,
    Nano,
    Emacs,
    /// Any other editor: it still gets the home inside the scratch directory.
    Other,
}

/// The family of an editor from its program's file name, after symbolic links are followed
/// (Debian's `vi` is `/etc/alternatives/vi`, which is `vim.basic` or `vim.tiny`).
fn family_of(file_name: &str) -> Family {
    let base = file_name.split('.').next().unwrap_or(file_name);
    match base {
        "vim" | "gvim" | "vimx" | "rvim" | "view" | "rview" | "gview" => Family::Vim,
        "nvim" => Family::Neovim,
        "nano" | "rnano" => Family::Nano,
        // emacs-gtk, emacs-nox, emacs-lucid; not emacsclient, which hands the file to a
        // running Emacs that this process cannot reconfigure.
        "emacs" => Family::Emacs,
        _ if base.starts_with("emacs-") => Family::Emacs,
        _ => Family::Other,
    }
}

/// The options that stop an editor of this family from writing what is typed anywhere but
/// the file. They come after the user's own options, so they win over them and over every
/// configuration file (vim runs `-c` commands after its vimrc).
fn no_trace_options(family: Family) -> &'static [&'static str] {
    match family {
        // -n: no swap file; -i NONE: no viminfo (registers, history, marks). A vimrc can set
        // 'viminfofile' again, and 'backup' and 'undofile', so they are switched off after it.
        // Each `silent!` stands alone so that an option this vim lacks (vim.tiny has no
        // persistent undo) does not stop the ones after it.
        Family::Vim => &[
            "-n",
            "-i",
            "NONE",
            "-c",
            "silent! set nobackup | silent! set nowritebackup | silent! set noundofile \
             | silent! set viminfo= | silent! set viminfofile=NONE",
        ],
        // Neovim keeps its registers and history in the ShaDa file rather than viminfo.
        Family::Neovim => &[
            "-n",
            "-i",
            "NONE",
            "-c",
            "silent! set nobackup | silent! set nowritebackup | silent! set noundofile \
             | silent! set shada= | silent! set shadafile=NONE",
        ],
        // nano keeps search history, cursor positions and backups only when a nanorc says so
        // (`set historylog`, `positionlog`, `backup`); -I reads no nanorc at all.
        Family::Nano => &["-I"],
        // -Q: no init files (which may turn on savehist or desktop saving); then no backup,
        // auto-save, lock or auto-save-list files.
        Family::Emacs => &[
            "-Q",
            "--eval",
            "(setq make-backup-files nil auto-save-default nil create-lockfiles nil \
             auto-save-list-file-prefix nil)",
        ],
        Family::Other => &[],
    }
}

/// The program an editor command starts: its first word that is not a `NAME=value`
/// assignment (`$EDITOR` is run by the shell, so `TERM=xterm vim -u NONE` is allowed).
fn program_of(editor: &str) -> Option<&str> {
    editor
        .split_whitespace()
        .find(|word| !word.contains('='))
        .map(|word| word.trim_matches(['"', '\'']))
}

/// Finds `program` the way the shell will (a path, or the first match in `$PATH`) and
/// follows its symbolic links.
fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return fs::canonicalize(program).ok();
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .and_then(|path| fs::canonicalize(path).ok())
}

/// What kind of editor `editor` (the text of `$VISUAL`/`$EDITOR`) starts.
fn family(editor: &str) -> Family {
    program_of(editor)
        .and_then(resolve)
        .and_then(|path| path.file_name().map(|n| family_of(&n.to_string_lossy())))
        .unwrap_or(Family::Other)
}

/// Where the editor's home and XDG directories go, inside the scratch directory: every
/// history, state, cache or temporary file it writes by default lands there and is wiped.
fn editor_home(dir: &Path) -> Result<Vec<(&'static str, PathBuf)>> {
    let home = dir.join("home");
    let places = vec![
        ("XDG_CONFIG_HOME", home.join(".config")),
        ("XDG_DATA_HOME", home.join(".local/share")),
        ("XDG_STATE_HOME", home.join(".local/state")),
        ("XDG_CACHE_HOME", home.join(".cache")),
        ("TMPDIR", home.join("tmp")),
        ("HOME", home),
    ];
    for (_, path) in &places {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .with_context(|| cannot_create(path))?;
    }
    Ok(places)
}

fn cannot_create(path: &Path) -> String {
    words::with("cannot-create", &[("path", &path.display().to_string())])
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
        bail!(words::t("editor-no-ram"));
    };
    sweep_stale(&base);
    let dir = base.join(format!(
        "posbon-edit-{}",
        hex::encode(crypto::random_array::<8>())
    ));
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| cannot_create(&dir))?;
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

    let places = editor_home(&scratch.dir)?;

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
    // The user's command keeps its own arguments; ours follow them, then the file.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg("posbon-editor")
        .args(no_trace_options(family(&editor)))
        .arg(&scratch.file)
        .envs(places)
        // A shell started from the editor (`:!`) would append to this file, wherever it is;
        // without it, shells write their history into the scratch home.
        .env_remove("HISTFILE")
        .status();
    for (signal, handler) in CAUGHT.iter().zip(previous) {
        // SAFETY: restores the handler that was there before.
        unsafe { libc::signal(*signal, handler) };
    }
    let status = status.with_context(|| {
        words::with("editor-not-started", &[("editor", &format!("{editor:?}"))])
    })?;
    if !status.success() {
        bail!(words::with(
            "editor-failed",
            &[("status", &status.to_string())]
        ));
    }
    let bytes = Zeroizing::new(fs::read(&scratch.file)?);
    let text = std::str::from_utf8(&bytes).with_context(|| words::t("editor-not-utf8"))?;
    Ok(Zeroizing::new(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_is_the_first_word_that_is_not_an_assignment() {
        assert_eq!(program_of("vim"), Some("vim"));
        assert_eq!(
            program_of("TERM=xterm /usr/bin/vim -u NONE"),
            Some("/usr/bin/vim")
        );
        assert_eq!(program_of("\"/usr/bin/vim\" -u NONE"), Some("/usr/bin/vim"));
        assert_eq!(program_of("   "), None);
    }

    #[test]
    fn debian_names_of_each_editor_are_recognised() {
        for vim in [
            "vim",
            "vim.basic",
            "vim.tiny",
            "vim.nox",
            "vim.gtk3",
            "gvim",
            "view",
        ] {
            assert_eq!(family_of(vim), Family::Vim, "{vim}");
        }
        assert_eq!(family_of("nvim"), Family::Neovim);
        assert_eq!(family_of("nano"), Family::Nano);
        for emacs in ["emacs", "emacs-gtk", "emacs-nox"] {
            assert_eq!(family_of(emacs), Family::Emacs, "{emacs}");
        }
        // Not told vim's options: BusyBox's vi and nvi would refuse them.
        for other in ["busybox", "nvi", "vi", "emacsclient", "code", "ed"] {
            assert_eq!(family_of(other), Family::Other, "{other}");
        }
    }

    #[test]
    fn an_editor_without_known_options_gets_none() {
        assert!(no_trace_options(Family::Other).is_empty());
        assert!(no_trace_options(Family::Vim).contains(&"-n"));
        assert!(no_trace_options(Family::Neovim).contains(&"NONE"));
    }

    #[test]
    fn vi_is_recognised_through_the_links_to_what_it_really_is() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("vim.basic");
        fs::write(&real, "").unwrap();
        let link = dir.path().join("vi");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(family(&format!("{} -u NONE", link.display())), Family::Vim);
        let busybox = dir.path().join("busybox");
        fs::write(&busybox, "").unwrap();
        let other_vi = dir.path().join("bvi");
        std::os::unix::fs::symlink(&busybox, &other_vi).unwrap();
        assert_eq!(family(&other_vi.display().to_string()), Family::Other);
        assert_eq!(family("/no/such/editor"), Family::Other);
    }

    #[test]
    fn scratch_is_wiped_with_everything_the_editor_left_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let scratch_dir = dir.path().join("posbon-edit-test");
        let home = scratch_dir.join("home/.local/share/nano");
        fs::create_dir_all(&home).unwrap();
        fs::write(scratch_dir.join("body.txt"), "typed").unwrap();
        fs::write(home.join("search_history"), "typed").unwrap();
        let outside = dir.path().join("outside");
        fs::write(&outside, "not ours").unwrap();
        std::os::unix::fs::symlink(&outside, scratch_dir.join("link")).unwrap();
        drop(Scratch {
            file: scratch_dir.join("body.txt"),
            dir: scratch_dir.clone(),
        });
        assert!(!scratch_dir.exists());
        assert_eq!(fs::read_to_string(&outside).unwrap(), "not ours");
    }
}
