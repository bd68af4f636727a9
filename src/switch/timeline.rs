//! What the watchers' history says, in the journalist's language: one line per entry, the
//! same words on the command line (`posbon history`) and in the app. The words are in
//! `ftl/history.*` (Fluent); this module only picks the message and its values.

use std::sync::OnceLock;

use crate::lang::Lang;
use crate::lang::catalogue::{Arg, Catalogue};
use crate::protocol::HistoryEntry;

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "history",
            [
                (Lang::Tg, include_str!("ftl/history.tg.ftl")),
                (Lang::Ru, include_str!("ftl/history.ru.ftl")),
                (Lang::En, include_str!("ftl/history.en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the history's message catalogue: {e}"))
    })
}

/// A message of the history's catalogue.
pub fn word(lang: Lang, id: &str) -> String {
    catalogue().text(lang, id, &[])
}

/// One entry as the journalist reads it (without its time); `when` writes a time (when an
/// alert was delivered) as the face shows times.
pub fn describe(lang: Lang, entry: &HistoryEntry, when: impl Fn(i64) -> String) -> String {
    let words = catalogue();
    let text = |id: &str, args: &[(&str, Arg<'_>)]| words.text(lang, id, args);
    let from = entry.from.as_deref().unwrap_or("laptop");
    let place = match from.strip_prefix("phone ") {
        Some(id) => text("place-phone", &[("id", Arg::Text(id))]),
        None => text("place-laptop", &[]),
    };
    let unknown = "?".to_string();
    let opt = |value: &Option<String>| value.clone().unwrap_or_else(|| unknown.clone());
    let (step, contact, channel, alert, bundle) = (
        opt(&entry.step),
        opt(&entry.contact),
        opt(&entry.channel),
        opt(&entry.alert),
        opt(&entry.bundle),
    );
    let at = |id: &str| text(id, &[("place", Arg::Text(&place))]);
    let line = match entry.what.as_str() {
        "checkin" | "phone-checkin" => at("did-checkin"),
        "unlock" => at("did-unlock"),
        "status" => at("did-status"),
        "history" => at("did-history"),
        "plan" => at("did-plan"),
        "pause" => at("did-pause"),
        "resume" => at("did-resume"),
        "contacts" => at("did-contacts"),
        "test-alert" => at("did-test-alert"),
        "bundle-put" => at("did-bundle-put"),
        "bundle-remove" => at("did-bundle-remove"),
        "phone-invite" => at("did-phone-invite"),
        "phone-list" => at("did-phone-list"),
        "phone-remove" => at("did-phone-remove"),
        "phone-enrolled" => at("did-phone-enrolled"),
        "phone-pin-guessing" => at("did-pin-guessing"),
        "end-pretend" => at("did-end-pretend"),
        "duress-retract" => at("did-duress-retract"),
        "unenrol" => at("did-unenrol"),
        "step" => text("step-fired", &[("step", Arg::Text(&step))]),
        "alert" => {
            let settled = match (entry.delivery.as_deref(), entry.settled_ms) {
                (Some("delivered"), Some(ms)) => {
                    text("alert-delivered", &[("when", Arg::Text(&when(ms)))])
                }
                (Some("given-up"), Some(ms)) => {
                    text("alert-given-up", &[("when", Arg::Text(&when(ms)))])
                }
                (Some("pending"), _) => text("alert-pending", &[]),
                (other, _) => other.unwrap_or("?").to_string(),
            };
            text(
                "alert",
                &[
                    ("step", Arg::Text(&step)),
                    ("alert", Arg::Text(&alert)),
                    ("contact", Arg::Text(&contact)),
                    ("channel", Arg::Text(&channel)),
                    ("settled", Arg::Text(&settled)),
                ],
            )
        }
        "ack" => text(
            "ack",
            &[
                ("contact", Arg::Text(&contact)),
                ("alert", Arg::Text(&alert)),
                ("channel", Arg::Text(&channel)),
            ],
        ),
        "download" => text(
            "download",
            &[
                ("contact", Arg::Text(&contact)),
                ("bundle", Arg::Text(&bundle)),
                ("channel", Arg::Text(&channel)),
            ],
        ),
        other => text(
            "did-other",
            &[("what", Arg::Text(other)), ("place", Arg::Text(&place))],
        ),
    };
    let line = if entry.duress {
        text("duress-marked", &[("text", Arg::Text(&line))])
    } else {
        line
    };
    if entry.pretend {
        text("pretend-marked", &[("text", Arg::Text(&line))])
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(what: &str) -> HistoryEntry {
        HistoryEntry {
            what: what.into(),
            ..HistoryEntry::default()
        }
    }

    #[test]
    fn every_entry_reads_in_every_language_and_duress_is_marked() {
        let mut checkin = entry("phone-checkin");
        checkin.from = Some("phone 1a2b3c4d".into());
        assert_eq!(
            describe(Lang::En, &checkin, |_| String::new()),
            "checked in from the phone 1a2b3c4d"
        );
        let mut alert = entry("alert");
        alert.step = Some("tier1".into());
        alert.alert = Some("a-42".into());
        alert.contact = Some("Ed".into());
        alert.channel = Some("email".into());
        alert.delivery = Some("delivered".into());
        alert.settled_ms = Some(7);
        assert_eq!(
            describe(Lang::En, &alert, |ms| format!("at {ms}")),
            "alert tier1 (a-42) to Ed by email: delivered at 7"
        );
        let mut forced = entry("duress-retract");
        forced.duress = true;
        for lang in [Lang::Tg, Lang::Ru, Lang::En] {
            let line = describe(lang, &forced, |_| String::new());
            assert!(
                line.contains("DURESS") || line.contains("МАҶБУРӢ") || line.contains("ПРИНУЖДЕНИЕ"),
                "{line}"
            );
            let line = describe(lang, &alert, |ms| format!("@{ms}"));
            assert!(
                line.contains("Ed") && line.contains("a-42") && line.contains("@7"),
                "{line}"
            );
        }
    }

    #[test]
    fn a_value_is_shown_as_it_is_never_read_as_a_message() {
        let mut ack = entry("ack");
        ack.contact = Some("{ $alert } Ed".into());
        ack.alert = Some("a-1".into());
        let line = describe(Lang::Ru, &ack, |_| String::new());
        assert!(line.contains("{ $alert } Ed"), "{line}");
    }
}
