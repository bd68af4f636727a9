//! Commands of the dead-man's switch: running a watcher, and the journalist's side (enrol,
//! plan, check in, status, pause, resume), fanned out to every watcher in parallel.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::plan::{self, PlanError, PlanSpec};
use crate::protocol::{self, PausePayload, StatusResponse, ops};
use crate::switch::client::{self, ClientError, Link, Route};
use crate::vault::{self, Vault};
use crate::watch::channels::{ChannelConfig, SignalConfig, SmtpConfig, TokenApi};
use crate::watch::daemon::{self, DeliverySummary, OutboxReport, ServeOptions};
use crate::watch::listener::ConnectionLimits;
use crate::watch::outbox::RetryPolicy;
use crate::watch::store::{Invites, Store};

use super::commands::time_text;
use super::{LogFormat, PlanCommand, ServeOpsArgs, UsageError};

mod checks;
mod route;
pub(super) use checks::check_config_file;
pub(super) use route::{route, run as proxy, set_override as set_proxy_override};

const DEVICE_KEYS: &str = "device-keys";
const WATCHERS: &str = "watchers";
/// The plan last set, sent to each watcher enrolled afterwards.
const PLAN: &str = "plan";
const DEFAULT_LISTEN: &str = "127.0.0.1:8470";
/// The e-mail sender when `[smtp]` names none (the start-up report warns of it).
const DEFAULT_SMTP_FROM: &str = "posbon watcher <posbon@localhost>";

/// A view's two signing keys (PKCS#8, base64): `device` signs its requests; `duress` is its
/// decoy's `device` key, registered with each watcher as the key that means coercion. Every
/// view, the decoy included, holds both, so the keys say nothing about which view is open.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct DeviceKeys {
    device: String,
    duress: String,
}

impl DeviceKeys {
    fn generate() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let make = || {
            let pkcs8 =
                Ed25519KeyPair::generate_pkcs8(&rng).expect("the OS random generator works");
            protocol::b64(pkcs8.as_ref())
        };
        DeviceKeys {
            device: make(),
            duress: make(),
        }
    }

    fn pair(text: &str) -> Result<Ed25519KeyPair> {
        let bytes = zeroize::Zeroizing::new(protocol::unb64(text)?);
        Ed25519KeyPair::from_pkcs8(&bytes)
            .map_err(|_| anyhow::anyhow!("the vault's device key is damaged"))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    data: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    /// Where contacts reach this watcher, for acknowledgement links.
    public_url: Option<String>,
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
fn secret_file(path: &std::path::Path) -> Result<zeroize::Zeroizing<String>> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the secret file {}", path.display()))?,
    );
    let secret = zeroize::Zeroizing::new(text.trim().to_string());
    if secret.is_empty() {
        bail!(UsageError(format!(
            "the secret file {} is empty",
            path.display()
        )));
    }
    Ok(secret)
}

/// The webhook key: from the config's file, or `DATA/webhook.key`, made on first use.
fn webhook_key(
    config: Option<&ConfigWebhook>,
    data: &std::path::Path,
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let path = match config {
        Some(c) => c.key_file.clone(),
        None => own_key_file(data, "webhook.key")?,
    };
    let text = secret_file(&path)?;
    Ok(zeroize::Zeroizing::new(text.as_bytes().to_vec()))
}

/// `DATA/NAME`, a random key of this watcher's own, made on first use.
fn own_key_file(data: &std::path::Path, name: &str) -> Result<PathBuf> {
    let path = data.join(name);
    if !path.exists() {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create {}", data.display()))?;
        let key = zeroize::Zeroizing::new(hex::encode(crate::crypto::random_array::<32>()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(key.as_bytes())
            .and_then(|_| file.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(path)
}

/// The key e-mail Message-IDs are made under. Never shared with anyone (unlike the webhook
/// key, which receivers hold): whoever knows it can predict this watcher's Message-IDs.
fn message_id_key(data: &std::path::Path) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let text = secret_file(&own_key_file(data, "message-id.key")?)?;
    Ok(zeroize::Zeroizing::new(text.as_bytes().to_vec()))
}

fn channel_config(
    config: &Config,
    smtp_url: Option<String>,
    data: &std::path::Path,
) -> Result<ChannelConfig> {
    let duration = |text: &Option<String>, default: i64| -> Result<i64> {
        Ok(match text {
            Some(t) => {
                plan::parse_duration(t).map_err(|e| UsageError(format!("[delivery]: {e}")))?
            }
            None => default,
        })
    };
    let timeout_ms = duration(&config.delivery.timeout, 20_000)?;
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
        crate::watch::channels::check_smtp_url(&smtp.url, smtp.password.is_some())
            .map_err(|e| UsageError(format!("[smtp]: {e}")))?;
    }
    let token_api = |section: &Option<ConfigTokenApi>,
                     default: Option<&str>,
                     what: &str|
     -> Result<Option<TokenApi>> {
        section
            .as_ref()
            .map(|s| {
                Ok(TokenApi {
                    base: s
                        .url
                        .clone()
                        .or_else(|| default.map(str::to_string))
                        .ok_or_else(|| UsageError(format!("[{what}] needs a url")))?,
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
            .map(|n| -> Result<TokenApi> {
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

fn retry_policy(config: &Config) -> Result<RetryPolicy> {
    let default = RetryPolicy::default();
    let read = |text: &Option<String>, default: i64| -> Result<i64> {
        Ok(match text {
            Some(t) => {
                plan::parse_duration(t).map_err(|e| UsageError(format!("[delivery]: {e}")))?
            }
            None => default,
        })
    };
    let first_ms = read(&config.delivery.retry_first, default.first_ms)?.max(1_000);
    let max_ms = read(&config.delivery.retry_max, default.max_ms)?.max(first_ms);
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

fn default_data_dir() -> Result<PathBuf> {
    let base = dirs::data_dir().ok_or_else(|| {
        UsageError("no platform data directory is known here; give --data DIR".into())
    })?;
    Ok(base.join("posbon").join("watcher"))
}

fn data_dir(data: Option<PathBuf>) -> Result<PathBuf> {
    data.map_or_else(default_data_dir, Ok)
}

/// The proxies of `[proxy]`, whose client-address header the watcher believes.
fn trusted_proxies(config: &Config) -> Result<crate::watch::proxy::TrustedProxies> {
    crate::watch::proxy::TrustedProxies::new(&config.proxy.trusted, config.proxy.header.as_deref())
        .map_err(|e| UsageError(e.to_string()).into())
}

/// Parses a watcher config as `watch serve` does, without touching files or the network:
/// the TOML, the plans in it, and the durations of `[delivery]` (for the fuzzer and tests).
/// Every problem found, one a line (`posbon watch check-config FILE` also reads the secret
/// files the config names).
pub fn check_config(text: &str) -> Result<()> {
    let config: Config = toml::from_str(text).map_err(|e| UsageError(e.to_string()))?;
    let found = checks::problems(&config);
    if !found.is_empty() {
        bail!(UsageError(found.join("\n")));
    }
    Ok(())
}

/// `posbon watch serve`.
pub(super) fn serve(
    data: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    config: Option<PathBuf>,
    smtp: Option<String>,
    public_url: Option<String>,
    ops: ServeOpsArgs,
) -> Result<()> {
    let config: Config = match &config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?
        }
        None => Config::default(),
    };
    let data = match data.or(config.data.clone()) {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let public_url = public_url.or(config.public_url.clone());
    let listen = listen
        .or(config.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid address"));
    // Made before the config is taken apart; logged once the log is set up.
    let report = checks::channel_report(&config, smtp.as_deref(), public_url.as_deref(), listen);
    let channels = channel_config(&config, smtp, &data)?;
    let retry = retry_policy(&config)?;
    let default = ConnectionLimits::default();
    let connections = ConnectionLimits {
        total: config.connections.total.unwrap_or(default.total),
        per_address: config
            .connections
            .per_address
            .unwrap_or(default.per_address),
    };
    if connections.total == 0 || connections.per_address == 0 {
        bail!(UsageError(
            "[connections]: total and per_address must be at least 1".into()
        ));
    }
    let proxies = trusted_proxies(&config)?;
    let metrics = checks::metrics_address(
        ops.metrics_listen.or(config.metrics.listen),
        ops.metrics_public || config.metrics.public,
        listen,
    )
    .map_err(UsageError)?;
    let plans = config
        .plan
        .into_iter()
        .map(|p| {
            let (subject, spec) = p.spec();
            Ok((subject, spec.build()?))
        })
        .collect::<Result<Vec<_>, PlanError>>()
        .map_err(|e| UsageError(format!("a plan in the config: {e}")))?;
    let log = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO);
    match ops.log_format {
        // For journald and log shippers: one JSON object a line, no colours.
        LogFormat::Json => log.json().with_ansi(false).init(),
        LogFormat::Text => log
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    checks::log_report(&report);
    daemon::serve(ServeOptions {
        data,
        listen,
        plans,
        channels,
        public_url,
        retry,
        connections,
        proxies,
        metrics,
    })?;
    Ok(())
}

/// `posbon watch invite`.
pub(super) fn invite(name: &str, data: Option<PathBuf>) -> Result<()> {
    if name.trim().is_empty() {
        bail!(UsageError("the name must not be empty".into()));
    }
    let data = data_dir(data)?;
    // Creates the watcher's key now if this is a new data directory, so the fingerprint is
    // known before the daemon first runs. Said aloud: a mistyped --data would otherwise
    // quietly make a second watcher that nobody runs.
    let new_watcher = !data.join("watcher.key").exists();
    let key = crate::watch::store::watcher_key(&data)?;
    if new_watcher {
        eprintln!(
            "posbon: there was no watcher in {} yet: a new one was created there (if you meant \
             an existing watcher, check --data); start it with `posbon watch serve --data {}`",
            data.display(),
            data.display()
        );
    }
    let code = Invites::new(&data).create(name, vault::now())?;
    println!("{code}");
    eprintln!(
        "give this one-time code to {name}; they run: posbon enrol URL {code}\n\
         this watcher's fingerprint (they should see the same): {}",
        protocol::fingerprint(&protocol::public_key(&key))
    );
    Ok(())
}

/// The data directory of a watcher that exists: commands that only read or change one
/// must not create an empty watcher where a path was mistyped.
fn existing_data_dir(data: Option<PathBuf>) -> Result<PathBuf> {
    let data = data_dir(data)?;
    let store = data.join(crate::watch::store::DATABASE_FILE);
    // `db` is where posbon 0.1 kept the store.
    if !data.join("watcher.key").exists() && !store.exists() && !data.join("db").exists() {
        bail!(UsageError(format!(
            "there is no watcher in {} (check --data; a watcher is made by `posbon watch serve` \
             or `posbon watch invite`)",
            data.display()
        )));
    }
    Ok(data)
}

/// `posbon watch actions`.
pub(super) fn actions(data: Option<PathBuf>) -> Result<()> {
    let store = Store::open(&existing_data_dir(data)?)?;
    for action in store.queued()? {
        println!("{}", serde_json::to_string(&action)?);
    }
    Ok(())
}

/// Where the watcher keeps the Telegram chats that moved (see `channels::ChatMoves`).
const TELEGRAM_MOVES: &str = "telegram-moves.json";

/// `posbon watch outbox`: from the database when the daemon is stopped, else from the
/// report the daemon keeps in `DATA/outbox.json`.
pub(super) fn outbox(data: Option<PathBuf>, give_up: Option<&str>, json: bool) -> Result<()> {
    let data = existing_data_dir(data)?;
    let open = Store::open(&data);
    if let Some(key) = give_up {
        match &open {
            Ok(_) => {
                drop(open);
                let watcher = crate::watch::service::Watcher::open(&data)?;
                if !watcher.give_up(key, vault::now())? {
                    bail!(UsageError(format!(
                        "no pending delivery has the key {key:?}"
                    )));
                }
                eprintln!("gave up on {key}; it stays in the outbox's history");
            }
            Err(crate::watch::store::StoreError::InUse) => {
                if key.is_empty() || key.contains('/') || key.starts_with('.') {
                    bail!(UsageError(format!("{key:?} is not a delivery key")));
                }
                let still_pending =
                    |report: &OutboxReport| report.pending.iter().any(|d| d.key == key);
                let report = running_report(&data)?;
                // The report lists at most REPORT_PENDING pending deliveries; beyond that a
                // key missing from it may still be pending, and the watcher decides.
                if !still_pending(&report) && report.pending.len() < daemon::REPORT_PENDING {
                    bail!(UsageError(format!(
                        "no pending delivery has the key {key:?} (see `posbon watch outbox`)"
                    )));
                }
                let dir = data.join("give-up");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let request = dir.join(key);
                std::fs::write(&request, b"")
                    .with_context(|| format!("cannot write to {}", dir.display()))?;
                // The daemon looks at least once a second, removes the request when it has
                // acted on it, and then rewrites its report at once.
                let asked = std::time::Instant::now();
                while asked.elapsed() < std::time::Duration::from_secs(10) {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    let report = running_report(&data)?;
                    if request.exists() || still_pending(&report) {
                        continue;
                    }
                    let settled = report.settled.iter().find(|d| d.key == key);
                    match settled.map(|d| d.state.as_str()) {
                        Some("given-up") => {
                            eprintln!("gave up on {key}; it stays in the outbox's history");
                            return Ok(());
                        }
                        Some("delivered") => {
                            bail!("{key} was delivered before the watcher could give up on it")
                        }
                        // Not among the latest settled ones shown, or not yet in the report.
                        _ => continue,
                    }
                }
                bail!(
                    "asked the running watcher to give up on {key}, but the report does not \
                     show it given up within 10 s; see `posbon watch outbox`"
                );
            }
            Err(_) => {
                open?;
            }
        }
        return Ok(());
    }
    let report = match open {
        Ok(store) => OutboxReport {
            written_ms: vault::now(),
            pending: store.pending()?.iter().map(DeliverySummary::of).collect(),
            settled: store
                .delivered(daemon::REPORT_SETTLED)?
                .iter()
                .map(DeliverySummary::of)
                .collect(),
        },
        Err(crate::watch::store::StoreError::InUse) => {
            let report = running_report(&data)?;
            eprintln!(
                "(the watcher is running; as of {})",
                time_text(report.written_ms)
            );
            if let Some(warning) = crate::watch::escalation::clock_warning(&data) {
                eprintln!("{warning}");
            }
            report
        }
        Err(e) => return Err(e.into()),
    };
    let lines = report
        .pending
        .iter()
        .filter(|d| d.state == "refused")
        .chain(report.pending.iter().filter(|d| d.state == "failing"))
        .chain(report.pending.iter().filter(|d| d.state == "pending"))
        .chain(report.settled.iter());
    for d in lines {
        if json {
            println!("{}", serde_json::to_string(d)?);
            continue;
        }
        let when = match (&d.settled_ms, &d.next_attempt_ms) {
            (Some(at), _) => time_text(*at),
            (None, Some(next)) => format!("next try {}", time_text(*next)),
            _ => String::new(),
        };
        println!(
            "{:<9} {}  {} {}  attempts {}  {}{}",
            d.state,
            d.key,
            d.contact,
            d.channel,
            d.attempts,
            when,
            d.last_error
                .as_deref()
                .filter(|_| d.state != "delivered")
                .map(|e| format!("  last error: {e}"))
                .unwrap_or_default()
        );
    }
    if !json {
        // Telegram groups that became supergroups: the watcher sends to the new id, but the
        // journalist's signed list still names the old one, and only they can change it.
        let moves = crate::watch::channels::ChatMoves::load(Some(data.join(TELEGRAM_MOVES)));
        for (old, new) in moves.all() {
            eprintln!(
                "Telegram chat {old} became supergroup {new}: alerts go to {new}; the journalist's \
                 contact list still names {old} (ask them to replace it with {new})"
            );
        }
        let count = |state: &str| report.pending.iter().filter(|d| d.state == state).count();
        let (failing, refused) = (count("failing"), count("refused"));
        eprintln!(
            "{} pending ({failing} failing, {refused} refused: the contact or you must act; \
             still retried), {} settled shown",
            report.pending.len(),
            report.settled.len()
        );
    }
    Ok(())
}

/// The report a running watcher keeps in `DATA/outbox.json`.
fn running_report(data: &std::path::Path) -> Result<OutboxReport> {
    let path = data.join("outbox.json");
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "the watcher is running but {} cannot be read",
            path.display()
        )
    })?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display()))
}

/// Whether the vault is enrolled with at least one watcher.
pub(super) fn enrolled(vault: &Vault) -> Result<bool> {
    Ok(!vault
        .setting::<Vec<Link>>(WATCHERS)?
        .unwrap_or_default()
        .is_empty())
}

fn links(vault: &Vault) -> Result<Vec<Link>> {
    let mut links: Vec<Link> = vault.setting(WATCHERS)?.unwrap_or_default();
    if links.is_empty() {
        bail!(UsageError(
            "not enrolled with any watcher: run `posbon enrol URL CODE` first".into()
        ));
    }
    // A link made by posbon 0.1 holds the 64-bit fingerprint, which `alert verify` no
    // longer takes: show the whole one, derived from the key the link was checked with.
    for link in &mut links {
        if let Ok(key) = crate::protocol::unb64(&link.watcher_key) {
            link.fingerprint = crate::protocol::fingerprint(&key);
        }
    }
    Ok(links)
}

fn signing_key(vault: &Vault) -> Result<Ed25519KeyPair> {
    let keys: DeviceKeys = vault.setting(DEVICE_KEYS)?.ok_or_else(|| {
        UsageError("not enrolled with any watcher: run `posbon enrol URL CODE` first".into())
    })?;
    DeviceKeys::pair(&keys.device)
}

/// Copies the watcher links and the duress key into this view's decoy, so that opening the
/// vault with the duress passphrase and checking in sends a duress check-in. The decoy keeps
/// a `duress` key of its own (for its own decoy), made once. The same in every view.
pub(super) fn sync_decoy(vault: &Vault) -> Result<()> {
    route::sync_decoy(vault)?;
    super::zone::sync_decoy(vault)?;
    let (Some(keys), Some(links)) = (
        vault.setting::<DeviceKeys>(DEVICE_KEYS)?,
        vault.setting::<Vec<Link>>(WATCHERS)?,
    ) else {
        return Ok(());
    };
    let existing = vault.decoy_setting::<DeviceKeys>(DEVICE_KEYS)?;
    // The decoy's own duress key is kept once made; one equal to its device key (written
    // by posbon 0.1 and 0.2, and a tell) is replaced.
    let below = match &existing {
        Some(existing) if existing.duress != existing.device => existing.duress.clone(),
        _ => DeviceKeys::generate().duress.clone(),
    };
    if existing
        .as_ref()
        .is_none_or(|e| e.device != keys.duress || e.duress != below)
    {
        let decoy_keys = DeviceKeys {
            device: keys.duress.clone(),
            duress: below,
        };
        if !vault.set_decoy_setting(DEVICE_KEYS, &decoy_keys)? {
            return Ok(());
        }
    }
    // Every watcher, each time: a watcher enrolled after the duress passphrase was set must
    // hear the decoy's unlocks and check-ins too. Counters are the decoy's own.
    let decoy_links: Vec<Link> = vault.decoy_setting(WATCHERS)?.unwrap_or_default();
    let merged: Vec<Link> = links
        .iter()
        .map(|link| {
            let mut link = link.clone();
            if let Some(known) = decoy_links.iter().find(|d| d.url == link.url) {
                link.last_counter = known.last_counter;
            }
            link
        })
        .collect();
    let same = merged.len() == decoy_links.len()
        && merged
            .iter()
            .zip(&decoy_links)
            .all(|(a, b)| a.url == b.url && a.subject == b.subject);
    if !same {
        vault.set_decoy_setting(WATCHERS, &merged)?;
    }
    Ok(())
}

pub(super) fn enrol(vault: &Vault, url: &str, code: &str) -> Result<()> {
    let keys = match vault.setting::<DeviceKeys>(DEVICE_KEYS)? {
        Some(keys) => keys,
        None => {
            let keys = DeviceKeys::generate();
            vault.set_setting(DEVICE_KEYS, &keys)?;
            keys
        }
    };
    let route = route(vault)?;
    let link = client::enrol(
        &route,
        url,
        code,
        &DeviceKeys::pair(&keys.device)?,
        &DeviceKeys::pair(&keys.duress)?,
    )?;
    let mut links: Vec<Link> = vault.setting(WATCHERS)?.unwrap_or_default();
    links.retain(|l| l.url != link.url);
    links.push(link.clone());
    vault.set_setting(WATCHERS, &links)?;
    sync_decoy(vault)?;
    // The new watcher must know the plan and whom to alert from the start.
    let directory = super::contacts::directory(vault)?;
    let plan: Option<crate::plan::Plan> = vault.setting(PLAN)?;
    let mut to_send = Vec::new();
    if !directory.contacts.is_empty() || !directory.instructions.is_empty() {
        to_send.push((
            ops::CONTACTS,
            serde_json::to_string(&directory.for_watchers())?,
        ));
    }
    if let Some(plan) = &plan {
        to_send.push((ops::PLAN, serde_json::to_string(plan)?));
    }
    if !to_send.is_empty() {
        let mut link = link.clone();
        let key = DeviceKeys::pair(&keys.device)?;
        for (op, payload) in to_send {
            let (_, counter) = client::call(&route, &link, &key, op, payload, vault::now())?;
            link.last_counter = counter;
        }
        links.retain(|l| l.url != link.url);
        links.push(link);
        vault.set_setting(WATCHERS, &links)?;
    }
    let sealed: Vec<serde_json::Value> = vault.setting("releases")?.unwrap_or_default();
    if !sealed.is_empty() {
        eprintln!(
            "posbon: this watcher has none of your {} sealed bundle(s) yet: run `posbon release update ID` for each (see `posbon release list`)",
            sealed.len()
        );
    }
    println!("{}", link.fingerprint);
    eprintln!(
        "enrolled with {} as {:?}; compare the fingerprint above with the one the operator gives you",
        link.url, link.subject
    );
    Ok(())
}

/// Runs `call` against every watcher at once (over this command's route, with the device key
/// and one shared time, so that every watcher sees the same moment); keeps each new counter;
/// warns about each failure, and fails if any failed.
pub(super) fn for_each_watcher(
    vault: &Vault,
    call: impl Fn(&Route, &Link, &Ed25519KeyPair, i64) -> Result<u64, ClientError> + Sync,
) -> Result<()> {
    let key = signing_key(vault)?;
    let mut links = links(vault)?;
    let route = route(vault)?;
    let now = vault::now();
    let results: Vec<Result<u64, ClientError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = links
            .iter()
            .map(|link| {
                let (route, key, call) = (&route, &key, &call);
                scope.spawn(move || call(route, link, key, now))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a request thread does not panic"))
            .collect()
    });
    let mut first_error = None;
    let mut failed = 0;
    for (link, result) in links.iter_mut().zip(results) {
        match result {
            Ok(counter) => link.last_counter = counter,
            Err(e) => {
                eprintln!("posbon: WARNING: {e}");
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    vault.set_setting(WATCHERS, &links)?;
    if let Some(e) = first_error {
        let total = links.len();
        let summary = if failed == total {
            format!("{failed} of {total} watchers did not answer or refused")
        } else {
            format!(
                "{failed} of {total} watchers did not answer or refused; the others answered \
                 (listed above)"
            )
        };
        return Err(anyhow::Error::new(e).context(summary));
    }
    Ok(())
}

/// Sends one operation to every watcher at once; prints a line per watcher; fails if any
/// failed, or if the watchers disagree about the plan.
pub(super) fn fan_out(
    vault: &Vault,
    op: &str,
    payload: String,
    report: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<()> {
    let plans = std::sync::Mutex::new(Vec::<(String, Option<String>)>::new());
    for_each_watcher(vault, |route, link, key, now| {
        let (status, counter) = client::call(route, link, key, op, payload.clone(), now)?;
        report(link, &status);
        plans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((link.url.clone(), status.plan.clone()));
        Ok(counter)
    })?;
    let plans = plans.into_inner().unwrap_or_else(|p| p.into_inner());
    if plans.windows(2).any(|pair| pair[0].1 != pair[1].1) {
        for (url, plan) in &plans {
            eprintln!(
                "posbon: WARNING: {url} has the plan: {}",
                plan.as_deref().unwrap_or("none")
            );
        }
        bail!(WatchersDisagree);
    }
    Ok(())
}

/// The watchers hold different plans (exit 9): one missed a change, or was tampered with.
#[derive(Debug, thiserror::Error)]
#[error(
    "every watcher answered, but they disagree about your plan (listed above): set it again with `posbon plan set`, and ask the operator of the odd one out"
)]
pub struct WatchersDisagree;

fn deadline_text(status: &StatusResponse) -> String {
    match (status.deadline_ms, status.paused_until_ms) {
        (_, Some(until)) => format!("paused until {}", time_text(until)),
        (Some(deadline), None) => format!("next deadline {}", time_text(deadline)),
        (None, None) => "no plan set yet".into(),
    }
}

/// Checks in with every watcher, and says loudly if one of them would release without a
/// bundle as sealed (the check-in itself stands; exit 12), so a watcher that lost a bundle
/// is noticed long before it matters.
/// Says what the plan and contacts leave uncovered (a step that alerts nobody, reminders to
/// nobody...), so the switch never fails silently. Never fails the command itself.
pub(super) fn warn_of_gaps(vault: &Vault) {
    let found = (|| -> Result<Vec<crate::switch::gaps::Gap>> {
        let plan: Option<crate::plan::Plan> = vault.setting(PLAN)?;
        let directory = super::contacts::directory(vault)?;
        let sealed = super::release::SealedBundles::load(vault)?;
        Ok(crate::switch::gaps::gaps(
            plan.as_ref(),
            &directory,
            &sealed.sealed_for(),
        ))
    })();
    match found {
        Ok(found) => {
            for gap in found {
                eprintln!("posbon: WARNING: {gap}");
            }
        }
        Err(e) => eprintln!("posbon: WARNING: cannot compare the plan with the contacts: {e:#}"),
    }
}

pub(super) fn checkin(vault: &Vault) -> Result<()> {
    warn_of_gaps(vault);
    // Nothing may stop the check-in itself, not even an unreadable list of bundles.
    let sealed = super::release::SealedBundles::load(vault).unwrap_or_else(|e| {
        eprintln!("posbon: WARNING: cannot compare the watchers' bundles: {e:#}");
        super::release::SealedBundles::none()
    });
    let gaps = std::sync::atomic::AtomicUsize::new(0);
    fan_out(vault, ops::CHECKIN, "{}".into(), |link, status| {
        println!("{}: checked in; {}", link.url, deadline_text(status));
        for gap in sealed.gaps(status) {
            gaps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            eprintln!("posbon: WARNING: {} {gap}", link.url);
        }
    })?;
    if gaps.into_inner() > 0 {
        bail!(super::release::BundlesDiffer);
    }
    Ok(())
}

/// The bundles a watcher has released, and until when its recipients can download them
/// (they cannot be withdrawn or replaced until then).
pub(super) fn released_lines(status: &StatusResponse) -> Vec<String> {
    status
        .bundles
        .iter()
        .filter_map(|b| {
            b.released_until_ms.map(|until| {
                format!(
                    "bundle {} (version {}) was released: its recipients can download it until {}",
                    b.id,
                    b.version,
                    time_text(until)
                )
            })
        })
        .collect()
}

pub(super) fn status(vault: &Vault) -> Result<()> {
    warn_of_gaps(vault);
    fan_out(vault, ops::STATUS, "{}".into(), |link, status| {
        println!("{} (fingerprint {})", link.url, link.fingerprint);
        println!("  plan: {}", status.plan.as_deref().unwrap_or("none"));
        println!(
            "  last check-in: {}",
            status
                .last_checkin_ms
                .map(time_text)
                .unwrap_or_else(|| "never".into())
        );
        println!("  {}", deadline_text(status));
        for (label, due, fired) in &status.fired {
            println!(
                "  fired: {label} (due {}, fired {})",
                time_text(*due),
                time_text(*fired)
            );
        }
        for line in released_lines(status) {
            println!("  {line}");
        }
        // Only answers to the real key carry these: the journalist learns afterwards what
        // a coercer did and was shown.
        if let Some(seen) = status.duress_seen_ms {
            println!("  duress key or PIN last used: {}", time_text(seen));
        }
        if let Some(pretend) = &status.pretend {
            println!(
                "  shown under duress (the decoy, the phone, your reminders): plan {}; {}",
                pretend.plan.as_deref().unwrap_or("none"),
                match (pretend.deadline_ms, pretend.paused_until_ms) {
                    (_, Some(until)) => format!("paused until {}", time_text(until)),
                    (Some(deadline), None) => format!("next deadline {}", time_text(deadline)),
                    (None, None) => "no deadline".into(),
                }
            );
        }
    })
}

pub(super) fn plan(vault: &Vault, command: PlanCommand) -> Result<()> {
    let PlanCommand::Set {
        every,
        windows,
        tz,
        grace,
        remind_before,
        steps,
        release_on_duress,
    } = command;
    if let Some(tz) = &tz {
        super::zone::check(tz)?;
    }
    let interval_with_zone = every.is_some() && tz.is_some();
    let plan = PlanSpec {
        every,
        window: windows,
        tz: tz.clone(),
        grace,
        remind_before,
        steps,
        release_on_duress,
    }
    .build()?;
    let description = plan.describe();
    // Kept in the vault, so that a watcher enrolled later gets the same plan.
    vault.set_setting(PLAN, &plan)?;
    if let Some(tz) = &tz {
        vault.set_setting(super::zone::SETTING, tz)?;
        super::zone::sync_decoy(vault)?;
        super::zone::use_vault_zone(vault);
        if interval_with_zone {
            eprintln!(
                "times are shown in {tz}; the interval counts from each check-in, not from a \
                 time of day (for set times of day, give --window)"
            );
        }
    }
    warn_of_gaps(vault);
    fan_out(
        vault,
        ops::PLAN,
        serde_json::to_string(&plan)?,
        |link, status| {
            println!("{}: plan set; {}", link.url, deadline_text(status));
        },
    )?;
    eprintln!("plan: {description}");
    Ok(())
}

pub(super) fn pause(vault: &Vault, until: Option<String>, for_: Option<String>) -> Result<()> {
    let until_ms = match (until, for_) {
        (Some(until), _) => super::zone::parse(&until)?.as_millisecond(),
        (None, Some(duration)) => vault::now() + plan::parse_duration(&duration)?,
        (None, None) => bail!(UsageError("give --until TIME or --for DURATION".into())),
    };
    let payload = serde_json::to_string(&PausePayload { until_ms })?;
    fan_out(vault, ops::PAUSE, payload, |link, status| {
        println!("{}: {}", link.url, deadline_text(status));
    })
}

pub(super) fn resume(vault: &Vault) -> Result<()> {
    fan_out(vault, ops::RESUME, "{}".into(), |link, status| {
        println!("{}: resumed; {}", link.url, deadline_text(status));
    })
}

/// `posbon duress over`: ends the pretend world a coercion set up on every watcher. Under the
/// duress passphrase the watchers answer the same and end nothing (and raise the alarm).
pub(super) fn end_pretend(vault: &Vault) -> Result<()> {
    fan_out(vault, ops::END_PRETEND, "{}".into(), |link, status| {
        println!(
            "{}: the watcher follows your real plan again; {}",
            link.url,
            deadline_text(status)
        );
    })
}

fn phone_lines(link: &Link, status: &StatusResponse) -> String {
    let mut out = format!("{}:", link.url);
    let phones = status.phones.as_deref().unwrap_or_default();
    if phones.is_empty() {
        out.push_str(" no phone enrolled");
    }
    for phone in phones {
        let last = phone
            .last_checkin_ms
            .map(time_text)
            .unwrap_or_else(|| "never".into());
        out.push_str(&format!(
            "\n  {}  set up {}  last check-in {}",
            phone.id,
            time_text(phone.enrolled_ms),
            last
        ));
        if !phone.signs {
            out.push_str(
                "  OLD: sends a fixed secret; enrol it again with `posbon watch enrol-phone`, then remove this one",
            );
        }
        if phone.duress_only {
            out.push_str(
                "  DURESS: set up or removed under duress; every use raises the silent alarm",
            );
        }
    }
    out
}

pub(super) fn phone_list(vault: &Vault) -> Result<()> {
    fan_out(vault, ops::PHONE_LIST, "{}".into(), |link, status| {
        println!("{}", phone_lines(link, status));
    })
}

/// Revokes a phone on every watcher that has it (a phone is enrolled with one watcher; the
/// others answer that they do not know it, which is no failure unless none knows it).
pub(super) fn phone_remove(vault: &Vault, id: &str) -> Result<()> {
    let payload = serde_json::to_string(&protocol::PhoneRemove { id: id.to_string() })?;
    let removed = std::sync::atomic::AtomicUsize::new(0);
    for_each_watcher(vault, |route, link, key, now| {
        match client::call(route, link, key, ops::PHONE_REMOVE, payload.clone(), now) {
            Ok((status, counter)) => {
                removed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                println!("{}: removed {id}; left:", link.url);
                println!("{}", phone_lines(link, &status));
                Ok(counter)
            }
            Err(ClientError::Refused { code, .. }) if code == "unknown_phone" => {
                // The counter was not used up by a refusal: the next request reuses it.
                Ok(link.last_counter)
            }
            Err(e) => Err(e),
        }
    })?;
    if removed.into_inner() == 0 {
        bail!(UsageError(format!(
            "no watcher has a phone {id:?} (see `posbon phone list`)"
        )));
    }
    Ok(())
}

pub(super) fn enrol_phone(vault: &Vault, only: Option<&str>) -> Result<()> {
    let key = signing_key(vault)?;
    let mut links = links(vault)?;
    let route = route(vault)?;
    let mut found = false;
    for link in links.iter_mut() {
        if only.is_some_and(|url| url.trim_end_matches('/') != link.url) {
            continue;
        }
        found = true;
        let (status, counter) = client::call(
            &route,
            link,
            &key,
            ops::PHONE_INVITE,
            "{}".into(),
            vault::now(),
        )?;
        link.last_counter = counter;
        let token = status
            .phone_token
            .ok_or_else(|| anyhow::anyhow!("{} did not answer with a phone link", link.url))?;
        let url = format!("{}/p#enrol={token}", link.url);
        println!("{url}");
        if let Ok(code) = qrcode::QrCode::new(url.as_bytes()) {
            let picture = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build();
            eprintln!("{picture}");
        }
        eprintln!(
            "open the link above on the phone (or scan the code) within 15 minutes; it works once.\n\
             the phone then needs a PIN, and a different duress PIN for use under coercion."
        );
    }
    vault.set_setting(WATCHERS, &links)?;
    if !found {
        bail!(UsageError(format!(
            "not enrolled with {}",
            only.unwrap_or("any watcher")
        )));
    }
    Ok(())
}

/// Sent at every unlock, under every passphrase: one signed notice to each watcher, the
/// same request whichever passphrase opened the vault (the watcher alone can tell the duress
/// key and raises the silent alarm). The notices are handed to a detached copy of posbon
/// (`NOTICE_SENDER`), so no command waits on a watcher that is slow or does not answer, and
/// nothing is printed either way. They take this command's route; when it cannot be known
/// (a damaged proxy setting), none is sent rather than one sent straight.
pub(super) fn send_unlock_notices(vault: &Vault) {
    // Each view keeps its decoy in step first (a watcher enrolled since, older keys), the
    // same work under every passphrase.
    let _ = sync_decoy(vault);
    let Ok(route) = route(vault) else {
        return;
    };
    let (Ok(Some(keys)), Ok(Some(mut links))) = (
        vault.setting::<DeviceKeys>(DEVICE_KEYS),
        vault.setting::<Vec<Link>>(WATCHERS),
    ) else {
        return;
    };
    let Ok(key) = DeviceKeys::pair(&keys.device) else {
        return;
    };
    let now = vault::now();
    let mut notices = Vec::new();
    for link in &mut links {
        let (body, counter) = client::unlock_notice(link, &key, now);
        notices.push(Notice {
            url: link.url.clone(),
            body: protocol::b64(&body),
        });
        // Kept, so that a later request never reuses a counter the watcher has seen (after
        // the laptop's clock was set back, say).
        link.last_counter = counter;
    }
    let _ = vault.set_setting(WATCHERS, &links);
    let batch = Notices {
        proxy: route.proxy_url().map(str::to_string),
        notices,
    };
    let spawned = spawn_notice_sender().and_then(|mut child| {
        use std::io::Write;
        let mut stdin = child.stdin.take()?;
        stdin
            .write_all(&serde_json::to_vec(&batch).unwrap_or_default())
            .ok()?;
        // Not waited for: the sender outlives this command and is reaped by init.
        std::mem::forget(child);
        Some(())
    });
    if spawned.is_none() {
        // No copy of posbon could be started (its file replaced or gone): send from here,
        // briefly, rather than not at all.
        std::thread::scope(|scope| {
            for notice in &batch.notices {
                let route = &route;
                scope.spawn(move || {
                    if let Ok(body) = protocol::unb64(&notice.body) {
                        let _ = client::deliver_notice_within(
                            route,
                            &notice.url,
                            body,
                            std::time::Duration::from_secs(2),
                        );
                    }
                });
            }
        });
    }
}

/// Starts the background sender: this very program (`/proc/self/exe`, which still names it
/// if its file was replaced), in a process group of its own so that the Ctrl-C or the
/// `timeout` that ends the command does not end the sender too.
fn spawn_notice_sender() -> Option<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let start = |exe: &std::path::Path| {
        std::process::Command::new(exe)
            .arg(NOTICE_SENDER)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .ok()
    };
    start(std::path::Path::new("/proc/self/exe"))
        .or_else(|| std::env::current_exe().ok().and_then(|exe| start(&exe)))
}

/// The hidden first argument that makes posbon the background sender of unlock notices.
pub(crate) const NOTICE_SENDER: &str = "__send-unlock-notices";

/// What the background sender reads on stdin: the notices, and the proxy they must go
/// through (none: straight).
#[derive(Serialize, Deserialize)]
struct Notices {
    proxy: Option<String>,
    notices: Vec<Notice>,
}

#[derive(Serialize, Deserialize)]
struct Notice {
    url: String,
    /// The signed request, base64.
    body: String,
}

/// The background sender: reads the notices from stdin and posts each, in parallel, once;
/// failures are silent (the watcher still sees the next check-in of a decoy as duress).
pub(crate) fn deliver_unlock_notices() {
    use std::io::Read;
    let mut input = Vec::new();
    if std::io::stdin()
        .take(1 << 20)
        .read_to_end(&mut input)
        .is_err()
    {
        return;
    }
    let Ok(batch) = serde_json::from_slice::<Notices>(&input) else {
        return;
    };
    // A proxy that does not read as one sends nothing, rather than anything straight.
    let Ok(route) = Route::from_proxy(batch.proxy.as_deref()) else {
        return;
    };
    std::thread::scope(|scope| {
        for notice in batch.notices {
            let route = &route;
            scope.spawn(move || {
                if let Ok(body) = protocol::unb64(&notice.body) {
                    let _ = client::deliver_notice(route, &notice.url, body);
                }
            });
        }
    });
}
