//! The lawyer's links, attacked through the real daemon: one lawyer reached by e-mail and a
//! webhook, a bundle released to her, and a stranger who read the webhook's log. The
//! stranger's many concurrent downloads do not stop hers and she is told of them; the
//! e-mail's token is nowhere in the watcher's data directory; the two channels carry
//! different links; a released bundle cannot be withdrawn or swapped; her public key is not
//! on the watcher.

mod common;

use std::time::Duration;

use common::receivers::{Receiver, SmtpSink};
use common::watcher::{Daemon, invite};
use common::*;

/// The value of a `name: value` header line of an alert text.
fn header_line(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
        .to_string()
}

/// Every link `{base}/{kind}/TOKEN` in `text`.
fn links(text: &str, base: &str, kind: &str) -> Vec<String> {
    let prefix = format!("{base}/{kind}/");
    text.split(|c: char| c.is_whitespace() || c == '"')
        .filter_map(|w| w.strip_prefix(&prefix))
        .map(|t| {
            t.chars()
                .take_while(|c| c.is_ascii_hexdigit())
                .collect::<String>()
        })
        .filter(|t| t.len() == 32)
        .map(|t| format!("{prefix}{t}"))
        .collect()
}

fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .unwrap_or_default()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_stranger_with_the_webhook_link_cannot_take_the_lawyers_download_or_the_bundle() {
    let v = TestVault::new();
    let hub = Receiver::start();
    let smtp = SmtpSink::start(&v.path("mail"));
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"3s\"\nallow_private_addresses = true\n",
    )
    .unwrap();
    let w = Daemon::start_with(
        &v.path("watcher"),
        0,
        &["--config", config.to_str().unwrap(), "--smtp", &smtp.url()],
    );
    let code = invite(&w.data, "Rustam Nazarov");
    v.ok(&["enrol", &w.url, &code], "");
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    let hook = format!("{}/hook/dilnoza", hub.url());
    v.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "en",
            "--tier",
            "2",
            "--role",
            "lawyer",
            "--email",
            "dilnoza@example.org",
            "--webhook",
            &hook,
            "--age-recipient",
            &recipient,
        ],
        "",
    );
    let note = v.add_draft("Statement", "what the documents show");
    v.ok(&["release", "add", &note, "--to", "Dilnoza", "--yes"], "");
    let id = v
        .ok(&["release", "list"], "")
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    v.ok(
        &[
            "plan",
            "set",
            "--every",
            "2s",
            "--grace",
            "0s",
            "--step",
            "release:0s",
        ],
        "",
    );
    let release_mail = || {
        SmtpSink::messages(&smtp.dir)
            .into_iter()
            .find(|m| header_line(&mail_text(m), "step") == "release")
    };
    let release_hook = || {
        hub.received()
            .into_iter()
            .find(|r| r.path == "/hook/dilnoza" && r.json()["step"] == "release")
    };
    wait_until(
        "the release by e-mail and webhook",
        Duration::from_secs(40),
        || release_mail().is_some() && release_hook().is_some(),
    );
    let mail = release_mail().unwrap();
    let mail_text = mail_text(&mail);
    let hook_json = release_hook().unwrap().json();
    let hook_text = hook_json["text"].as_str().unwrap().to_string();

    // Each channel carries its own links, for download and for acknowledgement.
    let mail_download = links(&mail_text, &w.url, "b");
    let hook_download = links(&hook_text, &w.url, "b");
    let mail_ack = links(&mail_text, &w.url, "a");
    let hook_ack = links(&hook_text, &w.url, "a");
    assert_eq!(mail_download.len(), 1, "{mail_text}");
    assert_eq!(hook_download.len(), 1, "{hook_text}");
    assert_ne!(mail_download, hook_download);
    assert_ne!(mail_ack, hook_ack);
    assert_eq!(hook_json["bundles"][0]["url"], hook_download[0].as_str());
    // No attachment unless she asked for one: the mail provider would keep it for ever.
    let parsed = mail_parser::MessageParser::default().parse(&mail).unwrap();
    assert_eq!(parsed.attachments().count(), 0);
    // Both verify as received: the text was signed with its links in.
    let dir = v.path("lawyer");
    std::fs::create_dir(&dir).unwrap();
    for (name, bytes) in [
        ("mail.eml", mail.clone()),
        ("hook.json", release_hook().unwrap().body),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let out = posbon()
            .args(["alert", "verify", "--watcher", &w.fingerprint])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
    }

    // Nothing in the watcher's data directory holds a token, nor her public key.
    for link in mail_download.iter().chain(&mail_ack).chain(&hook_download) {
        let token = link.rsplit('/').next().unwrap();
        assert_eq!(
            files_holding(&w.data, token.as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "{token}"
        );
    }
    assert!(files_holding(&w.data, recipient.as_bytes()).is_empty());

    // A stranger who read the webhook's log fires many downloads at once.
    let stranger = hook_download[0].clone();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let link = stranger.clone();
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                (0..4)
                    .map(|_| http.post(&link).send().map(|r| r.status().as_u16()))
                    .filter(|s| s.as_ref().is_ok_and(|s| *s == 200))
                    .count()
            })
        })
        .collect();
    let served: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(served, 64, "nothing to use up, so nothing refused");
    // The lawyer's own download still works, and is the file the alert names.
    let http = reqwest::blocking::Client::new();
    let sha = header_sha(&mail_text);
    let bytes = http
        .post(&mail_download[0])
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes)),
        sha
    );
    // She is told of the downloads through the webhook's link, on her channels.
    wait_until("the download notice", Duration::from_secs(20), || {
        hub.received()
            .iter()
            .any(|r| r.path == "/hook/dilnoza" && r.json()["step"] == "download")
    });

    // The bundle was released: neither withdrawn nor swapped.
    v.ok(&["edit", &note, "--stdin-body"], "something else entirely");
    let updated = v.run(&["release", "update", &id[..8], "--yes"], "");
    assert!(!updated.status.success());
    assert!(
        stderr(&updated).contains("was released on"),
        "{}",
        stderr(&updated)
    );
    let removed = v.run(&["release", "remove", &id[..8]], "");
    assert!(!removed.status.success());
    assert!(
        stderr(&removed).contains("was released on"),
        "{}",
        stderr(&removed)
    );
    let again = http
        .post(&mail_download[0])
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(again, bytes, "the link still serves what the alert names");
}

/// The SHA-256 the alert states for the one bundle it releases.
fn header_sha(text: &str) -> String {
    let at = text.find("SHA-256 ").expect("the alert states a SHA-256") + "SHA-256 ".len();
    text[at..at + 64].to_string()
}
