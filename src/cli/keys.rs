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
    output, switch, words,
};

pub(super) fn passwd(ctx: &Session, new_file: Option<PathBuf>) -> Result<()> {
    let (mut vault, _) = unlock(ctx)?;
    let source = Source {
        file: new_file,
        fd: None,
    };
    let new = source.read_new(&words::t("prompt-new-passphrase"))?;
    vault.change_passphrase(&new)?;
    eprintln!("{}", words::t("passwd-changed"));
    Ok(())
}

pub(super) fn recovery(ctx: &Session, command: RecoveryCommand) -> Result<()> {
    let (mut vault, _) = unlock(ctx)?;
    match command {
        RecoveryCommand::Add => {
            let (key, recipient) = vault.add_recovery_key()?;
            println!("{}", key.expose());
            eprintln!(
                "{}",
                words::with(
                    "recovery-key-shown",
                    &[("recipient", &recipient.to_string())]
                )
            );
        }
        RecoveryCommand::Remove => {
            if vault.remove_recovery_key()? {
                eprintln!("{}", words::t("recovery-removed"));
            } else {
                eprintln!("{}", words::t("recovery-none"));
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
            let duress = source.read_new(&words::t("prompt-duress-passphrase"))?;
            vault.set_duress(&duress)?;
            crate::switch::watchers::sync_decoy(&vault).map_err(switch::explain)?;
            eprintln!("{}", words::t("duress-set"));
        }
        DuressCommand::Remove => {
            if vault.remove_duress()? {
                eprintln!("{}", words::t("duress-removed"));
            } else {
                eprintln!("{}", words::t("duress-none"));
            }
        }
        DuressCommand::Over => switch::end_pretend(&vault)?,
        DuressCommand::Retract => switch::retract_duress(&vault)?,
        DuressCommand::Status => {
            let (recovery, duress) = vault.slot_summary()?;
            println!(
                "{}",
                words::t(if recovery {
                    "status-recovery-set"
                } else {
                    "status-recovery-not-set"
                })
            );
            println!(
                "{}",
                words::t(if duress {
                    "status-duress-set"
                } else {
                    "status-duress-not-set"
                })
            );
            let uses: Vec<String> = vault
                .events()?
                .iter()
                .map(|event| words::with("duress-used", &[("time", &time_text(event.at))]))
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
                    fields::ask(&format!("{}: ", words::t("capture-ask-title")))?
                        .unwrap_or_default(),
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
                return Err(UsageError(words::t("title-empty")).into());
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
    eprintln!("{}", words::t("captured"));
    Ok(())
}

pub(super) fn backup_cmd(ctx: &Session, command: BackupCommand) -> Result<()> {
    match command {
        BackupCommand::Export { out, recipients } => {
            let (vault, passphrase) = unlock(ctx)?;
            let seal = if recipients.is_empty() {
                match &passphrase {
                    Some(p) => Seal::Passphrase(p),
                    None => bail!(UsageError(words::t("backup-needs-recipient"))),
                }
            } else {
                let parsed = recipients
                    .iter()
                    .map(|r| {
                        age::x25519::Recipient::from_str(r).map_err(|_| {
                            UsageError(words::with(
                                "not-an-age-recipient",
                                &[("given", &format!("{r:?}"))],
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Seal::Recipients(parsed)
            };
            let result =
                output::write_whole(&out, |writer| Ok(backup::export(&vault, seal, writer)?));
            let summary = result?;
            eprintln!(
                "{}",
                words::counts(
                    "backup-written",
                    &[
                        ("records", summary.records as i64),
                        ("attachments", summary.attachments as i64)
                    ],
                    &[("path", &out.display().to_string())]
                )
            );
            Ok(())
        }
        BackupCommand::Verify { file, identity } => {
            let passphrase;
            let opener = match &identity {
                Some(path) => Opener::IdentityFile(path),
                None => {
                    passphrase = ctx.passphrase.read(&words::t("prompt-backup-passphrase"))?;
                    Opener::Passphrase(&passphrase)
                }
            };
            let summary = backup::verify(&file, opener).with_context(|| {
                words::with(
                    "backup-not-verified",
                    &[("path", &file.display().to_string())],
                )
            })?;
            println!(
                "{}",
                words::counts(
                    "backup-verified",
                    &[
                        ("records", summary.records as i64),
                        ("attachments", summary.attachments as i64)
                    ],
                    &[("size", &human_size(summary.attachment_bytes))]
                )
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
                    .read_new(&words::t("prompt-new-passphrase"))?;
                create(ctx, &passphrase, insecure_fast_kdf)?;
                let vault =
                    Vault::open(&ctx.dir, Unlock::Passphrase(&passphrase)).with_context(|| {
                        words::with(
                            "cannot-open-vault",
                            &[("dir", &ctx.dir.display().to_string())],
                        )
                    })?;
                (vault, Some(passphrase))
            };
            let opener = match (&identity, &passphrase) {
                (Some(path), _) => Opener::IdentityFile(path),
                (None, Some(p)) => Opener::Passphrase(p),
                (None, None) => bail!(UsageError(words::t("backup-needs-identity"))),
            };
            let summary = backup::restore(&vault, &file, opener).with_context(|| {
                words::with(
                    "backup-not-restored",
                    &[("path", &file.display().to_string())],
                )
            })?;
            eprintln!(
                "{}",
                words::counts(
                    "backup-restored",
                    &[
                        ("records", summary.records as i64),
                        ("attachments", summary.attachments as i64)
                    ],
                    &[("dir", &ctx.dir.display().to_string())]
                )
            );
            Ok(())
        }
    }
}

pub(super) fn check(ctx: &Session) -> Result<()> {
    let (vault, _) = unlock(ctx)?;
    let report = vault.check()?;
    println!(
        "{}",
        words::counts(
            "check-authentic",
            &[
                ("records", report.records_ok as i64),
                ("attachments", report.attachments_ok as i64)
            ],
            &[]
        )
    );
    if report.orphans_removed > 0 {
        println!(
            "{}",
            words::count(
                "check-orphans-removed",
                "count",
                report.orphans_removed as i64,
                &[]
            )
        );
    }
    if report.damaged.is_empty() {
        return Ok(());
    }
    for damage in &report.damaged {
        println!("{}", words::with("check-damaged", &[("what", damage)]));
    }
    Err(vault::VaultError::Damaged(words::count(
        "check-failed",
        "count",
        report.damaged.len() as i64,
        &[],
    ))
    .into())
}

pub(super) fn panic_cmd(ctx: &Session, yes: bool) -> Result<()> {
    if !vault::exists(&ctx.dir) {
        return Err(vault::VaultError::NotFound(ctx.dir.clone()).into());
    }
    if !yes {
        if !io::stdin().is_terminal() {
            return Err(UsageError(words::t("panic-needs-terminal")).into());
        }
        eprint!(
            "{}: ",
            words::with("panic-confirm", &[("dir", &ctx.dir.display().to_string())])
        );
        let mut answer = String::new();
        io::stdin().read_line(&mut answer)?;
        if answer.trim() != "ERASE" {
            bail!(words::t("panic-not-confirmed"));
        }
    }
    vault::panic_erase(&ctx.dir)?;
    eprintln!("{}", words::t("panic-done"));
    Ok(())
}
