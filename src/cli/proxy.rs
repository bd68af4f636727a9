//! The journalist's route to the watchers: `posbon proxy set|show|clear` and the global
//! `--proxy`. The route itself is [`crate::switch::settings::route`], which every request
//! asks before it sends anything to a watcher.

use anyhow::Result;

use crate::route::{Route, SocksProxy};
use crate::switch::settings;
use crate::vault::Vault;

use super::switch::explain;
use super::{ProxyCommand, UsageError, words};

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
            let shown = proxy.to_string();
            eprintln!("{}", words::with("proxy-set", &[("proxy", &shown)]));
            if Route::Socks(Box::new(proxy.clone())).down().is_some() {
                eprintln!(
                    "posbon: {}",
                    words::with("proxy-not-answering", &[("proxy", &shown)])
                );
            }
        }
        ProxyCommand::Show => {
            match settings::kept_proxy(vault).map_err(explain)? {
                Some(url) => println!("{url}"),
                None => println!("{}", words::t("status-none")),
            }
            if let Some(url) = settings::route_override().and_then(Route::proxy_url) {
                eprintln!("{}", words::with("proxy-override", &[("url", url)]));
            }
        }
        ProxyCommand::Clear => {
            settings::set_proxy(vault, None).map_err(explain)?;
            eprintln!("{}", words::t("proxy-cleared"));
        }
    }
    Ok(())
}
