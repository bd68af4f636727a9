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

use super::UsageError;

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
    let file = File::open(path)
        .with_context(|| format!("cannot read the passphrase file {}", path.display()))?;
    let passphrase = first_line(file)?;
    if passphrase.is_empty() {
        bail!(
            "the passphrase file {} starts with an empty line",
            path.display()
        );
    }
    Ok(passphrase)
}

fn from_fd(fd: i32) -> Result<Passphrase> {
    if fd <= 2 {
        return Err(UsageError(
            "--passphrase-fd must be 3 or higher (0-2 are stdin, stdout, stderr)".into(),
        )
        .into());
    }
    // SAFETY: the caller handed us this descriptor for exactly this purpose; we own it from now.
    let file = unsafe { File::from_raw_fd(fd) };
    first_line(file).with_context(|| format!("cannot read a passphrase from descriptor {fd}"))
}

fn prompt(text: &str) -> Result<Passphrase> {
    if !std::io::stderr().is_terminal() && !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "no passphrase given: use --passphrase-file FILE or --passphrase-fd N, or run in a terminal".into(),
        )
        .into());
    }
    let typed =
        rpassword::prompt_password(text).context("cannot read the passphrase from the terminal")?;
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
                bail!(super::words::t("passphrase-empty"));
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
        let again = super::words::with("prompt-again", &[("what", what)]);
        let second = prompt(&format!("{again}: "))?;
        if !first.matches(&second) {
            bail!(super::words::t("passphrases-differ"));
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
    let found = strength
        .warning
        .map(|w| format!("{} ", w.trim_end_matches('.').to_string() + "."))
        .unwrap_or_default();
    Some(format!(
        "this passphrase is too easy to guess: {found}Someone who takes the laptop could find \
         it in about 10^{} guesses; posbon asks for at least 10^10. Use four or more unrelated \
         words, in any language (a phrase only you would think of), and nothing about you: no \
         names, dates or places",
        strength.guesses_log10
    ))
}
