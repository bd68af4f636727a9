//! What the watcher does with a request or a tick, apart from HTTP and the runtime: verify,
//! change the subject's state through the schedule machine, persist, answer. Synchronous and
//! deterministic given the time, so it is tested directly and called from blocking tasks.
//!
//! This file holds the [`Watcher`] itself and what every part shares: opening it, the
//! commit that defers alerts until after the answer, staging and flushing, the refusal and
//! the status it answers with. The rest is by concern:
//!
//! - `requests`: the journalist's signed requests (enrolment, check-ins, plan, bundles);
//! - `phones`: phone enrolment and PIN check-ins; `duress`: the silent alarm and its ration;
//! - `bundles`: bundle files and the rules for replacing and removing them;
//! - `ticks`: steps falling due with time; `deliveries`: the outbox as the sender sees it;
//! - `acks` and `downloads`: what the links in alerts do;
//! - `history`: the rows each change adds to the subject's log, and what each key is shown;
//! - `leaving`: a journalist's `unenrol` and the operator's removal, and the sweep of what a
//!   forgotten subject left.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use ring::signature::Ed25519KeyPair;
use tracing::{info, warn};

use super::clock::{GuardedClock, SystemClock};
pub use super::dispatch::{ACK_DAYS, DOWNLOAD_DAYS};
use super::dispatch::{Dispatcher, token_hash};
use super::outbox::{Delivery, DeliveryState, RetryPolicy};
use super::phone::{self, Phone, PinCheck};
use super::pretend;
use super::store::{Invites, Outgoing, PhoneInvite, Store, StoreError, Subject};
use crate::plan::Plan;
use crate::plan::schedule::{Emitted, State};
use crate::protocol::contacts::Directory;
use crate::protocol::{
    self, EnrolRequest, EnrolResponse, PausePayload, PhoneCheckinRequest, PhoneCheckinResponse,
    PhoneEnrolRequest, PhoneEnrolResponse, ProtocolError, SignedRequest, StatusResponse, ops,
};

/// A refusal, with a stable code for clients and an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait before trying again (429, and 503 when downloads are busy), for
    /// clients to show; also sent as `Retry-After`.
    pub wait_s: Option<i64>,
}

impl Refusal {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
            wait_s: None,
        }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Refusal::new(400, "malformed", message)
    }

    /// The watcher failed inside (storage, a bug): the request may be retried.
    pub fn unavailable() -> Self {
        Refusal::new(
            503,
            "unavailable",
            "the watcher cannot handle this right now; try again",
        )
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        warn!(error = %e, "storage failure");
        Refusal::unavailable()
    }
}

impl From<ProtocolError> for Refusal {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::BadSignature => Refusal::new(401, "bad_signature", e.to_string()),
            ProtocolError::StaleTimestamp => Refusal::new(401, "stale_timestamp", e.to_string()),
            ProtocolError::Replay => Refusal::new(409, "replay", e.to_string()),
            ProtocolError::Malformed(_) => Refusal::new(400, "malformed", e.to_string()),
        }
    }
}

/// The watcher's state shared by every task.
pub struct Watcher {
    store: Mutex<Store>,
    flusher: super::store::Flusher,
    invites: Invites,
    key: Ed25519KeyPair,
    public_key: Vec<u8>,
    /// Failed phone requests without a valid device secret, per source address:
    /// (count, window start).
    address_failures: Mutex<HashMap<IpAddr, (u32, i64)>>,
    /// The watcher's address as contacts reach it, for acknowledgement links.
    public_url: Mutex<String>,
    retry: RetryPolicy,
    /// Woken whenever something new is in the outbox.
    pub outbox_ready: tokio::sync::Notify,
    /// The pending deliveries by next attempt: (when, key). Mirrors the outbox tree, so the
    /// delivery loop finds what is due without reading every pending delivery each round.
    retry_index: Mutex<std::collections::BTreeSet<(i64, String)>>,
    /// Deliveries committed but not yet known to be on disk: they join the index (and may
    /// be sent) only after the flush, so nothing is sent for a step a crash could undo.
    staged: Mutex<Vec<(i64, String)>>,
    /// Subjects whose requests emitted events whose alerts are still to be built (after the
    /// answer; see [`Watcher::stage_deferred`]).
    deferred: Mutex<Vec<String>>,
    /// When each subject last asked for test alerts: tests go out at once, to addresses the
    /// client chose, so they are rationed.
    last_test: Mutex<HashMap<String, i64>>,
    /// Where bundle files are kept: `DATA/bundles/SUBJECT/ID.age`.
    bundle_dir: std::path::PathBuf,
    /// Bundle uploads read at once (each holds up to 32 MiB in memory).
    pub uploads: tokio::sync::Semaphore,
    /// The time requests and ticks are measured on, guarded against wall-clock jumps.
    clock: Arc<GuardedClock>,
    /// The key link tokens are derived under (`DATA/link.key`; see `dispatch`).
    link_key: zeroize::Zeroizing<Vec<u8>>,
    /// Download links with downloads not yet reported, by hash: when the report is due.
    reports_due: Mutex<HashMap<String, i64>>,
    /// Downloads served at once, in all and per link.
    download_slots: Arc<downloads::Slots>,
    /// The SHA-256 of each bundle file as last hashed (see `downloads`).
    hashed: downloads::Hashed,
    /// Where the sweep of expired links goes on (see `acks::sweep_links`).
    sweep: Mutex<acks::SweepCursor>,
    /// A subject was forgotten (or may have been, before a crash) and what it left is yet
    /// to be swept (see `leaving`).
    leftovers: std::sync::atomic::AtomicBool,
}

/// A request carried out, and the test alerts it asks to send (for `test-alert`).
pub struct Handled {
    pub status: StatusResponse,
    pub tests: Vec<Delivery>,
}

/// What an acknowledgement link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledged {
    pub name: String,
    pub alert_id: String,
    pub contact: String,
    /// It was acknowledged before (through this link or a sibling); nothing new was sent.
    pub already: bool,
    /// When, and through which kind of channel's link, it was acknowledged, if it was.
    pub confirmed: Option<(i64, String)>,
}

/// What a download link's page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub name: String,
    pub version: u64,
    pub sha256: String,
    pub expires_ms: i64,
}

impl Watcher {
    pub fn open(data: &Path) -> Result<Self, StoreError> {
        Self::open_with(data, RetryPolicy::default())
    }

    pub fn open_with(data: &Path, retry: RetryPolicy) -> Result<Self, StoreError> {
        let clock = Arc::new(GuardedClock::new(Box::new(SystemClock::new())));
        Self::open_with_clock(data, retry, clock)
    }

    /// Opens the watcher with the clock the daemon guards (and the tests drive).
    pub fn open_with_clock(
        data: &Path,
        retry: RetryPolicy,
        clock: Arc<GuardedClock>,
    ) -> Result<Self, StoreError> {
        let key = super::store::watcher_key(data)?;
        let link_key = super::store::link_key(data)?;
        let public_key = protocol::public_key(&key);
        let store = Store::open(data)?;
        let retry_index = store
            .pending()?
            .into_iter()
            .map(|d| (d.next_attempt_ms, d.key))
            .collect();
        let reports_due = Self::reports_due_from(&store)?;
        Ok(Watcher {
            retry_index: Mutex::new(retry_index),
            staged: Mutex::new(Vec::new()),
            deferred: Mutex::new(Vec::new()),
            last_test: Mutex::new(HashMap::new()),
            bundle_dir: data.join("bundles"),
            uploads: tokio::sync::Semaphore::new(4),
            flusher: store.flusher(),
            store: Mutex::new(store),
            invites: Invites::new(data),
            key,
            public_key,
            address_failures: Mutex::new(HashMap::new()),
            public_url: Mutex::new("http://127.0.0.1:8470".into()),
            retry,
            outbox_ready: tokio::sync::Notify::new(),
            clock,
            link_key,
            reports_due: Mutex::new(reports_due),
            download_slots: downloads::Slots::new(downloads::SLOTS, downloads::SLOTS_PER_LINK),
            hashed: downloads::Hashed::default(),
            sweep: Mutex::new(acks::SweepCursor::default()),
            leftovers: std::sync::atomic::AtomicBool::new(true),
        })
    }

    /// The time to act on now: the wall clock, held to real elapsed time after a jump.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn clock(&self) -> &GuardedClock {
        &self.clock
    }

    /// Where contacts reach this watcher (acknowledgement links point there).
    pub fn set_public_url(&self, url: &str) {
        *self.public_url.lock().unwrap_or_else(|p| p.into_inner()) =
            url.trim_end_matches('/').to_string();
    }

    fn dispatcher(&self) -> Dispatcher<'_> {
        Dispatcher {
            key: &self.key,
            public_key: protocol::b64(&self.public_key),
            fingerprint: self.fingerprint(),
            public_url: self
                .public_url
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            link_key: &self.link_key,
        }
    }

    /// Commits a change a request made, with what it emitted queued and kept on the subject
    /// as unstaged; the alerts are built after the answer ([`Watcher::stage_deferred`]).
    /// Building and signing a duress alert before answering made duress answers measurably
    /// slower than real ones; now both answers do the same work (one commit), whatever they
    /// emitted. The events are on disk with the change, so a crash before the alerts are
    /// built only delays them to the next tick.
    fn commit_deferring(
        &self,
        store: &Store,
        subject: &mut Subject,
        emitted: &[Emitted],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        subject.unstaged.extend(emitted.iter().cloned());
        store.commit(subject, emitted, now_ms)?;
        if !subject.unstaged.is_empty() {
            self.deferred
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(subject.id.clone());
        }
        Ok(())
    }

    /// Builds the alerts of a subject's unstaged events, and of what a tick found due in
    /// either world (see `pretend`), and commits them with the subject.
    fn commit_fired(
        &self,
        store: &Store,
        subject: &mut Subject,
        due: &pretend::Due,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let dispatcher = self.dispatcher();
        let mut outgoing = Outgoing::default();
        let unstaged = std::mem::take(&mut subject.unstaged);
        if !unstaged.is_empty() {
            outgoing.extend(dispatcher.expand(subject, &unstaged, now_ms));
        }
        if !due.real.is_empty() {
            outgoing.extend(dispatcher.expand(subject, &due.real, now_ms));
        }
        if !due.reminders.is_empty() {
            // Written from the pretend plan and schedule, to the journalist's real contacts.
            let mut shown = pretend::reminder_subject(subject);
            outgoing.extend(dispatcher.expand(&mut shown, &due.reminders, now_ms));
        }
        let queued: Vec<Emitted> = due.real.iter().chain(&due.reminders).cloned().collect();
        store.commit_with(subject, &queued, &outgoing, now_ms)?;
        self.stage(&outgoing);
        let real: Vec<Emitted> = unstaged
            .into_iter()
            .chain(due.real.iter().cloned())
            .collect();
        let rows = history::fired_rows(subject, &real, &due.pretend, &outgoing, now_ms);
        self.log_history(store, &rows, now_ms);
        Ok(())
    }

    /// Builds the alerts that requests left unstaged (called by the delivery loop, which
    /// the answering request wakes, and at every tick for anything a crash left behind).
    pub fn stage_deferred(&self, now_ms: i64) -> Result<(), StoreError> {
        let mut ids = std::mem::take(&mut *self.deferred.lock().unwrap_or_else(|p| p.into_inner()));
        if ids.is_empty() {
            return Ok(());
        }
        ids.sort_unstable();
        ids.dedup();
        let store = self.store();
        for id in ids {
            let Some(mut subject) = store.subject(&id)? else {
                continue;
            };
            if !subject.unstaged.is_empty() {
                self.commit_fired(&store, &mut subject, &pretend::Due::default(), now_ms)?;
            }
        }
        drop(store);
        self.flush_and_publish()
    }

    /// Flushes, then lets the sender see what was staged before the flush.
    fn flush_and_publish(&self) -> Result<(), StoreError> {
        let staged = std::mem::take(&mut *self.staged.lock().unwrap_or_else(|p| p.into_inner()));
        if let Err(e) = self.flusher.flush() {
            // Not known to be durable: keep them staged for the next successful flush.
            self.staged
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(staged);
            return Err(e);
        }
        let any = !staged.is_empty();
        if any {
            self.retry_index().extend(staged);
            self.outbox_ready.notify_one();
        }
        // Events a request deferred are not woken for: the delivery loop builds their alerts
        // at its next round (within a second), at a moment that has nothing to do with the
        // request. Woken at once, the building ran beside the answer still being written,
        // and a duress answer (which raises an alert) came 0.5 to 0.8 ms later than a real
        // one on an idle watcher (`benches/duress_timing.rs`).
        Ok(())
    }

    fn retry_index(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<(i64, String)>> {
        self.retry_index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers deliveries just committed; they join the index after the next flush.
    fn stage(&self, outgoing: &Outgoing) {
        self.staged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(
                outgoing
                    .deliveries
                    .iter()
                    .map(|d| (d.next_attempt_ms, d.key.clone())),
            );
    }

    pub fn fingerprint(&self) -> String {
        protocol::fingerprint(&self.public_key)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic while holding the lock drops the open transaction, which rolls it back: the
        // store stays consistent.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Signs a response body, bound to the request it answers.
    pub fn sign_response(&self, request_sig: &str, body: &[u8]) -> String {
        protocol::b64(
            self.key
                .sign(&protocol::response_bytes(request_sig, body))
                .as_ref(),
        )
    }
}

fn too_many(wait_ms: i64) -> Refusal {
    let wait_s = (wait_ms + 999) / 1000;
    Refusal {
        wait_s: Some(wait_s),
        ..Refusal::new(
            429,
            "too_many_attempts",
            format!("too many attempts; wait {wait_s} s"),
        )
    }
}

fn status_of(subject: &Subject, now_ms: i64) -> StatusResponse {
    let deadline_ms = subject
        .plan
        .as_ref()
        .and_then(|plan| subject.state.outlook(plan, now_ms).ok())
        .and_then(|o| o.deadline_ms);
    StatusResponse {
        name: subject.name.clone(),
        plan: subject.plan.as_ref().map(Plan::describe),
        last_checkin_ms: subject.state.last_checkin_ms,
        deadline_ms,
        paused_until_ms: subject
            .state
            .paused_until_ms
            .filter(|until| *until > now_ms),
        fired: subject
            .state
            .fired
            .iter()
            .map(|f| {
                let label = match f.key {
                    // Named as `plan set` names it: a reminder before the deadline, unlike the
                    // `remind` step after it.
                    crate::plan::schedule::StepKey::Reminder(_) => "remind-before".to_string(),
                    crate::plan::schedule::StepKey::Step(action) => action.label(),
                };
                (label, f.due_ms, f.fired_ms)
            })
            .collect(),
        phone_token: None,
        phones: None,
        history: None,
        retracted: None,
        test_results: None,
        duress_seen_ms: None,
        pretend: None,
        bundles: subject
            .bundles
            .iter()
            .map(|b| protocol::HeldBundle {
                id: b.id.clone(),
                sha256: b.sha256.clone(),
                version: b.version,
                released_until_ms: b.frozen(now_ms).map(|(_, until)| until),
            })
            .collect(),
    }
}

mod acks;
mod bundles;
mod deliveries;
mod downloads;
mod duress;
mod history;
mod leaving;
mod phones;
mod requests;
mod ticks;
pub use bundles::{MAX_BUNDLE_BYTES, MAX_BUNDLES};
pub use downloads::Download;
pub use duress::DURESS_REPEAT_MS;
pub use leaving::{Journalist, PlanState, journalists};

#[cfg(test)]
mod answers;
#[cfg(test)]
mod links;
#[cfg(test)]
mod test_support;
