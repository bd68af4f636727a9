//! Commands of the sealed release: sealing records for lawyers and uploading the bundle to
//! every watcher (`release add/list/update/remove/check/key`), and the lawyer's `open`. The
//! work is [`crate::switch::releases`]'s and [`crate::release::open`]'s.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::release::bundle::{self, Manifest};
use crate::switch::keys::sealing_fingerprint;
use crate::switch::releases::{self, Choice, Prepared};
use crate::vault::Vault;

use super::UsageError;
use super::switch::{explain, gap_text, released_lines};

/// `posbon release key`.
pub(super) fn key(vault: &Vault) -> Result<()> {
    println!("{}", sealing_fingerprint(vault).map_err(explain)?);
    eprintln!(
        "your sealing fingerprint: every bundle you seal is signed with this key. Give it to \
         each lawyer in person (read it out, or write it down), so that `posbon open --from` \
         can tell your bundles from forgeries."
    );
    Ok(())
}

/// `posbon release add`.
pub(super) fn add(vault: &Vault, choice: Choice<'_>, yes: bool) -> Result<()> {
    let id = releases::new_id();
    seal_and_upload(vault, &id, choice, yes)
}

/// `posbon release update ID`: seals the same records for the same people again, from
/// what they hold now, and replaces the bundle on every watcher.
pub(super) fn update(vault: &Vault, id: &str, yes: bool) -> Result<()> {
    let old = releases::find(vault, id).map_err(explain)?;
    let choice = releases::choice_of(&old).map_err(explain)?;
    seal_and_upload(vault, &old.id, choice, yes)
}

fn seal_and_upload(vault: &Vault, id: &str, choice: Choice<'_>, yes: bool) -> Result<()> {
    let prepared = releases::prepare(vault, id, choice).map_err(explain)?;
    // Show exactly what the bundle will reveal, and to whom, before anything is sealed.
    eprint!("{}", preview(&prepared));
    if !yes {
        confirm(if prepared.sources.is_empty() {
            "yes"
        } else {
            "reveal sources"
        })?;
    }
    let sealed = releases::seal(vault, prepared).map_err(explain)?;
    let size = sealed.size();
    releases::upload(vault, &sealed, |link| {
        println!("{}: bundle {id} stored ({size} bytes)", link.url);
    })
    .map_err(explain)
    .context("sealed, but not every watcher has the bundle: run `posbon release update ID` when they are reachable")?;
    eprintln!(
        "sealed {} item(s) as bundle {id}, signed by your sealing key {}; the watchers release \
         it at the plan's release step",
        sealed.items,
        sealing_fingerprint(vault).map_err(explain)?
    );
    Ok(())
}

pub(super) fn preview(prepared: &Prepared) -> String {
    let mut preview = format!(
        "This bundle ({:?}) will reveal to {} if it is released:\n",
        prepared.name,
        prepared.for_.join(", ")
    );
    for item in &prepared.items {
        preview.push_str(&format!("  {}. [{}] {}\n", item.n, item.kind, item.title));
        for file in &item.files {
            preview.push_str(&format!("       attachment: {file}\n"));
        }
    }
    if !prepared.sources.is_empty() {
        preview.push_str(&format!(
            "  WARNING: it names {} source(s): {}\n",
            prepared.sources.len(),
            prepared.sources.join(", ")
        ));
    }
    preview
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
    for r in releases::releases(vault).map_err(explain)? {
        println!(
            "{}\t{}\t{} record(s)\tfor {}\t{} bytes\tsealed {}\t{}",
            r.id,
            r.name,
            r.records.len(),
            r.to.join(", "),
            r.size,
            super::zone::text(r.sealed_ms),
            if r.removal_pending {
                "removal-pending"
            } else {
                "active"
            }
        );
    }
    Ok(())
}

/// `posbon release check`: which watcher lacks which bundle.
pub(super) fn check(vault: &Vault) -> Result<()> {
    // The decoy is told the count it believes it sealed.
    let count = releases::SealedBundles::load(vault)
        .map_err(explain)?
        .in_force();
    releases::check(vault, |link, status, gaps| {
        if gaps.is_empty() {
            println!("{}: holds all {count} bundle(s)", link.url);
            for line in released_lines(status) {
                println!("  {line}");
            }
        } else {
            println!("{}:", link.url);
            for gap in gaps {
                println!("  {}", gap_text(gap));
            }
        }
    })
    .map_err(explain)
}

/// `posbon release remove ID`.
pub(super) fn remove(vault: &Vault, id: &str) -> Result<()> {
    let release = releases::find(vault, id).map_err(explain)?;
    releases::remove(vault, &release.id, |link| {
        println!("{}: bundle {} removed", link.url, release.id);
    })
    .map_err(explain)
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
                .read(&super::words::with(
                    "prompt-key-passphrase",
                    &[("path", &path.display().to_string())],
                ))
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
