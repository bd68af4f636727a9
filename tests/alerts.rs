//! Alerts end to end: the real watcher, the real CLI, a real SMTP server (aiosmtpd) and an
//! HTTP receiver standing in for Telegram, Signal, Matrix, ntfy and webhooks. Every alert that
//! arrives is checked with `posbon alert verify`, as a lawyer would.

mod common;

use std::path::Path;
use std::time::Duration;

use common::receivers::{Received, Receiver, SmtpSink};
use common::watcher::{Daemon, invite};
use common::*;

const BOT_TOKEN: &str = "123456:SECRET-bot-token-never-logged";

/// A journalist's vault enrolled with a watcher whose channels all lead to `hub` and `smtp`.
struct World {
    v: TestVault,
    daemon: Daemon,
    hub: Receiver,
    smtp: SmtpSink,
}

fn world() -> World {
    let v = TestVault::new();
    let hub = Receiver::start();
    let smtp = SmtpSink::start(&v.path("mail"));
    let token = v.secret_file("bot-token", BOT_TOKEN);
    let matrix_token = v.secret_file("matrix-token", "syt_matrix_secret");
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[telegram]
url = "{hub}/telegram"
token_file = "{token}"

[signal]
gateway = "{hub}/signal"
number = "+992900000001"

[matrix]
url = "{hub}/matrix"
token_file = "{matrix_token}"

[delivery]
retry_first = "1s"
retry_max = "2s"
timeout = "2s"
allow_private_addresses = true
"#,
            hub = hub.url(),
            token = token.display(),
            matrix_token = matrix_token.display()
        ),
    )
    .unwrap();
    let daemon = Daemon::start_with(
        &v.path("watcher"),
        0,
        &["--config", config.to_str().unwrap(), "--smtp", &smtp.url()],
    );
    let code = invite(&daemon.data, "Rustam Nazarov");
    v.ok(&["enrol", &daemon.url, &code], "");
    World {
        v,
        daemon,
        hub,
        smtp,
    }
}

/// The alert text a hub request carries, by channel.
fn text_of(r: &Received) -> String {
    try_text(r).unwrap_or_else(|| panic!("no alert text in {r:?}"))
}

fn try_text(r: &Received) -> Option<String> {
    let json = r.json();
    for field in ["text", "message", "body"] {
        if let Some(text) = json[field].as_str() {
            return Some(text.to_string());
        }
    }
    // ntfy: the armored alert is the body itself.
    let raw = String::from_utf8_lossy(&r.body);
    raw.starts_with("POSBON ALERT").then(|| raw.into_owned())
}

/// `posbon alert verify` on `input`; returns (exit code, stdout, stderr).
fn verify(dir: &Path, input: &[u8], watcher: &str) -> (i32, String, String) {
    let file = dir.join(format!("alert-{}", std::process::id()));
    std::fs::write(&file, input).unwrap();
    let out = posbon()
        .args(["alert", "verify", "--watcher", watcher])
        .arg(&file)
        .output()
        .unwrap();
    (code(&out), stdout(&out), stderr(&out))
}

fn field(verified: &str, name: &str) -> String {
    verified
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {verified}"))
        .to_string()
}

fn step_of(r: &Received) -> String {
    if let Some(step) = r.json()["step"].as_str() {
        return step.to_string();
    }
    // Requests that carry no alert (a Matrix join) have no step.
    try_text(r)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("step: "))
        .unwrap_or_default()
        .to_string()
}

fn mail_step(mail: &[u8]) -> String {
    mail_text(mail)
        .lines()
        .find_map(|l| l.strip_prefix("step: "))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn a_missed_check_in_alerts_every_channel_in_each_language_and_the_all_clear_follows() {
    let w = world();
    let hub = w.hub.url();
    // Pavel invited the watcher's account; it joins on its first send.
    w.hub.matrix_invite("!duty:example.org");
    // Contacts are kept in the vault and sent to the watcher with each change.
    w.v.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "tg",
            "--tier",
            "1",
            "--role",
            "lawyer",
            "--tz",
            "Asia/Dushanbe",
            "--email",
            "dilnoza@example.org",
            "--telegram",
            "-100123",
            "--webhook",
            &format!("{hub}/hook/dilnoza"),
        ],
        "",
    );
    w.v.ok(
        &[
            "contact",
            "add",
            "Pavel",
            "--lang",
            "ru",
            "--tier",
            "2",
            "--role",
            "NANSMIT",
            "--signal",
            "+992900000002",
            "--matrix",
            "!duty:example.org",
            "--ntfy",
            &format!("{hub}/pavel-topic"),
        ],
        "",
    );
    w.v.ok(
        &[
            "contact",
            "add",
            "Sam",
            "--lang",
            "en",
            "--tier",
            "1",
            "--tier",
            "2",
            "--role",
            "editor",
            "--email",
            "editor@example.org",
        ],
        "",
    );
    w.v.ok(
        &[
            "contact",
            "add",
            "Me",
            "--lang",
            "en",
            "--tier",
            "0",
            "--webhook",
            &format!("{hub}/hook/me"),
        ],
        "",
    );
    w.v.ok(
        &["contact", "instructions"],
        "Call Dilnoza first. Case 12/2026, Sino district court. Insulin twice a day.",
    );
    let listed = w.v.ok(&["contact", "list"], "");
    assert!(
        listed.contains("Dilnoza\tlawyer\ttg\ttier 1\temail:dilnoza@example.org webhook:")
            && listed.contains(" telegram:-100123"),
        "{listed}"
    );
    assert!(listed.contains("Insulin"), "{listed}");

    w.v.ok(
        &[
            "plan",
            "set",
            "--every",
            "2s",
            "--grace",
            "0s",
            "--step",
            "remind:0s",
            "--step",
            "tier1:0s",
            "--step",
            "tier2:1s",
        ],
        "",
    );
    // Then silence.
    let received = |prefix: &str, step: &str| -> Vec<Received> {
        w.hub
            .received()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix) && step_of(r) == step)
            .collect()
    };
    let mails = |step: &str| -> Vec<Vec<u8>> {
        SmtpSink::messages(&w.smtp.dir)
            .into_iter()
            .filter(|m| mail_step(m) == step)
            .collect()
    };
    wait_until(
        "tier 1 and tier 2 on every channel",
        Duration::from_secs(30),
        || {
            received("/telegram", "tier1").len() == 1
                && received("/hook/dilnoza", "tier1").len() == 1
                && received("/signal", "tier2").len() == 1
                && received("/matrix", "tier2").len() == 1
                && received("/pavel-topic", "tier2").len() == 1
                && mails("tier1").len() == 2
                && mails("tier2").len() == 1
                && received("/hook/me", "remind").len() == 1
        },
    );

    // Every alert, on every channel, is genuine for the watcher's fingerprint.
    let fp = &w.daemon.fingerprint;
    let dir = w.v.temp.path();
    let mut ids = std::collections::BTreeMap::<String, Vec<String>>::new();
    for mail in mails("tier1").iter().chain(mails("tier2").iter()) {
        let (status, out, err) = verify(dir, mail, fp);
        assert_eq!(status, 0, "an e-mail as received: {err}");
        ids.entry(field(&out, "step"))
            .or_default()
            .push(field(&out, "id"));
    }
    // Every request but the Matrix account's join carries an alert.
    for r in w
        .hub
        .received()
        .into_iter()
        .filter(|r| !r.path.contains("/join/"))
    {
        let input = if r.path.starts_with("/hook") {
            r.body.clone()
        } else {
            text_of(&r).into_bytes()
        };
        let (status, out, err) = verify(dir, &input, fp);
        assert_eq!(status, 0, "{}: {err}", r.path);
        assert!(out.starts_with("GENUINE"), "{out}");
        ids.entry(field(&out, "step"))
            .or_default()
            .push(field(&out, "id"));
    }
    // One id per missed deadline and step, whatever the channel or contact.
    for (step, list) in &ids {
        assert!(list.windows(2).all(|p| p[0] == p[1]), "{step}: {list:?}");
    }

    // In the reader's language and time zone, with the journalist's instructions.
    let telegram = &received("/telegram", "tier1")[0];
    assert!(
        telegram.path.contains(BOT_TOKEN),
        "the bot API is called with the token"
    );
    let tajik = text_of(telegram);
    assert!(
        tajik.contains("lang: tg") && tajik.contains("Rustam Nazarov"),
        "{tajik}"
    );
    assert!(tajik.chars().any(|c| "ғӣқӯҳҷ".contains(c)), "{tajik}");
    assert!(
        tajik.contains("(Asia/Dushanbe)") && tajik.contains("Insulin"),
        "{tajik}"
    );
    assert!(
        tajik.contains("/a/"),
        "a tier alert carries an acknowledgement link"
    );
    let russian = text_of(&received("/signal", "tier2")[0]);
    assert!(
        russian.contains("lang: ru") && russian.contains("Sino"),
        "{russian}"
    );
    assert!(
        russian.chars().filter(|c| ('а'..='я').contains(c)).count() > 100,
        "{russian}"
    );
    let signal = received("/signal", "tier2")[0].json();
    assert_eq!(signal["recipients"][0], "+992900000002");
    assert_eq!(signal["number"], "+992900000001");
    let matrix = &received("/matrix", "tier2")[0];
    assert_eq!(matrix.method, "PUT");
    assert!(
        matrix.path.contains("/_matrix/client/v3/rooms/")
            && matrix.path.contains("/send/m.room.message/")
    );
    assert_eq!(matrix.headers["authorization"], "Bearer syt_matrix_secret");
    let english = mails("tier1")
        .iter()
        .map(|m| mail_text(m))
        .find(|t| t.contains("lang: en"))
        .expect("Sam's e-mail");
    assert!(
        english.contains("Rustam Nazarov has not checked in"),
        "{english}"
    );
    assert!(english.contains("step \"tier 2\" follows"), "{english}");
    let reminder = text_of(&received("/hook/me", "remind")[0]);
    assert!(reminder.contains("Check in now"), "{reminder}");

    // Webhooks carry an HMAC under the watcher's webhook key.
    let key = std::fs::read_to_string(w.daemon.data.join("webhook.key")).unwrap();
    let hook = &received("/hook/dilnoza", "tier1")[0];
    assert!(posbon::watch::channels::webhook_hmac_matches(
        key.trim().as_bytes(),
        &hook.body,
        &hook.headers["x-posbon-hmac"]
    ));
    let json = hook.json();
    for name in ["id", "subject", "step", "lang", "text", "signature"] {
        assert!(json[name].is_string(), "{name} in {json}");
    }
    assert!(!posbon::watch::channels::webhook_hmac_matches(
        b"another key",
        &hook.body,
        &hook.headers["x-posbon-hmac"]
    ));

    // The journalist is back: everyone alerted hears the all-clear, in their language.
    w.v.ok(&["checkin"], "");
    wait_until(
        "the all-clear on every channel",
        Duration::from_secs(20),
        || {
            received("/telegram", "all-clear").len() == 1
                && received("/signal", "all-clear").len() == 1
                && received("/hook/dilnoza", "all-clear").len() == 1
                && mails("all-clear").len() == 2
        },
    );
    assert!(
        received("/hook/me", "all-clear").is_empty(),
        "tier 0 was never alerted"
    );
    // Each all-clear names the alerts that contact received, and no other.
    let clear = text_of(&received("/hook/dilnoza", "all-clear")[0]);
    assert!(clear.contains(ids["tier1"][0].as_str()), "{clear}");
    assert!(!clear.contains(ids["tier2"][0].as_str()), "{clear}");
    let sams = mails("all-clear")
        .iter()
        .map(|m| mail_text(m))
        .find(|t| t.contains("lang: en"))
        .expect("Sam's all-clear");
    assert!(
        sams.contains(ids["tier1"][0].as_str()) && sams.contains(ids["tier2"][0].as_str()),
        "{sams}"
    );
    w.v.ok(&["pause", "--for", "1h"], "");

    // The outbox, read while the daemon runs (its report is at most half a second old),
    // shows every delivery as delivered.
    let read_outbox = || -> Vec<serde_json::Value> {
        let outbox = posbon()
            .args(["watch", "outbox", "--json", "--data"])
            .arg(&w.daemon.data)
            .output()
            .unwrap();
        assert!(outbox.status.success(), "{}", stderr(&outbox));
        stdout(&outbox)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    wait_until("the report to catch up", Duration::from_secs(10), || {
        read_outbox().len() >= 14
    });
    let lines = read_outbox();
    assert!(
        lines
            .iter()
            .filter(|l| l["state"] != "delivered")
            .all(|l| l["state"] == "pending" && l["title"].as_str().unwrap().contains("posbon")),
        "{lines:?}"
    );
    assert!(
        !w.daemon.log().contains(BOT_TOKEN),
        "the bot token never reaches the log"
    );
    assert!(
        !w.daemon.log().contains("Insulin"),
        "nor do the instructions"
    );
}

#[test]
fn an_acknowledgement_is_recorded_once_and_told_to_the_others_of_the_tier() {
    let w = world();
    let hub = w.hub.url();
    for name in ["Dilnoza", "Farhod"] {
        w.v.ok(
            &[
                "contact",
                "add",
                name,
                "--lang",
                "ru",
                "--tier",
                "1",
                "--role",
                "lawyer",
                "--webhook",
                &format!("{hub}/hook/{name}"),
            ],
            "",
        );
    }
    w.v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    let at = |name: &str, step: &str| -> Vec<Received> {
        w.hub
            .received()
            .into_iter()
            .filter(|r| r.path == format!("/hook/{name}") && step_of(r) == step)
            .collect()
    };
    wait_until("tier 1 at both", Duration::from_secs(20), || {
        !at("Dilnoza", "tier1").is_empty() && !at("Farhod", "tier1").is_empty()
    });
    w.v.ok(&["pause", "--for", "1h"], "");
    let alert = at("Dilnoza", "tier1")[0].json();
    let link = alert["ack_url"].as_str().unwrap().to_string();
    assert!(link.starts_with(&w.daemon.url), "{link}");
    let http = reqwest::blocking::Client::new();

    // Opening the link (as a link preview would) confirms nothing.
    let page = http.get(&link).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(
        html.contains("<form method=\"post\"") && html.contains("lang=\"ru\""),
        "{html}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert!(at("Farhod", "ack").is_empty());

    let confirmed = http.post(&link).send().unwrap();
    assert_eq!(confirmed.status(), 200);
    wait_until("the others are told", Duration::from_secs(20), || {
        at("Farhod", "ack").len() == 1
    });
    let notice = text_of(&at("Farhod", "ack")[0]);
    assert!(
        notice.contains("Dilnoza") && notice.contains(alert["id"].as_str().unwrap()),
        "{notice}"
    );
    let (status, _, err) = verify(
        w.v.temp.path(),
        &at("Farhod", "ack")[0].body,
        &w.daemon.fingerprint,
    );
    assert_eq!(status, 0, "{err}");
    assert!(
        at("Dilnoza", "ack").is_empty(),
        "the one who took it on is not told"
    );

    // A second confirmation sends nothing more; an unknown link is refused.
    assert_eq!(http.post(&link).send().unwrap().status(), 200);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(at("Farhod", "ack").len(), 1);
    let forged = format!("{}/a/{}", w.daemon.url, "0".repeat(32));
    assert_eq!(http.post(&forged).send().unwrap().status(), 404);
}

#[test]
fn contact_test_reports_each_channel_and_sends_a_marked_genuine_test() {
    let v = TestVault::new();
    let hub = Receiver::start();
    let daemon = Daemon::start_reaching_loopback(&v);
    let invite_code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &invite_code], "");
    // Saved in the vault and sent to the watcher.
    v.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "tg",
            "--tier",
            "2",
            "--webhook",
            &format!("{}/hook", hub.url()),
            "--telegram",
            "@dilnoza_law",
        ],
        "",
    );
    let out = v.run(&["contact", "test"], "");
    assert_eq!(code(&out), 1, "a channel failed: {}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains(&format!("Dilnoza webhook:{}/hook: accepted", hub.url())),
        "{report}"
    );
    assert!(
        report
            .contains("telegram:@dilnoza_law: FAILED: this watcher has no Telegram bot configured"),
        "{report}"
    );
    let test = &hub.received()[0];
    let (status, verified, err) = verify(v.temp.path(), &test.body, &daemon.fingerprint);
    assert_eq!(status, 0, "{err}");
    assert_eq!(field(&verified, "step"), "test");
    assert!(
        verified.contains("only this text is authenticated")
            && verified.contains("POSBON ALERT v1"),
        "{verified}"
    );
    assert!(text_of(test).contains("lang: tg"));
    // Tests go out at once to addresses the client chose, so they are rationed.
    let again = v.run(&["contact", "test"], "");
    assert_eq!(code(&again), 9, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("too_many_attempts"),
        "{}",
        stderr(&again)
    );
    assert_eq!(hub.received().len(), 1);

    // Mistakes are refused before anything is saved.
    for bad in [
        vec!["--email", "not-an-address"],
        vec!["--webhook", "file:///etc/passwd"],
        vec!["--signal", "12345"],
        vec![],
    ] {
        let mut args = vec!["contact", "add", "X", "--lang", "ru", "--tier", "1"];
        args.extend(bad.iter());
        let out = v.run(&args, "");
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
    let out = v.run(&["contact", "test", "Nobody"], "");
    assert_eq!(code(&out), 2);
    v.ok(&["contact", "remove", "Dilnoza"], "");
    assert!(!v.ok(&["contact", "list"], "").contains("Dilnoza"));
}

#[test]
fn alert_verify_refuses_an_altered_alert_and_the_wrong_watcher() {
    let w = world();
    w.v.ok(
        &[
            "contact",
            "add",
            "Sam",
            "--lang",
            "en",
            "--tier",
            "1",
            "--email",
            "sam@example.org",
            "--webhook",
            &format!("{}/hook", w.hub.url()),
        ],
        "",
    );
    w.v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("the alert", Duration::from_secs(20), || {
        !SmtpSink::messages(&w.smtp.dir).is_empty() && !w.hub.received().is_empty()
    });
    w.v.ok(&["pause", "--for", "1h"], "");
    let dir = w.v.temp.path();
    let fp = &w.daemon.fingerprint;
    let mail = SmtpSink::messages(&w.smtp.dir).remove(0);
    assert_eq!(verify(dir, &mail, fp).0, 0);
    // The fingerprint without its dashes is the same fingerprint; a mistyped one is a usage
    // error (exit 2), not a forgery (exit 10).
    assert_eq!(verify(dir, &mail, &fp.replace('-', "")).0, 0);
    let (status, _, err) = verify(dir, &mail, "nonsense");
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("neither a watcher's fingerprint"), "{err}");

    // The same alert, re-sent as a plain e-mail with one word changed.
    let text = mail_text(&mail);
    let altered = format!(
        "From: someone@example.org\r\nSubject: fwd\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        text.replacen("has not checked in", "has now checked in", 1)
    );
    assert!(altered.contains("has now checked in"));
    let unaltered = format!(
        "From: someone@example.org\r\nSubject: fwd\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}"
    );
    assert_eq!(
        verify(dir, unaltered.as_bytes(), fp).0,
        0,
        "a forwarded copy still verifies"
    );
    let (status, _, err) = verify(dir, altered.as_bytes(), fp);
    assert_eq!(status, 10, "{err}");
    assert!(
        err.contains("NOT GENUINE") && err.contains("altered or forged"),
        "{err}"
    );

    let other = "0000-1111-2222-3333-4444-5555-6666-7777";
    let (status, _, err) = verify(dir, &mail, other);
    assert_eq!(status, 10);
    assert!(err.contains(&format!("not by {other}")), "{err}");
    // Half a fingerprint (the 64-bit form of early versions) matches nothing, even the
    // right half: it is a usage error, never a weaker check.
    let (status, _, err) = verify(dir, &mail, &fp[..19]);
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("64-bit fingerprint"), "{err}");

    let mut json = w.hub.received()[0].json();
    json["subject"] = "Someone else".into();
    let (status, _, err) = verify(dir, json.to_string().as_bytes(), fp);
    assert_eq!(status, 10, "{err}");
    let (status, _, err) = verify(dir, b"Dear colleague, all is well.", fp);
    assert_eq!(status, 10);
    assert!(err.contains("no posbon alert"), "{err}");
}

#[test]
fn a_duress_check_in_alerts_the_contacts_but_never_the_journalists_own_channel() {
    let w = world();
    let hub = w.hub.url();
    w.v.ok(
        &[
            "contact",
            "add",
            "Me",
            "--lang",
            "tg",
            "--tier",
            "0",
            "--webhook",
            &format!("{hub}/hook/me"),
        ],
        "",
    );
    w.v.ok(
        &[
            "contact",
            "add",
            "Ed",
            "--lang",
            "en",
            "--tier",
            "1",
            "--webhook",
            &format!("{hub}/hook/ed"),
        ],
        "",
    );
    w.v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    let duress = w.v.set_duress("a quiet river at dawn");
    let out = w.v.run_with_pass(&duress, &["checkin"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let at = |path: &str| -> Vec<Received> {
        w.hub
            .received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    };
    wait_until("the duress alert", Duration::from_secs(20), || {
        at("/hook/ed").iter().any(|r| step_of(r) == "duress")
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        at("/hook/me").is_empty(),
        "nothing goes to the journalist's own phone"
    );
    let alert = at("/hook/ed")
        .into_iter()
        .find(|r| step_of(r) == "duress")
        .unwrap();
    assert!(
        text_of(&alert).contains("duress code"),
        "{}",
        text_of(&alert)
    );
    let (status, _, err) = verify(w.v.temp.path(), &alert.body, &w.daemon.fingerprint);
    assert_eq!(status, 0, "{err}");

    // Whoever holds the decoy learns nothing of the real contacts, and reaches none of them.
    let before = w.hub.received().len();
    let listed = w.v.run_with_pass(&duress, &["contact", "list"], "");
    assert!(!stdout(&listed).contains("Ed"), "{}", stdout(&listed));
    let tested = w.v.run_with_pass(&duress, &["contact", "test"], "");
    assert_ne!(code(&tested), 0);
    assert!(!stdout(&tested).contains("Ed") && !stderr(&tested).contains("hook/ed"));
    // Those unlocks belong to the episode already alerted: nothing more goes out.
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(
        w.hub.received().len(),
        before,
        "no new alert, no test message"
    );
    assert!(
        w.hub
            .received()
            .iter()
            .all(|r| step_of(r) == "duress" && r.path == "/hook/ed"),
        "only duress alerts, only to the real contact"
    );
}

#[test]
fn journalists_urls_cannot_reach_the_watchers_own_network_by_default() {
    let v = TestVault::new();
    let hub = Receiver::start();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code], "");
    let port = hub.port;
    v.ok(
        &[
            "contact",
            "add",
            "Probe",
            "--lang",
            "en",
            "--tier",
            "1",
            "--webhook",
            &format!("http://127.0.0.1:{port}/hook"),
            "--webhook",
            &format!("http://localhost:{port}/hook"),
            "--ntfy",
            &format!("http://[::1]:{port}/topic"),
        ],
        "",
    );
    let out = v.run(&["contact", "test"], "");
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    assert_eq!(
        report
            .matches("FAILED: refused: the address is loopback or private")
            .count(),
        3,
        "{report}"
    );
    assert!(
        hub.received().is_empty(),
        "nothing reached the local receiver"
    );
}

#[test]
fn an_alert_too_long_for_one_telegram_message_goes_as_a_file_that_verifies() {
    let w = world();
    w.v.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "tg",
            "--tier",
            "1",
            "--telegram",
            "-100123",
        ],
        "",
    );
    // 2,000 characters, each two UTF-16 units: with the rest, over Telegram's 4,096.
    w.v.ok(&["contact", "instructions"], &"🕊".repeat(2_000));
    w.v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("the alert, as a file", Duration::from_secs(30), || {
        w.hub
            .received()
            .iter()
            .any(|r| r.path.ends_with("/sendDocument"))
    });
    w.v.ok(&["pause", "--for", "1h"], "");
    let received = w.hub.received();
    assert!(
        !received
            .iter()
            .any(|r| r.path.ends_with("/sendMessage") && step_of(r) == "tier1"),
        "not cut into messages (the all-clear after the pause is short, and a message)"
    );
    let sent = received
        .iter()
        .find(|r| r.path.ends_with("/sendDocument"))
        .unwrap();
    assert!(sent.path.contains(BOT_TOKEN));
    let body = String::from_utf8(sent.body.clone()).unwrap();
    assert!(body.contains("name=\"caption\""), "the title as caption");
    let file_start = body.find("filename=\"posbon-alert-").expect("a file part");
    let content_start = file_start + body[file_start..].find("\r\n\r\n").unwrap() + 4;
    let content_end = content_start + body[content_start..].find("\r\n--").unwrap();
    let file = &body[content_start..content_end];
    assert!(file.encode_utf16().count() > 4_096, "{}", file.len());
    let (status, out, err) = verify(w.v.temp.path(), file.as_bytes(), &w.daemon.fingerprint);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("step: tier1"), "{out}");
}

#[test]
fn e_mails_carry_mime_version_and_a_message_id_only_this_watcher_can_make() {
    let w = world();
    w.v.ok(
        &[
            "contact",
            "add",
            "Sam",
            "--lang",
            "tg",
            "--tier",
            "1",
            "--email",
            "sam@example.org",
        ],
        "",
    );
    w.v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("the e-mail", Duration::from_secs(20), || {
        !SmtpSink::messages(&w.smtp.dir).is_empty()
    });
    w.v.ok(&["pause", "--for", "1h"], "");
    let mail = SmtpSink::messages(&w.smtp.dir).remove(0);
    let parsed = mail_parser::MessageParser::default().parse(&mail).unwrap();
    let raw = String::from_utf8_lossy(&mail);
    assert!(
        raw.lines()
            .take_while(|l| !l.is_empty() && *l != "\r")
            .any(|l| l.eq_ignore_ascii_case("MIME-Version: 1.0\r")
                || l.eq_ignore_ascii_case("MIME-Version: 1.0")),
        "RFC 2045 asks for MIME-Version: {raw}"
    );
    let message_id = parsed.message_id().expect("a Message-ID").to_string();
    let alert_id = parsed
        .header_raw("X-Posbon-Alert-Id")
        .expect("the alert id header")
        .trim()
        .to_string();
    // The id must not be computable from what every watcher knows (the alert id), or a
    // dishonest watcher could take it first and have this one's alert dropped.
    assert!(!message_id.contains(&alert_id), "{message_id}");
    assert!(!message_id.contains(&alert_id[..8]), "{message_id}");
    let key = std::fs::read(w.daemon.data.join("message-id.key")).unwrap();
    let made = posbon::watch::channels::message_id(
        &key,
        &format!("{alert_id}.0"),
        "posbon watcher <posbon@localhost>",
    );
    assert_eq!(format!("<{message_id}>"), made);
    let (status, _, err) = verify(w.v.temp.path(), &mail, &w.daemon.fingerprint);
    assert_eq!(status, 0, "{err}");
}

#[test]
fn a_relay_password_over_plain_smtp_is_refused_at_start() {
    let v = TestVault::new();
    let password = v.secret_file("smtp-password", "relay-secret-never-shown");
    let config = v.path("watcher.toml");
    for url in [
        "smtp://mail.example.org:587",
        "smtp://mail.example.org:587?tls=opportunistic",
    ] {
        std::fs::write(
            &config,
            format!(
                "[smtp]\nurl = \"{url}\"\nusername = \"watcher\"\npassword_file = \"{}\"\n",
                password.display()
            ),
        )
        .unwrap();
        let out = posbon()
            .args(["watch", "serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(v.path("watcher"))
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("unencrypted") && err.contains("tls=required"),
            "{err}"
        );
        assert!(!err.contains("relay-secret"), "{err}");
    }
}

#[test]
fn a_long_tajik_alert_reaches_ntfy_under_a_sub_path_whole_as_a_named_attachment() {
    let w = world();
    let hub = w.hub.url();
    // A server under a sub-path; the topic is the last segment.
    w.v.ok(
        &[
            "contact",
            "add",
            "Pavel",
            "--lang",
            "tg",
            "--tier",
            "1",
            "--ntfy",
            &format!("{hub}/ntfy/posbon-duty_1"),
        ],
        "",
    );
    // ntfy's own topic rule, told to the journalist when the contact is added.
    let out = w.v.run(
        &[
            "contact",
            "add",
            "Bad",
            "--lang",
            "en",
            "--tier",
            "1",
            "--ntfy",
            &format!("{hub}/posbon.duty"),
        ],
        "",
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("1 to 64 letters"), "{}", stderr(&out));
    // 2,000 four-byte characters: as JSON, past ntfy's 8,192-byte limit for a JSON body.
    w.v.ok(&["contact", "instructions"], &"🕊".repeat(2_000));
    w.v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("the alert at ntfy", Duration::from_secs(30), || {
        w.hub.received().iter().any(|r| step_of(r) == "tier1")
    });
    w.v.ok(&["pause", "--for", "1h"], "");
    let sent = w
        .hub
        .received()
        .into_iter()
        .find(|r| step_of(r) == "tier1")
        .unwrap();
    assert_eq!(sent.path, "/ntfy/posbon-duty_1");
    assert!(
        sent.body.len() > common::receivers::NTFY_JSON_LIMIT,
        "{}",
        sent.body.len()
    );
    assert!(
        sent.headers["x-filename"].starts_with("posbon-alert-")
            && sent.headers["x-filename"].ends_with(".txt"),
        "{:?}",
        sent.headers
    );
    assert_eq!(sent.headers["priority"], "5");
    // The Tajik title as an RFC 2047 word, which ntfy decodes.
    assert!(
        sent.headers["title"].starts_with("=?UTF-8?B?"),
        "{:?}",
        sent.headers
    );
    let (status, out, err) = verify(w.v.temp.path(), &sent.body, &w.daemon.fingerprint);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("step: tier1"), "{out}");
}

#[test]
fn the_watchers_matrix_account_joins_a_room_it_is_invited_to_and_v12_room_ids_work() {
    let w = world();
    // Room version 12: no server part.
    let room = "!Wnb1yfD1-O2hBZ4CUg1RaD8dzUlSo0CnBI3ocBPvbLg";
    w.hub.matrix_invite(room);
    w.v.ok(
        &[
            "contact", "add", "Pavel", "--lang", "ru", "--tier", "1", "--matrix", room,
        ],
        "",
    );
    // Never invited: the homeserver refuses, and the operator is told what to ask for.
    w.v.ok(
        &[
            "contact",
            "add",
            "Olim",
            "--lang",
            "ru",
            "--tier",
            "1",
            "--matrix",
            "!elsewhere:example.org",
        ],
        "",
    );
    w.v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("the alert in Pavel's room", Duration::from_secs(30), || {
        w.hub
            .received()
            .iter()
            .any(|r| r.method == "PUT" && step_of(r) == "tier1")
    });
    let received = w.hub.received();
    let join = received
        .iter()
        .position(|r| r.method == "POST" && r.path.contains("/_matrix/client/v3/join/"))
        .expect("a join");
    let sent = received
        .iter()
        .position(|r| r.method == "PUT" && step_of(r) == "tier1")
        .unwrap();
    assert!(join < sent, "joined, then sent");
    assert!(
        received[sent]
            .path
            .contains(&format!("/rooms/{room}/send/m.room.message/")),
        "{}",
        received[sent].path
    );
    let (status, _, err) = verify(
        w.v.temp.path(),
        text_of(&received[sent]).as_bytes(),
        &w.daemon.fingerprint,
    );
    assert_eq!(status, 0, "{err}");
    let outbox = || -> Vec<serde_json::Value> {
        let out = posbon()
            .args(["watch", "outbox", "--json", "--data"])
            .arg(&w.daemon.data)
            .output()
            .unwrap();
        stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    wait_until("Olim's refusal shown", Duration::from_secs(20), || {
        outbox()
            .iter()
            .any(|l| l["channel"] == "matrix:!elsewhere:example.org" && l["state"] == "refused")
    });
    let olim = outbox()
        .into_iter()
        .find(|l| l["channel"] == "matrix:!elsewhere:example.org")
        .unwrap();
    let error = olim["last_error"].as_str().unwrap();
    assert!(
        error.contains("M_FORBIDDEN") && error.contains("must invite"),
        "{error}"
    );
    w.v.ok(&["pause", "--for", "1h"], "");
}

#[test]
fn telegram_chat_ids_are_checked_when_added_and_a_group_that_became_a_supergroup_is_followed() {
    let w = world();
    w.hub
        .accounts
        .lock()
        .unwrap()
        .telegram_migrated
        .insert("-4001".into(), -1_009_876_543_210);
    // Each form is refused with its reason, before anything is saved.
    for (bad, why) in [
        ("@abc", "5 to 32 letters"),
        ("0", "numeric id"),
        ("+992900000002", "numeric id"),
    ] {
        let out = w.v.run(
            &[
                "contact",
                "add",
                "X",
                "--lang",
                "en",
                "--tier",
                "1",
                "--telegram",
                bad,
            ],
            "",
        );
        assert_eq!(code(&out), 2, "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{bad}: {}", stderr(&out));
    }
    // A person's id: the journalist is told the person must start the bot.
    let out = w.v.run(
        &[
            "contact",
            "add",
            "P",
            "--lang",
            "en",
            "--tier",
            "2",
            "--telegram",
            "123456789",
        ],
        "",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("press Start"), "{}", stderr(&out));
    w.v.ok(
        &[
            "contact",
            "add",
            "Group",
            "--lang",
            "tg",
            "--tier",
            "1",
            "--telegram",
            "-4001",
        ],
        "",
    );
    w.v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until(
        "the alert in the supergroup",
        Duration::from_secs(30),
        || {
            w.hub
                .received()
                .iter()
                .any(|r| r.path.ends_with("/sendMessage") && step_of(r) == "tier1")
        },
    );
    w.v.ok(&["pause", "--for", "1h"], "");
    let sent = w
        .hub
        .received()
        .into_iter()
        .find(|r| r.path.ends_with("/sendMessage") && step_of(r) == "tier1")
        .unwrap();
    let json = sent.json();
    assert_eq!(json["chat_id"], "-1009876543210");
    assert_eq!(json["link_preview_options"]["is_disabled"], true);
    assert!(
        json.get("disable_web_page_preview").is_none(),
        "deprecated: {json}"
    );
    let log = w.daemon.log();
    assert!(
        log.contains("became a supergroup"),
        "the operator is told: {log}"
    );
    assert!(
        !log.contains("-4001") && !log.contains("9876543210") && !log.contains(BOT_TOKEN),
        "no chat id, no token: {log}"
    ); // The move is kept: the next alert (a contact test goes the same way) is sent straight
    // to the supergroup, with no refused try at the old id first, and stays so after a
    // restart, since it is on disk.
    let old_id_sends = || w.hub.accounts.lock().unwrap().telegram_old_id_sends;
    assert_eq!(old_id_sends(), 1);
    let moves = std::fs::read_to_string(w.daemon.data.join("telegram-moves.json")).unwrap();
    assert!(
        moves.contains("\"-4001\"") && moves.contains("\"-1009876543210\""),
        "{moves}"
    );
    let out = w.v.run(&["contact", "test", "Group"], "");
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(old_id_sends(), 1, "no second try at the old id");
    let tests: Vec<_> = w
        .hub
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/sendMessage") && step_of(r) == "test")
        .collect();
    assert_eq!(tests.len(), 1);
    assert_eq!(tests[0].json()["chat_id"], "-1009876543210");
    // The operator is shown that the journalist's list still names the old id.
    let out = posbon()
        .args(["watch", "outbox", "--data"])
        .arg(&w.daemon.data)
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("Telegram chat -4001 became supergroup -1009876543210"),
        "{}",
        stderr(&out)
    );
}
