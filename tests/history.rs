//! `posbon history` and `posbon duress retract` as an adversary would try them (issue 15):
//! the real binary and daemon on loopback, a webhook receiver for the contacts, a phone
//! driven as its page drives it. Under the real passphrase the history lists everything in
//! the journalist's time zone; under the duress passphrase it shows no duress event and
//! agrees with the pretend world. A retraction reaches exactly whom the duress alarm
//! reached, verifies as genuine, and cannot come from the decoy.

mod common;

use std::path::Path;
use std::time::Duration;

use common::phone::{DURESS, PIN, TestPhone};
use common::receivers::{Received, Receiver};
use common::watcher::{Daemon, invite};
use common::*;

struct World {
    v: TestVault,
    daemon: Daemon,
    hub: Receiver,
}

/// A vault enrolled with a fast-retrying watcher; contacts "Me" (tier 0) and "Ed" (tier 1)
/// on webhooks.
fn world() -> World {
    let v = TestVault::new();
    let hub = Receiver::start();
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"2s\"\nallow_private_addresses = true\n",
    )
    .unwrap();
    let daemon = Daemon::start_with(
        &v.path("watcher"),
        0,
        &["--config", config.to_str().unwrap()],
    );
    let code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code], "");
    let w = World { v, daemon, hub };
    w.add_contact("Me", "0");
    w.add_contact("Ed", "1");
    w
}

impl World {
    fn add_contact(&self, name: &str, tier: &str) {
        let hook = format!("{}/hook/{name}", self.hub.url());
        self.v.ok(
            &[
                "contact",
                "add",
                name,
                "--lang",
                "en",
                "--tier",
                tier,
                "--webhook",
                &hook,
            ],
            "",
        );
    }

    fn at(&self, who: &str) -> Vec<Received> {
        self.hub
            .received()
            .into_iter()
            .filter(|r| r.path == format!("/hook/{who}"))
            .collect()
    }

    fn steps(&self, who: &str) -> Vec<String> {
        self.at(who)
            .iter()
            .map(|r| r.json()["step"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    fn wait_for(&self, who: &str, step: &str) {
        wait_until(&format!("{step} at {who}"), Duration::from_secs(30), || {
            self.steps(who).iter().any(|s| s == step)
        });
    }

    fn phone(&self) -> TestPhone {
        let out = self.v.run(&["watch", "enrol-phone"], "");
        assert!(out.status.success(), "{}", stderr(&out));
        let link = stdout(&out).trim().to_string();
        TestPhone::enrol(&self.daemon, link.rsplit('=').next().unwrap())
    }
}

/// `posbon alert verify` on a received alert; (exit code, stdout).
fn verify(dir: &Path, alert: &Received, watcher: &str) -> (i32, String) {
    let file = dir.join("alert-to-verify");
    std::fs::write(&file, &alert.body).unwrap();
    let out = posbon()
        .args(["alert", "verify", "--watcher", watcher])
        .arg(&file)
        .output()
        .unwrap();
    (code(&out), stdout(&out) + &stderr(&out))
}

/// Each history line's time is `LOCAL ZONE (UTC)`: the local part is the UTC part in `zone`.
fn assert_local_times(history: &str, zone: &str) {
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    for line in history.lines() {
        let (local, rest) = line
            .split_once(&format!(" {zone} ("))
            .unwrap_or_else(|| panic!("not in {zone}: {line}"));
        let utc = rest.split(" UTC)").next().unwrap();
        // The UTC part carries its date only when it differs from the local one.
        let utc = if utc.len() == 5 {
            format!("{} {utc}", &local[..10])
        } else {
            utc.to_string()
        };
        let at: jiff::Timestamp = format!("{}:00Z", utc.replace(' ', "T")).parse().unwrap();
        let shown = at
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string();
        assert_eq!(shown, local, "{line}");
    }
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn history_lists_everything_in_local_time_and_the_duress_key_sees_only_the_pretend_world() {
    let w = world();
    let phone_pin = {
        let mut ladder = FAST_LADDER.to_vec();
        ladder.extend(["--tz", "Asia/Dushanbe"]);
        w.v.ok(&ladder, "");
        w.wait_for("Ed", "release");
        // Back from the trip: a plan of days, and the all-clear.
        w.v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
        w.wait_for("Ed", "all-clear");
        let mut phone = w.phone();
        let (status, body) = phone.checkin(&w.daemon, PIN);
        assert_eq!(status, 200, "{body}");
        phone
    };
    let mut phone = phone_pin;
    // Coerced: the duress passphrase opens the decoy, which checks in and pauses (a pretend
    // world from then on); then the phone with its duress PIN.
    let duress = w.v.set_duress("a quiet river at dawn");
    let out = w.v.run_with_pass(&duress, &["checkin"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    w.wait_for("Ed", "duress");
    // Ed says "I am on it" for the tier-1 alert and for the duress alert.
    for step in ["tier1", "duress"] {
        let alert = w
            .at("Ed")
            .into_iter()
            .find(|r| r.json()["step"] == step)
            .unwrap()
            .json();
        let link = alert["ack_url"].as_str().unwrap().to_string();
        let confirmed = reqwest::blocking::Client::new().post(&link).send().unwrap();
        assert_eq!(confirmed.status(), 200);
    }
    let out = w.v.run_with_pass(&duress, &["pause", "--for", "3d"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let (status, body) = phone.checkin(&w.daemon, DURESS);
    assert_eq!(status, 200, "{body}");
    // Free again, the journalist checks in from the laptop: the pretend world stays, and
    // this check-in is not part of it.
    w.v.ok(&["checkin"], "");
    // Wait for the last deliveries to settle.
    wait_until("every delivery settled", Duration::from_secs(30), || {
        !w.v.ok(&["history"], "").contains("NOT YET DELIVERED")
    });

    let real = w.v.ok(&["history"], "");
    eprintln!("REAL:\n{real}");
    assert_local_times(&real, "Asia/Dushanbe");
    for expected in [
        "plan changed from the laptop",
        "step fired: remind",
        "step fired: tier1",
        "step fired: tier2",
        "step fired: release",
        "step fired: all-clear",
        "to Ed by webhook: delivered",
        "alert release (",
        "alert all-clear (",
        "the phone ",
        "DURESS: checked in from the laptop",
        "DURESS: paused from the laptop",
        "DURESS: checked in from the phone",
        "DURESS: alert duress (",
        "history looked at from the laptop",
    ] {
        assert!(
            real.contains(expected),
            "{expected:?} missing from:\n{real}"
        );
    }
    assert_eq!(
        count(&real, "Ed is on it (\"I am on it\", alert "),
        2,
        "{real}"
    );
    // The tier-0 contact gets reminders, never the duress alert.
    assert!(real.contains("alert remind ("), "{real}");
    assert_eq!(count(&real, "alert duress ("), 1, "{real}");
    assert!(
        real.lines()
            .filter(|l| l.contains("alert duress"))
            .all(|l| l.contains(" to Ed ")),
        "{real}"
    );
    // One check-in of each: the phone's real PIN, the laptop's real key after the episode.
    assert_eq!(count(&real, "checked in from the phone"), 2, "{real}");
    assert_eq!(count(&real, "checked in from the laptop"), 2, "{real}");

    let shown = w.v.run_with_pass(&duress, &["history"], "");
    assert!(shown.status.success(), "{}", stderr(&shown));
    let shown = stdout(&shown);
    eprintln!("DURESS:\n{shown}");
    assert_local_times(&shown, "Asia/Dushanbe");
    for secret in [
        "DURESS", "duress", "alert ", "Ed", "Me", "pretend", "retract",
    ] {
        assert!(
            !shown.contains(secret),
            "{secret:?} shown under duress:\n{shown}"
        );
    }
    // What the coercer did, and the phone (either PIN), as plain events; the steps the
    // decoy's status lists; not the journalist's own check-in after the episode.
    assert_eq!(count(&shown, "checked in from the laptop"), 1, "{shown}");
    assert_eq!(count(&shown, "checked in from the phone"), 2, "{shown}");
    assert!(shown.contains("paused from the laptop"), "{shown}");
    assert!(shown.contains("step fired: release"), "{shown}");
    // The same lines in the journalist's language.
    let russian = stdout(&w.v.run_with_pass(&duress, &["--lang", "ru", "history"], ""));
    assert!(russian.contains("пауза с ноутбука"), "{russian}");
    assert!(russian.contains("сработал шаг: release"), "{russian}");
    let tajik = stdout(&w.v.run_with_pass(&duress, &["--lang", "tg", "history"], ""));
    assert!(tajik.contains("таваққуф аз ноутбук"), "{tajik}");
    assert!(
        !tajik.contains("МАҶБУРӢ") && !tajik.contains("paused"),
        "{tajik}"
    );
    // It agrees with the decoy's status: the last check-in it shows is the one status shows.
    let status = stdout(&w.v.run_with_pass(&duress, &["status"], ""));
    let last = status
        .lines()
        .find_map(|l| l.trim().strip_prefix("last check-in: "))
        .unwrap()
        .to_string();
    let last_shown = shown
        .lines()
        .rfind(|l| l.contains("checked in from"))
        .unwrap();
    assert!(last_shown.starts_with(&last), "{last} vs {last_shown}");
}

#[test]
fn a_retraction_reaches_whom_the_alarm_reached_verifies_and_never_comes_from_the_decoy() {
    let w = world();
    w.v.ok(
        &[
            "plan",
            "set",
            "--every",
            "1d",
            "--grace",
            "1h",
            "--tz",
            "Europe/Berlin",
        ],
        "",
    );
    let duress = w.v.set_duress("a quiet river at dawn");
    let out = w.v.run_with_pass(&duress, &["checkin"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    w.wait_for("Ed", "duress");

    // Forced to take it back: the same words as a real retraction, nothing taken back, and
    // the alarm raised again (a coercer who asks for this knows of the alarm).
    let forced = w.v.run_with_pass(&duress, &["duress", "retract"], "");
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    wait_until("the alarm again", Duration::from_secs(30), || {
        w.steps("Ed").iter().filter(|s| *s == "duress").count() == 2
    });
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        !w.steps("Ed").iter().any(|s| s == "retraction"),
        "{:?}",
        w.steps("Ed")
    );

    // Added after the alarms: never heard of them, and hears of no retraction.
    w.add_contact("Late", "1");
    let real = w.v.run(&["duress", "retract"], "");
    assert_eq!(code(&real), 0, "{}", stderr(&real));
    assert_eq!(stdout(&real), stdout(&forced));
    assert!(
        stdout(&real).contains("on its way to everyone your duress alarm reached"),
        "{}",
        stdout(&real)
    );
    w.wait_for("Ed", "retraction");
    let retraction = w
        .at("Ed")
        .into_iter()
        .find(|r| r.json()["step"] == "retraction")
        .unwrap();
    let (status, verified) = verify(w.v.temp.path(), &retraction, &w.daemon.fingerprint);
    assert_eq!(status, 0, "{verified}");
    let text = retraction.json()["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("false alarm"), "{text}");
    // It names both alarms: the first, and the one the forced retraction raised.
    for alarm in w.at("Ed").iter().filter(|r| r.json()["step"] == "duress") {
        let id = alarm.json()["id"].as_str().unwrap().to_string();
        assert!(text.contains(&id), "names the alarm {id}: {text}");
    }
    // The history shows it, in Berlin's time.
    let history = w.v.ok(&["history"], "");
    assert_local_times(&history, "Europe/Berlin");
    assert!(
        history.contains("`duress retract` from the laptop"),
        "{history}"
    );
    assert!(
        history.contains("DURESS: `duress retract` from the laptop"),
        "{history}"
    );
    assert!(history.contains("alert retraction ("), "{history}");
    // A second retraction has nothing left to take back.
    let again = w.v.ok(&["duress", "retract"], "");
    assert!(again.contains("no duress alarm to take back"), "{again}");

    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        w.steps("Ed").iter().filter(|s| *s == "retraction").count(),
        1,
        "{:?}",
        w.steps("Ed")
    );
    assert!(w.at("Late").is_empty(), "{:?}", w.steps("Late"));
    assert!(
        w.at("Me").is_empty(),
        "nothing to the journalist's own channel"
    );
    // And the decoy's history knows nothing of alarms or retractions.
    let shown = stdout(&w.v.run_with_pass(&duress, &["history"], ""));
    assert!(
        !shown.contains("retraction") && !shown.contains("DURESS") && !shown.contains("alert"),
        "{shown}"
    );
}

#[test]
fn with_several_watchers_the_histories_are_merged_by_time_and_each_line_names_its_watcher() {
    let v = TestVault::new();
    let a = Daemon::start(&v.path("watcher-a"));
    let b = Daemon::start(&v.path("watcher-b"));
    for daemon in [&a, &b] {
        let code = invite(&daemon.data, "Rustam");
        v.ok(&["enrol", &daemon.url, &code], "");
    }
    v.ok(
        &[
            "plan",
            "set",
            "--every",
            "1d",
            "--grace",
            "1h",
            "--tz",
            "Europe/Berlin",
        ],
        "",
    );
    v.ok(&["checkin"], "");
    let history = v.ok(&["history"], "");
    assert_local_times(&history, "Europe/Berlin");
    for daemon in [&a, &b] {
        let own: Vec<&str> = history
            .lines()
            .filter(|l| l.contains(&format!("  {}  ", daemon.url)))
            .collect();
        assert!(
            own.iter()
                .any(|l| l.ends_with("checked in from the laptop")),
            "{history}"
        );
        assert!(
            own.iter()
                .any(|l| l.ends_with("plan changed from the laptop")),
            "{history}"
        );
    }
    assert!(
        history
            .lines()
            .all(|l| l.contains(&a.url) || l.contains(&b.url)),
        "{history}"
    );
    // Oldest first across both: the plan on both before the check-in on either.
    let first_checkin = history
        .lines()
        .position(|l| l.ends_with("checked in from the laptop"))
        .unwrap();
    let lines: Vec<&str> = history.lines().collect();
    let last_plan = lines
        .iter()
        .rposition(|l| l.ends_with("plan changed from the laptop"))
        .unwrap();
    assert!(last_plan < first_checkin, "{history}");
}
