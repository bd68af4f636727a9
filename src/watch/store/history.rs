//! The bounded log of what happened to each subject, for `posbon history`: requests and where
//! they came from, phone check-ins, steps fired, alerts (by delivery, whose state is read
//! from the outbox when asked), acknowledgements, downloads, retractions.
//!
//! One table, `history`, keyed by subject id, a zero byte, the moment (big-endian ms) and
//! eight random bytes, so that a subject's rows are one range of the index, oldest first,
//! and a forgotten subject's rows go with one range delete (and with the sweep of orphans,
//! since every value names its `subject`). At most [`HISTORY_MAX`] rows per subject, none
//! older than [`HISTORY_DAYS`]: the oldest go as new ones come.
//!
//! Nothing here is the vault's: operations, times, contact names and channel kinds (never
//! an address), alert and bundle ids, which the watcher knows anyway. Rows are written in a
//! transaction of their own just after the change they tell of, before the flush that makes
//! the change durable (the group commit: see `sync`), which makes them durable too; a crash
//! between the two transactions loses a line of history, never the change.

use rusqlite::{TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, json, parse, values};
use crate::protocol::HistoryEntry;
use crate::watch::outbox::{Delivery, DeliveryState};

/// The most rows kept per subject.
pub const HISTORY_MAX: usize = 1_000;
/// Rows older than this go.
pub const HISTORY_DAYS: i64 = 90;

/// One row of a subject's history.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct HistoryRecord {
    pub subject: String,
    pub entry: HistoryEntry,
    /// Shown only to the real key: it would tell the duress key what the pretend world does
    /// not show (a duress alert, a retraction, the real plan while a pretend one is shown).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub real_only: bool,
    /// For an alert: its delivery's key, whose state the outbox holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
}

/// Creates the table (in a store made before history was kept, too).
pub(super) fn create(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS history \
         (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;",
    )?;
    Ok(())
}

/// The first key of `subject`'s range, and the first after it.
fn range(subject: &str) -> (Vec<u8>, Vec<u8>) {
    let mut start = subject.as_bytes().to_vec();
    start.push(0);
    let mut end = subject.as_bytes().to_vec();
    end.push(1);
    (start, end)
}

fn key(subject: &str, at_ms: i64) -> Vec<u8> {
    let (mut key, _) = range(subject);
    key.extend_from_slice(&(at_ms.max(0) as u64).to_be_bytes());
    key.extend_from_slice(&crate::crypto::random_array::<8>());
    key
}

impl Store {
    /// Appends `records` to their subjects' histories and drops what is past the bounds.
    pub fn log_history(&self, records: &[HistoryRecord], now_ms: i64) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.room()?;
        self.append(records, now_ms)
    }

    fn append(&self, records: &[HistoryRecord], now_ms: i64) -> Result<(), StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut subjects: Vec<&str> = Vec::new();
        for record in records {
            super::put(
                &tx,
                "history",
                &key(&record.subject, record.entry.at_ms),
                &json(record),
            )?;
            if !subjects.contains(&record.subject.as_str()) {
                subjects.push(&record.subject);
            }
        }
        let oldest = now_ms - HISTORY_DAYS * 86_400_000;
        for subject in subjects {
            let (start, end) = range(subject);
            let mut too_old = start.clone();
            too_old.extend_from_slice(&(oldest.max(0) as u64).to_be_bytes());
            tx.prepare_cached("DELETE FROM history WHERE key >= ?1 AND key < ?2")?
                .execute(params![start, too_old])?;
            tx.prepare_cached(
                "DELETE FROM history WHERE key IN (SELECT key FROM history \
                 WHERE key >= ?1 AND key < ?2 ORDER BY key DESC LIMIT -1 OFFSET ?3)",
            )?
            .execute(params![start, end, HISTORY_MAX as i64])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// `subject`'s history, oldest first, with each alert's delivery state read from the
    /// outbox. The same reads whoever asks; what is shown is chosen after.
    pub fn history(&self, subject: &str) -> Result<Vec<HistoryRecord>, StoreError> {
        let (start, end) = range(subject);
        let mut records: Vec<HistoryRecord> = values(
            &self.conn,
            "SELECT value FROM history WHERE key >= ?1 AND key < ?2 ORDER BY key",
            params![start, end],
        )?
        .iter()
        .map(|v| parse(v, "history"))
        .collect::<Result<_, _>>()?;
        // Settled deliveries are keyed by when they settled: one pass from the oldest alert
        // in the history finds them all.
        let wanted: std::collections::HashSet<String> =
            records.iter().filter_map(|r| r.delivery.clone()).collect();
        let mut states: std::collections::HashMap<String, DeliveryState> = Default::default();
        for key in &wanted {
            if let Some(delivery) = self.pending_delivery(key)? {
                states.insert(key.clone(), delivery.state);
            }
        }
        if let Some(first) = records
            .iter()
            .filter(|r| r.delivery.is_some())
            .map(|r| r.entry.at_ms)
            .min()
        {
            let from = (first.max(0) as u64).to_be_bytes().to_vec();
            for value in values(
                &self.conn,
                "SELECT value FROM delivered WHERE key >= ?1",
                params![from],
            )? {
                let delivery: Delivery = parse(&value, "delivered")?;
                if delivery.subject == subject && wanted.contains(&delivery.key) {
                    states.insert(delivery.key, delivery.state);
                }
            }
        }
        for record in &mut records {
            if let Some(key) = &record.delivery {
                let (state, at) = match states.get(key) {
                    Some(DeliveryState::Pending) => ("pending", None),
                    Some(DeliveryState::Delivered { at_ms }) => ("delivered", Some(*at_ms)),
                    Some(DeliveryState::GivenUp { at_ms }) => ("given-up", Some(*at_ms)),
                    // Taken out of the outbox by the operator's tools: no longer known.
                    None => ("unknown", None),
                };
                record.entry.delivery = Some(state.into());
                record.entry.settled_ms = at;
            }
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(subject: &str, at_ms: i64, what: &str) -> HistoryRecord {
        HistoryRecord {
            subject: subject.into(),
            entry: HistoryEntry {
                at_ms,
                what: what.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_history_is_kept_per_subject_oldest_first_and_bounded() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::open(temp.path()).unwrap();
        let day = 86_400_000;
        let now = 200 * day;
        // Out of order, and one too old to keep.
        store
            .log_history(
                &[
                    record("a", now - 2, "plan"),
                    record("a", now - 3, "checkin"),
                    record("a", now - (HISTORY_DAYS + 1) * day, "old"),
                    record("ab", now - 1, "other"),
                ],
                now,
            )
            .unwrap();
        let whats = |s: &str| -> Vec<String> {
            store
                .history(s)
                .unwrap()
                .into_iter()
                .map(|r| r.entry.what)
                .collect()
        };
        assert_eq!(whats("a"), ["checkin", "plan"]);
        assert_eq!(whats("ab"), ["other"]);
        let many: Vec<_> = (0..HISTORY_MAX as i64 + 5)
            .map(|n| record("a", now + n, "checkin"))
            .collect();
        store.log_history(&many, now).unwrap();
        let kept = store.history("a").unwrap();
        assert_eq!(kept.len(), HISTORY_MAX);
        assert_eq!(kept[0].entry.at_ms, now + 5);
        let subject =
            crate::watch::store::Subject::enrolled("a".into(), "A".into(), vec![1], vec![2], 0);
        store.commit(&subject, &[], now).unwrap();
        store.remove_subject(&subject).unwrap();
        assert!(store.history("a").unwrap().is_empty());
        assert_eq!(whats("ab"), ["other"]);
    }
}
