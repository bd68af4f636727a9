//! Sealed bundles for the lawyers, from the journalist's side: what was sealed (kept in the
//! vault; the bundles themselves are not), sealing records for contacts and uploading the
//! bundle to every watcher, comparing what each watcher holds with what was sealed, and
//! withdrawing a bundle. The bundle format itself is [`crate::release::bundle`].

use serde::{Deserialize, Serialize};

use super::client::{self, ClientError, Link};
use super::error::{ReleaseRefusal, RemovalLeft, SourceTitles, SwitchError};
use super::settings::{self, RELEASES};
use super::watchers::for_each_watcher;
use crate::protocol::{BundlePut, BundleRemove, StatusResponse, ops};
use crate::release::bundle::{self, Item};
use crate::vault::{self, RecordId, Vault};

/// One sealed bundle, as the vault remembers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    pub id: String,
    pub name: String,
    /// Record ids (hex).
    pub records: Vec<String>,
    pub to: Vec<String>,
    pub by: String,
    pub include_sources: bool,
    pub sealed_ms: i64,
    pub size: u64,
    pub sha256: String,
    /// `release remove` did not reach every watcher: the journalist withdrew this bundle,
    /// and the watchers that still hold it are told to the journalist, never re-sent it.
    #[serde(default)]
    pub removal_pending: bool,
    /// 1 when first sealed, one more at every update (0: sealed before versions).
    #[serde(default)]
    pub version: u64,
}

/// Every bundle sealed from this view.
pub fn releases(vault: &Vault) -> Result<Vec<Release>, SwitchError> {
    Ok(vault.setting(RELEASES)?.unwrap_or_default())
}

fn save(vault: &Vault, all: &[Release]) -> Result<(), SwitchError> {
    Ok(vault.set_setting(RELEASES, &all)?)
}

fn set_removal_pending(vault: &Vault, id: &str, pending: bool) -> Result<(), SwitchError> {
    let mut all = releases(vault)?;
    for r in all.iter_mut().filter(|r| r.id == id) {
        r.removal_pending = pending;
    }
    save(vault, &all)
}

/// The bundle whose id starts with `id` (at least 4 digits).
pub fn find(vault: &Vault, id: &str) -> Result<Release, SwitchError> {
    let wanted = id.trim().to_lowercase();
    if wanted.len() < 4 {
        return Err(ReleaseRefusal::ShortId.into());
    }
    let matches: Vec<Release> = releases(vault)?
        .into_iter()
        .filter(|r| r.id.starts_with(&wanted))
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one")),
        0 => Err(ReleaseRefusal::UnknownBundle(id.to_string()).into()),
        _ => Err(ReleaseRefusal::AmbiguousBundle(id.to_string()).into()),
    }
}

/// What to seal, and for whom.
pub struct Choice<'a> {
    /// Record ids as typed (prefixes resolve).
    pub records: &'a [String],
    /// Contacts, by name.
    pub to: &'a [String],
    pub name: Option<String>,
    pub by: Option<String>,
    pub include_sources: bool,
}

/// A bundle checked and ready to seal: what it will reveal, and to whom. A face shows it
/// (and asks) before [`seal`].
pub struct Prepared {
    pub id: String,
    pub name: String,
    pub by: String,
    /// The contacts it is for, by name, and their keys.
    pub for_: Vec<String>,
    recipients: Vec<String>,
    ids: Vec<RecordId>,
    pub items: Vec<Item>,
    /// Titles of the sources among the records (empty unless asked to include them).
    pub sources: Vec<String>,
    include_sources: bool,
}

/// A new bundle id (random).
pub fn new_id() -> String {
    hex::encode(crate::crypto::random_array::<16>())
}

/// The choice that sealed bundle `id` (for `release update`): the same records for the same
/// people. A bundle being withdrawn cannot be sealed again.
pub fn choice_of(release: &Release) -> Result<Choice<'_>, SwitchError> {
    if release.removal_pending {
        // Sealing it again would send out what the journalist withdrew.
        return Err(ReleaseRefusal::RemovalPending(release.id.clone()).into());
    }
    Ok(Choice {
        records: &release.records,
        to: &release.to,
        name: Some(release.name.clone()),
        by: Some(release.by.clone()),
        include_sources: release.include_sources,
    })
}

/// Checks a choice against the vault and the contacts and lists what the bundle will hold.
pub fn prepare(vault: &Vault, id: &str, choice: Choice<'_>) -> Result<Prepared, SwitchError> {
    let ids: Vec<RecordId> = choice
        .records
        .iter()
        .map(|r| vault.resolve(r))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(ReleaseRefusal::NoRecords.into());
    }
    // Sources are what a detained journalist most needs to protect: never by default.
    let sources = bundle::sources_among(vault, &ids)?;
    if !sources.is_empty() && !choice.include_sources {
        return Err(ReleaseRefusal::SourcesNotIncluded(SourceTitles(sources)).into());
    }
    let dir = settings::directory(vault)?;
    let mut recipients = Vec::new();
    let mut names = Vec::new();
    for name in choice.to {
        let contact = dir
            .find(name)
            .ok_or_else(|| ReleaseRefusal::UnknownContact(name.clone()))?;
        if contact.is_journalist() {
            return Err(ReleaseRefusal::ContactIsJournalist(contact.name.clone()).into());
        }
        if contact.age_recipients.is_empty() {
            return Err(ReleaseRefusal::ContactHasNoKey(contact.name.clone()).into());
        }
        recipients.extend(contact.age_recipients.iter().cloned());
        names.push(contact.name.clone());
    }
    if names.is_empty() {
        return Err(ReleaseRefusal::NoContacts.into());
    }
    let items = bundle::plan(vault, &ids)?
        .into_iter()
        .map(|(_, item)| item)
        .collect();
    // The name travels in alerts and sits on every watcher: never a record's title by default.
    let name = choice
        .name
        .unwrap_or_else(|| format!("bundle {}", &id[..6]));
    let by = choice.by.unwrap_or_else(|| "the journalist".into());
    Ok(Prepared {
        id: id.to_string(),
        name,
        by,
        for_: names,
        recipients,
        ids,
        items,
        sources,
        include_sources: choice.include_sources,
    })
}

/// A bundle sealed and remembered, not yet on the watchers.
pub struct Sealed {
    pub id: String,
    bytes: Vec<u8>,
    put: String,
    /// How many records it holds.
    pub items: usize,
    /// 1 when first sealed, one more at every update.
    pub version: u64,
}

impl Sealed {
    pub fn size(&self) -> usize {
        self.bytes.len()
    }
}

/// Seals a prepared bundle with the sealing key, one version above the last under its id,
/// and remembers it in the vault first (so `release update` can seal it again if a watcher
/// was down).
pub fn seal(vault: &Vault, prepared: Prepared) -> Result<Sealed, SwitchError> {
    // One more than the last sealed under this id: lawyers and watchers can tell an old
    // version replayed from the newest.
    let id = prepared.id.as_str();
    let version = releases(vault)?
        .iter()
        .find(|r| r.id == id)
        .map_or(1, |r| r.version.max(1) + 1);
    let mut sealed = Vec::new();
    let signer = super::keys::sealing_key(vault)?;
    let manifest = bundle::seal(
        vault,
        &prepared.ids,
        &prepared.recipients,
        &bundle::Label {
            name: &prepared.name,
            by: &prepared.by,
            for_: &prepared.for_,
            sealed_ms: vault::now(),
            bundle_id: id,
            version,
        },
        &signer,
        &mut sealed,
    )?;
    let sha256 = hex::encode(ring::digest::digest(&ring::digest::SHA256, &sealed));
    let put = BundlePut {
        id: id.to_string(),
        name: prepared.name.clone(),
        size: sealed.len() as u64,
        sha256: sha256.clone(),
        recipients: prepared.for_.clone(),
        version,
    };
    let put = serde_json::to_string(&put)?;
    let mut all = releases(vault)?;
    all.retain(|r| r.id != id);
    all.push(Release {
        id: id.to_string(),
        name: prepared.name,
        records: prepared.ids.iter().map(|i| i.to_string()).collect(),
        to: prepared.for_,
        by: prepared.by,
        include_sources: prepared.include_sources,
        sealed_ms: manifest.sealed_ms,
        size: sealed.len() as u64,
        sha256,
        removal_pending: false,
        version,
    });
    save(vault, &all)?;
    Ok(Sealed {
        id: prepared.id,
        bytes: sealed,
        put,
        items: manifest.items.len(),
        version,
    })
}

/// Uploads a sealed bundle to every watcher; `stored` hears of each that took it.
pub fn upload(
    vault: &Vault,
    sealed: &Sealed,
    stored: impl Fn(&Link) + Sync,
) -> Result<(), SwitchError> {
    for_each_watcher(vault, |route, link, key, now| {
        let (_, counter) = client::put_bundle(
            route,
            link,
            key,
            sealed.put.clone(),
            sealed.bytes.clone(),
            now,
        )?;
        stored(link);
        Ok(counter)
    })
}

/// What became of one bundle sent along to a newly enrolled watcher ([`send_to_all`]).
#[derive(Debug)]
pub enum Resent {
    /// Sealed again as `version` and stored on every watcher but those that `failed` (each
    /// failure names its watcher: the new watcher, if among them, lacks the bundle; any
    /// other still holds the version before) and those it was `released_on` (their URLs),
    /// which keep the released version until its links expire: not a gap.
    Sealed {
        version: u64,
        failed: Vec<ClientError>,
        released_on: Vec<String>,
    },
    /// Could not be sealed again (a record deleted since, a contact removed or without a
    /// key): nothing was sent; the new watcher lacks it, the others keep what they held.
    NotSealed(SwitchError),
}

/// Sends every bundle in force to a watcher just enrolled with. The vault keeps no copy of
/// what it sealed, and a watcher holds one file per version of a bundle, so each is sealed
/// again from its records as they are now, for the same people, one version up (as `release
/// update` does), and the new version goes to every watcher: all then hold the same.
/// `sealing` hears what each will reveal, before it is sealed; `done` hears what became of
/// it. A failure for one bundle does not stop the next.
///
/// The same in every view: a decoy seals its own bundles from its own records with its own
/// sealing key (it can read no other), and the watchers that know its key as the duress key
/// only pretend to store them.
pub fn send_to_all(
    vault: &Vault,
    mut sealing: impl FnMut(&Prepared),
    mut done: impl FnMut(&Release, Resent),
) -> Result<(), SwitchError> {
    for release in releases(vault)?.into_iter().filter(|r| !r.removal_pending) {
        let sealed = choice_of(&release)
            .and_then(|choice| prepare(vault, &release.id, choice))
            .and_then(|prepared| {
                sealing(&prepared);
                seal(vault, prepared)
            });
        let sealed = match sealed {
            Ok(sealed) => sealed,
            Err(e) => {
                done(&release, Resent::NotSealed(e));
                continue;
            }
        };
        let failures: Vec<ClientError> = match upload(vault, &sealed, |_| {}) {
            Ok(()) => Vec::new(),
            Err(SwitchError::WatchersFailed {
                first, failures, ..
            }) => std::iter::once(*first).chain(failures).collect(),
            Err(e) => return Err(e),
        };
        // Released there: frozen until its links expire, and not a gap (see `gaps`).
        let (released, failed): (Vec<ClientError>, Vec<ClientError>) =
            failures.into_iter().partition(
                |e| matches!(e, ClientError::Refused { code, .. } if code == "bundle_released"),
            );
        let released_on = released
            .into_iter()
            .filter_map(|e| match e {
                ClientError::Refused { url, .. } => Some(url),
                _ => None,
            })
            .collect();
        done(
            &release,
            Resent::Sealed {
                version: sealed.version,
                failed,
                released_on,
            },
        );
    }
    Ok(())
}

/// How a watcher's copy of a sealed bundle differs from what was sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleGap {
    /// The watcher lacks the bundle.
    Lacks { id: String, name: String },
    /// The watcher holds another copy (an older version, or a damaged one).
    OtherCopy { id: String, name: String },
    /// The watcher still holds a bundle that was withdrawn.
    StillHoldsRemoved { id: String, name: String },
}

/// The bundles sealed from this vault, to compare with what a watcher says it holds.
pub struct SealedBundles(Vec<Release>);

impl SealedBundles {
    /// The same in every view: a watcher answers a decoy with the bundles it pretended to
    /// store, so the comparison agrees there too.
    pub fn load(vault: &Vault) -> Result<SealedBundles, SwitchError> {
        Ok(SealedBundles(releases(vault)?))
    }

    pub fn none() -> SealedBundles {
        SealedBundles(Vec::new())
    }

    /// How many are in force (not being withdrawn).
    pub fn in_force(&self) -> usize {
        self.0.iter().filter(|r| !r.removal_pending).count()
    }

    /// Each bundle still in force, as the plan's gaps look at it.
    pub fn sealed_for(&self) -> Vec<super::gaps::SealedFor<'_>> {
        self.0
            .iter()
            .filter(|r| !r.removal_pending)
            .map(|r| super::gaps::SealedFor {
                name: &r.name,
                recipients: &r.to,
            })
            .collect()
    }

    /// Each sealed bundle that the watcher which sent `status` lacks or holds in another
    /// copy: a release from it would go out without the bundle as sealed.
    pub fn gaps(&self, status: &StatusResponse) -> Vec<BundleGap> {
        let mut gaps = Vec::new();
        for release in &self.0 {
            let held = status.bundles.iter().find(|b| b.id == release.id);
            // Released: frozen on that watcher until its links expire, whatever was sealed
            // since; nothing to repeat (status and check say it was released).
            if held.is_some_and(|h| h.released_until_ms.is_some()) {
                continue;
            }
            let (id, name) = (release.id.clone(), release.name.clone());
            if release.removal_pending {
                if held.is_some() {
                    gaps.push(BundleGap::StillHoldsRemoved { id, name });
                }
                continue;
            }
            match held {
                None => gaps.push(BundleGap::Lacks { id, name }),
                Some(held) if held.sha256 != release.sha256 => {
                    gaps.push(BundleGap::OtherCopy { id, name })
                }
                Some(_) => {}
            }
        }
        gaps
    }
}

/// Asks every watcher what it holds; `answered` hears each watcher's gaps as it answers.
/// Fails with [`SwitchError::BundlesDiffer`] if any watcher has a gap.
pub fn check(
    vault: &Vault,
    answered: impl Fn(&Link, &StatusResponse, &[BundleGap]) + Sync,
) -> Result<(), SwitchError> {
    let sealed = SealedBundles::load(vault)?;
    let problems = std::sync::atomic::AtomicUsize::new(0);
    super::watchers::fan_out(vault, ops::STATUS, "{}".into(), |link, status| {
        let gaps = sealed.gaps(status);
        problems.fetch_add(gaps.len(), std::sync::atomic::Ordering::Relaxed);
        answered(link, status, &gaps);
    })?;
    if problems.into_inner() > 0 {
        return Err(SwitchError::BundlesDiffer);
    }
    Ok(())
}

/// Withdraws bundle `id` from every watcher; `removed` hears of each that removed it. The
/// withdrawal is remembered first: should a watcher not answer, check-ins ask for the removal
/// to be repeated rather than for a re-upload.
pub fn remove(vault: &Vault, id: &str, removed: impl Fn(&Link) + Sync) -> Result<(), SwitchError> {
    let release = find(vault, id)?;
    let payload = serde_json::to_string(&BundleRemove {
        id: release.id.clone(),
    })?;
    set_removal_pending(vault, &release.id, true)?;
    // Each watcher's refusal is kept: one that released the bundle refuses for good (until
    // its links expire), which is not a removal to repeat; any other failure is.
    let released_on = std::sync::Mutex::new(Vec::<String>::new());
    let other_failures = std::sync::atomic::AtomicUsize::new(0);
    let outcome = for_each_watcher(vault, |route, link, key, now| {
        match client::call(route, link, key, ops::BUNDLE_REMOVE, payload.clone(), now) {
            Ok((_, counter)) => {
                removed(link);
                Ok(counter)
            }
            Err(e) => {
                if matches!(&e, ClientError::Refused { code, .. } if code == "bundle_released") {
                    released_on
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(link.url.clone());
                } else {
                    other_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e)
            }
        }
    });
    let released_on = released_on.into_inner().unwrap_or_else(|p| p.into_inner());
    let only_released =
        !released_on.is_empty() && other_failures.load(std::sync::atomic::Ordering::Relaxed) == 0;
    let left = match outcome {
        Ok(()) => {
            let mut all = releases(vault)?;
            all.retain(|r| r.id != release.id);
            return save(vault, &all);
        }
        // Released: frozen on that watcher until its links expire (so nobody holding the
        // passphrase can claw it back from the lawyers). Not a removal to repeat.
        Err(e) if only_released => {
            set_removal_pending(vault, &release.id, false)?;
            (e, RemovalLeft::Released(released_on))
        }
        Err(e @ SwitchError::WatchersFailed { .. }) => (e, RemovalLeft::Unanswered),
        // No watcher was asked (not enrolled, say): nothing changed.
        Err(e @ SwitchError::NotEnrolled) => {
            set_removal_pending(vault, &release.id, false)?;
            return Err(e);
        }
        // Anything else: whether the watchers removed it is unknown, so it stays withdrawn.
        Err(e) => (e, RemovalLeft::Unknown),
    };
    let (cause, left) = left;
    Err(SwitchError::RemovalIncomplete {
        id: release.id,
        left,
        cause: Box::new(cause),
    })
}
