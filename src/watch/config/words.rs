//! What is wrong with a watcher config, in the operator's language: each [`ConfigProblem`]
//! worded in Tajik, Russian or English from one Fluent catalogue (`ftl/config.*.ftl`), so that
//! `posbon watch check-config` and `watch serve` tell NANSMIT's staff in Dushanbe what to fix
//! in the words they read. The English is also the problem's `Display` (here rather than
//! beside the enum, so that the two files do not import each other): scripts, the tests and
//! the daemon's log read the same sentences as before.
//!
//! A plan or a duration that is refused is said by the plan's own catalogue
//! ([`crate::plan::words`]), inside the config's sentence.

use std::fmt;
use std::sync::OnceLock;

use super::ConfigProblem;
use crate::lang::Lang;
use crate::lang::catalogue::{Arg, Catalogue};

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "config",
            [
                (Lang::Tg, include_str!("ftl/config.tg.ftl")),
                (Lang::Ru, include_str!("ftl/config.ru.ftl")),
                (Lang::En, include_str!("ftl/config.en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the watcher config's message catalogue: {e}"))
    })
}

/// `problem` as a sentence in `lang`. What was typed (a `public_url`) is quoted and escaped
/// as Rust's `{:?}` does, so that a control character in the file is seen, not obeyed.
pub fn said(lang: Lang, problem: &ConfigProblem) -> String {
    let say = |id: &str, args: &[(&str, &str)]| {
        let args: Vec<(&str, Arg<'_>)> = args
            .iter()
            .map(|(name, value)| (*name, Arg::Text(value)))
            .collect();
        catalogue().text(lang, id, &args)
    };
    let plan = |error| crate::plan::words::said(lang, error);
    // A metrics problem is under `[metrics]` when the file's table asked for that address.
    let in_metrics = |text: String, in_file: bool| {
        if in_file {
            say("config-in-metrics", &[("problem", &text)])
        } else {
            text
        }
    };
    match problem {
        ConfigProblem::DeliveryDuration { key: None, error } => {
            say("config-delivery-duration", &[("problem", &plan(error))])
        }
        ConfigProblem::DeliveryDuration {
            key: Some(key),
            error,
        } => say(
            "config-delivery-key-duration",
            &[("key", key), ("problem", &plan(error))],
        ),
        ConfigProblem::Smtp { detail } => say("config-smtp", &[("detail", detail)]),
        ConfigProblem::NeedsUrl { section } => say("config-needs-url", &[("section", section)]),
        ConfigProblem::NoDataDir => say("config-no-data-dir", &[]),
        ConfigProblem::Proxy { detail } => say("config-proxy", &[("detail", detail)]),
        ConfigProblem::NoConnections => say("config-no-connections", &[]),
        ConfigProblem::MetricsOnListen { listen, in_file } => {
            let text = say(
                "config-metrics-on-listen",
                &[("listen", &listen.to_string())],
            );
            in_metrics(text, *in_file)
        }
        ConfigProblem::MetricsReadable { addr, in_file } => {
            let text = say("config-metrics-readable", &[("addr", &addr.to_string())]);
            in_metrics(text, *in_file)
        }
        ConfigProblem::Plan {
            number: None,
            error,
        } => say("config-plan", &[("problem", &plan(error))]),
        ConfigProblem::Plan {
            number: Some(number),
            error,
        } => say(
            "config-plan-number",
            &[("number", &number.to_string()), ("problem", &plan(error))],
        ),
        ConfigProblem::PublicUrl { url } => {
            say("config-public-url", &[("url", &format!("{url:?}"))])
        }
        ConfigProblem::SecretUnreadable { file, path, reason } => say(
            "config-secret-unreadable",
            &[
                ("file", file),
                ("path", &path.display().to_string()),
                ("reason", reason),
            ],
        ),
        ConfigProblem::SecretEmpty { file, path } => say(
            "config-secret-empty",
            &[("file", file), ("path", &path.display().to_string())],
        ),
    }
}

/// The English, which scripts, the tests and the daemon's log read.
impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&said(Lang::En, self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanError;

    /// Every variant, each way it is said (with and without the key, the number, the table).
    /// The details another module gives in English are left out here (a path, a code): the
    /// check below is of this catalogue's own words.
    fn every_problem() -> Vec<ConfigProblem> {
        let duration = || PlanError::NotADuration("a while".into());
        let listen = "0.0.0.0:8470".parse().unwrap();
        let addr = "0.0.0.0:9000".parse().unwrap();
        vec![
            ConfigProblem::DeliveryDuration {
                key: None,
                error: duration(),
            },
            ConfigProblem::DeliveryDuration {
                key: Some("timeout"),
                error: duration(),
            },
            ConfigProblem::Smtp {
                detail: "smtp://почта.tj:25".into(),
            },
            ConfigProblem::NeedsUrl { section: "matrix" },
            ConfigProblem::NoDataDir,
            ConfigProblem::Proxy {
                detail: "[proxy] trusted: \"10.0.0.0/33\"".into(),
            },
            ConfigProblem::NoConnections,
            ConfigProblem::MetricsOnListen {
                listen,
                in_file: true,
            },
            ConfigProblem::MetricsOnListen {
                listen,
                in_file: false,
            },
            ConfigProblem::MetricsReadable {
                addr,
                in_file: true,
            },
            ConfigProblem::MetricsReadable {
                addr,
                in_file: false,
            },
            ConfigProblem::Plan {
                number: None,
                error: PlanError::NoSteps,
            },
            ConfigProblem::Plan {
                number: Some(2),
                error: PlanError::NoSteps,
            },
            ConfigProblem::PublicUrl {
                url: "ftp://x".into(),
            },
            ConfigProblem::SecretUnreadable {
                file: "[telegram]",
                path: "/srv/posbon/telegram-token".into(),
                reason: "(os error 2)".into(),
            },
            ConfigProblem::SecretEmpty {
                file: "[smtp] password_file",
                path: "/srv/posbon/smtp-password".into(),
            },
        ]
    }

    #[test]
    fn every_problem_is_said_in_tajik_and_russian_with_no_english_sentence_left() {
        let english = [
            "cannot",
            "must",
            "need",
            "give",
            "is not",
            "served",
            "listen address",
            "others",
            "such as",
            "firewall",
            "another",
            "least",
            "number",
            "plan in",
            "config",
            "secret",
            "empty",
            "known",
            "directory",
            "platform",
            "under",
            "keeps",
            "private",
            "read the",
            "not a",
            "duration",
            "step",
        ];
        for problem in every_problem() {
            for lang in [Lang::Tg, Lang::Ru] {
                let text = said(lang, &problem);
                for word in english {
                    assert!(!text.contains(word), "{lang:?} {problem:?}: {text}");
                }
                assert_ne!(text, said(Lang::En, &problem), "{lang:?} {problem:?}");
            }
            assert_eq!(problem.to_string(), said(Lang::En, &problem));
        }
    }

    #[test]
    fn english_is_what_scripts_and_operators_already_read() {
        let cases = [
            (
                ConfigProblem::DeliveryDuration {
                    key: Some("timeout"),
                    error: PlanError::NotADuration("a while".into()),
                },
                "[delivery]: timeout: \"a while\" is not a duration (like 10s, 90m, 2h, 1d, 1h30m)",
            ),
            (
                ConfigProblem::NeedsUrl { section: "matrix" },
                "[matrix] needs a url",
            ),
            (
                ConfigProblem::MetricsOnListen {
                    listen: "127.0.0.1:8470".parse().unwrap(),
                    in_file: true,
                },
                "[metrics]: metrics cannot be served on the public listen address 127.0.0.1:8470: \
                 give --metrics-listen another port (such as 127.0.0.1:8471)",
            ),
            (
                ConfigProblem::MetricsReadable {
                    addr: "0.0.0.0:9".parse().unwrap(),
                    in_file: false,
                },
                "metrics on 0.0.0.0:9 could be read by others: use a loopback address (such as \
                 127.0.0.1:8471), or add --metrics-public (`public = true` under [metrics]) if a \
                 firewall keeps that address private",
            ),
            (
                ConfigProblem::Plan {
                    number: Some(1),
                    error: PlanError::NoSteps,
                },
                "[[plan]] number 1: the plan needs at least one step",
            ),
            (
                ConfigProblem::PublicUrl {
                    url: "ftp://x".into(),
                },
                "public_url \"ftp://x\" is not an http:// or https:// address",
            ),
            (
                ConfigProblem::SecretUnreadable {
                    file: "[telegram]",
                    path: "/nonexistent/telegram-token".into(),
                    reason: "No such file or directory (os error 2)".into(),
                },
                "[telegram]: cannot read the secret file /nonexistent/telegram-token: No such \
                 file or directory (os error 2)",
            ),
        ];
        for (problem, text) in cases {
            assert_eq!(problem.to_string(), text);
        }
        // The typed text is escaped, not sent to the terminal.
        let bell = ConfigProblem::PublicUrl {
            url: "http\u{7}".into(),
        };
        assert!(said(Lang::Tg, &bell).contains("\\u{7}"));
    }
}
