//! Which sentences make up each kind of alert, in the reader's language and time zone. Pure:
//! the watcher gathers the facts (times, the plan's next step, the journalist's instructions)
//! and this module only writes them out, so every kind is tested without a clock or a server.

use crate::plan::Action;
use crate::protocol::contacts::Lang;

use super::text::{render, render_count};

/// What every alert about one journalist, to one reader, shares.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    /// The journalist, as the watcher knows them.
    pub name: &'a str,
    pub lang: Lang,
    /// The reader's time zone (an IANA name); falls back to UTC if unknown.
    pub tz: &'a str,
    /// The watcher's fingerprint, for the "check it" line.
    pub fingerprint: &'a str,
    /// The journalist's instructions to their contacts.
    pub instructions: &'a str,
}

/// A bundle released to the reader, as its alert describes it.
#[derive(Debug, Clone)]
pub struct BundleLine<'a> {
    pub name: &'a str,
    /// The journalist's version of it, so lawyers can compare what each watcher released.
    pub version: u64,
    /// In bytes.
    pub size: u64,
    pub sha256: &'a str,
    /// The download link.
    pub url: &'a str,
}

/// What happened.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A step of the ladder (an alert to a tier, or the release) fell due.
    Step {
        action: Action,
        deadline_ms: i64,
        last_checkin_ms: Option<i64>,
        cycle_start_ms: i64,
        /// A duress check-in happened in this cycle.
        duress_seen: bool,
        /// The next step of the ladder and when it falls due.
        next: Option<(Action, i64)>,
        ack_url: Option<&'a str>,
        /// Bundles released to this reader.
        bundles: Vec<BundleLine<'a>>,
    },
    /// A reminder to the journalist, before the deadline or after missing it.
    Reminder { deadline_ms: i64, missed: bool },
    /// A duress code was used.
    Duress {
        at_ms: i64,
        ack_url: Option<&'a str>,
        /// Bundles released at once, when the plan says so.
        bundles: Vec<BundleLine<'a>>,
    },
    /// The journalist checked in after alerts went out.
    /// `alerts`: the ids of the alerts this contact received, which are now over.
    AllClear { at_ms: i64, alerts: &'a [&'a str] },
    /// A contact took an alert on, through the link sent to them by `channel` (a kind:
    /// `email`, `webhook`...; empty if not on record).
    Ack {
        contact: &'a str,
        role: &'a str,
        at_ms: i64,
        alert: &'a str,
        channel: &'a str,
    },
    /// To the contact who took an alert on: it was confirmed through their link sent by
    /// `channel` (it may not have been them).
    AckConfirmed {
        at_ms: i64,
        alert: &'a str,
        channel: &'a str,
    },
    /// The journalist took back the duress alerts `alerts` (a false alarm), with the real
    /// key, at `at_ms`.
    Retraction { at_ms: i64, alerts: &'a [&'a str] },
    /// A test of the channels.
    Test,
    /// A phone was set up for check-ins (to the journalist only).
    PhoneEnrolled { device: &'a str, at_ms: i64 },
    /// A released bundle was downloaded through a link sent to the reader: `count` times
    /// since the last notice, the first at `first_ms`, through the link sent by `channel`.
    Downloaded {
        bundle: &'a str,
        version: u64,
        sha256: &'a str,
        count: u32,
        first_ms: i64,
        channel: &'a str,
    },
}

/// `(local, tz, utc)` texts of a moment for `reader`.
fn times(reader: &Reader, ms: i64) -> (String, String, String) {
    let zone = jiff::tz::TimeZone::get(reader.tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let tz_name = if zone == jiff::tz::TimeZone::UTC {
        "UTC".to_string()
    } else {
        reader.tz.to_string()
    };
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => (
            t.to_zoned_datetime(zone)
                .strftime("%Y-%m-%d %H:%M")
                .to_string(),
            tz_name,
            t.strftime("%Y-%m-%d %H:%M").to_string(),
        ),
        Err(_) => (ms.to_string(), tz_name, ms.to_string()),
    }
}

/// How a kind of channel (`email`, `webhook`...) is named in a text; one not on record
/// (links from before channels were) is said to be so.
pub fn channel_name(lang: Lang, kind: &str) -> String {
    if kind.is_empty() {
        render(lang, "unknown-channel", &[])
    } else {
        kind.to_string()
    }
}

/// The localised name of a step.
pub fn step_name(lang: Lang, action: Action) -> String {
    match action {
        Action::AlertTier(n) => render(lang, "step-tier", &[("tier", &n.to_string())]),
        Action::Release => render(lang, "step-release", &[]),
        Action::RemindJournalist => render(lang, "step-remind", &[]),
    }
}

/// The title and body of an alert.
pub fn compose(reader: &Reader, event: &Event) -> (String, String) {
    let lang = reader.lang;
    let name = reader.name;
    // A sentence with a time in it; `count` for one that says "one alert" or "several".
    let timed = |key: &str, ms: i64, count: Option<usize>, extra: &[(&str, &str)]| {
        let (local, tz, utc) = times(reader, ms);
        let mut args: Vec<(&str, &str)> = vec![
            ("local", &local),
            ("tz", &tz),
            ("utc", &utc),
            ("name", name),
        ];
        args.extend_from_slice(extra);
        let text = match count {
            Some(n) => render_count(lang, key, n, &args),
            None => render(lang, key, &args),
        };
        if tz == "UTC" {
            // The reader's zone is UTC: one time, not the same one twice.
            text.replace(&format!("{local} (UTC), {utc} UTC"), &format!("{utc} UTC"))
        } else {
            text
        }
    };
    let at = |key: &str, ms: i64, extra: &[(&str, &str)]| timed(key, ms, None, extra);
    let plain = |key: &str, extra: &[(&str, &str)]| {
        let mut args: Vec<(&str, &str)> = vec![("name", name)];
        args.extend_from_slice(extra);
        render(lang, key, &args)
    };
    let mut lines: Vec<String> = Vec::new();
    let title;
    match event {
        Event::Step {
            action,
            deadline_ms,
            last_checkin_ms,
            cycle_start_ms,
            duress_seen,
            next,
            ack_url,
            bundles,
        } => {
            let step = step_name(lang, *action);
            title = match action {
                Action::Release => plain("title-release", &[]),
                _ => plain("title-step", &[("step", &step)]),
            };
            lines.push(plain("missed", &[]));
            lines.push(match last_checkin_ms {
                Some(ms) => at("last-checkin", *ms, &[]),
                None => at("no-checkin-yet", *cycle_start_ms, &[]),
            });
            lines.push(at("deadline", *deadline_ms, &[]));
            lines.push(match action {
                Action::AlertTier(n) => plain(
                    "this-step-tier",
                    &[("step", &step), ("tier", &n.to_string())],
                ),
                _ => plain("this-step-release", &[]),
            });
            if *duress_seen {
                lines.push(plain("duress-seen", &[]));
            }
            push_instructions(reader, &mut lines);
            push_bundles(reader, bundles, &mut lines);
            lines.push(match next {
                Some((action, ms)) => at("next-step", *ms, &[("step", &step_name(lang, *action))]),
                None => plain("last-step", &[]),
            });
            if let Some(url) = ack_url {
                lines.push(plain("ack-link", &[("url", url)]));
            }
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::Reminder {
            deadline_ms,
            missed,
        } => {
            if *missed {
                title = plain("title-missed-reminder", &[]);
                lines.push(at("missed-reminder", *deadline_ms, &[]));
            } else {
                title = at("title-reminder", *deadline_ms, &[]);
                lines.push(at("reminder", *deadline_ms, &[]));
            }
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::Duress {
            at_ms,
            ack_url,
            bundles,
        } => {
            title = plain("title-duress", &[]);
            lines.push(at("duress", *at_ms, &[]));
            push_instructions(reader, &mut lines);
            push_bundles(reader, bundles, &mut lines);
            if let Some(url) = ack_url {
                lines.push(plain("ack-link", &[("url", url)]));
            }
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::AllClear { at_ms, alerts } => {
            title = plain("title-all-clear", &[]);
            lines.push(timed(
                "all-clear",
                *at_ms,
                Some(alerts.len()),
                &[("alert", &alerts.join(", "))],
            ));
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::Retraction { at_ms, alerts } => {
            title = plain("title-retraction", &[]);
            lines.push(timed(
                "retraction",
                *at_ms,
                Some(alerts.len()),
                &[("alert", &alerts.join(", "))],
            ));
            lines.push(plain("retraction-caution", &[]));
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::Ack {
            contact,
            role,
            at_ms,
            alert,
            channel,
        } => {
            title = plain("title-ack", &[("contact", contact)]);
            let channel = channel_name(lang, channel);
            lines.push(at(
                "ack",
                *at_ms,
                &[
                    ("contact", contact),
                    ("role", role),
                    ("alert", alert),
                    ("channel", &channel),
                ],
            ));
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::AckConfirmed {
            at_ms,
            alert,
            channel,
        } => {
            title = plain("title-ack-confirmed", &[]);
            let channel = channel_name(lang, channel);
            lines.push(at(
                "ack-confirmed",
                *at_ms,
                &[("alert", alert), ("channel", &channel)],
            ));
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::PhoneEnrolled { device, at_ms } => {
            title = plain("title-phone-enrolled", &[]);
            // The first 8 hex digits are what `posbon phone list` shows first.
            let short = device.get(..8).unwrap_or(device);
            lines.push(at("phone-enrolled", *at_ms, &[("device", short)]));
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::Downloaded {
            bundle,
            version,
            sha256,
            count,
            first_ms,
            channel,
        } => {
            title = plain("title-download", &[("bundle", bundle)]);
            lines.push(at(
                "download-notice",
                *first_ms,
                &[
                    ("bundle", bundle),
                    ("version", &version.to_string()),
                    ("sha256", sha256),
                    ("count", &count.to_string()),
                    ("channel", channel),
                ],
            ));
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
        Event::Test => {
            title = plain("title-test", &[]);
            lines.push(plain("test", &[]));
            lines.push(plain("verify", &[("fingerprint", reader.fingerprint)]));
        }
    }
    (title, lines.join("\n\n"))
}

fn push_bundles(reader: &Reader, bundles: &[BundleLine], lines: &mut Vec<String>) {
    for bundle in bundles {
        // In the reader's units and decimal sign: a Russian sentence with "KiB" in it, or
        // "1.5" where a comma is written, reads as a foreign text.
        let size = if bundle.size >= 1024 * 1024 {
            let n = format!("{:.1}", bundle.size as f64 / (1024.0 * 1024.0));
            let n = match reader.lang {
                Lang::En => n,
                Lang::Ru | Lang::Tg => n.replace('.', ","),
            };
            render(reader.lang, "size-mib", &[("n", &n)])
        } else {
            let n = bundle.size.div_ceil(1024).to_string();
            render(reader.lang, "size-kib", &[("n", &n)])
        };
        lines.push(render(
            reader.lang,
            "bundle-ready",
            &[
                ("bundle", bundle.name),
                ("version", &bundle.version.to_string()),
                ("size", &size),
                ("sha256", bundle.sha256),
                ("url", bundle.url),
            ],
        ));
    }
    // Once, after the bundles: how to open them without putting the lawyer's files at risk.
    if !bundles.is_empty() {
        lines.push(render(reader.lang, "open-safely", &[]));
    }
}

fn push_instructions(reader: &Reader, lines: &mut Vec<String>) {
    let instructions = reader.instructions.trim();
    if instructions.is_empty() {
        lines.push(render(reader.lang, "no-instructions", &[]));
    } else {
        lines.push(format!(
            "{}\n{}",
            render(reader.lang, "instructions", &[]),
            instructions
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_25_0600_UTC: i64 = 1_795_586_400_000;

    fn reader(lang: Lang) -> Reader<'static> {
        Reader {
            name: "Rustam",
            lang,
            tz: "Asia/Dushanbe",
            fingerprint: "1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d",
            instructions: "Call Dilnoza: +992 900 00 00 00. Case 12/2026.",
        }
    }

    fn every_event() -> Vec<Event<'static>> {
        vec![
            Event::Step {
                action: Action::AlertTier(1),
                deadline_ms: NOV_25_0600_UTC,
                last_checkin_ms: Some(NOV_25_0600_UTC - 86_400_000),
                cycle_start_ms: NOV_25_0600_UTC - 86_400_000,
                duress_seen: true,
                next: Some((Action::AlertTier(2), NOV_25_0600_UTC + 7_200_000)),
                ack_url: Some("https://watcher.example/a/tok"),
                bundles: vec![],
            },
            Event::Step {
                action: Action::Release,
                deadline_ms: NOV_25_0600_UTC,
                last_checkin_ms: None,
                cycle_start_ms: NOV_25_0600_UTC - 86_400_000,
                duress_seen: false,
                next: None,
                ack_url: None,
                bundles: vec![BundleLine {
                    name: "Case 12/2026",
                    version: 3,
                    size: 2_500_000,
                    sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    url: "https://watcher.example/b/tok",
                }],
            },
            Event::Reminder {
                deadline_ms: NOV_25_0600_UTC,
                missed: false,
            },
            Event::Reminder {
                deadline_ms: NOV_25_0600_UTC,
                missed: true,
            },
            Event::PhoneEnrolled {
                device: "0123456789abcdef0123456789abcdef",
                at_ms: NOV_25_0600_UTC,
            },
            Event::Duress {
                at_ms: NOV_25_0600_UTC,
                ack_url: Some("https://watcher.example/a/tok"),
                bundles: vec![BundleLine {
                    name: "Case 12/2026",
                    version: 3,
                    size: 900,
                    sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    url: "https://watcher.example/b/tok",
                }],
            },
            Event::AllClear {
                at_ms: NOV_25_0600_UTC,
                alerts: &["abc"],
            },
            Event::AllClear {
                at_ms: NOV_25_0600_UTC,
                alerts: &["abc", "def"],
            },
            Event::Ack {
                contact: "Dilnoza",
                role: "lawyer",
                at_ms: NOV_25_0600_UTC,
                alert: "abc",
                channel: "webhook",
            },
            Event::AckConfirmed {
                at_ms: NOV_25_0600_UTC,
                alert: "abc",
                channel: "webhook",
            },
            Event::Downloaded {
                bundle: "Case 12/2026",
                version: 3,
                sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                count: 2,
                first_ms: NOV_25_0600_UTC,
                channel: "email",
            },
            Event::Retraction {
                at_ms: NOV_25_0600_UTC,
                alerts: &["abc"],
            },
            Event::Retraction {
                at_ms: NOV_25_0600_UTC,
                alerts: &["abc", "def"],
            },
            Event::Test,
        ]
    }

    #[test]
    fn a_retraction_names_the_alarms_it_takes_back_and_asks_for_a_check() {
        let (title, body) = compose(
            &reader(Lang::En),
            &Event::Retraction {
                at_ms: NOV_25_0600_UTC,
                alerts: &["abc", "def"],
            },
        );
        assert!(
            title.contains("Rustam") && title.contains("false alarm"),
            "{title}"
        );
        assert!(body.contains("abc, def"), "{body}");
        assert!(body.contains("2026-11-25 11:00 (Asia/Dushanbe), 2026-11-25 06:00 UTC"));
        assert!(body.contains("duress passphrase") && body.contains("agreed on in advance"));
        assert!(body.contains("posbon alert verify"));
    }

    #[test]
    fn every_kind_renders_fully_in_every_language() {
        for lang in Lang::ALL {
            for event in every_event() {
                let (title, body) = compose(&reader(lang), &event);
                for text in [&title, &body] {
                    assert!(
                        !text.contains('{') && !text.contains('}'),
                        "{lang:?} {event:?}: unfilled placeholder in {text}"
                    );
                }
                assert!(!title.contains('\n'));
                assert!(
                    body.contains("1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d"),
                    "{lang:?} {event:?}"
                );
                // A released bundle's SHA-256 is in the signed text, for the lawyer to
                // compare with what posbon open prints.
                let releases = matches!(&event, Event::Step { bundles, .. } | Event::Duress { bundles, .. } if !bundles.is_empty());
                if releases {
                    assert!(
                        body.contains("SHA-256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
                        "{lang:?} {event:?}"
                    );
                    // The version, so lawyers can compare watchers; and the safe way to
                    // open it, with the exact commands of the bare age and tar route.
                    assert!(body.contains(" 3 ("), "{lang:?} {event:?}");
                    for command in [
                        "posbon open ",
                        " --from ",
                        "mkdir new-empty-folder && cd new-empty-folder",
                        "> bundle.tar",
                        "LC_ALL=C tar -tvf bundle.tar",
                        "tar -xkf bundle.tar --no-same-owner --no-same-permissions",
                    ] {
                        assert!(body.contains(command), "{lang:?}: {command}");
                    }
                    assert!(!body.contains("up to 3"), "{lang:?}: no count to use up");
                }
            }
        }
    }

    #[test]
    fn a_tier_alert_says_who_when_what_next_and_how_to_check() {
        let (title, body) = compose(&reader(Lang::En), &every_event()[0]);
        assert!(title.contains("Rustam") && title.contains("tier 1"));
        // 06:00 UTC is 11:00 in Dushanbe (UTC+5); both are shown.
        assert!(body.contains("2026-11-25 11:00 (Asia/Dushanbe), 2026-11-25 06:00 UTC"));
        assert!(body.contains("Case 12/2026"));
        assert!(body.contains("duress"));
        assert!(body.contains("tier 2"));
        assert!(body.contains("https://watcher.example/a/tok"));
        let (_, russian) = compose(&reader(Lang::Ru), &every_event()[0]);
        assert!(russian.contains("Rustam") && russian.contains("11:00"));
    }

    #[test]
    fn an_all_clear_for_several_alerts_is_in_the_plural() {
        let clear = |lang, alerts| {
            compose(
                &reader(lang),
                &Event::AllClear {
                    at_ms: NOV_25_0600_UTC,
                    alerts,
                },
            )
            .1
        };
        assert!(clear(Lang::Ru, &["abc"]).contains("Тревога abc снята"));
        assert!(clear(Lang::Ru, &["abc", "def"]).contains("Тревоги abc, def сняты"));
        assert!(clear(Lang::Tg, &["abc", "def"]).contains("Ҳушдорҳои abc, def"));
        assert!(clear(Lang::En, &["abc", "def"]).contains("The alerts abc, def are over"));
        assert!(clear(Lang::En, &["abc"]).contains("The alert abc is over"));
    }

    #[test]
    fn an_unknown_time_zone_falls_back_to_utc() {
        let mut r = reader(Lang::En);
        r.tz = "Nowhere/Special";
        let (_, body) = compose(&r, &every_event()[2]);
        // And a reader in UTC is shown the time once, not "06:00 (UTC), 06:00 UTC".
        assert!(body.contains("2026-11-25 06:00 UTC"), "{body}");
        assert!(!body.contains("(UTC)"), "{body}");
        for lang in Lang::ALL {
            let mut r = reader(lang);
            r.tz = "UTC";
            for event in every_event() {
                let (_, body) = compose(&r, &event);
                assert!(!body.contains("(UTC)"), "{lang:?}: {body}");
            }
        }
    }

    #[test]
    fn sizes_and_steps_read_in_the_readers_own_words() {
        let mut sizes = Vec::new();
        for event in every_event() {
            let (_, body) = compose(&reader(Lang::Ru), &event);
            if body.contains("Case 12/2026") {
                assert!(!body.contains("KiB") && !body.contains("MiB"), "{body}");
                sizes.extend(["2,4 МБ", "1 КБ"].into_iter().filter(|s| body.contains(s)));
            }
        }
        assert_eq!(sizes, ["2,4 МБ", "1 КБ"]);
        let english: Vec<String> = every_event()
            .iter()
            .map(|event| compose(&reader(Lang::En), event).1)
            .filter(|body| body.contains("Case 12/2026"))
            .collect();
        assert!(english.iter().any(|b| b.contains("2.4 MiB")), "{english:?}");
        assert!(english.iter().any(|b| b.contains("1 KiB")), "{english:?}");
        // A tier is a group of contacts, not a copy of the Russian "круг".
        let (title, body) = compose(&reader(Lang::Tg), &every_event()[0]);
        assert!(
            title.contains("гурӯҳи 1") && !body.contains("доираи"),
            "{title}\n{body}"
        );
        assert!(!body.contains("ба фармон диҳед"), "{body}");
        let (title, _) = compose(&reader(Lang::Ru), &every_event()[0]);
        assert!(title.contains("(оповещение круга 1)"), "{title}");
    }
}
