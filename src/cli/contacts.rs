//! Commands about alerts: the journalist's contacts and instructions (kept in the vault,
//! sent whole to every watcher on each change), channel tests, and `alert verify` for the
//! people who receive alerts.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::protocol::contacts::{Channel, Contact, ContactError, Directory, Lang, TelegramChat};
use crate::vault::Vault;

use super::fields::{self, Entry, FieldsError, Schema};
use super::switch::{explain, warn_of_gaps};
use super::{ContactAddArgs, ContactCommand, UsageError, words};
use crate::switch::contacts as switch_contacts;

fn directory(vault: &Vault) -> Result<Directory> {
    switch_contacts::directory(vault).map_err(explain)
}

pub(super) fn run(vault: &Vault, command: ContactCommand) -> Result<()> {
    match command {
        ContactCommand::Add(args) => {
            let args = match (&args.name, &args.fields_file) {
                (Some(_), _) => *args,
                (None, Some(path)) => {
                    let text = fields::read_source(path)?;
                    let entries = fields::parse(&text, &Schema::contact(), 1)?;
                    args_from(entries, true)?
                }
                (None, None) if fields::can_ask() => ask_contact()?,
                (None, None) => bail!(UsageError(words::t("contact-needs-fields"))),
            };
            let contact = contact_from(args)?;
            let mut dir = directory(vault)?;
            let name = contact.name.clone();
            let replaced = switch_contacts::put(&mut dir, contact);
            save_and_sync(vault, &dir)?;
            let said = if replaced {
                "contact-replaced"
            } else {
                "contact-added"
            };
            eprintln!("{}", words::with(said, &[("name", &name)]));
            Ok(())
        }
        ContactCommand::Remove { name } => {
            let mut dir = directory(vault)?;
            if !switch_contacts::remove(&mut dir, &name) {
                bail!(UsageError(words::with(
                    "contact-unknown",
                    &[("name", &format!("{name:?}"))]
                )));
            }
            save_and_sync(vault, &dir)?;
            eprintln!("{}", words::with("contact-removed", &[("name", &name)]));
            Ok(())
        }
        ContactCommand::List => {
            let dir = directory(vault)?;
            for c in &dir.contacts {
                let tiers: Vec<String> = c.tiers.iter().map(u8::to_string).collect();
                let channels: Vec<String> = c.channels.iter().map(Channel::describe).collect();
                let tier = words::with("contact-list-tier", &[("tiers", &tiers.join(","))]);
                println!(
                    "{}\t{}\t{}\t{tier}\t{}",
                    c.name,
                    c.role,
                    c.lang.code(),
                    channels.join(" ")
                );
                // The details a line would hide, each on its own line below.
                if let Some(tz) = &c.tz {
                    println!("  {}", words::with("contact-time-zone", &[("tz", tz)]));
                }
                if c.email_attach {
                    println!("  {}", words::t("contact-email-attach"));
                }
                for key in &c.age_recipients {
                    println!("  {}", words::with("contact-sealing-key", &[("key", key)]));
                }
            }
            if dir.contacts.is_empty() {
                eprintln!("{}", words::t("contacts-none"));
            }
            if !dir.instructions.is_empty() {
                println!(
                    "\n{}\n{}",
                    words::t("contact-instructions"),
                    dir.instructions
                );
            }
            Ok(())
        }
        ContactCommand::Instructions { file } => {
            let mut text = String::new();
            match &file {
                Some(path) => {
                    text =
                        std::fs::read_to_string(path).with_context(|| words::cannot_read(path))?
                }
                None => {
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .with_context(|| words::t("instructions-stdin"))?;
                }
            }
            let mut dir = directory(vault)?;
            dir.instructions = text.replace("\r\n", "\n").trim().to_string();
            save_and_sync(vault, &dir)?;
            let characters = dir.instructions.chars().count() as i64;
            eprintln!(
                "{}",
                words::count("instructions-set", "count", characters, &[])
            );
            Ok(())
        }
        ContactCommand::Sync => {
            let dir = directory(vault)?;
            sync(vault, &dir)
        }
        ContactCommand::Test { name } => {
            let dir = directory(vault)?;
            if let Some(name) = &name
                && dir.find(name).is_none()
            {
                bail!(UsageError(words::with(
                    "contact-unknown",
                    &[("name", &format!("{name:?}"))]
                )));
            }
            let seconds = crate::protocol::TEST_ANSWER_LIMIT.as_secs().to_string();
            eprintln!(
                "{}",
                words::with("test-alerts-sending", &[("seconds", &seconds)])
            );
            switch_contacts::test_alerts(vault, name, |link, result| {
                let channel = result.channel.to_string();
                let about = [
                    ("url", link.url.as_str()),
                    ("contact", result.contact.as_str()),
                    ("channel", channel.as_str()),
                ];
                match &result.error {
                    None if result.accepted => {
                        println!("{}", words::with("test-alert-accepted", &about))
                    }
                    error => {
                        let not_accepted = words::t("test-alert-not-accepted");
                        let reason = error.as_deref().unwrap_or(&not_accepted);
                        let mut args = about.to_vec();
                        args.push(("reason", reason));
                        println!("{}", words::with("test-alert-failed", &args))
                    }
                }
            })
            .map_err(explain)
        }
    }
}

fn contact_from(args: ContactAddArgs) -> Result<Contact> {
    let mut channels = Vec::new();
    channels.extend(args.email.into_iter().map(Channel::Email));
    channels.extend(args.webhook.into_iter().map(Channel::Webhook));
    channels.extend(args.telegram.into_iter().map(Channel::Telegram));
    channels.extend(args.signal.into_iter().map(Channel::Signal));
    channels.extend(args.ntfy.into_iter().map(Channel::Ntfy));
    channels.extend(args.matrix.into_iter().map(Channel::Matrix));
    let mut tiers = args.tiers;
    tiers.sort_unstable();
    tiers.dedup();
    let contact = Contact {
        name: args.name.unwrap_or_default().trim().to_string(),
        role: args.role.unwrap_or_default().trim().to_string(),
        lang: Lang::parse(args.lang.as_deref().unwrap_or_default()).map_err(ContactError::from)?,
        tiers,
        channels,
        tz: args.tz,
        age_recipients: args.age_recipients,
        email_attach: args.email_attach,
    };
    // Checked here too, so a mistake is reported before anything is saved.
    Directory {
        contacts: vec![contact.clone()],
        instructions: String::new(),
    }
    .validate()?;
    // What the contact must do first, said when it can still be passed on.
    for channel in &contact.channels {
        if let Channel::Telegram(chat) = channel
            && let Ok(kind) = crate::protocol::contacts::telegram_chat(chat)
        {
            eprintln!("{}", telegram_note(chat, kind));
        }
    }
    Ok(contact)
}

/// What must be done before a watcher's bot can write to a Telegram chat, in the reader's
/// words (the English is [`TelegramChat::first_step`]'s).
fn telegram_note(chat: &str, kind: TelegramChat) -> String {
    let step = match kind {
        TelegramChat::Person => "telegram-person",
        TelegramChat::Group => "telegram-group",
        TelegramChat::ChannelOrSupergroup => "telegram-channel",
        TelegramChat::Username => "telegram-username",
    };
    words::with(
        "telegram-note",
        &[("chat", chat), ("step", &words::t(step))],
    )
}

/// A contact's options from `field: value` lines. `whole`: the lines must give the name,
/// language and tier (a file does; at the terminal those were asked for one by one).
fn args_from(entries: Vec<Entry>, whole: bool) -> Result<ContactAddArgs, FieldsError> {
    let mut args = ContactAddArgs {
        name: None,
        lang: None,
        tiers: vec![],
        role: None,
        tz: None,
        email: vec![],
        email_attach: false,
        webhook: vec![],
        telegram: vec![],
        signal: vec![],
        ntfy: vec![],
        matrix: vec![],
        age_recipients: vec![],
        fields_file: None,
    };
    for entry in entries {
        let value = entry.value.to_string();
        match entry.field {
            "name" => args.name = Some(value),
            "lang" => args.lang = Some(value),
            "role" => args.role = Some(value),
            "tz" if value.is_empty() => {}
            "tz" => args.tz = Some(value),
            "tier" => args.tiers.extend(fields::tiers(&entry)?),
            "email-attach" => {
                // A typo must not silently decide where a bundle goes.
                args.email_attach = match value.trim() {
                    "yes" | "true" => true,
                    "no" | "false" | "" => false,
                    _ => {
                        return Err(FieldsError::NotYesOrNo {
                            line: entry.line,
                            field: entry.field,
                        });
                    }
                }
            }
            _ if value.is_empty() => {
                return Err(FieldsError::Empty {
                    line: entry.line,
                    field: entry.field,
                });
            }
            "email" => args.email.push(value),
            "webhook" => args.webhook.push(value),
            "telegram" => args.telegram.push(value),
            "signal" => args.signal.push(value),
            "ntfy" => args.ntfy.push(value),
            "matrix" => args.matrix.push(value),
            _ => args.age_recipients.push(value),
        }
    }
    if whole {
        let missing = |field| FieldsError::Missing {
            field,
            what: "a contact",
        };
        if args.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(missing("name"));
        }
        if args.lang.is_none() {
            return Err(missing("lang"));
        }
        if args.tiers.is_empty() {
            return Err(missing("tier"));
        }
    }
    Ok(args)
}

/// Asks for a contact on the terminal, one question at a time; a wrong answer is asked again.
fn ask_contact() -> Result<ContactAddArgs> {
    let stopped = || anyhow::anyhow!(words::t("contact-ask-stopped"));
    let question = |id: &str| format!("{}: ", words::t(id));
    eprintln!("{}", words::t("contact-ask-intro"));
    let name = loop {
        let typed = fields::ask(&question("contact-ask-name"))?.ok_or_else(stopped)?;
        if !typed.trim().is_empty() {
            break typed.trim().to_string();
        }
    };
    let lang = loop {
        let typed = fields::ask(&question("contact-ask-lang"))?.ok_or_else(stopped)?;
        match Lang::parse(&typed) {
            Ok(lang) => break lang.code().to_string(),
            Err(e) => eprintln!("{e}"),
        }
    };
    let tiers = loop {
        let typed = fields::ask(&question("contact-ask-tier"))?.ok_or_else(stopped)?;
        let entry = Entry {
            field: "tier",
            value: typed,
            line: 1,
        };
        match fields::tiers(&entry) {
            Ok(tiers) if !tiers.is_empty() => break tiers,
            _ => eprintln!("{}", words::t("contact-bad-tier")),
        }
    };
    let role = fields::ask(&question("contact-ask-role"))?.ok_or_else(stopped)?;
    let tz = fields::ask(&question("contact-ask-tz"))?.ok_or_else(stopped)?;
    let ways = Schema {
        what: "a way to reach them",
        single: vec![],
        repeated: Schema::contact().repeated[1..].to_vec(),
    };
    let kinds = ways.repeated.join(", ");
    eprintln!("{}", words::with("contact-ask-ways", &[("kinds", &kinds)]));
    let mut entries = Vec::new();
    loop {
        let Some(typed) = fields::ask("  ")? else {
            break;
        };
        if typed.trim().is_empty() {
            break;
        }
        match fields::parse(&typed, &ways, 1) {
            Ok(parsed) => entries.extend(parsed),
            Err(_) => eprintln!(
                "{}",
                words::with("contact-ask-way-again", &[("kinds", &kinds)])
            ),
        }
    }
    let mut args = args_from(entries, false)?;
    args.name = Some(name);
    args.lang = Some(lang);
    args.tiers = tiers;
    args.role = Some(role.to_string());
    args.tz = Some(tz.trim().to_string()).filter(|tz| !tz.is_empty());
    Ok(args)
}

/// Saves the directory in the vault first (nothing is lost if a watcher is down), then sends
/// it to every watcher.
fn save_and_sync(vault: &Vault, dir: &Directory) -> Result<()> {
    switch_contacts::keep(vault, dir).map_err(explain)?;
    warn_of_gaps(vault);
    if !crate::switch::watchers::enrolled(vault).map_err(explain)? {
        eprintln!("{}", words::t("contacts-saved-not-enrolled"));
        return Ok(());
    }
    sync(vault, dir).with_context(|| words::t("contacts-saved-not-synced"))
}

fn sync(vault: &Vault, dir: &Directory) -> Result<()> {
    let count = dir.contacts.len();
    switch_contacts::sync(vault, dir, |link| {
        println!(
            "{}",
            words::count(
                "contacts-sent",
                "count",
                count as i64,
                &[("url", &link.url)]
            )
        )
    })
    .map_err(explain)
}

/// `posbon alert verify`.
pub(super) fn verify(watcher: &str, file: Option<&Path>) -> Result<()> {
    let hex_digits = watcher.chars().filter(char::is_ascii_hexdigit).count();
    if hex_digits == 16 && watcher.chars().filter(char::is_ascii_alphanumeric).count() == 16 {
        bail!(UsageError(words::with(
            "verify-short-fingerprint",
            &[("given", &format!("{:?}", watcher.trim()))]
        )));
    }
    if !crate::alert::message::names_a_watcher(watcher) {
        bail!(UsageError(words::with(
            "verify-not-a-watcher",
            &[("given", &format!("{:?}", watcher.trim()))]
        )));
    }
    let mut input = Vec::new();
    match file {
        Some(path) if path != Path::new("-") => {
            input = std::fs::read(path).with_context(|| words::cannot_read(path))?
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut input)
                .with_context(|| words::t("verify-stdin"))?;
        }
    }
    let verified = crate::alert::message::verify(&input, watcher)
        .with_context(|| words::t("verify-not-genuine"))?;
    let header = &verified.header;
    // In the one standard form, whatever was typed, to compare with what the operator said.
    let fingerprint = crate::protocol::fingerprint(
        &crate::protocol::unb64(&header.watcher_key).unwrap_or_default(),
    );
    println!(
        "{}",
        words::with("verify-genuine", &[("fingerprint", &fingerprint)])
    );
    println!("id: {}", header.id);
    let issued = jiff::Timestamp::from_millisecond(header.issued_ms)
        .map(|t| t.to_string())
        .unwrap_or_default();
    for (label, value) in [
        ("verify-subject", &header.subject),
        ("verify-step", &header.step),
        ("verify-issued", &issued),
        ("verify-title", &header.title),
    ] {
        println!("{}: {value}", words::t(label));
    }
    if verified.text_outside {
        eprintln!("posbon: {}", words::t("verify-text-outside"));
    }
    println!("{}", words::t("verify-begin"));
    println!("{}", verified.text);
    println!("{}", words::t("verify-end"));
    Ok(())
}
