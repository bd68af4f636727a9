//! The dispatch: each parsed command to the function that carries it out.

use anyhow::{Result, bail};
use zeroize::Zeroizing;

use super::passphrase::Source;
use super::records::{print_rows, read_body, report_damaged};
use super::words;
use super::{
    AlertCommand, BodyArgs, Cli, Command, ReleaseCommand, UsageError, VaultCommand, WatchCommand,
    contacts, demo, enrolment, fields, keys, proxy, records, release, session, switch, watch,
};

pub(super) fn run(cli: Cli) -> Result<()> {
    let dir = match cli.vault {
        Some(dir) => dir,
        None => session::default_vault_dir()?,
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
                    | WatchCommand::Journalists { .. }
                    | WatchCommand::Remove { .. }
            )
        )
    {
        bail!(UsageError(
            "--proxy is for the journalist's requests to watchers; a watcher's own alerts do \
             not take it"
                .into()
        ));
    }
    let ctx = session::Session {
        dir,
        passphrase: Source {
            file: cli.passphrase_file,
            fd: cli.passphrase_fd,
        },
        recovery_key_file: cli.recovery_key_file,
    };
    match cli.command {
        Command::Init { insecure_fast_kdf } => session::init(&ctx, insecure_fast_kdf),
        Command::Add(kind) => records::add(&ctx, kind),
        Command::Import => records::import(&ctx),
        Command::List => records::list(&ctx),
        Command::Show { id } => records::show(&ctx, &id),
        Command::Edit(args) => records::edit(&ctx, args),
        Command::Rm { id } => {
            let (vault, _) = session::unlock(&ctx)?;
            let id = vault.resolve(&id)?;
            vault.remove(&id)?;
            eprintln!(
                "{}",
                words::with("record-deleted", &[("id", &id.to_string())])
            );
            Ok(())
        }
        Command::Attach { id, path, name } => records::attach(&ctx, &id, &path, name),
        Command::Extract { id, name, out } => records::extract(&ctx, &id, &name, &out),
        Command::Detach { id, name } => {
            let (vault, _) = session::unlock(&ctx)?;
            let id = vault.resolve(&id)?;
            vault.detach(&id, &name)?;
            let name = format!("{name:?}");
            let id = id.to_string();
            let args = [("name", name.as_str()), ("id", id.as_str())];
            eprintln!("{}", words::with("attachment-removed", &args));
            Ok(())
        }
        Command::Search { words } => {
            let words_off_the_command_line = words.is_empty();
            let (vault, _) = session::unlock(&ctx)?;
            let mut words = Zeroizing::new(words);
            if words_off_the_command_line {
                let text = if fields::can_ask() {
                    fields::ask(&format!("{}: ", words::t("prompt-search")))?.unwrap_or_default()
                } else {
                    read_body(&BodyArgs::default(), "")?
                };
                words.extend(text.split_whitespace().map(str::to_string));
            }
            if words.is_empty() {
                bail!(UsageError(words::t("search-needs-words")));
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
        Command::App {
            listen,
            no_browser,
            lock_after,
            insecure_fast_kdf,
        } => app(&ctx, listen, no_browser, &lock_after, insecure_fast_kdf),
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
            let (vault, _) = session::unlock(&ctx)?;
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
            let (vault, _) = session::unlock(&ctx)?;
            contacts::run(&vault, command)
        }
        Command::Watch(WatchCommand::Invite { name, data }) => watch::invite(&name, data),
        Command::Watch(WatchCommand::Actions { data }) => watch::actions(data),
        Command::Watch(WatchCommand::Journalists { data }) => watch::journalists(data),
        Command::Watch(WatchCommand::Remove {
            name,
            id,
            yes,
            force,
            data,
        }) => watch::remove(&name, id.as_deref(), yes, force, data),
        Command::Watch(WatchCommand::Status) => {
            let (vault, _) = session::unlock(&ctx)?;
            switch::status(&vault)
        }
        Command::Watch(WatchCommand::EnrolPhone { watcher }) => {
            let (vault, _) = session::unlock(&ctx)?;
            switch::enrol_phone(&vault, watcher.as_deref())
        }
        Command::Enrol { url, code } => {
            let (vault, _) = session::unlock(&ctx)?;
            enrolment::enrol(&vault, &url, &code)
        }
        Command::Unenrol { watcher, local } => {
            let (vault, _) = session::unlock(&ctx)?;
            if local {
                enrolment::unenrol_local(&vault, &watcher)
            } else {
                enrolment::unenrol(&vault, &watcher)
            }
        }
        Command::Plan(command) => {
            let (vault, _) = session::unlock(&ctx)?;
            switch::plan(&vault, command)
        }
        Command::Checkin => {
            let (vault, _) = session::unlock(&ctx)?;
            switch::checkin(&vault)
        }
        Command::Status => {
            let (vault, _) = session::unlock(&ctx)?;
            switch::status(&vault)
        }
        Command::History => {
            let (vault, _) = session::unlock(&ctx)?;
            switch::history(&vault)
        }
        Command::Pause { until, for_ } => {
            let (vault, _) = session::unlock(&ctx)?;
            switch::pause(&vault, until, for_)
        }
        Command::Resume => {
            let (vault, _) = session::unlock(&ctx)?;
            switch::resume(&vault)
        }
        Command::Proxy(command) => {
            let (vault, _) = session::unlock(&ctx)?;
            proxy::run(&vault, command)
        }
        Command::Phone(command) => {
            let (vault, _) = session::unlock(&ctx)?;
            match command {
                super::PhoneCommand::List => switch::phone_list(&vault),
                super::PhoneCommand::Remove { id } => switch::phone_remove(&vault, &id),
            }
        }
    }
}

/// `posbon app`: the options checked here (a usage error exits 2), the rest is the app's.
fn app(
    ctx: &session::Session,
    listen: Option<std::net::SocketAddr>,
    no_browser: bool,
    lock_after: &str,
    insecure_fast_kdf: bool,
) -> Result<()> {
    let lang = words::lang();
    let lock_after = crate::plan::parse_duration(lock_after)
        .ok()
        .filter(|ms| *ms > 0)
        .ok_or_else(|| {
            UsageError(words::with(
                "lock-after-bad",
                &[("given", &format!("{lock_after:?}"))],
            ))
        })?;
    let options = crate::app::Options {
        vault_dir: ctx.dir.clone(),
        listen: listen.unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        open_browser: !no_browser,
        lang,
        lock_after: std::time::Duration::from_millis(lock_after as u64),
        kdf: if insecure_fast_kdf {
            eprintln!("posbon: {}", words::t("app-insecure-fast-kdf"));
            crate::vault::keyslots::KdfParams::INSECURE_FAST
        } else {
            crate::vault::keyslots::KdfParams::INTERACTIVE
        },
    };
    crate::app::run(options).map_err(|e| match e {
        crate::app::AppError::NotLoopback(_) => anyhow::Error::new(UsageError(e.to_string())),
        other => anyhow::Error::new(other),
    })
}
