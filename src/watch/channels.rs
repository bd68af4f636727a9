//! Carrying one delivery out over its channel: e-mail through the operator's SMTP relay
//! (`lettre`), and Telegram, Signal (a signal-cli REST gateway), ntfy, Matrix and webhooks over
//! HTTP (`reqwest`), each as its service documents it. The operator's secrets (SMTP password,
//! bot and access tokens, the webhook key) live here, in zeroized strings, and never reach an
//! error message: errors are rewritten without URLs, since a Telegram URL holds the bot token,
//! and a service's own error text (kept, so the operator learns why) is cleaned, bounded and
//! stripped of any of those secrets. A refusal carries the wait the service asked for and
//! whether a retry alone can help ([`SendError`]).

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use zeroize::Zeroizing;

use super::contacts::Channel;
use super::outbox::{Delivery, Failure};

/// The operator's channel settings (from the config file and `--smtp`).
#[derive(Default)]
pub struct ChannelConfig {
    pub smtp: Option<SmtpConfig>,
    pub telegram: Option<TokenApi>,
    pub signal: Option<SignalConfig>,
    /// The ntfy server the operator has a token for; the token goes to that server only.
    pub ntfy: Option<TokenApi>,
    pub matrix: Option<TokenApi>,
    /// Let journalists' webhook and ntfy URLs reach loopback and private networks (tests, or
    /// a receiver on the operator's own network). Off by default: see `PublicOnly`.
    pub allow_private_addresses: bool,
    /// Where the watcher keeps bundle files (`DATA/bundles`), for e-mail attachments.
    pub bundle_dir: std::path::PathBuf,
    /// The key of the `X-Posbon-Hmac` header on webhooks.
    pub webhook_key: Zeroizing<Vec<u8>>,
    /// The key e-mail Message-IDs are made under (see [`message_id`]); empty: a random one
    /// for this run.
    pub message_id_key: Zeroizing<Vec<u8>>,
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

/// Why one attempt failed. The reason is shown to the operator (`watch outbox`) and to the
/// journalist (`contact test`): it never holds a URL (a Telegram URL holds the bot token) nor
/// any of the operator's secrets, but does hold the service's own words where it gave any.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    pub reason: String,
    /// The service asked not to be tried again before this long.
    pub retry_after_ms: Option<i64>,
    /// Refused for a reason a retry alone will not change (a 4xx other than a timeout or
    /// a rate limit): a contact who never started the bot, a room the account is not in.
    pub refused: bool,
}

impl SendError {
    pub fn new(reason: impl Into<String>) -> Self {
        SendError {
            reason: reason.into(),
            retry_after_ms: None,
            refused: false,
        }
    }
}

impl From<SendError> for Failure {
    fn from(e: SendError) -> Self {
        Failure {
            reason: e.reason,
            retry_after_ms: e.retry_after_ms,
            refused: e.refused,
        }
    }
}

/// What a service's refusal says: its status, its own error text and the wait it asked
/// for, as each documents it: Telegram `{"description", "parameters": {"retry_after": s}}`,
/// Matrix `{"errcode", "error", "retry_after_ms"}` (and `Retry-After`), ntfy and the
/// signal-cli gateway `{"error"}`. `far_text`: whether to show the far side's words (not
/// for webhooks, whose answers are anybody's).
pub fn parse_refusal(
    status: u16,
    retry_after_header_s: Option<i64>,
    body: &[u8],
    far_text: bool,
) -> SendError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = ["description", "error", "message"]
        .iter()
        .find_map(|field| json[field].as_str())
        .map(clean_far_text)
        .filter(|t| !t.is_empty() && far_text);
    let errcode = json["errcode"]
        .as_str()
        .map(clean_far_text)
        .filter(|_| far_text);
    let mut reason = format!("refused with HTTP {status}");
    for part in [errcode, text].into_iter().flatten() {
        reason.push_str(": ");
        reason.push_str(&part);
    }
    let retry_after_ms = json["parameters"]["retry_after"]
        .as_i64()
        .map(|s| s.saturating_mul(1_000))
        .or_else(|| json["retry_after_ms"].as_i64())
        .or_else(|| retry_after_header_s.map(|s| s.saturating_mul(1_000)));
    SendError {
        reason,
        retry_after_ms,
        refused: (400..500).contains(&status) && !matches!(status, 408 | 425 | 429),
    }
}

/// A far side's error text, made safe to show: one line, no control characters, bounded.
fn clean_far_text(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line.trim().to_string()
}

/// Why the channels cannot be set up at all: found at start, before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the HTTP client: {0}")]
    Http(String),
    #[error("the SMTP URL: {0}")]
    SmtpUrl(String),
    #[error(
        "a password over smtp:// without tls=required would cross the network unencrypted; \
         use smtps://HOST:465 or smtp://HOST:587?tls=required"
    )]
    CredentialsInClear,
}

/// Refuses an SMTP URL that would send the relay password in the clear: plain `smtp://`
/// (no TLS) and `smtp://...?tls=opportunistic` (which falls back to none if the server, or
/// someone on the path, does not offer STARTTLS).
pub fn check_smtp_url(url: &str, with_credentials: bool) -> Result<(), SetupError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| SetupError::SmtpUrl(e.to_string()))?;
    let encrypted = match parsed.scheme() {
        "smtps" => true,
        "smtp" => parsed
            .query_pairs()
            .any(|(k, v)| k == "tls" && v == "required"),
        other => {
            return Err(SetupError::SmtpUrl(format!(
                "{other}:// is neither smtp:// nor smtps://"
            )));
        }
    };
    if with_credentials && !encrypted {
        return Err(SetupError::CredentialsInClear);
    }
    Ok(())
}

/// The Message-ID of an e-mail delivery: an HMAC of the delivery key under this watcher's
/// own key. Mail providers keep one message per Message-ID, so an id that another watcher
/// (or anyone) could compute would let a dishonest watcher send first under it and have
/// the honest watchers' alerts dropped as duplicates. The same on every retry, so a relay
/// that accepted a message whose answer was lost does not show it twice.
pub fn message_id(key: &[u8], delivery_key: &str, from: &str) -> String {
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        format!("posbon message-id\0{delivery_key}").as_bytes(),
    );
    // The sender's domain, as RFC 5322 suggests for the right-hand side.
    let domain = from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.domain().to_string())
        .unwrap_or_else(|_| "posbon.invalid".into());
    format!("<{}@{domain}>", hex::encode(&tag.as_ref()[..16]))
}

/// Sends deliveries; cheap to share between tasks.
pub struct Sender {
    config: ChannelConfig,
    /// For the operator's own services (Telegram, the Signal gateway, Matrix).
    http: reqwest::Client,
    /// For URLs a journalist chose (webhooks, ntfy topics): public addresses only, unless
    /// the operator allows private ones.
    outside: reqwest::Client,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    message_id_key: Zeroizing<Vec<u8>>,
}

const NOT_PUBLIC: &str = "posbon: not a public address";

/// Is `ip` an address on the public Internet (not loopback, private, link-local, shared,
/// multicast, unspecified or documentation)?
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8))
        }
    }
}

/// A resolver that drops every address that is not public, so that a URL chosen by a
/// journalist (or a coercer holding their keys) cannot reach services on the watcher's own
/// host or network, however its name resolves (the check is on what is connected to).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(NOT_PUBLIC.into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Transport errors never carry a URL (a bot token may be in it).
fn http_error(e: reqwest::Error) -> SendError {
    let e = e.without_url();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        if inner.to_string().contains(NOT_PUBLIC) {
            return SendError::new(PRIVATE_REFUSED);
        }
        source = inner.source();
    }
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
    SendError::new(kind)
}

/// A far side's answer: status, `Retry-After` in seconds, and at most [`ANSWER_LIMIT`] bytes
/// of the body (enough for any error; a hostile server cannot make us hold more).
struct Answer {
    status: u16,
    retry_after_s: Option<i64>,
    body: Vec<u8>,
}

const ANSWER_LIMIT: usize = 64 * 1024;

async fn read_answer(mut response: reqwest::Response) -> Result<Answer, SendError> {
    let status = response.status().as_u16();
    let retry_after_s = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let mut body = Vec::new();
    while body.len() < ANSWER_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            // The status is what counts; a body cut short only loses the far side's words.
            Err(_) => break,
        }
    }
    body.truncate(ANSWER_LIMIT);
    Ok(Answer {
        status,
        retry_after_s,
        body,
    })
}

impl Sender {
    pub fn new(config: ChannelConfig) -> Result<Self, SetupError> {
        let builder = || {
            reqwest::Client::builder()
                .timeout(config.timeout)
                .connect_timeout(config.timeout)
                // A redirect could carry a token to another host, or lead to a private one.
                .redirect(reqwest::redirect::Policy::none())
        };
        let http = builder()
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        let outside = if config.allow_private_addresses {
            builder()
        } else {
            builder().dns_resolver(std::sync::Arc::new(PublicOnly))
        }
        .build()
        .map_err(|e| SetupError::Http(e.to_string()))?;
        let smtp = match &config.smtp {
            Some(smtp) => {
                check_smtp_url(&smtp.url, smtp.password.is_some())?;
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
                    .map_err(|e| SetupError::SmtpUrl(e.to_string()))?
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
        let message_id_key = if config.message_id_key.is_empty() {
            Zeroizing::new(crate::crypto::random_array::<32>().to_vec())
        } else {
            config.message_id_key.clone()
        };
        Ok(Sender {
            config,
            http,
            outside,
            smtp,
            message_id_key,
        })
    }

    /// Refuses a journalist's URL whose host is a literal private address (names are
    /// checked by the resolver, at connection time).
    fn check_outside(&self, url: &reqwest::Url) -> Result<(), SendError> {
        if self.config.allow_private_addresses {
            return Ok(());
        }
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']');
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) if !is_public(ip) => Err(SendError::new(PRIVATE_REFUSED)),
            _ => Ok(()),
        }
    }

    /// One attempt; `Ok` means the far side accepted it.
    pub async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        let text = delivery.alert.armored();
        match &delivery.channel {
            Channel::Email(to) => self.email(delivery, to, &text).await,
            Channel::Webhook(url) => self.webhook(delivery, url).await,
            Channel::Telegram(chat) => self.telegram(delivery, chat, &text).await,
            Channel::Signal(number) => {
                let signal = self.config.signal.as_ref().ok_or_else(|| {
                    SendError::new("this watcher has no Signal gateway configured")
                })?;
                // `normal` said outright: a gateway whose default the operator set to
                // `styled` would strip `*`, `~`, `||` and backticks from the text, and the
                // signature would no longer verify.
                let body = serde_json::json!({
                    "message": format!("{}\n\n{text}", delivery.title),
                    "number": signal.number,
                    "recipients": [number],
                    "text_mode": "normal",
                });
                self.expect_success(
                    self.http
                        .post(format!("{}/v2/send", signal.gateway.trim_end_matches('/')))
                        .timeout(self.signal_timeout())
                        .json(&body),
                    true,
                )
                .await
            }
            Channel::Ntfy(topic_url) => self.ntfy(delivery, topic_url, &text).await,
            Channel::Matrix(room) => self.matrix(delivery, room, &text).await,
        }
    }

    /// The gateway's `/v2/send` answers only once signal-cli has sent (in its `normal` mode
    /// a JVM starts per request): often well past 20 s while it still delivers. Giving up
    /// sooner would send it again, and the contact would read the alert twice.
    pub fn signal_timeout(&self) -> Duration {
        self.config.timeout.max(SIGNAL_TIMEOUT)
    }

    /// The longest one attempt on any channel may take (shutdown waits this long for the
    /// attempts in flight).
    pub fn longest_attempt(&self) -> Duration {
        self.signal_timeout()
    }

    /// Sends `request`; `Ok` for a 2xx, else the service's refusal (its own words when
    /// `far_text`), with any secret of ours it might echo taken out.
    async fn expect_success(
        &self,
        request: reqwest::RequestBuilder,
        far_text: bool,
    ) -> Result<(), SendError> {
        let answer = self.exchange(request).await?;
        if (200..300).contains(&answer.status) {
            Ok(())
        } else {
            Err(self.refusal(&answer, far_text))
        }
    }

    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Answer, SendError> {
        let response = request.send().await.map_err(http_error)?;
        read_answer(response).await
    }

    fn refusal(&self, answer: &Answer, far_text: bool) -> SendError {
        let mut error = parse_refusal(answer.status, answer.retry_after_s, &answer.body, far_text);
        let secrets = [
            self.config.telegram.as_ref().map(|t| t.token.as_str()),
            self.config.matrix.as_ref().map(|t| t.token.as_str()),
            self.config.ntfy.as_ref().map(|t| t.token.as_str()),
            self.config
                .smtp
                .as_ref()
                .and_then(|s| s.password.as_ref())
                .map(|p| p.as_str()),
        ];
        for secret in secrets.into_iter().flatten().filter(|s| s.len() >= 4) {
            if error.reason.contains(secret) {
                error.reason = error.reason.replace(secret, "[secret]");
            }
        }
        error
    }

    /// One Telegram request (`sendMessage`, or `sendDocument` for an alert too long for a
    /// message) to `chat`.
    fn telegram_request(
        &self,
        base: &str,
        delivery: &Delivery,
        chat: &str,
        text: &str,
    ) -> Result<reqwest::RequestBuilder, SendError> {
        let message = format!("{}\n\n{text}", delivery.title);
        if fits_telegram_message(&message) {
            // `link_preview_options`, not the deprecated `disable_web_page_preview`: a
            // preview would fetch the acknowledgement link's page from Telegram's servers.
            return Ok(self
                .http
                .post(format!("{base}/sendMessage"))
                .json(&serde_json::json!({
                    "chat_id": chat,
                    "text": message,
                    "link_preview_options": {"is_disabled": true},
                })));
        }
        // Longer than a message may be (long instructions, several bundles): the whole
        // alert goes as a text file, which the lawyer saves and verifies as it is; the
        // caption is the title. Cutting it into several messages would break the signature.
        let file = reqwest::multipart::Part::bytes(text.as_bytes().to_vec())
            .file_name(format!("posbon-alert-{}.txt", delivery.alert_id))
            .mime_str("text/plain; charset=utf-8")
            .map_err(|_| SendError::new("the alert file could not be made"))?;
        let form = reqwest::multipart::Form::new()
            .text("chat_id", chat.to_string())
            .text("caption", cut_utf16(&delivery.title, TELEGRAM_CAPTION))
            .part("document", file);
        Ok(self
            .http
            .post(format!("{base}/sendDocument"))
            .multipart(form))
    }

    /// Sends to a Telegram chat. A group that became a supergroup answers `400` with
    /// `parameters.migrate_to_chat_id`, and would fail forever under its old id: the alert
    /// goes to the new id at once, and the operator is told to have the contact updated.
    async fn telegram(&self, delivery: &Delivery, chat: &str, text: &str) -> Result<(), SendError> {
        let api = self
            .config
            .telegram
            .as_ref()
            .ok_or_else(|| SendError::new("this watcher has no Telegram bot configured"))?;
        let base = format!(
            "{}/bot{}",
            api.base.trim_end_matches('/'),
            api.token.as_str()
        );
        let mut chat = chat.to_string();
        for _ in 0..2 {
            let answer = self
                .exchange(self.telegram_request(&base, delivery, &chat, text)?)
                .await?;
            let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
            if (200..300).contains(&answer.status) && json["ok"] == true {
                return Ok(());
            }
            match json["parameters"]["migrate_to_chat_id"].as_i64() {
                Some(new) if new.to_string() != chat => {
                    tracing::warn!(
                        delivery = %delivery.key,
                        "the contact's Telegram group became a supergroup; sending to its new id \
                         (ask the journalist to update the contact: posbon contact list shows it)"
                    );
                    chat = new.to_string();
                }
                _ => return Err(self.refusal(&answer, true)),
            }
        }
        Err(SendError::new(
            "Telegram moved the chat twice in one attempt",
        ))
    }

    /// A homeserver URL with `segments` appended (each escaped as a path segment).
    fn matrix_url(&self, base: &str, segments: &[&str]) -> Result<reqwest::Url, SendError> {
        let mut url = reqwest::Url::parse(base)
            .map_err(|_| SendError::new("the Matrix homeserver URL is not valid"))?;
        url.path_segments_mut()
            .map_err(|_| SendError::new("the Matrix homeserver URL is not valid"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends an `m.text` message. A homeserver lets only a *joined* account post
    /// (`403 M_FORBIDDEN` while it is merely invited), and a contact can only invite it: so
    /// on `M_FORBIDDEN` the account joins (which works only for a room it is invited to, or
    /// a public one) and sends again. The delivery key is the transaction id, so a retry of
    /// an accepted message is recognised by the homeserver and not posted twice.
    async fn matrix(&self, delivery: &Delivery, room: &str, text: &str) -> Result<(), SendError> {
        let matrix = self
            .config
            .matrix
            .as_ref()
            .ok_or_else(|| SendError::new("this watcher has no Matrix account configured"))?;
        let url = self.matrix_url(
            &matrix.base,
            &[
                "_matrix",
                "client",
                "v3",
                "rooms",
                room,
                "send",
                "m.room.message",
                &delivery.key,
            ],
        )?;
        let body = serde_json::json!({
            "msgtype": "m.text",
            "body": format!("{}\n\n{text}", delivery.title),
        });
        let send = || {
            self.http
                .put(url.clone())
                .bearer_auth(matrix.token.as_str())
                .json(&body)
        };
        let answer = self.exchange(send()).await?;
        if (200..300).contains(&answer.status) {
            return Ok(());
        }
        let refused = self.refusal(&answer, true);
        let errcode = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|j| j["errcode"].as_str().map(str::to_string));
        if answer.status != 403 || errcode.as_deref() != Some("M_FORBIDDEN") {
            return Err(refused);
        }
        let join = self.matrix_url(&matrix.base, &["_matrix", "client", "v3", "join", room])?;
        let joined = self
            .exchange(
                self.http
                    .post(join)
                    .bearer_auth(matrix.token.as_str())
                    .json(&serde_json::json!({})),
            )
            .await?;
        if !(200..300).contains(&joined.status) {
            let why = self.refusal(&joined, true);
            return Err(SendError {
                reason: format!(
                    "{}; joining the room failed too ({}): the contact must invite this watcher's account",
                    refused.reason, why.reason
                ),
                ..refused
            });
        }
        tracing::info!(delivery = %delivery.key, "joined the contact's Matrix room");
        self.expect_success(send(), true).await
    }

    /// Publishes to ntfy as its docs describe the plain form: a POST to the topic's own URL
    /// (so a server under a sub-path works), the armored alert as the raw body, and the rest
    /// in headers. Not the JSON form: ntfy refuses a JSON body over twice its message limit
    /// (`413`, 8,192 bytes by default), which a long Tajik alert passes, while a raw body over
    /// the message limit becomes an attachment that keeps the alert whole and verifiable.
    async fn ntfy(
        &self,
        delivery: &Delivery,
        topic_url: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let url = reqwest::Url::parse(topic_url)
            .map_err(|_| SendError::new("the ntfy URL is not valid"))?;
        self.check_outside(&url)?;
        let mut request = self
            .outside
            .post(url.clone())
            .header("content-type", "text/plain; charset=utf-8")
            .header("title", header_text(&delivery.title))
            .header("priority", "5")
            .header("tags", "rotating_light");
        if text.len() > NTFY_MESSAGE {
            // ntfy would make it `attachment.txt` anyway; a name tells the lawyer what it is.
            request = request.header(
                "x-filename",
                format!("posbon-alert-{}.txt", delivery.alert_id),
            );
        }
        // The operator's token goes to the operator's ntfy server only.
        let token = self.config.ntfy.as_ref().filter(|ntfy| {
            reqwest::Url::parse(&ntfy.base).is_ok_and(|base| base.origin() == url.origin())
        });
        if let Some(ntfy) = token {
            request = request.bearer_auth(ntfy.token.as_str());
        }
        self.expect_success(request.body(text.to_string()), true)
            .await
    }

    async fn webhook(&self, delivery: &Delivery, url: &str) -> Result<(), SendError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|_| SendError::new("the webhook URL is not valid"))?;
        self.check_outside(&parsed)?;
        let alert = delivery
            .alert
            .json()
            .map_err(|e| SendError::new(format!("the stored alert cannot be read: {e}")))?;
        let mut json =
            serde_json::to_value(alert).map_err(|e| SendError::new(format!("the alert: {e}")))?;
        json["ack_url"] = delivery
            .ack_url
            .clone()
            .map_or(serde_json::Value::Null, serde_json::Value::String);
        json["delivery"] = serde_json::Value::String(delivery.key.clone());
        json["bundles"] = serde_json::to_value(&delivery.bundles).unwrap_or_default();
        let body =
            serde_json::to_vec(&json).map_err(|e| SendError::new(format!("the alert: {e}")))?;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.config.webhook_key);
        let tag = ring::hmac::sign(&key, &body);
        self.expect_success(
            self.outside
                .post(parsed)
                .header("content-type", "application/json")
                .header(WEBHOOK_HMAC_HEADER, format!("sha256={}", hex::encode(tag)))
                .header("x-posbon-alert-id", &delivery.alert_id)
                .body(body),
            false,
        )
        .await
    }

    async fn email(&self, delivery: &Delivery, to: &str, text: &str) -> Result<(), SendError> {
        let (Some(transport), Some(smtp)) = (&self.smtp, &self.config.smtp) else {
            return Err(SendError::new(
                "this watcher has no SMTP relay configured (--smtp)",
            ));
        };
        // Attachments within a total budget that common relays accept; a bundle that does
        // not fit, or cannot be read, is left to its download link in the text.
        let mut attachments = Vec::new();
        let mut budget = MAX_ATTACHMENT;
        for bundle in &delivery.bundles {
            if bundle.size > budget || !bundle.id.chars().all(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            let path = self
                .config
                .bundle_dir
                .join(&delivery.subject)
                .join(format!("{}.age", bundle.id));
            let bytes = match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
                Ok(Ok(bytes)) => bytes,
                _ => {
                    tracing::warn!(delivery = %delivery.key, "a bundle file cannot be read; sending its link only");
                    continue;
                }
            };
            budget -= bundle.size;
            let file_name: String = bundle
                .name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            attachments.push((format!("{file_name}.age"), bytes));
        }
        let message = |with: &[(String, Vec<u8>)]| -> Result<Message, SendError> {
            let builder =
                Message::builder()
                    .from(smtp.from.parse().map_err(|_| {
                        SendError::new("the configured sender address is not valid")
                    })?)
                    .to(to
                        .parse()
                        .map_err(|_| SendError::new("the contact's address is not valid"))?)
                    .subject(delivery.title.clone())
                    .message_id(Some(message_id(
                        &self.message_id_key,
                        &delivery.key,
                        &smtp.from,
                    )))
                    .raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str("X-Posbon-Alert-Id"),
                        delivery.alert_id.clone(),
                    ));
            if with.is_empty() {
                // As a MIME part, so the mail carries `MIME-Version: 1.0` (RFC 2045): without
                // it a reader may ignore the charset and show the Cyrillic as garbage.
                builder.singlepart(
                    lettre::message::SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text.to_string()),
                )
            } else {
                let mut parts = lettre::message::MultiPart::mixed().singlepart(
                    lettre::message::SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text.to_string()),
                );
                for (name, bytes) in with {
                    parts = parts.singlepart(lettre::message::Attachment::new(name.clone()).body(
                        bytes.clone(),
                        ContentType::parse("application/octet-stream").expect("a valid type"),
                    ));
                }
                builder.multipart(parts)
            }
            .map_err(|e| SendError::new(format!("the e-mail: {e}")))
        };
        match transport.send(message(&attachments)?).await {
            Ok(_) => Ok(()),
            // A relay that refuses the message for good (too large, say) still gets the
            // alert, with the links, rather than nothing forever.
            Err(e) if e.is_permanent() && !attachments.is_empty() => {
                tracing::warn!(delivery = %delivery.key, "the relay refused the attachments; sending the alert with links only");
                transport
                    .send(message(&[])?)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError::new(format!("SMTP: {e}")))
            }
            Err(e) => Err(SendError::new(format!("SMTP: {e}"))),
        }
    }
}

const PRIVATE_REFUSED: &str = "refused: the address is loopback or private, and this watcher sends only to public addresses ([delivery] allow_private_addresses)";

/// Bundles are attached to an e-mail up to this total (about 9.5 MB once encoded, under the
/// 10 MB limit many relays keep); the rest only get their download link.
pub const MAX_ATTACHMENT: u64 = 7 * 1024 * 1024;

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

/// The least time a Signal gateway is given (see [`Sender::signal_timeout`]).
pub const SIGNAL_TIMEOUT: Duration = Duration::from_secs(60);

/// ntfy's default `message-size-limit`: a longer body is published as an attachment.
pub const NTFY_MESSAGE: usize = 4_096;

/// A header value that may hold any text: ASCII as it is, anything else as an RFC 2047
/// encoded word, which ntfy decodes (HTTP headers carry no charset of their own).
fn header_text(text: &str) -> String {
    let one_line: String = text.chars().filter(|c| !c.is_control()).collect();
    if one_line.is_ascii() {
        one_line
    } else {
        use base64::Engine;
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(one_line.as_bytes())
        )
    }
}

/// Telegram refuses a message over 4,096 UTF-16 code units (and a caption over 1,024).
const TELEGRAM_MESSAGE: usize = 4_096;
const TELEGRAM_CAPTION: usize = 1_024;

/// The longest start of `text` within `max` UTF-16 code units (what Telegram counts), never
/// splitting a character.
fn cut_utf16(text: &str, max: usize) -> String {
    let mut units = 0;
    text.chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= max
        })
        .collect()
}

/// Whether `text` can go as one Telegram message.
fn fits_telegram_message(text: &str) -> bool {
    text.encode_utf16().count() <= TELEGRAM_MESSAGE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_counts_utf16_units_as_telegram_does() {
        assert!(fits_telegram_message(&"ж".repeat(4_096)));
        assert!(!fits_telegram_message(&"ж".repeat(4_097)));
        // Outside the basic plane a character is two units.
        assert!(fits_telegram_message(&"🕊".repeat(2_048)));
        assert!(!fits_telegram_message(&"🕊".repeat(2_049)));
    }

    /// The largest alert posbon can produce: a release in Tajik (the longest texts), the
    /// longest subject name, 2,000 characters of instructions and 8 bundles with 100-character
    /// names, every character four bytes of UTF-8 (an emoji), behind a long watcher URL.
    fn largest_alert() -> String {
        use crate::alert::compose::{Event, Reader, compose};
        use crate::alert::message::{Header, SignedAlert};
        use crate::watch::contacts::{Lang, MAX_INSTRUCTIONS};
        use crate::watch::plan::Action;
        let wide = |n: usize| "🕊".repeat(n);
        let name = wide(100);
        let instructions = wide(MAX_INSTRUCTIONS);
        let base = format!("https://{}.example.org", "w".repeat(200));
        let ack = format!("{base}/a/{}", "0".repeat(32));
        let url = format!("{base}/b/{}", "0".repeat(32));
        let sha = "f".repeat(64);
        let bundle_name = wide(100);
        let bundles: Vec<(&str, u64, &str, &str)> = (0..crate::watch::service::MAX_BUNDLES)
            .map(|_| {
                (
                    bundle_name.as_str(),
                    u64::MAX / 2,
                    sha.as_str(),
                    url.as_str(),
                )
            })
            .collect();
        let reader = Reader {
            name: &name,
            lang: Lang::Tg,
            tz: "America/Argentina/ComodRivadavia",
            fingerprint: "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d",
            instructions: &instructions,
        };
        let (title, body) = compose(
            &reader,
            &Event::Step {
                action: Action::Release,
                deadline_ms: 1_795_586_400_000,
                last_checkin_ms: Some(1_795_500_000_000),
                cycle_start_ms: 1_795_500_000_000,
                duress_seen: true,
                next: None,
                ack_url: Some(&ack),
                bundles,
            },
        );
        let key = ring::signature::Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
        SignedAlert::sign(
            &Header {
                id: "0".repeat(32),
                step: "release".into(),
                subject: name.clone(),
                issued_ms: 1_795_586_400_000,
                lang: Lang::Tg,
                watcher_key: "A".repeat(44),
                title,
            },
            &body,
            &key,
        )
        .armored()
    }

    #[test]
    fn the_largest_alert_is_measured_and_fits_every_channel_whole() {
        let text = largest_alert();
        // Measured 2026-11-30: 23,565 bytes (the number in docs/operator-guide.md).
        eprintln!("the largest alert: {} bytes", text.len());
        // Over ntfy's message limit and over a JSON publish's limit (8,192): it must go as
        // a raw body, which ntfy keeps whole as an attachment.
        assert!(text.len() > 2 * NTFY_MESSAGE, "{}", text.len());
        // Far under ntfy's attachment limit (15 MB) and Telegram's document limit (50 MB);
        // over one Telegram message, so it goes as a document there.
        assert!(text.len() < 64 * 1024, "{}", text.len());
        assert!(!fits_telegram_message(&text));
    }

    #[test]
    fn refusals_keep_the_services_words_and_wait_and_tell_passing_from_lasting() {
        let telegram = parse_refusal(
            429,
            None,
            br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#,
            true,
        );
        assert_eq!(
            telegram.reason,
            "refused with HTTP 429: Too Many Requests: retry after 7"
        );
        assert_eq!(telegram.retry_after_ms, Some(7_000));
        assert!(!telegram.refused);
        let matrix = parse_refusal(
            429,
            Some(3),
            br#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2500}"#,
            true,
        );
        assert_eq!(matrix.retry_after_ms, Some(2_500), "the body's ms first");
        assert_eq!(
            parse_refusal(503, Some(3), b"", true).retry_after_ms,
            Some(3_000)
        );
        let forbidden = parse_refusal(
            403,
            None,
            br#"{"errcode":"M_FORBIDDEN","error":"not in room"}"#,
            true,
        );
        assert_eq!(
            forbidden.reason,
            "refused with HTTP 403: M_FORBIDDEN: not in room"
        );
        assert!(forbidden.refused);
        let ntfy = parse_refusal(
            413,
            None,
            br#"{"code":41303,"http":413,"error":"JSON body too large"}"#,
            true,
        );
        assert!(ntfy.refused && ntfy.reason.ends_with("JSON body too large"));
        // A webhook's answer is anybody's: only its status is shown.
        let hook = parse_refusal(400, None, br#"{"error":"click http://evil"}"#, false);
        assert_eq!(hook.reason, "refused with HTTP 400");
        // One bounded line, whatever the far side sends.
        let long = format!(r#"{{"error":"a\nb{}"}}"#, "x".repeat(1_000));
        let cleaned = parse_refusal(500, None, long.as_bytes(), true);
        assert!(!cleaned.reason.contains('\n') && cleaned.reason.len() < 400);
        assert!(!cleaned.refused);
    }

    #[test]
    fn message_ids_are_stable_per_watcher_and_unguessable_without_its_key() {
        let from = "posbon watcher <alerts@watcher.example.org>";
        let one = message_id(b"key one", "abc.0", from);
        assert_eq!(
            one,
            message_id(b"key one", "abc.0", from),
            "stable on retries"
        );
        assert_ne!(one, message_id(b"key two", "abc.0", from), "per watcher");
        assert_ne!(one, message_id(b"key one", "abc.1", from), "per delivery");
        assert!(!one.contains("abc"), "{one}");
        assert!(
            one.starts_with('<') && one.ends_with("@watcher.example.org>"),
            "{one}"
        );
    }

    #[test]
    fn smtp_passwords_go_only_over_encrypted_connections() {
        assert!(check_smtp_url("smtp://127.0.0.1:25", false).is_ok());
        assert!(check_smtp_url("smtps://mail.example.org:465", true).is_ok());
        assert!(check_smtp_url("smtp://mail.example.org:587?tls=required", true).is_ok());
        for clear in [
            "smtp://mail.example.org:587",
            "smtp://mail.example.org:587?tls=opportunistic",
        ] {
            assert!(matches!(
                check_smtp_url(clear, true),
                Err(SetupError::CredentialsInClear)
            ));
        }
    }

    #[test]
    fn captions_are_cut_by_utf16_units_as_telegram_counts() {
        assert_eq!(cut_utf16(&"ж".repeat(2_000), 1_024).chars().count(), 1_024);
        let doves = cut_utf16(&"🕊".repeat(1_000), 1_024);
        assert_eq!(doves.chars().count(), 512);
        assert_eq!(doves.encode_utf16().count(), 1_024);
        // Never half a character.
        assert_eq!(cut_utf16("a🕊", 2), "a");
    }

    #[test]
    fn only_public_addresses_count_as_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "185.23.4.5", "2a00:1450:4001::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn webhook_hmacs_check_the_body_and_the_key() {
        let key = b"k";
        let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), b"body");
        let header = format!("sha256={}", hex::encode(tag));
        assert!(webhook_hmac_matches(key, b"body", &header));
        assert!(!webhook_hmac_matches(key, b"bodY", &header));
        assert!(!webhook_hmac_matches(b"other", b"body", &header));
        assert!(!webhook_hmac_matches(key, b"body", "md5=00"));
    }
}
