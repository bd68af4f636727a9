//! One-time enrolment invitations, kept as small files in `DATA/invites/` (under the hash
//! of their code, never the code) rather than in the database, so that `posbon watch invite`
//! works while the daemon holds the database.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{StoreError, io, json, parse};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invite {
    pub name: String,
    pub created_ms: i64,
}

/// The one-time invites waiting in `DATA/invites/`.
pub struct Invites {
    dir: PathBuf,
}

/// Invite codes are typed by people: 20 random bytes as groups of hex digits.
pub fn new_invite_code() -> String {
    let hex = hex::encode(crate::crypto::random_array::<10>());
    hex.as_bytes()
        .chunks(5)
        .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

fn code_hash(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        normalised.as_bytes(),
    ))
}

impl Invites {
    pub fn new(data: &Path) -> Self {
        Invites {
            dir: data.join("invites"),
        }
    }

    /// Creates an invite for `name` and returns its code. Only the code's hash is stored.
    pub fn create(&self, name: &str, now_ms: i64) -> Result<String, StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| io(&self.dir, e))?;
        let code = new_invite_code();
        let path = self.dir.join(code_hash(&code));
        let temp = path.with_extension("tmp");
        let invite = Invite {
            name: name.to_string(),
            created_ms: now_ms,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| io(&temp, e))?;
        file.write_all(&json(&invite))
            .and_then(|_| file.sync_all())
            .map_err(|e| io(&temp, e))?;
        fs::rename(&temp, &path).map_err(|e| io(&path, e))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&self.dir, e))?;
        Ok(code)
    }

    /// The invite for `code`, if it exists (and was not used).
    pub fn peek(&self, code: &str) -> Result<Option<Invite>, StoreError> {
        let path = self.dir.join(code_hash(code));
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(parse(&bytes, "invite")?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// Uses up the invite for `code`, durably: a used code never comes back after a crash.
    pub fn remove(&self, code: &str) -> Result<(), StoreError> {
        let path = self.dir.join(code_hash(code));
        fs::remove_file(&path).map_err(|e| io(&path, e))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&self.dir, e))
    }
}
