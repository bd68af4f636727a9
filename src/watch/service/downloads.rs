//! Released bundles through their download links. A link is not limited in uses (see
//! [`DOWNLOAD_DAYS`]), so what a stranger who read one can cost the watcher is bounded
//! otherwise:
//!
//! - memory: the file is streamed from disk in [`CHUNK`]-sized pieces, read only as fast as
//!   the client takes them, so a download that stalls holds a small buffer, never the bundle;
//! - slots: at most [`SLOTS`] downloads at once, and [`SLOTS_PER_LINK`] through any one
//!   link, so one leaked link cannot take the slots of the others; over either, `503` with
//!   `Retry-After`;
//! - hashing: the file's SHA-256 is checked against the alert's the first time it is served
//!   and remembered with the file's identity (device, inode, size, modification and change
//!   times); it is hashed again only when that identity changes, and a file that no longer
//!   has the alert's SHA-256 is refused (`409 bundle_changed`);
//! - notices: each download is counted and reported to the contact the link was made for,
//!   the first at once and later ones together, ever less often (see [`notice_after`]).

use std::collections::HashMap;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;

use super::*;

/// Downloads served at once, through all links.
pub const SLOTS: usize = 16;
/// Downloads served at once through one link: the lawyer's second try, not a stranger's
/// sixty-fourth.
pub const SLOTS_PER_LINK: usize = 2;
/// What a download that found no free slot is told to wait.
const BUSY_WAIT_S: i64 = 30;
/// The most of a bundle read into memory at once, per download.
pub const CHUNK: usize = 64 * 1024;

/// The first notice of downloads through a link goes at once; the next no sooner than an
/// hour after it (so a stranger's download right after the lawyer's is not hidden for
/// long); every later one no sooner than a day after the one before. Over the thirty days
/// a link works, a contact is told at most 31 times per link, each notice counting the
/// downloads since the last.
pub fn notice_after(notices: u32) -> i64 {
    match notices {
        0 => 0,
        1 => 60 * 60_000,
        _ => 24 * 60 * 60_000,
    }
}

/// When the notice of `entry`'s unreported downloads may go.
fn notice_due(entry: &super::super::store::DownloadEntry, now_ms: i64) -> i64 {
    entry
        .reported_ms
        .map_or(now_ms, |at| at + notice_after(entry.notices))
}

/// What tells a file's contents have not changed without reading them: a change to the
/// bytes changes the change time (which, unlike the modification time, cannot be set back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    fn of(file: &std::fs::File) -> std::io::Result<FileStamp> {
        let meta = file.metadata()?;
        Ok(FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

/// The SHA-256 of each bundle file as last hashed, with the file's stamp then.
#[derive(Default)]
pub struct Hashed(Mutex<HashMap<PathBuf, (FileStamp, String)>>);

impl Hashed {
    /// The SHA-256 of `file` (open at `path`, whose stamp is `stamp`): remembered if the
    /// stamp is the one it was hashed under, else hashed now (in [`CHUNK`]s).
    fn sha256(
        &self,
        path: &std::path::Path,
        file: &std::fs::File,
        stamp: FileStamp,
    ) -> std::io::Result<String> {
        let known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, sha)) = known.get(path)
            && *at == stamp
        {
            return Ok(sha.clone());
        }
        drop(known);
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buffer = vec![0u8; CHUNK];
        let mut offset = 0u64;
        loop {
            let n = file.read_at(&mut buffer, offset)?;
            if n == 0 {
                break;
            }
            context.update(&buffer[..n]);
            offset += n as u64;
        }
        let sha = hex::encode(context.finish());
        // Changed while it was read: nothing is remembered, and the caller refuses.
        if offset != stamp.len || FileStamp::of(file)? != stamp {
            return Ok(String::new());
        }
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_path_buf(), (stamp, sha.clone()));
        Ok(sha)
    }
}

/// The download slots in use: in all, and per link (by token hash).
pub struct Slots {
    used: Mutex<(usize, HashMap<String, usize>)>,
    total: usize,
    per_link: usize,
}

/// One download slot, given back when the download ends (or its connection does).
pub struct Slot {
    slots: Arc<Slots>,
    link: String,
}

impl Slots {
    pub fn new(total: usize, per_link: usize) -> Arc<Slots> {
        Arc::new(Slots {
            used: Mutex::new((0, HashMap::new())),
            total,
            per_link,
        })
    }

    /// A slot for a download through `link`, if one is free.
    pub fn take(self: &Arc<Self>, link: &str) -> Option<Slot> {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let (all, per_link) = &mut *used;
        let this = per_link.entry(link.to_string()).or_insert(0);
        if *all >= self.total || *this >= self.per_link {
            if *this == 0 {
                per_link.remove(link);
            }
            return None;
        }
        *this += 1;
        *all += 1;
        Some(Slot {
            slots: Arc::clone(self),
            link: link.to_string(),
        })
    }

    /// Slots in use.
    #[cfg(test)]
    pub fn in_use(&self) -> usize {
        self.used.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut used = self.slots.used.lock().unwrap_or_else(|p| p.into_inner());
        let (all, per_link) = &mut *used;
        *all = all.saturating_sub(1);
        if let Some(this) = per_link.get_mut(&self.link) {
            *this = this.saturating_sub(1);
            if *this == 0 {
                per_link.remove(&self.link);
            }
        }
    }
}

/// A released bundle about to be served: its file, open and checked, and its slot.
pub struct Download {
    pub name: String,
    /// In bytes: exactly what is served.
    pub size: u64,
    file: std::fs::File,
    stamp: FileStamp,
    slot: Slot,
}

impl Download {
    /// The file as a response body, read [`CHUNK`] by [`CHUNK`] as the client takes it.
    /// Should the file change under it, the body ends in an error, so the client gets a
    /// cut-short download (its length is announced), never a different file in full.
    pub fn into_body(self) -> std::io::Result<axum::body::Body> {
        let check = self.file.try_clone()?;
        Ok(axum::body::Body::new(FileBody {
            file: tokio::fs::File::from_std(self.file),
            check,
            stamp: self.stamp,
            left: self.size,
            buffer: vec![0; CHUNK],
            _slot: self.slot,
        }))
    }

    /// The whole file (for tests).
    #[cfg(test)]
    pub fn bytes(self) -> Vec<u8> {
        let mut bytes = vec![0; self.size as usize];
        self.file.read_exact_at(&mut bytes, 0).unwrap();
        bytes
    }
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

struct FileBody {
    file: tokio::fs::File,
    /// The same file, for a last look at its stamp.
    check: std::fs::File,
    stamp: FileStamp,
    left: u64,
    buffer: Vec<u8>,
    _slot: Slot,
}

impl axum::body::HttpBody for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        use tokio::io::AsyncRead;
        let this = &mut *self;
        if this.left == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.left).unwrap_or(CHUNK).min(CHUNK);
        let mut read = tokio::io::ReadBuf::new(&mut this.buffer[..want]);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    warn!("a released bundle's file was cut short while it was served");
                    return Poll::Ready(Some(Err(std::io::ErrorKind::UnexpectedEof.into())));
                }
                let chunk = Bytes::copy_from_slice(read.filled());
                this.left -= n as u64;
                if this.left == 0 && FileStamp::of(&this.check).ok() != Some(this.stamp) {
                    warn!("a released bundle's file changed while it was served; cut short");
                    return Poll::Ready(Some(Err(std::io::Error::other("bundle changed"))));
                }
                Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

/// No download slot free (for this link, or at all).
fn busy() -> Refusal {
    Refusal {
        wait_s: Some(BUSY_WAIT_S),
        ..Refusal::new(
            503,
            "busy",
            format!("too many downloads at once; try again in {BUSY_WAIT_S} s"),
        )
    }
}

impl Watcher {
    /// A bundle through its download link, open and checked, holding a download slot. Not
    /// limited in number (see [`DOWNLOAD_DAYS`]); each download is counted and reported to
    /// the contact the link was made for (see [`notice_after`]). Serves exactly the file
    /// the alert named, or nothing.
    pub fn download(&self, token: &str, now_ms: i64) -> Result<Download, Refusal> {
        let hash = token_hash(token);
        let unknown = unknown_download;
        let (path, name, sha256) = {
            let (entry, bundle) = live_download(&self.store(), &hash, now_ms)?;
            let pinned = if entry.sha256.is_empty() {
                bundle.sha256.clone()
            } else {
                entry.sha256.clone()
            };
            (
                self.bundle_path(&entry.subject, &bundle.id),
                bundle.name,
                pinned,
            )
        };
        let slot = self.download_slots.take(&hash).ok_or_else(busy)?;
        let unreadable = |e: std::io::Error| {
            warn!(error = %e, "a released bundle cannot be read");
            Refusal::unavailable()
        };
        let file = std::fs::File::open(&path).map_err(unreadable)?;
        let stamp = FileStamp::of(&file).map_err(unreadable)?;
        if self
            .hashed
            .sha256(&path, &file, stamp)
            .map_err(unreadable)?
            != sha256
        {
            // Frozen bundles cannot be replaced through the protocol: someone changed the file.
            warn!("a released bundle's file is not the one its alert names; not served");
            return Err(Refusal::new(
                409,
                "bundle_changed",
                "the file on this watcher is not the version the alert names; ask another watcher",
            ));
        }
        let store = self.store();
        let mut entry = store.download(&hash)?.ok_or_else(unknown)?;
        entry.downloads = entry.downloads.saturating_add(1);
        if entry.unreported == 0 {
            entry.unreported_since_ms = Some(now_ms);
        }
        entry.unreported = entry.unreported.saturating_add(1);
        let due = notice_due(&entry, now_ms);
        let outgoing = if due <= now_ms {
            self.report_download(&store, &mut entry, now_ms)?
        } else {
            self.reports_due
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(hash.clone(), due);
            Outgoing::default()
        };
        store.commit_download(&hash, &entry, &outgoing)?;
        self.stage(&outgoing);
        let row = super::history::contact_row(
            &entry.subject,
            "download",
            &entry.contact,
            &entry.channel,
            None,
            Some(&entry.bundle),
            now_ms,
        );
        self.log_history(&store, &[row], now_ms);
        drop(store);
        self.flush_and_publish()?;
        // Without the subject or the contact: the log must not tie a lawyer to a journalist.
        info!(
            downloads = entry.downloads,
            "a released bundle was downloaded"
        );
        Ok(Download {
            name,
            size: stamp.len,
            file,
            stamp,
            slot,
        })
    }

    /// When the reports of downloads held back are due, by link, from the database (at
    /// start).
    pub(super) fn reports_due_from(store: &Store) -> Result<HashMap<String, i64>, StoreError> {
        Ok(store
            .unreported_downloads()?
            .into_iter()
            .map(|(hash, entry)| {
                let due = notice_due(&entry, 0);
                (hash, due)
            })
            .collect())
    }

    /// The notice of `entry`'s unreported downloads (empty if its subject or bundle is
    /// gone), and the entry marked as reported.
    fn report_download(
        &self,
        store: &Store,
        entry: &mut super::super::store::DownloadEntry,
        now_ms: i64,
    ) -> Result<Outgoing, StoreError> {
        let count = std::mem::take(&mut entry.unreported);
        let first_ms = entry.unreported_since_ms.take().unwrap_or(now_ms);
        entry.reported_ms = Some(now_ms);
        entry.notices = entry.notices.saturating_add(1);
        let Some(subject) = store.subject(&entry.subject)? else {
            return Ok(Outgoing::default());
        };
        let Some(bundle) = subject.bundles.iter().find(|b| b.id == entry.bundle) else {
            return Ok(Outgoing::default());
        };
        Ok(self
            .dispatcher()
            .download_notice(&subject, entry, bundle, count, first_ms, now_ms))
    }

    /// Sends the reports of downloads held back by the notices' pace whose time has come.
    /// Returns whether it queued any, and when the next one is due.
    pub(super) fn report_due_downloads(
        &self,
        store: &Store,
        now_ms: i64,
    ) -> Result<(bool, Option<i64>), StoreError> {
        let due: Vec<String> = {
            let mut reports = self.reports_due.lock().unwrap_or_else(|p| p.into_inner());
            let due: Vec<String> = reports
                .iter()
                .filter(|(_, at)| **at <= now_ms)
                .map(|(hash, _)| hash.clone())
                .collect();
            for hash in &due {
                reports.remove(hash);
            }
            due
        };
        let mut any = false;
        for hash in due {
            let Some(mut entry) = store.download(&hash)? else {
                continue;
            };
            if entry.unreported == 0 {
                continue;
            }
            let outgoing = self.report_download(store, &mut entry, now_ms)?;
            store.commit_download(&hash, &entry, &outgoing)?;
            self.stage(&outgoing);
            any = true;
        }
        let next = self
            .reports_due
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .min()
            .copied();
        Ok((any, next))
    }

    /// A download link's bundle (name, version, SHA-256) and when the link expires, without
    /// using it (for its page: link previews and mail scanners open links).
    pub fn peek_download(&self, token: &str, now_ms: i64) -> Result<LinkInfo, Refusal> {
        let (entry, bundle) = live_download(&self.store(), &token_hash(token), now_ms)?;
        Ok(LinkInfo {
            name: bundle.name,
            version: bundle.version,
            sha256: bundle.sha256,
            expires_ms: entry.expires_ms,
        })
    }
}

/// A download link that is unknown or expired (the two are not told apart).
fn unknown_download() -> Refusal {
    Refusal::new(404, "unknown_link", "this link is unknown or expired")
}

/// The download link stored under `hash`, if it has time left, and the bundle
/// it releases; any other case is the same "unknown link", so guesses learn nothing.
fn live_download(
    store: &Store,
    hash: &str,
    now_ms: i64,
) -> Result<
    (
        super::super::store::DownloadEntry,
        super::super::store::BundleMeta,
    ),
    Refusal,
> {
    let unknown = unknown_download;
    let entry = store.download(hash)?.ok_or_else(unknown)?;
    if entry.expires_ms <= now_ms {
        return Err(unknown());
    }
    let subject = store.subject(&entry.subject)?.ok_or_else(unknown)?;
    let bundle = subject
        .bundles
        .into_iter()
        .find(|b| b.id == entry.bundle)
        .ok_or_else(unknown)?;
    Ok((entry, bundle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_link_cannot_take_more_than_its_slots_nor_all_links_more_than_theirs() {
        let slots = Slots::new(4, 2);
        let a: Vec<Slot> = (0..2).map(|_| slots.take("a").unwrap()).collect();
        assert!(slots.take("a").is_none(), "a link's own cap");
        let b = slots.take("b").unwrap();
        let c = slots.take("c").unwrap();
        assert!(slots.take("d").is_none(), "the overall cap");
        assert_eq!(slots.in_use(), 4);
        drop(a);
        assert!(slots.take("a").is_some() && slots.take("d").is_some());
        drop((b, c));
        assert_eq!(slots.in_use(), 0, "every slot given back");
    }

    #[test]
    fn notices_come_at_once_then_after_an_hour_then_daily() {
        assert_eq!(notice_after(0), 0);
        assert_eq!(notice_after(1), 60 * 60_000);
        assert_eq!(notice_after(2), 24 * 60 * 60_000);
        assert_eq!(notice_after(30), 24 * 60 * 60_000);
    }
}
