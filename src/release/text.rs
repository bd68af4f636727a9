//! What people read inside a sealed bundle: the labels of `MANIFEST.txt` (written by
//! `bundle`) and each item's `record.txt`. The
//! reader's language is not known when a bundle is sealed (a lawyer in Dushanbe, another in
//! Moscow, a court's translator), so every label is written in the three languages, English /
//! Russian / Tajik, from one Fluent catalogue (`ftl/bundle.*.ftl`). The values (titles,
//! names, the journalist's text) are as the journalist wrote them.

use std::sync::OnceLock;

use zeroize::Zeroizing;

use crate::lang::Lang;
use crate::lang::catalogue::Catalogue;
use crate::vault::{Kind, Record};

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        Catalogue::new(
            "bundle",
            [
                (Lang::Tg, include_str!("ftl/bundle.tg.ftl")),
                (Lang::Ru, include_str!("ftl/bundle.ru.ftl")),
                (Lang::En, include_str!("ftl/bundle.en.ftl")),
            ],
        )
        .unwrap_or_else(|e| panic!("the bundle's message catalogue: {e}"))
    })
}

/// "name / название / ном": the message in English, Russian and Tajik. Where two languages
/// use one word ("версия"), it is still written twice, so every label has three parts and a
/// reader finds their own in the same place each time.
pub(super) fn label(id: &str) -> String {
    let words = catalogue();
    [Lang::En, Lang::Ru, Lang::Tg]
        .map(|lang| words.text(lang, id, &[]))
        .join(" / ")
}

/// A kind's label, or the kind's own name for one this catalogue does not know.
pub(super) fn kind_label(kind: &str) -> String {
    match kind {
        "source" | "draft" | "note" => label(&format!("kind-{kind}")),
        other => other.to_string(),
    }
}

/// A field's label: its words for the fields posbon names, its own name for the rest.
fn field_label(name: &str) -> String {
    let known = [Kind::Source, Kind::Draft, Kind::Note]
        .iter()
        .any(|kind| kind.field_names().contains(&name));
    if known {
        label(&format!("field-{name}"))
    } else {
        name.to_string()
    }
}

pub(super) fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A record as `record.txt` holds it: the labelled title, kind, fields, tags and time made,
/// then the body.
pub(super) fn record_txt(record: &Record) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    let mut line = |label: String, value: &str| {
        text.push_str(&label);
        text.push_str(": ");
        text.push_str(value);
        text.push('\n');
    };
    line(
        label(&format!("title-{}", record.kind.title_label())),
        &record.title,
    );
    line(label("kind"), &kind_label(record.kind.as_str()));
    for field in &record.fields {
        line(field_label(&field.name), &field.value);
    }
    if !record.tags.is_empty() {
        line(label("tags"), &record.tags.join(", "));
    }
    line(label("created"), &time(record.created));
    text.push('\n');
    text.push_str(&record.body);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::record::Field;

    #[test]
    fn the_bundles_catalogue_is_whole_and_every_label_has_three_languages() {
        for (id, _) in catalogue().messages() {
            let parts: Vec<String> = label(id).split(" / ").map(str::to_string).collect();
            assert_eq!(parts.len(), 3, "{id}: {parts:?}");
            assert!(
                parts.iter().all(|p| !p.trim().is_empty()),
                "{id}: {parts:?}"
            );
        }
        // Every field posbon names has its words (a field added to a kind without them
        // would reach lawyers as its English code name).
        for kind in [Kind::Source, Kind::Draft, Kind::Note] {
            for name in kind.field_names() {
                assert_ne!(field_label(name), *name, "field {name}");
            }
            assert!(kind_label(kind.as_str()).contains(" / "), "{kind:?}");
        }
    }

    #[test]
    fn a_record_is_labelled_in_the_three_languages_and_keeps_its_own_words() {
        let mut record = Record::new(Kind::Source, "Дилшод".into(), 0);
        record.fields = vec![
            Field {
                name: "contact".into(),
                value: "Signal +992".into(),
            },
            Field {
                name: "room".into(),
                value: "12".into(),
            },
        ];
        record.tags = vec!["суд".into()];
        record.body = "Гуфт, ки...".into();
        let text = record_txt(&record);
        assert_eq!(
            text.as_str(),
            "name / имя / ном: Дилшод\n\
             kind / вид / навъ: source / источник / манбаъ\n\
             how to reach them / как связаться / чӣ тавр бо ӯ тамос гирифтан: Signal +992\n\
             room: 12\n\
             tags / метки / тамғаҳо: суд\n\
             created / создан / сохта шуд: 1970-01-01T00:00:00Z\n\n\
             Гуфт, ки...\n"
        );
    }
}
