//! How long the watcher takes to answer the real and the duress credential: a coercer who
//! times the answers must not learn which one was used. Against the real daemon binary
//! (release build) on loopback, one keep-alive connection, requests one at a time:
//!
//! - a phone check-in with the real PIN, and with the duress PIN, from a phone enrolled the way
//!   the page enrols one (an ECDSA P-256 key and a PIN key; each check-in signed, carrying
//!   proofs of the PIN typed: the same fields and sizes for either PIN);
//! - a signed check-in with the device key, and with the duress key.
//!
//! The two of a pair run interleaved (their order drawn at random each round), so drift in
//! the machine's load falls on both alike. A real answer ends the duress episode, so a duress
//! answer after it raises a fresh silent alert, to four webhook contacts (a receiver in this
//! process), built after the answer. After each answer the benchmark waits (20 ms, or
//! `DURESS_BENCH_GAP_MS`) so that the work it set off is over before the next is timed: each
//! answer is timed on a quiet watcher, as a coercer's one check-in would be. With a gap of 0 the
//! requests run back to back and each also pays for the work the one before it set off. The
//! same is run for two series of the *same* credential (A/A), which shows how large a
//! difference noise alone makes.
//!
//! Reported: the median of each, the difference of the medians (duress - real), their ratio,
//! and the A/A difference beside it. Run with `cargo bench --bench duress_timing`; rounds per
//! pair with `DURESS_BENCH_ROUNDS` (default 1,000). Prints Markdown.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use posbon::plan::schedule::State;
use posbon::plan::{Action, Plan, Schedule, Step};
use posbon::protocol::contacts::{Channel, Contact, Directory, Lang};
use posbon::protocol::{self, ops};
use posbon::watch::phone::{checkin_bytes, enrol_bytes, verifier};
use posbon::watch::store::{Store, Subject};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

const SUBJECT: &str = "00112233445566778899aabbccddeeff";
const PIN: &str = "285071";
const DURESS_PIN: &str = "930462";

fn now_ms() -> i64 {
    posbon::vault::now()
}

fn key() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// A phone as the page makes one (as `tests/common/phone.rs` does): an ECDSA P-256 key and a
/// 32-byte PIN key, made at enrolment and never sent again.
struct Phone {
    key: EcdsaKeyPair,
    pin_key: [u8; 32],
    id: String,
    counter: u64,
}

impl Phone {
    fn new() -> Phone {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let mut pin_key = [0u8; 32];
        rng.fill(&mut pin_key).unwrap();
        Phone {
            key,
            pin_key,
            id: String::new(),
            counter: 0,
        }
    }

    fn sign(&self, message: &[u8]) -> String {
        protocol::b64(
            self.key
                .sign(&SystemRandom::new(), message)
                .unwrap()
                .as_ref(),
        )
    }

    /// The enrolment the page sends: the keys, a proof of the signing key, both PINs.
    fn enrol_request(&self, token: &str) -> Vec<u8> {
        let public = protocol::b64(self.key.public_key().as_ref());
        let proof = self.sign(&enrol_bytes(token, &public));
        let request = json!({"token": token, "pin_key": protocol::b64(&self.pin_key),
            "public_key": public, "proof": proof, "pin": PIN, "duress_pin": DURESS_PIN});
        serde_json::to_vec(&request).unwrap()
    }

    /// A signed check-in with `pin`: both proofs are HMACs of the PIN typed, so the real and
    /// the duress PIN send the same fields of the same sizes.
    fn checkin(&mut self, pin: &str) -> Vec<u8> {
        let now = now_ms();
        self.counter = (self.counter + 1).max(now as u64);
        let pin_proof = protocol::b64(&verifier(&self.pin_key, "pin", pin));
        let duress_proof = protocol::b64(&verifier(&self.pin_key, "duress", pin));
        let message = checkin_bytes(
            SUBJECT,
            &self.id,
            now,
            self.counter,
            &pin_proof,
            &duress_proof,
        );
        let request = json!({"device_id": self.id, "ts_ms": now, "counter": self.counter,
            "pin_proof": pin_proof, "duress_proof": duress_proof, "sig": self.sign(&message)});
        serde_json::to_vec(&request).unwrap()
    }
}

/// A webhook receiver in this process that accepts everything and counts what it received.
fn start_receiver(runtime: &tokio::runtime::Runtime, received: Arc<AtomicUsize>) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        let app = axum::Router::new().fallback(move |_body: axum::body::Bytes| async move {
            received.fetch_add(1, Ordering::Relaxed);
            "{}"
        });
        axum::serve(listener, app).await.unwrap();
    });
    url
}

/// One journalist with a daily plan and four tier-1 contacts (webhooks), keys `device` and
/// `duress`: a duress answer is followed by four alerts, built and signed.
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
            contacts: (0..4)
                .map(|i| Contact {
                    name: format!("Lawyer {i}"),
                    role: "lawyer".into(),
                    lang: Lang::Tg,
                    tiers: vec![1],
                    channels: vec![Channel::Webhook(format!("{hook}/hook/{i}"))],
                    tz: Some("Asia/Dushanbe".into()),
                    age_recipients: vec![],
                    email_attach: false,
                })
                .collect(),
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
    phone: Phone,
    counter: u64,
    /// Waited after each answer (see the module docs).
    gap: Duration,
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
            Credential::Pin => ("/v1/phone/checkin", self.phone.checkin(PIN)),
            Credential::DuressPin => ("/v1/phone/checkin", self.phone.checkin(DURESS_PIN)),
            Credential::DeviceKey => ("/v1/request", self.signed(false, ops::CHECKIN)),
            Credential::DuressKey => ("/v1/request", self.signed(true, ops::CHECKIN)),
        };
        let started = Instant::now();
        let (status, answer) = self.post(path, body);
        let took = started.elapsed();
        assert_eq!(status, 200, "{credential:?}: {answer}");
        std::thread::sleep(self.gap);
        took
    }
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
    let setting = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(default)
    };
    let rounds = setting("DURESS_BENCH_ROUNDS", 1_000) as usize;
    let gap = Duration::from_millis(setting("DURESS_BENCH_GAP_MS", 20));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let hook = start_receiver(&runtime, received.clone());
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
        phone: Phone::new(),
        counter: 0,
        gap,
    };
    // A phone, enrolled through the watcher's own API.
    let invite = bench.signed(false, ops::PHONE_INVITE);
    let (status, answer) = bench.post("/v1/request", invite);
    assert_eq!(status, 200, "{answer}");
    let token = answer["phone_token"].as_str().unwrap().to_string();
    let enrol = bench.phone.enrol_request(&token);
    let (status, answer) = bench.post("/v1/phone/enrol", enrol);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["subject"], SUBJECT);
    bench.phone.id = answer["device_id"].as_str().unwrap().to_string();

    println!(
        "Answer times of the watcher (release build, loopback, one keep-alive connection, {rounds} interleaved pairs after {} warm-up pairs, {} ms between requests; {} cores shared with the client and the webhook receiver)",
        rounds / 10,
        gap.as_millis(),
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
    // The alerts go out after their answers; give the last ones a moment to arrive.
    std::thread::sleep(Duration::from_secs(2));
    println!();
    println!(
        "Alerts received by the webhook contacts: {} (four for each duress answer that began an episode).",
        received.load(Ordering::Relaxed)
    );
    drop(daemon);
}
