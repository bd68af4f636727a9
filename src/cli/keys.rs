//! The commands that guard the vault rather than edit it: the passphrase, the recovery key
//! and the duress passphrase, capture without unlocking, backups, the integrity check, and
//! panic.

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::vault::backup::{self, Opener, Seal};
use crate::vault::{self, Unlock, Vault, capture};

use super::passphrase::Source;
use super::records::{clean_tags, file_name_of, human_size, read_body};
use super::session::{Session, counted, create, unlock};
use super::zone::text as time_text;
use super::{
    BackupCommand, BodyArgs, CaptureCommand, DuressCommand, RecoveryCommand, UsageError, fields,
    output, switch,
};

pub(super) fn passwd(ctx: &Session, new_file: Option<PathBuf>) -> Result<()> {
    let (mut vault, _) = unlock(ctx)?;
    let source = Source {
        file: new_file,
        fd: None,
    };
    let new = source.read_new(&super::words::t("prompt-new-passphrase"))?;
    vault.change_passphrase(&new)?;
    eprintln!("the passphrase was changed");
    Ok(())
}

pub(super) fn recovery(ctx: &Session, command: RecoveryCommand) -> Result<()> {
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

pub(super) fn duress(ctx: &Session, command: DuressCommand) -> Result<()> {
    let (mut vault, _) = unlock(ctx)?;
    match command {
        DuressCommand::Set {
            duress_passphrase_file,
        } => {
            let source = Source {
                file: duress_passphrase_file,
                fd: None,
            };
            let duress = source.read_new(&super::words::t("prompt-duress-passphrase"))?;
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
        DuressCommand::Retract => switch::retract_duress(&vault)?,
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

pub(super) fn capture_cmd(ctx: &Session, command: CaptureCommand) -> Result<()> {
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

pub(super) fn backup_cmd(ctx: &Session, command: BackupCommand) -> Result<()> {
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
                    passphrase = ctx
                        .passphrase
                        .read(&super::words::t("prompt-backup-passphrase"))?;
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
                let passphrase = ctx
                    .passphrase
                    .read_new(&super::words::t("prompt-new-passphrase"))?;
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

pub(super) fn check(ctx: &Session) -> Result<()> {
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

pub(super) fn panic_cmd(ctx: &Session, yes: bool) -> Result<()> {
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
