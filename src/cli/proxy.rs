//! The journalist's route to the watchers: `posbon proxy set|show|clear` and the global
//! `--proxy`. The route itself is [`crate::switch::settings::route`], which every request
//! asks before it sends anything to a watcher.

use anyhow::Result;

use crate::route::{Route, SocksProxy};
use crate::switch::settings;
use crate::vault::Vault;

use super::switch::explain;
use super::{ProxyCommand, UsageError};

/// Takes `--proxy` before any command runs; a URL that is not a `socks5h://` proxy is a
/// usage error, whatever the command.
pub(super) fn set_override(url: Option<&str>) -> Result<()> {
    if let Some(url) = url {
        let proxy = SocksProxy::parse(url).map_err(|e| UsageError(format!("--proxy: {e}")))?;
        settings::set_route_override(proxy);
    }
    Ok(())
}

/// `posbon proxy`.
pub(super) fn run(vault: &Vault, command: ProxyCommand) -> Result<()> {
    match command {
        ProxyCommand::Set { url } => {
            let proxy = SocksProxy::parse(&url).map_err(|e| UsageError(e.to_string()))?;
            settings::set_proxy(vault, Some(&proxy)).map_err(explain)?;
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
            match settings::kept_proxy(vault).map_err(explain)? {
                Some(url) => println!("{url}"),
                None => println!("none"),
            }
            if let Some(url) = settings::route_override().and_then(Route::proxy_url) {
                eprintln!("(this command's --proxy: {url})");
            }
        }
        ProxyCommand::Clear => {
            settings::set_proxy(vault, None).map_err(explain)?;
            eprintln!("requests to watchers go straight again (not through a proxy)");
        }
    }
    Ok(())
}
