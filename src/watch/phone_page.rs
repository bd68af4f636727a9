//! The phone page as the watcher serves it: `phone.html` with the words of every language
//! put in from one catalogue (`ftl/phone.*.ftl`), as every other face takes its words from
//! Fluent. The page chooses among the three itself (the phone's setting, else its browser's
//! language), so one page serves every phone and nothing about a phone is needed to build it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::lang::Lang;
use crate::lang::catalogue::{Arg, Catalogue};

/// The page, with `__POSBON_WORDS__` where its script's words go.
const TEMPLATE: &str = include_str!("phone.html");
const WORDS_MARK: &str = "__POSBON_WORDS__";

/// The variables the page's script fills in itself; the catalogue's `{ $n }` becomes `{n}`.
const PAGE_MARKERS: [&str; 3] = ["n", "w", "ok"];

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "phone",
            [
                (Lang::Tg, include_str!("ftl/phone.tg.ftl")),
                (Lang::Ru, include_str!("ftl/phone.ru.ftl")),
                (Lang::En, include_str!("ftl/phone.en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the phone page's message catalogue: {e}"))
    })
}

/// The page's words: `{"tg": {id: text}, "ru": ..., "en": ...}` as a JavaScript value.
fn words_json() -> String {
    let markers: Vec<(String, String)> = PAGE_MARKERS
        .iter()
        .map(|name| (name.to_string(), format!("{{{name}}}")))
        .collect();
    let args: Vec<(&str, Arg<'_>)> = markers
        .iter()
        .map(|(name, marker)| (name.as_str(), Arg::Text(marker)))
        .collect();
    let words = catalogue();
    let all: BTreeMap<&str, BTreeMap<&str, String>> = Lang::ALL
        .iter()
        .map(|&lang| {
            let texts = words
                .messages()
                .map(|(id, _)| (id, words.text(lang, id, &args)))
                .collect();
            (lang.code(), texts)
        })
        .collect();
    let json = serde_json::to_string(&all).expect("strings always serialise");
    // Inside a <script>, "</script>" or "<!--" in a word would end or change the script; a
    // translator's "<" is written as its JSON escape, which means the same to the script.
    json.replace('<', "\\u003c")
}

/// The page as served, built once.
pub fn html() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| TEMPLATE.replacen(WORDS_MARK, &words_json(), 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_carries_every_word_of_every_language_and_no_fluent_syntax() {
        let page = html();
        assert!(!page.contains(WORDS_MARK));
        let start = page.find("var T=").expect("the words' variable") + "var T=".len();
        let end = start + page[start..].find(";\n").expect("the end of the words");
        let words: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_str(&page[start..end]).expect("the words are JSON");
        assert_eq!(
            words.keys().map(String::as_str).collect::<Vec<_>>(),
            ["en", "ru", "tg"]
        );
        let ids: Vec<&str> = catalogue().messages().map(|(id, _)| id).collect();
        for (lang, texts) in &words {
            assert_eq!(texts.keys().map(String::as_str).collect::<Vec<_>>(), ids);
            for (id, text) in texts {
                assert!(!text.trim().is_empty(), "{lang}/{id} is empty");
                // A variable left in Fluent's form would be shown to the journalist as is.
                assert!(!text.contains('$'), "{lang}/{id}: {text}");
            }
        }
        assert_eq!(
            words["en"]["too_many"],
            "Too many attempts. Try again in {n}."
        );
        assert_eq!(words["tg"]["watchers"], "Нозирони шумо: {w}");
        assert_eq!(words["ru"]["months"].split(' ').count(), 12);
        assert_eq!(words["tg"]["months"].split(' ').nth(10), Some("ноябри"));
    }

    #[test]
    fn every_word_the_script_asks_for_is_in_the_catalogue() {
        // t("id") in the script, and the ids the page names in data-t and in say(...): a
        // word the catalogue lacks would show as nothing on a phone.
        let ids: Vec<&str> = catalogue().messages().map(|(id, _)| id).collect();
        let mut asked = Vec::new();
        for (open, close) in [("t(\"", "\")"), ("data-t=\"", "\""), ("say(\"", "\"")] {
            let mut rest = TEMPLATE;
            while let Some(at) = rest.find(open) {
                // t(" ends split(" ") too: only a name standing alone is a call of t.
                let alone = !rest[..at].ends_with(|c: char| c.is_ascii_alphanumeric());
                rest = &rest[at + open.len()..];
                let end = rest.find(close).expect("a closed name");
                if alone {
                    asked.push(&rest[..end]);
                }
            }
        }
        assert!(asked.len() > 15, "the page names its words: {asked:?}");
        for id in asked {
            assert!(ids.contains(&id), "the page asks for {id:?}");
        }
    }

    #[test]
    fn a_translators_angle_bracket_cannot_end_the_script() {
        let json = words_json();
        assert!(!json.contains('<'));
    }
}
