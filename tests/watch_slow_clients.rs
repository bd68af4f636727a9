//! A stranger holding connections open (idle, or sending a request head a byte at a time,
//! or an enormous one) against the real watcher on loopback: check-ins still get through,
//! the stranger's sockets are closed by the watcher, memory stays flat, and SIGTERM still
//! stops it promptly. Attackers connect from other loopback addresses (127.0.0.2, ...) than
//! the journalist (127.0.0.1), as a stranger on the Internet would.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::watcher::{Daemon, connect_from, invite, runtime};
use posbon::protocol::ops;
use posbon::switch::client::{self, Link};
use posbon::watch::listener::{HEADER_TIMEOUT, SHUTDOWN_GRACE};
use ring::signature::Ed25519KeyPair;

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// Enrols a subject with an hourly plan; returns its link and device key.
fn enrol(daemon: &Daemon) -> (Link, Ed25519KeyPair) {
    let code = invite(&daemon.data, "Subject");
    let device = key();
    let mut link =
        client::enrol(&client::Route::Direct, &daemon.url, &code, &device, &key()).unwrap();
    let plan = r#"{"schedule":{"kind":"every","every_ms":3600000},"grace_ms":60000,"steps":[{"action":"release","after_ms":0}]}"#;
    let (_, counter) = client::call(
        &client::Route::Direct,
        &link,
        &device,
        ops::PLAN,
        plan.into(),
        posbon::vault::now(),
    )
    .unwrap();
    link.last_counter = counter;
    (link, device)
}

/// A signed check-in; returns how long it took.
fn check_in(link: &mut Link, device: &Ed25519KeyPair) -> Duration {
    let started = Instant::now();
    let (status, counter) = client::call(
        &client::Route::Direct,
        link,
        device,
        ops::CHECKIN,
        "{}".into(),
        posbon::vault::now(),
    )
    .unwrap();
    link.last_counter = counter;
    assert!(status.last_checkin_ms.is_some());
    started.elapsed()
}

fn address(daemon: &Daemon) -> SocketAddr {
    daemon.url.strip_prefix("http://").unwrap().parse().unwrap()
}

/// Whether the watcher has closed this connection (anything it said before is read first).
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

fn closed_count(streams: &mut [TcpStream]) -> usize {
    streams
        .iter_mut()
        .map(closed_by_server)
        .filter(|&closed| closed)
        .count()
}

/// The start of a request whose head never ends.
const HALF_HEAD: &[u8] =
    b"POST /v1/request HTTP/1.1\r\nHost: watcher\r\nContent-Type: application/json\r\n";

fn resident_kib(daemon: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.child.id())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn more_idle_and_half_sent_connections_than_open_files_do_not_stop_a_check_in() {
    let temp = tempfile::tempdir().unwrap();
    // A limit of 256 files gives 128 connections at most, 32 per address.
    let daemon = Daemon::start_with_open_files(&temp.path().join("watcher"), 256);
    let (mut link, device) = enrol(&daemon);
    let to = address(&daemon);
    let runtime = runtime();

    // 270 idle sockets from three addresses (more than the watcher's 256 files), and 20
    // sending a request head a line per second from a fourth.
    let opened = Instant::now();
    let mut idle: Vec<Vec<TcpStream>> = (2..=4)
        .map(|last| (0..90).map(|_| connect_from(&runtime, last, to)).collect())
        .collect();
    let mut trickling: Vec<TcpStream> = (0..20).map(|_| connect_from(&runtime, 5, to)).collect();
    for stream in &mut trickling {
        stream.write_all(HALF_HEAD).unwrap();
    }

    std::thread::sleep(Duration::from_secs(1));
    for (index, streams) in idle.iter_mut().enumerate() {
        assert!(
            closed_count(streams) >= 90 - 32,
            "address {} got more than 32 connections",
            index + 2
        );
    }
    let took = check_in(&mut link, &device);
    assert!(took < Duration::from_secs(2), "the check-in took {took:?}");

    // The head keeps coming, slowly; the watcher still closes the connection on time.
    while opened.elapsed() < HEADER_TIMEOUT - Duration::from_secs(1) {
        for stream in &mut trickling {
            let _ = stream.write_all(b"X-Slow: y\r\n");
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert_eq!(
        closed_count(&mut trickling),
        0,
        "closed before the deadline"
    );
    std::thread::sleep((HEADER_TIMEOUT + Duration::from_secs(3)).saturating_sub(opened.elapsed()));
    assert_eq!(
        closed_count(&mut trickling),
        20,
        "half-sent heads outlived the deadline"
    );
    for streams in &mut idle {
        assert_eq!(
            closed_count(streams),
            90,
            "idle sockets outlived the deadline"
        );
    }

    // A keep-alive connection that falls idle after a request is closed on the same deadline.
    let mut kept = connect_from(&runtime, 6, to);
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: watcher\r\n\r\n")
        .unwrap();
    let mut answer = [0u8; 12];
    kept.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    std::thread::sleep(HEADER_TIMEOUT + Duration::from_secs(2));
    assert!(
        closed_by_server(&mut kept),
        "an idle keep-alive outlived the deadline"
    );

    let took = check_in(&mut link, &device);
    assert!(took < Duration::from_secs(2), "the check-in took {took:?}");
    let log = daemon.log();
    assert!(
        log.contains("open_files=256") && log.contains("connections=128"),
        "{log}"
    );
    assert!(
        log.contains("connections over the cap were closed"),
        "{log}"
    );
    assert!(daemon.stop());
}

#[test]
fn an_oversized_head_is_refused_and_unfinished_heads_do_not_grow_memory() {
    let temp = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&temp.path().join("watcher"));
    let (mut link, device) = enrol(&daemon);
    let to = address(&daemon);
    let runtime = runtime();

    // A complete head of 20 KiB, over the 16 KiB cap.
    let mut big = connect_from(&runtime, 2, to);
    let mut head = b"GET /health HTTP/1.1\r\nHost: watcher\r\nX-Big: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 20 * 1024));
    head.extend(b"\r\n\r\n");
    let _ = big.write_all(&head);
    big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = Vec::new();
    let _ = big.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );

    // 120 unfinished heads of 15 KiB each, from four addresses (30 each, under the cap),
    // and 60 of 200 KiB, which are cut off at 16 KiB.
    let before = resident_kib(&daemon);
    let mut held = Vec::new();
    for last in 2..=5 {
        for _ in 0..30 {
            let mut stream = connect_from(&runtime, last, to);
            stream.write_all(HALF_HEAD).unwrap();
            stream
                .write_all(format!("X-Pad: {}\r\n", "b".repeat(15 * 1024 - 100)).as_bytes())
                .unwrap();
            held.push(stream);
        }
    }
    let mut cut = Vec::new();
    for last in 6..=7 {
        for _ in 0..30 {
            let mut stream = connect_from(&runtime, last, to);
            stream
                .set_write_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let _ = stream.write_all(HALF_HEAD);
            let _ = stream.write_all(format!("X-Pad: {}", "c".repeat(200 * 1024)).as_bytes());
            cut.push(stream);
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let grown = resident_kib(&daemon).saturating_sub(before);
    eprintln!("resident memory grew by {grown} KiB");
    assert!(grown < 16 * 1024, "memory grew by {grown} KiB");
    assert_eq!(closed_count(&mut cut), 60, "over-long heads were kept");
    assert_eq!(closed_count(&mut held), 0);
    let took = check_in(&mut link, &device);
    assert!(took < Duration::from_secs(2), "the check-in took {took:?}");
    assert!(daemon.stop());
}

#[test]
fn sigterm_with_half_sent_heads_open_exits_within_the_grace_period() {
    let temp = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&temp.path().join("watcher"));
    let (mut link, device) = enrol(&daemon);
    check_in(&mut link, &device);
    let to = address(&daemon);
    let runtime = runtime();
    let mut streams: Vec<TcpStream> = (0..20).map(|_| connect_from(&runtime, 2, to)).collect();
    for stream in &mut streams {
        stream.write_all(HALF_HEAD).unwrap();
    }
    let _idle: Vec<TcpStream> = (0..20).map(|_| connect_from(&runtime, 3, to)).collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    assert!(daemon.stop(), "the watcher did not exit cleanly");
    let took = started.elapsed();
    eprintln!("SIGTERM to exit: {took:?}");
    assert!(
        took < SHUTDOWN_GRACE + Duration::from_secs(2),
        "exit took {took:?}"
    );
}
