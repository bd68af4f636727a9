//! Acknowledgement links ("I am on it"), and the deletion of expired links of both kinds.
//!
//! A link is per contact and channel, so whoever read one channel (a webhook's log, a chat
//! a provider reads) can confirm in the contact's name. That cannot be told apart from the
//! contact, so it is made visible instead: the others are told through which channel the
//! confirmation came, the contact is told on every channel of theirs, and the link's page
//! says when and through which channel it was confirmed.

use super::super::store::{AckEntry, Sweep};
use super::*;

/// Links looked at per tick by the sweep of expired ones: the tick holds the store.
const SWEEP_BATCH: usize = 256;

/// Where the sweep goes on: the table (0 downloads, 1 acknowledgements) and the last key.
#[derive(Debug, Default)]
pub struct SweepCursor {
    table: usize,
    after: Vec<u8>,
}

const SWEPT: [&str; 2] = ["downloads", "acks"];

/// An acknowledgement link that is unknown or expired (the two are not told apart).
fn unknown_ack() -> Refusal {
    Refusal::new(404, "unknown_link", "this link is unknown or expired")
}

/// The acknowledgement link under `hash` if it works at `now_ms` (links from before
/// expiry times have none until the sweep gives them one), and its siblings.
fn live_ack(
    store: &Store,
    hash: &str,
    now_ms: i64,
) -> Result<(AckEntry, Vec<(String, AckEntry)>), Refusal> {
    let entry = store.ack(hash)?.ok_or_else(unknown_ack)?;
    if entry.expires_ms.is_some_and(|at| at <= now_ms) {
        return Err(unknown_ack());
    }
    let mut siblings = Vec::new();
    for sibling in &entry.siblings {
        if let Some(other) = store.ack(sibling)? {
            siblings.push((sibling.clone(), other));
        }
    }
    Ok((entry, siblings))
}

/// When and through which channel the alert was confirmed, if it was.
fn confirmed(entry: &AckEntry, siblings: &[(String, AckEntry)]) -> Option<(i64, String)> {
    std::iter::once(entry)
        .chain(siblings.iter().map(|(_, e)| e))
        .find_map(|e| {
            e.acked_ms
                .map(|at| (at, e.acked_via.clone().unwrap_or_default()))
        })
}

impl Watcher {
    /// An acknowledgement link was confirmed: records it once (whichever of the contact's
    /// channels it came through), tells the others through which channel it came, and
    /// tells the contact too, on all their channels (it may not have been them).
    pub fn acknowledge(&self, token: &str, now_ms: i64) -> Result<Acknowledged, Refusal> {
        let hash = token_hash(token);
        let store = self.store();
        let (mut entry, mut siblings) = live_ack(&store, &hash, now_ms)?;
        let subject = store.subject(&entry.subject)?.ok_or_else(unknown_ack)?;
        let mut answer = Acknowledged {
            name: subject.name.clone(),
            alert_id: entry.alert_id.clone(),
            contact: entry.contact.clone(),
            already: false,
            confirmed: confirmed(&entry, &siblings),
        };
        if answer.confirmed.is_some() {
            answer.already = true;
            return Ok(answer);
        }
        let via = entry.channel.clone();
        entry.acked_ms = Some(now_ms);
        entry.acked_via = Some(via.clone());
        for (_, other) in &mut siblings {
            other.acked_ms = Some(now_ms);
            other.acked_via = Some(via.clone());
        }
        let outgoing = self.dispatcher().ack_notices(&subject, &entry, now_ms);
        siblings.push((hash, entry.clone()));
        store.commit_ack(&siblings, &outgoing)?;
        self.stage(&outgoing);
        let row = super::history::contact_row(
            &subject.id,
            "ack",
            &entry.contact,
            &via,
            Some(&entry.alert_id),
            None,
            now_ms,
        );
        self.log_history(&store, &[row], now_ms);
        drop(store);
        self.flush_and_publish()?;
        info!(subject = %subject.id, alert = %entry.alert_id, channel = %via, "alert acknowledged");
        answer.confirmed = Some((now_ms, via));
        Ok(answer)
    }

    /// What an acknowledgement link is about, and whether (when, how) it was confirmed,
    /// without confirming it (for its page).
    pub fn peek_ack(&self, token: &str, now_ms: i64) -> Result<Acknowledged, Refusal> {
        let store = self.store();
        let (entry, siblings) = live_ack(&store, &token_hash(token), now_ms)?;
        let subject = store.subject(&entry.subject)?.ok_or_else(unknown_ack)?;
        let confirmed = confirmed(&entry, &siblings);
        Ok(Acknowledged {
            name: subject.name,
            alert_id: entry.alert_id,
            contact: entry.contact,
            already: confirmed.is_some(),
            confirmed,
        })
    }

    /// The language of the contact an acknowledgement link was made for.
    pub fn ack_lang(&self, token: &str) -> crate::protocol::contacts::Lang {
        let store = self.store();
        store
            .ack(&token_hash(token))
            .ok()
            .flatten()
            .and_then(|entry| {
                let subject = store.subject(&entry.subject).ok()??;
                subject.directory.find(&entry.contact).map(|c| c.lang)
            })
            .unwrap_or(crate::protocol::contacts::Lang::En)
    }

    /// Deletes expired links, at most [`SWEEP_BATCH`] looked at per call (each tick), going
    /// round both tables. A download link is kept until its last downloads were reported;
    /// an acknowledgement link from before links had an expiry is given one. Returns how
    /// many were deleted.
    pub(super) fn sweep_links(&self, store: &Store, now_ms: i64) -> Result<usize, StoreError> {
        let mut cursor = self.sweep.lock().unwrap_or_else(|p| p.into_inner());
        let mut budget = SWEEP_BATCH;
        let mut deleted = 0;
        for _ in 0..SWEPT.len() {
            let table = SWEPT[cursor.table % SWEPT.len()];
            let (last, read, gone) = store.sweep(table, &cursor.after, budget, |value| {
                Ok(if table == "downloads" {
                    let entry: crate::watch::store::DownloadEntry =
                        serde_json::from_slice(value)
                            .map_err(|e| StoreError::Damaged(format!("a download link: {e}")))?;
                    if entry.expires_ms <= now_ms && entry.unreported == 0 {
                        Sweep::Delete
                    } else {
                        Sweep::Keep
                    }
                } else {
                    let mut entry: AckEntry = serde_json::from_slice(value)
                        .map_err(|e| StoreError::Damaged(format!("an ack link: {e}")))?;
                    match entry.expires_ms {
                        Some(at) if at <= now_ms => Sweep::Delete,
                        Some(_) => Sweep::Keep,
                        None => {
                            entry.expires_ms = Some(now_ms + ACK_DAYS * 86_400_000);
                            Sweep::Rewrite(serde_json::to_vec(&entry).expect("serialises"))
                        }
                    }
                })
            })?;
            deleted += gone;
            budget = budget.saturating_sub(read);
            match last {
                Some(key) => cursor.after = key,
                None => {
                    cursor.table = (cursor.table + 1) % SWEPT.len();
                    cursor.after.clear();
                }
            }
            if budget == 0 {
                break;
            }
        }
        if deleted > 0 {
            info!(deleted, "expired links deleted");
        }
        Ok(deleted)
    }
}
