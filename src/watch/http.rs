//! The watcher's HTTP surface (axum): enrolment, signed requests, and a health check that
//! reveals nothing about subjects. Bodies are capped and requests time out; refusals are JSON
//! with a stable `error` code. The handlers only parse, hand over to `service`, and answer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use super::protocol::{ErrorBody, SIGNATURE_HEADER, SignedRequest};
use super::service::{Refusal, Watcher};

/// Larger bodies are refused before they are read: requests are a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router(watcher: Arc<Watcher>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/enrol", post(enrol))
        .route("/v1/request", post(request))
        .route("/p", get(phone_page))
        .route("/v1/phone/enrol", post(phone_enrol))
        .route("/v1/phone/checkin", post(phone_checkin))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(watcher)
}

fn now_ms() -> i64 {
    crate::vault::now()
}

/// The phone page: one small self-contained file (HTML, CSS, a little JavaScript).
const PHONE_PAGE: &str = include_str!("phone.html");

async fn phone_page() -> Response {
    let mut response = PHONE_PAGE.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Everything the page needs is inline; nothing may be loaded from elsewhere.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn phone_enrol(
    State(watcher): State<Arc<Watcher>>,
    axum::extract::ConnectInfo(from): axum::extract::ConnectInfo<std::net::SocketAddr>,
    body: Bytes,
) -> Response {
    let request: super::protocol::PhoneEnrolRequest = match parse(&body) {
        Ok(request) => request,
        Err(e) => return refusal(e),
    };
    match blocking(move || watcher.phone_enrol(&request, from.ip(), now_ms())).await {
        Ok(response) => json_response(StatusCode::OK, &response, None),
        Err(e) => refusal(e),
    }
}

async fn phone_checkin(
    State(watcher): State<Arc<Watcher>>,
    axum::extract::ConnectInfo(from): axum::extract::ConnectInfo<std::net::SocketAddr>,
    body: Bytes,
) -> Response {
    let request: super::protocol::PhoneCheckinRequest = match parse(&body) {
        Ok(request) => request,
        Err(e) => return refusal(e),
    };
    match blocking(move || watcher.phone_checkin(&request, from.ip(), now_ms())).await {
        Ok(response) => json_response(StatusCode::OK, &response, None),
        Err(e) => refusal(e),
    }
}

async fn health() -> Response {
    json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}), None)
}

fn json_response<T: Serialize>(
    status: StatusCode,
    body: &T,
    signature: Option<String>,
) -> Response {
    let bytes = serde_json::to_vec(body).expect("responses serialise");
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(signature) = signature.and_then(|s| HeaderValue::from_str(&s).ok()) {
        response.headers_mut().insert(SIGNATURE_HEADER, signature);
    }
    response
}

fn refusal(refusal: Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = ErrorBody {
        error: refusal.code.to_string(),
        message: refusal.message,
    };
    json_response(status, &body, None)
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Refusal> {
    serde_json::from_slice(body)
        .map_err(|e| Refusal::malformed(format!("the body is not a valid request: {e}")))
}

/// Runs blocking work (storage with fsync) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| Err(Refusal::unavailable()))
}

async fn enrol(State(watcher): State<Arc<Watcher>>, body: Bytes) -> Response {
    let request: super::protocol::EnrolRequest = match parse(&body) {
        Ok(request) => request,
        Err(e) => return refusal(e),
    };
    let proof = request.proof.clone();
    let w = watcher.clone();
    match blocking(move || w.enrol(&request, now_ms())).await {
        Ok(response) => {
            let bytes = serde_json::to_vec(&response).expect("serialises");
            let signature = watcher.sign_response(&proof, &bytes);
            json_response(StatusCode::OK, &response, Some(signature))
        }
        Err(e) => refusal(e),
    }
}

async fn request(
    State(watcher): State<Arc<Watcher>>,
    wake: axum::Extension<Arc<tokio::sync::Notify>>,
    body: Bytes,
) -> Response {
    let request: SignedRequest = match parse(&body) {
        Ok(request) => request,
        Err(e) => return refusal(e),
    };
    let sig = request.sig.clone();
    // Only these can bring a deadline earlier; a check-in only ever moves it later.
    let changes_schedule = matches!(
        request.op.as_str(),
        super::protocol::ops::PLAN | super::protocol::ops::PAUSE | super::protocol::ops::RESUME
    );
    let w = watcher.clone();
    match blocking(move || w.handle(&request, now_ms())).await {
        Ok(status) => {
            if changes_schedule {
                // Let the escalation loop look again.
                wake.notify_one();
            }
            let bytes = serde_json::to_vec(&status).expect("serialises");
            let signature = watcher.sign_response(&sig, &bytes);
            json_response(StatusCode::OK, &status, Some(signature))
        }
        Err(e) => refusal(e),
    }
}
