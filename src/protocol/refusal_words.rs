//! A watcher's refusal as the journalist reads it: the watcher answers with a stable code
//! (`bad_invite`, `stale_version`...; `docs/protocol.md`) and an English sentence, and the
//! journalist's side says the code in Tajik, Russian or English from one Fluent catalogue
//! (`ftl/refusals.*.ftl`), for the command line and the app alike. A code this side does
//! not know (a newer watcher's) keeps the watcher's own sentence.

use std::sync::OnceLock;

use crate::lang::Lang;
use crate::lang::catalogue::Catalogue;

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "refusals",
            [
                (Lang::Tg, include_str!("ftl/refusals.tg.ftl")),
                (Lang::Ru, include_str!("ftl/refusals.ru.ftl")),
                (Lang::En, include_str!("ftl/refusals.en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the refusals' message catalogue: {e}"))
    })
}

/// The codes a journalist's laptop can be answered with, each with its message. Not here:
/// `bad_plan` and `bad_contacts`, whose point is the watcher's detail (the laptop checks both
/// before sending, so a watcher refusing one is a watcher of another version).
const CODES: &[&str] = &[
    "bad_invite",
    "unknown_contact",
    "unknown_phone",
    "ambiguous_phone",
    "too_large",
    "bad_bundle",
    "too_many_bundles",
    "stale_version",
    "bundle_released",
    "alerts_under_way",
    "bad_pause",
    "too_many_attempts",
    "stale_timestamp",
    "replay",
    "malformed",
    "unavailable",
];

/// Why the watcher refused, in `lang`: the code's sentence, or `None` for a code unknown here.
pub fn said(lang: Lang, code: &str) -> Option<String> {
    CODES
        .contains(&code)
        .then(|| catalogue().text(lang, &format!("refused-{}", code.replace('_', "-")), &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_said_in_every_language_and_an_unknown_one_is_left_to_the_watcher() {
        for code in CODES {
            let english = said(Lang::En, code).unwrap();
            for lang in [Lang::Tg, Lang::Ru] {
                let text = said(lang, code).unwrap();
                assert_ne!(text, english, "{code}");
                assert!(
                    text.chars().any(|c| ('а'..='я').contains(&c)),
                    "{lang:?} {code}: {text}"
                );
            }
        }
        assert_eq!(said(Lang::Ru, "some_new_code"), None);
        // The catalogue holds no message that no code names.
        let named: Vec<String> = CODES
            .iter()
            .map(|c| format!("refused-{}", c.replace('_', "-")))
            .collect();
        for (id, _) in catalogue().messages() {
            assert!(named.iter().any(|n| n == id), "{id} is named by no code");
        }
    }
}
