//! Alert delivery under faults: channels that refuse, fail, hang or are down at first, and a
//! watcher killed with SIGKILL in the middle of sending. Faults may delay an alert; none may
//! lose one, and after dropping repeats by id each arrives exactly once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::receivers::{Mode, Receiver, SmtpSink, free_port};
use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;

const BOT_TOKEN: &str = "987654:ANOTHER-secret-token";

/// `posbon watch outbox --json`, one object per delivery.
fn outbox(data: &std::path::Path) -> Vec<serde_json::Value> {
    let out = posbon()
        .args(["watch", "outbox", "--json", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn refusals_errors_timeouts_and_dead_servers_delay_alerts_but_lose_none() {
    let v = TestVault::new();
    let hub = Receiver::start();
    hub.set_mode(Mode::Status(500));
    let telegram = Receiver::start();
    telegram.set_mode(Mode::Hang);
    // A person: the bot may write to them once they have started it.
    telegram.telegram_start("42");
    let mut ntfy = Receiver::down();
    let smtp_port = free_port();
    let token = v.secret_file("bot-token", BOT_TOKEN);
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        format!(
            "[telegram]\nurl = \"{}\"\ntoken_file = \"{}\"\n\n[signal]\ngateway = \"{}\"\nnumber = \"+992900000001\"\n\n[ntfy]\nurl = \"https://ntfy.example.org\"\ntoken_file = \"{}\"\n\n[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"1s\"\nallow_private_addresses = true\n",
            telegram.url(),
            token.display(),
            hub.url(),
            token.display()
        ),
    )
    .unwrap();
    let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
    let daemon = Daemon::start_with(
        &v.path("watcher"),
        0,
        &["--config", config.to_str().unwrap(), "--smtp", &smtp_url],
    );
    let code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "ru",
            "--tier",
            "1",
            "--email",
            "dilnoza@example.org",
            "--telegram",
            "42",
            "--webhook",
            &format!("{}/hook", hub.url()),
            "--signal",
            "+992900000002",
            "--ntfy",
            &format!("{}/topic", ntfy.url()),
        ],
        "",
    );
    v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );

    // Every channel fails, each for its own reason, and keeps being retried.
    wait_until(
        "five failing deliveries, each tried twice",
        Duration::from_secs(40),
        || {
            let lines = outbox(&daemon.data);
            lines.len() == 5
                && lines
                    .iter()
                    .all(|l| l["state"] == "failing" && l["attempts"].as_u64() >= Some(2))
        },
    );
    let reasons: BTreeMap<String, String> = outbox(&daemon.data)
        .iter()
        .map(|l| {
            (
                l["channel"]
                    .as_str()
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .to_string(),
                l["last_error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reasons["webhook"], "refused with HTTP 500");
    assert_eq!(reasons["signal"], "refused with HTTP 500");
    assert_eq!(reasons["telegram"], "timed out");
    assert_eq!(reasons["ntfy"], "cannot connect");
    assert!(reasons["email"].starts_with("SMTP:"), "{reasons:?}");
    let table = posbon()
        .args(["watch", "outbox", "--data"])
        .arg(&daemon.data)
        .output()
        .unwrap();
    assert!(
        stdout(&table).contains("last error: refused with HTTP 500"),
        "{}",
        stdout(&table)
    );

    // The channels come back (the SMTP server refuses once more on its first message).
    hub.set_mode(Mode::Accept);
    telegram.set_mode(Mode::Accept);
    ntfy.come_up();
    let mail_dir = v.path("mail");
    let _smtp = SmtpSink::start_on(smtp_port, &mail_dir, 1);
    wait_until("every channel delivered", Duration::from_secs(40), || {
        outbox(&daemon.data)
            .iter()
            .all(|l| l["state"] == "delivered")
    });
    let ids: BTreeSet<String> = hub
        .received()
        .iter()
        .chain(telegram.received().iter())
        .chain(ntfy.received().iter())
        .map(|r| {
            let json = r.json();
            let text = ["text", "message"]
                .iter()
                .find_map(|f| json[f].as_str().map(str::to_string))
                // ntfy: the armored alert is the body itself.
                .unwrap_or_else(|| String::from_utf8_lossy(&r.body).into_owned());
            text.lines()
                .find_map(|l| l.strip_prefix("id: ").map(str::to_string))
                .unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one alert: {ids:?}");
    assert_eq!(hub.received().len(), 2, "webhook and Signal, once each");
    assert_eq!(telegram.received().len(), 1);
    assert_eq!(ntfy.received().len(), 1);
    assert!(
        !ntfy.received()[0].headers.contains_key("authorization"),
        "the operator's ntfy token goes to the operator's ntfy server only"
    );
    assert_eq!(SmtpSink::messages(&mail_dir).len(), 1);
    let log = daemon.log();
    assert!(log.contains("delivery failed; will retry"), "{log}");
    assert!(
        !log.contains(BOT_TOKEN),
        "the bot token is never logged, even in errors"
    );
}

/// A small deterministic generator, so a failing run can be repeated from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkill_in_the_middle_of_sending_to_a_flapping_receiver_loses_no_alert() {
    const CONTACTS: usize = 10;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let v = TestVault::new();
    // Slow to answer, so that kills land while deliveries are in flight.
    let hub = Receiver::start();
    hub.set_mode(Mode::Delay(300));
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"3s\"\nallow_private_addresses = true\n",
    )
    .unwrap();
    let data = v.path("watcher");
    let port = free_port();
    let args = ["--config", config.to_str().unwrap()];
    let mut daemon = Daemon::start_with(&data, port, &args);
    let code = invite(&data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code], "");
    for i in 0..CONTACTS {
        v.ok(
            &[
                "contact",
                "add",
                &format!("Contact {i}"),
                "--lang",
                ["tg", "ru", "en"][i % 3],
                "--tier",
                "1",
                "--tier",
                "2",
                "--webhook",
                &format!("{}/hook/{i}", hub.url()),
            ],
            "",
        );
    }
    v.ok(
        &[
            "plan",
            "set",
            "--every",
            "1s",
            "--grace",
            "0s",
            "--step",
            "tier1:0s",
            "--step",
            "tier2:2s",
            "--step",
            "release:4s",
        ],
        "",
    );
    let started = Instant::now();
    let mut kills = 0;
    let mut refusing = 0;
    while started.elapsed() < Duration::from_secs(9) {
        std::thread::sleep(Duration::from_millis(250 + rng.below(600)));
        daemon.kill_9();
        kills += 1;
        // The receiver flaps too: slow, failing, or quick, at random.
        match rng.below(3) {
            0 => hub.set_mode(Mode::Delay(300)),
            1 => {
                hub.set_mode(Mode::Status(503));
                refusing += 1;
            }
            _ => hub.set_mode(Mode::Delay(20)),
        }
        daemon = Daemon::start_with(&data, port, &args);
    }
    hub.set_mode(Mode::Delay(20));
    eprintln!("{kills} kills, the receiver refusing in {refusing} of them");

    // Every step reaches every contact; repeats carry the same delivery key and are dropped.
    let steps = ["tier1", "tier2", "release"];
    let arrived = || -> BTreeMap<String, BTreeSet<String>> {
        let mut by_step = BTreeMap::<String, BTreeSet<String>>::new();
        for r in hub.received() {
            let json = r.json();
            by_step
                .entry(json["step"].as_str().unwrap().to_string())
                .or_default()
                .insert(json["delivery"].as_str().unwrap().to_string());
        }
        by_step
    };
    wait_until(
        "every step at every contact",
        Duration::from_secs(60),
        || {
            let by_step = arrived();
            steps
                .iter()
                .all(|s| by_step.get(*s).map_or(0, BTreeSet::len) == CONTACTS)
        },
    );
    let received = hub.received();
    let distinct: BTreeSet<String> = received
        .iter()
        .map(|r| r.json()["delivery"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(distinct.len(), CONTACTS * steps.len());
    let per_step_ids: BTreeMap<String, BTreeSet<String>> =
        received.iter().fold(BTreeMap::new(), |mut map, r| {
            let json = r.json();
            map.entry(json["step"].as_str().unwrap().to_string())
                .or_insert_with(BTreeSet::new)
                .insert(json["id"].as_str().unwrap().to_string());
            map
        });
    for step in steps {
        assert_eq!(per_step_ids[step].len(), 1, "{step}: one alert id");
    }
    eprintln!(
        "{} requests for {} deliveries ({} repeats after kills, dropped by key)",
        received.len(),
        distinct.len(),
        received.len() - distinct.len()
    );
    wait_until("the outbox settles", Duration::from_secs(30), || {
        outbox(&data).iter().all(|l| l["state"] == "delivered")
    });
    assert!(daemon.stop());
    // Each step fired exactly once across every restart.
    let labels = action_labels(&actions(&data));
    for step in steps {
        assert_eq!(
            labels.iter().filter(|l| l.as_str() == step).count(),
            1,
            "{labels:?}"
        );
    }
}

#[test]
fn the_operator_gives_up_on_a_failing_delivery_while_the_watcher_runs() {
    let v = TestVault::new();
    let hub = Receiver::start();
    hub.set_mode(Mode::Status(503));
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"1s\"\nretry_max = \"1s\"\nallow_private_addresses = true\n",
    )
    .unwrap();
    let daemon = Daemon::start_with(
        &v.path("watcher"),
        0,
        &["--config", config.to_str().unwrap()],
    );
    let code_text = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code_text], "");
    v.ok(
        &[
            "contact",
            "add",
            "Ed",
            "--lang",
            "en",
            "--tier",
            "1",
            "--webhook",
            &format!("{}/hook", hub.url()),
        ],
        "",
    );
    v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("a failing delivery", Duration::from_secs(30), || {
        outbox(&daemon.data).iter().any(|l| l["state"] == "failing")
    });
    let key = outbox(&daemon.data)
        .into_iter()
        .find(|l| l["state"] == "failing")
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let give_up = |key: &str| {
        posbon()
            .args(["watch", "outbox", "--data"])
            .arg(&daemon.data)
            .args(["--give-up", key])
            .output()
            .unwrap()
    };

    // A key that names nothing pending is a mistake, said so, and nothing is asked.
    let wrong = give_up("0123456789abcdef");
    assert_eq!(code(&wrong), 2, "{}", stderr(&wrong));
    assert!(stderr(&wrong).contains("no pending delivery has the key"));
    assert!(!daemon.data.join("give-up/0123456789abcdef").exists());

    // The real key: carried out by the running watcher before the command returns, and shown.
    let done = give_up(&key);
    assert_eq!(code(&done), 0, "{}", stderr(&done));
    assert!(stderr(&done).contains("gave up on"), "{}", stderr(&done));
    let line_of = |key: &str| {
        outbox(&daemon.data)
            .into_iter()
            .find(|l| l["key"] == key)
            .unwrap()
    };
    let given_up = line_of(&key);
    assert_eq!(given_up["state"], "given-up");
    // And it is not tried again (while failing, it was tried every second).
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(line_of(&key)["attempts"], given_up["attempts"]);
    assert!(daemon.stop());
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn rate_limits_are_waited_out_and_refusals_are_shown_in_the_services_own_words() {
    let v = TestVault::new();
    let telegram = Receiver::start();
    let hub = Receiver::start();
    // Joined, but over its rate: 429 M_LIMIT_EXCEEDED with retry_after_ms 30000.
    {
        let mut accounts = hub.accounts.lock().unwrap();
        accounts.matrix_joined.insert("!duty:example.org".into());
        accounts.matrix_limited = 1_000;
    }
    let token = v.secret_file("bot-token", BOT_TOKEN);
    let matrix_token = v.secret_file("matrix-token", "syt_another_matrix_secret");
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        format!(
            "[telegram]\nurl = \"{}\"\ntoken_file = \"{}\"\n\n[matrix]\nurl = \"{}/m\"\ntoken_file = \"{}\"\n\n[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"2s\"\nallow_private_addresses = true\n",
            telegram.url(),
            token.display(),
            hub.url(),
            matrix_token.display()
        ),
    )
    .unwrap();
    let daemon = Daemon::start_with(
        &v.path("watcher"),
        0,
        &["--config", config.to_str().unwrap()],
    );
    let code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code], "");
    // Farhod gave his numeric id but never started the bot.
    v.ok(
        &[
            "contact",
            "add",
            "Farhod",
            "--lang",
            "ru",
            "--tier",
            "1",
            "--telegram",
            "77",
        ],
        "",
    );
    let test = v.run(&["contact", "test", "Farhod"], "");
    assert_eq!(common::code(&test), 1, "{}", stderr(&test));
    assert!(
        stdout(&test).contains(
            "telegram:77: FAILED: refused with HTTP 403: Forbidden: bot can't initiate conversation with a user"
        ),
        "contact test gives Telegram's own reason: {}",
        stdout(&test)
    );
    v.ok(
        &[
            "contact",
            "add",
            "Pavel",
            "--lang",
            "ru",
            "--tier",
            "1",
            "--matrix",
            "!duty:example.org",
        ],
        "",
    );
    v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    let by_kind = |kind: &str| -> Option<serde_json::Value> {
        outbox(&daemon.data)
            .into_iter()
            .find(|l| l["channel"].as_str().unwrap().starts_with(kind))
    };
    wait_until("both tried", Duration::from_secs(30), || {
        by_kind("telegram").is_some_and(|l| l["attempts"].as_u64() >= Some(1))
            && by_kind("matrix").is_some_and(|l| l["attempts"].as_u64() >= Some(1))
    });
    let refused = by_kind("telegram").unwrap();
    assert_eq!(refused["state"], "refused", "{refused}");
    assert_eq!(
        refused["last_error"],
        "refused with HTTP 403: Forbidden: bot can't initiate conversation with a user"
    );
    let limited = by_kind("matrix").unwrap();
    assert_eq!(limited["state"], "failing", "{limited}");
    assert_eq!(
        limited["last_error"],
        "refused with HTTP 429: M_LIMIT_EXCEEDED: Too Many Requests"
    );
    let wait = limited["next_attempt_ms"].as_i64().unwrap() - now_ms();
    assert!(
        wait > 20_000,
        "the homeserver's 30 s are waited out, not 2 s: {wait} ms"
    );
    let table = posbon()
        .args(["watch", "outbox", "--data"])
        .arg(&daemon.data)
        .output()
        .unwrap();
    assert!(
        stdout(&table).starts_with("refused"),
        "refusals come first: {}",
        stdout(&table)
    );
    assert!(stderr(&table).contains("1 refused"), "{}", stderr(&table));
    // Four retry intervals later the homeserver has not been asked again.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(by_kind("matrix").unwrap()["attempts"], 1);
    // Refused is not given up: once Farhod starts the bot, the next try reaches him.
    telegram.telegram_start("77");
    wait_until("Farhod reached", Duration::from_secs(20), || {
        by_kind("telegram").is_some_and(|l| l["state"] == "delivered")
    });
    let log = daemon.log();
    assert!(
        !log.contains(BOT_TOKEN) && !log.contains("syt_another"),
        "{log}"
    );
}

#[test]
fn signal_alerts_go_as_plain_text_wait_for_a_slow_gateway_and_keep_its_error_text() {
    let v = TestVault::new();
    let signal = Receiver::start();
    // The operator set the gateway's default to `styled`, and it takes 3 s to answer (a
    // JVM per request), more than the 2 s every other channel is given.
    signal.accounts.lock().unwrap().signal_styled = true;
    signal.set_mode(Mode::Delay(3_000));
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        format!(
            "[signal]\ngateway = \"{}\"\nnumber = \"+992900000001\"\n\n[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"2s\"\nallow_private_addresses = true\n",
            signal.url()
        ),
    )
    .unwrap();
    let daemon = Daemon::start_with(
        &v.path("watcher"),
        0,
        &["--config", config.to_str().unwrap()],
    );
    let code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(
        &[
            "contact",
            "add",
            "Pavel",
            "--lang",
            "ru",
            "--tier",
            "1",
            "--signal",
            "+992900000002",
        ],
        "",
    );
    // Markup characters a styled gateway would eat.
    v.ok(
        &["contact", "instructions"],
        "*Urgent*: call ~Dilnoza~ first, `12/2026`, ||spare key with Farhod||.",
    );
    v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("the alert at the gateway", Duration::from_secs(30), || {
        !signal.received().is_empty()
    });
    v.ok(&["pause", "--for", "1h"], "");
    // Long enough for a second send, had the first been given up on.
    std::thread::sleep(Duration::from_secs(5));
    let sent: Vec<_> = signal
        .received()
        .into_iter()
        .filter(|r| {
            r.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("step: tier1"))
        })
        .collect();
    assert_eq!(sent.len(), 1, "sent once, not again after 2 s");
    let json = sent[0].json();
    assert_eq!(json["text_mode"], "normal");
    let message = json["message"].as_str().unwrap();
    assert!(
        message.contains("*Urgent*") && message.contains("||spare key"),
        "{message}"
    );
    let file = v.path("signal-alert.txt");
    std::fs::write(&file, message).unwrap();
    let out = posbon()
        .args(["alert", "verify", "--watcher", &daemon.fingerprint])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The gateway's own words reach the journalist's contact test.
    signal.set_mode(Mode::Reply {
        status: 400,
        body: r#"{"error":"Failed to send message: Untrusted Identity for \"+992900000002\"\n"}"#,
        retry_after: None,
    });
    let test = v.run(&["contact", "test"], "");
    assert!(
        stdout(&test)
            .contains("FAILED: refused with HTTP 400: Failed to send message: Untrusted Identity"),
        "{}",
        stdout(&test)
    );
    // A gateway slower than the request limits used to allow (7 s for a test, 10 s for a
    // request, 15 s in the client): `contact test` waits for its answer, and says it will.
    signal.set_mode(Mode::Delay(16_000));
    // The watcher takes one test per subject every 10 s.
    std::thread::sleep(Duration::from_secs(11));
    let started = std::time::Instant::now();
    let test = v.run(&["contact", "test"], "");
    assert!(test.status.success(), "{}{}", stdout(&test), stderr(&test));
    assert!(
        stdout(&test).contains("Pavel signal:+992900000002: accepted"),
        "{}",
        stdout(&test)
    );
    assert!(started.elapsed() >= Duration::from_secs(16));
    assert!(
        stderr(&test).contains("a Signal gateway may take a minute"),
        "{}",
        stderr(&test)
    );
}

#[test]
fn a_stop_waits_for_the_sends_in_flight_so_a_restart_does_not_send_them_again() {
    let v = TestVault::new();
    let signal = Receiver::start();
    // Longer than the 5 s a stop used to wait; within what a Signal send may take.
    signal.set_mode(Mode::Delay(8_000));
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        format!(
            "[signal]\ngateway = \"{}\"\nnumber = \"+992900000001\"\n\n[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"2s\"\nallow_private_addresses = true\n",
            signal.url()
        ),
    )
    .unwrap();
    let data = v.path("watcher");
    let args = ["--config", config.to_str().unwrap()];
    let daemon = Daemon::start_with(&data, 0, &args);
    let code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(
        &[
            "contact",
            "add",
            "Pavel",
            "--lang",
            "ru",
            "--tier",
            "1",
            "--signal",
            "+992900000002",
        ],
        "",
    );
    v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("the alert in flight", Duration::from_secs(20), || {
        outbox(&data)
            .iter()
            .any(|l| l["channel"] == "signal:+992900000002")
    });
    std::thread::sleep(Duration::from_millis(1_500));
    let asked = Instant::now();
    assert!(daemon.stop(), "a clean stop");
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(30), "{took:?}");
    let lines = outbox(&data);
    let pavel = lines
        .iter()
        .find(|l| l["channel"] == "signal:+992900000002")
        .unwrap();
    assert_eq!(
        pavel["state"], "delivered",
        "recorded before the exit: {pavel}"
    );
    // After a restart nothing goes out again.
    let again = Daemon::start_with(&data, 0, &args);
    std::thread::sleep(Duration::from_secs(4));
    drop(again);
    let tier1 = signal
        .received()
        .iter()
        .filter(|r| {
            r.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("step: tier1"))
        })
        .count();
    assert_eq!(tier1, 1, "sent once");
}
