//! The journalist's contacts and instructions: kept in the vault (so nothing is lost when a
//! watcher is down), sent whole to every watcher on each change, and test alerts through each
//! contact's channels. The lawyers' sealing keys never leave the vault
//! ([`Directory::for_watchers`]).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::SwitchError;
use super::client::Link;
use super::settings::CONTACTS;
use super::watchers::fan_out;
use crate::protocol::contacts::{Contact, Directory};
use crate::protocol::{StatusResponse, TestPayload, TestResult, ops};
use crate::vault::Vault;

pub use super::settings::directory;

/// Checks the directory and keeps it in the vault first (nothing is lost if a watcher is
/// down); a face then shows what changed and sends it with [`sync`] if
/// [`super::watchers::enrolled`].
pub fn keep(vault: &Vault, dir: &Directory) -> Result<(), SwitchError> {
    dir.validate()?;
    Ok(vault.set_setting(CONTACTS, dir)?)
}

/// Adds `contact`, or replaces the one of the same name (as [`Directory::find`] compares
/// names: any case, in any alphabet); true if it replaced one.
pub fn put(dir: &mut Directory, contact: Contact) -> bool {
    let replaced = remove(dir, &contact.name);
    dir.contacts.push(contact);
    replaced
}

/// Removes the contact called `name` (as [`Directory::find`] finds it); false if there is
/// none.
pub fn remove(dir: &mut Directory, name: &str) -> bool {
    let wanted = name.trim().to_lowercase();
    let before = dir.contacts.len();
    dir.contacts
        .retain(|c| c.name.trim().to_lowercase() != wanted);
    dir.contacts.len() != before
}

/// Sends the directory (without the lawyers' keys) to every watcher.
pub fn sync(
    vault: &Vault,
    dir: &Directory,
    sent: impl Fn(&Link) + Sync,
) -> Result<(), SwitchError> {
    fan_out(
        vault,
        ops::CONTACTS,
        serde_json::to_string(&dir.for_watchers())?,
        |link, _| sent(link),
    )
}

/// Asks every watcher to send a test alert to `contact` (or to every contact) through each
/// channel; `answered` hears each service's answer. Fails if any channel did not accept,
/// with their number.
pub fn test_alerts(
    vault: &Vault,
    contact: Option<String>,
    answered: impl Fn(&Link, &TestResult) + Sync,
) -> Result<(), SwitchError> {
    let payload = serde_json::to_string(&TestPayload { contact })?;
    let failed = AtomicUsize::new(0);
    fan_out(
        vault,
        ops::TEST_ALERT,
        payload,
        |link, status: &StatusResponse| {
            for result in status.test_results.iter().flatten() {
                if !(result.error.is_none() && result.accepted) {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                answered(link, result);
            }
        },
    )?;
    match failed.into_inner() {
        0 => Ok(()),
        failed => Err(SwitchError::TestsFailed(failed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::contacts::{Channel, Lang};

    fn contact(name: &str) -> Contact {
        Contact {
            name: name.into(),
            role: "lawyer".into(),
            lang: Lang::Tg,
            tiers: vec![2],
            channels: vec![Channel::Email("a@example.org".into())],
            tz: None,
            age_recipients: Vec::new(),
            email_attach: false,
        }
    }

    #[test]
    fn a_contact_is_removed_and_replaced_by_the_name_find_matches_in_any_alphabet() {
        let mut dir = Directory::default();
        assert!(!put(&mut dir, contact("Алиса")));
        assert!(dir.find("алиса").is_some());
        // Replaced, not doubled, when the case differs in Cyrillic.
        assert!(put(&mut dir, contact("АЛИСА")));
        assert_eq!(dir.contacts.len(), 1);
        assert!(remove(&mut dir, "алиса"));
        assert!(dir.contacts.is_empty() && dir.find("алиса").is_none());
        assert!(!remove(&mut dir, "алиса"));
    }
}
