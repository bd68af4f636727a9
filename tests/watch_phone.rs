//! Phone check-ins over HTTP against the real daemon: enrolment with a one-time link, the real
//! PIN, the duress PIN (same answer, silent alert), wrong PINs with back-off, and guessing
//! that cannot lock the journalist's own phone out.

mod common;

use common::phone::{DURESS, PIN, TestPhone, post};
use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;
use serde_json::{Value, json};

/// A vault enrolled with a watcher, with a plan, and a phone link from `watch enrol-phone`.
fn with_phone_link() -> (TestVault, Daemon, String) {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
    let token = phone_link(&v, &daemon);
    (v, daemon, token)
}

/// A new link from `watch enrol-phone`, as its token.
fn phone_link(v: &TestVault, daemon: &Daemon) -> String {
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
    link.rsplit('=').next().unwrap().to_string()
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
    for text in ["Ҳузурро тасдиқ кардан", "Отметиться", "Check in"] {
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
    let mut phone = TestPhone::enrol(&daemon, &token);
    // The link works once.
    let (status, body) = post(
        &daemon,
        "/v1/phone/enrol",
        &TestPhone::new().enrol_request(&token, PIN, DURESS),
    );
    assert_eq!((status, body["error"].as_str()), (403, Some("bad_invite")));

    let (status, real) = phone.checkin(&daemon, PIN);
    assert_eq!(status, 200, "{real}");
    assert!(real["deadline_ms"].as_i64().is_some());
    let (status, duress) = phone.checkin(&daemon, DURESS);
    assert_eq!(status, 200);
    assert_eq!(real["name"], duress["name"]);
    assert_eq!(
        real.as_object().unwrap().keys().collect::<Vec<_>>(),
        duress.as_object().unwrap().keys().collect::<Vec<_>>()
    );
    // The two requests are the same size: both carry both proofs, whichever PIN was typed.
    assert_eq!(
        phone.checkin_request(PIN).to_string().len(),
        phone.checkin_request(DURESS).to_string().len()
    );

    let log = daemon.log();
    assert!(log.contains("phone check-in accepted"), "{log}");
    for secret in [PIN, DURESS, token.as_str(), phone.id.as_str()] {
        assert!(!log.contains(secret), "the log holds a secret: {secret}");
    }
    assert!(
        !log.contains("duress"),
        "the log does not say which PIN was used"
    );
    let data = daemon.data.clone();
    assert!(daemon.stop());
    assert_eq!(
        action_labels(&actions(&data)),
        vec!["phone-enrolled", "duress"]
    );
}

#[test]
fn a_captured_checkin_replayed_is_refused_and_changes_nothing() {
    let (v, daemon, token) = with_phone_link();
    let mut phone = TestPhone::enrol(&daemon, &token);
    // A TLS-terminating proxy keeps a copy of each request: a real-PIN one and a
    // wrong-PIN one.
    let captured = phone.checkin_request(PIN);
    let (status, body) = post(&daemon, "/v1/phone/checkin", &captured);
    assert_eq!(status, 200, "{body}");
    let wrong = phone.checkin_request("000000");
    assert_eq!(post(&daemon, "/v1/phone/checkin", &wrong).0, 401);
    let before = v.ok(&["status"], "");

    std::thread::sleep(std::time::Duration::from_millis(20));
    for request in [&captured, &wrong] {
        let (status, body) = post(&daemon, "/v1/phone/checkin", request);
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unknown_device")),
            "a replay is answered like any forgery: {body}"
        );
    }
    // An older counter with a fresh time and a valid signature is a replay too.
    let now = posbon::vault::now();
    let older = phone.request_at(PIN, now, phone.counter - 1);
    assert_eq!(post(&daemon, "/v1/phone/checkin", &older).0, 401);
    assert_eq!(v.ok(&["status"], ""), before, "nothing changed");

    // The wrong PIN replayed did not count again: two more wrong ones, and the right PIN
    // still goes through (a lock would come after the third counted).
    for _ in 0..1 {
        assert_eq!(phone.checkin(&daemon, "000001").0, 401);
    }
    let (status, body) = phone.checkin(&daemon, PIN);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_checkin_without_a_valid_signature_is_refused() {
    let (v, daemon, token) = with_phone_link();
    let mut phone = TestPhone::enrol(&daemon, &token);
    let before = v.ok(&["status"], "");
    // Signed by another key (someone who knows the device id, not the phone).
    let mut stranger = TestPhone::new();
    stranger.id = phone.id.clone();
    stranger.subject = phone.subject.clone();
    stranger.pin_key = phone.pin_key;
    let forged = stranger.checkin_request(PIN);
    // The phone's own signature, moved onto other proofs (a different PIN typed).
    let mut moved = phone.checkin_request(DURESS);
    let real = phone.checkin_request(PIN);
    moved["pin_proof"] = real["pin_proof"].clone();
    moved["duress_proof"] = real["duress_proof"].clone();
    // No signature, and the old way: the PIN key sent as a device secret with the PIN.
    let mut unsigned = phone.checkin_request(PIN);
    unsigned.as_object_mut().unwrap().remove("sig");
    let old_way = json!({
        "device_id": phone.id,
        "device_secret": posbon::protocol::b64(&phone.pin_key),
        "pin": PIN,
    });
    for request in [&forged, &moved, &unsigned, &old_way] {
        let (status, body) = post(&daemon, "/v1/phone/checkin", request);
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unknown_device")),
            "{request} / {body}"
        );
    }
    assert_eq!(v.ok(&["status"], ""), before, "nothing changed");
    // A request stamped ten minutes off is refused before anything is looked up, with the
    // watcher's time in the answer's Date header for the page to correct its clock.
    let now = posbon::vault::now();
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/v1/phone/checkin", daemon.url))
        .json(&phone.request_at(PIN, now - 600_000, now as u64))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().contains_key("date"));
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"], "stale_timestamp");
    let (status, body) = phone.checkin(&daemon, PIN);
    assert_eq!(status, 200, "the phone itself still checks in: {body}");
}

#[test]
fn wrong_pins_back_off_but_guessing_without_the_phone_cannot_lock_it_out() {
    let (_v, daemon, token) = with_phone_link();
    let mut phone = TestPhone::enrol(&daemon, &token);
    // Someone without the phone's key guesses, many times, against the device id.
    let mut stranger = TestPhone::new();
    stranger.id = phone.id.clone();
    stranger.subject = phone.subject.clone();
    let mut codes = Vec::new();
    for _ in 0..25 {
        codes.push(stranger.checkin(&daemon, "000000").0);
    }
    assert_eq!(codes[0], 401);
    assert_eq!(
        *codes.last().unwrap(),
        429,
        "the guessing address is slowed down"
    );
    // The journalist's phone (same loopback address here) still checks in at once.
    let (status, body) = phone.checkin(&daemon, PIN);
    assert_eq!(status, 200, "{body}");

    // With the phone itself, wrong PINs back off after three.
    for _ in 0..3 {
        let (status, body) = phone.checkin(&daemon, "000000");
        assert!(status == 401 || status == 429, "{body}");
    }
    let (status, body) = phone.checkin(&daemon, PIN);
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
    let (status, _) = phone.checkin(&daemon, PIN);
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
            &TestPhone::new().enrol_request(&token, pin, duress),
        );
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some(code)),
            "{pin} {duress}"
        );
        assert!(body["message"].as_str().unwrap().len() > 20, "{body}");
    }
    let (status, _) = post(&daemon, "/v1/phone/enrol", &json!({"token": token}));
    assert_eq!(status, 400);
    // A proof by another key than the one registered.
    let mut request = TestPhone::new().enrol_request(&token, PIN, DURESS);
    request["public_key"] = json!(TestPhone::new().public_key());
    assert_eq!(post(&daemon, "/v1/phone/enrol", &request).0, 400);
    // The token was not used up by the refusals.
    TestPhone::enrol(&daemon, &token);
}

#[test]
fn a_phone_set_up_under_duress_only_ever_raises_the_silent_alarm() {
    let (v, daemon, _) = with_phone_link();
    let duress = v.set_duress("the duress words");
    // Forced to set up the coercer's phone, from the decoy vault.
    let out = v.run_with_pass(&duress, &["watch", "enrol-phone"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().rsplit('=').next().unwrap().to_string();
    let mut phone = TestPhone::enrol(&daemon, &token);
    let (status, body) = phone.checkin(&daemon, PIN);
    assert_eq!(status, 200, "the coercer sees it work: {body}");
    let data = daemon.data.clone();
    let port = daemon.port();
    assert!(daemon.stop());
    assert_eq!(
        action_labels(&actions(&data)),
        vec!["duress", "phone-enrolled"],
        "the duress unlock raised it; the link and the check-in are the same episode"
    );
    // After the journalist's own check-in, the coercer's phone raises it again, with the
    // PIN that would be the real one on a phone set up freely.
    let daemon = Daemon::start_on(&data, port);
    v.ok(&["checkin"], "");
    let (status, _) = phone.checkin(&daemon, PIN);
    assert_eq!(status, 200);
    assert!(daemon.stop());
    assert_eq!(
        action_labels(&actions(&data)),
        vec!["duress", "phone-enrolled", "duress"]
    );
}

#[test]
fn enrolling_a_phone_tells_tier_0_and_a_second_phone_does_not_displace_the_first() {
    let (v, daemon, token) = with_phone_link();
    // The journalist's own channel (tier 0): a webhook nobody answers, so the notice stays
    // in the outbox to be read.
    v.ok(
        &[
            "contact",
            "add",
            "Me",
            "--lang",
            "en",
            "--tier",
            "0",
            "--webhook",
            "http://127.0.0.1:9/hook/me",
        ],
        "",
    );
    // Someone intercepted the link and used it first; the journalist then needs another.
    let mut intruder = TestPhone::enrol(&daemon, &token);
    let (status, body) = post(
        &daemon,
        "/v1/phone/enrol",
        &TestPhone::new().enrol_request(&token, PIN, DURESS),
    );
    assert_eq!((status, body["error"].as_str()), (403, Some("bad_invite")));
    let second = phone_link(&v, &daemon);
    let mut own = TestPhone::enrol(&daemon, &second);

    // Both are listed; both work: nothing was displaced, and nothing silently.
    let listed = v.ok(&["phone", "list"], "");
    assert!(
        listed.contains(&intruder.id) && listed.contains(&own.id),
        "{listed}"
    );
    assert_eq!(own.checkin(&daemon, PIN).0, 200);
    assert_eq!(intruder.checkin(&daemon, PIN).0, 200);

    let data = daemon.data.clone();
    assert!(daemon.stop());
    assert_eq!(
        action_labels(&actions(&data)),
        vec!["phone-enrolled", "phone-enrolled"]
    );
    let outbox = posbon()
        .args(["watch", "outbox", "--json", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(outbox.status.success(), "{}", stderr(&outbox));
    let notices: Vec<Value> = stdout(&outbox)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["title"] == "posbon: a phone was set up to check in for you")
        .collect();
    assert_eq!(
        notices.len(),
        2,
        "one notice per phone, to tier 0: {outbox:?}"
    );
    assert!(notices.iter().all(|n| n["contact"] == "Me"), "{notices:?}");
}

#[test]
fn a_removed_phone_is_refused_like_a_forgery_and_nothing_changes() {
    let (v, daemon, token) = with_phone_link();
    let mut lost = TestPhone::enrol(&daemon, &token);
    let mut kept = TestPhone::enrol(&daemon, &phone_link(&v, &daemon));
    assert_eq!(lost.checkin(&daemon, PIN).0, 200);

    // Removed by the first 8 hex digits of its id, as the enrolment notice shows it.
    let out = v.ok(&["phone", "remove", &lost.id[..8]], "");
    assert!(out.contains("removed"), "{out}");
    let listed = v.ok(&["phone", "list"], "");
    assert!(
        !listed.contains(&lost.id) && listed.contains(&kept.id),
        "{listed}"
    );
    let before = v.ok(&["status"], "");
    for pin in [PIN, DURESS, "000000"] {
        let (status, body) = lost.checkin(&daemon, pin);
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unknown_device")),
            "{body}"
        );
    }
    assert_eq!(v.ok(&["status"], ""), before, "nothing changed");
    assert_eq!(
        kept.checkin(&daemon, PIN).0,
        200,
        "the other phone still works"
    );
    // Removing it again, or a phone that never was, is refused clearly.
    let out = v.run(&["phone", "remove", &lost.id], "");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no watcher has a phone"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_phone_removed_under_duress_looks_removed_but_stays_enrolled_and_raises_the_alarm() {
    let (v, daemon, token) = with_phone_link();
    let mut phone = TestPhone::enrol(&daemon, &token);
    let duress = v.set_duress("the duress words");
    // The coercer makes the journalist list and remove the phone, from the decoy vault.
    let listed = v.run_with_pass(&duress, &["phone", "list"], "");
    assert!(stdout(&listed).contains(&phone.id), "{}", stdout(&listed));
    assert!(!stdout(&listed).contains("DURESS"));
    let removed = v.run_with_pass(&duress, &["phone", "remove", &phone.id], "");
    assert!(removed.status.success(), "{}", stderr(&removed));
    let real_removed = v.ok(&["phone", "list"], "");
    let listed = v.run_with_pass(&duress, &["phone", "list"], "");
    assert!(
        !stdout(&listed).contains(&phone.id),
        "the decoy view no longer lists it: {}",
        stdout(&listed)
    );
    // The coercer tries the phone: it answers like a revoked one.
    let (status, body) = phone.checkin(&daemon, PIN);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unknown_device")),
        "{body}"
    );
    // The journalist's own view still has it, marked.
    assert!(
        real_removed.contains(&phone.id) && real_removed.contains("DURESS"),
        "{real_removed}"
    );
    let data = daemon.data.clone();
    assert!(daemon.stop());
    let labels = action_labels(&actions(&data));
    assert_eq!(labels[0], "phone-enrolled");
    assert!(
        labels[1..].iter().all(|l| l == "duress") && labels.len() > 1,
        "{labels:?}"
    );
}

#[test]
fn a_phone_set_up_before_signing_keeps_working_and_is_listed_as_old() {
    use posbon::watch::phone::Phone;
    use posbon::watch::store::Store;
    let (v, daemon, _) = with_phone_link();
    let data = daemon.data.clone();
    let port = daemon.port();
    assert!(daemon.stop());
    // What posbon 0.2 stored for a phone: a secret's hash and PIN verifiers, no key.
    let secret = [9u8; 32];
    {
        let store = Store::open(&data).unwrap();
        let mut subject = store.subjects().unwrap().pop().unwrap();
        let now = posbon::vault::now();
        subject
            .phones
            .push(Phone::new("0a".repeat(16), &secret, PIN, DURESS, now, None));
        store.commit(&subject, &[], now).unwrap();
    }
    let daemon = Daemon::start_on(&data, port);
    let old = |pin: &str| {
        post(
            &daemon,
            "/v1/phone/checkin",
            &json!({
                "device_id": "0a".repeat(16),
                "device_secret": posbon::protocol::b64(&secret),
                "pin": pin,
            }),
        )
    };
    assert_eq!(old(PIN).0, 200, "no false alarm after the upgrade");
    assert_eq!(old("000000").0, 401);
    let listed = v.ok(&["phone", "list"], "");
    assert!(
        listed.contains(&"0a".repeat(16)) && listed.contains("OLD"),
        "{listed}"
    );
    // The way out: remove it (after enrolling the phone again).
    v.ok(&["phone", "remove", &"0a".repeat(16)], "");
    assert_eq!(old(PIN).0, 401);
}

#[test]
fn unenrol_revokes_the_phones_and_under_duress_they_only_look_revoked() {
    let (v, daemon, token) = with_phone_link();
    let mut phone = TestPhone::enrol(&daemon, &token);
    let duress = v.set_duress("the duress words");
    // Forced to leave the watcher: the phone then answers as a revoked one, to either PIN...
    let forced = v.run_with_pass(&duress, &["unenrol", &daemon.url], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    for pin in [PIN, DURESS] {
        let (status, body) = phone.checkin(&daemon, pin);
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unknown_device")),
            "{body}"
        );
    }
    // ...but the watcher kept the journalist and the phone, marked.
    let listed = v.ok(&["phone", "list"], "");
    assert!(
        listed.contains(&phone.id) && listed.contains("DURESS"),
        "{listed}"
    );
    // A real unenrol revokes it for good.
    v.ok(&["unenrol", &daemon.url], "");
    let (status, body) = phone.checkin(&daemon, PIN);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unknown_device")),
        "{body}"
    );
    let data = daemon.data.clone();
    assert!(daemon.stop());
    let store = posbon::watch::store::Store::open(&data).unwrap();
    assert!(store.subjects().unwrap().is_empty());
    assert!(store.phone_owner(&phone.id).unwrap().is_none());
}
