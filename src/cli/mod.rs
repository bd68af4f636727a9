//! The command line: a thin face over the library. It parses arguments, prompts for
//! passphrases and fields, prints answers, and turns errors into messages and exit codes; the
//! work is the library's (`vault`, `switch`, `release`, `alert`, `watch`).
//!
//! - `args`: every command as clap reads it; `commands`: the dispatch; `session`: where
//!   the vault is, unlocking and creating it.
//! - `records`: add, import, list, show, edit, attach, extract; `keys`: passphrase, recovery
//!   key, duress passphrase, capture, backup, check, panic.
//! - `enrolment`: joining and leaving watchers (`enrol`, `unenrol`); `switch`: the
//!   journalist's other switch commands, and how the switch's errors read;
//!   `contacts`: contacts and `alert verify`; `release`: sealed bundles and `open`;
//!   `proxy`: the route to the watchers.
//! - `watch`: the operator's `watch` commands; `demo`: the whole story, end to end.
//! - `passphrase`, `fields`, `editor`, `output`, `zone`: reading passphrases and fields, the
//!   external editor on RAM, writing files whole, times in the journalist's time zone.
//!
//! Exit codes (stable, documented in `docs/cli.md`): 0 success, 1 other failure, 2 usage
//! error, 3 wrong passphrase, 4 damaged or tampered data, 5 no vault, 6 vault in use,
//! 7 vault made by a newer posbon, 8 a watcher (or the proxy to it) could not be reached,
//! 9 a watcher refused (or answered without a valid signature), 10 an alert or a bundle is
//! not genuine, 11 the disk is full, 12 the command was done but a watcher lacks a sealed
//! bundle.

mod args;
mod commands;
mod contacts;
mod demo;
mod editor;
mod enrolment;
mod fields;
mod help;
mod keys;
mod output;
mod passphrase;
mod proxy;
mod records;
mod release;
mod rules;
mod said;
mod session;
mod switch;
mod watch;
mod words;
mod zone;

use std::process::ExitCode;

pub use args::*;

use crate::vault::VaultError;

/// A mistake in how posbon was called (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub mod exit {
    pub const OTHER: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const WRONG_PASSPHRASE: u8 = 3;
    pub const DAMAGED: u8 = 4;
    pub const NO_VAULT: u8 = 5;
    pub const IN_USE: u8 = 6;
    pub const NEWER_FORMAT: u8 = 7;
    pub const UNREACHABLE: u8 = 8;
    pub const REFUSED: u8 = 9;
    pub const NOT_GENUINE: u8 = 10;
    pub const DISK_FULL: u8 = 11;
    /// The command was done everywhere, but a watcher lacks a sealed bundle or holds an old
    /// copy; apart from 9 so that a script can tell a check-in that failed from one that
    /// stands with this warning.
    pub const BUNDLE_MISSING: u8 = 12;
}

fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<UsageError>().is_some()
        || error.downcast_ref::<fields::FieldsError>().is_some()
    {
        return exit::USAGE;
    }
    if error
        .downcast_ref::<crate::alert::message::VerifyError>()
        .is_some()
    {
        return exit::NOT_GENUINE;
    }
    if matches!(
        error.downcast_ref::<VaultError>(),
        Some(VaultError::DiskFull(_))
    ) || matches!(
        error.downcast_ref::<crate::watch::store::StoreError>(),
        Some(crate::watch::store::StoreError::DiskFull(_))
    ) {
        return exit::DISK_FULL;
    }
    if error.downcast_ref::<switch::WatchersDisagree>().is_some() {
        return exit::REFUSED;
    }
    if error.downcast_ref::<switch::BundlesDiffer>().is_some()
        || error
            .downcast_ref::<enrolment::EnrolledWithoutBundles>()
            .is_some()
    {
        return exit::BUNDLE_MISSING;
    }
    if let Some(e) = error.downcast_ref::<crate::release::bundle::BundleError>() {
        use crate::release::bundle::BundleError;
        return match e {
            BundleError::Invalid(_)
            | BundleError::BadKey { .. }
            | BundleError::SealedNeedsKey
            | BundleError::OutExists(_)
            | BundleError::TooLarge { .. }
            | BundleError::NoSealingKeys => exit::USAGE,
            BundleError::NotForThisKey => exit::WRONG_PASSPHRASE,
            BundleError::WrongSealer { .. }
            | BundleError::Unsigned
            | BundleError::NotSealedForThisKey { .. } => exit::NOT_GENUINE,
            BundleError::WrongKeyPassphrase { .. } => exit::WRONG_PASSPHRASE,
            BundleError::Damaged(_) => exit::DAMAGED,
            _ => exit::OTHER,
        };
    }
    if error
        .downcast_ref::<crate::protocol::contacts::ContactError>()
        .is_some()
    {
        return exit::USAGE;
    }
    if let Some(e) = error.downcast_ref::<crate::switch::client::ClientError>() {
        return match e {
            crate::switch::client::ClientError::Unreachable { .. }
            | crate::switch::client::ClientError::ProxyDown { .. }
            | crate::switch::client::ClientError::OnionWithoutProxy { .. } => exit::UNREACHABLE,
            _ => exit::REFUSED,
        };
    }
    if error.downcast_ref::<crate::plan::PlanError>().is_some() {
        return exit::USAGE;
    }
    match error.downcast_ref::<VaultError>() {
        Some(VaultError::WrongPassphrase) => exit::WRONG_PASSPHRASE,
        Some(VaultError::NotFound(_)) => exit::NO_VAULT,
        Some(VaultError::InUse(_)) => exit::IN_USE,
        Some(VaultError::NewerFormat { .. }) => exit::NEWER_FORMAT,
        Some(e) if e.is_damage() => exit::DAMAGED,
        Some(VaultError::Invalid(_) | VaultError::Refused(_) | VaultError::AmbiguousId(_)) => {
            exit::USAGE
        }
        _ => exit::OTHER,
    }
}

/// The error as the reader reads it: in Tajik or Russian, every library error a person can
/// meet is said in their words (see [`said::said`]); in English, as [`error_text`] says it.
fn said(error: &anyhow::Error) -> String {
    said::said(error)
}

/// The error and its causes on one line. A cause that its parent already quotes at its end
/// (`PATH: No such file` caused by `No such file`) is not said twice.
fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let said = cause.to_string();
        if text.is_empty() {
            text = said;
        } else if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
    }
    text
}

/// Parses the command line. A recovery key and a passphrase both given on the command line
/// are refused (which one was meant?); a passphrase file that only comes from the
/// environment gives way to a recovery key named explicitly: someone who lost the
/// passphrase must not be stopped by a variable set long ago.
fn parse_command_line() -> Cli {
    use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
    // The help in the reader's language, known before clap reads the line: a `--lang` (not
    // `contact add`'s), else POSBON_LANG, else the locale; a language posbon does not write
    // is left for `main` to refuse. Only when help is asked for: other lines are read by
    // clap's tree as it is.
    // (args_os: a path that is not UTF-8 is no reason to stop.)
    let args = || {
        std::env::args_os()
            .skip(1)
            .map(|arg| arg.to_string_lossy().into_owned())
    };
    let asks_help = args().any(|arg| matches!(arg.as_str(), "-h" | "--help" | "help"));
    let command = if asks_help {
        let lang = lang_before_command(args(), "contact")
            .or_else(|| std::env::var("POSBON_LANG").ok())
            .and_then(|lang| crate::lang::Lang::parse(&lang).ok())
            .unwrap_or_else(crate::lang::from_locale);
        help::in_lang(Cli::command(), lang)
    } else {
        Cli::command()
    };
    let matches = command.get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if cli.recovery_key_file.is_some() {
        let typed = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        if typed("passphrase_file") || typed("passphrase_fd") {
            Cli::command()
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    "--recovery-key-file unlocks instead of the passphrase: give one or the other",
                )
                .exit();
        }
        cli.passphrase_file = None;
    }
    cli
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    crate::secret::harden_process();
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == switch::NOTICE_SENDER)
    {
        switch::deliver_unlock_notices();
        return ExitCode::SUCCESS;
    }
    let cli = parse_command_line();
    // `contact add --lang ru` names the contact's language, and clap folds it into the global
    // `--lang` (one id): the reader's language is then the one given before `contact`, else
    // POSBON_LANG or the locale, never the contact's.
    let chosen = if matches!(cli.command, Command::Contact(ContactCommand::Add(_))) {
        lang_before_command(std::env::args().skip(1), "contact")
            .or_else(|| std::env::var("POSBON_LANG").ok())
    } else {
        cli.lang.clone()
    };
    match chosen.as_deref().map(crate::lang::Lang::parse) {
        Some(Ok(lang)) => words::set(lang),
        Some(Err(e)) => {
            eprintln!("posbon: {e}");
            return ExitCode::from(exit::USAGE);
        }
        None => words::set(crate::lang::from_locale()),
    }
    let long_running = matches!(
        cli.command,
        Command::Watch(WatchCommand::Serve { .. }) | Command::Demo { .. } | Command::App { .. }
    );
    if !long_running {
        // Like any Unix filter: `posbon release list | head -1` ends quietly when the reader
        // has had enough, instead of a panic in println!. (Sockets are written with
        // MSG_NOSIGNAL, so this touches pipes only; the daemon and the demo keep Rust's
        // default, in which a closed pipe is an error to handle.)
        // SAFETY: called before any thread is started; SIG_DFL is a valid disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Every switch error is worded by `switch::explain` before it gets here; one that
            // slipped through would read without its remedy and exit with the wrong code.
            debug_assert!(
                !error
                    .chain()
                    .any(|cause| cause.is::<crate::switch::SwitchError>()),
                "a switch error reached main without switch::explain: {error:#}"
            );
            eprintln!("posbon: {}", said(&error));
            ExitCode::from(exit_code(&error))
        }
    }
}

/// The value of a `--lang` given before the word `command` on the command line.
fn lang_before_command(args: impl Iterator<Item = String>, command: &str) -> Option<String> {
    let mut args = args.take_while(|arg| arg != command);
    let mut found = None;
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--lang=") {
            found = Some(value.to_string());
        } else if arg == "--lang" {
            found = args.next();
        }
    }
    found
}

#[cfg(test)]
mod lang_tests {
    #[test]
    fn only_a_lang_before_the_command_is_the_readers() {
        let args = |line: &str| line.split(' ').map(str::to_string).collect::<Vec<_>>();
        let before = |line| super::lang_before_command(args(line).into_iter(), "contact");
        assert_eq!(
            before("--lang tg contact add Ed --lang ru"),
            Some("tg".into())
        );
        assert_eq!(
            before("--lang=tg contact add Ed --lang ru"),
            Some("tg".into())
        );
        assert_eq!(before("contact add Ed --lang ru"), None);
    }
}
