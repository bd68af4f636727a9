//! What the watcher does with a request or a tick, apart from HTTP and the runtime: verify,
//! change the subject's state through the schedule machine, persist, answer. Synchronous and
//! deterministic given the time, so it is tested directly and called from blocking tasks.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;

use ring::signature::Ed25519KeyPair;
use tracing::{info, warn};

use super::phone::{self, Phone, PinCheck};
use super::plan::Plan;
use super::protocol::{
    self, EnrolRequest, EnrolResponse, PausePayload, PhoneCheckinRequest, PhoneCheckinResponse,
    PhoneEnrolRequest, PhoneEnrolResponse, ProtocolError, SignedRequest, StatusResponse, ops,
};
use super::schedule::{Emitted, State};
use super::store::{DuressView, Invites, PhoneInvite, Store, StoreError, Subject};

/// A refusal, with a stable code for clients and an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
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
        let key = super::store::watcher_key(data)?;
        let public_key = protocol::public_key(&key);
        let store = Store::open(data)?;
        Ok(Watcher {
            flusher: store.flusher(),
            store: Mutex::new(store),
            invites: Invites::new(data),
            key,
            public_key,
            address_failures: Mutex::new(HashMap::new()),
        })
    }

    pub fn fingerprint(&self) -> String {
        protocol::fingerprint(&self.public_key)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic while holding the lock leaves the store as sled left it: still consistent.
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
        let subject = Subject {
            id: hex::encode(crate::crypto::random_array::<16>()),
            name: invite.name,
            device_key,
            duress_key,
            counter: 0,
            plan: None,
            state: State::default(),
            enrolled_ms: now_ms,
            phones: Vec::new(),
            phone_invites: Vec::new(),
            duress_view: None,
        };
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
    pub fn handle(&self, request: &SignedRequest, now_ms: i64) -> Result<StatusResponse, Refusal> {
        let unknown = || {
            Refusal::new(
                404,
                "unknown_subject",
                "this watcher does not know that subject",
            )
        };
        // Keys never change once enrolled: read them, then verify the signature (the costly
        // step) without holding the store, so requests verify on every core at once.
        let (device_key, duress_key) = {
            let subject = self
                .store()
                .subject(&request.subject)?
                .ok_or_else(unknown)?;
            (subject.device_key, subject.duress_key)
        };
        let duress = match protocol::verify_request(request, &device_key) {
            Ok(()) => false,
            Err(ProtocolError::BadSignature) => {
                protocol::verify_request(request, &duress_key)?;
                true
            }
            Err(other) => return Err(other.into()),
        };
        let store = self.store();
        let mut subject = store.subject(&request.subject)?.ok_or_else(unknown)?;
        protocol::check_freshness(request, subject.counter, now_ms)?;
        subject.counter = request.counter;
        let mut phone_token = None;
        let emitted = match (request.op.as_str(), duress) {
            (ops::CHECKIN, _) => {
                if duress && let Some(view) = &mut subject.duress_view {
                    // A check-in ends a pause, in the pretended view as in the real one.
                    view.paused_until_ms = None;
                }
                subject.state.check_in(now_ms, duress)
            }
            (ops::STATUS, _) => Vec::new(),
            (ops::ALARM, _) => vec![Emitted::Duress {
                cycle: subject.state.cycle,
            }],
            (ops::PHONE_INVITE, _) => {
                let token = hex::encode(crate::crypto::random_array::<16>());
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
                if duress {
                    vec![Emitted::Duress {
                        cycle: subject.state.cycle,
                    }]
                } else {
                    Vec::new()
                }
            }
            // Under duress, changes to the plan look accepted but change nothing, and the
            // silent alert goes out: a journalist forced to switch the watcher off cannot be.
            // What the coercer asked for is remembered and shown to the duress key from then
            // on, so a later look does not give the game away.
            (ops::PLAN | ops::PAUSE | ops::RESUME, true) => {
                let mut pretend = subject.with_duress_view();
                apply_change(&mut pretend, &request.op, &request.payload, now_ms)?;
                subject.duress_view = Some(DuressView {
                    plan: pretend.plan.clone(),
                    paused_until_ms: pretend.state.paused_until_ms,
                });
                vec![Emitted::Duress {
                    cycle: subject.state.cycle,
                }]
            }
            (ops::PLAN | ops::PAUSE | ops::RESUME, false) => {
                apply_change(&mut subject, &request.op, &request.payload, now_ms)?
            }
            (other, _) => return Err(Refusal::malformed(format!("unknown operation {other:?}"))),
        };
        store.commit(&subject, &emitted, now_ms)?;
        drop(store);
        self.flusher.flush()?;
        info!(subject = %subject.id, op = %request.op, "request accepted");
        let shown = if duress {
            subject.with_duress_view()
        } else {
            subject
        };
        let mut status = status_of(&shown, now_ms);
        status.phone_token = phone_token;
        Ok(status)
    }

    /// Enrols a phone with a one-time token from `phone-invite`.
    pub fn phone_enrol(
        &self,
        request: &PhoneEnrolRequest,
        from: IpAddr,
        now_ms: i64,
    ) -> Result<PhoneEnrolResponse, Refusal> {
        // Every attempt counts against the address before any work under the store lock.
        self.count_address(from, now_ms)?;
        let secret = protocol::unb64(&request.device_secret)?;
        if secret.len() != 32 {
            return Err(Refusal::malformed("the device secret must be 32 bytes"));
        }
        if !phone::valid_pin(&request.pin)
            || !phone::valid_pin(&request.duress_pin)
            || request.pin == request.duress_pin
        {
            return Err(Refusal::new(
                422,
                "bad_pin",
                "the PIN and the duress PIN must be two different codes of 4 to 12 digits",
            ));
        }
        let hash = token_hash(&request.token);
        let store = self.store();
        let mut subject = store
            .subjects()?
            .into_iter()
            .find(|s| {
                s.phone_invites
                    .iter()
                    .any(|i| i.hash == hash && i.expires_ms > now_ms)
            })
            .ok_or_else(|| {
                Refusal::new(
                    403,
                    "bad_invite",
                    "the link is unknown, expired or already used",
                )
            })?;
        let duress_only = subject
            .phone_invites
            .iter()
            .any(|i| i.hash == hash && i.duress);
        subject.phone_invites.retain(|i| i.hash != hash);
        let device_id = hex::encode(crate::crypto::random_array::<16>());
        let mut phone = Phone::new(
            device_id.clone(),
            &secret,
            &request.pin,
            &request.duress_pin,
            now_ms,
        );
        phone.duress_only = duress_only;
        subject.phones.push(phone);
        store.commit(&subject, &[], now_ms)?;
        drop(store);
        self.flusher.flush()?;
        info!(subject = %subject.id, "phone enrolled");
        Ok(PhoneEnrolResponse {
            device_id,
            name: subject.name,
        })
    }

    /// A check-in from a phone: device secret plus PIN (or duress PIN, answered the same).
    pub fn phone_checkin(
        &self,
        request: &PhoneCheckinRequest,
        from: IpAddr,
        now_ms: i64,
    ) -> Result<PhoneCheckinResponse, Refusal> {
        let secret = protocol::unb64(&request.device_secret).unwrap_or_default();
        let store = self.store();
        let owner = store.phone_owner(&request.device_id)?;
        let found = owner.and_then(|subject| {
            let index = subject
                .phones
                .iter()
                .position(|p| p.id == request.device_id && p.secret_matches(&secret))?;
            Some((subject, index))
        });
        let Some((mut subject, index)) = found else {
            // No valid device secret: only the address is slowed down, never the device.
            drop(store);
            return Err(self.count_address(from, now_ms).err().unwrap_or_else(|| {
                Refusal::new(401, "unknown_device", "this phone is not enrolled")
            }));
        };
        let phone = &mut subject.phones[index];
        if phone.locked_until_ms > now_ms {
            return Err(too_many(phone.locked_until_ms - now_ms));
        }
        let duress = match phone.check_pin(&secret, &request.pin) {
            PinCheck::Real => false,
            PinCheck::Duress => true,
            PinCheck::Wrong => {
                let until = phone.record_failure(now_ms);
                store.commit(&subject, &[], now_ms)?;
                drop(store);
                self.flusher.flush()?;
                return Err(if until > now_ms {
                    too_many(until - now_ms)
                } else {
                    Refusal::new(401, "wrong_pin", "wrong PIN")
                });
            }
        };
        phone.record_success();
        let emitted = subject.state.check_in(now_ms, duress);
        store.commit(&subject, &emitted, now_ms)?;
        drop(store);
        self.flusher.flush()?;
        info!(subject = %subject.id, "phone check-in accepted");
        let status = status_of(&subject, now_ms);
        Ok(PhoneCheckinResponse {
            name: status.name,
            deadline_ms: status.deadline_ms,
        })
    }

    /// Counts one unauthenticated attempt from `from` (an IPv6 address by its /64, the unit a
    /// single attacker controls); refuses past the limit. While the table is full (a flood of
    /// addresses), unauthenticated attempts are refused outright: phones with a valid device
    /// secret never get here, so the journalist is not affected.
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
        for mut subject in store.subjects()? {
            let Some(plan) = subject.plan.clone() else {
                continue;
            };
            let emitted = match subject.state.fire_due(&plan, now_ms) {
                Ok(emitted) => emitted,
                Err(e) => {
                    warn!(subject = %subject.id, error = %e, "schedule error");
                    continue;
                }
            };
            if !emitted.is_empty() {
                // The queue records when each action was really stored, for the record.
                store.commit(&subject, &emitted, crate::vault::now())?;
                fired_any = true;
                for action in &emitted {
                    info!(subject = %subject.id, ?action, "escalation step fired");
                }
            }
            if let Ok(outlook) = subject.state.outlook(&plan, now_ms)
                && let Some(wake) = outlook.next_wake_ms
            {
                next_wake = Some(next_wake.map_or(wake, |n: i64| n.min(wake)));
            }
        }
        drop(store);
        // One fsync for every step of this tick; nothing acts on a queued action before it.
        if fired_any {
            self.flusher.flush()?;
        }
        Ok(next_wake)
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

fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.trim().as_bytes(),
    ))
}

fn too_many(wait_ms: i64) -> Refusal {
    Refusal::new(
        429,
        "too_many_attempts",
        format!("too many attempts; wait {} s", (wait_ms + 999) / 1000),
    )
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
                    super::schedule::StepKey::Reminder(_) => "reminder".to_string(),
                    super::schedule::StepKey::Step(action) => action.label(),
                };
                (label, f.due_ms, f.fired_ms)
            })
            .collect(),
        phone_token: None,
    }
}
