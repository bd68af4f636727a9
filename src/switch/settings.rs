//! What the journalist's side keeps in the vault's settings, by name, and the two settings a
//! face reads before any request: the route to the watchers (a SOCKS5 proxy such as Tor) and
//! the journalist's time zone. Each is a setting of the open view, sealed like the rest, and
//! copied into the decoy so that a command under the duress passphrase behaves the same.

use std::sync::OnceLock;

use super::SwitchError;
use crate::protocol::contacts::Directory;
use crate::route::{Route, SocksProxy};
use crate::vault::Vault;

/// The view's two signing keys (see `keys::DeviceKeys`).
pub(crate) const DEVICE_KEYS: &str = "device-keys";
/// The watcher links.
pub(crate) const WATCHERS: &str = "watchers";
/// The watchers this view unenrolled from (url and subject): its upper view's copy of the
/// links does not bring them back (see `watchers::sync_decoy`).
pub(crate) const WATCHERS_LEFT: &str = "watchers-left";
/// The plan last set, sent to each watcher enrolled afterwards.
pub(crate) const PLAN: &str = "plan";
/// The contact directory and instructions.
pub(crate) const CONTACTS: &str = "contacts";
/// What was sealed (the bundles themselves are not kept).
pub(crate) const RELEASES: &str = "releases";
/// The journalist's sealing key (Ed25519, PKCS#8 in base64), made at first use.
pub(crate) const SEALING_KEY: &str = "sealing-key";
/// `Some(url)` while a proxy is set, `null` once cleared.
const PROXY: &str = "proxy";
/// The plan this view last gave its decoy (see [`sync_plan_to_decoy`]). Every view that
/// keeps a plan has one, so it says nothing of whether a view sits above.
const PLAN_GIVEN_TO_DECOY: &str = "plan-given-to-decoy";
/// Whether a watcher last said it keeps a pretend world for this view's decoy (a watcher
/// says so to the real key only, so only a view above a coerced one ever sets it).
const PRETEND_SEEN: &str = "pretend-seen";
/// The proxy and the time zone this view last gave its decoy, as for the plan.
const PROXY_GIVEN_TO_DECOY: &str = "proxy-given-to-decoy";
const TIMEZONE_GIVEN_TO_DECOY: &str = "timezone-given-to-decoy";
/// The journalist's time zone (an IANA name), set with the plan.
pub const TIMEZONE: &str = "timezone";

/// A proxy given for this one process (the command line's `--proxy`). Process-wide rather
/// than a parameter because every path to a watcher (the unlock notice sent while the vault
/// opens included) must see it, and a path that missed a parameter would connect directly.
static OVERRIDE: OnceLock<Route> = OnceLock::new();

/// Takes a proxy for the rest of this process, before anything is sent.
pub fn set_route_override(proxy: SocksProxy) {
    let _ = OVERRIDE.set(Route::Socks(Box::new(proxy)));
}

/// The proxy given for this process, if any.
pub fn route_override() -> Option<&'static Route> {
    OVERRIDE.get()
}

/// The proxy this view keeps (the URL as set).
pub fn kept_proxy(vault: &Vault) -> Result<Option<String>, SwitchError> {
    Ok(vault.setting::<Option<String>>(PROXY)?.flatten())
}

/// The route every request takes: the process's override, else the vault's proxy, else
/// straight. A kept proxy that no longer reads as one is an error, never a reason to go
/// straight.
pub fn route(vault: &Vault) -> Result<Route, SwitchError> {
    if let Some(route) = OVERRIDE.get() {
        return Ok(route.clone());
    }
    Route::from_proxy(kept_proxy(vault)?.as_deref()).map_err(SwitchError::ProxyUnusable)
}

/// Keeps `proxy` (or none) as this view's route, and in its decoy.
pub fn set_proxy(vault: &Vault, proxy: Option<&SocksProxy>) -> Result<(), SwitchError> {
    vault.set_setting(PROXY, &proxy.map(SocksProxy::url))?;
    sync_proxy_to_decoy(vault)
}

/// Copies this view's proxy (or its having none) into its decoy, when they differ: the decoy
/// must route its unlock notices and check-ins as this view does, and show the same proxy.
/// The same work in every view. Not over a proxy the decoy set itself (a coercer's change
/// undone at the journalist's next real unlock would tell of a view above).
pub(crate) fn sync_proxy_to_decoy(vault: &Vault) -> Result<(), SwitchError> {
    let mine = kept_proxy(vault)?;
    let theirs = vault.decoy_setting::<Option<String>>(PROXY)?.flatten();
    let recorded: Option<Option<String>> = vault.setting(PROXY_GIVEN_TO_DECOY)?;
    // Never recorded (no proxy yet, or a vault from before this was kept): the decoy has
    // what it was given if it holds this view's, else nothing was given.
    let given = match &recorded {
        Some(given) => given.clone(),
        None if theirs == mine => mine.clone(),
        None => None,
    };
    if theirs != given {
        return Ok(());
    }
    if theirs != mine && !vault.set_decoy_setting(PROXY, &mine)? {
        return Ok(());
    }
    // Recorded once there is a proxy to give: a vault that never had one keeps the shape of
    // any other (the examiner compares the views' rows).
    if (mine.is_some() || recorded.is_some()) && recorded.as_ref() != Some(&mine) {
        vault.set_setting(PROXY_GIVEN_TO_DECOY, &mine)?;
    }
    Ok(())
}

/// The decoy keeps the plan this view keeps, until it keeps one of its own (a coercer's
/// pretend plan, which stays): a decoy keeping no plan while its watchers show one enrols a
/// new watcher without a plan, and its watchers then disagree under the coercer's eyes.
pub(crate) fn sync_plan_to_decoy(vault: &Vault) -> Result<(), SwitchError> {
    // While a pretend world stands, the watchers show the coerced side the plan it had then:
    // the decoy keeps that one, whatever this view's plan becomes meanwhile.
    if vault.setting::<bool>(PRETEND_SEEN)?.unwrap_or(false) {
        return Ok(());
    }
    give_plan_to_decoy(vault, false)
}

/// Keeps whether a watcher said it keeps a pretend world (see [`PRETEND_SEEN`]).
pub(crate) fn note_pretend(vault: &Vault, seen: bool) -> Result<(), SwitchError> {
    if vault.setting::<bool>(PRETEND_SEEN)?.unwrap_or(false) != seen {
        vault.set_setting(PRETEND_SEEN, &seen)?;
    }
    Ok(())
}

/// The pretend world is over: the watchers show the coerced side the real plan again, and
/// the decoy keeps it too, whatever plan the coercer set in it.
pub(crate) fn pretend_over(vault: &Vault) -> Result<(), SwitchError> {
    note_pretend(vault, false)?;
    give_plan_to_decoy(vault, true)
}

/// Gives the decoy this view's plan, unless it keeps one of its own (unless `always`).
fn give_plan_to_decoy(vault: &Vault, always: bool) -> Result<(), SwitchError> {
    let Some(mine) = vault.setting::<crate::plan::Plan>(PLAN)? else {
        return Ok(());
    };
    let given: Option<crate::plan::Plan> = vault.setting(PLAN_GIVEN_TO_DECOY)?;
    let theirs: Option<crate::plan::Plan> = vault.decoy_setting(PLAN)?;
    if !always && theirs.is_some() && theirs != given {
        return Ok(());
    }
    if theirs.as_ref() != Some(&mine) && !vault.set_decoy_setting(PLAN, &mine)? {
        return Ok(());
    }
    if given.as_ref() != Some(&mine) {
        vault.set_setting(PLAN_GIVEN_TO_DECOY, &mine)?;
    }
    Ok(())
}

/// The contacts and instructions kept in this view.
pub fn directory(vault: &Vault) -> Result<Directory, SwitchError> {
    Ok(vault.setting(CONTACTS)?.unwrap_or_default())
}

/// The journalist's time zone as kept, if set.
pub fn timezone(vault: &Vault) -> Result<Option<String>, SwitchError> {
    Ok(vault.setting(TIMEZONE)?)
}

/// Keeps the journalist's time zone (already checked to be one), in the decoy too.
pub fn set_timezone(vault: &Vault, name: &str) -> Result<(), SwitchError> {
    vault.set_setting(TIMEZONE, &name)?;
    sync_timezone_to_decoy(vault)
}

/// The decoy shows times in the same zone: a decoy reading UTC under a Dushanbe journalist
/// would be a tell. Like the watcher links, the real view's setting wins at each unlock.
pub(crate) fn sync_timezone_to_decoy(vault: &Vault) -> Result<(), SwitchError> {
    let Some(mine) = vault.setting::<String>(TIMEZONE)? else {
        return Ok(());
    };
    let theirs: Option<String> = vault.decoy_setting(TIMEZONE)?;
    // As for the proxy: not over a zone the decoy set itself; never recorded, the decoy has
    // what it was given if it holds this view's.
    let recorded: Option<String> = vault.setting(TIMEZONE_GIVEN_TO_DECOY)?;
    let given = match &recorded {
        Some(given) => Some(given.clone()),
        None if theirs.as_ref() == Some(&mine) => Some(mine.clone()),
        None => None,
    };
    if theirs.is_some() && theirs != given {
        return Ok(());
    }
    if theirs.as_ref() != Some(&mine) && !vault.set_decoy_setting(TIMEZONE, &mine)? {
        return Ok(());
    }
    if recorded.as_ref() != Some(&mine) {
        vault.set_setting(TIMEZONE_GIVEN_TO_DECOY, &mine)?;
    }
    Ok(())
}
