//! Commands about alerts: the journalist's contacts and instructions (kept in the vault,
//! sent whole to every watcher on each change), channel tests, and `alert verify` for the
//! people who receive alerts.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::vault::Vault;
use crate::watch::contacts::{Channel, Contact, Directory, Lang};
use crate::watch::protocol::{TestPayload, ops};

use super::watch::{enrolled, fan_out};
use super::{ContactAddArgs, ContactCommand, UsageError};

/// The vault setting holding the directory.
pub(super) const CONTACTS: &str = "contacts";

pub(super) fn directory(vault: &Vault) -> Result<Directory> {
    Ok(vault.setting(CONTACTS)?.unwrap_or_default())
}

pub(super) fn run(vault: &Vault, command: ContactCommand) -> Result<()> {
    match command {
        ContactCommand::Add(args) => {
            let contact = contact_from(*args)?;
            let mut dir = directory(vault)?;
            let replaced = dir.find(&contact.name).is_some();
            dir.contacts
                .retain(|c| !c.name.trim().eq_ignore_ascii_case(contact.name.trim()));
            let name = contact.name.clone();
            dir.contacts.push(contact);
            save_and_sync(vault, &dir)?;
            eprintln!("{} {name}", if replaced { "replaced" } else { "added" });
            Ok(())
        }
        ContactCommand::Remove { name } => {
            let mut dir = directory(vault)?;
            if dir.find(&name).is_none() {
                bail!(UsageError(format!("there is no contact called {name:?}")));
            }
            dir.contacts
                .retain(|c| !c.name.trim().eq_ignore_ascii_case(name.trim()));
            save_and_sync(vault, &dir)?;
            eprintln!("removed {name}");
            Ok(())
        }
        ContactCommand::List => {
            let dir = directory(vault)?;
            for c in &dir.contacts {
                let tiers: Vec<String> = c.tiers.iter().map(u8::to_string).collect();
                let channels: Vec<String> = c.channels.iter().map(Channel::describe).collect();
                println!(
                    "{}\t{}\t{}\ttier {}\t{}",
                    c.name,
                    c.role,
                    c.lang.code(),
                    tiers.join(","),
                    channels.join(" ")
                );
            }
            if dir.contacts.is_empty() {
                eprintln!(
                    "no contacts yet: add one with `posbon contact add NAME --lang ru --tier 1 --email ADDR`"
                );
            }
            if !dir.instructions.is_empty() {
                println!("\ninstructions:\n{}", dir.instructions);
            }
            Ok(())
        }
        ContactCommand::Instructions { file } => {
            let mut text = String::new();
            match &file {
                Some(path) => {
                    text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?
                }
                None => {
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("cannot read the instructions from stdin")?;
                }
            }
            let mut dir = directory(vault)?;
            dir.instructions = text.replace("\r\n", "\n").trim().to_string();
            save_and_sync(vault, &dir)?;
            eprintln!(
                "instructions set ({} characters)",
                dir.instructions.chars().count()
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
                bail!(UsageError(format!("there is no contact called {name:?}")));
            }
            let payload = serde_json::to_string(&TestPayload { contact: name })?;
            let failed = std::sync::atomic::AtomicUsize::new(0);
            fan_out(vault, ops::TEST_ALERT, payload, |link, status| {
                for result in status.test_results.iter().flatten() {
                    match &result.error {
                        None if result.accepted => println!(
                            "{}: {} {}: accepted",
                            link.url, result.contact, result.channel
                        ),
                        error => {
                            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            println!(
                                "{}: {} {}: FAILED: {}",
                                link.url,
                                result.contact,
                                result.channel,
                                error.as_deref().unwrap_or("not accepted")
                            );
                        }
                    }
                }
            })?;
            let failed = failed.into_inner();
            if failed > 0 {
                bail!("{failed} channel(s) did not accept the test alert");
            }
            Ok(())
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
        name: args.name.trim().to_string(),
        role: args.role.trim().to_string(),
        lang: Lang::parse(&args.lang)?,
        tiers,
        channels,
        tz: args.tz,
        age_recipients: args.age_recipients,
    };
    // Checked here too, so a mistake is reported before anything is saved.
    Directory {
        contacts: vec![contact.clone()],
        instructions: String::new(),
    }
    .validate()?;
    Ok(contact)
}

/// Saves the directory in the vault first (nothing is lost if a watcher is down), then sends
/// it to every watcher.
fn save_and_sync(vault: &Vault, dir: &Directory) -> Result<()> {
    dir.validate()?;
    vault.set_setting(CONTACTS, dir)?;
    if !enrolled(vault)? {
        eprintln!("saved in the vault; it is sent to each watcher when you enrol");
        return Ok(());
    }
    sync(vault, dir).context(
        "saved in the vault, but not every watcher has it yet: run `posbon contact sync` when they are reachable",
    )
}

fn sync(vault: &Vault, dir: &Directory) -> Result<()> {
    let count = dir.contacts.len();
    fan_out(
        vault,
        ops::CONTACTS,
        serde_json::to_string(dir)?,
        |link, _| println!("{}: {count} contact(s) sent", link.url),
    )
}

/// `posbon alert verify`.
pub(super) fn verify(watcher: &str, file: Option<&Path>) -> Result<()> {
    let hex_digits = watcher.chars().filter(char::is_ascii_hexdigit).count();
    if hex_digits == 16 && watcher.chars().filter(char::is_ascii_alphanumeric).count() == 16 {
        bail!(UsageError(format!(
            "--watcher {:?} is a 64-bit fingerprint, the short form of posbon 0.1, which is too \
             short to trust; ask the watcher's operator or the journalist for the whole one \
             (32 hex digits, like 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d)",
            watcher.trim()
        )));
    }
    if !crate::alert::message::names_a_watcher(watcher) {
        bail!(UsageError(format!(
            "--watcher {:?} is neither a watcher's fingerprint (like 1a2b-3c4d-5e6f-7a8b-9c0d-1e2f-3a4b-5c6d) nor its \
             public key; take it from the watcher's operator, over the phone",
            watcher.trim()
        )));
    }
    let mut input = Vec::new();
    match file {
        Some(path) if path != Path::new("-") => {
            input =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut input)
                .context("cannot read the alert from stdin")?;
        }
    }
    let verified = crate::alert::message::verify(&input, watcher)
        .context("NOT GENUINE: do not act on this alert before confirming it by phone")?;
    let header = &verified.header;
    // In the one standard form, whatever was typed, to compare with what the operator said.
    let fingerprint = crate::watch::protocol::fingerprint(
        &crate::watch::protocol::unb64(&header.watcher_key).unwrap_or_default(),
    );
    println!("GENUINE: signed by watcher {fingerprint}");
    println!("id: {}", header.id);
    println!("subject: {}", header.subject);
    println!("step: {}", header.step);
    println!(
        "issued: {}",
        jiff::Timestamp::from_millisecond(header.issued_ms)
            .map(|t| t.to_string())
            .unwrap_or_default()
    );
    println!("title: {}", header.title);
    if verified.text_outside {
        eprintln!(
            "posbon: WARNING: the message also holds text outside the signed alert (a forwarding note, a footer, or an addition): none of it is authenticated. Act only on the text printed below."
        );
    }
    println!("----- the signed alert: only this text is authenticated -----");
    println!("{}", verified.text);
    println!("----- end of the signed alert -----");
    Ok(())
}
