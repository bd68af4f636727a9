//! The real watcher daemon against its clock: a step due while it was down is not wiped out
//! by a check-in that comes first; a forward jump of the wall clock releases nothing, is
//! reported and held until the operator confirms it; a backward jump delays nothing.
//!
//! The jumps go through the test build's clock offset file
//! (`posbon::watch::clock::TEST_OFFSET_ENV`): the daemon reads the wall clock plus the
//! offset in that file, while its monotonic clock runs on. Release builds ignore it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::receivers::free_port;
use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;
use posbon::protocol::ops;
use posbon::switch::client;
use posbon::watch::clock::{ACCEPT_FILE, TEST_OFFSET_ENV};
use posbon::watch::escalation::{ClockReport, REPORT_FILE};

const DAY_MS: i64 = 86_400_000;

/// A journalist's keys and link, talking to the watcher without a vault.
struct Journalist {
    device: ring::signature::Ed25519KeyPair,
    link: client::Link,
}

impl Journalist {
    fn enrol(data: &Path, url: &str) -> Journalist {
        let key = || {
            let pkcs8 =
                ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                    .unwrap();
            ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
        };
        let device = key();
        let link = client::enrol(
            &client::Route::Direct,
            url,
            &invite(data, "Nilufar"),
            &device,
            &key(),
        )
        .unwrap();
        Journalist { device, link }
    }

    /// One request signed at the journalist's (true) time; panics if refused.
    fn call(&mut self, op: &str, payload: &str) {
        let (_, counter) = client::call(
            &client::Route::Direct,
            &self.link,
            &self.device,
            op,
            payload.into(),
            posbon::vault::now(),
        )
        .unwrap_or_else(|e| panic!("{op} refused: {e}"));
        self.link.last_counter = counter;
    }
}

/// Every hour, an hour's grace; remind at once, then tier 1, tier 2 and release an hour
/// apart: nothing falls due during the test unless the clock says a day went by.
const HOURLY: &str = r#"{"schedule":{"kind":"every","every_ms":3600000},"grace_ms":3600000,
    "steps":[{"action":"remind-journalist","after_ms":0},{"action":{"alert-tier":1},"after_ms":3600000},
    {"action":{"alert-tier":2},"after_ms":7200000},{"action":"release","after_ms":10800000}]}"#;

/// Every second, no grace: remind, then tier 1 a second later.
const FAST: &str = r#"{"schedule":{"kind":"every","every_ms":1000},"grace_ms":0,
    "steps":[{"action":"remind-journalist","after_ms":0},{"action":{"alert-tier":1},"after_ms":1000}]}"#;

fn report(data: &Path) -> Option<ClockReport> {
    serde_json::from_slice(&std::fs::read(data.join(REPORT_FILE)).ok()?).ok()
}

fn fired_in_log(daemon: &Daemon) -> usize {
    daemon.log().matches("escalation step fired").count()
}

#[test]
fn a_step_due_while_the_watcher_was_down_fires_even_when_a_check_in_comes_first() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("watcher");
    let port = free_port();
    let daemon = Daemon::start_on(&data, port);
    let mut j = Journalist::enrol(&data, &daemon.url);
    j.call(
        ops::PLAN,
        r#"{"schedule":{"kind":"every","every_ms":1000},"grace_ms":0,
            "steps":[{"action":{"alert-tier":1},"after_ms":0}]}"#,
    );
    daemon.kill_9();
    // Tier 1 falls due a second after the plan, while the watcher is down.
    std::thread::sleep(Duration::from_millis(2_500));
    let daemon = Daemon::start_on(&data, port);
    // The check-in goes out the moment the watcher says it listens.
    j.call(ops::CHECKIN, "{}");
    assert!(daemon.stop());
    assert_eq!(
        action_labels(&actions(&data)),
        ["tier1", "all-clear"],
        "the alert that fell due while down went out, then the all-clear"
    );
}

#[test]
fn a_forward_jump_of_the_watchers_clock_releases_nothing_is_reported_and_held_until_confirmed() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("watcher");
    let offset = temp.path().join("clock-offset");
    std::fs::write(&offset, "0").unwrap();
    let daemon = Daemon::start_with_env(&data, &[(TEST_OFFSET_ENV, offset.as_os_str())]);
    let mut j = Journalist::enrol(&data, &daemon.url);
    j.call(ops::PLAN, HOURLY);

    // Someone sets the watcher's clock a day ahead; the journalist's laptop keeps the true
    // time, and the watcher still accepts their requests (a plan request wakes the loop).
    std::fs::write(&offset, DAY_MS.to_string()).unwrap();
    j.call(ops::PLAN, HOURLY);
    wait_until("the jump in clock.json", Duration::from_secs(10), || {
        report(&data).is_some_and(|r| r.held.len() == 4)
    });
    let shown = report(&data).unwrap();
    assert_eq!(
        serde_json::to_value(shown.agreement).unwrap(),
        "ahead",
        "{shown:?}"
    );
    assert!(shown.skew_ms >= DAY_MS - 60_000, "{shown:?}");
    // The operator reads it in the log too; nothing fired.
    std::thread::sleep(Duration::from_millis(500));
    let log = daemon.log();
    assert!(log.contains("CLOCK JUMP"), "{log}");
    // Each step held now is reported once. (Should the loop have run between the clock's
    // change and the second plan, the first plan's steps were held and reported too: a
    // different set, with other due times.)
    for step in &shown.held {
        let line = format!("due_ms={}", step.due_ms);
        assert_eq!(
            log.lines()
                .filter(|l| l.contains("step held by the clock jump") && l.contains(&line))
                .count(),
            1,
            "{step:?}: {log}"
        );
    }
    assert_eq!(fired_in_log(&daemon), 0, "{log}");

    // The operator confirms the new time: the held steps fall due at once.
    std::fs::write(data.join(ACCEPT_FILE), b"").unwrap();
    j.call(ops::PLAN, HOURLY);
    wait_until("the confirmed steps", Duration::from_secs(10), || {
        fired_in_log(&daemon) >= 4
    });
    assert!(!data.join(ACCEPT_FILE).exists());
    assert!(daemon.stop());
    assert_eq!(
        action_labels(&actions(&data)),
        ["remind", "tier1", "tier2", "release"]
    );
}

#[test]
fn a_backward_jump_of_the_watchers_clock_delays_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("watcher");
    let offset = temp.path().join("clock-offset");
    std::fs::write(&offset, "0").unwrap();
    let daemon = Daemon::start_with_env(&data, &[(TEST_OFFSET_ENV, offset.as_os_str())]);
    let mut j = Journalist::enrol(&data, &daemon.url);
    // The watcher's clock is set a day back; then a plan whose steps fall due within 2 s.
    std::fs::write(&offset, (-DAY_MS).to_string()).unwrap();
    j.call(ops::PLAN, FAST);
    wait_until("both steps, on time", Duration::from_secs(10), || {
        fired_in_log(&daemon) >= 2
    });
    let shown = report(&data).unwrap();
    assert_eq!(serde_json::to_value(shown.agreement).unwrap(), "behind");
    assert!(daemon.log().contains("CLOCK JUMP"));
    assert!(daemon.stop());
    assert_eq!(action_labels(&actions(&data)), ["remind", "tier1"]);
}
