//! The command line's words in Tajik, Russian and English (`ftl/`), in the language chosen
//! once at start: `--lang`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), else English.
//! The English file holds the very texts the command line printed before it was translated,
//! so scripts and tests that read English are unaffected.

use std::sync::OnceLock;

use crate::lang::Lang;
use crate::lang::catalogue::{Arg, Catalogue};

static LANG: OnceLock<Lang> = OnceLock::new();

/// Chooses the language for this run; the first call wins.
pub(super) fn set(lang: Lang) {
    let _ = LANG.set(lang);
}

/// The language of this run.
pub(super) fn lang() -> Lang {
    *LANG.get_or_init(crate::lang::from_locale)
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "cli",
            [
                (Lang::Tg, include_str!("ftl/tg.ftl")),
                (Lang::Ru, include_str!("ftl/ru.ftl")),
                (Lang::En, include_str!("ftl/en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the command line's message catalogue: {e}"))
    })
}

/// The message `id`.
pub(super) fn t(id: &str) -> String {
    catalogue().text(lang(), id, &[])
}

/// The message `id` with text variables.
pub(super) fn with(id: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, Arg<'_>)> = args.iter().map(|(k, v)| (*k, Arg::Text(v))).collect();
    catalogue().text(lang(), id, &args)
}

/// The message `id` with text variables, in `lang` rather than this run's language.
pub(super) fn with_in(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, Arg<'_>)> = args.iter().map(|(k, v)| (*k, Arg::Text(v))).collect();
    catalogue().text(lang, id, &args)
}

/// The message `id` with one number (plural rules apply) and text variables.
pub(super) fn count(id: &str, name: &str, n: i64, args: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, Arg<'_>)> = vec![(name, Arg::Number(n))];
    all.extend(args.iter().map(|(k, v)| (*k, Arg::Text(v))));
    catalogue().text(lang(), id, &all)
}

/// The message `id` with several numbers (plural rules apply to each) and text variables.
pub(super) fn counts(id: &str, numbers: &[(&str, i64)], args: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, Arg<'_>)> =
        numbers.iter().map(|(k, n)| (*k, Arg::Number(*n))).collect();
    all.extend(args.iter().map(|(k, v)| (*k, Arg::Text(v))));
    catalogue().text(lang(), id, &all)
}

/// "cannot read PATH", the context of every file the command line reads.
pub(super) fn cannot_read(path: &std::path::Path) -> String {
    with("cannot-read", &[("path", &path.display().to_string())])
}

/// A vault error in the reader's words, for the errors every command can meet; `None` for
/// the rest, which keep the library's English text.
pub(super) fn vault_error(error: &crate::vault::VaultError) -> Option<String> {
    use crate::vault::VaultError;
    Some(match error {
        VaultError::WrongPassphrase => t("error-wrong-passphrase"),
        VaultError::NotFound(dir) => with("error-no-vault", &[("dir", &dir.display().to_string())]),
        VaultError::InUse(dir) => with("error-in-use", &[("dir", &dir.display().to_string())]),
        VaultError::NoSuchRecord(id) => with("error-no-record", &[("id", id)]),
        VaultError::AmbiguousId(id) => with("error-ambiguous-id", &[("id", id)]),
        VaultError::TamperedRecord { id } => with("error-tampered", &[("id", id)]),
        VaultError::Damaged(why) => with("error-damaged", &[("why", why)]),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_lines_catalogue_is_whole_in_every_language() {
        // Building it checks every language for every message and variable.
        super::catalogue();
    }

    #[test]
    fn english_plurals_and_lines_are_those_printed_before() {
        use crate::lang::Lang;
        use crate::lang::catalogue::Arg::{Number, Text};
        let english = |id, args: &[(&str, crate::lang::catalogue::Arg<'_>)]| {
            super::catalogue().text(Lang::En, id, args)
        };
        assert_eq!(
            english(
                "watch-remove-confirm",
                &[
                    ("phones", Number(1)),
                    ("bundles", Number(2)),
                    ("name", Text("Nilufar")),
                    ("id", Text("ab12")),
                    ("time", Text("today"))
                ]
            ),
            "This removes Nilufar (id ab12, enrolled today) from this watcher: their plan, \
             contacts, 1 phone and 2 sealed bundles are deleted, and they are no longer watched. \
             Alerts already in the outbox still go out.\nType their name to go ahead"
        );
        assert_eq!(
            english("recovery-key-shown", &[("recipient", Text("age1x"))]),
            "This is your recovery key. It is shown once: write it on paper or give it to \
             someone you trust.\nIt opens the vault without the passphrase: posbon \
             --recovery-key-file FILE ...\nIts public recipient, for `posbon backup export \
             --to`: age1x"
        );
        assert_eq!(
            english(
                "watch-journalist-holds",
                &[
                    ("phones", Number(0)),
                    ("bundles", Number(1)),
                    ("contacts", Number(2))
                ]
            ),
            "0 phones, 1 sealed bundle, 2 contacts"
        );
    }

    #[test]
    fn the_words_follow_the_glossary() {
        use crate::lang::Lang;
        let all = |lang| -> String {
            let catalogue = super::catalogue();
            catalogue
                .messages()
                .map(|(id, names)| {
                    let args: Vec<_> = names
                        .iter()
                        .map(|k| (k.as_str(), crate::lang::catalogue::Arg::Text("X")))
                        .collect();
                    catalogue.text(lang, id, &args) + "\n"
                })
                .collect()
        };
        let (tajik, russian) = (all(Lang::Tg), all(Lang::Ru));
        // docs/glossary.md: watcher «нозир», sealed «мӯҳрзада», tier «гурӯҳ» (not «доира»),
        // fingerprint «нишонаи калид» (not «изи калид»), check-in not «қайд».
        for astray in [
            "назоратӣ",
            "мӯҳршуда",
            "сарфшуда",
            "доираи",
            "изи калид",
            "қайд",
        ] {
            assert!(!tajik.contains(astray), "tg: {astray}");
        }
        assert!(tajik.contains("нишонаи калиди мӯҳр") && tajik.contains("бастаи мӯҳрзада"));
        for astray in ["этап", "ключ печати", "ключа печати", "уровень"]
        {
            assert!(!russian.contains(astray), "ru: {astray}");
        }
        assert!(russian.contains("отпечаток ключа") && russian.contains("ключом запечатывания"));
        // Units in the reader's script, never mixed with the English ones; no English marker.
        for (lang, text) in [("tg", &tajik), ("ru", &russian)] {
            for english in ["KiB", "MiB", "GiB", "WARNING", "bytes"] {
                assert!(!text.contains(english), "{lang}: {english}");
            }
        }
        for lang in [Lang::Tg, Lang::Ru] {
            let unit = |unit| {
                let args = [("unit", crate::lang::catalogue::Arg::Text(unit))];
                super::catalogue().text(lang, "size-unit", &args)
            };
            assert_eq!((unit("KiB"), unit("MiB")), ("КиБ".into(), "МиБ".into()));
        }
        assert!(tajik.contains("ДИҚҚАТ") && russian.contains("ВНИМАНИЕ"));
        assert!(!tajik.contains("наблюдател") && !russian.contains("нозир"));
    }

    #[test]
    fn every_message_is_said_in_every_language_whatever_its_variables_hold() {
        use crate::lang::Lang;
        use crate::lang::catalogue::Arg;
        let catalogue = super::catalogue();
        for (id, names) in catalogue.messages() {
            for lang in [Lang::Tg, Lang::Ru, Lang::En] {
                // Numbers pick each plural form; words pick each selector's default.
                for n in [0, 1, 2, 5, 21] {
                    let numbers: Vec<(&str, Arg<'_>)> =
                        names.iter().map(|k| (k.as_str(), Arg::Number(n))).collect();
                    let text = catalogue.text(lang, id, &numbers);
                    assert!(
                        !text.trim().is_empty() || id == "field-hint",
                        "{id} in {lang:?}"
                    );
                    assert!(!text.contains('{'), "{id} in {lang:?}: {text}");
                    assert!(!crate::lang::has_invisible(&text), "{id} in {lang:?}");
                }
                let words: Vec<(&str, Arg<'_>)> = names
                    .iter()
                    .map(|k| (k.as_str(), Arg::Text("source")))
                    .collect();
                catalogue.text(lang, id, &words);
            }
        }
    }
}
