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

/// A watcher that released a bundle to Dilnoza (a lawyer, by e-mail and a webhook), with
/// Farrukh (an editor, by webhook) alerted too: what each received.
struct Released {
    v: TestVault,
    hub: Receiver,
    smtp: SmtpSink,
    w: Daemon,
    /// The draft sealed in the bundle, and the bundle's id.
    note: String,
    id: String,
    /// Dilnoza's public key, which the client must not leave on the watcher.
    recipient: String,
    mail: Vec<u8>,
    mail_text: String,
    hook_text: String,
}

/// `attachment` bytes of incompressible data go into the bundle (none if 0).
fn released(attachment: usize) -> Released {
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
    let editor = format!("{}/hook/farrukh", hub.url());
    v.ok(
        &[
            "contact",
            "add",
            "Farrukh",
            "--lang",
            "en",
            "--tier",
            "2",
            "--role",
            "editor",
            "--webhook",
            &editor,
        ],
        "",
    );
    let note = v.add_draft("Statement", "what the documents show");
    if attachment > 0 {
        let mut rng = Rng::seeded();
        let bytes: Vec<u8> = (0..attachment).map(|_| rng.below(256) as u8).collect();
        let file = v.path("scan.bin");
        std::fs::write(&file, bytes).unwrap();
        v.ok(&["attach", &note, file.to_str().unwrap()], "");
    }
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
    let r = Released {
        v,
        hub,
        smtp,
        w,
        note,
        id,
        recipient,
        mail: Vec::new(),
        mail_text: String::new(),
        hook_text: String::new(),
    };
    wait_until(
        "the release by e-mail and webhook",
        Duration::from_secs(40),
        || r.release_mail().is_some() && r.release_hook().is_some(),
    );
    let mail = r.release_mail().unwrap();
    let hook_json = r.release_hook().unwrap().json();
    Released {
        mail_text: mail_text(&mail),
        mail,
        hook_text: hook_json["text"].as_str().unwrap().to_string(),
        ..r
    }
}

impl Released {
    fn release_mail(&self) -> Option<Vec<u8>> {
        SmtpSink::messages(&self.smtp.dir)
            .into_iter()
            .find(|m| header_line(&mail_text(m), "step") == "release")
    }

    fn release_hook(&self) -> Option<common::receivers::Received> {
        self.hub
            .received()
            .into_iter()
            .find(|r| r.path == "/hook/dilnoza" && r.json()["step"] == "release")
    }

    /// The texts of the webhook deliveries to `path` whose step is `step`.
    fn hooked(&self, path: &str, step: &str) -> Vec<String> {
        self.hub
            .received()
            .iter()
            .filter(|r| r.path == path && r.json()["step"] == step)
            .map(|r| r.json()["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The texts of the e-mails whose step is `step`.
    fn mailed(&self, step: &str) -> Vec<String> {
        SmtpSink::messages(&self.smtp.dir)
            .iter()
            .map(|m| mail_text(m))
            .filter(|t| header_line(t, "step") == step)
            .collect()
    }
}

/// Issue 15: enrolling with another watcher after one released a bundle. The bundle is
/// sealed again for the new watcher; the one that released it keeps the released file (it
/// is frozen until its links expire), which is said and is no failure; check-ins pass.
#[test]
fn enrolling_after_a_release_sends_the_new_version_and_leaves_the_released_one() {
    let r = released(0);
    let v = &r.v;
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    let held = std::fs::read(walk_files(&r.w.data.join("bundles"))[0].clone()).unwrap();
    let b = Daemon::start(&v.path("b"));
    let enrolled = v.run(&["enrol", &b.url, &invite(&b.data, "Rustam Nazarov")], "");
    assert_eq!(code(&enrolled), 0, "{}", stderr(&enrolled));
    let name = format!("bundle {}", &r.id[..6]);
    assert!(
        stdout(&enrolled).contains(&format!(
            "bundle {} ({name}): sealed again as version 2 and stored on every watcher but \
             those named below",
            r.id
        )),
        "{}",
        stdout(&enrolled)
    );
    assert!(
        stderr(&enrolled).contains(&format!(
            "{} released bundle {} ({name}) earlier: it keeps the released version until its \
             links expire",
            r.w.url, r.id
        )),
        "{}",
        stderr(&enrolled)
    );
    assert!(
        !stderr(&enrolled).contains("WARNING"),
        "{}",
        stderr(&enrolled)
    );
    // The released file is the one the alert named; the new watcher holds version 2.
    let files = walk_files(&r.w.data.join("bundles"));
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap(), held);
    assert_eq!(
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &held)),
        header_sha(&r.mail_text)
    );
    assert_eq!(walk_files(&b.data.join("bundles")).len(), 1);
    let checked_in = v.run(&["checkin"], "");
    assert_eq!(code(&checked_in), 0, "{}", stderr(&checked_in));
}

/// Every file below `dir`.
fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_stranger_with_the_webhook_link_cannot_take_the_lawyers_download_or_the_bundle() {
    let r = released(0);
    let (v, hub, w) = (&r.v, &r.hub, &r.w);
    let (mail, mail_text, hook_text) = (&r.mail, &r.mail_text, &r.hook_text);
    let (note, id) = (&r.note, &r.id);
    let recipient = &r.recipient;
    let hook_json = r.release_hook().unwrap().json();

    // Each channel carries its own links, for download and for acknowledgement.
    let mail_download = links(mail_text, &w.url, "b");
    let hook_download = links(hook_text, &w.url, "b");
    let mail_ack = links(mail_text, &w.url, "a");
    let hook_ack = links(hook_text, &w.url, "a");
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
        ("hook.json", r.release_hook().unwrap().body),
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

    // A stranger who read the webhook's log fires many downloads at once: each is served
    // or told to come back later (a link has two download slots), none uses anything up.
    let stranger = hook_download[0].clone();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let link = stranger.clone();
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                (0..4)
                    .map(|_| {
                        let answer = http.post(&link).send().unwrap();
                        let status = answer.status().as_u16();
                        if status == 503 {
                            assert!(answer.headers().contains_key("retry-after"));
                        } else {
                            assert_eq!(status, 200);
                            answer.bytes().unwrap();
                        }
                        status
                    })
                    .filter(|s| *s == 200)
                    .count()
            })
        })
        .collect();
    let served: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(served > 0, "nothing to use up, so something was served");
    // The lawyer's own download still works, and is the file the alert names.
    let http = reqwest::blocking::Client::new();
    let sha = header_sha(mail_text);
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
    v.ok(&["edit", note, "--stdin-body"], "something else entirely");
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
    // The journalist sees that it was released, and until when, not "active" alone; and the
    // refused removal is not left as one to repeat at every check-in.
    let status = v.ok(&["status"], "");
    assert!(
        status.contains(&format!("bundle {id} (version 1) was released")),
        "{status}"
    );
    let checked = v.run(&["release", "check"], "");
    assert!(
        stdout(&checked).contains("can download it until"),
        "{}",
        stdout(&checked)
    );
    assert!(
        stdout(&checked).contains("holds all 1 bundle(s)"),
        "{}",
        stdout(&checked)
    );
}

/// The SHA-256 the alert states for the one bundle it releases.
fn header_sha(text: &str) -> String {
    let at = text.find("SHA-256 ").expect("the alert states a SHA-256") + "SHA-256 ".len();
    text[at..at + 64].to_string()
}

/// The daemon's resident memory, in bytes.
fn rss(w: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", w.child.id())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kb * 1024
}

/// A download through `link` that reads the answer's head and then nothing more: its status,
/// its Retry-After, and the connection, left open (`None` if the watcher closed it at once).
fn stalled_download(link: &str) -> Option<(u16, Option<String>, std::net::TcpStream)> {
    use std::io::{Read, Write};
    let rest = link.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let retry_after = head.lines().find_map(|l| {
        l.to_lowercase()
            .strip_prefix("retry-after: ")
            .map(str::to_string)
    });
    Some((status, retry_after, stream))
}

#[test]
fn stalled_downloads_of_a_leaked_link_cost_a_small_buffer_and_the_lawyer_still_downloads() {
    const BUNDLE: usize = 8 * 1024 * 1024;
    let r = released(BUNDLE);
    let hook_link = links(&r.hook_text, &r.w.url, "b").remove(0);
    let mail_link = links(&r.mail_text, &r.w.url, "b").remove(0);
    let before = rss(&r.w);
    // Whoever read the webhook's log starts 64 downloads and reads none of them.
    let mut held = Vec::new();
    let (mut busy, mut closed) = (0, 0);
    for _ in 0..64 {
        match stalled_download(&hook_link) {
            Some((200, _, stream)) => held.push(stream),
            Some((503, retry_after, _)) => {
                assert!(retry_after.is_some(), "503 says when to come back");
                busy += 1;
            }
            Some((status, ..)) => panic!("unexpected answer {status}"),
            None => closed += 1,
        }
    }
    // Let the watcher write what it can into the stalled connections.
    std::thread::sleep(Duration::from_secs(2));
    let after = rss(&r.w);
    let grown = after.saturating_sub(before);
    eprintln!(
        "64 stalled downloads of a {} MiB bundle: {} served and stalled, {busy} told 503, \
         {closed} closed; RSS {} -> {} MiB (+{} KiB)",
        BUNDLE >> 20,
        held.len(),
        before >> 20,
        after >> 20,
        grown >> 10
    );
    assert!(held.len() <= 2, "two download slots per link");
    assert!(
        grown < BUNDLE as u64,
        "memory grew by {grown} bytes: less than one bundle, however many downloads stall"
    );
    // The lawyer's own link still downloads the whole file the alert names.
    let bytes = reqwest::blocking::Client::new()
        .post(&mail_link)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert!(bytes.len() > BUNDLE);
    assert_eq!(
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes)),
        header_sha(&r.mail_text)
    );
    // Once the stalled connections are gone, the leaked link's slots are free again.
    drop(held);
    wait_until("the slots to be freed", Duration::from_secs(10), || {
        matches!(stalled_download(&hook_link), Some((200, ..)))
    });
}

#[test]
fn a_bundle_changed_on_disk_is_refused_not_served() {
    let r = released(0);
    let link = links(&r.mail_text, &r.w.url, "b").remove(0);
    let http = reqwest::blocking::Client::new();
    let first = http.post(&link).send().unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let good = first.bytes().unwrap();
    // Someone with access to the watcher's disk changes a byte of the released file, keeps
    // its size, and puts its modification time back.
    let file = std::fs::read_dir(r.w.data.join("bundles"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "age"))
        .expect("the released bundle's file");
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let answer = http.post(&link).send().unwrap();
    assert_eq!(answer.status().as_u16(), 409);
    let body: serde_json::Value = answer.json().unwrap();
    assert_eq!(body["error"], "bundle_changed");
    // Put back as it was, it is served again: the check is of the bytes the alert names.
    bytes[middle] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let again = http.post(&link).send().unwrap();
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.bytes().unwrap(), good);
}

#[test]
fn a_stranger_who_confirms_through_the_webhook_link_is_shown_as_such_to_everyone() {
    let r = released(0);
    let hook_ack = links(&r.hook_text, &r.w.url, "a").remove(0);
    let mail_ack = links(&r.mail_text, &r.w.url, "a").remove(0);
    // Whoever read the webhook's log says "I am on it" in her name.
    let http = reqwest::blocking::Client::new();
    let page = http.post(&hook_ack).send().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    // The editor learns through which of her channels it came.
    wait_until("the editor's notice", Duration::from_secs(20), || {
        !r.hooked("/hook/farrukh", "ack").is_empty()
    });
    let told = r.hooked("/hook/farrukh", "ack").remove(0);
    assert!(
        told.contains("Dilnoza (lawyer) confirmed")
            && told.contains("through the link sent to them by webhook"),
        "{told}"
    );
    // She is told on both her channels, and what to do if it was not her.
    wait_until("her own notices", Duration::from_secs(20), || {
        !r.hooked("/hook/dilnoza", "ack-confirmed").is_empty()
            && !r.mailed("ack-confirmed").is_empty()
    });
    let mailed = r.mailed("ack-confirmed").remove(0);
    assert!(
        mailed.contains("Through the link sent to you by webhook")
            && mailed.contains("If that was not you"),
        "{mailed}"
    );
    // Her own e-mail link does not thank her for it: it says when and through which channel.
    let page = http.get(&mail_ack).send().unwrap().text().unwrap();
    assert!(page.contains("was already confirmed"), "{page}");
    assert!(page.contains("through the link sent by webhook"), "{page}");
    assert!(!page.contains("<form"), "nothing left to confirm: {page}");
    let again = http.post(&mail_ack).send().unwrap().text().unwrap();
    assert!(again.contains("was already confirmed"), "{again}");
}
