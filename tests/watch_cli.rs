//! The watcher end to end: the real daemon on loopback, the real CLI on a vault.

mod common;

use std::time::Duration;

use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;

/// A vault enrolled with a fresh watcher.
fn enrolled() -> (TestVault, Daemon) {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    let fingerprint = v.ok(&["enrol", &daemon.url, &code], "");
    assert_eq!(
        fingerprint.trim(),
        daemon.fingerprint,
        "the client sees the watcher's key"
    );
    (v, daemon)
}

/// Sets a plan of one second with tier 1 at once, and waits until tier 1 has fired.
fn wait_for_tier_one(v: &TestVault) {
    v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    wait_until("tier 1", Duration::from_secs(15), || {
        v.ok(&["status"], "").contains("fired: tier1")
    });
}

#[test]
fn enrol_set_a_plan_check_in_and_see_the_status() {
    let (v, daemon) = enrolled();
    let plan = v.ok(&["plan", "set", "--every", "1h", "--grace", "30m"], "");
    assert!(plan.contains("plan set; next deadline"), "{plan}");
    let out = v.ok(&["checkin"], "");
    assert!(
        out.starts_with(&format!("{}: checked in; next deadline", daemon.url)),
        "{out}"
    );
    let status = v.ok(&["status"], "");
    assert!(
        status.contains(&format!("fingerprint {}", daemon.fingerprint)),
        "{status}"
    );
    assert!(
        status.contains(
            "plan: every 1h, grace 30m, steps remind:0s tier1:30m tier2:1h release:1h30m"
        ),
        "{status}"
    );
    assert!(!status.contains("last check-in: never"), "{status}");
    assert_eq!(
        v.ok(&["watch", "status"], "").lines().next(),
        status.lines().next()
    );

    // The invite was used up.
    let again = v.run(&["enrol", &daemon.url, "00000-00000-00000-00000"], "");
    assert_eq!(code(&again), 9, "{}", stderr(&again));
    assert!(stderr(&again).contains("bad_invite"));
    assert!(daemon.stop(), "SIGTERM ends the daemon cleanly");
}

#[test]
fn a_missed_check_in_climbs_the_ladder_on_time_and_once() {
    let (v, daemon) = enrolled();
    let started = vault_now();
    v.ok(&FAST_LADDER, "");
    wait_until("the release step", Duration::from_secs(20), || {
        v.ok(&["status"], "").contains("fired: release")
    });
    let data = daemon.data.clone();
    assert!(daemon.stop());
    let queued = actions(&data);
    assert_eq!(
        action_labels(&queued),
        vec!["remind", "tier1", "tier2", "release"]
    );
    for (action, offset_s) in queued.iter().zip([1, 2, 3, 4]) {
        let due = action["emitted"]["due_ms"].as_i64().unwrap();
        let fired = action["queued_ms"].as_i64().unwrap();
        assert!(
            due >= started + offset_s * 1000 - 50,
            "due too early: {action}"
        );
        assert!(fired >= due, "fired before due: {action}");
        assert!(fired - due < 3_000, "fired late: {action}");
    }
}

fn vault_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn checking_in_after_an_alert_sends_the_all_clear() {
    let (v, daemon) = enrolled();
    wait_for_tier_one(&v);
    v.ok(&["checkin"], "");
    let data = daemon.data.clone();
    assert!(daemon.stop());
    let labels = action_labels(&actions(&data));
    assert_eq!(&labels[..2], &["tier1", "all-clear"], "{labels:?}");
}

#[test]
fn what_fell_due_while_the_watcher_was_down_fires_at_once_after_restart() {
    let (v, daemon) = enrolled();
    v.ok(
        &[
            "plan",
            "set",
            "--every",
            "1s",
            "--grace",
            "1s",
            "--step",
            "tier1:0s",
            "--step",
            "release:1s",
        ],
        "",
    );
    let data = daemon.data.clone();
    daemon.kill_9();
    std::thread::sleep(Duration::from_secs(4));
    let daemon = Daemon::start(&data);
    wait_until("the catch-up", Duration::from_secs(10), || {
        std::fs::read_to_string(data.with_extension("log"))
            .unwrap_or_default()
            .matches("escalation step fired")
            .count()
            >= 2
    });
    assert!(daemon.stop());
    assert_eq!(action_labels(&actions(&data)), vec!["tier1", "release"]);
}

#[test]
fn a_check_in_with_the_duress_passphrase_looks_normal_and_raises_a_silent_alert() {
    let (v, daemon) = enrolled();
    v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    let duress = v.set_duress("the duress words");

    let real_out = v.run(&["checkin"], "");
    assert!(real_out.status.success(), "{}", stderr(&real_out));
    let real = stdout(&real_out);
    let forced = v.run_with_pass(&duress, &["checkin"], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    let shape = |text: &str| text.split("; next deadline").next().unwrap().to_string();
    assert_eq!(shape(&stdout(&forced)), shape(&real), "the same answer");
    // The same warnings too (here: a plan with no contacts): the decoy keeps the real plan,
    // so it does not stay silent where the real view warns.
    assert_eq!(stderr(&forced), stderr(&real_out));

    // Forced to pause the switch: it looks paused, but nothing is paused.
    let paused = v.run_with_pass(&duress, &["pause", "--for", "3d"], "");
    assert!(paused.status.success(), "{}", stderr(&paused));
    assert!(
        stdout(&paused).contains("paused until"),
        "{}",
        stdout(&paused)
    );
    // Looked at again with the duress passphrase, it still seems paused.
    let again = v.run_with_pass(&duress, &["status"], "");
    assert!(
        stdout(&again).contains("paused until"),
        "{}",
        stdout(&again)
    );
    // And a coerced check-in ends the pretended pause, as a real one would.
    let after = v.run_with_pass(&duress, &["checkin"], "");
    assert!(
        stdout(&after).contains("checked in; next deadline"),
        "{}",
        stdout(&after)
    );

    // Four commands under the duress passphrase, each unlocking the vault and signing with
    // the duress key: one episode, one silent alert (not one per command, each with an id
    // of its own that would look like a new event to the lawyers).
    let data = daemon.data.clone();
    let port = daemon.port();
    assert!(daemon.stop());
    let labels = || action_labels(&actions(&data));
    assert_eq!(labels(), vec!["duress"]);

    // Nothing was really paused. And once the journalist uses the real key again (this
    // look, a check-in, or a pause before travelling), the next coercion is a new episode.
    let daemon = Daemon::start_on(&data, port);
    let status = v.ok(&["status"], "");
    assert!(!status.contains("paused"), "{status}");
    let again = v.run_with_pass(&duress, &["status"], "");
    assert!(again.status.success(), "{}", stderr(&again));
    v.ok(&["pause", "--for", "2d"], "");
    let third = v.run_with_pass(&duress, &["status"], "");
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(daemon.stop());
    assert_eq!(labels(), vec!["duress", "duress", "duress"]);
}

#[test]
fn a_forced_decoy_plan_is_what_the_decoy_shows_and_the_real_status_tells_of_it() {
    let (v, _daemon) = enrolled();
    v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
    let duress = v.set_duress("the duress words");
    let forced = v.run_with_pass(
        &duress,
        &["plan", "set", "--every", "7d", "--grace", "1h"],
        "",
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    // The watcher answers with the plan the coercer set: no warning of another plan held.
    assert!(
        !stderr(&forced).contains("holds the plan as"),
        "{}",
        stderr(&forced)
    );
    let paused = v.run_with_pass(&duress, &["pause", "--for", "3d"], "");
    assert!(paused.status.success(), "{}", stderr(&paused));
    // The decoy shows the plan and pause it set, and nothing of a second world.
    let decoy = stdout(&v.run_with_pass(&duress, &["status"], ""));
    assert!(decoy.contains("plan: every 7d"), "{decoy}");
    assert!(decoy.contains("paused until"), "{decoy}");
    assert!(!decoy.contains("duress"), "{decoy}");
    assert!(!decoy.contains("fired:"), "{decoy}");
    // The journalist, with the real passphrase, sees the real plan, and what was shown.
    let real = v.ok(&["status"], "");
    assert!(real.contains("plan: every 1d"), "{real}");
    assert!(!real.contains("  paused until"), "{real}");
    assert!(real.contains("duress key or PIN last used: "), "{real}");
    assert!(
        real.contains("shown under duress (the decoy, the phone, your reminders): plan every 7d")
            && real.contains("; paused until"),
        "{real}"
    );
    // `duress over` under the duress passphrase answers alike and ends nothing ...
    let forced_over = v.run_with_pass(&duress, &["duress", "over"], "");
    assert!(forced_over.status.success(), "{}", stderr(&forced_over));
    let decoy = stdout(&v.run_with_pass(&duress, &["status"], ""));
    assert!(decoy.contains("plan: every 7d"), "{decoy}");
    // ... and with the real one the journalist, free again, ends the pretend world: the
    // decoy then shows the real plan (as the phone does).
    let over = v.ok(&["duress", "over"], "");
    assert!(
        over.contains("the watcher follows your real plan again"),
        "{over}"
    );
    let real = v.ok(&["status"], "");
    assert!(!real.contains("shown under duress"), "{real}");
    let decoy = stdout(&v.run_with_pass(&duress, &["status"], ""));
    assert!(decoy.contains("plan: every 1d"), "{decoy}");
}

#[test]
fn pause_and_resume_move_the_deadline() {
    let (v, _daemon) = enrolled();
    v.ok(&["plan", "set", "--every", "10s", "--grace", "1s"], "");
    let out = v.ok(&["pause", "--until", "2099-01-01T00:00:00Z"], "");
    assert!(out.contains("paused until 2099-01-01 00:00 UTC"), "{out}");
    let out = v.ok(&["resume"], "");
    assert!(out.contains("resumed; next deadline"), "{out}");
    let bad = v.run(&["pause", "--until", "yesterday"], "");
    assert_eq!(code(&bad), 2);
}

#[test]
fn an_unreachable_watcher_fails_the_check_in_loudly_while_the_others_accept() {
    let (v, first) = enrolled();
    let second = Daemon::start(&v.path("watcher2"));
    let code2 = invite(&second.data, "Nilufar");
    v.ok(&["enrol", &second.url, &code2], "");
    v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    second.kill_9();
    let out = v.run(&["checkin"], "");
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("{}: checked in", first.url)));
    assert!(stderr(&out).contains("cannot reach"), "{}", stderr(&out));
}

#[test]
fn a_plan_that_makes_no_sense_is_refused_before_anything_is_sent() {
    let (v, _daemon) = enrolled();
    for args in [
        vec!["plan", "set", "--every", "0s", "--grace", "1m"],
        vec!["plan", "set", "--every", "soon", "--grace", "1m"],
        vec![
            "plan",
            "set",
            "--window",
            "09:00-11:00",
            "--tz",
            "Mars/Base",
            "--grace",
            "1h",
        ],
        vec![
            "plan", "set", "--every", "1h", "--grace", "1m", "--step", "tier1:1m", "--step",
            "tier1:2m",
        ],
    ] {
        let out = v.run(&args, "");
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
    let daily = v.ok(
        &[
            "plan",
            "set",
            "--window",
            "09:00-11:00",
            "--tz",
            "Asia/Dushanbe",
            "--grace",
            "1h",
        ],
        "",
    );
    assert!(daily.contains("next deadline"), "{daily}");
}

#[test]
fn the_health_endpoint_reveals_nothing_about_subjects() {
    let (_v, daemon) = enrolled();
    let body = reqwest::blocking::get(format!("{}/health", daemon.url))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(body, "{\"status\":\"ok\"}");
}

#[test]
fn an_operator_can_set_a_plan_in_the_config_file() {
    let (v, daemon) = enrolled();
    let data = daemon.data.clone();
    let port = daemon.port();
    assert!(daemon.stop());
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        format!(
            "data = {data:?}\nlisten = \"127.0.0.1:{port}\"\n\n[[plan]]\nsubject = \"Nilufar\"\nwindow = [\"09:00-11:00\"]\ntz = \"Asia/Dushanbe\"\ngrace = \"2h\"\nsteps = [\"tier1:0s\", \"release:4h\"]\n"
        ),
    )
    .unwrap();
    let mut child = posbon()
        .args(["watch", "serve", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.contains(&format!("127.0.0.1:{port}")), "{first}");
    let status = v.run(&["status"], "");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        stdout(&status)
            .contains("plan: daily 09:00-11:00 Asia/Dushanbe, grace 2h, steps tier1:0s release:4h"),
        "{}{}",
        stdout(&status),
        stderr(&status)
    );

    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nfrobnicate = 1\n").unwrap();
    let out = posbon()
        .args(["watch", "serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

#[test]
fn changing_the_plan_is_a_sign_of_life_and_never_fires_the_ladder_at_once() {
    let (v, daemon) = enrolled();
    wait_for_tier_one(&v);
    // The journalist, alive, changes the plan: an all-clear, and a fresh deadline ahead.
    let out = v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    assert!(out.contains("next deadline"), "{out}");
    let status = v.ok(&["status"], "");
    assert!(!status.contains("fired:"), "{status}");
    let data = daemon.data.clone();
    assert!(daemon.stop());
    let labels = action_labels(&actions(&data));
    assert_eq!(
        labels.last().map(String::as_str),
        Some("all-clear"),
        "{labels:?}"
    );
}

#[test]
fn a_mistyped_watcher_directory_is_said_not_silently_made() {
    let temp = tempfile::tempdir().unwrap();
    let typo = temp.path().join("watcherr");
    for command in [&["watch", "outbox"][..], &["watch", "actions"][..]] {
        let out = posbon()
            .args(command)
            .arg("--data")
            .arg(&typo)
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{command:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("there is no watcher in"));
        assert!(!typo.exists(), "{command:?} made nothing");
    }
    // `invite` may make the watcher (its fingerprint is needed before the first start), but
    // says so.
    let out = posbon()
        .args(["watch", "invite", "Nilufar", "--data"])
        .arg(&typo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a new one was created"),
        "{}",
        stderr(&out)
    );
    let again = posbon()
        .args(["watch", "invite", "Rustam", "--data"])
        .arg(&typo)
        .output()
        .unwrap();
    assert!(!stderr(&again).contains("a new one was created"));
}

/// What one request to a watcher looked like on the wire.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    request_line: String,
    header_names: Vec<String>,
    body_len: usize,
    op: String,
}

/// A stand-in for the watcher at `port` that records every request; answers each (with an
/// empty success) only when `answer` is set, else holds the connection open and silent.
fn recorder(port: u16, answer: bool) -> std::sync::Arc<std::sync::Mutex<Vec<Seen>>> {
    use std::io::{BufRead, BufReader, Read, Write};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let (mut names, mut length) = (Vec::new(), 0);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                let name = name.to_ascii_lowercase();
                if name == "content-length" {
                    length = value.trim().parse().unwrap();
                }
                names.push(name);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            names.sort();
            log.lock().unwrap().push(Seen {
                request_line: request_line.trim_end().to_string(),
                header_names: names,
                body_len: body.len(),
                op: json["op"].as_str().unwrap_or_default().to_string(),
            });
            let mut stream = stream;
            if answer {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                );
            } else {
                held.push(stream);
            }
        }
    });
    seen
}

/// Issue 12: a command under the duress passphrase sends exactly what the same command
/// under the real one sends (one unlock notice per watcher, of the same size), and waits
/// for no watcher: the watcher alone tells the two keys apart.
#[test]
fn real_and_duress_unlocks_send_the_same_one_request_and_wait_for_no_watcher() {
    let (v, first) = enrolled();
    let duress = v.set_duress("the duress words");
    // A second watcher, enrolled after the duress passphrase was set: the decoy must reach
    // it too.
    let second = Daemon::start(&v.path("watcher2"));
    let code2 = invite(&second.data, "Nilufar");
    v.ok(&["enrol", &second.url, &code2], "");
    let ports = [first.port(), second.port()];
    assert!(first.stop() && second.stop());
    let seen: Vec<_> = ports.iter().map(|port| recorder(*port, true)).collect();
    let count = || seen.iter().map(|s| s.lock().unwrap().len()).sum::<usize>();
    let wait_for = |n: usize| {
        wait_until("the unlock notices", Duration::from_secs(20), || {
            count() >= n
        })
    };
    v.ok(&["list"], "");
    wait_for(2);
    let forced = v.run_with_pass(&duress, &["list"], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(stderr(&forced), "");
    wait_for(4);
    // No further request from either (a late alarm would show here).
    std::thread::sleep(Duration::from_millis(500));
    for watcher in &seen {
        let seen = watcher.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "{seen:#?}");
        assert_eq!(
            seen[0], seen[1],
            "the real and the duress unlock look the same"
        );
        assert_eq!(seen[0].op, "unlock");
        assert_eq!(seen[0].request_line, "POST /v1/request HTTP/1.1");
    }
}

#[test]
fn a_watcher_that_never_answers_does_not_hold_up_a_command() {
    let (v, daemon) = enrolled();
    let duress = v.set_duress("the duress words");
    let port = daemon.port();
    assert!(daemon.stop());
    let seen = recorder(port, false);
    for pass in [None, Some(&duress)] {
        let started = std::time::Instant::now();
        let out = match pass {
            None => v.run(&["list"], ""),
            Some(p) => v.run_with_pass(p, &["list"], ""),
        };
        assert!(out.status.success(), "{}", stderr(&out));
        // The notice waits up to 30 s for an answer, in a process of its own; the command
        // itself returns long before (the margin is wide: this is no timing measurement).
        assert!(started.elapsed() < Duration::from_secs(15));
    }
    wait_until("both notices", Duration::from_secs(20), || {
        seen.lock().unwrap().len() >= 2
    });
}

/// "`plan set --every 10s --grace 5s` with no contacts ... later shows `fired: tier1` when
/// nobody was alerted": every step that would reach nobody is said at `plan set`, at every
/// check-in and status, and goes away once the contacts are there.
#[test]
fn a_plan_that_would_alert_nobody_says_so_until_the_contacts_are_there() {
    let (v, _daemon) = enrolled();
    let set = v.run(&["plan", "set", "--every", "1h", "--grace", "30m"], "");
    assert!(set.status.success(), "{}", stderr(&set));
    let said = stderr(&set);
    for gap in [
        "your reminders go to nobody",
        "step tier1 alerts nobody",
        "step tier2 alerts nobody",
        "release step reaches nobody",
    ] {
        assert!(said.contains(gap), "{gap:?} not in: {said}");
    }
    for command in ["checkin", "status"] {
        let out = v.run(&[command], "");
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("step tier1 alerts nobody"),
            "{command}: {}",
            stderr(&out)
        );
    }
    for (name, tier) in [("Me", "0"), ("Editor", "1"), ("Dilnoza", "2")] {
        v.ok(
            &[
                "contact",
                "add",
                name,
                "--lang",
                "ru",
                "--tier",
                tier,
                "--email",
                "x@example.org",
            ],
            "",
        );
    }
    let out = v.run(&["checkin"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("WARNING"), "{}", stderr(&out));
}

// Issue 16: Tor for the journalist. A real SOCKS5 server (Debian's microsocks) on loopback
// stands for Tor; it writes a line on stderr for every connection it makes on a client's
// behalf, naming the host as the client asked for it.

/// microsocks on a free loopback port.
struct Socks {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Socks {
    fn start(v: &TestVault, name: &str) -> Socks {
        let port = common::receivers::free_port();
        let log = v.path(name);
        let child = std::process::Command::new("microsocks")
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect(
                "microsocks is installed (./test.sh installs it; or apt-get install microsocks)",
            );
        wait_until("microsocks to listen", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Socks { child, port, log }
    }

    fn url(&self) -> String {
        format!("socks5h://127.0.0.1:{}", self.port)
    }

    /// How many connections it made to the watcher on `port`.
    fn connections_to(&self, port: u16) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches(&format!(": connected to 127.0.0.1:{port}\n"))
            .count()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Socks {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Listens on the watcher's port and counts the connections that reach it.
fn connection_counter(port: u16) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let counted = count.clone();
    std::thread::spawn(move || {
        for _ in listener.incoming() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    count
}

#[test]
fn with_a_proxy_set_every_request_goes_through_it_and_none_goes_straight_when_it_is_down() {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let port = daemon.port();
    let mut tor = Socks::start(&v, "socks.log");
    v.ok(&["proxy", "set", &tor.url()], "");
    assert_eq!(v.ok(&["proxy", "show"], "").trim(), tor.url());

    let invitation = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &invitation], "");
    assert_eq!(tor.connections_to(port), 1, "the enrolment went through it");
    v.ok(&["plan", "set", "--every", "1h", "--grace", "1h"], "");
    let before = tor.connections_to(port);
    let out = v.ok(&["checkin"], "");
    assert!(out.contains("checked in; next deadline"), "{out}");
    // The check-in, and the unlock notice sent in the background when the vault opened.
    wait_until("both through the proxy", Duration::from_secs(20), || {
        tor.connections_to(port) >= before + 2
    });

    // --proxy takes another proxy for one command, the unlock notice included.
    let other = Socks::start(&v, "other.log");
    let before = tor.connections_to(port);
    let out = v.run(&["--proxy", &other.url(), "status"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    wait_until(
        "both through the other proxy",
        Duration::from_secs(20),
        || other.connections_to(port) >= 2,
    );
    assert_eq!(tor.connections_to(port), before, "not through the kept one");

    // The proxy stops: nothing reaches the watcher, and the command says why.
    tor.stop();
    assert!(daemon.stop());
    let reached = connection_counter(port);
    let out = v.run(&["checkin"], "");
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains(&format!(
            "the proxy socks5h://127.0.0.1:{} does not answer",
            tor.port
        )) && said.contains("nothing was sent directly"),
        "{said}"
    );
    v.ok(&["list"], "");
    // Time for the background sender of unlock notices to have tried.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);

    // Cleared, requests go straight again.
    v.ok(&["proxy", "clear"], "");
    assert_eq!(v.ok(&["proxy", "show"], "").trim(), "none");
    let out = v.run(&["checkin"], "");
    assert_eq!(code(&out), 8, "the stand-in answers nothing");
    assert!(!stderr(&out).contains("proxy"), "{}", stderr(&out));
    assert!(reached.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

/// The decoy takes the same route: the proxy shows under both passphrases, and the unlock
/// notice of each goes through it, alike; with the proxy down, neither goes straight.
#[test]
fn under_either_passphrase_the_proxy_is_the_same_and_the_unlock_notice_takes_it() {
    let (v, daemon) = enrolled();
    let duress = v.set_duress("the duress words");
    let mut tor = Socks::start(&v, "socks.log");
    v.ok(&["proxy", "set", &tor.url()], "");
    let forced = v.run_with_pass(&duress, &["proxy", "show"], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(stdout(&forced).trim(), tor.url());

    let port = daemon.port();
    // The decoy's `proxy show` sent its notice through the proxy from a detached sender: it
    // must have gone before the watcher is replaced, or a late one (CI was slow enough once)
    // would be counted as one of the notices below.
    wait_until(
        "the decoy's earlier notice",
        Duration::from_secs(20),
        || tor.connections_to(port) == 1,
    );
    assert!(daemon.stop());
    let seen = recorder(port, true);
    v.ok(&["list"], "");
    wait_until("the real notice", Duration::from_secs(20), || {
        seen.lock().unwrap().len() == 1 && tor.connections_to(port) == 2
    });
    let forced = v.run_with_pass(&duress, &["list"], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(stderr(&forced), "");
    wait_until("the duress notice", Duration::from_secs(20), || {
        seen.lock().unwrap().len() == 2 && tor.connections_to(port) == 3
    });
    let notices = seen.lock().unwrap().clone();
    assert_eq!(notices[0], notices[1], "the same request, the same way");
    assert_eq!(notices[0].op, "unlock");

    tor.stop();
    let real = v.run(&["checkin"], "");
    let forced = v.run_with_pass(&duress, &["checkin"], "");
    assert_eq!(code(&real), 8);
    assert_eq!(code(&forced), 8);
    assert_eq!(stderr(&forced), stderr(&real), "the same failure");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(seen.lock().unwrap().len(), 2, "nothing went straight");
}

/// What a SOCKS5 client asked a stand-in proxy for: the address type (3: a name) and the
/// destination as sent.
type Asked = std::sync::Arc<std::sync::Mutex<Vec<(u8, String, u16)>>>;

/// A SOCKS5 stand-in that records each CONNECT and refuses it (host unreachable): enough to
/// see what a client hands its proxy for an onion address, which no proxy here can reach.
fn socks_recorder(port: u16) -> Asked {
    use std::io::{Read, Write};
    let asked: Asked = Default::default();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let log = asked.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut connect = || -> std::io::Result<(u8, String, u16)> {
                let mut head = [0u8; 2];
                stream.read_exact(&mut head)?;
                let mut methods = vec![0u8; head[1] as usize];
                stream.read_exact(&mut methods)?;
                stream.write_all(&[5, 0])?;
                let mut request = [0u8; 4];
                stream.read_exact(&mut request)?;
                let host = match request[3] {
                    3 => {
                        let mut len = [0u8; 1];
                        stream.read_exact(&mut len)?;
                        let mut name = vec![0u8; len[0] as usize];
                        stream.read_exact(&mut name)?;
                        String::from_utf8_lossy(&name).into_owned()
                    }
                    1 => {
                        let mut ip = [0u8; 4];
                        stream.read_exact(&mut ip)?;
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    _ => {
                        let mut ip = [0u8; 16];
                        stream.read_exact(&mut ip)?;
                        std::net::Ipv6Addr::from(ip).to_string()
                    }
                };
                let mut port = [0u8; 2];
                stream.read_exact(&mut port)?;
                stream.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0])?;
                Ok((request[3], host, u16::from_be_bytes(port)))
            };
            // A connection that asks nothing (posbon checking that the proxy answers) is
            // not a request.
            if let Ok(seen) = connect() {
                log.lock().unwrap().push(seen);
            }
        }
    });
    asked
}

#[test]
fn an_onion_watcher_is_named_to_the_proxy_and_never_looked_up_here() {
    let v = TestVault::new();
    let onion = "http://p53lf57qovyuvwsc6xnrppyply3vtqm7l6pcobkmyqsiofyeznfu5uqd.onion";
    // Without a proxy, nothing is tried: a direct attempt would ask the local resolver.
    let out = v.run(&["enrol", onion, "00000-00000-00000-00000"], "");
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("can only be reached through Tor"),
        "{}",
        stderr(&out)
    );

    let port = common::receivers::free_port();
    let asked = socks_recorder(port);
    let proxy = format!("socks5h://127.0.0.1:{port}");
    let out = v.run(
        &["--proxy", &proxy, "enrol", onion, "00000-00000-00000-00000"],
        "",
    );
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("through the proxy {proxy}")),
        "{}",
        stderr(&out)
    );
    let host = onion.trim_start_matches("http://").to_string();
    assert_eq!(*asked.lock().unwrap(), vec![(3, host, 80)]);

    // socks5:// would resolve names here: refused, for --proxy and for the setting alike.
    let local = format!("socks5://127.0.0.1:{port}");
    let out = v.run(&["--proxy", &local, "status"], "");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let out = v.run(&["proxy", "set", &local], "");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("use socks5h://"), "{}", stderr(&out));
    assert_eq!(asked.lock().unwrap().len(), 1);
    // Nor does it mean anything to a watcher's own commands: said, not ignored.
    let out = v.run(&["--proxy", &proxy, "watch", "serve"], "");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a watcher's own alerts"),
        "{}",
        stderr(&out)
    );
}

/// "`plan set --window 09:00-11:00 --tz Asia/Dushanbe` prints `next deadline ... UTC`;
/// `--tz` given with `--every` is dropped silently; `pause --until` wants UTC": times are shown
/// and typed in the journalist's zone, under either passphrase.
#[test]
fn times_are_shown_and_typed_in_the_journalists_time_zone() {
    let (v, _daemon) = enrolled();
    let set = v.run(
        &[
            "plan",
            "set",
            "--every",
            "1h",
            "--grace",
            "30m",
            "--tz",
            "Asia/Dushanbe",
        ],
        "",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(
        stderr(&set).contains("times are shown in Asia/Dushanbe"),
        "{}",
        stderr(&set)
    );
    assert!(stdout(&set).contains("Asia/Dushanbe ("), "{}", stdout(&set));
    let paused = v.ok(&["pause", "--until", "2099-01-01 05:00"], "");
    assert!(
        paused.contains("paused until 2099-01-01 05:00 Asia/Dushanbe (00:00 UTC)"),
        "{paused}"
    );
    let status = v.ok(&["status"], "");
    assert!(
        status.contains("Asia/Dushanbe (") && status.contains("UTC)"),
        "{status}"
    );
    // The decoy reads the same zone.
    let duress = v.set_duress("umbrella sideways pelican");
    v.ok(&["list"], "");
    let decoy = v.run_with_pass(&duress, &["status"], "");
    assert!(
        stdout(&decoy).contains("Asia/Dushanbe ("),
        "{}",
        stdout(&decoy)
    );
    // A time the watcher cannot be told apart from a typo is refused with an example.
    let bad = v.run(&["pause", "--until", "next friday"], "");
    assert_eq!(code(&bad), 2, "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("2026-12-03 18:00"),
        "{}",
        stderr(&bad)
    );
    let bad_zone = v.run(
        &[
            "plan", "set", "--every", "1h", "--grace", "1h", "--tz", "Dushanbe",
        ],
        "",
    );
    assert_eq!(code(&bad_zone), 2, "{}", stderr(&bad_zone));
}

/// Issue 15: "check in between 09:00 and 11:00 on some days, nothing on the others, in my
/// time zone". The real CLI and daemon, on the real clock: the only window is on the weekday
/// two days from now in Dushanbe, so the deadline is that day's 11:00, whatever today is.
#[test]
fn a_plan_with_weekday_windows_shows_the_deadline_with_its_weekday_and_the_free_days() {
    let (v, _daemon) = enrolled();
    let zone = jiff::tz::TimeZone::get("Asia/Dushanbe").unwrap();
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(zone.clone())
        .date();
    let day = today.checked_add(jiff::Span::new().days(2)).unwrap();
    let name = day.strftime("%a").to_string(); // Mon, Tue...
    let window = format!("{}/09:00-11:00", name.to_lowercase());
    // A night window on the day after it, crossing midnight, belongs to that day: it opens
    // later than the first one, so the deadline stays the first one's.
    let night = format!(
        "{}/22:00-02:00",
        day.tomorrow()
            .unwrap()
            .strftime("%a")
            .to_string()
            .to_lowercase()
    );
    let set = v.run(
        &[
            "plan",
            "set",
            "--window",
            &window,
            "--window",
            &night,
            "--tz",
            "Asia/Dushanbe",
            "--grace",
            "1h",
        ],
        "",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let expected = format!(
        "next deadline {name} {} 11:00 Asia/Dushanbe (06:00 UTC)",
        day.strftime("%Y-%m-%d")
    );
    assert!(
        stdout(&set).contains(&format!("plan set; {expected}")),
        "{}",
        stdout(&set)
    );
    // The windows and the free days, in words, on stderr.
    assert!(
        stderr(&set).contains(&format!("  check-in window: {name} 09:00-11:00\n")),
        "{}",
        stderr(&set)
    );
    assert!(
        stderr(&set).contains("22:00-02:00 (closes the next day)"),
        "{}",
        stderr(&set)
    );
    assert!(stderr(&set).contains("no window on "), "{}", stderr(&set));

    // `status` agrees, with the plan as the watcher holds it and the days that have no window.
    let status = v.ok(&["status"], "");
    assert!(status.contains(&expected), "{status}");
    assert!(
        status.contains(&format!(
            "plan: windows {window},{night} Asia/Dushanbe, no check-in on "
        )),
        "{status}"
    );
    assert!(
        status.contains("no deadline falls on such a day"),
        "{status}"
    );
    let shown = v.ok(&["plan", "show"], "");
    assert!(
        shown.contains(&format!("plan: windows {window},{night}")),
        "{shown}"
    );
    // In Russian, the weekday too.
    let russian = v.ok(&["--lang", "ru", "status"], "");
    let ru_day =
        ["пн", "вт", "ср", "чт", "пт", "сб", "вс"][day.weekday().to_monday_zero_offset() as usize];
    assert!(
        russian.contains(&format!(
            "следующий срок {ru_day} {}",
            day.strftime("%Y-%m-%d")
        )),
        "{russian}"
    );

    // A day that does not exist is refused before anything is sent, naming the days.
    let bad = v.run(
        &[
            "plan",
            "set",
            "--window",
            "funday/09:00-11:00",
            "--tz",
            "Asia/Dushanbe",
            "--grace",
            "1h",
        ],
        "",
    );
    assert_eq!(code(&bad), 2, "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("\"funday\" is not a day of the week: give mon, tue"),
        "{}",
        stderr(&bad)
    );
    assert!(v.ok(&["status"], "").contains(&expected));
}

/// A proxy the coercer set under the duress passphrase stays the decoy's: the journalist's
/// next real unlock does not put theirs back (which would tell of a view above), while the
/// real view keeps its own. (The time zone is kept the same way.)
#[test]
fn a_proxy_set_under_duress_stays_the_decoys_after_a_real_unlock() {
    let (v, _daemon) = enrolled();
    let duress = v.set_duress("the duress words");
    v.ok(&["proxy", "set", "socks5h://127.0.0.1:9050"], "");
    let shown = |pass: Option<&std::path::Path>| match pass {
        Some(p) => stdout(&v.run_with_pass(p, &["proxy", "show"], "")),
        None => stdout(&v.run(&["proxy", "show"], "")),
    };
    // The decoy follows the real view so far.
    assert!(
        shown(Some(&duress)).contains("127.0.0.1:9050"),
        "{}",
        shown(Some(&duress))
    );
    // The coercer points the decoy elsewhere.
    let forced = v.run_with_pass(&duress, &["proxy", "set", "socks5h://127.0.0.1:9999"], "");
    assert!(forced.status.success(), "{}", stderr(&forced));
    // The journalist unlocks for real; the decoy keeps what the coercer set.
    assert!(shown(None).contains("127.0.0.1:9050"));
    assert!(
        shown(Some(&duress)).contains("127.0.0.1:9999"),
        "{}",
        shown(Some(&duress))
    );
    // A later change by the journalist does not reach over it either.
    v.ok(&["proxy", "set", "socks5h://127.0.0.1:9150"], "");
    assert!(shown(Some(&duress)).contains("127.0.0.1:9999"));
}
