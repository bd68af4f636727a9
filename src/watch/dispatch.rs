//! From what the schedule emitted to signed alerts in the outbox: who receives each event (by
//! tier), in which language and time zone, under which id, with which acknowledgement and
//! download links. Runs inside the change that fired the step, so the facts (last check-in,
//! the next step) are those of that moment, and the alerts are committed in the same
//! transaction.
//!
//! Alert ids come from the journalist's device key, the missed deadline and the step, never
//! from anything local to this watcher, so that the same missed deadline gives the same id on
//! every watcher the journalist is enrolled with.
//!
//! Links are per contact *and* per channel, so the weakest channel of a contact (a webhook
//! logged somewhere, a chat a provider reads) exposes only its own links. Their tokens are
//! never stored: a stored alert text holds a placeholder where each token goes, the database
//! holds the token's SHA-256, and [`Dispatcher::finalise`] derives the tokens (an HMAC under
//! the watcher's `DATA/link.key` of the delivery key, the contact, the purpose and the
//! bundle) and signs the final text when the delivery is sent. Ed25519 signatures are
//! deterministic, so every retry sends the same bytes.

use ring::signature::Ed25519KeyPair;

use super::outbox::{BundleRef, Delivery, DeliveryState};
use super::store::{AckEntry, DownloadEntry, Outgoing, Subject};
use crate::alert::compose::{self, Event, Reader};
use crate::alert::message::{Header, SignedAlert, alert_id};
use crate::plan::schedule::Emitted;
use crate::plan::{Action, Schedule};
use crate::protocol::contacts::{Channel, Contact};

/// How long a released bundle can be downloaded through its links (as often as wanted: the
/// file is useless without the lawyer's key, and a count would let whoever sees a link use
/// it up first). Until then the bundle is frozen.
pub const DOWNLOAD_DAYS: i64 = 30;
/// How long an acknowledgement link works; then it is deleted, like an expired download link.
pub const ACK_DAYS: i64 = 30;

/// What signing and linking need from the watcher.
pub struct Dispatcher<'a> {
    pub key: &'a Ed25519KeyPair,
    /// The watcher's public key, base64.
    pub public_key: String,
    pub fingerprint: String,
    /// The watcher's address as contacts reach it (for acknowledgement links).
    pub public_url: String,
    /// The key link tokens are derived under (`DATA/link.key`).
    pub link_key: &'a [u8],
}

/// Who receives an event.
fn recipients<'s>(subject: &'s Subject, emitted: &Emitted) -> Vec<&'s Contact> {
    let contacts = subject.directory.contacts.iter();
    match emitted {
        Emitted::Step {
            action: Action::RemindJournalist,
            ..
        } => contacts.filter(|c| c.is_journalist()).collect(),
        Emitted::PhoneEnrolled { .. } => contacts.filter(|c| c.is_journalist()).collect(),
        Emitted::Step {
            action: Action::AlertTier(n),
            ..
        } => contacts.filter(|c| c.in_tier(*n)).collect(),
        // Never to tier 0: the journalist's own phone may be in the coercer's hands.
        Emitted::Step {
            action: Action::Release,
            ..
        }
        | Emitted::Duress { .. } => contacts.filter(|c| !c.is_journalist()).collect(),
        // Whom the duress alerts it takes back reached, whatever their tier is now; nobody
        // else (a contact added since never heard of the alarm).
        Emitted::Retraction {
            contacts: names, ..
        } => contacts.filter(|c| names.contains(&c.name)).collect(),
        // Everyone who received a ladder alert, whatever their tier is now.
        Emitted::AllClear { .. } => contacts
            .filter(|c| subject.alerted.iter().any(|(name, _)| *name == c.name))
            .collect(),
    }
}

/// The time zone a contact reads times in.
fn reader_tz(subject: &Subject, contact: &Contact) -> String {
    contact
        .tz
        .clone()
        .unwrap_or_else(|| match subject.plan.as_ref().map(|p| &p.schedule) {
            Some(Schedule::Daily { tz, .. }) => tz.clone(),
            _ => "UTC".into(),
        })
}

/// The ladder's step after `action` (reminders aside), and when it falls due.
fn next_step(subject: &Subject, action: Action, deadline_ms: i64) -> Option<(Action, i64)> {
    let plan = subject.plan.as_ref()?;
    let missed = deadline_ms.saturating_add(plan.grace_ms);
    let this = plan.steps.iter().find(|s| s.action == action)?;
    plan.steps
        .iter()
        .filter(|s| s.action != Action::RemindJournalist && s.after_ms > this.after_ms)
        .min_by_key(|s| s.after_ms)
        .map(|s| (s.action, missed.saturating_add(s.after_ms)))
}

/// Where the token of an acknowledgement link goes in a stored alert text.
const ACK_SLOT: &str = "@@posbon-ack-link@@";

/// Where the token of a bundle's download link goes in a stored alert text.
fn bundle_slot(bundle: &str) -> String {
    format!("@@posbon-download-link-{bundle}@@")
}

/// The token of one link: 128 bits of HMAC-SHA256 under the watcher's link key over the
/// delivery key (the alert id and the place of this contact's channel in it), the contact,
/// the purpose (`ack`, `download`) and the bundle (empty for `ack`). The same on every
/// retry of the delivery; different for every channel, contact, alert and bundle.
pub fn link_token(
    key: &[u8],
    delivery_key: &str,
    contact: &str,
    purpose: &str,
    bundle: &str,
) -> String {
    let mut message = Vec::new();
    for part in ["posbon/v1/link", delivery_key, contact, purpose, bundle] {
        message.extend_from_slice(&(part.len() as u64).to_be_bytes());
        message.extend_from_slice(part.as_bytes());
    }
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        &message,
    );
    hex::encode(&tag.as_ref()[..16])
}

pub fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.trim().as_bytes(),
    ))
}

impl Dispatcher<'_> {
    /// How `contact` reads alerts about `subject`.
    fn reader<'r>(
        &'r self,
        subject: &'r Subject,
        contact: &Contact,
        tz: &'r str,
        instructions: &'r str,
    ) -> Reader<'r> {
        Reader {
            name: &subject.name,
            lang: contact.lang,
            tz,
            fingerprint: &self.fingerprint,
            instructions,
        }
    }

    /// The alerts for everything in `emitted`. Sets `subject.last_alert` for ladder alerts.
    pub fn expand(&self, subject: &mut Subject, emitted: &[Emitted], now_ms: i64) -> Outgoing {
        let mut outgoing = Outgoing::default();
        for event in emitted {
            let id = self.id_for(subject, event, now_ms);
            let to = recipients(subject, event);
            if to.is_empty() {
                tracing::warn!(subject = %subject.id, alert = %id, "no contact to send this alert to");
            }
            let with_ack = matches!(
                event,
                Emitted::Step {
                    action: Action::AlertTier(_) | Action::Release,
                    ..
                } | Emitted::Duress { .. }
            );
            let names: Vec<String> = to.iter().map(|c| c.name.clone()).collect();
            let base = self.public_url.trim_end_matches('/');
            let mut index = 0;
            let mut released = Vec::new();
            for contact in &to {
                // One delivery per channel; its key names the links it carries.
                let keys: Vec<String> = (index..index + contact.channels.len())
                    .map(|n| format!("{id}.{n}"))
                    .collect();
                let ack_url = with_ack.then(|| format!("{base}/a/{ACK_SLOT}"));
                let tz = reader_tz(subject, contact);
                let reader = self.reader(subject, contact, &tz, &subject.directory.instructions);
                // The release step hands each recipient the bundles sealed for them; a duress
                // alert does so only when the plan says so.
                let releases = match event {
                    Emitted::Step {
                        action: Action::Release,
                        ..
                    } => true,
                    Emitted::Duress { .. } => {
                        subject.plan.as_ref().is_some_and(|p| p.release_on_duress)
                    }
                    _ => false,
                };
                let mut bundles = Vec::new();
                if releases {
                    for bundle in subject.bundles.iter().filter(|b| {
                        b.recipients
                            .iter()
                            .any(|r| r.trim().to_lowercase() == contact.name.trim().to_lowercase())
                    }) {
                        for (key, channel) in keys.iter().zip(&contact.channels) {
                            let token = link_token(
                                self.link_key,
                                key,
                                &contact.name,
                                "download",
                                &bundle.id,
                            );
                            outgoing.downloads.push((
                                token_hash(&token),
                                DownloadEntry {
                                    subject: subject.id.clone(),
                                    bundle: bundle.id.clone(),
                                    contact: contact.name.clone(),
                                    expires_ms: now_ms + DOWNLOAD_DAYS * 86_400_000,
                                    sha256: bundle.sha256.clone(),
                                    channel: channel.kind().to_string(),
                                    downloads: 0,
                                    unreported: 0,
                                    unreported_since_ms: None,
                                    reported_ms: None,
                                    notices: 0,
                                },
                            ));
                        }
                        released.push(bundle.id.clone());
                        bundles.push(BundleRef {
                            id: bundle.id.clone(),
                            name: bundle.name.clone(),
                            size: bundle.size,
                            sha256: bundle.sha256.clone(),
                            url: format!("{base}/b/{}", bundle_slot(&bundle.id)),
                            version: bundle.version,
                            attach: false,
                        });
                    }
                }
                let bundle_lines: Vec<compose::BundleLine> = bundles
                    .iter()
                    .map(|b| compose::BundleLine {
                        name: &b.name,
                        version: b.version,
                        size: b.size,
                        sha256: &b.sha256,
                        url: &b.url,
                    })
                    .collect();
                let cleared: Vec<&str>;
                let (step, composed) = match event {
                    Emitted::Step {
                        action: Action::RemindJournalist,
                        due_ms,
                        deadline_ms,
                        ..
                    } => (
                        "remind".to_string(),
                        Event::Reminder {
                            deadline_ms: *deadline_ms,
                            missed: due_ms >= deadline_ms,
                        },
                    ),
                    Emitted::Step {
                        action,
                        cycle,
                        deadline_ms,
                        ..
                    } => (
                        action.label(),
                        Event::Step {
                            action: *action,
                            deadline_ms: *deadline_ms,
                            last_checkin_ms: subject.state.last_checkin_ms,
                            cycle_start_ms: subject.state.cycle_start_ms,
                            duress_seen: subject.duress_cycle == Some(*cycle),
                            next: next_step(subject, *action, *deadline_ms),
                            ack_url: ack_url.as_deref(),
                            bundles: bundle_lines.clone(),
                        },
                    ),
                    Emitted::Duress { .. } => (
                        "duress".to_string(),
                        Event::Duress {
                            at_ms: now_ms,
                            ack_url: ack_url.as_deref(),
                            bundles: bundle_lines.clone(),
                        },
                    ),
                    Emitted::Retraction { at_ms, alerts, .. } => {
                        cleared = alerts.iter().map(String::as_str).collect::<Vec<_>>();
                        (
                            "retraction".to_string(),
                            Event::Retraction {
                                at_ms: *at_ms,
                                alerts: &cleared,
                            },
                        )
                    }
                    Emitted::PhoneEnrolled { device, at_ms } => (
                        "phone-enrolled".to_string(),
                        Event::PhoneEnrolled {
                            device,
                            at_ms: *at_ms,
                        },
                    ),
                    Emitted::AllClear { .. } => {
                        cleared = subject
                            .alerted
                            .iter()
                            .filter(|(name, _)| *name == contact.name)
                            .map(|(_, id)| id.as_str())
                            .collect::<Vec<_>>();
                        (
                            "all-clear".to_string(),
                            Event::AllClear {
                                at_ms: now_ms,
                                alerts: &cleared,
                            },
                        )
                    }
                };
                let (title, body) = compose::compose(&reader, &composed);
                // Signed again, with the tokens in, when each delivery is sent (`finalise`).
                let alert = self.sign(&id, &step, subject, contact, &title, &body, now_ms);
                let ack_hashes: Vec<String> = keys
                    .iter()
                    .map(|key| {
                        token_hash(&link_token(self.link_key, key, &contact.name, "ack", ""))
                    })
                    .collect();
                for (n, channel) in contact.channels.iter().enumerate() {
                    let mut delivery = self.delivery(
                        &id,
                        index,
                        subject,
                        contact,
                        channel,
                        &title,
                        &alert,
                        ack_url.clone(),
                        now_ms,
                    );
                    // An attachment only where the contact asked for one, and only by e-mail.
                    let attach = contact.email_attach && matches!(channel, Channel::Email(_));
                    delivery.bundles = bundles
                        .iter()
                        .map(|b| BundleRef {
                            attach,
                            ..b.clone()
                        })
                        .collect();
                    outgoing.deliveries.push(delivery);
                    index += 1;
                    if with_ack {
                        outgoing.acks.push((
                            ack_hashes[n].clone(),
                            AckEntry {
                                subject: subject.id.clone(),
                                alert_id: id.clone(),
                                contact: contact.name.clone(),
                                others: names
                                    .iter()
                                    .filter(|other| **other != contact.name)
                                    .cloned()
                                    .collect(),
                                acked_ms: None,
                                channel: channel.kind().to_string(),
                                acked_via: None,
                                expires_ms: Some(now_ms + ACK_DAYS * 86_400_000),
                                siblings: ack_hashes
                                    .iter()
                                    .enumerate()
                                    .filter(|(i, _)| *i != n)
                                    .map(|(_, h)| h.clone())
                                    .collect(),
                            },
                        ));
                    }
                }
            }
            // Released bundles are frozen until their links expire (see `BundleMeta::frozen`).
            for bundle in subject
                .bundles
                .iter_mut()
                .filter(|b| released.contains(&b.id))
            {
                bundle.released_ms = Some(bundle.released_ms.unwrap_or(now_ms).min(now_ms));
                bundle.released_until_ms = Some(
                    bundle
                        .released_until_ms
                        .unwrap_or(0)
                        .max(now_ms + DOWNLOAD_DAYS * 86_400_000),
                );
            }
            match event {
                Emitted::Step {
                    action: Action::AlertTier(_) | Action::Release,
                    ..
                } => {
                    subject
                        .alerted
                        .extend(names.iter().map(|name| (name.clone(), id.clone())));
                    subject.last_alert = Some(id);
                }
                Emitted::AllClear { .. } => subject.alerted.clear(),
                // Remembered for a retraction: whom it reached.
                Emitted::Duress { .. } => {
                    subject.duress_alarms.push(super::store::DuressAlarm {
                        id,
                        at_ms: now_ms,
                        contacts: names,
                        retracted_ms: None,
                    });
                    let excess = subject
                        .duress_alarms
                        .len()
                        .saturating_sub(super::store::DURESS_ALARMS_KEPT);
                    subject.duress_alarms.drain(..excess);
                }
                _ => {}
            }
        }
        outgoing
    }

    /// The notices that `entry.contact` took the alert on, through the link of theirs sent
    /// by `entry.acked_via`: to the others, and to the contact too, on all their channels
    /// (whoever read one of their channels can confirm in their name).
    pub fn ack_notices(&self, subject: &Subject, entry: &AckEntry, now_ms: i64) -> Outgoing {
        let mut outgoing = Outgoing::default();
        let acker = subject.directory.find(&entry.contact);
        let role = acker.map(|c| c.role.as_str()).unwrap_or("");
        let via = entry.acked_via.as_deref().unwrap_or("");
        let id = alert_id(&[b"ack", entry.alert_id.as_bytes(), entry.contact.as_bytes()]);
        let mut index = 0;
        for contact in entry
            .others
            .iter()
            .filter_map(|name| subject.directory.find(name))
        {
            let tz = reader_tz(subject, contact);
            let reader = self.reader(subject, contact, &tz, &subject.directory.instructions);
            let (title, body) = compose::compose(
                &reader,
                &Event::Ack {
                    contact: &entry.contact,
                    role,
                    at_ms: now_ms,
                    alert: &entry.alert_id,
                    channel: via,
                },
            );
            let alert = self.sign(&id, "ack", subject, contact, &title, &body, now_ms);
            for channel in &contact.channels {
                outgoing.deliveries.push(self.delivery(
                    &id, index, subject, contact, channel, &title, &alert, None, now_ms,
                ));
                index += 1;
            }
        }
        if let Some(contact) = acker {
            let id = alert_id(&[
                b"ack-confirmed",
                entry.alert_id.as_bytes(),
                entry.contact.as_bytes(),
            ]);
            let tz = reader_tz(subject, contact);
            let reader = self.reader(subject, contact, &tz, "");
            let (title, body) = compose::compose(
                &reader,
                &Event::AckConfirmed {
                    at_ms: now_ms,
                    alert: &entry.alert_id,
                    channel: via,
                },
            );
            let alert = self.sign(
                &id,
                "ack-confirmed",
                subject,
                contact,
                &title,
                &body,
                now_ms,
            );
            for (index, channel) in contact.channels.iter().enumerate() {
                outgoing.deliveries.push(self.delivery(
                    &id, index, subject, contact, channel, &title, &alert, None, now_ms,
                ));
            }
        }
        outgoing
    }

    /// The delivery as it is sent: the tokens of its links derived and put in the places
    /// kept for them (in the text, the acknowledgement link and the bundles' links), and the
    /// text signed as it now reads. Never stored: the database keeps the placeholders.
    pub fn finalise(&self, delivery: &mut Delivery) {
        let token = |purpose: &str, bundle: &str| {
            link_token(
                self.link_key,
                &delivery.key,
                &delivery.contact,
                purpose,
                bundle,
            )
        };
        let mut text = delivery.alert.text.clone();
        let mut ack_url = delivery.ack_url.clone();
        if let Some(url) = &mut ack_url
            && url.contains(ACK_SLOT)
        {
            let ack = token("ack", "");
            *url = url.replace(ACK_SLOT, &ack);
            text = text.replace(ACK_SLOT, &ack);
        }
        let mut bundles = delivery.bundles.clone();
        for bundle in &mut bundles {
            let slot = bundle_slot(&bundle.id);
            if bundle.url.contains(&slot) {
                let download = token("download", &bundle.id);
                bundle.url = bundle.url.replace(&slot, &download);
                text = text.replace(&slot, &download);
            }
        }
        if text != delivery.alert.text {
            delivery.alert = SignedAlert::sign_text(&text, self.key);
        }
        delivery.ack_url = ack_url;
        delivery.bundles = bundles;
    }

    /// The notice to `entry.contact` that a bundle was downloaded `count` times through the
    /// link sent to them on `entry.channel`, the first of them at `first_ms`. To every
    /// channel of theirs; it carries no link.
    #[allow(clippy::too_many_arguments)]
    pub fn download_notice(
        &self,
        subject: &Subject,
        entry: &DownloadEntry,
        bundle: &super::store::BundleMeta,
        count: u32,
        first_ms: i64,
        now_ms: i64,
    ) -> Outgoing {
        let mut outgoing = Outgoing::default();
        let Some(contact) = subject.directory.find(&entry.contact) else {
            return outgoing;
        };
        let id = alert_id(&[
            subject.device_key.as_slice(),
            b"download",
            bundle.id.as_bytes(),
            entry.contact.as_bytes(),
            entry.channel.as_bytes(),
            &now_ms.to_be_bytes(),
        ]);
        let tz = reader_tz(subject, contact);
        let reader = self.reader(subject, contact, &tz, "");
        let (title, body) = compose::compose(
            &reader,
            &Event::Downloaded {
                bundle: &bundle.name,
                version: bundle.version,
                sha256: &bundle.sha256,
                count,
                first_ms,
                channel: &entry.channel,
            },
        );
        let alert = self.sign(&id, "download", subject, contact, &title, &body, now_ms);
        for (index, channel) in contact.channels.iter().enumerate() {
            outgoing.deliveries.push(self.delivery(
                &id, index, subject, contact, channel, &title, &alert, None, now_ms,
            ));
        }
        outgoing
    }

    /// A clearly marked test alert for each channel of `contacts`.
    pub fn tests(&self, subject: &Subject, contacts: &[&Contact], now_ms: i64) -> Vec<Delivery> {
        let id = hex::encode(crate::crypto::random_array::<16>());
        let mut out = Vec::new();
        let mut index = 0;
        for contact in contacts {
            let tz = reader_tz(subject, contact);
            let reader = self.reader(subject, contact, &tz, "");
            let (title, body) = compose::compose(&reader, &Event::Test);
            let alert = self.sign(&id, "test", subject, contact, &title, &body, now_ms);
            for channel in &contact.channels {
                out.push(self.delivery(
                    &id, index, subject, contact, channel, &title, &alert, None, now_ms,
                ));
                index += 1;
            }
        }
        out
    }

    fn id_for(&self, subject: &Subject, event: &Emitted, now_ms: i64) -> String {
        let device = subject.device_key.as_slice();
        match event {
            Emitted::Step {
                action,
                deadline_ms,
                due_ms,
                ..
            } => alert_id(&[
                device,
                &deadline_ms.to_be_bytes(),
                action.label().as_bytes(),
                // Reminders differ by how long before the deadline they fall.
                &if *action == Action::RemindJournalist {
                    due_ms.to_be_bytes()
                } else {
                    [0; 8]
                },
            ]),
            // The moment of the journalist's request: the same on every watcher. (A phone's
            // duress PIN reaches one watcher only; its moment is that watcher's.)
            Emitted::Duress { at_ms, .. } => {
                let at = if *at_ms == 0 { now_ms } else { *at_ms };
                alert_id(&[device, b"duress", &at.to_be_bytes()])
            }
            // One notice per phone, the same on a retry of the same enrolment.
            Emitted::PhoneEnrolled { device: phone, .. } => {
                alert_id(&[device, b"phone-enrolled", phone.as_bytes()])
            }
            // The alarms it takes back: the same on every watcher that sent them.
            Emitted::Retraction { alerts, .. } => {
                alert_id(&[device, b"retraction", alerts.join(",").as_bytes()])
            }
            Emitted::AllClear { .. } => {
                let mut ids: Vec<&str> =
                    subject.alerted.iter().map(|(_, id)| id.as_str()).collect();
                ids.sort_unstable();
                ids.dedup();
                alert_id(&[device, b"all-clear", ids.join(",").as_bytes()])
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sign(
        &self,
        id: &str,
        step: &str,
        subject: &Subject,
        contact: &Contact,
        title: &str,
        body: &str,
        now_ms: i64,
    ) -> SignedAlert {
        SignedAlert::sign(
            &Header {
                id: id.to_string(),
                step: step.to_string(),
                subject: subject.name.clone(),
                issued_ms: now_ms,
                lang: contact.lang,
                watcher_key: self.public_key.clone(),
                title: title.to_string(),
            },
            body,
            self.key,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn delivery(
        &self,
        id: &str,
        index: usize,
        subject: &Subject,
        contact: &Contact,
        channel: &Channel,
        title: &str,
        alert: &SignedAlert,
        ack_url: Option<String>,
        now_ms: i64,
    ) -> Delivery {
        Delivery {
            key: format!("{id}.{index}"),
            alert_id: id.to_string(),
            subject: subject.id.clone(),
            contact: contact.name.clone(),
            channel: channel.clone(),
            title: title.to_string(),
            alert: alert.clone(),
            ack_url,
            bundles: Vec::new(),
            created_ms: now_ms,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_ms: now_ms,
            history: Vec::new(),
        }
    }
}
