//! The operator's checks of a watcher config: everything `posbon watch check-config FILE`
//! finds wrong (all of it at once, not the first problem only), the report of alert channels
//! logged at every start, and where metrics may listen.
//!
//! The checks and the report are plain functions over the parsed config; only
//! [`unreadable_secrets`] reads files (the secret files the config names).

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

use super::{Config, ConfigError, ConfigProblem, DEFAULT_LISTEN, DEFAULT_SMTP_FROM};
use crate::plan;

/// `[metrics]`: Prometheus metrics on an address of their own (`--metrics-listen` wins).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConfigMetrics {
    /// Where `/metrics` is served [default: not at all].
    pub listen: Option<SocketAddr>,
    /// Allow an address other than loopback (`--metrics-public`) [default: false].
    #[serde(default)]
    pub public: bool,
}

/// Where metrics are served: `wanted` if it is loopback (or `public` allows another) and is
/// not the public listen address. Metrics say how busy the watcher is and whether its
/// channels work; that is for the operator, not for whoever can reach the check-in port.
/// `in_file`: the address is `[metrics] listen` (the checker's case), not perhaps the flag's.
pub fn metrics_address(
    wanted: Option<SocketAddr>,
    public: bool,
    listen: SocketAddr,
    in_file: bool,
) -> Result<Option<SocketAddr>, ConfigProblem> {
    let Some(addr) = wanted else {
        return Ok(None);
    };
    let overlaps = addr.port() == listen.port()
        && addr.port() != 0
        && (addr.ip() == listen.ip() || addr.ip().is_unspecified() || listen.ip().is_unspecified());
    if overlaps {
        return Err(ConfigProblem::MetricsOnListen { listen, in_file });
    }
    if !addr.ip().is_loopback() && !public {
        return Err(ConfigProblem::MetricsReadable { addr, in_file });
    }
    Ok(Some(addr))
}

/// Everything wrong with a config that can be told without reading another file or the
/// network, in the order of the file's sections; each names the section it is in.
pub fn problems(config: &Config) -> Vec<ConfigProblem> {
    let mut found = Vec::new();
    if let Err(problem) = super::retry_policy_of(config) {
        found.push(problem);
    }
    if let Some(Err(error)) = config.delivery.timeout.as_deref().map(plan::parse_duration) {
        found.push(ConfigProblem::DeliveryDuration {
            key: Some("timeout"),
            error,
        });
    }
    if let Err(problem) = super::trusted_proxies_of(config) {
        found.push(problem);
    }
    if let Some(smtp) = &config.smtp
        && let Err(e) =
            crate::watch::channels::check_smtp_url(&smtp.url, smtp.password_file.is_some())
    {
        found.push(ConfigProblem::Smtp {
            detail: e.to_string(),
        });
    }
    if config.connections.total == Some(0) || config.connections.per_address == Some(0) {
        found.push(ConfigProblem::NoConnections);
    }
    for (index, plan) in config.plan.iter().enumerate() {
        // By its place, not by the subject's name, as the daemon's log says it.
        if let Err(error) = plan.spec_ref().build() {
            found.push(ConfigProblem::Plan {
                number: Some(index + 1),
                error,
            });
        }
    }
    let listen = config
        .listen
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid address"));
    if let Err(problem) =
        metrics_address(config.metrics.listen, config.metrics.public, listen, true)
    {
        found.push(problem);
    }
    if let Some(url) = &config.public_url {
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => found.push(ConfigProblem::PublicUrl { url: url.clone() }),
        }
    }
    found
}

/// The secret files the config names that cannot be read, or are empty.
pub fn unreadable_secrets(config: &Config) -> Vec<ConfigProblem> {
    let mut files: Vec<(&'static str, &Path)> = Vec::new();
    if let Some(path) = config
        .smtp
        .as_ref()
        .and_then(|s| s.password_file.as_deref())
    {
        files.push(("[smtp] password_file", path));
    }
    for (what, section) in [
        ("[telegram]", &config.telegram),
        ("[matrix]", &config.matrix),
    ] {
        if let Some(s) = section {
            files.push((what, &s.token_file));
        }
    }
    if let Some(n) = &config.ntfy {
        files.push(("[ntfy]", &n.token_file));
    }
    if let Some(w) = &config.webhook {
        files.push(("[webhook]", &w.key_file));
    }
    files
        .into_iter()
        .filter_map(|(file, path)| match super::secret_file(path) {
            Ok(_) => None,
            Err(ConfigError::EmptySecret(path)) => Some(ConfigProblem::SecretEmpty { file, path }),
            Err(ConfigError::ReadSecret { path, source }) => {
                Some(ConfigProblem::SecretUnreadable {
                    file,
                    path,
                    reason: with_causes(&source),
                })
            }
            Err(other) => Some(ConfigProblem::SecretUnreadable {
                file,
                path: path.to_path_buf(),
                reason: with_causes(&other),
            }),
        })
        .collect()
}

/// An error and its causes on one line.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(&format!(": {e}"));
        cause = e.source();
    }
    text
}

/// A line of the start-up report.
#[derive(Debug, PartialEq, Eq)]
pub struct Notice {
    pub warning: bool,
    pub text: String,
}

impl Notice {
    fn info(text: String) -> Self {
        Notice {
            warning: false,
            text,
        }
    }

    fn warn(text: String) -> Self {
        Notice {
            warning: true,
            text,
        }
    }
}

/// `scheme://host:port` of a URL: no user, password, path or query (a Telegram URL holds
/// the bot's token in its path; these lines go to the log).
fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}", u.scheme()),
            (Some(host), None) => format!("{}://{host}", u.scheme()),
            _ => u.scheme().to_string(),
        },
        Err(_) => "(not a URL)".into(),
    }
}

/// Which alert channels are set up and which are not, and what in the setup will go wrong
/// (links contacts cannot open, a sender address mail servers refuse). `smtp_flag` is
/// `--smtp`, which wins over `[smtp] url`.
pub fn channel_report(
    config: &Config,
    smtp_flag: Option<&str>,
    public_url: Option<&str>,
    listen: SocketAddr,
) -> Vec<Notice> {
    let mut notices = Vec::new();
    let not_configured = |name: &str, section: &str| {
        Notice::info(format!(
            "alert channel {name}: not configured ({section}); deliveries to contacts who \
             chose it stay in the outbox, failing, until it is"
        ))
    };
    let smtp_url = smtp_flag.or(config.smtp.as_ref().map(|s| s.url.as_str()));
    let from = config
        .smtp
        .as_ref()
        .and_then(|s| s.from.as_deref())
        .unwrap_or(DEFAULT_SMTP_FROM);
    match smtp_url {
        Some(url) => notices.push(Notice::info(format!(
            "alert channel e-mail: configured (relay {}, from {from})",
            origin(url)
        ))),
        None => notices.push(not_configured("e-mail", "--smtp or [smtp]")),
    }
    match &config.telegram {
        Some(t) => notices.push(Notice::info(format!(
            "alert channel telegram: configured ({})",
            origin(t.url.as_deref().unwrap_or("https://api.telegram.org"))
        ))),
        None => notices.push(not_configured("telegram", "[telegram]")),
    }
    match &config.signal {
        Some(s) => notices.push(Notice::info(format!(
            "alert channel signal: configured (gateway {})",
            origin(&s.gateway)
        ))),
        None => notices.push(not_configured("signal", "[signal]")),
    }
    match &config.matrix {
        Some(m) => notices.push(Notice::info(format!(
            "alert channel matrix: configured (homeserver {})",
            m.url.as_deref().map_or_else(|| "(none)".into(), origin)
        ))),
        None => notices.push(not_configured("matrix", "[matrix]")),
    }
    notices.push(Notice::info(match &config.ntfy {
        Some(n) => format!(
            "alert channel ntfy: configured (with a token for {}; other servers without)",
            origin(&n.url)
        ),
        None => {
            "alert channel ntfy: configured (no token: topics on servers that need none)".into()
        }
    }));
    notices.push(Notice::info(match &config.webhook {
        Some(w) => format!(
            "alert channel webhook: configured (signed with the key in {})",
            w.key_file.display()
        ),
        None => "alert channel webhook: configured (signed with DATA/webhook.key)".into(),
    }));
    if public_url.is_none() {
        let set_up = smtp_url.is_some()
            || config.telegram.is_some()
            || config.signal.is_some()
            || config.matrix.is_some();
        let reachable = !listen.ip().is_loopback() && !listen.ip().is_unspecified();
        if set_up && !reachable {
            notices.push(Notice::warn(format!(
                "no public_url (--public-url): acknowledgement and download links in alerts \
                 will point at http://{listen}, which contacts cannot open; set it to the \
                 address contacts reach this watcher at"
            )));
        } else if set_up {
            notices.push(Notice::warn(format!(
                "no public_url (--public-url): links in alerts will point at http://{listen}; \
                 set it if contacts reach this watcher at another address (a name, TLS, a proxy)"
            )));
        }
    }
    if smtp_url.is_some() && from.to_ascii_lowercase().contains("@localhost") {
        notices.push(Notice::warn(format!(
            "the e-mail sender is {from}: most mail servers refuse or junk mail from \
             @localhost; set `from` under [smtp] to an address of your domain"
        )));
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    fn local() -> SocketAddr {
        DEFAULT_LISTEN.parse().unwrap()
    }

    #[test]
    fn metrics_stay_on_loopback_and_off_the_public_address() {
        let public: SocketAddr = "0.0.0.0:8470".parse().unwrap();
        let loopback = "127.0.0.1:8471".parse().ok();
        assert_eq!(metrics_address(loopback, false, public, true), Ok(loopback));
        assert_eq!(metrics_address(None, false, public, true), Ok(None));
        let outside = "0.0.0.0:8471".parse().ok();
        assert!(metrics_address(outside, false, public, true).is_err());
        assert_eq!(metrics_address(outside, true, public, true), Ok(outside));
        for same in ["127.0.0.1:8470", "0.0.0.0:8470", "[::1]:8470"] {
            let error = metrics_address(same.parse().ok(), true, public, false).unwrap_err();
            assert_eq!(
                error,
                ConfigProblem::MetricsOnListen {
                    listen: public,
                    in_file: false
                },
                "{same}"
            );
        }
        assert!(metrics_address("[::1]:8470".parse().ok(), false, local(), false).is_ok());
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let found = problems(&config(
            "listen = \"127.0.0.1:8470\"\n\
             [delivery]\nretry_first = \"soon\"\n\
             [connections]\ntotal = 0\n\
             [metrics]\nlisten = \"0.0.0.0:9000\"\n\
             [smtp]\nurl = \"smtp://mail.example.org:587\"\npassword_file = \"/x\"\n\
             [[plan]]\nsubject = \"A\"\nevery = \"1d\"\ngrace = \"often\"\n",
        ));
        assert_eq!(found.len(), 5, "{found:#?}");
        for (problem, section) in found.iter().map(ToString::to_string).zip([
            "[delivery]",
            "[smtp]",
            "[connections]",
            "[[plan]] number 1",
            "[metrics]",
        ]) {
            assert!(problem.starts_with(section), "{problem}");
        }
        assert!(problems(&config("")).is_empty());
    }

    #[test]
    fn the_report_names_each_channel_and_warns_of_links_to_loopback() {
        let report = channel_report(
            &config("[telegram]\ntoken_file = \"/t\"\n"),
            Some("smtp://user:secret@127.0.0.1:25"),
            None,
            local(),
        );
        let text: Vec<&str> = report.iter().map(|n| n.text.as_str()).collect();
        assert!(text[0].contains("e-mail: configured (relay smtp://127.0.0.1:25"));
        assert!(
            !text.concat().contains("secret"),
            "no credentials in the log"
        );
        assert!(text[1].contains("telegram: configured (https://api.telegram.org:443)"));
        assert!(text[2].contains("signal: not configured ([signal])"));
        let warnings: Vec<&str> = report
            .iter()
            .filter(|n| n.warning)
            .map(|n| n.text.as_str())
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        assert!(warnings[0].contains("will point at http://127.0.0.1:8470"));
        assert!(warnings[1].contains("posbon@localhost"));

        let quiet = channel_report(
            &config("[smtp]\nurl = \"smtp://127.0.0.1:25\"\nfrom = \"w <w@nansmit.example>\"\n"),
            None,
            Some("https://watcher.nansmit.example"),
            local(),
        );
        assert!(quiet.iter().all(|n| !n.warning), "{quiet:#?}");
    }
}
