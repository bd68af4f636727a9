//! Hostile requests against the real watcher: each is refused with its own code, and nothing
//! changes (the subject's state, as seen by a later genuine status request, is the same).

mod common;

use common::watcher::{Daemon, invite};
use posbon::watch::client::{self, Link};
use posbon::watch::protocol::{self, SignedRequest, ops};
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
    let link = client::enrol(&daemon.url, &code, &device, &key()).unwrap();
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
        let (status, counter) =
            client::call(&self.link, &self.device, op, payload.into(), now_ms()).unwrap();
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

    let mut unknown = s.signed(ops::CHECKIN, now_ms(), counter);
    unknown.subject = "00".repeat(16);
    assert_eq!(s.send(&unknown), (404, "unknown_subject".to_string()));

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
    let result = client::call(&s.link, &s.device, ops::STATUS, "{}".into(), now_ms());
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
    let result = client::call(&s.link, &s.device, ops::PLAN, bad.into(), now_ms());
    assert!(
        matches!(&result, Err(client::ClientError::Refused { code, .. }) if code == "bad_plan"),
        "{result:?}"
    );
    let inverted = r#"{"schedule":{"kind":"daily","windows":[{"start_min":600,"end_min":540}],"tz":"Asia/Dushanbe"},"grace_ms":0,"steps":[{"action":"release","after_ms":0}]}"#;
    let result = client::call(&s.link, &s.device, ops::PLAN, inverted.into(), now_ms());
    assert!(
        matches!(result, Err(client::ClientError::Refused { .. })),
        "{result:?}"
    );
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
