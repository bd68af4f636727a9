//! Carrying one delivery out over its channel: e-mail through the operator's SMTP relay
//! (`lettre`), and Telegram, Signal (a signal-cli REST gateway), ntfy, Matrix and webhooks over
//! HTTP (`reqwest`). The operator's secrets (SMTP password, bot and access tokens, the webhook
//! key) live here, in zeroized strings, and never reach an error message: errors are rewritten
//! without URLs, since a Telegram URL holds the bot token.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use zeroize::Zeroizing;

use super::contacts::Channel;
use super::outbox::Delivery;

/// The operator's channel settings (from the config file and `--smtp`).
#[derive(Default)]
pub struct ChannelConfig {
    pub smtp: Option<SmtpConfig>,
    pub telegram: Option<TokenApi>,
    pub signal: Option<SignalConfig>,
    pub ntfy_token: Option<Zeroizing<String>>,
    pub matrix: Option<TokenApi>,
    /// The key of the `X-Posbon-Hmac` header on webhooks.
    pub webhook_key: Zeroizing<Vec<u8>>,
    pub timeout: Duration,
}

pub struct SmtpConfig {
    /// `smtp://host:port` (plain, for a local relay), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://host:465` (TLS).
    pub url: String,
    pub from: String,
    pub username: Option<String>,
    pub password: Option<Zeroizing<String>>,
}

/// An HTTP API reached with a secret token (Telegram's bot API, a Matrix homeserver).
pub struct TokenApi {
    pub base: String,
    pub token: Zeroizing<String>,
}

pub struct SignalConfig {
    /// The signal-cli REST gateway, like `http://127.0.0.1:8080`.
    pub gateway: String,
    /// The number the gateway sends from.
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// Sends deliveries; cheap to share between tasks.
pub struct Sender {
    config: ChannelConfig,
    http: reqwest::Client,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

/// Error texts never carry a URL (a bot token may be in it) nor a body from the far side.
fn http_error(e: reqwest::Error) -> SendError {
    let e = e.without_url();
    let kind = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            text = format!("{text}: {inner}");
            source = inner.source();
        }
        text
    };
    SendError(kind)
}

fn status_error(status: reqwest::StatusCode) -> SendError {
    SendError(format!("refused with HTTP {}", status.as_u16()))
}

impl Sender {
    pub fn new(config: ChannelConfig) -> Result<Self, SendError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            // A redirect could carry a bot token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SendError(format!("the HTTP client: {e}")))?;
        let smtp = match &config.smtp {
            Some(smtp) => {
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
                    .map_err(|e| SendError(format!("the SMTP URL: {e}")))?
                    .timeout(Some(config.timeout));
                if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(
                        lettre::transport::smtp::authentication::Credentials::new(
                            user.clone(),
                            password.to_string(),
                        ),
                    );
                }
                Some(builder.build())
            }
            None => None,
        };
        Ok(Sender { config, http, smtp })
    }

    /// One attempt; `Ok` means the far side accepted it.
    pub async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        let text = delivery.alert.armored();
        match &delivery.channel {
            Channel::Email(to) => self.email(delivery, to, &text).await,
            Channel::Webhook(url) => self.webhook(delivery, url).await,
            Channel::Telegram(chat) => {
                let api = self.config.telegram.as_ref().ok_or_else(|| {
                    SendError("this watcher has no Telegram bot configured".into())
                })?;
                let url = format!(
                    "{}/bot{}/sendMessage",
                    api.base.trim_end_matches('/'),
                    api.token.as_str()
                );
                let body = serde_json::json!({
                    "chat_id": chat,
                    "text": format!("{}\n\n{text}", delivery.title),
                    "disable_web_page_preview": true,
                });
                let response = self
                    .http
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .map_err(http_error)?;
                let status = response.status();
                let answer: serde_json::Value = response.json().await.unwrap_or_default();
                if status.is_success() && answer["ok"] == serde_json::Value::Bool(true) {
                    Ok(())
                } else {
                    Err(status_error(status))
                }
            }
            Channel::Signal(number) => {
                let signal = self.config.signal.as_ref().ok_or_else(|| {
                    SendError("this watcher has no Signal gateway configured".into())
                })?;
                let body = serde_json::json!({
                    "message": format!("{}\n\n{text}", delivery.title),
                    "number": signal.number,
                    "recipients": [number],
                });
                self.expect_success(
                    self.http
                        .post(format!("{}/v2/send", signal.gateway.trim_end_matches('/')))
                        .json(&body),
                )
                .await
            }
            Channel::Ntfy(topic_url) => {
                let url = reqwest::Url::parse(topic_url)
                    .map_err(|_| SendError("the ntfy URL is not valid".into()))?;
                let topic = url.path().trim_matches('/').to_string();
                let mut server = url.clone();
                server.set_path("/");
                let body = serde_json::json!({
                    "topic": topic,
                    "title": delivery.title,
                    "message": text,
                    "priority": 5,
                });
                let mut request = self.http.post(server).json(&body);
                if let Some(token) = &self.config.ntfy_token {
                    request = request.bearer_auth(token.as_str());
                }
                self.expect_success(request).await
            }
            Channel::Matrix(room) => {
                let matrix = self.config.matrix.as_ref().ok_or_else(|| {
                    SendError("this watcher has no Matrix account configured".into())
                })?;
                let mut url = reqwest::Url::parse(&matrix.base)
                    .map_err(|_| SendError("the Matrix homeserver URL is not valid".into()))?;
                // The delivery key as transaction id: a retry of an accepted message is
                // recognised by the homeserver and not posted twice.
                url.path_segments_mut()
                    .map_err(|_| SendError("the Matrix homeserver URL is not valid".into()))?
                    .pop_if_empty()
                    .extend([
                        "_matrix",
                        "client",
                        "v3",
                        "rooms",
                        room,
                        "send",
                        "m.room.message",
                        &delivery.key,
                    ]);
                let body = serde_json::json!({
                    "msgtype": "m.text",
                    "body": format!("{}\n\n{text}", delivery.title),
                });
                self.expect_success(
                    self.http
                        .put(url)
                        .bearer_auth(matrix.token.as_str())
                        .json(&body),
                )
                .await
            }
        }
    }

    async fn expect_success(&self, request: reqwest::RequestBuilder) -> Result<(), SendError> {
        let response = request.send().await.map_err(http_error)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(status_error(response.status()))
        }
    }

    async fn webhook(&self, delivery: &Delivery, url: &str) -> Result<(), SendError> {
        let mut json = serde_json::to_value(delivery.alert.json())
            .map_err(|e| SendError(format!("the alert: {e}")))?;
        json["ack_url"] = delivery
            .ack_url
            .clone()
            .map_or(serde_json::Value::Null, serde_json::Value::String);
        json["delivery"] = serde_json::Value::String(delivery.key.clone());
        let body = serde_json::to_vec(&json).map_err(|e| SendError(format!("the alert: {e}")))?;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.config.webhook_key);
        let tag = ring::hmac::sign(&key, &body);
        self.expect_success(
            self.http
                .post(url)
                .header("content-type", "application/json")
                .header(WEBHOOK_HMAC_HEADER, format!("sha256={}", hex::encode(tag)))
                .header("x-posbon-alert-id", &delivery.alert_id)
                .body(body),
        )
        .await
    }

    async fn email(&self, delivery: &Delivery, to: &str, text: &str) -> Result<(), SendError> {
        let (Some(transport), Some(smtp)) = (&self.smtp, &self.config.smtp) else {
            return Err(SendError(
                "this watcher has no SMTP relay configured (--smtp)".into(),
            ));
        };
        let message = Message::builder()
            .from(
                smtp.from
                    .parse()
                    .map_err(|_| SendError("the configured sender address is not valid".into()))?,
            )
            .to(to
                .parse()
                .map_err(|_| SendError("the contact's address is not valid".into()))?)
            .subject(delivery.title.clone())
            .message_id(Some(format!("<{}@posbon.invalid>", delivery.key)))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Posbon-Alert-Id"),
                delivery.alert_id.clone(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(text.to_string())
            .map_err(|e| SendError(format!("the e-mail: {e}")))?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendError(format!("SMTP: {e}")))
    }
}

/// The header carrying `sha256=HEX`, the HMAC-SHA256 of a webhook's body under the watcher's
/// webhook key.
pub const WEBHOOK_HMAC_HEADER: &str = "x-posbon-hmac";

/// Checks a webhook's HMAC header (for receivers written in Rust, and the tests).
pub fn webhook_hmac_matches(key: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_tag) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(tag) = hex::decode(hex_tag) else {
        return false;
    };
    ring::hmac::verify(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        body,
        &tag,
    )
    .is_ok()
}
