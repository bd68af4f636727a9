//! The commands that make and read records: add, import, list, show, edit, attach,
//! extract. Each reads what it needs, calls the vault, and prints the result.

use std::fs;
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::vault::{self, Kind, Record, RecordId};

use super::session::{Session, unlock};
use super::zone::text as time_text;
use super::{AddKind, BodyArgs, EditArgs, UsageError, editor, fields, output, words};

/// Reads a body from the editor, a file, or stdin.
pub(super) fn read_body(args: &BodyArgs, initial: &str) -> Result<Zeroizing<String>> {
    if args.editor {
        return editor::edit(initial);
    }
    let mut bytes = Zeroizing::new(Vec::new());
    if let Some(path) = &args.body_file {
        fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| words::cannot_read(path))?;
    } else {
        if io::stdin().is_terminal() {
            eprintln!("{}", words::t("type-body"));
        }
        io::stdin()
            .read_to_end(&mut bytes)
            .with_context(|| words::t("body-stdin"))?;
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| UsageError(words::t("body-not-utf8")))?;
    Ok(Zeroizing::new(text.to_string()))
}

pub(super) fn clean_tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

pub(super) fn add(ctx: &Session, kind: AddKind) -> Result<()> {
    let (kind, title, options, fields_file, body_args) = match kind {
        AddKind::Source {
            name,
            contact,
            trust,
            gave,
            fields_file,
            body,
        } => (
            Kind::Source,
            name,
            vec![("contact", contact), ("trust", trust), ("gave", gave)],
            fields_file,
            body,
        ),
        AddKind::Draft {
            title,
            fields_file,
            body,
        } => (Kind::Draft, title, vec![], fields_file, body),
        AddKind::Note {
            case,
            court,
            lawyer,
            dates,
            fields_file,
            body,
        } => (
            Kind::Note,
            case,
            vec![("court", court), ("lawyer", lawyer), ("dates", dates)],
            fields_file,
            body,
        ),
    };
    let body_on_stdin = !body_args.editor && body_args.body_file.is_none();
    // The title and fields: from options (as scripts have always given them), from a file or
    // stdin, or asked for after the unlock (so that a wrong passphrase costs no typing).
    let given = match (title, fields_file) {
        (Some(title), _) => {
            let fields = options
                .into_iter()
                .filter_map(|(field, value)| value.map(|v| (field, Zeroizing::new(v))))
                .collect();
            Some(fields::RecordFields {
                title: Some(Zeroizing::new(title)),
                fields,
                ..Default::default()
            })
        }
        (None, Some(path)) => Some(fields::RecordFields::from_file(
            kind,
            &path,
            true,
            body_on_stdin,
        )?),
        (None, None) if fields::can_ask() => None,
        (None, None) => bail!(UsageError(words::with(
            "record-needs-title",
            &[("kind", kind.as_str()), ("label", kind.title_label())]
        ))),
    };
    let (vault, _) = unlock(ctx)?;
    let given = match given {
        Some(given) => given,
        None => fields::RecordFields::ask(kind)?,
    };
    let title = given.title.as_deref().map(String::as_str).unwrap_or("");
    if title.trim().is_empty() {
        return Err(UsageError(words::with(
            "record-title-empty",
            &[("label", kind.title_label())],
        ))
        .into());
    }
    let mut record = Record::new(kind, title.to_string(), vault::now());
    for (field, value) in &given.fields {
        record.set_field(field, value);
    }
    let mut tags = body_args.tags.clone();
    tags.extend(given.tags.iter().flatten().cloned());
    record.tags = clean_tags(&tags);
    record.body = match &given.body {
        Some(body) => body.to_string(),
        None => read_body(&body_args, "")?.to_string(),
    };
    let id = vault.add(&record)?;
    println!("{id}");
    Ok(())
}

/// One line of `posbon import`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportLine {
    kind: Kind,
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    fields: std::collections::BTreeMap<String, String>,
}

pub(super) fn import(ctx: &Session) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let stdout = io::stdout();
    let mut count = 0usize;
    for (number, line) in io::stdin().lock().lines().enumerate() {
        let line = Zeroizing::new(line.with_context(|| words::t("stdin-unreadable"))?);
        if line.trim().is_empty() {
            continue;
        }
        // The parser's own message may quote the line's content: report only where it failed.
        let parsed: ImportLine = serde_json::from_str(&line).map_err(|e| {
            UsageError(words::count(
                "import-not-a-record",
                "count",
                count as i64,
                &[
                    ("line", &(number + 1).to_string()),
                    ("column", &e.column().to_string()),
                    ("error", &format!("{:?}", e.classify())),
                ],
            ))
        })?;
        if parsed.title.trim().is_empty() {
            bail!(UsageError(words::with(
                "import-title-empty",
                &[("line", &(number + 1).to_string())]
            )));
        }
        let mut record = Record::new(parsed.kind, parsed.title.clone(), vault::now());
        record.body = parsed.body.clone();
        record.tags = clean_tags(&parsed.tags);
        for (name, value) in &parsed.fields {
            if !parsed.kind.field_names().contains(&name.as_str()) {
                bail!(UsageError(words::with(
                    "import-no-such-field",
                    &[
                        ("line", &(number + 1).to_string()),
                        ("kind", parsed.kind.as_str()),
                        ("field", &format!("{name:?}")),
                    ]
                )));
            }
            record.set_field(name, value);
        }
        let id = vault.add(&record)?;
        // Printed only after the record is on disk: each printed id is a promise.
        let mut out = stdout.lock();
        writeln!(out, "{id}")?;
        out.flush()?;
        count += 1;
    }
    eprintln!("{}", words::count("imported", "count", count as i64, &[]));
    Ok(())
}

/// Makes text safe for one tab-separated line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(super) fn print_rows(rows: &[(RecordId, Record)]) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for (id, record) in rows {
        writeln!(
            out,
            "{id}\t{}\t{}",
            words::with("record-kind", &[("kind", record.kind.as_str())]),
            one_line(&record.title)
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Tells about damaged records after the readable ones were printed, and fails with the
/// first damage so scripts notice.
pub(super) fn report_damaged(damaged: Vec<vault::VaultError>) -> Result<()> {
    let count = damaged.len();
    let mut damaged = damaged.into_iter();
    let Some(first) = damaged.next() else {
        return Ok(());
    };
    for other in damaged {
        eprintln!("posbon: {other}");
    }
    Err(anyhow::Error::new(first).context(words::count(
        "records-unreadable",
        "count",
        count as i64,
        &[],
    )))
}

pub(super) fn list(ctx: &Session) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let listing = vault.records()?;
    print_rows(&listing.records)?;
    report_damaged(listing.damaged)
}

pub(super) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let unit_word = words::with("size-unit", &[("unit", UNITS[unit])]);
    if unit == 0 {
        format!("{bytes} {unit_word}")
    } else {
        format!("{value:.1} {unit_word}")
    }
}

pub(super) fn show(ctx: &Session, id: &str) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let id = vault.resolve(id)?;
    let record = vault.get(&id)?;
    let mut text = Zeroizing::new(String::new());
    use std::fmt::Write as _;
    let label = |name: &str| words::with("show-label", &[("label", name)]) + ":";
    let kind = words::with("record-kind", &[("kind", record.kind.as_str())]);
    let _ = writeln!(text, "{:<8} {id}", label("id"));
    let _ = writeln!(text, "{:<8} {kind}", label("kind"));
    let _ = writeln!(
        text,
        "{:<8} {}",
        format!("{}:", record.kind.title_label()),
        record.title
    );
    if !record.tags.is_empty() {
        let _ = writeln!(text, "{:<8} {}", label("tags"), record.tags.join(", "));
    }
    for field in record.kind.field_names() {
        if let Some(value) = record.field(field) {
            let _ = writeln!(text, "{:<8} {value}", format!("{field}:"));
        }
    }
    let _ = writeln!(
        text,
        "{:<8} {}",
        label("created"),
        time_text(record.created)
    );
    let _ = writeln!(
        text,
        "{:<8} {}",
        label("updated"),
        time_text(record.updated)
    );
    if !record.attachments.is_empty() {
        let _ = writeln!(text, "{}", label("attachments"));
        for a in &record.attachments {
            let _ = writeln!(text, "  {} ({})", a.name, human_size(a.size));
        }
    }
    let _ = writeln!(text);
    text.push_str(&record.body);
    if !record.body.ends_with('\n') && !record.body.is_empty() {
        text.push('\n');
    }
    io::stdout().write_all(text.as_bytes())?;
    Ok(())
}

pub(super) fn edit(ctx: &Session, args: EditArgs) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let id = vault.resolve(&args.id)?;
    let mut record = vault.get(&id)?;
    let mut changed = false;
    let mut stdin_body = None;
    if let Some(path) = &args.fields_file {
        let given = fields::RecordFields::from_file(record.kind, path, false, args.stdin_body)?;
        if let Some(title) = &given.title {
            record.title = title.to_string();
        }
        for (field, value) in &given.fields {
            record.set_field(field, value);
        }
        if let Some(tags) = &given.tags {
            record.tags = clean_tags(tags);
        }
        stdin_body = given.body;
        changed = true;
    }
    if let Some(title) = args.title {
        if title.trim().is_empty() {
            return Err(UsageError(words::t("title-empty")).into());
        }
        record.title = title;
        changed = true;
    }
    if let Some(tags) = args.tags {
        record.tags = clean_tags(&tags);
        changed = true;
    }
    for assignment in &args.fields {
        let (field, value) = assignment.split_once('=').ok_or_else(|| {
            UsageError(words::with(
                "edit-set-syntax",
                &[("given", &format!("{assignment:?}"))],
            ))
        })?;
        if !record.kind.field_names().contains(&field) {
            let names = record.kind.field_names();
            let has = if names.is_empty() {
                words::t("edit-no-fields")
            } else {
                words::with("edit-fields-are", &[("names", &names.join(", "))])
            };
            return Err(UsageError(words::with(
                "edit-no-such-field",
                &[
                    ("kind", record.kind.as_str()),
                    ("field", &format!("{field:?}")),
                    ("has", &has),
                ],
            ))
            .into());
        }
        record.set_field(field, value);
        changed = true;
    }
    let body_args = BodyArgs {
        tags: vec![],
        body_file: args.body_file,
        editor: args.editor,
    };
    if let Some(body) = stdin_body {
        record.body = body.to_string();
        changed = true;
    } else if args.stdin_body || body_args.body_file.is_some() || body_args.editor {
        let initial = Zeroizing::new(record.body.clone());
        record.body = read_body(&body_args, &initial)?.to_string();
        changed = true;
    }
    if !changed {
        return Err(UsageError(words::t("edit-nothing-to-change")).into());
    }
    record.updated = vault::now();
    vault.put(&id, &record)?;
    eprintln!(
        "{}",
        words::with("updated-record", &[("id", &id.to_string())])
    );
    Ok(())
}

pub(super) fn file_name_of(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            UsageError(words::with(
                "no-file-name",
                &[("path", &path.display().to_string())],
            ))
            .into()
        })
}

pub(super) fn attach(ctx: &Session, id: &str, path: &Path, name: Option<String>) -> Result<()> {
    let name = match name {
        Some(name) => name,
        None => file_name_of(path)?,
    };
    let mut file = fs::File::open(path).with_context(|| words::cannot_read(path))?;
    let (vault, _) = unlock(ctx)?;
    let id = vault.resolve(id)?;
    let size = vault.attach(&id, &name, &mut file)?;
    eprintln!(
        "{}",
        words::with(
            "attached",
            &[
                ("name", &format!("{name:?}")),
                ("size", &human_size(size)),
                ("id", &id.to_string()),
            ],
        )
    );
    Ok(())
}

pub(super) fn extract(ctx: &Session, id: &str, name: &str, out: &Path) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let id = vault.resolve(id)?;
    if out == Path::new("-") {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        vault.extract(&id, name, &mut lock)?;
        return Ok(lock.flush()?);
    }
    // Whole or not at all: a tampered attachment or a kill never leaves partial plaintext.
    output::write_whole(out, |writer| Ok(vault.extract(&id, name, writer)?))?;
    eprintln!(
        "{}",
        words::with("wrote", &[("path", &out.display().to_string())])
    );
    Ok(())
}
