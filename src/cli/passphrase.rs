//! Where passphrases come from: a file, a file descriptor, or a prompt on the terminal. Never
//! a command-line argument (other users can read those in `ps`), never stdin (that carries the
//! record bodies).

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::secret::Passphrase;

use super::{UsageError, words};

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// The passphrase sources given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub file: Option<PathBuf>,
    pub fd: Option<i32>,
}

/// The first line of `reader`, without its line ending.
fn first_line(reader: impl Read) -> std::io::Result<Passphrase> {
    let mut line = Zeroizing::new(String::new());
    BufReader::new(reader).read_line(&mut line)?;
    let trimmed = line.trim_end_matches(['\n', '\r']);
    Ok(Passphrase::new(trimmed.to_string()))
}

/// Reads a passphrase from a file: its first line.
pub fn from_file(path: &Path) -> Result<Passphrase> {
    let file = File::open(path).with_context(|| {
        words::with("passphrase-file-unreadable", &[("path", &path_text(path))])
    })?;
    let passphrase = first_line(file)?;
    if passphrase.is_empty() {
        bail!(words::with(
            "passphrase-file-empty-line",
            &[("path", &path_text(path))]
        ));
    }
    Ok(passphrase)
}

fn from_fd(fd: i32) -> Result<Passphrase> {
    if fd <= 2 {
        return Err(UsageError(words::t("passphrase-fd-low")).into());
    }
    // SAFETY: the caller handed us this descriptor for exactly this purpose; we own it from now.
    let file = unsafe { File::from_raw_fd(fd) };
    first_line(file)
        .with_context(|| words::with("passphrase-fd-unreadable", &[("fd", &fd.to_string())]))
}

fn prompt(text: &str) -> Result<Passphrase> {
    if !std::io::stderr().is_terminal() && !std::io::stdin().is_terminal() {
        return Err(UsageError(words::t("no-passphrase-given")).into());
    }
    let typed = rpassword::prompt_password(text)
        .with_context(|| words::t("passphrase-terminal-unreadable"))?;
    Ok(Passphrase::new(typed))
}

impl Source {
    pub fn given(&self) -> bool {
        self.file.is_some() || self.fd.is_some()
    }

    /// The passphrase to unlock with; `what` is the prompt, in the reader's words.
    pub fn read(&self, what: &str) -> Result<Passphrase> {
        if let Some(path) = &self.file {
            return from_file(path);
        }
        if let Some(fd) = self.fd {
            return from_fd(fd);
        }
        prompt(&format!("{what}: "))
    }

    /// A new passphrase: from the file or descriptor, or typed twice on the terminal. One
    /// that is too easy to guess is refused with the reason (asked again on a terminal).
    pub fn read_new(&self, what: &str) -> Result<Passphrase> {
        if self.given() {
            let passphrase = self.read(what)?;
            if let Some(why) = too_weak(&passphrase) {
                bail!(UsageError(why));
            }
            return Ok(passphrase);
        }
        let mut tries = 0;
        let first = loop {
            let typed = prompt(&format!("{what}: "))?;
            if typed.is_empty() {
                bail!(words::t("passphrase-empty"));
            }
            match too_weak(&typed) {
                None => break typed,
                Some(why) if tries < 2 => {
                    eprintln!("posbon: {why}");
                    tries += 1;
                }
                Some(why) => bail!(UsageError(why)),
            }
        };
        let again = words::with("prompt-again", &[("what", what)]);
        let second = prompt(&format!("{again}: "))?;
        if !first.matches(&second) {
            bail!(words::t("passphrases-differ"));
        }
        Ok(first)
    }
}

/// Why a new passphrase is refused, if it is: what the estimator found, and what to do.
fn too_weak(passphrase: &Passphrase) -> Option<String> {
    let strength = crate::secret::strength::estimate(passphrase, &[]);
    if strength.acceptable() {
        return None;
    }
    // The estimator's own warning is English: said only to an English reader.
    let found = strength
        .warning
        .filter(|_| words::lang() == crate::lang::Lang::En)
        .map(|w| format!("{} ", w.trim_end_matches('.').to_string() + "."))
        .unwrap_or_default();
    Some(words::with(
        "passphrase-too-weak",
        &[
            ("found", &found),
            ("guesses", &strength.guesses_log10.to_string()),
        ],
    ))
}
