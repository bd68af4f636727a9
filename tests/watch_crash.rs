//! `kill -9` of the watcher at random moments: every step fires exactly once, and every
//! acknowledged check-in (and its counter) survives.

mod common;

use std::time::{Duration, Instant};

use common::receivers::free_port;
use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;
use posbon::protocol::{self, ops};
use posbon::switch::client;

fn jitter(round: u64, spread_ms: u64) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    Duration::from_millis((nanos ^ round.wrapping_mul(0x9E37_79B9)) % spread_ms)
}

#[test]
fn killing_the_watcher_at_random_moments_fires_each_step_exactly_once() {
    let v = TestVault::new();
    let data = v.path("watcher");
    let port = free_port();
    let daemon = Daemon::start_on(&data, port);
    let code = invite(&data, "Subject");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(&FAST_LADDER, "");
    let started = Instant::now();
    let mut daemon = Some(daemon);
    let mut kills = 0;
    while started.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(jitter(kills, 300));
        daemon.take().unwrap().kill_9();
        kills += 1;
        daemon = Some(Daemon::start_on(&data, port));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(daemon.take().unwrap().stop());
    let labels = action_labels(&actions(&data));
    assert_eq!(
        labels,
        vec!["remind", "tier1", "tier2", "release"],
        "after {kills} kills"
    );
    eprintln!("{kills} kills; each step fired exactly once");
}

#[test]
fn an_acknowledged_check_in_and_its_counter_survive_kill_9() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("watcher");
    let port = free_port();
    let mut daemon = Daemon::start_on(&data, port);
    let code = invite(&data, "Subject");
    let pkcs8 =
        ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let device = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let pkcs8 =
        ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let duress = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let mut link =
        client::enrol(&client::Route::Direct, &daemon.url, &code, &device, &duress).unwrap();
    for round in 0..10 {
        let now = posbon::vault::now();
        let (status, counter) = client::call(
            &client::Route::Direct,
            &link,
            &device,
            ops::CHECKIN,
            "{}".into(),
            now,
        )
        .unwrap();
        link.last_counter = counter;
        let acknowledged = status.last_checkin_ms;
        assert!(acknowledged.is_some());
        daemon.kill_9();
        daemon = Daemon::start_on(&data, port);
        let (after, counter) = client::call(
            &client::Route::Direct,
            &link,
            &device,
            ops::STATUS,
            "{}".into(),
            posbon::vault::now(),
        )
        .unwrap();
        link.last_counter = counter;
        assert_eq!(
            after.last_checkin_ms, acknowledged,
            "round {round}: the check-in was lost"
        );
        // The counter survived too: the acknowledged request cannot be replayed.
        let replay = protocol::sign_request(
            &device,
            &link.subject,
            ops::CHECKIN,
            now,
            counter,
            "{}".into(),
        );
        let response = reqwest::blocking::Client::new()
            .post(format!("{}/v1/request", daemon.url))
            .json(&replay)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 409, "round {round}");
    }
}

/// A journalist's keys and link, talking to the watcher without a vault.
struct Journalist {
    device: ring::signature::Ed25519KeyPair,
    link: client::Link,
}

impl Journalist {
    fn enrol(data: &std::path::Path, url: &str, name: &str) -> Journalist {
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
            &invite(data, name),
            &device,
            &key(),
        )
        .unwrap();
        Journalist { device, link }
    }

    /// Sends one request; the counter it used counts as spent even when no answer came,
    /// since the watcher may have stored it.
    fn call(&mut self, op: &str, payload: &str) -> Result<(protocol::StatusResponse, u64), ()> {
        let now = posbon::vault::now();
        let counter = ((now as u64) * 1000).max(self.link.last_counter + 1);
        let result = client::call(
            &client::Route::Direct,
            &self.link,
            &self.device,
            op,
            payload.into(),
            now,
        );
        self.link.last_counter = counter;
        result.map_err(|_| ())
    }
}

/// Checks the newest acknowledged check-in and its counter after a restart.
fn assert_survived(j: &mut Journalist, acknowledged: Option<(i64, u64)>, kills: u64) {
    let Some((checkin_ms, counter)) = acknowledged else {
        return;
    };
    let (status, _) = j.call(ops::STATUS, "{}").expect("status after a restart");
    // Later, unacknowledged check-ins may have been stored too; never fewer.
    assert!(
        status.last_checkin_ms >= Some(checkin_ms),
        "after {kills} kills: the check-in acknowledged at {checkin_ms} was lost \
         (the watcher has {:?})",
        status.last_checkin_ms
    );
    let replay = protocol::sign_request(
        &j.device,
        &j.link.subject,
        ops::CHECKIN,
        posbon::vault::now(),
        counter,
        "{}".into(),
    );
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/v1/request", j.link.url))
        .json(&replay)
        .send()
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        409,
        "after {kills} kills: an acknowledged counter was forgotten"
    );
}

/// Every step of every cycle fired at most once, in ladder order with no gap, and the last
/// cycle (left to run out) fired them all.
/// Returns (cycles, steps).
fn assert_each_step_fired_once(
    actions: &[serde_json::Value],
    subject: &str,
    kills: u64,
) -> (usize, usize) {
    let ladder = ["remind", "tier1", "tier2", "release"];
    let mut cycles: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for action in actions.iter().filter(|a| a["subject"] == subject) {
        if action["emitted"]["kind"] == "step" {
            let cycle = action["emitted"]["cycle"].as_u64().unwrap();
            let label = action_labels(std::slice::from_ref(action)).remove(0);
            cycles.entry(cycle).or_default().push(label);
        }
    }
    for (cycle, fired) in &cycles {
        assert_eq!(
            fired[..],
            ladder[..fired.len()],
            "after {kills} kills: cycle {cycle} fired {fired:?}"
        );
    }
    let (last, fired) = cycles.iter().next_back().expect("some steps fired");
    assert_eq!(
        fired[..],
        ladder[..],
        "after {kills} kills: last cycle {last}"
    );
    (cycles.len(), cycles.values().map(Vec::len).sum())
}

/// How many kills the loop below makes: `POSBON_KILLS` (tests/crash-loops.sh sets it), or
/// a number `cargo test` runs in well under a minute.
fn kills_wanted() -> u64 {
    std::env::var("POSBON_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100)
}

#[test]
fn killing_the_watcher_back_to_back_even_while_it_starts_loses_no_acknowledged_check_in_and_fires_each_step_once()
 {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("watcher");
    let port = free_port();
    let daemon = Daemon::start_on(&data, port);
    let mut escalating = Journalist::enrol(&data, &daemon.url, "Escalating");
    let mut checking = Journalist::enrol(&data, &daemon.url, "Checking in");
    let plan = r#"{"schedule":{"kind":"every","every_ms":1000},"grace_ms":0,"steps":[
        {"action":"remind-journalist","after_ms":0},{"action":{"alert-tier":1},"after_ms":1000},
        {"action":{"alert-tier":2},"after_ms":2000},{"action":"release","after_ms":3000}]}"#;
    escalating.call(ops::PLAN, plan).unwrap();
    daemon.kill_9();

    let wanted = kills_wanted();
    let started = Instant::now();
    let mut acknowledged: Option<(i64, u64)> = None;
    let mut next_escalating_checkin = Instant::now();
    let (mut kills, mut while_starting, mut checkins) = (0, 0, 0);
    while kills < wanted {
        // One start in four is killed within a few ms: while it opens the store.
        if jitter(kills, 4).as_millis() == 0 {
            let mut child = common::posbon()
                .args(["watch", "serve", "--data"])
                .arg(&data)
                .args(["--listen", &format!("127.0.0.1:{port}")])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(jitter(kills, 15));
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
            while_starting += 1;
            continue;
        }
        // Must open, whatever the kills before left behind.
        let daemon = Daemon::start_on(&data, port);
        assert_survived(&mut checking, acknowledged, kills);
        // The escalating subject checks in now and then, so that new cycles escalate (and
        // all-clears go out) all along the loop.
        if Instant::now() >= next_escalating_checkin {
            let _ = escalating.call(ops::CHECKIN, "{}");
            next_escalating_checkin =
                Instant::now() + Duration::from_millis(1500) + jitter(kills, 3000);
        }
        // Check-ins back to back until the kill, from another thread.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let load = {
            let stop = stop.clone();
            let mut j = checking;
            std::thread::spawn(move || {
                let (mut newest, mut count) = (None, 0);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match j.call(ops::CHECKIN, "{}") {
                        Ok((status, counter)) => {
                            newest = Some((status.last_checkin_ms.unwrap(), counter));
                            count += 1;
                        }
                        Err(()) => break,
                    }
                }
                (j, newest, count)
            })
        };
        std::thread::sleep(jitter(kills, 100));
        daemon.kill_9();
        kills += 1;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (j, newest, count) = load.join().unwrap();
        checkins += count;
        checking = j;
        acknowledged = newest.or(acknowledged);
    }
    // Left alone, the escalating subject's last cycle runs to its release step.
    let daemon = Daemon::start_on(&data, port);
    assert_survived(&mut checking, acknowledged, kills);
    std::thread::sleep(Duration::from_millis(4500));
    assert!(daemon.stop());
    let (cycles, steps) =
        assert_each_step_fired_once(&actions(&data), &escalating.link.subject, kills);
    eprintln!(
        "{kills} kills ({while_starting} while starting) in {:.1} s; {checkins} check-ins \
         acknowledged, the newest always kept; {steps} steps in {cycles} cycles, each fired once",
        started.elapsed().as_secs_f64()
    );
}
