//! Hostile requests against the real watcher: each is refused with its own code, and nothing
//! changes (the subject's state, as seen by a later genuine status request, is the same).
//! Among them, PIN guessing by whoever holds the journalist's phone, as a coercer would run it.

mod common;

use common::watcher::{Daemon, invite};
use posbon::protocol::{self, SignedRequest, ops};
use posbon::switch::client::{self, Link};
use ring::signature::Ed25519KeyPair;

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

fn now_ms() -> i64 {
    posbon::vault::now()
}

struct Setup {
    daemon: Daemon,
    link: Link,
    device: Ed25519KeyPair,
    _temp: tempfile::TempDir,
}

fn setup() -> Setup {
    let temp = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&temp.path().join("watcher"));
    let code = invite(&daemon.data, "Subject");
    let device = key();
    let link = client::enrol(&client::Route::Direct, &daemon.url, &code, &device, &key()).unwrap();
    let mut setup = Setup {
        daemon,
        link,
        device,
        _temp: temp,
    };
    let plan = r#"{"schedule":{"kind":"every","every_ms":3600000},"grace_ms":60000,"steps":[{"action":"release","after_ms":0}]}"#;
    setup.call(ops::PLAN, plan);
    setup
}

impl Setup {
    fn call(&mut self, op: &str, payload: &str) -> protocol::StatusResponse {
        let (status, counter) = client::call(
            &client::Route::Direct,
            &self.link,
            &self.device,
            op,
            payload.into(),
            now_ms(),
        )
        .unwrap();
        self.link.last_counter = counter;
        status
    }

    fn raw(&self, body: Vec<u8>) -> (u16, serde_json::Value) {
        let response = reqwest::blocking::Client::new()
            .post(format!("{}/v1/request", self.daemon.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    fn send(&self, request: &SignedRequest) -> (u16, String) {
        let (status, body) = self.raw(serde_json::to_vec(request).unwrap());
        (status, body["error"].as_str().unwrap_or("").to_string())
    }

    fn signed(&self, op: &str, ts_ms: i64, counter: u64) -> SignedRequest {
        protocol::sign_request(
            &self.device,
            &self.link.subject,
            op,
            ts_ms,
            counter,
            "{}".into(),
        )
    }
}

#[test]
fn replayed_checkin_is_refused_and_changes_nothing() {
    let mut s = setup();
    let request = s.signed(ops::CHECKIN, now_ms(), (now_ms() as u64) * 1000);
    assert_eq!(s.send(&request).0, 200);
    let before = s.call(ops::STATUS, "{}");
    assert_eq!(s.send(&request), (409, "replay".to_string()));
    assert_eq!(
        s.call(ops::STATUS, "{}").last_checkin_ms,
        before.last_checkin_ms
    );
}

#[test]
fn forged_stale_future_and_misdirected_requests_are_refused() {
    let mut s = setup();
    let before = s.call(ops::STATUS, "{}");
    let counter = (now_ms() as u64 + 60_000) * 1000;

    // Signed by a key the watcher never saw.
    let forged = protocol::sign_request(
        &key(),
        &s.link.subject,
        ops::CHECKIN,
        now_ms(),
        counter,
        "{}".into(),
    );
    assert_eq!(s.send(&forged), (401, "bad_signature".to_string()));

    // A genuine signature, then the payload changed.
    let mut altered = s.signed(ops::CHECKIN, now_ms(), counter);
    altered.payload = "{\"x\":1}".into();
    assert_eq!(s.send(&altered), (401, "bad_signature".to_string()));

    // A valid key for another subject.
    let other = setup();
    let misdirected = protocol::sign_request(
        &other.device,
        &s.link.subject,
        ops::CHECKIN,
        now_ms(),
        counter,
        "{}".into(),
    );
    assert_eq!(s.send(&misdirected), (401, "bad_signature".to_string()));

    assert_eq!(
        s.send(&s.signed(ops::CHECKIN, now_ms() - 3_600_000, counter)),
        (401, "stale_timestamp".to_string())
    );
    assert_eq!(
        s.send(&s.signed(ops::CHECKIN, now_ms() + 3_600_000, counter)),
        (401, "stale_timestamp".to_string())
    );

    // A subject the watcher does not know gets the answer a forgery for a known one gets:
    // a stranger cannot enumerate who a watcher serves.
    let mut unknown = s.signed(ops::CHECKIN, now_ms(), counter);
    unknown.subject = "00".repeat(16);
    assert_eq!(s.send(&unknown), (401, "bad_signature".to_string()));

    let after = s.call(ops::STATUS, "{}");
    assert_eq!(
        after.last_checkin_ms, before.last_checkin_ms,
        "nothing changed"
    );
}

#[test]
fn malformed_oversized_and_unknown_requests_get_clear_errors() {
    let s = setup();
    let (status, body) = s.raw(b"{not json".to_vec());
    assert_eq!((status, body["error"].as_str()), (400, Some("malformed")));
    let (status, body) = s.raw(vec![0xff, 0xfe, 0x00]);
    assert_eq!((status, body["error"].as_str()), (400, Some("malformed")));
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let (status, _) = s.raw(deep.into_bytes());
    assert_eq!(status, 400);
    let (status, _) = s.raw(vec![b' '; 200_000]);
    assert_eq!(status, 413, "bodies over 64 KiB are refused");
    let mut request = s.signed(
        "self-destruct",
        now_ms(),
        (now_ms() as u64 + 120_000) * 1000,
    );
    request.payload = "{}".into();
    assert_eq!(s.send(&request).1, "malformed");
}

#[test]
fn a_response_not_signed_by_the_enrolled_watcher_is_not_trusted() {
    let mut s = setup();
    let impostor = setup();
    // As if someone answered in the watcher's place: pin another watcher's key, and the
    // genuine answers no longer verify, so neither would an impostor's.
    s.link.watcher_key = impostor.link.watcher_key.clone();
    let result = client::call(
        &client::Route::Direct,
        &s.link,
        &s.device,
        ops::STATUS,
        "{}".into(),
        now_ms(),
    );
    assert!(
        matches!(
            result,
            Err(client::ClientError::BadResponseSignature { .. })
        ),
        "{result:?}"
    );
}

#[test]
fn a_plan_with_impossible_windows_is_refused_and_does_not_stop_the_watcher() {
    let mut s = setup();
    let bad = r#"{"schedule":{"kind":"daily","windows":[{"start_min":1500,"end_min":1600}],"tz":"Asia/Dushanbe"},"grace_ms":0,"steps":[{"action":"release","after_ms":0}]}"#;
    let result = client::call(
        &client::Route::Direct,
        &s.link,
        &s.device,
        ops::PLAN,
        bad.into(),
        now_ms(),
    );
    assert!(
        matches!(&result, Err(client::ClientError::Refused { code, .. }) if code == "bad_plan"),
        "{result:?}"
    );
    // A window that ends when it starts (an end before the start crosses midnight: allowed).
    let inverted = r#"{"schedule":{"kind":"daily","windows":[{"start_min":600,"end_min":600}],"tz":"Asia/Dushanbe"},"grace_ms":0,"steps":[{"action":"release","after_ms":0}]}"#;
    let result = client::call(
        &client::Route::Direct,
        &s.link,
        &s.device,
        ops::PLAN,
        inverted.into(),
        now_ms(),
    );
    assert!(
        matches!(result, Err(client::ClientError::Refused { .. })),
        "{result:?}"
    );
    // A window on no day of the week (a week of searching would find no deadline), and one
    // on a day that does not exist.
    for days in ["[]", r#"["mon","funday"]"#] {
        let no_days = format!(
            r#"{{"schedule":{{"kind":"daily","windows":[{{"start_min":540,"end_min":600,"days":{days}}}],"tz":"Asia/Dushanbe"}},"grace_ms":0,"steps":[{{"action":"release","after_ms":0}}]}}"#
        );
        let result = client::call(
            &client::Route::Direct,
            &s.link,
            &s.device,
            ops::PLAN,
            no_days,
            now_ms(),
        );
        assert!(
            matches!(result, Err(client::ClientError::Refused { .. })),
            "{days}: {result:?}"
        );
    }
    // Still answering, plan unchanged.
    assert!(
        s.call(ops::STATUS, "{}")
            .plan
            .unwrap()
            .starts_with("every 1h")
    );
}

#[test]
fn a_timestamp_at_the_edge_of_the_integers_is_refused_not_a_crash() {
    let s = setup();
    let request = s.signed(
        ops::CHECKIN,
        i64::MIN + now_ms(),
        (now_ms() as u64 + 300_000) * 1000,
    );
    assert_eq!(s.send(&request), (401, "stale_timestamp".to_string()));
    let request = s.signed(ops::CHECKIN, i64::MAX, (now_ms() as u64 + 300_000) * 1000);
    assert_eq!(s.send(&request), (401, "stale_timestamp".to_string()));
}

use common::phone::{DURESS, PIN, TestPhone};

impl Setup {
    /// Sets up the journalist's phone through the page's API.
    fn phone(&mut self) -> std::cell::RefCell<TestPhone> {
        let token = self.call(ops::PHONE_INVITE, "{}").phone_token.unwrap();
        std::cell::RefCell::new(TestPhone::enrol(&self.daemon, &token))
    }

    /// What the phone's page sends when a PIN is typed on it.
    fn type_pin(
        &self,
        device: &std::cell::RefCell<TestPhone>,
        pin: &str,
    ) -> (u16, serde_json::Value) {
        device.borrow_mut().checkin(&self.daemon, pin)
    }
}

/// Types a wrong guess; when told to wait, waits as long as the answer says. Returns the
/// answer's status and its wait.
fn guess(s: &Setup, device: &std::cell::RefCell<TestPhone>, pin: &str) -> (u16, Option<u64>) {
    let (status, body) = s.type_pin(device, pin);
    let wait = body["wait_s"].as_u64();
    assert_eq!(
        status == 429,
        wait.is_some(),
        "a 429 carries its wait: {body}"
    );
    if let Some(wait) = wait {
        std::thread::sleep(std::time::Duration::from_secs(wait));
    }
    (status, wait)
}

#[test]
fn the_duress_pin_between_guesses_buys_no_free_guesses_and_the_lock_refuses_the_real_pin_alike() {
    let mut s = setup();
    let device = s.phone();
    // The coercer was given the duress PIN and types it between guesses, which used to
    // reset the wait: the whole 4-digit space took about 15 seconds.
    let mut waits = Vec::new();
    for wrong in ["000001", "000002", "000003", "000004"] {
        let (status, body) = s.type_pin(&device, DURESS);
        assert_eq!(status, 200, "the duress PIN works as usual: {body}");
        waits.push(guess(&s, &device, wrong));
    }
    assert_eq!(
        waits,
        vec![(401, None), (401, None), (429, Some(1)), (429, Some(2))],
        "the back-off grows anyway"
    );
    let (status, _) = s.type_pin(&device, DURESS);
    assert_eq!(status, 200);
    // The 5th wrong guess: locked, with a wait of 4 s.
    let (status, locked) = s.type_pin(&device, "000005");
    assert_eq!(
        (status, locked["wait_s"].as_u64()),
        (429, Some(4)),
        "{locked}"
    );

    // While locked, the real PIN gets the answer a wrong one gets, and counts no check-in.
    let before = s.call(ops::STATUS, "{}");
    let (real_status, real) = s.type_pin(&device, PIN);
    let (wrong_status, wrong) = s.type_pin(&device, "000006");
    let (duress_status, duress) = s.type_pin(&device, DURESS);
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    for (status, body) in [(real_status, &real), (duress_status, &duress)] {
        assert_eq!(status, wrong_status);
        assert_eq!(body["error"], wrong["error"]);
        assert_eq!(keys(body), keys(&wrong));
        let (a, b) = (
            body["wait_s"].as_i64().unwrap(),
            wrong["wait_s"].as_i64().unwrap(),
        );
        assert!((a - b).abs() <= 1 && a > 0, "{body} {wrong}");
    }
    let after = s.call(ops::STATUS, "{}");
    assert_eq!(
        after.last_checkin_ms, before.last_checkin_ms,
        "no check-in counted"
    );
    assert_eq!(after.deadline_ms, before.deadline_ms);

    // The journalist's laptop checks in all the same: signed requests know no PIN lock.
    let laptop = s.call(ops::CHECKIN, "{}");
    assert!(laptop.last_checkin_ms > before.last_checkin_ms);

    // One silent alarm for the whole episode: the duress PIN raised it, and the run of
    // guesses (its own alarm at the 5th) belongs to the same episode.
    let data = s.daemon.data.clone();
    assert!(s.daemon.stop());
    assert_eq!(
        common::watcher::action_labels(&common::watcher::actions(&data)),
        vec!["phone-enrolled", "duress"]
    );
}

#[test]
fn a_run_of_wrong_pins_on_the_phone_raises_the_silent_alarm_once() {
    let mut s = setup();
    let device = s.phone();
    let before = s.call(ops::STATUS, "{}");
    // Whoever took the phone does not know the duress PIN: guesses, waiting as told.
    let answers: Vec<_> = ["000001", "000002", "000003", "000004", "000005"]
        .iter()
        .map(|pin| guess(&s, &device, pin))
        .collect();
    let expected = vec![
        (401, None),
        (401, None),
        (429, Some(1)),
        (429, Some(2)),
        (429, Some(4)),
    ];
    assert_eq!(answers, expected);
    let (status, sixth) = s.type_pin(&device, "000006");
    assert_eq!(
        (status, sixth["wait_s"].as_u64()),
        (429, Some(8)),
        "{sixth}"
    );
    assert_eq!(
        s.call(ops::STATUS, "{}").last_checkin_ms,
        before.last_checkin_ms,
        "wrong PINs change nothing the journalist sees"
    );
    let data = s.daemon.data.clone();
    let log = s.daemon.log();
    assert!(!log.contains("duress"), "the log does not say why: {log}");
    assert!(s.daemon.stop());
    assert_eq!(
        common::watcher::action_labels(&common::watcher::actions(&data)),
        vec!["phone-enrolled", "duress"],
        "the 5th wrong PIN raised the alarm, the 6th not again"
    );
}
