//! How long the watcher takes to answer the real and the duress credential: a coercer who
//! times the answers must not learn which one was used. Against the real daemon binary
//! (release build) on loopback, one keep-alive connection, requests one at a time:
//!
//! - a phone check-in with the real PIN, and with the duress PIN;
//! - a signed check-in with the device key, and with the duress key.
//!
//! The two of a pair run interleaved (their order drawn at random each round), so drift in
//! the machine's load falls on both alike. Each real answer clears the duress episode, so
//! every duress answer raises a fresh silent alert (to one webhook contact, a receiver in this
//! process): the costliest case. The same is run for two series of the *same* credential (A/A),
//! which shows how large a difference noise alone makes.
//!
//! Reported: the median of each, the difference of the medians (duress - real), their ratio,
//! and the A/A difference beside it. Run with `cargo bench --bench duress_timing`; rounds per
//! pair with `DURESS_BENCH_ROUNDS` (default 1,000). Prints Markdown.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use posbon::watch::contacts::{Channel, Contact, Directory, Lang};
use posbon::watch::plan::{Action, Plan, Schedule, Step};
use posbon::watch::protocol::{self, ops};
use posbon::watch::schedule::State;
use posbon::watch::store::{Store, Subject};
use ring::signature::Ed25519KeyPair;
use serde_json::{Value, json};

const SUBJECT: &str = "00112233445566778899aabbccddeeff";
const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PIN: &str = "285071";
const DURESS_PIN: &str = "930462";

fn now_ms() -> i64 {
    posbon::vault::now()
}

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// A webhook receiver in this process that accepts everything.
fn start_receiver(runtime: &tokio::runtime::Runtime) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        let app = axum::Router::new().fallback(|_body: axum::body::Bytes| async { "{}" });
        axum::serve(listener, app).await.unwrap();
    });
    url
}

/// One journalist with a daily plan and a lawyer (a webhook), keys `device` and `duress`.
fn populate(data: &Path, device: &Ed25519KeyPair, duress: &Ed25519KeyPair, hook: &str) {
    let store = Store::open(data).unwrap();
    let start = now_ms();
    let subject = Subject {
        plan: Some(Plan {
            schedule: Schedule::Every {
                every_ms: 86_400_000,
            },
            release_on_duress: false,
            grace_ms: 3_600_000,
            reminders_ms: vec![],
            steps: vec![Step {
                action: Action::AlertTier(1),
                after_ms: 0,
            }],
        }),
        state: State::starting(start),
        directory: Directory {
            contacts: vec![Contact {
                name: "Lawyer".into(),
                role: "lawyer".into(),
                lang: Lang::Tg,
                tiers: vec![1],
                channels: vec![Channel::Webhook(format!("{hook}/hook"))],
                tz: Some("Asia/Dushanbe".into()),
                age_recipients: vec![],
            }],
            instructions: "Call the lawyer on record; case 12/2026.".into(),
        },
        ..Subject::enrolled(
            SUBJECT.into(),
            "Nilufar".into(),
            protocol::public_key(device),
            protocol::public_key(duress),
            start,
        )
    };
    store.commit(&subject, &[], start).unwrap();
    store.flush().unwrap();
}

struct Daemon {
    child: Child,
    url: String,
}

impl Daemon {
    fn start(data: &Path, config: &Path) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_posbon"))
            .args(["watch", "serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        Daemon { child, url }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Sends requests the way each credential is used, and times the answers.
struct Bench {
    http: reqwest::blocking::Client,
    url: String,
    device: Ed25519KeyPair,
    duress: Ed25519KeyPair,
    phone: String,
    counter: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Credential {
    Pin,
    DuressPin,
    DeviceKey,
    DuressKey,
}

impl Bench {
    fn post(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// A signed request `op` with the device key, or the duress key if `duress`.
    fn signed(&mut self, duress: bool, op: &str) -> Vec<u8> {
        // Strictly increasing, and ahead of any counter used before.
        self.counter = self.counter.max(now_ms() as u64 * 1000) + 1;
        let key = if duress { &self.duress } else { &self.device };
        let request = protocol::sign_request(key, SUBJECT, op, now_ms(), self.counter, "{}".into());
        serde_json::to_vec(&request).unwrap()
    }

    /// Times one answer; checks it is the success every credential gets. The request is
    /// built (and signed) before the clock starts.
    fn time(&mut self, credential: Credential) -> Duration {
        let (path, body) = match credential {
            Credential::Pin => ("/v1/phone/checkin", phone_checkin(&self.phone, PIN)),
            Credential::DuressPin => ("/v1/phone/checkin", phone_checkin(&self.phone, DURESS_PIN)),
            Credential::DeviceKey => ("/v1/request", self.signed(false, ops::CHECKIN)),
            Credential::DuressKey => ("/v1/request", self.signed(true, ops::CHECKIN)),
        };
        let started = Instant::now();
        let (status, answer) = self.post(path, body);
        let took = started.elapsed();
        assert_eq!(status, 200, "{credential:?}: {answer}");
        took
    }
}

fn phone_checkin(device: &str, pin: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"device_id": device, "device_secret": SECRET, "pin": pin})).unwrap()
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort_unstable();
    let n = times.len();
    let mid = if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2
    };
    mid.as_secs_f64() * 1e3
}

/// `rounds` interleaved pairs (a, b), the order drawn afresh each round; their medians (ms).
fn interleaved(bench: &mut Bench, a: Credential, b: Credential, rounds: usize) -> (f64, f64) {
    let warm_up = rounds / 10;
    let (mut times_a, mut times_b) = (Vec::new(), Vec::new());
    for round in 0..warm_up + rounds {
        let a_first = posbon::crypto::random_array::<1>()[0] & 1 == 0;
        let (first, second) = if a_first { (a, b) } else { (b, a) };
        let t1 = bench.time(first);
        let t2 = bench.time(second);
        // Warm-up rounds fill caches and the connection pool; not counted.
        if round < warm_up {
            continue;
        }
        let (ta, tb) = if a_first { (t1, t2) } else { (t2, t1) };
        times_a.push(ta);
        times_b.push(tb);
    }
    (median(times_a), median(times_b))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds: usize = std::env::var("DURESS_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let hook = start_receiver(&runtime);
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("watcher");
    let (device, duress) = (key(), key());
    populate(&data, &device, &duress, &hook);
    // The receiver is on loopback, which the watcher refuses unless told.
    let config = temp.path().join("watcher.toml");
    std::fs::write(&config, "[delivery]\nallow_private_addresses = true\n").unwrap();
    let daemon = Daemon::start(&data, &config);
    let mut bench = Bench {
        http: reqwest::blocking::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .unwrap(),
        url: daemon.url.clone(),
        device,
        duress,
        phone: String::new(),
        counter: 0,
    };
    // A phone, enrolled through the watcher's own API.
    let invite = bench.signed(false, ops::PHONE_INVITE);
    let (status, answer) = bench.post("/v1/request", invite);
    assert_eq!(status, 200, "{answer}");
    let token = answer["phone_token"].as_str().unwrap().to_string();
    let enrol =
        json!({"token": token, "device_secret": SECRET, "pin": PIN, "duress_pin": DURESS_PIN});
    let (status, answer) = bench.post("/v1/phone/enrol", serde_json::to_vec(&enrol).unwrap());
    assert_eq!(status, 200, "{answer}");
    bench.phone = answer["device_id"].as_str().unwrap().to_string();

    println!(
        "Answer times of the watcher (release build, loopback, one keep-alive connection, {rounds} interleaved pairs after {} warm-up pairs; {} cores shared with the client and the webhook receiver)",
        rounds / 10,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "| check-in | real: median | duress: median | duress - real | duress / real | A/A (real - real) |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (label, real, fake) in [
        ("phone, PIN", Credential::Pin, Credential::DuressPin),
        (
            "signed, device key",
            Credential::DeviceKey,
            Credential::DuressKey,
        ),
    ] {
        let (r, d) = interleaved(&mut bench, real, fake, rounds);
        let (a1, a2) = interleaved(&mut bench, real, real, rounds);
        println!(
            "| {label} | {r:.3} ms | {d:.3} ms | {:+.3} ms | {:.3} | {:+.3} ms |",
            d - r,
            d / r,
            a2 - a1
        );
    }
    drop(daemon);
}
