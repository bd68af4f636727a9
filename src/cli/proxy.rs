//! The journalist's route to the watchers: `posbon proxy set|show|clear`, the global
//! `--proxy`, and [`route`], which every command asks before it sends anything to a watcher.
//!
//! The proxy is a setting of the vault's view, sealed like the watcher links (that a
//! journalist uses Tor is itself worth hiding), and copied into the decoy like them: a
//! command under the duress passphrase takes the same route and shows the same proxy.

use std::sync::OnceLock;

use anyhow::Result;

use crate::switch::client::Route;
use crate::switch::route::SocksProxy;
use crate::vault::Vault;

use super::super::{ProxyCommand, UsageError};

/// The vault setting: `Some(url)` while a proxy is set, `null` once cleared.
const PROXY: &str = "proxy";

/// `--proxy`, checked, for this one process. Process-wide rather than a parameter because
/// every path to a watcher (the unlock notice sent while the vault opens included) must see
/// it, and a path that missed a parameter would connect directly.
static OVERRIDE: OnceLock<Route> = OnceLock::new();

/// Takes `--proxy` before any command runs; a URL that is not a `socks5h://` proxy is a
/// usage error, whatever the command.
pub(in crate::cli) fn set_override(url: Option<&str>) -> Result<()> {
    if let Some(url) = url {
        let proxy = SocksProxy::parse(url).map_err(|e| UsageError(format!("--proxy: {e}")))?;
        let _ = OVERRIDE.set(Route::Socks(Box::new(proxy)));
    }
    Ok(())
}

/// The proxy this view keeps (the URL as set).
fn kept(vault: &Vault) -> Result<Option<String>> {
    Ok(vault.setting::<Option<String>>(PROXY)?.flatten())
}

/// The route this command's requests take: `--proxy`, else the vault's proxy, else straight.
/// A kept proxy that no longer reads as one is an error, never a reason to go straight.
pub(in crate::cli) fn route(vault: &Vault) -> Result<Route> {
    if let Some(route) = OVERRIDE.get() {
        return Ok(route.clone());
    }
    Route::from_proxy(kept(vault)?.as_deref()).map_err(|e| {
        anyhow::anyhow!(
            "the proxy kept in the vault is not usable ({e}): set it again with `posbon proxy set`"
        )
    })
}

/// Copies this view's proxy (or its having none) into its decoy, when they differ: the decoy
/// must route its unlock notices and check-ins as this view does, and show the same proxy.
/// The same work in every view.
pub(super) fn sync_decoy(vault: &Vault) -> Result<()> {
    let mine = kept(vault)?;
    if vault.decoy_setting::<Option<String>>(PROXY)?.flatten() != mine {
        vault.set_decoy_setting(PROXY, &mine)?;
    }
    Ok(())
}

/// `posbon proxy`.
pub(in crate::cli) fn run(vault: &Vault, command: ProxyCommand) -> Result<()> {
    match command {
        ProxyCommand::Set { url } => {
            let proxy = SocksProxy::parse(&url).map_err(|e| UsageError(e.to_string()))?;
            vault.set_setting(PROXY, &Some(proxy.url()))?;
            sync_decoy(vault)?;
            eprintln!(
                "every request to a watcher now goes through {proxy}, never straight: a \
                 command fails when the proxy does not answer"
            );
            if Route::Socks(Box::new(proxy.clone())).down().is_some() {
                eprintln!(
                    "posbon: WARNING: nothing answers at {proxy} now: start Tor (or the proxy) \
                     before you check in"
                );
            }
        }
        ProxyCommand::Show => {
            match kept(vault)? {
                Some(url) => println!("{url}"),
                None => println!("none"),
            }
            if let Some(url) = OVERRIDE.get().and_then(Route::proxy_url) {
                eprintln!("(this command's --proxy: {url})");
            }
        }
        ProxyCommand::Clear => {
            vault.set_setting(PROXY, &None::<String>)?;
            sync_decoy(vault)?;
            eprintln!("requests to watchers go straight again (not through a proxy)");
        }
    }
    Ok(())
}
