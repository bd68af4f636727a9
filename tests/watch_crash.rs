//! `kill -9` of the watcher at random moments: every step fires exactly once, and every
//! acknowledged check-in (and its counter) survives.

mod common;

use std::time::{Duration, Instant};

use common::receivers::free_port;
use common::watcher::{Daemon, action_labels, actions, invite};
use common::*;
use posbon::watch::client;
use posbon::watch::protocol::{self, ops};

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
    let mut link = client::enrol(&daemon.url, &code, &device, &duress).unwrap();
    for round in 0..10 {
        let now = posbon::vault::now();
        let (status, counter) =
            client::call(&link, &device, ops::CHECKIN, "{}".into(), now).unwrap();
        link.last_counter = counter;
        let acknowledged = status.last_checkin_ms;
        assert!(acknowledged.is_some());
        daemon.kill_9();
        daemon = Daemon::start_on(&data, port);
        let (after, counter) = client::call(
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
