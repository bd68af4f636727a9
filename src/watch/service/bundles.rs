//! Where the watcher keeps a journalist's sealed bundles, and the rules for replacing and
//! removing one: a bundle is written durably before the store is locked, bounded in number
//! and size per journalist, and frozen once released, so the file a lawyer's link serves is
//! always the one the signed alert names.

use super::*;
use crate::watch::store::BundleMeta;

/// Bundles a subject may keep on one watcher, and their total size.
pub const MAX_BUNDLES: usize = 8;
pub const MAX_BUNDLE_BYTES: u64 = 64 * 1024 * 1024;

/// A bundle file written under a temporary name, removed unless it is put in place.
pub(super) struct StagedFile(pub(super) Option<std::path::PathBuf>);

impl Drop for StagedFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Watcher {
    /// The file of a bundle.
    pub fn bundle_path(&self, subject: &str, id: &str) -> std::path::PathBuf {
        self.bundle_dir.join(subject).join(format!("{id}.age"))
    }

    /// Writes a bundle durably under a temporary name, outside the store lock.
    pub(super) fn stage_bundle_file(
        &self,
        subject: &str,
        body: &[u8],
    ) -> Result<StagedFile, Refusal> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let dir = self.bundle_dir.join(subject);
        let temp = dir.join(format!(
            "{}.tmp",
            hex::encode(crate::crypto::random_array::<8>())
        ));
        let mut staged = StagedFile(None);
        let written = (|| -> std::io::Result<()> {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            staged.0 = Some(temp.clone());
            file.write_all(body)?;
            file.sync_all()
        })();
        written.map_err(|e| {
            warn!(error = %e, "a bundle could not be stored");
            Refusal::unavailable()
        })?;
        Ok(staged)
    }
}

/// A day and time for a refusal the journalist reads.
pub(super) fn utc_day(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// A released bundle stays exactly as its alert names it until its links expire: neither
/// removed (the lawyer's link would answer 404) nor replaced (it would serve a file whose
/// SHA-256 is not the signed alert's).
pub(super) fn refuse_if_frozen(bundle: &BundleMeta, now_ms: i64) -> Result<(), Refusal> {
    match bundle.frozen(now_ms) {
        Some((released, until)) => Err(Refusal::new(
            409,
            "bundle_released",
            format!(
                "this bundle was released on {}; it stays available to its recipients until {}",
                utc_day(released),
                utc_day(until)
            ),
        )),
        None => Ok(()),
    }
}

/// A bundle may replace the one stored under its id if that one is not frozen and is not
/// a newer version (an older one is a stale client, or a replay of an old seal).
pub(super) fn check_replaceable(
    subject: &Subject,
    put: &protocol::BundlePut,
    now_ms: i64,
) -> Result<(), Refusal> {
    let Some(held) = subject.bundles.iter().find(|b| b.id == put.id) else {
        return Ok(());
    };
    refuse_if_frozen(held, now_ms)?;
    if put.version < held.version {
        return Err(Refusal::new(
            409,
            "stale_version",
            format!(
                "this watcher holds version {} of this bundle, newer than version {}: an old \
                 copy is not sent again",
                held.version, put.version
            ),
        ));
    }
    // One version is one file: two different files under one version would let whoever
    // serves them tell lawyers comparing versions that they hold the same thing.
    if put.version > 0 && put.version == held.version && put.sha256 != held.sha256 {
        return Err(Refusal::new(
            409,
            "stale_version",
            format!(
                "this watcher holds another file as version {} of this bundle: seal it again \
                 (`posbon release update`), which makes a newer version",
                held.version
            ),
        ));
    }
    Ok(())
}

/// A journalist's bundles on one watcher are bounded in number and size.
pub(super) fn check_quota(subject: &Subject, put: &protocol::BundlePut) -> Result<(), Refusal> {
    let others: Vec<&BundleMeta> = subject.bundles.iter().filter(|b| b.id != put.id).collect();
    if others.len() >= MAX_BUNDLES
        || others.iter().map(|b| b.size).sum::<u64>() + put.size > MAX_BUNDLE_BYTES
    {
        return Err(Refusal::new(
            422,
            "too_many_bundles",
            format!(
                "a journalist may keep {MAX_BUNDLES} bundles, {} MiB in all, on a watcher",
                MAX_BUNDLE_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}
