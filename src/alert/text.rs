//! The words of alerts and of the pages behind their links: a Fluent catalogue (`ftl/`, one
//! file per language, editable by translators) built by [`crate::lang::catalogue`], which
//! refuses a language that lacks a message or a variable. The code names a message; the
//! translator owns the words.
//!
//! Variables are filled once and never read again: a journalist's name containing `{x}` or
//! `{ $x }` comes out as written. No Unicode isolation marks are put around them (the
//! catalogue turns them off): alerts are signed text read in mail and chat programs, and
//! `posbon alert verify` refuses invisible characters.

use std::sync::OnceLock;

use crate::lang::Lang;
use crate::lang::catalogue::{Arg, Catalogue};

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "alert",
            [
                (Lang::Tg, include_str!("ftl/tg.ftl")),
                (Lang::Ru, include_str!("ftl/ru.ftl")),
                (Lang::En, include_str!("ftl/en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the alerts' message catalogue: {e}"))
    })
}

/// The message `key` in `lang` with its variables filled from `args` (variables a message
/// does not use are ignored).
pub fn render(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, Arg<'_>)> = args.iter().map(|(k, v)| (*k, Arg::Text(v))).collect();
    catalogue().text(lang, key, &args)
}

/// [`render`] for a message that depends on a number, `$count` (one alert or several).
pub fn render_count(lang: Lang, key: &str, count: usize, args: &[(&str, &str)]) -> String {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let mut all: Vec<(&str, Arg<'_>)> = vec![("count", Arg::Number(count))];
    all.extend(args.iter().map(|(k, v)| (*k, Arg::Text(v))));
    catalogue().text(lang, key, &all)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message in `lang`, each variable filled with `value`.
    fn every_message(lang: Lang, value: &str) -> Vec<(String, String)> {
        catalogue()
            .messages()
            .map(|(id, names)| {
                let args: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), value)).collect();
                (id.to_string(), render(lang, id, &args))
            })
            .collect()
    }

    #[test]
    fn the_alerts_catalogue_is_whole_in_every_language() {
        // Building it checks every language for every message and variable.
        assert!(catalogue().messages().count() > 40);
        for lang in Lang::ALL {
            for (id, text) in every_message(lang, "X") {
                assert!(!text.trim().is_empty(), "{}/alert.ftl: {id}", lang.code());
                assert!(
                    !text.contains('{'),
                    "{}/alert.ftl: {id}: {text}",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn translations_are_in_their_own_script() {
        // A file copied from English and never translated would pass the check above.
        for lang in [Lang::Ru, Lang::Tg] {
            for (id, text) in every_message(lang, "X") {
                assert!(
                    text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
                    "{}/alert.ftl: {id} is not in Cyrillic: {text}",
                    lang.code()
                );
            }
        }
        // Tajik has letters Russian lacks; their absence would mean Russian was pasted in.
        let tajik: String = every_message(Lang::Tg, "X")
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        assert!(tajik.chars().any(|c| "ғӣқӯҳҷ".contains(c)));
    }

    #[test]
    fn the_words_follow_the_glossary() {
        // docs/glossary.md: the acknowledgement button, and terms a reader found astray.
        assert_eq!(render(Lang::Tg, "ack-page-button", &[]), "Ба ӯҳда мегирам");
        assert_eq!(render(Lang::Ru, "ack-page-button", &[]), "Беру на себя");
        let all = |lang| -> String {
            every_message(lang, "X")
                .into_iter()
                .map(|(_, text)| text + "\n")
                .collect()
        };
        let (tajik, russian) = (all(Lang::Tg), all(Lang::Ru));
        // Watcher is «нозир»; sealed is «мӯҳрзада»; a missed check-in is not a "spent" one.
        for astray in ["назоратӣ", "мӯҳршуда", "сарфшуда", "Ман ба ӯҳда"]
        {
            assert!(!tajik.contains(astray), "tg: {astray}");
        }
        assert!(tajik.contains("нозир") && tajik.contains("мӯҳрзада"));
        // A step is «шаг», the sealing key «ключ запечатывания».
        for astray in ["этап", "ключа печати", "ключ печати"] {
            assert!(!russian.contains(astray), "ru: {astray}");
        }
        assert!(russian.contains("шаг плана") && russian.contains("ключа запечатывания"));
    }

    #[test]
    fn values_are_filled_once_and_never_expanded_nor_isolated() {
        for lang in Lang::ALL {
            let text = render(
                lang,
                "title-step",
                &[("name", "{step} { $step } {{"), ("step", "tier 1")],
            );
            assert!(text.contains("{step} { $step } {{"), "{text}");
            assert!(text.contains("tier 1"), "{text}");
            for (id, text) in every_message(lang, "{ $name }") {
                assert!(!crate::lang::has_invisible(&text), "{id}: {text:?}");
            }
        }
        let text = render(Lang::Ru, "missed", &[("name", "Рустам")]);
        assert!(text.starts_with("Рустам ") && !text.contains('{'), "{text}");
    }

    #[test]
    fn one_alert_or_several_is_said_in_the_right_number() {
        let clear = |lang, n| {
            let args = ["name", "local", "tz", "utc"].map(|k| (k, "x"));
            render_count(
                lang,
                "all-clear",
                n,
                &[&args[..], &[("alert", "a")]].concat(),
            )
        };
        assert!(clear(Lang::Ru, 1).contains("Тревога a снята"));
        // A list of 21 alerts is plural, though Russian says "21 тревога".
        assert!(clear(Lang::Ru, 21).contains("Тревоги a сняты"));
        assert!(clear(Lang::Tg, 2).contains("Ҳушдорҳои a"));
        assert!(clear(Lang::En, 1).contains("The alert a is over"));
    }
}
