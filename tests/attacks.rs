//! What a hostile technician tries first, beyond forged and replayed check-ins
//! (`watch_attacks.rs`): slow clients, huge headers, big unauthenticated uploads, replayed
//! uploads, guessed links, tampered bundles, and passphrase guessing. Each is refused, and
//! the journalist can still check in.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::watcher::{Daemon, connect_from, invite, runtime};
use common::*;
use posbon::protocol;

fn enrolled() -> (TestVault, Daemon) {
    let v = TestVault::new();
    let daemon = Daemon::start(&v.path("watcher"));
    let code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &code], "");
    v.ok(&["plan", "set", "--every", "1d", "--grace", "2h"], "");
    (v, daemon)
}

fn address(daemon: &Daemon) -> String {
    daemon.url.trim_start_matches("http://").to_string()
}

fn rss_mib(daemon: &Daemon) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.child.id())).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap()
        / 1024.0
}

#[test]
fn slow_clients_do_not_starve_check_ins() {
    let (v, daemon) = enrolled();
    // Two hundred connections that send half a request, a byte at a time: most from other
    // addresses (strangers on the network, 30 each, under the watcher's per-address cap of
    // 32), and 20 from the journalist's own address (a shared NAT, say).
    let runtime = runtime();
    let to: std::net::SocketAddr = address(&daemon).parse().unwrap();
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|i| {
            let last = if i < 20 { 1 } else { 2 + (i - 20) / 30 };
            let mut stream = connect_from(&runtime, last as u8, to);
            stream
                .write_all(
                    b"POST /v1/request HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{",
                )
                .unwrap();
            stream
        })
        .collect();
    for round in 0..3 {
        for stream in &mut slow {
            let _ = stream.write_all(b" ");
        }
        let started = Instant::now();
        let out = v.run(&["checkin"], "");
        assert!(out.status.success(), "round {round}: {}", stderr(&out));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a check-in waited {:?} behind slow clients",
            started.elapsed()
        );
    }
    drop(slow);
}

#[test]
fn huge_headers_and_big_unauthenticated_uploads_are_refused_cheaply() {
    let (v, daemon) = enrolled();
    // A request with a megabyte of headers.
    let mut stream = TcpStream::connect(address(&daemon)).unwrap();
    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let _ = stream.write_all(huge.as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );

    // Ten 30 MB uploads with a forged request header: refused before the body is read.
    let before = rss_mib(&daemon);
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let url = format!("{}/v1/bundle", daemon.url);
            std::thread::spawn(move || {
                let forged = protocol::SignedRequest {
                    subject: "0".repeat(32),
                    op: protocol::ops::BUNDLE_PUT.into(),
                    ts_ms: posbon::vault::now(),
                    counter: 1,
                    payload: "{\"id\":\"00\",\"name\":\"x\",\"size\":30000000,\"sha256\":\"00\",\"recipients\":[]}".into(),
                    sig: protocol::b64(&[0u8; 64]),
                };
                let header = protocol::b64(&serde_json::to_vec(&forged).unwrap());
                reqwest::blocking::Client::new()
                    .post(url)
                    .header(protocol::REQUEST_HEADER, header)
                    .body(vec![0u8; 30_000_000])
                    .send()
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    for handle in handles {
        let status = handle.join().unwrap();
        // Refused as a forgery (an unknown subject is answered like one), or the connection
        // closed before the body was read.
        assert!(
            status == 401 || status == 0,
            "an unknown subject is refused (or the connection closed): {status}"
        );
    }
    let after = rss_mib(&daemon);
    assert!(
        after - before < 100.0,
        "the watcher held the bodies: {before:.0} MiB -> {after:.0} MiB"
    );
    v.ok(&["checkin"], "");
}

fn key() -> ring::signature::Ed25519KeyPair {
    let pkcs8 =
        ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

#[test]
fn a_replayed_upload_and_guessed_links_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&temp.path().join("watcher"));
    let code = invite(&daemon.data, "Rustam");
    let device = key();
    let link = posbon::switch::client::enrol(
        &posbon::switch::client::Route::Direct,
        &daemon.url,
        &code,
        &device,
        &key(),
    )
    .unwrap();
    // A genuine upload, captured on the wire and sent again.
    let body = vec![7u8; 4096];
    let put = protocol::BundlePut {
        id: "ab".repeat(16),
        name: "bundle ababab".into(),
        size: body.len() as u64,
        sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, &body)),
        recipients: vec!["Dilnoza".into()],
        version: 1,
    };
    let now = posbon::vault::now();
    let request = protocol::sign_request(
        &device,
        &link.subject,
        protocol::ops::BUNDLE_PUT,
        now,
        (now as u64) * 1000,
        serde_json::to_string(&put).unwrap(),
    );
    let header = protocol::b64(&serde_json::to_vec(&request).unwrap());
    let http = reqwest::blocking::Client::new();
    let send = |body: Vec<u8>| {
        http.post(format!("{}/v1/bundle", daemon.url))
            .header(protocol::REQUEST_HEADER, header.clone())
            .body(body)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(send(body.clone()), 200);
    assert_eq!(send(body.clone()), 409, "a replay is refused");
    // The same signed header with another body: refused by its hash (and as a replay).
    assert!(matches!(send(vec![8u8; 4096]), 409 | 422));
    // Guessed download and acknowledgement links.
    for path in ["b", "a"] {
        for guess in ["0".repeat(32), "..%2F..%2Fetc%2Fpasswd".into(), "x".into()] {
            let url = format!("{}/{path}/{guess}", daemon.url);
            let get = http.get(&url).send().unwrap().status().as_u16();
            let post = http.post(&url).send().unwrap().status().as_u16();
            assert!(get == 404 && post == 404, "{url}: {get} {post}");
        }
        // A person who opens a dead link reads why, in their language, not JSON.
        let page = http
            .get(format!("{}/{path}/{}", daemon.url, "0".repeat(32)))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            page.contains("This link is unknown") && page.contains("Эта ссылка неизвестна"),
            "{page}"
        );
    }
}

#[test]
fn a_tampered_bundle_is_refused_and_nothing_is_written() {
    let v = TestVault::new();
    let (secret, identity) = posbon::vault::identity::generate();
    let key = v.path("lawyer.key");
    std::fs::write(&key, format!("{}\n", secret.expose())).unwrap();
    let recipient = identity.to_public().to_string();
    let daemon = Daemon::start(&v.path("watcher"));
    let invite_code = invite(&daemon.data, "Rustam");
    v.ok(&["enrol", &daemon.url, &invite_code], "");
    v.add_lawyer(&recipient);
    let note = v.add_draft("Statement", &"the statement ".repeat(10_000));
    v.ok(&["release", "add", &note, "--to", "Dilnoza", "--yes"], "");
    let stored = walk_files(&daemon.data.join("bundles"));
    assert_eq!(stored.len(), 1);
    let genuine = std::fs::read(&stored[0]).unwrap();
    let open = |bytes: &[u8], name: &str| {
        let file = v.path(&format!("{name}.age"));
        std::fs::write(&file, bytes).unwrap();
        let out_dir = v.path(name);
        let out = posbon()
            .args(["open", "--unchecked"])
            .arg(&file)
            .arg("-i")
            .arg(&key)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        (code(&out), out_dir.exists(), stderr(&out))
    };
    assert_eq!(open(&genuine, "genuine").0, 0);
    // A flipped byte in the header, in the middle, or a cut-off end.
    let mut header = genuine.clone();
    header[60] ^= 1;
    let mut middle = genuine.clone();
    let at = genuine.len() / 2;
    middle[at] ^= 1;
    let cut = &genuine[..genuine.len() - 100];
    for (name, bytes) in [
        ("header", &header[..]),
        ("middle", &middle[..]),
        ("cut", cut),
    ] {
        let (status, written, err) = open(bytes, name);
        assert!(status == 3 || status == 4, "{name}: {status} {err}");
        assert!(!written, "{name}: nothing is left behind");
    }
}

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
fn guessing_the_passphrase_many_times_locks_nothing_and_loses_nothing() {
    let v = TestVault::new();
    let id = v.add_draft("Still here", "body");
    let wrong = v.secret_file("wrong", "not the passphrase");
    for _ in 0..25 {
        let out = v.run_with_pass(&wrong, &["list"], "");
        assert_eq!(code(&out), 3);
        assert!(
            stderr(&out).contains("wrong passphrase"),
            "{}",
            stderr(&out)
        );
    }
    assert!(v.ok(&["show", &id], "").contains("body"));
}
