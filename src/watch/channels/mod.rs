//! Carrying one delivery out over its channel: e-mail through the operator's SMTP relay
//! (`lettre`), and Telegram, Signal (a signal-cli REST gateway), ntfy, Matrix and webhooks over
//! HTTP (`reqwest`), each as its service documents it. The operator's secrets (SMTP password,
//! bot and access tokens, the webhook key) live here, in zeroized strings, and never reach an
//! error message: errors are rewritten without URLs, since a Telegram URL holds the bot token,
//! and a service's own error text (kept, so the operator learns why) is cleaned, bounded and
//! stripped of any of those secrets. A refusal carries the wait the service asked for and
//! whether a retry alone can help ([`SendError`]).

use std::time::Duration;

use lettre::{AsyncSmtpTransport, Tokio1Executor};
use zeroize::Zeroizing;

use super::outbox::{Delivery, Failure};
use crate::protocol::contacts::Channel;

// One file per channel, each as its service documents it.
mod email;
mod matrix;
mod ntfy;
mod signal;
mod telegram;
mod webhook;

pub use email::{MAX_ATTACHMENT, check_smtp_url, message_id};
pub use ntfy::NTFY_MESSAGE;
pub use signal::SIGNAL_TIMEOUT;
pub use telegram::ChatMoves;
pub use webhook::{WEBHOOK_HMAC_HEADER, webhook_hmac_matches};

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
    /// Where Telegram chats that moved are kept (`DATA/telegram-moves.json`; see
    /// [`ChatMoves`]); `None`: in memory only.
    pub telegram_moves: Option<std::path::PathBuf>,
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
    retry_after_header_ms: Option<i64>,
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
        .or(retry_after_header_ms);
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
    telegram_moves: ChatMoves,
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

/// `Retry-After` as RFC 9110 (section 10.2.3) allows it: a delay in seconds, or an HTTP-date
/// (IMF-fixdate, or the obsolete RFC 850 and asctime forms a recipient must still read),
/// as the wait in milliseconds from `now`. A date already past is no wait; anything else
/// (a negative number, a word) is no hint at all. The outbox caps what it honours at
/// [`super::outbox::MAX_HINT_MS`], so a far date cannot silence a channel.
pub fn retry_after_ms(value: &str, now: std::time::SystemTime) -> Option<i64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only, so the one failure left is a number too big: the longest wait.
        return Some(
            value
                .parse::<i64>()
                .map_or(i64::MAX, |s| s.saturating_mul(1_000)),
        );
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at.duration_since(now).unwrap_or_default();
    Some(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
}

/// A far side's answer: status, `Retry-After` as a wait in milliseconds, and at most
/// [`ANSWER_LIMIT`] bytes of the body (enough for any error; a hostile server cannot make us
/// hold more).
struct Answer {
    status: u16,
    retry_after_ms: Option<i64>,
    body: Vec<u8>,
}

const ANSWER_LIMIT: usize = 64 * 1024;

async fn read_answer(mut response: reqwest::Response, limit: usize) -> Result<Answer, SendError> {
    let status = response.status().as_u16();
    let retry_after_ms = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after_ms(v, std::time::SystemTime::now()));
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            // The status is what counts; a body cut short only loses the far side's words.
            Err(_) => break,
        }
    }
    body.truncate(limit);
    Ok(Answer {
        status,
        retry_after_ms,
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
            telegram_moves: ChatMoves::load(config.telegram_moves.clone()),
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
            Channel::Signal(number) => self.signal(delivery, number, &text).await,
            Channel::Ntfy(topic_url) => self.ntfy(delivery, topic_url, &text).await,
            Channel::Matrix(room) => self.matrix(delivery, room, &text).await,
        }
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
        self.exchange_up_to(request, ANSWER_LIMIT).await
    }

    /// [`Sender::exchange`] for the one answer that may be longer than an error (a Matrix
    /// `/sync`), read up to `limit` bytes.
    async fn exchange_up_to(
        &self,
        request: reqwest::RequestBuilder,
        limit: usize,
    ) -> Result<Answer, SendError> {
        let response = request.send().await.map_err(http_error)?;
        read_answer(response, limit).await
    }

    fn refusal(&self, answer: &Answer, far_text: bool) -> SendError {
        let mut error = parse_refusal(answer.status, answer.retry_after_ms, &answer.body, far_text);
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
}

const PRIVATE_REFUSED: &str = "refused: the address is loopback or private, and this watcher sends only to public addresses ([delivery] allow_private_addresses)";

#[cfg(test)]
mod tests {
    use super::telegram::fits_telegram_message;
    use super::*;

    /// The largest alert posbon can produce: a release in Tajik (the longest texts), the
    /// longest subject name, 2,000 characters of instructions and 8 bundles with 100-character
    /// names, every character four bytes of UTF-8 (an emoji), behind a long watcher URL.
    fn largest_alert() -> String {
        use crate::alert::compose::{Event, Reader, compose};
        use crate::alert::message::{Header, SignedAlert};
        use crate::plan::Action;
        use crate::protocol::contacts::{Lang, MAX_INSTRUCTIONS};
        let wide = |n: usize| "🕊".repeat(n);
        let name = wide(100);
        let instructions = wide(MAX_INSTRUCTIONS);
        let base = format!("https://{}.example.org", "w".repeat(200));
        let ack = format!("{base}/a/{}", "0".repeat(32));
        let url = format!("{base}/b/{}", "0".repeat(32));
        let sha = "f".repeat(64);
        let bundle_name = wide(100);
        let bundles: Vec<crate::alert::compose::BundleLine> = (0
            ..crate::watch::service::MAX_BUNDLES)
            .map(|_| crate::alert::compose::BundleLine {
                name: bundle_name.as_str(),
                version: u64::MAX,
                size: u64::MAX / 2,
                sha256: sha.as_str(),
                url: url.as_str(),
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
            Some(3_000),
            br#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2500}"#,
            true,
        );
        assert_eq!(matrix.retry_after_ms, Some(2_500), "the body's ms first");
        assert_eq!(
            parse_refusal(503, Some(3_000), b"", true).retry_after_ms,
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
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        use std::time::{Duration, UNIX_EPOCH};
        // Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's own example.
        let date = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let before = |s: u64| date - Duration::from_secs(s);
        assert_eq!(retry_after_ms("120", date), Some(120_000));
        assert_eq!(retry_after_ms(" 0 ", date), Some(0));
        // The three forms of an HTTP-date, 90 s ahead.
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(retry_after_ms(form, before(90)), Some(90_000), "{form}");
        }
        // A date already past: no wait.
        assert_eq!(
            retry_after_ms(
                "Sun, 06 Nov 1994 08:49:37 GMT",
                date + Duration::from_secs(5)
            ),
            Some(0)
        );
        // A huge number or a far date is a long wait, which the outbox caps.
        assert_eq!(
            retry_after_ms("99999999999999999999999", date),
            Some(i64::MAX)
        );
        let far = retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", date).unwrap();
        assert!(far > crate::watch::outbox::MAX_HINT_MS);
        // Not a hint: ignored, and the channel's own backoff applies.
        for junk in ["", "-5", "1.5", "soon", "Sun, 06 Nov 1994", "120s"] {
            assert_eq!(retry_after_ms(junk, date), None, "{junk:?}");
        }
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
}
