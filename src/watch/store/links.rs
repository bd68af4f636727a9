//! The entries of acknowledgement and download links in the database (under their tokens'
//! hashes, never the tokens), committed together with the notices they send, and swept in
//! bounded batches once they expire.

use rusqlite::{TransactionBehavior, params};

use super::records::{AckEntry, DownloadEntry, Outgoing};
use super::{Store, StoreError, json, parse, put};

/// What the sweep of expired links does with one (see [`Store::sweep`]).
pub enum Sweep {
    Keep,
    Delete,
    /// Store this value instead.
    Rewrite(Vec<u8>),
}

impl Store {
    pub fn download(&self, hash: &str) -> Result<Option<DownloadEntry>, StoreError> {
        self.get("downloads", hash.as_bytes())?
            .map(|v| parse(&v, "download"))
            .transpose()
    }

    /// Stores a download link's entry and the notice of a download, atomically.
    pub fn commit_download(
        &self,
        hash: &str,
        entry: &DownloadEntry,
        outgoing: &Outgoing,
    ) -> Result<(), StoreError> {
        self.room()?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        put(&tx, "downloads", hash.as_bytes(), &json(entry))?;
        for delivery in &outgoing.deliveries {
            put(&tx, "outbox", delivery.key.as_bytes(), &json(delivery))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Download links with downloads not yet reported to their contact: (hash, entry).
    pub fn unreported_downloads(&self) -> Result<Vec<(String, DownloadEntry)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT key, value FROM downloads")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, value) = row?;
            let entry: DownloadEntry = parse(&value, "download")?;
            if entry.unreported > 0 {
                out.push((String::from_utf8_lossy(&key).into_owned(), entry));
            }
        }
        Ok(out)
    }

    pub fn ack(&self, hash: &str) -> Result<Option<AckEntry>, StoreError> {
        self.get("acks", hash.as_bytes())?
            .map(|v| parse(&v, "ack"))
            .transpose()
    }

    /// Marks an acknowledgement and queues the notices to the others, atomically.
    /// `entries`: the link confirmed and its siblings, all marked.
    pub fn commit_ack(
        &self,
        entries: &[(String, AckEntry)],
        outgoing: &Outgoing,
    ) -> Result<(), StoreError> {
        self.room()?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for (hash, entry) in entries {
            put(&tx, "acks", hash.as_bytes(), &json(entry))?;
        }
        for delivery in &outgoing.deliveries {
            put(&tx, "outbox", delivery.key.as_bytes(), &json(delivery))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Looks at up to `limit` entries of `table` (`acks` or `downloads`) after the key
    /// `after`, in key order, and keeps, deletes or rewrites each as `decide` says, in one
    /// transaction. Returns the last key looked at (`None` once the table's end is reached),
    /// how many were looked at, and how many deleted.
    pub fn sweep(
        &self,
        table: &'static str,
        after: &[u8],
        limit: usize,
        mut decide: impl FnMut(&[u8]) -> Result<Sweep, StoreError>,
    ) -> Result<(Option<Vec<u8>>, usize, usize), StoreError> {
        assert!(
            table == "acks" || table == "downloads",
            "only links are swept"
        );
        let rows: Vec<(Vec<u8>, Vec<u8>)> = {
            let mut statement = self.conn.prepare_cached(&format!(
                "SELECT key, value FROM {table} WHERE key > ?1 ORDER BY key LIMIT ?2"
            ))?;
            let rows = statement.query_map(params![after, limit as i64], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut changes = Vec::new();
        for (key, value) in &rows {
            match decide(value)? {
                Sweep::Keep => {}
                change => changes.push((key, change)),
            }
        }
        let mut deleted = 0;
        if !changes.is_empty() {
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            for (key, change) in changes {
                match change {
                    Sweep::Delete => {
                        deleted += tx
                            .prepare_cached(&format!("DELETE FROM {table} WHERE key = ?1"))?
                            .execute(params![key])?;
                    }
                    Sweep::Rewrite(value) => put(&tx, table, key, &value)?,
                    Sweep::Keep => {}
                }
            }
            tx.commit()?;
        }
        let last = (rows.len() >= limit.max(1))
            .then(|| rows.last().map(|(key, _)| key.clone()))
            .flatten();
        Ok((last, rows.len(), deleted))
    }
}
