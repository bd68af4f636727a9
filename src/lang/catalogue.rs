//! A message catalogue in the three languages: Fluent files (`.ftl`, as the `age` crate keeps
//! its texts), compiled into the binary, one per language and face. The code names a message
//! and passes its variables; the translator owns the words, plurals and word order.
//!
//! [`Catalogue::new`] refuses a catalogue in which a language lacks a message, a message
//! lacks a variable another language has, or a file does not parse: the tests of every face
//! build theirs, so a translator's slip fails a test rather than a page in the field.

use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;

use super::Lang;

/// One face's messages in every language.
pub struct Catalogue {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
    /// Every message with the variables it uses: the same in every language.
    messages: BTreeMap<String, BTreeSet<String>>,
}

/// Why a catalogue's files do not make a catalogue (a translator's or developer's slip).
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{file}: not valid Fluent: {reason}")]
    Syntax { file: String, reason: String },
    #[error("{file}: has no message {id:?} (the English file has it)")]
    Missing { file: String, id: String },
    #[error("{file}: message {id:?} is not in the English file")]
    Extra { file: String, id: String },
    #[error("{file}: message {id:?} uses the variables {found:?}; English uses {expected:?}")]
    Variables {
        file: String,
        id: String,
        found: Vec<String>,
        expected: Vec<String>,
    },
}

/// A variable's value: text (never interpreted) or a number (plural rules apply).
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

impl Catalogue {
    /// Builds a catalogue from one Fluent source per language; `name` names the files in
    /// errors ("app" → "tg/app.ftl").
    pub fn new(name: &str, sources: [(Lang, &'static str); 3]) -> Result<Self, CatalogueError> {
        let mut parsed = Vec::new();
        for (lang, source) in sources {
            let file = format!("{}/{name}.ftl", lang.code());
            let resource = FluentResource::try_new(source.to_string()).map_err(|(_, errors)| {
                CatalogueError::Syntax {
                    file: file.clone(),
                    reason: format!("{errors:?}"),
                }
            })?;
            parsed.push((lang, file, resource));
        }
        let english = parsed
            .iter()
            .find(|(lang, ..)| *lang == Lang::En)
            .map(|(_, _, resource)| variables(resource))
            .expect("every catalogue has English");
        for (_, file, resource) in &parsed {
            let here = variables(resource);
            for (id, expected) in &english {
                match here.get(id) {
                    None => {
                        return Err(CatalogueError::Missing {
                            file: file.clone(),
                            id: id.clone(),
                        });
                    }
                    Some(found) if found != expected => {
                        return Err(CatalogueError::Variables {
                            file: file.clone(),
                            id: id.clone(),
                            found: found.iter().cloned().collect(),
                            expected: expected.iter().cloned().collect(),
                        });
                    }
                    Some(_) => {}
                }
            }
            if let Some(id) = here.keys().find(|id| !english.contains_key(*id)) {
                return Err(CatalogueError::Extra {
                    file: file.clone(),
                    id: id.clone(),
                });
            }
        }
        let mut bundles = Vec::new();
        for (lang, file, resource) in parsed {
            let locale = lang.code().parse().expect("tg, ru and en are language ids");
            let mut bundle = FluentBundle::new_concurrent(vec![locale]);
            // No Unicode isolation marks around variables: they are invisible characters,
            // which posbon refuses elsewhere, and terminals show them as boxes.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| CatalogueError::Syntax {
                    file,
                    reason: format!("{errors:?}"),
                })?;
            bundles.push((lang, bundle));
        }
        Ok(Catalogue {
            bundles,
            messages: english,
        })
    }

    /// Every message's id with the variables it uses (in every language: [`Catalogue::new`]
    /// made sure), for tests that read each message in each language.
    pub fn messages(&self) -> impl Iterator<Item = (&str, &BTreeSet<String>)> {
        self.messages.iter().map(|(id, names)| (id.as_str(), names))
    }

    /// The message `id` in `lang` with `args` filled in. A message that cannot be found (a
    /// slip [`Catalogue::new`] did not catch: a misspelt id in code) shows its id, so the page
    /// still works and the slip is visible.
    pub fn text(&self, lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let (_, bundle) = self
            .bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .expect("every language has a bundle");
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            debug_assert!(false, "no message {id:?}");
            return id.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(text) => fluent_args.set(*name, FluentValue::from(*text)),
                Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        debug_assert!(errors.is_empty(), "message {id:?}: {errors:?}");
        text.into_owned()
    }
}

/// Every message of `resource` with the variables it uses (in any variant).
fn variables(resource: &FluentResource) -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    for entry in resource.entries() {
        if let ast::Entry::Message(message) = entry {
            let mut names = BTreeSet::new();
            if let Some(pattern) = &message.value {
                pattern_variables(pattern, &mut names);
            }
            for attribute in &message.attributes {
                pattern_variables(&attribute.value, &mut names);
            }
            found.insert(message.id.name.to_string(), names);
        }
    }
    found
}

fn pattern_variables(pattern: &ast::Pattern<&str>, names: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, names);
        }
    }
}

fn expression_variables(expression: &ast::Expression<&str>, names: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, names);
            for variant in variants {
                pattern_variables(&variant.value, names);
            }
        }
        ast::Expression::Inline(inline) => inline_variables(inline, names),
    }
}

fn inline_variables(inline: &ast::InlineExpression<&str>, names: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            names.insert(id.name.to_string());
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, names),
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_variables(argument, names);
            }
            for named in &arguments.named {
                inline_variables(&named.value, names);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EN: &str = "hello = Hello, { $name }\nrecords = { $count ->\n [one] one record\n *[other] { $count } records\n}\n";
    const RU: &str = "hello = Здравствуйте, { $name }\nrecords = { $count ->\n [one] { $count } запись\n [few] { $count } записи\n *[many] { $count } записей\n}\n";
    const TG: &str = "hello = Салом, { $name }\nrecords = { $count } сабт\n";

    #[test]
    fn messages_are_filled_with_plurals_and_no_invisible_marks() {
        let catalogue =
            Catalogue::new("t", [(Lang::Tg, TG), (Lang::Ru, RU), (Lang::En, EN)]).unwrap();
        let hello = catalogue.text(Lang::Ru, "hello", &[("name", Arg::Text("Нилуфар"))]);
        assert_eq!(hello, "Здравствуйте, Нилуфар");
        assert!(!super::super::has_invisible(&hello));
        let count = |lang, n| catalogue.text(lang, "records", &[("count", Arg::Number(n))]);
        assert_eq!(count(Lang::Ru, 1), "1 запись");
        assert_eq!(count(Lang::Ru, 3), "3 записи");
        assert_eq!(count(Lang::Ru, 11), "11 записей");
        assert_eq!(count(Lang::En, 1), "one record");
        assert_eq!(count(Lang::Tg, 5), "5 сабт");
    }

    #[test]
    fn a_translation_missing_a_message_or_a_variable_is_refused() {
        let missing = Catalogue::new(
            "t",
            [
                (Lang::Tg, "hello = Салом, { $name }\n"),
                (Lang::Ru, RU),
                (Lang::En, EN),
            ],
        );
        assert!(matches!(missing, Err(CatalogueError::Missing { ref id, .. }) if id == "records"));
        let lost_variable = Catalogue::new(
            "t",
            [
                (Lang::Tg, "hello = Салом\nrecords = { $count } сабт\n"),
                (Lang::Ru, RU),
                (Lang::En, EN),
            ],
        );
        assert!(
            matches!(lost_variable, Err(CatalogueError::Variables { ref id, .. }) if id == "hello")
        );
        let extra = Catalogue::new(
            "t",
            [
                (Lang::Tg, &*format!("{TG}bye = Хайр\n").leak()),
                (Lang::Ru, RU),
                (Lang::En, EN),
            ],
        );
        assert!(matches!(extra, Err(CatalogueError::Extra { .. })));
        let broken = Catalogue::new(
            "t",
            [(Lang::Tg, "hello = {"), (Lang::Ru, RU), (Lang::En, EN)],
        );
        assert!(matches!(broken, Err(CatalogueError::Syntax { .. })));
    }
}
