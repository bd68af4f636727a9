//! The dispatch of every command, and what all of them share: where the vault is, how it
//! is unlocked (passphrase, recovery key or duress passphrase) and created.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

use crate::secret::Passphrase;
use crate::vault::keyslots::KdfParams;
use crate::vault::{self, Unlock, Vault};

use super::passphrase::{self, Source};
use super::records::{print_rows, read_body, report_damaged};
use super::{
    AlertCommand, BodyArgs, Cli, Command, ReleaseCommand, UsageError, VaultCommand, WatchCommand,
    contacts, demo, fields, keys, proxy, records, release, switch, watch,
};

/// What every command may need: where the vault is and how to unlock it.
pub(super) struct Session {
    pub(super) dir: PathBuf,
    pub(super) passphrase: Source,
    pub(super) recovery_key_file: Option<PathBuf>,
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
        Command::Add(kind) => records::add(&ctx, kind),
        Command::Import => records::import(&ctx),
        Command::List => records::list(&ctx),
        Command::Show { id } => records::show(&ctx, &id),
        Command::Edit(args) => records::edit(&ctx, args),
        Command::Rm { id } => {
            let (vault, _) = unlock(&ctx)?;
            let id = vault.resolve(&id)?;
            vault.remove(&id)?;
            eprintln!("deleted record {id}");
            Ok(())
        }
        Command::Attach { id, path, name } => records::attach(&ctx, &id, &path, name),
        Command::Extract { id, name, out } => records::extract(&ctx, &id, &name, &out),
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
        } => keys::passwd(&ctx, new_passphrase_file),
        Command::Recovery(command) => keys::recovery(&ctx, command),
        Command::Duress(command) => keys::duress(&ctx, command),
        Command::Capture(command) => keys::capture_cmd(&ctx, command),
        Command::Backup(command) => keys::backup_cmd(&ctx, command),
        Command::Vault(VaultCommand::Check) => keys::check(&ctx),
        Command::Panic { yes } => keys::panic_cmd(&ctx, yes),
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
pub(super) fn unlock(ctx: &Session) -> Result<(Vault, Option<Passphrase>)> {
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

pub(super) fn create(
    ctx: &Session,
    passphrase: &Passphrase,
    insecure_fast_kdf: bool,
) -> Result<()> {
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
#[cfg(test)]
mod tests {
    #[test]
    fn repeated_lines_are_folded_with_a_count_in_first_seen_order() {
        let lines = ["a", "b", "a", "a", "c"];
        assert_eq!(super::counted(&lines), ["a (3 times)", "b", "c"]);
        assert!(super::counted::<&str>(&[]).is_empty());
    }
}
