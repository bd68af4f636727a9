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

    /// The passphrase to unlock with.
    pub fn read(&self, what: &str) -> Result<Passphrase> {
        if let Some(path) = &self.file {
            return from_file(path);
        }
        if let Some(fd) = self.fd {
            return from_fd(fd);
        }
        prompt(&format!("{what}: "))
    }

    /// A new passphrase: from the file or descriptor, or typed twice on the terminal.
    pub fn read_new(&self, what: &str) -> Result<Passphrase> {
        if self.given() {
            return self.read(what);
        }
        let first = prompt(&format!("{what}: "))?;
        if first.is_empty() {
            bail!("the passphrase is empty");
        }
        let second = prompt(&format!("{what} (again): "))?;
        if !first.matches(&second) {
            bail!("the two passphrases differ; nothing was changed");
        }
        Ok(first)
    }
}
