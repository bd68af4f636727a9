//! The journalist's signed requests: enrolment with an invitation code, and every operation
//! a device key (or the duress key) signs, from a check-in to a plan change or a bundle. Both
//! keys are verified on every request and both answers do the same work, so neither the
//! answer nor its time tells a coercer which passphrase was used.

use super::bundles::{check_quota, check_replaceable, refuse_if_frozen};
use super::duress::{alarm_if, ration_duress};
use super::history;
use super::leaving::{leave_block, left_status};
use super::phones::{PHONE_INVITE_MS, find_phone, phone_infos};
use super::ticks::fire_overdue;
use super::*;
use crate::watch::store::BundleMeta;

/// A subject may ask for test alerts this often.
const TEST_EVERY_MS: i64 = 10_000;

impl Watcher {
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
        let Some(keys) = self.store().subject_keys(&request.subject)? else {
            return Err(refuse_unknown_subject(request));
        };
        let duress = duress_signed(request, &keys.device_key, &keys.duress_key)?;
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
        let pretend_before = subject.duress_view.is_some();
        let mut history_shown = None;
        let mut retracted = None;
        let mut phone_token = None;
        let mut phones = None;
        let mut removed_phone = None;
        let mut tests = Vec::new();
        let mut removed_bundle = None;
        let mut leaving = false;
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
                    subject.duress_bundles.push(stored_meta(put, now_ms));
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
                    subject.bundles.push(stored_meta(put, now_ms));
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
            // The same rows are read under either key; the duress key is shown what the
            // pretend world shows (see `history`).
            (ops::HISTORY, _) => {
                history_shown = Some(history::shown(store.history(&subject.id)?, duress));
                alarm_if(duress, &subject, at_ms)
            }
            // Every contact the duress alerts not yet taken back reached is told, signed, in
            // their language, through the outbox.
            (ops::DURESS_RETRACT, false) => {
                let (alerts, contacts) = subject.retractable();
                retracted = Some(!contacts.is_empty());
                if alerts.is_empty() {
                    Vec::new()
                } else {
                    for alarm in &mut subject.duress_alarms {
                        alarm.retracted_ms.get_or_insert(at_ms);
                    }
                    vec![Emitted::Retraction {
                        at_ms,
                        alerts,
                        contacts,
                    }]
                }
            }
            // Under duress it looks done, with the answer a real retraction would get right
            // after it, takes nothing back, and raises the silent alarm again, even within
            // an episode already alerted: a coercer who makes the journalist take the alarm
            // back knows of it, and the contacts must hear that this happened.
            (ops::DURESS_RETRACT, true) => {
                retracted = Some(retraction_shown(&subject));
                subject.duress_alerted_ms = None;
                vec![Emitted::Duress {
                    cycle: subject.state.cycle,
                    at_ms,
                }]
            }
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
            // Under duress it looks done, with the same answer, and forgets nothing: a
            // coercer cannot switch the watcher off by making the journalist leave it. Each
            // check is made on what that key is shown, so the refusals agree with it too.
            (ops::UNENROL, true) => {
                if let Some(block) = leave_block(&subject.with_duress_view(), now_ms) {
                    return Err(block.into());
                }
                // The phones look gone (answered like revoked ones, as after a real
                // unenrol), but stay enrolled, and every use of them raises the alarm, as
                // after a phone removed under duress.
                for phone in &mut subject.phones {
                    phone.hidden = true;
                    phone.duress_only = true;
                }
                vec![Emitted::Duress {
                    cycle: subject.state.cycle,
                    at_ms,
                }]
            }
            (ops::UNENROL, false) => {
                if let Some(block) = leave_block(&subject, now_ms) {
                    return Err(block.into());
                }
                leaving = true;
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
        if leaving {
            // What this request or earlier ones emitted still goes out; then it is forgotten.
            subject.unstaged.extend(emitted);
            self.forget(&store, &mut subject, now_ms)?;
        } else {
            self.commit_deferring(&store, &mut subject, &emitted, now_ms)?;
            let row = history::request_row(&subject, &request.op, duress, pretend_before, at_ms);
            self.log_history(&store, &[row], now_ms);
        }
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
        let mut status = if request.op == ops::UNENROL {
            left_status(&subject)
        } else if duress {
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
        status.history = history_shown;
        status.retracted = retracted;
        Ok(Handled { status, tests })
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

/// The answer to a request for a subject this watcher does not know: the same as to a
/// known subject's request with a wrong signature, after the same two verifications, so
/// that a stranger cannot learn which subjects a watcher serves from the answer or its time.
pub(super) fn refuse_unknown_subject(request: &SignedRequest) -> Refusal {
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
pub(super) fn duress_signed(
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

/// Whether a retraction asked for under the duress key is said to go out: what the real key
/// would be told right after it, once the alarm it raises went out (a duress alert not taken
/// back reached someone, or there is someone for a duress alert to reach).
fn retraction_shown(subject: &Subject) -> bool {
    let (_, contacts) = subject.retractable();
    !contacts.is_empty()
        || subject
            .directory
            .contacts
            .iter()
            .any(|c| !c.is_journalist())
}

/// What is kept of a bundle just stored (or, for the duress key, pretended to be).
fn stored_meta(put: crate::protocol::BundlePut, now_ms: i64) -> BundleMeta {
    BundleMeta {
        id: put.id,
        name: put.name,
        size: put.size,
        sha256: put.sha256,
        recipients: put.recipients,
        stored_ms: now_ms,
        version: put.version,
        released_ms: None,
        released_until_ms: None,
    }
}
