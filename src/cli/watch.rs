//! The watcher operator's commands: `watch serve` (with its config file), `watch invite`,
//! `watch journalists`, `watch remove`, `watch actions`, `watch outbox`, `watch check-config`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tracing::{info, warn};

use crate::protocol;
use crate::vault;
use crate::watch::config::{self, Config, ConfigError, DEFAULT_LISTEN, Notice, TELEGRAM_MOVES};
use crate::watch::daemon::{self, DeliverySummary, OutboxReport, ServeOptions};
use crate::watch::service::{Journalist, PlanState, Watcher};
use crate::watch::store::{Invites, LeaveBlock, Removal, RemovalRequests, Store, StoreError};

use super::zone::text as time_text;
use super::{LogFormat, ServeOpsArgs, UsageError, words};

/// A config error as the command line says it: the operator's mistakes are usage errors
/// (exit 2), an unreadable file is not.
fn explain(error: ConfigError) -> anyhow::Error {
    if error.is_mistake() {
        UsageError(super::said::config(&error)).into()
    } else {
        error.into()
    }
}

/// Reads the config file at `path`; its mistakes name the file.
fn read_config(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| words::cannot_read(path))?;
    config::parse(&text)
        .map_err(|e| UsageError(format!("{}: {}", path.display(), super::said::config(&e))).into())
}

fn data_dir(data: Option<PathBuf>) -> Result<PathBuf> {
    data.map_or_else(|| config::default_data_dir().map_err(explain), Ok)
}

/// `posbon watch check-config FILE`: every problem at once (exit 2), or the channel report.
pub(super) fn check_config_file(path: &Path) -> Result<()> {
    let config = read_config(path)?;
    let mut found = config::problems(&config);
    found.extend(config::unreadable_secrets(&config));
    if !found.is_empty() {
        let list: Vec<String> = found
            .iter()
            .map(|p| format!("  - {}", config::words::said(words::lang(), p)))
            .collect();
        let problems = words::count(
            "watch-config-problems",
            "count",
            found.len() as i64,
            &[("path", &path.display().to_string())],
        );
        bail!(UsageError(format!("{problems}:\n{}", list.join("\n"))));
    }
    let listen = config
        .listen
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid address"));
    for notice in config::channel_report(&config, None, config.public_url.as_deref(), listen) {
        let mark = if notice.warning {
            format!("{}: ", words::t("watch-warning"))
        } else {
            String::new()
        };
        println!("{mark}{}", notice.text);
    }
    println!("{}: ok", path.display());
    Ok(())
}

/// Logs the report at start.
fn log_report(notices: &[Notice]) {
    for notice in notices {
        if notice.warning {
            warn!("{}", notice.text);
        } else {
            info!("{}", notice.text);
        }
    }
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
    let config = match &config {
        Some(path) => read_config(path)?,
        None => Config::default(),
    };
    let data = match data.or(config.data.clone()) {
        Some(dir) => dir,
        None => config::default_data_dir().map_err(explain)?,
    };
    let public_url = public_url.or(config.public_url.clone());
    let listen = listen
        .or(config.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid address"));
    // Made before the config is taken apart; logged once the log is set up.
    let report = config::channel_report(&config, smtp.as_deref(), public_url.as_deref(), listen);
    let channels = config::channel_config(&config, smtp, &data).map_err(explain)?;
    let retry = config::retry_policy(&config).map_err(explain)?;
    let connections = config.connections().map_err(explain)?;
    let proxies = config::trusted_proxies(&config).map_err(explain)?;
    let metrics = config
        .metrics(ops.metrics_listen, ops.metrics_public, listen)
        .map_err(explain)?;
    let plans = config.plans().map_err(explain)?;
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
    log_report(&report);
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
        bail!(UsageError(words::t("watch-name-empty")));
    }
    let data = data_dir(data)?;
    // Creates the watcher's key now if this is a new data directory, so the fingerprint is
    // known before the daemon first runs. Said aloud: a mistyped --data would otherwise
    // quietly make a second watcher that nobody runs.
    let new_watcher = !data.join("watcher.key").exists();
    let key = crate::watch::store::watcher_key(&data)?;
    if new_watcher {
        eprintln!(
            "posbon: {}",
            words::with("watch-new-watcher", &[("dir", &data.display().to_string())])
        );
    }
    let code = Invites::new(&data).create(name, vault::now())?;
    println!("{code}");
    let fingerprint = protocol::fingerprint(&protocol::public_key(&key));
    eprintln!(
        "{}",
        words::with(
            "watch-invite-given",
            &[
                ("name", name),
                ("code", &code.to_string()),
                ("fingerprint", &fingerprint)
            ]
        )
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
        bail!(UsageError(words::with(
            "watch-no-watcher",
            &[("dir", &data.display().to_string())]
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
                    bail!(UsageError(words::with(
                        "watch-no-pending",
                        &[("key", &format!("{key:?}"))]
                    )));
                }
                eprintln!("{}", words::with("watch-gave-up", &[("key", key)]));
            }
            Err(crate::watch::store::StoreError::InUse) => {
                if key.is_empty() || key.contains('/') || key.starts_with('.') {
                    bail!(UsageError(words::with(
                        "watch-not-a-key",
                        &[("key", &format!("{key:?}"))]
                    )));
                }
                let still_pending =
                    |report: &OutboxReport| report.pending.iter().any(|d| d.key == key);
                let report = running_report(&data)?;
                // The report lists at most REPORT_PENDING pending deliveries; beyond that a
                // key missing from it may still be pending, and the watcher decides.
                if !still_pending(&report) && report.pending.len() < daemon::REPORT_PENDING {
                    bail!(UsageError(words::with(
                        "watch-no-pending-see",
                        &[("key", &format!("{key:?}"))]
                    )));
                }
                let dir = data.join("give-up");
                std::fs::create_dir_all(&dir).with_context(|| {
                    words::with("cannot-create", &[("path", &dir.display().to_string())])
                })?;
                let request = dir.join(key);
                std::fs::write(&request, b"").with_context(|| {
                    words::with(
                        "watch-cannot-write-to",
                        &[("path", &dir.display().to_string())],
                    )
                })?;
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
                            eprintln!("{}", words::with("watch-gave-up", &[("key", key)]));
                            return Ok(());
                        }
                        Some("delivered") => {
                            bail!(words::with("watch-delivered-first", &[("key", key)]))
                        }
                        // Not among the latest settled ones shown, or not yet in the report.
                        _ => continue,
                    }
                }
                bail!(words::with("watch-give-up-timeout", &[("key", key)]));
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
                "{}",
                words::with(
                    "watch-running-as-of",
                    &[("time", &time_text(report.written_ms))]
                )
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
            (None, Some(next)) => words::with("outbox-next-try", &[("time", &time_text(*next))]),
            _ => String::new(),
        };
        let state = words::with("outbox-state", &[("state", &d.state)]);
        let attempts = words::with("outbox-attempts", &[("count", &d.attempts.to_string())]);
        let last_error = d
            .last_error
            .as_deref()
            .filter(|_| d.state != "delivered")
            .map(|e| format!("  {}", words::with("outbox-last-error", &[("error", e)])))
            .unwrap_or_default();
        println!(
            "{state:<9} {}  {} {}  {attempts}  {when}{last_error}",
            d.key, d.contact, d.channel
        );
    }
    if !json {
        // Telegram groups that became supergroups: the watcher sends to the new id, but the
        // journalist's signed list still names the old one, and only they can change it.
        let moves = crate::watch::channels::ChatMoves::load(Some(data.join(TELEGRAM_MOVES)));
        for (old, new) in moves.all() {
            eprintln!(
                "{}",
                words::with(
                    "watch-telegram-moved",
                    &[("old", &old.to_string()), ("new", &new.to_string())]
                )
            );
        }
        let count = |state: &str| report.pending.iter().filter(|d| d.state == state).count();
        let (failing, refused) = (count("failing"), count("refused"));
        eprintln!(
            "{}",
            words::counts(
                "watch-outbox-summary",
                &[
                    ("pending", report.pending.len() as i64),
                    ("failing", failing as i64),
                    ("refused", refused as i64),
                    ("settled", report.settled.len() as i64),
                ],
                &[]
            )
        );
    }
    Ok(())
}

/// The report a running watcher keeps in `DATA/outbox.json`.
fn running_report(data: &std::path::Path) -> Result<OutboxReport> {
    let path = data.join("outbox.json");
    let shown = path.display().to_string();
    let bytes = std::fs::read(&path)
        .with_context(|| words::with("watch-report-unreadable", &[("path", &shown)]))?;
    serde_json::from_slice(&bytes)
        .with_context(|| words::with("watch-report-damaged", &[("path", &shown)]))
}

/// A journalist's plan state in the operator's list.
fn plan_text(plan: &PlanState) -> String {
    match plan {
        PlanState::NoPlan => words::t("watch-plan-none"),
        PlanState::Paused { until_ms } => {
            words::with("watch-plan-paused", &[("time", &time_text(*until_ms))])
        }
        PlanState::Alerting { steps } => {
            words::with("watch-plan-alerting", &[("steps", &steps.join(", "))])
        }
        PlanState::Due { deadline_ms } => {
            words::with("watch-plan-due", &[("time", &time_text(*deadline_ms))])
        }
        PlanState::Unknown => words::t("watch-plan-unknown"),
    }
}

/// "2 phones, 1 sealed bundle" and the like, in the reader's words.
fn holdings(id: &str, j: &Journalist) -> String {
    words::counts(
        id,
        &[
            ("phones", j.phones as i64),
            ("bundles", j.bundles as i64),
            ("contacts", j.contacts as i64),
        ],
        &[],
    )
}

/// `posbon watch journalists`: read beside a running daemon (a read-only connection).
pub(super) fn journalists(data: Option<PathBuf>) -> Result<()> {
    let data = existing_data_dir(data)?;
    let list = crate::watch::service::journalists(&data, vault::now())?;
    if list.is_empty() {
        eprintln!("{}", words::t("watch-no-journalists"));
        return Ok(());
    }
    for j in &list {
        println!("{}  (id {})", j.name, j.id);
        let checkin = j
            .last_checkin_ms
            .map(time_text)
            .unwrap_or_else(|| words::t("status-never"));
        println!(
            "  {}",
            words::with(
                "watch-journalist-enrolled",
                &[
                    ("enrolled", &time_text(j.enrolled_ms)),
                    ("checkin", &checkin)
                ]
            )
        );
        println!("  {}", plan_text(&j.plan));
        println!("  {}", holdings("watch-journalist-holds", j));
    }
    eprintln!(
        "{}",
        words::count("watch-journalists", "count", list.len() as i64, &[])
    );
    Ok(())
}

/// The one journalist `name` (and `id`, if given) names, or why not.
fn chosen(list: Vec<Journalist>, name: &str, id: Option<&str>) -> Result<Journalist> {
    let wanted = name.trim().to_lowercase();
    let named: Vec<Journalist> = list
        .into_iter()
        .filter(|j| j.name.trim().to_lowercase() == wanted)
        .collect();
    if named.is_empty() {
        bail!(UsageError(words::with(
            "watch-no-journalist-called",
            &[("name", &format!("{name:?}"))]
        )));
    }
    let ids = |list: &[Journalist]| -> String {
        list.iter()
            .map(|j| {
                let line = words::with(
                    "watch-id-enrolled",
                    &[("id", &j.id), ("time", &time_text(j.enrolled_ms))],
                );
                format!("  {line}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let Some(id) = id else {
        if named.len() > 1 {
            let several = words::count(
                "watch-several-called",
                "count",
                named.len() as i64,
                &[("name", &format!("{name:?}"))],
            );
            bail!(UsageError(format!("{several}:\n{}", ids(&named))));
        }
        return Ok(named.into_iter().next().expect("one"));
    };
    let id = id.trim().to_lowercase();
    let mut matching: Vec<Journalist> = named
        .iter()
        .filter(|j| id.len() >= 8 && j.id.starts_with(&id))
        .cloned()
        .collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => {
            let none = words::with(
                "watch-no-such-id",
                &[("name", &format!("{name:?}")), ("id", &format!("{id:?}"))],
            );
            bail!(UsageError(format!("{none}:\n{}", ids(&named))))
        }
        _ => bail!(UsageError(words::with(
            "watch-ids-ambiguous",
            &[("id", &format!("{id:?}"))]
        ))),
    }
}

/// Asks the operator to type the name back; refuses without a terminal.
fn confirm_removal(j: &Journalist) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        bail!(UsageError(words::t("watch-remove-needs-terminal")));
    }
    let question = words::counts(
        "watch-remove-confirm",
        &[("phones", j.phones as i64), ("bundles", j.bundles as i64)],
        &[
            ("name", &j.name),
            ("id", &j.id),
            ("time", &time_text(j.enrolled_ms)),
        ],
    );
    eprint!("{question}: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim().to_lowercase() != j.name.trim().to_lowercase() {
        bail!(words::t("watch-remove-not-confirmed"));
    }
    Ok(())
}

/// How long `watch remove` waits for a running daemon to carry the removal out (it looks
/// at least once a second).
const REMOVAL_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// `posbon watch remove NAME`: with the daemon stopped, here; while it runs, by a request
/// file it carries out and answers (only the daemon writes the store while it runs).
pub(super) fn remove(
    name: &str,
    id: Option<&str>,
    yes: bool,
    force: bool,
    data: Option<PathBuf>,
) -> Result<()> {
    let data = existing_data_dir(data)?;
    let journalist = chosen(
        crate::watch::service::journalists(&data, vault::now())?,
        name,
        id,
    )?;
    if !yes {
        confirm_removal(&journalist)?;
    }
    let removal = match Watcher::open(&data) {
        Ok(watcher) => watcher.remove_subject(&journalist.id, force, vault::now())?,
        Err(StoreError::InUse) => {
            let requests = RemovalRequests::new(&data);
            requests.ask(&journalist.id, force)?;
            let asked = std::time::Instant::now();
            loop {
                if let Some(answer) = requests.take_answer(&journalist.id) {
                    break answer;
                }
                if asked.elapsed() > REMOVAL_WAIT {
                    requests.withdraw(&journalist.id);
                    bail!(words::with(
                        "watch-remove-timeout",
                        &[("seconds", &REMOVAL_WAIT.as_secs().to_string())]
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
        Err(e) => return Err(e.into()),
    };
    let who = format!("{} (id {})", journalist.name, journalist.id);
    match removal {
        Removal::Removed { .. } => {
            eprintln!("{}", words::with("watch-removed", &[("who", &who)]));
            Ok(())
        }
        Removal::Unknown => bail!(words::with("watch-removed-already", &[("who", &who)])),
        Removal::Refused {
            block: LeaveBlock::AlertsUnderWay { steps },
        } => bail!(words::with(
            "watch-remove-alerts-under-way",
            &[("who", &who), ("steps", &steps.join(", "))]
        )),
        Removal::Refused {
            block: LeaveBlock::BundleReleased { id, until_ms },
        } => bail!(words::with(
            "watch-remove-bundle-released",
            &[("who", &who), ("id", &id), ("time", &time_text(until_ms))]
        )),
    }
}
