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

/// The message `id` with one number (plural rules apply) and text variables.
pub(super) fn count(id: &str, name: &str, n: i64, args: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, Arg<'_>)> = vec![(name, Arg::Number(n))];
    all.extend(args.iter().map(|(k, v)| (*k, Arg::Text(v))));
    catalogue().text(lang(), id, &all)
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
}
