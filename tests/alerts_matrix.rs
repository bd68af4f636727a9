//! The Matrix channel against a real homeserver: Synapse on loopback (see
//! `tests/common/synapse.rs`), started once for this file's tests. A contact registers, makes a
//! room and invites the watcher's account; the watcher delivers a real alert; the contact reads
//! it back through the client API and checks it with `posbon alert verify`, as a lawyer would.
//! And the rule that keeps the account out of rooms nobody invited it to, as an attacker would
//! try it: a contact list naming a public room.

mod common;

use std::path::Path;
use std::time::Duration;

use common::synapse::{Account, Synapse};
use common::watcher::{Daemon, invite};
use common::*;

/// A journalist's vault enrolled with a watcher whose Matrix account is `account` on
/// `synapse`.
fn world(synapse: &Synapse, account: &Account) -> (TestVault, Daemon) {
    let v = TestVault::new();
    let token = v.secret_file("matrix-token", &account.token);
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\nurl = \"{}\"\ntoken_file = \"{}\"\n\n[delivery]\nretry_first = \"1s\"\n\
             retry_max = \"2s\"\ntimeout = \"10s\"\n",
            synapse.url,
            token.display()
        ),
    )
    .unwrap();
    let daemon = Daemon::start_with(
        &v.path("watcher"),
        0,
        &["--config", config.to_str().unwrap()],
    );
    let code = invite(&daemon.data, "Rustam Nazarov");
    v.ok(&["enrol", &daemon.url, &code], "");
    (v, daemon)
}

fn outbox(data: &Path) -> Vec<serde_json::Value> {
    let out = posbon()
        .args(["watch", "outbox", "--json", "--data"])
        .arg(data)
        .output()
        .unwrap();
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_alert_reaches_a_real_synapse_room_the_contact_invited_the_watcher_to_and_verifies() {
    let synapse = Synapse::shared();
    let watcher = synapse.register("watcher");
    let pavel = synapse.register("pavel");
    // Room version 12: an id with no server part, which `contact add` must take.
    let room = synapse.create_room(&pavel, "private_chat", &[&watcher.user_id]);
    assert!(!room.contains(':'), "a version 12 room id: {room}");
    let (v, daemon) = world(synapse, &watcher);
    v.ok(
        &[
            "contact", "add", "Pavel", "--lang", "ru", "--tier", "1", "--matrix", &room,
        ],
        "",
    );
    v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    let from_watcher = || -> Option<String> {
        synapse
            .messages(&pavel, &room)
            .into_iter()
            .find(|(sender, body)| *sender == watcher.user_id && body.contains("POSBON ALERT"))
            .map(|(_, body)| body)
    };
    wait_until("the alert in Pavel's room", Duration::from_secs(60), || {
        from_watcher().is_some()
    });
    v.ok(&["pause", "--for", "1h"], "");
    let body = from_watcher().unwrap();
    // As Pavel's client shows it: the title, then the signed alert, which verifies whole.
    let file = v.path("from-matrix.txt");
    std::fs::write(&file, &body).unwrap();
    let out = posbon()
        .args(["alert", "verify", "--watcher", &daemon.fingerprint])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}\n{body}", stderr(&out));
    assert!(stdout(&out).contains("step: tier1"), "{}", stdout(&out));
    assert!(
        synapse
            .joined_members(&pavel, &room)
            .contains(&watcher.user_id),
        "the account joined the room it was invited to"
    );
    wait_until("the delivery recorded", Duration::from_secs(20), || {
        outbox(&daemon.data)
            .iter()
            .any(|l| l["channel"] == format!("matrix:{room}") && l["state"] == "delivered")
    });
    let log = daemon.log();
    assert!(!log.contains(&watcher.token), "no access token in the log");
}

#[test]
fn the_watchers_account_never_joins_a_public_room_it_was_not_invited_to() {
    let synapse = Synapse::shared();
    let watcher = synapse.register("watcher");
    let olim = synapse.register("olim");
    // Anyone may join a public room by its id. A contact list naming one (a journalist's
    // mistake, or a coercer holding their keys) must not walk the watcher's account in and
    // post a subject's alert where anybody reads it.
    let public = synapse.create_room(&olim, "public_chat", &[]);
    let (v, daemon) = world(synapse, &watcher);
    v.ok(
        &[
            "contact", "add", "Olim", "--lang", "en", "--tier", "1", "--matrix", &public,
        ],
        "",
    );
    v.ok(
        &[
            "plan", "set", "--every", "1s", "--grace", "0s", "--step", "tier1:0s",
        ],
        "",
    );
    let channel = format!("matrix:{public}");
    wait_until("the refusal shown", Duration::from_secs(60), || {
        outbox(&daemon.data)
            .iter()
            .any(|l| l["channel"] == channel && l["state"] == "refused")
    });
    v.ok(&["pause", "--for", "1h"], "");
    let refused = outbox(&daemon.data)
        .into_iter()
        .find(|l| l["channel"] == channel)
        .unwrap();
    let error = refused["last_error"].as_str().unwrap();
    assert!(
        error.contains("M_FORBIDDEN")
            && error.contains("no invitation")
            && error.contains("must invite"),
        "{error}"
    );
    assert_eq!(
        synapse.joined_members(&olim, &public),
        vec![olim.user_id.clone()],
        "the watcher's account stayed out"
    );
    assert!(synapse.messages(&olim, &public).is_empty());
}
