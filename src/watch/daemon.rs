//! `posbon watch serve`: the tokio runtime, the HTTP listener, the escalation loop, the
//! delivery loop, and graceful shutdown on SIGTERM or Ctrl-C.
//!
//! The delivery loop sends whatever in the outbox is due, several at once, records each
//! attempt durably, and sleeps until the next retry or until new alerts arrive. It also
//! writes `DATA/outbox.json` (what `posbon watch outbox` shows while the daemon runs) and
//! carries out `DATA/give-up/KEY` requests and the operator's removals (`DATA/remove/`).
//!
//! The escalation loop sleeps until the earliest moment a step falls due (at most a minute),
//! or until a request changes a schedule. Every step is persisted together with its queued
//! action before anything else happens, so a crash or restart fires what fell due meanwhile
//! and fires nothing twice. Its first round runs before the listener accepts anyone, so a
//! check-in cannot come before the steps that fell due while the daemon was down.
//!
//! Every time the daemon acts on (deadlines, requests, retries) comes from one guarded clock
//! (`watch::clock`): a jump of the wall clock neither fires steps early nor delays them;
//! `escalation` holds and reports what a forward jump made due.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tracing::{error, info, warn};

use super::channels::{ChannelConfig, Sender};
use super::clock::{self, GuardedClock};
use super::escalation::Escalation;
use super::listener::{self, ConnectionLimits};
use super::outbox::{Delivery, DeliveryState, Failure, RetryPolicy};
use super::service::Watcher;

pub struct ServeOptions {
    pub data: PathBuf,
    pub listen: SocketAddr,
    /// Plans from the operator's config: (subject name, plan).
    pub plans: Vec<(String, crate::plan::Plan)>,
    pub channels: ChannelConfig,
    /// Where contacts reach this watcher [default: http://LISTEN].
    pub public_url: Option<String>,
    pub retry: RetryPolicy,
    /// Caps on open connections, lowered at start to fit the open-file limit.
    pub connections: ConnectionLimits,
    /// Reverse proxies whose client-address header is believed (`[proxy]`).
    pub proxies: super::proxy::TrustedProxies,
    /// Where Prometheus metrics are served (checked by the caller: loopback, not `listen`).
    pub metrics: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the runtime failed: {0}")]
    Runtime(#[from] std::io::Error),
    #[error("the alert channels: {0}")]
    Channels(#[from] super::channels::SetupError),
}

/// Runs the watcher in the foreground until SIGTERM or Ctrl-C.
pub fn serve(options: ServeOptions) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(options));
    // A database call still running must not hold the exit up for long.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn run(options: ServeOptions) -> Result<(), ServeError> {
    // Before anything opens files, so the database and the listener see the raised limit.
    let connections = match listener::raise_open_files() {
        Ok(files) => {
            let fitted = listener::fit_to_open_files(options.connections, files.soft);
            info!(
                open_files = files.soft,
                hard_limit = files.hard,
                connections = fitted.total,
                per_address = fitted.per_address,
                "connection caps"
            );
            if fitted.total < options.connections.total {
                tracing::warn!(
                    wanted = options.connections.total,
                    connections = fitted.total,
                    "the open-file limit lowered the connection cap (raise LimitNOFILE)"
                );
            }
            fitted
        }
        Err(e) => {
            error!(error = %e, "the open-file limit could not be read");
            listener::fit_to_open_files(options.connections, 1_024)
        }
    };
    let data = options.data.clone();
    let plans = options.plans;
    let retry = options.retry;
    let sender = Arc::new(Sender::new(options.channels)?);
    let (watcher, escalation) =
        tokio::task::spawn_blocking(move || -> Result<(Watcher, Escalation), ServeError> {
            let clock =
                GuardedClock::resume_in(clock::daemon_source(), &data).unwrap_or_else(|e| {
                    // The anchor is then this start's reading: jumps are still caught while
                    // the daemon runs, only not across a restart.
                    error!(error = %e, "the clock's trust anchor could not be kept");
                    GuardedClock::new(clock::daemon_source())
                });
            let watcher = Watcher::open_with_clock(&data, retry, Arc::new(clock))?;
            for (index, (name, plan)) in plans.into_iter().enumerate() {
                if !watcher.set_plan_by_name(&name, plan, watcher.now_ms())? {
                    // By its place in the config, never by the name: logs name subjects only
                    // by their random ids.
                    tracing::warn!(
                        plan = index + 1,
                        "[[plan]] number {} in the config names a subject that is not enrolled",
                        index + 1
                    );
                }
            }
            // Before anyone is served: what fell due while the daemon was down fires first,
            // so no check-in can start a new cycle over it.
            let mut escalation = Escalation::new(Some(data.clone()));
            if let Err(e) = escalation.round(&watcher) {
                error!(error = %e, "escalation could not run");
            }
            Ok((watcher, escalation))
        })
        .await
        .expect("open task")?;
    let watcher = Arc::new(watcher);
    // Before the address is announced: whoever waits for that line (a service manager, a
    // test) may send SIGTERM at once, and that must be a clean shutdown, not the default
    // kill. (The first escalation round runs before the announcement, so it can come early.)
    let signals = ShutdownSignals::register()?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let metrics = match options.metrics {
        Some(at) => {
            let bound = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|source| ServeError::Listen { addr: at, source })?;
            info!(addr = %bound.local_addr()?, "metrics at /metrics");
            Some(bound)
        }
        None => None,
    };
    watcher.set_public_url(
        &options
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}")),
    );
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "posbon watcher listening on http://{addr}");
        let _ = writeln!(out, "fingerprint: {}", watcher.fingerprint());
        let _ = writeln!(
            out,
            "enrol a journalist: posbon watch invite NAME --data {}   then, on their laptop: posbon enrol http://{addr} CODE",
            options.data.display()
        );
        let _ = out.flush();
    }
    info!(%addr, "listening");

    let (stop_tx, stop_rx) = watch::channel(false);
    let wake = Arc::new(Notify::new());
    let escalation = tokio::spawn(escalate(
        watcher.clone(),
        escalation,
        wake.clone(),
        stop_rx.clone(),
    ));
    let delivery = tokio::spawn(deliver(
        watcher.clone(),
        sender.clone(),
        options.data.clone(),
        stop_rx.clone(),
    ));
    if let Some(metrics) = metrics {
        let (view, data) = (watcher.outbox_view(), options.data.clone());
        tokio::spawn(super::metrics::serve(metrics, view, data, stop_rx.clone()));
    }
    let app = super::http::router(watcher)
        .layer(axum::middleware::from_fn(super::metrics::time_request))
        .layer(axum::Extension(wake))
        .layer(axum::Extension(sender));
    tokio::spawn(async move {
        signals.recv().await;
        info!("shutting down");
        let _ = stop_tx.send(true);
    });
    listener::serve(listener, app, connections, options.proxies, stop_rx).await;
    let _ = escalation.await;
    let _ = delivery.await;
    Ok(())
}

/// SIGTERM and SIGINT, caught from the moment they are registered.
struct ShutdownSignals {
    term: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignals {
            term: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

const LONGEST_SLEEP_MS: i64 = 60_000;

async fn escalate(
    watcher: Arc<Watcher>,
    escalation: Escalation,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    // Kept behind a mutex only to cross into the blocking task and back.
    let escalation = Arc::new(std::sync::Mutex::new(escalation));
    loop {
        let (w, e) = (watcher.clone(), escalation.clone());
        let next = tokio::task::spawn_blocking(move || {
            e.lock()
                .unwrap_or_else(|p| p.into_inner())
                .round(&w)
                .map(|round| round.next_wake_ms)
        })
        .await;
        let sleep_ms = match next {
            // Both sides on the guarded clock: a wall-clock jump does not change the sleep.
            Ok(Ok(Some(at))) => (at - watcher.now_ms()).clamp(0, LONGEST_SLEEP_MS),
            Ok(Ok(None)) => LONGEST_SLEEP_MS,
            Ok(Err(e)) => {
                // Storage failed: try again soon rather than give up on the deadlines.
                error!(error = %e, "escalation could not run");
                1_000
            }
            Err(_) => 1_000,
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(sleep_ms as u64)) => {}
            _ = wake.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Deliveries in flight at most; the rest wait for the next round.
const MAX_IN_FLIGHT: usize = 64;
/// After attempts could not be recorded, wait this long before sending anything again.
const RECORD_RETRY_MS: u64 = 5_000;
/// `outbox.json` is rewritten at most this often.
const REPORT_EVERY_MS: i64 = 500;

async fn deliver(
    watcher: Arc<Watcher>,
    sender: Arc<Sender>,
    data: PathBuf,
    mut stop: watch::Receiver<bool>,
) {
    // Attempts report here; the loop records them in batches (one transaction, one fsync).
    let (done_tx, mut done_rx) =
        tokio::sync::mpsc::unbounded_channel::<(String, Option<Failure>, i64)>();
    let mut busy = std::collections::HashSet::<String>::new();
    let mut finished: Vec<(String, Option<Failure>, i64)> = Vec::new();
    let mut last_report = 0i64;
    let mut dirty = true;
    loop {
        while let Ok(outcome) = done_rx.try_recv() {
            finished.push(outcome);
        }
        if !finished.is_empty() {
            let batch = std::mem::take(&mut finished);
            let keys: Vec<String> = batch.iter().map(|(k, _, _)| k.clone()).collect();
            let w = watcher.clone();
            let recorded = match tokio::task::spawn_blocking(move || w.record_attempts(batch)).await
            {
                Ok(Ok(())) => true,
                Ok(Err(e)) => {
                    error!(error = %e, "delivery attempts could not be recorded");
                    false
                }
                Err(_) => {
                    error!("delivery attempts could not be recorded");
                    false
                }
            };
            if !recorded {
                // They stay pending and are tried again (receivers drop repeats), but not at
                // once: with the disk full, say, resending in a tight loop would flood them.
                tokio::time::sleep(Duration::from_millis(RECORD_RETRY_MS)).await;
            }
            for key in keys {
                busy.remove(&key);
            }
            dirty = true;
        }
        let w = watcher.clone();
        let dir = data.clone();
        let taken = busy.clone();
        let room = MAX_IN_FLIGHT.saturating_sub(busy.len());
        let now = watcher.now_ms();
        let round = tokio::task::spawn_blocking(move || {
            let given_up = give_up_requests(&w, &dir) + removal_requests(&w, &dir);
            (given_up, w.due_deliveries(now, &taken, room))
        })
        .await;
        let next = match round {
            Ok((given_up, Ok((due, next)))) => {
                dirty |= given_up > 0;
                for delivery in due {
                    busy.insert(delivery.key.clone());
                    let (sender, done) = (sender.clone(), done_tx.clone());
                    let w = watcher.clone();
                    tokio::spawn(async move {
                        let outcome = sender.send(&delivery).await;
                        super::metrics::delivery_attempted(
                            &delivery,
                            outcome.as_ref().map(drop),
                            w.now_ms(),
                        );
                        let _ =
                            done.send((delivery.key, outcome.err().map(Failure::from), w.now_ms()));
                    });
                    dirty = true;
                }
                next
            }
            Ok((_, Err(e))) => {
                error!(error = %e, "the outbox could not be read");
                Some(watcher.now_ms() + 1_000)
            }
            Err(_) => Some(watcher.now_ms() + 1_000),
        };
        let now = watcher.now_ms();
        if dirty && now - last_report >= REPORT_EVERY_MS {
            let w = watcher.clone();
            let dir = data.clone();
            let _ = tokio::task::spawn_blocking(move || write_report(&w, &dir)).await;
            last_report = now;
            dirty = false;
        }
        // Look again at the next retry, for give-up requests, and for a pending report.
        let sleep_ms = next
            .map_or(1_000, |at| at - watcher.now_ms())
            .clamp(0, if dirty { REPORT_EVERY_MS } else { 1_000 });
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(sleep_ms as u64)) => {}
            _ = watcher.outbox_ready.notified() => { dirty = true; }
            Some(outcome) = done_rx.recv() => { finished.push(outcome); }
            _ = stop.changed() => {
                // Attempts under way may finish and are recorded, up to the longest an
                // attempt may take: one given up on here would be sent again after the
                // restart, and Telegram, Signal and ntfy have no idempotency key, so the
                // contact would read it twice. (A service manager's stop timeout must be
                // longer: see the operator guide.)
                let grace = sender.longest_attempt() + Duration::from_secs(1);
                let _ = tokio::time::timeout(grace, async {
                    while !busy.is_empty() {
                        match done_rx.recv().await {
                            Some(outcome) => {
                                busy.remove(&outcome.0);
                                finished.push(outcome);
                            }
                            None => break,
                        }
                    }
                })
                .await;
                let w = watcher.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = w.record_attempts(finished) {
                        error!(error = %e, "delivery attempts could not be recorded");
                    }
                    // Alerts of the last requests, which the delivery loop builds at its next
                    // round (a request does not wake it), are built now, so the outbox the
                    // operator reads after a stop holds them (they were stored as events
                    // either way, and would be built at the next start).
                    if let Err(e) = w.stage_deferred(w.now_ms()) {
                        warn!(error = %e, "alerts could not be built before stopping; the next start builds them");
                    }
                    write_report(&w, &data);
                })
                .await;
                return;
            }
        }
    }
}

/// Carries out `DATA/give-up/KEY` files left by `posbon watch outbox --give-up`.
/// Returns how many deliveries it gave up on (the report is then rewritten at once).
fn give_up_requests(watcher: &Watcher, data: &std::path::Path) -> usize {
    let dir = data.join("give-up");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut given_up = 0;
    for entry in entries.flatten() {
        let key = entry.file_name().to_string_lossy().to_string();
        match watcher.give_up(&key, watcher.now_ms()) {
            Ok(done) => {
                given_up += usize::from(done);
                let _ = std::fs::remove_file(entry.path());
            }
            Err(e) => error!(error = %e, "a give-up request could not be carried out"),
        }
    }
    given_up
}

/// Carries out the removals `posbon watch remove` asked for in `DATA/remove/`, and answers
/// each beside it. Returns how many it carried out (the report is then rewritten at once).
fn removal_requests(watcher: &Watcher, data: &std::path::Path) -> usize {
    let requests = super::store::RemovalRequests::new(data);
    let mut done = 0;
    for (id, force) in requests.waiting() {
        match watcher.remove_subject(&id, force, watcher.now_ms()) {
            Ok(removal) => {
                done += 1;
                if let Err(e) = requests.answer(&id, &removal) {
                    error!(error = %e, "a removal was carried out but could not be answered");
                }
            }
            Err(e) => error!(error = %e, "a removal could not be carried out; tried again"),
        }
    }
    done
}

/// One line of the outbox report: everything but the alert's text.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DeliverySummary {
    pub key: String,
    pub alert_id: String,
    pub contact: String,
    pub channel: String,
    pub title: String,
    pub state: String,
    pub created_ms: i64,
    pub settled_ms: Option<i64>,
    pub attempts: u32,
    pub next_attempt_ms: Option<i64>,
    pub last_error: Option<String>,
}

impl DeliverySummary {
    pub fn of(delivery: &Delivery) -> Self {
        let (state, settled_ms) = match delivery.state {
            DeliveryState::Pending if delivery.attempts == 0 => ("pending", None),
            // Refused for good: someone (the contact, the operator) must act; still retried.
            DeliveryState::Pending if delivery.is_refused() => ("refused", None),
            DeliveryState::Pending => ("failing", None),
            DeliveryState::Delivered { at_ms } => ("delivered", Some(at_ms)),
            DeliveryState::GivenUp { at_ms } => ("given-up", Some(at_ms)),
        };
        DeliverySummary {
            key: delivery.key.clone(),
            alert_id: delivery.alert_id.clone(),
            contact: delivery.contact.clone(),
            channel: delivery.channel.describe(),
            title: delivery.title.clone(),
            state: state.into(),
            created_ms: delivery.created_ms,
            settled_ms,
            attempts: delivery.attempts,
            next_attempt_ms: delivery.is_pending().then_some(delivery.next_attempt_ms),
            last_error: delivery.last_error().map(str::to_string),
        }
    }
}

/// What `outbox.json` holds.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct OutboxReport {
    pub written_ms: i64,
    pub pending: Vec<DeliverySummary>,
    /// The latest settled deliveries, newest first.
    pub settled: Vec<DeliverySummary>,
}

/// How many settled deliveries the report lists.
pub const REPORT_SETTLED: usize = 200;
/// Pending deliveries shown in the report, at most.
pub const REPORT_PENDING: usize = 1_000;

fn write_report(watcher: &Watcher, data: &std::path::Path) {
    let Ok((pending, settled)) = watcher.outbox(REPORT_PENDING, REPORT_SETTLED) else {
        return;
    };
    let report = OutboxReport {
        written_ms: watcher.now_ms(),
        pending: pending.iter().map(DeliverySummary::of).collect(),
        settled: settled.iter().map(DeliverySummary::of).collect(),
    };
    let path = data.join("outbox.json");
    let temp = data.join("outbox.json.tmp");
    let written = (|| -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(&serde_json::to_vec(&report).unwrap_or_default())?;
        std::fs::rename(&temp, &path)
    })();
    if let Err(e) = written {
        error!(error = %e, "outbox.json could not be written");
    }
}
