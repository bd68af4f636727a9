//! Why a list of contacts is refused, in the reader's words: each [`ContactError`] worded in
//! Tajik, Russian or English from one Fluent catalogue (`ftl/contacts.*.ftl`), as
//! `release::text` words a bundle's labels. The English is also the error's `Display`, so the
//! command line, the app and the watcher's refusals all read the same sentences.

use std::fmt;
use std::sync::OnceLock;

use super::contacts::{ChannelMistake, ContactError};
use crate::lang::Lang;
use crate::lang::catalogue::{Arg, Catalogue};

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "contacts",
            [
                (Lang::Tg, include_str!("ftl/contacts.tg.ftl")),
                (Lang::Ru, include_str!("ftl/contacts.ru.ftl")),
                (Lang::En, include_str!("ftl/contacts.en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the contacts' message catalogue: {e}"))
    })
}

/// `error` as a sentence in `lang`.
pub fn said(lang: Lang, error: &ContactError) -> String {
    let (id, values) = message(error);
    let args: Vec<(&str, Arg<'_>)> = values
        .iter()
        .map(|(name, value)| {
            let arg = match value {
                Value::Text(text) => Arg::Text(text),
                Value::Number(n) => Arg::Number(*n),
            };
            (*name, arg)
        })
        .collect();
    catalogue().text(lang, id, &args)
}

/// The English, which scripts and the watcher's refusals read.
impl fmt::Display for ContactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&said(Lang::En, self))
    }
}

enum Value {
    Text(String),
    Number(i64),
}

/// The message that says `error`, with its variables. A value someone typed that may hold
/// anything (a name, a key, a time zone, a language code) is quoted and escaped, so a stray
/// control character shows as `\u{7}` rather than acting on the terminal.
fn message(error: &ContactError) -> (&'static str, Vec<(&'static str, Value)>) {
    let text = |s: &str| Value::Text(s.to_string());
    let quoted = |s: &str| Value::Text(format!("{s:?}"));
    let number = |n: usize| Value::Number(i64::try_from(n).unwrap_or(i64::MAX));
    match error {
        ContactError::TooManyContacts { max } => ("too-many-contacts", vec![("max", number(*max))]),
        ContactError::InstructionsTooLong { max } => {
            ("instructions-too-long", vec![("max", number(*max))])
        }
        ContactError::InstructionsHidden => ("instructions-hidden", vec![]),
        ContactError::InstructionsMarkers => ("instructions-markers", vec![]),
        ContactError::BadName { name } => ("bad-name", vec![("name", quoted(name))]),
        ContactError::SameName { name } => ("same-name", vec![("name", quoted(name))]),
        ContactError::BadTiers { contact } => ("bad-tiers", vec![("contact", text(contact))]),
        ContactError::TierZeroWithOthers { contact } => {
            ("tier-zero-with-others", vec![("contact", text(contact))])
        }
        ContactError::ChannelCount { contact, max } => (
            "channel-count",
            vec![("contact", text(contact)), ("max", number(*max))],
        ),
        ContactError::BadChannel {
            contact,
            channel,
            mistake,
        } => (
            channel_message(*mistake),
            vec![("contact", text(contact)), ("channel", text(channel))],
        ),
        ContactError::NotAgeRecipient {
            contact,
            key,
            reason,
        } => (
            "key-not-age",
            vec![
                ("contact", text(contact)),
                ("key", quoted(key)),
                ("reason", text(reason)),
            ],
        ),
        ContactError::NotSshKey { contact, key } => (
            "key-not-ssh",
            vec![("contact", text(contact)), ("key", quoted(key))],
        ),
        ContactError::UnknownKeyKind { contact, key } => (
            "key-unknown-kind",
            vec![("contact", text(contact)), ("key", quoted(key))],
        ),
        ContactError::UnknownTimeZone { contact, zone } => (
            "unknown-time-zone",
            vec![("contact", text(contact)), ("zone", quoted(zone))],
        ),
        ContactError::UnknownLang(unknown) => ("unknown-lang", vec![("given", quoted(&unknown.0))]),
    }
}

fn channel_message(mistake: ChannelMistake) -> &'static str {
    match mistake {
        ChannelMistake::Address => "channel-address",
        ChannelMistake::NotEmail => "channel-not-email",
        ChannelMistake::NotUrl => "channel-not-url",
        ChannelMistake::NotHttp => "channel-not-http",
        ChannelMistake::NtfyTopic => "channel-ntfy-topic",
        ChannelMistake::TelegramName => "channel-telegram-name",
        ChannelMistake::TelegramChat => "channel-telegram-chat",
        ChannelMistake::SignalNumber => "channel-signal-number",
        ChannelMistake::MatrixRoom => "channel-matrix-room",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::lang::UnknownLang;

    /// Every mistake once (every channel mistake too), with the values it carries.
    fn every_mistake() -> Vec<ContactError> {
        let contact = || "Dilnoza".to_string();
        let mut all = vec![
            ContactError::TooManyContacts { max: 50 },
            ContactError::InstructionsTooLong { max: 2_000 },
            ContactError::InstructionsHidden,
            ContactError::InstructionsMarkers,
            ContactError::BadName {
                name: "Dil\u{7}noza".into(),
            },
            ContactError::SameName {
                name: "Dilnoza".into(),
            },
            ContactError::BadTiers { contact: contact() },
            ContactError::TierZeroWithOthers { contact: contact() },
            ContactError::ChannelCount {
                contact: contact(),
                max: 8,
            },
            ContactError::NotAgeRecipient {
                contact: contact(),
                key: "age1qqq".into(),
                reason: "invalid Bech32 encoding".into(),
            },
            ContactError::NotSshKey {
                contact: contact(),
                key: "ssh-ed25519 AAAA".into(),
            },
            ContactError::UnknownKeyKind {
                contact: contact(),
                key: "ssh-rsa AAAA".into(),
            },
            ContactError::UnknownTimeZone {
                contact: contact(),
                zone: "Asia/Dushanb".into(),
            },
            ContactError::UnknownLang(UnknownLang("fr".into())),
        ];
        for mistake in [
            ChannelMistake::Address,
            ChannelMistake::NotEmail,
            ChannelMistake::NotUrl,
            ChannelMistake::NotHttp,
            ChannelMistake::NtfyTopic,
            ChannelMistake::TelegramName,
            ChannelMistake::TelegramChat,
            ChannelMistake::SignalNumber,
            ChannelMistake::MatrixRoom,
        ] {
            all.push(ContactError::BadChannel {
                contact: contact(),
                channel: "email:d-at-example".into(),
                mistake,
            });
        }
        all
    }

    /// The values a message carries as they appear in it (quoted where they are quoted).
    fn values(error: &ContactError) -> Vec<String> {
        message(error)
            .1
            .into_iter()
            .filter_map(|(_, value)| match value {
                Value::Text(text) => Some(text),
                Value::Number(_) => None,
            })
            .collect()
    }

    /// The English words of `text`: runs of three or more ASCII letters, leaving out the
    /// tokens that are code or examples rather than words (`--email`, `http://`,
    /// `!abc123:example.org`, `e-mail`: anything with a digit, `/`, `-`, `@`, `_`...).
    fn english_words(text: &str) -> BTreeSet<&str> {
        text.split_whitespace()
            .map(|token| {
                token.trim_matches(|c: char| ",;:.?()\"«»".contains(c) || c.is_whitespace())
            })
            .flat_map(|token| token.split('\''))
            .filter(|word| word.len() >= 3 && word.chars().all(|c| c.is_ascii_alphabetic()))
            .collect()
    }

    /// Names that read the same in every language.
    const NAMES: [&str; 6] = ["posbon", "URL", "Telegram", "Signal", "Matrix", "age"];

    #[test]
    fn the_catalogue_says_every_mistake_and_nothing_else() {
        let said: BTreeSet<&str> = every_mistake().iter().map(|e| message(e).0).collect();
        let written: BTreeSet<&str> = catalogue().messages().map(|(id, _)| id).collect();
        assert_eq!(said, written);
    }

    #[test]
    fn every_mistake_is_said_in_tajik_and_russian_with_no_english_left() {
        for error in every_mistake() {
            let english = said(Lang::En, &error);
            let values = values(&error);
            let without_values = |text: &str| {
                values
                    .iter()
                    .fold(text.to_string(), |text, value| text.replace(value, " "))
            };
            let english_left = without_values(&english);
            let in_english = english_words(&english_left);
            for lang in [Lang::Ru, Lang::Tg] {
                let text = said(lang, &error);
                for value in &values {
                    assert!(
                        text.contains(value),
                        "{lang:?} {error:?}: {value} in {text}"
                    );
                }
                let own = without_values(&text);
                assert!(
                    own.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
                    "{lang:?} {error:?}: {text}"
                );
                let left: Vec<&str> = english_words(&own)
                    .intersection(&in_english)
                    .copied()
                    .filter(|word| !NAMES.contains(word))
                    .collect();
                assert!(
                    left.is_empty(),
                    "{lang:?} {error:?}: English {left:?} in {text}"
                );
            }
        }
    }

    #[test]
    fn the_english_is_the_display_and_the_sentences_scripts_already_read() {
        for error in every_mistake() {
            assert_eq!(error.to_string(), said(Lang::En, &error));
        }
        let dilnoza = || "Dilnoza".to_string();
        for (error, expected) in [
            (
                ContactError::ChannelCount {
                    contact: dilnoza(),
                    max: 8,
                },
                "Dilnoza: give 1 to 8 channels (--email, --webhook, --telegram, --signal, --ntfy, --matrix)",
            ),
            (
                ContactError::InstructionsTooLong { max: 2_000 },
                "the instructions are longer than 2000 characters",
            ),
            (
                ContactError::BadChannel {
                    contact: dilnoza(),
                    channel: "email:x".into(),
                    mistake: ChannelMistake::NotEmail,
                },
                "Dilnoza: email:x: not an e-mail address",
            ),
            (
                ContactError::BadName {
                    name: "Dil\nnoza".into(),
                },
                "\"Dil\\nnoza\": a name (and role) of 1 to 100 characters, on one line",
            ),
            (
                ContactError::UnknownTimeZone {
                    contact: dilnoza(),
                    zone: "Asia/Dushanb".into(),
                },
                "Dilnoza: \"Asia/Dushanb\" is not a known time zone (like Asia/Dushanbe)",
            ),
        ] {
            assert_eq!(error.to_string(), expected);
        }
        // An unknown language reads as the language module says it.
        let unknown = UnknownLang("fr".into());
        assert_eq!(
            ContactError::from(unknown.clone()).to_string(),
            unknown.to_string()
        );
    }

    #[test]
    fn limits_take_the_russian_plural() {
        assert!(
            said(Lang::Ru, &ContactError::InstructionsTooLong { max: 2_000 })
                .starts_with("инструкции длиннее 2000 символов")
        );
        assert!(
            said(Lang::Ru, &ContactError::InstructionsTooLong { max: 21 })
                .starts_with("инструкции длиннее 21 символа")
        );
        assert!(
            said(Lang::Ru, &ContactError::TooManyContacts { max: 50 }).ends_with("50 контактов")
        );
    }
}
