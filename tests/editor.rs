//! The editor keeps nothing of what is typed on the disk (issue 11, finding A): not in the
//! user's home, the XDG directories or `TMPDIR`, and not in swap, backup, undo or viminfo
//! files, whatever the editor's configuration says. Run against a script that writes where
//! editors write, and against the real vim.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

/// The user's surroundings: a home with XDG directories and a temporary directory, as a
/// desktop session sets them, and a private RAM-backed runtime directory for the scratch space.
struct Surroundings {
    home: PathBuf,
    runtime: tempfile::TempDir,
    /// Editor scripts, vimrc and keystrokes: outside the places searched for typed text.
    tools: tempfile::TempDir,
}

impl Surroundings {
    /// `None` when this machine has no tmpfs at `/dev/shm` (posbon then refuses to edit).
    fn new(v: &TestVault) -> Option<Self> {
        let runtime = tempfile::Builder::new()
            .prefix("posbon-test-runtime-")
            .tempdir_in("/dev/shm")
            .ok()?;
        let home = v.path("home");
        for dir in [".config", ".local/share", ".local/state", ".cache", "tmp"] {
            fs::create_dir_all(home.join(dir)).unwrap();
        }
        Some(Surroundings {
            home,
            runtime,
            tools: tempfile::tempdir().unwrap(),
        })
    }

    /// Runs posbon with `EDITOR` set to `editor`, in these surroundings.
    fn run(&self, v: &TestVault, editor: &str, args: &[&str]) -> Output {
        let mut command = v.command();
        command
            .env("EDITOR", editor)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("TMPDIR", self.home.join("tmp"))
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("HISTFILE", self.home.join(".bash_history"))
            // A terminal vim can drive without asking it questions (the tests have none).
            .env("TERM", "dumb")
            .env("SHELL", "/bin/sh")
            .arg("--passphrase-file")
            .arg(&v.pass_file)
            .args(args);
        feed(command, b"")
    }

    fn tool(&self, name: &str, text: &str) -> PathBuf {
        let path = self.tools.path().join(name);
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// The scratch directories left in the runtime directory (there must be none).
    fn scratch_left(&self) -> Vec<PathBuf> {
        fs::read_dir(self.runtime.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }
}

/// Every file below `dir` (links not followed) whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if meta.is_file() {
            let bytes = fs::read(&path).unwrap();
            if bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
            {
                found.push(path);
            }
        }
    }
    found
}

fn succeeded(out: &Output) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out).trim().to_string()
}

#[test]
fn an_editor_that_writes_where_editors_keep_history_leaves_nothing_in_the_users_home() {
    let v = TestVault::new();
    let Some(place) = Surroundings::new(&v) else {
        eprintln!("skipping: this machine has no tmpfs at /dev/shm");
        return;
    };
    let typed = "Farhod-met-us-at-the-Varzob-post";
    let log = place.tools.path().join("env.log");
    // Writes the typed text where vim, Neovim, nano and others keep registers, history,
    // state, caches and temporary files by default, and a backup beside the file.
    let editor = place.tool(
        "editor.sh",
        &format!(
            "#!/bin/sh\nset -e\n\
             printf '%s\\n' \"$HOME\" \"$XDG_CONFIG_HOME\" \"$XDG_DATA_HOME\" \"$XDG_STATE_HOME\" \
             \"$XDG_CACHE_HOME\" \"$TMPDIR\" > {log}\n\
             echo \"${{HISTFILE:-unset}}\" >> {log}\n\
             mkdir -p \"$XDG_DATA_HOME/nano\" \"$XDG_STATE_HOME/nvim/shada\" \"$XDG_CACHE_HOME/ed\" \
             \"$XDG_CONFIG_HOME/ed\" \"$HOME/.local/share/ed\" \"$TMPDIR\"\n\
             for f in \"$HOME/.viminfo\" \"$XDG_DATA_HOME/nano/search_history\" \
             \"$XDG_STATE_HOME/nvim/shada/main.shada\" \"$XDG_CACHE_HOME/ed/undo\" \
             \"$XDG_CONFIG_HOME/ed/recent\" \"$HOME/.local/share/ed/history\" \"$TMPDIR/ed-tmp\"; do\n\
               printf '%s\\n' {typed} > \"$f\"\n\
             done\n\
             cp \"$1\" \"$1~\"\n\
             printf '%s\\n' {typed} >> \"$1\"\n\
             cp \"$1\" \"$1.swp\"\n",
            log = log.display()
        ),
    );
    let editor = editor.to_str().unwrap();

    let id = succeeded(&place.run(&v, editor, &["add", "draft", "--title", "road", "--editor"]));
    succeeded(&place.run(&v, editor, &["edit", &id, "--editor"]));
    let shown = v.ok(&["show", &id], "");
    assert_eq!(shown.matches(typed).count(), 2, "{shown}");

    let logged = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = logged.lines().collect();
    let runtime = place.runtime.path().to_str().unwrap();
    for line in &lines[..6] {
        assert!(
            line.starts_with(runtime),
            "the editor's home, XDG directories and TMPDIR must be in the scratch space: {logged}"
        );
    }
    assert_eq!(lines[6], "unset", "the editor must not inherit HISTFILE");
    assert_eq!(
        files_containing(v.temp.path(), typed),
        Vec::<PathBuf>::new(),
        "the typed text reached the disk"
    );
    assert_eq!(place.scratch_left(), Vec::<PathBuf>::new());
}

/// The real vim, with a configuration that asks for everything to be kept: swap, backup and
/// undo files and viminfo, all in the user's home (named by absolute paths, so that moving
/// `HOME` alone would not help). The keystrokes are fed with `-s`, as if typed.
fn hostile_vimrc(place: &Surroundings, name: &str, home: &Path) -> PathBuf {
    for dir in ["swap", "backup", "undo"] {
        fs::create_dir_all(home.join(dir)).unwrap();
    }
    place.tool(
        name,
        &format!(
            "set nocompatible\n\
             set swapfile updatecount=1 directory={h}/swap//\n\
             set backup writebackup backupdir={h}/backup\n\
             set undofile undodir={h}/undo\n\
             set viminfo='100,<500,s100,h viminfofile={h}/.viminfo\n",
            h = home.display()
        ),
    )
}

fn real_vim() {
    let found = std::process::Command::new("vim").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "this test drives the real vim: apt-get install vim"
    );
}

#[test]
fn real_vim_configured_to_keep_swap_backup_undo_and_viminfo_leaves_no_typed_text_on_disk() {
    real_vim();
    let v = TestVault::new();
    let Some(place) = Surroundings::new(&v) else {
        eprintln!("skipping: this machine has no tmpfs at /dev/shm");
        return;
    };
    let typed = "Dilnoza-keeps-the-ledger";
    let killed = "typed-before-vim-was-killed";
    let vimrc = hostile_vimrc(&place, "hostile.vim", &place.home);
    // Typed, yanked into a register, typed again (undo then holds the first version) and
    // searched for (search history): all of which vim keeps across sessions.
    let keys = place.tool(
        "keys",
        &format!("i{typed}\x1byyo{typed}, again\x1b/{typed}\n:wq\n"),
    );
    // A kill -9 halfway through: vim has no chance to delete its swap file.
    let kill_keys = place.tool("kill-keys", &format!("o{killed}\x1b:!kill -9 $PPID\n"));
    let vim = |keys: &Path| {
        format!(
            "vim --not-a-term -u {} -s {} >/dev/null",
            vimrc.display(),
            keys.display()
        )
    };

    // The control: this configuration, run without posbon, does keep the typed text.
    let control_home = place.tools.path().join("control-home");
    let control_vimrc = hostile_vimrc(&place, "control.vim", &control_home);
    let control_file = place.tools.path().join("control.txt");
    fs::write(&control_file, "").unwrap();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "vim --not-a-term -u {} -s {} \"$1\" >/dev/null 2>&1 </dev/null",
            control_vimrc.display(),
            keys.display()
        ))
        .arg("sh")
        .arg(&control_file)
        .env("HOME", &control_home)
        .env("TERM", "dumb")
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        !files_containing(&control_home, typed).is_empty(),
        "the control did not keep the typed text: the test would prove nothing"
    );

    let id = succeeded(&place.run(
        &v,
        &vim(&keys),
        &["add", "draft", "--title", "ledger", "--editor"],
    ));
    assert!(v.ok(&["show", &id], "").contains(typed));
    let out = place.run(&v, &vim(&kill_keys), &["edit", &id, "--editor"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was saved"),
        "{}",
        stderr(&out)
    );
    assert!(!v.ok(&["show", &id], "").contains(killed));

    for text in [typed, killed] {
        assert_eq!(
            files_containing(v.temp.path(), text),
            Vec::<PathBuf>::new(),
            "vim kept {text:?} on the disk"
        );
    }
    assert_eq!(place.scratch_left(), Vec::<PathBuf>::new());
}

#[test]
fn scratch_left_by_a_killed_edit_is_swept_with_the_editors_home_at_the_next_edit() {
    let v = TestVault::new();
    let Some(place) = Surroundings::new(&v) else {
        eprintln!("skipping: this machine has no tmpfs at /dev/shm");
        return;
    };
    let stale = place.runtime.path().join("posbon-edit-0011223344556677");
    fs::create_dir_all(stale.join("home/.local/state")).unwrap();
    fs::write(stale.join("body.txt"), "left behind").unwrap();
    fs::write(stale.join("home/.viminfo"), "left behind").unwrap();
    let someone_elses = place.runtime.path().join("not-posbon");
    fs::create_dir(&someone_elses).unwrap();

    let id = v.add_draft("kept", "body\n");
    succeeded(&place.run(&v, "true", &["edit", &id, "--editor"]));
    assert_eq!(place.scratch_left(), vec![someone_elses]);
}
