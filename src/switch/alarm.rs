//! The silent alarm at every unlock: one signed notice to each watcher, the same request
//! whichever passphrase opened the vault (the watcher alone can tell the duress key and
//! raises the alarm). A face hands the notices to a detached sender, so that nothing waits on
//! a watcher that is slow or does not answer and nothing is shown either way.

use serde::{Deserialize, Serialize};

use super::client::{self, Link};
use super::keys::DeviceKeys;
use super::settings::{self, DEVICE_KEYS, WATCHERS};
use super::watchers::sync_decoy;
use crate::protocol;
use crate::route::Route;
use crate::vault::{self, Vault};

/// What the detached sender is given: the notices, and the proxy they must go through (none:
/// straight).
#[derive(Serialize, Deserialize)]
#[must_use = "deliver the unlock notices: under the duress passphrase they are the silent alarm"]
pub struct Notices {
    proxy: Option<String>,
    notices: Vec<Notice>,
}

#[derive(Serialize, Deserialize)]
struct Notice {
    url: String,
    /// The signed request, base64.
    body: String,
}

/// Opens the vault as every face must: with the passphrase, the recovery key or the duress
/// passphrase (the same path), and with this unlock's notices signed for every watcher, which
/// the face then delivers without waiting on them ([`Notices::deliver`], or a detached
/// process). A face that opened the vault another way would raise no silent alarm.
pub fn open_vault(
    dir: &std::path::Path,
    unlock: vault::Unlock<'_>,
) -> Result<(Vault, Option<Notices>), vault::VaultError> {
    let vault = Vault::open(dir, unlock)?;
    let notices = unlock_notices(&vault);
    Ok((vault, notices))
}

/// Signs this unlock's notice to every watcher, keeping the counters used. `None` when there
/// is nothing to send, or when the route cannot be known (a damaged proxy setting): then none
/// is sent rather than one sent straight. Never fails: an unlock must look the same however
/// the vault's settings are.
pub fn unlock_notices(vault: &Vault) -> Option<Notices> {
    // Each view keeps its decoy in step first (a watcher enrolled since, older keys), the
    // same work under every passphrase.
    let _ = sync_decoy(vault);
    let route = settings::route(vault).ok()?;
    let (Ok(Some(keys)), Ok(Some(mut links))) = (
        vault.setting::<DeviceKeys>(DEVICE_KEYS),
        vault.setting::<Vec<Link>>(WATCHERS),
    ) else {
        return None;
    };
    let key = DeviceKeys::pair(&keys.device).ok()?;
    let now = vault::now();
    let mut notices = Vec::new();
    for link in &mut links {
        let (body, counter) = client::unlock_notice(link, &key, now);
        notices.push(Notice {
            url: link.url.clone(),
            body: protocol::b64(&body),
        });
        // Kept, so that a later request never reuses a counter the watcher has seen (after
        // the laptop's clock was set back, say).
        link.last_counter = counter;
    }
    let _ = vault.set_setting(WATCHERS, &links);
    Some(Notices {
        proxy: route.proxy_url().map(str::to_string),
        notices,
    })
}

impl Notices {
    /// The notices as the detached sender reads them.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The notices a detached sender was given; `None` if they do not read as notices.
    pub fn from_bytes(bytes: &[u8]) -> Option<Notices> {
        serde_json::from_slice(bytes).ok()
    }

    /// Posts each notice, in parallel, once, waiting at most `patience` for each (or the
    /// client's own limit); failures are silent (the watcher still sees the next check-in of
    /// a decoy as duress). A proxy that does not read as one sends nothing, rather than
    /// anything straight.
    pub fn deliver(&self, patience: Option<std::time::Duration>) {
        let Ok(route) = Route::from_proxy(self.proxy.as_deref()) else {
            return;
        };
        std::thread::scope(|scope| {
            for notice in &self.notices {
                let route = &route;
                scope.spawn(move || {
                    if let Ok(body) = protocol::unb64(&notice.body) {
                        let _ = match patience {
                            Some(limit) => {
                                client::deliver_notice_within(route, &notice.url, body, limit)
                            }
                            None => client::deliver_notice(route, &notice.url, body),
                        };
                    }
                });
            }
        });
    }
}
