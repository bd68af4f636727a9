//! The watcher's metrics, in the Prometheus text format, on an address of their own
//! (`--metrics-listen`, loopback unless the operator says otherwise; never the public one).
//!
//! They count what the watcher does, never for whom. Every label value is a `&'static str`
//! from a closed set (a channel kind, a step kind, a refusal code, a route template), so no
//! name, subject id, contact, address or link token can reach them: the types forbid it.
//! `tests/watch_ops.rs` scrapes a running daemon and checks that too.
//!
//! What is counted where: check-ins in `http` (as answered), steps in `service::tick` (as
//! fired), delivery attempts in the daemon's delivery loop; the gauges (subjects, outbox,
//! free disk) are read at each scrape. Counters start at zero with each start of the daemon,
//! as Prometheus expects.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::channels::SendError;
use super::outbox::Delivery;
use super::store::OutboxView;
use crate::plan::Action;
use crate::plan::schedule::Emitted;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Via {
    /// `device` (a signed request from the journalist's laptop) or `phone` (a PIN).
    via: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Refused {
    via: &'static str,
    /// The refusal's stable code (`bad_signature`, `replay`, `wrong_pin`, ...).
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Step {
    /// `remind`, `tier1` ... `tier9`, `release`, `all-clear`.
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Attempt {
    channel: &'static str,
    /// `delivered`, `failed` (tried again later) or `refused` (the service refused for a
    /// reason a retry alone will not change; still tried again).
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Channel {
    channel: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outbox {
    channel: &'static str,
    /// `pending` (not tried yet), `failing`, `refused`: as `posbon watch outbox` shows them.
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Served {
    /// The route's template (`/a/{token}`, never the token), or `other`.
    route: &'static str,
    method: &'static str,
    /// `2xx`, `3xx`, `4xx`, `5xx`.
    status: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every channel kind (`Channel::kind`), so each has its outbox series even at zero: an
/// alert rule sees 0, not a series that is absent.
const CHANNELS: [&str; 6] = ["email", "webhook", "telegram", "signal", "ntfy", "matrix"];
const OUTBOX_STATES: [&str; 3] = ["pending", "failing", "refused"];
/// The router's routes, so that a label is always one of these.
const ROUTES: [&str; 9] = [
    "/health",
    "/v1/enrol",
    "/v1/request",
    "/v1/bundle",
    "/p",
    "/v1/phone/enrol",
    "/v1/phone/checkin",
    "/a/{token}",
    "/b/{token}",
];
const TIERS: [&str; 9] = [
    "tier1", "tier2", "tier3", "tier4", "tier5", "tier6", "tier7", "tier8", "tier9",
];

struct Metrics {
    registry: Registry,
    subjects: Gauge,
    checkins: Family<Via, Counter>,
    refused: Family<Refused, Counter>,
    steps: Family<Step, Counter>,
    attempts: Family<Attempt, Counter>,
    latency: Histograms<Channel>,
    outbox: Family<Outbox, Gauge>,
    free_disk: Gauge,
    requests: Histograms<Served>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("posbon");
        let subjects = Gauge::default();
        registry.register(
            "subjects",
            "Journalists enrolled with this watcher",
            subjects.clone(),
        );
        let checkins = Family::<Via, Counter>::default();
        registry.register(
            "checkins_accepted",
            "Check-ins accepted, by the way they came",
            checkins.clone(),
        );
        let refused = Family::<Refused, Counter>::default();
        registry.register(
            "checkins_refused",
            "Check-ins refused, by the way they came and the refusal's code",
            refused.clone(),
        );
        let steps = Family::<Step, Counter>::default();
        registry.register(
            "steps_fired",
            "Escalation steps fired, by kind",
            steps.clone(),
        );
        let attempts = Family::<Attempt, Counter>::default();
        registry.register(
            "delivery_attempts",
            "Attempts to deliver an alert, by channel kind and outcome",
            attempts.clone(),
        );
        let latency: Histograms<Channel> = Family::new_with_constructor(|| {
            Histogram::new([
                1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3_600.0, 14_400.0, 86_400.0,
            ])
        });
        registry.register(
            "delivery_latency_seconds",
            "From an alert being made to its delivery, by channel kind",
            latency.clone(),
        );
        let outbox = Family::<Outbox, Gauge>::default();
        registry.register(
            "outbox_deliveries",
            "Deliveries waiting in the outbox, by channel kind and state",
            outbox.clone(),
        );
        let free_disk = Gauge::default();
        registry.register(
            "data_free_bytes",
            "Bytes free on the file system of the data directory",
            free_disk.clone(),
        );
        let requests: Histograms<Served> = Family::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route, method and status class",
            requests.clone(),
        );
        Metrics {
            registry,
            subjects,
            checkins,
            refused,
            steps,
            attempts,
            latency,
            outbox,
            free_disk,
            requests,
        }
    }
}

/// A check-in was answered: `device` or `phone`, accepted (`refused` is `None`) or refused
/// with the refusal's code. (A duress check-in is answered as accepted, and counted so.)
/// Only the code comes in, not the refusal, so the metrics need nothing of the service.
pub fn checkin(via: &'static str, refused: Option<&'static str>) {
    match refused {
        None => METRICS.checkins.get_or_create(&Via { via }).inc(),
        Some(reason) => METRICS
            .refused
            .get_or_create(&Refused { via, reason })
            .inc(),
    };
}

/// A step of the ladder (or a reminder, or an all-clear) fired. Duress alarms and phone
/// enrolments are not counted here: a silent alarm stays out of a dashboard that more people
/// may see than the log (its alerts are counted as deliveries, like every alert).
pub fn step_fired(emitted: &Emitted) {
    let kind = match emitted {
        Emitted::Step { action, .. } => match action {
            Action::RemindJournalist => "remind",
            Action::AlertTier(n) => TIERS
                .get(usize::from(*n).wrapping_sub(1))
                .copied()
                .unwrap_or("tier-other"),
            Action::Release => "release",
        },
        Emitted::AllClear { .. } => "all-clear",
        Emitted::Duress { .. } | Emitted::PhoneEnrolled { .. } | Emitted::Retraction { .. } => {
            return;
        }
    };
    METRICS.steps.get_or_create(&Step { kind }).inc();
}

/// An attempt to deliver ended (`now_ms` on the watcher's clock, as `created_ms` is).
pub fn delivery_attempted(delivery: &Delivery, outcome: Result<(), &SendError>, now_ms: i64) {
    let channel = delivery.channel.kind();
    let outcome = match outcome {
        Ok(()) => {
            let seconds = (now_ms - delivery.created_ms).max(0) as f64 / 1_000.0;
            METRICS
                .latency
                .get_or_create(&Channel { channel })
                .observe(seconds);
            "delivered"
        }
        Err(e) if e.refused => "refused",
        Err(_) => "failed",
    };
    METRICS
        .attempts
        .get_or_create(&Attempt { channel, outcome })
        .inc();
}

/// Middleware: times every request of the public router.
pub async fn time_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| ROUTES.iter().find(|r| **r == p.as_str()))
        .copied()
        .unwrap_or("other");
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let status = match response.status().as_u16() {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    };
    METRICS
        .requests
        .get_or_create(&Served {
            route,
            method,
            status,
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Reads the gauges (subjects, outbox, free disk). Blocking: the database and `statvfs`.
fn read_gauges(view: &OutboxView, data: &Path) {
    match view.subject_count() {
        Ok(n) => {
            METRICS.subjects.set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the subjects could not be counted"),
    }
    match view.pending(usize::MAX) {
        Ok(pending) => {
            let mut counts = std::collections::HashMap::<(&'static str, &'static str), i64>::new();
            for delivery in &pending {
                let state = if delivery.attempts == 0 {
                    "pending"
                } else if delivery.is_refused() {
                    "refused"
                } else {
                    "failing"
                };
                *counts.entry((delivery.channel.kind(), state)).or_default() += 1;
            }
            for channel in CHANNELS {
                for state in OUTBOX_STATES {
                    let n = counts.get(&(channel, state)).copied().unwrap_or(0);
                    METRICS
                        .outbox
                        .get_or_create(&Outbox { channel, state })
                        .set(n);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: the outbox could not be read"),
    }
    match crate::disk::free_bytes(data) {
        Ok(bytes) => {
            METRICS
                .free_disk
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        Err(e) => tracing::warn!(error = %e, "metrics: free disk space could not be read"),
    }
}

/// Everything, in the Prometheus text format (version 0.0.4).
fn encode() -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &METRICS.registry);
    text
}

async fn scrape(
    axum::extract::State((view, data)): axum::extract::State<(Arc<OutboxView>, PathBuf)>,
) -> Response {
    if tokio::task::spawn_blocking(move || read_gauges(&view, &data))
        .await
        .is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = encode().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
    );
    response
}

/// Serves `GET /metrics` on `listener` until `stop`. The gauges are read through `view` (the
/// watcher's [`OutboxView`]), apart from the watcher's lock.
pub async fn serve(
    listener: tokio::net::TcpListener,
    view: OutboxView,
    data: PathBuf,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state((Arc::new(view), data));
    let stopped = async move {
        let _ = stop.changed().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::error!(error = %e, "the metrics listener failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tier_has_its_own_label_and_the_text_is_prometheus() {
        let step = |action| Emitted::Step {
            action,
            cycle: 1,
            due_ms: 0,
            deadline_ms: 0,
        };
        for n in 1..=9u8 {
            step_fired(&step(Action::AlertTier(n)));
        }
        step_fired(&step(Action::Release));
        step_fired(&Emitted::Duress { cycle: 1, at_ms: 0 });
        let text = encode();
        for n in 1..=9 {
            assert!(
                text.contains(&format!("posbon_steps_fired_total{{kind=\"tier{n}\"}}")),
                "{text}"
            );
        }
        assert!(
            text.contains("# TYPE posbon_steps_fired_total counter"),
            "{text}"
        );
        assert!(
            !text.contains("# EOF"),
            "the Prometheus format, not OpenMetrics"
        );
        assert!(
            !text.contains("duress"),
            "a silent alarm is not counted as a step"
        );
    }
}
