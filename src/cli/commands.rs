//! One function per command: read what it needs, call the library, print the result.

use std::fs;
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::secret::Passphrase;
use crate::vault::backup::{self, Opener, Seal};
use crate::vault::keyslots::KdfParams;
use crate::vault::{self, Kind, Record, RecordId, Unlock, Vault, capture};

use super::passphrase::{self, Source};
use super::{
    AddKind, AlertCommand, BackupCommand, BodyArgs, CaptureCommand, Cli, Command, DuressCommand,
    EditArgs, RecoveryCommand, ReleaseCommand, UsageError, VaultCommand, WatchCommand, contacts,
    demo, editor, fields, output, proxy, release, switch, watch,
};

/// What every command may need: where the vault is and how to unlock it.
struct Session {
    dir: PathBuf,
    passphrase: Source,
    recovery_key_file: Option<PathBuf>,
}

fn default_vault_dir() -> Result<PathBuf> {
    let base = dirs::data_dir().ok_or_else(|| {
        UsageError("no platform data directory is known here; give --vault DIR".into())
    })?;
    Ok(base.join("posbon").join("vault"))
}

pub(super) fn run(cli: Cli) -> Result<()> {
    let dir = match cli.vault {
        Some(dir) => dir,
        None => default_vault_dir()?,
    };
    // Before anything is sent to a watcher (opening the vault sends the unlock notices).
    proxy::set_override(cli.proxy.as_deref())?;
    if cli.proxy.is_some()
        && matches!(
            cli.command,
            Command::Watch(
                WatchCommand::Serve { .. }
                    | WatchCommand::CheckConfig { .. }
                    | WatchCommand::Outbox { .. }
                    | WatchCommand::Invite { .. }
                    | WatchCommand::Actions { .. }
            )
        )
    {
        bail!(UsageError(
            "--proxy is for the journalist's requests to watchers; a watcher's own alerts do \
             not take it"
                .into()
        ));
    }
    let ctx = Session {
        dir,
        passphrase: Source {
            file: cli.passphrase_file,
            fd: cli.passphrase_fd,
        },
        recovery_key_file: cli.recovery_key_file,
    };
    match cli.command {
        Command::Init { insecure_fast_kdf } => init(&ctx, insecure_fast_kdf),
        Command::Add(kind) => add(&ctx, kind),
        Command::Import => import(&ctx),
        Command::List => list(&ctx),
        Command::Show { id } => show(&ctx, &id),
        Command::Edit(args) => edit(&ctx, args),
        Command::Rm { id } => {
            let (vault, _) = unlock(&ctx)?;
            let id = vault.resolve(&id)?;
            vault.remove(&id)?;
            eprintln!("deleted record {id}");
            Ok(())
        }
        Command::Attach { id, path, name } => attach(&ctx, &id, &path, name),
        Command::Extract { id, name, out } => extract(&ctx, &id, &name, &out),
        Command::Detach { id, name } => {
            let (vault, _) = unlock(&ctx)?;
            let id = vault.resolve(&id)?;
            vault.detach(&id, &name)?;
            eprintln!("removed attachment {name:?} from record {id}");
            Ok(())
        }
        Command::Search { words } => {
            let words_off_the_command_line = words.is_empty();
            let (vault, _) = unlock(&ctx)?;
            let mut words = Zeroizing::new(words);
            if words_off_the_command_line {
                let text = if fields::can_ask() {
                    fields::ask("Search for: ")?.unwrap_or_default()
                } else {
                    read_body(&BodyArgs::default(), "")?
                };
                words.extend(text.split_whitespace().map(str::to_string));
            }
            if words.is_empty() {
                bail!(UsageError("give at least one word to search for".into()));
            }
            let hits = vault.search(&words)?;
            print_rows(&hits.records)?;
            report_damaged(hits.damaged)
        }
        Command::Passwd {
            new_passphrase_file,
        } => passwd(&ctx, new_passphrase_file),
        Command::Recovery(command) => recovery(&ctx, command),
        Command::Duress(command) => duress(&ctx, command),
        Command::Capture(command) => capture_cmd(&ctx, command),
        Command::Backup(command) => backup_cmd(&ctx, command),
        Command::Vault(VaultCommand::Check) => check(&ctx),
        Command::Panic { yes } => panic_cmd(&ctx, yes),
        Command::Demo { insecure_fast_kdf } => demo::run(insecure_fast_kdf),
        Command::Watch(WatchCommand::Serve {
            data,
            listen,
            config,
            smtp,
            public_url,
            ops,
        }) => watch::serve(data, listen, config, smtp, public_url, ops),
        Command::Watch(WatchCommand::CheckConfig { file }) => watch::check_config_file(&file),
        Command::Watch(WatchCommand::Outbox {
            data,
            give_up,
            json,
        }) => watch::outbox(data, give_up.as_deref(), json),
        Command::Alert(AlertCommand::Verify { watcher, file }) => {
            contacts::verify(&watcher, file.as_deref())
        }
        Command::Open {
            bundle,
            identity,
            out,
            from,
            unchecked,
        } => release::open(
            &release::OpenArgs {
                bundle: &bundle,
                key: identity.as_deref(),
                out,
                from: from.as_deref(),
                unchecked,
            },
            &ctx.passphrase,
        ),
        Command::Release(command) => {
            let (vault, _) = unlock(&ctx)?;
            match command {
                ReleaseCommand::Add {
                    records,
                    to,
                    name,
                    by,
                    include_sources,
                    yes,
                } => release::add(
                    &vault,
                    crate::switch::releases::Choice {
                        records: &records,
                        to: &to,
                        name,
                        by,
                        include_sources,
                    },
                    yes,
                ),
                ReleaseCommand::List => release::list(&vault),
                ReleaseCommand::Update { id, yes } => release::update(&vault, &id, yes),
                ReleaseCommand::Remove { id } => release::remove(&vault, &id),
                ReleaseCommand::Key => release::key(&vault),
                ReleaseCommand::Check => release::check(&vault),
            }
        }
        Command::Contact(command) => {
            let (vault, _) = unlock(&ctx)?;
            contacts::run(&vault, command)
        }
        Command::Watch(WatchCommand::Invite { name, data }) => watch::invite(&name, data),
        Command::Watch(WatchCommand::Actions { data }) => watch::actions(data),
        Command::Watch(WatchCommand::Status) => {
            let (vault, _) = unlock(&ctx)?;
            switch::status(&vault)
        }
        Command::Watch(WatchCommand::EnrolPhone { watcher }) => {
            let (vault, _) = unlock(&ctx)?;
            switch::enrol_phone(&vault, watcher.as_deref())
        }
        Command::Enrol { url, code } => {
            let (vault, _) = unlock(&ctx)?;
            switch::enrol(&vault, &url, &code)
        }
        Command::Plan(command) => {
            let (vault, _) = unlock(&ctx)?;
            switch::plan(&vault, command)
        }
        Command::Checkin => {
            let (vault, _) = unlock(&ctx)?;
            switch::checkin(&vault)
        }
        Command::Status => {
            let (vault, _) = unlock(&ctx)?;
            switch::status(&vault)
        }
        Command::Pause { until, for_ } => {
            let (vault, _) = unlock(&ctx)?;
            switch::pause(&vault, until, for_)
        }
        Command::Resume => {
            let (vault, _) = unlock(&ctx)?;
            switch::resume(&vault)
        }
        Command::Proxy(command) => {
            let (vault, _) = unlock(&ctx)?;
            proxy::run(&vault, command)
        }
        Command::Phone(command) => {
            let (vault, _) = unlock(&ctx)?;
            match command {
                super::PhoneCommand::List => switch::phone_list(&vault),
                super::PhoneCommand::Remove { id } => switch::phone_remove(&vault, &id),
            }
        }
    }
}

/// Opens the vault with the recovery key file or the passphrase; returns the passphrase too
/// when one was used (backups may be sealed with it).
fn unlock(ctx: &Session) -> Result<(Vault, Option<Passphrase>)> {
    if !vault::exists(&ctx.dir) {
        return Err(vault::VaultError::NotFound(ctx.dir.clone()).into());
    }
    let (result, passphrase) = match &ctx.recovery_key_file {
        Some(path) => {
            let key = passphrase::from_file(path)?;
            (Vault::open(&ctx.dir, Unlock::RecoveryKey(&key)), None)
        }
        None => {
            let passphrase = ctx.passphrase.read("Passphrase")?;
            (
                Vault::open(&ctx.dir, Unlock::Passphrase(&passphrase)),
                Some(passphrase),
            )
        }
    };
    let vault =
        result.with_context(|| format!("cannot open the vault at {}", ctx.dir.display()))?;
    super::zone::use_vault_zone(&vault);
    switch::send_unlock_notices(&vault);
    for notice in counted(vault.notices()) {
        eprintln!("posbon: {notice}");
    }
    Ok((vault, passphrase))
}

/// `lines` with repeats folded into one line and a count: every command run under the
/// duress passphrase is an unlock, and four of them in a minute read better as "4 times".
pub(super) fn counted<S: AsRef<str>>(lines: &[S]) -> Vec<String> {
    let mut folded: Vec<(String, usize)> = Vec::new();
    for line in lines {
        match folded.iter_mut().find(|(seen, _)| seen == line.as_ref()) {
            Some((_, count)) => *count += 1,
            None => folded.push((line.as_ref().to_string(), 1)),
        }
    }
    folded
        .into_iter()
        .map(|(line, count)| match count {
            1 => line,
            n => format!("{line} ({n} times)"),
        })
        .collect()
}

fn init(ctx: &Session, insecure_fast_kdf: bool) -> Result<()> {
    if vault::exists(&ctx.dir) {
        return Err(vault::VaultError::AlreadyExists(ctx.dir.clone()).into());
    }
    let passphrase = ctx.passphrase.read_new("New passphrase")?;
    create(ctx, &passphrase, insecure_fast_kdf)
}

fn create(ctx: &Session, passphrase: &Passphrase, insecure_fast_kdf: bool) -> Result<()> {
    let kdf = if insecure_fast_kdf {
        eprintln!(
            "posbon: WARNING: --insecure-fast-kdf makes the passphrase easy to brute-force; use it for tests only"
        );
        KdfParams::INSECURE_FAST
    } else {
        KdfParams::INTERACTIVE
    };
    Vault::create(&ctx.dir, passphrase, kdf)
        .with_context(|| format!("cannot create a vault at {}", ctx.dir.display()))?;
    eprintln!("created a vault at {}", ctx.dir.display());
    if let Some(warning) = vault::keyslots::erasure_warning(&ctx.dir) {
        eprintln!("posbon: {warning}");
    }
    Ok(())
}

/// Reads a body from the editor, a file, or stdin.
fn read_body(args: &BodyArgs, initial: &str) -> Result<Zeroizing<String>> {
    if args.editor {
        return editor::edit(initial);
    }
    let mut bytes = Zeroizing::new(Vec::new());
    if let Some(path) = &args.body_file {
        fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {}", path.display()))?;
    } else {
        if io::stdin().is_terminal() {
            eprintln!("Type the body; end with Ctrl-D on a line of its own.");
        }
        io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read the body from stdin")?;
    }
    let text =
        std::str::from_utf8(&bytes).map_err(|_| UsageError("the body is not UTF-8 text".into()))?;
    Ok(Zeroizing::new(text.to_string()))
}

fn clean_tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn add(ctx: &Session, kind: AddKind) -> Result<()> {
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
        (None, None) => bail!(UsageError(format!(
            "{} needs its {label}: give it in --fields-file FILE (\"-\" for stdin: the fields, an \
             empty line, then the body), or run in a terminal to be asked; --{label} works too, \
             but other users can see it and your shell keeps it in its history",
            fields::Schema::record(kind).what,
            label = kind.title_label(),
        ))),
    };
    let (vault, _) = unlock(ctx)?;
    let given = match given {
        Some(given) => given,
        None => fields::RecordFields::ask(kind)?,
    };
    let title = given.title.as_deref().map(String::as_str).unwrap_or("");
    if title.trim().is_empty() {
        return Err(UsageError(format!("the {} must not be empty", kind.title_label())).into());
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

fn import(ctx: &Session) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let stdout = io::stdout();
    let mut count = 0usize;
    for (number, line) in io::stdin().lock().lines().enumerate() {
        let line = Zeroizing::new(line.context("cannot read stdin")?);
        if line.trim().is_empty() {
            continue;
        }
        // The parser's own message may quote the line's content: report only where it failed.
        let parsed: ImportLine = serde_json::from_str(&line).map_err(|e| {
            UsageError(format!(
                "line {} is not a record (column {}: {:?} error); {count} record(s) before it were added",
                number + 1,
                e.column(),
                e.classify()
            ))
        })?;
        if parsed.title.trim().is_empty() {
            bail!(UsageError(format!(
                "line {}: the title is empty",
                number + 1
            )));
        }
        let mut record = Record::new(parsed.kind, parsed.title.clone(), vault::now());
        record.body = parsed.body.clone();
        record.tags = clean_tags(&parsed.tags);
        for (name, value) in &parsed.fields {
            if !parsed.kind.field_names().contains(&name.as_str()) {
                bail!(UsageError(format!(
                    "line {}: a {} has no field {name:?}",
                    number + 1,
                    parsed.kind.as_str()
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
    eprintln!("imported {count} record(s)");
    Ok(())
}

/// Makes text safe for one tab-separated line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn print_rows(rows: &[(RecordId, Record)]) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for (id, record) in rows {
        writeln!(
            out,
            "{id}\t{}\t{}",
            record.kind.as_str(),
            one_line(&record.title)
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Tells about damaged records after the readable ones were printed, and fails with the
/// first damage so scripts notice.
fn report_damaged(damaged: Vec<vault::VaultError>) -> Result<()> {
    let count = damaged.len();
    let mut damaged = damaged.into_iter();
    let Some(first) = damaged.next() else {
        return Ok(());
    };
    for other in damaged {
        eprintln!("posbon: {other}");
    }
    Err(anyhow::Error::new(first).context(format!(
        "{count} record(s) could not be read; the others were listed (run `posbon vault check`)"
    )))
}

fn list(ctx: &Session) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let listing = vault.records()?;
    print_rows(&listing.records)?;
    report_damaged(listing.damaged)
}

pub(super) fn time_text(unix_ms: i64) -> String {
    super::zone::text(unix_ms)
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn show(ctx: &Session, id: &str) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let id = vault.resolve(id)?;
    let record = vault.get(&id)?;
    let mut text = Zeroizing::new(String::new());
    use std::fmt::Write as _;
    let _ = writeln!(text, "id:      {id}");
    let _ = writeln!(text, "kind:    {}", record.kind.as_str());
    let _ = writeln!(
        text,
        "{:<8} {}",
        format!("{}:", record.kind.title_label()),
        record.title
    );
    if !record.tags.is_empty() {
        let _ = writeln!(text, "tags:    {}", record.tags.join(", "));
    }
    for field in record.kind.field_names() {
        if let Some(value) = record.field(field) {
            let _ = writeln!(text, "{:<8} {value}", format!("{field}:"));
        }
    }
    let _ = writeln!(text, "created: {}", time_text(record.created));
    let _ = writeln!(text, "updated: {}", time_text(record.updated));
    if !record.attachments.is_empty() {
        let _ = writeln!(text, "attachments:");
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

fn edit(ctx: &Session, args: EditArgs) -> Result<()> {
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
            return Err(UsageError("the title must not be empty".into()).into());
        }
        record.title = title;
        changed = true;
    }
    if let Some(tags) = args.tags {
        record.tags = clean_tags(&tags);
        changed = true;
    }
    for assignment in &args.fields {
        let (field, value) = assignment
            .split_once('=')
            .ok_or_else(|| UsageError(format!("--set takes FIELD=VALUE, not {assignment:?}")))?;
        if !record.kind.field_names().contains(&field) {
            let names = record.kind.field_names();
            let has = if names.is_empty() {
                "it has no fields: change its title, tags or body instead".to_string()
            } else {
                format!("it has: {}", names.join(", "))
            };
            return Err(UsageError(format!(
                "a {} has no field {field:?} ({has})",
                record.kind.as_str()
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
        return Err(UsageError(
            "nothing to change: give --fields-file, --title, --tag, --set, --stdin-body, \
             --body-file or --editor"
                .into(),
        )
        .into());
    }
    record.updated = vault::now();
    vault.put(&id, &record)?;
    eprintln!("updated record {id}");
    Ok(())
}

fn file_name_of(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            UsageError(format!(
                "{} has no usable file name; give --name",
                path.display()
            ))
            .into()
        })
}

fn attach(ctx: &Session, id: &str, path: &Path, name: Option<String>) -> Result<()> {
    let name = match name {
        Some(name) => name,
        None => file_name_of(path)?,
    };
    let mut file =
        fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (vault, _) = unlock(ctx)?;
    let id = vault.resolve(id)?;
    let size = vault.attach(&id, &name, &mut file)?;
    eprintln!("attached {name:?} ({}) to record {id}", human_size(size));
    Ok(())
}

fn extract(ctx: &Session, id: &str, name: &str, out: &Path) -> Result<()> {
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
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn passwd(ctx: &Session, new_file: Option<PathBuf>) -> Result<()> {
    let (mut vault, _) = unlock(ctx)?;
    let source = Source {
        file: new_file,
        fd: None,
    };
    let new = source.read_new("New passphrase")?;
    vault.change_passphrase(&new)?;
    eprintln!("the passphrase was changed");
    Ok(())
}

fn recovery(ctx: &Session, command: RecoveryCommand) -> Result<()> {
    let (mut vault, _) = unlock(ctx)?;
    match command {
        RecoveryCommand::Add => {
            let (key, recipient) = vault.add_recovery_key()?;
            println!("{}", key.expose());
            eprintln!(
                "This is your recovery key. It is shown once: write it on paper or give it to someone you trust.\n\
                 It opens the vault without the passphrase: posbon --recovery-key-file FILE ...\n\
                 Its public recipient, for `posbon backup export --to`: {recipient}"
            );
        }
        RecoveryCommand::Remove => {
            if vault.remove_recovery_key()? {
                eprintln!("the recovery key was removed");
            } else {
                eprintln!("there was no recovery key");
            }
        }
    }
    Ok(())
}

fn duress(ctx: &Session, command: DuressCommand) -> Result<()> {
    let (mut vault, _) = unlock(ctx)?;
    match command {
        DuressCommand::Set {
            duress_passphrase_file,
        } => {
            let source = Source {
                file: duress_passphrase_file,
                fd: None,
            };
            let duress = source.read_new("Duress passphrase")?;
            vault.set_duress(&duress)?;
            crate::switch::watchers::sync_decoy(&vault).map_err(switch::explain)?;
            eprintln!(
                "the duress passphrase is set: it opens a decoy vault (empty until you add to it \
                 while opened with the duress passphrase), and each use silently alerts your watchers"
            );
        }
        DuressCommand::Remove => {
            if vault.remove_duress()? {
                eprintln!("the duress passphrase was removed");
            } else {
                eprintln!("there was no duress passphrase");
            }
        }
        DuressCommand::Over => switch::end_pretend(&vault)?,
        DuressCommand::Status => {
            let (recovery, duress) = vault.slot_summary()?;
            println!("recovery key: {}", if recovery { "set" } else { "not set" });
            println!(
                "duress passphrase: {}",
                if duress { "set" } else { "not set" }
            );
            let uses: Vec<String> = vault
                .events()?
                .iter()
                .map(|event| format!("duress passphrase used: {}", time_text(event.at)))
                .collect();
            for line in counted(&uses) {
                println!("{line}");
            }
        }
    }
    Ok(())
}

fn capture_cmd(ctx: &Session, command: CaptureCommand) -> Result<()> {
    let id = match command {
        CaptureCommand::Note { title, kind, tags } => {
            // The title off the command line: asked for on a terminal, else the first line
            // of stdin.
            let (title, body) = match title {
                Some(title) => (Zeroizing::new(title), read_body(&BodyArgs::default(), "")?),
                None if fields::can_ask() => (
                    fields::ask("Title: ")?.unwrap_or_default(),
                    read_body(&BodyArgs::default(), "")?,
                ),
                None => {
                    let all = read_body(&BodyArgs::default(), "")?;
                    let (first, rest) = all.split_once('\n').unwrap_or((all.as_str(), ""));
                    (
                        Zeroizing::new(first.to_string()),
                        Zeroizing::new(rest.to_string()),
                    )
                }
            };
            if title.trim().is_empty() {
                return Err(UsageError("the title must not be empty".into()).into());
            }
            capture::capture_note(&ctx.dir, kind, &title, &clean_tags(&tags), body.as_bytes())?
        }
        CaptureCommand::File { path, name } => {
            let name = match name {
                Some(name) => name,
                None => file_name_of(&path)?,
            };
            capture::capture_file(&ctx.dir, &name, &path)?
        }
    };
    println!("{id}");
    eprintln!(
        "captured (capture id above); it becomes a record, tagged \"captured\", at the next unlock"
    );
    Ok(())
}

fn backup_cmd(ctx: &Session, command: BackupCommand) -> Result<()> {
    match command {
        BackupCommand::Export { out, recipients } => {
            let (vault, passphrase) = unlock(ctx)?;
            let seal = if recipients.is_empty() {
                match &passphrase {
                    Some(p) => Seal::Passphrase(p),
                    None => bail!(UsageError(
                        "unlocked with the recovery key: give --to RECIPIENT for the backup".into()
                    )),
                }
            } else {
                let parsed = recipients
                    .iter()
                    .map(|r| {
                        age::x25519::Recipient::from_str(r).map_err(|_| {
                            UsageError(format!("{r:?} is not an age recipient (age1...)"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Seal::Recipients(parsed)
            };
            let result =
                output::write_whole(&out, |writer| Ok(backup::export(&vault, seal, writer)?));
            let summary = result?;
            eprintln!(
                "wrote {}: {} record(s), {} attachment(s)",
                out.display(),
                summary.records,
                summary.attachments
            );
            Ok(())
        }
        BackupCommand::Verify { file, identity } => {
            let passphrase;
            let opener = match &identity {
                Some(path) => Opener::IdentityFile(path),
                None => {
                    passphrase = ctx.passphrase.read("Backup passphrase")?;
                    Opener::Passphrase(&passphrase)
                }
            };
            let summary = backup::verify(&file, opener)
                .with_context(|| format!("{} did not verify", file.display()))?;
            println!(
                "ok: {} record(s), {} attachment(s), {} of attachments",
                summary.records,
                summary.attachments,
                human_size(summary.attachment_bytes)
            );
            Ok(())
        }
        BackupCommand::Restore {
            file,
            identity,
            insecure_fast_kdf,
        } => {
            let (vault, passphrase) = if vault::exists(&ctx.dir) {
                unlock(ctx)?
            } else {
                // Read once: a descriptor cannot be read a second time.
                let passphrase = ctx.passphrase.read_new("New passphrase")?;
                create(ctx, &passphrase, insecure_fast_kdf)?;
                let vault = Vault::open(&ctx.dir, Unlock::Passphrase(&passphrase))
                    .with_context(|| format!("cannot open the vault at {}", ctx.dir.display()))?;
                (vault, Some(passphrase))
            };
            let opener = match (&identity, &passphrase) {
                (Some(path), _) => Opener::IdentityFile(path),
                (None, Some(p)) => Opener::Passphrase(p),
                (None, None) => bail!(UsageError(
                    "give -i IDENTITY_FILE to open the backup".into()
                )),
            };
            let summary = backup::restore(&vault, &file, opener)
                .with_context(|| format!("cannot restore {}", file.display()))?;
            eprintln!(
                "restored {} record(s) and {} attachment(s) into {}",
                summary.records,
                summary.attachments,
                ctx.dir.display()
            );
            Ok(())
        }
    }
}

fn check(ctx: &Session) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let report = vault.check()?;
    println!(
        "{} record(s) and {} attachment(s) authenticate",
        report.records_ok, report.attachments_ok
    );
    if report.orphans_removed > 0 {
        println!(
            "removed {} unreferenced encrypted file(s) left by interrupted work",
            report.orphans_removed
        );
    }
    if report.damaged.is_empty() {
        return Ok(());
    }
    for damage in &report.damaged {
        println!("DAMAGED: {damage}");
    }
    Err(vault::VaultError::Damaged(format!(
        "{} item(s) failed to authenticate (listed above); the rest are intact",
        report.damaged.len()
    ))
    .into())
}

fn panic_cmd(ctx: &Session, yes: bool) -> Result<()> {
    if !vault::exists(&ctx.dir) {
        return Err(vault::VaultError::NotFound(ctx.dir.clone()).into());
    }
    if !yes {
        if !io::stdin().is_terminal() {
            return Err(UsageError(
                "refusing to destroy the keys without a terminal to confirm on; add --yes".into(),
            )
            .into());
        }
        eprint!(
            "This destroys the keys of the vault at {}: nobody, including you, can open it again.\n\
             Type ERASE to go ahead: ",
            ctx.dir.display()
        );
        let mut answer = String::new();
        io::stdin().read_line(&mut answer)?;
        if answer.trim() != "ERASE" {
            bail!("not confirmed; nothing was destroyed");
        }
    }
    vault::panic_erase(&ctx.dir)?;
    eprintln!("the vault's keys were destroyed");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_lines_are_folded_with_a_count_in_first_seen_order() {
        let lines = ["a", "b", "a", "a", "c"];
        assert_eq!(super::counted(&lines), ["a (3 times)", "b", "c"]);
        assert!(super::counted::<&str>(&[]).is_empty());
    }
}
