//! Real and duress answers compared, interleaved: how long the watcher takes to answer a
//! signed check-in with the device key and with the duress key, and a phone check-in with the
//! PIN and with the duress PIN. Each duress answer here raises a new silent alert (a real one
//! comes between, which ends the episode), the worst case; the alerts are built after the
//! answer, as the delivery loop does, outside the measured time. Prints the medians and their
//! difference (issue 12, finding 8). Run with `cargo bench --bench duress_answers`; a
//! benchmark, not a test: timing on a shared machine is noisy.

use std::time::Instant;

use posbon::watch::contacts::{Channel, Contact, Directory, Lang};
use posbon::watch::phone::Phone;
use posbon::watch::plan::{Plan, PlanSpec};
use posbon::watch::protocol::{self, PhoneCheckinRequest, ops};
use posbon::watch::schedule::State;
use posbon::watch::service::Watcher;
use posbon::watch::store::{Store, Subject};
use ring::signature::Ed25519KeyPair;

const ROUNDS: usize = 1_000;

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

fn plan() -> Plan {
    PlanSpec {
        every: Some("1d".into()),
        grace: "1h".into(),
        ..PlanSpec::default()
    }
    .build()
    .unwrap()
}

/// Four contacts in tiers 1 and 2, two channels each: a duress alert signs four alerts.
fn directory() -> Directory {
    Directory {
        contacts: (0..4)
            .map(|i| Contact {
                name: format!("contact {i}"),
                role: "lawyer".into(),
                lang: Lang::Ru,
                tiers: vec![1 + (i % 2) as u8],
                channels: vec![
                    Channel::Email(format!("c{i}@example.org")),
                    Channel::Telegram(format!("-100{i}")),
                ],
                tz: None,
                age_recipients: vec![],
            })
            .collect(),
        instructions: "Call the lawyer on record first.".into(),
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    // tmpfs where there is one: the fsync of each commit would drown the difference.
    let base = ["/dev/shm", "/tmp"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_dir())
        .unwrap();
    let temp = tempfile::tempdir_in(base).unwrap();
    let (device, duress) = (key(), key());
    let secret = [7u8; 32];
    let now = posbon::vault::now();
    {
        let store = Store::open(temp.path()).unwrap();
        let mut subject = Subject::enrolled(
            "s".into(),
            "Nilufar".into(),
            protocol::public_key(&device),
            protocol::public_key(&duress),
            now,
        );
        subject.plan = Some(plan());
        subject.state = State::starting(now);
        subject.directory = directory();
        subject.phones.push(Phone::new(
            "p".into(),
            &secret,
            "285071",
            "930462",
            now,
            None,
        ));
        store.commit(&subject, &[], now).unwrap();
    }
    let watcher = Watcher::open(temp.path()).unwrap();
    let mut counter = 0u64;
    let mut signed = |k: &Ed25519KeyPair| {
        counter += 1;
        let now = posbon::vault::now();
        let request = protocol::sign_request(k, "s", ops::CHECKIN, now, counter, "{}".into());
        let started = Instant::now();
        watcher.handle(&request, now).unwrap();
        let took = started.elapsed().as_secs_f64() * 1e3;
        watcher.stage_deferred(now).unwrap();
        took
    };
    let (mut real, mut forced) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        real.push(signed(&device));
        forced.push(signed(&duress));
    }
    let phone = |pin: &str| {
        let now = posbon::vault::now();
        // A phone set up before check-ins were signed: the PIN path is the same for both.
        let request = PhoneCheckinRequest {
            device_id: "p".into(),
            device_secret: Some(protocol::b64(&secret)),
            pin: Some(pin.into()),
            ..Default::default()
        };
        let started = Instant::now();
        watcher
            .phone_checkin(&request, "127.0.0.1".parse().unwrap(), now)
            .unwrap();
        let took = started.elapsed().as_secs_f64() * 1e3;
        watcher.stage_deferred(now).unwrap();
        took
    };
    let (mut pin, mut duress_pin) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        pin.push(phone("285071"));
        duress_pin.push(phone("930462"));
    }
    println!(
        "| answer ({ROUNDS} each, interleaved) | real, median ms | duress, median ms | difference ms |"
    );
    println!("| --- | --- | --- | --- |");
    for (what, a, b) in [
        ("signed check-in", real, forced),
        ("phone check-in", pin, duress_pin),
    ] {
        let (a, b) = (median(a), median(b));
        println!("| {what} | {a:.3} | {b:.3} | {:+.3} |", b - a);
    }
}
