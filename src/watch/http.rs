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

use super::channels::Sender;
use super::proxy::ClientAddress;
use super::service::{Handled, Refusal, Watcher};
use crate::protocol::TestResult;
use crate::protocol::contacts::Lang;
use crate::protocol::{ErrorBody, SIGNATURE_HEADER, SignedRequest};

/// Larger bodies are refused before they are read: requests are a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);
use crate::protocol::TEST_ANSWER_LIMIT;

pub fn router(watcher: Arc<Watcher>) -> Router {
    // Uploads get their own, longer time limit: 32 MiB over a slow link takes minutes.
    let uploads = Router::new()
        .route("/v1/bundle", post(bundle))
        .layer(DefaultBodyLimit::max(
            crate::release::bundle::MAX_BUNDLE as usize + 64 * 1024,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            UPLOAD_TIMEOUT,
        ));
    // Signed requests read their body within REQUEST_TIMEOUT like everything else (in the
    // handler), but a test alert then waits for the services, up to TEST_ANSWER_LIMIT.
    let requests = Router::new()
        .route("/v1/request", post(request))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT + TEST_ANSWER_LIMIT,
        ));
    Router::new()
        .route("/health", get(health))
        .route("/v1/enrol", post(enrol))
        .route("/p", get(phone_page))
        .merge(phone_api())
        .route("/a/{token}", get(ack_page).post(ack_confirm))
        .route("/b/{token}", get(download_page).post(download))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .merge(uploads)
        .merge(requests)
        .with_state(watcher)
}

async fn phone_page() -> Response {
    // Everything the page needs is inline; nothing may be loaded from elsewhere. It may
    // connect to other origins: the journalist's other watchers, whose addresses only the
    // phone knows (they came in the link's fragment), so the policy cannot name them. Nothing
    // on the page is built from input as markup, and its keys cannot be read out.
    html_page(
        super::phone_page::html().to_string(),
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' https: http:; form-action 'none'; frame-ancestors 'none'",
    )
}

/// The two routes a phone page served by another of the journalist's watchers calls from
/// its own origin: enrolment and check-in, with CORS. Nothing else on this watcher answers
/// another origin. Any origin may call them, never with credentials (there are none: the
/// watcher sets no cookie; a phone is authenticated by its signature, an enrolment by its
/// one-time token), and a browser could already send them these bodies without CORS; CORS
/// only lets the page read the answer. The body limit, the time limit and the limits on
/// unproven requests are those of every route (the layers in [`router`]).
fn phone_api() -> Router<Arc<Watcher>> {
    Router::new()
        .route("/v1/phone/enrol", post(phone_enrol).options(preflight))
        .route("/v1/phone/checkin", post(phone_checkin).options(preflight))
        .layer(axum::middleware::map_response(cross_origin))
}

/// How long a browser may keep the answer to a preflight.
const PREFLIGHT_MAX_AGE_S: &str = "600";

/// The answer to a preflight: POST with a JSON body, nothing else (no other header, so no
/// `Authorization`; no credentials).
async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE_S),
    );
    response
}

/// Every answer of the phone routes may be read by a page of any origin that sent no
/// credentials (`*` forbids them), including `Date` (the page corrects its clock from it)
/// and `Retry-After`.
async fn cross_origin(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("date, retry-after"),
    );
    response
}

/// An HTML page that loads nothing from elsewhere, leaks no referrer and is never cached.
fn html_page(page: String, policy: &'static str) -> Response {
    let mut response = page.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
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
    ClientAddress(from): ClientAddress,
    body: Bytes,
) -> Response {
    let request: crate::protocol::PhoneEnrolRequest = match parse(&body) {
        Ok(request) => request,
        Err(e) => return refusal(e),
    };
    match blocking(move || watcher.phone_enrol(&request, from, watcher.now_ms())).await {
        Ok(response) => json_response(StatusCode::OK, &response, None),
        Err(e) => refusal(e),
    }
}

async fn phone_checkin(
    State(watcher): State<Arc<Watcher>>,
    ClientAddress(from): ClientAddress,
    body: Bytes,
) -> Response {
    let request: crate::protocol::PhoneCheckinRequest = match parse(&body) {
        Ok(request) => request,
        Err(e) => return refusal(e),
    };
    let answer = blocking(move || watcher.phone_checkin(&request, from, watcher.now_ms())).await;
    super::metrics::checkin("phone", answer.as_ref().err().map(|r| r.code));
    match answer {
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

/// A refusal on a page a person opens (an acknowledgement or download link): an unknown or
/// expired link is a page in the three languages, not JSON; anything else as [`refusal`].
fn page_refusal(refused: Refusal) -> Response {
    if refused.status != 404 {
        return refusal(refused);
    }
    let mut body = String::new();
    for lang in [Lang::En, Lang::Ru, Lang::Tg] {
        body.push_str(&format!(
            "<p lang=\"{}\">{}</p>",
            lang.code(),
            html_escape(&crate::alert::text::render(lang, "link-unknown", &[]))
        ));
    }
    let mut response = ack_html(Lang::En, "posbon", &body);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn refusal(refusal: Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = ErrorBody {
        error: refusal.code.to_string(),
        message: refusal.message,
        wait_s: refusal.wait_s,
    };
    let mut response = json_response(status, &body, None);
    // The standard header too, for clients other than our page.
    if let Some(wait) = refusal
        .wait_s
        .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
    {
        response.headers_mut().insert(header::RETRY_AFTER, wait);
    }
    response
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
    let request: crate::protocol::EnrolRequest = match parse(&body) {
        Ok(request) => request,
        Err(e) => return refusal(e),
    };
    let proof = request.proof.clone();
    let w = watcher.clone();
    match blocking(move || w.enrol(&request, w.now_ms())).await {
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
    sender: axum::Extension<Arc<Sender>>,
    body: axum::body::Body,
) -> Response {
    let body =
        match tokio::time::timeout(REQUEST_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            Err(_) => return StatusCode::REQUEST_TIMEOUT.into_response(),
        };
    let request: SignedRequest = match parse(&body) {
        Ok(request) => request,
        Err(e) => return refusal(e),
    };
    let sig = request.sig.clone();
    // Only these can bring a deadline earlier; a check-in only ever moves it later.
    let changes_schedule = matches!(
        request.op.as_str(),
        crate::protocol::ops::PLAN | crate::protocol::ops::PAUSE | crate::protocol::ops::RESUME
    );
    let checkin = request.op == crate::protocol::ops::CHECKIN;
    let w = watcher.clone();
    let answer = blocking(move || w.handle(&request, w.now_ms())).await;
    if checkin {
        super::metrics::checkin("device", answer.as_ref().err().map(|r| r.code));
    }
    match answer {
        Ok(Handled { mut status, tests }) => {
            if changes_schedule {
                // Let the escalation loop look again.
                wake.notify_one();
            }
            if !tests.is_empty() {
                status.test_results = Some(send_tests(&sender, tests).await);
            }
            let bytes = serde_json::to_vec(&status).expect("serialises");
            let signature = watcher.sign_response(&sig, &bytes);
            json_response(StatusCode::OK, &status, Some(signature))
        }
        Err(e) => refusal(e),
    }
}

/// A bundle upload: the signed request in a header, the bundle as the body. The request is
/// checked (signature, freshness, size, quota) before a byte of the body is read, so nobody
/// without the journalist's key can make the watcher hold a large body; and only a few
/// uploads are read at once.
async fn bundle(
    State(watcher): State<Arc<Watcher>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Response {
    let request: SignedRequest = match headers
        .get(crate::protocol::REQUEST_HEADER)
        .and_then(|v| protocol_b64(v.as_bytes()))
        .and_then(|json| serde_json::from_slice(&json).ok())
    {
        Some(request) => request,
        None => {
            return refusal(Refusal::malformed(
                "the x-posbon-request header is missing or malformed",
            ));
        }
    };
    if request.op != crate::protocol::ops::BUNDLE_PUT {
        return refusal(Refusal::malformed("only bundle-put is sent to /v1/bundle"));
    }
    let w = watcher.clone();
    let r = request.clone();
    let put = match blocking(move || w.admit_upload(&r, w.now_ms())).await {
        Ok(put) => put,
        Err(e) => return refusal(e),
    };
    let Ok(_permit) = watcher.uploads.try_acquire() else {
        return refusal(Refusal::unavailable());
    };
    let body = match axum::body::to_bytes(body, put.size as usize).await {
        Ok(body) => body,
        Err(_) => {
            return refusal(Refusal::new(
                422,
                "bad_bundle",
                "the body is longer than declared, or was cut short",
            ));
        }
    };
    let sig = request.sig.clone();
    let w = watcher.clone();
    match blocking(move || w.handle_with_body(&request, Some(&body), w.now_ms())).await {
        Ok(Handled { status, .. }) => {
            let bytes = serde_json::to_vec(&status).expect("serialises");
            let signature = watcher.sign_response(&sig, &bytes);
            json_response(StatusCode::OK, &status, Some(signature))
        }
        Err(e) => refusal(e),
    }
}

fn protocol_b64(bytes: &[u8]) -> Option<Vec<u8>> {
    crate::protocol::unb64(std::str::from_utf8(bytes).ok()?).ok()
}

/// The page behind a download link. Opening it changes nothing (link previews and mail
/// scanners open links); its button downloads. In the three languages, since the page does
/// not know its reader's: what the file is, until when the link works, and how to open it
/// without putting the lawyer's own files at risk.
async fn download_page(
    State(watcher): State<Arc<Watcher>>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let found = blocking(move || watcher.peek_download(&token, watcher.now_ms())).await;
    match found {
        Ok(link) => {
            let until = jiff::Timestamp::from_millisecond(link.expires_ms)
                .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            let version = link.version.to_string();
            let mut body = String::new();
            for lang in [Lang::En, Lang::Ru, Lang::Tg] {
                let text = crate::alert::text::render(
                    lang,
                    "download-page-text",
                    &[
                        ("bundle", &link.name),
                        ("version", &version),
                        ("sha256", &link.sha256),
                        ("until", &until),
                    ],
                );
                let safely = crate::alert::text::render(lang, "open-safely", &[]);
                body.push_str(&format!(
                    "<section lang=\"{}\"><p>{}</p><p>{}</p></section>",
                    lang.code(),
                    html_escape(&text),
                    html_escape(&safely)
                ));
            }
            let buttons: Vec<String> = [Lang::En, Lang::Ru, Lang::Tg]
                .iter()
                .map(|lang| crate::alert::text::render(*lang, "download-page-button", &[]))
                .collect();
            body.push_str(&format!(
                "<form method=\"post\"><button type=\"submit\">{}</button></form>",
                html_escape(&buttons.join(" / "))
            ));
            ack_html(Lang::En, "posbon: sealed material", &body)
        }
        Err(e) => page_refusal(e),
    }
}

/// A released bundle, through its link (reported to the contact it was made for), streamed
/// from disk as the client reads it (see `service::downloads`).
async fn download(
    State(watcher): State<Arc<Watcher>>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let found = blocking(move || watcher.download(&token, watcher.now_ms())).await;
    let download = match found {
        Ok(found) => found,
        Err(e) => return refusal(e),
    };
    let (name, size) = (download.name.clone(), download.size);
    let body = match download.into_body() {
        Ok(body) => body,
        Err(_) => return refusal(Refusal::unavailable()),
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    let file_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}.age\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Test alerts go straight out, not through the outbox: the journalist waits for the answer.
async fn send_tests(sender: &Arc<Sender>, tests: Vec<super::outbox::Delivery>) -> Vec<TestResult> {
    let mut attempts = tokio::task::JoinSet::new();
    for (index, delivery) in tests.into_iter().enumerate() {
        let sender = sender.clone();
        attempts.spawn(async move {
            // As long as the slowest channel may take (each attempt also ends at its own
            // channel's time limit), so a slow Signal gateway's answer is still heard; and
            // bounded, so the journalist always gets the report.
            let outcome =
                match tokio::time::timeout(TEST_ANSWER_LIMIT, sender.send(&delivery)).await {
                    Ok(outcome) => outcome,
                    // The request was sent: the service may still act on it.
                    Err(_) => Err(super::channels::SendError::new(format!(
                        "no answer within {} s; the service may still deliver it, so the \
                         test alert may still arrive",
                        TEST_ANSWER_LIMIT.as_secs()
                    ))),
                };
            (
                index,
                TestResult {
                    contact: delivery.contact.clone(),
                    channel: delivery.channel.describe(),
                    accepted: outcome.is_ok(),
                    error: outcome.err().map(|e| {
                        // A request that timed out was sent: it may yet be delivered.
                        if e.reason == "timed out" {
                            format!("{}; the test alert may still arrive", e.reason)
                        } else {
                            e.reason
                        }
                    }),
                },
            )
        });
    }
    let mut results: Vec<(usize, TestResult)> = attempts.join_all().await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The page behind an acknowledgement link. Opening it confirms nothing (link previews and
/// mail scanners open links); the button does. Once confirmed, it says when and through
/// which channel's link, so a contact learns if someone else confirmed in their name.
async fn ack_page(
    State(watcher): State<Arc<Watcher>>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let w = watcher.clone();
    let t = token.clone();
    let (found, lang) =
        match blocking(move || Ok((w.peek_ack(&t, w.now_ms()), w.ack_lang(&t)))).await {
            Ok(pair) => pair,
            Err(e) => return page_refusal(e),
        };
    let found = match found {
        Ok(found) => found,
        Err(e) => return page_refusal(e),
    };
    let render = |key: &str| {
        crate::alert::text::render(
            lang,
            key,
            &[("name", &found.name), ("alert", &found.alert_id)],
        )
    };
    let body = if found.confirmed.is_some() {
        format!("<p>{}</p>", html_escape(&ack_done_text(lang, &found)))
    } else {
        format!(
            "<p>{}</p><form method=\"post\"><button type=\"submit\">{}</button></form>",
            html_escape(&render("ack-page-text")),
            html_escape(&render("ack-page-button"))
        )
    };
    ack_html(lang, &render("ack-page-title"), &body)
}

/// What the page of a confirmed link says: thanks, if this request confirmed it; when and
/// through which channel's link, if it was confirmed before.
fn ack_done_text(lang: Lang, found: &super::service::Acknowledged) -> String {
    let args = [("name", found.name.as_str()), ("alert", &found.alert_id)];
    match (&found.confirmed, found.already) {
        (Some((at_ms, via)), true) => {
            let when = jiff::Timestamp::from_millisecond(*at_ms)
                .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            let channel = crate::alert::compose::channel_name(lang, via);
            crate::alert::text::render(
                lang,
                "ack-page-already",
                &[&args[..], &[("when", &when), ("channel", &channel)]].concat(),
            )
        }
        _ => crate::alert::text::render(lang, "ack-page-done", &args),
    }
}

async fn ack_confirm(
    State(watcher): State<Arc<Watcher>>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let w = watcher.clone();
    let t = token.clone();
    let lang = {
        let w = watcher.clone();
        let t = token.clone();
        blocking(move || Ok(w.ack_lang(&t)))
            .await
            .unwrap_or(Lang::En)
    };
    match blocking(move || w.acknowledge(&t, w.now_ms())).await {
        Ok(found) => {
            let text = ack_done_text(lang, &found);
            let title = crate::alert::text::render(lang, "ack-page-title", &[]);
            ack_html(lang, &title, &format!("<p>{}</p>", html_escape(&text)))
        }
        Err(e) => page_refusal(e),
    }
}

fn ack_html(lang: Lang, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>body{{font:18px sans-serif;margin:2em auto;max-width:30em;padding:0 1em}}button{{font-size:1.2em;padding:.6em 1.2em}}</style><h1>{}</h1>{}</html>",
        lang.code(),
        html_escape(title),
        html_escape(title),
        body
    );
    html_page(
        page,
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
