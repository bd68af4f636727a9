//! The outbox in the database: pending deliveries keyed by delivery, settled ones keyed by
//! when they settled (so the latest are read from the end of the index), and a read-only
//! view on a connection of its own, so reports and metrics never wait for the watcher's lock.

use std::sync::{Arc, Mutex};

use rusqlite::{TransactionBehavior, params};

use super::{Store, StoreError, json, parse, put, values};
use crate::watch::outbox::{Delivery, DeliveryState};

impl Store {
    /// Every delivery not yet accepted.
    pub fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        pending(&self.conn, usize::MAX)
    }

    /// Deliveries accepted or given up, newest first, at most `limit`.
    pub fn delivered(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        delivered(&self.conn, limit)
    }

    /// A handle for reading the outbox without holding the watcher's lock (it has its own
    /// connection, and sees what was committed).
    pub fn outbox_view(&self) -> OutboxView {
        OutboxView {
            reader: Arc::clone(&self.reader),
        }
    }

    /// Stores a pending delivery's new state; moves it out of the outbox once it is settled.
    pub fn update_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.update_deliveries(std::slice::from_ref(delivery))
    }

    /// [`Store::update_delivery`] for many, in one transaction. A delivery no longer in the
    /// outbox (an operator gave up on it meanwhile) is left as it is.
    pub fn update_deliveries(&self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        self.room()?;
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        for d in deliveries {
            let key = d.key.as_bytes();
            let record = json(d);
            let settled_ms = match d.state {
                DeliveryState::Delivered { at_ms } | DeliveryState::GivenUp { at_ms } => at_ms,
                DeliveryState::Pending => {
                    tx.prepare_cached("UPDATE outbox SET value = ?2 WHERE key = ?1")?
                        .execute(params![key, record])?;
                    continue;
                }
            };
            let removed = tx
                .prepare_cached("DELETE FROM outbox WHERE key = ?1")?
                .execute([key])?;
            if removed > 0 {
                put(&tx, "delivered", &settled_key(key, settled_ms), &record)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The pending delivery with this key.
    pub fn pending_delivery(&self, key: &str) -> Result<Option<Delivery>, StoreError> {
        self.get("outbox", key.as_bytes())?
            .map(|v| parse(&v, "outbox"))
            .transpose()
    }
}

/// SQLite takes a signed limit; `usize::MAX` means all.
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn pending(conn: &rusqlite::Connection, limit: usize) -> Result<Vec<Delivery>, StoreError> {
    values(
        conn,
        "SELECT value FROM outbox ORDER BY key LIMIT ?1",
        [sql_limit(limit)],
    )?
    .iter()
    .map(|v| parse(v, "outbox"))
    .collect()
}

fn delivered(conn: &rusqlite::Connection, limit: usize) -> Result<Vec<Delivery>, StoreError> {
    // Keys start with the time settled, so the latest are read from the end of the index
    // without reading the rest.
    values(
        conn,
        "SELECT value FROM delivered ORDER BY key DESC LIMIT ?1",
        [sql_limit(limit)],
    )?
    .iter()
    .map(|v| parse(v, "delivered"))
    .collect()
}

/// The outbox, read-only, apart from the watcher's lock.
pub struct OutboxView {
    reader: Arc<Mutex<rusqlite::Connection>>,
}

impl OutboxView {
    fn reader(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        // Reads leave nothing half-done behind a panic.
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pending deliveries, at most `limit`.
    pub fn pending(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        pending(&self.reader(), limit)
    }

    /// Settled deliveries, newest first, at most `limit`.
    pub fn delivered(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        delivered(&self.reader(), limit)
    }

    /// How many subjects are enrolled (for the metrics, which count them apart from the
    /// watcher's lock like the outbox).
    pub fn subject_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .reader()
            .query_row("SELECT COUNT(*) FROM subjects", [], |row| row.get(0))?;
        Ok(n.max(0) as u64)
    }
}

fn settled_key(key: &[u8], at_ms: i64) -> Vec<u8> {
    let mut out = (at_ms.max(0) as u64).to_be_bytes().to_vec();
    out.extend_from_slice(key);
    out
}
