//! The library's errors as the reader reads them. In English they read as the library says
//! them (its `Display`, which scripts and other modules rely on); in Tajik and Russian each
//! error a journalist, a lawyer or an operator can meet is worded here, at the command line's
//! edge, from its data. An error carrying only an English text (a plan that does
//! not parse, a config's TOML) is introduced in the reader's words, the detail after it.
//! What an unlock tells the journalist (`vault::Notice`) is worded here too.

use std::error::Error;
use std::path::Path;

use crate::alert::message::VerifyError;
use crate::fsprotect::Filesystem;
use crate::lang::Lang;
use crate::plan::PlanError;
use crate::protocol::contacts::ContactError;
use crate::release::bundle::{BundleError, KeyProblem};
use crate::switch::client::ClientError;
use crate::switch::gaps::Gap;
use crate::vault::{Notice, Refusal, VaultError};
use crate::watch::config::ConfigError;

use super::words::{self, t, with};

/// The error and its causes on one line, each cause in the reader's words where it has them.
/// A cause that its parent already says at its end is not said twice.
pub(super) fn said(error: &anyhow::Error) -> String {
    if words::lang() == Lang::En {
        return super::error_text(error);
    }
    // The errors every command can meet (a wrong passphrase, no vault, a vault in use...)
    // are said alone, without the context above them: they are the whole story.
    if let Some(text) = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<VaultError>())
        .and_then(words::vault_error)
    {
        return text;
    }
    let (mut text, mut english) = (String::new(), String::new());
    for cause in error.chain() {
        let plain = cause.to_string();
        let own = in_words(cause).unwrap_or_else(|| plain.clone());
        if text.is_empty() {
            (text, english) = (own, plain);
        } else if !english.ends_with(&plain) && !text.ends_with(&own) {
            text.push_str(": ");
            text.push_str(&own);
            english.push_str(": ");
            english.push_str(&plain);
        }
    }
    text
}

/// One cause in the reader's words; `None` for one that is already (a context the command
/// line wrote from its catalogue) or has none.
fn in_words(cause: &(dyn Error + 'static)) -> Option<String> {
    if let Some(e) = cause.downcast_ref::<VaultError>() {
        return vault(e);
    }
    if let Some(e) = cause.downcast_ref::<ClientError>() {
        return Some(client(e));
    }
    if let Some(e) = cause.downcast_ref::<BundleError>() {
        return bundle(e);
    }
    if let Some(e) = cause.downcast_ref::<VerifyError>() {
        return Some(alert(e));
    }
    if let Some(e) = cause.downcast_ref::<ConfigError>() {
        return Some(config(e));
    }
    if let Some(e) = cause.downcast_ref::<PlanError>() {
        let why = crate::plan::words::said(words::lang(), e);
        return Some(with("plan-invalid", &[("why", &why)]));
    }
    if let Some(e) = cause.downcast_ref::<ContactError>() {
        return Some(crate::protocol::contact_words::said(words::lang(), e));
    }
    if let Some(mistake) = cause.downcast_ref::<super::fields::FieldsError>() {
        return Some(super::fields::in_words(mistake));
    }
    None
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// A vault error in the reader's words; `None` for an I/O error (a path and the system's
/// words) and a text the vault passes on as it is.
fn vault(error: &VaultError) -> Option<String> {
    if let Some(text) = words::vault_error(error) {
        return Some(text);
    }
    Some(match error {
        VaultError::AlreadyExists(dir) => with("vault-exists", &[("dir", &shown(dir))]),
        VaultError::NewerFormat {
            path,
            found,
            supported,
        } => with(
            "vault-newer",
            &[
                ("dir", &shown(path)),
                ("found", &found.to_string()),
                ("supported", &supported.to_string()),
            ],
        ),
        VaultError::DamagedBackup(why) => with("vault-damaged-backup", &[("why", why)]),
        VaultError::TamperedAttachment { id, name, why } => with(
            "vault-tampered-attachment",
            &[("id", id), ("name", &format!("{name:?}")), ("why", why)],
        ),
        VaultError::NoSuchAttachment { id, name } => with(
            "vault-no-attachment",
            &[("id", id), ("name", &format!("{name:?}"))],
        ),
        VaultError::DuplicateAttachment { id, name } => with(
            "vault-duplicate-attachment",
            &[("id", id), ("name", &format!("{name:?}"))],
        ),
        VaultError::NotAllowedInThisMode => t("vault-not-in-this-session"),
        VaultError::NoFreeSlot => t("vault-no-free-slot"),
        VaultError::Store(why) => with("vault-store", &[("why", why)]),
        VaultError::Refused(refusal) => refused(refusal),
        _ => return None,
    })
}

/// What the vault will not do as asked, in the reader's words.
fn refused(refusal: &Refusal) -> String {
    refused_in(words::lang(), refusal)
}

fn refused_in(lang: Lang, refusal: &Refusal) -> String {
    let with = |id: &str, args: &[(&str, &str)]| words::with_in(lang, id, args);
    let t = |id: &str| with(id, &[]);
    match refusal {
        Refusal::KeysChanged => t("refused-keys-changed"),
        Refusal::PassphraseInUse => t("refused-passphrase-in-use"),
        Refusal::DuressSameAsReal => t("refused-duress-same-as-real"),
        Refusal::EmptyPassphrase => t("refused-empty-passphrase"),
        Refusal::EmptyNewPassphrase => t("refused-empty-new-passphrase"),
        Refusal::EmptyDuressPassphrase => t("refused-empty-duress-passphrase"),
        Refusal::NotARecordId(id) => with("refused-not-a-record-id", &[("id", &format!("{id:?}"))]),
        Refusal::BadAttachmentName(name) => {
            with("refused-attachment-name", &[("name", &format!("{name:?}"))])
        }
        Refusal::BackupWantsKey(file) => with("refused-backup-wants-key", &[("file", file)]),
        Refusal::BackupWantsPassphrase(file) => {
            with("refused-backup-wants-passphrase", &[("file", file)])
        }
        Refusal::NotAnIdentityFile { path, why } => with(
            "refused-not-an-identity-file",
            &[("path", &shown(path)), ("why", why)],
        ),
        Refusal::BackupNewer { found, supported } => with(
            "refused-backup-newer",
            &[
                ("found", &found.to_string()),
                ("supported", &supported.to_string()),
            ],
        ),
        Refusal::DirNotEmpty(dir) => with("refused-dir-not-empty", &[("dir", &shown(dir))]),
    }
}

/// A watcher's failure in the reader's words.
pub(super) fn client(error: &ClientError) -> String {
    if words::lang() == Lang::En {
        return error.to_string();
    }
    match error {
        ClientError::Unreachable { url, reason } => {
            // The reason is the HTTP client's English; the two that people meet most are
            // said in their words, any other is kept as the detail.
            let reason = if reason.contains("timed out") || reason.contains("timeout") {
                t("client-timed-out")
            } else if reason.starts_with("error sending request") {
                t("client-no-connection")
            } else {
                reason.clone()
            };
            with("client-unreachable", &[("url", url), ("reason", &reason)])
        }
        ClientError::ProxyDown { url, proxy } => {
            with("client-proxy-down", &[("url", url), ("proxy", proxy)])
        }
        ClientError::OnionWithoutProxy { url } => with("client-onion", &[("url", url)]),
        ClientError::Refused { url, code, message } => {
            let message = crate::protocol::refusal_words::said(words::lang(), code)
                .unwrap_or_else(|| message.clone());
            with(
                "client-refused",
                &[("url", url), ("code", code), ("message", &message)],
            )
        }
        ClientError::BadResponseSignature { url } => with("client-bad-signature", &[("url", url)]),
        ClientError::Malformed { url, reason } => {
            with("client-malformed", &[("url", url), ("reason", reason)])
        }
    }
}

fn bundle(error: &BundleError) -> Option<String> {
    Some(match error {
        BundleError::Vault(e) => return vault(e),
        BundleError::Invalid(_) => return None,
        BundleError::BadKey { key, problem } => with(
            "bundle-bad-key",
            &[("key", key), ("problem", &key_problem(problem))],
        ),
        BundleError::SealedNeedsKey => t("open-needs-key"),
        BundleError::OutExists(dir) => with("bundle-out-exists", &[("dir", &shown(dir))]),
        BundleError::TooLarge { mib, max_mib } => with(
            "bundle-too-large",
            &[("mib", &mib.to_string()), ("max", &max_mib.to_string())],
        ),
        BundleError::NoSealingKeys => t("bundle-no-sealing-keys"),
        BundleError::Io(e) => with("bundle-writing-failed", &[("why", &e.to_string())]),
        BundleError::Unreadable { path, reason } => with(
            "bundle-unreadable",
            &[("path", &shown(path)), ("why", &reason.to_string())],
        ),
        BundleError::NotForThisKey => t("bundle-not-for-this-key"),
        BundleError::Damaged(why) => with("bundle-damaged", &[("why", why)]),
        BundleError::WrongSealer { expected, found } => with(
            "bundle-wrong-sealer",
            &[("expected", expected), ("found", found)],
        ),
        BundleError::Unsigned => t("bundle-unsigned"),
        BundleError::NotSealedForThisKey { key } => {
            with("bundle-not-sealed-for-this-key", &[("key", key)])
        }
        BundleError::WrongKeyPassphrase { key } => {
            with("bundle-wrong-key-passphrase", &[("key", key)])
        }
    })
}

/// Why a lawyer's key file cannot be used.
fn key_problem(problem: &KeyProblem) -> String {
    match problem {
        KeyProblem::TooLarge => t("key-too-large"),
        KeyProblem::NotAKey => t("key-not-a-key"),
        KeyProblem::BadLine(line) => with("key-bad-line", &[("line", &line.to_string())]),
        KeyProblem::NoIdentity => t("key-no-identity"),
        KeyProblem::DamagedEncrypted => t("key-damaged-encrypted"),
        KeyProblem::NotPassphraseProtected => t("key-not-passphrase-protected"),
        KeyProblem::UnsupportedSsh => t("key-unsupported-ssh"),
        KeyProblem::DamagedSsh => t("key-damaged-ssh"),
    }
}

/// Why `alert verify` refused an alert: a lawyer reads it before acting.
fn alert(error: &VerifyError) -> String {
    match error {
        VerifyError::NotFound => t("alert-not-found"),
        VerifyError::Malformed(why) => with("alert-malformed", &[("why", why)]),
        VerifyError::WrongWatcher { expected, found } => with(
            "alert-wrong-watcher",
            &[("expected", expected), ("found", found)],
        ),
        VerifyError::BadSignature => t("alert-bad-signature"),
        VerifyError::Mismatch(field) => with("alert-mismatch", &[("field", field)]),
        VerifyError::SeveralAlerts => t("alert-several"),
        VerifyError::InvisibleCharacters => t("alert-invisible"),
        VerifyError::UnexpectedParts(parts) => {
            // "an HTML part" or "N text parts" (src/alert/message.rs).
            let parts = match parts.strip_suffix(" text parts").map(str::parse::<i64>) {
                Some(Ok(n)) => words::count("alert-parts-text", "count", n, &[]),
                _ if parts == "an HTML part" => t("alert-part-html"),
                _ => parts.clone(),
            };
            with("alert-unexpected-parts", &[("parts", &parts)])
        }
    }
}

/// A watcher config's mistake, for the operator.
pub(super) fn config(error: &ConfigError) -> String {
    if words::lang() == Lang::En {
        return error.to_string();
    }
    match error {
        ConfigError::Unreadable(why) => with("config-unreadable", &[("why", why)]),
        ConfigError::Problems(problems) => {
            let lines: Vec<String> = problems
                .iter()
                .map(|p| crate::watch::config::words::said(words::lang(), p))
                .collect();
            with("config-invalid", &[("why", &lines.join("\n"))])
        }
        ConfigError::EmptySecret(path) => with("config-empty-secret", &[("path", &shown(path))]),
        ConfigError::ReadSecret { path, .. } => {
            with("config-read-secret", &[("path", &shown(path))])
        }
        ConfigError::KeyFile { what, path, .. } => {
            with("config-key-file", &[("what", what), ("path", &shown(path))])
        }
    }
}

/// What the plan and the contacts leave uncovered, in the reader's words.
pub(super) fn gap(gap: &Gap) -> String {
    if words::lang() == Lang::En {
        return gap.to_string();
    }
    match gap {
        Gap::NobodyAtStep { tier } => {
            with("plan-gap-nobody-at-step", &[("tier", &tier.to_string())])
        }
        Gap::NobodyAtRelease => t("plan-gap-nobody-at-release"),
        Gap::RemindersToNobody => t("plan-gap-reminders-to-nobody"),
        Gap::NoReminders => t("plan-gap-no-reminders"),
        Gap::TierNeverAlerted { contact, tier } => with(
            "plan-gap-tier-never-alerted",
            &[("contact", contact), ("tier", &tier.to_string())],
        ),
        Gap::BundleForNoContact { bundle, contact } => with(
            "plan-gap-bundle-for-no-contact",
            &[("bundle", bundle), ("contact", contact)],
        ),
    }
}

/// What opening the vault tells the journalist, in their words; a time in their zone.
pub(super) fn notice(notice: &Notice) -> String {
    match notice {
        Notice::SlotChecksum => t("notice-slot-checksum"),
        Notice::SlotUpgradeFailed(why) => with("notice-slot-upgrade-failed", &[("why", why)]),
        Notice::SlotTablesFailed(why) => with("notice-slot-tables-failed", &[("why", why)]),
        Notice::KeepsOldCopies(filesystem) => with(
            "notice-old-copies",
            &[
                ("filesystem", &filesystem.to_string()),
                (
                    "btrfs",
                    if *filesystem == Filesystem::Btrfs {
                        "yes"
                    } else {
                        "no"
                    },
                ),
            ],
        ),
        Notice::CapturesImported(count) => {
            words::count("notice-captures-imported", "count", *count as i64, &[])
        }
        Notice::CaptureKept { file, why } => {
            with("notice-capture-kept", &[("file", file), ("why", why)])
        }
        Notice::InboxFailed(why) => with("notice-inbox-failed", &[("why", why)]),
        Notice::DuressUsed { at_ms } => with(
            "notice-duress-used",
            &[("when", &super::zone::text(*at_ms))],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn every_refusal() -> Vec<Refusal> {
        vec![
            Refusal::KeysChanged,
            Refusal::PassphraseInUse,
            Refusal::DuressSameAsReal,
            Refusal::EmptyPassphrase,
            Refusal::EmptyNewPassphrase,
            Refusal::EmptyDuressPassphrase,
            Refusal::NotARecordId("xyz".into()),
            Refusal::BadAttachmentName("a/b".into()),
            Refusal::BackupWantsKey("b.age".into()),
            Refusal::BackupWantsPassphrase("b.age".into()),
            Refusal::NotAnIdentityFile {
                path: PathBuf::from("key.txt"),
                why: "no identities".into(),
            },
            Refusal::BackupNewer {
                found: 9,
                supported: 1,
            },
            Refusal::DirNotEmpty(PathBuf::from("/home/n/vault")),
        ]
    }

    #[test]
    fn every_refusal_is_said_in_tajik_and_russian_and_the_english_is_the_librarys() {
        let english = [
            "is not",
            "must",
            "choose",
            "give",
            "empty",
            "changed",
            "encrypted",
            "cannot",
        ];
        for refusal in every_refusal() {
            assert_eq!(refused_in(Lang::En, &refusal), refusal.to_string());
            for lang in [Lang::Tg, Lang::Ru] {
                let text = refused_in(lang, &refusal);
                for word in english {
                    assert!(!text.contains(word), "{lang:?} {refusal:?}: {text}");
                }
            }
        }
    }
}
