//! How hard a new passphrase is to guess, estimated with zxcvbn (Dropbox's estimator: common
//! passwords, dictionary words, names, keyboard patterns, dates, repeats, l33t), so that the
//! faces can refuse the weakest with a reason.
//!
//! zxcvbn's dictionaries are English; Russian and Tajik passwords are matched only through
//! [`COMMON_HERE`], a short list of the words people here reach for first, which zxcvbn
//! treats as user inputs.

use super::Passphrase;

/// zxcvbn's score at least this: "safely unguessable", about 10^10 guesses or more, which
/// the vault's memory-hard KDF makes years of work for a seized laptop.
pub const MIN_SCORE: u8 = 3;

/// Words that Russian and Tajik speakers put in passwords and that zxcvbn does not know:
/// "password" and greetings, places, names of the country and the project, in Cyrillic and
/// in Latin letters and as typed on an English keyboard (`gfhjkm` is `пароль`).
const COMMON_HERE: &[&str] = &[
    "пароль",
    "парол",
    "parol",
    "gfhjkm",
    "привет",
    "privet",
    "салом",
    "salom",
    "любовь",
    "lyubov",
    "душанбе",
    "dushanbe",
    "таджикистан",
    "tajikistan",
    "тоҷикистон",
    "точикистон",
    "худжанд",
    "хуҷанд",
    "khujand",
    "ватан",
    "vatan",
    "модар",
    "мама",
    "папа",
    "qwerty",
    "йцукен",
    "qwertyuiop",
    "posbon",
    "посбон",
    "nansmit",
    "нансмит",
    "журналист",
    "zhurnalist",
    "свобода",
    "svoboda",
    "озодӣ",
    "озоди",
    "ozodi",
    "аллах",
    "allah",
    "бахт",
    "baxt",
    "solnce",
    "солнце",
    "наташа",
    "natasha",
    "admin",
    "админ",
];

/// What the estimator says of a passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strength {
    /// 0 (guessed at once) to 4 (very hard).
    pub score: u8,
    /// About 10 to this many guesses.
    pub guesses_log10: u32,
    /// Why it is weak, when the estimator can say ("This is a top-100 common password.").
    pub warning: Option<String>,
}

impl Strength {
    pub fn acceptable(&self) -> bool {
        self.score >= MIN_SCORE
    }
}

/// Estimates `passphrase`; `context` holds words an attacker would try first for this user
/// (the vault's folder name, say).
pub fn estimate(passphrase: &Passphrase, context: &[&str]) -> Strength {
    let mut inputs: Vec<&str> = COMMON_HERE.to_vec();
    inputs.extend_from_slice(context);
    // zxcvbn copies parts of the passphrase into its own (unzeroized) matches; they live only
    // for this call. Past 100 characters it is slow and the passphrase is long enough anyway.
    let text: String = passphrase.expose().chars().take(100).collect();
    let text = zeroize::Zeroizing::new(text);
    let lowered = zeroize::Zeroizing::new(text.to_lowercase());
    let estimate = zxcvbn::zxcvbn(&lowered, &inputs);
    let warning = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| w.to_string());
    Strength {
        score: u8::from(estimate.score()),
        guesses_log10: estimate.guesses_log10().floor().max(0.0) as u32,
        warning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(text: &str) -> Strength {
        estimate(&Passphrase::new(text.to_string()), &[])
    }

    #[test]
    fn the_weakest_are_refused_and_long_phrases_pass() {
        for weak in [
            "secret",
            "Password1!",
            "qwerty123",
            "пароль123",
            "Пароль2026",
            "gfhjkm",
            "Dushanbe2026",
            "душанбе1991",
            "posbon",
            "11111111",
        ] {
            let strength = score(weak);
            assert!(!strength.acceptable(), "{weak:?} passed: {strength:?}");
        }
        for strong in [
            "correct horse battery staple",
            "umbrella sideways pelican",
            "дарёи Варзоб саҳар ором аст",
            "a quiet river at dawn",
        ] {
            let strength = score(strong);
            assert!(strength.acceptable(), "{strong:?} refused: {strength:?}");
        }
        assert!(score("secret").warning.is_some());
    }
}
