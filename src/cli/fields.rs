//! Titles, record fields and contacts given off the command line.
//!
//! Arguments are readable by every local user in `/proc` while posbon runs, and the shell
//! keeps them in its history file: a source's name or a lawyer's Signal number does not belong
//! there (issue 11, finding B). So they can come from a file (`--fields-file FILE`), from stdin
//! (`--fields-file -`), or be asked for on the terminal. The format is the one `posbon show`
//! prints: one `field: value` a line; empty lines and lines starting with `#` are skipped.
//! On stdin an `add` or `edit` takes the fields up to the first empty line, and the rest is
//! the body, so that one pipe carries a whole record.
//!
//! Errors name the line and the fields that are allowed, never the text of the line: it may
//! be a source's name, or the start of a body given by mistake.

use std::fs;
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use super::words;
use crate::vault::Kind;

/// A mistake in a fields file or on stdin (exit code 2).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldsError {
    #[error("line {line}: expected `field: value`")]
    NotAField { line: usize },
    #[error("line {line}: {what} has no such field (it has: {known})")]
    Unknown {
        line: usize,
        what: &'static str,
        known: String,
    },
    #[error("line {line}: `{field}` was already given on line {first}")]
    Repeated {
        line: usize,
        field: &'static str,
        first: usize,
    },
    #[error("line {line}: `{field}` must not be empty")]
    Empty { line: usize, field: &'static str },
    #[error("line {line}: a tier is a number from 0 to 9")]
    BadTier { line: usize },
    #[error("line {line}: `{field}` is yes or no")]
    NotYesOrNo { line: usize, field: &'static str },
    #[error("no `{field}:` line: {what} needs one")]
    Missing {
        field: &'static str,
        what: &'static str,
    },
    #[error("the fields are not UTF-8 text")]
    NotUtf8,
    #[error(
        "text follows the fields after an empty line, but the body does not come from stdin \
         (it comes from --body-file or --editor, or --stdin-body was not given)"
    )]
    UnexpectedBody,
}

/// The fields a kind of entry has.
pub struct Schema {
    /// How messages name the entry: "a source", "a contact".
    pub what: &'static str,
    /// Fields given at most once.
    pub single: Vec<&'static str>,
    /// Fields that may be repeated (each line one value).
    pub repeated: Vec<&'static str>,
}

impl Schema {
    fn known(&self) -> String {
        self.single
            .iter()
            .chain(&self.repeated)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The fields of a record of `kind`: its title (`name`, `title` or `case`), its own
    /// fields, and `tag` (repeatable, or separated by commas, like `--tag`).
    pub fn record(kind: Kind) -> Schema {
        let mut single = vec![kind.title_label()];
        single.extend(kind.field_names());
        Schema {
            what: match kind {
                Kind::Source => "a source",
                Kind::Draft => "a draft",
                Kind::Note => "a note",
            },
            single,
            repeated: vec!["tag"],
        }
    }

    /// The fields of a contact: those of `contact add`'s options.
    pub fn contact() -> Schema {
        Schema {
            what: "a contact",
            single: vec!["name", "lang", "role", "tz", "email-attach"],
            repeated: vec![
                "tier",
                "email",
                "webhook",
                "telegram",
                "signal",
                "ntfy",
                "matrix",
                "age-recipient",
            ],
        }
    }
}

/// One `field: value` line.
pub struct Entry {
    pub field: &'static str,
    pub value: Zeroizing<String>,
    pub line: usize,
}

/// Parses `field: value` lines; `first_line` is the number of the first line of `text`.
pub fn parse(text: &str, schema: &Schema, first_line: usize) -> Result<Vec<Entry>, FieldsError> {
    let mut entries: Vec<Entry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = first_line + index;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (name, value) = trimmed
            .split_once(':')
            .ok_or(FieldsError::NotAField { line })?;
        let name = name.trim().to_ascii_lowercase();
        let field = schema
            .single
            .iter()
            .chain(&schema.repeated)
            .copied()
            .find(|known| *known == name)
            .ok_or_else(|| FieldsError::Unknown {
                line,
                what: schema.what,
                known: schema.known(),
            })?;
        if schema.single.contains(&field)
            && let Some(first) = entries.iter().find(|e| e.field == field)
        {
            return Err(FieldsError::Repeated {
                line,
                field,
                first: first.line,
            });
        }
        entries.push(Entry {
            field,
            value: Zeroizing::new(value.trim().to_string()),
            line,
        });
    }
    Ok(entries)
}

/// Splits text from stdin into the fields (up to the first empty line) and what follows, the
/// body, if there is an empty line at all.
pub fn split_at_empty_line(text: &str) -> (&str, Option<&str>) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']).is_empty() {
            return (&text[..offset], Some(&text[offset + line.len()..]));
        }
        offset += line.len();
    }
    (text, None)
}

/// Reads a fields file, or stdin for `-`, as UTF-8 text.
pub fn read_source(path: &Path) -> Result<Zeroizing<String>> {
    let mut bytes = Zeroizing::new(Vec::new());
    if path == Path::new("-") {
        io::stdin()
            .read_to_end(&mut bytes)
            .with_context(|| words::t("fields-stdin"))?;
    } else {
        fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| words::cannot_read(path))?;
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| FieldsError::NotUtf8)?;
    Ok(Zeroizing::new(text.to_string()))
}

/// A record's title, fields and tags, as given in a file, on stdin or at the terminal.
#[derive(Default)]
pub struct RecordFields {
    pub title: Option<Zeroizing<String>>,
    /// Each field once; an empty value clears it (for `edit`).
    pub fields: Vec<(&'static str, Zeroizing<String>)>,
    /// `None` when no `tag:` line was given.
    pub tags: Option<Vec<String>>,
    /// The body, when stdin carried one after the fields.
    pub body: Option<Zeroizing<String>>,
}

impl RecordFields {
    /// From parsed lines. `need_title`: an `add` (an `edit` changes only what it is given).
    pub fn from_entries(
        kind: Kind,
        entries: Vec<Entry>,
        need_title: bool,
    ) -> Result<Self, FieldsError> {
        let schema = Schema::record(kind);
        let mut out = RecordFields::default();
        for entry in entries {
            if entry.field == kind.title_label() {
                if entry.value.is_empty() {
                    return Err(FieldsError::Empty {
                        line: entry.line,
                        field: entry.field,
                    });
                }
                out.title = Some(entry.value);
            } else if entry.field == "tag" {
                out.tags.get_or_insert_with(Vec::new).extend(
                    entry
                        .value
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string),
                );
            } else {
                out.fields.push((entry.field, entry.value));
            }
        }
        if need_title && out.title.is_none() {
            return Err(FieldsError::Missing {
                field: kind.title_label(),
                what: schema.what,
            });
        }
        Ok(out)
    }

    /// From `--fields-file PATH`. With `-`, stdin holds the fields, then (after an empty line)
    /// the body when `body_on_stdin`.
    pub fn from_file(
        kind: Kind,
        path: &Path,
        need_title: bool,
        body_on_stdin: bool,
    ) -> Result<Self> {
        let text = read_source(path)?;
        if path != Path::new("-") {
            let entries = parse(&text, &Schema::record(kind), 1)?;
            return Ok(Self::from_entries(kind, entries, need_title)?);
        }
        let (fields, body) = split_at_empty_line(&text);
        let entries = parse(fields, &Schema::record(kind), 1)?;
        let mut out = Self::from_entries(kind, entries, need_title)?;
        match body {
            // Stdin is spent: the body is what followed the fields, or nothing.
            _ if body_on_stdin => {
                out.body = Some(Zeroizing::new(body.unwrap_or_default().to_string()))
            }
            Some(body) if !body.trim().is_empty() => {
                return Err(FieldsError::UnexpectedBody.into());
            }
            _ => {}
        }
        Ok(out)
    }

    /// Asks for the title and each field on the terminal.
    pub fn ask(kind: Kind) -> Result<Self> {
        let title_label = [("label", kind.title_label())];
        eprintln!("{}", words::with("fields-ask-intro", &title_label));
        let label = words::with("field-label", &[("field", kind.title_label())]);
        let title = loop {
            let Some(typed) = ask(&format!("{label}: "))? else {
                bail!(words::with("fields-ask-stopped", &title_label));
            };
            if !typed.trim().is_empty() {
                break Zeroizing::new(typed.trim().to_string());
            }
        };
        let mut out = RecordFields {
            title: Some(title),
            ..RecordFields::default()
        };
        for field in kind.field_names() {
            let question = words::with(
                "field-ask",
                &[
                    ("label", &words::with("field-label", &[("field", field)])),
                    ("hint", &words::with("field-hint", &[("field", field)])),
                ],
            );
            let question = format!("{question}: ");
            let Some(typed) = ask(&question)? else {
                break;
            };
            if !typed.trim().is_empty() {
                out.fields
                    .push((field, Zeroizing::new(typed.trim().to_string())));
            }
        }
        Ok(out)
    }
}

/// True when questions can be asked: stdin is a terminal.
pub fn can_ask() -> bool {
    io::stdin().is_terminal()
}

/// One answer typed on the terminal, without its line ending; `None` at end of input.
pub fn ask(question: &str) -> Result<Option<Zeroizing<String>>> {
    eprint!("{question}");
    io::stderr().flush().ok();
    let mut line = Zeroizing::new(String::new());
    let read = io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| words::t("terminal-unreadable"))?;
    if read == 0 {
        eprintln!();
        return Ok(None);
    }
    Ok(Some(Zeroizing::new(
        line.trim_end_matches(['\n', '\r']).to_string(),
    )))
}

/// The tiers in one `tier:` value: a number, or several separated by commas.
pub fn tiers(entry: &Entry) -> Result<Vec<u8>, FieldsError> {
    entry
        .value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<u8>()
                .ok()
                .filter(|n| *n <= 9)
                .ok_or(FieldsError::BadTier { line: entry.line })
        })
        .collect()
}

/// A mistake in a fields file or in answers, in the reader's words.
pub(super) fn in_words(error: &FieldsError) -> String {
    use words::{t, with};
    // What the entry is, as the messages choose their words by it.
    let what = |what: &str| match what {
        "a source" => "source",
        "a draft" => "draft",
        "a note" => "note",
        "a contact" => "contact",
        _ => "way",
    };
    match error {
        FieldsError::NotAField { line } => {
            with("fields-not-a-field", &[("line", &line.to_string())])
        }
        FieldsError::Unknown {
            line,
            what: w,
            known,
        } => with(
            "fields-unknown",
            &[
                ("line", &line.to_string()),
                ("what", what(w)),
                ("known", known),
            ],
        ),
        FieldsError::Repeated { line, field, first } => with(
            "fields-repeated",
            &[
                ("line", &line.to_string()),
                ("field", field),
                ("first", &first.to_string()),
            ],
        ),
        FieldsError::Empty { line, field } => with(
            "fields-empty",
            &[("line", &line.to_string()), ("field", field)],
        ),
        FieldsError::BadTier { line } => with("fields-bad-tier", &[("line", &line.to_string())]),
        FieldsError::NotYesOrNo { line, field } => with(
            "fields-not-yes-or-no",
            &[("line", &line.to_string()), ("field", field)],
        ),
        FieldsError::Missing { field, what: w } => {
            with("fields-missing", &[("field", field), ("what", what(w))])
        }
        FieldsError::NotUtf8 => t("fields-not-utf8"),
        FieldsError::UnexpectedBody => t("fields-unexpected-body"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_as_show_prints_them_skipping_comments_and_blank_lines() {
        let text = "# a source met in May\nname:    Farhod\n\nContact: Signal: evenings only\ntag: a, b\ntag: c\n";
        let entries = parse(text, &Schema::record(Kind::Source), 1).unwrap();
        let got: Vec<(&str, &str, usize)> = entries
            .iter()
            .map(|e| (e.field, e.value.as_str(), e.line))
            .collect();
        assert_eq!(
            got,
            [
                ("name", "Farhod", 2),
                ("contact", "Signal: evenings only", 4),
                ("tag", "a, b", 5),
                ("tag", "c", 6)
            ]
        );
        let fields = RecordFields::from_entries(Kind::Source, entries, true).unwrap();
        assert_eq!(fields.title.as_deref().map(String::as_str), Some("Farhod"));
        assert_eq!(fields.tags, Some(vec!["a".into(), "b".into(), "c".into()]));
    }

    #[test]
    fn a_bad_line_is_named_by_its_number_and_never_quoted() {
        let schema = Schema::record(Kind::Source);
        let error = parse("name: F.\nmet him at the bazaar\n", &schema, 1)
            .err()
            .unwrap();
        assert_eq!(error, FieldsError::NotAField { line: 2 });
        let error = parse("phone: +992900000000\n", &schema, 1).err().unwrap();
        let message = error.to_string();
        assert!(
            message.starts_with("line 1: a source has no such field"),
            "{message}"
        );
        assert!(
            message.contains("name, contact, trust, gave, tag"),
            "{message}"
        );
        assert!(
            !message.contains("992") && !message.contains("phone"),
            "{message}"
        );
        let error = parse("name: A\n\nname: B\n", &schema, 1).err().unwrap();
        assert_eq!(
            error,
            FieldsError::Repeated {
                line: 3,
                field: "name",
                first: 1
            }
        );
    }

    #[test]
    fn a_record_without_its_title_is_refused_for_an_add_but_not_for_an_edit() {
        let entries = parse("court: Khujand\n", &Schema::record(Kind::Note), 1).unwrap();
        let error = RecordFields::from_entries(Kind::Note, entries, true)
            .err()
            .unwrap();
        assert_eq!(error.to_string(), "no `case:` line: a note needs one");
        let entries = parse("court: Khujand\n", &Schema::record(Kind::Note), 1).unwrap();
        assert!(RecordFields::from_entries(Kind::Note, entries, false).is_ok());
    }

    #[test]
    fn stdin_splits_into_fields_and_body_at_the_first_empty_line() {
        assert_eq!(
            split_at_empty_line("name: F.\r\n\r\nbody\n\nmore\n"),
            ("name: F.\r\n", Some("body\n\nmore\n"))
        );
        assert_eq!(split_at_empty_line("name: F.\n"), ("name: F.\n", None));
        assert_eq!(split_at_empty_line("\nbody"), ("", Some("body")));
    }

    #[test]
    fn tiers_are_numbers_from_zero_to_nine() {
        let entry = |value: &str| Entry {
            field: "tier",
            value: Zeroizing::new(value.into()),
            line: 4,
        };
        assert_eq!(tiers(&entry("1, 2")).unwrap(), [1, 2]);
        assert_eq!(
            tiers(&entry("two")).err(),
            Some(FieldsError::BadTier { line: 4 })
        );
        assert_eq!(
            tiers(&entry("10")).err(),
            Some(FieldsError::BadTier { line: 4 })
        );
    }
}
