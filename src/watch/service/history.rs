//! What happened while the journalist was away, for `posbon history`: the rows each change
//! adds to the subject's bounded log (kept by `store::history`), and the answer.
//!
//! Every signed request adds exactly one row, under either key, and a `history` request
//! reads the same rows (and the same delivery states) under either key: only the choice of
//! what is shown differs, so neither the answer's time nor the work behind it tells the keys
//! apart. The duress key is shown what the pretend world shows: its own requests as plain
//! ones, the phone's check-ins (either PIN), the steps the decoy's status lists; never a
//! duress mark, an alert (they name the real contacts, which the decoy does not have), an
//! acknowledgement, a download, a retraction, nor what the real key did while a pretend
//! world was shown.

use super::*;
use crate::protocol::HistoryEntry;
use crate::watch::store::HistoryRecord;

/// Requests of the real key that the duress key never sees in the history: they would tell
/// it what the decoy does not show (contacts, bundles, the end of a pretend world, a
/// retraction).
const REAL_ONLY_OPS: [&str; 6] = [
    ops::CONTACTS,
    ops::BUNDLE_PUT,
    ops::BUNDLE_REMOVE,
    ops::TEST_ALERT,
    ops::END_PRETEND,
    ops::DURESS_RETRACT,
];

/// A phone as the history names it: by the first 8 hex digits `posbon phone list` shows.
pub(super) fn phone_name(id: &str) -> String {
    format!("phone {}", id.get(..8).unwrap_or(id))
}

fn row(subject: &Subject, entry: HistoryEntry, real_only: bool) -> HistoryRecord {
    HistoryRecord {
        subject: subject.id.clone(),
        entry,
        real_only,
        delivery: None,
    }
}

/// The one row a signed request adds (under either key). `pretend_before`: a pretend world
/// existed when it came; what the real key does then is not for the duress key to see.
pub(super) fn request_row(
    subject: &Subject,
    op: &str,
    duress: bool,
    pretend_before: bool,
    at_ms: i64,
) -> HistoryRecord {
    // Old clients send `alarm` at a duress unlock: it reads as the unlock it was.
    let what = if op == ops::ALARM { ops::UNLOCK } else { op };
    let entry = HistoryEntry {
        at_ms,
        what: what.to_string(),
        from: Some("laptop".into()),
        duress,
        ..Default::default()
    };
    let real_only = !duress && (pretend_before || REAL_ONLY_OPS.contains(&op));
    row(subject, entry, real_only)
}

/// The row of a phone's check-in (either PIN): the coercer may hold the phone, so both show
/// to the duress key; one from a phone removed under duress (which looks removed) does not.
pub(super) fn phone_row(
    subject: &Subject,
    what: &str,
    phone: &str,
    duress: bool,
    hidden: bool,
    at_ms: i64,
) -> HistoryRecord {
    let entry = HistoryEntry {
        at_ms,
        what: what.into(),
        from: Some(phone_name(phone)),
        duress,
        ..Default::default()
    };
    row(subject, entry, hidden)
}

/// The rows of what a tick or a request's deferred events fired: the steps (the real
/// ladder's, shown to the duress key unless a pretend world hides it; the pretend world's,
/// shown to both), and one row per alert delivery (real key only).
pub(super) fn fired_rows(
    subject: &Subject,
    real: &[Emitted],
    pretend: &[Emitted],
    outgoing: &Outgoing,
    now_ms: i64,
) -> Vec<HistoryRecord> {
    let step = |event: &Emitted| match event {
        Emitted::Step { action, .. } => Some(action.label()),
        Emitted::AllClear { .. } => Some("all-clear".to_string()),
        _ => None,
    };
    let hidden = subject.duress_view.is_some();
    let mut rows = Vec::new();
    for (events, is_pretend) in [(real, false), (pretend, true)] {
        for label in events.iter().filter_map(step) {
            let entry = HistoryEntry {
                at_ms: now_ms,
                what: "step".into(),
                step: Some(label),
                pretend: is_pretend,
                ..Default::default()
            };
            rows.push(row(subject, entry, hidden && !is_pretend));
        }
    }
    for delivery in &outgoing.deliveries {
        let step = delivery.alert.header().map(|h| h.step).unwrap_or_default();
        let entry = HistoryEntry {
            at_ms: delivery.created_ms,
            what: "alert".into(),
            duress: step == "duress",
            step: Some(step),
            contact: Some(delivery.contact.clone()),
            channel: Some(delivery.channel.kind().to_string()),
            alert: Some(delivery.alert_id.clone()),
            ..Default::default()
        };
        rows.push(HistoryRecord {
            delivery: Some(delivery.key.clone()),
            ..row(subject, entry, true)
        });
    }
    rows
}

/// A row of something a contact did through a link (an acknowledgement, a download): for
/// the real key only, since it names the contact.
pub(super) fn contact_row(
    subject: &str,
    what: &str,
    contact: &str,
    channel: &str,
    alert: Option<&str>,
    bundle: Option<&str>,
    at_ms: i64,
) -> HistoryRecord {
    HistoryRecord {
        subject: subject.to_string(),
        entry: HistoryEntry {
            at_ms,
            what: what.into(),
            contact: Some(contact.to_string()),
            channel: Some(channel.to_string()),
            alert: alert.map(str::to_string),
            bundle: bundle.map(str::to_string),
            ..Default::default()
        },
        real_only: true,
        delivery: None,
    }
}

/// The history as `duress` (the key that signed) may see it: for the duress key, what the
/// pretend world shows, with nothing marked.
pub(super) fn shown(records: Vec<HistoryRecord>, duress: bool) -> Vec<HistoryEntry> {
    records
        .into_iter()
        .filter(|r| !(duress && r.real_only))
        .map(|r| {
            let mut entry = r.entry;
            if duress {
                entry.duress = false;
                entry.pretend = false;
            }
            entry
        })
        .collect()
}

impl Watcher {
    /// Adds rows to the history. A failure is logged and goes no further: the change it
    /// tells of is committed, and the answer must not say otherwise.
    pub(super) fn log_history(&self, store: &Store, rows: &[HistoryRecord], now_ms: i64) {
        if let Err(e) = store.log_history(rows, now_ms) {
            warn!(error = %e, "a history entry could not be kept");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support;
    use super::*;

    #[test]
    fn every_signed_request_adds_one_row_under_either_key_and_leaves_with_the_subject() {
        let (watcher, _data, subject, device, duress, t0) =
            test_support::enrolled_at(|w| w.now_ms());
        let counter = std::cell::Cell::new(0);
        let call = |key: &Ed25519KeyPair, op: &str, at: i64| {
            counter.set(counter.get() + 1);
            let request = protocol::sign_request(key, &subject, op, at, counter.get(), "{}".into());
            watcher.handle(&request, at).unwrap().status
        };
        let rows = || watcher.store().history(&subject).unwrap().len();
        call(&device, ops::CHECKIN, t0 + 1);
        assert_eq!(rows(), 1);
        call(&duress, ops::CHECKIN, t0 + 2);
        assert_eq!(rows(), 2);
        let shown = call(&duress, ops::HISTORY, t0 + 3).history.unwrap();
        assert_eq!(rows(), 3);
        let whats: Vec<(&str, bool)> = shown.iter().map(|e| (e.what.as_str(), e.duress)).collect();
        assert_eq!(whats, [("checkin", false), ("checkin", false)]);
        let real = call(&device, ops::HISTORY, t0 + 4).history.unwrap();
        assert_eq!(rows(), 4);
        let whats: Vec<(&str, bool)> = real.iter().map(|e| (e.what.as_str(), e.duress)).collect();
        assert_eq!(
            whats,
            [("checkin", false), ("checkin", true), ("history", true)]
        );
        // Neither key has an alarm to take back; both are told the same.
        let told = |key| call(key, ops::DURESS_RETRACT, t0 + 5).retracted;
        assert_eq!(told(&duress), Some(false));
        assert_eq!(told(&device), Some(false));
        assert_eq!(rows(), 6);
        // A duress unenrol forgets nothing (one row more); a real one takes it all away.
        call(&duress, ops::UNENROL, t0 + 6);
        assert_eq!(rows(), 7);
        call(&device, ops::UNENROL, t0 + 7);
        assert_eq!(rows(), 0);
    }

    fn subject() -> Subject {
        Subject::enrolled("s".into(), "n".into(), vec![1; 32], vec![2; 32], 0)
    }

    #[test]
    fn the_duress_key_sees_its_own_requests_plain_and_nothing_of_the_real_keys_secrets() {
        let s = subject();
        let rows = vec![
            request_row(&s, ops::CHECKIN, false, false, 1),
            request_row(&s, ops::ALARM, true, false, 2),
            request_row(&s, ops::PLAN, false, true, 3),
            request_row(&s, ops::DURESS_RETRACT, false, false, 4),
            request_row(&s, ops::CONTACTS, false, false, 5),
            phone_row(&s, "phone-checkin", "0123456789abcdef", true, false, 6),
            phone_row(&s, "phone-checkin", "0123456789abcdef", false, true, 7),
        ];
        let real = shown(rows.clone(), false);
        assert_eq!(real.len(), 7);
        assert!(real[1].duress && real[1].what == "unlock");
        let duress = shown(rows, true);
        let seen: Vec<(i64, &str, bool)> = duress
            .iter()
            .map(|e| (e.at_ms, e.what.as_str(), e.duress))
            .collect();
        assert_eq!(
            seen,
            [
                (1, "checkin", false),
                (2, "unlock", false),
                (6, "phone-checkin", false)
            ]
        );
        assert_eq!(duress[2].from.as_deref(), Some("phone 01234567"));
    }
}
