//! The alert outbox under load, on loopback, against the real daemon (release build): N
//! subjects whose tier-1 step falls due in the same second, each with one webhook contact.
//! Measures alerts per second through the outbox (fire, sign, persist, send, record) and the
//! delay from the step's due time to its arrival at the receiver (p50, p99, max).
//!
//! The reference, measured in the same run on the same receiver: plain HTTP POSTs of the same
//! bodies from one reqwest client at the same concurrency (64), with no storage at all. The
//! ratio says what durability costs. Run with `cargo bench --bench alerts`; prints Markdown.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use posbon::plan::schedule::State;
use posbon::plan::{Action, Plan, Schedule, Step};
use posbon::protocol::contacts::{Channel, Contact, Directory, Lang};
use posbon::watch::store::{Store, Subject};

fn now_ms() -> i64 {
    posbon::vault::now()
}

/// Arrival times (Unix ms) of every request the receiver accepted.
type Arrivals = Arc<Mutex<Vec<i64>>>;

fn start_receiver(runtime: &tokio::runtime::Runtime) -> (String, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let recorded = arrivals.clone();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        let app = axum::Router::new().fallback(move |_body: axum::body::Bytes| {
            let recorded = recorded.clone();
            async move {
                recorded.lock().unwrap().push(now_ms());
                "{\"ok\":true}"
            }
        });
        axum::serve(listener, app).await.unwrap();
    });
    (url, arrivals)
}

/// Writes `count` subjects whose tier-1 step falls due at `due_ms`, each with one webhook.
fn populate(data: &Path, count: usize, hook: &str, due_ms: i64) {
    let store = Store::open(data).unwrap();
    let start = now_ms();
    let plan = Plan {
        schedule: Schedule::Every {
            every_ms: due_ms - start,
        },
        release_on_duress: false,
        grace_ms: 0,
        reminders_ms: vec![],
        steps: vec![Step {
            action: Action::AlertTier(1),
            after_ms: 0,
        }],
    };
    for i in 0..count {
        let subject = Subject {
            plan: Some(plan.clone()),
            state: State::starting(start),
            directory: Directory {
                contacts: vec![Contact {
                    name: "Lawyer".into(),
                    role: "lawyer".into(),
                    lang: [Lang::Tg, Lang::Ru, Lang::En][i % 3],
                    tiers: vec![1],
                    channels: vec![Channel::Webhook(format!("{hook}/hook/{i}"))],
                    tz: Some("Asia/Dushanbe".into()),
                    age_recipients: vec![],
                    email_attach: false,
                }],
                instructions: "Call the lawyer on record; case 12/2026.".into(),
            },
            ..Subject::enrolled(
                format!("{i:032x}"),
                format!("Journalist {i}"),
                posbon::crypto::random_array::<32>().to_vec(),
                vec![0u8; 32],
                start,
            )
        };
        store.commit(&subject, &[], start).unwrap();
    }
    store.flush().unwrap();
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Run {
    alerts_per_s: f64,
    p50: i64,
    p99: i64,
    max: i64,
    first: i64,
}

fn outbox_run(runtime: &tokio::runtime::Runtime, count: usize) -> Run {
    let (url, arrivals) = start_receiver(runtime);
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("watcher");
    // Far enough ahead for the daemon to start and settle.
    let due_ms = now_ms() + 3_000 + count as i64 / 10;
    populate(&data, count, &url, due_ms);
    // The receiver is on loopback, which the watcher refuses unless told.
    let config = temp.path().join("watcher.toml");
    std::fs::write(&config, "[delivery]\nallow_private_addresses = true\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_posbon"))
        .args(["watch", "serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let limit = Instant::now() + Duration::from_secs(300);
    while arrivals.lock().unwrap().len() < count {
        assert!(Instant::now() < limit, "alerts did not all arrive");
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let mut delays: Vec<i64> = arrivals
        .lock()
        .unwrap()
        .iter()
        .map(|at| at - due_ms)
        .collect();
    delays.sort_unstable();
    if std::env::var_os("ALERTS_BENCH_DEBUG").is_some() {
        let points: Vec<i64> = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
            .iter()
            .map(|p| percentile(&delays, *p))
            .collect();
        eprintln!("{count}: delays at 0/10/25/50/75/90/100%: {points:?}");
    }
    let span_ms = (*delays.last().unwrap()).max(1);
    Run {
        alerts_per_s: count as f64 / (span_ms as f64 / 1000.0),
        p50: percentile(&delays, 0.50),
        p99: percentile(&delays, 0.99),
        max: *delays.last().unwrap(),
        first: delays[0],
    }
}

/// Plain POSTs of alert-sized bodies at the outbox's concurrency, nothing stored.
fn reference_run(runtime: &tokio::runtime::Runtime, count: usize) -> f64 {
    let (url, arrivals) = start_receiver(runtime);
    let body = Arc::new(vec![b'x'; 2_600]);
    let client = reqwest::Client::new();
    let started = Instant::now();
    runtime.block_on(async {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let (client, url, body, next) =
                (client.clone(), url.clone(), body.clone(), next.clone());
            workers.spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                    client
                        .post(format!("{url}/hook"))
                        .body(body.to_vec())
                        .send()
                        .await
                        .unwrap();
                }
            });
        }
        while workers.join_next().await.is_some() {}
    });
    assert_eq!(arrivals.lock().unwrap().len(), count);
    count as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "| subjects due at once | alerts/s through the outbox | plain POSTs/s (reference) | ratio | first arrival | delay p50 | delay p99 | delay max |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for count in [1_000, 5_000] {
        let run = outbox_run(&runtime, count);
        let reference = reference_run(&runtime, count);
        println!(
            "| {count} | {:.0} | {:.0} | {:.2} | {} ms | {} ms | {} ms | {} ms |",
            run.alerts_per_s,
            reference,
            run.alerts_per_s / reference,
            run.first,
            run.p50,
            run.p99,
            run.max
        );
    }
    println!();
    println!("Steady state: one alert at a time, delay from due to arrival");
    let mut single = Vec::new();
    for _ in 0..10 {
        single.push(outbox_run(&runtime, 1).max);
    }
    single.sort_unstable();
    println!(
        "| runs | p50 | p99 | max |\n| --- | --- | --- | --- |\n| {} | {} ms | {} ms | {} ms |",
        single.len(),
        percentile(&single, 0.5),
        percentile(&single, 0.99),
        single.last().unwrap()
    );
}
