//! clap's help in the reader's language: every command's about, every argument's help and
//! clap's own words (`Usage`, `Options`, `Print help`...) in Tajik or Russian, from
//! `ftl/help.*.ftl`. In English the help is clap's, as derive made it from the doc comments
//! in `args`, untouched; `help.en.ftl` holds a copy of those texts that a test keeps equal to
//! them, so a new command or flag fails a test until it has its words in every language.
//!
//! A message id names where a text is: `contact-add` is that command's about and
//! `contact-add-more` its long about; `contact-add--lang` an argument's help (by clap's id),
//! `...--lang-more` its long help, `...--lang--VALUE` a possible value's help; the global
//! options are the root's (`posbon--vault`), and clap's own words are `clap-*`.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use clap::{Arg, Command};

use crate::lang::Lang;
use crate::lang::catalogue::Catalogue;

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "help",
            [
                (Lang::Tg, include_str!("ftl/help.tg.ftl")),
                (Lang::Ru, include_str!("ftl/help.ru.ftl")),
                (Lang::En, include_str!("ftl/help.en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the command line's help catalogue: {e}"))
    })
}

/// The id of the root command, whose about and global options the others share.
const ROOT: &str = "posbon";

/// clap's built-in texts, as clap 4 writes them, and the messages that say them.
const BUILT_IN: &[(&str, &str)] = &[
    ("Print help", "clap-help"),
    ("Print help (see more with '--help')", "clap-help-more"),
    ("Print help (see a summary with '-h')", "clap-help-summary"),
    ("Print version", "clap-version"),
    (
        "Print this message or the help of the given subcommand(s)",
        "clap-help-command",
    ),
];

/// `cmd` (clap's tree, as `Cli::command()` makes it) with its help in `lang`. In English it
/// is `cmd` itself, unbuilt and untouched.
pub(super) fn in_lang(cmd: Command, lang: Lang) -> Command {
    if lang == Lang::En {
        return cmd;
    }
    let catalogue = catalogue();
    let known: BTreeSet<&str> = catalogue.messages().map(|(id, _)| id).collect();
    // A text without a message (a slip the tests catch) stays as clap has it.
    let mut say = |id: &str, english: &str| {
        if known.contains(id) {
            catalogue.text(lang, id, &[])
        } else {
            english.to_string()
        }
    };
    // Built, so that clap's own `--help`, `--version` and `help` command, and the global
    // options in every command, are there to be translated.
    let mut cmd = cmd;
    cmd.build();
    walk(cmd, "", &mut say, true)
}

/// Every text of the help by message id, as clap has it in English, in the order of the
/// tree (a global option once, under the root).
#[cfg(test)]
fn english_texts(cmd: Command) -> Vec<(String, String)> {
    let mut cmd = cmd;
    cmd.build();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut record = |id: &str, english: &str| {
        if !found.iter().any(|(seen, _)| seen == id) {
            found.push((id.to_string(), english.to_string()));
        }
        english.to_string()
    };
    let _ = walk(cmd, "", &mut record, true);
    found
}

/// A text's words: called with a message id and the English text, answers the words to show.
type Say<'a> = dyn FnMut(&str, &str) -> String + 'a;

/// `cmd` (at `path`, "" for the root) and its subcommands with every text `say`s; with
/// `dress`, also clap's headings and bracketed notes in the same words.
fn walk(mut cmd: Command, path: &str, say: &mut Say<'_>, dress: bool) -> Command {
    let here = if path.is_empty() { ROOT } else { path };
    if let Some(about) = cmd.get_about().map(ToString::to_string) {
        cmd = cmd.about(say(here, &about));
    }
    if let Some(about) = cmd.get_long_about().map(ToString::to_string) {
        cmd = cmd.long_about(say(&format!("{here}-more"), &about));
    }
    // A hidden argument shows nowhere: it has no words to translate.
    cmd = cmd.mut_args(|arg| {
        if arg.is_hide_set() {
            arg
        } else {
            argument(arg, here, say, dress)
        }
    });
    if dress {
        cmd = headings(cmd, say);
    }
    cmd.mut_subcommands(|sub| {
        let name = sub.get_name().to_string();
        if name == "help"
            && sub
                .get_about()
                .is_some_and(|a| built_in(&a.to_string()).is_some())
        {
            // clap's own `help` command: its about only (what it holds are copies).
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            let id = built_in(&about).unwrap_or_default();
            return sub.about(say(id, &about));
        }
        if sub.is_hide_set() {
            return sub;
        }
        let path = if path.is_empty() {
            name
        } else {
            format!("{path}-{name}")
        };
        walk(sub, &path, say, dress)
    })
}

fn built_in(english: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .find(|(text, _)| *text == english)
        .map(|(_, id)| *id)
}

/// One argument's help, long help and possible values' help; with `dress`, clap's
/// bracketed notes (`[default: ...]`, `[env: ...]`, `[possible values: ...]`) in words too.
fn argument(mut arg: Arg, here: &str, say: &mut Say<'_>, dress: bool) -> Arg {
    let id = arg.get_id().to_string();
    let base = if arg.is_global_set() {
        format!("{ROOT}--{id}")
    } else {
        format!("{here}--{id}")
    };
    let mut help = arg.get_help().map(ToString::to_string).map(|english| {
        let message = built_in(&english).map_or_else(|| base.clone(), str::to_string);
        say(&message, &english)
    });
    let mut long = arg.get_long_help().map(ToString::to_string).map(|english| {
        let message = built_in(&english).map_or_else(|| format!("{base}-more"), str::to_string);
        say(&message, &english)
    });
    let values: Vec<(String, String)> = arg
        .get_possible_values()
        .iter()
        .filter(|value| !value.is_hide_set())
        .map(|value| {
            let name = value.get_name().to_string();
            let english = value.get_help().map(ToString::to_string);
            let words = english.map(|english| say(&format!("{base}--{name}"), &english));
            (name, words.unwrap_or_default())
        })
        .collect();
    if dress {
        // As clap lays them out: in the short help the notes follow the text; in the long
        // help the possible values' list (when they have help), then the notes, each a
        // paragraph, and the list replaces the note that names the values.
        let listed = values.iter().any(|(_, words)| !words.is_empty());
        let short_notes = notes(&arg, &values, say);
        let long_notes = notes(&arg, if listed { &[] } else { &values }, say);
        if !short_notes.is_empty() || listed {
            arg = arg
                .hide_env(true)
                .hide_default_value(true)
                .hide_possible_values(true);
            let short = help.clone().unwrap_or_default();
            let mut long_text = long.clone().unwrap_or_else(|| short.clone());
            if listed {
                let widest = values.iter().map(|(name, _)| name.chars().count()).max();
                let mut list = format!("{}:", say("clap-possible-values-list", "Possible values"));
                for (name, words) in &values {
                    let pad = widest.unwrap_or_default() - name.chars().count();
                    list.push_str(&format!("\n- {name}: {:pad$}{words}", ""));
                }
                long_text = joined(&long_text, "\n\n", &list);
            }
            help = Some(joined(&short, " ", &short_notes));
            long = Some(joined(&long_text, "\n\n", &long_notes));
        }
    }
    if let Some(help) = help {
        arg = arg.help(help);
    }
    if let Some(long) = long {
        arg = arg.long_help(long);
    }
    arg
}

/// `text`, then `notes` after `separator` (no separator next to an empty one).
fn joined(text: &str, separator: &str, notes: &str) -> String {
    match (text.is_empty(), notes.is_empty()) {
        (_, true) => text.to_string(),
        (true, false) => notes.to_string(),
        (false, false) => format!("{text}{separator}{notes}"),
    }
}

/// clap's bracketed notes after an argument's help, in words: its variable (with the value
/// it has now, as clap shows it), its default and its possible values.
fn notes(arg: &Arg, values: &[(String, String)], say: &mut Say<'_>) -> String {
    let mut notes = Vec::new();
    if let Some(name) = arg.get_env().filter(|_| !arg.is_hide_env_set()) {
        let value = if arg.is_hide_env_values_set() {
            String::new()
        } else {
            let now = std::env::var_os(name).unwrap_or_default();
            format!("={}", now.to_string_lossy())
        };
        notes.push(format!(
            "[{}: {}{value}]",
            say("clap-env", "env"),
            name.to_string_lossy()
        ));
    }
    let defaults = arg.get_default_values();
    if arg.get_action().takes_values() && !arg.is_hide_default_value_set() && !defaults.is_empty() {
        let defaults: Vec<String> = defaults
            .iter()
            .map(|value| {
                let value = value.to_string_lossy();
                if value.contains(char::is_whitespace) {
                    format!("{value:?}")
                } else {
                    value.into_owned()
                }
            })
            .collect();
        notes.push(format!(
            "[{}: {}]",
            say("clap-default", "default"),
            defaults.join(" ")
        ));
    }
    if !arg.is_hide_possible_values_set() && !values.is_empty() {
        let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
        notes.push(format!(
            "[{}: {}]",
            say("clap-possible-values", "possible values"),
            names.join(", ")
        ));
    }
    notes.join(" ")
}

/// clap's headings (`Usage:`, `Commands:`, `Arguments:`, `Options:`) in words: the same
/// layout as clap's own template, with the sections this command has.
fn headings(cmd: Command, say: &mut Say<'_>) -> Command {
    let styles = cmd.get_styles();
    let (usage, header) = (*styles.get_usage(), *styles.get_header());
    let mut template = format!(
        "{{before-help}}{{about-with-newline}}\n{usage}{}:{usage:#} {{usage}}",
        say("clap-usage", "Usage")
    );
    let mut section = |title: String, tag: &str| {
        template.push_str(&format!("\n\n{header}{title}:{header:#}\n{{{tag}}}"));
    };
    if cmd.get_subcommands().any(|sub| !sub.is_hide_set()) {
        section(say("clap-commands", "Commands"), "subcommands");
    }
    if cmd.get_positionals().any(|arg| !arg.is_hide_set()) {
        section(say("clap-arguments", "Arguments"), "positionals");
    }
    if cmd
        .get_arguments()
        .any(|arg| !arg.is_positional() && !arg.is_hide_set())
    {
        section(say("clap-options", "Options"), "options");
    }
    template.push_str("{after-help}");
    cmd.help_template(template)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    /// Texts meant to read the same in every language (none yet: a URL or a code example
    /// alone would be one).
    const SAME_IN_EVERY_LANGUAGE: &[&str] = &[];

    fn tree() -> Vec<(String, String)> {
        english_texts(Cli::command())
    }

    #[test]
    fn every_command_and_argument_has_its_words_in_every_language() {
        let catalogue = catalogue();
        let known: BTreeSet<&str> = catalogue.messages().map(|(id, _)| id).collect();
        let texts = tree();
        let missing: Vec<&str> = texts
            .iter()
            .map(|(id, _)| id.as_str())
            .filter(|id| !known.contains(id))
            .collect();
        assert!(
            missing.is_empty(),
            "no message in src/cli/ftl/help.{{en,ru,tg}}.ftl for {missing:?}"
        );
        for (id, english) in &texts {
            assert_eq!(
                &catalogue.text(Lang::En, id, &[]),
                english,
                "help.en.ftl's {id} is not the text in args.rs"
            );
            for lang in [Lang::Tg, Lang::Ru] {
                let words = catalogue.text(lang, id, &[]);
                assert!(
                    words != *english || SAME_IN_EVERY_LANGUAGE.contains(&id.as_str()),
                    "{id} in {lang:?} is the English text"
                );
                assert!(!crate::lang::has_invisible(&words), "{id} in {lang:?}");
            }
        }
        let used: BTreeSet<&str> = texts.iter().map(|(id, _)| id.as_str()).collect();
        let stale: Vec<&&str> = known.difference(&used).collect();
        assert!(stale.is_empty(), "messages no command uses: {stale:?}");
    }

    #[test]
    fn options_commands_and_placeholders_are_kept_as_they_are() {
        let catalogue = catalogue();
        let mut lost = Vec::new();
        for (id, english) in tree() {
            // `--to`, FILE, `posbon status`: what the reader types or sees in the usage line.
            let mut kept: Vec<String> = english
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .filter(|word| {
                    (word.starts_with("--") && word.len() > 2)
                        || (word.len() > 2
                            && word.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                            && !["NANSMIT", "RAM", "JSON"].contains(word))
                })
                .map(str::to_string)
                .collect();
            // What is quoted, but for the form of a fields file's line, which is said in words.
            kept.extend(
                english
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .filter(|quoted| *quoted != "field: value")
                    .map(str::to_string),
            );
            for lang in [Lang::Tg, Lang::Ru] {
                let words = catalogue.text(lang, &id, &[]);
                for word in kept.iter().filter(|word| !words.contains(word.as_str())) {
                    lost.push(format!("{id} in {lang:?}: {word}"));
                }
            }
        }
        assert!(lost.is_empty(), "translations without {lost:#?}");
    }

    #[test]
    fn tajik_is_tajik_and_both_follow_the_glossary() {
        let catalogue = catalogue();
        let all = |lang| -> String {
            tree()
                .iter()
                .map(|(id, _)| catalogue.text(lang, id, &[]).to_lowercase() + "\n")
                .collect()
        };
        let (tajik, russian) = (all(Lang::Tg), all(Lang::Ru));
        // Letters Tajik does not write: a Russian text pasted in.
        for russian_only in ['ы', 'щ', 'ь', 'ц'] {
            assert!(!tajik.contains(russian_only), "tg: {russian_only}");
        }
        // docs/glossary.md: check-in not «қайд», tier «гурӯҳ», fingerprint «нишонаи калид».
        for astray in ["қайд", "доираи", "изи калид", "мӯҳршуда", "назоратӣ"]
        {
            assert!(!tajik.contains(astray), "tg: {astray}");
        }
        for needed in [
            "тасдиқи ҳузур",
            "мӯҳлат",
            "вақти иловагӣ",
            "нишонаи калиди мӯҳр",
        ] {
            assert!(tajik.contains(needed), "tg: {needed}");
        }
        for astray in ["этап", "ключ печати", "уровень"] {
            assert!(!russian.contains(astray), "ru: {astray}");
        }
        for needed in [
            "отмет",
            "запас времени",
            "ключа запечатывания",
            "наблюдател",
        ] {
            assert!(russian.contains(needed), "ru: {needed}");
        }
    }

    fn rendered(lang: Lang, path: &[&str], long: bool) -> String {
        let mut cmd = in_lang(Cli::command(), lang);
        let mut here = &mut cmd;
        for name in path {
            here = here.find_subcommand_mut(name).expect("a subcommand");
        }
        let help = if long {
            here.render_long_help()
        } else {
            here.render_help()
        };
        help.to_string()
    }

    #[test]
    fn clap_s_own_words_and_notes_are_translated_too() {
        let top = rendered(Lang::Ru, &[], false);
        for words in [
            "Использование:",
            "Команды:",
            "Параметры:",
            "Показать справку",
        ] {
            assert!(top.contains(words), "{words} in\n{top}");
        }
        assert!(top.contains("[переменная: POSBON_VAULT="), "{top}");
        let note = rendered(Lang::Tg, &["capture", "note"], true);
        for words in [
            "Истифода:",
            "[пешфарз: draft]",
            "Қиматҳои имконпазир:",
            "- note:   Ёддошт оид ба парванда",
        ] {
            assert!(note.contains(words), "{words} in\n{note}");
        }
        let short = rendered(Lang::Tg, &["capture", "note"], false);
        assert!(
            short.contains("[қиматҳои имконпазир: source, draft, note]"),
            "{short}"
        );
        let show = rendered(Lang::Tg, &["show"], false);
        assert!(show.contains("Аргументҳо:\n  <ID>"), "{show}");
        for text in [top, note, short, show] {
            for english in [
                "Usage",
                "Options",
                "Arguments",
                "Commands",
                "Print",
                "default",
            ] {
                assert!(!text.contains(english), "{english} in\n{text}");
            }
        }
    }

    #[test]
    fn english_is_clap_s_own() {
        let mut before = Cli::command();
        let mut after = in_lang(Cli::command(), Lang::En);
        assert_eq!(
            before.render_long_help().to_string(),
            after.render_long_help().to_string()
        );
    }
}
