//! The journalist's side of the protocol: enrol with a watcher, then send it signed requests
//! (check-in, plan, status, pause, resume) and check that each answer is signed by the watcher
//! enrolled with. Blocking HTTP: the CLI is synchronous and talks to a handful of watchers.
//! Every request takes the [`Route`] it is given, and no other.

use std::time::Duration;

use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};

use crate::protocol::{
    self, EnrolRequest, EnrolResponse, ErrorBody, SIGNATURE_HEADER, StatusResponse,
};
pub use crate::route::Route;

const TIMEOUT: Duration = Duration::from_secs(15);

/// What the journalist's vault remembers about one watcher.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub subject: String,
    /// The watcher's public key (base64), pinned at enrolment.
    pub watcher_key: String,
    pub fingerprint: String,
    /// The last request counter used with this watcher.
    #[serde(default)]
    pub last_counter: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "cannot reach {url}: the proxy {proxy} does not answer (is Tor running?); nothing was sent directly"
    )]
    ProxyDown { url: String, proxy: String },
    #[error(
        "{url} is an onion service: it can only be reached through Tor (`posbon proxy set socks5h://127.0.0.1:9050`, or --proxy); nothing was sent"
    )]
    OnionWithoutProxy { url: String },
    #[error("{url} refused: {message} ({code})")]
    Refused {
        url: String,
        code: String,
        message: String,
    },
    #[error(
        "{url} answered without a valid signature from the watcher enrolled with: do not trust this answer"
    )]
    BadResponseSignature { url: String },
    #[error("{url} answered something unexpected: {reason}")]
    Malformed { url: String, reason: String },
}

/// How long the background sender of unlock notices tries one watcher (no command waits
/// for it).
const NOTICE_TIMEOUT: Duration = Duration::from_secs(30);

fn endpoint(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// Posts `body` and returns (signature header, body bytes), or the watcher's refusal.
fn post(
    route: &Route,
    url: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(Option<String>, Vec<u8>), ClientError> {
    post_within(route, route.patience(TIMEOUT), url, path, body)
}

fn post_within(
    route: &Route,
    timeout: Duration,
    url: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(Option<String>, Vec<u8>), ClientError> {
    send(route, url, timeout, |client| {
        client
            .post(endpoint(url, path))
            .header("content-type", "application/json")
            .body(body)
    })
}

/// Sends a request to the watcher at `url` over `route` (built by `request` on a client that
/// takes that route only); returns (signature header, body bytes), or the watcher's refusal.
fn send(
    route: &Route,
    url: &str,
    timeout: Duration,
    request: impl FnOnce(&reqwest::blocking::Client) -> reqwest::blocking::RequestBuilder,
) -> Result<(Option<String>, Vec<u8>), ClientError> {
    if !route.can_reach(url) {
        return Err(ClientError::OnionWithoutProxy {
            url: url.to_string(),
        });
    }
    let unreachable = |e: reqwest::Error| match route.down() {
        Some(proxy) => ClientError::ProxyDown {
            url: url.to_string(),
            proxy: proxy.to_string(),
        },
        None => ClientError::Unreachable {
            url: url.to_string(),
            reason: match route {
                Route::Direct => e.to_string(),
                Route::Socks(proxy) => format!("through the proxy {proxy}: {e}"),
            },
        },
    };
    let response = request(&route.http(timeout)).send().map_err(unreachable)?;
    let status = response.status();
    let signature = response
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = response.bytes().map_err(unreachable)?.to_vec();
    if !status.is_success() {
        let refusal: ErrorBody = serde_json::from_slice(&bytes).unwrap_or(ErrorBody {
            error: status.as_u16().to_string(),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            wait_s: None,
        });
        return Err(ClientError::Refused {
            url: url.to_string(),
            code: shown_code(&refusal.error, status.as_u16()),
            message: shown_text(&refusal.message),
        });
    }
    Ok((signature, bytes))
}

/// A refusal's code as the journalist's side uses it: the watcher's words are not yet
/// checked (a refusal is not signed), so a code is kept only as a watcher writes one
/// (`[a-z_]`, short), else the HTTP status stands for it.
fn shown_code(code: &str, status: u16) -> String {
    let plain = !code.is_empty()
        && code.len() <= 40
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit());
    if plain {
        code.to_string()
    } else {
        status.to_string()
    }
}

/// A refusal's text, fit to print: whoever answers at the address (or in between, over
/// http) wrote it, so control characters (terminal escapes, a carriage return that hides
/// the line) are made visible and the length is bounded.
fn shown_text(text: &str) -> String {
    let mut shown = String::new();
    for c in text.chars().take(200) {
        if c.is_control() || crate::lang::is_invisible(c) {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

fn check_signature(
    url: &str,
    watcher_key: &[u8],
    request_sig: &str,
    signature: Option<String>,
    body: &[u8],
) -> Result<(), ClientError> {
    let signature = signature.ok_or_else(|| ClientError::BadResponseSignature {
        url: url.to_string(),
    })?;
    protocol::verify(
        watcher_key,
        &protocol::response_bytes(request_sig, body),
        &signature,
    )
    .map_err(|_| ClientError::BadResponseSignature {
        url: url.to_string(),
    })
}

/// Enrols with the watcher at `url` using a one-time `code`.
pub fn enrol(
    route: &Route,
    url: &str,
    code: &str,
    device: &Ed25519KeyPair,
    duress: &Ed25519KeyPair,
) -> Result<Link, ClientError> {
    let proof = protocol::b64(device.sign(&protocol::enrol_bytes(code.trim())).as_ref());
    let request = EnrolRequest {
        code: code.trim().to_string(),
        device_key: protocol::b64(&protocol::public_key(device)),
        duress_key: protocol::b64(&protocol::public_key(duress)),
        proof: proof.clone(),
    };
    let (signature, body) = post(
        route,
        url,
        "/v1/enrol",
        serde_json::to_vec(&request).expect("serialises"),
    )?;
    let response: EnrolResponse =
        serde_json::from_slice(&body).map_err(|e| ClientError::Malformed {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    let watcher_key =
        protocol::unb64(&response.watcher_key).map_err(|e| ClientError::Malformed {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    check_signature(url, &watcher_key, &proof, signature, &body)?;
    // A watcher not yet upgraded sends the 64-bit form; either is derived from the key just
    // checked, and the link keeps the whole one.
    if !protocol::is_derived_fingerprint(&response.fingerprint, &watcher_key) {
        return Err(ClientError::BadResponseSignature {
            url: url.to_string(),
        });
    }
    Ok(Link {
        url: url.trim_end_matches('/').to_string(),
        subject: response.subject,
        watcher_key: response.watcher_key,
        fingerprint: protocol::fingerprint(&watcher_key),
        last_counter: 0,
    })
}

/// Sends one signed request; returns the watcher's verified answer and the counter used.
pub fn call(
    route: &Route,
    link: &Link,
    key: &Ed25519KeyPair,
    op: &str,
    payload: String,
    now_ms: i64,
) -> Result<(StatusResponse, u64), ClientError> {
    let counter = next_counter(link, now_ms);
    let request = protocol::sign_request(key, &link.subject, op, now_ms, counter, payload);
    // A test alert's answer waits for the services (a Signal gateway may take a minute).
    let limit = if op == protocol::ops::TEST_ALERT {
        protocol::TEST_CLIENT_LIMIT
    } else {
        TIMEOUT
    };
    let (signature, body) = post_within(
        route,
        route.patience(limit),
        &link.url,
        "/v1/request",
        serde_json::to_vec(&request).expect("serialises"),
    )?;
    let watcher_key = protocol::unb64(&link.watcher_key).map_err(|e| ClientError::Malformed {
        url: link.url.clone(),
        reason: e.to_string(),
    })?;
    check_signature(&link.url, &watcher_key, &request.sig, signature, &body)?;
    let status = serde_json::from_slice(&body).map_err(|e| ClientError::Malformed {
        url: link.url.clone(),
        reason: e.to_string(),
    })?;
    Ok((status, counter))
}

/// Uploads a sealed bundle (`op` is `bundle-put`; `payload` describes `body`).
pub fn put_bundle(
    route: &Route,
    link: &Link,
    key: &Ed25519KeyPair,
    payload: String,
    body: Vec<u8>,
    now_ms: i64,
) -> Result<(StatusResponse, u64), ClientError> {
    let counter = next_counter(link, now_ms);
    let request = protocol::sign_request(
        key,
        &link.subject,
        protocol::ops::BUNDLE_PUT,
        now_ms,
        counter,
        payload,
    );
    let header = protocol::b64(&serde_json::to_vec(&request).expect("serialises"));
    let (signature, bytes) = send(route, &link.url, Duration::from_secs(600), |client| {
        client
            .post(endpoint(&link.url, "/v1/bundle"))
            .header(protocol::REQUEST_HEADER, header)
            .header("content-type", "application/octet-stream")
            .body(body)
    })?;
    let watcher_key = protocol::unb64(&link.watcher_key).map_err(|e| ClientError::Malformed {
        url: link.url.clone(),
        reason: e.to_string(),
    })?;
    check_signature(&link.url, &watcher_key, &request.sig, signature, &bytes)?;
    let status = serde_json::from_slice(&bytes).map_err(|e| ClientError::Malformed {
        url: link.url.clone(),
        reason: e.to_string(),
    })?;
    Ok((status, counter))
}

/// The counter of a request: counters only grow (the time in microseconds, or more than the
/// last one used, so a vault restored from an old backup does not replay old counters), and
/// always lie above the unlock notice this process sent first (see [`unlock_notice`]), which
/// may reach the watcher after them or before.
fn next_counter(link: &Link, now_ms: i64) -> u64 {
    ((now_ms.max(0) as u64) * 1000 + 500).max(link.last_counter + 2)
}

/// The one request every unlock sends to each watcher, under every passphrase, signed with
/// the open view's device key: the watcher raises the silent alarm when that key is the
/// duress key, and otherwise only notes it. The client cannot tell which, so the request,
/// its size and its moment are the same for the real and the duress passphrase (issue 12).
/// Returns the request's body, for [`deliver_notice`], and its counter.
pub fn unlock_notice(link: &Link, key: &Ed25519KeyPair, now_ms: i64) -> (Vec<u8>, u64) {
    let counter = ((now_ms.max(0) as u64) * 1000).max(link.last_counter + 1);
    let request = protocol::sign_request(
        key,
        &link.subject,
        protocol::ops::UNLOCK,
        now_ms,
        counter,
        "{}".into(),
    );
    (serde_json::to_vec(&request).expect("serialises"), counter)
}

/// Sends one unlock notice; the answer is not read (nobody waits for it).
pub fn deliver_notice(route: &Route, url: &str, body: Vec<u8>) -> Result<(), ClientError> {
    deliver_notice_within(route, url, body, route.patience(NOTICE_TIMEOUT))
}

/// The same, giving up after `timeout`.
pub fn deliver_notice_within(
    route: &Route,
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(), ClientError> {
    post_within(route, timeout, url, "/v1/request", body).map(drop)
}

#[cfg(test)]
mod tests {
    use super::{shown_code, shown_text};

    #[test]
    fn a_refusal_cannot_write_escapes_to_the_terminal_or_pose_as_another_code() {
        let hostile = "ok\u{1b}]0;pwned\u{7}\u{1b}[2J\rfine\u{202e}txt.exe";
        let shown = shown_text(hostile);
        assert!(
            !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{shown}"
        );
        assert!(
            shown.contains("\\u{1b}") && shown.contains("\\u{202e}"),
            "{shown}"
        );
        assert_eq!(shown_text(&"x".repeat(1000)).len(), 200);
        assert_eq!(shown_code("bad_invite", 403), "bad_invite");
        assert_eq!(shown_code("bad\u{1b}[31m", 403), "403");
        assert_eq!(shown_code(&"a".repeat(41), 409), "409");
    }
}
