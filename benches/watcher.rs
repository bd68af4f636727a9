//! The watcher under load, on loopback, against the real daemon binary (release build):
//! signed check-ins per second, latency at a fixed rate, memory idle and with 10,000
//! subjects, start-up time, and how late steps fire when 10,000 fall due in the same second.
//! Run with `cargo bench --bench watcher`; prints Markdown tables. The load generator shares
//! the machine's two cores with the daemon, so throughput is a floor, not a ceiling.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use posbon::plan::schedule::State;
use posbon::plan::{Action, Plan, Schedule, Step};
use posbon::protocol::{self, SignedRequest, ops};
use posbon::watch::store::{Store, Subject};
use ring::signature::Ed25519KeyPair;

const SUBJECTS: usize = 10_000;
/// Connections the load generators keep open: the watcher's cap per client address
/// (`ConnectionLimits::default`). Over it each further connection is closed as soon as it
/// is accepted, and the generator spends both its time and the daemon's reconnecting.
const CONNECTIONS: usize = 32;

fn now_ms() -> i64 {
    posbon::vault::now()
}

/// Writes `count` subjects with `plan` straight into a watcher's store; returns their keys.
fn populate(
    data: &Path,
    count: usize,
    plan: &Plan,
    state: &State,
) -> Vec<(String, Ed25519KeyPair)> {
    let store = Store::open(data).expect("store");
    let rng = ring::rand::SystemRandom::new();
    let keys = (0..count)
        .map(|i| {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
            let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
            let subject = Subject {
                plan: Some(plan.clone()),
                state: state.clone(),
                ..Subject::enrolled(
                    format!("{i:032x}"),
                    format!("subject {i}"),
                    protocol::public_key(&key),
                    vec![0u8; 32],
                    now_ms(),
                )
            };
            store.commit(&subject, &[], now_ms()).expect("commit");
            (subject.id, key)
        })
        .collect();
    store.flush().expect("flush");
    keys
}

struct Daemon {
    child: Child,
    url: String,
    started_in: Duration,
}

impl Daemon {
    fn start(data: &Path) -> Daemon {
        let started = Instant::now();
        // POSBON_BENCH_BIN: another build of the daemon (an older commit's, to compare in
        // the same run of the machine's load; the store's format must be the same).
        let binary = std::env::var_os("POSBON_BENCH_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_posbon").into());
        let mut child = Command::new(binary)
            .args(["watch", "serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        Daemon {
            child,
            url,
            started_in: started.elapsed(),
        }
    }

    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap();
        kib / 1024.0
    }

    /// CPU seconds (user and system) the daemon has used so far.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        // SAFETY: sysconf only reads a configuration value.
        ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
    }

    fn stop(mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn every_day() -> Plan {
    Plan {
        schedule: Schedule::Every {
            every_ms: 86_400_000,
        },
        grace_ms: 3_600_000,
        reminders_ms: vec![],
        steps: Plan::default_steps(3_600_000),
        release_on_duress: false,
    }
}

/// Pre-signed check-ins, spread over the subjects so that two in flight never share one.
fn signed_checkins(keys: &[(String, Ed25519KeyPair)], count: usize, round: u64) -> Vec<Vec<u8>> {
    (0..count)
        .map(|j| {
            let (id, key) = &keys[j % keys.len()];
            let counter = round * 1_000_000 + (j / keys.len()) as u64 + 1;
            let request: SignedRequest =
                protocol::sign_request(key, id, ops::CHECKIN, now_ms(), counter, "{}".into());
            serde_json::to_vec(&request).unwrap()
        })
        .collect()
}

/// What the signatures of a check-in cost alone, as check-ins per second on `threads`
/// threads for `duration`: `verifies` Ed25519 verifications of the request (ring, as the
/// daemon does them: the second, against another key, fails) and the signing of an answer
/// of a check-in answer's size. The daemon can go no faster than this on the same cores.
fn crypto_floor(
    keys: &[(String, Ed25519KeyPair)],
    threads: usize,
    verifies: usize,
    duration: Duration,
) -> f64 {
    let rng = ring::rand::SystemRandom::new();
    let other =
        Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
    let watcher =
        Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
    let requests: Vec<(SignedRequest, Vec<u8>)> = keys
        .iter()
        .take(1_000)
        .map(|(id, key)| {
            let request = protocol::sign_request(key, id, ops::CHECKIN, now_ms(), 1, "{}".into());
            (request, protocol::public_key(key))
        })
        .collect();
    let other = protocol::public_key(&other);
    // The size of a check-in's answer under the benchmark's plan.
    let answer = br#"{"name":"subject 1234","plan":"check in every 1 day, 1 h of grace; then: alert tier 1 at once, alert tier 2 after 1 h, release after 2 h","last_checkin_ms":1764540000000,"deadline_ms":1764630000000,"paused_until_ms":null,"fired":[],"bundles":[]}"#;
    let started = Instant::now();
    let done: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (requests, other, watcher) = (&requests, &other, &watcher);
                scope.spawn(move || {
                    let mut count = 0usize;
                    let mut i = t;
                    while started.elapsed() < duration {
                        for _ in 0..64 {
                            let (request, key) = &requests[i % requests.len()];
                            assert!(protocol::verify_request(request, key).is_ok());
                            if verifies > 1 {
                                assert!(protocol::verify_request(request, other).is_err());
                            }
                            let signature =
                                watcher.sign(&protocol::response_bytes(&request.sig, answer));
                            std::hint::black_box(signature);
                            i += threads;
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    done as f64 / started.elapsed().as_secs_f64()
}

/// The crypto floor on 2 and on 1 thread, with one verification (the floor as the goal
/// names it) and with two (what the daemon must do: both keys are always checked, so that
/// a duress request costs what a real one does).
struct Floor {
    two_threads: [f64; 2],
    one_thread: [f64; 2],
}

fn measure_floor(keys: &[(String, Ed25519KeyPair)]) -> Floor {
    let each = Duration::from_millis(1_500);
    Floor {
        two_threads: [
            crypto_floor(keys, 2, 1, each),
            crypto_floor(keys, 2, 2, each),
        ],
        one_thread: [
            crypto_floor(keys, 1, 1, each),
            crypto_floor(keys, 1, 2, each),
        ],
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// CPU seconds (user and system) used by the children this process has waited for.
fn children_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; it was zeroed, so it is initialised.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Accepted check-ins per second under wrk, or None when wrk is not installed. `round`
/// keeps the requests of each run distinct (and above the counters of the runs before).
fn wrk_throughput(
    base: &str,
    keys: &[(String, Ed25519KeyPair)],
    dir: &Path,
    round: u64,
) -> Option<(f64, f64)> {
    Command::new("wrk").arg("--version").output().ok()?;
    let bodies = signed_checkins(keys, 150_000, round);
    let file = dir.join("bodies.jsonl");
    let mut text = Vec::new();
    for body in bodies {
        text.extend_from_slice(&body);
        text.push(b'\n');
    }
    std::fs::write(&file, text).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/checkins.lua");
    let out = Command::new("wrk")
        .args(["-t1", &format!("-c{CONNECTIONS}"), "-d5s", "-s"])
        .arg(script)
        .arg(base)
        .env("POSBON_BODIES", &file)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let number_after = |label: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().find_map(|w| w.parse::<f64>().ok()))
    };
    let total = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())?;
    let seconds = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split("requests in ").nth(1))
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse::<f64>().ok())?;
    let refused = number_after("Non-2xx").unwrap_or(0.0);
    if let Some(errors) = text.lines().find(|l| l.contains("Socket errors")) {
        eprintln!("wrk: {}", errors.trim());
    }
    assert!(
        total < 150_000.0,
        "wrk ran out of distinct requests; replays would count"
    );
    Some(((total - refused) / seconds, total - refused))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

fn main() {
    let temp = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();

    // Idle memory, no subjects.
    let idle_dir = temp.path().join("idle");
    let idle = Daemon::start(&idle_dir);
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = idle.rss_mib();
    idle.stop();

    // 10,000 subjects: start-up, memory, throughput, latency.
    let data = temp.path().join("loaded");
    let keys = populate(&data, SUBJECTS, &every_day(), &State::starting(now_ms()));
    let daemon = Daemon::start(&data);
    std::thread::sleep(Duration::from_millis(500));
    let loaded_rss = daemon.rss_mib();
    let url = Arc::new(format!("{}/v1/request", daemon.url));

    let total = 20_000;
    let bodies = signed_checkins(&keys, total, 1);
    let concurrency = CONNECTIONS;
    // A client of its own, dropped after: its idle connections would otherwise hold the
    // per-address cap against wrk's.
    let burst = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let started = Instant::now();
    let accepted = runtime.block_on(async {
        let queue = Arc::new(tokio::sync::Mutex::new(bodies.into_iter()));
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (queue, client, url) = (queue.clone(), burst.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let mut ok = 0usize;
                loop {
                    let Some(body) = queue.lock().await.next() else {
                        break;
                    };
                    let response = client
                        .post(url.as_str())
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    if response.is_ok_and(|r| r.status().is_success()) {
                        ok += 1;
                    }
                }
                ok
            }));
        }
        let mut ok = 0;
        for task in tasks {
            ok += task.await.unwrap();
        }
        ok
    });
    let elapsed = started.elapsed();
    let throughput = accepted as f64 / elapsed.as_secs_f64();
    drop(burst);
    std::thread::sleep(Duration::from_millis(300));

    // The same with wrk (C, one thread, as many connections): a load generator far cheaper than
    // the daemon, so the daemon gets most of both cores. Each wrk run is followed by the
    // crypto floor measured alone on the same cores (the daemon idle), and the daemon's rate
    // is given as a fraction of it; POSBON_BENCH_ROUNDS repeats the pair, interleaved, so
    // that a change in the machine's load shows in both.
    let rounds: u64 = std::env::var("POSBON_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut wrk_rates = Vec::new();
    let mut daemon_us = Vec::new();
    let mut floors = Vec::new();
    for round in 0..rounds {
        let (daemon_cpu, wrk_cpu) = (daemon.cpu_seconds(), children_cpu_seconds());
        let run = wrk_throughput(&daemon.url, &keys, temp.path(), 10 + round);
        let rate = run.map(|(rate, accepted)| {
            // CPU time per accepted check-in, the daemon's and wrk's: unlike the rate, it
            // hardly depends on what else the machine is doing.
            let us = (daemon.cpu_seconds() - daemon_cpu) * 1e6 / accepted;
            let wrk_us = (children_cpu_seconds() - wrk_cpu) * 1e6 / accepted;
            eprintln!(
                "round {}: daemon {us:.0} us of CPU per check-in, wrk {wrk_us:.0} us",
                round + 1
            );
            daemon_us.push(us);
            rate
        });
        let floor = measure_floor(&keys);
        if let Some(rate) = rate {
            eprintln!(
                "round {}: wrk {rate:.0}/s; floor, 2 threads: {:.0}/s (verify + sign), {:.0}/s \
                 (2 verifies + sign); 1 thread: {:.0}/s, {:.0}/s; fraction {:.2} / {:.2}",
                round + 1,
                floor.two_threads[0],
                floor.two_threads[1],
                floor.one_thread[0],
                floor.one_thread[1],
                rate / floor.two_threads[0],
                rate / floor.two_threads[1],
            );
            wrk_rates.push(rate);
        }
        floors.push(floor);
    }
    let wrk_rate = (!wrk_rates.is_empty()).then(|| median(&mut wrk_rates.clone()));
    let cpu_us = (!daemon_us.is_empty()).then(|| median(&mut daemon_us));
    let floor_of =
        |pick: fn(&Floor) -> f64| median(&mut floors.iter().map(pick).collect::<Vec<_>>());
    let floor2 = [
        floor_of(|f| f.two_threads[0]),
        floor_of(|f| f.two_threads[1]),
    ];
    let floor1 = [floor_of(|f| f.one_thread[0]), floor_of(|f| f.one_thread[1])];
    if std::env::var_os("POSBON_BENCH_THROUGHPUT_ONLY").is_some() {
        // For trying a change quickly: only the throughput figures and the floor.
        if let Some(us) = cpu_us {
            println!(
                "daemon CPU per check-in under wrk: {us:.0} us (median); the floor's, 1 thread: {:.0} us (verify + sign), {:.0} us (2 verifies + sign); CPU fraction {:.2} / {:.2}",
                1e6 / floor1[0],
                1e6 / floor1[1],
                1e6 / floor1[0] / us,
                1e6 / floor1[1] / us
            );
        }
        println!(
            "check-ins/s: reqwest {throughput:.0}, wrk {} (median of {rounds}); floor, 2 threads: {:.0} (verify + sign), {:.0} (2 verifies + sign); 1 thread: {:.0}, {:.0}; wrk / floor: {}",
            wrk_rate.map_or("-".into(), |r| format!("{r:.0}")),
            floor2[0],
            floor2[1],
            floor1[0],
            floor1[1],
            wrk_rate.map_or("-".into(), |r| format!(
                "{:.2} / {:.2}",
                r / floor2[0],
                r / floor2[1]
            )),
        );
        daemon.stop();
        return;
    }

    // Latency at fixed rates.
    let seconds = 3;
    let mut by_rate = Vec::new();
    for (round, rate) in [500usize, 1_000, 2_000, 5_000].into_iter().enumerate() {
        let bodies = signed_checkins(&keys, rate * seconds, 4 + round as u64);
        let mut latencies = runtime.block_on(async {
            let mut tasks = Vec::new();
            let start = tokio::time::Instant::now();
            for (i, body) in bodies.into_iter().enumerate() {
                tokio::time::sleep_until(
                    start + Duration::from_micros((i * 1_000_000 / rate) as u64),
                )
                .await;
                let (client, url) = (client.clone(), url.clone());
                tasks.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let ok = client
                        .post(url.as_str())
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    (ok, sent.elapsed())
                }));
            }
            let mut out = Vec::new();
            for task in tasks {
                let (ok, latency) = task.await.unwrap();
                assert!(ok, "a check-in at {rate}/s was refused");
                out.push(latency);
            }
            out
        });
        latencies.sort();
        by_rate.push((rate, latencies));
    }
    let startup = daemon.started_in;
    daemon.stop();

    // 10,000 deadlines due in the same second.
    let lateness_dir = temp.path().join("due");
    let due_at = now_ms() + 6_000;
    let plan = Plan {
        schedule: Schedule::Every { every_ms: 1_000 },
        release_on_duress: false,
        grace_ms: 0,
        reminders_ms: vec![],
        steps: vec![Step {
            action: Action::AlertTier(1),
            after_ms: 0,
        }],
    };
    let state = State::starting(due_at - 1_000);
    populate(&lateness_dir, SUBJECTS, &plan, &state);
    let daemon = Daemon::start(&lateness_dir);
    let wait = (due_at + 4_000 - now_ms()).max(0) as u64;
    std::thread::sleep(Duration::from_millis(wait));
    daemon.stop();
    let queued = Store::open(&lateness_dir).unwrap().queued().unwrap();
    assert_eq!(queued.len(), SUBJECTS, "every due step fired");
    let mut late: Vec<Duration> = queued
        .iter()
        .map(|q| match q.emitted {
            posbon::plan::schedule::Emitted::Step { due_ms, .. } => {
                Duration::from_millis((q.queued_ms - due_ms).max(0) as u64)
            }
            _ => unreachable!("only steps were due"),
        })
        .collect();
    late.sort();

    // 100,000 subjects: memory and start-up, and a check-in's latency at that size.
    let big_dir = temp.path().join("big");
    let big_keys = populate(&big_dir, 100_000, &every_day(), &State::starting(now_ms()));
    let big = Daemon::start(&big_dir);
    std::thread::sleep(Duration::from_millis(500));
    let big_rss = big.rss_mib();
    let big_startup = big.started_in;
    let big_url = format!("{}/v1/request", big.url);
    let bodies = signed_checkins(&big_keys, 200, 9);
    let mut big_latencies: Vec<Duration> = runtime.block_on(async {
        let mut out = Vec::new();
        for body in bodies {
            let sent = Instant::now();
            let ok = client
                .post(big_url.as_str())
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            assert!(ok, "a check-in with 100,000 subjects was refused");
            out.push(sent.elapsed());
        }
        out
    });
    big_latencies.sort();
    big.stop();

    println!("| watcher, loopback, 2 cores shared with the load generator | result | goal |");
    println!("| --- | --- | --- |");
    println!(
        "| signed check-ins accepted per second ({concurrency} connections, {total} requests, {SUBJECTS} subjects) | {throughput:.0}/s | > 10,000/s |"
    );
    match wrk_rate {
        Some(rate) => println!(
            "| the same under wrk (1 thread, {CONNECTIONS} connections, 5 s; median of {rounds}) | {rate:.0}/s | > 20,000/s |"
        ),
        None => println!("| the same under wrk | wrk not installed (apt-get install wrk) | - |"),
    }
    println!(
        "| floor: Ed25519 alone (ring), check-ins/s on 2 / 1 threads: verify + sign | {:.0} / {:.0}/s | - |",
        floor2[0], floor1[0]
    );
    println!(
        "| ... 2 verifies + sign (both keys checked, as the daemon must) | {:.0} / {:.0}/s | - |",
        floor2[1], floor1[1]
    );
    if let Some(rate) = wrk_rate {
        println!(
            "| wrk rate as a fraction of the 2-thread floor: verify + sign / 2 verifies + sign | {:.2} / {:.2} | - |",
            rate / floor2[0],
            rate / floor2[1]
        );
    }
    for (rate, latencies) in &by_rate {
        println!(
            "| latency at {rate} check-ins/s for {seconds} s: p50 / p99 / p99.9 | {:.1} / {:.1} / {:.1} ms | p99 reported |",
            percentile(latencies, 0.50),
            percentile(latencies, 0.99),
            percentile(latencies, 0.999)
        );
    }
    println!("| memory, idle, no subjects (RSS) | {idle_rss:.1} MiB | < 20 MiB |");
    println!("| memory with {SUBJECTS} subjects, after start (RSS) | {loaded_rss:.1} MiB | - |");
    println!(
        "| start-up with {SUBJECTS} subjects (to listening) | {:.0} ms | - |",
        startup.as_secs_f64() * 1000.0
    );
    println!("| memory with 100,000 subjects, after start (RSS) | {big_rss:.1} MiB | reported |");
    println!(
        "| start-up with 100,000 subjects / one check-in's latency there, p50 / p99 | {:.0} ms / {:.1} / {:.1} ms | reported |",
        big_startup.as_secs_f64() * 1000.0,
        percentile(&big_latencies, 0.5),
        percentile(&big_latencies, 0.99)
    );
    println!(
        "| lateness of {SUBJECTS} steps due in the same second: p50 / p99 / max | {:.0} / {:.0} / {:.0} ms | p99 < 1000 ms |",
        percentile(&late, 0.50),
        percentile(&late, 0.99),
        percentile(&late, 1.0)
    );
}
