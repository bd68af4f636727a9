//! The app's words in Tajik, Russian and English (`ftl/`), and the translator handed to every
//! page. The words live in the Fluent files; the code and the templates only name them.

use std::sync::OnceLock;

use crate::lang::Lang;
use crate::lang::catalogue::{Arg, Catalogue};

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "app",
            [
                (Lang::Tg, include_str!("ftl/tg.ftl")),
                (Lang::Ru, include_str!("ftl/ru.ftl")),
                (Lang::En, include_str!("ftl/en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the app's message catalogue: {e}"))
    })
}

/// The app's words in one language, as the templates call them.
#[derive(Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    /// The message `id`.
    pub fn get(&self, id: &str) -> String {
        catalogue().text(self.lang, id, &[])
    }

    /// The message `id` with one text variable.
    pub fn with(&self, id: &str, name: &str, value: &str) -> String {
        catalogue().text(self.lang, id, &[(name, Arg::Text(value))])
    }

    /// The message `id` with several text variables.
    pub fn args(&self, id: &str, args: &[(&str, &str)]) -> String {
        let args: Vec<(&str, Arg<'_>)> = args.iter().map(|(k, v)| (*k, Arg::Text(v))).collect();
        catalogue().text(self.lang, id, &args)
    }

    /// The message `id` with one number (plural rules apply).
    pub fn count(&self, id: &str, name: &str, value: i64) -> String {
        catalogue().text(self.lang, id, &[(name, Arg::Number(value))])
    }

    /// The language's code, for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_apps_catalogue_is_whole_in_every_language() {
        // Builds it: a missing message or variable in any language panics here.
        let words = super::Tr {
            lang: crate::lang::Lang::Tg,
        };
        assert_eq!(words.get("lang-name"), "Тоҷикӣ");
    }
}
