//! What the watcher does with a request or a tick, apart from HTTP and the runtime: verify,
//! change the subject's state through the schedule machine, persist, answer. Synchronous and
//! deterministic given the time, so it is tested directly and called from blocking tasks.

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
}

/// A bundle file written under a temporary name, removed unless it is put in place.
struct StagedFile(Option<std::path::PathBuf>);

impl Drop for StagedFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Bundles a subject may keep on one watcher, and their total size.
pub const MAX_BUNDLES: usize = 8;
pub const MAX_BUNDLE_BYTES: u64 = 64 * 1024 * 1024;

/// A subject may ask for test alerts this often.
const TEST_EVERY_MS: i64 = 10_000;

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

/// Phone enrolment links stay valid this long.
const PHONE_INVITE_MS: i64 = 15 * 60 * 1000;
/// Requests without a valid device secret allowed per address per window.
const ADDRESS_FAILURES: u32 = 20;
const ADDRESS_WINDOW_MS: i64 = 10 * 60 * 1000;
/// Addresses tracked at most (a few MiB).
const ADDRESS_TABLE: usize = 100_000;

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

    pub fn enrol(&self, request: &EnrolRequest, now_ms: i64) -> Result<EnrolResponse, Refusal> {
        let device_key = protocol::unb64(&request.device_key)?;
        let duress_key = protocol::unb64(&request.duress_key)?;
        if device_key.len() != 32 || duress_key.len() != 32 || device_key == duress_key {
            return Err(Refusal::malformed(
                "the device and duress keys must be two different Ed25519 keys",
            ));
        }
        protocol::verify(
            &device_key,
            &protocol::enrol_bytes(&request.code),
            &request.proof,
        )?;
        // Under the store lock from first look to removal, so a code enrols exactly once; it
        // is removed only once the subject is on disk, so a failure does not burn it.
        let store = self.store();
        let invite = self.invites.peek(&request.code)?.ok_or_else(|| {
            Refusal::new(
                403,
                "bad_invite",
                "the enrolment code is unknown or was already used",
            )
        })?;
        let subject = Subject::enrolled(
            hex::encode(crate::crypto::random_array::<16>()),
            invite.name,
            device_key,
            duress_key,
            now_ms,
        );
        store.commit(&subject, &[], now_ms)?;
        store.flush()?;
        self.invites.remove(&request.code)?;
        drop(store);
        info!(subject = %subject.id, "enrolled");
        Ok(EnrolResponse {
            subject: subject.id,
            name: subject.name,
            watcher_key: protocol::b64(&self.public_key),
            fingerprint: self.fingerprint(),
        })
    }

    /// Verifies and carries out a signed request.
    pub fn handle(&self, request: &SignedRequest, now_ms: i64) -> Result<Handled, Refusal> {
        self.handle_with_body(request, None, now_ms)
    }

    /// The file of a bundle.
    pub fn bundle_path(&self, subject: &str, id: &str) -> std::path::PathBuf {
        self.bundle_dir.join(subject).join(format!("{id}.age"))
    }

    /// Writes a bundle durably under a temporary name, outside the store lock.
    fn stage_bundle_file(&self, subject: &str, body: &[u8]) -> Result<StagedFile, Refusal> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let dir = self.bundle_dir.join(subject);
        let temp = dir.join(format!(
            "{}.tmp",
            hex::encode(crate::crypto::random_array::<8>())
        ));
        let mut staged = StagedFile(None);
        let written = (|| -> std::io::Result<()> {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            staged.0 = Some(temp.clone());
            file.write_all(body)?;
            file.sync_all()
        })();
        written.map_err(|e| {
            warn!(error = %e, "a bundle could not be stored");
            Refusal::unavailable()
        })?;
        Ok(staged)
    }

    /// Checks an upload's signed request before its body is read: who sends it, that it is
    /// fresh, and that the declared bundle fits. Nothing changes; the full checks follow.
    pub fn admit_upload(
        &self,
        request: &SignedRequest,
        now_ms: i64,
    ) -> Result<protocol::BundlePut, Refusal> {
        let put: protocol::BundlePut = serde_json::from_str(&request.payload)
            .map_err(|e| Refusal::malformed(format!("the bundle request is malformed: {e}")))?;
        if put.size > crate::release::bundle::MAX_BUNDLE {
            return Err(Refusal::new(
                413,
                "too_large",
                "a bundle may hold at most 32 MiB",
            ));
        }
        let Some(subject) = self.store().subject(&request.subject)? else {
            return Err(refuse_unknown_subject(request));
        };
        let duress = duress_signed(request, &subject.device_key, &subject.duress_key)?;
        protocol::check_freshness(request, subject.counter, now_ms)?;
        if !duress {
            check_quota(&subject, &put)?;
        }
        Ok(put)
    }

    /// [`Watcher::handle`], for requests that carry a body (a bundle).
    pub fn handle_with_body(
        &self,
        request: &SignedRequest,
        body: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<Handled, Refusal> {
        // Keys never change once enrolled: read them, then verify the signature (the costly
        // step) without holding the store, so requests verify on every core at once.
        let (device_key, duress_key) = {
            let Some(subject) = self.store().subject(&request.subject)? else {
                return Err(refuse_unknown_subject(request));
            };
            (subject.device_key, subject.duress_key)
        };
        let duress = duress_signed(request, &device_key, &duress_key)?;
        // A bundle is checked and written before the store is locked: hashing and syncing
        // 32 MiB must not hold up everyone's check-ins.
        let mut staged_bundle = None;
        if request.op == ops::BUNDLE_PUT {
            let put: protocol::BundlePut = serde_json::from_str(&request.payload)
                .map_err(|e| Refusal::malformed(format!("the bundle request is malformed: {e}")))?;
            let body = body
                .ok_or_else(|| Refusal::malformed("a bundle is sent to /v1/bundle, as the body"))?;
            let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, body));
            if put.id.len() != 32
                || !put.id.chars().all(|c| c.is_ascii_hexdigit())
                || body.len() as u64 != put.size
                || digest != put.sha256
                || put.name.chars().count() > 100
                || put.name.chars().any(char::is_control)
            {
                return Err(Refusal::new(
                    422,
                    "bad_bundle",
                    "the bundle does not match its description (id, size, SHA-256 or name)",
                ));
            }
            // Written under duress too (and removed unused when the staged file is dropped),
            // so that a duress upload takes the time a real one does.
            staged_bundle = Some(self.stage_bundle_file(&request.subject, body)?);
        }
        let store = self.store();
        let mut subject = store
            .subject(&request.subject)?
            .ok_or_else(|| refuse_unknown_subject(request))?;
        protocol::check_freshness(request, subject.counter, now_ms)?;
        subject.counter = request.counter;
        // Changes take effect at the moment the journalist's signed request names, not when
        // this watcher received it: every watcher then computes the same deadlines, and the
        // same missed deadline gives the same alert id everywhere. Never before the current
        // cycle began, so a delayed request cannot move a deadline earlier.
        let at_ms = request.ts_ms.max(subject.state.cycle_start_ms);
        let overdue = fire_overdue(&mut subject, at_ms.min(now_ms));
        let mut phone_token = None;
        let mut phones = None;
        let mut removed_phone = None;
        let mut tests = Vec::new();
        let mut removed_bundle = None;
        let emitted = match (request.op.as_str(), duress) {
            (ops::CHECKIN, _) => {
                if duress {
                    // A check-in the coercer sees starts a new pretend cycle and ends a
                    // pretend pause, as a real one would. The real key's does not: the decoy
                    // would show a check-in the coercer never made.
                    pretend::check_in(&mut subject, at_ms);
                }
                let emitted = subject.state.check_in(at_ms, duress);
                if duress {
                    subject.duress_cycle = Some(subject.state.cycle);
                }
                emitted
            }
            (ops::BUNDLE_PUT, _) => {
                let put: protocol::BundlePut =
                    serde_json::from_str(&request.payload).map_err(|e| {
                        Refusal::malformed(format!("the bundle request is malformed: {e}"))
                    })?;
                if duress {
                    // Looks stored; is not: only its description is kept, for the duress
                    // key's status. The silent alarm goes out.
                    check_quota(&subject.with_duress_view(), &put)?;
                    subject.duress_bundles.retain(|b| b.id != put.id);
                    subject.duress_bundles.push(super::store::BundleMeta {
                        id: put.id,
                        name: put.name,
                        size: put.size,
                        sha256: put.sha256,
                        recipients: put.recipients,
                        stored_ms: now_ms,
                        version: put.version,
                        released_ms: None,
                        released_until_ms: None,
                    });
                    vec![Emitted::Duress {
                        cycle: subject.state.cycle,
                        at_ms,
                    }]
                } else {
                    check_replaceable(&subject, &put, now_ms)?;
                    check_quota(&subject, &put)?;
                    let mut staged = staged_bundle.take().ok_or_else(Refusal::unavailable)?;
                    let temp = staged.0.take().ok_or_else(Refusal::unavailable)?;
                    let dir = self.bundle_dir.join(&subject.id);
                    std::fs::rename(&temp, self.bundle_path(&subject.id, &put.id))
                        .and_then(|_| std::fs::File::open(&dir)?.sync_all())
                        .map_err(|e| {
                            let _ = std::fs::remove_file(&temp);
                            warn!(error = %e, "a bundle could not be put in place");
                            Refusal::unavailable()
                        })?;
                    subject.bundles.retain(|b| b.id != put.id);
                    subject.bundles.push(super::store::BundleMeta {
                        id: put.id,
                        name: put.name,
                        size: put.size,
                        sha256: put.sha256,
                        recipients: put.recipients,
                        stored_ms: now_ms,
                        version: put.version,
                        released_ms: None,
                        released_until_ms: None,
                    });
                    Vec::new()
                }
            }
            (ops::BUNDLE_REMOVE, _) => {
                let remove: protocol::BundleRemove = serde_json::from_str(&request.payload)
                    .map_err(|e| Refusal::malformed(format!("the request is malformed: {e}")))?;
                if duress {
                    subject.duress_bundles.retain(|b| b.id != remove.id);
                    vec![Emitted::Duress {
                        cycle: subject.state.cycle,
                        at_ms,
                    }]
                } else {
                    if let Some(bundle) = subject.bundles.iter().find(|b| b.id == remove.id) {
                        refuse_if_frozen(bundle, now_ms)?;
                        removed_bundle = Some(remove.id.clone());
                    }
                    subject.bundles.retain(|b| b.id != remove.id);
                    Vec::new()
                }
            }
            (ops::TEST_ALERT, _) => {
                {
                    let mut last = self.last_test.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(at) = last.get(&subject.id)
                        && now_ms - at < TEST_EVERY_MS
                    {
                        return Err(too_many(TEST_EVERY_MS - (now_ms - at)));
                    }
                    last.insert(subject.id.clone(), now_ms);
                }
                let wanted: protocol::TestPayload = serde_json::from_str(&request.payload)
                    .map_err(|e| {
                        Refusal::malformed(format!("the test request is malformed: {e}"))
                    })?;
                let shown = if duress {
                    subject.with_duress_view()
                } else {
                    subject.clone()
                };
                let contacts: Vec<_> = shown
                    .directory
                    .contacts
                    .iter()
                    .filter(|c| {
                        wanted
                            .contact
                            .as_deref()
                            .is_none_or(|n| c.name.trim().to_lowercase() == n.trim().to_lowercase())
                    })
                    .collect();
                if contacts.is_empty() {
                    return Err(Refusal::new(
                        404,
                        "unknown_contact",
                        "this watcher has no such contact for you (run `posbon contact add` first)",
                    ));
                }
                tests = self.dispatcher().tests(&shown, &contacts, now_ms);
                alarm_if(duress, &subject, at_ms)
            }
            // Any request signed with the duress key means the duress passphrase is in use:
            // the alarm must not wait for the unlock notice, which travels on its own.
            (ops::STATUS, _) => alarm_if(duress, &subject, at_ms),
            (ops::ALARM, _) => vec![Emitted::Duress {
                cycle: subject.state.cycle,
                at_ms,
            }],
            // Every unlock sends this; only the duress key's means anything.
            (ops::UNLOCK, _) => alarm_if(duress, &subject, at_ms),
            (ops::PHONE_INVITE, _) => {
                let token = phone::link_token(&subject.id);
                phone_token = Some(token.clone());
                subject
                    .phone_invites
                    .retain(|invite| invite.expires_ms > now_ms);
                // Under coercion the link works as usual, but the phone it sets up only ever
                // raises the silent alarm, whatever PIN is typed on it.
                subject.phone_invites.push(PhoneInvite {
                    hash: token_hash(&token),
                    expires_ms: now_ms + PHONE_INVITE_MS,
                    duress,
                });
                alarm_if(duress, &subject, at_ms)
            }
            (ops::PHONE_LIST, _) => {
                phones = Some(phone_infos(&subject, duress));
                alarm_if(duress, &subject, at_ms)
            }
            (ops::PHONE_REMOVE, _) => {
                let remove: protocol::PhoneRemove = serde_json::from_str(&request.payload)
                    .map_err(|e| Refusal::malformed(format!("the request is malformed: {e}")))?;
                let index = find_phone(&subject, &remove.id, duress)?;
                let emitted = if duress {
                    // Looks removed (the decoy view lists it no more, and the phone is
                    // answered like a revoked one), but stays enrolled: a journalist forced
                    // to revoke their phone has not lost it. Every use of it from now on
                    // raises the silent alarm, since a coercer may hold it.
                    let phone = &mut subject.phones[index];
                    phone.hidden = true;
                    phone.duress_only = true;
                    vec![Emitted::Duress {
                        cycle: subject.state.cycle,
                        at_ms,
                    }]
                } else {
                    removed_phone = Some(subject.phones.remove(index).id);
                    Vec::new()
                };
                phones = Some(phone_infos(&subject, duress));
                emitted
            }
            // Under duress, changes to the plan look accepted but change nothing, and the
            // silent alert goes out: a journalist forced to switch the watcher off cannot be.
            // What the coercer asked for is remembered and shown to the duress key from then
            // on, so a later look does not give the game away.
            // It runs on its own schedule from then on (see `pretend`): the decoy's status, the
            // phone and the journalist's reminders follow it, the real ladder does not.
            (ops::PLAN | ops::PAUSE | ops::RESUME | ops::CONTACTS, true) => {
                let mut shown = subject.with_duress_view();
                // What the pretend world emits (an all-clear of pretend alerts) goes nowhere.
                apply_change(&mut shown, &request.op, &request.payload, at_ms)?;
                pretend::keep(&mut subject, &shown, at_ms);
                vec![Emitted::Duress {
                    cycle: subject.state.cycle,
                    at_ms,
                }]
            }
            (ops::PLAN | ops::PAUSE | ops::RESUME | ops::CONTACTS, false) => {
                apply_change(&mut subject, &request.op, &request.payload, at_ms)?
            }
            // Under duress it looks accepted and the pretend world stays: only the real key
            // may end it.
            (ops::END_PRETEND, true) => vec![Emitted::Duress {
                cycle: subject.state.cycle,
                at_ms,
            }],
            (ops::END_PRETEND, false) => {
                subject.duress_view = None;
                Vec::new()
            }
            (other, _) => return Err(Refusal::malformed(format!("unknown operation {other:?}"))),
        };
        let emitted = [overdue, emitted].concat();
        if duress {
            subject.duress_seen_ms = Some(at_ms);
        } else {
            // The real key is in the journalist's hands again: the episode is over.
            subject.duress_alerted_ms = None;
        }
        let emitted = ration_duress(&mut subject, emitted, at_ms);
        self.commit_deferring(&store, &mut subject, &emitted, now_ms)?;
        if let Some(id) = &removed_phone {
            store.forget_phone(id)?;
        }
        drop(store);
        self.flush_and_publish()?;
        if let Some(id) = removed_bundle
            && id.chars().all(|c| c.is_ascii_hexdigit())
        {
            let _ = std::fs::remove_file(self.bundle_path(&subject.id, &id));
        }
        info!(subject = %subject.id, op = %request.op, "request accepted");
        let mut status = if duress {
            status_of(&subject.with_duress_view(), now_ms)
        } else {
            // The journalist, free again, learns what the coercer was shown.
            StatusResponse {
                duress_seen_ms: subject.duress_seen_ms,
                pretend: pretend::summary(&subject, now_ms),
                ..status_of(&subject, now_ms)
            }
        };
        status.phone_token = phone_token;
        status.phones = phones;
        Ok(Handled { status, tests })
    }

    /// Enrols a phone with a one-time token from `phone-invite`: its public key, its PIN key
    /// and both PINs. Other phones stay enrolled; the journalist is told on tier 0.
    pub fn phone_enrol(
        &self,
        request: &PhoneEnrolRequest,
        from: IpAddr,
        now_ms: i64,
    ) -> Result<PhoneEnrolResponse, Refusal> {
        let pin_key = zeroize::Zeroizing::new(protocol::unb64(&request.pin_key)?);
        if pin_key.len() != 32 {
            return Err(Refusal::malformed("the PIN key must be 32 bytes"));
        }
        let public_key = protocol::unb64(&request.public_key)?;
        // The proof shows the phone holds the key it registers, and that its signatures
        // verify here: a phone whose browser signs in another form fails now, at set-up,
        // not at its first check-in.
        phone::verify_signature(
            &public_key,
            &phone::enrol_bytes(&request.token, &request.public_key),
            &protocol::unb64(&request.proof)?,
        )
        .map_err(|e| Refusal::malformed(e.to_string()))?;
        // Checked here, not only on the page: the page is the phone's, the rule is ours.
        phone::check_new_pins(&request.pin, &request.duress_pin).map_err(|e| {
            let code = match e {
                phone::PinError::Format => "bad_pin",
                phone::PinError::Weak => "weak_pin",
            };
            Refusal::new(422, code, e.to_string())
        })?;
        // Limited per link, not per address: a valid link (one use, 15 minutes) is looked up
        // first, with one read, and no address's history refuses it. Only a link that is not
        // valid counts against the address, so junk from the journalist's address (or a
        // proxy's, or Tor's) slows the junk down and nothing else.
        let hash = token_hash(&request.token);
        let store = self.store();
        let found = match phone::link_subject(&request.token) {
            Some(id) => store.subject(id)?.filter(|s| {
                s.phone_invites
                    .iter()
                    .any(|i| i.hash == hash && i.expires_ms > now_ms)
            }),
            None => None,
        };
        let Some(mut subject) = found else {
            drop(store);
            return Err(self.count_address(from, now_ms).err().unwrap_or_else(|| {
                Refusal::new(
                    403,
                    "bad_invite",
                    "the link is unknown, expired or already used",
                )
            }));
        };
        let duress_only = subject
            .phone_invites
            .iter()
            .any(|i| i.hash == hash && i.duress);
        subject.phone_invites.retain(|i| i.hash != hash);
        let device_id = hex::encode(crate::crypto::random_array::<16>());
        let mut phone = Phone::new(
            device_id.clone(),
            &pin_key,
            &request.pin,
            &request.duress_pin,
            now_ms,
            Some(public_key),
        );
        phone.duress_only = duress_only;
        // Added, never in place of another: a link used by someone else cannot push the
        // journalist's own phone out, and the notice below tells the journalist it was used.
        subject.phones.push(phone);
        let notice = vec![Emitted::PhoneEnrolled {
            device: device_id.clone(),
            at_ms: now_ms,
        }];
        self.commit_deferring(&store, &mut subject, &notice, now_ms)?;
        drop(store);
        self.flush_and_publish()?;
        info!(subject = %subject.id, "phone enrolled");
        Ok(PhoneEnrolResponse {
            device_id,
            name: subject.name,
            subject: subject.id,
        })
    }

    /// Whether a check-in comes from the phone it names: a valid signature by its key with a
    /// counter above the last (a phone set up before signing: its secret). Nothing else about
    /// the request is trusted before this holds.
    fn phone_authentic(phone: &Phone, subject: &str, request: &PhoneCheckinRequest) -> bool {
        match (&phone.public_key, &request.sig) {
            (Some(key), Some(sig)) => {
                let message = phone::checkin_bytes(
                    subject,
                    &phone.id,
                    request.ts_ms,
                    request.counter,
                    &request.pin_proof,
                    &request.duress_proof,
                );
                // Verified before the counter is compared, so that a replay costs the time a
                // forgery does and the two are not told apart by it.
                let verified = protocol::unb64(sig)
                    .is_ok_and(|sig| phone::verify_signature(key, &message, &sig).is_ok());
                verified && request.counter > phone.counter
            }
            (None, None) => {
                let secret = zeroize::Zeroizing::new(
                    protocol::unb64(request.device_secret.as_deref().unwrap_or_default())
                        .unwrap_or_default(),
                );
                phone.secret_matches(&secret)
            }
            // A signing phone never falls back to its secret (which it no longer sends), and
            // an old phone cannot sign.
            _ => false,
        }
    }

    /// The answer to a check-in that does not come from an enrolled phone: forged, replayed,
    /// revoked or unknown, all alike, so that none tells the sender which it was.
    fn phone_refused(&self, from: IpAddr, now_ms: i64) -> Refusal {
        self.count_address(from, now_ms)
            .err()
            .unwrap_or_else(|| Refusal::new(401, "unknown_device", "this phone is not enrolled"))
    }

    /// A check-in from a phone: its signature (or, from an old phone, its secret) plus the
    /// PIN (or duress PIN, answered the same).
    pub fn phone_checkin(
        &self,
        request: &PhoneCheckinRequest,
        from: IpAddr,
        now_ms: i64,
    ) -> Result<PhoneCheckinResponse, Refusal> {
        // The time is checked before anything is looked up, so this answer says nothing of
        // the phone; the page reads the watcher's time from the answer's `Date` and retries.
        if request.sig.is_some() && request.ts_ms.abs_diff(now_ms) > protocol::MAX_SKEW_MS as u64 {
            return Err(protocol::ProtocolError::StaleTimestamp.into());
        }
        let store = self.store();
        let owner = store.phone_owner(&request.device_id)?;
        let known = owner
            .as_ref()
            .is_some_and(|s| s.phones.iter().any(|p| p.id == request.device_id));
        let found = owner.and_then(|subject| {
            let index = subject.phones.iter().position(|p| {
                p.id == request.device_id && Self::phone_authentic(p, &subject.id, request)
            })?;
            Some((subject, index))
        });
        let Some((mut subject, index)) = found else {
            // No valid device proof: only the address is slowed down, never the device.
            drop(store);
            if request.sig.is_some() && !known {
                // A signature was verified for a phone that exists; do the same work for one
                // that does not (or was removed), so the time taken does not tell them apart.
                let sig = protocol::unb64(request.sig.as_deref().unwrap_or_default());
                phone::verify_absent(&sig.unwrap_or_default());
            }
            return Err(self.phone_refused(from, now_ms));
        };
        let phone = &mut subject.phones[index];
        // A phone removed under duress looks removed, whatever happens below.
        let hidden = phone.hidden;
        let signed = phone.public_key.is_some();
        if signed {
            // Used up whatever the PIN turns out to be: a captured request, even one with a
            // wrong PIN, cannot be sent again.
            phone.counter = request.counter;
        }
        phone.forgive(now_ms);
        if phone.locked_until_ms > now_ms {
            // The PIN is not even looked at: the right one gets the same answer as a wrong
            // one, or the lock would tell a guesser when they had found it. The journalist
            // still checks in from the laptop (signed requests know no PIN and no lock).
            let wait = phone.locked_until_ms - now_ms;
            if signed {
                store.commit(&subject, &[], now_ms)?;
                drop(store);
                self.flusher.flush()?;
            }
            return Err(if hidden {
                self.phone_refused(from, now_ms)
            } else {
                too_many(wait)
            });
        }
        let check = if signed {
            let proof = |text: &str| protocol::unb64(text).unwrap_or_default();
            phone.check_proofs(&proof(&request.pin_proof), &proof(&request.duress_proof))
        } else {
            let secret = zeroize::Zeroizing::new(
                protocol::unb64(request.device_secret.as_deref().unwrap_or_default())
                    .unwrap_or_default(),
            );
            phone.check_pin(&secret, request.pin.as_deref().unwrap_or_default())
        };
        let duress = match check {
            PinCheck::Real => false,
            PinCheck::Duress => true,
            PinCheck::Wrong => {
                let (until, alarm) = phone.record_failure(now_ms);
                if alarm {
                    // A run of wrong PINs on the journalist's own phone is someone else
                    // guessing: the same silent alert as the duress PIN, rationed alike.
                    let emitted = vec![Emitted::Duress {
                        cycle: subject.state.cycle,
                        at_ms: now_ms,
                    }];
                    subject.duress_cycle = Some(subject.state.cycle);
                    let emitted = ration_duress(&mut subject, emitted, now_ms);
                    self.commit_deferring(&store, &mut subject, &emitted, now_ms)?;
                    drop(store);
                    self.flush_and_publish()?;
                } else {
                    store.commit(&subject, &[], now_ms)?;
                    drop(store);
                    self.flusher.flush()?;
                }
                return Err(if hidden {
                    self.phone_refused(from, now_ms)
                } else if until > now_ms {
                    too_many(until - now_ms)
                } else {
                    Refusal::new(401, "wrong_pin", "wrong PIN")
                });
            }
        };
        phone.last_checkin_ms = Some(now_ms);
        // No right PIN, real or duress, lowers the count of wrong ones (see `phone`): both
        // store the same (the forgiveness above), and the duress PIN buys no free guesses.
        let overdue = fire_overdue(&mut subject, now_ms);
        let emitted = [overdue, subject.state.check_in(now_ms, duress)].concat();
        // Either PIN checks in the pretend world too, and either is answered from it: the
        // coercer may hold the phone with either PIN, and must see what the decoy shows.
        pretend::check_in(&mut subject, now_ms);
        if duress {
            subject.duress_cycle = Some(subject.state.cycle);
            subject.duress_seen_ms = Some(now_ms);
        } else {
            subject.duress_alerted_ms = None;
        }
        let emitted = ration_duress(&mut subject, emitted, now_ms);
        self.commit_deferring(&store, &mut subject, &emitted, now_ms)?;
        drop(store);
        self.flush_and_publish()?;
        if hidden {
            // Carried out (as duress: see `phone_remove_under_duress`), answered as removed.
            return Err(self.phone_refused(from, now_ms));
        }
        info!(subject = %subject.id, "phone check-in accepted");
        let status = status_of(&pretend::seen_by_phone(&subject), now_ms);
        Ok(PhoneCheckinResponse {
            name: status.name,
            deadline_ms: status.deadline_ms,
        })
    }

    /// Counts one unauthenticated attempt from `from` (an IPv6 address by its /64, the unit a
    /// single attacker controls); refuses past the limit. While the table is full (a flood of
    /// addresses), unauthenticated attempts are refused outright: phones with a valid device
    /// secret and enrolments with a valid link never get here, so the journalist is not
    /// affected. `from` is the client behind a trusted proxy (see `proxy`).
    fn count_address(&self, from: IpAddr, now_ms: i64) -> Result<(), Refusal> {
        let key = match from {
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::V6(octets.into())
            }
            v4 => v4,
        };
        let mut failures = self
            .address_failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() >= ADDRESS_TABLE && !failures.contains_key(&key) {
            failures.retain(|_, (_, start)| now_ms - *start < ADDRESS_WINDOW_MS);
            if failures.len() >= ADDRESS_TABLE {
                return Err(too_many(ADDRESS_WINDOW_MS));
            }
        }
        let entry = failures.entry(key).or_insert((0, now_ms));
        if now_ms - entry.1 >= ADDRESS_WINDOW_MS {
            *entry = (0, now_ms);
        }
        entry.0 += 1;
        if entry.0 > ADDRESS_FAILURES {
            Err(too_many(entry.1 + ADDRESS_WINDOW_MS - now_ms))
        } else {
            Ok(())
        }
    }

    /// Fires every step that is due at `now_ms`; returns the earliest next wake-up.
    pub fn tick(&self, now_ms: i64) -> Result<Option<i64>, StoreError> {
        let store = self.store();
        let mut next_wake: Option<i64> = None;
        let mut fired_any = false;
        let mut failure = None;
        for mut subject in store.subjects()? {
            if subject.plan.is_none()
                && subject.duress_view.is_none()
                && subject.unstaged.is_empty()
            {
                continue;
            }
            let due = match pretend::fire_due(&mut subject, now_ms) {
                Ok(due) => due,
                Err(e) => {
                    warn!(subject = %subject.id, error = %e, "schedule error");
                    continue;
                }
            };
            // Events a request left unstaged (a crash came before their alerts were built)
            // go out with this tick.
            if !due.is_empty() || !subject.unstaged.is_empty() {
                // The queue records when each action was really stored, for the record (on
                // the guarded clock, like every other time the watcher keeps: a delivery
                // stamped with a jumped wall clock would wait out the jump before its first
                // attempt).
                if let Err(e) = self.commit_fired(&store, &mut subject, &due, self.now_ms()) {
                    // Stop here, but let what was already committed go out (below).
                    failure = Some(e);
                    break;
                }
                fired_any = true;
                for action in due.real.iter().chain(&due.reminders) {
                    info!(subject = %subject.id, ?action, "escalation step fired");
                    super::metrics::step_fired(action);
                }
            }
            if let Some(wake) = pretend::next_wake(&subject, now_ms) {
                next_wake = Some(next_wake.map_or(wake, |n: i64| n.min(wake)));
            }
        }
        // Downloads held back by the notice's rate limit are reported when their time comes.
        if failure.is_none() {
            match self.report_due_downloads(&store, now_ms) {
                Ok((any, next)) => {
                    fired_any |= any;
                    if let Some(at) = next {
                        next_wake = Some(next_wake.map_or(at, |n: i64| n.min(at)));
                    }
                }
                Err(e) => failure = Some(e),
            }
        }
        // Expired links go, a bounded batch a tick (their deletion needs no flush: nothing
        // is sent because of it).
        if failure.is_none()
            && let Err(e) = self.sweep_links(&store, now_ms)
        {
            failure = Some(e);
        }
        drop(store);
        // One fsync for every step of this tick; nothing acts on a queued action before it.
        if fired_any {
            self.flush_and_publish()?;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(next_wake),
        }
    }

    /// Steps due on the wall clock `wall_ms` but not at `now_ms`: held by a forward jump of
    /// the wall clock, for the operator's report. (subject id, action, due)
    pub fn held_steps(
        &self,
        now_ms: i64,
        wall_ms: i64,
    ) -> Result<Vec<(String, crate::plan::Action, i64)>, StoreError> {
        let mut held = Vec::new();
        for subject in self.store().subjects()? {
            let Some(plan) = &subject.plan else {
                continue;
            };
            if let Ok(steps) = subject.state.held(plan, now_ms, wall_ms) {
                held.extend(
                    steps
                        .into_iter()
                        .map(|(_, action, due)| (subject.id.clone(), action, due)),
                );
            }
        }
        held.sort_by_key(|(_, _, due)| *due);
        Ok(held)
    }

    /// Sets the plan of the subject called `name` (from the operator's config) when that
    /// subject has none yet. Returns false when no subject has that name.
    pub fn set_plan_by_name(
        &self,
        name: &str,
        plan: Plan,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let store = self.store();
        let mut found = false;
        for mut subject in store.subjects()?.into_iter().filter(|s| s.name == name) {
            found = true;
            match &subject.plan {
                None => {}
                Some(own) if *own == plan => continue,
                Some(_) => {
                    // The journalist's own plan wins: an operator's file must not quietly
                    // loosen (or tighten) what the journalist chose.
                    warn!(subject = %subject.id, "has its own plan; the config's plan is not applied");
                    continue;
                }
            }
            subject.state = State::starting(now_ms);
            subject.plan = Some(plan.clone());
            store.commit(&subject, &[], now_ms)?;
            store.flush()?;
            info!(subject = %subject.id, "plan set from the config");
        }
        Ok(found)
    }

    pub fn queued(&self) -> Result<Vec<super::store::QueuedAction>, StoreError> {
        self.store().queued()
    }

    /// Up to `limit` pending deliveries whose next attempt is due at `now_ms` (skipping
    /// `busy` ones), and the earliest later attempt.
    pub fn due_deliveries(
        &self,
        now_ms: i64,
        busy: &std::collections::HashSet<String>,
        limit: usize,
    ) -> Result<(Vec<Delivery>, Option<i64>), StoreError> {
        // Alerts of requests answered since the last round are built first, so they go out
        // in this one; a failure leaves them to the next tick, and sending goes on.
        if let Err(e) = self.stage_deferred(now_ms) {
            warn!(error = %e, "alerts could not be built yet; the next tick tries again");
        }
        let mut keys = Vec::new();
        let mut next = None;
        for (at, key) in self.retry_index().iter() {
            if *at > now_ms {
                next = Some(*at);
                break;
            }
            if keys.len() < limit && !busy.contains(key) {
                keys.push(key.clone());
            }
        }
        let store = self.store();
        let mut due = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(delivery) = store.pending_delivery(&key)? {
                due.push(delivery);
            }
        }
        drop(store);
        // The links' tokens go in now, and only in memory: the outbox keeps placeholders.
        let dispatcher = self.dispatcher();
        for delivery in &mut due {
            dispatcher.finalise(delivery);
        }
        Ok((due, next))
    }

    /// Records one attempt at a delivery; durable when this returns.
    pub fn record_attempt(
        &self,
        key: &str,
        error: Option<super::outbox::Failure>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.record_attempts(vec![(key.to_string(), error, now_ms)])
    }

    /// Records attempts (key, error, when) in one transaction and one fsync; durable when
    /// this returns.
    pub fn record_attempts(
        &self,
        attempts: Vec<(String, Option<super::outbox::Failure>, i64)>,
    ) -> Result<(), StoreError> {
        {
            let store = self.store();
            let mut updated = Vec::with_capacity(attempts.len());
            let mut moves = Vec::with_capacity(attempts.len());
            for (key, error, at_ms) in attempts {
                let Some(mut delivery) = store.pending_delivery(&key)? else {
                    continue;
                };
                match &error {
                    None => {
                        info!(delivery = %key, channel = delivery.channel.kind(), "alert delivered")
                    }
                    Some(e) => {
                        warn!(delivery = %key, channel = delivery.channel.kind(), error = %e, "delivery failed; will retry")
                    }
                }
                let unit = f64::from(u32::from_be_bytes(crate::crypto::random_array::<4>()))
                    / (f64::from(u32::MAX) + 1.0);
                let before = delivery.next_attempt_ms;
                delivery.record(at_ms, error, &self.retry, unit);
                moves.push((
                    before,
                    delivery.is_pending().then_some(delivery.next_attempt_ms),
                    key,
                ));
                updated.push(delivery);
            }
            store.update_deliveries(&updated)?;
            let mut index = self.retry_index();
            for (before, after, key) in moves {
                index.remove(&(before, key.clone()));
                if let Some(after) = after {
                    index.insert((after, key));
                }
            }
        }
        self.flusher.flush()
    }

    /// An operator gives up on a pending delivery; it is kept, marked as given up.
    pub fn give_up(&self, key: &str, now_ms: i64) -> Result<bool, StoreError> {
        let store = self.store();
        let Some(mut delivery) = store.pending_delivery(key)? else {
            return Ok(false);
        };
        delivery.state = DeliveryState::GivenUp { at_ms: now_ms };
        store.update_delivery(&delivery)?;
        self.retry_index()
            .remove(&(delivery.next_attempt_ms, key.to_string()));
        store.flush()?;
        warn!(delivery = %key, "the operator gave up on this delivery");
        Ok(true)
    }

    /// Pending deliveries (at most `pending`), and the latest settled ones (at most
    /// `settled`); read without holding the watcher's lock, so a report never holds up
    /// check-ins.
    pub fn outbox(
        &self,
        pending: usize,
        settled: usize,
    ) -> Result<(Vec<Delivery>, Vec<Delivery>), StoreError> {
        let view = self.store().outbox_view();
        Ok((view.pending(pending)?, view.delivered(settled)?))
    }

    /// The outbox (and the count of subjects), read-only and apart from the watcher's lock.
    pub fn outbox_view(&self) -> super::store::OutboxView {
        self.store().outbox_view()
    }
}

/// Applies a plan, pause or resume request to `subject`; returns what it emitted.
fn apply_change(
    subject: &mut Subject,
    op: &str,
    payload: &str,
    now_ms: i64,
) -> Result<Vec<Emitted>, Refusal> {
    match op {
        ops::PLAN => {
            let plan: Plan = serde_json::from_str(payload)
                .map_err(|e| Refusal::malformed(format!("the plan is malformed: {e}")))?;
            plan.validate()
                .map_err(|e| Refusal::new(422, "bad_plan", e.to_string()))?;
            // A signed plan change from the journalist is a sign of life: a new cycle starts
            // now, so a shorter plan never fires the ladder at once for a journalist who is
            // right there changing it.
            let emitted = if subject.plan.is_none() {
                subject.state = State::starting(now_ms);
                Vec::new()
            } else {
                subject.state.check_in(now_ms, false)
            };
            subject.plan = Some(plan);
            Ok(emitted)
        }
        ops::CONTACTS => {
            let directory: Directory = serde_json::from_str(payload)
                .map_err(|e| Refusal::malformed(format!("the contacts are malformed: {e}")))?;
            directory
                .validate()
                .map_err(|e| Refusal::new(422, "bad_contacts", e.to_string()))?;
            // The lawyers' public keys are for sealing, on the journalist's laptop; a watcher
            // never uses them, and a copy of its disk must not tell who bundles are for.
            let mut directory = directory;
            for contact in &mut directory.contacts {
                contact.age_recipients.clear();
            }
            subject.directory = directory;
            Ok(Vec::new())
        }
        ops::PAUSE => {
            let pause: PausePayload = serde_json::from_str(payload)
                .map_err(|e| Refusal::malformed(format!("the pause is malformed: {e}")))?;
            if pause.until_ms <= now_ms {
                return Err(Refusal::new(
                    422,
                    "bad_pause",
                    "the pause must end in the future",
                ));
            }
            Ok(subject.state.pause(now_ms, pause.until_ms))
        }
        _ => Ok(subject.state.resume(now_ms)),
    }
}

/// Fires the steps of `subject` that fell due by `at_ms` and were not fired yet. Called
/// before a request changes the cycle: a check-in (or pause, or plan change) arriving before
/// the escalation loop's first tick after a restart, or between a step falling due and the
/// tick that fires it, must not wipe that step out: the alert goes out (then the all-clear
/// the check-in brings), exactly as if the daemon had been watching all along.
/// The silent alarm a request signed with the duress key raises (rationed per episode by
/// `ration_duress`); nothing for the real key.
fn alarm_if(duress: bool, subject: &Subject, at_ms: i64) -> Vec<Emitted> {
    if duress {
        vec![Emitted::Duress {
            cycle: subject.state.cycle,
            at_ms,
        }]
    } else {
        Vec::new()
    }
}

fn fire_overdue(subject: &mut Subject, at_ms: i64) -> Vec<Emitted> {
    let Some(plan) = &subject.plan else {
        return Vec::new();
    };
    match subject.state.fire_due(plan, at_ms) {
        Ok(mut emitted) => {
            if subject.duress_view.is_some() {
                // While a pretend world exists the journalist's reminders follow it (the next
                // tick sends them); the real ladder's are held back, as in `pretend::fire_due`.
                emitted.retain(|e| !pretend::to_journalist(e));
            }
            for action in &emitted {
                info!(subject = %subject.id, ?action, "escalation step fired before a request");
            }
            emitted
        }
        Err(e) => {
            // As in a tick: a plan that cannot be computed fires nothing, and stops nothing.
            warn!(subject = %subject.id, error = %e, "schedule error");
            Vec::new()
        }
    }
}

/// A silent duress alert is not sent again within this long of the last one, unless a
/// request signed with the real device key (or a check-in with the phone's real PIN) came
/// in between.
pub const DURESS_REPEAT_MS: i64 = 12 * 3_600_000;

/// One silent alert per coercion episode. Every command run under the duress passphrase
/// signs a request with the duress key (the unlock itself raises the alarm), so one episode
/// would otherwise send the contacts a new "duress" alert for each command, each with its
/// own id, when the lawyer's guide teaches that a new id is a new event. A request that
/// falls within [`DURESS_REPEAT_MS`] after the last duress alert, with no real request since,
/// raises none. A mark far in the future (a watcher clock that ran fast, since corrected)
/// silences nothing: only requests from the last one's moment (less the allowed clock skew)
/// onwards count as repeats. Every watcher sees the same requests and decides alike.
fn ration_duress(subject: &mut Subject, mut emitted: Vec<Emitted>, at_ms: i64) -> Vec<Emitted> {
    emitted.retain(|event| {
        if !matches!(event, Emitted::Duress { .. }) {
            return true;
        }
        let repeat = subject.duress_alerted_ms.is_some_and(|last| {
            at_ms >= last - protocol::MAX_SKEW_MS && at_ms - last < DURESS_REPEAT_MS
        });
        if !repeat {
            subject.duress_alerted_ms = Some(at_ms);
        }
        !repeat
    });
    emitted
}

/// The answer to a request for a subject this watcher does not know: the same as to a
/// known subject's request with a wrong signature, after the same two verifications, so
/// that a stranger cannot learn which subjects a watcher serves from the answer or its time.
fn refuse_unknown_subject(request: &SignedRequest) -> Refusal {
    static ABSENT_KEYS: std::sync::OnceLock<[Vec<u8>; 2]> = std::sync::OnceLock::new();
    let keys = ABSENT_KEYS.get_or_init(|| {
        let random = ring::rand::SystemRandom::new();
        let key = || {
            Ed25519KeyPair::generate_pkcs8(&random)
                .ok()
                .and_then(|pkcs8| Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).ok())
                .map(|pair| {
                    ring::signature::KeyPair::public_key(&pair)
                        .as_ref()
                        .to_vec()
                })
                .unwrap_or_else(|| vec![0; 32])
        };
        [key(), key()]
    });
    match duress_signed(request, &keys[0], &keys[1]) {
        Err(refusal) => refusal,
        // Signed by a key nobody has: cannot happen; answer as to a forgery all the same.
        Ok(_) => ProtocolError::BadSignature.into(),
    }
}

/// Whether `request` is signed with the duress key (`false`: the device key); refused when
/// signed by neither. Both signatures are always checked, whichever matches: a real request
/// must cost what a duress one does, or the time of an answer tells the two keys apart.
fn duress_signed(
    request: &SignedRequest,
    device_key: &[u8],
    duress_key: &[u8],
) -> Result<bool, Refusal> {
    let real = protocol::verify_request(request, device_key);
    let duress = protocol::verify_request(request, duress_key);
    match (real, duress) {
        (Ok(()), _) => Ok(false),
        (Err(_), Ok(())) => Ok(true),
        (Err(ProtocolError::BadSignature), Err(e)) | (Err(e), _) => Err(e.into()),
    }
}

/// A day and time for a refusal the journalist reads.
fn utc_day(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// A released bundle stays exactly as its alert names it until its links expire: neither
/// removed (the lawyer's link would answer 404) nor replaced (it would serve a file whose
/// SHA-256 is not the signed alert's).
fn refuse_if_frozen(bundle: &super::store::BundleMeta, now_ms: i64) -> Result<(), Refusal> {
    match bundle.frozen(now_ms) {
        Some((released, until)) => Err(Refusal::new(
            409,
            "bundle_released",
            format!(
                "this bundle was released on {}; it stays available to its recipients until {}",
                utc_day(released),
                utc_day(until)
            ),
        )),
        None => Ok(()),
    }
}

/// A bundle may replace the one stored under its id if that one is not frozen and is not
/// a newer version (an older one is a stale client, or a replay of an old seal).
fn check_replaceable(
    subject: &Subject,
    put: &protocol::BundlePut,
    now_ms: i64,
) -> Result<(), Refusal> {
    let Some(held) = subject.bundles.iter().find(|b| b.id == put.id) else {
        return Ok(());
    };
    refuse_if_frozen(held, now_ms)?;
    if put.version < held.version {
        return Err(Refusal::new(
            409,
            "stale_version",
            format!(
                "this watcher holds version {} of this bundle, newer than version {}: an old \
                 copy is not sent again",
                held.version, put.version
            ),
        ));
    }
    // One version is one file: two different files under one version would let whoever
    // serves them tell lawyers comparing versions that they hold the same thing.
    if put.version > 0 && put.version == held.version && put.sha256 != held.sha256 {
        return Err(Refusal::new(
            409,
            "stale_version",
            format!(
                "this watcher holds another file as version {} of this bundle: seal it again \
                 (`posbon release update`), which makes a newer version",
                held.version
            ),
        ));
    }
    Ok(())
}

/// A journalist's bundles on one watcher are bounded in number and size.
fn check_quota(subject: &Subject, put: &protocol::BundlePut) -> Result<(), Refusal> {
    let others: Vec<&super::store::BundleMeta> =
        subject.bundles.iter().filter(|b| b.id != put.id).collect();
    if others.len() >= MAX_BUNDLES
        || others.iter().map(|b| b.size).sum::<u64>() + put.size > MAX_BUNDLE_BYTES
    {
        return Err(Refusal::new(
            422,
            "too_many_bundles",
            format!(
                "a journalist may keep {MAX_BUNDLES} bundles, {} MiB in all, on a watcher",
                MAX_BUNDLE_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// The phones as `phone-list` shows them: in the decoy view, without those removed under
/// duress and without saying which raise the alarm.
fn phone_infos(subject: &Subject, duress: bool) -> Vec<protocol::PhoneInfo> {
    subject
        .phones
        .iter()
        .filter(|p| !(duress && p.hidden))
        .map(|p| protocol::PhoneInfo {
            id: p.id.clone(),
            enrolled_ms: p.enrolled_ms,
            last_checkin_ms: p.last_checkin_ms,
            signs: p.public_key.is_some(),
            duress_only: !duress && p.duress_only,
        })
        .collect()
}

/// The one phone whose id is `id` or begins with it (at least 8 hex digits, as the
/// enrolment notice shows), among those the view lists.
fn find_phone(subject: &Subject, id: &str, duress: bool) -> Result<usize, Refusal> {
    let id = id.trim().to_lowercase();
    let matching: Vec<usize> = subject
        .phones
        .iter()
        .enumerate()
        .filter(|(_, p)| !(duress && p.hidden) && id.len() >= 8 && p.id.starts_with(&id))
        .map(|(i, _)| i)
        .collect();
    match matching.as_slice() {
        [one] => Ok(*one),
        [] => Err(Refusal::new(
            404,
            "unknown_phone",
            "no phone with this id is enrolled with this watcher (see `posbon phone list`)",
        )),
        _ => Err(Refusal::new(
            409,
            "ambiguous_phone",
            "more than one phone has an id beginning so; give more of it",
        )),
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
mod downloads;
pub use downloads::Download;

#[cfg(test)]
mod answers;
#[cfg(test)]
mod links;
#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            state: crate::plan::schedule::State::starting(0),
            ..Subject::enrolled("s".into(), "n".into(), vec![1; 32], vec![2; 32], 0)
        }
    }

    fn duress(at_ms: i64) -> Vec<Emitted> {
        vec![Emitted::Duress { cycle: 1, at_ms }]
    }

    #[test]
    fn one_coercion_episode_raises_one_silent_alert() {
        let mut s = subject();
        let hour = 3_600_000;
        assert_eq!(ration_duress(&mut s, duress(hour), hour), duress(hour));
        // The commands that follow (a check-in, a pause, a look) raise nothing more.
        for later in [hour + 1, 2 * hour, hour + DURESS_REPEAT_MS - 1] {
            assert!(ration_duress(&mut s, duress(later), later).is_empty());
        }
        // Other events pass untouched.
        let clear = vec![Emitted::AllClear {
            tiers: vec![1],
            cycle: 2,
        }];
        assert_eq!(ration_duress(&mut s, clear.clone(), 2 * hour), clear);
        // Still coerced half a day later: the contacts hear it again.
        let next = hour + DURESS_REPEAT_MS;
        assert_eq!(ration_duress(&mut s, duress(next), next), duress(next));
        // After a real request (which clears the mark), at once.
        s.duress_alerted_ms = None;
        assert_eq!(
            ration_duress(&mut s, duress(next + 1), next + 1),
            duress(next + 1)
        );
        // A mark days ahead (a clock that ran fast) silences nothing.
        s.duress_alerted_ms = Some(next + 3 * 24 * hour);
        assert_eq!(
            ration_duress(&mut s, duress(next + 2), next + 2),
            duress(next + 2)
        );
        assert_eq!(s.duress_alerted_ms, Some(next + 2));
    }
}
