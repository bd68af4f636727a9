//! A posbon 0.1 watcher (its state in sled) is imported into SQLite the first time this
//! version opens it: the same subject, counter, queue and outbox, served as before, even when
//! the import is killed half-way, again and again.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::watcher::{Daemon, actions};
use posbon::protocol::{self, ops};
use posbon::switch::client::{self, Link};
use posbon::watch::store::Store;
use ring::signature::Ed25519KeyPair;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/watcher-0.1")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A copy of the 0.1 watcher's data directory in `temp`.
fn old_watcher(temp: &Path) -> PathBuf {
    let data = temp.join("watcher");
    copy_dir(&fixture().join("data"), &data);
    data
}

fn expected() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap()
}

fn contents(store: &Store) -> serde_json::Value {
    serde_json::json!({
        "subjects": store.subjects().unwrap(),
        "queued": store.queued().unwrap(),
        "pending": store.pending().unwrap(),
        "delivered": store.delivered(usize::MAX).unwrap(),
    })
}

#[test]
fn a_0_1_watcher_is_imported_and_serves_the_same_subject_counter_and_queue() {
    let temp = tempfile::tempdir().unwrap();
    let data = old_watcher(temp.path());
    let expected = expected();
    let mut link: Link =
        serde_json::from_slice(&std::fs::read(fixture().join("link.json")).unwrap()).unwrap();
    let device =
        Ed25519KeyPair::from_pkcs8(&std::fs::read(fixture().join("device.pk8")).unwrap()).unwrap();

    let daemon = Daemon::start(&data);
    assert!(!data.join("db").exists(), "the sled store is still there");
    assert_eq!(daemon.fingerprint, link.fingerprint, "the same watcher key");
    link.url = daemon.url.clone();

    // The counter came across: the last request the journalist sent cannot be replayed.
    let replay = protocol::sign_request(
        &device,
        &link.subject,
        ops::STATUS,
        posbon::vault::now(),
        link.last_counter,
        "{}".into(),
    );
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/v1/request", daemon.url))
        .json(&replay)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);

    // The subject is served: same name, same last check-in, answered with the same key.
    let (status, _) = client::call(
        &client::Route::Direct,
        &link,
        &device,
        ops::STATUS,
        "{}".into(),
        posbon::vault::now(),
    )
    .unwrap();
    let subject = &expected["subjects"][0];
    assert_eq!(status.name, subject["name"]);
    assert_eq!(
        status.last_checkin_ms,
        subject["state"]["last_checkin_ms"].as_i64()
    );
    assert!(daemon.stop());

    // The queue is the old one (the daemon may have added steps of a cycle missed since the
    // fixture was made, after it).
    let queued = actions(&data);
    let old = expected["queued"].as_array().unwrap();
    assert_eq!(&queued[..old.len()], &old[..]);
}

fn jitter(spread_ms: u64) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    Duration::from_micros(nanos / 1000 % (spread_ms * 1000))
}

#[test]
fn killing_the_watcher_while_it_imports_a_0_1_store_loses_nothing() {
    // Where each kill landed: before the old directory was renamed, while it was being
    // copied or removed, after the import.
    let mut landed = [0; 3];
    for round in 0..16 {
        let temp = tempfile::tempdir().unwrap();
        let data = old_watcher(temp.path());
        for _ in 0..2 {
            // `watch actions` opens the store, so it imports, then prints and exits.
            let mut child = common::posbon()
                .args(["watch", "actions", "--data"])
                .arg(&data)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // A debug build takes about 200 ms to import the fixture.
            std::thread::sleep(jitter(250));
            let _ = child.kill();
            child.wait().unwrap();
            let at = if data.join("db").exists() {
                0
            } else if data.join("db.importing").exists() {
                1
            } else {
                2
            };
            landed[at] += 1;
        }
        let store = Store::open(&data).unwrap();
        assert_eq!(contents(&store), expected(), "round {round}");
        assert!(!data.join("db").exists() && !data.join("db.importing").exists());
    }
    eprintln!(
        "kills before the rename / during the copy or removal / after: {landed:?}; nothing lost"
    );
}
