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

use super::switch::{explain, gap_text, released_lines};
use super::{UsageError, words};

/// `posbon release key`.
pub(super) fn key(vault: &Vault) -> Result<()> {
    println!("{}", sealing_fingerprint(vault).map_err(explain)?);
    eprintln!("{}", words::t("release-key-note"));
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
        println!(
            "{}",
            words::count(
                "release-stored",
                "size",
                size as i64,
                &[("url", &link.url), ("id", id)]
            )
        );
    })
    .map_err(explain)
    .with_context(|| words::t("release-not-everywhere"))?;
    let fingerprint = sealing_fingerprint(vault).map_err(explain)?;
    eprintln!(
        "{}",
        words::count(
            "release-sealed",
            "count",
            sealed.items as i64,
            &[("id", id), ("fingerprint", &fingerprint)]
        )
    );
    Ok(())
}

pub(super) fn preview(prepared: &Prepared) -> String {
    let mut preview = words::with(
        "release-preview",
        &[
            ("name", &format!("{:?}", prepared.name)),
            ("people", &prepared.for_.join(", ")),
        ],
    );
    preview.push('\n');
    for item in &prepared.items {
        let kind = words::with("record-kind", &[("kind", &item.kind)]);
        preview.push_str(&format!("  {}. [{kind}] {}\n", item.n, item.title));
        for file in &item.files {
            let line = words::with("release-preview-attachment", &[("file", file)]);
            preview.push_str(&format!("       {line}\n"));
        }
    }
    if !prepared.sources.is_empty() {
        let line = words::count(
            "release-preview-sources",
            "count",
            prepared.sources.len() as i64,
            &[("names", &prepared.sources.join(", "))],
        );
        preview.push_str(&format!("  {line}\n"));
    }
    preview
}

fn confirm(word: &str) -> Result<()> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        bail!(UsageError(words::t("release-confirm-on-terminal")));
    }
    let word = format!("{word:?}");
    eprint!("{}: ", words::with("release-confirm", &[("word", &word)]));
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    if line.trim() != word {
        bail!(UsageError(words::t("release-not-confirmed")));
    }
    Ok(())
}

/// `posbon release list`.
pub(super) fn list(vault: &Vault) -> Result<()> {
    for r in releases::releases(vault).map_err(explain)? {
        let records = words::count("release-list-records", "count", r.records.len() as i64, &[]);
        let to = words::with("release-list-for", &[("people", &r.to.join(", "))]);
        let size = words::count("release-list-bytes", "size", r.size as i64, &[]);
        let sealed = super::zone::text(r.sealed_ms);
        let sealed = words::with("release-list-sealed", &[("time", &sealed)]);
        let state = if r.removal_pending {
            "removal-pending"
        } else {
            "active"
        };
        let state = words::with("release-list-state", &[("state", state)]);
        println!(
            "{}\t{}\t{records}\t{to}\t{size}\t{sealed}\t{state}",
            r.id, r.name
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
            println!(
                "{}",
                words::count(
                    "release-holds-all",
                    "count",
                    count as i64,
                    &[("url", &link.url)]
                )
            );
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
        println!(
            "{}",
            words::with(
                "release-removed",
                &[("url", &link.url), ("id", &release.id)]
            )
        );
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
        bail!(UsageError(words::with(
            "open-from-not-fingerprint",
            &[("given", &format!("{:?}", from.trim()))]
        )));
    }
    let key = match args.key {
        Some(path) => Some(keys::read(path, &mut || {
            passphrase
                .read(&words::with(
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
        Box::new(std::fs::File::open(args.bundle).with_context(|| words::cannot_read(args.bundle))?)
    };
    let opened = match opening::open(&mut input, how, write.then_some(out.as_path()), args.from) {
        Err(bundle::BundleError::NotForThisKey) if key.is_none() => {
            bail!(UsageError(words::t("open-needs-key")))
        }
        other => other?,
    };
    let sealed_by = match (&opened.sealer, args.from) {
        (bundle::Sealer::Signed { fingerprint }, Some(_)) => {
            words::with("open-signed-checked", &[("fingerprint", fingerprint)])
        }
        (bundle::Sealer::Signed { fingerprint }, None) => {
            words::with("open-signed-unchecked", &[("fingerprint", fingerprint)])
        }
        // (With --from, open refused it already.)
        (bundle::Sealer::Unsigned, _) => words::t("open-unsigned"),
    };
    if opened.sealer == bundle::Sealer::Unsigned {
        eprintln!("posbon: {}", words::t("open-unsigned-warning"));
    }
    let manifest: Manifest = opened.manifest;
    // What a bundle says about itself is shown, never interpreted by the terminal.
    let clean = |text: &str| opening::displayable(text);
    println!("sha256: {}", opened.sha256);
    println!(
        "{}",
        words::with("open-bundle", &[("name", &clean(&manifest.name))])
    );
    if manifest.version > 0 {
        println!(
            "{}",
            words::with(
                "open-version",
                &[
                    ("version", &manifest.version.to_string()),
                    ("id", &clean(&manifest.bundle_id)),
                ]
            )
        );
    } else {
        println!("{}", words::t("open-version-none"));
    }
    println!(
        "{}",
        words::with("open-signed-by", &[("sealer", &sealed_by)])
    );
    let sealed = jiff::Timestamp::from_millisecond(manifest.sealed_ms)
        .map(|t| t.to_string())
        .unwrap_or_default();
    println!(
        "{}",
        words::with(
            "open-sealed",
            &[("time", &sealed), ("by", &clean(&manifest.by))]
        )
    );
    let people = manifest
        .for_
        .iter()
        .map(|f| clean(f))
        .collect::<Vec<_>>()
        .join(", ");
    println!("{}", words::with("open-for", &[("people", &people)]));
    let check = match opened.key {
        KeyCheck::SealedForThisKey => "open-key-sealed-for-it",
        KeyCheck::NotChecked => "open-key-not-checked-archive",
        KeyCheck::OlderFormat => "open-key-not-checked-older",
    };
    println!(
        "{}",
        words::with("open-your-key", &[("check", &words::t(check))])
    );
    if !write {
        for item in &manifest.items {
            println!("{}. [{}] {}", item.n, clean(&item.kind), clean(&item.title));
        }
        bail!(UsageError(words::t("open-nothing-written")));
    }
    // What was written, not what the manifest says.
    println!("{}", words::t("open-written"));
    for path in &opened.written {
        println!("   {}", out.join(path).display());
    }
    eprintln!(
        "{}",
        words::with("open-written-to", &[("dir", &out.display().to_string())])
    );
    Ok(())
}
