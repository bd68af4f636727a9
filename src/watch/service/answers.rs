//! Answers built the same way for both keys, and the pretend world as the service keeps it:
//! a watcher in a temporary directory, driven with a fake clock.

use super::requests::duress_signed;
use super::*;
use crate::protocol::contacts::{Channel, Contact, Directory, Lang};

const H: i64 = 3_600_000;
const D: i64 = 24 * H;
/// A fake "now": the service takes every moment as an argument.
const T0: i64 = 1_800_000_000_000;

use super::test_support::{enrolled_at, key};

struct Enrolled {
    watcher: Watcher,
    data: tempfile::TempDir,
    subject: String,
    device: Ed25519KeyPair,
    duress: Ed25519KeyPair,
    counter: u64,
}

fn enrolled() -> Enrolled {
    let (watcher, data, subject, device, duress, _) = enrolled_at(|_| T0);
    let mut e = Enrolled {
        watcher,
        data,
        subject,
        device,
        duress,
        counter: 0,
    };
    let contact = |name: &str, tiers: Vec<u8>, to: &str| Contact {
        name: name.into(),
        role: String::new(),
        lang: Lang::En,
        tiers,
        channels: vec![Channel::Email(to.into())],
        tz: None,
        age_recipients: vec![],
        email_attach: false,
    };
    let directory = Directory {
        contacts: vec![
            contact("me", vec![0], "me@example.org"),
            contact("editor", vec![1], "editor@example.org"),
        ],
        instructions: String::new(),
    };
    e.send(
        false,
        ops::CONTACTS,
        &serde_json::to_string(&directory).unwrap(),
        T0,
    )
    .unwrap();
    // Every day, grace 1 h, a reminder 2 h before, tier 1 when the grace is over.
    let plan = r#"{"schedule":{"kind":"every","every_ms":86400000},"grace_ms":3600000,"reminders_ms":[7200000],"steps":[{"action":{"alert-tier":1},"after_ms":0}]}"#;
    e.send(false, ops::PLAN, plan, T0).unwrap();
    e
}

impl Enrolled {
    fn send(
        &mut self,
        duress: bool,
        op: &str,
        payload: &str,
        now_ms: i64,
    ) -> Result<StatusResponse, Refusal> {
        self.counter += 1;
        let key = if duress { &self.duress } else { &self.device };
        let request =
            protocol::sign_request(key, &self.subject, op, now_ms, self.counter, payload.into());
        self.watcher.handle(&request, now_ms).map(|h| h.status)
    }

    fn stored(&self) -> Subject {
        self.watcher
            .store()
            .subject(&self.subject)
            .unwrap()
            .unwrap()
    }

    fn pending(&self) -> Vec<Delivery> {
        self.watcher.store().pending().unwrap()
    }
}

#[test]
fn a_duress_answer_is_given_before_its_alert_is_built_and_the_alert_follows() {
    let mut e = enrolled();
    e.send(true, ops::ALARM, "{}", T0 + 1).unwrap();
    // Answered: the silent alert is queued and kept with the change, but no alert was
    // composed or signed on the way to the answer.
    assert!(e.pending().is_empty());
    assert_eq!(e.stored().unstaged.len(), 1);
    assert!(matches!(
        e.watcher.queued().unwrap().last().unwrap().emitted,
        Emitted::Duress { .. }
    ));
    // The delivery loop builds it after the answer.
    e.watcher
        .due_deliveries(T0 + 2, &Default::default(), 10)
        .unwrap();
    let pending = e.pending();
    assert_eq!(pending.len(), 1, "to the editor only, never tier 0");
    assert!(e.stored().unstaged.is_empty());
}

#[test]
fn a_real_answer_takes_the_same_path_and_an_all_clear_is_also_built_after_it() {
    let mut e = enrolled();
    // Tier 1 fired (built at the tick, no request waits on it).
    e.watcher.tick(T0 + D + H + 1).unwrap();
    let fired = e.pending().len();
    assert_eq!(fired, 2, "the reminder and tier 1");
    e.send(false, ops::CHECKIN, "{}", T0 + D + H + 2).unwrap();
    assert_eq!(
        e.pending().len(),
        fired,
        "the all-clear is not built before the answer"
    );
    assert_eq!(e.stored().unstaged.len(), 1);
    e.watcher.stage_deferred(T0 + D + H + 3).unwrap();
    assert_eq!(e.pending().len(), fired + 1);
}

#[test]
fn events_a_crash_left_unbuilt_go_out_at_the_next_tick() {
    let mut e = enrolled();
    e.send(true, ops::ALARM, "{}", T0 + 1).unwrap();
    let Enrolled { watcher, data, .. } = e;
    drop(watcher);
    let watcher = Watcher::open(data.path()).unwrap();
    assert!(watcher.store().pending().unwrap().is_empty());
    watcher.tick(T0 + 2).unwrap();
    assert_eq!(watcher.store().pending().unwrap().len(), 1);
}

#[test]
fn both_signatures_are_checked_and_each_key_is_told_apart() {
    let e = enrolled();
    let stored = e.stored();
    let sign =
        |k: &Ed25519KeyPair| protocol::sign_request(k, &e.subject, ops::STATUS, T0, 9, "{}".into());
    let check = |r: &SignedRequest| duress_signed(r, &stored.device_key, &stored.duress_key);
    assert_eq!(check(&sign(&e.device)), Ok(false));
    assert_eq!(check(&sign(&e.duress)), Ok(true));
    assert_eq!(check(&sign(&key())).unwrap_err().code, "bad_signature");
    let mut garbled = sign(&e.device);
    garbled.sig = "not base64!".into();
    assert_eq!(check(&garbled).unwrap_err().status, 400);
}

#[test]
fn under_a_pretend_plan_the_phone_and_the_decoy_agree_and_the_real_key_is_told() {
    let mut e = enrolled();
    let seven_days = r#"{"schedule":{"kind":"every","every_ms":604800000},"grace_ms":3600000,"steps":[{"action":"release","after_ms":0}]}"#;
    let decoy = e.send(true, ops::PLAN, seven_days, T0 + H).unwrap();
    assert_eq!(decoy.deadline_ms, Some(T0 + H + 7 * D));
    // A phone, either PIN: the answer is the decoy's deadline, moved by the check-in.
    let secret = [7u8; 32];
    let mut subject = e.stored();
    subject.phones.push(Phone::new(
        "p".into(),
        &secret,
        "285071",
        "930462",
        T0,
        None,
    ));
    e.watcher.store().commit(&subject, &[], T0).unwrap();
    for (i, pin) in ["285071", "930462"].iter().enumerate() {
        let at = T0 + 2 * H + i as i64;
        let answer = e
            .watcher
            .phone_checkin(
                // A phone set up before check-ins were signed: the simplest to drive here.
                &PhoneCheckinRequest {
                    device_id: "p".into(),
                    device_secret: Some(protocol::b64(&secret)),
                    pin: Some(pin.to_string()),
                    ..Default::default()
                },
                "127.0.0.1".parse().unwrap(),
                at,
            )
            .unwrap();
        assert_eq!(answer.deadline_ms, Some(at + 7 * D), "PIN {i}");
        let decoy = e.send(true, ops::STATUS, "{}", at).unwrap();
        assert_eq!(decoy.deadline_ms, answer.deadline_ms);
        assert_eq!(decoy.last_checkin_ms, Some(at));
    }
    // The real key sees its own plan, and what the coercer was shown.
    let real = e.send(false, ops::STATUS, "{}", T0 + 3 * H).unwrap();
    assert!(real.plan.unwrap().starts_with("every 1d"));
    assert_eq!(real.duress_seen_ms, Some(T0 + 2 * H + 1));
    let pretend = real.pretend.unwrap();
    assert_eq!(pretend.since_ms, Some(T0 + H));
    assert_eq!(pretend.deadline_ms, Some(T0 + 2 * H + 1 + 7 * D));
    // Only the real key ends it; the duress key's attempt looks accepted and ends nothing.
    e.send(true, ops::END_PRETEND, "{}", T0 + 4 * H).unwrap();
    assert!(e.stored().duress_view.is_some());
    let real = e.send(false, ops::END_PRETEND, "{}", T0 + 5 * H).unwrap();
    assert_eq!(real.pretend, None);
    assert!(e.stored().duress_view.is_none());
}

#[test]
fn unenrol_under_duress_answers_as_the_real_one_forgets_nothing_and_raises_the_alarm() {
    let mut real = enrolled();
    let mut forced = enrolled();
    let answer = real.send(false, ops::UNENROL, "{}", T0 + 1).unwrap();
    let pretended = forced.send(true, ops::UNENROL, "{}", T0 + 1).unwrap();
    assert_eq!(answer, pretended, "the same answer");
    assert_eq!(answer.plan, None);
    // Really forgotten: the journalist's next request is answered as a stranger's.
    assert!(
        real.watcher
            .store()
            .subject(&real.subject)
            .unwrap()
            .is_none()
    );
    let after = real.send(false, ops::CHECKIN, "{}", T0 + 2).unwrap_err();
    assert_eq!(after.code, "bad_signature");
    // Under duress: still watched, on the real plan, and the silent alarm goes out.
    let kept = forced.stored();
    assert!(kept.plan.is_some());
    assert!(matches!(kept.unstaged.as_slice(), [Emitted::Duress { .. }]));
    forced
        .watcher
        .due_deliveries(T0 + 2, &Default::default(), 10)
        .unwrap();
    let alerts = forced.pending();
    assert_eq!(alerts.len(), 1, "the duress alert, to the editor");
    assert_eq!(alerts[0].contact, "editor");
    // The journalist's real key still works there.
    forced.send(false, ops::CHECKIN, "{}", T0 + 3).unwrap();
}

#[test]
fn unenrol_waits_for_a_check_in_after_alerts_and_the_all_clear_still_goes_out() {
    let mut e = enrolled();
    e.watcher.tick(T0 + D + H + 1).unwrap();
    let fired = e.pending().len();
    assert_eq!(fired, 2, "the reminder and tier 1");
    for duress in [false, true] {
        let refused = e
            .send(duress, ops::UNENROL, "{}", T0 + D + H + 2)
            .unwrap_err();
        assert_eq!(refused.code, "alerts_under_way");
        assert!(refused.message.contains("check in first"), "{refused}");
    }
    e.send(false, ops::CHECKIN, "{}", T0 + D + H + 3).unwrap();
    // At once, before the delivery loop built the all-clear the check-in emitted.
    e.send(false, ops::UNENROL, "{}", T0 + D + H + 4).unwrap();
    let pending = e.pending();
    assert_eq!(
        pending.len(),
        fired + 1,
        "the all-clear was built before forgetting"
    );
    assert!(pending.iter().all(|d| d.subject == e.subject));
    // The queue and the links go with the delivery loop's next round; the outbox stays.
    e.watcher
        .due_deliveries(T0 + D + H + 5, &Default::default(), 10)
        .unwrap();
    assert!(e.watcher.queued().unwrap().is_empty());
    assert_eq!(e.pending().len(), fired + 1);
}
