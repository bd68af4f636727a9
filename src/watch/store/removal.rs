//! Forgetting a journalist: the subject and its phones' index go in one transaction; what
//! else refers to the subject (queued actions, acknowledgement and download links, phone
//! entries a crash left behind) is deleted afterwards as orphans, a sweep that also finishes
//! a removal cut short by a crash. The write-ahead log is then checkpointed and truncated,
//! so that the deleted rows (overwritten in the database itself: `secure_delete` is on) do
//! not live on in it. The outbox is left alone: deliveries carry their whole text and
//! address, and an alert already decided (an all-clear, a duress alert) still goes out.
//!
//! Also the operator's read-only look at the subjects, on a connection of its own, which
//! works while the daemon holds the store, and the operator's removal requests: small files
//! in `DATA/remove/` that the running daemon carries out and answers beside them (as
//! invites are files), since only the daemon may write the store while it runs.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use rusqlite::{OpenFlags, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::records::Subject;
use super::{DATABASE_FILE, Store, StoreError, io, json, parse, values};

/// Why a journalist is not forgotten now: forgetting them would cut short what is already
/// under way for their contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LeaveBlock {
    /// Steps past the reminders fired in this cycle (their labels: `tier1`, `release`) and
    /// no check-in answered them: the contacts alerted have not heard the all-clear.
    AlertsUnderWay { steps: Vec<String> },
    /// A released bundle's download links work until `until_ms`: its recipients may still
    /// be fetching it.
    BundleReleased { id: String, until_ms: i64 },
}

/// What an operator's removal did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Removal {
    Removed {
        name: String,
    },
    /// No subject has this id (removed already, or never here).
    Unknown,
    Refused {
        block: LeaveBlock,
    },
}

/// What a removal request file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Asked {
    /// Remove even while alerts are under way or a bundle is released.
    force: bool,
}

/// The removal requests in `DATA/remove/`: `ID.request` left by `posbon watch remove`,
/// `ID.answer` written by the daemon when it has carried one out.
pub struct RemovalRequests {
    dir: PathBuf,
}

impl RemovalRequests {
    pub fn new(data: &Path) -> Self {
        RemovalRequests {
            dir: data.join("remove"),
        }
    }

    /// A subject id as a file name: hexadecimal only, so a name cannot leave the directory.
    fn valid(id: &str) -> bool {
        !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit())
    }

    /// Leaves a request to remove subject `id` (any earlier answer for it is dropped).
    pub fn ask(&self, id: &str, force: bool) -> Result<(), StoreError> {
        if !Self::valid(id) {
            return Err(StoreError::Damaged(format!("{id:?} is not a subject id")));
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| io(&self.dir, e))?;
        let _ = fs::remove_file(self.answer_path(id));
        let path = self.dir.join(format!("{id}.request"));
        let temp = self.dir.join(format!("{id}.tmp"));
        fs::write(&temp, json(&Asked { force })).map_err(|e| io(&temp, e))?;
        fs::rename(&temp, &path).map_err(|e| io(&path, e))
    }

    /// The requests waiting: (subject id, force).
    pub fn waiting(&self) -> Vec<(String, bool)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = name.strip_suffix(".request").filter(|id| Self::valid(id)) else {
                continue;
            };
            let force = fs::read(entry.path())
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Asked>(&bytes).ok())
                .is_some_and(|asked| asked.force);
            out.push((id.to_string(), force));
        }
        out
    }

    /// Answers the request for `id` and removes it.
    pub fn answer(&self, id: &str, removal: &Removal) -> Result<(), StoreError> {
        let path = self.answer_path(id);
        let temp = self.dir.join(format!("{id}.answering"));
        fs::write(&temp, json(removal)).map_err(|e| io(&temp, e))?;
        fs::rename(&temp, &path).map_err(|e| io(&path, e))?;
        let request = self.dir.join(format!("{id}.request"));
        fs::remove_file(&request).map_err(|e| io(&request, e))
    }

    /// The daemon's answer to the request for `id`, once there (and then removed).
    pub fn take_answer(&self, id: &str) -> Option<Removal> {
        let path = self.answer_path(id);
        let removal = parse(&fs::read(&path).ok()?, "removal answer").ok()?;
        let _ = fs::remove_file(&path);
        Some(removal)
    }

    /// Withdraws a request the daemon did not take up.
    pub fn withdraw(&self, id: &str) {
        let _ = fs::remove_file(self.dir.join(format!("{id}.request")));
    }

    fn answer_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.answer"))
    }
}

/// The tables whose entries name their subject in a `subject` field of their JSON.
const OWNED: [&str; 4] = ["queue", "acks", "downloads", "history"];

/// The one field the sweep reads of an entry.
#[derive(Deserialize)]
struct Owner {
    subject: String,
}

impl Store {
    /// Deletes `subject` and its phones' index entries, atomically and durably. What else
    /// refers to it goes with [`Store::delete_orphans`].
    pub fn remove_subject(&self, subject: &Subject) -> Result<(), StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.prepare_cached("DELETE FROM subjects WHERE key = ?1")?
            .execute(params![subject.id.as_bytes()])?;
        tx.prepare_cached("DELETE FROM phones WHERE value = ?1")?
            .execute(params![subject.id.as_bytes()])?;
        // Its history goes with it, at once (the sweep would find it too).
        let mut start = subject.id.as_bytes().to_vec();
        start.push(0);
        let mut end = subject.id.as_bytes().to_vec();
        end.push(1);
        tx.prepare_cached("DELETE FROM history WHERE key >= ?1 AND key < ?2")?
            .execute(params![start, end])?;
        tx.commit()?;
        Ok(())
    }

    /// The ids of every subject stored.
    pub fn subject_ids(&self) -> Result<HashSet<String>, StoreError> {
        Ok(values(&self.conn, "SELECT key AS value FROM subjects", [])?
            .into_iter()
            .map(|key| String::from_utf8_lossy(&key).into_owned())
            .collect())
    }

    /// Deletes the queued actions, acknowledgement and download links and phone entries of
    /// subjects no longer stored, in one transaction, then truncates the write-ahead log
    /// (see the module's note). Returns how many entries went.
    pub fn delete_orphans(&self) -> Result<usize, StoreError> {
        let known = self.subject_ids()?;
        let mut doomed: Vec<(&str, Vec<u8>)> = Vec::new();
        for table in OWNED {
            let mut statement = self
                .conn
                .prepare_cached(&format!("SELECT key, value FROM {table}"))?;
            let rows = statement.query_map([], |row| {
                Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?;
            for row in rows {
                let (key, value) = row?;
                let owner: Owner = parse(&value, table)?;
                if !known.contains(&owner.subject) {
                    doomed.push((table, key));
                }
            }
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut deleted = 0;
        for (table, key) in &doomed {
            deleted += tx
                .prepare_cached(&format!("DELETE FROM {table} WHERE key = ?1"))?
                .execute(params![key])?;
        }
        deleted += tx.execute(
            "DELETE FROM phones WHERE value NOT IN (SELECT key FROM subjects)",
            [],
        )?;
        tx.commit()?;
        self.truncate_log()?;
        Ok(deleted)
    }

    /// Copies the write-ahead log into the database and empties it, so that old versions
    /// of deleted rows are not left in it. Waits (the busy timeout) for readers to finish.
    fn truncate_log(&self) -> Result<(), StoreError> {
        let (busy, _, _): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
        if busy != 0 {
            return Err(StoreError::Db(
                "the write-ahead log could not be emptied (a reader held it); the next removal \
                 or start tries again"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The subjects of the watcher in `data`, read on a read-only connection of its own, so it
/// works while the daemon holds the store (the write-ahead log lets a reader in beside the
/// writer). An empty list if there is no database yet.
pub fn read_subjects(data: &Path) -> Result<Vec<Subject>, StoreError> {
    let path = data.join(DATABASE_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = rusqlite::Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'subjects')",
        [],
        |row| row.get(0),
    )?;
    if !has_table {
        return Ok(Vec::new());
    }
    values(&conn, "SELECT value FROM subjects ORDER BY key", [])?
        .iter()
        .map(|v| parse(v, "subject"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::store::{AckEntry, Outgoing};

    fn ack(subject: &str) -> AckEntry {
        AckEntry {
            subject: subject.into(),
            alert_id: "a".into(),
            contact: "c".into(),
            others: Vec::new(),
            acked_ms: None,
            siblings: Vec::new(),
            channel: "webhook".into(),
            acked_via: None,
            expires_ms: None,
        }
    }

    #[test]
    fn a_removed_subject_leaves_no_entry_behind_and_the_others_keep_theirs() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::open(temp.path()).unwrap();
        let step = crate::plan::schedule::Emitted::Duress { cycle: 1, at_ms: 1 };
        let gone = Subject::enrolled("gone".into(), "A".into(), vec![1], vec![2], 0);
        let kept = Subject::enrolled("kept".into(), "B".into(), vec![3], vec![4], 0);
        for (subject, hash) in [(&gone, "h1"), (&kept, "h2")] {
            let outgoing = Outgoing {
                acks: vec![(hash.into(), ack(&subject.id))],
                ..Outgoing::default()
            };
            store
                .commit_with(subject, std::slice::from_ref(&step), &outgoing, 5)
                .unwrap();
        }
        store.remove_subject(&gone).unwrap();
        assert!(store.subject("gone").unwrap().is_none());
        assert_eq!(
            store.delete_orphans().unwrap(),
            2,
            "its queue entry and link"
        );
        let queued = store.queued().unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].subject, "kept");
        assert!(store.ack("h1").unwrap().is_none());
        assert!(store.ack("h2").unwrap().is_some());
        assert_eq!(store.delete_orphans().unwrap(), 0);
        // The read-only look sees what is left, beside the open store.
        let listed = read_subjects(temp.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "kept");
        // The log was emptied: the removed subject's rows are not left in it.
        let log = std::fs::metadata(temp.path().join("store.sqlite-wal")).unwrap();
        assert_eq!(log.len(), 0);
    }
}
