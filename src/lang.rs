//! The three languages people read (Tajik in Cyrillic, Russian, English), and the text
//! hygiene every part shares: characters that hide or reorder text. The lowest layer of the
//! vocabulary, so that alerts, contacts and every face can use it without a circle.

use serde::{Deserialize, Serialize};

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

/// A language code posbon does not write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a language posbon writes (tg, ru, en)")]
pub struct UnknownLang(pub String);

/// Characters that render as nothing (or reorder text): a forged copy could hide behind them.
fn is_invisible(c: char) -> bool {
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
