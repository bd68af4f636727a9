//! Phones: enrolment through a one-time link, and check-ins with a PIN (or the duress PIN,
//! answered the same). A phone's own proof (its signature, or an old phone's secret) is
//! checked before anything else about the request is trusted; guesses without one are
//! limited per address, so junk slows down only the junk, never the journalist's phone.

use std::net::IpAddr;

use super::duress::ration_duress;
use super::history::phone_row;
use super::ticks::fire_overdue;
use super::*;

/// Phone enrolment links stay valid this long.
pub(super) const PHONE_INVITE_MS: i64 = 15 * 60 * 1000;
/// Requests without a valid device secret allowed per address per window.
const ADDRESS_FAILURES: u32 = 20;
const ADDRESS_WINDOW_MS: i64 = 10 * 60 * 1000;
/// Addresses tracked at most (a few MiB).
const ADDRESS_TABLE: usize = 100_000;

impl Watcher {
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
        let row = phone_row(
            &subject,
            "phone-enrolled",
            &device_id,
            duress_only,
            false,
            now_ms,
        );
        self.log_history(&store, &[row], now_ms);
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
                    // For the real key only: it is an alarm.
                    let row = phone_row(
                        &subject,
                        "phone-pin-guessing",
                        &request.device_id,
                        true,
                        true,
                        now_ms,
                    );
                    self.log_history(&store, &[row], now_ms);
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
        let row = phone_row(
            &subject,
            "phone-checkin",
            &request.device_id,
            duress,
            hidden,
            now_ms,
        );
        self.log_history(&store, &[row], now_ms);
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
}

/// The phones as `phone-list` shows them: in the decoy view, without those removed under
/// duress and without saying which raise the alarm.
pub(super) fn phone_infos(subject: &Subject, duress: bool) -> Vec<protocol::PhoneInfo> {
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
pub(super) fn find_phone(subject: &Subject, id: &str, duress: bool) -> Result<usize, Refusal> {
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
