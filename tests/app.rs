//! `posbon app` as its browser uses it and as a stranger tries it: the real binary on a real
//! vault, over HTTP on loopback. (The pages in a real browser: `app_browser.rs`.)

mod common;

use std::time::Duration;

use common::app::{App, record_ids};
use common::receivers::Receiver;
use common::watcher::{Daemon, enrolled_with, invite};
use common::*;

const HEADERS: [&str; 4] = [
    "cache-control",
    "content-security-policy",
    "x-frame-options",
    "referrer-policy",
];

fn assert_guarded(answer: &reqwest::blocking::Response, what: &str) {
    for name in HEADERS {
        assert!(answer.headers().contains_key(name), "{what}: no {name}");
    }
    assert_eq!(answer.headers()["cache-control"], "no-store, max-age=0");
}

#[test]
fn strangers_get_nothing_a_session_link_works_once_and_forms_need_the_apps_own_page() {
    let v = TestVault::new();
    let secret_title = "Source Rustam in the ministry";
    v.add_draft(secret_title, "met at the bazaar");
    let mut app = App::start(&v, &[], &[]);
    let base = app.base();
    let anonymous = app.client.clone();

    // No session: nothing, not even the unlock form.
    let answer = anonymous.get(format!("{base}/")).send().unwrap();
    assert_eq!(answer.status(), 401);
    assert_guarded(&answer, "a refusal");
    // A wrong token does not burn the real one; the real one works once.
    let wrong = anonymous
        .get(format!("{base}/?token={}", "0".repeat(64)))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 403);
    app.sign_in();
    let again = anonymous.get(&app.launch).send().unwrap();
    assert_eq!(again.status(), 403, "the launch link works once");
    assert!(again.headers().get("set-cookie").is_none());

    let page = app.page("/");
    assert!(page.contains("name=\"passphrase\""), "{page}");
    app.unlock(PASSPHRASE);
    let records = app.page("/");
    assert!(records.contains(secret_title));
    let id = record_ids(&records)[0].clone();

    // DNS rebinding: a page at evil.example, resolving to 127.0.0.1, with the cookie even.
    let cookie = app.cookie.clone().unwrap();
    let rebound = anonymous
        .get(format!("{base}/r/{id}"))
        .header("host", format!("evil.example:{}", app.port))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(rebound.status(), 403);
    assert!(!rebound.text().unwrap().contains(secret_title));

    // Forms posted from elsewhere: no Origin, another Origin, cross-site, no or a wrong token.
    let csrf = app.csrf.clone().unwrap();
    let attempts: [(&str, Option<&str>, Option<&str>, String); 5] = [
        ("no origin", None, None, csrf.clone()),
        (
            "other origin",
            Some("http://evil.example"),
            None,
            csrf.clone(),
        ),
        (
            "cross-site",
            Some(base.as_str()),
            Some("cross-site"),
            csrf.clone(),
        ),
        (
            "no token",
            Some(base.as_str()),
            Some("same-origin"),
            String::new(),
        ),
        (
            "wrong token",
            Some(base.as_str()),
            Some("same-origin"),
            "0".repeat(64),
        ),
    ];
    for (what, origin, site, token) in attempts {
        let mut request = anonymous
            .post(format!("{base}/r/{id}/delete?csrf={token}"))
            .header("cookie", &cookie);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let answer = request.send().unwrap();
        assert_eq!(answer.status(), 403, "{what}");
        assert_guarded(&answer, what);
    }
    assert!(app.page("/").contains(secret_title), "nothing was deleted");

    // Pages fetched by another site, or by a page on another port of this computer (which
    // the browser calls same-site and sends the cookie for), are refused too: some pages show
    // what they hold once, and a stranger's fetch would use it up.
    for site in ["same-site", "cross-site"] {
        let answer = anonymous
            .get(format!("{base}/r/{id}"))
            .header("cookie", &cookie)
            .header("sec-fetch-site", site)
            .send()
            .unwrap();
        assert_eq!(answer.status(), 403, "{site}");
        assert!(!answer.text().unwrap().contains(secret_title), "{site}");
    }

    // Every page the session gets carries the headers too; nothing is cached.
    let shown = app.get(&format!("/r/{id}"));
    assert_guarded(&shown, "a record page");
    let body = shown.text().unwrap();
    assert!(body.contains("met at the bazaar"));
    assert!(!body.contains("<script"), "the pages carry no script");
}

#[test]
fn records_are_added_found_read_edited_and_deleted_and_the_cli_sees_the_same_vault() {
    let v = TestVault::new();
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    app.page("/new/source");
    let added = app.submit(
        "/new/source",
        &[
            ("title", "Dilnoza <b>K.</b>"),
            ("field-contact", "Signal +992 00 000 0000"),
            ("field-trust", "reliable"),
            ("tags", "ministry, customs"),
            ("body", "Line one\r\n<script>alert(1)</script>"),
        ],
    );
    assert!(
        added.contains("Dilnoza &#60;b&#62;K.&#60;/b&#62;") && !added.contains("<b>K."),
        "escaped: {added}"
    );
    assert!(
        !added.contains("<script>alert"),
        "a record cannot inject markup"
    );
    assert!(added.contains("Signal +992 00 000 0000"));
    app.page("/new/draft");
    app.submit(
        "/new/draft",
        &[("title", "Customs story"), ("body", "draft text")],
    );

    // Search by a word of a field, case-insensitively, in a post (not in the address).
    let found = app.submit("/search", &[("words", "SIGNAL")]);
    assert!(
        found.contains("Dilnoza") && !found.contains("Customs story"),
        "{found}"
    );
    let id = record_ids(&found)[0].clone();

    app.page(&format!("/r/{id}/edit"));
    let edited = app.submit(
        &format!("/r/{id}/edit"),
        &[
            ("title", "Dilnoza K."),
            ("field-contact", "moved to Threema"),
            ("tags", "ministry"),
            ("body", "rewritten"),
        ],
    );
    assert!(edited.contains("moved to Threema") && !edited.contains("Signal +992"));

    // The app holds the vault while unlocked; locked, the CLI opens it and sees the same.
    app.page("/");
    let locked = app.submit("/lock", &[]);
    assert!(locked.contains("name=\"passphrase\""));
    let shown = v.ok(&["show", &id[..8]], "");
    assert!(
        shown.contains("moved to Threema") && shown.contains("rewritten"),
        "{shown}"
    );

    app.unlock(PASSPHRASE);
    app.page(&format!("/r/{id}/delete"));
    let after = app.submit(&format!("/r/{id}/delete"), &[]);
    assert!(after.contains("The record was deleted."), "{after}");
    app.submit("/lock", &[]);
    assert_eq!(v.listed_ids().len(), 1, "the draft is left");
}

/// The app's resident memory at its peak so far (VmHWM), in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_large_attachment_streams_in_and_out_without_being_held_in_memory_or_left_in_plaintext() {
    let v = TestVault::new();
    let id = v.add_draft("Leaked contract", "see file");
    let mut app = App::start(&v, &[], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    let full_id = record_ids(&app.page("/"))[0].clone();
    assert!(full_id.starts_with(&id[..8]));
    app.page(&format!("/r/{full_id}"));

    let mut rng = Rng::seeded();
    let size = 48 << 20;
    let mut file: Vec<u8> = (0..size / 8)
        .flat_map(|_| rng.below(u64::MAX).to_le_bytes())
        .collect();
    let marker = b"POSBON-MARKER-CONTRACT-7741";
    file[size / 2..size / 2 + marker.len()].copy_from_slice(marker);
    let before = peak_kib(app.pid());
    let answer = app.attach(&full_id, "contract.pdf", file.clone());
    let page = app.follow(answer);
    assert!(page.contains("contract.pdf"), "{page}");
    let grown_in = peak_kib(app.pid()).saturating_sub(before);

    let download = app.get(&format!("/r/{full_id}/file/0"));
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.headers()["content-type"],
        "application/octet-stream"
    );
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"),
        "always saved, never shown"
    );
    let after_upload = peak_kib(app.pid());
    assert_eq!(download.bytes().unwrap().as_ref(), &file[..]);
    let grown_out = peak_kib(app.pid()).saturating_sub(after_upload);
    // Held whole, 48 MiB would show at least once; streamed, only the vault's own pipeline
    // (three 4 MiB batches each way) and a few 64 KiB chunks are in flight.
    assert!(
        grown_in < 24 << 10,
        "the upload grew the app by {grown_in} KiB"
    );
    assert!(
        grown_out < 24 << 10,
        "the download grew the app by {grown_out} KiB"
    );

    app.page("/");
    app.submit("/lock", &[]);
    for (path, bytes) in v.files() {
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker),
            "{} holds the plaintext",
            path.display()
        );
    }
    let out = v.path("out.pdf");
    v.ok(
        &[
            "extract",
            &id[..8],
            "contract.pdf",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(std::fs::read(out).unwrap(), file);
}

#[test]
fn the_vault_locks_itself_when_left_alone_and_the_cli_can_open_it_then() {
    let v = TestVault::new();
    v.add_draft("Idle test", "x");
    let mut app = App::start(&v, &["--lock-after", "2s"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    assert!(app.page("/").contains("Idle test"));
    let in_use = v.run(&["list"], "");
    assert_eq!(code(&in_use), 6, "held while unlocked: {}", stderr(&in_use));
    wait_until("the idle lock", Duration::from_secs(20), || {
        v.run(&["list"], "").status.success()
    });
    let page = app.page("/");
    assert!(page.contains("name=\"passphrase\"") && !page.contains("Idle test"));
}

/// The start of an upload of `announced` bytes, sent by hand on a raw connection so that it
/// can stop half-way and hang there, as a browser on a dying line does. The connection is
/// returned open: the app must let go of the vault without waiting for it.
fn stalled_upload(app: &mut App, id: &str, announced: usize, sent: &[u8]) -> std::net::TcpStream {
    stalled_upload_to(app, &format!("/r/{id}/attach"), announced, sent)
}

/// The same, to any path that takes a file.
fn stalled_upload_to(
    app: &mut App,
    path: &str,
    announced: usize,
    sent: &[u8],
) -> std::net::TcpStream {
    use std::io::Write;
    let csrf = app.csrf.clone().expect("a page was read first");
    let head = "--stall\r\nContent-Disposition: form-data; name=\"file\"; \
                filename=\"recording.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n";
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    write!(
        stream,
        "POST {path}?csrf={csrf} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Cookie: {cookie}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         Content-Type: multipart/form-data; boundary=stall\r\nContent-Length: {length}\r\n\r\n{head}",
        port = app.port,
        cookie = app.cookie.as_deref().unwrap(),
        length = head.len() + announced,
    )
    .unwrap();
    stream.write_all(sent).unwrap();
    stream.flush().unwrap();
    stream
}

/// A download started by hand and never read past its first bytes: the app fills the
/// connection's buffers, then waits for a reader who does not come.
fn stalled_download(app: &App, path: &str) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n",
        port = app.port,
        cookie = app.cookie.as_deref().unwrap(),
    )
    .unwrap();
    let mut first = [0u8; 4096];
    let n = stream.read(&mut first).unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &first[..n]);
    stream
}

/// Whether the CLI can open the vault: only once the app let go of it (and of its keys).
fn cli_opens(v: &TestVault) -> bool {
    v.run(&["list"], "").status.success()
}

/// A review found that Lock waited for the transfer in hand, so that a stalled upload or
/// download kept the app, and the keys in it, open for as long as the browser liked. Lock,
/// the idle lock and a stop must each take the keys within seconds, whatever is in flight,
/// and what was half uploaded must leave nothing behind.
#[test]
fn lock_the_idle_lock_and_a_stop_take_the_keys_even_while_a_transfer_hangs() {
    let v = TestVault::new();
    let id = v.add_draft("Interview recording", "see file");
    let big = v.path("big.bin");
    let mut rng = Rng::seeded();
    let file: Vec<u8> = (0..(32 << 20) / 8)
        .flat_map(|_| rng.below(u64::MAX).to_le_bytes())
        .collect();
    std::fs::write(&big, &file).unwrap();
    v.ok(
        &["attach", &id, big.to_str().unwrap(), "--name", "big.bin"],
        "",
    );
    let marker = b"POSBON-MARKER-HALF-UPLOADED-5521";
    let mut half = vec![b'x'; 1 << 20];
    half[4096..4096 + marker.len()].copy_from_slice(marker);

    // Lock, pressed while an upload hangs half-way.
    let mut app = App::start(&v, &[], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    let full_id = record_ids(&app.page("/"))[0].clone();
    app.page(&format!("/r/{full_id}"));
    let _upload = stalled_upload(&mut app, &full_id, 64 << 20, &half);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!cli_opens(&v), "the app holds the vault while unlocked");
    let page = app.submit("/lock", &[]);
    assert!(page.contains("name=\"passphrase\""), "{page}");
    wait_until(
        "the vault let go after Lock",
        Duration::from_secs(10),
        || cli_opens(&v),
    );
    let shown = v.ok(&["show", &id[..8]], "");
    assert!(
        !shown.contains("recording.bin"),
        "nothing of the half upload: {shown}"
    );

    // Lock, pressed while a download is not being read.
    app.unlock(PASSPHRASE);
    app.page("/");
    let _download = stalled_download(&app, &format!("/r/{full_id}/file/0"));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!cli_opens(&v));
    app.submit("/lock", &[]);
    wait_until(
        "the vault let go during a download",
        Duration::from_secs(10),
        || cli_opens(&v),
    );

    // A backup (no length announced) cut off by Lock must end as a failed download, never
    // as a whole-looking file: the chunked body gets no proper end.
    app.unlock(PASSPHRASE);
    app.page("/backup");
    let words = "amber kettle orbit violin marsh";
    app.submit("/backup", &[("new", words), ("again", words)]);
    let mut backup = stalled_download(&app, "/backup/download");
    std::thread::sleep(Duration::from_millis(500));
    app.submit("/lock", &[]);
    wait_until(
        "the vault let go during a backup",
        Duration::from_secs(10),
        || cli_opens(&v),
    );
    let mut rest = Vec::new();
    backup
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let _ = std::io::Read::read_to_end(&mut backup, &mut rest);
    assert!(
        !rest.ends_with(b"0\r\n\r\n"),
        "a cut-off backup must not end like a whole one"
    );
    drop(app);

    // The idle lock, while an upload hangs: a hanging upload is not activity.
    let mut app = App::start(&v, &["--lock-after", "2s"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    app.page(&format!("/r/{full_id}"));
    let _upload = stalled_upload(&mut app, &full_id, 64 << 20, &half);
    wait_until(
        "the idle lock during a hung upload",
        Duration::from_secs(20),
        || cli_opens(&v),
    );
    drop(app);

    // A stop (SIGTERM), while an upload hangs: the app goes, and the vault is free.
    let mut app = App::start(&v, &[], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    app.page(&format!("/r/{full_id}"));
    let _upload = stalled_upload(&mut app, &full_id, 64 << 20, &half);
    std::thread::sleep(Duration::from_millis(500));
    let pid = app.pid().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_until(
        "the app to stop during a hung upload",
        Duration::from_secs(15),
        || app.child.try_wait().unwrap().is_some(),
    );
    assert!(cli_opens(&v));

    for (path, bytes) in v.files() {
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker),
            "{} holds the half upload's plaintext",
            path.display()
        );
    }
    let shown = v.ok(&["show", &id[..8]], "");
    assert!(
        shown.contains("big.bin") && !shown.contains("recording.bin"),
        "{shown}"
    );
}

/// A check-in to a watcher that takes the connection and never answers holds the vault for
/// the client's whole timeout, which Lock must not wait for: the app stops instead, and the
/// keys go with the process.
#[test]
fn lock_during_a_call_to_a_silent_watcher_stops_the_app_rather_than_wait() {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code], "");
    let port = daemon.port();
    assert!(daemon.stop());
    // The watcher's address now takes connections and says nothing.
    let silent = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let held = std::thread::spawn(move || {
        let mut kept = Vec::new();
        for stream in silent.incoming().flatten().take(8) {
            kept.push(stream);
        }
        kept
    });
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    app.page("/switch");
    let csrf = app.csrf.clone().unwrap();
    let (base, cookie) = (app.base(), app.cookie.clone().unwrap());
    let client = app.client.clone();
    // The check-in waits on the silent watcher (its timeout is 15 s).
    std::thread::spawn(move || {
        let _ = client
            .post(format!("{base}/checkin?csrf={csrf}"))
            .header("cookie", cookie)
            .header("origin", &base)
            .send();
    });
    std::thread::sleep(Duration::from_millis(1500));
    // No answer comes: the app stops while the browser waits for one.
    let _ = app
        .client
        .post(format!(
            "{}/lock?csrf={}",
            app.base(),
            app.csrf.clone().unwrap()
        ))
        .header("cookie", app.cookie.clone().unwrap())
        .header("origin", app.base())
        .send();
    wait_until("the app to stop", Duration::from_secs(12), || {
        app.child.try_wait().unwrap().is_some()
    });
    assert!(cli_opens(&v), "the vault is free");
    drop(held);
}

#[test]
fn a_wrong_passphrase_is_said_in_the_readers_language_and_changes_nothing() {
    let v = TestVault::new();
    let mut tajik = App::start(&v, &["--lang", "tg"], &[]);
    tajik.sign_in();
    let page = tajik.unlock("not the passphrase");
    assert!(page.contains("Ибораи махфӣ нодуруст аст."), "{page}");
    assert!(page.contains("lang=\"tg\""));
    drop(tajik);
    let mut russian = App::start(&v, &[], &[("LANG", "ru_RU.UTF-8")]);
    russian.sign_in();
    let page = russian.unlock("not the passphrase");
    assert!(page.contains("Неверная парольная фраза."), "{page}");
    let unlocked = russian.unlock(PASSPHRASE);
    assert!(unlocked.contains("Записей нет."), "{unlocked}");
    // The language can be changed on any page.
    russian.page("/");
    let english = russian.submit("/lang", &[("to", "en")]);
    assert!(english.contains("No records."), "{english}");
}

#[test]
fn the_duress_passphrase_opens_the_decoy_on_the_same_pages_and_the_watcher_hears_of_it() {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
    v.add_draft("Real source list", "names");
    let duress = v.set_duress("blue river under the old bridge");

    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    let words = std::fs::read_to_string(&duress).unwrap();
    let decoy = app.unlock(words.trim());
    assert!(!decoy.contains("Real source list"), "{decoy}");
    assert!(decoy.contains("No records."));
    // Nothing on screen tells the coercer which passphrase this was: no message at all.
    assert!(
        !decoy.contains("id=\"notice\"") && !decoy.contains("id=\"error\""),
        "{decoy}"
    );
    // A check-in from the decoy looks like one.
    app.page("/switch");
    let checked = app.submit("/checkin", &[]);
    assert!(
        checked.contains("Checked in with every watcher."),
        "{checked}"
    );
    app.submit("/lock", &[]);
    let real = app.unlock(PASSPHRASE);
    assert!(real.contains("Real source list"));
    assert!(
        !real.contains("id=\"notice\"") && !real.contains("id=\"error\""),
        "{real}"
    );
    app.submit("/lock", &[]);
    // The journalist, later, under the real passphrase: the watcher saw the duress key.
    wait_until("the silent alarm", Duration::from_secs(20), || {
        v.ok(&["status"], "")
            .contains("duress key or PIN last used")
    });
}

/// What happened while the journalist was away, in the app and in their language: the
/// duress alarm is in the history under the real passphrase only, and taking it back sends
/// the contact it reached a retraction. Under the duress passphrase the same pages and the
/// same answer, and nothing is taken back.
#[test]
fn the_history_shows_the_duress_alarm_only_to_the_real_passphrase_and_it_can_be_taken_back() {
    let v = TestVault::new();
    let hub = Receiver::start();
    let daemon = Daemon::start_reaching_loopback(&v);
    let code = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code], "");
    let hook = format!("{}/hook", hub.url());
    v.ok(
        &[
            "contact",
            "add",
            "Ed",
            "--lang",
            "en",
            "--tier",
            "1",
            "--webhook",
            &hook,
        ],
        "",
    );
    v.ok(&["plan", "set", "--every", "1d", "--grace", "1h"], "");
    let duress = v.set_duress("blue river under the old bridge");
    let duress = std::fs::read_to_string(&duress).unwrap();
    let steps = |hub: &Receiver| -> Vec<String> {
        hub.received()
            .iter()
            .filter_map(|r| r.json()["step"].as_str().map(str::to_string))
            .collect()
    };

    // The coercer makes the journalist check in under the duress passphrase: Ed is alerted.
    let mut app = App::start(&v, &["--lang", "tg"], &[]);
    app.sign_in();
    app.unlock(duress.trim());
    app.page("/switch");
    app.submit("/checkin", &[]);
    wait_until("the duress alert", Duration::from_secs(30), || {
        steps(&hub).iter().any(|s| s == "duress")
    });
    // The decoy's history: the pretend world, no alarm, in Tajik.
    let decoy_history = app.page("/history");
    assert!(decoy_history.contains("Чӣ шуд"), "{decoy_history}");
    assert!(!decoy_history.contains("МАҶБУРӢ"), "{decoy_history}");
    assert!(
        !decoy_history.contains("Ed"),
        "no alert in the pretend world"
    );
    // Asked from the decoy, the retraction answers as the real one would, and sends none.
    let decoy_answer = app.submit("/history/retract", &[]);
    app.submit("/lock", &[]);

    // The journalist, later, with the real passphrase.
    app.unlock(PASSPHRASE);
    let history = app.page("/history");
    assert!(
        history.contains("МАҶБУРӢ: тасдиқи ҳузур аз ноутбук"),
        "{history}"
    );
    assert!(
        history.contains("ба Ed тавассути webhook"),
        "the alert to Ed: {history}"
    );
    assert!(
        history.contains("(UTC"),
        "times in the journalist's zone: {history}"
    );
    let real_answer = app.submit("/history/retract", &[]);
    let notice = |page: &str| {
        page.split("id=\"notice\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap_or_default()
            .to_string()
    };
    assert!(!notice(&real_answer).is_empty(), "{real_answer}");
    assert_eq!(
        notice(&decoy_answer),
        notice(&real_answer),
        "the same answer"
    );
    wait_until("the retraction", Duration::from_secs(30), || {
        steps(&hub).iter().any(|s| s == "retraction")
    });
    assert_eq!(
        steps(&hub).iter().filter(|s| *s == "retraction").count(),
        1,
        "only the real passphrase took it back: {:?}",
        steps(&hub)
    );
}

/// A journalist who never opened a terminal starts with `posbon app` and no vault: the app
/// makes one, with a passphrase typed twice and refused when easy to guess, in Tajik.
#[test]
fn with_no_vault_yet_the_app_makes_one_and_the_cli_opens_it_with_the_same_passphrase() {
    let v = TestVault::uninitialised();
    let mut app = App::start(&v, &["--lang", "tg", "--insecure-fast-kdf"], &[]);
    app.sign_in();
    let page = app.page("/");
    assert!(page.contains("Анбори худро созед"), "{page}");
    assert!(
        !page.contains("name=\"passphrase\""),
        "no unlock form: {page}"
    );
    let weak = app.submit("/create", &[("new", "secret"), ("again", "secret")]);
    assert!(
        !v.dir.join("keyslots").exists() || !weak.contains("Анбор сохта"),
        "{weak}"
    );
    assert!(
        weak.contains("Анбори худро созед"),
        "still to be made: {weak}"
    );
    let words = "amber kettle orbit violin marsh";
    let differ = app.submit("/create", &[("new", words), ("again", "amber kettle")]);
    assert!(differ.contains("Анбори худро созед"), "{differ}");
    let made = app.submit("/create", &[("new", words), ("again", words)]);
    assert!(made.contains("Анбор сохта ва кушода шуд."), "{made}");
    assert!(made.contains("id=\"lock\""), "open at once: {made}");
    // A second make is refused: the vault is there.
    let again = app.submit("/create", &[("new", words), ("again", words)]);
    assert!(!again.contains("Анбор сохта ва кушода шуд."), "{again}");
    app.page("/");
    app.submit("/lock", &[]);
    let pass = v.secret_file("chosen", words);
    let listed = v.run_with_pass(&pass, &["list"], "");
    assert!(listed.status.success(), "{}", stderr(&listed));
}

/// A phone set up from the app: one link (with its QR code, and a spare from the second
/// watcher) enrols it with both watchers; the link is shown once; the phones are listed per
/// watcher, and one is removed after a question.
#[test]
fn a_phone_is_set_up_from_the_apps_link_listed_and_removed_after_a_question() {
    use common::phone::{TestPhone, link_tokens};
    let v = TestVault::new();
    let first = Daemon::start(&v.path("first"));
    let second = Daemon::start(&v.path("second"));
    for daemon in [&first, &second] {
        let code = invite(&daemon.data, "Nilufar");
        v.ok(&["enrol", &daemon.url, &code], "");
    }
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    let empty = app.page("/phones");
    assert_eq!(
        empty
            .matches("No phone is set up with this watcher.")
            .count(),
        2,
        "{empty}"
    );
    let made = app.submit("/phones/invite", &[]);
    assert!(
        made.contains("<svg") && made.contains("The spare link"),
        "{made}"
    );
    let links: Vec<String> = made
        .split("<code class=\"link\">")
        .skip(1)
        .map(|rest| {
            // As the browser reads it: askama escapes &, / and the quotes.
            rest.split("</code>")
                .next()
                .unwrap()
                .replace("&#x2f;", "/")
                .replace("&#x27;", "'")
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        })
        .collect();
    assert_eq!(links.len(), 2, "the link and the spare: {made}");
    assert!(links[0].contains("#enrol="), "{}", links[0]);
    assert!(!app.page("/phones").contains("#enrol="), "shown once");
    let tokens = link_tokens(&links[0]);
    assert_eq!(
        tokens.len(),
        2,
        "one link for both watchers: {tokens:?} from {}",
        links[0]
    );
    assert!(
        tokens.iter().all(|(url, _)| url.starts_with("http")),
        "{tokens:?} from {}",
        links[0]
    );
    let phones: Vec<TestPhone> = tokens
        .iter()
        .map(|(url, token)| TestPhone::enrol_at(url, token))
        .collect();
    let listed = app.page("/phones");
    for phone in &phones {
        assert!(listed.contains(&phone.id), "{listed}");
    }
    let question = app.page(&format!("/phones/{}/remove", phones[0].id));
    assert!(question.contains("Remove the phone"), "{question}");
    assert!(
        app.page("/phones").contains(&phones[0].id),
        "nothing removed by asking"
    );
    let removed = app.submit(&format!("/phones/{}/remove", phones[0].id), &[]);
    assert!(removed.contains("The phone was removed."), "{removed}");
    assert!(!removed.contains(&phones[0].id), "{removed}");
    assert!(
        removed.contains(&phones[1].id),
        "the other watcher's phone stays"
    );
    assert_eq!(app.post("/phones/..%2Fx/remove", &[]).status(), 404);
}

#[test]
fn the_app_refuses_to_listen_beyond_this_computer() {
    let v = TestVault::new();
    let out = v.run_plain(&["app", "--no-browser", "--listen", "0.0.0.0:0"], "");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("this computer only"),
        "{}",
        stderr(&out)
    );
}

/// On IPv6 loopback the link printed is the address bound, and it works (it once named
/// 127.0.0.1, where nothing listened).
#[test]
fn on_ipv6_loopback_the_printed_link_opens_the_app() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let v = TestVault::new();
    let app = App::start(&v, &["--listen", "[::1]:0"], &[]);
    assert!(app.launch.starts_with("http://[::1]:"), "{}", app.launch);
    let answer = app.client.get(&app.launch).send().unwrap();
    assert_eq!(answer.status(), 303, "the link works");
    let cookie = answer.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap();
    let page = app
        .client
        .get(format!("http://[::1]:{}/", app.port))
        .header("cookie", cookie)
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("name=\"passphrase\""));
}

/// A title or file name with a right-to-left override (or another hidden character) is
/// shown with the character made visible, on every page that names it and in the name a
/// download is saved under: `fdp.exe` must not pass for `exe.pdf`.
#[test]
fn hidden_characters_in_titles_and_file_names_are_shown_not_obeyed() {
    let v = TestVault::new();
    let id = v.add_draft("Contract \u{202E}fdp.exe", "x");
    let file = v.path("plain.txt");
    std::fs::write(&file, b"hello").unwrap();
    v.ok(
        &[
            "attach",
            &id,
            file.to_str().unwrap(),
            "--name",
            "scan\u{202E}fdp.exe",
        ],
        "",
    );
    let mut app = App::start(&v, &[], &[]);
    app.sign_in();
    let list = app.unlock(PASSPHRASE);
    let full_id = record_ids(&list)[0].clone();
    let record = app.page(&format!("/r/{full_id}"));
    let delete = app.page(&format!("/r/{full_id}/delete"));
    for (what, page) in [("list", &list), ("record", &record), ("delete", &delete)] {
        assert!(!page.contains('\u{202E}'), "{what} shows the override raw");
        assert!(page.contains("Contract _fdp.exe"), "{what}: {page}");
    }
    assert!(record.contains("scan_fdp.exe"), "{record}");
    let download = app.get(&format!("/r/{full_id}/file/0"));
    let saved_as = download.headers()["content-disposition"].to_str().unwrap();
    assert!(
        !saved_as.contains("%E2%80%AE") && saved_as.contains("scan_fdp.exe"),
        "{saved_as}"
    );
}

#[test]
fn a_lawyer_without_a_vault_verifies_alerts_and_opens_sealed_material_in_the_app() {
    // The journalist's side: a watcher, a lawyer with a webhook and an age key, a sealed note.
    let journalist = TestVault::new();
    let hub = Receiver::start();
    let daemon = Daemon::start_reaching_loopback(&journalist);
    let code = invite(&daemon.data, "Rustam");
    journalist.ok(&["enrol", &daemon.url, &code], "");
    let (key, recipient) = age_key(journalist.temp.path(), "lawyer");
    let hook = format!("{}/hook", hub.url());
    journalist.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "ru",
            "--tier",
            "2",
            "--webhook",
            &hook,
            "--age-recipient",
            &recipient,
        ],
        "",
    );
    journalist.ok(&["contact", "test"], "");
    let alert = String::from_utf8(hub.received()[0].body.clone()).unwrap();
    let note = journalist.add_draft("Statement MARKER-STATEMENT", "the statement text");
    journalist.ok(&["release", "add", &note, "--to", "Dilnoza", "--yes"], "");
    let sealing = journalist.ok(&["release", "key"], "").trim().to_string();
    let mut bundles = Vec::new();
    for entry in std::fs::read_dir(daemon.data.join("bundles"))
        .unwrap()
        .flatten()
    {
        for file in std::fs::read_dir(entry.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            bundles.push(std::fs::read(file.path()).unwrap());
        }
        if entry.path().is_file() {
            bundles.push(std::fs::read(entry.path()).unwrap());
        }
    }
    assert_eq!(bundles.len(), 1, "one bundle on the watcher");
    let bundle = bundles.remove(0);

    // The lawyer: no vault at all, the app in Russian, downloads into a home of their own.
    let lawyer = TestVault::uninitialised();
    let home = lawyer.path("home");
    std::fs::create_dir(&home).unwrap();
    let home_text = home.to_str().unwrap().to_string();
    let config_home = lawyer.path("config");
    let mut app = App::start(
        &lawyer,
        &["--lang", "ru"],
        &[
            ("HOME", &home_text),
            ("XDG_CONFIG_HOME", config_home.to_str().unwrap()),
        ],
    );
    app.sign_in();
    let page = app.page("/lawyer");
    assert!(page.contains("Подлинное ли это оповещение?"), "{page}");

    let genuine = app.submit(
        "/lawyer/verify",
        &[("watcher", &daemon.fingerprint), ("alert", &alert)],
    );
    assert!(genuine.contains("ПОДЛИННОЕ"), "{genuine}");
    assert!(
        genuine.contains("POSBON ALERT v1"),
        "the signed text is shown"
    );
    // Shown once: a reload shows the forms again, not the last finding.
    assert!(!app.page("/lawyer").contains("ПОДЛИННОЕ:"));
    let altered = alert.replacen("Rustam", "Rustan", 1);
    assert_ne!(altered, alert);
    let forged = app.submit(
        "/lawyer/verify",
        &[("watcher", &daemon.fingerprint), ("alert", &altered)],
    );
    assert!(forged.contains("НЕ ПОДЛИННОЕ"), "{forged}");
    let other_watcher = "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d";
    let elsewhere = app.submit(
        "/lawyer/verify",
        &[("watcher", other_watcher), ("alert", &alert)],
    );
    assert!(
        elsewhere.contains("НЕ ПОДЛИННОЕ") && elsewhere.contains("а не тот, кого Вы назвали"),
        "{elsewhere}"
    );

    let key_bytes = std::fs::read(&key).unwrap();
    // The public key chosen by mistake instead of the private one: told why, in Russian.
    let public_key = age_key(journalist.temp.path(), "mistaken").1;
    let mistaken = [
        ("bundle", "case.age", bundle.clone()),
        ("key", "lawyer.pub", public_key.into_bytes()),
    ];
    let answer = app.post_files(
        "/lawyer/open",
        &mistaken,
        &[("from", "0000-0000-0000-0000-0000-0000-0000-0000")],
    );
    let refused = app.follow(answer);
    assert!(
        refused.contains(
            "Этот файл ключа нельзя использовать: это не файл ключа age и не закрытый ключ OpenSSH."
        ),
        "{refused}"
    );
    let files = [
        ("bundle", "case.age", bundle.clone()),
        ("key", "lawyer.key", key_bytes.clone()),
    ];
    // The wrong sealer named: refused, nothing written.
    let wrong = "0000-0000-0000-0000-0000-0000-0000-0000";
    let answer = app.post_files("/lawyer/open", &files, &[("from", wrong)]);
    let refused = app.follow(answer);
    assert!(
        refused.contains("а не названным Вами журналистом"),
        "{refused}"
    );
    assert!(
        std::fs::read_dir(&home).unwrap().next().is_none(),
        "nothing written"
    );
    // The right one: checked and written to a new folder.
    let answer = app.post_files("/lawyer/open", &files, &[("from", &sealing)]);
    let opened = app.follow(answer);
    assert!(opened.contains("Открыто"), "{opened}");
    assert!(opened.contains("MARKER-STATEMENT"), "{opened}");
    let folder = home.join("case-opened");
    assert!(folder.is_dir(), "{opened}");
    let mut written = Vec::new();
    let mut stack = vec![folder];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                written.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
    }
    assert!(
        written
            .iter()
            .any(|text| text.contains("the statement text")),
        "{written:?}"
    );
    // A second opening does not overwrite the first.
    let answer = app.post_files("/lawyer/open", &files, &[("from", &sealing)]);
    app.follow(answer);
    assert!(home.join("case-opened-1").is_dir());
}

#[test]
fn a_note_added_without_unlocking_appears_after_the_unlock_and_panic_needs_the_word() {
    let v = TestVault::new();
    let mut app = App::start(&v, &["--lang", "ru"], &[]);
    app.sign_in();
    app.page("/capture");
    let sealed = app.submit(
        "/capture",
        &[
            ("kind", "note"),
            ("title", "Checkpoint MARKER-CAPTURE"),
            ("body", "seen at 9:40"),
        ],
    );
    assert!(sealed.contains("Запечатано в хранилище."), "{sealed}");
    // Not readable where it was typed: the vault's files hold no plaintext of it.
    let marker: &[u8] = b"MARKER-CAPTURE";
    for (path, bytes) in v.files() {
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker),
            "{}",
            path.display()
        );
    }
    // A file too, streamed: 3 MiB with a marker in its middle, and one upload that breaks
    // off half-way (it must leave nothing, not even a spool).
    let mut rng = Rng::seeded();
    let mut photo: Vec<u8> = (0..(3 << 20) / 8)
        .flat_map(|_| rng.below(u64::MAX).to_le_bytes())
        .collect();
    let file_marker = b"MARKER-CAPTURED-PHOTO";
    photo[1 << 20..(1 << 20) + file_marker.len()].copy_from_slice(file_marker);
    app.page("/capture");
    let answer = app.post_files(
        "/capture/file",
        &[("file", "checkpoint.jpg", photo.clone())],
        &[],
    );
    let sealed = app.follow(answer);
    assert!(sealed.contains("Файл запечатан в хранилище."), "{sealed}");
    let mut half = vec![b'y'; 1 << 20];
    half[100..100 + file_marker.len()].copy_from_slice(file_marker);
    let broken = stalled_upload_to(&mut app, "/capture/file", 8 << 20, &half);
    drop(broken);
    let inbox = || -> Vec<String> {
        std::fs::read_dir(v.dir.join("inbox"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    wait_until(
        "the broken upload's spool to go",
        Duration::from_secs(10),
        || !inbox().iter().any(|n| n.ends_with(".spool")),
    );
    let left = inbox();
    assert_eq!(
        left.iter().filter(|n| n.ends_with(".age")).count(),
        2,
        "{left:?}"
    );
    for (path, bytes) in v.files() {
        assert!(
            !bytes.windows(file_marker.len()).any(|w| w == file_marker),
            "{}",
            path.display()
        );
    }
    let unlocked = app.unlock(PASSPHRASE);
    assert!(unlocked.contains("Checkpoint MARKER-CAPTURE"), "{unlocked}");
    assert!(unlocked.contains("checkpoint.jpg"), "{unlocked}");
    // Told once, in the journalist's language, what became of them.
    assert!(
        unlocked.contains("Добавленное без открытия хранилища стало записями: 2."),
        "{unlocked}"
    );
    app.submit("/lock", &[]);
    let listed = v.ok(&["list"], "");
    let photo_id = listed
        .lines()
        .find(|l| l.ends_with("checkpoint.jpg"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_string();
    let out = v.path("photo-out.jpg");
    v.ok(
        &[
            "extract",
            &photo_id,
            "checkpoint.jpg",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(
        std::fs::read(out).unwrap(),
        photo,
        "the whole file, byte for byte"
    );
    app.unlock(PASSPHRASE);

    // Panic: a wrong word destroys nothing; the word (in any of the languages) does.
    app.page("/panic");
    let refused = app.submit("/panic", &[("confirm", "yes")]);
    assert!(refused.contains("Не подтверждено"), "{refused}");
    assert!(
        app.page("/").contains("Checkpoint MARKER-CAPTURE"),
        "still open"
    );
    let erased = app.submit("/panic", &[("confirm", "erase")]);
    assert!(erased.contains("Ключи хранилища уничтожены."), "{erased}");
    assert!(
        erased.contains("name=\"passphrase\""),
        "the keys left memory too"
    );
    let after = v.run(&["list"], "");
    assert!(!after.status.success(), "the vault no longer opens");
    let again = app.unlock(PASSPHRASE);
    assert!(!again.contains("MARKER-CAPTURE"), "{again}");
}

#[test]
fn the_plan_is_set_in_the_app_and_deadlines_are_shown_in_the_journalists_time_zone() {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code], "");
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    app.page("/plan");
    let bad = app.submit(
        "/plan",
        &[
            ("how", "windows"),
            ("windows", "09:00-11:00"),
            ("tz", "Asia/Dushanb"),
            ("grace", "2h"),
        ],
    );
    assert!(bad.contains("is not a time zone"), "{bad}");
    let invalid = app.submit(
        "/plan",
        &[
            ("how", "every"),
            ("every", "soon"),
            ("tz", "Asia/Dushanbe"),
            ("grace", "2h"),
        ],
    );
    assert!(invalid.contains("The plan is not valid"), "{invalid}");
    let set = app.submit(
        "/plan",
        &[
            ("how", "windows"),
            ("windows", "09:00-11:00"),
            ("tz", "Asia/Dushanbe"),
            ("grace", "2h"),
            ("remind_before", "1h"),
        ],
    );
    assert!(set.contains("Plan set:"), "{set}");
    // The watcher's deadline: the end of the window, in Dushanbe time (UTC+5, no DST).
    assert!(set.contains("11:00 (UTC+05:00)"), "{set}");
    // With the weekday it falls on there: today's window if it has not opened yet.
    let there =
        jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Dushanbe").unwrap());
    let day = if there.hour() < 9 {
        there.date()
    } else {
        there.date().tomorrow().unwrap()
    };
    assert!(
        set.contains(&day.strftime("%a %Y-%m-%d 11:00 (UTC+05:00)").to_string()),
        "{set}"
    );
    assert!(set.contains(&daemon.url), "{set}");
    // Windows on some days, typed as on the command line; a day's name alone belongs to the
    // window after it. The plan page lists them and the day without one.
    let week = app.submit(
        "/plan",
        &[
            ("how", "windows"),
            ("windows", "mon-fri 09:00-11:00, sat/12:00-14:00"),
            ("tz", "Asia/Dushanbe"),
            ("grace", "2h"),
        ],
    );
    assert!(
        week.contains(
            "Plan set: windows mon-fri/09:00-11:00,sat/12:00-14:00 Asia/Dushanbe, no check-in on sun"
        ),
        "{week}"
    );
    // The watcher holds the plan sent: no warning of an older watcher.
    assert!(!week.contains("holds another plan"), "{week}");
    let page = app.page("/plan");
    assert!(page.contains("Mon–Fri 09:00-11:00"), "{page}");
    assert!(page.contains("Sat 12:00-14:00"), "{page}");
    assert!(page.contains("No window on Sun"), "{page}");
    let bad_day = app.submit(
        "/plan",
        &[
            ("how", "windows"),
            ("windows", "funday/09:00-11:00"),
            ("tz", "Asia/Dushanbe"),
            ("grace", "2h"),
        ],
    );
    assert!(bad_day.contains("is not a day of the week"), "{bad_day}");
    // Why, in the journalist's own language, down to the last word.
    app.submit("/lang", &[("to", "tg")]);
    let bad_day = app.submit(
        "/plan",
        &[
            ("how", "windows"),
            ("windows", "funday/09:00-11:00"),
            ("tz", "Asia/Dushanbe"),
            ("grace", "2h"),
        ],
    );
    assert!(
        bad_day.contains("Нақша нодуруст аст: &#34;funday&#34; рӯзи ҳафта нест: душанбе,"),
        "{bad_day}"
    );
    assert!(!bad_day.contains("is not"), "{bad_day}");
    app.submit("/lang", &[("to", "en")]);
    // The CLI reads the same plan from the vault and the watcher.
    app.submit("/lock", &[]);
    let status = v.ok(&["status"], "");
    assert!(status.contains("Asia/Dushanbe"), "{status}");
    assert!(status.contains("no window on Sun"), "{status}");
}

#[test]
fn contacts_are_kept_and_sent_and_material_is_sealed_only_after_the_journalist_saw_it() {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Nilufar");
    v.ok(&["enrol", &daemon.url, &code], "");
    let (key, recipient) = age_key(v.temp.path(), "lawyer");
    v.ok(
        &["add", "source", "--name", "Rustam the clerk"],
        "met twice",
    );
    let note = v.add_draft("Court statement MARKER-SEALED", "the statement");
    let sealing = v.ok(&["release", "key"], "").trim().to_string();
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    // The fingerprint the journalist gives each lawyer in person, as `release key` says it.
    let seal_page = app.page("/seal");
    assert!(
        seal_page.contains(&format!(
            "<code id=\"sealing-fingerprint\">{sealing}</code>"
        )),
        "{sealing}: {seal_page}"
    );

    app.page("/contacts");
    let bad = app.submit(
        "/contacts",
        &[("name", "Dilnoza"), ("lang", "ru"), ("tiers", "x")],
    );
    assert!(bad.contains("is not a tier"), "{bad}");
    let saved = app.submit(
        "/contacts",
        &[
            ("name", "Dilnoza"),
            ("role", "lawyer"),
            ("lang", "ru"),
            ("tiers", "2"),
            ("email", "dilnoza@example.org"),
            ("keys", &recipient),
        ],
    );
    assert!(
        saved.contains("Dilnoza is saved and sent to every watcher."),
        "{saved}"
    );
    assert!(saved.contains("one key for sealed material"), "{saved}");
    // A bundle with a source is refused unless sources may be included.
    let page = app.page("/seal");
    let ids = record_ids(&page.replace("value=\"", "href=\"/r/"));
    assert_eq!(ids.len(), 2, "{page}");
    let source_id = ids
        .iter()
        .find(|id| !id.starts_with(&note[..8]))
        .unwrap()
        .clone();
    let note_id = ids
        .iter()
        .find(|id| id.starts_with(&note[..8]))
        .unwrap()
        .clone();
    let refused = app.submit("/seal", &[("record", &source_id), ("to", "Dilnoza")]);
    assert!(refused.contains("source"), "{refused}");
    assert!(files_under(&daemon.data.join("bundles")).is_empty());

    // The review says exactly what it reveals, and to whom; nothing is sealed before.
    let review = app.submit(
        "/seal",
        &[
            ("record", &note_id),
            ("record", &source_id),
            ("to", "Dilnoza"),
            ("name", "case 14"),
            ("include_sources", "on"),
        ],
    );
    assert!(
        review.contains("If it is released, “case 14” will reveal this to Dilnoza:"),
        "{review}"
    );
    assert!(review.contains("Court statement MARKER-SEALED"));
    assert!(review.contains("WARNING: it names sources:") && review.contains("Rustam the clerk"));
    assert!(
        files_under(&daemon.data.join("bundles")).is_empty(),
        "not yet sealed"
    );
    let not_accepted = app.submit("/seal/confirm", &[]);
    assert!(not_accepted.contains("tick the box"), "{not_accepted}");
    assert!(files_under(&daemon.data.join("bundles")).is_empty());
    let sealed = app.submit("/seal/confirm", &[("reveal_sources", "on")]);
    assert!(
        sealed.contains("Sealed 2 records and sent them to every watcher."),
        "{sealed}"
    );
    // The watcher holds it; the lawyer's key opens it with the Go age, not only with posbon.
    let stored = files_under(&daemon.data.join("bundles"));
    assert_eq!(stored.len(), 1);
    let out = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&stored[0])
        .output()
        .expect("age (apt-get install age)");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("MARKER-SEALED"));

    // Sealed again from the records as they are now: the same review first, then version 2.
    let page = app.page("/seal");
    let bundle = page
        .split("id=\"update-")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an update button")
        .to_string();
    assert!(page.contains("version 1"), "{page}");
    let review = app.submit(&format!("/seal/{bundle}/update"), &[]);
    assert!(review.contains("Court statement MARKER-SEALED"), "{review}");
    assert!(
        review.contains("Rustam the clerk"),
        "the sources named again"
    );
    let resealed = app.submit("/seal/confirm", &[("reveal_sources", "on")]);
    assert!(resealed.contains("version 2"), "{resealed}");
    assert_eq!(files_under(&daemon.data.join("bundles")).len(), 1);

    // Withdrawn, after a question: the watcher deletes it.
    let question = app.page(&format!("/seal/{bundle}/withdraw"));
    assert!(question.contains("Withdraw “case 14”?"), "{question}");
    assert_eq!(
        files_under(&daemon.data.join("bundles")).len(),
        1,
        "asked first"
    );
    let withdrawn = app.submit(&format!("/seal/{bundle}/withdraw"), &[]);
    assert!(
        withdrawn.contains("Withdrawn: every watcher deleted it."),
        "{withdrawn}"
    );
    assert!(files_under(&daemon.data.join("bundles")).is_empty());
    // A made-up bundle id is not an address to anything.
    let odd = app.post("/seal/..%2F..%2Fkeyslots/withdraw", &[]);
    assert_eq!(odd.status(), 404);

    // Sealed anew, to be listed below.
    app.submit(
        "/seal",
        &[("record", &note_id), ("to", "Dilnoza"), ("name", "case 14")],
    );
    app.submit("/seal/confirm", &[]);
    app.page("/");
    app.submit("/lock", &[]);
    let list = v.ok(&["release", "list"], "");
    assert!(list.contains("case 14"), "{list}");
    let listed = v.ok(&["contact", "list"], "");
    assert!(listed.contains("Dilnoza"), "{listed}");
}

#[test]
fn another_user_of_this_computer_gets_no_answer_even_with_the_launch_link() {
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid cannot fail.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test runs a client as another user (nobody), which needs root (CI runs as root)"
    );
    let v = TestVault::new();
    let mut app = App::start(&v, &[], &[]);
    let script = format!(
        "import socket\n\
         s = socket.create_connection(('127.0.0.1', {port}))\n\
         s.sendall(b'GET /?{query} HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nConnection: close\\r\\n\\r\\n')\n\
         s.settimeout(10)\n\
         try:\n    print(repr(s.recv(4096)))\n\
         except Exception as e:\n    print('error', e)\n",
        port = app.port,
        query = app.launch.split('?').nth(1).unwrap(),
    );
    let out = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(&script)
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let said = stdout(&out);
    assert!(
        said.trim() == "b''" || said.starts_with("error"),
        "another user got an answer: {said} {}",
        stderr(&out)
    );
    // The link was not spent: the journalist's own browser still signs in with it.
    app.sign_in();
    assert!(app.page("/").contains("name=\"passphrase\""));
}

#[test]
fn passphrases_are_changed_weak_ones_refused_and_a_recovery_key_is_shown_once() {
    let v = TestVault::new();
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    let page = app.page("/keys");
    assert!(page.contains("id=\"duress-state\">not set<"), "{page}");
    let weak = app.submit(
        "/keys",
        &[
            ("which", "passphrase"),
            ("new", "secret123"),
            ("again", "secret123"),
        ],
    );
    assert!(weak.contains("too easy to guess"), "{weak}");
    let differ = app.submit(
        "/keys",
        &[
            ("which", "passphrase"),
            ("new", "amber kettle orbit violin"),
            ("again", "amber kettle orbit violi"),
        ],
    );
    assert!(differ.contains("differ"), "{differ}");
    // The real passphrase cannot also be the duress one: said in the journalist's language.
    app.submit("/lang", &[("to", "ru")]);
    let same = app.submit(
        "/keys",
        &[
            ("which", "duress"),
            ("new", PASSPHRASE),
            ("again", PASSPHRASE),
        ],
    );
    assert!(
        same.contains(
            "Фраза под принуждением должна отличаться от Вашей настоящей парольной фразы."
        ),
        "{same}"
    );
    app.submit("/lang", &[("to", "en")]);
    let duress = "lantern pebble under quiet rivers";
    let set = app.submit(
        "/keys",
        &[("which", "duress"), ("new", duress), ("again", duress)],
    );
    assert!(set.contains("The duress passphrase is set."), "{set}");
    assert!(set.contains("id=\"duress-state\">set<"), "{set}");
    let made = app.submit("/keys/recovery", &[]);
    let at = made.find("id=\"recovery-key\">").expect("the key is shown") + 18;
    let key = made[at..].split('<').next().unwrap().trim().to_string();
    assert!(key.starts_with("AGE-SECRET-KEY-1"), "{key}");
    assert!(!app.page("/keys").contains(&key), "shown once only");
    let new = "amber kettle orbit violin marsh";
    let changed = app.submit(
        "/keys",
        &[("which", "passphrase"), ("new", new), ("again", new)],
    );
    assert!(changed.contains("The passphrase was changed."), "{changed}");
    app.submit("/lock", &[]);
    // The CLI agrees: the old passphrase no longer opens; the new one, the recovery key and
    // the duress passphrase (the decoy) do.
    assert_eq!(code(&v.run(&["list"], "")), 3);
    let new_file = v.secret_file("new", new);
    assert!(v.run_with_pass(&new_file, &["list"], "").status.success());
    let key_file = v.secret_file("recovery", &key);
    let mut with_key = v.command();
    with_key
        .arg("--recovery-key-file")
        .arg(&key_file)
        .arg("list");
    assert!(feed(with_key, b"").status.success());
    let duress_file = v.secret_file("duress-words", duress);
    assert!(
        v.run_with_pass(&duress_file, &["list"], "")
            .status
            .success()
    );

    // Both removed in the app, each after a question: then neither opens anything.
    app.unlock(new);
    let keys = app.page("/keys");
    assert!(keys.contains("id=\"remove-recovery\"") && keys.contains("id=\"remove-duress\""));
    let question = app.page("/keys/remove/duress");
    assert!(
        question.contains("everything in the decoy is destroyed"),
        "{question}"
    );
    assert!(
        app.page("/keys").contains("id=\"duress-state\">set<"),
        "nothing removed by asking"
    );
    let removed = app.submit("/keys/remove/duress", &[]);
    assert!(
        removed.contains("The duress passphrase was removed."),
        "{removed}"
    );
    assert!(
        removed.contains("id=\"duress-state\">not set<"),
        "{removed}"
    );
    assert!(!removed.contains("id=\"remove-duress\""), "{removed}");
    app.page("/keys/remove/recovery");
    let removed = app.submit("/keys/remove/recovery", &[]);
    assert!(
        removed.contains("The recovery key was removed."),
        "{removed}"
    );
    assert_eq!(app.post("/keys/remove/passphrase", &[]).status(), 404);
    app.submit("/lock", &[]);
    assert_eq!(code(&v.run_with_pass(&duress_file, &["list"], "")), 3);
    let mut with_key = v.command();
    with_key
        .arg("--recovery-key-file")
        .arg(&key_file)
        .arg("list");
    assert!(!feed(with_key, b"").status.success());
    assert!(v.run_with_pass(&new_file, &["list"], "").status.success());
}

#[test]
fn a_backup_made_in_the_app_opens_with_its_own_passphrase_only() {
    let v = TestVault::new();
    v.add_draft("Backed up MARKER-BACKUP", "the text");
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    // No passphrase chosen yet: the download link leads back to the form.
    assert_eq!(app.get("/backup/download").status(), 303);
    app.page("/backup");
    let weak = app.submit("/backup", &[("new", "backup1"), ("again", "backup1")]);
    assert!(weak.contains("too easy to guess"), "{weak}");
    let words = "copper meadow tunnel harbor";
    let ready = app.submit("/backup", &[("new", words), ("again", words)]);
    assert!(ready.contains("/backup/download"), "{ready}");
    let download = app.get("/backup/download");
    assert_eq!(download.status(), 200);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"posbon-backup-")
    );
    let bytes = download.bytes().unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"), "an age file");
    assert!(!bytes.windows(13).any(|w| w == b"MARKER-BACKUP"));
    // One download per passphrase typed: the link does not work twice.
    assert_eq!(app.get("/backup/download").status(), 303);
    app.page("/");
    app.submit("/lock", &[]);
    let file = v.path("backup.age");
    std::fs::write(&file, &bytes).unwrap();
    let right = v.secret_file("backup-words", words);
    let verified = v.run_with_pass(&right, &["backup", "verify", file.to_str().unwrap()], "");
    assert!(verified.status.success(), "{}", stderr(&verified));
    let wrong = v.run(&["backup", "verify", file.to_str().unwrap()], "");
    assert!(
        !wrong.status.success(),
        "the vault's passphrase does not open it"
    );

    // Restored in the app into another vault (a new laptop): the wrong passphrase restores
    // nothing; the right one restores the record; again, and there is still one.
    let other = TestVault::new();
    let mut fresh = App::start(&other, &["--lang", "ru"], &[]);
    fresh.sign_in();
    fresh.unlock(PASSPHRASE);
    fresh.page("/backup");
    let restore = |app: &mut App, passphrase: &str| {
        let csrf = app.csrf.clone().unwrap();
        let form = reqwest::blocking::multipart::Form::new()
            .text("passphrase", passphrase.to_string())
            .part(
                "file",
                reqwest::blocking::multipart::Part::bytes(bytes.to_vec()).file_name("b.age"),
            );
        let answer = app
            .client
            .post(format!("{}/backup/restore?csrf={csrf}", app.base()))
            .header("cookie", app.cookie.as_deref().unwrap())
            .header("origin", app.base())
            .multipart(form)
            .send()
            .unwrap();
        app.follow(answer)
    };
    let refused = restore(&mut fresh, "not the words");
    assert!(
        !refused.contains("Резервная копия восстановлена"),
        "{refused}"
    );
    assert!(!fresh.page("/").contains("MARKER-BACKUP"));
    let restored = restore(&mut fresh, words);
    assert!(
        restored.contains("Резервная копия восстановлена: 1 запись."),
        "{restored}"
    );
    assert!(restored.contains("MARKER-BACKUP"), "{restored}");
    fresh.page("/backup");
    restore(&mut fresh, words);
    assert_eq!(fresh.page("/").matches("MARKER-BACKUP").count(), 1);
}

#[test]
fn a_contacts_mistake_is_said_in_the_apps_language_and_nothing_is_saved() {
    let v = TestVault::new();
    // Said whole, after what it means (nothing saved); the old lead-in and English are gone.
    for (lang, said, gone) in [
        (
            "ru",
            "Не сохранено: Dilnoza: email:not-an-address: это не адрес электронной почты",
            "not an e-mail address",
        ),
        (
            "tg",
            "Нигоҳ дошта нашуд: Dilnoza: гурӯҳи 0 — худатон; онро бо гурӯҳҳои дигар якҷоя кардан мумкин нест",
            "cannot be combined",
        ),
        (
            "en",
            "Not saved: Dilnoza: email:not-an-address: not an e-mail address",
            "Something went wrong",
        ),
    ] {
        let mut app = App::start(&v, &["--lang", lang], &[]);
        app.sign_in();
        app.unlock(PASSPHRASE);
        app.page("/contacts");
        let (tiers, email) = if lang == "tg" {
            ("0, 1", "d@example.org")
        } else {
            ("2", "not-an-address")
        };
        let refused = app.submit(
            "/contacts",
            &[
                ("name", "Dilnoza"),
                ("lang", "ru"),
                ("tiers", tiers),
                ("email", email),
            ],
        );
        assert!(refused.contains(said), "{refused}");
        assert!(!refused.contains(gone), "{refused}");
    }
    assert_eq!(v.ok(&["contact", "list"], ""), "");
}

/// A journalist who never opens a terminal enrols from the app: the operator's address and
/// one-time code, the watcher's fingerprint shown to compare, the material sealed before
/// sent along; a wrong code is refused in their language and enrols nothing.
#[test]
fn a_watcher_is_enrolled_from_the_app_its_fingerprint_shown_and_sealed_material_sent_along() {
    let v = TestVault::new();
    let first = enrolled_with(&v, "first");
    let (_, recipient) = age_key(v.temp.path(), "lawyer");
    v.add_lawyer(&recipient);
    let draft = v.add_draft("Statement", "text");
    v.ok(&["release", "add", &draft, "--to", "Dilnoza", "--yes"], "");

    let second = Daemon::start(&v.path("second"));
    let code = invite(&second.data, "Nilufar");
    let mut app = App::start(&v, &["--lang", "ru"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    let page = app.page("/switch");
    assert!(page.contains("id=\"enrol-form\""), "{page}");
    // A code typed wrong: refused, said in Russian, nothing enrolled.
    let wrong = app.submit("/enrol", &[("url", &second.url), ("code", "not-the-code")]);
    assert!(
        wrong.contains(&format!(
            "Не подключено. {} отказал: одноразовый код неизвестен или уже использован: попросите у оператора наблюдателя новый",
            second.url
        )),
        "{wrong}"
    );
    assert_eq!(
        wrong.matches("<section class=\"watcher\">").count(),
        1,
        "{wrong}"
    );
    let enrolled = app.submit("/enrol", &[("url", &second.url), ("code", &code)]);
    assert!(
        enrolled.contains(&format!(
            "Подключено к {}. Отпечаток его ключа: {}.",
            second.url, second.fingerprint
        )),
        "{enrolled}"
    );
    assert!(!enrolled.contains("дошли не до всех"), "{enrolled}");
    // Each watcher's fingerprint stays on the page, to compare again later.
    assert!(enrolled.contains(&first.fingerprint) && enrolled.contains(&second.fingerprint));
    app.submit("/lock", &[]);
    // The command line sees both watchers, and the bundle on both.
    assert_eq!(
        v.ok(&["release", "check"], "")
            .matches("holds all 1 bundle(s)")
            .count(),
        2
    );
    // The one-time code is spent: the same again is refused.
    app.unlock(PASSPHRASE);
    let again = app.submit("/enrol", &[("url", &second.url), ("code", &code)]);
    assert!(again.contains("Не подключено."), "{again}");
    // A watcher that stopped answering is named at the next check-in, with why, in Tajik.
    let second_url = second.url.clone();
    drop(second);
    app.submit("/lang", &[("to", "tg")]);
    let checked = app.submit("/checkin", &[]);
    assert!(
        checked.contains(&format!(
            "{second_url} дастнорас аст: дар он ҷо касе ҷавоб намедиҳад"
        )),
        "{checked}"
    );
}

/// A test alert from the contacts page, as `posbon contact test`: each channel's answer in
/// the journalist's language, a failing one named as such, and the real test alert received.
#[test]
fn a_test_alert_is_sent_from_the_contacts_page_and_each_channels_answer_is_shown() {
    use common::receivers::Receiver;
    let v = TestVault::new();
    let hub = Receiver::start();
    let daemon = Daemon::start_reaching_loopback(&v);
    v.ok(&["enrol", &daemon.url, &invite(&daemon.data, "Rustam")], "");
    let hook = format!("{}/hook", hub.url());
    v.ok(
        &[
            "contact",
            "add",
            "Dilnoza",
            "--lang",
            "tg",
            "--tier",
            "2",
            "--webhook",
            &hook,
            "--telegram",
            "@dilnoza_law",
        ],
        "",
    );
    let mut app = App::start(&v, &["--lang", "tg"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    let page = app.page("/contacts");
    assert!(page.contains("id=\"test-1\""), "{page}");
    let tested = app.submit("/contacts/test", &[("name", "Dilnoza")]);
    assert!(
        tested.contains(&format!(
            "{}: Dilnoza, webhook:{hook}: қабул шуд.",
            daemon.url
        )),
        "{tested}"
    );
    assert!(
        tested.contains(
            "Dilnoza, telegram:@dilnoza_law: НАРАСИД (this watcher has no Telegram bot configured)"
        ),
        "{tested}"
    );
    assert!(
        tested.contains("class=\"error\""),
        "a failed channel is a warning: {tested}"
    );
    assert_eq!(
        hub.received().len(),
        1,
        "the webhook received the test alert"
    );
}

/// Enrolling under the duress passphrase reads exactly as under the real one, and the decoy
/// keeps the watcher it enrolled with after the journalist's next real unlock.
#[test]
fn enrolling_under_duress_in_the_app_reads_the_same_and_the_decoy_keeps_its_watcher() {
    let v = TestVault::new();
    let _a = enrolled_with(&v, "a");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    let duress = v.set_duress("blue river under the old bridge");
    let duress_words = std::fs::read_to_string(&duress).unwrap();
    let (b, c) = (Daemon::start(&v.path("b")), Daemon::start(&v.path("c")));
    let flash = |page: &str| -> String {
        page.split("id=\"notice\">")
            .nth(1)
            .and_then(|rest| rest.split("</p>").next())
            .unwrap_or_else(|| panic!("no notice: {page}"))
            .to_string()
    };
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    let real = app.submit(
        "/enrol",
        &[("url", &b.url), ("code", &invite(&b.data, "N"))],
    );
    app.submit("/lock", &[]);
    app.unlock(duress_words.trim());
    let forced = app.submit(
        "/enrol",
        &[("url", &c.url), ("code", &invite(&c.data, "N"))],
    );
    app.submit("/lock", &[]);
    assert_eq!(
        flash(&forced)
            .replace(&c.url, "URL")
            .replace(&c.fingerprint, "FP"),
        flash(&real)
            .replace(&b.url, "URL")
            .replace(&b.fingerprint, "FP")
    );
    // The journalist unlocks for real; the coerced side still checks in with C after it.
    app.unlock(PASSPHRASE);
    app.submit("/lock", &[]);
    app.unlock(duress_words.trim());
    let checked = app.submit("/checkin", &[]);
    assert!(
        checked.contains(&format!("<h2>{}</h2>", c.url)),
        "{checked}"
    );
    assert!(
        checked.contains("Checked in with every watcher."),
        "{checked}"
    );
}

/// A pause from the app, as `posbon pause --for`: every watcher holds it, a length typed
/// wrong is refused in the journalist's language, and it can be ended at once.
#[test]
fn the_switch_is_paused_and_resumed_from_the_app() {
    let v = TestVault::new();
    let _daemon = enrolled_with(&v, "watcher");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    let mut app = App::start(&v, &["--lang", "ru"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    assert!(app.page("/switch").contains("id=\"pause-form\""));
    let wrong = app.submit("/pause", &[("for", "3x")]);
    assert!(wrong.contains("&#34;3x&#34; — не длительность"), "{wrong}");
    let paused = app.submit("/pause", &[("for", "3d")]);
    assert!(paused.contains("Пауза у всех наблюдателей до "), "{paused}");
    assert!(
        paused.contains("Пауза до"),
        "the watcher shows the pause: {paused}"
    );
    app.submit("/lock", &[]);
    assert!(v.ok(&["status"], "").contains("paused until"));
    app.unlock(PASSPHRASE);
    let resumed = app.submit("/resume", &[]);
    assert!(
        resumed.contains("Пауза у всех наблюдателей окончена: план снова действует."),
        "{resumed}"
    );
    app.submit("/lock", &[]);
    assert!(!v.ok(&["status"], "").contains("paused until"));
}

/// A pause forced under the duress passphrase is a pretend one: the real view is told of it
/// (and only the real view), and ends it when the danger is over, as `posbon duress over`.
#[test]
fn a_pretend_pause_is_shown_to_the_real_passphrase_only_and_ended_from_the_app() {
    let v = TestVault::new();
    let _daemon = enrolled_with(&v, "watcher");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    let duress_file = v.set_duress("blue river under the old bridge");
    let duress = std::fs::read_to_string(&duress_file).unwrap();
    // A real unlock after the duress passphrase was set gives the decoy the plan.
    v.ok(&["status"], "");
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(duress.trim());
    let forced = app.submit("/pause", &[("for", "3d")]);
    assert!(
        forced.contains("Paused on every watcher until "),
        "{forced}"
    );
    assert!(
        !forced.contains("id=\"pretend-form\""),
        "the decoy is never told: {forced}"
    );
    app.submit("/lock", &[]);

    app.unlock(PASSPHRASE);
    let real = app.page("/switch");
    assert!(real.contains("id=\"pretend-form\""), "{real}");
    assert!(real.contains("<dt>Shown under duress</dt>"), "{real}");
    app.submit("/lock", &[]);
    // Meanwhile the journalist changes the real plan: the decoy keeps the plan the coercer
    // saw, as its watchers still show it, until the coercion is declared over.
    v.ok(&["plan", "set", "--every", "2d", "--grace", "2h"], "");
    v.ok(&["status"], "");
    let decoy_plan = || {
        let shown = v.run_with_pass(&duress_file, &["plan", "show"], "");
        assert!(shown.status.success(), "{}", stderr(&shown));
        stdout(&shown)
    };
    assert!(decoy_plan().contains("every 1d"), "{}", decoy_plan());
    app.unlock(PASSPHRASE);
    let over = app.submit("/pretend-over", &[]);
    assert!(
        over.contains("Every watcher follows your real plan again"),
        "{over}"
    );
    assert!(!over.contains("id=\"pretend-form\""), "{over}");
    assert!(!over.contains("Shown under duress"), "{over}");
    app.submit("/lock", &[]);
    assert!(decoy_plan().contains("every 2d"), "{}", decoy_plan());
}

/// Leaving a watcher from the app, after a question, as `posbon unenrol`: under the duress
/// passphrase the very same words (the watcher only seems to forget), under the real one the
/// watcher forgets the journalist.
#[test]
fn a_watcher_is_left_from_the_app_after_a_question_and_reads_the_same_under_duress() {
    let v = TestVault::new();
    let (a, b) = (Daemon::start(&v.path("a")), Daemon::start(&v.path("b")));
    for daemon in [&a, &b] {
        v.ok(
            &["enrol", &daemon.url, &invite(&daemon.data, "Nilufar")],
            "",
        );
    }
    let duress = std::fs::read_to_string(v.set_duress("blue river under the old bridge")).unwrap();
    let leave_link = |page: &str, url: &str| -> String {
        let section = page
            .split("<section class=\"watcher\">")
            .find(|s| s.contains(&format!("<h2>{url}</h2>")))
            .unwrap_or_else(|| panic!("{url} not listed: {page}"));
        section
            .split("href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string()
    };
    let flash = |page: &str| -> String {
        page.split("id=\"notice\">")
            .nth(1)
            .and_then(|rest| rest.split("</p>").next())
            .unwrap_or_else(|| panic!("no notice: {page}"))
            .replace(&b.url, "URL")
    };
    let mut app = App::start(&v, &["--lang", "ru"], &[]);
    app.sign_in();
    let mut said = Vec::new();
    for passphrase in [duress.trim(), PASSPHRASE] {
        app.unlock(passphrase);
        let link = leave_link(&app.page("/switch"), &b.url);
        let question = app.page(&link);
        assert!(
            question.contains(&format!("Отключиться от {}?", b.url)),
            "{question}"
        );
        let left = app.submit(&link, &[]);
        assert!(!left.contains(&format!("<h2>{}</h2>", b.url)), "{left}");
        said.push(flash(&left));
        app.submit("/lock", &[]);
    }
    assert_eq!(said[0], said[1], "the same words under both passphrases");
    assert!(said[1].starts_with("Отключено от URL:"), "{}", said[1]);
    // The real leave made the watcher forget; the vault keeps the other one.
    let listed = v.ok(
        &["watch", "journalists", "--data", b.data.to_str().unwrap()],
        "",
    );
    assert!(!listed.contains("Nilufar"), "{listed}");
    let status = v.ok(&["status"], "");
    assert!(
        status.contains(&a.url) && !status.contains(&b.url),
        "{status}"
    );
}

/// Tor from the app, as `posbon proxy set|clear`: a `socks5://` address refused (it would
/// look names up locally), a proxy that does not answer warned of, and then no request goes
/// straight: the check-in fails rather than leave Tor, in the journalist's language.
#[test]
fn the_route_through_tor_is_set_and_cleared_in_the_app_and_never_bypassed() {
    let v = TestVault::new();
    let _daemon = enrolled_with(&v, "watcher");
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    drop(silent);
    let mut app = App::start(&v, &["--lang", "tg"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    assert!(app.page("/proxy").contains("id=\"proxy-form\""));
    let local = app.submit("/proxy", &[("url", "socks5://127.0.0.1:9050")]);
    assert!(
        local.contains("socks5:// номи нозирро дар ҳамин компютер меҷӯяд"),
        "{local}"
    );
    let proxy = format!("socks5h://127.0.0.1:{port}");
    let set = app.submit("/proxy", &[("url", &proxy)]);
    assert!(
        set.contains(&format!(
            "Акнун ҳар дархост ба нозир тавассути {proxy} меравад"
        )) && set.contains(&format!("Диққат: дар {proxy} ҳоло касе ҷавоб намедиҳад")),
        "{set}"
    );
    let checked = app.submit("/checkin", &[]);
    assert!(
        checked.contains(&format!("прокси {proxy} ҷавоб намедиҳад")),
        "not straight to the watcher: {checked}"
    );
    let cleared = app.submit("/proxy/clear", &[]);
    assert!(
        cleared.contains("Дархостҳо ба нозирон боз бевосита мераванд"),
        "{cleared}"
    );
    let checked = app.submit("/checkin", &[]);
    assert!(checked.contains("id=\"notice\""), "{checked}");
}

/// A watcher that is gone is forgotten here only, after a question, as `unenrol --local`;
/// one that still answers is said to keep watching.
#[test]
fn a_gone_watcher_is_forgotten_here_only_after_a_question() {
    let v = TestVault::new();
    let gone = enrolled_with(&v, "gone");
    let other = enrolled_with(&v, "other");
    let forget_link = |page: &str, url: &str| -> String {
        let section = page
            .split("<section class=\"watcher\">")
            .find(|s| s.contains(&format!("<h2>{url}</h2>")))
            .unwrap_or_else(|| panic!("{url} not listed: {page}"));
        let at = section.find("/forget\"").expect("a forget link");
        let start = section[..at].rfind("href=\"").unwrap() + 6;
        section[start..at + 7].to_string()
    };
    let mut app = App::start(&v, &["--lang", "en"], &[]);
    app.sign_in();
    app.unlock(PASSPHRASE);
    let page = app.page("/switch");
    let (gone_url, link) = (gone.url.clone(), forget_link(&page, &gone.url));
    drop(gone);
    let question = app.page(&link);
    assert!(question.contains("It is NOT told"), "{question}");
    let forgot = app.submit(&link, &[]);
    assert!(
        forgot.contains(&format!(
            "{gone_url} is forgotten here only; it was not told."
        )),
        "{forgot}"
    );
    assert!(
        !forgot.contains(&format!("<h2>{gone_url}</h2>")),
        "{forgot}"
    );
    // The other still answers: forgotten here, and the page says it keeps watching.
    let link = forget_link(&forgot, &other.url);
    let still = app.submit(&link, &[]);
    assert!(
        still.contains("still knows you: it keeps watching"),
        "{still}"
    );
}
