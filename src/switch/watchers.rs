//! The watchers this vault is enrolled with: enrolment, the links kept in the vault (with the
//! last counter each watcher accepted), the copy every decoy keeps, and the fan-out that sends
//! one request to every watcher at once and keeps each one's answer.

use ring::signature::Ed25519KeyPair;

use super::SwitchError;
use super::client::{self, ClientError, Link};
use super::keys::{DeviceKeys, signing_key};
use super::settings::{self, DEVICE_KEYS, PLAN, WATCHERS, WATCHERS_LEFT};
use crate::protocol::{StatusResponse, ops};
use crate::route::Route;
use crate::vault::{self, Vault};

/// Whether the vault is enrolled with at least one watcher.
pub fn enrolled(vault: &Vault) -> Result<bool, SwitchError> {
    Ok(!vault
        .setting::<Vec<Link>>(WATCHERS)?
        .unwrap_or_default()
        .is_empty())
}

/// The watcher links, at least one.
pub fn links(vault: &Vault) -> Result<Vec<Link>, SwitchError> {
    let mut links: Vec<Link> = vault.setting(WATCHERS)?.unwrap_or_default();
    if links.is_empty() {
        return Err(SwitchError::NotEnrolled);
    }
    // A link made by posbon 0.1 holds the 64-bit fingerprint, which `alert verify` no
    // longer takes: show the whole one, derived from the key the link was checked with.
    for link in &mut links {
        if let Ok(key) = crate::protocol::unb64(&link.watcher_key) {
            link.fingerprint = crate::protocol::fingerprint(&key);
        }
    }
    Ok(links)
}

pub(crate) fn save_links(vault: &Vault, links: &[Link]) -> Result<(), SwitchError> {
    Ok(vault.set_setting(WATCHERS, &links)?)
}

/// Copies the watcher links and the duress key into this view's decoy, so that opening the
/// vault with the duress passphrase and checking in sends a duress check-in. The decoy keeps
/// a `duress` key of its own (for its own decoy), made once. The same in every view.
pub fn sync_decoy(vault: &Vault) -> Result<(), SwitchError> {
    settings::sync_proxy_to_decoy(vault)?;
    settings::sync_timezone_to_decoy(vault)?;
    settings::sync_plan_to_decoy(vault)?;
    let (Some(keys), Some(links)) = (
        vault.setting::<DeviceKeys>(DEVICE_KEYS)?,
        vault.setting::<Vec<Link>>(WATCHERS)?,
    ) else {
        return Ok(());
    };
    let existing = vault.decoy_setting::<DeviceKeys>(DEVICE_KEYS)?;
    // The decoy's own duress key is kept once made; one equal to its device key (written
    // by posbon 0.1 and 0.2, and a tell) is replaced.
    let below = match &existing {
        Some(existing) if existing.duress != existing.device => existing.duress.clone(),
        _ => DeviceKeys::generate().duress.clone(),
    };
    if existing
        .as_ref()
        .is_none_or(|e| e.device != keys.duress || e.duress != below)
    {
        let decoy_keys = DeviceKeys {
            device: keys.duress.clone(),
            duress: below,
        };
        if !vault.set_decoy_setting(DEVICE_KEYS, &decoy_keys)? {
            return Ok(());
        }
    }
    // Every watcher, each time: a watcher enrolled after the duress passphrase was set must
    // hear the decoy's unlocks and check-ins too. Counters are the decoy's own. Not one the
    // decoy unenrolled from: whoever made it leave must not see it back.
    let decoy_links: Vec<Link> = vault.decoy_setting(WATCHERS)?.unwrap_or_default();
    let decoy_left: Vec<Left> = vault.decoy_setting(WATCHERS_LEFT)?.unwrap_or_default();
    let mut merged: Vec<Link> = links
        .iter()
        .filter(|link| !decoy_left.iter().any(|left| left.is(link)))
        .map(|link| {
            let mut link = link.clone();
            if let Some(known) = decoy_links.iter().find(|d| d.url == link.url) {
                link.last_counter = known.last_counter;
            }
            link
        })
        .collect();
    // A watcher the decoy enrolled with on its own (a coercer made the journalist enrol under
    // the duress passphrase) is the decoy's, with a subject of its own: it stays, or the
    // decoy falls silent there after the next real unlock, which whoever runs that watcher
    // would see. Not a copy of a link this view left: that one goes with it.
    let real_left: Vec<Left> = vault.setting(WATCHERS_LEFT)?.unwrap_or_default();
    let own: Vec<Link> = decoy_links
        .iter()
        .filter(|d| !merged.iter().any(|m| m.url == d.url))
        .filter(|d| !links.iter().any(|l| l.subject == d.subject))
        .filter(|d| !real_left.iter().any(|left| left.is(d)))
        .cloned()
        .collect();
    merged.extend(own);
    let same = merged.len() == decoy_links.len()
        && merged
            .iter()
            .zip(&decoy_links)
            .all(|(a, b)| a.url == b.url && a.subject == b.subject);
    if !same {
        vault.set_decoy_setting(WATCHERS, &merged)?;
    }
    Ok(())
}

/// A watcher this view unenrolled from. Kept by subject as well as URL: enrolling there
/// again makes a new subject, which is not this one.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Left {
    url: String,
    subject: String,
}

impl Left {
    fn is(&self, link: &Link) -> bool {
        self.url == link.url && self.subject == link.subject
    }
}

/// What unenrolling from a watcher did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unenrolled {
    /// The watcher answered that it forgot the journalist (the name it knew them by).
    Forgotten { name: String },
    /// The watcher answered as to a stranger (its operator removed the journalist, say). That
    /// answer is not signed, so anyone between could have forged it to make the laptop forget
    /// a watcher that keeps watching (and alerts and releases when check-ins stop): the link is
    /// kept. [`unenrol_local`] forgets it, once the journalist knows.
    AnsweredAsStranger,
}

/// Leaves the watcher at `url`: asks it to forget the journalist, their phones and their
/// bundles (signed, like every request), then forgets the link in this view and in its
/// decoy. The same in every view; under the duress passphrase the watcher answers alike,
/// forgets nothing and raises the silent alarm. If the watcher refuses or does not answer,
/// the link is kept.
pub fn unenrol(vault: &Vault, url: &str) -> Result<Unenrolled, SwitchError> {
    let (link, links, asked) = ask_one(vault, url, ops::UNENROL)?;
    let outcome = match asked {
        Ok((status, _)) => Unenrolled::Forgotten { name: status.name },
        // Answered as a request for a subject it does not know (or a forged signature, which
        // this vault does not make).
        Err(ClientError::Refused { code, .. }) if code == "bad_signature" => {
            return Ok(Unenrolled::AnsweredAsStranger);
        }
        Err(e) => return Err(e.into()),
    };
    forget(vault, &link, &links)?;
    Ok(outcome)
}

/// What one watcher answered to one request: its status and the counter used, or why not.
type Answered = Result<(StatusResponse, u64), ClientError>;

/// Sends `op` to the watcher at `url` alone (before leaving it): that watcher's link, the
/// other links, and what it answered.
fn ask_one(vault: &Vault, url: &str, op: &str) -> Result<(Link, Vec<Link>, Answered), SwitchError> {
    let key = signing_key(vault)?;
    let mut links = links(vault)?;
    let wanted = url.trim_end_matches('/');
    let Some(index) = links.iter().position(|l| l.url == wanted) else {
        return Err(SwitchError::NotEnrolledWith(wanted.to_string()));
    };
    let route = settings::route(vault)?;
    let link = links.remove(index);
    let asked = client::call(&route, &link, &key, op, "{}".into(), vault::now());
    Ok((link, links, asked))
}

/// Forgets `link` in this view (the rest are `kept`) and in its decoy, and remembers that
/// this view left it, so that its upper view's copy of the links does not bring it back.
fn forget(vault: &Vault, link: &Link, kept: &[Link]) -> Result<(), SwitchError> {
    let mut left: Vec<Left> = vault.setting(WATCHERS_LEFT)?.unwrap_or_default();
    left.retain(|l| !l.is(link));
    left.push(Left {
        url: link.url.clone(),
        subject: link.subject.clone(),
    });
    vault.set_setting(WATCHERS_LEFT, &left)?;
    save_links(vault, kept)?;
    sync_decoy(vault)
}

/// What a watcher forgotten here only answered when asked, once, whether it still knows
/// this vault.
#[derive(Debug)]
pub enum LeftLocally {
    /// It answered and still knows the journalist: it keeps watching, and will alert.
    StillWatching,
    /// It answered as to a stranger: it no longer knew this vault.
    NotKnownThere,
    /// It did not answer (or not as the watcher enrolled with): why.
    NoAnswer(ClientError),
}

/// Forgets the watcher at `url` in this view and its decoy without asking it to forget the
/// journalist: for a watcher that is gone (its server shut down or seized) and can no longer
/// be asked. The watcher is asked one thing first, a status signed like every request, so
/// that the face can say whether it still watches; the answer changes nothing here.
///
/// The same in every view. Under the duress passphrase the decoy forgets the link and the
/// real view keeps it (and keeps checking in there); the status request, signed with the
/// duress key, raises the silent alarm if the watcher is there to hear it, as the unlock
/// notice did.
pub fn unenrol_local(vault: &Vault, url: &str) -> Result<LeftLocally, SwitchError> {
    let (link, links, asked) = ask_one(vault, url, ops::STATUS)?;
    let answer = match asked {
        Ok(_) => LeftLocally::StillWatching,
        Err(ClientError::Refused { code, .. }) if code == "bad_signature" => {
            LeftLocally::NotKnownThere
        }
        Err(e) => LeftLocally::NoAnswer(e),
    };
    forget(vault, &link, &links)?;
    Ok(answer)
}

/// Enrols with the watcher at `url` with the operator's one-time `code`, then sends it the
/// plan and the contacts already set, so it knows them from the start; returns the link. The
/// bundles sealed before go with [`super::releases::send_to_all`].
pub fn enrol(vault: &Vault, url: &str, code: &str) -> Result<Link, SwitchError> {
    let keys = DeviceKeys::load_or_make(vault)?;
    let route = settings::route(vault)?;
    let mut link = client::enrol(
        &route,
        url,
        code,
        &DeviceKeys::pair(&keys.device)?,
        &DeviceKeys::pair(&keys.duress)?,
    )?;
    let mut links: Vec<Link> = vault.setting(WATCHERS)?.unwrap_or_default();
    links.retain(|l| l.url != link.url);
    links.push(link.clone());
    save_links(vault, &links)?;
    sync_decoy(vault)?;
    // The new watcher must know the plan and whom to alert from the start.
    let directory = settings::directory(vault)?;
    let plan: Option<crate::plan::Plan> = vault.setting(PLAN)?;
    let mut to_send = Vec::new();
    if !directory.contacts.is_empty() || !directory.instructions.is_empty() {
        to_send.push((
            ops::CONTACTS,
            serde_json::to_string(&directory.for_watchers())?,
        ));
    }
    if let Some(plan) = &plan {
        to_send.push((ops::PLAN, serde_json::to_string(plan)?));
    }
    if !to_send.is_empty() {
        let key = DeviceKeys::pair(&keys.device)?;
        for (op, payload) in to_send {
            let (_, counter) = client::call(&route, &link, &key, op, payload, vault::now())?;
            link.last_counter = counter;
        }
        links.retain(|l| l.url != link.url);
        links.push(link.clone());
        save_links(vault, &links)?;
    }
    Ok(link)
}

/// Runs `call` against every watcher at once (over this view's route, with the device key
/// and one shared time, so that every watcher sees the same moment); keeps each new counter;
/// fails with every failure if any failed.
pub(crate) fn for_each_watcher(
    vault: &Vault,
    call: impl Fn(&Route, &Link, &Ed25519KeyPair, i64) -> Result<u64, ClientError> + Sync,
) -> Result<(), SwitchError> {
    let key = signing_key(vault)?;
    let mut links = links(vault)?;
    let route = settings::route(vault)?;
    let now = vault::now();
    let results: Vec<Result<u64, ClientError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = links
            .iter()
            .map(|link| {
                let (route, key, call) = (&route, &key, &call);
                scope.spawn(move || call(route, link, key, now))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a request thread does not panic"))
            .collect()
    });
    let mut failures = Vec::new();
    for (link, result) in links.iter_mut().zip(results) {
        match result {
            Ok(counter) => link.last_counter = counter,
            Err(e) => failures.push(e),
        }
    }
    save_links(vault, &links)?;
    if failures.is_empty() {
        return Ok(());
    }
    let first = failures.remove(0);
    Err(SwitchError::WatchersFailed {
        first: Box::new(first),
        failures,
        total: links.len(),
    })
}

/// Sends one operation to every watcher at once; hands each answer to `answered` as it
/// comes; fails if any failed, or if the watchers disagree about the plan.
pub fn fan_out(
    vault: &Vault,
    op: &str,
    payload: String,
    answered: impl Fn(&Link, &StatusResponse) + Sync,
) -> Result<(), SwitchError> {
    let plans = std::sync::Mutex::new(Vec::<(String, Option<String>)>::new());
    let pretend = std::sync::atomic::AtomicBool::new(false);
    let asked = for_each_watcher(vault, |route, link, key, now| {
        let (status, counter) = client::call(route, link, key, op, payload.clone(), now)?;
        answered(link, &status);
        if status.pretend.is_some() {
            pretend.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        plans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((link.url.clone(), status.plan.clone()));
        Ok(counter)
    });
    // Whether a watcher keeps a pretend world (told to the real key only): while one does,
    // the decoy's plan is left as the coercer saw it (see `settings::sync_plan_to_decoy`).
    match (pretend.into_inner(), asked.is_ok()) {
        (true, _) => settings::note_pretend(vault, true)?,
        (false, true) => settings::note_pretend(vault, false)?,
        (false, false) => {}
    }
    asked?;
    let plans = plans.into_inner().unwrap_or_else(|p| p.into_inner());
    if plans.windows(2).any(|pair| pair[0].1 != pair[1].1) {
        return Err(SwitchError::WatchersDisagree { plans });
    }
    Ok(())
}
