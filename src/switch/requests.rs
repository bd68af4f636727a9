//! The journalist's requests to every watcher: check in, status, plan, pause, resume, ending
//! a pretend world, the history, taking back a false duress alarm, and the phones enrolled
//! for check-ins. Each is sent to every watcher at once; each answer is handed to the face
//! as it comes.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::SwitchError;
use super::client::{self, ClientError, Link};
use super::releases::{BundleGap, SealedBundles};
use super::settings::{self, PLAN};
use super::watchers::{fan_out, for_each_watcher};
use crate::plan::Plan;
use crate::protocol::{self, HistoryEntry, PausePayload, StatusResponse, ops};
use crate::switch::gaps::Gap;
use crate::vault::Vault;

/// What the plan and the contacts leave uncovered (a step that alerts nobody, reminders to
/// nobody...), for the face to show as warnings, so the switch never fails silently.
pub fn gaps(vault: &Vault) -> Result<Vec<Gap>, SwitchError> {
    let plan: Option<Plan> = vault.setting(PLAN)?;
    let directory = settings::directory(vault)?;
    let sealed = SealedBundles::load(vault)?;
    Ok(super::gaps::gaps(
        plan.as_ref(),
        &directory,
        &sealed.sealed_for(),
    ))
}

/// Checks in with every watcher. `answered` hears each answer with the sealed bundles that
/// watcher lacks or holds in another copy; if any does, the check-in still stands and this
/// fails with [`SwitchError::BundlesDiffer`], so a watcher that lost a bundle is noticed long
/// before it matters. `sealed` is what the vault sealed (a face that cannot read it passes
/// [`SealedBundles::none`]: nothing may stop the check-in itself).
pub fn checkin(
    vault: &Vault,
    sealed: &SealedBundles,
    answered: impl Fn(&Link, &StatusResponse, &[BundleGap]) + Sync,
) -> Result<(), SwitchError> {
    let gaps = AtomicUsize::new(0);
    fan_out(vault, ops::CHECKIN, "{}".into(), |link, status| {
        let found = sealed.gaps(status);
        gaps.fetch_add(found.len(), Ordering::Relaxed);
        answered(link, status, &found);
    })?;
    if gaps.into_inner() > 0 {
        return Err(SwitchError::BundlesDiffer);
    }
    Ok(())
}

/// Asks every watcher for its view of the switch.
pub fn status(
    vault: &Vault,
    answered: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<(), SwitchError> {
    fan_out(vault, ops::STATUS, "{}".into(), answered)
}

/// The plan kept in the vault (as last set here), if any.
pub fn kept_plan(vault: &Vault) -> Result<Option<Plan>, SwitchError> {
    Ok(vault.setting(PLAN)?)
}

/// Keeps the plan (and the time zone given with it) in the vault first, so that a watcher
/// enrolled later gets the same; a face then shows what changed and sends it with
/// [`send_plan`].
pub fn keep_plan(vault: &Vault, plan: &Plan, timezone: Option<&str>) -> Result<(), SwitchError> {
    vault.set_setting(PLAN, plan)?;
    if let Some(tz) = timezone {
        settings::set_timezone(vault, tz)?;
    }
    Ok(())
}

/// Sends the plan to every watcher.
pub fn send_plan(
    vault: &Vault,
    plan: &Plan,
    answered: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<(), SwitchError> {
    fan_out(vault, ops::PLAN, serde_json::to_string(plan)?, answered)
}

/// Pauses the switch on every watcher until `until_ms`.
pub fn pause(
    vault: &Vault,
    until_ms: i64,
    answered: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<(), SwitchError> {
    let payload = serde_json::to_string(&PausePayload { until_ms })?;
    fan_out(vault, ops::PAUSE, payload, answered)
}

/// Ends a pause on every watcher.
pub fn resume(
    vault: &Vault,
    answered: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<(), SwitchError> {
    fan_out(vault, ops::RESUME, "{}".into(), answered)
}

/// Ends the pretend world a coercion set up on every watcher. Under the duress passphrase
/// the watchers answer the same and end nothing (and raise the alarm).
pub fn end_pretend(
    vault: &Vault,
    answered: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<(), SwitchError> {
    fan_out(vault, ops::END_PRETEND, "{}".into(), answered)?;
    settings::pretend_over(vault)
}

/// What happened while the journalist was away, from every watcher at once: `answered`
/// hears each watcher's history (oldest first) as it comes. Under the duress passphrase the
/// watchers answer with what the pretend world shows, and raise the alarm.
pub fn history(
    vault: &Vault,
    answered: impl Fn(&Link, &[HistoryEntry]) + Sync,
) -> Result<(), SwitchError> {
    fan_out(vault, ops::HISTORY, "{}".into(), |link, status| {
        answered(link, status.history.as_deref().unwrap_or_default())
    })
}

/// Takes back a false duress alarm on every watcher: each sends every contact its duress
/// alerts not yet taken back reached a signed retraction. `answered` hears each watcher
/// with whether it sends one (false: no alarm to take back). Under the duress
/// passphrase the watchers answer alike, take nothing back and raise the alarm.
pub fn retract_duress(
    vault: &Vault,
    answered: impl Fn(&Link, bool) + Sync,
) -> Result<(), SwitchError> {
    fan_out(vault, ops::DURESS_RETRACT, "{}".into(), |link, status| {
        answered(link, status.retracted.unwrap_or(false))
    })
}

/// The phones each watcher has enrolled.
pub fn phones(
    vault: &Vault,
    answered: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<(), SwitchError> {
    fan_out(vault, ops::PHONE_LIST, "{}".into(), answered)
}

/// Revokes a phone on every watcher that has it (a phone is enrolled with one watcher; the
/// others answer that they do not know it, which is no failure unless none knows it).
/// `removed` hears each watcher that removed it, with the phones it has left.
pub fn remove_phone(
    vault: &Vault,
    id: &str,
    removed: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<(), SwitchError> {
    let payload = serde_json::to_string(&protocol::PhoneRemove { id: id.to_string() })?;
    let count = AtomicUsize::new(0);
    for_each_watcher(vault, |route, link, key, now| {
        match client::call(route, link, key, ops::PHONE_REMOVE, payload.clone(), now) {
            Ok((status, counter)) => {
                count.fetch_add(1, Ordering::Relaxed);
                removed(link, &status);
                Ok(counter)
            }
            Err(ClientError::Refused { code, .. }) if code == "unknown_phone" => {
                // The counter was not used up by a refusal: the next request reuses it.
                Ok(link.last_counter)
            }
            Err(e) => Err(e),
        }
    })?;
    if count.into_inner() == 0 {
        return Err(SwitchError::UnknownPhone(id.to_string()));
    }
    Ok(())
}
