//! Phone check-ins over HTTP against the real daemon: enrolment with a one-time link, the real
//! PIN, the duress PIN (same answer, silent alert), wrong PINs with back-off, and guessing
//! that cannot lock the journalist's own phone out.

mod common;

use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;
use serde_json::{Value, json};

fn post(daemon: &Daemon, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}{path}", daemon.url))
        .json(&body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap())
}

/// A vault enrolled with a watcher, with a plan, and a phone link from `watch enrol-phone`.
fn with_phone_link() -> (TestVault, Daemon, String) {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
    let out = v.run(&["watch", "enrol-phone"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let link = stdout(&out).trim().to_string();
    assert!(
        link.starts_with(&format!("{}/p#enrol=", daemon.url)),
        "{link}"
    );
    assert!(
        stderr(&out).contains('█') || stderr(&out).contains('▀'),
        "a QR code is drawn"
    );
    let token = link.rsplit('=').next().unwrap().to_string();
    (v, daemon, token)
}

const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PIN: &str = "285071";
const DURESS: &str = "930462";

fn enrol_phone(daemon: &Daemon, token: &str) -> String {
    let (status, body) = post(
        daemon,
        "/v1/phone/enrol",
        json!({"token": token, "device_secret": SECRET, "pin": PIN, "duress_pin": DURESS}),
    );
    assert_eq!(status, 200, "{body}");
    body["device_id"].as_str().unwrap().to_string()
}

fn checkin(daemon: &Daemon, device: &str, secret: &str, pin: &str) -> (u16, Value) {
    post(
        daemon,
        "/v1/phone/checkin",
        json!({"device_id": device, "device_secret": secret, "pin": pin}),
    )
}

#[test]
fn the_page_is_small_and_self_contained() {
    let (_v, daemon, _) = with_phone_link();
    let response = reqwest::blocking::get(format!("{}/p", daemon.url)).unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"));
    let page = response.text().unwrap();
    assert!(page.len() < 30 * 1024, "{} bytes", page.len());
    for text in ["Қайд кардан", "Отметиться", "Check in"] {
        assert!(page.contains(text), "{text}");
    }
    assert!(
        !page.contains("src=\"http"),
        "nothing loaded from elsewhere"
    );
}

#[test]
fn a_phone_checks_in_with_its_pin_and_the_duress_pin_answers_the_same() {
    let (_v, daemon, token) = with_phone_link();
    let device = enrol_phone(&daemon, &token);
    // The link works once.
    let (status, body) = post(
        &daemon,
        "/v1/phone/enrol",
        json!({"token": token, "device_secret": SECRET, "pin": PIN, "duress_pin": DURESS}),
    );
    assert_eq!((status, body["error"].as_str()), (403, Some("bad_invite")));

    let (status, real) = checkin(&daemon, &device, SECRET, PIN);
    assert_eq!(status, 200, "{real}");
    assert!(real["deadline_ms"].as_i64().is_some());
    let (status, duress) = checkin(&daemon, &device, SECRET, DURESS);
    assert_eq!(status, 200);
    assert_eq!(real["name"], duress["name"]);
    assert_eq!(
        real.as_object().unwrap().keys().collect::<Vec<_>>(),
        duress.as_object().unwrap().keys().collect::<Vec<_>>()
    );

    let log = daemon.log();
    assert!(log.contains("phone check-in accepted"), "{log}");
    for secret in [PIN, DURESS, SECRET, token.as_str(), device.as_str()] {
        assert!(!log.contains(secret), "the log holds a secret: {secret}");
    }
    assert!(
        !log.contains("duress"),
        "the log does not say which PIN was used"
    );
    let data = daemon.data.clone();
    assert!(daemon.stop());
    assert_eq!(action_labels(&actions(&data)), vec!["duress"]);
}

#[test]
fn wrong_pins_back_off_but_guessing_without_the_phone_cannot_lock_it_out() {
    let (_v, daemon, token) = with_phone_link();
    let device = enrol_phone(&daemon, &token);
    // Someone without the phone's secret guesses, many times, against the device id.
    let wrong_secret = "BBECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let mut codes = Vec::new();
    for _ in 0..25 {
        codes.push(checkin(&daemon, &device, wrong_secret, "000000").0);
    }
    assert_eq!(codes[0], 401);
    assert_eq!(
        *codes.last().unwrap(),
        429,
        "the guessing address is slowed down"
    );
    // The journalist's phone (same loopback address here) still checks in at once.
    let (status, body) = checkin(&daemon, &device, SECRET, PIN);
    assert_eq!(status, 200, "{body}");

    // With the phone itself, wrong PINs back off after three.
    for _ in 0..3 {
        let (status, body) = checkin(&daemon, &device, SECRET, "000000");
        assert!(status == 401 || status == 429, "{body}");
    }
    let (status, body) = checkin(&daemon, &device, SECRET, PIN);
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_attempts")),
        "{body}"
    );
    assert_eq!(
        body["wait_s"], 1,
        "the answer says how long to wait: {body}"
    );
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let (status, _) = checkin(&daemon, &device, SECRET, PIN);
    assert_eq!(status, 200, "after the wait the right PIN works");
}

#[test]
fn bad_phone_enrolments_are_refused_clearly() {
    let (_v, daemon, token) = with_phone_link();
    // Too short (4 digits are refused for new phones), the same twice, not digits, two
    // lengths; then codes a coercer tries first, as either PIN.
    for (pin, duress, code) in [
        ("12", "3456", "bad_pin"),
        ("2468", "1357", "bad_pin"),
        (PIN, PIN, "bad_pin"),
        ("abcdef", DURESS, "bad_pin"),
        (PIN, "9304621", "bad_pin"),
        ("123456", DURESS, "weak_pin"),
        (PIN, "111111", "weak_pin"),
        ("010190", DURESS, "weak_pin"),
    ] {
        let (status, body) = post(
            &daemon,
            "/v1/phone/enrol",
            json!({"token": token, "device_secret": SECRET, "pin": pin, "duress_pin": duress}),
        );
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some(code)),
            "{pin} {duress}"
        );
        assert!(body["message"].as_str().unwrap().len() > 20, "{body}");
    }
    let (status, _) = post(&daemon, "/v1/phone/enrol", json!({"token": token}));
    assert_eq!(status, 400);
    // The token was not used up by the refusals.
    enrol_phone(&daemon, &token);
}

#[test]
fn a_phone_set_up_under_duress_only_ever_raises_the_silent_alarm() {
    let (v, daemon, _) = with_phone_link();
    let duress = v.set_duress("the duress words");
    // Forced to set up the coercer's phone, from the decoy vault.
    let out = v.run_with_pass(&duress, &["watch", "enrol-phone"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().rsplit('=').next().unwrap().to_string();
    let device = enrol_phone(&daemon, &token);
    let (status, body) = checkin(&daemon, &device, SECRET, PIN);
    assert_eq!(status, 200, "the coercer sees it work: {body}");
    let data = daemon.data.clone();
    let port = daemon.port();
    assert!(daemon.stop());
    assert_eq!(
        action_labels(&actions(&data)),
        vec!["duress"],
        "the duress unlock raised it; the link and the check-in are the same episode"
    );
    // After the journalist's own check-in, the coercer's phone raises it again, with the
    // PIN that would be the real one on a phone set up freely.
    let daemon = Daemon::start_on(&data, port);
    v.ok(&["checkin"], "");
    let (status, _) = checkin(&daemon, &device, SECRET, PIN);
    assert_eq!(status, 200);
    assert!(daemon.stop());
    assert_eq!(action_labels(&actions(&data)), vec!["duress", "duress"]);
}
