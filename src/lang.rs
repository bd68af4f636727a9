//! The three languages people read (Tajik in Cyrillic, Russian, English), and the text
//! hygiene every part shares: characters that hide or reorder text. The lowest layer of the
//! vocabulary, so that alerts, contacts and every face can use it without a circle.

use serde::{Deserialize, Serialize};

pub mod catalogue;

/// The languages posbon writes: every word a person reads comes in all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Tajik (Cyrillic).
    Tg,
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Tg, Lang::Ru, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Tg => "tg",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    pub fn parse(text: &str) -> Result<Self, UnknownLang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tg" => Ok(Lang::Tg),
            "ru" => Ok(Lang::Ru),
            "en" => Ok(Lang::En),
            other => Err(UnknownLang(other.to_string())),
        }
    }
}

/// The language of the user's locale (`LC_ALL`, then `LC_MESSAGES`, then `LANG`, as the C
/// library reads them): `tg_TJ.UTF-8` is Tajik, `ru_RU.UTF-8` Russian; anything else, or
/// nothing, is English.
pub fn from_locale() -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .map(|value| locale_lang(&value))
        .unwrap_or(Lang::En)
}

/// `tg_TJ.UTF-8`, `ru`, `ru-RU` → their language; anything else English.
pub fn locale_lang(locale: &str) -> Lang {
    let language = locale
        .split(['_', '-', '.', '@'])
        .next()
        .unwrap_or_default();
    Lang::parse(language).unwrap_or(Lang::En)
}

/// A language code posbon does not write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a language posbon writes (tg, ru, en)")]
pub struct UnknownLang(pub String);

/// Characters that render as nothing (or reorder text): a forged copy could hide behind them.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
}

/// Whether `text` has a character that could hide or disguise text.
pub fn has_invisible(text: &str) -> bool {
    text.trim_start_matches('\u{FEFF}')
        .chars()
        .any(is_invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locale_names_its_language_and_anything_else_is_english() {
        assert_eq!(locale_lang("tg_TJ.UTF-8"), Lang::Tg);
        assert_eq!(locale_lang("ru_RU.UTF-8@euro"), Lang::Ru);
        assert_eq!(locale_lang("ru-RU"), Lang::Ru);
        assert_eq!(locale_lang("ru"), Lang::Ru);
        for other in ["C", "POSIX", "de_DE.UTF-8", "C.UTF-8", ""] {
            assert_eq!(locale_lang(other), Lang::En, "{other}");
        }
    }
}
