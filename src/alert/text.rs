//! The alert templates, one TOML file per language in `lang/`, compiled into the binary.
//! A placeholder is written `{name}`; [`render`] fills them. Every language must have every
//! key with the same placeholders: the tests below check it, so a translator's slip fails the
//! build's tests rather than an alert in the field.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::protocol::contacts::Lang;

fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("lang/en.toml"),
        Lang::Ru => include_str!("lang/ru.toml"),
        Lang::Tg => include_str!("lang/tg.toml"),
    }
}

fn table(lang: Lang) -> &'static HashMap<String, String> {
    static TABLES: OnceLock<[HashMap<String, String>; 3]> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        Lang::ALL.map(|lang| {
            toml::from_str(source(lang))
                .unwrap_or_else(|e| panic!("lang/{}.toml is not valid: {e}", lang.code()))
        })
    });
    let index = Lang::ALL
        .iter()
        .position(|l| *l == lang)
        .expect("every language is in ALL");
    &tables[index]
}

/// The message `key` in `lang` with its placeholders filled from `args`. A key missing in a
/// language falls back to English (the tests make sure that never happens).
pub fn render(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let template = table(lang)
        .get(key)
        .or_else(|| table(Lang::En).get(key))
        .unwrap_or_else(|| panic!("no alert text {key:?}"));
    fill(template, args)
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    // One pass, so that a value containing "{x}" (a journalist's name, say) is never expanded.
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders a template uses.
#[cfg(test)]
fn placeholders(template: &str) -> std::collections::BTreeSet<String> {
    template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_message_with_the_same_placeholders() {
        let english = table(Lang::En);
        assert!(english.len() > 20);
        for lang in Lang::ALL {
            let other = table(lang);
            for (key, template) in english {
                let translated = other
                    .get(key)
                    .unwrap_or_else(|| panic!("lang/{}.toml misses {key}", lang.code()));
                assert_eq!(
                    placeholders(translated),
                    placeholders(template),
                    "lang/{}.toml, {key}: the placeholders differ from English",
                    lang.code()
                );
                assert!(!translated.trim().is_empty());
            }
            for key in other.keys() {
                assert!(
                    english.contains_key(key),
                    "lang/{}.toml has {key}, which English lacks",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn translations_are_in_their_own_script() {
        // A file copied from English and never translated would pass the check above.
        for lang in [Lang::Ru, Lang::Tg] {
            let cyrillic = table(lang)
                .values()
                .filter(|t| t.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)))
                .count();
            assert_eq!(cyrillic, table(lang).len(), "lang/{}.toml", lang.code());
        }
        // Tajik has letters Russian lacks; their absence would mean Russian was pasted in.
        let tajik: String = table(Lang::Tg).values().cloned().collect();
        assert!(tajik.chars().any(|c| "ғӣқӯҳҷ".contains(c)));
    }

    #[test]
    fn values_are_filled_once_and_never_expanded() {
        assert_eq!(
            fill(
                "{name} missed {step}",
                &[("name", "{step}"), ("step", "tier 1")]
            ),
            "{step} missed tier 1"
        );
        assert_eq!(fill("no close {brace", &[]), "no close {brace");
        let text = render(Lang::Ru, "missed", &[("name", "Рустам")]);
        assert!(text.contains("Рустам") && !text.contains('{'));
    }
}
