//! Attachments in and out of the vault through the app, streamed both ways: an upload of any
//! size goes from the socket into the vault's encrypted chunks without being held whole in
//! memory or written anywhere in plaintext, and a download goes the other way.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::multipart::Field;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tokio::sync::{mpsc, watch};
use zeroize::Zeroize;

use super::pages::{attachment_headers, vault_error, with_vault};
use super::{Flash, Shared};
use crate::vault::{RecordId, Vault, capture};

/// Chunks in flight between the socket and the vault: a few, so memory stays flat.
const IN_FLIGHT: usize = 4;

/// How long a transfer may wait for the browser (a chunk of an upload, room for one of a
/// download) before it is given up: a stalled transfer must not hold the vault.
const STALLED_AFTER: Duration = Duration::from_secs(60);

/// What every step of a streamed transfer watches: the end of the session (Lock, the idle
/// lock, panic, a stop), which stops it at once, and a browser that stopped sending or
/// reading. Each step that moves data counts as activity, so a long transfer is not taken for
/// an idle app.
#[derive(Clone)]
pub(super) struct Transfer {
    app: Shared,
    /// The session's end signal; `None` for a transfer that needs no session (a capture).
    ended: Option<watch::Receiver<bool>>,
}

impl Transfer {
    /// A transfer of the session open now (of none, if the vault is locked: it stops at once).
    pub(super) fn new(app: &Shared) -> Self {
        Transfer {
            app: app.clone(),
            ended: Some(app.session.end_signal()),
        }
    }

    /// A transfer that needs no unlocked vault (adding a file without unlocking): only a
    /// stalled browser stops it.
    pub(super) fn without_session(app: &Shared) -> Self {
        Transfer {
            app: app.clone(),
            ended: None,
        }
    }

    /// Resolves when the session this transfer belongs to ends; never, without one.
    async fn session_ended(&mut self) {
        match &mut self.ended {
            Some(ended) => {
                // A closed channel (the sender replaced at the next unlock) is an end too.
                let _ = ended.wait_for(|ended| *ended).await;
            }
            None => std::future::pending().await,
        }
    }

    /// Waits for `step`, unless the session ends or the browser stalls first.
    pub(super) async fn step<T>(&mut self, step: impl Future<Output = T>) -> io::Result<T> {
        let mut watching = self.clone();
        let outcome = tokio::select! {
            done = step => Ok(done),
            // Not `Interrupted`, which `write_all` and `read_exact` retry for ever.
            () = watching.session_ended() => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the vault was locked",
            )),
            () = tokio::time::sleep(STALLED_AFTER) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the browser stopped for too long",
            )),
        };
        // A transfer of the session keeps it from locking when idle; a capture (no session)
        // must not keep an unlocked vault open.
        if outcome.is_ok() && self.ended.is_some() {
            self.app.touch();
        }
        outcome
    }

    /// The same, from the blocking thread that holds the vault.
    fn step_blocking<T>(&mut self, step: impl Future<Output = T>) -> io::Result<T> {
        tokio::runtime::Handle::current().block_on(self.step(step))
    }
}

/// A `Read` over chunks arriving from the async side; each chunk is wiped once read. An
/// upload that breaks off, stalls, or outlives the session arrives as an error, so the vault
/// keeps nothing of it.
struct ChunkReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    /// Set by the feeder only when the browser's file ended: a channel closed without it
    /// is an upload that broke off, never the end of the file.
    whole: Arc<AtomicBool>,
    transfer: Transfer,
    current: Vec<u8>,
    offset: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.offset == self.current.len() {
            // Zeroizing a Vec also empties it: the offset goes back with it, or a read after
            // an error would look past the end.
            self.current.zeroize();
            self.offset = 0;
            match self.transfer.step_blocking(self.chunks.recv())? {
                Some(Ok(chunk)) => {
                    self.current = chunk.into();
                    self.offset = 0;
                }
                Some(Err(e)) => return Err(e),
                None if self.whole.load(Ordering::SeqCst) => return Ok(0),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the upload broke off",
                    ));
                }
            }
        }
        let n = out.len().min(self.current.len() - self.offset);
        out[..n].copy_from_slice(&self.current[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

impl Drop for ChunkReader {
    fn drop(&mut self) {
        self.current.zeroize();
    }
}

/// A `Write` that hands what the vault decrypts to the answer's body; it fails (and the vault
/// lets go) when the session ends or the browser stops reading.
pub(super) struct ChunkWriter {
    chunks: mpsc::Sender<io::Result<Bytes>>,
    /// Set by [`ChunkWriter::finish`] only: a body whose writer went without it is cut off.
    complete: Arc<AtomicBool>,
    transfer: Transfer,
}

impl ChunkWriter {
    /// A writer and the body it feeds. The body ends with an error unless the writer was
    /// finished, so that a download cut off by a lock (or anything else) is reported by the
    /// browser as failed, never saved as a whole file (a backup has no length to check).
    pub(super) fn with_body(transfer: Transfer) -> (Self, Body) {
        let (chunks, mut receiver) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
        let complete = Arc::new(AtomicBool::new(false));
        let whole = complete.clone();
        let stream = futures_util::stream::poll_fn(move |cx| {
            match receiver.poll_recv(cx) {
                std::task::Poll::Ready(None) if !whole.load(Ordering::SeqCst) => {
                    // Once: the next poll after an error is not made.
                    whole.store(true, Ordering::SeqCst);
                    std::task::Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the download was cut off",
                    ))))
                }
                other => other,
            }
        });
        let writer = ChunkWriter {
            chunks,
            complete,
            transfer,
        };
        (writer, Body::from_stream(stream))
    }

    /// Everything was written: the body ends as a whole file.
    pub(super) fn finish(self) {
        self.complete.store(true, Ordering::SeqCst);
    }

    /// Ends the body with an error: the browser reports a failed download instead of
    /// saving a truncated file as if whole.
    pub(super) fn fail(&mut self, error: io::Error) {
        let chunks = self.chunks.clone();
        let _ = self.transfer.step_blocking(chunks.send(Err(error)));
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let chunks = self.chunks.clone();
        self.transfer
            .step_blocking(chunks.send(Ok(Bytes::copy_from_slice(data))))?
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the browser went away"))?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The two ends of an upload: the `Read` a blocking thread stores from, and the feeder that
/// moves the browser's chunks into it.
fn upload_pipe(transfer: Transfer) -> (ChunkReader, Feeder) {
    let (sender, receiver) = mpsc::channel(IN_FLIGHT);
    let whole = Arc::new(AtomicBool::new(false));
    let reader = ChunkReader {
        chunks: receiver,
        whole: whole.clone(),
        transfer: transfer.clone(),
        current: Vec::new(),
        offset: 0,
    };
    let feeder = Feeder {
        sender,
        whole,
        transfer,
    };
    (reader, feeder)
}

struct Feeder {
    sender: mpsc::Sender<io::Result<Bytes>>,
    whole: Arc<AtomicBool>,
    transfer: Transfer,
}

impl Feeder {
    /// Feeds `field` to the reader; whether the browser's file arrived whole.
    async fn feed(mut self, mut field: Field<'_>) -> bool {
        loop {
            let next = match self.transfer.step(field.chunk()).await {
                Ok(Ok(Some(chunk))) => Ok(chunk),
                // The end: dropping the sender ends the reader, and the file.
                Ok(Ok(None)) => {
                    self.whole.store(true, Ordering::SeqCst);
                    return true;
                }
                Ok(Err(e)) => Err(io::Error::other(e.to_string())),
                // Locked or stalled: the reader sees the same and gives up.
                Err(_) => return false,
            };
            let broken = next.is_err();
            // The store may give up first (locked, or the record gone): stop feeding.
            let sent = tokio::select! {
                sent = self.sender.send(next) => sent.is_ok(),
                () = self.sender.closed() => false,
            };
            if !sent || broken {
                return false;
            }
        }
    }
}

/// The file's name as the browser sent it, without any folder (some send a whole path).
fn sent_name(field: &Field<'_>) -> String {
    field
        .file_name()
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".into())
}

/// The multipart field named `file`, skipping any other (a loop in each handler: a function
/// returning the field cannot borrow the form in a loop).
macro_rules! file_field {
    ($multipart:expr) => {
        loop {
            match $multipart.next_field().await {
                Ok(Some(field)) if field.name() == Some("file") => break Some(field),
                Ok(Some(_)) => continue,
                _ => break None,
            }
        }
    };
}

/// Streams the browser's file `field` into `store`, run on the unlocked vault on a blocking
/// thread: what `store` returned (`None` when the vault is locked), and whether the file
/// arrived whole (a store that failed on a file that did not is an upload that broke off).
pub(super) async fn into_vault<R: Send + 'static>(
    app: &Shared,
    field: Field<'_>,
    store: impl FnOnce(&Vault, &mut dyn Read) -> R + Send + 'static,
) -> (Option<R>, bool) {
    let (mut reader, feeder) = upload_pipe(Transfer::new(app));
    let storing = with_vault(app, move |vault| store(vault, &mut reader));
    tokio::join!(storing, feeder.feed(field))
}

pub(super) async fn attach(
    State(app): State<Shared>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let t = app.tr();
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let back = format!("/r/{id}");
    let Some(field) = file_field!(multipart) else {
        return app.after_post(&back, Some(Flash::Error(t.get("error-no-file"))));
    };
    let name = sent_name(&field);
    let (stored, whole) = into_vault(&app, field, move |vault, reader| {
        vault.attach(&record_id, &name, reader)
    })
    .await;
    match stored {
        None => Redirect::to("/").into_response(),
        Some(Ok(_)) => app.after_post(&back, None),
        Some(Err(_)) if !whole => {
            app.after_post(&back, Some(Flash::Error(t.get("error-upload-broken"))))
        }
        Some(Err(e)) => app.after_post(&back, Some(Flash::Error(vault_error(t, &e)))),
    }
}

/// Adds a file without unlocking, as `posbon capture file`: streamed into the vault's inbox,
/// sealed to it, readable only after the next unlock.
pub(super) async fn capture(State(app): State<Shared>, mut multipart: Multipart) -> Response {
    let t = app.tr();
    let Some(field) = file_field!(multipart) else {
        return app.after_post("/capture", Some(Flash::Error(t.get("error-no-file"))));
    };
    let name = sent_name(&field);
    let (mut reader, feeder) = upload_pipe(Transfer::without_session(&app));
    let dir = app.vault_dir.clone();
    let storing =
        tokio::task::spawn_blocking(move || capture::capture_stream(&dir, &name, &mut reader));
    let (stored, whole) = tokio::join!(storing, feeder.feed(field));
    let flash = match stored {
        Ok(Ok(_)) => Flash::Notice(t.get("capture-file-done")),
        Ok(Err(_)) | Err(_) if !whole => Flash::Error(t.get("error-upload-broken")),
        Ok(Err(e)) => Flash::Error(vault_error(t, &e)),
        Err(_) => Flash::Error(t.get("open-damaged")),
    };
    app.after_post("/capture", Some(flash))
}

pub(super) async fn extract(
    State(app): State<Shared>,
    Path((id, index)): Path<(String, usize)>,
) -> Response {
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = with_vault(&app, move |vault| {
        vault
            .get(&record_id)
            .ok()
            .and_then(|r| r.attachments.get(index).map(|a| (a.name.clone(), a.size)))
    })
    .await;
    let Some(found) = found else {
        return Redirect::to("/").into_response();
    };
    let Some((name, size)) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let file_name = name.clone();
    // Not awaited: the body streams while the vault decrypts. A failure mid-way (a tampered
    // chunk, a lock) ends the body with an error, so the browser reports a failed download
    // instead of saving a truncated file as if whole.
    let streamer = app.clone();
    let (mut writer, body) = ChunkWriter::with_body(Transfer::new(&app));
    tokio::spawn(async move {
        with_vault(&streamer, move |vault| {
            match vault.extract(&record_id, &file_name, &mut writer) {
                Ok(_) => writer.finish(),
                Err(e) => writer.fail(io::Error::other(e.to_string())),
            }
        })
        .await
    });
    let mut response = body.into_response();
    for (name, value) in attachment_headers(&name, size) {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

pub(super) async fn detach(
    State(app): State<Shared>,
    Path((id, index)): Path<(String, usize)>,
) -> Response {
    let t = app.tr();
    let Some(record_id) = RecordId::from_hex(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let removed = with_vault(&app, move |vault| {
        let record = vault.get(&record_id)?;
        match record.attachments.get(index) {
            Some(file) => vault.detach(&record_id, &file.name).map(|()| true),
            None => Ok(false),
        }
    })
    .await;
    match removed {
        None => Redirect::to("/").into_response(),
        Some(Ok(_)) => app.after_post(&format!("/r/{id}"), None),
        Some(Err(e)) => app.after_post(&format!("/r/{id}"), Some(Flash::Error(vault_error(t, &e)))),
    }
}
