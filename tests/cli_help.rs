//! `posbon --help` and each command's help in the reader's language: Tajik from the locale,
//! Russian from `--lang`, English (as clap derive writes it) otherwise, with clap's own
//! headings translated too.

use std::process::{Command, Output};

/// The real binary with a clean language environment, `lang` as LANG, and `args`.
fn posbon(lang: &str, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_posbon"))
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("POSBON_LANG")
        .env("LANG", lang)
        .args(args)
        .output()
        .expect("posbon runs");
    assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
    output
}

fn help(lang: &str, args: &[&str]) -> String {
    String::from_utf8(posbon(lang, args).stdout).expect("the help is UTF-8")
}

/// No English that clap or args.rs would have written is left in a translated help.
fn no_english(text: &str, english: &[&str]) {
    for words in [
        "Usage:",
        "Options:",
        "Commands:",
        "Arguments:",
        "Print help",
    ]
    .iter()
    .chain(english)
    {
        assert!(!text.contains(words), "{words:?} in:\n{text}");
    }
}

#[test]
fn the_help_is_tajik_in_a_tajik_locale() {
    let top = help("tg_TJ.UTF-8", &["--help"]);
    for words in [
        "Истифода:",
        "Фармонҳо:",
        "Параметрҳо:",
        "анбор",
        "нозир",
        "--vault <DIR>",
    ] {
        assert!(top.contains(words), "{words:?} in:\n{top}");
    }
    no_english(
        &top,
        &[
            "posbon keeps sources",
            "Check in with every enrolled watcher",
        ],
    );
    let short = help("tg_TJ.UTF-8", &["-h"]);
    assert!(short.contains("Анбори рамзгузоришуда"), "{short}");
    no_english(&short, &["An encrypted vault", "Print version"]);

    let checkin = help("tg_TJ.UTF-8", &["checkin", "--help"]);
    assert!(checkin.contains("нозирони пайвастшуда"), "{checkin}");
    assert!(checkin.contains("Истифода: posbon checkin"), "{checkin}");
    no_english(&checkin, &["Check in with every enrolled watcher"]);

    let seal = help("tg_TJ.UTF-8", &["release", "add", "-h"]);
    for words in ["Аргументҳо:", "<RECORDS>", "--to <CONTACT>", "мӯҳр"] {
        assert!(seal.contains(words), "{words:?} in:\n{seal}");
    }
    no_english(
        &seal,
        &["Seal records", "A contact with an --age-recipient"],
    );

    // clap's `help` command shows the same help.
    let key = help("tg_TJ.UTF-8", &["help", "release", "key"]);
    assert!(key.contains("Нишонаи калиди мӯҳр"), "{key}");
    no_english(&key, &["Show the fingerprint"]);
}

#[test]
fn the_help_is_russian_with_lang_ru_whatever_the_locale() {
    let top = help("C", &["--lang", "ru", "--help"]);
    for words in [
        "Использование:",
        "Команды:",
        "Параметры:",
        "хранилище",
        "наблюдател",
    ] {
        assert!(top.contains(words), "{words:?} in:\n{top}");
    }
    no_english(&top, &["posbon keeps sources", "Print version"]);

    let checkin = help("tg_TJ.UTF-8", &["--lang=ru", "checkin", "--help"]);
    assert!(checkin.contains("отмет"), "{checkin}");
    no_english(&checkin, &["Check in with every enrolled watcher"]);

    let plan = help("C", &["plan", "set", "--help", "--lang", "ru"]);
    assert!(plan.contains("запас времени"), "{plan}");
    no_english(&plan, &["How long after a missed deadline"]);
}

#[test]
fn the_help_stays_english_in_the_c_locale() {
    let top = help("C", &["--help"]);
    for words in [
        "posbon keeps sources, drafts and case notes in an encrypted vault.",
        "Usage: posbon [OPTIONS] <COMMAND>",
        "Commands:",
        "Options:",
        "Print help",
        "Print version",
        "[env: POSBON_VAULT=]",
    ] {
        assert!(top.contains(words), "{words:?} in:\n{top}");
    }
    assert!(help("C", &["-h"]).contains("An encrypted vault and a dead-man's switch"));
    let checkin = help("C", &["checkin", "--help"]);
    assert!(
        checkin.contains("Check in with every enrolled watcher"),
        "{checkin}"
    );
    assert!(!checkin.contains("ҳузур") && !checkin.contains("отмет"));
}
