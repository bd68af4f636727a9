//! The watcher's config file: one TOML file (every key optional), read into [`Config`], and
//! what `watch serve` builds from it: the alert channels (with the secrets the config names by
//! file), the retry policy, the trusted reverse proxies, the plans set by the operator.
//! `checks` finds everything wrong with a config at once and reports the alert channels;
//! each [`ConfigProblem`] is data, said in the operator's language by `words` (from
//! `ftl/config.*.ftl`, which is also the English `Display`).
//!
//! Secrets are named by file, so the config itself can be shown and kept in version control.

mod checks;
pub mod words;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::plan::{self, PlanError, PlanSpec};
use crate::watch::channels::{ChannelConfig, SignalConfig, SmtpConfig, TokenApi};
use crate::watch::listener::ConnectionLimits;
use crate::watch::outbox::RetryPolicy;

pub use checks::{Notice, channel_report, metrics_address, problems, unreadable_secrets};

/// Where the watcher listens when neither the config nor `--listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";
/// The e-mail sender when `[smtp]` names none (the start-up report warns of it).
pub const DEFAULT_SMTP_FROM: &str = "posbon watcher <posbon@localhost>";
/// Where the watcher keeps the Telegram chats that moved (see `channels::ChatMoves`).
pub const TELEGRAM_MOVES: &str = "telegram-moves.json";

/// What is wrong with a config, or with the files it names.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, or not a config (an unknown key, a wrong type).
    #[error("{0}")]
    Unreadable(String),
    /// Values that cannot be used, each naming its section; in English one a line.
    #[error("{}", lines(.0))]
    Problems(Vec<ConfigProblem>),
    #[error("the secret file {} is empty", .0.display())]
    EmptySecret(PathBuf),
    #[error("cannot read the secret file {}", path.display())]
    ReadSecret {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// One of the watcher's own keys (`DATA/webhook.key`, `DATA/message-id.key`) could not be
    /// made.
    #[error("cannot {what} {}", path.display())]
    KeyFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ConfigError {
    /// Whether the operator wrote something wrong (rather than a file being unreadable).
    pub fn is_mistake(&self) -> bool {
        matches!(
            self,
            ConfigError::Unreadable(_) | ConfigError::Problems(_) | ConfigError::EmptySecret(_)
        )
    }
}

impl From<ConfigProblem> for ConfigError {
    fn from(problem: ConfigProblem) -> Self {
        ConfigError::Problems(vec![problem])
    }
}

/// The problems in English, one a line (what scripts and the tests read).
fn lines(problems: &[ConfigProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// One thing wrong with a config, as data: what was typed, where, and why it cannot be used.
/// [`words::said`] says it in the operator's language; `Display` is the English. A detail
/// another module gives only in English (the SMTP URL's, the proxy list's, the system's reason
/// a file does not read) is carried as it is, inside a sentence in the reader's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// A duration under `[delivery]` that does not read; `key` names it where the check does.
    DeliveryDuration {
        key: Option<&'static str>,
        error: PlanError,
    },
    /// The SMTP URL (`[smtp] url` or `--smtp`) cannot be used; `detail` is the e-mail
    /// channel's English.
    Smtp { detail: String },
    /// A channel's table without the `url` it needs (`matrix`: there is no default server).
    NeedsUrl { section: &'static str },
    /// No `--data`, and no platform data directory to put the watcher in.
    NoDataDir,
    /// `[proxy]` cannot be used; `detail` is the proxy module's English, naming the key.
    Proxy { detail: String },
    /// `[connections]` with a cap of 0.
    NoConnections,
    /// Metrics asked for on the address check-ins come to; `in_file` when `[metrics]` asked.
    MetricsOnListen { listen: SocketAddr, in_file: bool },
    /// Metrics asked for on an address others can reach, without `--metrics-public`.
    MetricsReadable { addr: SocketAddr, in_file: bool },
    /// A `[[plan]]` that is not a plan, by its place in the file (from 1) where the check
    /// knows it.
    Plan {
        number: Option<usize>,
        error: PlanError,
    },
    /// A `public_url` that is not an http:// or https:// address.
    PublicUrl { url: String },
    /// A secret file the config names (`file`: `[telegram]`, `[smtp] password_file`...) that
    /// cannot be read; `reason` is the system's.
    SecretUnreadable {
        file: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// A secret file the config names that is empty.
    SecretEmpty { file: &'static str, path: PathBuf },
}

/// Reads a config's TOML.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Unreadable(e.to_string()))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data: Option<PathBuf>,
    pub listen: Option<std::net::SocketAddr>,
    /// Where contacts reach this watcher, for acknowledgement links.
    pub public_url: Option<String>,
    /// Plans set by the operator, applied at start to the subject of that name.
    #[serde(default)]
    plan: Vec<ConfigPlan>,
    smtp: Option<ConfigSmtp>,
    telegram: Option<ConfigTokenApi>,
    signal: Option<ConfigSignal>,
    ntfy: Option<ConfigNtfy>,
    matrix: Option<ConfigTokenApi>,
    webhook: Option<ConfigWebhook>,
    #[serde(default)]
    delivery: ConfigDelivery,
    #[serde(default)]
    connections: ConfigConnections,
    #[serde(default)]
    proxy: ConfigProxy,
    #[serde(default)]
    metrics: checks::ConfigMetrics,
}

/// `[proxy]`: reverse proxies in front of the watcher. Their header names the client, whose
/// address then counts for the limits on unproven requests; from anyone else it is ignored.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigProxy {
    /// Addresses or networks of the proxies (`127.0.0.1`, `::1`, `10.0.0.0/8`) [default: none].
    #[serde(default)]
    trusted: Vec<String>,
    /// The header they put the client's address in [default: X-Forwarded-For].
    header: Option<String>,
}

/// `[connections]`: caps on open connections; both are lowered at start if the open-file
/// limit is too small for them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigConnections {
    /// Open connections at most [default: 512].
    total: Option<usize>,
    /// Open connections from one address (IPv6: one /64) at most [default: 32].
    per_address: Option<usize>,
}

/// Secrets are named by file, so the config itself can be shown and kept in version control.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSmtp {
    url: String,
    from: Option<String>,
    username: Option<String>,
    password_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigTokenApi {
    /// The API's base: Telegram's is https://api.telegram.org; Matrix's is the homeserver.
    url: Option<String>,
    token_file: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSignal {
    gateway: String,
    number: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigNtfy {
    /// The ntfy server the token is for (it is sent to no other).
    url: String,
    token_file: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigWebhook {
    key_file: PathBuf,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigDelivery {
    /// The first wait after a failed attempt (it doubles each time) [default: 2s].
    retry_first: Option<String>,
    /// The longest wait between attempts [default: 15m].
    retry_max: Option<String>,
    /// How long one attempt may take [default: 20s].
    timeout: Option<String>,
    /// Let webhook and ntfy URLs reach loopback and private addresses [default: false].
    #[serde(default)]
    allow_private_addresses: bool,
}

/// Reads a secret from a file (its first line, or all of it for keys), never echoing it.
fn secret_file(path: &std::path::Path) -> Result<zeroize::Zeroizing<String>, ConfigError> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
        ConfigError::ReadSecret {
            path: path.to_path_buf(),
            source,
        }
    })?);
    let secret = zeroize::Zeroizing::new(text.trim().to_string());
    if secret.is_empty() {
        return Err(ConfigError::EmptySecret(path.to_path_buf()));
    }
    Ok(secret)
}

/// The webhook key: from the config's file, or `DATA/webhook.key`, made on first use.
fn webhook_key(
    config: Option<&ConfigWebhook>,
    data: &std::path::Path,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ConfigError> {
    let path = match config {
        Some(c) => c.key_file.clone(),
        None => own_key_file(data, "webhook.key")?,
    };
    let text = secret_file(&path)?;
    Ok(zeroize::Zeroizing::new(text.as_bytes().to_vec()))
}

/// `DATA/NAME`, a random key of this watcher's own, made on first use.
fn own_key_file(data: &std::path::Path, name: &str) -> Result<PathBuf, ConfigError> {
    let path = data.join(name);
    if !path.exists() {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(data).map_err(|source| ConfigError::KeyFile {
            what: "create",
            path: data.to_path_buf(),
            source,
        })?;
        let key = zeroize::Zeroizing::new(hex::encode(crate::crypto::random_array::<32>()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| ConfigError::KeyFile {
                what: "create",
                path: path.clone(),
                source,
            })?;
        file.write_all(key.as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|source| ConfigError::KeyFile {
                what: "write",
                path: path.clone(),
                source,
            })?;
    }
    Ok(path)
}

/// The key e-mail Message-IDs are made under. Never shared with anyone (unlike the webhook
/// key, which receivers hold): whoever knows it can predict this watcher's Message-IDs.
fn message_id_key(data: &std::path::Path) -> Result<zeroize::Zeroizing<Vec<u8>>, ConfigError> {
    let text = secret_file(&own_key_file(data, "message-id.key")?)?;
    Ok(zeroize::Zeroizing::new(text.as_bytes().to_vec()))
}

pub fn channel_config(
    config: &Config,
    smtp_url: Option<String>,
    data: &std::path::Path,
) -> Result<ChannelConfig, ConfigError> {
    let timeout_ms = delivery_ms(&config.delivery.timeout, 20_000)?;
    let smtp = match (smtp_url, config.smtp.as_ref()) {
        (None, None) => None,
        (url, section) => Some(SmtpConfig {
            url: url
                .or_else(|| section.map(|s| s.url.clone()))
                .expect("one of the two is there"),
            from: section
                .and_then(|s| s.from.clone())
                .unwrap_or_else(|| DEFAULT_SMTP_FROM.into()),
            username: section.and_then(|s| s.username.clone()),
            password: section
                .and_then(|s| s.password_file.as_deref())
                .map(secret_file)
                .transpose()?,
        }),
    };
    if let Some(smtp) = &smtp {
        crate::watch::channels::check_smtp_url(&smtp.url, smtp.password.is_some()).map_err(
            |e| ConfigProblem::Smtp {
                detail: e.to_string(),
            },
        )?;
    }
    let token_api = |section: &Option<ConfigTokenApi>,
                     default: Option<&str>,
                     name: &'static str|
     -> Result<Option<TokenApi>, ConfigError> {
        section
            .as_ref()
            .map(|s| {
                Ok(TokenApi {
                    base: s
                        .url
                        .clone()
                        .or_else(|| default.map(str::to_string))
                        .ok_or(ConfigProblem::NeedsUrl { section: name })?,
                    token: secret_file(&s.token_file)?,
                })
            })
            .transpose()
    };
    Ok(ChannelConfig {
        smtp,
        telegram: token_api(
            &config.telegram,
            Some("https://api.telegram.org"),
            "telegram",
        )?,
        signal: config.signal.as_ref().map(|s| SignalConfig {
            gateway: s.gateway.clone(),
            number: s.number.clone(),
        }),
        ntfy: config
            .ntfy
            .as_ref()
            .map(|n| -> Result<TokenApi, ConfigError> {
                Ok(TokenApi {
                    base: n.url.clone(),
                    token: secret_file(&n.token_file)?,
                })
            })
            .transpose()?,
        allow_private_addresses: config.delivery.allow_private_addresses,
        bundle_dir: data.join("bundles"),
        telegram_moves: Some(data.join(TELEGRAM_MOVES)),
        matrix: token_api(&config.matrix, None, "matrix")?,
        webhook_key: webhook_key(config.webhook.as_ref(), data)?,
        message_id_key: message_id_key(data)?,
        timeout: std::time::Duration::from_millis(timeout_ms.max(1_000) as u64),
    })
}

/// A duration of `[delivery]` in milliseconds, or `default` when it is not given.
fn delivery_ms(text: &Option<String>, default: i64) -> Result<i64, ConfigProblem> {
    match text {
        Some(t) => plan::parse_duration(t)
            .map_err(|error| ConfigProblem::DeliveryDuration { key: None, error }),
        None => Ok(default),
    }
}

pub fn retry_policy(config: &Config) -> Result<RetryPolicy, ConfigError> {
    Ok(retry_policy_of(config)?)
}

fn retry_policy_of(config: &Config) -> Result<RetryPolicy, ConfigProblem> {
    let default = RetryPolicy::default();
    let first_ms = delivery_ms(&config.delivery.retry_first, default.first_ms)?.max(1_000);
    let max_ms = delivery_ms(&config.delivery.retry_max, default.max_ms)?.max(first_ms);
    Ok(RetryPolicy { first_ms, max_ms })
}

/// A `[[plan]]` table: the subject's name and a plan as in [`PlanSpec`]. (Written out rather
/// than flattened: serde cannot combine `flatten` with `deny_unknown_fields`.)
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct ConfigPlan {
    subject: String,
    every: Option<String>,
    #[serde(default)]
    window: Vec<String>,
    tz: Option<String>,
    grace: String,
    #[serde(default)]
    remind_before: Vec<String>,
    #[serde(default)]
    steps: Vec<String>,
    #[serde(default)]
    release_on_duress: bool,
}

impl ConfigPlan {
    fn spec(self) -> (String, PlanSpec) {
        (
            self.subject,
            PlanSpec {
                every: self.every,
                window: self.window,
                tz: self.tz,
                grace: self.grace,
                remind_before: self.remind_before,
                steps: self.steps,
                release_on_duress: self.release_on_duress,
            },
        )
    }

    fn spec_ref(&self) -> PlanSpec {
        self.clone().spec().1
    }
}

/// The data directory when none is given: the platform's, then `posbon/watcher`.
pub fn default_data_dir() -> Result<PathBuf, ConfigError> {
    let base = dirs::data_dir().ok_or(ConfigProblem::NoDataDir)?;
    Ok(base.join("posbon").join("watcher"))
}

/// The proxies of `[proxy]`, whose client-address header the watcher believes.
pub fn trusted_proxies(
    config: &Config,
) -> Result<crate::watch::proxy::TrustedProxies, ConfigError> {
    Ok(trusted_proxies_of(config)?)
}

fn trusted_proxies_of(
    config: &Config,
) -> Result<crate::watch::proxy::TrustedProxies, ConfigProblem> {
    crate::watch::proxy::TrustedProxies::new(&config.proxy.trusted, config.proxy.header.as_deref())
        .map_err(|e| ConfigProblem::Proxy {
            detail: e.to_string(),
        })
}

/// Parses a watcher config as `watch serve` does, without touching files or the network:
/// the TOML, the plans in it, and the durations of `[delivery]` (for the fuzzer and tests).
/// Every problem found, one a line (`posbon watch check-config FILE` also reads the secret
/// files the config names).
pub fn check(text: &str) -> Result<(), ConfigError> {
    let config = parse(text)?;
    let found = checks::problems(&config);
    if !found.is_empty() {
        return Err(ConfigError::Problems(found));
    }
    Ok(())
}

impl Config {
    /// The caps on open connections: `[connections]` over the defaults.
    pub fn connections(&self) -> Result<ConnectionLimits, ConfigError> {
        let default = ConnectionLimits::default();
        let limits = ConnectionLimits {
            total: self.connections.total.unwrap_or(default.total),
            per_address: self.connections.per_address.unwrap_or(default.per_address),
        };
        if limits.total == 0 || limits.per_address == 0 {
            return Err(ConfigProblem::NoConnections.into());
        }
        Ok(limits)
    }

    /// Where metrics are served: `wanted` (the command line's) over `[metrics]`.
    pub fn metrics(
        &self,
        wanted: Option<std::net::SocketAddr>,
        public: bool,
        listen: std::net::SocketAddr,
    ) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        Ok(metrics_address(
            wanted.or(self.metrics.listen),
            public || self.metrics.public,
            listen,
            false,
        )?)
    }

    /// The `[[plan]]` tables, built: (subject name, plan).
    pub fn plans(&self) -> Result<Vec<(String, plan::Plan)>, ConfigError> {
        self.plan
            .iter()
            .cloned()
            .map(|p| {
                let (subject, spec) = p.spec();
                Ok((subject, spec.build()?))
            })
            .collect::<Result<Vec<_>, PlanError>>()
            .map_err(|error| {
                ConfigError::from(ConfigProblem::Plan {
                    number: None,
                    error,
                })
            })
    }
}
