//! Commands of the sealed release: sealing records for lawyers and uploading the bundle to
//! every watcher (`release add/list/update/remove`), and the lawyer's `open`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::protocol::{BundlePut, BundleRemove, StatusResponse, ops};
use crate::release::bundle::{self, Manifest};
use crate::switch::client;
use crate::vault::{self, RecordId, Vault};

use super::UsageError;
use super::contacts::directory;
use super::watch::{fan_out, for_each_watcher};

/// The vault setting listing what was sealed (the bundles themselves are not kept).
const RELEASES: &str = "releases";
/// The journalist's sealing key (Ed25519, PKCS#8 in base64), made at first use.
const SEALING_KEY: &str = "sealing-key";

#[derive(Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct SealingKey {
    pkcs8: String,
}

/// The vault's sealing key, made (from the OS random generator) and kept the first time.
fn sealing_key(vault: &Vault) -> Result<ring::signature::Ed25519KeyPair> {
    let stored: Option<SealingKey> = vault.setting(SEALING_KEY)?;
    let stored = match stored {
        Some(key) => key,
        None => {
            let pkcs8 =
                ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                    .map_err(|_| anyhow::anyhow!("the OS random generator failed"))?;
            let key = SealingKey {
                pkcs8: crate::protocol::b64(pkcs8.as_ref()),
            };
            vault.set_setting(SEALING_KEY, &key)?;
            key
        }
    };
    let bytes = zeroize::Zeroizing::new(crate::protocol::unb64(&stored.pkcs8)?);
    ring::signature::Ed25519KeyPair::from_pkcs8(&bytes)
        .map_err(|_| anyhow::anyhow!("the vault's sealing key is damaged"))
}

fn sealing_fingerprint_of(vault: &Vault) -> Result<String> {
    use ring::signature::KeyPair;
    Ok(bundle::sealing_fingerprint(
        sealing_key(vault)?.public_key().as_ref(),
    ))
}

/// `posbon release key`.
pub(super) fn key(vault: &Vault) -> Result<()> {
    println!("{}", sealing_fingerprint_of(vault)?);
    eprintln!(
        "your sealing fingerprint: every bundle you seal is signed with this key. Give it to \
         each lawyer in person (read it out, or write it down), so that `posbon open --from` \
         can tell your bundles from forgeries."
    );
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Release {
    id: String,
    name: String,
    /// Record ids (hex).
    records: Vec<String>,
    to: Vec<String>,
    by: String,
    include_sources: bool,
    sealed_ms: i64,
    size: u64,
    sha256: String,
    /// `release remove` did not reach every watcher: the journalist withdrew this bundle,
    /// and the watchers that still hold it are told to the journalist, never re-sent it.
    #[serde(default)]
    removal_pending: bool,
    /// 1 when first sealed, one more at every update (0: sealed before versions).
    #[serde(default)]
    version: u64,
}

fn releases(vault: &Vault) -> Result<Vec<Release>> {
    Ok(vault.setting(RELEASES)?.unwrap_or_default())
}

/// What to seal, and for whom.
pub(super) struct Choice<'a> {
    pub records: &'a [String],
    pub to: &'a [String],
    pub name: Option<String>,
    pub by: Option<String>,
    pub include_sources: bool,
    pub yes: bool,
}

/// `posbon release add`.
pub(super) fn add(vault: &Vault, choice: Choice<'_>) -> Result<()> {
    let id = hex::encode(crate::crypto::random_array::<16>());
    seal_and_upload(vault, &id, choice)
}

/// `posbon release update ID`: seals the same records for the same people again, from
/// what they hold now, and replaces the bundle on every watcher.
pub(super) fn update(vault: &Vault, id: &str, yes: bool) -> Result<()> {
    let old = find(vault, id)?;
    if old.removal_pending {
        // Sealing it again would send out what the journalist withdrew.
        bail!(UsageError(format!(
            "bundle {} was removed (a watcher missed the removal): finish with `posbon release \
             remove {}`, or seal the records afresh with `posbon release add`",
            old.id, old.id
        )));
    }
    seal_and_upload(
        vault,
        &old.id,
        Choice {
            records: &old.records,
            to: &old.to,
            name: Some(old.name.clone()),
            by: Some(old.by.clone()),
            include_sources: old.include_sources,
            yes,
        },
    )
}

fn find(vault: &Vault, id: &str) -> Result<Release> {
    let wanted = id.trim().to_lowercase();
    if wanted.len() < 4 {
        bail!(UsageError("give at least 4 digits of the bundle id".into()));
    }
    let matches: Vec<Release> = releases(vault)?
        .into_iter()
        .filter(|r| r.id.starts_with(&wanted))
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one")),
        // Like a record that is not there: exit 1 (a malformed id is exit 2, above).
        0 => bail!("no release bundle has the id {id:?} (see `posbon release list`)"),
        _ => bail!(UsageError(format!("{id:?} is ambiguous; give more digits"))),
    }
}

fn seal_and_upload(vault: &Vault, id: &str, choice: Choice<'_>) -> Result<()> {
    let ids: Vec<RecordId> = choice
        .records
        .iter()
        .map(|r| vault.resolve(r))
        .collect::<std::result::Result<_, _>>()?;
    if ids.is_empty() {
        bail!(UsageError("name at least one record to seal".into()));
    }
    // Sources are what a detained journalist most needs to protect: never by default.
    let sources = bundle::sources_among(vault, &ids)?;
    if !sources.is_empty() && !choice.include_sources {
        bail!(UsageError(format!(
            "these are sources, and a bundle holds none unless you say so with --include-sources: {}",
            sources.join(", ")
        )));
    }
    let dir = directory(vault)?;
    let mut recipients = Vec::new();
    let mut names = Vec::new();
    for name in choice.to {
        let contact = dir.find(name).ok_or_else(|| {
            UsageError(format!(
                "there is no contact called {name:?} (posbon contact add)"
            ))
        })?;
        if contact.is_journalist() {
            bail!(UsageError(format!(
                "{} is in tier 0 (yourself: reminders only), so a release never reaches them; \
                 seal for contacts in tier 1 and up",
                contact.name
            )));
        }
        if contact.age_recipients.is_empty() {
            bail!(UsageError(format!(
                "{} has no key for sealed material: posbon contact add {:?} ... --age-recipient age1...",
                contact.name, contact.name
            )));
        }
        recipients.extend(contact.age_recipients.iter().cloned());
        names.push(contact.name.clone());
    }
    if names.is_empty() {
        bail!(UsageError("name at least one contact with --to".into()));
    }
    let planned = bundle::plan(vault, &ids)?;
    // The name travels in alerts and sits on every watcher: never a record's title by default.
    let name = choice
        .name
        .unwrap_or_else(|| format!("bundle {}", &id[..6]));
    let by = choice.by.unwrap_or_else(|| "the journalist".into());

    // Show exactly what the bundle will reveal, and to whom, before anything is sealed.
    let mut preview = format!(
        "This bundle ({name:?}) will reveal to {} if it is released:\n",
        names.join(", ")
    );
    for (_, item) in &planned {
        preview.push_str(&format!("  {}. [{}] {}\n", item.n, item.kind, item.title));
        for file in &item.files {
            preview.push_str(&format!("       attachment: {file}\n"));
        }
    }
    if !sources.is_empty() {
        preview.push_str(&format!(
            "  WARNING: it names {} source(s): {}\n",
            sources.len(),
            sources.join(", ")
        ));
    }
    eprint!("{preview}");
    if !choice.yes {
        confirm(if sources.is_empty() {
            "yes"
        } else {
            "reveal sources"
        })?;
    }

    // One more than the last sealed under this id: lawyers and watchers can tell an old
    // version replayed from the newest.
    let version = releases(vault)?
        .iter()
        .find(|r| r.id == id)
        .map_or(1, |r| r.version.max(1) + 1);
    let mut sealed = Vec::new();
    let signer = sealing_key(vault)?;
    let manifest = bundle::seal(
        vault,
        &ids,
        &recipients,
        &bundle::Label {
            name: &name,
            by: &by,
            for_: &names,
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
        name: name.clone(),
        size: sealed.len() as u64,
        sha256: sha256.clone(),
        recipients: names.clone(),
        version,
    };
    let payload = serde_json::to_string(&put)?;
    let mut all = releases(vault)?;
    all.retain(|r| r.id != id);
    all.push(Release {
        id: id.to_string(),
        name,
        records: ids.iter().map(|i| i.to_string()).collect(),
        to: names,
        by,
        include_sources: choice.include_sources,
        sealed_ms: manifest.sealed_ms,
        size: sealed.len() as u64,
        sha256,
        removal_pending: false,
        version,
    });
    // Kept first, so `release update` can seal it again if a watcher was down.
    vault.set_setting(RELEASES, &all)?;
    for_each_watcher(vault, |route, link, key, now| {
        let (_, counter) =
            client::put_bundle(route, link, key, payload.clone(), sealed.clone(), now)?;
        println!("{}: bundle {id} stored ({} bytes)", link.url, sealed.len());
        Ok(counter)
    })
    .context("sealed, but not every watcher has the bundle: run `posbon release update ID` when they are reachable")?;
    eprintln!(
        "sealed {} item(s) as bundle {id}, signed by your sealing key {}; the watchers release \
         it at the plan's release step",
        manifest.items.len(),
        sealing_fingerprint_of(vault)?
    );
    Ok(())
}

fn confirm(word: &str) -> Result<()> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        bail!(UsageError(
            "confirm on a terminal, or pass --yes after reading the list above".into()
        ));
    }
    eprint!("Type {word:?} to seal and upload it: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if line.trim() != word {
        bail!(UsageError("not confirmed; nothing was sealed".into()));
    }
    Ok(())
}

/// `posbon release list`.
pub(super) fn list(vault: &Vault) -> Result<()> {
    for r in releases(vault)? {
        println!(
            "{}\t{}\t{} record(s)\tfor {}\t{} bytes\tsealed {}\t{}",
            r.id,
            r.name,
            r.records.len(),
            r.to.join(", "),
            r.size,
            super::commands::time_text(r.sealed_ms),
            if r.removal_pending {
                "removal-pending"
            } else {
                "active"
            }
        );
    }
    Ok(())
}

/// The bundles sealed from this vault, to compare with what a watcher says it holds.
pub(super) struct SealedBundles(Vec<Release>);

impl SealedBundles {
    /// The same in every view: a watcher answers a decoy with the bundles it pretended to
    /// store, so the comparison agrees there too.
    pub(super) fn load(vault: &Vault) -> Result<SealedBundles> {
        Ok(SealedBundles(releases(vault)?))
    }

    pub(super) fn none() -> SealedBundles {
        SealedBundles(Vec::new())
    }

    /// Each bundle still in force (not being withdrawn), as the plan's gaps look at it.
    pub(super) fn sealed_for(&self) -> Vec<crate::switch::gaps::SealedFor<'_>> {
        self.0
            .iter()
            .filter(|r| !r.removal_pending)
            .map(|r| crate::switch::gaps::SealedFor {
                name: &r.name,
                recipients: &r.to,
            })
            .collect()
    }

    /// One line per sealed bundle that the watcher which sent `status` lacks or holds in
    /// another copy: a release from it would go out without the bundle as sealed.
    pub(super) fn gaps(&self, status: &StatusResponse) -> Vec<String> {
        let mut gaps = Vec::new();
        for release in &self.0 {
            let held = status.bundles.iter().find(|b| b.id == release.id);
            // Released: frozen on that watcher until its links expire, whatever was sealed
            // since; nothing to repeat (status and check say it was released).
            if held.is_some_and(|h| h.released_until_ms.is_some()) {
                continue;
            }
            if release.removal_pending {
                if held.is_some() {
                    gaps.push(format!(
                        "still holds bundle {} ({}), which you removed: run `posbon release remove {}` again",
                        release.id, release.name, release.id
                    ));
                }
                continue;
            }
            match held {
                None => gaps.push(format!(
                    "lacks bundle {} ({}): run `posbon release update {}`",
                    release.id, release.name, release.id
                )),
                Some(held) if held.sha256 != release.sha256 => gaps.push(format!(
                    "holds another copy of bundle {} ({}): run `posbon release update {}`",
                    release.id, release.name, release.id
                )),
                Some(_) => {}
            }
        }
        gaps
    }
}

/// `posbon release check`: which watcher lacks which bundle.
pub(super) fn check(vault: &Vault) -> Result<()> {
    let sealed = SealedBundles::load(vault)?;
    // The decoy is told the count it believes it sealed.
    let count = releases(vault)?
        .iter()
        .filter(|r| !r.removal_pending)
        .count();
    let problems = std::sync::atomic::AtomicUsize::new(0);
    fan_out(vault, ops::STATUS, "{}".into(), |link, status| {
        let gaps = sealed.gaps(status);
        if gaps.is_empty() {
            println!("{}: holds all {count} bundle(s)", link.url);
            for line in super::watch::released_lines(status) {
                println!("  {line}");
            }
        } else {
            problems.fetch_add(gaps.len(), std::sync::atomic::Ordering::Relaxed);
            println!("{}:", link.url);
            for gap in gaps {
                println!("  {gap}");
            }
        }
    })?;
    if problems.into_inner() > 0 {
        bail!(BundlesDiffer);
    }
    Ok(())
}

/// Some watcher lacks a bundle, holds an old copy, or still holds one that was removed
/// (exit 12).
#[derive(Debug, thiserror::Error)]
#[error(
    "not every watcher holds the bundles as you sealed them (listed above): a release from that watcher would go out without a bundle, with an old copy, or with one you removed"
)]
pub struct BundlesDiffer;

/// `posbon release remove ID`.
pub(super) fn remove(vault: &Vault, id: &str) -> Result<()> {
    let release = find(vault, id)?;
    let payload = serde_json::to_string(&BundleRemove {
        id: release.id.clone(),
    })?;
    // Remembered first: should a watcher not answer, the bundle is withdrawn all the same,
    // and check-ins ask for the removal to be repeated rather than for a re-upload.
    let mut all = releases(vault)?;
    for r in all.iter_mut().filter(|r| r.id == release.id) {
        r.removal_pending = true;
    }
    vault.set_setting(RELEASES, &all)?;
    // Each watcher's refusal is kept: one that released the bundle refuses for good (until
    // its links expire), which is not a removal to repeat; any other failure is.
    let released_on = std::sync::Mutex::new(Vec::<String>::new());
    let other_failures = std::sync::atomic::AtomicUsize::new(0);
    let removed = for_each_watcher(vault, |route, link, key, now| {
        match client::call(route, link, key, ops::BUNDLE_REMOVE, payload.clone(), now) {
            Ok((_, counter)) => {
                println!("{}: bundle {} removed", link.url, release.id);
                Ok(counter)
            }
            Err(e) => {
                if matches!(&e, client::ClientError::Refused { code, .. } if code == "bundle_released")
                {
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
    let forget = |vault: &Vault| -> Result<()> {
        let mut all = releases(vault)?;
        all.retain(|r| r.id != release.id);
        Ok(vault.set_setting(RELEASES, &all)?)
    };
    match removed {
        Ok(()) => forget(vault),
        // Released: frozen on that watcher until its links expire (so nobody holding the
        // passphrase can claw it back from the lawyers). Not a removal to repeat.
        Err(e) if only_released => {
            let mut all = releases(vault)?;
            for r in all.iter_mut().filter(|r| r.id == release.id) {
                r.removal_pending = false;
            }
            vault.set_setting(RELEASES, &all)?;
            Err(e.context(format!(
                "bundle {} was already released to its recipients by {}, so it cannot be \
                 withdrawn there until its links expire (see above); every other watcher \
                 removed it",
                release.id,
                released_on.join(", ")
            )))
        }
        Err(e) if e.chain().any(|c| c.is::<client::ClientError>()) => Err(e.context(format!(
            "bundle {} is withdrawn, but still on the watchers above that did not answer or \
             refused: run `posbon release remove {}` again when they answer",
            release.id, release.id
        ))),
        // No watcher was asked (not enrolled, say): nothing changed.
        Err(e) if e.downcast_ref::<UsageError>().is_some() => {
            let mut all = releases(vault)?;
            for r in all.iter_mut().filter(|r| r.id == release.id) {
                r.removal_pending = false;
            }
            vault.set_setting(RELEASES, &all)?;
            Err(e)
        }
        // Anything else: whether the watchers removed it is unknown, so it stays withdrawn.
        Err(e) => Err(e.context(format!(
            "bundle {} is withdrawn; run `posbon release remove {}` again to finish",
            release.id, release.id
        ))),
    }
}

/// What `posbon open` was given.
pub(super) struct OpenArgs<'a> {
    pub bundle: &'a Path,
    pub key: Option<&'a Path>,
    pub out: Option<PathBuf>,
    pub from: Option<&'a str>,
    pub unchecked: bool,
}

/// `posbon open BUNDLE [-i KEY] [--out DIR] (--from FINGERPRINT | --unchecked)` (for
/// lawyers; no vault needed). Without --from or --unchecked, only shows what it holds.
pub(super) fn open(args: &OpenArgs<'_>, passphrase: &super::passphrase::Source) -> Result<()> {
    use crate::release::keys;
    use crate::release::open::{self as opening, Input, KeyCheck};
    if let Some(from) = args.from
        && !bundle::is_sealing_fingerprint(from)
    {
        bail!(UsageError(format!(
            "--from {:?} is not a whole sealing fingerprint (eight groups of four, like \
             3f2a-91c0-...): copy all of it as the journalist gave it",
            from.trim()
        )));
    }
    let key = match args.key {
        Some(path) => Some(keys::read(path, &mut || {
            passphrase
                .read(&format!("Passphrase of {}", path.display()))
                .map_err(|e| bundle::BundleError::Invalid(format!("{e:#}")))
        })?),
        None => None,
    };
    let from_stdin = args.bundle == Path::new("-");
    let write = args.from.is_some() || args.unchecked;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = if from_stdin {
            "bundle".to_string()
        } else {
            args.bundle
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "bundle".into())
        };
        PathBuf::from(format!("{stem}-opened"))
    });
    let how = match &key {
        Some(key) => Input::Sealed(key),
        None => Input::Plain,
    };
    let mut input: Box<dyn std::io::Read> = if from_stdin {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(args.bundle)
                .with_context(|| format!("cannot read {}", args.bundle.display()))?,
        )
    };
    let opened = match opening::open(&mut input, how, write.then_some(out.as_path()), args.from) {
        Err(bundle::BundleError::NotForThisKey) if key.is_none() => {
            bail!(UsageError(
                "this is a sealed bundle: give your key with -i KEY".into()
            ))
        }
        other => other?,
    };
    let sealed_by = match (&opened.sealer, args.from) {
        (bundle::Sealer::Signed { fingerprint }, Some(_)) => {
            format!("{fingerprint} (the fingerprint you gave: it is theirs)")
        }
        (bundle::Sealer::Signed { fingerprint }, None) => format!(
            "{fingerprint} (NOT CHECKED: compare it with the sealing fingerprint the journalist \
             gave you, and open with --from)"
        ),
        // (With --from, open refused it already.)
        (bundle::Sealer::Unsigned, _) => "NOBODY: this bundle is NOT SIGNED. Anyone who knows \
             your public key can make such a file: do not rely on it unless the journalist \
             confirms it (bundles sealed by a posbon older than the signature are unsigned too)"
            .into(),
    };
    if opened.sealer == bundle::Sealer::Unsigned {
        eprintln!(
            "posbon: WARNING: this bundle is not signed; anyone who knows your public key can \
             make such a file"
        );
    }
    let manifest: Manifest = opened.manifest;
    // What a bundle says about itself is shown, never interpreted by the terminal.
    let clean = |text: &str| opening::displayable(text);
    println!("sha256: {}", opened.sha256);
    println!("bundle: {}", clean(&manifest.name));
    if manifest.version > 0 {
        println!(
            "version: {} of bundle {} (compare with the version in the watchers' alerts: an \
             older one may have been replayed)",
            manifest.version,
            clean(&manifest.bundle_id)
        );
    } else {
        println!("version: none (sealed by an older posbon)");
    }
    println!("signed by: {sealed_by}");
    println!(
        "sealed: {} by {}",
        jiff::Timestamp::from_millisecond(manifest.sealed_ms)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        clean(&manifest.by)
    );
    println!(
        "for: {}",
        manifest
            .for_
            .iter()
            .map(|f| clean(f))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "your key: {}",
        match opened.key {
            KeyCheck::SealedForThisKey => "the bundle was sealed for it",
            KeyCheck::NotChecked => "not checked (opened from a decrypted archive)",
            KeyCheck::OlderFormat => "not checked (an older bundle names no keys)",
        }
    );
    if !write {
        for item in &manifest.items {
            println!("{}. [{}] {}", item.n, clean(&item.kind), clean(&item.title));
        }
        bail!(UsageError(
            "nothing was written: give --from FINGERPRINT (the sealing fingerprint the \
             journalist gave you) to check who sealed it and write it out, or --unchecked to \
             write it out without knowing"
                .into()
        ));
    }
    // What was written, not what the manifest says.
    println!("written:");
    for path in &opened.written {
        println!("   {}", out.join(path).display());
    }
    eprintln!("written to {}", out.display());
    Ok(())
}
