//! The pretend world as a coercer holding the journalist's laptop and phone would test it,
//! against the real daemon on loopback: after a forced `plan set --every 7d` and a forced
//! pause from the decoy, the decoy's status, the phone's answer (with either PIN) and the
//! reminders the journalist receives all agree with what the coercer set, while the real
//! ladder still alerts the editor on the real plan. (Issue 12, finding 4.)

mod common;

use std::time::Duration;

use common::phone::TestPhone;
use common::receivers::Receiver;
use common::watcher::{Daemon, actions, invite};
use common::*;
use posbon::protocol::{StatusResponse, ops};
use posbon::switch::client::{self, Link};
use ring::signature::Ed25519KeyPair;
use serde_json::json;

const DAY: i64 = 86_400_000;
const PIN: &str = common::phone::PIN;
const DURESS_PIN: &str = common::phone::DURESS;

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

fn now_ms() -> i64 {
    posbon::vault::now()
}

struct World {
    daemon: Daemon,
    hub: Receiver,
    link: Link,
    device: Ed25519KeyPair,
    duress: Ed25519KeyPair,
    phone: Option<TestPhone>,
    _temp: tempfile::TempDir,
}

impl World {
    fn call(&mut self, duress: bool, op: &str, payload: &str) -> StatusResponse {
        let key = if duress { &self.duress } else { &self.device };
        let (status, counter) = client::call(
            &client::Route::Direct,
            &self.link,
            key,
            op,
            payload.into(),
            now_ms(),
        )
        .unwrap_or_else(|e| panic!("{op}: {e}"));
        self.link.last_counter = counter;
        status
    }

    /// What the phone's page sends when a PIN is typed; returns the answer's deadline.
    fn type_pin(&mut self, pin: &str) -> i64 {
        let phone = self.phone.as_mut().expect("a phone is enrolled");
        let (status, body) = phone.checkin(&self.daemon, pin);
        assert_eq!(status, 200, "{body}");
        body["deadline_ms"].as_i64().unwrap()
    }

    /// The steps of the alerts received at `/hook/{who}`.
    fn received(&self, who: &str) -> Vec<String> {
        self.hub
            .received()
            .iter()
            .filter(|r| r.path == format!("/hook/{who}"))
            .map(|r| r.json()["step"].as_str().unwrap_or("?").to_string())
            .collect()
    }
}

/// The real plan of these tests: every 3 seconds, a reminder 1.5 s before, tier 1 at the
/// deadline.
const REAL_PLAN: &str = r#"{"schedule":{"kind":"every","every_ms":3000},"grace_ms":0,"reminders_ms":[1500],"steps":[{"action":{"alert-tier":1},"after_ms":0}]}"#;

/// A journalist enrolled, with a phone, a tier-0 contact (their own webhook) and an editor
/// in tier 1; no plan yet.
fn world() -> World {
    let temp = tempfile::tempdir().unwrap();
    let hub = Receiver::start();
    let config = temp.path().join("watcher.toml");
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"2s\"\nallow_private_addresses = true\n",
    )
    .unwrap();
    let daemon = Daemon::start_with(
        &temp.path().join("watcher"),
        0,
        &["--config", config.to_str().unwrap()],
    );
    let code = invite(&daemon.data, "Nilufar");
    let (device, duress) = (key(), key());
    let link = client::enrol(&client::Route::Direct, &daemon.url, &code, &device, &duress).unwrap();
    let mut w = World {
        daemon,
        link,
        device,
        duress,
        phone: None,
        _temp: temp,
        hub,
    };
    let contact = |name: &str, tier: u8| {
        json!({"name": name, "lang": "en", "tiers": [tier],
               "channels": [{"kind": "webhook", "to": format!("{}/hook/{name}", w.hub.url())}]})
    };
    let directory = json!({"contacts": [contact("me", 0), contact("editor", 1)]});
    w.call(false, ops::CONTACTS, &directory.to_string());
    let token = w.call(false, ops::PHONE_INVITE, "{}").phone_token.unwrap();
    w.phone = Some(TestPhone::enrol(&w.daemon, &token));
    w
}

fn close_to(a: i64, b: i64) -> bool {
    (a - b).abs() < 5_000
}

#[test]
fn phone_decoy_and_reminders_follow_the_pretend_plan_while_the_real_ladder_alerts() {
    let mut w = world();
    // The coercer makes the journalist set a plan of 7 days from the decoy (a reminder
    // 4 s after it is set, so that the test sees one) ...
    let forced = now_ms();
    let seven_days = format!(
        r#"{{"schedule":{{"kind":"every","every_ms":{}}},"grace_ms":3600000,"reminders_ms":[{}],"steps":[{{"action":"remind-journalist","after_ms":0}},{{"action":{{"alert-tier":1}},"after_ms":3600000}}]}}"#,
        7 * DAY,
        7 * DAY - 4_000
    );
    let decoy = w.call(true, ops::PLAN, &seven_days);
    let pretend_deadline = decoy.deadline_ms.unwrap();
    assert!(close_to(pretend_deadline, forced + 7 * DAY), "{decoy:?}");
    // The real plan is set after it (by the journalist, earlier in real life), so that a
    // slow machine cannot let a real reminder out before the pretend world exists.
    w.call(false, ops::PLAN, REAL_PLAN);

    // ... and waits. The editor is alerted on the real plan; the journalist's own contact
    // gets the pretend plan's reminder, and never the real plan's.
    wait_until(
        "tier 1 and the pretend reminder",
        Duration::from_secs(20),
        || {
            w.received("editor").contains(&"tier1".to_string())
                && w.received("me").contains(&"remind".to_string())
        },
    );

    // What the decoy shows fired is what a 7-day plan allows: one reminder, no tier 1.
    let decoy = w.call(true, ops::STATUS, "{}");
    assert_eq!(decoy.deadline_ms, Some(pretend_deadline));
    let labels: Vec<&str> = decoy.fired.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(labels, ["remind-before"], "{decoy:?}");
    for (_, due, _) in &decoy.fired {
        assert_eq!(*due, pretend_deadline - (7 * DAY - 4_000));
    }
    // The real key sees the real ladder, and what the coercer is shown.
    let real = w.call(false, ops::STATUS, "{}");
    assert!(real.fired.iter().any(|f| f.0 == "tier1"), "{real:?}");
    let told = real
        .pretend
        .clone()
        .expect("the real key is told of the pretend world");
    assert_eq!(told.deadline_ms, Some(pretend_deadline));
    assert!(real.duress_seen_ms.is_some());

    // A forced pause: the decoy shows it ...
    let until = now_ms() + 3 * DAY;
    let paused = w.call(true, ops::PAUSE, &format!(r#"{{"until_ms":{until}}}"#));
    assert_eq!(paused.paused_until_ms, Some(until));
    assert_eq!(w.call(true, ops::STATUS, "{}").paused_until_ms, Some(until));
    // ... until the phone checks in, with either PIN: the phone's answer and the decoy's
    // status then agree on the deadline, and neither shows the pause.
    for pin in [PIN, DURESS_PIN] {
        let typed = now_ms();
        let phone_deadline = w.type_pin(pin);
        assert!(close_to(phone_deadline, typed + 7 * DAY), "{pin}");
        let decoy = w.call(true, ops::STATUS, "{}");
        assert_eq!(decoy.deadline_ms, Some(phone_deadline), "{pin}");
        assert_eq!(decoy.paused_until_ms, None, "{pin}");
        assert!(decoy.fired.is_empty(), "a new pretend cycle: {decoy:?}");
        assert!(decoy.plan.as_deref().unwrap().starts_with("every 7d"));
    }
    // The real switch was never paused nor moved to 7 days.
    let real = w.call(false, ops::STATUS, "{}");
    assert_eq!(real.paused_until_ms, None);
    assert!(
        real.plan.as_deref().unwrap().starts_with("every 3s"),
        "{real:?}"
    );

    // Everything that went to the journalist came from the pretend plan: each reminder
    // names a pretend deadline (days away), none the real one (seconds away).
    let data = w.daemon.data.clone();
    let log = w.daemon.log();
    assert!(!log.contains("duress"), "the log does not tell: {log}");
    assert!(w.daemon.stop());
    let queued = actions(&data);
    let mut reminders = 0;
    for action in &queued {
        let emitted = &action["emitted"];
        if emitted["action"] == "remind-journalist" {
            reminders += 1;
            let deadline = emitted["deadline_ms"].as_i64().unwrap();
            assert!(
                deadline > forced + 6 * DAY,
                "a real reminder reached tier 0: {action}"
            );
        }
    }
    assert!(reminders >= 1);
    assert!(
        queued
            .iter()
            .any(|a| a["emitted"]["action"]["alert-tier"] == 1
                && a["emitted"]["deadline_ms"].as_i64().unwrap() < forced + DAY),
        "tier 1 on the real plan: {queued:?}"
    );
}

#[test]
fn only_the_real_key_ends_the_pretend_world_and_the_phone_then_shows_the_real_plan() {
    let mut w = world();
    w.call(false, ops::PLAN, REAL_PLAN);
    let seven_days = format!(
        r#"{{"schedule":{{"kind":"every","every_ms":{}}},"grace_ms":0,"steps":[{{"action":"release","after_ms":0}}]}}"#,
        7 * DAY
    );
    w.call(true, ops::PLAN, &seven_days);
    // The decoy cannot end it: the request looks accepted, nothing changes.
    w.call(true, ops::END_PRETEND, "{}");
    let typed = now_ms();
    assert!(close_to(w.type_pin(PIN), typed + 7 * DAY));
    // The journalist, free again, ends it with the real key.
    let real = w.call(false, ops::END_PRETEND, "{}");
    assert_eq!(real.pretend, None);
    let typed = now_ms();
    let deadline = w.type_pin(PIN);
    assert!(deadline - typed <= 3_000 + 1_000, "the real 3 s plan again");
}
